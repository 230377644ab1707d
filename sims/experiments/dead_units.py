"""How negative a relu unit's bias must be for the unit to be dead at once on a data set («Если w0 инициализировано
большим отрицательным числом, нейрон сразу умирает»).

The first relu layer (he_uniform) of a net on the standardized digits: for each unit j, the bias multiple
k*_j = -max_rows h_j / sd(h_j), at and below which w0 = k sd(h_j) leaves the unit active on no training row
(:func:`thresholds`). And a whole dead layer («Сетка может умереть, если активация занулится на всех нейронах»):
biases that put a fraction of the first layer's units below 0 on every row, and the gradients that reach the layer
(:func:`dead_layer`). Replicate s uses ``seeds_of(s)`` (data split, weights).
"""
from __future__ import annotations

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import seeds_of
from sims.mlp import MLP


def thresholds(seeds: int, width: int) -> dict:
    """``k_star``: one list of k*_j per seed (module docstring), and ``rows``, the number of training rows."""
    out, rows = [], 0
    for s in range(seeds):
        data_seed, model_seed, _ = seeds_of(s)
        d = load_dataset("digits", seed=data_seed)
        m = MLP([d.n_features, width, d.n_classes], "relu", "he_uniform", seed=model_seed)
        h = d.x_train @ m.W[0].T
        out.append((-h.max(axis=0) / h.std(axis=0)).tolist())
        rows = int(d.x_train.shape[0])
    return {"k_star": out, "rows": rows}


def dead_layer(seeds: int, inactive_fraction: float, width: int) -> dict:
    """relu net [64, width, width, 10] (he_uniform) on digits whose first-layer biases put ``inactive_fraction`` of
    its units below 0 on every training row (b_j = -max_rows h_j - 1): per seed, the largest |gradient| of W_1, b_1
    and W_2 on the training set, and the spread of the logits over rows."""
    g1, g2, spread = [], [], []
    for s in range(seeds):
        data_seed, model_seed, _ = seeds_of(s)
        d = load_dataset("digits", seed=data_seed)
        m = MLP([d.n_features, width, width, d.n_classes], "relu", "he_uniform", seed=model_seed)
        h = d.x_train @ m.W[0].T
        k = int(round(inactive_fraction * width))
        m.b[0][:k] = -h[:, :k].max(axis=0) - 1.0
        _, grads = m.loss_and_grads(d.x_train, d.y_train, train=True)
        i1, i2 = m.weight_index[0], m.weight_index[1]
        g1.append(float(max(np.abs(grads[i1]).max(), np.abs(grads[i1 + 1]).max())))
        g2.append(float(np.abs(grads[i2]).max()))
        spread.append(float(m.logits(d.x_train).std(axis=0).max()))
    return {"max_grad_layer1": g1, "max_grad_W2": g2, "logit_spread": spread}
