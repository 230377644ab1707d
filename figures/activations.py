"""Activation figures (slides "Sigmoid/Tanh/ReLU/Leaky ReLU/ELU activation"): each function beside its derivative.

Data come from :mod:`theory.activations` only: the curves are the SymPy expressions evaluated by
``evaluator`` (nan where the derivative is undefined, so a jump at a kink is a gap, never a vertical line), the
marked maximum of the derivative is ``sup_abs_derivative`` (sigmoid: 1/4 at x = 0), the one-sided limits at a
kink are SymPy limits of the derivative's pieces, and every formula in a label is ``sympy.latex`` of the
expression. :func:`curves` computes, :func:`plot_activation` / :func:`plot_zoo` draw; nothing is typed twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from figures.common import (COLORS, FIGSIZE, formula_label, latex, new_figure, number_latex, register, save,
                            style, text, zero_axes)
from theory import activations as A
from theory.calculus import kinks as _kinks
from theory.calculus import x as _x

GROUP = "activations"
GRID_POINTS, FAST_GRID_POINTS = 1201, 241


@dataclass
class Curves:
    """An activation sampled on a grid that contains its kinks, with the facts the figure marks."""

    act: A.Activation
    x: np.ndarray
    y: np.ndarray  # phi(x)
    dy: np.ndarray  # phi'(x), nan at kinks where phi' is undefined
    sup: object  # theory.calculus.Bound of |phi'|
    peak: tuple[sp.Expr, sp.Expr] | None  # (x0, phi'(x0)) exact, where |phi'| attains its sup at one point
    jumps: list[tuple[float, float, float]] = field(default_factory=list)  # (kink, phi'(kink-), phi'(kink+))


def grid(lo: float, hi: float, n: int, points=()) -> np.ndarray:
    """``n`` equispaced points on [lo, hi] merged with ``points`` (the kinks) so each kink is sampled exactly."""
    inside = [p for p in points if lo < p < hi]
    return np.union1d(np.linspace(lo, hi, n), np.asarray(inside, dtype=np.float64))


def curves(spec: str, lo: float, hi: float, n: int = GRID_POINTS) -> Curves:
    """Sample an activation and its derivative from the theory's SymPy expression."""
    act = A.get_activation(spec)
    ks = _kinks(list(A.pieces(act)))
    xs = grid(lo, hi, n, [float(k) for k in ks])
    y = A.evaluator(act)(xs)
    dy = A.evaluator(act, derivative=True)(xs)
    sup = A.sup_abs_derivative(act)
    peak = None
    points = [w for w in sup.where if not isinstance(w, sp.Set)]
    if sup.attained and len(sup.where) == 1 and len(points) == 1:
        x0 = points[0]
        sign = int(np.sign(A.evaluator(act, derivative=True)(np.array([float(x0)]))[0]))  # sup |phi'|: which sign
        peak = (x0, sign * sup.value)
    dps = A.derivative_pieces(act)
    jumps = []
    for k, left, right in zip(ks, dps, dps[1:]):
        kf = float(k)
        if lo < kf < hi and np.isnan(dy[xs == kf]).all():
            jumps.append((kf, float(sp.limit(left.expr, _x, k, "-")), float(sp.limit(right.expr, _x, k, "+"))))
    return Curves(act, xs, y, dy, sup, peak, jumps)


# --------------------------------------------------------------------------------------------- drawing
def _draw(ax, c: Curves, lang: str, *, labels: bool, lw: float | None = None) -> None:
    kw = {} if lw is None else {"linewidth": lw}
    fl = formula_label(text("function", lang), "f(x)", c.act.expr, c.act.name) if labels else text("function", lang)
    dl = (formula_label(text("derivative", lang), "f'(x)", A.derivative(c.act), f"{c.act.name}'") if labels
          else text("derivative", lang))
    ax.plot(c.x, c.y, color=COLORS["function"], label=fl, zorder=3, **kw)
    ax.plot(c.x, c.dy, color=COLORS["derivative"], linestyle="--", label=dl, zorder=3, **kw)
    for i, (k, left, right) in enumerate(c.jumps):
        ax.plot([k, k], [left, right], linestyle="none", marker="o", markersize=7 if labels else 5,
                markerfacecolor="white", markeredgecolor=COLORS["derivative"], markeredgewidth=1.8, zorder=4,
                label=text("kink", lang) if i == 0 else None)
    zero_axes(ax)
    ax.set_xlim(c.x[0], c.x[-1])


