"""The Monte Carlo engine (sims.engine) against the theory (theory.predict, theory.finite_width), and its invariants.

Statistical checks use z * SE with the SE across INDEPENDENT networks (``simulate``'s summary, or per-network
arrays), Z = 4.5 (STYLE.md), and each has a negative control that must fail at the same Z. Seeds are fixed and
were never changed to make a check pass; runs that are combined (two widths) use different seeds, because one
seed gives the same random streams whatever the width, so the runs would not be independent.
"""
import functools
import importlib.util
import json
import math
import warnings

import numpy as np
import pytest

from sims.engine import STATS, run_json, simulate
from theory.cli_util import finite_or_none
from theory.config import NetworkConfig
from theory.finite_width import norm_moments
from theory.predict import predict

from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)


@functools.lru_cache(maxsize=None)
def _run(act, init, width, depth, bias_var=0.0, batch=8, seeds=1000, seed=1, dtype="float64", c0=0.5):
    """One cached run, so that a check and its negative control read the same networks."""
    cfg = NetworkConfig(act, init, width=width, depth=depth, bias_var=bias_var)
    return cfg, simulate(cfg, batch, seeds, dtype=dtype, seed=seed, input_correlation=c0)


def _z(mc, se, expected):
    return (mc - expected) / se


def _theory(cfg, key, layer):
    return predict(cfg)["layers"][layer - 1][key]


# ------------------------------------------------------------------ 1, 2: mean-field theory vs Monte Carlo
# For ReLU and linear networks with symmetric iid weights and biases the mean-field MEANS are exact at any width.
# Forward: given layer l-1, h_l is symmetric with E h^2 = n_(l-1) Var(w) E x^2 + sigma_b^2, and E relu(h)^2 =
# E h^2 / 2 for symmetric h. Backward: delta_l = J^T delta_L with J = dh_L/dh_l and delta_L ~ N(0, I) independent,
# so n_l E[delta_l^2] = E ||J||_F^2 = sum_i E ||J e_i||^2; push u = D_l e_i up through u <- D_k W_k u: given
# everything below layer k, flipping the sign of (row j of W_k, b_kj) flips h_kj and keeps (w_j . u)^2, so
# E[1(h_kj > 0) (w_j . u)^2 | below] = Var(w_k) ||u||^2 / 2: each layer multiplies E||u||^2 by n_k Var(w_k) / 2,
# the mean-field factor n_k Var(w_k) E[relu'^2]; by the tower rule the product is exact (Hanin 2018 for the
# Jacobian). Only P(h = 0) (a dead layer without bias, 2^-n per layer: 1e-9 at width 32) is neglected.
# So these compare at one small width with no bias budget.
EXACT = [  # activation, init, q_1, forward ratio q_(l+1)/q_l, backward ratio (square layers, input_var 1)
    ("relu", "he_normal:plain", 2.0, 1.0, 1.0),    # flat: He
    ("linear", "lecun_normal", 1.0, 1.0, 1.0),      # flat: LeCun (Keras truncated normal, variance exactly 1/n)
    ("relu", "glorot_uniform", 1.0, 0.5, 0.5),      # the slide's mis-scaled case: halves per layer
]
EXACT_WIDTH, EXACT_DEPTH = 32, 6


def _exact_run(act, init):
    return _run(act, init, EXACT_WIDTH, EXACT_DEPTH, batch=8, seeds=1000, seed=1)


@pytest.mark.parametrize("act, init, q1, fwd, bwd", EXACT)
def test_theory_closed_forms_of_the_exact_cases(act, init, q1, fwd, bwd):
    # what the checks below compare with, in closed form (so a test name cannot lie about its law)
    cfg = NetworkConfig(act, init, width=EXACT_WIDTH, depth=EXACT_DEPTH)
    for row in predict(cfg)["layers"]:
        l = row["layer"]
        assert row["preact_var"] == pytest.approx(q1 * fwd ** (l - 1), rel=1e-12)
        assert row["grad_var"] == pytest.approx(bwd ** (EXACT_DEPTH - l), rel=1e-12)


@pytest.mark.parametrize("act, init, q1, fwd, bwd", EXACT)
def test_preact_and_grad_var_match_theory_exactly_at_finite_width(act, init, q1, fwd, bwd):
    cfg, res = _exact_run(act, init)
    for key, layers in (("preact_var", (3, EXACT_DEPTH)), ("grad_var", (1, 3))):
        mean, se = res["summary"][key]
        for l in layers:
            th = _theory(cfg, key, l)
            m, e = mean[l - 1], se[l - 1]
            assert abs(_z(m, e, th)) <= Z, f"{act}/{init} {key} layer {l}: MC {m:.6g} +- {e:.2g}, theory {th:.6g}"


