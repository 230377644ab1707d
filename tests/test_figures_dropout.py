"""Dropout figures: registered, both languages; the diagrams draw the masks they are given (dropped units crossed,
their edges removed), and the masks come from the seeded generator with the keep probability."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Circle

from figures import common
from figures import dropout as F
from figures.cli import main
from conftest import Z  # the suite's shared z (tests/conftest.py)

DIAGRAMS = ("dropout-network", "dropout-thinned")


def test_registered_in_their_group():
    assert "figures.dropout" in common.MODULES
    assert set(DIAGRAMS) <= {n for n, e in common.entries().items() if e.group == F.GROUP}


@pytest.mark.parametrize("lang", common.LANGS)
def test_diagrams_written_in_both_languages(tmp_path, lang):
    assert main(["--only", *DIAGRAMS, "--out", str(tmp_path), "--lang", lang, "--fast", "--quiet"]) == 0
    suffix = "" if lang == "en" else ".ru"
    for name in DIAGRAMS:
        assert (tmp_path / f"{name}{suffix}.png").stat().st_size > 1000


def _edges(layers, mask):
    alive = [np.ones(layers[0], bool), *mask, np.ones(layers[-1], bool)]
    return sum(int(alive[k].sum()) * int(alive[k + 1].sum()) for k in range(len(layers) - 1))


def test_diagram_draws_exactly_the_mask():
    layers = (3, 5, 4, 2)
    mask = [np.array([1, 0, 1, 1, 0], bool), np.array([0, 1, 1, 0], bool)]
    fig = common.new_figure()
    ax = fig.add_subplot()
    F.draw_network(ax, layers, mask)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == sum(layers)
    dropped = sum(int((~m).sum()) for m in mask)
    crosses = [ln for ln in ax.get_lines() if ln.get_color() == "#8b0000"]
    assert len(crosses) == 2 * dropped  # two strokes per dropped unit
    edges = [ln for ln in ax.get_lines() if ln.get_color() == F.EDGE]
    assert len(edges) == _edges(layers, mask)
    # negative control: the full network has more edges
    assert _edges(layers, [np.ones(5, bool), np.ones(4, bool)]) > len(edges)


def test_masks_are_bernoulli_keep_from_the_seed():
    a = F.masks_for((4, 50, 50, 2), keep=0.3, count=40, seed=1)
    b = F.masks_for((4, 50, 50, 2), keep=0.3, count=40, seed=1)
    assert all(np.array_equal(x, y) for ma, mb in zip(a, b) for x, y in zip(ma, mb))
    kept = np.concatenate([np.concatenate(m) for m in a]).astype(float)
    se = np.sqrt(0.3 * 0.7 / kept.size)
    assert abs(kept.mean() - 0.3) < Z * se
    assert abs(kept.mean() - 0.7) > Z * se  # negative control: 0.3 is the keep, not the drop, probability


def _errorbar_y(ax):
    from matplotlib.container import ErrorbarContainer
    return [np.asarray(c.lines[0].get_ydata(), dtype=float) for c in ax.containers
            if isinstance(c, ErrorbarContainer)]


def test_gap_figure_draws_ensemble_gap_numbers():
    from sims.dropout import ensemble_gap

    runs = F.gap_runs(units=(2, 4), keeps=(0.5, 0.8), seeds=4)
    ys = _errorbar_y(F.plot_gap(runs, "en").axes[0])
    assert len(ys) == 2
    np.testing.assert_array_equal(ys[0], [r["gap_abs_mean"] for r in runs[0.5]])
    # the oracle: ensemble_gap called directly with the run's arguments (run 1: keep 0.5, 4 units)
    direct = ensemble_gap(4, 0.5, "relu", seeds=4, rng_seed=F.SEED + 1)
    assert direct["gap_abs_mean"] == runs[0.5][1]["gap_abs_mean"]


def test_shift_figure_curve_is_the_theory_and_points_are_measured():
    from theory.dropout import variance_shift

    runs = F.shift_runs(keeps=(0.5, 1.0), replicas=2, steps=20)
    ax = F.plot_shift(runs, "ru").axes[0]
    curve = ax.get_lines()[0]
    p = np.asarray(curve.get_xdata())
    # relu(z), z ~ N(0, 1): c = 1/sqrt(2 pi), v = 1/2 - 1/(2 pi): the ratio is p (pi - 1)/(pi - p)
    np.testing.assert_allclose(curve.get_ydata(), p * (np.pi - 1) / (np.pi - p), rtol=1e-12)
    assert variance_shift(0.5, 1 / np.sqrt(2 * np.pi), 0.5 - 1 / (2 * np.pi)) == pytest.approx(
        0.5 * (np.pi - 1) / (np.pi - 0.5), rel=1e-12)
    np.testing.assert_array_equal(_errorbar_y(ax)[0], [r["ratio_mean"] for r in runs])
