"""Experiment l, the «Трюки» slide: «Не забывайте перемешивать обучающую выборку перед каждой новой эпохой»
(don't forget to shuffle the training set before every epoch).

The digits' training split sorted by class (:func:`sims.data.class_sorted`) and fed in that order every epoch
(``shuffle=False``), against the same rows reshuffled every epoch, and against a random order fixed once (the split
is already in random order; ``shuffle=False``: "shuffled once"), each without and with batch norm. A 64-64-64-10
relu net (he_uniform), plain SGD, batch 32.

In class order every minibatch holds one class (about 4 consecutive batches per class): each block of steps pulls
the network towards predicting that class, the per-step loss jumps at each class boundary and falls within the
block, and the epoch always ends on the last class, so the network evaluated after the epoch is biased towards it.
With batch norm it is far worse: a one-class minibatch is normalized by its own mean and variance, which removes
exactly what its rows have in common, the class; the train-mode network sees nearly no class signal (train loss
stays near ln 10) and the running statistics used at evaluation average over batches of different classes.

Measured: validation accuracy after each epoch (first and final), the test accuracy, and the oscillation of the
loss within an epoch: the standard deviation of the per-step training losses of one epoch (each step's loss on
its own minibatch, before its update), per epoch and in the last one.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from sims.data import class_sorted, load_dataset
from sims.experiments.common import SEEDS, seed_list, seeds_of, spread
from sims.train import MLP, train
from theory.errors import SpecError

CONFIG = {"hidden": (64, 64), "activation": "relu", "init": "he_uniform", "optimizer": "sgd", "lr": 0.05,
          "batch": 32, "epochs": 15}
ORDERS = {  # name -> (class-sorted rows?, reshuffle every epoch?)
    "sorted": (True, False),
    "shuffled_once": (False, False),
    "reshuffled": (True, True),  # class-sorted rows, but train() draws a fresh permutation every epoch
}


def ordered_data(data, sort: bool):
    """``data`` with its training rows in class order (``sort``) or as split (already in random order)."""
    if not sort:
        return data
    x, y = class_sorted(data.x_train, data.y_train)
    return dataclasses.replace(data, x_train=x, y_train=y)


def train_order(order: str, *, batchnorm: bool, seed: int = 0, data=None, **overrides) -> dict:
    """One run: per epoch ``val_acc``, ``train_loss``, ``step_std`` (std of that epoch's per-step losses); the
    per-step losses of the last epoch (``last_epoch_losses``) and their class labels' order (``last_epoch_classes``:
    the majority class of each minibatch); ``test_acc``."""
    if order not in ORDERS:
        raise SpecError(f"unknown order {order!r}; known: {', '.join(ORDERS)}")
    cfg = {**CONFIG, **overrides}
    sort, reshuffle = ORDERS[order]
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    data = ordered_data(data, sort)
    model = MLP([data.n_features, *cfg["hidden"], data.n_classes], cfg["activation"], cfg["init"],
                batchnorm=batchnorm, seed=model_seed)
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
              seed=train_seed, shuffle=reshuffle, record_steps=True, grad_norms=False)
    hist = r["history"]
    by_epoch: dict[int, list[float]] = {}
    for s in r["steps"]:
        by_epoch.setdefault(s["epoch"], []).append(s["loss"])
    last = by_epoch[hist[-1]["epoch"]]
    classes = None
    if not reshuffle:  # the batches are the fixed consecutive slices of the training rows
        b = cfg["batch"]
        classes = [int(np.bincount(data.y_train[i:i + b]).argmax()) for i in range(0, len(data.y_train), b)]
    return {"order": order, "batchnorm": batchnorm, **cfg, "val_acc": [h["val_acc"] for h in hist],
            "train_loss": [h["train_loss"] for h in hist],
            "step_std": [float(np.std(by_epoch[h["epoch"]])) for h in hist],
            "last_epoch_losses": last, "last_epoch_classes": classes, "test_acc": r["test_acc"],
            "diverged_at": r["diverged_at"]}


def config_name(order: str, batchnorm: bool) -> str:
    """The key of a configuration: the order, with ``+bn`` appended when batch norm is on (``sorted``,
    ``sorted+bn``)."""
    return f"{order}+bn" if batchnorm else order


def run(*, seed: int = 0, orders=tuple(ORDERS), batchnorm=(False, True), **overrides) -> dict:
    """Every order without and with batch norm (keys ``sorted``, ..., ``sorted+bn``, ...), on one data split and
    one set of seeds."""
    data = load_dataset("digits", seed=seeds_of(seed)[0])
    return {"seed": seed, "runs": {config_name(o, bn): train_order(o, batchnorm=bn, seed=seed, data=data, **overrides)
                                   for bn in batchnorm for o in orders}}


def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """Per configuration (:func:`config_name`): ``val_acc_first`` (after epoch 1), ``val_acc_final``, ``test_acc``,
    ``step_std_last`` (loss oscillation in the last epoch), and ``step_std_ratio`` = step_std_last over the
    reshuffled run's (same seed and batch-norm setting)."""
    seeds = seed_list(seeds)
    runs = [run(seed=s, **kw) for s in seeds]
    out = {"seeds": seeds, "runs": {}}
    for key in runs[0]["runs"]:
        rs = [r["runs"][key] for r in runs]
        ref = [r["runs"].get(config_name("reshuffled", rs[0]["batchnorm"])) for r in runs]
        row = {"val_acc_first": spread([r["val_acc"][0] for r in rs]),
               "val_acc_final": spread([r["val_acc"][-1] for r in rs]),
               "test_acc": spread([r["test_acc"] for r in rs]),
               "step_std_last": spread([r["step_std"][-1] for r in rs])}
        if all(f is not None for f in ref):
            row["step_std_ratio"] = spread([r["step_std"][-1] / f["step_std"][-1] for r, f in zip(rs, ref)])
        out["runs"][key] = row
    return out
