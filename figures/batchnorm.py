"""Batch-norm figures (slides «А что внутри?», «Batch norm (2015)»; Ioffe & Szegedy 2015 Fig. 1; Yang et al. 2019).

* ``bn-gradient-rate``: the per-layer growth rate lambda(B) of the squared gradient norm in batch-normalized
  networks at initialization, theory (:func:`theory.batchnorm_rate.gradient_rate`, linear and ReLU) as lines over
  every integer batch size, Monte Carlo (:func:`sims.bnrate.measure_rate`, mean +- standard error across
  networks) as points, tanh measured only.
* ``bn-unit-percentiles``: Ioffe & Szegedy's Fig. 1 on the digits (:mod:`sims.experiments.bn_training`, 3 x 100
  sigmoid units, SGD): validation accuracy over training steps and the 15th, 50th and 85th percentiles of one
  unit's input over the steps, without and with batch norm, medians over 10 seeds.
* ``bn-unit-percentiles-depth``: the same percentiles by layer in random networks at initialization
  (:func:`sims.bnunit.unit_input_percentiles`), labelled as such: depth, not training steps.

The data functions return what the sims functions return; the ``plot_*`` functions only draw.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from figures.common import new_figure, register, save, style, text
from sims.bnrate import measure_rate
from sims.bnunit import PERCENTILES, unit_input_percentiles
from theory.batchnorm_rate import gradient_rate
from theory.config import NetworkConfig

GROUP = "batchnorm"
SEED = 0
COLORS = {"linear": "#1f5fa8", "relu": "#c0392b", "tanh": "#2e8b57"}
MARKERS = {"linear": "o", "relu": "s", "tanh": "D"}
RATE_BATCHES = (4, 8, 16, 64)


@dataclass(frozen=True)
class RateSizes:
    """Size of the Monte Carlo runs behind ``bn-gradient-rate``: network width, depth and independent networks (seeds)
    per point."""

    width: int
    depth: int
    seeds: int


RATE_SIZES = RateSizes(width=512, depth=20, seeds=32)
RATE_FAST = RateSizes(width=128, depth=14, seeds=8)


def rate_points(activations=("linear", "relu", "tanh"), batches=RATE_BATCHES, sizes: RateSizes = RATE_SIZES) -> dict:
    """activation -> list of measure_rate results, one per batch size; run k uses seed SEED + k (independent)."""
    out, k = {}, 0
    for act in activations:
        out[act] = []
        for b in batches:
            out[act].append(measure_rate(act, b, sizes.width, sizes.depth, sizes.seeds, seed=SEED + k))
            k += 1
    return out


def theory_curve(activation: str, b_max: int = 64) -> tuple[np.ndarray, np.ndarray] | None:
    """(B, lambda(B)) for every integer B = 4..b_max, or None without a closed form."""
    if gradient_rate(activation, 4) is None:
        return None
    bs = np.arange(4, b_max + 1)
    return bs, np.array([gradient_rate(activation, int(b)) for b in bs])


def plot_rate(points: dict, lang: str, sizes: RateSizes):
    """``bn-gradient-rate``: lambda(B) = E|dL/dh_(l-1)|^2 / E|dL/dh_l|^2 against the batch size B (log2 axis):
    :func:`theory_curve` as lines where a closed form exists (linear, ReLU), the ``measured_rate`` +- ``se`` of each
    :func:`rate_points` result as points, and the no-growth level 1."""
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        ax.axhline(1.0, color="0.6", lw=1, ls=":", label=text("bn_no_growth", lang))
        for act, results in points.items():
            color = COLORS.get(act, "0.3")
            curve = theory_curve(act, max(r["batch"] for r in results))
            if curve is not None:
                ax.plot(*curve, color=color, lw=1.8, label=text("bn_theory", lang, act=act))
            bs = np.array([r["batch"] for r in results], dtype=float)
            y = np.array([r["measured_rate"] for r in results], dtype=float)
            se = np.array([r["se"] for r in results], dtype=float)
            ok = np.isfinite(y) & np.isfinite(se)
            label = text("bn_mc" if curve is not None else "bn_mc_only", lang, act=act)
            ax.errorbar(bs[ok], y[ok], yerr=se[ok], fmt=MARKERS.get(act, "o"), color=color, mfc="white", ms=7,
                        capsize=3, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(RATE_BATCHES, [str(b) for b in RATE_BATCHES])
        ax.set_xlabel(text("bn_batch", lang))
        ax.set_ylabel(text("bn_rate", lang))
        ax.set_title(text("bn_rate_title", lang, width=sizes.width, depth=sizes.depth, seeds=sizes.seeds),
                     fontsize=12)
        ax.legend(fontsize=10)
        ax.grid(alpha=0.3)
    return fig


@register("bn-gradient-rate", GROUP, "growth rate of the squared gradient norm per layer in BN networks vs batch "
                                     "size: theory (linear, ReLU) and Monte Carlo (linear, ReLU, tanh)")
def make_rate(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``bn-gradient-rate``: :func:`plot_rate` of :func:`rate_points` at :data:`RATE_SIZES` (``fast``:
    :data:`RATE_FAST`; memoized by :mod:`sims.memo`, so the second language draws without rerunning); returns the
    written PNG and PDF."""
    from sims import memo

    sizes = RATE_FAST if fast else RATE_SIZES
    return save(plot_rate(memo.call(rate_points, sizes=sizes), lang, sizes), out_dir, "bn-gradient-rate", lang, fast)


# ------------------------------------------------------------------------------------------- percentiles
PCT_CONFIG = NetworkConfig(activation="sigmoid", init="glorot_uniform", width=100, depth=20)
PCT_FAST = NetworkConfig(activation="sigmoid", init="glorot_uniform", width=100, depth=10)
PCT_BATCH, PCT_BATCH_FAST = 2000, 500


