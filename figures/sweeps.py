"""Figures of the sweep studies (:mod:`sims.studies`), each run through the local process pool of
:mod:`sims.sweep` into a temporary store.

* ``sweep-phase-diagram``: the theory's xi_c over (sigma_w^2, sigma_b^2) for tanh (the heat map and critical line
  of ``meanfield-phase-tanh``) with the Monte Carlo points: xi_c fitted to the measured correlations, +- jackknife
  standard error, beside the theory's value at the same point.
* ``sweep-finite-width``: Var(log ||x_L||^2) of relu/He networks against sum_l 1/n_l: the Monte Carlo estimate
  +- standard error, the exact law and the log-normal approximation of :mod:`theory.finite_width`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from figures.common import new_figure, register, save, style, text
from figures.initialization import phase_data, plot_phase

GROUP = "sweeps"
FAST_PHASE_GRID = 24


def plot_phase_points(points: list[dict], lang: str, *, grid: int = 80, n_critical: int = 25):
    """``sweep-phase-diagram``: the theory map of :func:`figures.initialization.plot_phase` (``grid`` x ``grid``, no
    marked points) with each sweep point's measured xi_c +- jackknife SE beside the theory's xi_c."""
    fig = plot_phase(phase_data(n=grid, n_critical=n_critical, marked=()), lang)
    ax = fig.axes[0]
    box = {"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9}
    rank: dict[float, int] = {}  # labels alternate above / below along each row of equal sigma_b^2
    for p in sorted(points, key=lambda p: (p["bias_var"], p["weight_var"])):
        k = rank[p["bias_var"]] = rank.get(p["bias_var"], -1) + 1
        ax.plot([p["weight_var"]], [p["bias_var"]], "D", ms=8, mfc="white", mec="black", mew=1.6, zorder=7)
        ax.annotate(text("sw_point", lang, xi=f"{p['xi']:.2f}", se=f"{p['xi_se']:.2f}", th=f"{p['xi_theory']:.2f}"),
                    xy=(p["weight_var"], p["bias_var"]), xytext=(14, 18 if k % 2 == 0 else -46),
                    textcoords="offset points", fontsize=9, bbox=box, zorder=8,
                    arrowprops={"arrowstyle": "-", "color": "0.3", "lw": 0.9, "shrinkA": 0, "shrinkB": 5})
    p0 = points[0]
    ax.set_title(text("sw_phase_title", lang, width=p0["width"], depth=p0["depth"], seeds=p0["seeds"]), fontsize=11)
    return fig


@register("sweep-phase-diagram", GROUP, "tanh phase diagram: Monte Carlo xi_c (fitted to measured correlations, "
                                        "jackknife errors) on the theory's xi_c map, run as a sweep")
def make_phase_diagram(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``sweep-phase-diagram``: the phase grids of :mod:`sims.studies` run as a sweep, drawn by
    :func:`plot_phase_points` (``fast``: two points, the fast run, a 24 x 24 map); returns the written PNG and PDF."""
    from sims import memo

    fig = plot_phase_points(memo.call(phase_points, fast=fast), lang, grid=FAST_PHASE_GRID if fast else 80,
                            n_critical=9 if fast else 25)
    return save(fig, out_dir, "sweep-phase-diagram", lang, fast)


WIDTH_COLORS = ("#9ecae1", "#4292c6", "#2171b5", "#08306b", "#000000")


def plot_finite_width(points: list[dict], lang: str):
    """``sweep-finite-width``: Var(log ||x_L||^2) +- SE against sum_l 1/n_l (log-log), one colour per width, with the
    exact law (x), the log-normal sum_l log(1 + 5/n_l) (-) and the first order 5 sum_l 1/n_l (dashed)."""
    widths = sorted({p["width"] for p in points})
    with style():
        fig = new_figure(figsize=(9.5, 6.0))
        ax = fig.add_subplot()
        for color, w in zip(WIDTH_COLORS, widths):
            ps = sorted((p for p in points if p["width"] == w), key=lambda p: p["inv_width_sum"])
            x = np.array([p["inv_width_sum"] for p in ps])
            ax.errorbar(x, [p["var"] for p in ps], yerr=[p["var_se"] for p in ps], fmt="o", color=color, ms=7,
                        capsize=3, label=text("fw_mc", lang, n=w, nets=ps[0]["networks"]))
            ax.plot(x, [p["exact"] for p in ps], "x", color=color, ms=11, mew=2)
            ax.plot(x, [p["lognormal"] for p in ps], "_", color=color, ms=16, mew=2)
        ax.plot([], [], "x", color="0.3", ms=11, mew=2, label=text("fw_exact", lang))
        ax.plot([], [], "_", color="0.3", ms=16, mew=2, label=text("fw_lognormal", lang))
        grid = np.linspace(0, max(p["inv_width_sum"] for p in points) * 1.05, 50)
        ax.plot(grid, 5 * grid, "--", color="0.5", lw=1.2, label=text("fw_five", lang))
        ax.set_xlabel(text("fw_x", lang))
        ax.set_ylabel(text("fw_y", lang))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=9)
        ax.grid(alpha=0.3)
        zs = [abs(p["z_exact"]) for p in points]
        ax.set_title(text("fw_title", lang, zmax=f"{max(zs):.1f}", n=len(points)), fontsize=11)
    return fig


@register("sweep-finite-width", GROUP, "Var(log |x_L|^2) of relu/He networks against sum 1/n_l: Monte Carlo over "
                                       "widths and depths vs the exact finite-width law and the log-normal one")
def make_finite_width(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``sweep-finite-width``: :func:`plot_finite_width` of ``studies.finite_width_points`` of the
    ``FINITE_GRID`` sweep (``fast``: ``FINITE_GRID_FAST``); returns the written PNG and PDF."""
    from sims import memo

    return save(plot_finite_width(memo.call(finite_width_points, fast=fast), lang), out_dir, "sweep-finite-width",
                lang, fast)


def phase_points(fast: bool) -> list[dict]:
    """The points of ``sweep-phase-diagram``: the phase grids of :mod:`sims.studies` run as a sweep (``fast``: two
    points, the fast run); memoized by the figure, so its second language draws without rerunning."""
    from sims import studies

    run = studies.PHASE_RUN_FAST if fast else studies.PHASE_RUN
    points = studies.PHASE_POINTS[:2] if fast else studies.PHASE_POINTS
    return studies.phase_points(studies.run_grids(studies.phase_grids(points, run)))


def finite_width_points(fast: bool) -> list[dict]:
    """The points of ``sweep-finite-width``: the ``FINITE_GRID`` sweep (``fast``: ``FINITE_GRID_FAST``)."""
    from sims import studies

    return studies.finite_width_points(studies.run_grids([studies.FINITE_GRID_FAST if fast else
                                                          studies.FINITE_GRID]))
