"""Sweeps over configurations: a grid expands into configurations, each runs as one task through a standard
``concurrent.futures.Executor``, and each result is stored as its own file.

Grid. A TOML file with a ``[grid]`` table (or a dict in Python); each key is a field of :data:`FIELDS`, each value
a list of values (a single value means a list of one). The configurations are the Cartesian product, the first key
varying slowest, in the order the keys are written. Fields left out take their defaults. Example::

    [grid]
    activation = ["tanh"]
    weight_var = [1.0, 1.5, 2.5]     # sigma_w^2: weights N(0, sigma_w^2 / n_in) (instead of init)
    bias_var = [0.0, 0.05]
    depth = [30]
    width = [256]
    seeds = [16]                     # independent networks per configuration (as `sims run --seeds`)
    seed = [0, 1]                    # root seeds: replicas

Tasks (``task``). ``moments``: :func:`sims.engine.simulate` of ``seeds`` networks on ``batch`` inputs; per layer
the mean and standard error across networks of ``preact_var``, ``correlation`` (of inputs 0 and 1, whose
correlation is ``input_correlation``), ``grad_var`` and ``dead_fraction``, ``diverged_at``, and each network's
correlation per layer (``correlation_per_network``: jackknife errors of fitted depth scales). ``norms``: the
finite-width law of :mod:`theory.finite_width`: ``seeds`` independent ReLU networks with untruncated He-normal
weights and no bias, each applied to one fixed input; per network log ||x_L||^2 (see :func:`norms_task`).

Executors. ``local`` (default): a ``ProcessPoolExecutor`` with one worker per core (each worker's BLAS on one
thread, so workers do not oversubscribe the cores). ``dask``: ``dask.distributed.Client(ADDRESS).get_executor()``,
or with no address an in-process ``LocalCluster`` of one single-threaded worker process per core (dask is the
optional extra ``[dask]``). Anything else that implements ``submit`` can be passed to :func:`run_sweep`.

Store. ``DIR/manifest.json`` (the grid and its configurations' keys, in grid order) and ``DIR/results/KEY.json``,
one file per configuration with its ``key``, ``config`` and ``results``; KEY is a hash of the configuration (every
field, defaults included). The main process writes each file when its result arrives, to a temporary file in the
same folder that is then renamed over the final name (atomic on POSIX), so a file exists only complete. A rerun with
``resume`` skips every configuration whose file exists. A lost worker (a killed process: the pool breaks; dask:
``KilledWorker``) does not lose configurations: the ones without a result are submitted again to a fresh executor,
up to ``max_attempts`` times each; a configuration's result is written once (an existing file is never rewritten).
Results hold no timings and no host names, and every task is a pure function of its configuration (explicit seeds),
so two executors give identical stores and tables.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from theory import validate
from theory.errors import SpecError

STORE_VERSION = 2  # 2: result files are checked entries (key, sha256, value)
TASKS = ("moments", "norms")
EXECUTORS = ("local", "dask")
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT = 10.0  # seconds to reach a dask scheduler before giving up

#: field -> (type, default). weight_var None: use ``init``; else weights N(0, weight_var / n_in) (init replaced).
FIELDS: dict[str, tuple[type, object]] = {
    "task": (str, "moments"),
    "activation": (str, "tanh"),
    "init": (str, "glorot_normal"),
    "weight_var": (float, None),
    "bias_var": (float, 0.0),
    "width": (int, 256),
    "depth": (int, 10),
    "input_var": (float, 1.0),
    "batchnorm": (bool, False),
    "dropout_keep": (float, 1.0),
    "batch": (int, 64),
    "seeds": (int, 8),
    "seed": (int, 0),
    "dtype": (str, "float32"),
    "input_correlation": (float, 0.5),
    "backend": (str, "numpy"),
    "device": (str, "cpu"),
}


# ----------------------------------------------------------------------------------------------- grid
def _coerce(name: str, value):
    kind, _ = FIELDS[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise SpecError(f"grid field {name!r}: values must be true or false (got {value!r})")
        return value
    if kind is int:
        if not validate.is_integer(value):
            raise SpecError(f"grid field {name!r}: values must be integers (got {value!r})")
        return value
    if kind is float:
        if not validate.is_real(value):
            raise SpecError(f"grid field {name!r}: values must be finite numbers (got {value!r})")
        return float(value)
    if not isinstance(value, str):
        raise SpecError(f"grid field {name!r}: values must be strings (got {value!r})")
    return value


MAX_CONFIGS = 100_000  # one result file each: a store of 10^5 files is the most a sweep folder should hold


class Configurations(Sequence):
    """The configurations of a grid, computed on demand (mixed-radix indexing of the product): ``len`` is the product
    of the list lengths, computed, never enumerated; item ``i`` is built when asked for."""

    def __init__(self, axes: list[tuple[str, list]]):
        self._names = [a for a, _ in axes]
        self._values = [v for _, v in axes]
        self._count = math.prod(len(v) for v in self._values)
        self._defaults = {k: d for k, (_, d) in FIELDS.items()}

    def __len__(self) -> int:
        return self._count

    def _at(self, combo) -> dict:
        return {**self._defaults, **dict(zip(self._names, combo))}

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        combo = []
        for values in reversed(self._values):  # the last key varies fastest
            i, r = divmod(i, len(values))
            combo.append(values[r])
        return self._at(reversed(combo))

    def __iter__(self):
        return (self._at(c) for c in itertools.product(*self._values))


def expand(grid: dict) -> Configurations:
    """The configurations of ``grid`` (field -> list of values), each a dict of every field of :data:`FIELDS`, in
    product order (the first key slowest), as a lazy sequence. The count is the product of the list lengths and is
    checked against :data:`MAX_CONFIGS` first; unknown fields, empty lists, wrong types and invalid configurations
    raise SpecError, before anything runs."""
    if not isinstance(grid, dict):
        raise SpecError(f"a grid is a table of field = [values] (got {type(grid).__name__})")
    if not grid:
        raise SpecError("the grid is empty: give at least one field with a list of values")
    unknown = [k for k in grid if k not in FIELDS]
    if unknown:
        raise SpecError(f"unknown grid field(s) {', '.join(map(repr, unknown))}; known: {', '.join(FIELDS)}")
    axes = []
    for name, values in grid.items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise SpecError(f"grid field {name!r} has an empty list: the grid would have no configurations")
        axes.append((name, values))
    count = math.prod(len(v) for _, v in axes)
    if count > MAX_CONFIGS:
        sizes = " x ".join(str(len(v)) for _, v in axes)
        raise SpecError(f"the grid has {sizes} = {count:,} configurations; the limit is {MAX_CONFIGS:,} (one result "
                        "file each): split it into several sweeps")
    coerced = []
    for name, values in axes:
        values = [_coerce(name, v) for v in values]
        if len(set(map(repr, values))) != len(values):
            raise SpecError(f"grid field {name!r} lists a value twice")
        coerced.append((name, values))
    configs = Configurations(coerced)
    for cfg in configs:
        check_config(cfg)
    return configs


def read_grid(path) -> dict:
    """The ``[grid]`` table of a TOML file; a missing or malformed file raises SpecError."""
    import tomllib

    p = Path(path)
    try:
        with open(p, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"grid file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"grid file {str(p)!r} is a folder") from None
    except OSError as exc:
        raise SpecError(f"cannot read grid file {str(p)!r}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"grid file {str(p)!r} is not valid TOML: {exc}") from None
    extra = [k for k in doc if k != "grid"]
    if "grid" not in doc or not isinstance(doc["grid"], dict):
        raise SpecError(f"grid file {str(p)!r} has no [grid] table")
    if extra:
        raise SpecError(f"grid file {str(p)!r}: unknown table(s) or key(s) {', '.join(map(repr, extra))} "
                        "(only [grid])")
    return doc["grid"]


def network_config(cfg: dict):
    """The :class:`theory.config.NetworkConfig` of a configuration (``weight_var`` replaces ``init``)."""
    from theory.config import NetworkConfig

    init = cfg["init"] if cfg["weight_var"] is None else f"normal:sqrt({cfg['weight_var']!r}/n_in)"
    return NetworkConfig(activation=cfg["activation"], init=init, width=cfg["width"], depth=cfg["depth"],
                         bias_var=cfg["bias_var"], input_var=cfg["input_var"], batchnorm=cfg["batchnorm"],
                         dropout_keep=cfg["dropout_keep"])


def check_config(cfg: dict) -> None:
    """Raise SpecError unless ``cfg`` can run (checked in the main process, before any task is submitted)."""
    if cfg["task"] not in TASKS:
        raise SpecError(f"task must be one of {', '.join(TASKS)} (got {cfg['task']!r})")
    if cfg["weight_var"] is not None and cfg["weight_var"] <= 0:
        raise SpecError(f"weight_var must be > 0 (got {cfg['weight_var']!r})")
    if cfg["seed"] < 0:
        raise SpecError(f"seed must be >= 0 (got {cfg['seed']})")
    if cfg["task"] == "norms":
        if cfg["activation"] != "relu" or cfg["bias_var"] != 0 or cfg["batchnorm"] or cfg["dropout_keep"] != 1:
            raise SpecError("task 'norms' is the finite-width law of relu networks with He-normal weights and no "
                            "bias: set activation relu, bias_var 0, no batch norm or dropout")
        if cfg["seeds"] < 2 or cfg["width"] < 1 or cfg["depth"] < 1:
            raise SpecError("task 'norms' needs seeds >= 2 networks, width >= 1 and depth >= 1")
        return
    from sims.engine import validate

    config = network_config(cfg)
    validate(cfg["batch"], cfg["seeds"], cfg["dtype"], None)
    if not -1 <= cfg["input_correlation"] <= 1:
        raise SpecError(f"input_correlation must be in [-1, 1] (got {cfg['input_correlation']})")
    if cfg["backend"] not in ("numpy", "torch") or cfg["device"] not in ("cpu", "cuda"):
        raise SpecError(f"backend must be numpy or torch and device cpu or cuda (got {cfg['backend']!r}, "
                        f"{cfg['device']!r})")
    if cfg["device"] == "cuda" and cfg["backend"] != "torch":
        raise SpecError("device cuda needs backend torch")
    if cfg["backend"] == "torch":
        if config.batchnorm or config.dropout_keep < 1:
            raise SpecError("the torch backend runs neither batch norm nor dropout: use backend numpy")
        from sims import torch_backend

        torch_backend.device_of(cfg["device"])  # torch installed, and the device present


def config_key(cfg: dict) -> str:
    """A stable name for a configuration: the first 16 hex digits of SHA-256 of its canonical JSON."""
    text = json.dumps({k: cfg[k] for k in sorted(cfg)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


# ----------------------------------------------------------------------------------------------- store
def _atomic_write(path: Path, text: str) -> None:
    from theory.files import atomic_write_text

    atomic_write_text(path, text, fsync=True)  # a crash must not leave an empty file under a final name


def _dump(obj) -> str:
    return json.dumps(obj, sort_keys=True, indent=1, allow_nan=False) + "\n"


RESULT_KEYS = {"moments": ("layers", "diverged_at", "diverged_networks", "correlation_per_network"),
               "norms": ("log_sq_norm", "dead", "mean", "var", "var_se")}


class Store:
    """The on-disk store of a sweep (module docstring). Every result file is a checked entry
    (:func:`theory.files.write_entry`: its key, a SHA-256 of its value) whose value is ``{"config", "results"}``; a
    file is trusted only when the entry is valid, its configuration hashes to its key and its results have the task's
    keys. Anything else (truncated by a crash, edited, ``{}``) counts as not finished: ``--resume`` recomputes it and
    ``sweep-table`` leaves it out, each with a one-line notice naming the file."""

    def __init__(self, root):
        self.root = Path(root)
        self.results = self.root / "results"
        self._noticed: set[str] = set()

    def prepare(self, grid: dict, configs, resume: bool) -> None:
        """Create the store for ``configs`` and write ``manifest.json`` (version, grid, keys); SpecError when it already
        holds results and not ``resume``, when ``root`` is a file, or when it cannot be written. Temporary files of
        writers that died are removed."""
        from theory.files import notice, remove_stale, writable_folder

        has = self.results.is_dir() and any(self.results.glob("*.json"))
        if has and not resume:
            raise SpecError(f"{str(self.root)!r} already holds sweep results: pass --resume to continue that sweep "
                            "(finished configurations are skipped), or choose another --out")
        writable_folder(self.results, "sweep store (--out)")
        for stale in remove_stale(self.root):
            notice(f"removed {stale}, a temporary file of a process that no longer runs")
        try:
            _atomic_write(self.root / "manifest.json",
                          _dump({"version": STORE_VERSION, "grid": grid, "keys": [config_key(c) for c in configs]}))
        except OSError as exc:
            raise SpecError(f"cannot write to {str(self.root)!r}: {exc.strerror or exc}") from None

    def path(self, key: str) -> Path:
        """``results/<key>.json``: where the result of configuration ``key`` is stored."""
        return self.results / f"{key}.json"

    def entry(self, key: str) -> dict | None:
        """The stored row ``{"key", "config", "results"}`` of ``key`` if its file is a valid result of that
        configuration, else None (a damaged file gets one notice, naming it)."""
        from theory.files import notice, read_entry

        found = read_entry(self.path(key), key)
        problem = found.problem
        if found.ok:
            problem = _result_problem(key, found.value)
            if problem is None:
                return {"key": key, **found.value}
        if problem is not None and key not in self._noticed:
            self._noticed.add(key)
            notice(f"sweep result {self.path(key)} {problem}: treated as not finished")
        return None

    def done(self, key: str) -> bool:
        """Whether configuration ``key`` has a valid stored result (:meth:`entry`)."""
        return self.entry(key) is not None

    def write(self, cfg: dict, results: dict) -> bool:
        """Store one result; False (and nothing written) if this configuration already has a valid one."""
        from theory.files import write_entry

        key = config_key(cfg)
        if self.done(key):
            return False
        write_entry(self.path(key), key, {"config": cfg, "results": results}, fsync=True)
        return True

    def rows(self) -> tuple[list[dict], list[str]]:
        """(rows, missing): the valid stored rows in the manifest's order (then any others by key), and the
        manifest's keys without a valid result."""
        manifest = self.root / "manifest.json"
        if not manifest.is_file():
            raise SpecError(f"{str(self.root)!r} is not a sweep folder (no manifest.json)")
        try:
            doc = json.loads(manifest.read_text())
            keys = doc["keys"]
            if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
                raise TypeError("keys is not a list of names")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpecError(f"{str(manifest)!r} is not a sweep manifest ({type(exc).__name__}: {exc})") from None
        found = {p.stem for p in self.results.glob("*.json")} if self.results.is_dir() else set()
        order = keys + sorted(found - set(keys))
        rows = [r for r in (self.entry(k) for k in order if k in found) if r is not None]
        have = {r["key"] for r in rows}
        return rows, [k for k in keys if k not in have]