def test_non_square_widths_with_bias_match_theory_exactly():
    # the fan convention (Glorot averages n_in and n_out), unequal widths and a bias: still exact for ReLU
    cfg = NetworkConfig("relu", "glorot_uniform", width=(16, 40, 8, 24), depth=4, bias_var=0.1, input_dim=12)
    res = simulate(cfg, 8, 1000, dtype="float64", seed=3)
    # negative control: Var(w) = 1/n_in (LeCun's fan) instead of 2/(n_in + n_out); q_2 differs by a factor 1.7
    wrong = NetworkConfig("relu", "lecun_uniform", width=(16, 40, 8, 24), depth=4, bias_var=0.1, input_dim=12)
    for key in ("preact_var", "grad_var"):
        mean, se = res["summary"][key]
        for l in range(1, 5):
            th = _theory(cfg, key, l)
            assert abs(_z(mean[l - 1], se[l - 1], th)) <= Z, f"{key} layer {l}: MC {mean[l - 1]:.6g}, theory {th:.6g}"
    mean, se = res["summary"]["preact_var"]
    assert abs(_z(mean[1], se[1], _theory(wrong, "preact_var", 2))) > Z


def test_last_layer_grad_var_is_one_by_construction():
    _, res = _exact_run("relu", "glorot_uniform")
    # E[delta_L^2] = 1 exactly in law; the per-network value is a mean of B n_L squared standard normals
    mean, se = res["summary"]["grad_var"]
    assert abs(_z(mean[-1], se[-1], 1.0)) <= Z
    assert abs(_z(mean[-1], se[-1], 1.0 / EXACT_WIDTH)) > Z  # negative control: a loss averaged over the units


def test_negative_control_glorot_relu_against_he_theory():
    # Xavier variance on ReLU: the He prediction is off by 2^(l-1) forward and 2^(L-l) backward; must be noticed
    _, res = _exact_run("relu", "glorot_uniform")
    he = NetworkConfig("relu", "he_normal:plain", width=EXACT_WIDTH, depth=EXACT_DEPTH)
    for key, l in (("preact_var", 3), ("preact_var", EXACT_DEPTH), ("grad_var", 1), ("grad_var", 3)):
        mean, se = res["summary"][key]
        assert abs(_z(mean[l - 1], se[l - 1], _theory(he, key, l))) > Z, (key, l)


def test_negative_control_grad_var_without_the_relu_derivative_factor():
    # backward factor n Var(w) E[phi'^2]: dropping E[relu'^2] = 1/2 (the linear network's law) must fail
    cfg, res = _exact_run("relu", "he_normal:plain")
    wrong = NetworkConfig("linear", "he_normal:plain", width=EXACT_WIDTH, depth=EXACT_DEPTH)
    mean, se = res["summary"]["grad_var"]
    for l in (1, 3):
        assert _theory(cfg, "grad_var", l) == pytest.approx(1.0)
        assert abs(_z(mean[l - 1], se[l - 1], _theory(wrong, "grad_var", l))) > Z, l


# tanh: mean-field theory is exact only as width -> oo; at width n the mean of E[h^2] and E[delta^2] is biased by
# c/n. For E[h^2] the first-order finite-width theory (theory.fluctuations: the mean's correction d_l, with the
# weights' kurtosis of Keras' truncated normal and of the uniform law) predicts c: n d / K = -0.21 (glorot_normal,
# layers 3 and 6) and -0.25, -0.38 (uniform, layers 3 and 6), the values measured below; the Monte Carlo at each
# width is compared with K + d directly. For E[delta^2] (no finite-width theory of the backward pass yet) the bias
# is removed by extrapolation, as follows. Measured (depth 6, 2000-40000 networks per width, widths 8, 16, 32, 64): n (MC - theory) / theory is nearly
# constant across widths, about -0.2 to -0.4 (preact_var, layers 3 and 6) and +0.8 (grad_var, layer 1) for
# glorot_normal with bias_var 0.05, and -0.25, -0.4, +0.15 for uniform:1/sqrt(n_in). At width 64 with 500 networks
# that bias showed up at up to 3.7 SE: too large to ignore, and costly to shrink by width alone. So it is budgeted
# explicitly by Richardson extrapolation from two widths, which removes the 1/n term:
#     MC_oo = (n2 MC(n2) - n1 MC(n1)) / (n2 - n1),  SE_oo = sqrt(n2^2 SE2^2 + n1^2 SE1^2) / (n2 - n1),
# leaving c2 / (n1 n2). Widths 8 (40000 networks) against 32 (10000) give c2 between -0.9 and +1.7, each within
# 2.5 of its SE (0.4-1.0), so |c2| < 3 and the residual is below 0.3 % relative at 16 and 64 (typically < 0.15 %),
# against SE_oo of 0.5-1 %; in 8 replicate runs (other seeds, not used here) the extrapolated z lay in [-1.8, 1.9].
TANH = [
    ("tanh", "glorot_normal", 0.05),          # decays toward the mean-field fixed point q*
    ("tanh", "uniform:1/sqrt(n_in)", 0.0),    # the slide's bad init: Var(w) = 1/(3 n_in), q decays to 0
]
TANH_DEPTH = 6
NARROW, WIDE = (16, 2000), (64, 500)  # (width, networks)
TANH_CHECKS = (("preact_var", 3), ("preact_var", TANH_DEPTH), ("grad_var", 1))


