"""Initialization figures (slides «Плохая инициализация весов», «Немного лучше», «Инициализация Ксавье (Глорота)»,
«Инициализация Хе»): signal variance through depth, the tanh phase diagram, the table of gains.

* ``init-variance-depth``: Var(h_l) (forward) and Var(delta_l) (backward) by layer for the slides' inits against
  four activations; every number is :func:`theory.predict.predict` of a :class:`theory.config.NetworkConfig`.
  Values a log axis cannot show (inf, NaN, 0 from float64 over/underflow) are never drawn: each curve is cut into
  its finite positive stretches and the panel says which layers were left out and why.
* ``meanfield-phase-tanh``: the correlation depth scale xi_c over (sigma_w^2, sigma_b^2) from
  :func:`theory.meanfield.analyze_grid`, the order-to-chaos line from :func:`theory.meanfield.critical_weight_var`
  and two points from :func:`theory.meanfield.analyze`.
* ``init-gains-table``: the rows of :func:`theory.gains.gains_table` as Markdown (:func:`theory.gains.gains_markdown`)
  and as a drawn table.

Data functions (:func:`depth_curves`, :func:`phase_data`, :func:`gains_cells`) compute; ``plot_*`` draw; nothing
is typed twice: formulas in labels are ``sympy.latex`` of the theory's expressions, words come from the string
table, numbers from the theory.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import sympy as sp
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullLocator

from theory.files import atomic_write_text
from figures.common import formula_label, latex, mathtext_width, new_figure, register, save, stem, style, text
from theory.activations import get_activation
from theory.config import NetworkConfig
from theory.errors import SpecError
from theory.gains import gains_markdown, gains_table
from theory.init import SLIDE_UNIFORM_BOUNDS, get_init
from theory.meanfield import MeanField, MeanFieldGrid, analyze, analyze_grid, critical_weight_var
from theory.parse import parse_expression
from theory.predict import predict

GROUP = "initialization"

# ------------------------------------------------------------------------------------ variance through depth
WIDTH, DEPTH, FAST_DEPTH = 256, 50, 20
BIAS_VAR, INPUT_VAR = 0.0, 1.0
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


@dataclass(frozen=True)
class InitLine:
    """One init of the figure: its spec, the slide it comes from (title exactly as in the seed) and its look."""

    spec: str
    slide: str
    color: str
    linestyle: str = "-"
    linewidth: float = 2.4


def _slide_spec(i: int) -> str:
    """``uniform:BOUND`` for the i-th uniform bound on the slides (theory.init.SLIDE_UNIFORM_BOUNDS)."""
    return f"uniform:{sp.sstr(SLIDE_UNIFORM_BOUNDS[i][1])}"


#: the slides' three uniform bounds (the Glorot bound is Keras' glorot_uniform: tested) and He for ReLU.
#: He is dashed and drawn last: with n_in = n_out its variance equals the «Немного лучше» bound's, so the two
#: curves coincide and the dashes let the solid line show through.
INITS = (
    InitLine(_slide_spec(0), SLIDE_UNIFORM_BOUNDS[0][0], "#c0392b"),
    InitLine(_slide_spec(1), SLIDE_UNIFORM_BOUNDS[1][0], "#1f5fa8"),
    InitLine("glorot_uniform", SLIDE_UNIFORM_BOUNDS[2][0], "#2e8b57"),
    InitLine("he_uniform", "Инициализация Хе", "#e69f00", "--", 2.2),  # the slide title, as in the seed
)


@dataclass(frozen=True)
class Series:
    """One variance curve: predict's values, the stretches that can be drawn on a log axis, and what was left out.

    ``runs``: (layers, values) pairs, each a maximal stretch of consecutive layers with finite values > 0.
    ``masked``: (kind, first layer, last layer) for each maximal stretch of one kind of undrawable value,
    kind "overflow" (inf), "nan" (NaN, which predict returns after an overflow or at an undefined moment) or
    "underflow" (0, float64 underflow).
    """

    layers: np.ndarray
    values: np.ndarray
    runs: tuple[tuple[np.ndarray, np.ndarray], ...]
    masked: tuple[tuple[str, int, int], ...]


def _kind(v: float) -> str | None:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "overflow"
    if v == 0.0:
        return "underflow"
    return "nan" if v < 0.0 else None  # a negative variance would be a bug upstream: never drawn either


def split_series(layers, values) -> Series:
    """Cut ``values`` (by ``layers``) into drawable stretches and masked stretches (see :class:`Series`)."""
    layers = np.asarray(layers, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    kinds = [_kind(float(v)) for v in values]
    runs, masked = [], []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or kinds[i] != kinds[start]:
            if kinds[start] is None:
                runs.append((layers[start:i].copy(), values[start:i].copy()))
            else:
                masked.append((kinds[start], int(layers[start]), int(layers[i - 1])))
            start = i
    return Series(layers, values, tuple(runs), tuple(masked))


@dataclass(frozen=True)
class DepthCurve:
    """Forward and backward variance of one (activation, init) network, straight from :func:`predict`."""

    config: NetworkConfig
    init: InitLine
    prediction: dict
    forward: Series
    backward: Series


def depth_curves(activations=ACTIVATIONS, inits=INITS, depth: int = DEPTH, width: int = WIDTH,
                 bias_var: float = BIAS_VAR, input_var: float = INPUT_VAR) -> list[DepthCurve]:
    """``predict`` for every activation x init (activation-major order); inits are :class:`InitLine` or specs."""
    out = []
    for act in activations:
        for line in inits:
            line = line if isinstance(line, InitLine) else InitLine(line, "", "#555555")
            cfg = NetworkConfig(activation=act, init=line.spec, width=width, depth=depth, bias_var=bias_var,
                                input_var=input_var)
            pred = predict(cfg)
            layers = [r["layer"] for r in pred["layers"]]
            out.append(DepthCurve(cfg, line, pred,
                                  split_series(layers, [r["preact_var"] for r in pred["layers"]]),
                                  split_series(layers, [r["grad_var"] for r in pred["layers"]])))
    return out


def init_label(line: InitLine, same_as: InitLine | None, lang: str) -> str:
    """``name: Var(w) = <latex of the scheme's variance>``, the slide, and whether it repeats another curve."""
    scheme = get_init(line.spec)
    if scheme.distribution == "uniform" and scheme.bound is not None and line.spec.startswith("uniform:"):
        bound = latex(scheme.bound)
        name = text("uniform_bound", lang, bound=f"${bound}$" if bound else line.spec.partition(":")[2])
    else:
        name = scheme.name
    label = formula_label(name, r"\mathrm{Var}(w)", scheme.weight_var, line.spec)
    if line.slide:
        label += "\n" + text("slide", lang, title=line.slide)
    if same_as is not None:
        label += " " + text("same_curve", lang, title=same_as.slide or same_as.spec)
    return label


