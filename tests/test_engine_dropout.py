"""Inverted dropout in the Monte Carlo engine (sims.engine's dropout path), its mean-field theory (theory.predict) and
the command lines ``sims run --dropout-keep`` and ``sims dropout-ensemble``.

``keep`` / ``dropout_keep`` is the KEEP probability p (D ~ Bernoulli(p)); PyTorch's nn.Dropout(p) and Keras'
Dropout(rate) take 1 - p. Oracles: exact invariants (every dropped-out output is 0 or phi(h)/p; keep = 1 is the
network without dropout, bit for bit); the backward pass against central differences of the test's own forward pass
with the engine's masks; the extended mean-field theory against Monte Carlo with z * SE across INDEPENDENT networks
(Z = 4.5, STYLE.md), each with a negative control that must fail at the same Z. Seeds are fixed in advance and were
never changed to make a check pass.
"""
import functools
import importlib.util
import json
import math
import warnings

import numpy as np
import pytest

from sims import engine
from sims.cli import main as sims_main
from sims.engine import STATS, dropout_trace, plan_chunk, run_json, simulate
from theory.cli_util import finite_or_none
from theory.config import NetworkConfig
from theory.errors import SpecError
from theory.predict import predict

from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)


def _children(seed, seeds):
    return [np.random.default_rng(c) for c in np.random.SeedSequence(seed).spawn(seeds)]


def _z(mc, se, expected):
    return (mc - expected) / se


# --------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("keep", [0, 0.0, -0.2, 1.5, 1.0000001, math.nan, math.inf, True, "0.5", None])
def test_dropout_keep_must_be_a_probability_in_zero_one(keep):
    with pytest.raises(SpecError, match=r"keep probability") as exc:
        NetworkConfig("relu", "he_normal", width=8, depth=3, dropout_keep=keep)
    msg = str(exc.value)
    assert "\n" not in msg and "PyTorch" in msg and "Keras" in msg and "1 - " in msg


def test_config_dict_carries_the_keep_probability():
    assert NetworkConfig().to_dict()["dropout_keep"] == 1.0
    one = NetworkConfig(dropout_keep=1)
    assert isinstance(one.dropout_keep, float) and one == NetworkConfig()
    assert NetworkConfig(dropout_keep=0.25).to_dict()["dropout_keep"] == 0.25


# ------------------------------------------------------------------------------------ theory in closed form
# x_l = D phi(h_l) / p on layers 1..L-1: each forward transition gets E[D^2] / p^2 = 1/p, each backward one
# E[(D/p)^2] = 1/p; q_1 and Var(delta_L) = 1 are untouched (no dropout on the input or the top layer).
EXACT = [  # activation, init, q_1, per-layer factor of q and of grad_var without dropout (square layers)
    ("relu", "he_normal:plain", 2.0, 1.0),
    ("linear", "lecun_normal", 1.0, 1.0),
    ("relu", "glorot_uniform", 1.0, 0.5),
]
KEEPS = (0.5, 0.8)
WIDTH, DEPTH = 32, 6


@pytest.mark.parametrize("keep", KEEPS)
@pytest.mark.parametrize("act, init, q1, factor", EXACT)
def test_theory_closed_forms_with_dropout(act, init, q1, factor, keep):
    cfg = NetworkConfig(act, init, width=WIDTH, depth=DEPTH, dropout_keep=keep)
    for row in predict(cfg)["layers"]:
        l = row["layer"]
        assert row["preact_var"] == pytest.approx(q1 * (factor / keep) ** (l - 1), rel=1e-12)
        assert row["grad_var"] == pytest.approx((factor / keep) ** (DEPTH - l), rel=1e-12)


def test_theory_with_keep_one_is_the_theory_without_dropout():
    for kw in (dict(activation="tanh", init="glorot_normal", bias_var=0.05), dict(activation="gelu", init="he_normal")):
        a = predict(NetworkConfig(width=16, depth=5, **kw))
        b = predict(NetworkConfig(width=16, depth=5, dropout_keep=1.0, **kw))
        assert a["layers"] == b["layers"]


