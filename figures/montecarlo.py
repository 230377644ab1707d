"""Monte Carlo figures: the engine's finite networks beside the mean-field theory (slides «Инициализация весов»,
«Симметричный случай», «Несимметричный случай», «Паралич сети»; Glorot & Bengio 2010, Figs. 6 and 7).

* ``mc-variance-depth``: Var(h_l) = E[h_l^2] (forward) and Var(delta_l) = E[delta_l^2] (backward) by layer, Monte
  Carlo mean +- standard error across independent networks (:func:`sims.engine.simulate`) over the curves of
  :func:`theory.predict.predict` for the same :class:`theory.config.NetworkConfig`; the slides' inits x four
  activations. The forward panels add the first order in 1/width at the simulated width
  (:func:`theory.fluctuations.for_config`) on the layers where it differs from the width-infinity curve by more
  than a standard error (:class:`FiniteWidthCurve`); the key says when no layer does.
* ``mc-activation-histograms``: normalized histograms of the post-activations phi(h_l), one line per layer, for tanh
  (symmetric) and ReLU (not symmetric), a badly scaled init beside a well scaled one.
* ``mc-gradient-histograms``: the same for the back-propagated gradients delta_l = dL/dh_l of tanh networks.
* ``mc-gradient-norm``: the RMS gradient sqrt(E[delta_l^2]) by layer, vanishing (deep sigmoid) and exploding
  (ReLU with Var(w) = 4/n_in), Monte Carlo with error bars over the theory.

Every number comes from ``simulate`` or ``predict``: the data functions (:func:`variance_depth_runs`,
:func:`histogram_rows`, :func:`gradient_norm_runs`) run them and keep their output unchanged; the ``plot_*``
functions only draw. Values a log axis cannot show are never drawn: layers at or after a divergence (the engine
reports NaN there), and second moments below the working dtype's smallest normal number, where the engine's
float32 squares have lost their precision (or are 0); the panel says which layers were left out and why.
Run k of a figure uses seed ``SEED + k``, so the points of different curves are independent experiments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredText

from figures.common import new_figure, register, save, style, text
from figures.initialization import ACTIVATIONS, INITS, InitLine, Series, decade_ticks, init_label, log_limits
from figures.initialization import mask_note as _theory_mask_note
from figures.initialization import split_series
from sims.engine import simulate
from theory.activations import get_activation
from theory.config import NetworkConfig
from theory.predict import predict

GROUP = "montecarlo"
SEED = 0
BIAS_VAR, INPUT_VAR = 0.0, 1.0


@dataclass(frozen=True)
class Sizes:
    """Size of one Monte Carlo experiment: network width and depth, inputs per network, networks, precision."""

    width: int
    depth: int
    batch: int
    seeds: int
    dtype: str = "float32"


@dataclass(frozen=True)
class MCRun:
    """One ``simulate`` call and the ``predict`` of the same config; ``result`` is simulate's dict, untouched."""

    config: NetworkConfig
    sizes: Sizes
    seed: int
    result: dict
    prediction: dict

    @property
    def summary(self) -> dict:
        """simulate's ``summary``: statistic -> (mean, SE) per layer across the independent networks."""
        return self.result["summary"]

    def theory(self, stat: str) -> np.ndarray:
        """predict's per-layer values of ``stat`` (``preact_var``, ``grad_var``, ...) as a float64 array, layer 1
        first."""
        return np.array([row[stat] for row in self.prediction["layers"]], dtype=np.float64)


def mc_run(config: NetworkConfig, sizes: Sizes, seed: int, samples_per_layer: int = 0) -> MCRun:
    """``simulate(config, batch, seeds, dtype=, seed=, samples_per_layer=)`` and ``predict(config)``."""
    res = simulate(config, sizes.batch, sizes.seeds, dtype=sizes.dtype, seed=seed,
                   samples_per_layer=samples_per_layer)
    return MCRun(config, sizes, seed, res, predict(config))


def _config(activation: str, init: str, sizes: Sizes) -> NetworkConfig:
    return NetworkConfig(activation=activation, init=init, width=sizes.width, depth=sizes.depth, bias_var=BIAS_VAR,
                         input_var=INPUT_VAR)


