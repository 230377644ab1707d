"""Dropout figures (slides «Dropout», «Dropout в формулах», «Обратный Dropout»).

* ``dropout-network``: a small fully connected network during one training step of dropout: every hidden unit is
  kept with probability p (the keep probability, the slides' D ~ Bern(p)); dropped units are crossed out and
  their connections removed. The mask is drawn from ``numpy.random.default_rng(SEED)``, not typed in.
* ``dropout-thinned``: four of the 2^n thinned networks that dropout trains («Dropout эквивалентен обучению 2^n
  сетей»): the same weights, different masks.
* ``dropout-gap``: |exact ensemble mean - weight scaling| over independent random networks against the number of
  dropped units, for several keep probabilities (:func:`sims.dropout.ensemble_gap`).
* ``dropout-variance-shift``: the variance a batch-norm layer sees after inverted dropout, test over train,
  against p: the theory p v / (v + (1 - p) c^2) (:mod:`theory.dropout`) and the measured ratio
  (:func:`sims.dropout.variance_shift_network`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from figures.common import new_figure, register, save, style, text

GROUP = "dropout"
SEED = 0
LAYERS = (4, 6, 6, 2)  # input, two hidden layers, output
KEEP = 0.5
KEPT, DROPPED, EDGE = "#1f5fa8", "#c8c8c8", "#5a5a5a"


def masks_for(layers=LAYERS, keep: float = KEEP, count: int = 1, seed: int = SEED) -> list[list[np.ndarray]]:
    """``count`` dropout masks of the hidden layers (input and output units are never dropped), Bernoulli(keep)."""
    rng = np.random.default_rng(seed)
    return [[rng.random(n) < keep for n in layers[1:-1]] for _ in range(count)]


def _positions(layers):
    pos = []
    for k, n in enumerate(layers):
        ys = np.linspace(-(n - 1) / 2, (n - 1) / 2, n)
        pos.append(np.column_stack([np.full(n, 2.0 * k), ys]))
    return pos


def draw_network(ax, layers, hidden_masks, lw=1.0, radius=0.22):
    """Units as circles, edges between kept units; a dropped unit is grey with a cross and no edges."""
    pos = _positions(layers)
    alive = [np.ones(layers[0], bool), *hidden_masks, np.ones(layers[-1], bool)]
    for k in range(len(layers) - 1):
        for a in range(layers[k]):
            for b in range(layers[k + 1]):
                if alive[k][a] and alive[k + 1][b]:
                    (x0, y0), (x1, y1) = pos[k][a], pos[k + 1][b]
                    ax.plot([x0, x1], [y0, y1], color=EDGE, lw=lw, alpha=0.55, zorder=1)
    for k, p in enumerate(pos):
        for a, (x, y) in enumerate(p):
            on = alive[k][a]
            ax.add_patch(_circle((x, y), radius, KEPT if on else DROPPED))
            if not on:
                d = radius * 0.75
                ax.plot([x - d, x + d], [y - d, y + d], color="#8b0000", lw=2, zorder=4)
                ax.plot([x - d, x + d], [y + d, y - d], color="#8b0000", lw=2, zorder=4)
    ax.set_xlim(-0.5, 2.0 * (len(layers) - 1) + 0.5)
    h = max(layers) / 2 + 0.3
    ax.set_ylim(-h, h)
    ax.set_aspect("equal")
    ax.axis("off")


def _circle(center, radius, color):
    from matplotlib.patches import Circle
    return Circle(center, radius, facecolor=color, edgecolor="black", lw=1.0, zorder=3)


def plot_network(lang: str, layers=LAYERS, keep: float = KEEP, seed: int = SEED):
    """``dropout-network``: the full network (left) beside the same network under one mask of :func:`masks_for` (hidden
    units kept with probability ``keep``, from ``seed``) with the dropped units crossed out (right)."""
    (mask,) = masks_for(layers, keep, 1, seed)
    with style():
        fig = new_figure(figsize=(9.0, 5.6))
        ax_full, ax_drop = fig.subplots(1, 2)
        draw_network(ax_full, layers, [np.ones(n, bool) for n in layers[1:-1]])
        ax_full.set_title(text("do_full", lang), fontsize=12)
        draw_network(ax_drop, layers, mask)
        ax_drop.set_title(text("do_dropped", lang, k=int(sum(m.sum() for m in mask)),
                               n=sum(layers[1:-1])), fontsize=12)
        fig.suptitle(text("do_network_title", lang, keep=f"{keep:g}"), fontsize=13)
    return fig


def plot_thinned(lang: str, layers=LAYERS, keep: float = KEEP, seed: int = SEED, count: int = 4):
    """``dropout-thinned``: ``count`` thinned networks, one panel per mask of :func:`masks_for` (seed ``seed + 1``), of
    the 2^n (n hidden units) that share the weights."""
    masks = masks_for(layers, keep, count, seed + 1)
    n = sum(layers[1:-1])
    with style():
        fig = new_figure(figsize=(10.0, 4.2))
        axes = fig.subplots(1, count)
        for k, (ax, mask) in enumerate(zip(axes, masks)):
            draw_network(ax, layers, mask, lw=0.7, radius=0.2)
            ax.set_title(text("do_thinned_panel", lang, k=k + 1), fontsize=11)
        fig.suptitle(text("do_thinned_title", lang, count=count, n=n, total=2**n, keep=f"{keep:g}"), fontsize=12)
    return fig


@register("dropout-network", GROUP, "a network during one dropout step: dropped hidden units crossed out")
def make_network(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``dropout-network``: :func:`plot_network` of :data:`LAYERS` at keep :data:`KEEP`; returns the written PNG
    and PDF."""
    return save(plot_network(lang), out_dir, "dropout-network", lang, fast)


