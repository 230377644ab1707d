"""Experiment c, vanishing and exploding gradients, measured in real training runs on the digits.

Backpropagation multiplies the error signal delta_l = dJ/dh_l by W_{l+1}^T diag(phi'(h_l)) once per layer, so at
initialization its squared norm changes by the mean-field factor chi_1 = sigma_w^2 E[phi'(h)^2] per layer
(sigma_w^2 = n_in Var(w); Poole et al. 2016, Schoenholz et al. 2017; :func:`theory.meanfield.chi1`).

* Vanishing (:func:`vanishing`): sigmoid, glorot_uniform. Glorot's variance 2/(n_in + n_out) is 1/n for the square
  hidden layers (sigma_w^2 = 1), the textbook choice, yet sigmoid' <= 1/4 gives chi_1 = 0.056: each layer shrinks
  the gradient by sqrt(chi_1) = 0.24 even with the "right" variance, so this is the effect of the activation, not of
  a careless scale (the slide's U[-1/sqrt(n_in), 1/sqrt(n_in)], sigma_w^2 = 1/3, would shrink it faster, 0.14 per
  layer, mixing the two causes). Measured: per-layer Frobenius norms of dJ/dW_l (mean over each epoch's SGD steps),
  the ratio output layer / first layer, the fitted per-layer factor over the hidden-to-hidden layers against
  sqrt(chi_1), and the plateau: epochs until the training loss falls 10% below ln K (K classes, balanced: ln K is
  the loss of predicting the class frequencies, where a stuck network sits).
* Exploding (:func:`exploding`): relu with N(0, (2/sqrt(n_in))^2), i.e. Var(w) = 4/n_in, sigma_w^2 = 4, chi_1 = 2,
  against he_uniform (chi_1 = 1). The backpropagated signal |delta_l| grows by sqrt(2) per layer towards the input;
  the weight gradients dJ/dW_l = delta_l^T a_{l-1} do NOT grow towards the input, because the forward activations
  |a_{l-1}| grow by the same factor towards the output and the product is flat: the whole gradient (and the initial
  loss, through logits ~ 2^(L/2) too large) is too large in every layer at once, and SGD at a step size that trains
  the He network diverges (``diverged_at``: the first step with a non-finite loss or gradient).

Seeds: ``seed`` spawns independent children for the data split, the weights and the batch order (as
:mod:`sims.experiments.inits`); every configuration of one seed shares them (paired comparison).
"""
from __future__ import annotations

import math

import numpy as np

from sims.data import load_dataset
from sims.train import MLP, train
from sims.experiments.common import (SEEDS, censored_spread, seed_list, seeds_of,  # noqa: F401 (re-exported)
                                     spread)
from theory import validate
from theory.init import get_init
from theory.meanfield import chi1

DEPTHS = (2, 3, 4, 6, 10)  # hidden layers of the vanishing sweep; ~10 s for all on a 2-core machine
VANISHING = {"activation": "sigmoid", "init": "glorot_uniform", "width": 64, "optimizer": "sgd", "lr": 0.5,
             "batch": 32, "epochs": 30}
EXPLODING = {"activation": "relu", "depth": 10, "width": 64, "optimizer": "sgd", "lr": 0.05, "batch": 32,
             "epochs": 10}
EXPLODING_INITS = ("he_uniform", "normal:2/sqrt(n_in)")  # control; Var(w) = 4/n_in (twice He)
DROP = 0.1  # the plateau ends when the training loss is 10% below ln K
DELTA_ROWS = 64  # rows whose per-row error signal |dJ/dh_l| is measured at initialization


def sigma_w2(init: str, width: int) -> float:
    """n_in Var(w) of a square width x width layer under ``init``."""
    return width * get_init(init).variance(width, width)


def plateau_epochs(train_loss, n_classes: int, drop: float = DROP) -> int | None:
    """The first epoch (1-based) whose training loss is below (1 - drop) ln K; None if none is."""
    threshold = (1.0 - drop) * math.log(n_classes)
    return next((k + 1 for k, v in enumerate(train_loss) if v < threshold), None)


def per_layer_factor(norms, layers) -> float | None:
    """exp of the least-squares slope of log norm against the layer index over ``layers`` (1-based): the geometric
    mean factor from one layer to the next (> 1: growing towards the output). None for fewer than two layers."""
    layers = list(layers)
    if len(layers) < 2:
        return None
    from sims.statistics import depth_slope

    return float(np.exp(depth_slope(np.log([norms[l - 1] for l in layers]), layers)[0]))