def test_theory_with_bias_divides_only_the_phi_moment():
    # q_2 = n Var(w) E[phi(sqrt(q_1) z)^2] / p + sigma_b^2: the bias variance is not scaled by 1/p
    base = NetworkConfig("tanh", "glorot_normal", width=16, depth=3, bias_var=0.3)
    drop = NetworkConfig("tanh", "glorot_normal", width=16, depth=3, bias_var=0.3, dropout_keep=0.6)
    q, qd = (predict(c)["layers"] for c in (base, drop))
    assert qd[0]["preact_var"] == q[0]["preact_var"]
    assert qd[1]["preact_var"] - 0.3 == pytest.approx((q[1]["preact_var"] - 0.3) / 0.6, rel=1e-12)


def test_theory_with_batch_norm_and_dropout_has_no_gradient_level():
    doc = predict(NetworkConfig("relu", "he_normal", width=16, depth=4, batchnorm=True, dropout_keep=0.5))
    assert all(r["preact_var"] == 1.0 and r["grad_var"] is None for r in doc["layers"])
    assert "dropout" in doc["note"]


# --------------------------------------------------------------------- Monte Carlo vs theory: exact cases
# For linear and ReLU networks with symmetric iid weights the mean-field MEANS are exact at any width without dropout
# (tests/test_engine.py, EXACT), and stay exact with it: the masks are independent of the weights, inputs and each
# other, so conditioning on everything below layer l, E[(D/p)^2 phi(h)^2] = E[phi(h)^2] / p forward and
# E[(D/p)^2 phi'(h)^2 (w . u)^2] = Var(w) ||u||^2 E[phi'^2] / p in the sign-flip argument backward; the tower rule makes
# the products exact. Neglected, as there: P(h = 0) exactly, now also when dropout zeroes a whole row of x_(l-1)
# (ReLU at keep 0.5, width 32: (1 - p/2)^32 = 1e-4 per row and layer; it lowers grad_var by ~1e-4 relative,
# against a standard error of ~2 %).
MC_CASES = [(act, init, keep) for act, init, _, _ in EXACT[:2] for keep in KEEPS]
MC_NETWORKS, MC_BATCH, MC_SEED = 1000, 8, 21
CHECKS = (("preact_var", (3, DEPTH)), ("grad_var", (1, 3)))


@functools.lru_cache(maxsize=None)
def _mc(act, init, keep):
    cfg = NetworkConfig(act, init, width=WIDTH, depth=DEPTH, dropout_keep=keep)
    return cfg, simulate(cfg, MC_BATCH, MC_NETWORKS, dtype="float64", seed=MC_SEED)


@pytest.mark.parametrize("act, init, keep", MC_CASES)
def test_preact_and_grad_var_match_the_dropout_theory_at_finite_width(act, init, keep):
    cfg, res = _mc(act, init, keep)
    theory = predict(cfg)["layers"]
    assert res["diverged_at"] is None
    for key, layers in CHECKS:
        mean, se = res["summary"][key]
        for l in layers:
            th = theory[l - 1][key]
            assert abs(_z(mean[l - 1], se[l - 1], th)) <= Z, \
                f"{act} keep {keep} {key} layer {l}: MC {mean[l - 1]:.6g} +- {se[l - 1]:.2g}, theory {th:.6g}"


@pytest.mark.parametrize("act, init, keep", MC_CASES)
def test_negative_control_theory_without_the_one_over_p_factor(act, init, keep):
    # the same networks against the theory of the network without dropout: off by (1/p)^(L-1) at the deepest
    # pre-activation and at the lowest gradient (3.05x at keep 0.8, 32x at 0.5)
    cfg, res = _mc(act, init, keep)
    wrong = predict(NetworkConfig(act, init, width=WIDTH, depth=DEPTH))["layers"]
    for key, l in (("preact_var", DEPTH), ("grad_var", 1)):
        mean, se = res["summary"][key]
        assert abs(_z(mean[l - 1], se[l - 1], wrong[l - 1][key])) > Z, (key, l)


