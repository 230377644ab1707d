"""Finite width to first order in 1/n (theory.fluctuations) against the Monte Carlo (sims.fluctuations).

Exact identities are checked at float64 precision; agreement with the Monte Carlo by z-scores, z = (MC - theory) / SE
with the standard error across independent networks, at a family-wise level: z_crit = the normal quantile at
1 - ALPHA / (2 m) for m comparisons (Bonferroni). Each agreement test has its negative control at the same z_crit:
the infinite-width prediction (excess kurtosis 0, the uncorrected kernel K for the mean) must fail at one layer or
more. Sizes and seeds are fixed here, before any run.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from sims import fluctuations as M
from theory import fluctuations as F
from theory.errors import SpecError

ALPHA = 1e-3  # family-wise false-alarm rate of each agreement test
SEED = 0


def z_crit(m: int) -> float:
    return float(norm.ppf(1 - ALPHA / (2 * m)))


def _z(mc, th, key, theory_key):
    return np.array([(m[key]["mean"] - t[theory_key]) / m[key]["se"] for m, t in zip(mc, th)])


# ------------------------------------------------------------------------------------------------ exact identities
@pytest.mark.parametrize("K", [0.3, 1.0, 4.5])
def test_gaussian_moments_and_their_k_derivatives_match_closed_forms(K):
    """phi(x) = x^2: g = 3K^2, E[phi^4] = 105 K^4, g' = 6K, g'' = 6 (by integration by parts, no phi'); ReLU: g = K/2,
    g' = 1/2, g'' = 0 despite the kink."""
    s = F.gaussian_stats("x**2", K)
    assert s["g"] == pytest.approx(3 * K ** 2, rel=1e-12) and s["phi4"] == pytest.approx(105 * K ** 4, rel=1e-12)
    assert s["g1"] == pytest.approx(6 * K, rel=1e-12) and s["g2"] == pytest.approx(6, rel=1e-11)
    r = F.gaussian_stats("relu", K)
    assert r["g"] == pytest.approx(K / 2, rel=1e-13) and r["g1"] == pytest.approx(0.5, rel=1e-13)
    assert abs(r["g2"]) < 1e-12 / K and r["phi4"] == pytest.approx(1.5 * K ** 2, rel=1e-13)


@pytest.mark.parametrize("input", ["fixed", "gaussian"])
def test_relu_recursion_is_the_first_order_of_the_exact_product_law(input):
    """ReLU, C_W = 2, C_b = 0, widths that differ per layer: the mean is exact (no correction at any width) and the
    excess kurtosis is 15 sum_(l<L) 1/n_l (+ 6/n_0 for Gaussian inputs), the first order of
    3 (prod_(l<L) (1 + 5/n_l) - 1) (theory.finite_width)."""
    widths = [12, 8, 16, 40, 24, 32]
    rows = F.by_layer("relu", widths, 2.0, 0.0, input=input)
    for r in rows:
        first = 15 * sum(1 / n for n in widths[1:r["layer"]]) + (6 / widths[0] if input == "gaussian" else 0)
        assert r["preact_excess_kurtosis"] == pytest.approx(first, rel=1e-12, abs=1e-13)
        assert abs(r["mean_shift"]) < 1e-12 and r["kernel"] == pytest.approx(2.0, rel=1e-15)


def test_weight_laws_and_bad_input():
    assert F.weight_kurtosis("normal") == 0 and F.weight_kurtosis("uniform") == -1.2
    assert -0.64 < F.weight_kurtosis("truncated_normal") < -0.63
    for bad in (lambda: F.weight_kurtosis("orthogonal"), lambda: F.by_layer("tanh", [8], 1.0),
                lambda: F.by_layer("tanh", [8, 8], 1.0, input="sphere"),
                lambda: F.by_layer("tanh", [8, 8], -1.0), lambda: F.by_layer("tanh", [8, 8], 1.0, input_var=0),
                lambda: M.run("tanh", [8, 8], 1.0, weights="orthogonal")):
        with pytest.raises(SpecError):
            bad()


