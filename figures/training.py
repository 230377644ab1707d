"""Training-experiment figures (issue: training experiments); each draws one experiment's returned results.

* ``train-standardization``: «Какая из ситуаций лучше для SGD?»: loss contours and gradient-descent paths for raw
  features on different scales and for standardized ones, and the steps to converge against the condition number
  beside the theory ceil(log tol / log((kappa - 1)/(kappa + 1))) (:mod:`sims.experiments.standardization`).
* ``train-activation-cost``: the time of e^x, the sigmoid and tanh relative to ReLU's, the trials the claims judge
  (:func:`sims.experiments.activation_cost.timing_trials`); the machine and NumPy version are printed on the figure.
"""
from __future__ import annotations

import math

from pathlib import Path

import numpy as np

from figures.common import new_figure, register, save, style, text
from sims import memo
from sims.experiments import activation_cost, standardization
from sims.experiments.common import FAST_SEEDS, SEEDS
from theory.optimization import steps_to

GROUP = "training"
CONTOUR_SCALE = 10.0


def _contours(ax, res: dict, lang: str, title_key: str):
    a, w_hat, path = res["hessian"], res["w_hat"], res["path"]
    span = np.abs(path - w_hat).max() * 1.15 + 1e-12  # a square window: the contours' true shape
    g0 = np.linspace(w_hat[0] - span, w_hat[0] + span, 161)
    g1 = np.linspace(w_hat[1] - span, w_hat[1] + span, 161)
    w0, w1 = np.meshgrid(g0, g1)
    d0, d1 = w0 - w_hat[0], w1 - w_hat[1]
    loss = 0.5 * (a[0, 0] * d0**2 + 2 * a[0, 1] * d0 * d1 + a[1, 1] * d1**2)
    ax.contour(w0, w1, loss, levels=np.geomspace(loss.max() * 1e-4, loss.max(), 12), colors="0.55",
               linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "o-", color="#c0392b", ms=3, lw=1.2)
    ax.plot(*w_hat, "*", color="black", ms=10)
    ax.set_title(text(title_key, lang, kappa=f"{res['kappa']:.3g}", steps=res["steps"]), fontsize=11)
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def plot_standardization(result: dict, lang: str):
    """``train-standardization``: GD paths on the loss contours for raw and standardized features (the scale nearest
    :data:`CONTOUR_SCALE`), and steps against kappa beside the theory ceil(log tol / log((kappa - 1)/(kappa + 1)))."""
    rows = result["rows"]
    pick = min(rows, key=lambda r: abs(r["scale"] - CONTOUR_SCALE))
    with style():
        fig = new_figure(figsize=(13.0, 4.6))
        ax_raw, ax_std, ax_k = fig.subplots(1, 3)
        _contours(ax_raw, pick["raw"], lang, "st_raw")
        _contours(ax_std, pick["standardized"], lang, "st_std")
        kappas = np.array([r["raw"]["kappa"] for r in rows] + [r["standardized"]["kappa"] for r in rows])
        steps = np.array([r["raw"]["steps"] for r in rows] + [r["standardized"]["steps"] for r in rows])
        grid = np.geomspace(1.0, kappas.max() * 1.2, 200)
        ax_k.plot(grid, [max(steps_to(k, result["tol"]), 0.5) for k in grid], color="#1f5fa8", lw=2,
                  label=text("st_theory", lang))
        ax_k.plot(kappas, np.maximum(steps, 0.5), "s", color="#c0392b", mfc="white", ms=7, label=text("st_measured", lang))
        ax_k.set_xscale("log")
        ax_k.set_yscale("log")
        ax_k.set_xlabel(text("st_kappa", lang))
        ax_k.set_ylabel(text("st_steps", lang, tol=f"{result['tol']:g}"))
        ax_k.legend(fontsize=9)
        ax_k.grid(alpha=0.3)
        fig.suptitle(text("st_title", lang), fontsize=13)
    return fig


@register("train-standardization", GROUP, "GD paths on raw vs standardized features, and steps vs condition number "
                                          "against (kappa - 1)/(kappa + 1)")