def _extrapolated(act, init, bias_var, key, layer):
    (n1, s1), (n2, s2) = NARROW, WIDE
    _, r1 = _run(act, init, n1, TANH_DEPTH, bias_var, batch=16, seeds=s1, seed=n1)
    _, r2 = _run(act, init, n2, TANH_DEPTH, bias_var, batch=16, seeds=s2, seed=n2)
    m1, e1 = (v[layer - 1] for v in r1["summary"][key])
    m2, e2 = (v[layer - 1] for v in r2["summary"][key])
    return (n2 * m2 - n1 * m1) / (n2 - n1), math.hypot(n2 * e2, n1 * e1) / (n2 - n1)


def _finite(cfg, layer):
    from theory.fluctuations import for_config

    return for_config(cfg)[layer - 1]["preact_var_finite"]


def _at_width(act, init, bias_var, key, layer, width, seeds):
    _, r = _run(act, init, width, TANH_DEPTH, bias_var, batch=16, seeds=seeds, seed=width)
    return (v[layer - 1] for v in r["summary"][key])


@pytest.mark.parametrize("act, init, bias_var", TANH)
def test_tanh_matches_the_finite_width_theory_and_mean_field_after_removing_the_one_over_width_bias(act, init,
                                                                                                    bias_var):
    cfgs = [NetworkConfig(act, init, width=n, depth=TANH_DEPTH, bias_var=bias_var) for n, _ in (NARROW, WIDE)]
    for key, l in TANH_CHECKS:
        th = _theory(cfgs[1], key, l)
        assert _theory(cfgs[0], key, l) == pytest.approx(th, rel=1e-12)  # square layers: theory has no width
        if key == "preact_var":  # predicted at each width: K + d (first order in 1/n)
            for cfg, (n, seeds) in zip(cfgs, (NARROW, WIDE)):
                mc, se = _at_width(act, init, bias_var, key, l, n, seeds)
                assert abs(_z(mc, se, _finite(cfg, l))) <= Z, f"{act}/{init} width {n} layer {l}: {mc:.6g} +- {se:.2g}"
            continue
        mc, se = _extrapolated(act, init, bias_var, key, l)
        assert abs(_z(mc, se, th)) <= Z, f"{act}/{init} {key} layer {l}: MC_oo {mc:.6g} +- {se:.2g}, theory {th:.6g}"


@pytest.mark.parametrize("act, init, bias_var", TANH)
def test_negative_control_tanh_against_theory_with_ten_percent_more_weight_variance(act, init, bias_var):
    # the wrong theory shifts the predictions by 15-65 %; the SE is 0.5-1 % (extrapolated) or less (one width)
    wrong_init = {"glorot_normal": "normal:sqrt(1.1/n_in)", "uniform:1/sqrt(n_in)": "uniform:sqrt(1.1)/sqrt(n_in)"}
    wrong = NetworkConfig(act, wrong_init[init], width=WIDE[0], depth=TANH_DEPTH, bias_var=bias_var)
    right = NetworkConfig(act, init, width=WIDE[0], depth=TANH_DEPTH, bias_var=bias_var)
    assert wrong.weight_vars()[1] == pytest.approx(1.1 * right.weight_vars()[1], rel=1e-12)
    for key, l in TANH_CHECKS:
        if key == "preact_var":
            for n, seeds in (NARROW, WIDE):
                cfg = NetworkConfig(act, wrong_init[init], width=n, depth=TANH_DEPTH, bias_var=bias_var)
                mc, se = _at_width(act, init, bias_var, key, l, n, seeds)
                assert abs(_z(mc, se, _finite(cfg, l))) > Z, (key, l, n)
            continue
        mc, se = _extrapolated(act, init, bias_var, key, l)
        assert abs(_z(mc, se, _theory(wrong, key, l))) > Z, (key, l)