# ------------------------------------------------------------------------------------------ MC points
@dataclass(frozen=True)
class MCPoints:
    """MC means and standard errors of one statistic; ``drawn`` marks the layers a log axis can show.

    ``masked``: (kind, first layer, last layer) for each maximal stretch of left-out layers, kind "diverged"
    (NaN at and after the first diverged layer), "no_backward" (the gradient of a run whose forward pass diverged:
    the engine runs no backward pass) or "underflow" (mean below the dtype's smallest normal number, 0 included).
    """

    layers: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    drawn: np.ndarray
    masked: tuple[tuple[str, int, int], ...]


def mc_points(run: MCRun, stat: str) -> MCPoints:
    """simulate's (mean, SE) of ``stat``, unchanged, and which layers can be drawn (see :class:`MCPoints`)."""
    mean, se = run.summary[stat]
    layers = np.arange(1, run.config.depth + 1)
    tiny = float(np.finfo(run.sizes.dtype).tiny)
    kinds = []
    for v in mean:
        if not math.isfinite(v):
            kinds.append("no_backward" if stat == "grad_var" and run.result["diverged_at"] is not None
                         else "diverged")
        elif v < tiny:
            kinds.append("underflow")
        else:
            kinds.append(None)
    masked, start = [], 0
    for i in range(1, len(kinds) + 1):
        if i == len(kinds) or kinds[i] != kinds[start]:
            if kinds[start] is not None:
                masked.append((kinds[start], int(layers[start]), int(layers[i - 1])))
            start = i
    drawn = np.array([k is None for k in kinds], dtype=bool)
    return MCPoints(layers, mean, se, drawn, tuple(masked))


def _where(a: int, b: int, lang: str) -> str:
    return text("layer_one", lang, a=a) if a == b else text("layer_range", lang, a=a, b=b)


def _mc_mask_note(run: MCRun, p: MCPoints, lang: str) -> str:
    parts = []
    for kind, a, b in p.masked:
        fmt = {"where": _where(a, b, lang)}
        if kind == "diverged":
            fmt.update(dtype=run.sizes.dtype, k=run.result["diverged_networks"], s=run.sizes.seeds)
        elif kind == "underflow":
            fmt.update(dtype=run.sizes.dtype, tiny=f"{float(np.finfo(run.sizes.dtype).tiny):.2g}")
        parts.append(text(f"mc_{kind}", lang, **fmt))
    return "\n".join(parts)


CORNERS = ("upper left", "upper right", "lower left", "lower right")


def _axes_points(ax, xs, ys, per_segment: int = 8) -> np.ndarray:
    """Polylines (xs[k], ys[k]) in data coordinates -> points along them in axes fraction (limits must be set)."""
    out = []
    for x, y in zip(xs, ys):
        xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
        xy = xy[np.isfinite(xy).all(axis=1) & ((xy[:, 1] > 0) if ax.get_yscale() == "log" else True)]
        if not len(xy):
            continue
        u = ax.transAxes.inverted().transform(ax.transData.transform(xy))
        if len(u) > 1:  # the segments between the vertices count too
            t = np.linspace(0.0, 1.0, per_segment, endpoint=False)
            u = np.vstack([(u[:-1, None, :] + t[None, :, None] * np.diff(u, axis=0)[:, None, :]).reshape(-1, 2),
                           u[-1:]])
        out.append(u)
    return np.vstack(out) if out else np.empty((0, 2))


def _place(ax, build, xs, ys, corners=CORNERS):
    """``build(loc)`` in the corner of ``ax`` whose box covers the fewest points of the polylines (xs, ys)."""
    pts = _axes_points(ax, xs, ys)
    best = None
    for loc in corners:
        artist = build(loc)
        bb = artist.get_window_extent().transformed(ax.transAxes.inverted()).padded(0.02)
        n = int(((pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1)).sum())
        if best is None or n < best[0]:
            if best is not None:
                best[1].remove()
            best = (n, artist)
        else:
            artist.remove()
        if n == 0:
            break
    return best[1]


