"""Experiment k, the claim that e^x makes sigmoid and tanh expensive («вычислять e^x дорого»): NumPy time per
element of the package's stable kernels (:mod:`sims.activations`) and of ``np.exp`` against ReLU.

Timings depend on the machine, the NumPy build and its SIMD paths, so the result carries both; the figure and
the claim use ratios to ReLU measured in the same process, interleaved (each repetition times every function once,
in a rotating order), median over repetitions.
"""
from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from sims.activations import kernel
from theory.activations import get_activation
from theory.errors import SpecError

FUNCTIONS = ("relu", "exp", "expit", "sigmoid", "tanh", "elu", "softplus")


def _callable(name: str):
    """``exp``: np.exp alone; ``expit``: scipy's one-pass logistic; other names: this package's stable kernels
    (several NumPy passes each, for range safety)."""
    if name == "exp":
        return np.exp
    if name == "expit":
        from scipy.special import expit
        return expit
    return kernel(get_activation(name)).f


def run(size: int = 1 << 21, repeats: int = 9, dtype: str = "float32", seed: int = 0, functions=FUNCTIONS) -> dict:
    """ns per element (median over ``repeats``) of each function on ``size`` N(0, 4) inputs, and the ratio to relu."""
    if size < 1024 or repeats < 3:
        raise SpecError("size must be >= 1024 and repeats >= 3")
    if "relu" not in functions:
        raise SpecError("the ratios are to relu: include it")
    x = (np.random.default_rng(seed).standard_normal(size) * 2).astype(dtype)
    fns = {name: _callable(name) for name in functions}
    for f in fns.values():  # warm-up: first calls allocate and pick SIMD loops
        f(x)
    times = {name: [] for name in functions}
    order = list(functions)
    for r in range(repeats):
        for name in order[r % len(order):] + order[:r % len(order)]:
            t = time.perf_counter()
            fns[name](x)
            times[name].append(time.perf_counter() - t)
    ns = {name: statistics.median(v) / size * 1e9 for name, v in times.items()}
    return {"ns_per_element": ns, "ratio_to_relu": {k: v / ns["relu"] for k, v in ns.items()},
            "size": size, "repeats": repeats, "dtype": dtype, "numpy": np.__version__,
            "machine": platform.machine(), "processor": platform.processor() or platform.machine()}
