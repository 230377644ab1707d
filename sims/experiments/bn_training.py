"""Experiment «Batch norm vs none», an analogue of Ioffe & Szegedy (2015), Figure 1: a network of 3 hidden layers of
100 sigmoid units trained by plain SGD with minibatches of 60, with and without batch normalization before each
sigmoid, on the standardized digits (Ioffe & Szegedy: MNIST, 50,000 steps; here 1,259 training rows, 21 steps an
epoch, 420 steps by default).

Measured per run: (a) validation accuracy (eval mode) before training and after every epoch, against the number of
SGD steps taken; (b) the 15th, 50th and 85th percentiles of the input of one sigmoid, unit 0 of the last hidden layer
(u = BN(h) with batch norm, u = h without), on a fixed monitoring batch (the first 256 training rows; train-mode
batch statistics) before training and after every step. Drift of that distribution from step 0 (before the first
update) to the last step: the shift of the median p50, the 15-85 spread s = p85 - p15 (its ratio s_last / s_0), and
the shift in units of the initial spread |p50_last - p50_0| / s_0.

Settings: weights ``glorot_uniform`` (Keras' Dense default; Ioffe & Szegedy: "small random Gaussian values"), biases
0, lr 0.5 constant. The learning rate was fixed before measuring over seeds, from a scan of lr in {0.1, 0.2, 0.3, 0.5}
at 20 epochs: it is the largest of them, and the only one where the network without batch norm ends above 0.9
validation accuracy, so the comparison is batch norm against a network that does learn, not against one stuck on its
plateau (at lr 0.1 it is still near 0.3-0.5 after 420 steps).
"""
from __future__ import annotations

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import SEEDS, blas_single_thread, seed_list, seeds_of
from sims.experiments.common import spread as _spread
from sims.train import MLP, PERCENTILES, train
from theory.errors import SpecError

HIDDEN = (100, 100, 100)
ACTIVATION = "sigmoid"
INIT = "glorot_uniform"
OPTIMIZER = "sgd"
LR = 0.5  # fixed before measuring over seeds (see the module docstring)
BATCH = 60  # Ioffe & Szegedy's minibatch
EPOCHS = 20  # 420 steps on digits; about 1 s per run on a 2-core machine
FAST_EPOCHS = 10  # 210 steps: still covers AFTER
UNIT = (3, 0)  # (layer, unit): unit 0 of the last hidden layer (layers 1-based, as sims.train.record_units)
AFTER = (50, 100, 200)  # accuracy reported after this many steps (and at the end)


def run(batchnorm: bool, seed: int = 0, epochs: int = EPOCHS, *, lr: float = LR, data=None) -> dict:
    """One training run. Returns ``eval_steps`` (0 and the cumulative step count after each epoch) with
    ``val_acc`` at those steps, ``test_acc`` at the end, ``steps`` (0, 1, ..., n), ``units`` (array (n + 1, 3):
    the 15/50/85th percentiles of the unit's input at each step, row 0 before training), ``loss`` per step
    (train-mode minibatch loss), and ``drift`` (:func:`drift`)."""
    if not isinstance(batchnorm, (bool, np.bool_)):
        raise SpecError(f"batchnorm must be a bool (got {batchnorm!r})")
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = MLP([data.n_features, *HIDDEN, data.n_classes], ACTIVATION, INIT, batchnorm=bool(batchnorm),
                seed=model_seed)
    with blas_single_thread():
        acc0 = model.evaluate(data.x_val, data.y_val)[1]
        r = train(model, data, optimizer=OPTIMIZER, lr=lr, batch=BATCH, epochs=epochs, seed=train_seed,
                  record_steps=True, record_units=[UNIT], grad_norms=False)
    if r["diverged_at"] is not None:
        raise SpecError(f"training diverged at step {r['diverged_at']} (batchnorm={batchnorm}, lr={lr}, seed={seed})")
    steps = r["steps"]
    per_epoch = np.bincount([s["epoch"] for s in steps], minlength=epochs + 1)[1:]
    units = np.array([r["units_initial"][0]] + [s["units"][0] for s in steps])
    return {"batchnorm": bool(batchnorm), "seed": seed, "epochs": epochs, "lr": lr,
            "eval_steps": [0] + np.cumsum(per_epoch).tolist(),
            "val_acc": [acc0] + [h["val_acc"] for h in r["history"]], "test_acc": r["test_acc"],
            "steps": np.arange(len(units)), "units": units, "percentiles": list(PERCENTILES),
            "loss": np.array([s["loss"] for s in steps]), "drift": drift(units), "seconds": r["seconds"]}


