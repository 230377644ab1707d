"""Which weights one training step with dropout changes («тем самым мы изменяем только часть параметров»).

A relu net [64, ``hidden``, 10] (he_uniform) on the digits takes two steps of an optimizer on consecutive batches of
``batch`` rows, once with inverted dropout (keep probability ``keep``) on the hidden layer and once without; the
measure is the fraction of the first layer's weights that the second step changes. Without dropout, a weight stays
put only where its gradient is exactly 0; with dropout, plain SGD also leaves the weights of every unit dropped for
all rows of the batch, while momentum and Adam move them anyway with their running moments. Seeds: replicate s uses
``seeds_of(s)`` (data split, weights, dropout masks), the same with and without dropout (paired).
"""
from __future__ import annotations

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import SEEDS, blas_single_thread, seed_list, seeds_of
from sims.mlp import MLP
from sims.train import make_optimizer

OPTIMIZERS = ("sgd", "momentum", "adam")
BATCHES = (1, 64)
LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}


def _changed_by_second_step(d, model_seed: int, mask_seed: int, optimizer: str, batch: int, keep: float,
                            hidden: int) -> float:
    m = MLP([d.n_features, hidden, d.n_classes], "relu", "he_uniform", dropout_keep=keep, seed=model_seed)
    opt = make_optimizer(optimizer, LR[optimizer])
    rng = np.random.default_rng(mask_seed)
    w = m.params[m.weight_index[0]]
    for step in range(2):
        rows = slice(step * batch, (step + 1) * batch)
        before = w.copy()
        _, grads = m.loss_and_grads(d.x_train[rows], d.y_train[rows], train=True, rng=rng)
        opt.step(m.params, grads)
    return float(np.mean(w != before))


def run(seed: int = 0, *, keep: float = 0.5, hidden: int = 32, optimizers=OPTIMIZERS, batches=BATCHES) -> dict:
    """Per "optimizer (batch B)": the fraction of first-layer weights the second step changes without and with
    dropout (module docstring)."""
    data_seed, model_seed, mask_seed = seeds_of(seed)
    d = load_dataset("digits", seed=data_seed)
    out = {}
    with blas_single_thread():
        for opt in optimizers:
            for b in batches:
                out[f"{opt} (batch {b})"] = {
                    "without": _changed_by_second_step(d, model_seed, mask_seed, opt, b, 1.0, hidden),
                    "with": _changed_by_second_step(d, model_seed, mask_seed, opt, b, keep, hidden)}
    return {"seed": seed, "keep": keep, "hidden": hidden, "settings": out}


def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """Per setting, the per-seed fractions without and with dropout (in seed order: paired)."""
    runs = [run(seed=s, **kw) for s in seed_list(seeds)]
    settings = {k: {arm: [r["settings"][k][arm] for r in runs] for arm in ("without", "with")}
                for k in runs[0]["settings"]}
    return {"seeds": [r["seed"] for r in runs], "keep": runs[0]["keep"], "settings": settings}
