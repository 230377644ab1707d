"""Experiments e (standardization) and k (cost of activations), and their figures."""
from __future__ import annotations

import numpy as np
import pytest

from figures import common
from figures import training as F
from figures.cli import main
from sims.experiments import activation_cost, standardization
from theory.derivation import get
from theory.errors import SpecError
from theory.optimization import rate, steps_to


def test_gd_rate_derivation_verifies():
    assert get("gd-quadratic-rate").ok


def test_two_feature_descent_takes_exactly_the_theorys_steps():
    """With two features both eigen-directions contract by exactly (kappa - 1)/(kappa + 1) per step at eta*: the
    step count is the theory's, not just below it."""
    res = standardization.run(scales=(1.0, 3.0, 10.0, 30.0), n=300, tol=1e-5)
    for row in res["rows"]:
        for key in ("raw", "standardized"):
            r = row[key]
            assert r["steps"] == steps_to(r["kappa"], 1e-5), (row["scale"], key)
    raw = [row["raw"]["kappa"] for row in res["rows"]]
    std = [row["standardized"]["kappa"] for row in res["rows"]]
    assert raw[-1] > 100 * max(std)  # standardizing removes the scale's condition number
    assert max(std) < 1.5


def test_negative_control_a_worse_step_needs_more_steps():
    x, y = standardization.make_data(10.0, 300, 0)
    y = y - y.mean()
    best = standardization.descend(x - x.mean(axis=0), y, tol=1e-5)
    a = best["hessian"]
    lam = np.linalg.eigvalsh(a)
    eta = 1.0 / lam[-1]  # the common "1/L" step: rate 1 - 1/kappa, slower than (kappa - 1)/(kappa + 1)
    w, w_hat = np.array([-3.0, 3.0]) * np.sqrt(np.diag(np.linalg.inv(a))), best["w_hat"]
    e0, k = np.linalg.norm(w - w_hat), 0
    while np.linalg.norm(w - w_hat) > 1e-5 * e0:
        w = w - eta * (a @ w - best["b"])
        k += 1
    assert k > best["steps"]
    assert rate(best["kappa"]) < 1 - 1 / best["kappa"]


def test_activation_cost_reports_ratios_to_relu():
    r = activation_cost.run(size=1 << 14, repeats=3, functions=("relu", "exp", "sigmoid"))
    assert r["ratio_to_relu"]["relu"] == 1.0
    assert all(v > 0 for v in r["ns_per_element"].values())
    with pytest.raises(SpecError):
        activation_cost.run(functions=("exp",))


@pytest.mark.parametrize("lang", common.LANGS)
def test_training_figures_written(tmp_path, lang):
    names = ("train-standardization", "train-activation-cost")
    assert main(["--only", *names, "--out", str(tmp_path), "--lang", lang, "--fast", "--quiet"]) == 0
    suffix = "" if lang == "en" else ".ru"
    for name in names:
        assert (tmp_path / f"{name}{suffix}.png").stat().st_size > 1000


def test_activation_cost_figure_draws_the_claims_trials():
    """The bars are exp(median log ratio) of the trials the claims judge, and the error bars their range."""
    res = {"log_ratio_to_relu": {"exp": [0.1, 0.2, 0.4], "expit": [2.0, 2.5, 2.2]}, "size": 1 << 14, "trials": 3,
           "repeats": 3, "dtype": "float32", "numpy": np.__version__, "machine": "x"}
    ax = F.plot_activation_cost(res, "en").axes[0]
    heights = [b.get_height() for b in ax.patches]
    np.testing.assert_allclose(heights, np.exp([0.0, 0.2, 2.2]), rtol=1e-12)
    assert not np.allclose(heights, np.exp([0.0, np.mean([0.1, 0.2, 0.4]), np.mean([2.0, 2.5, 2.2])]))  # not the mean


def test_standardization_figure_draws_the_measured_steps():
    res = standardization.run(scales=(1.0, 10.0), n=200)
    ax = F.plot_standardization(res, "en").axes[2]
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "s"][0]
    want = [r["raw"]["steps"] for r in res["rows"]] + [r["standardized"]["steps"] for r in res["rows"]]
    np.testing.assert_array_equal(marks.get_ydata(), np.maximum(want, 0.5))


def test_timing_figure_is_left_out_of_the_default_set():
    """Timings differ run to run: the default set stays byte-reproducible; the figure is drawn only when named."""
    from figures.cli import default_names

    assert common.get("train-activation-cost").timing and not common.get("train-standardization").timing
    assert "train-activation-cost" not in default_names() and "train-standardization" in default_names()
    assert set(default_names()) == {n for n, e in common.entries().items() if not e.timing}


def test_sigmoid_inputs_give_same_sign_gradients_and_a_longer_path():
    from sims.experiments import nonzero_centred as nz

    sig, tanh = nz.over_seeds("sigmoid"), nz.over_seeds("tanh")
    # positive inputs: every gradient's components share the sign of delta (exact, every step of every seed)
    assert sig["same_sign_fraction"]["min"] == 1.0
    # negative control: zero-centred inputs have free signs (about half the steps for two inputs)
    assert tanh["same_sign_fraction"]["max"] < 0.9
    # the zig-zag: longer paths and more steps in every seed (spreads do not overlap)
    assert sig["path_ratio"]["min"] > tanh["path_ratio"]["max"]
    assert sig["steps_to_tol"]["min"] > tanh["steps_to_tol"]["max"]


