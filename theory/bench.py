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
from theory.cli_util import fmt_number

POINT = ("tanh", 2.0, 0.05)  # chaotic: exercises q*, chi_1 and the correlation map's c* < 1
GRID_WEIGHT_VARS = (0.5, 4.0)
GRID_BIAS_VARS = (0.0, 0.5)


def _clear_caches() -> None:
    """Forget everything derived from activations: the SymPy pieces, lambdified kernels and SymPy's own cache."""
    acts.clear_caches()
    meanfield.clear_caches()
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


def _seconds(s) -> str:
    """A duration for the text table: µs, ms or s at three significant digits; "—" when missing."""
    if s is None or not isinstance(s, (int, float)) or s != s:
        return "—"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= factor or unit == "µs":
            return f"{s / factor:.3g} {unit}"
    raise AssertionError(s)


def format_bench(doc: dict) -> str:
    """``python -m theory bench`` without ``--json``: a short aligned table of the measurements (``doc`` is the JSON
    document, ``{"meanfield_point": ..., "phase_grid": ...}``), each timed value beside its target."""
    p, g = doc["meanfield_point"], doc["phase_grid"]

    def verdict(value, target):
        if value is None or target is None:
            return ""
        return "ok" if value < target else "MISSED"
    rows = [("what", "time", "target", ""),
            ("one analyze() point, cold (caches cleared)", _seconds(p.get("cold_s")), "", ""),
            (f"one analyze() point, warm, median of {p.get('repeats')}", _seconds(p.get("warm_median_s")),
             f"< {_seconds(p.get('target_warm_s'))}", verdict(p.get("warm_median_s"), p.get("target_warm_s"))),
            (f"one analyze() point, warm, min of {p.get('repeats')}", _seconds(p.get("warm_min_s")), "", ""),
            (f"{g.get('n')} x {g.get('n')} phase grid ({g.get('points')} points)", _seconds(g.get("seconds")),
             f"< {_seconds(g.get('target_s'))}", verdict(g.get("seconds"), g.get("target_s")))]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    lines.insert(1, "-" * max(map(len, lines)))
    wv, bv = g.get("weight_vars") or [None, None], g.get("bias_vars") or [None, None]
    lines.append(f"point: {p.get('activation')}, sigma_w^2 = {fmt_number(p.get('weight_var'))}, "
                 f"sigma_b^2 = {fmt_number(p.get('bias_var'))}; grid: {g.get('activation')}, sigma_w^2 in "
                 f"[{fmt_number(wv[0])}, {fmt_number(wv[1])}], sigma_b^2 in "
                 f"[{fmt_number(bv[0])}, {fmt_number(bv[1])}], {g.get('chaotic')} points chaotic")
    methods = g.get("c_star_methods") or {}
    if methods:
        lines.append("c* found by: " + ", ".join(f"{k}: {v}" for k, v in methods.items()))
    return "\n".join(lines)
