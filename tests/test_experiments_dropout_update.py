"""sims.experiments.dropout_update: which weights a step with dropout changes. Exact properties of one seed, each with
its contrast: plain SGD on one example leaves the weights of dropped units unchanged; in a minibatch of 64 rows every
unit is kept for some row, so dropout changes nothing about which weights move."""
from __future__ import annotations

from sims.experiments import dropout_update as D


def test_one_example_sgd_leaves_part_of_the_first_layer_unchanged_and_a_minibatch_does_not():
    r = D.run(seed=0, optimizers=("sgd",))["settings"]
    one, many = r["sgd (batch 1)"], r["sgd (batch 64)"]
    assert 0 < one["with"] < one["without"] <= 1  # dropout freezes the dropped units' incoming weights
    assert many["with"] == many["without"]  # no unit is dropped for all 64 rows (probability 2^-64)


def test_the_runs_are_paired_and_reproducible():
    a, b = D.over_seeds([0, 1], optimizers=("sgd",), batches=(1,)), D.over_seeds([0, 1], optimizers=("sgd",),
                                                                                 batches=(1,))
    assert a == b and a["seeds"] == [0, 1]
    assert len(a["settings"]["sgd (batch 1)"]["with"]) == 2