def drift(units) -> dict:
    """Drift of the unit's input distribution from row 0 to the last row of ``units`` (columns p15, p50, p85):
    ``median_shift`` = p50_last - p50_0, ``spread_0`` / ``spread_last`` = p85 - p15, ``spread_ratio`` =
    spread_last / spread_0, ``shift_in_spreads`` = |median_shift| / spread_0."""
    u = np.asarray(units, dtype=float)
    s0, s1 = u[0, 2] - u[0, 0], u[-1, 2] - u[-1, 0]
    shift = u[-1, 1] - u[0, 1]
    return {"median_shift": float(shift), "spread_0": float(s0), "spread_last": float(s1),
            "spread_ratio": float(s1 / s0), "shift_in_spreads": float(abs(shift) / s0)}


def accuracy_after(result: dict, n_steps: int) -> float:
    """Validation accuracy at the first evaluation after at least ``n_steps`` steps (evaluations are at epoch ends)."""
    for step, acc in zip(result["eval_steps"], result["val_acc"]):
        if step >= n_steps:
            return acc
    raise SpecError(f"the run has {result['eval_steps'][-1]} steps, fewer than {n_steps}")


def over_seeds(seeds=range(SEEDS), epochs: int = EPOCHS, *, lr: float = LR, after=AFTER) -> dict:
    """Both networks (``networks["plain"]``, ``networks["batchnorm"]``) over independent seeds (each seed: one data split, one
    batch order and one weight seed shared by the two). Per network: median / min / max (and per-seed values) of
    the validation accuracy after each of ``after`` steps and at the end, of ``test_acc``, and of each drift measure
    (``abs_median_shift`` = |median_shift|); per-step median curves of the three percentiles and per-evaluation
    median / min / max of ``val_acc``."""
    seeds = seed_list(seeds)
    out = {"seeds": seeds, "epochs": epochs, "lr": lr, "after": list(after), "batch": BATCH, "hidden": list(HIDDEN),
           "unit": list(UNIT), "percentiles": list(PERCENTILES), "networks": {}}
    runs = {False: [], True: []}
    for s in seeds:
        data = load_dataset("digits", seed=seeds_of(s)[0])
        for bn in (False, True):
            runs[bn].append(run(bn, s, epochs, lr=lr, data=data))
    for bn, rs in runs.items():
        acc = np.array([r["val_acc"] for r in rs], dtype=float)
        n_units = min(len(r["units"]) for r in rs)  # equal unless a 1-row batch was skipped
        entry = {
            "accuracy_after": {n: _spread([accuracy_after(r, n) for r in rs]) for n in after},
            "final_val_acc": _spread(acc[:, -1]),
            "test_acc": _spread([r["test_acc"] for r in rs]),
            "drift": {k: _spread([r["drift"][k] for r in rs])
                      for k in ("median_shift", "spread_0", "spread_last", "spread_ratio", "shift_in_spreads")},
            "eval_steps": rs[0]["eval_steps"],
            "val_acc": {"median": np.median(acc, axis=0), "min": acc.min(axis=0), "max": acc.max(axis=0)},
            "units_median": np.median(np.stack([r["units"][:n_units] for r in rs]), axis=0),
        }
        entry["drift"]["abs_median_shift"] = _spread([abs(r["drift"]["median_shift"]) for r in rs])
        out["networks"]["batchnorm" if bn else "plain"] = entry
    return out
