"""Monte Carlo figures: both languages, byte-reproducible, the drawn points are simulate's numbers, the curves
predict's, and layers a log axis cannot show (divergence, float32 underflow) are masked and said so."""
from __future__ import annotations

import math
import re
import struct

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.text import Text

from figures import common
from figures import montecarlo as M
from figures.cli import main
from sims.engine import simulate
from theory.config import NetworkConfig
from theory.predict import predict

NAMES = ("mc-variance-depth", "mc-activation-histograms", "mc-gradient-histograms", "mc-gradient-norm")
CYRILLIC = re.compile("[\u0400-\u04ff]")
#: a config that overflows float32 inside 30 layers: Var(h) grows x50 per layer (ReLU, Var(w) = 100/n_in)
DIVERGING = "normal:100/sqrt(n_in)"  # q x5000 per layer: float32 values overflow near layer 20
SMALL30 = M.Sizes(width=64, depth=30, batch=32, seeds=4)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, object]:
    out = {}
    for lang in common.LANGS:
        d = tmp_path_factory.mktemp(f"mc-{lang}")
        assert main(["--only", *NAMES, "--out", str(d), "--lang", lang, "--fast", "--quiet"]) == 0
        out[lang] = d
    return out


def _texts(fig) -> list[str]:
    found = {id(a): a for a in fig.findobj(Text)}
    return [a.get_text() for a in found.values() if a.get_text()]


def _errorbar_y(ax) -> list[np.ndarray]:
    return [np.asarray(c.lines[0].get_ydata(), dtype=float) for c in ax.containers
            if isinstance(c, ErrorbarContainer)]


def _same(run: M.MCRun, **extra) -> dict:
    """The oracle: simulate called directly with the run's config, sizes and seed."""
    s = run.sizes
    return simulate(run.config, s.batch, s.seeds, dtype=s.dtype, seed=run.seed, **extra)


# ------------------------------------------------------------------------------------------------ files
def test_registered_in_their_group():
    assert "figures.montecarlo" in common.MODULES
    reg = common.entries()
    assert {n for n, e in reg.items() if e.group == M.GROUP} == set(NAMES)


