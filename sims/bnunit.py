"""The distribution of one hidden unit's input, layer by layer, with and without batch norm (random networks).

The slides «А что внутри?» / «Batch norm (2015)» show, after Ioffe & Szegedy 2015 (Fig. 1 b, c), how the 15th,
50th and 85th percentiles of one sigmoid unit's input move during training, without and with batch norm. Before
the training experiments exist, this is the version on random networks at initialization: the percentiles over a
batch of inputs of unit 0's input (the argument of phi) at every layer of one random network, so depth stands in
for training steps. With batch norm the unit's input is BN(h) (a :class:`sims.batchnorm.BatchNorm` in train mode,
gamma = 1, beta = 0), without it the pre-activation h itself.
"""
from __future__ import annotations

import numpy as np

from sims.activations import kernel
from sims.batchnorm import BatchNorm
from sims.init import sample_weights
from theory.config import NetworkConfig
from theory.errors import SpecError

PERCENTILES = (15.0, 50.0, 85.0)


def unit_input_percentiles(config: NetworkConfig, batch: int, *, batchnorm: bool, seed: int = 0, unit: int = 0,
                           percentiles=PERCENTILES, eps: float = 1e-5) -> np.ndarray:
    """(depth, len(percentiles)) array: the percentiles, over ``batch`` standard Gaussian inputs, of unit ``unit``'s
    input at each layer of one network drawn from ``config`` (float64; all draws from ``default_rng(seed)``)."""
    if not isinstance(batch, int) or batch < 2:
        raise SpecError(f"batch must be an integer >= 2 (got {batch!r})")
    n = config.widths
    if not isinstance(unit, int) or not 0 <= unit < min(n[1:]):
        raise SpecError(f"unit must be an integer in [0, {min(n[1:])}) (got {unit!r})")
    rng = np.random.default_rng(seed)
    f = kernel(config.act).f
    x = rng.standard_normal((batch, n[0])) * np.sqrt(config.input_var)
    out = np.empty((config.depth, len(percentiles)))
    with np.errstate(all="raise"):
        for layer in range(config.depth):
            w = sample_weights(config.scheme, n[layer], n[layer + 1], rng, np.float64)
            h = x @ w.T
            if config.bias_var > 0:
                h += rng.standard_normal(n[layer + 1]) * np.sqrt(config.bias_var)
            u = BatchNorm(n[layer + 1], eps=eps)(h) if batchnorm else h
            out[layer] = np.percentile(u[:, unit], percentiles)
            x = f(u)
    return out
