"""Experiment d, zero or constant initialization: the hidden units of a layer never become different.

In exact arithmetic units with identical incoming and outgoing weights get identical gradients at every step, so
gradient descent keeps them identical forever (derivation ``zero-init-symmetry`` in :mod:`theory.init`): a layer of
n units computes what one unit does, n times. Measured here in training runs on the digits:

* sigmoid with ``zeros`` and with every weight matrix set to a constant (``constant:C``, biases 0): after training,
  per hidden layer the largest difference between units' parameters (incoming row of W_l, bias b_l, outgoing
  column of W_{l+1}) and the number of bitwise-distinct units; accuracy against ``he_uniform`` (the control, whose
  units differ). sigmoid(0) = 1/2 != 0, so the output layer gets a gradient and the network learns, as one unit.
* relu with ``zeros``: every h_l = 0, relu(0) = 0 and relu'(0) = 0, so dJ/dW_l = delta_l^T a_{l-1} = 0 EXACTLY
  (products with exact zeros; no rounding involved) in every layer at every step; only the output bias moves and the
  net predicts one class, argmax of the output bias (which drifts towards the log class frequencies). tanh with
  zeros is frozen the same way (tanh(0) = 0).

Exactly 0 or at rounding level? The units are bitwise identical when each unit's pre-activation (and gradient) is
computed by the same sequence of floating-point operations. NumPy's matmul calls BLAS, which need not do that for
identical rows: its kernels block the output columns and treat leftover columns (and one-row products, sent to
gemv) by other code paths, whose summation order or fused multiply-adds may differ, so identical rows can give
results that differ in the last bit. With this machine's OpenBLAS the largest difference after 20 epochs was exactly
0 at widths 32 and 64 and 1e-16 to 1e-15 (relative to max |W|) at widths 30, 37 and 100.
The ``exact`` flag reports which case a run is in; either way the symmetry is broken only at rounding level.
"""
from __future__ import annotations

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import SEEDS, check_runs, seed_list, seeds_of, spread  # shared helpers
from sims.train import MLP, train
from theory.errors import SpecError

CONFIG = {"hidden": (32, 32), "optimizer": "sgd", "lr": 0.5, "batch": 32, "epochs": 20}
INITS = ("zeros", "constant:0.1", "he_uniform")  # he_uniform: the control
ACTIVATION = "sigmoid"
FROZEN_ACTIVATION = "relu"  # with zeros: exactly zero weight gradients
RELU_LR = 0.1


def make_model(sizes, activation: str, init: str, seed: int) -> MLP:
    """An MLP with ``init``, or for ``constant:C`` every weight matrix filled with C and biases 0."""
    if init.startswith("constant:"):
        try:
            c = float(init.partition(":")[2])
        except ValueError:
            raise SpecError(f"constant init needs a number: 'constant:C' (got {init!r})") from None
        model = MLP(sizes, activation, "zeros", seed=seed)
        for w in model.W:
            w.fill(c)
        return model
    return MLP(sizes, activation, init, seed=seed)


def unit_differences(model: MLP) -> list[dict]:
    """Per hidden layer l: ``max_diff`` = max over units j of |theta_j - theta_0|, theta_j the unit's incoming
    weights W_l[j], bias b_l[j] and outgoing weights W_{l+1}[:, j]; ``relative`` = max_diff / max |W_l|;
    ``distinct`` = number of bitwise-distinct units (1: all identical)."""
    out = []
    for i in range(model.n_layers - 1):
        theta = np.concatenate([model.W[i], model.b[i][:, None], model.W[i + 1].T], axis=1)
        diff = float(np.abs(theta - theta[0]).max())
        scale = float(np.abs(model.W[i]).max())
        out.append({"max_diff": diff, "relative": diff / scale if scale > 0 else 0.0,
                    "distinct": int(np.unique(theta, axis=0).shape[0])})
    return out


