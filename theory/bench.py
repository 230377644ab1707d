"""Benchmarks of the mean-field module (seconds from time.perf_counter; nothing is printed).

Targets (issue): one :func:`theory.meanfield.analyze` point in < 50 ms in a warm process (the activation's SymPy
work cached), and a 100 x 100 (sigma_w^2, sigma_b^2) grid for tanh with q*, chi_1 and xi_c in < 30 s.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import sympy

from theory import activations as acts
from theory import meanfield

POINT = ("tanh", 2.0, 0.05)  # chaotic: exercises q*, chi_1 and the correlation map's c* < 1
GRID_WEIGHT_VARS = (0.5, 4.0)
GRID_BIAS_VARS = (0.0, 0.5)


def _clear_caches() -> None:
    """Forget everything derived from activations: the SymPy pieces, lambdified kernels and SymPy's own cache."""
    for fn in (acts.pieces, acts.derivative_pieces, meanfield._kernel, meanfield._dphi_inf_sq):
        fn.cache_clear()
    sympy.core.cache.clear_cache()


def bench_meanfield_point(repeats: int = 50, spec: str = POINT[0], weight_var: float = POINT[1],
                          bias_var: float = POINT[2]) -> dict:
    """Seconds for one ``analyze`` call: ``cold`` (caches cleared first: piece splitting, lambdify, SymPy limits
    and series included) and ``warm`` (median and min over ``repeats`` calls in the same process)."""
    act = acts.get_activation(spec)
    _clear_caches()
    t0 = time.perf_counter()
    meanfield.analyze(act, weight_var, bias_var)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        meanfield.analyze(act, weight_var, bias_var)
        times.append(time.perf_counter() - t0)
    return {"activation": spec, "weight_var": weight_var, "bias_var": bias_var, "repeats": repeats,
            "cold_s": cold, "warm_median_s": statistics.median(times), "warm_min_s": min(times),
            "target_warm_s": 0.05}


def bench_phase_grid(n: int = 100, spec: str = "tanh") -> dict:
    """Seconds for an n x n grid (sigma_w^2 in [0.5, 4], sigma_b^2 in [0, 0.5]) with q*, chi_1, c* and xi_c;
    the activation's kernel is warmed first, so the time is the numerical work only."""
    act = acts.get_activation(spec)
    meanfield.analyze(act, *POINT[1:])
    w = np.linspace(*GRID_WEIGHT_VARS, n)
    b = np.linspace(*GRID_BIAS_VARS, n)
    t0 = time.perf_counter()
    grid = meanfield.analyze_grid(act, w, b)
    seconds = time.perf_counter() - t0
    methods = {str(m): int(np.sum(grid.method == m)) for m in np.unique(grid.method.astype(str))}
    return {"activation": spec, "n": n, "points": n * n, "seconds": seconds, "target_s": 30.0,
            "weight_vars": list(GRID_WEIGHT_VARS), "bias_vars": list(GRID_BIAS_VARS),
            "chaotic": int(np.sum(grid.phase == 1)), "c_star_methods": methods}