# --------------------------------------------------------------------------------- 3: depth laws as slopes
# The slope is fitted to log of the across-network mean of preact_var (whose expectation is exactly q_l here,
# see EXACT above), and its SE comes from the per-network slopes of the linearised log: with OLS weights a_l,
# slope = sum_l a_l log m_l, and network s contributes u_s = sum_l a_l v_sl / m_l (delta method), SE = sd(u)/sqrt(S).
# OLS on each network's own log v_sl would estimate E[log v], not log E[v]: Jensen makes that slope low by
# ~1.6/n per layer for ReLU (measured 0.103, 0.040, 0.025, 0.013 at widths 16, 32, 64, 128, batch-independent)
# and by ~1/n^2 for linear (0.025, 0.008, 0.0025 at 16, 32, 64), 4 to 40 SE at any affordable number of networks.
SLOPE_WIDTH, SLOPE_DEPTH = 32, 10
SLOPES = [  # activation, init, law, a wrong law
    ("relu", "glorot_uniform", math.log(0.5), 0.0),                   # wrong: He's flat law (ignores relu's 1/2)
    ("linear", "normal:sqrt(1.5/n_in)", math.log(1.5), math.log(0.75)),  # wrong: relu's halving of the same init
]


def _ols_weights(depth):
    l = np.arange(1, depth + 1, dtype=np.float64)
    return (l - l.mean()) / np.sum((l - l.mean()) ** 2)


def _slope_and_se(res, key="preact_var"):
    v = np.stack([p[key] for p in res["per_network"]])  # (S, L)
    m = v.mean(axis=0)
    a = _ols_weights(v.shape[1])
    u = (v / m) @ a
    return float(a @ np.log(m)), float(u.std(ddof=1) / math.sqrt(len(u)))


@pytest.mark.parametrize("act, init, law, wrong_law", SLOPES)
def test_depth_law_slope(act, init, law, wrong_law):
    cfg, res = _run(act, init, SLOPE_WIDTH, SLOPE_DEPTH, batch=8, seeds=400, seed=2)
    q = np.array([row["preact_var"] for row in predict(cfg)["layers"]])
    theory_slope = float(_ols_weights(SLOPE_DEPTH) @ np.log(q))
    assert theory_slope == pytest.approx(law, rel=1e-12)
    slope, se = _slope_and_se(res)
    assert abs(_z(slope, se, theory_slope)) <= Z, f"slope {slope:.5f} +- {se:.2g}, theory {theory_slope:.5f}"
    assert abs(_z(slope, se, wrong_law)) > Z  # negative control


# ------------------------------------------------------------------ 4: exact finite-width law (ReLU, He, no bias)
# Both input rows are the same fixed x0, so each network's preact_var at layer L is ||h_L(x0)||^2 / n_L exactly:
# one draw of the law of theory.finite_width, one per independent network. The law is heavy-tailed at small width
# (E v^2 / (E v)^2 = 8.7 at width 8, depth 5), so the second moment, whose SE needs E v^4 (E v^4 / (E v^2)^2 = 392
# at width 8, 44 at 16, 9 at 32), is checked only at widths 32 and 64. Replicates drawn from the exact law
# (binomial active counts, chi-squares; 20000-40000 replicates) put the two-sided false-alarm rate of each check
# below 1e-4 with these network counts (width 16, 8000 networks: 1.2e-3 for the second moment, hence not used);
# the negative control at width 32 missed (|z| <= 4.5) in 4 of 20000 replicates.
FW_DEPTH = 5
FW_RUNS = {8: 8000, 32: 8000, 64: 4000}  # width -> networks
FW_SECOND = (32, 64)


def _finite_width_sample(width):
    cfg = NetworkConfig("relu", "he_normal:plain", width=width, depth=FW_DEPTH)
    x0 = np.ones(width)
    res = simulate(cfg, 2, FW_RUNS[width], dtype="float64", seed=width, inputs=np.stack([x0, x0]))
    v = np.array([p["preact_var"][-1] for p in res["per_network"]])
    return v, norm_moments(cfg.widths, float(x0 @ x0))


@functools.lru_cache(maxsize=None)
def _fw(width):
    return _finite_width_sample(width)


@pytest.mark.slow  # thousands of networks per width: a long statistical run, in CI via `pytest -m slow`
@pytest.mark.parametrize("width", sorted(FW_RUNS))
def test_finite_width_mean_of_squared_norm(width):
    v, law = _fw(width)
    expected = law["pre"]["mean"] / width
    assert abs(_z(v.mean(), v.std(ddof=1) / math.sqrt(len(v)), expected)) <= Z