def plot_activation(c: Curves, title: str, lang: str, note_at: tuple[float, float] = (0.64, 0.40)):
    """One activation and its derivative; the derivative's maximum marked when attained at a single point.

    ``note_at``: where the maximum's note sits, in axes fractions (left edge, vertical centre), chosen per figure
    in an empty region so that the arrow crosses no curve.
    """
    with style():
        fig = new_figure(FIGSIZE)
        ax = fig.add_subplot()
        _draw(ax, c, lang, labels=True)
        if c.peak is not None:
            x0, y0 = c.peak
            label = f"$f'({latex(x0) or f'{float(x0):g}'}) {number_latex(y0, c.sup.exact)}$"
            x0, y0 = float(x0), float(y0)
            ax.plot([x0], [y0], marker="o", markersize=8, color=COLORS["mark"], linestyle="none", zorder=5)
            ax.axhline(y0, color=COLORS["mark"], linestyle=":", linewidth=1.0, zorder=2)
            ax.annotate(f"{text('max_derivative', lang)}\n{label}", xy=(x0, y0), xytext=note_at,
                        textcoords="axes fraction", fontsize=12, ha="left", va="center",
                        arrowprops={"arrowstyle": "->", "color": COLORS["mark"], "linewidth": 1.2,
                                    "relpos": (1.0 if note_at[0] < 0.5 else 0.0, 0.5)},  # from the side facing it
                        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.7"})
        ax.set_title(title)
        ax.set_xlabel(text("xlabel", lang))
        ax.set_ylabel(text("ylabel", lang))
        ax.legend(loc="upper left", framealpha=0.95)
    return fig


def plot_zoo(cs: list[Curves], lang: str, ylim=(-1.9, 2.6), ncols: int = 5):
    """Small multiples: every named activation with its derivative, on shared axes for comparison."""
    nrows = -(-len(cs) // ncols)
    with style():
        fig = new_figure((3.3 * ncols, 3.2 * nrows + 0.9))
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
        for ax, c in zip(axes, cs):
            _draw(ax, c, lang, labels=False, lw=2.0)
            ax.set_ylim(*ylim)
            ax.set_title(c.act.name, fontsize=14)
            sup = number_latex(c.sup.value, c.sup.exact, max_width=60.0)
            note = "" if c.sup.attained else f"\n({text('not_attained', lang)})"
            ax.text(0.04, 0.96, f"$\\sup\\,|f'| {sup}$" + note, transform=ax.transAxes, fontsize=10,
                    ha="left", va="top", bbox={"boxstyle": "round,pad=0.25", "facecolor": "white",
                                               "edgecolor": "0.8", "alpha": 0.9})
        for ax in axes[len(cs):]:
            ax.set_visible(False)
        for ax in axes[(nrows - 1) * ncols:]:
            ax.set_xlabel("$x$")
        legend = {}  # label -> handle, first occurrence over all panels (the kink marker is not in every panel)
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                legend.setdefault(lab, h)
        fig.legend(list(legend.values()), list(legend), loc="outside lower center", ncols=len(legend),
                   frameon=False)
        fig.suptitle(text("title_zoo", lang), fontsize=16)
    return fig


# ------------------------------------------------------------------------------------------- registry
def _fmt(v) -> str:
    return f"{float(v):g}"


#: name, spec, x-range, title key (fields from the activation's parameter), where the maximum's note sits, description
_SINGLE = (
    ("activation-sigmoid", "sigmoid", (-6.0, 6.0), "title_sigmoid", (0.64, 0.40),
     "sigmoid and its derivative, the derivative's maximum marked (point and annotation)"),
    ("activation-tanh", "tanh", (-4.0, 4.0), "title_tanh", (0.04, 0.40),
     "tanh and its derivative, the derivative's maximum marked"),
    ("activation-relu", "relu", (-3.0, 3.0), "title_relu", None, "ReLU and its derivative (a jump at the kink)"),
    ("activation-leaky-relu", "leaky_relu:0.1", (-3.0, 3.0), "title_leaky_relu", None,
     "leaky ReLU with a larger slope than the default, for visibility, and its derivative"),
    ("activation-elu", "elu", (-4.0, 3.0), "title_elu", None, "ELU (default alpha) and its derivative"),
)
#: the zoo: every named activation; leaky ReLU with the same visible slope as its own figure
ZOO = tuple("leaky_relu:0.1" if n == "leaky_relu" else n for n in A.NAMES)
ZOO_RANGE = (-3.0, 3.0)


def title_for(spec: str, key: str, lang: str) -> str:
    """The title ``key`` in ``lang`` for the activation ``spec``, filled with its leaky ReLU slope a (and the default
    a0) or its ELU alpha."""
    act = A.get_activation(spec)
    default = A.get_activation(act.family).param
    fields = {"a": _fmt(act.param), "a0": _fmt(default)} if act.family == "leaky_relu" else \
        {"alpha": _fmt(act.param)} if act.family == "elu" else {}
    return text(key, lang, **fields)


def _single(name: str, spec: str, xr: tuple[float, float], key: str, note_at):
    def make(out_dir: Path, lang: str, fast: bool) -> list[Path]:
        c = curves(spec, *xr, n=FAST_GRID_POINTS if fast else GRID_POINTS)
        fig = plot_activation(c, title_for(spec, key, lang), lang, **({"note_at": note_at} if note_at else {}))
        return save(fig, out_dir, name, lang, fast)
    make.__name__ = make.__qualname__ = f"make_{name.replace('-', '_')}"
    return make


for _name, _spec, _xr, _key, _note, _desc in _SINGLE:
    register(_name, GROUP, _desc)(_single(_name, _spec, _xr, _key, _note))


@register("activation-zoo", GROUP, "all named activations with their derivatives, small multiples on shared axes")
def make_zoo(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``activation-zoo``: :func:`plot_zoo` of every activation of :data:`ZOO` on :data:`ZOO_RANGE` (``fast``:
    :data:`FAST_GRID_POINTS` points); returns the written PNG and PDF."""
    n = FAST_GRID_POINTS if fast else GRID_POINTS
    return save(plot_zoo([curves(s, *ZOO_RANGE, n=n) for s in ZOO], lang), out_dir, "activation-zoo", lang, fast)
