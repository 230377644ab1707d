"""Experiment «Inits on the course's seminar network» (Nikolenko, p. 149 of the lecture): the course's seminar MLP,
6 dense hidden layers of 100 units, batch 500, Adam (lr 1e-3; b1 0.9, b2 0.999, eps 1e-8), standardized digits.

Two comparisons, each run on the same data split, weight seed and batch order (paired within a seed):
  * :func:`run_inits`, relu with Keras' old default U[-0.05, 0.05] (``keras_uniform``: Var w = 0.05^2/3, so each
    layer multiplies the signal's second moment by about n Var w / 2 = 0.04 and six layers shrink it ~4e-9) against
    ``he_uniform`` (Var w = 2 / n_in: second moment preserved for relu), each without and with batch norm before
    the activation (which re-normalizes every layer, so the scale of the init no longer compounds).
  * :func:`run_activations`, relu vs sigmoid vs elu, all with ``glorot_uniform`` (Var w = 2 / (n_in + n_out), Keras'
    Dense default). One init for all three keeps it a comparison of activations only; He's 2 / n_in is derived for
    relu and would build one answer into the comparison.

Caveat for the batch-norm curves: validation accuracy is measured in eval mode (running statistics, torch momentum
0.1, running variance starting at 1). With batch 500 an epoch of the 1,259 training rows is only 3 steps, so after t
steps the running variance still carries 0.9^t of its initial 1, while under ``keras_uniform`` the true variance of
h_l is ~100 * 0.05^2/3 * 1/2 = 0.04. Measured (seed 0, after 4 epochs): running variance 0.32 against 0.04-0.06 in
every layer, eval-mode validation accuracy 0.10, the same weights with batch statistics 0.93. So keras_uniform+bn's
validation curve stays near chance for ~5 epochs and crosses 0.9 at epoch 9-10; its train-mode ``train_loss`` has
no such lag (below every plain keras_uniform seed's from epoch 2).
"""
from __future__ import annotations


import numpy as np

from sims.data import load_dataset
from sims.train import MLP, train
from sims.experiments.common import SEEDS, blas_single_thread, seed_list, seeds_of  # noqa: F401 (re-exported)
from sims.experiments.common import censored_spread as _censored_spread
from sims.experiments.common import spread as _spread

HIDDEN = (100,) * 6  # the seminar network: 6 dense hidden layers of 100 units
BATCH = 500
OPTIMIZER = "adam"
LR = 1e-3
EPOCHS = 30  # default; about 0.7 s per configuration on a 2-core machine
FAST_EPOCHS = 12  # the figures' --fast variant
THRESHOLD = 0.9  # validation accuracy whose first crossing is reported

INIT_CONFIGS = {  # name -> MLP arguments (comparison 1)
    "keras_uniform": {"activation": "relu", "init": "keras_uniform", "batchnorm": False},
    "he_uniform": {"activation": "relu", "init": "he_uniform", "batchnorm": False},
    "keras_uniform+bn": {"activation": "relu", "init": "keras_uniform", "batchnorm": True},
    "he_uniform+bn": {"activation": "relu", "init": "he_uniform", "batchnorm": True},
}
#: Comparison 2: each activation at the init the lecture recommends for it (Xavier/Glorot for the sigmoid family, He
#: for the ReLU family), so that no activation is handicapped by an init made for another (ReLU with Glorot has
#: chi_1 = 1/2 per layer).
RECOMMENDED_INIT = {"relu": "he_uniform", "sigmoid": "glorot_uniform", "elu": "he_uniform"}
ACTIVATION_CONFIGS = {name: {"activation": name, "init": init, "batchnorm": False}
                      for name, init in RECOMMENDED_INIT.items()}


def first_above(values, threshold: float = THRESHOLD) -> int | None:
    """The first epoch (1-based) whose value exceeds ``threshold``; None if none does."""
    return next((k + 1 for k, v in enumerate(values) if v > threshold), None)