def train_init(init: str, *, activation: str = ACTIVATION, seed: int = 0, data=None, **overrides) -> dict:
    """Train one network with ``init``; unit differences before and after, accuracies, loss curve."""
    cfg = {**CONFIG, **overrides}
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = make_model([data.n_features, *cfg["hidden"], data.n_classes], activation, init, model_seed)
    before = unit_differences(model)
    w0 = [w.copy() for w in model.W]
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
              seed=train_seed, grad_norms=False)
    after = unit_differences(model)
    return {"init": init, "activation": activation, **cfg, "before": before, "after": after,
            "max_diff": max(a["max_diff"] for a in after), "max_relative": max(a["relative"] for a in after),
            "exact": all(a["max_diff"] == 0 for a in after), "distinct": [a["distinct"] for a in after],
            "weight_change": [float(np.abs(w - w_0).max()) for w, w_0 in zip(model.W, w0)],
            "train_loss": [h["train_loss"] for h in r["history"]], "val_acc": [h["val_acc"] for h in r["history"]],
            "test_acc": r["test_acc"]}


def frozen(*, activation: str = FROZEN_ACTIVATION, seed: int = 0, data=None, **overrides) -> dict:
    """relu with zeros: the weight gradients at initialization (``max_abs_grad``, exactly 0), the largest weight
    after training (``max_abs_weight``, exactly 0), how far the output bias moved, and the test accuracy against the
    test frequency of the class argmax b_L (all logits equal b_L: the network predicts that class for every input)."""
    cfg = {**CONFIG, "lr": RELU_LR, **overrides}
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = make_model([data.n_features, *cfg["hidden"], data.n_classes], activation, "zeros", model_seed)
    _, grads = model.loss_and_grads(data.x_train, data.y_train, train=True)
    max_grad = max(float(np.abs(grads[k]).max()) for k in model.weight_index)
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
              seed=train_seed, grad_norms=False)
    constant_class = int(np.argmax(model.b[-1]))  # every logit vector equals b_L: the net predicts one class
    return {"activation": activation, **cfg, "max_abs_grad": max_grad,
            "max_abs_weight": max(float(np.abs(w).max()) for w in model.W),
            "output_bias_norm": float(np.linalg.norm(model.b[-1])),
            "hidden_bias_max": max(float(np.abs(b).max()) for b in model.b[:-1]),
            "test_acc": r["test_acc"], "constant_class": constant_class,
            "constant_class_acc": float(np.mean(data.y_test == constant_class))}


def run(*, seed: int = 0, inits=INITS, activation: str = ACTIVATION, **overrides) -> dict:
    """The sigmoid runs for each init and the relu-zeros run, on one data split."""
    data = load_dataset("digits", seed=seeds_of(seed)[0])
    return {"seed": seed,
            "runs": {i: train_init(i, activation=activation, seed=seed, data=data, **overrides) for i in inits},
            "frozen": frozen(seed=seed, data=data, **{k: v for k, v in overrides.items() if k != "lr"})}


def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """Per init: ``max_relative`` and ``test_acc`` (median, min, max), how many seeds were bitwise ``exact``, the
    largest number of distinct units; for the relu-zeros run the largest |grad| and |W| over seeds (0 if frozen)
    and the test accuracy against the rate of the one class it predicts."""
    seeds = seed_list(seeds)
    return summarize([run(seed=s, **kw) for s in seeds])


def summarize(runs: list) -> dict:
    """The :func:`over_seeds` summary of :func:`run` results already computed (one per seed)."""
    check_runs(runs)
    out = {"seeds": [r["seed"] for r in runs], "runs": {}}
    for i in runs[0]["runs"]:
        rs = [r["runs"][i] for r in runs]
        out["runs"][i] = {"max_relative": spread([r["max_relative"] for r in rs]),
                          "test_acc": spread([r["test_acc"] for r in rs]),
                          "exact": sum(r["exact"] for r in rs), "max_distinct": max(max(r["distinct"]) for r in rs)}
    fz = [r["frozen"] for r in runs]
    out["frozen"] = {"max_abs_grad": max(f["max_abs_grad"] for f in fz),
                     "max_abs_weight": max(f["max_abs_weight"] for f in fz),
                     "test_acc": spread([f["test_acc"] for f in fz]),
                     "constant_class_acc": spread([f["constant_class_acc"] for f in fz])}
    return out