def _same_as(curves: list[DepthCurve]) -> dict[str, InitLine]:
    """init spec -> the earlier init with the same per-layer weight variances (hence the same curves), if any."""
    first: dict[tuple[float, ...], InitLine] = {}
    out: dict[str, InitLine] = {}
    for c in curves:
        if c.init.spec in out:
            continue
        scheme, n = get_init(c.init.spec), c.config.widths  # (NetworkConfig.weight_vars re-parses per layer)
        key = tuple(scheme.variance(n[i], n[i + 1]) for i in range(c.config.depth))
        earlier = first.setdefault(key, c.init)
        if earlier.spec != c.init.spec:
            out[c.init.spec] = earlier
    return out


def mask_note(s: Series, lang: str) -> str:
    """The panel note for a theory curve: one line per masked stretch of ``s`` (overflow, NaN or underflow, with its
    layers) in ``lang``; '' when nothing was left out."""
    parts = []
    for kind, a, b in s.masked:
        where = text("layer_one", lang, a=a) if a == b else text("layer_range", lang, a=a, b=b)
        parts.append(text(f"masked_{kind}", lang, where=where))
    return "\n".join(parts)


def plot_variance_depth(curves: list[DepthCurve], lang: str):
    """2 rows (forward, backward) x one column per activation; log y; one line per init; masked layers noted."""
    acts = list(dict.fromkeys(c.config.activation for c in curves))
    same = _same_as(curves)
    labels = {c.init.spec: init_label(c.init, same.get(c.init.spec), lang) for c in curves}
    cfg0 = curves[0].config
    with style():
        fig = new_figure((max(4.3 * len(acts) + 0.6, 13.0), 10.2))
        axes = fig.subplots(2, len(acts), sharex=True, squeeze=False)
        handles: dict[str, Line2D] = {}
        for j, act in enumerate(acts):
            for i, (attr, ylab) in enumerate((("forward", "forward_ylabel"), ("backward", "backward_ylabel"))):
                ax = axes[i, j]
                panel = [c for c in curves if c.config.activation == act]
                last = panel[-1].prediction["layers"][-1]
                ref = panel[-1].config.input_var if attr == "forward" else last["grad_var"]
                show_ref = math.isfinite(ref) and ref > 0  # the level a variance-preserving init keeps
                # limits first, autoscaling off: matplotlib's own log autoscale overflows next to 1e308
                ax.set_yscale("log")
                ax.set_xlim(1, panel[-1].config.depth)
                ax.set_ylim(*log_limits([y for c in panel for _, y in getattr(c, attr).runs]
                                         + ([np.array([ref])] if show_ref else [])))
                notes = []
                for c in panel:
                    s: Series = getattr(c, attr)
                    label = labels[c.init.spec]
                    for k, (x, y) in enumerate(s.runs):
                        (h,) = ax.plot(x, y, color=c.init.color, linestyle=c.init.linestyle,
                                       linewidth=c.init.linewidth, zorder=3, label=label if k == 0 else None)
                        handles.setdefault(label, h)
                    if s.masked:
                        notes.append((Line2D([], [], color=c.init.color, linestyle=c.init.linestyle,
                                             linewidth=c.init.linewidth), mask_note(s, lang)))
                if show_ref:
                    h = ax.axhline(ref, color="0.35", linestyle=":", linewidth=1.3, zorder=2,
                                   label=text("reference", lang))
                    handles.setdefault(text("reference", lang), h)
                decade_ticks(ax)
                if notes:
                    leg = ax.legend([h for h, _ in notes], [t for _, t in notes], loc="best", fontsize=9.5,
                                    alignment="left", title=text("not_drawn", lang), title_fontsize=10,
                                    framealpha=0.95, handlelength=1.6)
                    leg.set_zorder(5)
                if i == 0:
                    ax.set_title(get_activation(act).name, fontsize=15)
                else:
                    ax.set_xlabel(text("layer_xlabel", lang))
                if j == 0:
                    ax.set_ylabel(text(ylab, lang))
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=2, frameon=False,
                   fontsize=11.5)
        fig.suptitle(text("title_depth", lang, width=_num(cfg0.width), depth=cfg0.depth,
                          bias_var=_num(cfg0.bias_var), input_var=_num(cfg0.input_var)), fontsize=16)
    return fig