# ------------------------------------------------------------------------------------------------ the Monte Carlo
#: (activation, C_W, C_b): tanh ordered (chi_1 < 1) and chaotic (chi_1 > 1), GELU, ReLU at He
POINTS = {"tanh-ordered": ("tanh", 1.0, 0.05), "tanh-chaotic": ("tanh", 2.5, 0.1), "gelu": ("gelu", 2.0, 0.0),
          "relu": ("relu", 2.0, 0.0)}
#: width, depth, networks, inputs per network: depth / width <= 1/4 for tanh (its fluctuations saturate), <= 1/32 for
#: GELU and ReLU (theirs grow with depth: the first order holds while depth / width is small)
SIZES = {"tanh-ordered": (16, 8, 2000, 64), "tanh-chaotic": (32, 8, 2000, 32), "gelu": (128, 4, 800, 16),
         "relu": (128, 4, 800, 16)}


#: the default suite runs one point and ensemble; the others are slow statistical runs (CI runs them: -m slow)
FAST = ("tanh-chaotic", "gaussian")
CASES = [pytest.param(p, i, id=f"{p}-{i}", marks=() if (p, i) == FAST else pytest.mark.slow)
         for p in POINTS for i in ("gaussian", "fixed")]


@pytest.mark.parametrize("point,input", CASES)
def test_kurtosis_and_mean_agree_with_the_monte_carlo_and_infinite_width_does_not(point, input):
    width, depth, nets, batch = SIZES[point]
    _agree_at_every_layer(point, width, depth, nets, batch, SEED, input)


def _agree_at_every_layer(point, width, depth, nets, batch, seed, input="gaussian"):
    """The kurtosis and E[h^2] = K + d agree with the Monte Carlo at every layer at z_crit for the 2 x depth
    comparisons; negative control: width infinity (kurtosis 0) fails at the same z_crit at one layer or more."""
    act, cw, cb = POINTS[point]
    widths = [width] * (depth + 1)
    th = F.by_layer(act, widths, cw, cb, input=input)
    mc = M.run(act, widths, cw, cb, input=input, seeds=nets, batch=batch, seed=seed)
    zc = z_crit(2 * depth)
    zk = _z(mc, th, "preact_excess_kurtosis", "preact_excess_kurtosis")
    zv = _z(mc, th, "preact_var", "preact_var_finite")
    assert np.all(np.abs(zk) < zc) and np.all(np.abs(zv) < zc), (zk.round(1), zv.round(1))
    z0 = np.array([m["preact_excess_kurtosis"]["mean"] / m["preact_excess_kurtosis"]["se"] for m in mc])
    assert np.max(np.abs(z0)) > zc, z0.round(1)


def test_the_mean_correction_is_measured_and_the_uncorrected_kernel_fails():
    """tanh ordered at width 16, Gaussian inputs: E[h^2] = K + d with d < 0 from layer 2; K alone is rejected."""
    act, cw, cb = POINTS["tanh-ordered"]
    width, depth, nets, batch = SIZES["tanh-ordered"]
    widths = [width] * (depth + 1)
    th = F.by_layer(act, widths, cw, cb)
    mc = M.run(act, widths, cw, cb, seeds=nets, batch=batch, seed=SEED)
    zc = z_crit(depth)
    assert np.all(np.abs(_z(mc, th, "preact_var", "preact_var_finite")) < zc)
    assert np.max(np.abs(_z(mc, th, "preact_var", "kernel"))) > zc
    assert all(t["mean_shift"] < 0 for t in th[1:])


