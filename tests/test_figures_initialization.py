"""Initialization figures: both languages, byte-reproducible, numbers straight from theory, undrawable values masked."""
from __future__ import annotations

import re
import struct

import numpy as np
import pytest
import sympy as sp
from matplotlib.text import Text

from figures import common
from figures import initialization as F
from figures.cli import main
from theory.config import NetworkConfig
from theory.gains import gains_markdown, gains_table
from theory.init import SLIDE_UNIFORM_BOUNDS, get_init
from theory.meanfield import analyze, analyze_grid, critical_weight_var
from theory.predict import predict

NAMES = ("init-variance-depth", "meanfield-phase-tanh", "init-gains-table")
CYRILLIC = re.compile("[\u0400-\u04ff]")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, object]:
    out = {}
    for lang in common.LANGS:
        d = tmp_path_factory.mktemp(f"init-{lang}")
        assert main(["--only", *NAMES, "--out", str(d), "--lang", lang, "--fast", "--quiet"]) == 0
        out[lang] = d
    return out


@pytest.fixture(scope="module")
def fast_curves() -> list[F.DepthCurve]:
    return F.depth_curves(depth=F.FAST_DEPTH)


@pytest.fixture(scope="module")
def fast_figure(fast_curves):
    return F.plot_variance_depth(fast_curves, "en")


def _texts(fig) -> list[str]:
    """Every non-empty text of the figure, each artist once (findobj can reach one artist by two paths)."""
    found = {id(a): a for a in fig.findobj(Text)}
    return [a.get_text() for a in found.values() if a.get_text()]


# ------------------------------------------------------------------------------------------------ files
def test_registered_in_their_group():
    assert "figures.initialization" in common.MODULES
    reg = common.entries()
    assert {n for n, e in reg.items() if e.group == F.GROUP} == set(NAMES)