def _errorbars(ax, p: MCPoints, color: str, marker: str, markersize: float = 5.0):
    """MC mean +- SE at the drawn layers; the lower bar stops at the axis bottom if mean - SE <= 0 (log axis)."""
    x, y, se = p.layers[p.drawn], p.mean[p.drawn], p.se[p.drawn]
    lo = np.minimum(se, y - ax.get_ylim()[0] * 0.5) if len(y) else se
    return ax.errorbar(x, y, yerr=np.vstack([np.maximum(lo, 0.0), se]), fmt=marker, color=color,
                       markersize=markersize, markerfacecolor="white" if marker != "x" else color,
                       markeredgewidth=1.4, elinewidth=1.2, capsize=0, linestyle="none", zorder=4)


# ------------------------------------------------------------------------------------ variance by depth
VARIANCE_SIZES = Sizes(width=256, depth=30, batch=128, seeds=8)
VARIANCE_FAST = Sizes(width=64, depth=10, batch=32, seeds=4)
MARKERS = {"uniform:1/sqrt(n_in)": "o", "uniform:sqrt(6)/sqrt(n_in)": "s", "glorot_uniform": "D", "he_uniform": "x"}


@dataclass(frozen=True)
class VarianceRun:
    """One (activation, init) of ``mc-variance-depth``: the run, predict's forward and backward curves cut for a log
    axis (:class:`Series`) and the Monte Carlo points (:class:`MCPoints`)."""

    run: MCRun
    init: InitLine
    forward_theory: Series
    backward_theory: Series
    forward: MCPoints
    backward: MCPoints
    finite: "FiniteWidthCurve | None" = None


@dataclass(frozen=True)
class FiniteWidthCurve:
    """The first order in 1/width at the simulated width (:func:`theory.fluctuations.for_config`, Gaussian inputs as
    the engine draws them): ``values`` = K_l + d_l by layer; ``shown`` marks the layers where it differs from the
    width-infinity K_l by more than the Monte Carlo's standard error (and both are drawn), the only layers where a
    reader could tell the two curves apart."""

    values: np.ndarray
    shown: np.ndarray


def finite_width_curve(run: MCRun, points: MCPoints) -> FiniteWidthCurve | None:
    """:class:`FiniteWidthCurve` of a run, or None where the first order has no value (a kernel that underflows to 0
    or overflows: :class:`theory.errors.SpecError`)."""
    from theory.errors import SpecError
    from theory.fluctuations import for_config

    try:
        rows = for_config(run.config)
    except SpecError:
        return None
    values = np.array([r["preact_var_finite"] for r in rows], dtype=np.float64)
    kernel = run.theory("preact_var")
    with np.errstate(invalid="ignore"):
        shown = points.drawn & np.isfinite(values) & (np.abs(values - kernel) > points.se)
    return FiniteWidthCurve(values, shown)


def variance_depth_runs(activations=ACTIVATIONS, inits=INITS, sizes: Sizes = VARIANCE_SIZES,
                        seed: int = SEED) -> list[VarianceRun]:
    """``simulate`` and ``predict`` for every activation x init (activation-major); run k uses ``seed + k``."""
    out = []
    for act in activations:
        for line in inits:
            line = line if isinstance(line, InitLine) else InitLine(line, "", "#555555")
            run = mc_run(_config(act, line.spec, sizes), sizes, seed + len(out))
            layers = np.arange(1, sizes.depth + 1)
            forward = mc_points(run, "preact_var")
            out.append(VarianceRun(run, line, split_series(layers, run.theory("preact_var")),
                                   split_series(layers, run.theory("grad_var")),
                                   forward, mc_points(run, "grad_var"), finite_width_curve(run, forward)))
    return out


def _init_handle(line: InitLine):
    return (Line2D([], [], color=line.color, linestyle=line.linestyle, linewidth=line.linewidth),
            Line2D([], [], color=line.color, marker=MARKERS.get(line.spec, "o"), linestyle="none",
                   markerfacecolor="white" if MARKERS.get(line.spec, "o") != "x" else line.color,
                   markeredgewidth=1.4))


def _same_var(runs: list[VarianceRun]) -> dict[str, InitLine]:
    """init spec -> an earlier init with the same per-layer weight variances (the same theory curve), if any."""
    first, out = {}, {}
    for r in runs:
        key = tuple(r.run.config.weight_vars())
        earlier = first.setdefault(key, r.init)
        if earlier.spec != r.init.spec:
            out.setdefault(r.init.spec, earlier)
    return out