@pytest.mark.parametrize("law", ["uniform", pytest.param("truncated_normal", marks=pytest.mark.slow)])
def test_non_gaussian_weights_add_their_kurtosis_and_the_gaussian_theory_fails(law):
    """Uniform and Keras' truncated-normal weights: the Edgeworth term k_w C_W^2 E[x^4] / n agrees with the Monte
    Carlo; the Gaussian-weight theory (k_w = 0) fails at the same z_crit."""
    act, cw, cb = POINTS["tanh-chaotic"]
    widths = [64] * 5
    kw = F.weight_kurtosis(law)
    th = F.by_layer(act, widths, cw, cb, weight_kurtosis=kw)
    gauss = F.by_layer(act, widths, cw, cb)
    mc = M.run(act, widths, cw, cb, seeds=1500, batch=16, seed=SEED, weights=law)
    zc = z_crit(8)
    assert np.all(np.abs(_z(mc, th, "preact_excess_kurtosis", "preact_excess_kurtosis")) < zc)
    assert np.all(np.abs(_z(mc, th, "preact_var", "preact_var_finite")) < zc)
    assert np.max(np.abs(_z(mc, gauss, "preact_excess_kurtosis", "preact_excess_kurtosis"))) > zc


def test_relu_first_order_breaks_down_where_the_exact_law_holds():
    """ReLU at width 16, depth 8 (depth / width = 1/2), fixed input: the exact law 3 (prod_(l<L) (1 + 5/n) - 1)
    agrees with the Monte Carlo at every layer, the first-order line does not at the deepest layers."""
    from theory.finite_width import FOURTH_MOMENT_RELIABLE, fourth_moment_se_bound

    widths = [16] * 9
    # the size: 3000 networks can measure a fourth moment down to layer 8 (not to layer 10: the bound grows 1.5x
    # per layer at width 16), so the exact law is tested where the sample can test it
    deeper = fourth_moment_se_bound([16] * 11, 3000)[-1]
    assert max(fourth_moment_se_bound(widths, 3000)) < FOURTH_MOMENT_RELIABLE < deeper
    th = F.by_layer("relu", widths, 2.0, 0.0, input="fixed")
    mc = M.run("relu", widths, 2.0, 0.0, input="fixed", seeds=3000, batch=16, seed=SEED)
    exact = [{"k": 3 * ((1 + 5 / 16) ** (layer - 1) - 1)} for layer in range(1, 9)]
    zc = z_crit(8)
    assert np.all(np.abs(_z(mc, exact, "preact_excess_kurtosis", "k")) < zc)
    assert np.max(np.abs(_z(mc, th, "preact_excess_kurtosis", "preact_excess_kurtosis"))) > zc
    assert math.isclose(th[1]["preact_excess_kurtosis"], exact[1]["k"], rel_tol=1e-12)  # one layer: both exact


#: the grid of widths 16-256 and depths up to 20: (point, width, depth, networks, inputs per network), fixed before
#: any run. tanh runs to depth 20 at every width (its fluctuations saturate); GELU and ReLU keep depth / width = 1/32,
#: where the first order holds (deeper, ReLU's exact law takes over: the test above).
GRID = [("tanh-ordered", 16, 20, 2000, 64), ("tanh-ordered", 64, 20, 1000, 64), ("tanh-ordered", 256, 20, 600, 64),
        ("tanh-chaotic", 32, 20, 2000, 32), ("tanh-chaotic", 128, 20, 800, 64), ("tanh-chaotic", 256, 20, 600, 64),
        ("gelu", 128, 4, 1200, 32), ("gelu", 256, 8, 600, 32), ("relu", 128, 4, 1200, 32), ("relu", 256, 8, 600, 32)]