def percentile_runs(config: NetworkConfig = PCT_CONFIG, batch: int = PCT_BATCH) -> dict:
    """{False: without BN, True: with BN} -> (depth, 3) percentiles of unit 0's input; the same seed for both, so
    the two panels share the first layer's weights and inputs."""
    return {bn: unit_input_percentiles(config, batch, batchnorm=bn, seed=SEED) for bn in (False, True)}


def plot_percentiles(runs: dict, config: NetworkConfig, batch: int, lang: str):
    """``bn-unit-percentiles-depth``: the 15/50/85th percentiles of unit 0's input by layer from
    :func:`percentile_runs`, without batch norm (left) and with it (right), on a shared y axis."""
    with style():
        fig = new_figure()
        axes = fig.subplots(1, 2, sharey=True)
        layers = np.arange(1, config.depth + 1)
        shades = ("#7fa7d9", "#1f5fa8", "#7fa7d9")
        for ax, bn in zip(axes, (False, True)):
            p = runs[bn]
            for k, q in enumerate(PERCENTILES):
                ax.plot(layers, p[:, k], color=shades[k], lw=2.2 if k == 1 else 1.4,
                        label=text("bn_percentile", lang, q=f"{q:g}"))
            ax.set_title(text("bn_with" if bn else "bn_without", lang))
            ax.set_xlabel(text("bn_layer", lang))
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(text("bn_unit_input", lang))
        axes[0].legend(fontsize=10)
        fig.suptitle(text("bn_pct_title", lang, act=config.activation, width=config.width, depth=config.depth,
                          batch=batch), fontsize=12)
    return fig


@register("bn-unit-percentiles-depth", GROUP, "15/50/85th percentiles of one sigmoid unit's input by layer, without "
                                              "and with BN, in random networks at initialization")
def make_percentiles(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``bn-unit-percentiles-depth``: :func:`plot_percentiles` of :func:`percentile_runs` at :data:`PCT_CONFIG`,
    batch 2000 (``fast``: :data:`PCT_FAST`, batch 500); returns the written PNG and PDF."""
    config, batch = (PCT_FAST, PCT_BATCH_FAST) if fast else (PCT_CONFIG, PCT_BATCH)
    fig = plot_percentiles(percentile_runs(config, batch), config, batch, lang)
    return save(fig, out_dir, "bn-unit-percentiles-depth", lang, fast)


# --------------------------------------------------------------------- the training version (experiment b)
def plot_training_percentiles(result: dict, lang: str):
    """Ioffe & Szegedy Fig. 1: validation accuracy over steps (median and min-max over seeds), and the 15/50/85th
    percentiles of one unit's input over training steps (median over seeds), without and with batch norm."""
    nets = result["networks"]
    colors = {"plain": "#c0392b", "batchnorm": "#1f5fa8"}
    with style():
        fig = new_figure(figsize=(13.0, 4.6))
        ax_acc = fig.add_subplot(1, 3, 1)
        ax_plain = fig.add_subplot(1, 3, 2)
        ax_bn = fig.add_subplot(1, 3, 3, sharey=ax_plain)  # one y scale: the drift is compared by eye
        for key in ("plain", "batchnorm"):
            e = nets[key]
            steps = np.asarray(e["eval_steps"])
            ax_acc.plot(steps, e["val_acc"]["median"], color=colors[key], lw=2,
                        label=text("bn_with" if key == "batchnorm" else "bn_without", lang))
            ax_acc.fill_between(steps, e["val_acc"]["min"], e["val_acc"]["max"], color=colors[key], alpha=0.2)
        ax_acc.set_xlabel(text("bnt_steps", lang))
        ax_acc.set_ylabel(text("bnt_acc", lang))
        ax_acc.legend(fontsize=10)
        ax_acc.grid(alpha=0.3)
        shades = ("#7fa7d9", "#1f5fa8", "#7fa7d9")
        for ax, key in ((ax_plain, "plain"), (ax_bn, "batchnorm")):
            u = np.asarray(nets[key]["units_median"])
            for k, q in enumerate(result["percentiles"]):
                ax.plot(np.arange(len(u)), u[:, k], color=shades[k], lw=2.0 if k == 1 else 1.2,
                        label=text("bn_percentile", lang, q=f"{q:g}"))
            ax.set_title(text("bn_with" if key == "batchnorm" else "bn_without", lang), fontsize=12)
            ax.set_xlabel(text("bnt_steps", lang))
            ax.grid(alpha=0.3)
        ax_plain.set_ylabel(text("bnt_unit", lang))
        ax_plain.legend(fontsize=9)
        fig.suptitle(text("bnt_title", lang, hidden="×".join(map(str, result["hidden"])), batch=result["batch"],
                          lr=result["lr"], seeds=len(result["seeds"])), fontsize=12)
    return fig


@register("bn-unit-percentiles", GROUP, "Ioffe & Szegedy Fig. 1 on digits: accuracy over steps and one sigmoid "
                                        "unit's input percentiles during training, without and with BN")
def make_training_percentiles(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``bn-unit-percentiles``: :func:`plot_training_percentiles` of ``bn_training.over_seeds`` (memoized by
    :mod:`sims.memo`, BLAS on one thread; ``fast``: ``FAST_EPOCHS``); returns the written PNG and PDF."""
    from sims.experiments import bn_training

    from sims import memo
    from sims.experiments.common import blas_single_thread

    with blas_single_thread():  # as every training experiment: floats independent of the core count
        result = memo.call(bn_training.over_seeds, epochs=bn_training.FAST_EPOCHS if fast else bn_training.EPOCHS)
    return save(plot_training_percentiles(result, lang), out_dir, "bn-unit-percentiles", lang, fast)
