"""Finite width: the excess kurtosis of a pre-activation by depth, Monte Carlo against the first order in 1/width.

``finite-width-kurtosis``: ReLU with He weights (left; with its exact law 3 (prod (1 + 5/n) - 1), which the first
order 15 (l - 1)/n leaves once depth / width is not small) and tanh with Glorot weights and a small bias (right; its
fluctuations saturate, so the first order holds at every depth). Fixed inputs (|x|^2 / n_0 = 1), Gaussian weights,
the engine's ``--kurtosis`` statistics (jackknife standard errors across networks) and :mod:`theory.fluctuations`.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from figures.common import new_figure, register, save, style, text

GROUP = "finite-width"
WIDTHS = (16, 32, 64, 128)
COLORS = ("#9ecae1", "#4292c6", "#2171b5", "#08306b")
#: panel -> (activation, init, bias variance); Gaussian (untruncated) weights
PANELS = {"relu": ("relu", "he_normal:plain", 0.0), "tanh": ("tanh", "glorot_normal:plain", 0.05)}
DEPTH, SEEDS, BATCH = 12, 600, 16
FAST = {"depth": 6, "seeds": 60, "widths": (16, 64)}
BREAKDOWN = 0.2  # depth / width where the first order visibly leaves the exact ReLU law


def kurtosis_points(fast: bool = False) -> dict:
    """panel -> width -> {"mc": [mean], "se": [se], "first": [first order], "exact": [ReLU exact law or None],
    "fourth_se": [the exact law's bound sqrt(rho_l / N) on the relative SE of E h^4, ReLU; or None]} by layer
    1..depth (memoized by the figure)."""
    from sims.engine import simulate
    from theory.config import NetworkConfig
    from theory.finite_width import fourth_moment_se_bound
    from theory.fluctuations import for_config, relu_exact_kurtosis

    depth, seeds = (FAST["depth"], FAST["seeds"]) if fast else (DEPTH, SEEDS)
    out = {}
    for panel, (act, init, bias) in PANELS.items():
        out[panel] = {}
        for k, n in enumerate(FAST["widths"] if fast else WIDTHS):
            cfg = NetworkConfig(act, init, width=n, depth=depth, bias_var=bias)
            res = simulate(cfg, BATCH, seeds, dtype="float64", seed=100 * k + (panel == "tanh"), kurtosis=True,
                           input="fixed")
            mean, se = res["summary"]["preact_excess_kurtosis"]
            theory = for_config(cfg, "fixed")
            exact = relu_exact_kurtosis(cfg.widths, input="fixed") if act == "relu" else None
            fourth_se = fourth_moment_se_bound(cfg.widths, seeds) if act == "relu" else None
            out[panel][str(n)] = {"mc": [float(v) for v in mean], "se": [float(v) for v in se],
                                  "first": [t["preact_excess_kurtosis"] for t in theory], "exact": exact,
                                  "fourth_se": fourth_se}
    return out


def _points_and_first_order(ax, mc, se, first, color, n: str, lang: str, shift: float = 0.0, hollow=None):
    """One width's Monte Carlo points with error bars (shifted by ``shift`` along the layer axis, so the widths' bars
    do not hide each other; where the boolean array ``hollow`` is true, drawn hollow) and its first-order line
    (dashed) on ``ax``; returns the layers 1..depth."""
    layers = np.arange(1, len(mc) + 1)
    mc, se = np.asarray(mc, dtype=float), np.asarray(se, dtype=float)
    hollow = np.zeros(len(mc), dtype=bool) if hollow is None else np.asarray(hollow, dtype=bool)
    filled = ~hollow
    ax.errorbar(layers[filled] + shift, mc[filled], yerr=se[filled], fmt="o", ms=4, color=color, capsize=2,
                label=text("fk_mc", lang, n=int(n)))
    if hollow.any():
        ax.errorbar(layers[hollow] + shift, mc[hollow], yerr=se[hollow], fmt="o", ms=4, color=color, capsize=2,
                    mfc="white")
    ax.plot(layers, first, "--", color=color, lw=1.3)
    return layers


def plot_kurtosis(points: dict, lang: str):
    """Two panels (ReLU, tanh): MC points with error bars per width, the first-order lines (dashed), the exact ReLU
    law (solid), and on the ReLU panel a mark at depth / width = :data:`BREAKDOWN` for each width. A ReLU point is
    hollow where the exact law's bound on the relative SE of E h^4 over the run's networks exceeds
    ``theory.finite_width.FOURTH_MOMENT_RELIABLE``: the networks are too few for a fourth moment there (the sample
    mean of a heavy-tailed quantity falls short, and its jackknife SE understates the error)."""
    from theory.finite_width import FOURTH_MOMENT_RELIABLE as reliable

    with style():
        fig = new_figure(figsize=(11.0, 4.8))
        axes = fig.subplots(1, 2)
        for ax, (panel, by_width) in zip(axes, points.items()):
            for color, (n, p) in zip(COLORS, by_width.items()):
                hollow = None if p.get("fourth_se") is None else np.asarray(p["fourth_se"]) > reliable
                layers = _points_and_first_order(ax, p["mc"], p["se"], p["first"], color, n, lang, hollow=hollow)
                if p["exact"] is not None:
                    ax.plot(layers, p["exact"], "-", color=color, lw=1.0)
                    at = BREAKDOWN * int(n) + 1
                    if at <= layers[-1]:
                        ax.axvline(at, color=color, lw=0.8, ls=":")
            ax.plot([], [], "--", color="0.4", label=text("fk_first", lang))
            if panel == "relu":
                ax.plot([], [], "-", color="0.4", label=text("fk_exact", lang))
                ax.plot([], [], ":", color="0.4", label=text("fk_breakdown", lang, r=BREAKDOWN))
                if any(p.get("fourth_se") is not None and max(p["fourth_se"]) > reliable for p in by_width.values()):
                    ax.errorbar([], [], yerr=[], fmt="o", ms=4, color="0.4", mfc="white",
                                label=text("fk_hollow", lang, r=str(Fraction(reliable).limit_denominator(100))))
            if panel == "relu":  # the exact law grows geometrically: a log scale past 0.1
                ax.set_yscale("symlog", linthresh=0.1)
            ax.set_title(text(f"fk_{panel}", lang), fontsize=11)
            ax.set_xlabel(text("fk_x", lang))
            ax.set_ylabel(text("fk_y", lang))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    return fig


@register("finite-width-kurtosis", GROUP, "excess kurtosis of a pre-activation by depth at widths 16-128: Monte "
                                          "Carlo against the first order in 1/width (ReLU with its exact law, tanh)")
def make_kurtosis(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``finite-width-kurtosis``: :func:`plot_kurtosis` of :func:`kurtosis_points` (memoized); returns the
    written PNG and PDF."""
    from sims import memo

    return save(plot_kurtosis(memo.call(kurtosis_points, fast=fast), lang), out_dir, "finite-width-kurtosis", lang,
                fast)


# ------------------------------------------------------------------------------------------------ the mean
VAR_CONFIG = ("tanh", "glorot_normal:plain", 0.05)
VAR_SEEDS, VAR_BATCH = 1500, 64
VAR_FAST = {"depth": 5, "seeds": 200, "widths": (16, 64)}


def variance_points(fast: bool = False) -> dict:
    """width -> {"scaled": n (E[h^2] - K) by layer, "se": n SE, "theory": n d (first order)}: tanh with Gaussian
    inputs (memoized by the figure)."""
    from sims.engine import simulate
    from theory.config import NetworkConfig
    from theory.fluctuations import for_config

    act, init, bias = VAR_CONFIG
    depth, seeds = (VAR_FAST["depth"], VAR_FAST["seeds"]) if fast else (DEPTH, VAR_SEEDS)
    out = {}
    for k, n in enumerate(VAR_FAST["widths"] if fast else WIDTHS):
        cfg = NetworkConfig(act, init, width=n, depth=depth, bias_var=bias)
        mean, se = simulate(cfg, VAR_BATCH, seeds, dtype="float64", seed=7 + k)["summary"]["preact_var"]
        theory = for_config(cfg)
        out[str(n)] = {"scaled": [float(n * (m - t["kernel"])) for m, t in zip(mean, theory)],
                       "se": [float(n * s) for s in se], "theory": [n * t["mean_shift"] for t in theory]}
    return out


def plot_variance(points: dict, lang: str):
    """n (E[h^2] - K) by layer at each width, with the first-order n d (one curve per width, nearly one curve)."""
    with style():
        fig = new_figure(figsize=(8.0, 5.0))
        ax = fig.add_subplot()
        for k, (color, (n, p)) in enumerate(zip(COLORS, points.items())):
            _points_and_first_order(ax, p["scaled"], p["se"], p["theory"], color, n, lang, shift=0.1 * (k - 1.5))
        ax.plot([], [], "--", color="0.4", label=text("fk_first", lang))
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_title(text("fv_title", lang), fontsize=11)
        ax.set_xlabel(text("fk_x", lang))
        ax.set_ylabel(text("fv_y", lang))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


@register("finite-width-variance", GROUP, "n (E[h^2] - K) by depth for tanh at widths 16-128: Monte Carlo against "
                                          "the first-order mean correction")
def make_variance(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``finite-width-variance``: :func:`plot_variance` of :func:`variance_points` (memoized)."""
    from sims import memo

    return save(plot_variance(memo.call(variance_points, fast=fast), lang), out_dir, "finite-width-variance", lang,
                fast)