def test_inits_figure_draws_the_median_curves():
    from sims.experiments import inits

    a = inits.over_seeds(inits.run_inits, seeds=[0], epochs=1)
    b = inits.over_seeds(inits.run_activations, seeds=[0], epochs=1)
    fig = F.plot_inits(a, b, "en")
    for ax, res in zip(fig.axes, (a, b)):
        lines = ax.get_lines()
        assert len(lines) == len(res["configs"])
        for line, c in zip(lines, res["configs"].values()):
            np.testing.assert_array_equal(line.get_ydata(), c["curves"]["val_acc"]["median"])


def test_gradient_and_shuffling_figures_draw_the_experiments_numbers():
    from sims.experiments import gradients, shuffling

    van = gradients.run_vanishing(depths=(3,), epochs=1)
    exp = gradients.run_exploding(epochs=1, depth=4)
    fig = F.plot_gradients(van, exp, "ru")
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), np.asarray(van["runs"][3]["grad_norms"])[0])
    for line, r in zip(fig.axes[1].get_lines(), exp["runs"].values()):
        np.testing.assert_array_equal(line.get_ydata(), r["delta_norms"])
    res = shuffling.run(epochs=1)
    fig = F.plot_shuffling(res, "en")
    drawn = [ln.get_ydata()[-1] for ax in fig.axes for ln in ax.get_lines()]
    want = [r["val_acc"][-1] for bn in (False, True) for r in res["runs"].values() if bool(r["batchnorm"]) == bn]
    assert drawn == want


def test_symmetry_and_early_stopping_figures_draw_the_experiments_numbers():
    from sims.experiments import early_stopping, symmetry

    per_seed = [symmetry.run(seed=s, epochs=2, hidden=(8, 8)) for s in (0, 1)]
    summary = symmetry.summarize(per_seed)
    fig = F.plot_symmetry(per_seed, summary, "ru")
    for line, r in zip(fig.axes[0].get_lines(), per_seed[0]["runs"].values()):
        np.testing.assert_array_equal(line.get_ydata(), r["train_loss"])
    heights = [p.get_height() for p in fig.axes[1].patches]  # layer 1 for each init, then layer 2
    want = [max(r["runs"][i]["distinct"][layer] for r in per_seed) for layer in (0, 1) for i in summary["runs"]]
    assert heights == want and want[:2] == [1, 1] and want[2] == 8
    es = [early_stopping.run(seed=s, widths=(4, 16), curves_kw={"epochs": 12, "hidden": (32,), "patience": 2},
                             sizes_kw={"epochs": 3}) for s in (0, 1)]
    fig = F.plot_early_stopping(es[0], early_stopping.summarize(es), "en")
    c = es[0]["curves"]
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_ydata(), c["history"]["val_loss"])
    assert fig.axes[0].get_lines()[2].get_xdata()[0] == c["best_epoch"]
    drawn = fig.axes[2].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(drawn, [np.median([r["sizes"]["rows"][w]["train_acc"] for r in es]) for w in (4, 16)])


def test_pruning_growth_pretraining_figures_draw_the_experiments_numbers():
    from sims.experiments import growth, pretraining, pruning

    runs = [pruning.run(seed=s, hidden=(16,), epochs=3, retrain_epochs=1, fractions=(0.5, 0.9)) for s in (0, 1)]
    summary = pruning.summarize(runs)
    fig = F.plot_pruning(runs[0], summary, "ru")
    lines = fig.axes[0].get_lines()
    want = [v["median"] for v in summary["criteria"]["saliency"]["curves"]["test_retrained"]]
    np.testing.assert_array_equal(lines[2].get_ydata(), want)  # after the control, saliency at once, retrained
    g = [growth.run(seed=s, strategies=("zero_out", "hardest"), target=0.8, h_max=4) for s in (0, 1)]
    fig = F.plot_growth(g[0], growth.summarize(g), "en")
    r = g[0]["strategies"]["zero_out"]
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), r["train_loss"])
    p = [pretraining.run(seed=s, settings=("full",), epochs=2, unit_epochs=1, ae_epochs=2) for s in (0, 1)]
    fig = F.plot_pretraining(p[0], pretraining.summarize(p), "en")
    arms = p[0]["settings"]["full"]["arms"]
    for line, arm in zip(fig.axes[0].get_lines(), arms.values()):
        np.testing.assert_array_equal(line.get_ydata(), [arm["val_acc_start"], *arm["val_acc"]])


def test_derived_seeds_come_from_the_root_and_differ_by_path():
    """The claims' Monte Carlo seeds: one per path, reproducible, 63 bits; another path or root gives another seed."""
    from sims.experiments import common

    a, b = common.derived_seed(1, 0), common.derived_seed(1, 1)
    assert a == common.derived_seed(1, 0) and a != b != common.derived_seed(2)
    assert all(0 <= s < 2**63 for s in (a, b))
    import numpy as np
    other = int(np.random.SeedSequence(common.ROOT_SEED + 1, spawn_key=(1, 0)).generate_state(1, dtype=np.uint64)[0]
                >> np.uint64(1))
    assert other != a  # the root matters (a negative control of the derivation)
