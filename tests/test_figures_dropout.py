"""Dropout figures: registered, both languages; the diagrams draw the masks they are given (dropped units crossed,
their edges removed), and the masks come from the seeded generator with the keep probability."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Circle

from figures import common
from figures import dropout as F
from figures.cli import main

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
    assert abs(kept.mean() - 0.3) < 4.5 * se
    assert abs(kept.mean() - 0.7) > 4.5 * se  # negative control: 0.3 is the keep, not the drop, probability