def log_limits(arrays, margin: float = 0.05) -> tuple[float, float]:
    """y-limits around positive finite data with a margin in log space, kept inside float64's range (matplotlib's
    own autoscaling pads by multiplying, which overflows next to 1e308)."""
    values = np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays]) if arrays else np.array([1.0])
    l0, l1 = float(np.log10(values.min())), float(np.log10(values.max()))
    pad = margin * max(l1 - l0, 1.0)
    return 10.0 ** max(l0 - pad, -323.0), 10.0 ** min(l1 + pad, 308.0)


def decade_ticks(ax, most: int = 7) -> None:
    """Log-axis ticks at round decade steps (1, 2, 5, 10, 20, ... decades) so that at most ``most`` show."""
    lo, hi = ax.get_ylim()
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    step = next(s * m for m in (1, 10, 100) for s in (1, 2, 5) if (b - a) / (s * m) <= most)
    if step == 1:
        return  # matplotlib's own log locator already ticks every decade (with minor ticks)
    ax.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(math.ceil(a / step) * step, b + 1, step)))
    ax.yaxis.set_minor_locator(NullLocator())


def _num(v) -> str:
    return f"{float(v):g}"


@register("init-variance-depth", GROUP,
          "mean-field Var(h_l) and Var(delta_l) by layer for the slides' uniform inits and He, four activations")