@pytest.mark.slow
@pytest.mark.parametrize("width", FW_SECOND)
def test_finite_width_second_moment_of_squared_norm(width):
    v, law = _fw(width)
    v2 = v**2
    expected = law["pre"]["second"] / width**2
    # the law's second moment is far from the infinite-width one (ratio 1.90 at width 32, 1.39 at 64)
    assert expected / (law["pre"]["mean"] / width) ** 2 == pytest.approx(
        (1 + 2 / width) * (1 + 5 / width) ** (FW_DEPTH - 1), rel=1e-12)
    se = v2.std(ddof=1) / math.sqrt(len(v2))
    assert abs(_z(v2.mean(), se, expected)) <= Z, f"E v^2: MC {v2.mean():.5g} +- {se:.2g}, law {expected:.5g}"


@pytest.mark.slow  # the negative control of the slow test above runs with it
def test_negative_control_second_moment_without_the_five_over_n_factors():
    # the one-layer chi-square law (1 + 2/n_L) alone, as if the layers below were deterministic (infinite width)
    width = 32
    v, law = _fw(width)
    v2 = v**2
    wrong = (law["pre"]["mean"] / width) ** 2 * (1 + 2 / width)
    assert abs(_z(v2.mean(), v2.std(ddof=1) / math.sqrt(len(v2)), wrong)) > Z


# -------------------------------------------------------------------------------------- 5: chunk invariance
def _rounding_scale(stats, k):
    """Means of symmetric quantities can be near 0: their rounding scale is the root second moment."""
    if k == "correlation":
        return 1.0
    other = {"preact_mean": "preact_var", "post_mean": "post_second"}.get(k)
    return np.sqrt(stats[other]) if other else 0.0


def _assert_same_up_to_rounding(a, b, what):
    for k in b:
        tol = 1e-12 * np.maximum(np.abs(b[k]), _rounding_scale(b, k))
        diff = np.abs(a[k] - b[k])
        assert np.all(diff <= tol), f"{what} {k}: max difference {diff.max():.3g}"


@pytest.mark.parametrize("act, init, bias_var", [("tanh", "glorot_normal", 0.05), ("relu", "he_normal", 0.0)])
def test_statistics_do_not_depend_on_the_chunk(act, init, bias_var):
    cfg = NetworkConfig(act, init, width=12, depth=4, bias_var=bias_var)
    runs = {c: simulate(cfg, 16, 3, dtype="float64", seed=5, chunk=c, weight_grad_norm=True)
            for c in (None, 2, 7)}  # 7: chunks of 7, 7 and 2 rows
    assert runs[2]["chunk"] == 2 and runs[7]["chunk"] == 7
    ref = runs[None]
    for c in (2, 7):
        assert set(runs[c]["summary"]) == set(ref["summary"]) == set(STATS) | {"weight_grad_norm"}
        _assert_same_up_to_rounding({k: v[0] for k, v in runs[c]["summary"].items()},
                                    {k: v[0] for k, v in ref["summary"].items()}, f"summary mean, chunk {c}")
        for k, (_, se) in ref["summary"].items():
            np.testing.assert_allclose(runs[c]["summary"][k][1], se, rtol=1e-9, atol=1e-15, err_msg=f"{k} se")
        for p, q in zip(runs[c]["per_network"], ref["per_network"]):
            _assert_same_up_to_rounding(p, q, f"per network, chunk {c}")


def test_float32_default_runs_and_is_finite():
    cfg = NetworkConfig("tanh", "glorot_normal", width=16, depth=5, bias_var=0.05)
    res = simulate(cfg, 8, 4)
    assert res["diverged_at"] is None and res["diverged_networks"] == 0
    assert set(STATS) <= set(res["summary"])
    for k, (mean, se) in res["summary"].items():
        assert mean.shape == se.shape == (5,)
        assert np.all(np.isfinite(mean)) and np.all(np.isfinite(se)), k


