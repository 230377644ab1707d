"""Experiment g, early stopping and model size: an over-parameterized net on a small training set.

* :func:`curves`: 64-256-256-10 relu (he_uniform; 83k weights) trained by Adam on N_TRAIN = 200 digits, validated
  on 539 (val_fraction 0.3, so the validation curve is not too noisy). The training loss goes to ~0 and the
  training accuracy to 1; the validation loss has a minimum and then rises (the net grows more confident on the
  validation digits it gets wrong), while the validation accuracy stays near its plateau. Early stopping with
  patience P (:func:`sims.train.train`): stop after P epochs without a new minimum of the validation loss and
  restore the best weights. The full run and the early-stopped run share every seed, so the early-stopped history
  is a prefix of the full one (floats equal) and the stopping epoch can be read off the full curves.
* :func:`sizes`: one hidden layer of width 8, 32, 128, 512, same data and budget: final training vs validation
  accuracy (the gap) and loss. On these digits the gap does NOT grow with width: the widest nets fit the 200
  examples exactly and still validate best (over-parameterized nets trained by gradient descent generalize well:
  Zhang et al. 2017, "Understanding deep learning requires rethinking generalization"; Belkin et al. 2019); the
  narrowest one neither fits the training set nor validates well.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import SEEDS, censored_spread, check_runs, seed_list, seeds_of, spread
from sims.train import MLP, train
from theory.errors import SpecError

N_TRAIN = 200
VAL_FRACTION = 0.3
CURVES = {"hidden": (256, 256), "activation": "relu", "init": "he_uniform", "optimizer": "adam", "lr": 1e-3,
          "batch": 32, "epochs": 150, "patience": 10}
WIDTHS = (8, 32, 128, 512)
SIZES = {"activation": "relu", "init": "he_uniform", "optimizer": "adam", "lr": 1e-3, "batch": 32, "epochs": 100}


def small_data(seed: int, n_train: int = N_TRAIN, val_fraction: float = VAL_FRACTION):
    """The digits split by ``seed`` with only the first ``n_train`` training rows kept (a random subset: the
    training split is already in random order); validation and test splits untouched."""
    d = load_dataset("digits", seed=seed, val_fraction=val_fraction)
    if not (isinstance(n_train, (int, np.integer)) and 1 <= n_train <= d.x_train.shape[0]):
        raise SpecError(f"n_train must be an integer in 1..{d.x_train.shape[0]} (got {n_train!r})")
    return dataclasses.replace(d, x_train=d.x_train[:n_train], y_train=d.y_train[:n_train])


def _model(data, hidden, cfg, seed):
    return MLP([data.n_features, *hidden, data.n_classes], cfg["activation"], cfg["init"], seed=seed)


def _fit(model, data, cfg, seed, **kw):
    return train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
                 seed=seed, grad_norms=False, **kw)


def _curve(hist, key):
    return [h[key] for h in hist]


def curves(*, seed: int = 0, data=None, **overrides) -> dict:
    """The full run (``history`` keys train_loss, train_acc, val_loss, val_acc per epoch) and the early-stopped run
    (``best_epoch``, ``stopped_epoch``, ``test_acc_stopped``; ``stopped_epoch`` None if patience never ran out).
    Also ``min_val_epoch`` (first minimum of the full validation loss), ``val_loss_min``, ``val_loss_final``,
    ``val_loss_rise`` = final / min - 1, ``gap_final`` = train acc - val acc at the end, ``test_acc_full``."""
    cfg = {**CURVES, **overrides}
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = small_data(data_seed) if data is None else data
    full = _fit(_model(data, cfg["hidden"], cfg, model_seed), data, cfg, train_seed)
    stopped = _fit(_model(data, cfg["hidden"], cfg, model_seed), data, cfg, train_seed,
                   early_stopping=cfg["patience"])
    hist = full["history"]
    val_loss = np.array(_curve(hist, "val_loss"))
    history = {k: _curve(hist, k) for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    return {**cfg, "n_train": int(data.y_train.shape[0]), "history": history,
            "stopped_history": {k: _curve(stopped["history"], k) for k in history},
            "best_epoch": stopped["best_epoch"], "stopped_epoch": stopped["stopped_epoch"],
            "min_val_epoch": int(np.argmin(val_loss)) + 1, "val_loss_min": float(val_loss.min()),
            "val_loss_final": float(val_loss[-1]), "val_loss_rise": float(val_loss[-1] / val_loss.min() - 1),
            "gap_final": hist[-1]["train_acc"] - hist[-1]["val_acc"],
            "val_acc_best": hist[stopped["best_epoch"] - 1]["val_acc"], "val_acc_final": hist[-1]["val_acc"],
            "test_acc_stopped": stopped["test_acc"], "test_acc_full": full["test_acc"]}


def sizes(widths=WIDTHS, *, seed: int = 0, data=None, **overrides) -> dict:
    """Per width (one hidden layer): final ``train_acc``, ``val_acc``, ``gap`` (their difference), ``train_loss``,
    ``val_loss``, ``min_val_epoch``, ``n_weights``, and the per-epoch train / validation accuracy."""
    cfg = {**SIZES, **overrides}
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = small_data(data_seed) if data is None else data
    rows = {}
    for w in widths:
        model = _model(data, (w,), cfg, model_seed)
        hist = _fit(model, data, cfg, train_seed)["history"]
        last = hist[-1]
        rows[int(w)] = {"train_acc": last["train_acc"], "val_acc": last["val_acc"],
                        "gap": last["train_acc"] - last["val_acc"], "train_loss": last["train_loss"],
                        "val_loss": last["val_loss"], "min_val_epoch": int(np.argmin(_curve(hist, "val_loss"))) + 1,
                        "n_weights": int(sum(x.size for x in model.W)),
                        "train_acc_curve": _curve(hist, "train_acc"), "val_acc_curve": _curve(hist, "val_acc")}
    return {**cfg, "widths": [int(w) for w in widths], "n_train": int(data.y_train.shape[0]), "rows": rows}


def run(*, seed: int = 0, widths=WIDTHS, curves_kw=None, sizes_kw=None) -> dict:
    """:func:`curves` and :func:`sizes` for one seed, on one data split."""
    data = small_data(seeds_of(seed)[0])
    return {"seed": seed, "curves": curves(seed=seed, data=data, **(curves_kw or {})),
            "sizes": sizes(widths, seed=seed, data=data, **(sizes_kw or {}))}


def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """Curves: ``best_epoch``, ``stopped_epoch`` (censored at the epoch budget), ``val_loss_rise``, ``gap_final``,
    ``test_acc_stopped``, ``test_acc_full``. Sizes, per width: ``train_acc``, ``val_acc``, ``gap``, ``val_loss``."""
    seeds = seed_list(seeds)
    return summarize([run(seed=s, **kw) for s in seeds])


def summarize(runs: list) -> dict:
    """The :func:`over_seeds` summary of :func:`run` results already computed (one per seed)."""
    check_runs(runs)
    cs = [r["curves"] for r in runs]
    out = {"seeds": [r["seed"] for r in runs], "curves": {k: spread([c[k] for c in cs]) for k in
                                      ("best_epoch", "min_val_epoch", "val_loss_rise", "gap_final", "val_acc_best",
                                       "val_acc_final", "test_acc_stopped", "test_acc_full")}}
    out["curves"]["stopped_epoch"] = censored_spread([c["stopped_epoch"] for c in cs], cs[0]["epochs"])
    out["sizes"] = {w: {k: spread([r["sizes"]["rows"][w][k] for r in runs])
                        for k in ("train_acc", "val_acc", "gap", "val_loss")}
                    for w in runs[0]["sizes"]["widths"]}
    return out