def make_variance_depth(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``init-variance-depth``: :func:`plot_variance_depth` of :func:`depth_curves` at depth :data:`DEPTH`
    (``fast``: :data:`FAST_DEPTH`); returns the written PNG and PDF."""
    fig = plot_variance_depth(depth_curves(depth=FAST_DEPTH if fast else DEPTH), lang)
    return save(fig, out_dir, "init-variance-depth", lang, fast)


# ---------------------------------------------------------------------------------------- phase diagram
PHASE_ACTIVATION = "tanh"
WEIGHT_RANGE, BIAS_RANGE = (0.5, 4.0), (0.0, 0.5)
GRID, FAST_GRID = 100, 30
CRITICAL_POINTS, FAST_CRITICAL_POINTS = 80, 12
XI_CAP = 100.0  # xi_c diverges on the critical line; the colour scale stops here (said in the colour-bar label)
MARKED = ((1.5, 0.05), (2.0, 0.05))
UNDEFINED_COLOR = "0.62"


@dataclass(frozen=True)
class PhaseData:
    """The phase diagram's data: :func:`theory.meanfield.analyze_grid`'s grid, the critical line chi_1 = 1 as
    (sigma_b^2, sigma_w^2) pairs, the marked :class:`MeanField` points and the cap of the xi_c colour scale."""

    grid: MeanFieldGrid
    critical_bias: np.ndarray  # sigma_b^2 where the critical line was solved (those with a root)
    critical_weight: np.ndarray  # the critical sigma_w^2 there
    points: tuple[MeanField, ...]
    cap: float

    def xi_display(self) -> np.ma.MaskedArray:
        """xi_c capped at ``cap`` (inf on the critical line -> cap), NaN (undefined) masked."""
        xi = self.grid.xi_c
        return np.ma.masked_invalid(np.where(np.isnan(xi), np.nan, np.minimum(xi, self.cap)))


def phase_data(n: int = GRID, n_critical: int = CRITICAL_POINTS, activation: str = PHASE_ACTIVATION,
               weight_range=WEIGHT_RANGE, bias_range=BIAS_RANGE, marked=MARKED, cap: float = XI_CAP) -> PhaseData:
    """The grid, the critical line (denser near sigma_b^2 = 0, where it is steepest) and the marked points."""
    wv = np.linspace(*weight_range, n)
    bv = np.linspace(*bias_range, n)
    grid = analyze_grid(activation, wv, bv)
    # quadratic spacing: the line rises like a square root from (1, 0)
    cb = bias_range[0] + (bias_range[1] - bias_range[0]) * np.linspace(0.0, 1.0, n_critical) ** 2
    cw = [critical_weight_var(activation, float(b)) for b in cb]
    keep = np.array([w is not None for w in cw])
    crit_b = cb[keep]
    crit_w = np.array([w for w in cw if w is not None], dtype=np.float64)
    points = tuple(analyze(activation, w, b) for w, b in marked)
    return PhaseData(grid, crit_b, crit_w, points, cap)


def plot_phase(d: PhaseData, lang: str):
    """``meanfield-phase-tanh``: xi_c over (sigma_w^2, sigma_b^2), log colours capped at ``d.cap`` (undefined cells
    grey), the critical line chi_1 = 1, the two phases' names and the marked points with their xi_c."""
    g = d.grid
    xi = d.xi_display()
    finite = xi.compressed()
    with style():
        fig = new_figure((10.0, 6.6))
        ax = fig.add_subplot()
        ax.grid(False)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad=UNDEFINED_COLOR)
        mesh = ax.pcolormesh(g.weight_vars, g.bias_vars, xi.T, shading="nearest", cmap=cmap,
                             norm=LogNorm(vmin=float(finite.min()), vmax=d.cap), rasterized=True)
        cbar = fig.colorbar(mesh, ax=ax, extend="max", pad=0.02)
        cbar.set_label(text("xi_label", lang, cap=_num(d.cap)))
        inside = (d.critical_weight >= g.weight_vars[0]) & (d.critical_weight <= g.weight_vars[-1])
        ax.plot(d.critical_weight[inside], d.critical_bias[inside], color="white", linewidth=4.6, zorder=3)
        (crit,) = ax.plot(d.critical_weight[inside], d.critical_bias[inside], color="#b5121b", linewidth=2.4,
                          zorder=4, label=text("critical_line", lang))
        handles = [crit]
        if np.ma.getmaskarray(xi).any():
            handles.append(Patch(facecolor=UNDEFINED_COLOR, edgecolor="0.4", label=text("xi_undefined", lang)))
        # phase names where each phase is widest: ordered high up on the left, chaotic low on the right
        top = d.critical_bias >= 0.7 * d.critical_bias.max()
        bottom = d.critical_bias <= 0.5 * d.critical_bias.max()
        box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9}
        if top.any():
            xo = 0.5 * (g.weight_vars[0] + d.critical_weight[top].min())
            ax.text(xo, 0.85 * g.bias_vars[-1], text("phase_ordered", lang), ha="center", va="center", fontsize=15,
                    bbox=box, zorder=5)
        if bottom.any():
            xc = 0.5 * (d.critical_weight[bottom].max() + g.weight_vars[-1])
            ax.text(xc, 0.45 * g.bias_vars[-1], text("phase_chaotic", lang), ha="center", va="center", fontsize=15,
                    bbox=box, zorder=5)
        for k, p in enumerate(d.points):
            ax.plot([p.weight_var], [p.bias_var], marker="o", markersize=9, markerfacecolor="white",
                    markeredgecolor="black", markeredgewidth=1.8, linestyle="none", zorder=6)
            left = k == 0
            ax.annotate(rf"$\xi_c \approx {p.xi_c:.3g}$" + f"\n({text('phase_' + p.phase, lang)})",
                        xy=(p.weight_var, p.bias_var), xytext=(-14 if left else 14, 46), textcoords="offset points",
                        ha="right" if left else "left", va="bottom", multialignment="center", fontsize=12, bbox=box,
                        zorder=6,
                        arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 1.0})
        # the cells are centred on the grid values: show them whole (the sigma_b^2 = 0 row included)
        dw, db = np.diff(g.weight_vars[:2])[0] / 2, np.diff(g.bias_vars[:2])[0] / 2
        ax.set_xlim(g.weight_vars[0] - dw, g.weight_vars[-1] + dw)
        ax.set_ylim(g.bias_vars[0] - db, g.bias_vars[-1] + db)
        ax.set_xlabel(text("weight_var", lang))
        ax.set_ylabel(text("bias_var", lang))
        ax.legend(handles=handles, loc="lower right", framealpha=0.95, fontsize=11)
        ax.set_title(text("title_phase", lang, activation=get_activation(PHASE_ACTIVATION).name))
    return fig


