"""Sweeps over configurations: a grid expands into configurations, each runs as one task through a standard
``concurrent.futures.Executor``, and each result is stored as its own file.

The grid (:mod:`sims.grid`), the store (:mod:`sims.store`) and the executors (:mod:`sims.executors`) each have
their module; this one holds the tasks and runs a sweep, and keeps those modules' names for its callers
(``from sims import sweep as S; S.expand, S.Store, S.make_executor``).

Tasks (``task``). ``moments``: :func:`sims.engine.simulate` of ``seeds`` networks on ``batch`` inputs; per layer
the mean and standard error across networks of ``preact_var``, ``correlation`` (of inputs 0 and 1, whose
correlation is ``input_correlation``), ``grad_var`` and ``dead_fraction``, ``diverged_at``, and each network's
correlation per layer (``correlation_per_network``: jackknife errors of fitted depth scales). ``norms``: the
finite-width law of :mod:`theory.finite_width`: ``seeds`` independent ReLU networks with untruncated He-normal
weights and no bias, each applied to one fixed input; per network log ||x_L||^2 (see :func:`norms_task`).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np

from sims.executors import (CONNECT_TIMEOUT, EXECUTORS, check_executor, default_workers, ignore_sigint,  # noqa: F401
                            lost_worker, make_executor, stop_pool)
from sims.grid import (FIELDS, MAX_CONFIGS, TASKS, Configurations, check_config, config_key, expand,  # noqa: F401
                       network_config, read_grid)
from sims.store import RESULT_KEYS, STORE_VERSION, Store, flatten, load_table, table_rows  # noqa: F401

MAX_ATTEMPTS = 3


# ----------------------------------------------------------------------------------------------- tasks
def _listify(a) -> list:
    return [None if not math.isfinite(x) else float(x) for x in np.asarray(a, dtype=float)]


def moments_task(cfg: dict) -> dict:
    """Per-layer Monte Carlo statistics of ``seeds`` networks (:func:`sims.engine.simulate`)."""
    from sims.engine import simulate

    res = simulate(network_config(cfg), cfg["batch"], cfg["seeds"], dtype=cfg["dtype"], seed=cfg["seed"],
                   input_correlation=cfg["input_correlation"], backend=cfg["backend"], device=cfg["device"])
    layers = {k: {"mean": _listify(m), "se": _listify(s)} for k, (m, s) in res["summary"].items()
              if k in ("preact_var", "correlation", "grad_var", "dead_fraction")}
    per_net = [_listify(p["correlation"]) for p in res["per_network"]]
    return {"layers": layers, "diverged_at": res["diverged_at"], "diverged_networks": res["diverged_networks"],
            "correlation_per_network": per_net}


NORM_BLOCK = 256  # networks propagated together (one batched product per layer)


def norms_task(cfg: dict) -> dict:
    """log ||x_L||^2 of ``seeds`` independent relu networks of ``depth`` layers of ``width`` (n_0 = width), weights
    iid N(0, 2 / n_in) untruncated, no bias, each applied to the same input x_0 = (1, ..., 1) (||x_0||^2 = n_0);
    x_l = relu(W_l x_(l-1)). Network i draws its weights from ``SeedSequence(seed).spawn(seeds)[i]`` (float64).

    Returns ``log_sq_norm`` (per network; None for a dead network, x_L = 0), ``dead`` (their count), ``mean``,
    ``var`` (unbiased, over the live networks) and ``var_se``, the standard error of the sample variance,
    sqrt((m4 - (n - 3)/(n - 1) var^2) / n) with m4 the fourth central moment."""
    from sims.activations import kernel
    from sims.init import sample_weights
    from theory.config import NetworkConfig

    n, depth, count = cfg["width"], cfg["depth"], cfg["seeds"]
    net = NetworkConfig(activation="relu", init="he_normal:plain", width=n, depth=depth)  # the law's network
    relu = kernel(net.act).f
    children = np.random.SeedSequence(cfg["seed"]).spawn(count)
    out = np.empty(count)
    x0 = np.ones(n)
    for start in range(0, count, NORM_BLOCK):
        block = children[start:start + NORM_BLOCK]
        rngs = [np.random.default_rng(c) for c in block]
        x = np.broadcast_to(x0, (len(block), n)).copy()
        for _ in range(depth):
            w = np.stack([sample_weights(net.scheme, n, n, r, np.float64) for r in rngs])
            x = relu(np.einsum("bij,bj->bi", w, x))
        sq = np.einsum("bi,bi->b", x, x)
        with np.errstate(divide="ignore"):
            out[start:start + len(block)] = np.where(sq > 0, np.log(np.where(sq > 0, sq, 1.0)), -np.inf)
    live = out[np.isfinite(out)]
    k = live.size
    if k >= 4:
        mean = float(live.mean())
        var = float(live.var(ddof=1))
        m4 = float(np.mean((live - mean) ** 4))
        se = math.sqrt(max(m4 - (k - 3) / (k - 1) * var**2, 0.0) / k)
    else:
        mean = var = se = None
    return {"log_sq_norm": [float(v) if math.isfinite(v) else None for v in out], "dead": int(count - k),
            "mean": mean, "var": var, "var_se": se}


def run_config(cfg: dict, blas_threads: int | None = None) -> dict:
    """The results of one configuration (a pure function of it). ``blas_threads``: limit BLAS to that many threads
    while it runs (the pools pass 1: one worker per core)."""
    fn = moments_task if cfg["task"] == "moments" else norms_task
    if blas_threads is None:
        return fn(cfg)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return fn(cfg)


# ----------------------------------------------------------------------------------------------- running
def run_sweep(configs: list[dict], store: Store, *, executor: Callable | None = None, max_attempts: int = MAX_ATTEMPTS,
              task: Callable = run_config, blas_threads: int | None = 1,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """Run every configuration without a stored result; returns ``{"ran", "skipped", "retried", "failed"}``.

    ``executor``: a zero-argument callable returning a context manager that yields an Executor (default: the local
    pool); called again after a lost worker. ``task(cfg, blas_threads)`` computes one result (default
    :func:`run_config`). A task that raises is recorded in ``failed`` (key -> message) and not retried; a lost
    worker's configurations are resubmitted up to ``max_attempts`` times in all."""
    from concurrent.futures import as_completed

    executor = executor or make_executor
    todo = [c for c in configs if not store.done(config_key(c))]
    summary = {"ran": 0, "skipped": len(configs) - len(todo), "retried": 0, "failed": {}}
    attempts: dict[str, int] = {}
    finished = summary["skipped"]
    if progress is not None:
        progress(finished, len(configs))
    while todo:
        lost = []
        with executor() as ex:
            try:
                futures = {}
                for cfg in todo:
                    attempts[config_key(cfg)] = attempts.get(config_key(cfg), 0) + 1
                    futures[ex.submit(task, cfg, blas_threads)] = cfg
                for fut in as_completed(futures):  # each result is stored as soon as it arrives
                    cfg = futures[fut]
                    key = config_key(cfg)
                    exc = fut.exception()
                    if exc is not None:
                        if isinstance(exc, KeyboardInterrupt):
                            raise exc
                        if lost_worker(exc):
                            lost.append(cfg)
                        else:
                            summary["failed"][key] = f"{type(exc).__name__}: {exc}"
                        continue
                    if store.write(cfg, fut.result()):
                        summary["ran"] += 1
                    finished += 1
                    if progress is not None:
                        progress(finished, len(configs))
            except KeyboardInterrupt:  # Ctrl-C: stop at once; finished results are already stored
                from theory.cli_util import acknowledge_interrupt

                acknowledge_interrupt()
                ex.shutdown(wait=False, cancel_futures=True)
                raise
        todo = []
        for cfg in lost:
            key = config_key(cfg)
            if attempts[key] >= max_attempts:
                summary["failed"][key] = f"lost with its worker {attempts[key]} times"
            else:
                todo.append(cfg)
        summary["retried"] += len(todo)
    return summary


