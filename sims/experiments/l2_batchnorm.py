"""The L2 half of «С батч-нормализацией нужно уменьшить силу Dropout и регуляризацию»: with batch norm, reduce the
L2 penalty that a network without batch norm is trained with.

The network and training are those of the batch-norm experiment (:mod:`sims.experiments.bn_training`: 3 hidden
layers of 100 sigmoid units, glorot_uniform, plain SGD at lr 0.5, minibatches of 60, 20 epochs on the standardized
digits), with the penalty l2 * sum_l |W_l|_F^2 on the weights (biases, gamma and beta unpenalized; Keras'
``regularizers.L2`` adds the same term).

Both strengths are fixed by rules stated in advance, not by looking at the test set:
- ``l2_plain``: the strength the network WITHOUT batch norm is trained with, chosen on its validation accuracy from
  :data:`GRID` (median over the seeds of the final validation accuracy; on a tie the larger strength, i.e. as much
  regularization as validation allows);
- the reduced strength ``l2_plain / REDUCTION``, with Ioffe & Szegedy's factor (2015, section 4.2.1: "Reduce the L2
  weight regularization ... by a factor of 5").
Measured per seed (paired: one data split, weight draw and batch order per seed, shared by every arm): the test
accuracy of the batch-norm network at the reduced strength minus at ``l2_plain``, and, as context, the same
difference for the network without batch norm.
"""
from __future__ import annotations

import numpy as np

from sims.data import load_dataset
from sims.experiments import bn_training as bt
from sims.experiments.common import SEEDS, blas_single_thread, seed_list, seeds_of
from sims.mlp import MLP
from sims.train import train
from theory.errors import SpecError

GRID = (1e-4, 1e-3, 1e-2)  # Keras' regularizers.L2 default is 0.01; two decades below it
REDUCTION = 5  # Ioffe & Szegedy 2015, section 4.2.1


def _test_and_val(batchnorm: bool, l2: float, seed: int, epochs: int, data) -> tuple[float, float]:
    _, model_seed, train_seed = seeds_of(seed)
    model = MLP([data.n_features, *bt.HIDDEN, data.n_classes], bt.ACTIVATION, bt.INIT, batchnorm=batchnorm, l2=l2,
                seed=model_seed)
    with blas_single_thread():
        r = train(model, data, optimizer=bt.OPTIMIZER, lr=bt.LR, batch=bt.BATCH, epochs=epochs, seed=train_seed,
                  grad_norms=False)
    if r["diverged_at"] is not None:
        raise SpecError(f"training diverged at step {r['diverged_at']} (batchnorm={batchnorm}, l2={l2}, seed={seed})")
    return float(r["test_acc"]), float(r["history"][-1]["val_acc"])


def over_seeds(seeds=range(SEEDS), epochs: int = bt.EPOCHS, grid=GRID, reduction: float = REDUCTION) -> dict:
    """The experiment of the module docstring over paired seeds: ``grid_val`` (per strength, the plain network's
    per-seed final validation accuracy), ``l2_plain`` and ``l2_reduced``, and per network (``plain``, ``batchnorm``)
    the per-seed test accuracy at both strengths (``test_acc``: {"plain_l2": [...], "reduced": [...]}), in seed
    order."""
    seeds = seed_list(seeds)
    grid = tuple(float(g) for g in grid)
    if not grid or any(not g > 0 for g in grid) or not reduction > 1:
        raise SpecError(f"the grid needs positive strengths and the reduction a factor above 1 (got {grid}, "
                        f"{reduction})")
    data = {s: load_dataset("digits", seed=seeds_of(s)[0]) for s in seeds}
    plain = {g: [_test_and_val(False, g, s, epochs, data[s]) for s in seeds] for g in grid}
    score = {g: float(np.median([val for _, val in runs])) for g, runs in plain.items()}
    best = max(score.values())
    l2_plain = max(g for g in grid if score[g] == best)
    l2_reduced = l2_plain / reduction
    out = {"seeds": seeds, "epochs": epochs, "grid": list(grid), "reduction": reduction,
           "grid_val": {str(g): [val for _, val in plain[g]] for g in grid},
           "l2_plain": l2_plain, "l2_reduced": l2_reduced, "networks": {}}
    for name, bn in (("plain", False), ("batchnorm", True)):
        at_plain = [t for t, _ in plain[l2_plain]] if not bn else [
            _test_and_val(True, l2_plain, s, epochs, data[s])[0] for s in seeds]
        reduced = [_test_and_val(bn, l2_reduced, s, epochs, data[s])[0] for s in seeds]
        out["networks"][name] = {"test_acc": {"plain_l2": at_plain, "reduced": reduced}}
    return out