# ------------------------------------------------------------------------------------------------ 5b: memory
def _traced_peak(monkeypatch, cfg, batch, chunk, seeds=2):
    """Peak bytes traced while simulating, from a fresh workspace (buffers of earlier tests do not hide any)."""
    import tracemalloc

    from sims import engine
    monkeypatch.setattr(engine, "WORKSPACE", engine.Workspace())
    tracemalloc.start()
    try:
        res = simulate(cfg, batch, seeds, chunk=chunk, seed=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, res


@pytest.mark.parametrize("act, init, bias_var", [("tanh", "glorot_normal", 0.0), ("gelu", "orthogonal", 0.1)])
def test_peak_memory_is_within_the_documented_bound_and_does_not_grow_with_the_batch(monkeypatch, act, init,
                                                                                      bias_var):
    cfg = NetworkConfig(act, init, width=256, depth=6, bias_var=bias_var)
    small, r_small = _traced_peak(monkeypatch, cfg, 64, 32)
    large, r_large = _traced_peak(monkeypatch, cfg, 2048, 32)
    assert small <= r_small["peak_bytes_estimate"] and large <= r_large["peak_bytes_estimate"]
    # 32x the batch, same chunk: the same arrays (a batch-sized input would add 2 MB, one row-block 64 KB)
    assert large - small < 64 * 1024, (small, large)


def test_negative_control_memory_grows_when_the_batch_is_one_chunk(monkeypatch):
    """The measurement sees batch-sized memory: with one chunk per batch, 32x the rows is far more memory."""
    cfg = NetworkConfig("tanh", "glorot_normal", width=256, depth=6)
    small, _ = _traced_peak(monkeypatch, cfg, 64, None)
    large, _ = _traced_peak(monkeypatch, cfg, 2048, None)
    assert large - small > 64 * 1024 * 32


def test_workspace_keeps_only_the_last_runs_buffers():
    from sims.engine import WORKSPACE as _WORKSPACE
    simulate(NetworkConfig("tanh", "glorot_normal", width=256, depth=8), 64, 2)
    big = _WORKSPACE.nbytes()
    simulate(NetworkConfig("tanh", "glorot_normal", width=32, depth=3), 16, 2)
    small = _WORKSPACE.nbytes()
    # 3 layers of 32: weights 3 * 32 * 32, h and p 2 * 3 * 16 * 32, two deltas and a scratch 3 * 16 * 32 (float32)
    assert small == 4 * (3 * 32 * 32 + 2 * 3 * 16 * 32 + 3 * 16 * 32) < big


# -------------------------------------------------------------------------------------------- 6: divergence
def _divergent():
    return NetworkConfig("relu", "normal:100/sqrt(n_in)", width=16, depth=300)  # x5000 per layer


def test_divergence_is_recorded_and_later_statistics_are_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = simulate(_divergent(), 4, 3, dtype="float32", seed=0)
    d = res["diverged_at"]
    assert isinstance(d, int) and 1 < d <= 300
    assert res["diverged_networks"] >= 1
    for k in STATS:
        mean, se = res["summary"][k]
        assert np.all(np.isnan(mean[d - 1:])) and np.all(np.isnan(se[d - 1:])), k
    for k in ("preact_mean", "preact_var", "post_mean", "post_second", "dead_fraction", "correlation"):
        assert np.all(np.isfinite(res["summary"][k][0][:d - 1])), k
    # no network may have got further than the earliest divergence into the summary
    first_nan = [int(np.argmax(np.isnan(p["preact_var"]))) + 1 for p in res["per_network"]
                 if np.isnan(p["preact_var"]).any()]
    assert len(first_nan) == res["diverged_networks"] and min(first_nan) == d


def test_a_network_diverging_in_a_chunk_averages_its_earlier_layers_over_the_rows_they_saw():
    """Identical input rows make every row's statistics equal, so the mean over the first chunk's rows equals the mean
    over the whole batch to rounding; dividing by the whole batch's count would give 4/64 of it."""
    cfg = _divergent()
    x = np.tile(np.random.default_rng(0).standard_normal(16), (64, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = simulate(cfg, 64, 2, dtype="float32", seed=0, inputs=x)
        chunked = simulate(cfg, 64, 2, dtype="float32", seed=0, inputs=x, chunk=4)
    d = whole["diverged_at"]
    assert d is not None and chunked["diverged_at"] == d
    for k in ("preact_var", "post_second"):
        np.testing.assert_allclose(chunked["summary"][k][0][:d - 1], whole["summary"][k][0][:d - 1], rtol=1e-5)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="torch not installed"))])
def test_divergence_is_a_value_out_of_range_not_an_overflowing_sum(backend):
    """q grows x5000 per layer. float32 sums of squares overflow once values pass ~1.8e19, values themselves at
    3.4e38; divergence is the latter, so the last finite layer's E[h^2] lies beyond float32's range (it is a float64
    sum). An engine that tested its float32 sums would stop with E[h^2] below 3.4e38."""
    cfg = NetworkConfig(activation="relu", init="normal:100/sqrt(n_in)", width=16, depth=60)
    r = simulate(cfg, 64, 2, backend=backend, seed=3)
    d = r["diverged_at"]
    assert d is not None and r["summary"]["preact_var"][0][d - 2] > np.finfo(np.float32).max


def test_divergent_run_json_is_strict_json():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = run_json(_divergent(), 4, 3, dtype="float32", seed=0)
    text = json.dumps(finite_or_none(doc), allow_nan=False)
    back = json.loads(text)
    d = back["diverged_at"]
    assert isinstance(d, int) and d > 1
    assert back["layers"][d - 1]["preact_var"]["mean"] is None
    assert back["layers"][d - 2]["preact_var"]["mean"] is not None