@pytest.mark.slow
@pytest.mark.parametrize("cell", range(len(GRID)), ids=[f"{p}-{n}x{d}" for p, n, d, *_ in GRID])
def test_the_grid_of_widths_and_depths_agrees_with_the_first_order(cell):
    """Every layer of a grid cell (Gaussian inputs, the engine's default; independent networks per cell: seed = cell
    index) agrees with the first order in the kurtosis and in E[h^2] = K + d at z_crit for the cell's 2 x depth
    comparisons; negative control: the width-infinity kurtosis 0 fails at one layer or more."""
    point, width, depth, nets, batch = GRID[cell]
    _agree_at_every_layer(point, width, depth, nets, batch, SEED + 1 + cell)


def test_the_kurtosis_figure_draws_hollow_where_the_networks_are_too_few_for_a_fourth_moment():
    """finite-width-kurtosis (fast sizes): each ReLU point carries the exact law's bound sqrt(rho_l / N) on the relative
    SE of E h^4 over the run's N networks, and is hollow above 1/2; the bound is above 1/2 at depth at width 16 and
    nowhere at width 64; tanh has no exact law and no bound."""
    from figures import finite_width as FW
    from theory.finite_width import FOURTH_MOMENT_RELIABLE, fourth_moment_spread

    points = FW.kurtosis_points(fast=True)
    depth, seeds = FW.FAST["depth"], FW.FAST["seeds"]
    for n, p in points["relu"].items():
        bound = [math.sqrt(r / seeds) for r in fourth_moment_spread([int(n)] * (depth + 1))]
        assert p["fourth_se"] == pytest.approx(bound, rel=1e-15)
    assert max(points["relu"]["16"]["fourth_se"]) > FOURTH_MOMENT_RELIABLE > max(points["relu"]["64"]["fourth_se"])
    assert all(p["fourth_se"] is None for p in points["tanh"].values())