@register("meanfield-phase-tanh", GROUP,
          "tanh mean-field phase diagram: correlation depth xi_c over (sigma_w^2, sigma_b^2), critical line")
def make_phase(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``meanfield-phase-tanh``: :func:`plot_phase` of :func:`phase_data` (:data:`GRID` x :data:`GRID`,
    :data:`CRITICAL_POINTS` on the line; ``fast``: :data:`FAST_GRID`, :data:`FAST_CRITICAL_POINTS`); returns the written
    PNG and PDF."""
    d = phase_data(n=FAST_GRID if fast else GRID, n_critical=FAST_CRITICAL_POINTS if fast else CRITICAL_POINTS)
    return save(plot_phase(d, lang), out_dir, "meanfield-phase-tanh", lang, fast)


# ------------------------------------------------------------------------------------------- gains table
GAIN_COLUMNS = ("activation", "forward_gain", "backward_gain", "critical_gain", "torch_gain", "torch_note")
#: --fast: the activations of the depth figure plus leaky ReLU (the full table takes ~5 s, mostly silu/softplus)
FAST_GAINS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
EXACT_MAX_CHARS = 12  # LaTeX characters: a longer closed form (leaky ReLU's, GELU's) is left to the Markdown file


def _gain_cell(row: dict, key: str) -> str:
    """The number to 4 decimals, then the theory's closed form (``*_exact``) when it is short enough to draw."""
    v = row.get(key)
    if v is None or not math.isfinite(v):
        return "—"
    cell = f"{v:.4f}"
    exact = row.get(f"{key}_exact")
    if exact:
        try:
            s = latex(parse_expression(exact, {}, what="gain"), display=False)
        except SpecError:
            s = None
        if s is not None and len(s) <= EXACT_MAX_CHARS and mathtext_width(f"${s}$") is not None \
                and not s.replace(".", "").isdigit():
            cell += f" (${s}$)"
    return cell


def _note_cell(row: dict, lang: str, wrap: int) -> str:
    """What torch's constant does at sigma_b = 0 (phase, q*, chi_1, which derived gain it equals), from the row."""
    does = row.get("torch_does")
    if does is None:
        note = text("gains_unsupported", lang) if "ValueError" in (row.get("torch_note") or "") else \
            (row.get("torch_note") or "—")
    else:
        q = "—" if does["q_star"] is None else f"{does['q_star']:.4g}"
        which = ", ".join(text(f"gains_{k}_gain", lang) for k in row.get("torch_matches") or ())
        note = text("gains_does", lang, phase=text(f"phase_{does['phase']}", lang), q=q, chi=f"{does['chi1']:.4g}")
        note += "; " + (text("gains_matches", lang, which=which) if which else text("gains_matches_none", lang))
    return textwrap.fill(note, wrap)


def gains_cells(rows: list[dict], lang: str, wrap: int = 64) -> list[list[str]]:
    """The table's text, one list per row, in :data:`GAIN_COLUMNS` order; every number is the row's."""
    return [[r["activation"], *(_gain_cell(r, k) for k in GAIN_COLUMNS[1:5]), _note_cell(r, lang, wrap)]
            for r in rows]


def plot_gains(rows: list[dict], lang: str):
    """``init-gains-table``: the rows of :func:`theory.gains.gains_table` drawn as a table (:func:`gains_cells`:
    forward, backward, critical and torch gains, and what torch's gain does at sigma_b = 0)."""
    cells = gains_cells(rows, lang)
    lines = [max(c.count("\n") + 1 for c in row) for row in cells]
    units = 1.6 + sum(0.25 + 0.75 * n for n in lines)  # header, then each row by its number of text lines
    with style():
        fig = new_figure((16.0, 1.0 + 0.42 * units))
        ax = fig.add_subplot()
        ax.set_axis_off()
        tab = ax.table(cellText=cells, colLabels=[text(f"gains_{k}", lang) for k in GAIN_COLUMNS],
                       loc="upper center", cellLoc="left", colLoc="left",
                       colWidths=[0.09, 0.12, 0.12, 0.10, 0.135, 0.435], bbox=(0.0, 0.0, 1.0, 1.0))
        tab.auto_set_font_size(False)
        tab.set_fontsize(11.5)
        for (r, c), cell in tab.get_celld().items():
            cell.set_height((1.6 if r == 0 else 0.25 + 0.75 * lines[r - 1]) / units)
            cell.set_edgecolor("0.75")
            cell.PAD = 0.03
            if r == 0:
                cell.set_facecolor("#e8eef7")
                cell.get_text().set_fontweight("bold")
            elif r % 2 == 0:
                cell.set_facecolor("#f6f6f6")
        ax.set_title(text("title_gains", lang), fontsize=15)
    return fig


@register("init-gains-table", GROUP,
          "derived forward/backward/critical gains beside torch's calculate_gain (Markdown file + drawn table)")
def make_gains(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``init-gains-table``: :func:`theory.gains.gains_markdown` written to ``<stem>.md`` and :func:`plot_gains`
    (``fast``: :data:`FAST_GAINS` only); returns the Markdown file, the PNG and the PDF."""
    rows = gains_table(FAST_GAINS if fast else None)
    md = Path(out_dir) / f"{stem('init-gains-table', lang)}.md"
    atomic_write_text(md, gains_markdown(rows, lang))
    return [md, *save(plot_gains(rows, lang), out_dir, "init-gains-table", lang, fast)]