def test_non_divergent_run_has_no_divergence():
    _, res = _exact_run("relu", "he_normal:plain")
    assert res["diverged_at"] is None and res["diverged_networks"] == 0


def test_backward_overflow_is_not_silent():
    # chaotic tanh (chi_1 ~ 5): the forward pass saturates and stays finite at every layer, while the gradient grows
    # by chi_1 per layer going down and overflows float32 long before layer 1. A non-finite statistic must come with
    # a recorded divergence, whatever the engine then reports at the other layers.
    cfg = NetworkConfig("tanh", "normal:10/sqrt(n_in)", width=32, depth=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = simulate(cfg, 4, 3, dtype="float32", seed=0)
    finite = all(np.all(np.isfinite(mean)) for mean, _ in res["summary"].values())
    assert finite or (res["diverged_at"] is not None and res["diverged_networks"] >= 1)


# ----------------------------------------------------------------------------------------- 7: reproducibility
def test_same_seed_same_networks_different_seed_different():
    cfg = NetworkConfig("tanh", "glorot_normal", width=16, depth=4, bias_var=0.05)
    a, b, c = (simulate(cfg, 8, 3, seed=s) for s in (3, 3, 4))
    for p, q in zip(a["per_network"], b["per_network"]):
        assert set(p) == set(q)
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])
    assert any(not np.array_equal(p["preact_var"], q["preact_var"]) for p, q in zip(a["per_network"], c["per_network"]))
    # networks within a run are different draws
    assert not np.array_equal(a["per_network"][0]["preact_var"], a["per_network"][1]["preact_var"])


# ---------------------------------------------------------------------------------------------- 8: dead units
def test_linear_units_are_never_dead_on_a_large_batch():
    # given a unit's weights, its 256 pre-activations are iid symmetric Gaussians: P(all <= 0) = 2^-256
    _, res = _run("linear", "lecun_normal", 16, 3, batch=256, seeds=5, seed=6)
    for p in res["per_network"]:
        assert np.all(p["dead_fraction"] == 0.0)


def test_dead_fraction_is_a_count_of_units():
    cfg, res = _run("relu", "he_normal:plain", 8, 6, batch=2, seeds=50, seed=7)
    for p in res["per_network"]:
        f = p["dead_fraction"]
        assert np.all((f >= 0) & (f <= 1))
        np.testing.assert_allclose(f * 8, np.round(f * 8), rtol=0, atol=1e-12)


# Layer 1, batch 2, no bias: given a unit's weight row w != 0, (w.x0, w.x1) is bivariate normal with correlation
# exactly c0 (the inputs are iid Gaussian with x1 = c0 x0 + sqrt(1 - c0^2) x1'), so the unit is dead (negative on
# both) with the orthant probability 1/4 + asin(c0)/(2 pi), whatever w. That is the expected dead fraction.
@pytest.mark.parametrize("c0", [0.0, 0.5, -0.8])
def test_first_layer_dead_fraction_is_the_orthant_probability(c0):
    _, res = _run("relu", "he_normal:plain", 32, 2, batch=2, seeds=2000, seed=8, c0=c0)
    mean, se = res["summary"]["dead_fraction"]
    expected = 0.25 + math.asin(c0) / (2 * math.pi)
    assert abs(_z(mean[0], se[0], expected)) <= Z, f"c0 = {c0}: MC {mean[0]:.4f} +- {se[0]:.2g}, {expected:.4f}"


def test_negative_control_dead_fraction_ignoring_the_input_correlation():
    _, res = _run("relu", "he_normal:plain", 32, 2, batch=2, seeds=2000, seed=8, c0=0.5)
    mean, se = res["summary"]["dead_fraction"]
    assert abs(_z(mean[0], se[0], 0.25)) > Z  # 1/4 is the c0 = 0 value; the truth is 1/3


# ------------------------------------------------------------------------------------ 9: weight-gradient norm
def test_weight_grad_norm_only_on_request():
    cfg = NetworkConfig("relu", "he_normal", width=8, depth=3)
    off = simulate(cfg, 4, 2, seed=0)
    on = simulate(cfg, 4, 2, seed=0, weight_grad_norm=True)
    assert "weight_grad_norm" not in off["summary"] and all("weight_grad_norm" not in p for p in off["per_network"])
    mean, se = on["summary"]["weight_grad_norm"]
    assert mean.shape == (3,) and np.all(np.isfinite(mean)) and np.all(mean > 0) and np.all(np.isfinite(se))
    assert all(p["weight_grad_norm"].shape == (3,) for p in on["per_network"])
    # asking for it changes nothing else
    for k in off["summary"]:
        np.testing.assert_array_equal(on["summary"][k][0], off["summary"][k][0])


def _orthonormal_rows(batch, n, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, batch)))
    return q.T  # (batch, n), X X^T = I