def delta_norms(model: MLP, x, y) -> list[float]:
    """Per hidden layer l, the RMS over rows of |dJ/dh_l| for that row alone: the bias gradient of a one-row batch
    is exactly that row's error signal delta_l. Then the output layer's |dJ/ds|."""
    rows = []
    for i in range(x.shape[0]):
        _, grads = model.loss_and_grads(x[i:i + 1], y[i:i + 1], train=True)
        rows.append([float(np.linalg.norm(grads[k + 1])) for k in model.weight_index])
    return np.sqrt(np.mean(np.square(rows), axis=0)).tolist()


def _check_depth(depth) -> int:
    return validate.integer("depth (hidden layers)", depth, 1)


# ------------------------------------------------------------------ vanishing
def vanishing(depth: int, *, seed: int = 0, data=None, **overrides) -> dict:
    """One deep net of ``depth`` hidden layers (:data:`VANISHING`, any key overridable) trained by SGD.

    Returns ``grad_norms`` (epochs x layers, mean |dJ/dW_l| per epoch), ``train_loss``, ``val_acc`` per epoch,
    ``ratio_first`` / ``ratio_last`` (|dJ/dW_L| / |dJ/dW_1| in the first / last epoch), ``factor`` (fitted per-layer
    factor |dJ/dW_l| / |dJ/dW_{l+1}| over the hidden-to-hidden layers 2..L-1 in epoch 1; None below 2 of them),
    ``factor_theory`` = sqrt(chi_1) at sigma_w^2 of the init, ``plateau`` (:func:`plateau_epochs`), ``test_acc``."""
    cfg = {**VANISHING, **overrides}
    depth = _check_depth(depth)
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = MLP([data.n_features, *[cfg["width"]] * depth, data.n_classes], cfg["activation"], cfg["init"],
                seed=model_seed)
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
              seed=train_seed)
    hist = r["history"]
    g = np.array([h["grad_norms"] for h in hist])
    grow = per_layer_factor(g[0], range(2, model.n_layers))
    return {"depth": depth, **cfg, "grad_norms": g, "train_loss": [h["train_loss"] for h in hist],
            "val_acc": [h["val_acc"] for h in hist], "test_acc": r["test_acc"],
            "ratio_first": float(g[0, -1] / g[0, 0]), "ratio_last": float(g[-1, -1] / g[-1, 0]),
            "factor": None if grow is None else 1.0 / grow,
            "factor_theory": math.sqrt(float(chi1(cfg["activation"], sigma_w2(cfg["init"], cfg["width"]), 0.0))),
            "plateau": plateau_epochs([h["train_loss"] for h in hist], data.n_classes),
            "chance_loss": math.log(data.n_classes), "diverged_at": r["diverged_at"], "seconds": r["seconds"]}


def run_vanishing(depths=DEPTHS, *, seed: int = 0, **overrides) -> dict:
    """:func:`vanishing` for each depth on one data split (same seeds)."""
    data = load_dataset("digits", seed=seeds_of(seed)[0])
    return {"seed": seed, "depths": list(depths),
            "runs": {int(d): vanishing(d, seed=seed, data=data, **overrides) for d in depths}}


# ------------------------------------------------------------------ exploding
def exploding(init: str, *, seed: int = 0, data=None, **overrides) -> dict:
    """A deep relu net (:data:`EXPLODING`) with ``init``: at initialization ``initial_loss`` (eval, training set),
    ``delta_norms`` (:func:`delta_norms` on the first DELTA_ROWS training rows) and ``weight_grad_norms`` (|dJ/dW_l|
    on the first 256 rows), ``delta_factor`` (fitted per-layer factor |delta_l| / |delta_{l+1}| over the hidden
    layers: > 1 grows towards the input) against ``delta_factor_theory`` = sqrt(chi_1); then SGD training:
    ``train_loss``, ``val_acc`` per epoch, ``diverged_at`` (step), ``test_acc``."""
    cfg = {**EXPLODING, **overrides}
    depth = _check_depth(cfg["depth"])
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = MLP([data.n_features, *[cfg["width"]] * depth, data.n_classes], cfg["activation"], init,
                seed=model_seed)
    with np.errstate(over="ignore", invalid="ignore"):  # the over-scaled net may overflow: reported, not raised
        initial_loss = model.evaluate(data.x_train, data.y_train)[0]
        _, grads = model.loss_and_grads(data.x_train[:256], data.y_train[:256], train=True)
        deltas = delta_norms(model, data.x_train[:DELTA_ROWS], data.y_train[:DELTA_ROWS])
    wnorms = [float(np.linalg.norm(grads[k])) for k in model.weight_index]
    grow = per_layer_factor(deltas, range(1, depth + 1))
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=cfg["epochs"],
              seed=train_seed, grad_norms=False)
    hist = r["history"]
    return {"init": init, **cfg, "initial_loss": float(initial_loss), "delta_norms": deltas,
            "weight_grad_norms": wnorms, "delta_factor": None if grow is None else 1.0 / grow,
            "delta_factor_theory": math.sqrt(float(chi1(cfg["activation"], sigma_w2(init, cfg["width"]), 0.0))),
            "train_loss": [h["train_loss"] for h in hist], "val_acc": [h["val_acc"] for h in hist],
            "diverged_at": r["diverged_at"], "test_acc": r["test_acc"], "seconds": r["seconds"]}