@register("dropout-thinned", GROUP, "four of the 2^n thinned networks that share the weights")
def make_thinned(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``dropout-thinned``: :func:`plot_thinned`, four masks; returns the written PNG and PDF."""
    return save(plot_thinned(lang), out_dir, "dropout-thinned", lang, fast)


# --------------------------------------------------------------------------- ensemble vs weight scaling
GAP_UNITS, GAP_UNITS_FAST = (2, 4, 6, 8, 10, 12, 14, 16), (2, 4, 8, 12)
GAP_KEEPS = (0.5, 0.8, 0.9)
GAP_SEEDS, GAP_SEEDS_FAST = 64, 16
GAP_COLORS = {0.5: "#c0392b", 0.8: "#1f5fa8", 0.9: "#2e8b57"}


def gap_runs(units=GAP_UNITS, keeps=GAP_KEEPS, seeds: int = GAP_SEEDS, activation: str = "relu") -> dict:
    """keep -> [ensemble_gap(...) per number of units]; run k uses rng_seed SEED + k (independent networks)."""
    from sims.dropout import ensemble_gap

    out, k = {}, 0
    for keep in keeps:
        out[keep] = []
        for n in units:
            out[keep].append(ensemble_gap(n, keep, activation, seeds=seeds, rng_seed=SEED + k))
            k += 1
    return out


def plot_gap(runs: dict, lang: str, linear: list[dict] | None = None):
    """``dropout-gap``: |exact 2^n-mask ensemble mean - weight scaling| (``gap_abs_mean`` +- ``gap_abs_se`` of each
    :func:`gap_runs` result) against the number of dropped units, one line per keep probability, and ``linear`` (the
    same for linear networks: 0 up to rounding, the case where weight scaling is exact) as a black line."""
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        if linear:
            ax.plot([r["units"] for r in linear], [r["gap_abs_mean"] for r in linear], "x-", color="black", lw=1.4,
                    ms=6, label=text("do_gap_linear", lang, keep=f"{linear[0]['keep']:g}"), zorder=5)
        for keep, rows in runs.items():
            n = np.array([r["units"] for r in rows])
            y = np.array([r["gap_abs_mean"] for r in rows])
            se = np.array([r["gap_abs_se"] for r in rows])
            ax.errorbar(n, y, yerr=se, fmt="o-", color=GAP_COLORS.get(keep, "0.3"), capsize=3, ms=5,
                        label=text("do_gap_keep", lang, keep=f"{keep:g}"))
        first = next(iter(runs.values()))[0]
        ax.set_xlabel(text("do_gap_units", lang))
        ax.set_ylabel(text("do_gap_y", lang))
        ax.set_title(text("do_gap_title", lang, act=first["activation"], seeds=first["seeds"]), fontsize=12)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=10)
    return fig


@register("dropout-gap", GROUP, "|exact 2^n-mask ensemble mean - weight scaling| against the number of units, "
                                "for keep 0.5, 0.8, 0.9 (relu, two layers after dropout), and a linear network")
def make_gap(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``dropout-gap``: :func:`plot_gap` of :func:`gap_runs` (relu; ``fast``: :data:`GAP_UNITS_FAST`, 16 networks
    per point instead of 64); returns the written PNG and PDF."""
    units, seeds = (GAP_UNITS_FAST, GAP_SEEDS_FAST) if fast else (GAP_UNITS, GAP_SEEDS)
    runs = gap_runs(units, seeds=seeds)
    linear = gap_runs(units, keeps=(GAP_KEEPS[0],), seeds=seeds, activation="linear")[GAP_KEEPS[0]]
    return save(plot_gap(runs, lang, linear), out_dir, "dropout-gap", lang, fast)


# -------------------------------------------------------------------------------------- variance shift
SHIFT_KEEPS = (0.3, 0.5, 0.7, 0.8, 0.9, 1.0)
SHIFT_REPLICAS, SHIFT_REPLICAS_FAST = 16, 4
SHIFT_STEPS, SHIFT_STEPS_FAST = 200, 100


def shift_runs(keeps=SHIFT_KEEPS, replicas: int = SHIFT_REPLICAS, steps: int = SHIFT_STEPS,
               activation: str = "relu") -> list[dict]:
    """One :func:`sims.dropout.variance_shift_network` per keep probability, the k-th with seed SEED + k (independent);
    each dict has ``keep``, ``ratio_mean``, ``ratio_se``, ``replicas``, ``width``, ``activation``."""
    from sims.dropout import variance_shift_network

    return [variance_shift_network(keep, seed=SEED + k, replicas=replicas, steps=steps, activation=activation)
            for k, keep in enumerate(keeps)]


def shift_theory(activation: str, keeps: np.ndarray) -> np.ndarray:
    """p v / (v + (1 - p) c^2) with c, v the mean and variance of phi(z), z ~ N(0, 1) (theory.activations)."""
    from theory.activations import get_activation, moments
    from theory.dropout import variance_shift

    m = moments(get_activation(activation), 1.0)
    c, v = m["mean"], m["second"] - m["mean"] ** 2
    return np.array([variance_shift(float(p), c, v) for p in keeps])


def plot_shift(runs: list[dict], lang: str):
    """``dropout-variance-shift``: Var_test / Var_train of the BN input against the keep probability p: the theory p v /
    (v + (1 - p) c^2) (:func:`shift_theory`), the line p, and each run's ``ratio_mean`` +- ``ratio_se``."""
    act = runs[0]["activation"]
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        grid = np.linspace(0.05, 1.0, 96)
        ax.plot(grid, shift_theory(act, grid), color="#1f5fa8", lw=2, label=text("do_shift_theory", lang))
        ax.plot(grid, grid, color="0.6", lw=1, ls=":", label=text("do_shift_p", lang))
        keeps = np.array([r["keep"] for r in runs])
        y = np.array([r["ratio_mean"] for r in runs])
        se = np.array([r["ratio_se"] for r in runs])
        ax.errorbar(keeps, y, yerr=se, fmt="s", color="#c0392b", mfc="white", ms=7, capsize=3,
                    label=text("do_shift_mc", lang, replicas=runs[0]["replicas"], width=runs[0]["width"]))
        ax.set_xlabel(text("do_shift_x", lang))
        ax.set_ylabel(text("do_shift_y", lang))
        ax.set_title(text("do_shift_title", lang, act=act), fontsize=12)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=10, loc="upper left")
    return fig


@register("dropout-variance-shift", GROUP, "Var_test / Var_train of a BN input after inverted dropout against the "
                                           "keep probability: theory p v/(v + (1-p) c^2) and measured")
def make_shift(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``dropout-variance-shift``: :func:`plot_shift` of :func:`shift_runs` (relu; 16 replicas, 200 steps;
    ``fast``: 4 and 100); returns the written PNG and PDF."""
    runs = shift_runs(replicas=SHIFT_REPLICAS_FAST if fast else SHIFT_REPLICAS,
                      steps=SHIFT_STEPS_FAST if fast else SHIFT_STEPS)
    return save(plot_shift(runs, lang), out_dir, "dropout-variance-shift", lang, fast)