def sweep(grid: dict, out, *, executor: str = "local", scheduler: str | None = None, workers: int | None = None,
          resume: bool = False, timeout: float = CONNECT_TIMEOUT, progress=None) -> dict:
    """Expand ``grid``, prepare the store at ``out`` and run what is not finished (the `sims sweep` command). Every
    argument is checked before the store is created."""
    check_executor(executor, scheduler, workers)
    configs = expand(grid)
    store = Store(out)
    store.prepare(grid, configs, resume)
    if executor == "local" and workers is None and any(c["device"] == "cuda" for c in configs):
        workers = 1  # one process per GPU

    def factory():
        return make_executor(executor, scheduler, workers, timeout)

    res = run_sweep(configs, store, executor=factory, progress=progress)
    return {**res, "configurations": len(configs)}


# ----------------------------------------------------------------------------------------------- text output
def _num(v) -> str:
    return "null" if v is None else f"{v:.4g}"


def format_table(doc: dict) -> str:
    """``sweep-table`` without ``--json``: the fields that vary across rows, then a few results per row."""
    rows = doc["rows"]
    if not rows:
        return f"no finished configurations ({len(doc['missing'])} missing)"
    varying = [k for k in FIELDS if len({json.dumps(r["config"][k]) for r in rows}) > 1]
    lines = []
    for r in rows:
        cfg, res = r["config"], r["results"]
        head = " ".join(f"{k}={cfg[k]}" for k in varying) or "(single configuration)"
        if cfg["task"] == "moments":
            q, c = res["layers"]["preact_var"]["mean"][-1], res["layers"]["correlation"]["mean"][-1]
            tail = f"last layer: Var(h) {_num(q)}, corr {_num(c)}, diverged_at {res['diverged_at']}"
        else:
            tail = f"Var(log|x_L|^2) {_num(res['var'])} +- {_num(res['var_se'])}, dead {res['dead']}"
        lines.append(f"{r['key']}  {head}  {tail}")
    if doc["missing"]:
        lines.append(f"({len(doc['missing'])} configurations not finished)")
    return "\n".join(lines)