@pytest.mark.parametrize("act, init, keep", MC_CASES)
def test_post_second_moment_is_the_dropped_out_one(act, init, keep):
    # post_second at layers 1..L-1 is E[x_l^2] = E[phi(h_l)^2] / p = q_(l+1) / (n Var(w)) (square layers, no bias),
    # with E[phi(h)^2] = q / 2 (ReLU, symmetric h) or q (linear); at layer L (not dropped) E[phi(h_L)^2] itself
    cfg, res = _mc(act, init, keep)
    q = [r["preact_var"] for r in predict(cfg)["layers"]]
    nvar = WIDTH * cfg.weight_vars()[1]
    mean, se = res["summary"]["post_second"]
    half = 0.5 if act == "relu" else 1.0
    for l in (2, DEPTH - 1):
        assert q[l] / nvar == pytest.approx(q[l - 1] * half / keep, rel=1e-12)
        assert abs(_z(mean[l - 1], se[l - 1], q[l] / nvar)) <= Z, l
        assert abs(_z(mean[l - 1], se[l - 1], q[l - 1] * half)) > Z, l  # negative control: phi(h)^2 without the 1/p
    assert abs(_z(mean[-1], se[-1], q[-1] * half)) <= Z  # the top layer is not dropped


# ------------------------------------------------------------------------------------- exact invariants
TRACE_CASES = [("tanh", "glorot_normal", 0.8, False, "float64"), ("relu", "he_normal", 0.5, False, "float32"),
               ("sigmoid", "lecun_normal", 0.3, False, "float64"), ("tanh", "glorot_normal", 0.7, True, "float64"),
               ("relu", "he_normal", 0.6, True, "float32")]


@pytest.mark.parametrize("act, init, keep, bn, dtype", TRACE_CASES)
def test_every_dropped_out_output_is_zero_or_phi_over_p_exactly(act, init, keep, bn, dtype):
    cfg = NetworkConfig(act, init, width=16, depth=4, bias_var=0.05, dropout_keep=keep, batchnorm=bn)
    res = simulate(cfg, 12, 3, dtype=dtype, seed=14)
    dt = np.dtype(dtype)
    for rng, p in zip(_children(14, 3), res["per_network"]):
        t = dropout_trace(cfg, 12, rng, dtype=dtype)
        for k in p:  # the trace is network s of the simulation
            np.testing.assert_array_equal(t["stats"][k], p[k], err_msg=k)
        for l in range(cfg.depth - 1):
            D, phi, x = t["mask"][l], t["phi"][l], t["x"][l]
            assert set(np.unique(D)) <= {0.0, 1.0}
            expected = np.where(D == 1.0, (phi.astype(dt) / dt.type(keep)).astype(np.float64), 0.0)
            np.testing.assert_array_equal(x, expected)  # no tolerance: the same float operation, or exactly 0
            assert p["post_second"][l] == pytest.approx(np.mean(x**2), rel=1e-5 if dtype == "float32" else 1e-12)
        assert t["mask"][-1] is None and np.array_equal(t["x"][-1], t["phi"][-1])  # the top layer is not dropped


def test_mask_frequency_is_the_keep_probability_not_the_drop_probability():
    # masks are iid Bernoulli(p) per entry (unlike activations, entries ARE independent): binomial SE
    keep = 0.8
    cfg = NetworkConfig("relu", "he_normal", width=64, depth=5, dropout_keep=keep)
    D = np.concatenate([m.ravel() for rng in _children(30, 2) for m in dropout_trace(cfg, 64, rng)["mask"][:-1]])
    se = math.sqrt(keep * (1 - keep) / D.size)
    assert abs(_z(D.mean(), se, keep)) <= Z
    assert abs(_z(D.mean(), se, 1 - keep)) > Z  # negative control: torch's p read as the keep probability


