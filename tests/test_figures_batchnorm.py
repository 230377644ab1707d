"""Batch-norm figures: registered, both languages, the points are measure_rate's numbers and the curves the
theory's; the percentile data behave as the slides say (BN keeps a unit's input standardized, without BN a deep
sigmoid unit's input collapses)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer

from figures import batchnorm as F
from figures import common
from figures.cli import main
from sims.bnunit import unit_input_percentiles
from theory.batchnorm_rate import gradient_rate
from theory.config import NetworkConfig
from theory.errors import SpecError

NAMES = ("bn-gradient-rate", "bn-unit-percentiles", "bn-unit-percentiles-depth")
QUICK = ("bn-gradient-rate", "bn-unit-percentiles-depth")  # the training figure is tested on a small run below
CYRILLIC = re.compile("[\u0400-\u04ff]")
TINY = F.RateSizes(width=32, depth=8, seeds=4)


def test_registered_in_their_group():
    assert "figures.batchnorm" in common.MODULES
    assert {n for n, e in common.entries().items() if e.group == F.GROUP} == set(NAMES)


@pytest.mark.parametrize("lang", common.LANGS)
def test_written_in_both_languages(tmp_path, lang):
    assert main(["--only", *QUICK, "--out", str(tmp_path), "--lang", lang, "--fast", "--quiet"]) == 0
    suffix = "" if lang == "en" else ".ru"
    for name in QUICK:
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}{suffix}.{ext}").stat().st_size > 1000


def test_rate_figure_draws_measure_rates_numbers_and_the_theory():
    points = F.rate_points(("linear", "tanh"), (4, 8), TINY)
    fig = F.plot_rate(points, "en", TINY)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    for c, act in zip(bars, ("linear", "tanh")):
        y = np.asarray(c.lines[0].get_ydata(), dtype=float)
        np.testing.assert_array_equal(y, [r["measured_rate"] for r in points[act]])
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]  # theory curves (the lambda = 1 line has 2)
    assert len(lines) == 1  # linear has a closed form, tanh none
    xs, ys = lines[0].get_xdata(), lines[0].get_ydata()
    np.testing.assert_allclose(ys, [gradient_rate("linear", int(b)) for b in xs], rtol=0, atol=0)
    assert any(CYRILLIC.search(t.get_text()) for t in F.plot_rate(points, "ru", TINY).findobj(
        lambda a: hasattr(a, "get_text")))


def test_batchnorm_keeps_a_units_input_spread_and_without_it_a_deep_sigmoid_unit_collapses():
    cfg = NetworkConfig(activation="sigmoid", init="glorot_uniform", width=64, depth=12)
    with_bn = unit_input_percentiles(cfg, 400, batchnorm=True, seed=1)
    without = unit_input_percentiles(cfg, 400, batchnorm=False, seed=1)
    spread_bn, spread = with_bn[:, 2] - with_bn[:, 0], without[:, 2] - without[:, 0]
    # BN output has batch variance ~1 at every layer: its 15-85 spread stays of order 2 * 1.04
    assert np.all((spread_bn > 1.0) & (spread_bn < 3.0))
    # without BN the same unit's spread shrinks by orders of magnitude with depth (the ordered phase)
    assert spread[-1] < 1e-3 * spread[0]
    # the percentiles are ordered
    assert np.all(np.diff(with_bn, axis=1) >= 0) and np.all(np.diff(without, axis=1) >= 0)


def test_unit_percentiles_bad_input():
    cfg = NetworkConfig(activation="sigmoid", init="glorot_uniform", width=8, depth=2)
    with pytest.raises(SpecError):
        unit_input_percentiles(cfg, 1, batchnorm=True)
    with pytest.raises(SpecError):
        unit_input_percentiles(cfg, 10, batchnorm=True, unit=8)


def test_training_percentile_figure_draws_the_experiments_medians():
    from sims.experiments import bn_training

    res = bn_training.over_seeds(seeds=[0, 1], epochs=1, after=(10,))
    fig = F.plot_training_percentiles(res, "ru")
    ax_acc, ax_plain, ax_bn = fig.axes
    plain, bn = ax_acc.get_lines()[:2]
    np.testing.assert_array_equal(plain.get_ydata(), res["networks"]["plain"]["val_acc"]["median"])
    np.testing.assert_array_equal(bn.get_ydata(), res["networks"]["batchnorm"]["val_acc"]["median"])
    for ax, key in ((ax_plain, "plain"), (ax_bn, "batchnorm")):
        u = np.asarray(res["networks"][key]["units_median"])
        for k, line in enumerate(ax.get_lines()[:3]):
            np.testing.assert_array_equal(line.get_ydata(), u[:, k])