# G_l = sum_b delta_l,b^T x_(l-1),b. If the rows x_(l-1),b are orthonormal, ||G_l||_F^2 = tr(D^T D X X^T)
# = ||D||_F^2 = B n_l grad_var_l exactly, whatever the (random, internal) output gradient: an oracle that needs
# neither the engine's random draws nor its code. Layer 1 sees the inputs; a linear network with square orthogonal
# weights and no bias keeps the rows orthonormal at every layer.
@pytest.mark.parametrize("act, init, layers", [("relu", "he_normal", (1,)), ("tanh", "glorot_uniform", (1,)),
                                               ("linear", "orthogonal", (1, 2, 3, 4))])
@pytest.mark.parametrize("chunk", [None, 3])
def test_weight_grad_norm_against_the_orthonormal_input_identity(act, init, layers, chunk):
    n, B, L = 16, 8, 4
    cfg = NetworkConfig(act, init, width=n, depth=L)
    res = simulate(cfg, B, 3, dtype="float64", seed=9, chunk=chunk, weight_grad_norm=True,
                   inputs=_orthonormal_rows(B, n, 0))
    for p in res["per_network"]:
        for l in layers:
            assert p["weight_grad_norm"][l - 1] ** 2 == pytest.approx(B * n * p["grad_var"][l - 1], rel=1e-10)


def test_negative_control_weight_grad_norm_identity_needs_orthonormal_rows():
    # identical rows: ||G||^2 = ||sum_b delta_b||^2 ||x0||^2, not sum_b ||delta_b||^2
    n, B = 16, 8
    cfg = NetworkConfig("linear", "orthogonal", width=n, depth=2)
    x = np.tile(_orthonormal_rows(1, n, 0), (B, 1))
    res = simulate(cfg, B, 3, dtype="float64", seed=9, weight_grad_norm=True, inputs=x)
    for p in res["per_network"]:
        assert p["weight_grad_norm"][0] ** 2 != pytest.approx(B * n * p["grad_var"][0], rel=1e-6)


def test_float32_statistics_do_not_depend_on_the_chunk_beyond_rounding():
    """The output gradient comes from per-row-block streams, so float32 chunking changes rounding only.

    Tolerance: float32 matmul blocking and BLAS dot-product sums round at ~1e-7 to 1e-6 relative; 1e-5 covers it,
    while different random draws would move the statistics by their standard error (~1e-2 here).
    """
    cfg = NetworkConfig("tanh", "glorot_normal", width=64, depth=4, bias_var=0.05)
    a = simulate(cfg, 150, 3, dtype="float32", seed=5)
    b = simulate(cfg, 150, 3, dtype="float32", seed=5, chunk=7)
    for key, (mean, _) in a["summary"].items():
        np.testing.assert_allclose(b["summary"][key][0], mean, rtol=1e-5, err_msg=key)
    # negative control: another seed differs far beyond that tolerance
    c = simulate(cfg, 150, 3, dtype="float32", seed=6, chunk=7)
    assert not np.allclose(c["summary"]["grad_var"][0], a["summary"]["grad_var"][0], rtol=1e-5)


def test_depth_slope_is_the_least_squares_line_with_its_standard_error():
    """The one log-slope fit of the package: exact on a line (se 0), the textbook se on noisy points, nan se for two
    points; a wrong slope is far outside the interval (negative control)."""
    from sims.statistics import depth_slope

    slope, se = depth_slope([1.0, 3.0, 5.0, 7.0])
    assert slope == pytest.approx(2.0, abs=1e-12) and se == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(3)
    x = np.arange(1.0, 41.0)
    y = 0.3 * x + rng.standard_normal(40)
    slope, se = depth_slope(y, x)
    import scipy.stats
    ref = scipy.stats.linregress(x, y)
    assert slope == pytest.approx(ref.slope, rel=1e-12) and se == pytest.approx(ref.stderr, rel=1e-10)
    assert abs(slope - 0.3) <= Z * se and abs(slope - 0.6) > Z * se
    assert np.isnan(depth_slope([1.0, 2.0])[1])
    with pytest.raises(ValueError):
        depth_slope([1.0])


def test_depth_law_tells_an_exponential_from_a_power_law():
    from sims.statistics import depth_law

    depths = [2, 4, 6, 8, 10]
    exponential = [[0.5 ** -d for d in depths]]  # ratio grows by 2 per layer
    power = [[float(d) ** 3 for d in depths]]
    e, p = depth_law(exponential, depths), depth_law(power, depths)
    assert e["factor"][0] == pytest.approx(0.5, rel=1e-12) and e["rss_gap"][0] > 0
    assert p["rss_gap"][0] < 0  # negative control: a power law is not called exponential