# ------------------------------------------------------------------ backward vs central differences
def _forward_loss(t, cfg, W, masks):
    """The test's own float64 forward pass with the trace's inputs, biases and masks (fixed), and the linear loss
    whose gradient the engine back-propagates: sum(g * h_L) without BN, sum(g * x_L) with BN (g the output
    gradient)."""
    phi = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}[cfg.activation]
    keep, x = cfg.dropout_keep, t["inputs"]
    for l in range(cfg.depth):
        h = x @ W[l].T + (0.0 if t["b"][l] is None else t["b"][l])
        if cfg.batchnorm:
            c = h - h.mean(axis=0)
            h = c / np.sqrt((c * c).mean(axis=0) + cfg.bn_eps)
        if l == cfg.depth - 1:
            return float(np.sum(t["output_grad"] * (phi(h) if cfg.batchnorm else h)))
        x = phi(h) * masks[l] / keep


def _directional_from_engine(t, V):
    """sum_l <dL/dW_l, V_l> with dL/dW_l = dh_l^T x_(l-1), the x_(l-1) of the trace (dropped out)."""
    xs = [t["inputs"]] + t["x"][:-1]
    return sum(float(np.sum((dh.T @ x) * v)) for dh, x, v in zip(t["dh"], xs, V))


@pytest.mark.parametrize("act, bn", [("tanh", False), ("tanh", True), ("linear", False), ("relu", True)])
def test_backward_through_the_masks_matches_central_differences(act, bn):
    cfg = NetworkConfig(act, "glorot_normal", width=10, depth=4, bias_var=0.1, dropout_keep=0.6, batchnorm=bn)
    t = dropout_trace(cfg, 8, _children(40, 1)[0])
    masks = t["mask"][:-1]
    assert all(0 < m.mean() < 1 for m in masks)  # some units dropped, some kept: the check can see the mask
    V = [np.random.default_rng(41 + l).standard_normal(w.shape) for l, w in enumerate(t["W"])]
    eps = 1e-6
    up = _forward_loss(t, cfg, [w + eps * v for w, v in zip(t["W"], V)], masks)
    down = _forward_loss(t, cfg, [w - eps * v for w, v in zip(t["W"], V)], masks)
    numeric = (up - down) / (2 * eps)
    assert _directional_from_engine(t, V) == pytest.approx(numeric, rel=1e-6)
    # negative control: the same loss with fresh masks (dropout not the same in both passes) is another function
    other = [np.random.default_rng(50 + l).random(m.shape) < cfg.dropout_keep for l, m in enumerate(masks)]
    up2 = _forward_loss(t, cfg, [w + eps * v for w, v in zip(t["W"], V)], other)
    down2 = _forward_loss(t, cfg, [w - eps * v for w, v in zip(t["W"], V)], other)
    assert _directional_from_engine(t, V) != pytest.approx((up2 - down2) / (2 * eps), rel=1e-3)


# -------------------------------------------------------------------------------------- chunk invariance
def _assert_same_up_to_rounding(a, b, what):
    for k in b:
        scale = {"preact_mean": "preact_var", "post_mean": "post_second"}.get(k)
        floor = 1.0 if k == "correlation" else (np.sqrt(b[scale]) if scale else 0.0)
        tol = 1e-12 * np.maximum(np.abs(b[k]), floor)
        diff = np.abs(a[k] - b[k])
        assert np.all(diff <= tol), f"{what} {k}: max difference {diff.max():.3g}"


@pytest.mark.parametrize("act, init, bias_var, keep", [("tanh", "glorot_normal", 0.05, 0.7),
                                                       ("relu", "he_normal", 0.0, 0.5)])