def format_bench(doc: dict) -> str:
    """``python -m sims sweep-bench`` without ``--json``: one-process and local-pool (warm, cold) times and speed-ups
    against the target, dask's times and overhead when installed; ``doc`` is :func:`sims.sweep_bench.run_bench`'s."""
    lines = [f"sweep throughput on {doc['environment']['cpus']} cores, grid of {doc['configurations']} "
             f"configurations ({doc['grid_note']}), median of {doc['repeats']}:",
             f"  one process          {doc['single_seconds']:.3f} s",
             f"  local pool (warm)    {doc['pool_seconds']:.3f} s   speed-up {doc['speedup']:.2f} "
             f"(target >= {doc['speedup_target']})",
             f"  local pool (cold)    {doc['pool_cold_seconds']:.3f} s   speed-up {doc['speedup_cold']:.2f} "
             "(including starting the workers)"]
    if doc.get("dask"):
        d = doc["dask"]
        lines += [f"  dask LocalCluster    {d['seconds']:.3f} s for the same grid ({d['workers']} workers)",
                  f"  dask overhead per configuration: {1e3 * d['overhead_per_config']:.1f} ms "
                  f"(no-op tasks; target < {1e3 * d['overhead_target']:.0f} ms); real grid vs local pool "
                  f"{1e3 * d['extra_per_config']:+.1f} ms per configuration"]
    else:
        lines.append("  dask: not installed (pip install 'lecture-heuristics[dask]')")
    return "\n".join(lines)