FINITE_STYLE = {"linestyle": ":", "linewidth": 1.6, "marker": "_", "markersize": 9, "markeredgewidth": 1.6}


def _key_handles(lang: str, seeds: int, width: int | None = None, finite_where: str = ""):
    """The keys of the theory line and the MC points; with ``width``, the finite-width curve's and where it is drawn
    (``finite_where``; empty: nowhere, and the key says so)."""
    theory = Line2D([], [], color="0.3", linewidth=2.2)
    mc = Line2D([], [], color="0.3", marker="o", markerfacecolor="white", markeredgewidth=1.4, linestyle="none")
    handles, labels = [theory, mc], [text("mc_theory_key", lang), text("mc_points_key", lang, seeds=seeds)]
    if width is not None:
        handles.append(Line2D([], [], color="0.3", **FINITE_STYLE) if finite_where else Line2D([], [], alpha=0))
        labels.append(text("mc_finite_key", lang, width=width, where=finite_where) if finite_where
                      else text("mc_finite_none", lang, width=width))
    return handles, labels


def _finite_where(runs: list["VarianceRun"], lang: str) -> str:
    """Where the finite-width curve is drawn: "tanh, glorot_uniform: layers 20–30; ..." (empty: nowhere)."""
    parts = []
    for r in runs:
        if r.finite is None or not r.finite.shown.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], r.finite.shown.astype(np.int8), [0]])))
        spans = ", ".join(_where(int(a) + 1, int(b), lang) for a, b in zip(edges[::2], edges[1::2]))
        parts.append(f"{get_activation(r.run.config.activation).name}, {r.init.spec}: {spans}")
    return "; ".join(parts)


def _draw_finite(ax, r: "VarianceRun", color: str) -> bool:
    """The first order at the run's width on the layers where it is told apart from width infinity (runs of
    consecutive layers as lines, a lone layer as a tick); True if anything was drawn."""
    f = r.finite
    if f is None or not f.shown.any():
        return False
    layers = np.arange(1, len(f.values) + 1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], f.shown.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):  # [a, b): one run of consecutive shown layers
        ax.plot(layers[a:b], f.values[a:b], color=color, zorder=3.5, **FINITE_STYLE)
    return True


def plot_variance_depth(runs: list[VarianceRun], lang: str):
    """2 rows (forward, backward) x one column per activation; log y; theory lines and MC points per init."""
    acts = list(dict.fromkeys(r.run.config.activation for r in runs))
    same = _same_var(runs)
    sz = runs[0].run.sizes
    with style():
        fig = new_figure((max(4.3 * len(acts) + 0.6, 13.0), 10.6))
        axes = fig.subplots(2, len(acts), sharex=True, squeeze=False)
        handles: dict[str, tuple] = {}
        for j, act in enumerate(acts):
            panel = [r for r in runs if r.run.config.activation == act]
            for i, (th, mc, ylab) in enumerate((("forward_theory", "forward", "forward_ylabel"),
                                                ("backward_theory", "backward", "backward_ylabel"))):
                ax = axes[i, j]
                ax.set_yscale("log")
                ax.set_xlim(0.3, sz.depth + 0.7)
                values = [y for r in panel for _, y in getattr(r, th).runs]
                for r in panel:
                    p: MCPoints = getattr(r, mc)
                    values += [p.mean[p.drawn] + p.se[p.drawn]] if p.drawn.any() else []
                    values += [p.mean[p.drawn]] if p.drawn.any() else []
                ax.set_ylim(*log_limits(values))  # set first: matplotlib's log autoscale overflows near 1e308
                notes, xs, ys = [], [], []
                for r in panel:
                    line, s, p = r.init, getattr(r, th), getattr(r, mc)
                    xs += [x for x, _ in s.runs] + [p.layers[p.drawn]]
                    ys += [y for _, y in s.runs] + [p.mean[p.drawn]]
                    for x, y in s.runs:
                        ax.plot(x, y, color=line.color, linestyle=line.linestyle, linewidth=line.linewidth,
                                alpha=0.75, zorder=3)
                    _errorbars(ax, p, line.color, MARKERS.get(line.spec, "o"))
                    if i == 0:
                        _draw_finite(ax, r, line.color)
                    label = init_label(line, same.get(line.spec), lang)
                    handles.setdefault(label, _init_handle(line))
                    note = "\n".join(t for t in (_theory_note(s, lang), _mc_mask_note(r.run, p, lang)) if t)
                    if note:
                        notes.append((_init_handle(line), note))
                decade_ticks(ax)
                if notes:
                    def build(loc, ax=ax, notes=notes):
                        leg = Legend(ax, [h for h, _ in notes], [t for _, t in notes], loc=loc, fontsize=9,
                                        alignment="left", title=text("not_drawn", lang), title_fontsize=9.5,
                                        framealpha=0.95, handlelength=2.4,
                                        handler_map={tuple: HandlerTuple(ndivide=None)})
                        leg.set_zorder(6)
                        return ax.add_artist(leg)  # not ax.legend: that would replace the axes' one legend
                    _place(ax, build, xs, ys)
                if i == 0:
                    ax.set_title(get_activation(act).name, fontsize=15)
                else:
                    ax.set_xlabel(text("layer_xlabel", lang))
                if j == 0:
                    ax.set_ylabel(text(ylab, lang))
        kh, kl = _key_handles(lang, sz.seeds, sz.width, _finite_where(runs, lang))
        fig.legend(list(handles.values()) + kh, list(handles) + kl, loc="outside lower center", ncols=2,
                   frameon=False, fontsize=11, handlelength=3.0, handler_map={tuple: HandlerTuple(ndivide=None)})
        fig.suptitle(text("mc_title_variance", lang, width=sz.width, depth=sz.depth, batch=sz.batch,
                          seeds=sz.seeds, dtype=sz.dtype), fontsize=15.5)
    return fig