def test_dropout_statistics_do_not_depend_on_the_chunk(act, init, bias_var, keep):
    cfg = NetworkConfig(act, init, width=12, depth=4, bias_var=bias_var, dropout_keep=keep)
    runs = {c: simulate(cfg, 150, 3, dtype="float64", seed=5, chunk=c, weight_grad_norm=True)
            for c in (None, 2, 7)}  # 150 rows: three 64-row mask blocks, cut by chunks of 7 at other places
    assert runs[2]["chunk"] == 2 and runs[7]["chunk"] == 7 and runs[None]["chunk"] == 150
    ref = runs[None]
    for c in (2, 7):
        assert set(runs[c]["summary"]) == set(STATS) | {"weight_grad_norm"}
        for p, q in zip(runs[c]["per_network"], ref["per_network"]):
            _assert_same_up_to_rounding(p, q, f"per network, chunk {c}")
    # negative control: another seed (other masks, weights and inputs) differs far beyond the rounding tolerance
    other = simulate(cfg, 150, 3, dtype="float64", seed=6, chunk=7)
    assert not np.allclose(other["summary"]["grad_var"][0], ref["summary"]["grad_var"][0], rtol=1e-6)


def test_float32_dropout_statistics_do_not_depend_on_the_chunk_beyond_rounding():
    cfg = NetworkConfig("tanh", "glorot_normal", width=64, depth=4, bias_var=0.05, dropout_keep=0.8)
    a = simulate(cfg, 150, 3, dtype="float32", seed=5)
    b = simulate(cfg, 150, 3, dtype="float32", seed=5, chunk=7)
    for key, (mean, _) in a["summary"].items():
        np.testing.assert_allclose(b["summary"][key][0], mean, rtol=1e-5, err_msg=key)


# ------------------------------------------------------------------- keep = 1 and the path without dropout
@pytest.mark.parametrize("bn", [False, True])
def test_keep_one_is_bit_for_bit_the_network_without_dropout(bn):
    kw = dict(activation="tanh", init="glorot_normal", width=16, depth=4, bias_var=0.05, batchnorm=bn)
    for dtype in ("float32", "float64"):
        a = simulate(NetworkConfig(**kw), 24, 3, dtype=dtype, seed=8, weight_grad_norm=True, samples_per_layer=4)
        b = simulate(NetworkConfig(dropout_keep=1.0, **kw), 24, 3, dtype=dtype, seed=8, weight_grad_norm=True,
                     samples_per_layer=4)
        for p, q in zip(a["per_network"], b["per_network"]):
            assert set(p) == set(q)
            for k in p:
                np.testing.assert_array_equal(p[k], q[k], err_msg=k)


def test_keep_one_never_enters_the_dropout_step(monkeypatch):
    from sims import pipeline

    def refuse(*args, **kwargs):
        raise AssertionError("dropout step used with keep = 1")
    monkeypatch.setattr(pipeline, "_dropout", refuse)
    simulate(NetworkConfig("relu", "he_normal", width=8, depth=3, dropout_keep=1.0), 8, 2)
    with pytest.raises(AssertionError):  # negative control: keep < 1 does use it
        simulate(NetworkConfig("relu", "he_normal", width=8, depth=3, dropout_keep=0.9), 8, 2)


def test_seed_draws_the_same_network_with_and_without_dropout():
    # layer 1 sees the same W_1 and inputs, the top gradient is the same output gradient: equal bit for bit; layer 2
    # sees the dropped-out x_1 and differs
    kw = dict(activation="relu", init="he_normal", width=16, depth=3, bias_var=0.1)
    plain = simulate(NetworkConfig(**kw), 16, 3, dtype="float64", seed=9)
    drop = simulate(NetworkConfig(dropout_keep=0.5, **kw), 16, 3, dtype="float64", seed=9)
    for p, q in zip(plain["per_network"], drop["per_network"]):
        for k in ("preact_mean", "preact_var", "dead_fraction", "correlation"):
            assert p[k][0] == q[k][0], k
        assert p["grad_var"][-1] == q["grad_var"][-1]
        assert p["preact_var"][1] != q["preact_var"][1]