def make_standardization(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-standardization``: :func:`plot_standardization` of ``standardization.run`` (n = 500; ``fast``:
    200); returns the written PNG and PDF."""
    result = standardization.run(n=200 if fast else 500)
    return save(plot_standardization(result, lang), out_dir, "train-standardization", lang, fast)


def plot_activation_cost(result: dict, lang: str):
    """``train-activation-cost``: each operation's time relative to ReLU's, as the claims measure it
    (:func:`sims.experiments.activation_cost.timing_trials`: in-cache input, preallocated output, each trial the
    minimum of alternating calls): a bar at exp(median log ratio) over the trials, the trials' range as an error bar,
    on a log scale; the NumPy version, dtype, size, trials and machine in the title."""
    logs = result["log_ratio_to_relu"]
    names = ["relu", *logs]
    per = {"relu": np.zeros(result["trials"]), **{k: np.asarray(v, dtype=float) for k, v in logs.items()}}
    mid = np.array([math.exp(float(np.median(per[k]))) for k in names])
    low = np.array([math.exp(float(per[k].min())) for k in names])
    high = np.array([math.exp(float(per[k].max())) for k in names])
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        colors = ["#2e8b57" if k == "relu" else "#1f5fa8" if k in ("exp", "tanh") else "#c0392b" for k in names]
        ax.bar(names, mid, color=colors, yerr=[mid - low, high - mid], capsize=4, ecolor="#333333")
        for i, (r, hi) in enumerate(zip(mid, high)):
            ax.text(i, hi, f"{r:.2g}×", ha="center", va="bottom", fontsize=9)
        ax.set_yscale("log")
        ax.set_ylabel(text("ac_ratio", lang))
        ax.set_title(text("ac_title", lang, dtype=result["dtype"], size=result["size"], numpy=result["numpy"],
                          machine=result["machine"], trials=result["trials"], repeats=result["repeats"]), fontsize=11)
        ax.set_ylim(top=float(high.max()) * 4)
        ax.grid(alpha=0.3, axis="y")
    return fig


@register("train-activation-cost", GROUP, "Time of e^x, sigmoid and tanh relative to ReLU, as the claims measure it",
          timing=True)
def make_activation_cost(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-activation-cost`` (timing: drawn only when named): :func:`plot_activation_cost` of
    ``activation_cost.timing_trials`` with the claims' defaults (``fast``: 3 trials of 3 calls); returns the written
    PNG and PDF."""
    result = activation_cost.timing_trials(trials=3, repeats=3) if fast else activation_cost.timing_trials()
    return save(plot_activation_cost(result, lang), out_dir, "train-activation-cost", lang, fast)


def plot_nonzero_centred(runs: dict, summaries: dict, lang: str, show: int = 60):
    """``train-nonzero-centred``: the first ``show`` SGD steps of each activation's path in (w_1, w_2) towards the star
    w*, labelled with the medians over seeds of the same-sign fraction, path ratio and steps to tol."""
    colors = {"sigmoid": "#c0392b", "tanh": "#1f5fa8", "relu": "#2e8b57"}
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        for act, r in runs.items():
            s = summaries[act]
            ax.plot(r["path"][:show, 0], r["path"][:show, 1], "o-", ms=2.5, lw=1.0, color=colors.get(act, "0.3"),
                    label=text("nz_label", lang, act=act, frac=f"{s['same_sign_fraction']['median']:.2f}",
                               ratio=f"{s['path_ratio']['median']:.2f}", steps=f"{s['steps_to_tol']['median']:g}"))
        ax.plot(*standardization_star(), "*", color="black", ms=14)
        ax.set_aspect("equal")
        ax.set_xlabel("$w_1$")
        ax.set_ylabel("$w_2$")
        ax.set_title(text("nz_title", lang, show=show, seeds=len(next(iter(summaries.values()))["seeds"])),
                     fontsize=11)
        ax.legend(fontsize=9, loc="lower left")
        ax.grid(alpha=0.3)
    return fig


def standardization_star():
    """The target weights w* = (1, -1) of :mod:`sims.experiments.nonzero_centred` (``W_STAR``), the figure's star."""
    from sims.experiments.nonzero_centred import W_STAR
    return W_STAR


@register("train-nonzero-centred", GROUP, "SGD paths of a unit fed by sigmoid (all-positive) vs tanh vs relu inputs "
                                          "towards weights (1, -1): same-sign gradients zig-zag")
def make_nonzero_centred(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-nonzero-centred``: :func:`plot_nonzero_centred` of ``nonzero_centred.run`` and ``over_seeds`` for
    sigmoid, tanh and relu (``fast`` changes nothing); returns the written PNG and PDF."""
    from sims.experiments import nonzero_centred as nz

    acts = ("sigmoid", "tanh", "relu")
    runs = {a: nz.run(a) for a in acts}
    summaries = {a: nz.over_seeds(a) for a in acts}
    return save(plot_nonzero_centred(runs, summaries, lang), out_dir, "train-nonzero-centred", lang, fast)


# ----------------------------------------------------------------------- experiment a: inits on the seminar net
def plot_inits(inits_result: dict, acts_result: dict, lang: str):
    """``train-inits``: validation accuracy by epoch (median, min-max band over seeds) of each configuration, the inits
    (left) and the activations (right), labelled with the test accuracy median [min, max]."""
    palette = ("#c0392b", "#1f5fa8", "#e67e22", "#2e8b57")
    with style():
        fig = new_figure(figsize=(13.0, 4.8))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, res, key in ((axes[0], inits_result, "ti_inits"), (axes[1], acts_result, "ti_acts")):
            for color, (name, c) in zip(palette, res["configs"].items()):
                cur = c["curves"]["val_acc"]
                ep = np.arange(1, len(cur["median"]) + 1)
                ax.plot(ep, cur["median"], color=color, lw=2,
                        label=text("ti_label", lang, name=name, acc=f"{c['test_acc']['median']:.3f}",
                                   lo=f"{c['test_acc']['min']:.3f}", hi=f"{c['test_acc']['max']:.3f}"))
                ax.fill_between(ep, cur["min"], cur["max"], color=color, alpha=0.15)
            ax.set_title(text(key, lang), fontsize=12)
            ax.set_xlabel(text("ti_epoch", lang))
            ax.legend(fontsize=8.5, loc="lower right")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(text("ti_val_acc", lang))
        fig.suptitle(text("ti_title", lang, hidden="×".join(map(str, inits_result["hidden"])),
                          batch=inits_result["batch"], opt=inits_result["optimizer"], lr=inits_result["lr"],
                          seeds=len(inits_result["seeds"])), fontsize=12)
    return fig


@register("train-inits", GROUP, "the course's seminar network (6 x 100, batch 500) on digits: keras_uniform vs "
                                "he_uniform vs batch norm, and relu vs sigmoid vs elu")
def make_inits(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-inits``: :func:`plot_inits` of ``inits.over_seeds`` of ``run_inits`` and ``run_activations``
    (memoized, BLAS on one thread; ``fast``: ``FAST_EPOCHS``); returns the written PNG and PDF."""
    from sims.experiments import inits

    epochs = inits.FAST_EPOCHS if fast else inits.EPOCHS
    with _single_blas_thread():
        a = memo.call(inits.over_seeds, fn=inits.run_inits, epochs=epochs)
        b = memo.call(inits.over_seeds, fn=inits.run_activations, epochs=epochs)
    return save(plot_inits(a, b, lang), out_dir, "train-inits", lang, fast)


def _single_blas_thread():
    from sims.experiments.common import blas_single_thread
    return blas_single_thread()


# ------------------------------------------------------------------- experiment c: vanishing and exploding
def plot_gradients(van: dict, exp: dict, lang: str):
    """``train-gradients``: vanishing, the first epoch's |dL/dW_l| by layer per depth with the per-layer factor beside
    sqrt(chi_1); exploding, |dL/dh_l| at initialization by layer per init with its factor and where it diverges."""
    colors = ("#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
    with style():
        fig = new_figure(figsize=(13.0, 4.6))
        ax_v, ax_e = fig.subplots(1, 2)
        for color, (depth, r) in zip(colors, van["runs"].items()):
            g = np.asarray(r["grad_norms"])[0]  # epoch 1, layers 1..L+1 (the output layer last)
            ax_v.plot(np.arange(1, len(g) + 1), g, "o-", color=color, ms=4,
                      label=text("tg_depth", lang, depth=depth, factor=f"{r['factor'] or float('nan'):.3f}",
                                 theory=f"{r['factor_theory']:.3f}"))
        ax_v.set_yscale("log")
        ax_v.set_xlabel(text("tg_layer", lang))
        ax_v.set_ylabel(text("tg_wnorm", lang))
        ax_v.set_title(text("tg_vanishing", lang, act=next(iter(van["runs"].values()))["activation"]), fontsize=11)
        ax_v.legend(fontsize=8.5)
        ax_v.grid(alpha=0.3)
        for color, (init, r) in zip(("#2e8b57", "#c0392b"), exp["runs"].items()):
            d = np.asarray(r["delta_norms"])
            ax_e.plot(np.arange(1, len(d) + 1), d, "s-", color=color, ms=4,
                      label=text("tg_init", lang, init=init, factor=f"{r['delta_factor']:.2f}",
                                 theory=f"{r['delta_factor_theory']:.2f}",
                                 div=text("tg_never", lang) if r["diverged_at"] is None
                                 else text("tg_div_at", lang, step=r["diverged_at"], upd=r["diverged_at"] - 1)))
        ax_e.set_yscale("log")
        ax_e.set_xlabel(text("tg_layer", lang))
        ax_e.set_ylabel(text("tg_delta", lang))
        ax_e.set_title(text("tg_exploding", lang), fontsize=11)
        ax_e.legend(fontsize=8.5)
        ax_e.grid(alpha=0.3)
        fig.suptitle(text("tg_title", lang, seed=van["seed"]), fontsize=12)
    return fig


@register("train-gradients", GROUP, "vanishing (deep sigmoid: per-layer weight-gradient norms, the per-layer factor "
                                    "vs sqrt(chi1)) and exploding (relu, Var(w) = 4/n_in vs He) gradients in training")
def make_gradients(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-gradients``: :func:`plot_gradients` of ``gradients.run_vanishing`` (depths 3, 6, 10; 5 epochs) and
    ``run_exploding`` (3 epochs), BLAS on one thread (``fast``: 2 and 1 epochs); returns the written PNG and PDF."""
    from sims.experiments import gradients

    with _single_blas_thread():
        van = gradients.run_vanishing(depths=(3, 6, 10), epochs=2 if fast else 5)
        exp = gradients.run_exploding(epochs=1 if fast else 3)
    return save(plot_gradients(van, exp, lang), out_dir, "train-gradients", lang, fast)


# ------------------------------------------------------------------------------- experiment l: shuffling
def plot_shuffling(result: dict, lang: str):
    """``train-shuffling``: validation accuracy by epoch for each data order (sorted, shuffled once, reshuffled),
    without batch norm (left) and with it (right), labelled with the final accuracy."""
    styles = {"sorted": "-", "shuffled_once": "--", "reshuffled": ":"}
    with style():
        fig = new_figure(figsize=(12.0, 4.6))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, bn in zip(axes, (False, True)):
            for name, r in result["runs"].items():
                if bool(r["batchnorm"]) != bn:
                    continue
                ep = np.arange(1, len(r["val_acc"]) + 1)
                ax.plot(ep, r["val_acc"], styles.get(r["order"], "-"), lw=2,
                        label=text("tl_order", lang, order=r["order"], acc=f"{r['val_acc'][-1]:.2f}"))
            ax.set_title(text("bn_with" if bn else "bn_without", lang), fontsize=12)
            ax.set_xlabel(text("ti_epoch", lang))
            ax.legend(fontsize=9, loc="lower right")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(text("bnt_acc", lang))
        fig.suptitle(text("tl_title", lang, seed=result["seed"]), fontsize=12)
    return fig


@register("train-shuffling", GROUP, "class-sorted data without reshuffling vs a fixed order vs reshuffled every "
                                    "epoch, without and with batch norm")
def make_shuffling(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-shuffling``: :func:`plot_shuffling` of ``shuffling.run`` (memoized, BLAS on one thread; ``fast``:
    5 epochs); returns the written PNG and PDF."""
    from sims.experiments import shuffling

    with _single_blas_thread():
        result = memo.call(shuffling.run, **({"epochs": 5} if fast else {}))
    return save(plot_shuffling(result, lang), out_dir, "train-shuffling", lang, fast)


# --------------------------------------------------------------- experiment d: zero / constant initialization
def plot_symmetry(per_seed: list, summary: dict, lang: str):
    """``train-symmetry``: training loss by epoch per init (first seed) and the distinct hidden units per layer after
    training (largest over seeds), with the frozen relu-with-zeros facts of ``summary`` below."""
    colors = {"zeros": "#c0392b", "he_uniform": "#2e8b57"}
    result = per_seed[0]
    runs = result["runs"]
    with style():
        fig = new_figure(figsize=(12.5, 4.8))
        ax_l, ax_b = fig.subplots(1, 2)
        for init, r in runs.items():
            ax_l.plot(np.arange(1, len(r["train_loss"]) + 1), r["train_loss"], "-", lw=2,
                      color=colors.get(init, "#1f5fa8"), label=text("sy_label", lang, init=init,
                                                                    acc=f"{r['test_acc']:.3f}"))
        r0 = next(iter(runs.values()))
        ax_l.set_xlabel(text("ti_epoch", lang))
        ax_l.set_ylabel(text("sy_loss", lang))
        ax_l.set_title(text("sy_curves", lang, act=r0["activation"], hidden="×".join(map(str, r0["hidden"])),
                            lr=r0["lr"]), fontsize=11)
        ax_l.legend(fontsize=9)
        ax_l.grid(alpha=0.3)
        inits = list(summary["runs"])
        n_layers = len(r0["distinct"])
        width = 0.8 / n_layers
        for layer in range(n_layers):
            vals = [max(r["runs"][i]["distinct"][layer] for r in per_seed) for i in inits]
            x = np.arange(len(inits)) + (layer - (n_layers - 1) / 2) * width
            ax_b.bar(x, vals, width, label=text("sy_layer", lang, layer=layer + 1),
                     color=("#1f5fa8", "#9ecae1", "#6baed6")[layer % 3])
            for xi, v in zip(x, vals):
                ax_b.annotate(str(v), (xi, v), ha="center", va="bottom", fontsize=9)
        ax_b.set_xticks(np.arange(len(inits)), inits)
        ax_b.set_yscale("log")
        ax_b.set_ylim(0.7, r0["hidden"][0] * 2.5)
        ax_b.set_ylabel(text("sy_distinct", lang, n=r0["hidden"][0]))
        rel = ", ".join(f"{i} {summary['runs'][i]['max_relative']['max']:.2g}" for i in inits)
        ax_b.set_title(text("sy_bars", lang, seeds=len(summary["seeds"]), rel=rel), fontsize=10)
        ax_b.legend(fontsize=9, loc="upper left")
        fz = summary["frozen"]
        fig.supxlabel(text("sy_frozen", lang, grad=fz["max_abs_grad"], w=fz["max_abs_weight"],
                           acc=f"{fz['test_acc']['median']:.3f}"), fontsize=9.5)
        fig.suptitle(text("sy_title", lang, seed=result["seed"]), fontsize=12)
    return fig


@register("train-symmetry", GROUP, "zero and constant initialization: identical hidden units never become different "
                                   "(sigmoid), relu with zeros never moves; he_uniform as the control")
def make_symmetry(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-symmetry``: :func:`plot_symmetry` of ``symmetry.run`` per seed (``SEEDS`` = 10 seeds; ``fast``: 2 seeds, 5
    epochs) and ``symmetry.summarize``; returns the written PNG and PDF."""
    from sims.experiments import symmetry

    kw = {"epochs": 5} if fast else {}
    with _single_blas_thread():
        per_seed = [memo.call(symmetry.run, seed=s, **kw) for s in _seeds(fast)]
    summary = symmetry.summarize(per_seed)
    return save(plot_symmetry(per_seed, summary, lang), out_dir, "train-symmetry", lang, fast)


# ------------------------------------------------------------------ experiment g: early stopping and size
def plot_early_stopping(result: dict, summary: dict, lang: str):
    """``train-early-stopping``: train and validation loss (log) and accuracy by epoch with the best and stopping epochs
    (``result``), and the final accuracy against hidden width (median, min-max over seeds, ``summary``)."""
    c = result["curves"]
    h = c["history"]
    ep = np.arange(1, len(h["train_loss"]) + 1)
    with style():
        fig = new_figure(figsize=(15.0, 4.6))
        ax_l, ax_a, ax_s = fig.subplots(1, 3)
        for ax, key in ((ax_l, "loss"), (ax_a, "acc")):
            ax.plot(ep, h[f"train_{key}"], "-", color="#1f5fa8", lw=2, label=text("es_train", lang))
            ax.plot(ep, h[f"val_{key}"], "-", color="#c0392b", lw=2, label=text("es_val", lang))
            ax.axvline(c["best_epoch"], color="#2e8b57", ls="--", lw=1.2,
                       label=text("es_best", lang, epoch=c["best_epoch"]))
            if c["stopped_epoch"] is not None:
                ax.axvline(c["stopped_epoch"], color="0.4", ls=":", lw=1.2,
                           label=text("es_stop", lang, epoch=c["stopped_epoch"], patience=c["patience"]))
            ax.set_xlabel(text("ti_epoch", lang))
            ax.set_ylabel(text(f"es_{key}", lang))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=9)
        ax_l.set_yscale("log")
        ax_l.set_title(text("es_curves", lang, hidden="×".join(map(str, c["hidden"])), n=c["n_train"],
                            full=f"{c['test_acc_full']:.3f}", stopped=f"{c['test_acc_stopped']:.3f}"), fontsize=10)
        widths = sorted(summary["sizes"])
        for key, color, marker in (("train_acc", "#1f5fa8", "o"), ("val_acc", "#c0392b", "s")):
            med = np.array([summary["sizes"][w][key]["median"] for w in widths])
            lo = np.array([summary["sizes"][w][key]["min"] for w in widths])
            hi = np.array([summary["sizes"][w][key]["max"] for w in widths])
            ax_s.errorbar(widths, med, yerr=[med - lo, hi - med], fmt=f"{marker}-", color=color, capsize=3, lw=2,
                          label=text("es_train" if key == "train_acc" else "es_val", lang))
        ax_s.set_xscale("log", base=2)
        ax_s.set_xlabel(text("es_width", lang))
        ax_s.set_ylabel(text("es_acc", lang))
        ax_s.set_title(text("es_sizes", lang, seeds=len(summary["seeds"])), fontsize=10)
        ax_s.legend(fontsize=9)
        ax_s.grid(alpha=0.3)
        fig.suptitle(text("es_title", lang, n=c["n_train"], seed=result["seed"]), fontsize=12)
    return fig


@register("train-early-stopping", GROUP, "train and validation curves of an over-parameterized net on 200 digits "
                                         "with the early-stopping point, and final accuracy against width")
def make_early_stopping(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-early-stopping``: :func:`plot_early_stopping` of the first seed's ``early_stopping.run`` and the
    summary over seeds (``SEEDS`` = 10 seeds; ``fast``: 2 and fewer epochs); returns the written PNG and PDF."""
    from sims.experiments import early_stopping as es

    seeds = range(FAST_SEEDS) if fast else range(SEEDS)
    kw = {"curves_kw": {"epochs": 40}, "sizes_kw": {"epochs": 20}} if fast else {}
    with _single_blas_thread():
        per_seed = [memo.call(es.run, seed=s, **kw) for s in seeds]
    summary = es.summarize(per_seed)
    return save(plot_early_stopping(per_seed[0], summary, lang), out_dir, "train-early-stopping", lang, fast)


def _seeds(fast: bool) -> range:
    return range(FAST_SEEDS) if fast else range(SEEDS)


# ------------------------------------------------------------------------------------- experiment h: pruning
PRUNE_STYLE = {"saliency": "#c0392b", "magnitude": "#1f5fa8", "random": "0.5"}


def plot_pruning(first: dict, summary: dict, lang: str):
    """``train-pruning``: test accuracy against the fraction pruned per criterion (saliency, magnitude, random), at once
    and retrained (median, min-max band over seeds), beside the unpruned control and the restore rule's stop."""
    fr = np.asarray(first["fractions"])
    with style():
        fig = new_figure(figsize=(10.5, 5.6))
        ax = fig.add_subplot()
        cont = summary["continued"]["test_acc"]
        ax.plot(fr, [c["median"] for c in cont], "-", color="black", lw=1.2, label=text("pr_dense", lang))
        for crit, color in PRUNE_STYLE.items():
            curves = summary["criteria"][crit]["curves"]
            for arm, ls, marker in (("one_shot", "--", "o"), ("retrained", "-", "s")):
                c = curves[f"test_{arm}"]
                med = np.array([v["median"] for v in c])
                ax.plot(fr, med, ls, marker=marker, ms=5, color=color, lw=2,
                        label=f"{crit}, {text(f'pr_{arm}', lang)}")
                ax.fill_between(fr, [v["min"] for v in c], [v["max"] for v in c], color=color, alpha=0.12, lw=0)
        stop = summary["criteria"]["saliency"]["restore_fraction"]["median"]
        ax.axvline(stop, color=PRUNE_STYLE["saliency"], ls=":", lw=1.2,
                   label=text("pr_restore", lang, frac=f"{stop:g}"))
        ax.set_xlabel(text("pr_fraction", lang))
        ax.set_ylabel(text("pr_acc", lang, seeds=len(summary["seeds"])))
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8.5, loc="lower left")
        arch = "-".join(map(str, [64, *first["hidden"], 10]))
        ax.set_title(text("pr_title", lang, arch=arch), fontsize=10)
    return fig


@register("train-pruning", GROUP, "pruning by the slide's criterion (loss increase when a weight is zeroed) vs |w| "
                                  "vs random: accuracy against the fraction pruned, at once and with retraining")
def make_pruning(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-pruning``: :func:`plot_pruning` of ``pruning.run`` per seed and ``pruning.summarize`` (10 seeds;
    ``fast``: 2 seeds, 15 epochs, four fractions); returns the written PNG and PDF."""
    from sims.experiments import pruning

    kw = {"epochs": 15, "fractions": (0.5, 0.8, 0.9, 0.95)} if fast else {}
    with _single_blas_thread():
        runs = [memo.call(pruning.run, seed=s, **kw) for s in _seeds(fast)]
    return save(plot_pruning(runs[0], pruning.summarize(runs), lang), out_dir, "train-pruning", lang, fast)


# ------------------------------------------------------------------------------------- experiment i: growth
GROWTH_COLORS = {"zero_out": "0.45", "random": "0.7", "subsample": "#1f5fa8", "hardest": "#c0392b",
                 "inputs": "#2e8b57", "restarts": "#8e44ad"}


def plot_growth(first: dict, summary: dict, lang: str):
    """``train-growth``: training loss against cost (multiply-adds) per growth strategy and per size from scratch (first
    seed), and each strategy's cost / the final size's from scratch (over seeds) beside the slide's 1.5-2x."""
    with style():
        fig = new_figure(figsize=(13.5, 5.2))
        ax_c, ax_r = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
        for name, r in first["strategies"].items():
            cost, loss = np.asarray(r["cost_curve"], float), np.asarray(r["train_loss"])
            ax_c.plot(cost, loss, "-", color=GROWTH_COLORS.get(name, "0.3"), lw=1.6,
                      label=text("gr_grown", lang, name=name, h=r["h_final"]))
            grow_at = [e["epoch"] for e in r["events"]]
            ax_c.plot(cost[np.array(grow_at) - 1], loss[np.array(grow_at) - 1], "o", ms=4,
                      color=GROWTH_COLORS.get(name, "0.3"))
        dashes = ((1, 1.5), (4, 2), (8, 2, 1, 2), (1, 0))  # dotted, dashed, dash-dot, solid: one per size
        sizes = sorted(first["scratch"], key=int)
        for k, h in enumerate(sizes):
            r = first["scratch"][h]
            ax_c.plot(np.asarray(r["cost_curve"], float), r["train_loss"], color=str(0.55 - 0.5 * k / max(len(sizes) - 1, 1)),
                      lw=1.6, dashes=dashes[k % len(dashes)], label=text("gr_scratch", lang, h=h))
        ax_c.set_xscale("log")
        ax_c.set_yscale("log")
        ax_c.axhline(first["config"]["target"], color="0.3", lw=0.8)
        ax_c.set_xlabel(text("gr_cost", lang))
        ax_c.set_ylabel(text("gr_loss", lang))
        ax_c.set_title(text("gr_curves", lang, seed=first["seed"]), fontsize=10)
        ax_c.legend(fontsize=7.5, ncol=2)
        ax_c.grid(alpha=0.3)
        names = list(summary["strategies"])
        lo_claim, hi_claim = summary["claim"]
        ax_r.axhspan(lo_claim, hi_claim, color="#f1c40f", alpha=0.3, label=text("gr_claim", lang))
        ax_r.axhline(1.0, color="black", lw=0.8)
        for i, name in enumerate(names):
            r = summary["strategies"][name]["ratio"]
            ax_r.errorbar([i], [r["median"]], yerr=[[r["median"] - r["min"]], [r["max"] - r["median"]]], fmt="o",
                          color=GROWTH_COLORS.get(name, "0.3"), capsize=4, ms=7)
            ax_r.plot(np.full(len(r["values"]), i + 0.18), r["values"], ".", color=GROWTH_COLORS.get(name, "0.3"),
                      alpha=0.6)
        ax_r.set_xticks(range(len(names)), names, rotation=20)
        ax_r.set_ylabel(text("gr_ratio", lang))
        ax_r.set_title(text("gr_ratios", lang, target=first["config"]["target"], seeds=len(summary["seeds"])),
                       fontsize=10)
        ax_r.legend(fontsize=9, loc="upper right")
        ax_r.grid(alpha=0.3)
        fig.suptitle(text("gr_title", lang), fontsize=12)
    return fig


@register("train-growth", GROUP, "dynamic growth from 2 units, one added at each stall with the slide's four "
                                 "initialization strategies: total cost against the final size from scratch (1.5–2×?)")
def make_growth(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-growth``: :func:`plot_growth` of ``growth.run`` per seed and ``growth.summarize`` (10 seeds;
    ``fast``: 2 seeds, two strategies, target 0.3); returns the written PNG and PDF."""
    from sims.experiments import growth

    kw = {"strategies": ("zero_out", "hardest"), "target": 0.3} if fast else {}
    with _single_blas_thread():
        runs = [memo.call(growth.run, seed=s, **kw) for s in _seeds(fast)]
    return save(plot_growth(runs[0], growth.summarize(runs), lang), out_dir, "train-growth", lang, fast)


# --------------------------------------------------------------------------------- experiment j: pretraining
PRETRAIN_COLORS = {"scratch": "black", "units": "#1f5fa8", "autoencoder": "#c0392b"}


def plot_pretraining(first: dict, summary: dict, lang: str):
    """``train-pretraining``: validation accuracy by fine-tuning epoch (symlog) per setting, scratch and each pretrained
    arm (first seed), labelled with the median test accuracy and its difference to scratch over seeds."""
    settings = list(first["settings"])
    with style():
        fig = new_figure(figsize=(6.2 * len(settings), 5.0))
        axes = np.atleast_1d(fig.subplots(1, len(settings), sharey=True))
        for ax, name in zip(axes, settings):
            st = first["settings"][name]
            summ = summary["settings"][name]
            for arm, r in st["arms"].items():
                acc = [r["val_acc_start"], *r["val_acc"]]
                if arm == "scratch":
                    label = text("pt_scratch_label", lang, acc=f"{summ['scratch']['test_acc']['median']:.3f}")
                else:
                    d = summ[arm]["diff_test_acc"]
                    label = text("pt_arm", lang, arm=arm, acc=f"{summ[arm]['test_acc']['median']:.3f}",
                                 diff=f"{d['median']:+.3f}", lo=f"{d['min']:+.3f}", hi=f"{d['max']:+.3f}")
                ax.plot(np.arange(len(acc)), acc, "-", color=PRETRAIN_COLORS.get(arm, "0.3"), lw=2, label=label)
            ax.set_xscale("symlog", linthresh=1)
            ax.set_xlabel(text("pt_epoch", lang))
            ax.set_title(text(f"pt_{name}", lang, n=st["n_labels"]), fontsize=11)
            ax.legend(fontsize=8.5, loc="lower right")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(text("pt_val", lang))
        cfg = first["config"]
        arch = "-".join(map(str, [64, *np.atleast_1d(cfg.get("hidden", 32)), 10]))
        fig.suptitle(text("pt_title", lang, arch=arch, seed=first["seed"], seeds=len(summary["seeds"])), fontsize=11)
    return fig


@register("train-pretraining", GROUP, "pretraining in both forms of the slide (units on random subsamples, then "
                                      "joined; an autoencoder's encoder) against training from scratch")
def make_pretraining(out_dir: Path, lang: str, fast: bool) -> list[Path]:
    """Figure ``train-pretraining``: :func:`plot_pretraining` of ``pretraining.run`` per seed and
    ``pretraining.summarize`` (``SEEDS`` = 10 seeds; ``fast``: 2 seeds, the full setting, few epochs); returns the written PNG and
    PDF."""
    from sims.experiments import pretraining

    kw = {"settings": ("full",), "epochs": 3, "unit_epochs": 3, "ae_epochs": 5} if fast else {}
    with _single_blas_thread():
        runs = [memo.call(pretraining.run, seed=s, **kw) for s in _seeds(fast)]
    return save(plot_pretraining(runs[0], pretraining.summarize(runs), lang), out_dir, "train-pretraining", lang,
                fast)