def _result_problem(key: str, value) -> str | None:
    """None when ``value`` is ``{"config", "results"}`` of the configuration ``key`` with its task's result keys."""
    if not isinstance(value, dict) or set(value) != {"config", "results"}:
        return "is not a sweep result (config, results)"
    cfg, res = value["config"], value["results"]
    if not isinstance(cfg, dict) or set(cfg) != set(FIELDS) or config_key(cfg) != key:
        return "holds another configuration than its name says"
    needed = RESULT_KEYS.get(cfg.get("task"))
    if not isinstance(res, dict) or needed is None or any(k not in res for k in needed):
        return f"lacks the results of task {cfg.get('task')!r}"
    return None


# ----------------------------------------------------------------------------------------------- executors
def _lost_worker(exc: BaseException) -> bool:
    """A failure of the executor, not of the task: the configuration is resubmitted."""
    from concurrent.futures.process import BrokenProcessPool

    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ in ("KilledWorker", "CommClosedError",
                                                                          "CancelledError")


def ignore_sigint() -> None:
    """A pool worker's initializer: Ctrl-C reaches the whole process group, and the parent alone decides (it stops
    the workers; a worker's own KeyboardInterrupt would only print a traceback). The worker also runs bounded steps
    directly (:func:`theory.budget.run_directly`): its specs were checked under the budget by the parent, or are the
    package's own, and a worker of its own per pool process would only cost time and processes."""
    import signal

    from theory import budget

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    budget.run_directly()


