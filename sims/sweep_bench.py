"""``python -m sims sweep-bench``: the throughput of :mod:`sims.sweep` (a benchmark, not a test).

* Grid: 16 small ``moments`` configurations (tanh, width 256, depth 32, batch 256, 4 networks; sigma_w^2 x
  sigma_b^2 4 x 4), about 0.17 s each on one core. (At a tenth of that, 0.036 s each, the pool's fixed cost per
  task, the result's round trip and the store's fsync'ed write, held the warm speed-up to 1.6.)
* One process: the configurations one after another in this process (:func:`sims.sweep.run_config`), after one
  warm-up configuration, with BLAS on one thread as in each pool worker: the same work per configuration, so the
  ratio measures the pool. (BLAS's own second thread is no alternative at these sizes: on a busy 2-core machine
  OpenBLAS's spinning threads made one process 10 to 20 times slower in a trial.)
* Local pool, warm: the default executor (one spawned worker per core, BLAS on one thread each) whose workers have
  already imported the package; the grid run by :func:`sims.sweep.run_sweep` into a fresh store, writes included.
  ``speedup`` = one-process time / warm pool time (target >= 1.7 on 2 cores). Cold: the same with the pool's start
  (spawning the workers and their imports) inside the timing.
* Dask (when installed): a LocalCluster with one single-threaded worker process per core, warm. The overhead per
  configuration is the wall time of the grid with a task that does nothing (:func:`noop_task`), divided by the
  number of configurations: submission, scheduling, the round trip of the result and the store's atomic write
  (target < 50 ms). ``extra_per_config``: (dask time - warm local pool time) / configurations on the real grid.

Each timing is the median of ``repeats`` runs.
"""
from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import time

from sims import sweep as S

GRID = {"activation": ["tanh"], "weight_var": [0.8, 1.2, 1.6, 2.0], "bias_var": [0.0, 0.02, 0.05, 0.1],
        "width": [256], "depth": [32], "batch": [256], "seeds": [4]}
GRID_NOTE = "tanh, width 256, depth 32, batch 256, 4 networks; sigma_w^2 x sigma_b^2 = 4 x 4"
SPEEDUP_TARGET = 1.7
OVERHEAD_TARGET = 0.050


def noop_task(cfg: dict, blas_threads=None) -> dict:
    """A task that computes nothing (the dask overhead measurement)."""
    return {}


def warm_task(cfg: dict, blas_threads=None) -> int:
    """Import what a real task imports (the engine and the theory behind it), and hold the worker briefly so that
    every worker of the pool receives one."""
    import sims.engine  # noqa: F401

    time.sleep(0.2)
    return os.getpid()


def _timed_sweep(configs, executor, task=S.run_config) -> float:
    with tempfile.TemporaryDirectory() as d:
        store = S.Store(d)
        store.prepare(GRID, configs, resume=False)
        t0 = time.perf_counter()
        res = S.run_sweep(configs, store, executor=lambda: contextlib.nullcontext(executor), task=task)
        seconds = time.perf_counter() - t0
    if res["failed"] or res["ran"] != len(configs):
        raise RuntimeError(f"benchmark sweep did not complete: {res}")
    return seconds


def _warm(ex, workers: int) -> None:
    list(ex.map(warm_task, [{}] * (2 * workers)))


def run_bench(repeats: int = 3) -> dict:
    """The benchmark of the module docstring on :data:`GRID`: one process vs the local pool (warm, cold) vs dask when
    installed, medians of ``repeats``; returns the document :func:`sims.sweep.format_bench` prints."""
    configs = S.expand(GRID)
    workers = S.default_workers()
    S.run_config(configs[0], 1)  # warm-up: imports and BLAS start
    single = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for cfg in configs:
            S.run_config(cfg, 1)
        single.append(time.perf_counter() - t0)
    cold, warm = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with S.make_executor("local", workers=workers) as ex:
            _timed_sweep(configs, ex)
        cold.append(time.perf_counter() - t0)
    with S.make_executor("local", workers=workers) as ex:
        _warm(ex, workers)
        for _ in range(repeats):
            warm.append(_timed_sweep(configs, ex))
    t1, tw, tc = statistics.median(single), statistics.median(warm), statistics.median(cold)
    doc = {"environment": {"cpus": workers, "machine": platform.machine(), "python": platform.python_version()},
           "configurations": len(configs), "grid_note": GRID_NOTE, "repeats": repeats,
           "single_seconds": t1, "pool_seconds": tw, "pool_cold_seconds": tc, "speedup": t1 / tw,
           "speedup_cold": t1 / tc, "speedup_target": SPEEDUP_TARGET, "workers": workers, "dask": None}
    try:
        import distributed  # noqa: F401
    except ImportError:
        return doc
    with S.make_executor("dask", workers=workers) as ex:
        _warm(ex, workers)
        noop = [_timed_sweep(configs, ex, task=noop_task) for _ in range(repeats)]
        real = [_timed_sweep(configs, ex) for _ in range(repeats)]
    td = statistics.median(real)
    doc["dask"] = {"workers": workers, "seconds": td, "overhead_per_config": statistics.median(noop) / len(configs),
                   "overhead_target": OVERHEAD_TARGET, "extra_per_config": (td - tw) / len(configs)}
    return doc