@pytest.mark.slow  # renders the four Monte Carlo figures twice (about 20 s): CI's slow run
@pytest.mark.parametrize("lang", common.LANGS)
def test_each_figure_written_in_both_languages(rendered, lang):
    d = rendered[lang]
    assert {p.name for p in d.iterdir()} == {f"{common.stem(n, lang)}.{e}" for n in NAMES for e in ("png", "pdf")}
    for name in NAMES:
        png = (d / f"{common.stem(name, lang)}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 400 and height >= 250 and len(png) > 20_000, name
        pdf = (d / f"{common.stem(name, lang)}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000 and b"/CreationDate" not in pdf, name


@pytest.mark.slow
def test_byte_identical_in_process(rendered, tmp_path):
    assert main(["--only", *NAMES, "--out", str(tmp_path), "--lang", "en", "--fast", "--quiet"]) == 0
    for p in rendered["en"].iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


# ------------------------------------------------------------------------------------- variance by depth
@pytest.fixture(scope="module")
def fast_runs() -> list[M.VarianceRun]:
    return M.variance_depth_runs(sizes=M.VARIANCE_FAST)


def test_variance_points_are_simulates_numbers(fast_runs):
    assert len(fast_runs) == len(M.ACTIVATIONS) * len(M.INITS)
    assert [r.run.seed for r in fast_runs] == list(range(M.SEED, M.SEED + len(fast_runs)))  # independent runs
    sz = M.VARIANCE_FAST
    assert fast_runs[5].run.config == NetworkConfig("relu", "uniform:sqrt(6)/sqrt(n_in)", sz.width, sz.depth, 0.0, 1.0)
    for r in (fast_runs[5], fast_runs[-1]):  # relu/«Немного лучше», linear/He
        oracle = _same(r.run)
        for stat in ("preact_var", "grad_var"):
            for got, want in zip(r.run.summary[stat], oracle["summary"][stat]):
                assert np.array_equal(got, want)  # exactly: nothing between the engine and the figure
        layers = predict(r.run.config)["layers"]
        assert np.array_equal(r.forward_theory.values, [x["preact_var"] for x in layers])
        assert np.array_equal(r.backward_theory.values, [x["grad_var"] for x in layers])
        assert np.array_equal(r.forward.mean, oracle["summary"]["preact_var"][0])
    # the drawn points: the drawn layers' means, in the order of the runs, in each panel
    fig = M.plot_variance_depth(fast_runs, "en")
    acts = list(M.ACTIVATIONS)
    for j, act in enumerate(acts):
        panel = [r for r in fast_runs if r.run.config.activation == act]
        for i, attr in enumerate(("forward", "backward")):
            drawn = _errorbar_y(fig.axes[i * len(acts) + j])
            want = [getattr(r, attr).mean[getattr(r, attr).drawn] for r in panel]
            assert len(drawn) == len(want) and all(np.array_equal(a, b) for a, b in zip(drawn, want))


def test_masked_values_are_never_drawn(fast_runs):
    fig = M.plot_variance_depth(fast_runs, "ru")
    for ax in fig.axes:
        lo, hi = ax.get_ylim()
        assert 0 < lo < hi < np.inf
        for ln in ax.get_lines():
            y = np.asarray(ln.get_ydata(), dtype=float)
            assert np.isfinite(y).all() and (y > 0).all()
    texts = " | ".join(_texts(fig))
    assert "Монте-Карло" in texts and "слой $l$" in texts


def test_divergence_is_masked_and_annotated():
    runs = M.variance_depth_runs(("relu",), (DIVERGING, "glorot_uniform"), SMALL30)
    bad, good = runs
    d = bad.run.result["diverged_at"]
    assert d is not None and 1 < d < SMALL30.depth and good.run.result["diverged_at"] is None
    mean = bad.run.summary["preact_var"][0]
    assert np.isnan(mean[d - 1:]).all() and np.isfinite(mean[:d - 1]).all()  # negative control: raw would be NaN
    assert bad.forward.masked == (("diverged", d, SMALL30.depth),)
    assert bad.backward.masked == (("no_backward", 1, SMALL30.depth),)
    assert np.array_equal(bad.forward.layers[bad.forward.drawn], np.arange(1, d))
    assert not bad.backward.drawn.any() and good.forward.drawn.all() and good.backward.drawn.all()
    fig = M.plot_variance_depth(runs, "en")
    fwd, bwd = fig.axes[0], fig.axes[1]
    assert [len(y) for y in _errorbar_y(fwd)] == [d - 1, SMALL30.depth]  # the good run: every layer
    assert [len(y) for y in _errorbar_y(bwd)] == [0, SMALL30.depth]
    for ax in fig.axes:
        for y in _errorbar_y(ax) + [np.asarray(ln.get_ydata(), dtype=float) for ln in ax.get_lines()]:
            assert np.isfinite(y).all() and (y > 0).all()
    texts = _texts(fig)
    k = bad.run.result["diverged_networks"]
    assert f"MC diverged (float32 overflow\nin {k} of {SMALL30.seeds} networks):\nlayers {d}–{SMALL30.depth}" in texts
    assert f"MC: no backward pass\nafter the divergence:\nlayers 1–{SMALL30.depth}" in texts
    assert sum(t == "not drawn on the log axis" for t in texts) == 2
    fig.canvas.draw()  # no warning drawing it (warnings are errors)


def test_float32_underflow_is_masked():
    """Sigmoid, Var(w) = 1/(3 n_in): E[delta^2] shrinks ~48x per layer; below float32's smallest normal number the
    engine's float32 squares have lost their precision (or are 0), so those layers are left out and said so."""
    (r,) = M.variance_depth_runs(("sigmoid",), (M.INITS[0],), SMALL30)
    tiny = np.finfo(np.float32).tiny
    p = r.backward
    kind, first, last = p.masked[0]
    assert (kind, first) == ("underflow", 1) and len(p.masked) == 1 and last < SMALL30.depth
    assert (p.mean[:last] < tiny).all() and (p.mean[last:] >= tiny).all()
    assert np.array_equal(p.drawn, p.layers > last)
    # the theory (float64) is still drawn there: the mask is the MC's, not the curve's
    assert r.backward_theory.masked == () and r.backward_theory.values[0] < tiny
    texts = _texts(M.plot_variance_depth([r], "ru"))
    where = "слой 1" if last == 1 else f"слои 1–{last}"
    tiny_ru = f"{tiny:.2g}".replace(".", ",")  # Russian takes a decimal comma
    assert f"МК ниже нормального\nдиапазона float32 (< {tiny_ru}):\n{where}" in texts


# ------------------------------------------------------------------------------------------- histograms
def test_histograms_are_the_engines_samples():
    rows = M.histogram_rows(M.ACTIVATION_PAIRS, "post", M.HIST_FAST, M.FAST_BINS)
    assert [r.activation for r in rows] == ["tanh", "relu"]
    assert [r.slide for r in rows] == ["Симметричный случай", "Несимметричный случай"]
    assert [[h.init.spec for h in r.panels] for r in rows] == [["uniform:1/sqrt(n_in)", "glorot_uniform"],
                                                               ["glorot_uniform", "he_uniform"]]
    s = M.HIST_FAST
    h = rows[1].panels[1]  # relu, He
    oracle = _same(h.run, samples_per_layer=s.batch * s.width)
    assert len(h.values) == s.depth
    for got, want in zip(h.values, oracle["samples"]["post"]):
        assert got.size == s.seeds * s.batch * s.width and np.array_equal(got, want)
    for v, d, atom, sd in zip(h.values, h.density, h.atom, h.sd):
        # the ReLU atom at 0 is split off and counted exactly; the curve holds the positive values in range
        assert atom == np.mean(v == 0.0) and 0.4 < atom < 0.6
        inside = np.count_nonzero((v > 0) & (v <= h.edges[-1]))
        assert np.sum(d * np.diff(h.edges)) * v.size == pytest.approx(inside, rel=1e-12)
        assert sd == np.std(v)
    assert rows[0].panels[0].atom == (0.0,) * s.depth  # tanh: no atom
    assert rows[0].panels[0].edges[0] == -rows[0].panels[0].edges[-1]  # symmetric bins for a symmetric sample
    assert np.array_equal(rows[0].panels[0].edges, rows[0].panels[1].edges)  # shared along the row


def test_gradient_histograms_carry_theory_sd():
    (row,) = M.histogram_rows(M.GRADIENT_PAIRS, "grad", M.HIST_FAST, M.FAST_BINS)
    h = row.panels[0]
    oracle = _same(h.run, samples_per_layer=M.HIST_FAST.batch * M.HIST_FAST.width)
    assert all(np.array_equal(a, b) for a, b in zip(h.values, oracle["samples"]["grad"]))
    texts = _texts(M.plot_histograms([row], "en"))
    th = math.sqrt(predict(h.run.config)["layers"][0]["grad_var"])
    assert f"layer 1: sd {h.sd[0]:.3g} (theory {th:.3g})" in texts
    # bad init: the gradient shrinks towards the input; the histograms say so (sd grows with the layer)
    assert list(h.sd) == sorted(h.sd)


# ---------------------------------------------------------------------------------------- gradient norm
def test_gradient_norm_points_and_theory():
    runs = M.gradient_norm_runs(sizes=M.NORM_FAST)
    assert [(r.regime, r.run.config.activation) for r in runs] == [("vanishing", "sigmoid"), ("exploding", "relu")]
    for r in runs:
        oracle = _same(r.run)
        assert np.array_equal(r.points.mean, oracle["summary"]["grad_var"][0])
        assert np.array_equal(r.points.se, oracle["summary"]["grad_var"][1])
        assert np.array_equal(r.theory.values, np.sqrt([x["grad_var"] for x in predict(r.run.config)["layers"]]))
    vanish, explode = runs
    assert vanish.factor < 0.25  # sigmoid' <= 1/4 with n_in Var(w) = 1 («Паралич сети»)
    # independent oracle: ReLU with Var(w) = 4/n_in multiplies E[delta^2] by n Var(w) E[1{h>0}] = 2 per layer
    assert explode.factor == pytest.approx(math.sqrt(2.0), rel=1e-12)
    fig = M.plot_gradient_norm(runs, "en")
    for ax, r in zip(fig.axes, runs):
        (y,) = _errorbar_y(ax)
        assert np.array_equal(y, np.sqrt(r.points.mean[r.points.drawn]))
    assert "RMS gradient per unit $\\sqrt{E[\\delta_l^2]}$" in _texts(fig)


def test_russian_text_differs():
    runs = M.gradient_norm_runs(sizes=M.NORM_FAST)
    en, ru = (_texts(M.plot_gradient_norm(runs, lang)) for lang in common.LANGS)
    assert not any(CYRILLIC.search(t) for t in en if "«" not in t)  # slide titles are quoted as in the seed
    assert sum(bool(CYRILLIC.search(t)) for t in ru) >= 6


# ------------------------------------------------------------------------------------- the finite-width curve
def test_the_finite_width_curve_is_drawn_exactly_where_it_differs_from_width_infinity_by_more_than_a_se(fast_runs):
    """The first order in 1/width at the simulated width (theory.fluctuations, Gaussian inputs as the engine) is
    drawn on the forward panels at the layers where |K + d - K| > SE of the Monte Carlo, and nowhere else; ReLU
    with C_b = 0 has d = 0 at every width (its mean is exact), so it never shows."""
    from theory.fluctuations import for_config

    sizes = M.Sizes(width=16, depth=8, batch=16, seeds=64)
    runs = M.variance_depth_runs(activations=("tanh", "relu"), inits=M.INITS[2:3], sizes=sizes)
    for r in runs + fast_runs:
        values = np.array([x["preact_var_finite"] for x in for_config(r.run.config)])
        assert np.array_equal(r.finite.values, values)
        gap = np.abs(values - r.run.theory("preact_var"))
        assert np.array_equal(r.finite.shown, r.forward.drawn & (gap > r.forward.se))
        if r.run.config.activation == "relu":
            assert not r.finite.shown.any() and np.all(gap < 1e-12 * values)
    tanh = runs[0]
    assert tanh.finite.shown.any()  # glorot tanh at width 16: the correction exceeds the SE of 64 networks
    fig = M.plot_variance_depth(runs, "en")
    dotted = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
    assert np.array_equal(np.concatenate([ln.get_xdata() for ln in dotted]), np.flatnonzero(tanh.finite.shown) + 1)
    assert np.array_equal(np.concatenate([ln.get_ydata() for ln in dotted]), tanh.finite.values[tanh.finite.shown])
    assert not [ln for ln in fig.axes[2].get_lines() if ln.get_linestyle() == ":"]  # the backward panel: none
    texts = " | ".join(_texts(fig))
    assert "first order in 1/width at width 16, where it differs" in texts
    shown = np.flatnonzero(tanh.finite.shown) + 1  # the key names the layers drawn, run by run of consecutive ones
    spans, start = [], shown[0]
    for a, b in zip(shown, list(shown[1:]) + [None]):
        if b != a + 1:
            spans.append(f"layer {a}" if a == start else f"layers {start}–{a}")
            start = b
    assert f"(tanh, glorot_uniform: {', '.join(spans)})" in texts
    none = M.plot_variance_depth([runs[1]], "ru")  # ReLU alone: nothing shown, and the key says so
    assert "в пределах стандартной ошибки от линии на каждом слое (не нарисован)" in " | ".join(_texts(none))