def run_config(config: dict, *, seed: int = 0, epochs: int = EPOCHS, data=None) -> dict:
    """Train the seminar network with ``config`` (activation, init, batchnorm). Returns per epoch ``val_acc``,
    ``val_loss``, ``train_loss`` (train mode, mean over the epoch's batches), and ``test_acc``, ``first_above``
    (epoch where val_acc first exceeds THRESHOLD, or None), ``seconds``."""
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    model = MLP([data.n_features, *HIDDEN, data.n_classes], config["activation"], config["init"],
                batchnorm=config["batchnorm"], seed=model_seed)
    with blas_single_thread():
        r = train(model, data, optimizer=OPTIMIZER, lr=LR, batch=BATCH, epochs=epochs, seed=train_seed,
                  grad_norms=False)
    hist = r["history"]
    val_acc = [h["val_acc"] for h in hist]
    return {**config, "val_acc": val_acc, "val_loss": [h["val_loss"] for h in hist],
            "train_loss": [h["train_loss"] for h in hist], "test_acc": r["test_acc"],
            "first_above": first_above(val_acc), "diverged_at": r["diverged_at"], "seconds": r["seconds"]}


def _run(configs: dict, seed: int, epochs: int) -> dict:
    data = load_dataset("digits", seed=seeds_of(seed)[0])  # one split for all configurations of this seed
    return {"configs": {name: run_config(cfg, seed=seed, epochs=epochs, data=data) for name, cfg in configs.items()},
            "seed": seed, "epochs": epochs, "hidden": list(HIDDEN), "batch": BATCH, "optimizer": OPTIMIZER, "lr": LR,
            "threshold": THRESHOLD}


def run_inits(seed: int = 0, epochs: int = EPOCHS) -> dict:
    """Comparison 1: relu with keras_uniform / he_uniform, without and with batch norm."""
    return _run(INIT_CONFIGS, seed, epochs)


def run_activations(seed: int = 0, epochs: int = EPOCHS) -> dict:
    """Comparison 2: relu and elu with he_uniform, sigmoid with glorot_uniform (:data:`RECOMMENDED_INIT`)."""
    return _run(ACTIVATION_CONFIGS, seed, epochs)


def over_seeds(fn=run_inits, seeds=range(SEEDS), epochs: int = EPOCHS) -> dict:
    """``fn`` (:func:`run_inits` or :func:`run_activations`) over independent seeds. Per configuration: median and
    spread (min, max, and the per-seed values in seed order) of the final ``val_acc``, of ``test_acc``, of
    ``curve_area`` (the validation accuracy averaged over the epochs: the area under the learning curve) and of
    ``first_above`` (None = never within ``epochs``: a median is None when at least half never cross), and the
    per-epoch median / min / max curves of ``val_acc`` and ``train_loss``."""
    seeds = seed_list(seeds)
    runs = [fn(seed=s, epochs=epochs) for s in seeds]
    out = {"seeds": seeds, "epochs": epochs, "configs": {}}
    for name in runs[0]["configs"]:
        rs = [r["configs"][name] for r in runs]
        curves = {}
        for key in ("val_acc", "train_loss"):
            a = np.array([r[key] for r in rs], dtype=float)
            curves[key] = {"median": np.median(a, axis=0), "min": a.min(axis=0), "max": a.max(axis=0)}
        out["configs"][name] = {
            "activation": rs[0]["activation"], "init": rs[0]["init"], "batchnorm": rs[0]["batchnorm"],
            "final_val_acc": _spread([r["val_acc"][-1] for r in rs]),
            "test_acc": _spread([r["test_acc"] for r in rs]),
            "first_above": _censored_spread([r["first_above"] for r in rs], epochs),
            # the area under the validation curve per epoch: how fast a run learns, finite in every seed
            "curve_area": _spread([float(np.mean(r["val_acc"])) for r in rs]),
            "curves": curves,
        }
    for key in ("hidden", "batch", "optimizer", "lr", "threshold"):
        out[key] = runs[0][key]
    return out