# ---------------------------------------------------------------------------------- batch norm + dropout
@pytest.mark.parametrize("act", ["relu", "tanh", "gelu"])
def test_batch_norm_with_dropout_runs_and_is_finite(act):
    cfg = NetworkConfig(act, "he_normal", width=32, depth=8, dropout_keep=0.5, batchnorm=True)
    res = simulate(cfg, 32, 3, seed=10, weight_grad_norm=True)
    assert res["diverged_at"] is None and res["chunk"] == 32
    for k, (mean, se) in res["summary"].items():
        assert np.all(np.isfinite(mean)) and np.all(np.isfinite(se)), k
    # BN normalizes the dropped-out signal: E[u^2] = var / (var + eps) at every layer, 1 to ~1e-4 (float32, eps 1e-5)
    np.testing.assert_allclose(res["summary"]["preact_var"][0], 1.0, atol=1e-3)


# ------------------------------------------------------------------------------------ divergence, memory
def test_divergence_with_dropout_is_recorded_and_later_statistics_are_nan():
    cfg = NetworkConfig("relu", "normal:100/sqrt(n_in)", width=16, depth=300, dropout_keep=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = simulate(cfg, 4, 3, dtype="float32", seed=0)
        doc = run_json(cfg, 4, 3, dtype="float32", seed=0)
    d = res["diverged_at"]
    assert isinstance(d, int) and 1 < d <= 300 and res["diverged_networks"] >= 1
    for k in STATS:
        mean, se = res["summary"][k]
        assert np.all(np.isnan(mean[d - 1:])), k
    assert np.all(np.isfinite(res["summary"]["preact_var"][0][:d - 1]))
    back = json.loads(json.dumps(finite_or_none(doc), allow_nan=False))
    assert back["diverged_at"] == d and back["layers"][d - 1]["preact_var"]["mean"] is None


def test_dropout_peak_memory_is_within_the_estimate_and_does_not_grow_with_the_batch(monkeypatch):
    import tracemalloc

    cfg = NetworkConfig("tanh", "glorot_normal", width=256, depth=4, dropout_keep=0.8)
    assert plan_chunk(cfg, 64, 4)[1] > plan_chunk(NetworkConfig("tanh", "glorot_normal", width=256, depth=4),
                                                  64, 4)[1]
    peaks = []
    for batch in (64, 1024):  # 16x the rows, same chunk: the same arrays
        monkeypatch.setattr(engine, "WORKSPACE", engine.Workspace())
        tracemalloc.start()
        try:
            res = simulate(cfg, batch, 2, chunk=32, seed=3)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= res["peak_bytes_estimate"], (batch, peak, res["peak_bytes_estimate"])
        peaks.append(peak)
    assert peaks[1] - peaks[0] < 64 * 1024, peaks


def test_torch_backend_refuses_dropout():
    from sims import torch_backend

    cfg = NetworkConfig("relu", "he_normal", width=8, depth=3, dropout_keep=0.5)
    with pytest.raises(SpecError, match="dropout"):
        simulate(cfg, 8, 2, backend="torch")
    with pytest.raises(SpecError, match="dropout"):
        torch_backend.plan(cfg, 8, 4, None, None)  # refuses before it needs torch or a device


# ------------------------------------------------------------------------------------------------- CLI
RUN = ["run", "--activation", "relu", "--init", "he_normal", "--width", "16", "--depth", "4", "--batch", "8",
       "--seeds", "3", "--json"]


def _strict(text):
    def bad(c):
        raise AssertionError(f"non-finite {c} in JSON")
    return json.loads(text, parse_constant=bad)


def test_run_with_dropout_keep_is_strict_json_with_the_dropout_theory(capsys):
    assert sims_main(RUN + ["--dropout-keep", "0.5"]) == 0
    out, err = capsys.readouterr()
    doc = _strict(out)
    assert err == "" and doc["config"]["dropout_keep"] == 0.5
    theory = predict(NetworkConfig("relu", "he_normal", width=16, depth=4, dropout_keep=0.5))["layers"]
    assert [r["theory_preact_var"] for r in doc["layers"]] == [r["preact_var"] for r in theory]
    assert doc["layers"][-1]["theory_preact_var"] == pytest.approx(2.0 * 2.0**3)


def test_run_with_dropout_and_batch_norm(capsys):
    assert sims_main(RUN + ["--dropout-keep", "0.8", "--batchnorm"]) == 0
    doc = _strict(capsys.readouterr().out)
    assert doc["config"]["batchnorm"] is True and doc["config"]["dropout_keep"] == 0.8
    assert all(r["theory_grad_var"] is None for r in doc["layers"])


@pytest.mark.parametrize("extra, needle", [(["--dropout-keep", "0"], "keep probability"),
                                           (["--dropout-keep", "1.5"], "keep probability"),
                                           (["--dropout-keep", "nan"], "keep probability"),
                                           (["--dropout-keep", "0.5", "--backend", "torch"], "dropout")])
def test_run_bad_dropout_keep(extra, needle, capsys):
    assert sims_main(RUN + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


HAVE_ENSEMBLE = importlib.util.find_spec("sims.dropout") is not None
needs_ensemble = pytest.mark.skipif(not HAVE_ENSEMBLE, reason="sims/dropout.py (dropout_ensemble) not there yet")
ENSEMBLE_KEYS = {"ensemble_mean", "weight_scaling", "mc_mean", "se", "masks", "keep", "activation", "units"}


@needs_ensemble
def test_dropout_ensemble_json_keys(capsys):
    assert sims_main(["dropout-ensemble", "--units", "4", "--keep", "0.5", "--json"]) == 0
    out, err = capsys.readouterr()
    doc = _strict(out)
    assert err == "" and ENSEMBLE_KEYS <= set(doc)
    assert doc["keep"] == 0.5 and doc["units"] == 4 and doc["masks"] == 16


@needs_ensemble
def test_drop_is_one_minus_keep(capsys):
    assert sims_main(["dropout-ensemble", "--units", "5", "--drop", "0.2", "--activation", "tanh", "--json"]) == 0
    by_drop = _strict(capsys.readouterr().out)
    assert sims_main(["dropout-ensemble", "--units", "5", "--keep", "0.8", "--activation", "tanh", "--json"]) == 0
    by_keep = _strict(capsys.readouterr().out)
    assert by_drop == by_keep and by_keep["keep"] == 0.8
    # negative control: --keep 0.2 (the drop probability read as the keep probability) is another ensemble
    assert sims_main(["dropout-ensemble", "--units", "5", "--keep", "0.2", "--activation", "tanh", "--json"]) == 0
    assert _strict(capsys.readouterr().out)["ensemble_mean"] != by_keep["ensemble_mean"]


@needs_ensemble
def test_dropout_ensemble_text(capsys):
    assert sims_main(["dropout-ensemble", "--units", "3", "--keep", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "keep p = 0.5" in out and "exact ensemble mean" in out and "weight scaling" in out


@pytest.mark.parametrize("argv, needle", [
    (["--keep", "0.5", "--drop", "0.5"], "not allowed with"),
    ([], "one of the arguments --keep --drop is required"),
    (["--keep", "0"], "keep probability"), (["--keep", "1.5"], "keep probability"),
    (["--drop", "1"], "DROP probability"), (["--drop", "-0.1"], "DROP probability"),
    (["--keep", "0.5", "--activation", "rellu"], "did you mean 'relu'"),
    pytest.param(["--keep", "0.5", "--units", "21"], "2^n", marks=needs_ensemble),
])
def test_dropout_ensemble_bad_input(argv, needle, capsys):
    args = ["dropout-ensemble", "--units", "4"] + argv
    assert sims_main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_keep_help_says_which_probability_it_takes(capsys):
    assert sims_main(["dropout-ensemble", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "keep probability p in (0, 1] (PyTorch's p and Keras' rate are 1 - p)" in text
    assert sims_main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "KEEP probability p in (0, 1]" in text and "1 - p" in text