# ------------------------------------------------------------------------------------------------ the command line
def test_predict_finite_width_json_adds_the_first_order_beside_todays_keys(capsys):
    import json

    from theory.cli import main
    from theory.config import NetworkConfig

    assert main(["predict", "--activation", "tanh", "--init", "glorot_uniform", "--width", "24", "--depth", "4",
                 "--bias-var", "0.05", "--finite-width", "--input", "fixed", "--json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    cfg = NetworkConfig(activation="tanh", init="glorot_uniform", width=24, depth=4, bias_var=0.05)
    want = F.for_config(cfg, "fixed")
    assert [sorted(r) for r in layers] == [["grad_var", "layer", "preact_excess_kurtosis", "preact_var",
                                             "preact_var_finite"]] * 4
    for r, w in zip(layers, want):
        assert r["preact_var"] == pytest.approx(w["kernel"], rel=1e-12)  # the same K as today's prediction
        assert r["preact_var_finite"] == w["preact_var_finite"] and r["preact_excess_kurtosis"] == w[
            "preact_excess_kurtosis"]
    assert layers[0]["preact_excess_kurtosis"] < 0  # uniform weights (kurtosis -6/5) at a fixed input
    assert main(["predict", "--activation", "tanh", "--init", "glorot_uniform", "--width", "24", "--depth", "4",
                 "--bias-var", "0.05", "--finite-width", "--json"]) == 0
    fw = json.loads(capsys.readouterr().out)["finite_width"]
    assert fw == {"input": "gaussian", "kurtosis_limit": 0.5, "first_unreliable_layer": None,
                  "first_undefined_layer": None, "exact_law": False}
    for argv in (["--input", "fixed"], ["--finite-width", "--batchnorm"], ["--finite-width", "--init", "orthogonal"]):
        base = ["predict", "--activation", "relu", "--init", "he_normal", "--width", "8", "--depth", "2"]
        assert main(base + argv) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_predict_puts_relus_exact_law_beside_the_first_order_and_says_where_the_first_order_stops(capsys):
    """ReLU, Gaussian weights, no bias: predict adds the exact law per layer (3 (1 + 2/n_0) prod_(l<L) (1 + 5/n_l) - 3,
    written out here independently) and names the first layer whose first-order kurtosis 15 (L - 1)/n + 6/n_0
    exceeds 0.5; a truncated init (not Gaussian) gets no exact column."""
    import json

    from theory.cli import main

    n, depth = 64, 8
    assert main(["predict", "--activation", "relu", "--init", "he_normal:plain", "--width", str(n), "--depth",
                 str(depth), "--finite-width", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    first = [15 * (L - 1) / n + 6 / n for L in range(1, depth + 1)]
    exact = [3 * (1 + 2 / n) * (1 + 5 / n) ** (L - 1) - 3 for L in range(1, depth + 1)]
    for row, f, e in zip(doc["layers"], first, exact):
        assert row["preact_excess_kurtosis"] == pytest.approx(f, rel=1e-12)
        assert row["preact_excess_kurtosis_exact"] == pytest.approx(e, rel=1e-12)
        # one layer of fluctuations: both exact (6/n_0); from layer 2 the first order is low
        assert row["preact_excess_kurtosis_exact"] > row["preact_excess_kurtosis"] or row["layer"] == 1
    want = next(L for L, f in enumerate(first, start=1) if f > 0.5)
    assert doc["finite_width"] == {"input": "gaussian", "kurtosis_limit": 0.5, "first_unreliable_layer": want,
                                   "first_undefined_layer": None, "exact_law": True}
    assert main(["predict", "--activation", "relu", "--init", "he_normal:plain", "--width", str(n), "--depth",
                 str(depth), "--finite-width"]) == 0
    out = capsys.readouterr().out
    assert "kurt., exact" in out and f"from layer {want} on the first-order excess kurtosis exceeds 0.5" in out
    assert main(["predict", "--activation", "relu", "--init", "he_normal", "--width", "8", "--depth", "2",
                 "--finite-width", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert not doc["finite_width"]["exact_law"] and "preact_excess_kurtosis_exact" not in doc["layers"][0]


@pytest.mark.parametrize("init,act,undefined", [("normal:100/sqrt(n_in)", "relu", 42),  # K overflows
                                                ("normal:0.001/sqrt(n_in)", "tanh", 26),  # K underflows
                                                ("he_normal:plain", "exp(x)", 2)])  # moments past the window
def test_a_kernel_out_of_range_ends_the_first_order_with_a_dash_not_a_traceback(capsys, init, act, undefined):
    """Where K^2 leaves float64 (K > 1.3e154 or < 1.5e-154) or the activation's Gaussian moments are not finite, the
    first order has no value: NaN (null in JSON, a dash in the table) from that layer on, named in one line; predict
    and sims run --kurtosis exit 0. The layer is where log10 K crosses the range: K_l = 2 (C_W/2)^(l-1) for ReLU with
    C_W = 10^4 (l = 1 + 154 / log10(5000) -> 42), K_l ~ (10^-6)^(l-1) for tanh (l = 1 + 154/6 -> 26); exp(x) at
    K_1 = 2: E[exp(4 h)] = e^16 has its mass near z = 4 sqrt(2), and its integrand at z = 9 is 1.5e-3 of it, so
    layer 1's moments are not computed and layer 2 has no value."""
    import json

    from sims.cli import main as sims_main
    from theory.cli import main

    base = ["--activation", act, "--init", init, "--width", "16", "--depth", "60"]
    assert main(["predict", *base, "--finite-width", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["finite_width"]["first_undefined_layer"] == undefined
    k = [r["preact_excess_kurtosis"] for r in doc["layers"]]
    assert all(v is not None for v in k[:undefined - 1]) and all(v is None for v in k[undefined - 1:])
    assert main(["predict", *base, "--finite-width"]) == 0
    assert f"no first-order value from layer {undefined} on" in capsys.readouterr().out
    assert sims_main(["run", *base[:-1], "30", "--batch", "2", "--seeds", "3", "--kurtosis", "--quiet",
                      "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["layers"]
    assert [r["theory_preact_excess_kurtosis"] is None for r in rows] == [L >= undefined for L in range(1, 31)]


def test_the_engine_measures_the_kurtosis_on_request_only_and_agrees_with_the_theory(capsys):
    """``sims run --kurtosis`` (the engine's numpy path, a fourth moment accumulated only when asked): tanh with
    untruncated Glorot weights at width 16, fixed inputs; the first-order theory within z_crit at every layer, width
    infinity (0) outside it at one layer or more. A run without --kurtosis has no such key."""
    import json

    from sims.cli import main

    base = ["run", "--activation", "tanh", "--init", "glorot_normal:plain", "--width", "16", "--depth", "6",
            "--batch", "32", "--seeds", "1500", "--bias-var", "0.05", "--dtype", "float64", "--quiet", "--json"]
    assert main(base + ["--kurtosis", "--input", "fixed"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["input"] == "fixed"
    layers = doc["layers"]
    zc = z_crit(6)
    z = np.array([(r["preact_excess_kurtosis"]["mean"] - r["theory_preact_excess_kurtosis"])
                  / r["preact_excess_kurtosis"]["se"] for r in layers])
    z0 = np.array([r["preact_excess_kurtosis"]["mean"] / r["preact_excess_kurtosis"]["se"] for r in layers])
    assert np.all(np.abs(z) < zc) and np.max(np.abs(z0)) > zc, (z.round(1), z0.round(1))
    assert main([a if a != "1500" else "3" for a in base]) == 0
    plain = json.loads(capsys.readouterr().out)["layers"][0]
    assert "preact_excess_kurtosis" not in plain and "theory_preact_excess_kurtosis" not in plain
    assert main(base + ["--kurtosis", "--backend", "torch"]) == 2


def test_sims_run_says_where_the_networks_are_too_few_for_a_fourth_moment(capsys):
    """ReLU/He with Gaussian weights and no bias: ``sims run --kurtosis`` gives each layer the exact law's bound on
    the relative SE of E h^4 over its networks and names the first layer above the threshold, in JSON and in one
    line of text; a network the exact law does not cover (tanh) has neither; enough networks, no line."""
    import json

    from sims.cli import main
    from theory.finite_width import FOURTH_MOMENT_RELIABLE, fourth_moment_se_bound

    base = ["run", "--activation", "relu", "--init", "he_normal:plain", "--width", "16", "--depth", "8", "--batch",
            "4", "--seeds", "40", "--dtype", "float64", "--quiet", "--kurtosis", "--input", "fixed"]
    assert main(base + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    bound = fourth_moment_se_bound([16] * 9, 40)
    assert [r["fourth_moment_se_bound"] for r in doc["layers"]] == pytest.approx(bound, rel=1e-15)
    first = next(l + 1 for l, b in enumerate(bound) if b > FOURTH_MOMENT_RELIABLE)
    assert doc["too_few_networks_from"] == first and 1 < first <= 8
    assert main(base) == 0
    assert f"from layer {first}: 40 networks are too few for a fourth moment" in capsys.readouterr().out
    assert main([a if a != "8" else "2" for a in base]) == 0  # depth 2: the bound stays small
    assert "too few" not in capsys.readouterr().out
    assert main([a if a != "relu" else "tanh" for a in base] + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "too_few_networks_from" not in doc and "fourth_moment_se_bound" not in doc["layers"][0]


def test_the_report_notes_what_finite_width_does_to_the_slides_variance_formula():
    """The note on «Инициализация весов (симметричный случай)»: the ReLU/He mean exact (correction 0), tanh's mean and
    both kurtoses as computed by the theory; in both languages, without leaks or English in the Russian one."""
    from lecture.notes import SLIDE, notes
    from lecture.prose import english_runs, leaks
    from lecture.registry import fmt, slide_titles

    note = notes()[SLIDE]
    assert SLIDE in slide_titles()
    tanh = F.by_layer("tanh", [16] * 7, 1.0, 0.05, input="fixed")[-1]
    relu = F.by_layer("relu", [16] * 7, 2.0, 0.0, input="fixed")[-1]
    for text in (note.en, note.ru):
        assert "$E[h^2]$ is 0." in text or "равна 0." in text
        assert fmt(tanh["preact_excess_kurtosis"]) in text and fmt(relu["preact_excess_kurtosis"]) in text
        assert fmt(100 * tanh["mean_shift"] / tanh["kernel"]) in text
        assert not any(leaks(text).values())
    assert english_runs(note.ru) == []


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_note_links_its_derivations_and_the_report_prints_each_once(lang):
    """The note's derivations (the first order for any activation, ReLU's exact law) are linked right after the note,
    under its slide, and printed once in the Derivations part; a report without them rendered has no dangling link."""
    from lecture import claims as C
    from lecture import report as R
    from lecture.notes import DERIVATIONS, SLIDE
    from lecture.registry import Outcome
    from theory.derivation import get
    from theory.text import T

    rows = [C.in_language(C.row(c, Outcome("confirmed", T("checked.", "проверено."), {})), lang)
            for c in C.all_claims()]
    names = DERIVATIONS[SLIDE]
    assert all(get(n).name == n for n in names)  # registered (their rendering is tested with every derivation's)
    md = R.render(rows, derivations={n: f"### Title of {n}\n\n| step |" for n in names}, lang=lang)
    slide = md.index(f"### «{SLIDE}»")
    for n in names:
        assert md.count(f'<a id="derivation-{n}"></a>') == 1
        link = md.index(f"(#derivation-{n})")
        assert slide < link < md.index("### «", slide + 1)
    bare = R.render(rows, derivations={}, lang=lang)
    assert not any(f"derivation-{n}" in bare for n in names)


@pytest.mark.slow
def test_the_corrections_scale_as_one_over_width_with_the_theorys_intercept():
    """tanh ordered, Gaussian inputs, widths 16, 32, 64, 128: n (E[h^2] - K) and n * kurtosis against 1/n are lines
    (weighted least squares, the Monte Carlo's SEs) whose intercepts are the theory's n d and n c4 / K^2 (constants
    at first order); negative control: intercept 0 (width infinity) fails at the same z_crit."""
    act, cw, cb = POINTS["tanh-ordered"]
    widths, layer = (16, 32, 64, 128), 2
    ys, ses, ks, kses, th_mean, th_kurt = [], [], [], [], [], []
    for n in widths:
        th = F.by_layer(act, [n] * 4, cw, cb)[layer - 1]
        mc = M.run(act, [n] * 4, cw, cb, seeds=4000, batch=32, seed=SEED + n)[layer - 1]
        ys.append(n * (mc["preact_var"]["mean"] - th["kernel"]))
        ses.append(n * mc["preact_var"]["se"])
        ks.append(n * mc["preact_excess_kurtosis"]["mean"])
        kses.append(n * mc["preact_excess_kurtosis"]["se"])
        th_mean.append(n * th["mean_shift"])
        th_kurt.append(n * th["preact_excess_kurtosis"])
    x = 1 / np.array(widths, dtype=float)
    zc = z_crit(4)
    for y, se, theory in ((ys, ses, th_mean), (ks, kses, th_kurt)):
        assert np.ptp(theory) < 1e-9 * max(abs(theory[0]), 1)  # first order: n times the correction is constant
        w = 1 / np.array(se) ** 2
        a = np.vstack([np.ones_like(x), x]).T
        cov = np.linalg.inv(a.T @ (a * w[:, None]))
        intercept, _slope = cov @ (a.T @ (w * np.array(y)))
        se_int = math.sqrt(cov[0, 0])
        assert abs(intercept - theory[0]) / se_int < zc, (intercept, se_int, theory[0])
        assert abs(intercept) / se_int > zc, (intercept, se_int)