def stop_pool(ex) -> None:
    """Stop a ProcessPoolExecutor now: cancel what has not started and terminate the workers that run (their partial
    work is lost; finished results are already stored)."""
    from theory.cli_util import acknowledge_interrupt, stop_children

    acknowledge_interrupt()
    ex.shutdown(wait=False, cancel_futures=True)
    stop_children()


def default_workers() -> int:
    """The local pool's default number of workers: the CPUs this process may run on (``sched_getaffinity``, else
    ``os.cpu_count()``), at least 1."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def check_executor(kind: str, scheduler: str | None = None, workers: int | None = None) -> None:
    """SpecError (one line) for an unknown executor, a bad worker count or a scheduler without dask: checked before
    the store is created."""
    if kind not in EXECUTORS:
        raise SpecError(f"executor must be one of {', '.join(EXECUTORS)} (got {kind!r})")
    if workers is not None:
        validate.processes(workers, "workers")
    if kind == "local" and scheduler is not None:
        raise SpecError("--scheduler needs --executor dask")


@contextlib.contextmanager
def make_executor(kind: str = "local", scheduler: str | None = None, workers: int | None = None,
                  timeout: float = CONNECT_TIMEOUT):
    """An executor of ``kind`` (module docstring), closed on exit."""
    check_executor(kind, scheduler, workers)
    if kind == "local":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if scheduler is not None:
            raise SpecError("--scheduler needs --executor dask")
        # spawn: a forked child would inherit the parent's BLAS thread pool state (unsafe with OpenBLAS threads)
        ex = ProcessPoolExecutor(max_workers=workers or default_workers(), initializer=ignore_sigint,
                                 mp_context=multiprocessing.get_context("spawn"))
        try:
            yield ex
        except BaseException:  # Ctrl-C or an error: running tasks are abandoned at once, not waited for
            stop_pool(ex)
            raise
        ex.shutdown(wait=True)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SpecError("--executor dask needs dask.distributed: pip install 'lecture-heuristics[dask]'") from None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        try:
            yield client.get_executor()
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise SpecError(f"cannot reach the dask scheduler at {scheduler!r} within {timeout:g} s: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


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
                        if _lost_worker(exc):
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


# ----------------------------------------------------------------------------------------------- table
def flatten(row: dict) -> dict:
    """One flat record: the configuration's fields, then each result (per-layer lists as lists)."""
    out = dict(row["config"])
    out["key"] = row["key"]
    res = row["results"]
    for name, v in res.items():
        if name == "layers":
            for stat, ms in v.items():
                out[f"{stat}_mean"] = ms["mean"]
                out[f"{stat}_se"] = ms["se"]
        elif name not in ("log_sq_norm", "correlation_per_network"):
            out[name] = v
    return out