def _theory_note(s: Series, lang: str) -> str:
    note = _theory_mask_note(s, lang)
    return text("mc_theory_prefix", lang, note=note) if note else ""


@register("mc-variance-depth", GROUP,
          "Monte Carlo Var(h_l), Var(delta_l) by layer (mean +- SE over networks) over the mean-field curves")
def make_variance_depth(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``mc-variance-depth``: :func:`plot_variance_depth` of :func:`variance_depth_runs` at
    :data:`VARIANCE_SIZES` (``fast``: :data:`VARIANCE_FAST`); returns the written PNG and PDF."""
    runs = variance_depth_runs(sizes=VARIANCE_FAST if fast else VARIANCE_SIZES)
    return save(plot_variance_depth(runs, lang), out_dir, "mc-variance-depth", lang, fast)


# ------------------------------------------------------------------------------------------- histograms
HIST_SIZES = Sizes(width=256, depth=5, batch=256, seeds=4)
HIST_FAST = Sizes(width=64, depth=5, batch=64, seeds=2)
BINS, FAST_BINS = 81, 41
TAIL = 1e-4  # the bins span the widest layer's [TAIL, 1 - TAIL] quantiles (see _edges)
#: (activation, slide, (badly scaled init, well scaled init)); slide titles exactly as in the seed
ACTIVATION_PAIRS = (
    ("tanh", "Симметричный случай", (INITS[0], INITS[2])),
    ("relu", "Несимметричный случай", (INITS[2], INITS[3])),
)
GRADIENT_PAIRS = (("tanh", "", (INITS[0], INITS[2])),)


@dataclass(frozen=True)
class Histogram:
    """Normalized histograms of one run's samples, one per layer.

    ``density[l]``: counts of the continuous part / (all samples x bin width), so a curve's area is the fraction of
    samples it shows; ``atom[l]``: the fraction of samples exactly 0 (ReLU's dead half), left out of the curve when
    it is at least ``ATOM_MIN``; ``sd[l]``: the samples' standard deviation (all samples); ``theory_sd[l]``: for
    gradients, sqrt of predict's Var(delta_l) (None for post-activations, which predict does not give).
    """

    run: MCRun
    init: InitLine
    kind: str
    values: tuple[np.ndarray, ...]
    edges: np.ndarray
    density: tuple[np.ndarray, ...]
    atom: tuple[float, ...]
    sd: tuple[float, ...]
    theory_sd: tuple[float, ...] | None

    @property
    def centers(self) -> np.ndarray:
        """The bin centres (edges[k] + edges[k + 1]) / 2, one per density value."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])


ATOM_MIN = 1e-3


@dataclass(frozen=True)
class HistogramRow:
    """One row of a histogram figure: the activation, its slide title ('' for none) and one :class:`Histogram` per
    init."""

    activation: str
    slide: str
    panels: tuple[Histogram, ...]


def _atom_split(v: np.ndarray) -> tuple[np.ndarray, float]:
    atom = float(np.mean(v == 0.0)) if v.size else 0.0
    return (v[v != 0.0], atom) if atom >= ATOM_MIN else (v, 0.0)


def _edges(layers: list[np.ndarray], bins: int) -> np.ndarray:
    """Bins over the widest layer's [TAIL, 1 - TAIL] quantiles; symmetric about 0 when they straddle it."""
    qs = np.array([np.quantile(v, [TAIL, 1.0 - TAIL]) for v in layers if v.size])
    lo, hi = float(qs[:, 0].min()), float(qs[:, 1].max())
    if lo < 0.0 < hi:
        a = max(-lo, hi)
        lo, hi = -a, a
    elif lo >= 0.0:
        lo = 0.0
    return np.linspace(lo, hi, bins + 1)


def histogram_rows(pairs=ACTIVATION_PAIRS, kind: str = "post", sizes: Sizes = HIST_SIZES, bins: int = BINS,
                   seed: int = SEED) -> list[HistogramRow]:
    """Runs with ``samples_per_layer = batch x width`` (every value of each network); bins shared along a row."""
    rows, k = [], 0
    for act, slide, inits in pairs:
        runs = []
        for line in inits:
            runs.append((line, mc_run(_config(act, line.spec, sizes), sizes, seed + k,
                                      samples_per_layer=sizes.batch * sizes.width)))
            k += 1
        split = [[_atom_split(v) for v in run.result["samples"][kind]] for _, run in runs]
        edges = _edges([c for panel in split for c, _ in panel], bins)
        width = np.diff(edges)
        panels = []
        for (line, run), panel in zip(runs, split):
            vals = tuple(run.result["samples"][kind])
            dens = tuple(np.histogram(c, bins=edges)[0] / (v.size * width) for (c, _), v in zip(panel, vals))
            theory_sd = tuple(math.sqrt(g) for g in run.theory("grad_var")) if kind == "grad" else None
            panels.append(Histogram(run, line, kind, vals, edges, dens, tuple(a for _, a in panel),
                                    tuple(float(np.std(v)) for v in vals), theory_sd))
        rows.append(HistogramRow(act, slide, tuple(panels)))
    return rows


def _layer_colors(n: int) -> list:
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / max(n - 1, 1)) for i in range(n)]


