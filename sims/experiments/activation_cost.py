"""Experiment k, the claim that e^x makes sigmoid and tanh expensive («вычислять e^x дорого»): NumPy time per
element of the package's stable kernels (:mod:`sims.activations`) and of ``np.exp`` against ReLU.

Timings depend on the machine, the NumPy build and its SIMD paths, so the result carries both. :func:`run` gives the
figure's ns per element of the package's kernels on a large array (median over repetitions). :func:`timing_trials`
gives the claims their evidence: the operations themselves (``np.maximum(x, 0)``, ``np.exp``, SciPy's ``expit``,
``np.tanh``) writing into a preallocated output, on an array that stays in cache (so the arithmetic is timed, not
the memory), as log(time / ReLU's time) in independent trials, each the minimum over alternating repeats
(:func:`sims.experiments.common.timing_ratio`).
"""
from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from sims.activations import kernel
from sims.experiments.common import SEEDS, timing_ratio
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


TIMED = ("exp", "expit", "tanh")  # timed against ReLU, each writing into a preallocated output
TRIAL_SIZE = 1 << 14  # float32: 64 KiB, in the L2 cache of any current CPU


def _into(name: str, x: np.ndarray, out: np.ndarray):
    """A zero-argument call of operation ``name`` on ``x`` writing into ``out``."""
    if name == "relu":
        return lambda: np.maximum(x, 0, out=out)
    if name == "exp":
        return lambda: np.exp(x, out=out)
    if name == "tanh":
        return lambda: np.tanh(x, out=out)
    if name == "expit":
        from scipy.special import expit
        return lambda: expit(x, out=out)
    raise SpecError(f"unknown timed operation {name!r}; known: relu, {', '.join(TIMED)}")


def timing_trials(size: int = TRIAL_SIZE, trials: int = SEEDS, repeats: int = 20, dtype: str = "float32",
                  seed: int = 0, functions=TIMED) -> dict:
    """Per operation, log(its time / ReLU's time) in each of ``trials`` independent trials (module docstring), on
    ``size`` N(0, 4) inputs; with the machine and NumPy version, which the numbers depend on."""
    if size < 1024 or trials < 2 or repeats < 1:
        raise SpecError("size must be >= 1024, trials >= 2 and repeats >= 1")
    x = (np.random.default_rng(seed).standard_normal(size) * 2).astype(dtype)
    out = np.empty_like(x)
    relu = _into("relu", x, out)
    logs = {}
    for name in functions:
        fn = _into(name, x, out)
        fn(), relu()  # warm-up: first calls pick the SIMD loops
        logs[name] = timing_ratio(fn, relu, trials=trials, repeats=repeats)
    return {"log_ratio_to_relu": logs, "size": size, "trials": trials, "repeats": repeats, "dtype": dtype,
            "numpy": np.__version__, "machine": platform.machine()}
