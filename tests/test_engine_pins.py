"""Regression pins of the engine rewrite (issue 16): the one layer pipeline gives bit-identical statistics to the
three network loops it replaced (kept as the frozen oracle tests/engine_reference.py), for plain, dropout,
batch-norm and batch-norm-with-dropout networks, several activations, biases, float32 and float64, chunked batches,
weight-gradient norms, kept samples, a diverging network, and the traces. Comparing against the oracle in the same
process (not against stored digests) keeps the pins exact on any machine: both run the same BLAS."""
from __future__ import annotations

import numpy as np
import pytest

import engine_reference as ref
from same import assert_same as _same  # bit for bit, NaN equal to NaN, 'seconds' skipped
from sims import engine
from theory.config import NetworkConfig


CASES = [
    (dict(activation="tanh", init="glorot_normal", width=32, depth=6), dict(batch=40, seeds=3, chunk=16)),
    (dict(activation="relu", init="he_normal", width=24, depth=5, bias_var=0.05), dict(batch=33, seeds=2, chunk=8,
                                                                                       weight_grad_norm=True)),
    (dict(activation="gelu", init="he_uniform", width=16, depth=4), dict(batch=20, seeds=2, dtype="float64",
                                                                         samples_per_layer=5)),
    (dict(activation="selu", init="lecun_normal", width=16, depth=4), dict(batch=16, seeds=2)),
    (dict(activation="sigmoid", init="glorot_uniform", width=16, depth=4, dropout_keep=0.8),
     dict(batch=70, seeds=2, chunk=32, weight_grad_norm=True)),
    (dict(activation="relu", init="he_normal", width=16, depth=5, dropout_keep=0.5, bias_var=0.1),
     dict(batch=24, seeds=3, samples_per_layer=4)),
    (dict(activation="elu", init="he_normal", width=12, depth=4, dropout_keep=0.7), dict(batch=18, seeds=2,
                                                                                         dtype="float64")),
    (dict(activation="relu", init="he_normal", width=16, depth=5, batchnorm=True), dict(batch=12, seeds=2,
                                                                                        weight_grad_norm=True)),
    (dict(activation="tanh", init="glorot_normal", width=16, depth=4, batchnorm=True, bias_var=0.1),
     dict(batch=10, seeds=2, samples_per_layer=3, dtype="float64")),
    (dict(activation="softplus", init="he_normal", width=12, depth=4, batchnorm=True, dropout_keep=0.6),
     dict(batch=16, seeds=2)),
    (dict(activation="linear", init="normal:3/sqrt(n_in)", width=16, depth=100), dict(batch=8, seeds=2)),  # diverges
]


@pytest.mark.parametrize("net, run", CASES, ids=[f"{c[0]['activation']}-{i}" for i, c in enumerate(CASES)])
def test_the_pipeline_reproduces_the_replaced_loops_bit_for_bit(net, run):
    config = NetworkConfig(**net)
    _same(dict(engine.simulate(config, seed=11, **run)), dict(ref.simulate(config, seed=11, **run)))


def test_a_diverging_case_is_among_the_pins():
    """Negative control of the case list: the last case does diverge, so the divergence bookkeeping is pinned."""
    config = NetworkConfig(**CASES[-1][0])
    assert engine.simulate(config, seed=11, **CASES[-1][1])["diverged_at"] is not None


@pytest.mark.parametrize("net", [dict(activation="relu", init="he_normal", width=12, depth=4, batchnorm=True),
                                 dict(activation="tanh", init="glorot_normal", width=12, depth=4, dropout_keep=0.7),
                                 dict(activation="relu", init="he_normal", width=12, depth=4, batchnorm=True,
                                      dropout_keep=0.7)])
def test_the_traces_are_unchanged(net):
    config = NetworkConfig(**net)
    fn = "bn_trace" if config.batchnorm else "dropout_trace"
    new = getattr(engine, fn)(config, 16, np.random.default_rng(5))
    old = getattr(ref, fn)(config, 16, np.random.default_rng(5))
    _same(new, old)


def test_the_comparison_detects_a_one_ulp_change():
    """Negative control: the comparison is exact (one ulp in one statistic fails it)."""
    config = NetworkConfig(**CASES[0][0])
    a = engine.simulate(config, seed=11, **CASES[0][1])
    b = engine.simulate(config, seed=11, **CASES[0][1])
    _same(dict(a), dict(b))
    b["per_network"][0]["preact_var"][2] = np.nextafter(b["per_network"][0]["preact_var"][2], np.inf)
    with pytest.raises(AssertionError):
        _same(dict(a), dict(b))