def _panel_title(h: Histogram, lang: str) -> str:
    return f"{get_activation(h.run.config.activation).name}, " + init_label(h.init, None, lang)


def plot_histograms(rows: list[HistogramRow], lang: str):
    """One row per pair, one panel per init; one density line per layer (Glorot & Bengio 2010, Figs. 6-7)."""
    kind = rows[0].panels[0].kind
    sz = rows[0].panels[0].run.sizes
    ncols = max(len(r.panels) for r in rows)
    with style():
        fig = new_figure((13.0, 1.0 + 5.0 * len(rows)))
        subfigs = fig.subfigures(len(rows), 1, squeeze=False)[:, 0] if len(rows) > 1 else [fig]
        for sf, row in zip(subfigs, rows):
            axes = sf.subplots(1, ncols, squeeze=False)[0]
            top = max(float(d.max()) for h in row.panels for d in h.density)
            for j, (ax, h) in enumerate(zip(axes, row.panels)):
                colors = _layer_colors(len(h.density))
                atoms = any(h.atom)
                for layer, (d, atom, sd, c) in enumerate(zip(h.density, h.atom, h.sd, colors), start=1):
                    if kind == "grad":
                        label = text("mc_grad_layer", lang, l=layer, sd=f"{sd:.3g}",
                                     theory=f"{h.theory_sd[layer - 1]:.3g}")
                    elif atoms:
                        label = text("mc_layer_atom", lang, l=layer, sd=f"{sd:.3g}", p=f"{100 * atom:.1f}")
                    else:
                        label = text("mc_layer_sd", lang, l=layer, sd=f"{sd:.3g}")
                    ax.plot(h.centers, d, color=c, linewidth=2.0, label=label, zorder=3)
                ax.set_xlim(h.edges[0], h.edges[-1])
                ax.set_ylim(0.0, 1.06 * top)  # shared along the row: the heights compare
                ax.legend(loc="upper right", fontsize=10, framealpha=0.9, handlelength=1.6,
                          title=text("mc_atom_title", lang) if atoms else None, title_fontsize=10)
                ax.set_title(_panel_title(h, lang), fontsize=12.5)
                ax.set_xlabel(text("mc_post_xlabel" if kind == "post" else "mc_grad_xlabel", lang))
                if j == 0:
                    ax.set_ylabel(text("mc_density", lang))
            if row.slide and sf is not fig:
                sf.suptitle(text("slide", lang, title=row.slide), fontsize=14, fontweight="bold", x=0.01,
                            ha="left")
        key = "mc_title_post_hist" if kind == "post" else "mc_title_grad_hist"
        fig.suptitle(text(key, lang, width=sz.width, depth=sz.depth, batch=sz.batch, seeds=sz.seeds,
                          dtype=sz.dtype), fontsize=15)
    return fig


