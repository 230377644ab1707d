"""How negative a relu unit's bias must be for the unit to be dead at once on a data set («Если w0 инициализировано
большим отрицательным числом, нейрон сразу умирает»).

The first relu layer (he_uniform) of a net on the standardized digits: for each unit j, the bias multiple
k*_j = -max_rows h_j / sd(h_j), at and below which w0 = k sd(h_j) leaves the unit active on no training row. Replicate
s uses ``seeds_of(s)`` (data split, weights).
"""
from __future__ import annotations

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