@pytest.mark.slow  # renders every figure of the group twice: CI's slow run
@pytest.mark.parametrize("lang", common.LANGS)
def test_each_figure_written_in_both_languages(rendered, lang):
    d = rendered[lang]
    want = {f"{common.stem(n, lang)}.{ext}" for n in NAMES for ext in ("png", "pdf")}
    want.add(f"{common.stem('init-gains-table', lang)}.md")
    assert {p.name for p in d.iterdir()} == want  # nothing else: no temporary files
    for name in NAMES:
        png = (d / f"{common.stem(name, lang)}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 400 and height >= 250 and len(png) > 20_000
        pdf = (d / f"{common.stem(name, lang)}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000 and b"/CreationDate" not in pdf
    md = (d / f"{common.stem('init-gains-table', lang)}.md").read_text(encoding="utf-8")
    assert md == gains_markdown(gains_table(F.FAST_GAINS), lang)


@pytest.mark.slow
def test_byte_identical_in_process(rendered, tmp_path):
    assert main(["--only", *NAMES, "--out", str(tmp_path), "--lang", "ru", "--fast", "--quiet"]) == 0
    for p in rendered["ru"].iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


# ------------------------------------------------------------------------------- variance through depth
def test_slide_inits_are_the_slides_bounds():
    for line, (title, bound, _) in zip(F.INITS, SLIDE_UNIFORM_BOUNDS):
        assert line.slide == title
        assert sp.simplify(get_init(line.spec).bound - bound) == 0, line.spec  # glorot_uniform: the slide's bound
    assert [line.spec for line in F.INITS] == ["uniform:1/sqrt(n_in)", "uniform:sqrt(6)/sqrt(n_in)",
                                               "glorot_uniform", "he_uniform"]


def test_curves_are_predicts_numbers(fast_curves):
    assert len(fast_curves) == len(F.ACTIVATIONS) * len(F.INITS)
    (c,) = F.depth_curves(activations=("relu",), inits=("he_uniform",), depth=F.FAST_DEPTH)
    layers = predict(NetworkConfig("relu", "he_uniform", F.WIDTH, F.FAST_DEPTH, F.BIAS_VAR, F.INPUT_VAR))["layers"]
    assert c.forward.values[19] == layers[19]["preact_var"]  # exactly: no arithmetic between theory and plot
    assert c.backward.values[19] == layers[19]["grad_var"]
    assert len(c.forward.runs) == 1 and np.array_equal(c.forward.runs[0][1], [r["preact_var"] for r in layers])
    # independent oracle: He keeps ReLU's variance at 2 = n_in Var(w) E[x^2] and the gradient at 1 (quadrature)
    np.testing.assert_allclose(c.forward.values, 2.0, rtol=1e-12)
    np.testing.assert_allclose(c.backward.values, 1.0, rtol=1e-12)
    for c in fast_curves:  # the default figure: nothing to mask at this depth, every layer drawn
        for s in (c.forward, c.backward):
            assert s.masked == () and len(s.runs) == 1 and np.array_equal(s.runs[0][0], np.arange(1, 21))


def test_plotted_arrays_are_finite_and_positive(fast_curves, fast_figure):
    lines = [ln for ax in fast_figure.axes for ln in ax.get_lines()]
    data = [ln for ln in lines if ln.get_linestyle() != ":"]  # the dotted reference lines are axhline
    assert len(data) == 2 * len(fast_curves)
    for ln in lines:
        y = np.asarray(ln.get_ydata(), dtype=float)
        assert np.isfinite(y).all() and (y > 0).all()


def test_coinciding_curves_are_said_to_coincide(fast_curves, fast_figure):
    """«Немного лучше»'s bound gives Var(w) = 2/n_in, He's: the two curves are the same and the legend says so."""
    by = {(c.config.activation, c.init.spec): c for c in fast_curves}
    for act in F.ACTIVATIONS:
        a, b = by[act, "uniform:sqrt(6)/sqrt(n_in)"], by[act, "he_uniform"]
        assert np.array_equal(a.forward.values, b.forward.values)
    texts = _texts(fast_figure)
    assert sum("the curves coincide" in t for t in texts) == 1
    assert any(r"\dfrac{1}{3 n_{in}}" in t and "«Плохая инициализация весов»" in t for t in texts)


def test_overflow_is_masked_and_annotated():
    """sigma_w^2 = 100 with ReLU: Var(h) grows by 50 per layer and overflows float64 at layer 182."""
    curves = F.depth_curves(activations=("relu",), inits=("normal:10/sqrt(n_in)",), depth=200)
    (c,) = curves
    assert c.prediction["diverged_at"] == 182
    raw = np.array([r["preact_var"] for r in c.prediction["layers"]])
    assert not np.isfinite(raw).all()  # negative control: plotted as is, this would draw inf
    assert c.forward.masked == (("overflow", 182, 182), ("nan", 183, 200))
    (x, y), = c.forward.runs
    assert np.array_equal(x, np.arange(1, 182)) and np.isfinite(y).all() and y.max() > 1e300
    assert c.backward.masked == (("nan", 1, 199),)  # predict's backward pass is NaN below an overflowed forward
    fig = F.plot_variance_depth(curves, "en")
    for ax in fig.axes:
        for ln in ax.get_lines():
            assert np.isfinite(np.asarray(ln.get_ydata(), dtype=float)).all()
        lo, hi = ax.get_ylim()
        assert 0 < lo < hi < np.inf
    texts = _texts(fig)
    assert "overflow (inf): layer 182\nNaN (undefined): layers 183–200" in texts
    assert "NaN (undefined): layers 1–199" in texts
    assert sum(t == "not drawn on the log axis" for t in texts) == 2
    fig.canvas.draw()  # drawing next to 1e308 raises no overflow warning (warnings are errors)


def test_underflow_is_masked_and_annotated():
    """Sigmoid with the «bad» bound: the gradient variance shrinks ~50x per layer and underflows to 0."""
    (c,) = F.depth_curves(activations=("sigmoid",), inits=(F.INITS[0],), depth=195)
    kind, first, last = c.backward.masked[0]
    assert (kind, first) == ("underflow", 1) and 1 <= last < 195 and len(c.backward.masked) == 1
    assert all(c.backward.values[:last] == 0.0) and c.backward.runs[0][0][0] == last + 1
    texts = _texts(F.plot_variance_depth([c], "ru"))
    assert f"исчезновение порядка (0): {'слой 1' if last == 1 else f'слои 1–{last}'}" in texts


def test_split_series_kinds():
    s = F.split_series([1, 2, 3, 4, 5, 6, 7, 8], [1.0, 1e-300, 0.0, 0.0, 5.0, np.inf, np.nan, 2.0])
    assert s.masked == (("underflow", 3, 4), ("overflow", 6, 6), ("nan", 7, 7))
    assert [list(x) for x, _ in s.runs] == [[1, 2], [5], [8]]


# ---------------------------------------------------------------------------------------- phase diagram
def test_phase_data_are_theorys_numbers():
    d = F.phase_data(n=F.FAST_GRID, n_critical=6)
    w, b = np.linspace(*F.WEIGHT_RANGE, F.FAST_GRID), np.linspace(*F.BIAS_RANGE, F.FAST_GRID)
    np.testing.assert_array_equal(d.grid.xi_c, analyze_grid("tanh", w, b).xi_c)  # NaN where NaN
    for bv, wv in zip(d.critical_bias, d.critical_weight):
        assert wv == critical_weight_var("tanh", float(bv))
    assert d.critical_weight[0] == 1.0  # (1, 0): the tanh critical point at zero bias
    for p, (wv, bv) in zip(d.points, F.MARKED):
        assert p == analyze("tanh", wv, bv)
    assert [p.phase for p in d.points] == ["ordered", "chaotic"]
    # the drawn array: capped at the cap, undefined (q* = 0, sigma_b^2 = 0, sigma_w^2 < 1) masked, never plotted
    xi = d.xi_display()
    assert xi.max() <= d.cap and np.isfinite(xi.compressed()).all()
    assert np.array_equal(np.ma.getmaskarray(xi), np.isnan(d.grid.xi_c))
    assert np.ma.getmaskarray(xi)[:, 0].any() and not np.ma.getmaskarray(xi)[:, 1:].any()
    # cross-check of two theory routes: the critical line separates chi_1 < 1 from chi_1 > 1 on the grid
    j = F.FAST_GRID // 2
    crit = critical_weight_var("tanh", float(b[j]))
    assert (d.grid.chi1[w < crit, j] < 1).all() and (d.grid.chi1[w > crit, j] > 1).all()


def test_phase_labels_in_both_languages():
    d = F.phase_data(n=10, n_critical=6)
    en, ru = (" | ".join(_texts(F.plot_phase(d, lang))) for lang in common.LANGS)
    for word in ("ordered", "chaotic", f"capped at {F.XI_CAP:g}"):
        assert word in en
    for word in ("упорядоченная", "хаотическая", f"обрезан на {F.XI_CAP:g}"):
        assert word in ru
    assert rf"\xi_c \approx {d.points[0].xi_c:.3g}" in en and not CYRILLIC.search(en)


# ------------------------------------------------------------------------------------------ gains table
def test_gain_cells_carry_the_rows_numbers():
    rows = gains_table(("relu", "tanh", "gelu"))
    cells = F.gains_cells(rows, "en")
    relu, tanh, gelu = cells
    assert relu[0] == "relu" and relu[1] == f"{rows[0]['forward_gain']:.4f} ($\\sqrt{{2}}$)"
    assert tanh[4] == f"{rows[1]['torch_gain']:.4f} ($\\frac{{5}}{{3}}$)"
    assert gelu[4] == "—" and "ValueError" in gelu[5]
    assert "equals the derived forward gain, backward gain, critical gain" in relu[5].replace("\n", " ")
    assert "chaotic" in tanh[5] and f"{rows[1]['torch_does']['chi1']:.4g}" in tanh[5]
    ru = F.gains_cells(rows, "ru")
    assert "хаотическая" in ru[1][5] and "не поддерживается" in ru[2][5]