def load_table(out, *, as_pandas: bool | None = None):
    """The stored results as one table: a pandas DataFrame when pandas is installed (or ``as_pandas=True``), else
    a NumPy structured array. Columns: the configuration fields, ``key``, and the flattened results (per-layer
    statistics ``<stat>_mean`` / ``<stat>_se`` as float arrays, NaN where undefined)."""
    rows, _ = Store(out).rows()
    flat = [flatten(r) for r in rows]
    if as_pandas is None:
        try:
            import pandas  # noqa: F401
            as_pandas = True
        except ImportError:
            as_pandas = False
    if as_pandas:
        import pandas as pd

        return pd.DataFrame(flat)
    names = list(dict.fromkeys(k for r in flat for k in r))
    fields = []
    for name in names:
        vals = [r.get(name) for r in flat]
        if all(isinstance(v, bool) for v in vals):
            fields.append((name, np.bool_))
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            fields.append((name, np.int64))
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in vals) \
                and any(v is not None for v in vals):
            fields.append((name, np.float64))
        elif all(isinstance(v, str) for v in vals):
            fields.append((name, f"U{max(map(len, vals), default=1)}"))
        else:
            fields.append((name, object))
    table = np.empty(len(flat), dtype=fields)
    for i, r in enumerate(flat):
        for name, dt in fields:
            v = r.get(name)
            if dt is object and isinstance(v, list):
                v = np.array([np.nan if x is None else x for x in v], dtype=float)
            elif dt == np.float64 and v is None:
                v = np.nan
            table[i][name] = v
    return table


def table_rows(out) -> dict:
    """The ``sweep-table --json`` document: ``rows`` (key, config, results; grid order) and ``missing`` (keys of
    configurations not finished). No timings or host names: two executors give identical documents."""
    rows, missing = Store(out).rows()
    return {"rows": rows, "missing": missing}


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