def run_exploding(inits=EXPLODING_INITS, *, seed: int = 0, **overrides) -> dict:
    """:func:`exploding` for each init on one data split (same seeds)."""
    data = load_dataset("digits", seed=seeds_of(seed)[0])
    return {"seed": seed, "inits": list(inits), "runs": {i: exploding(i, seed=seed, data=data, **overrides)
                                                         for i in inits}}


def run(*, seed: int = 0, depths=DEPTHS, inits=EXPLODING_INITS, vanishing_kw=None, exploding_kw=None) -> dict:
    """Both halves for one seed."""
    return {"seed": seed, "vanishing": run_vanishing(depths, seed=seed, **(vanishing_kw or {})),
            "exploding": run_exploding(inits, seed=seed, **(exploding_kw or {}))}


# ------------------------------------------------------------------ summaries
def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """:func:`run` over independent seeds. Vanishing, per depth: ``ratio_first``, ``ratio_last``, ``factor`` (with
    ``factor_theory``), ``plateau`` (censored at the epoch budget), ``test_acc``. Exploding, per init:
    ``initial_loss``, ``delta_factor`` (with theory), ``delta_ratio`` = |delta_1| / |delta_{L-1}| at init,
    ``weight_grad_first_last`` = |dJ/dW_1| / |dJ/dW_L| at init (< 1: no growth towards the input),
    ``weight_grad_ratio`` = median over layers of |dJ/dW_l| relative to the first init's (the control),
    ``diverged_at`` (censored), ``test_acc``."""
    seeds = seed_list(seeds)
    runs = [run(seed=s, **kw) for s in seeds]
    out = {"seeds": seeds, "vanishing": {}, "exploding": {}}
    for d in runs[0]["vanishing"]["depths"]:
        rs = [r["vanishing"]["runs"][d] for r in runs]
        row = {k: spread([r[k] for r in rs]) for k in ("ratio_first", "ratio_last", "test_acc")}
        row["factor"] = spread([r["factor"] for r in rs]) if rs[0]["factor"] is not None else None
        row["factor_theory"] = rs[0]["factor_theory"]
        row["plateau"] = censored_spread([r["plateau"] for r in rs], rs[0]["epochs"])
        out["vanishing"][d] = row
    inits = runs[0]["exploding"]["inits"]
    for i in inits:
        rs = [r["exploding"]["runs"][i] for r in runs]
        ctrl = [r["exploding"]["runs"][inits[0]] for r in runs]
        out["exploding"][i] = {
            "initial_loss": spread([r["initial_loss"] for r in rs]),
            "delta_factor": spread([r["delta_factor"] for r in rs]),
            "delta_factor_theory": rs[0]["delta_factor_theory"],
            "delta_ratio": spread([r["delta_norms"][0] / r["delta_norms"][-2] for r in rs]),
            "weight_grad_first_last": spread([r["weight_grad_norms"][0] / r["weight_grad_norms"][-1] for r in rs]),
            "weight_grad_ratio": spread([np.median(np.divide(r["weight_grad_norms"], c["weight_grad_norms"]))
                                         for r, c in zip(rs, ctrl)]),
            "diverged_at": censored_spread([r["diverged_at"] for r in rs], None),
            "test_acc": spread([r["test_acc"] for r in rs]),
        }
    return out