@register("mc-activation-histograms", GROUP,
          "per-layer histograms of post-activations (Glorot & Bengio Fig. 6): tanh and ReLU, bad vs good init")
def make_activation_histograms(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``mc-activation-histograms``: :func:`plot_histograms` of the post-activation :func:`histogram_rows` of
    :data:`ACTIVATION_PAIRS` (``fast``: :data:`HIST_FAST`, :data:`FAST_BINS`); returns the written PNG and PDF."""
    rows = histogram_rows(ACTIVATION_PAIRS, "post", HIST_FAST if fast else HIST_SIZES, FAST_BINS if fast else BINS)
    return save(plot_histograms(rows, lang), out_dir, "mc-activation-histograms", lang, fast)


@register("mc-gradient-histograms", GROUP,
          "per-layer histograms of back-propagated gradients (Glorot & Bengio Fig. 7): tanh, bad vs Glorot init")
def make_gradient_histograms(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``mc-gradient-histograms``: :func:`plot_histograms` of the gradient :func:`histogram_rows` of
    :data:`GRADIENT_PAIRS` (``fast``: :data:`HIST_FAST`, :data:`FAST_BINS`); returns the written PNG and PDF."""
    rows = histogram_rows(GRADIENT_PAIRS, "grad", HIST_FAST if fast else HIST_SIZES, FAST_BINS if fast else BINS)
    return save(plot_histograms(rows, lang), out_dir, "mc-gradient-histograms", lang, fast)


# ---------------------------------------------------------------------------------------- gradient norm
NORM_SIZES = Sizes(width=256, depth=30, batch=128, seeds=8)
NORM_FAST = Sizes(width=64, depth=10, batch=32, seeds=4)
#: (regime, activation, init, colour): «Паралич сети» (sigmoid' <= 1/4) and an over-scaled ReLU init
NORM_CASES = (
    ("vanishing", "sigmoid", InitLine("glorot_uniform", "Паралич сети", "#1f5fa8")),
    ("exploding", "relu", InitLine("normal:2/sqrt(n_in)", "", "#c0392b")),
)


@dataclass(frozen=True)
class NormRun:
    """RMS gradient sqrt(E[delta_l^2]) of one run: ``points`` holds simulate's grad_var (mean, SE) unchanged;
    ``rms``, ``rms_low``, ``rms_high``: at the drawn layers, sqrt(mean) and the +-SE interval of E[delta^2] mapped
    through sqrt (the low end clipped at 0)."""

    regime: str
    init: InitLine
    run: MCRun
    points: MCPoints
    rms: np.ndarray
    rms_low: np.ndarray
    rms_high: np.ndarray
    theory: Series  # sqrt(predict's grad_var)
    factor: float  # theory: geometric-mean ratio of the RMS gradient of adjacent layers, input side / output side


def gradient_norm_runs(cases=NORM_CASES, sizes: Sizes = NORM_SIZES, seed: int = SEED) -> list[NormRun]:
    """One :class:`NormRun` per case of ``cases`` (run k uses ``seed + k``): the MC RMS gradient sqrt(E[delta_l^2]),
    predict's sqrt(Var(delta_l)) and its per-layer factor (rms_1 / rms_L)^(1 / (L - 1))."""
    out = []
    for k, (regime, act, line) in enumerate(cases):
        run = mc_run(_config(act, line.spec, sizes), sizes, seed + k)
        g = run.theory("grad_var")
        with np.errstate(all="ignore"):
            rms = np.sqrt(g)
        factor = float((rms[0] / rms[-1]) ** (1.0 / (len(rms) - 1))) if len(rms) > 1 else math.nan
        p = mc_points(run, "grad_var")
        m, se = p.mean[p.drawn], p.se[p.drawn]
        out.append(NormRun(regime, line, run, p, np.sqrt(m), np.sqrt(np.maximum(m - se, 0.0)), np.sqrt(m + se),
                           split_series(np.arange(1, sizes.depth + 1), rms), factor))
    return out


def plot_gradient_norm(runs: list[NormRun], lang: str):
    """``mc-gradient-norm``: one panel per :class:`NormRun`, the RMS gradient by layer on a log axis: theory line, MC
    points with the +-SE interval through sqrt, and a note with the theory's factor and any left-out layers."""
    sz = runs[0].run.sizes
    with style():
        fig = new_figure((13.0, 6.4))
        axes = fig.subplots(1, len(runs), squeeze=False)[0]
        for ax, r in zip(axes, runs):
            p, y, up = r.points, r.rms, r.rms_high
            ax.set_yscale("log")
            ax.set_xlim(0.3, sz.depth + 0.7)
            ax.set_ylim(*log_limits([yy for _, yy in r.theory.runs] + [y, up]))
            for x, yy in r.theory.runs:
                ax.plot(x, yy, color=r.init.color, linewidth=2.4, alpha=0.75, zorder=3)
            bottom = ax.get_ylim()[0]
            lo = y - np.maximum(r.rms_low, 0.5 * bottom)  # a low end at 0 runs off the log axis
            ax.errorbar(p.layers[p.drawn], y, yerr=np.vstack([lo, up - y]), fmt="o", color=r.init.color,
                        markersize=5.5, markerfacecolor="white", markeredgewidth=1.5, elinewidth=1.3, capsize=0,
                        zorder=4)
            decade_ticks(ax)
            factor = [text("mc_factor", lang, f=f"{r.factor:.3g}")] if math.isfinite(r.factor) else []
            note = "\n".join(factor + [t for t in (_theory_note(r.theory, lang), _mc_mask_note(r.run, p, lang)) if t])

            def build(loc, ax=ax, note=note):
                box = AnchoredText(note, loc=loc, prop={"fontsize": 10.5}, frameon=True)
                box.patch.set(facecolor="white", edgecolor="0.6", alpha=0.95, boxstyle="round,pad=0.3")
                box.set_zorder(6)
                return ax.add_artist(box)
            _place(ax, build, [x for x, _ in r.theory.runs] + [p.layers[p.drawn]],
                   [yy for _, yy in r.theory.runs] + [y])
            title = text(f"mc_{r.regime}", lang, act=get_activation(r.run.config.activation).name)
            title += "\n" + init_label(r.init, None, lang)
            ax.set_title(title, fontsize=12.5)
            ax.set_xlabel(text("layer_xlabel", lang))
            ax.set_ylabel(text("mc_norm_ylabel", lang))
        kh, kl = _key_handles(lang, sz.seeds)
        fig.legend(kh, kl, loc="outside lower center", ncols=2, frameon=False, fontsize=11.5)
        fig.suptitle(text("mc_title_norm", lang, width=sz.width, depth=sz.depth, batch=sz.batch, seeds=sz.seeds,
                          dtype=sz.dtype), fontsize=15)
    return fig


@register("mc-gradient-norm", GROUP,
          "RMS back-propagated gradient by layer: vanishing (deep sigmoid) and exploding (over-scaled ReLU)")
def make_gradient_norm(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``mc-gradient-norm``: :func:`plot_gradient_norm` of :func:`gradient_norm_runs` at :data:`NORM_SIZES`
    (``fast``: :data:`NORM_FAST`); returns the written PNG and PDF."""
    runs = gradient_norm_runs(sizes=NORM_FAST if fast else NORM_SIZES)
    return save(plot_gradient_norm(runs, lang), out_dir, "mc-gradient-norm", lang, fast)
