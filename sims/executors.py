"""Where a sweep's tasks run: a standard ``concurrent.futures.Executor``, local or dask, and how it is stopped.

Executors. ``local`` (default): a ``ProcessPoolExecutor`` with one worker per core (each worker's BLAS on one
thread, so workers do not oversubscribe the cores). ``dask``: ``dask.distributed.Client(ADDRESS).get_executor()``,
or with no address an in-process ``LocalCluster`` of one single-threaded worker process per core (dask is the
optional extra ``[dask]``). Anything else that implements ``submit`` can be passed to :func:`sims.sweep.run_sweep`.
"""
from __future__ import annotations

import contextlib
import os

from theory import validate
from theory.errors import SpecError

EXECUTORS = ("local", "dask")
CONNECT_TIMEOUT = 10.0  # seconds to reach a dask scheduler before giving up


# ----------------------------------------------------------------------------------------------- executors
def lost_worker(exc: BaseException) -> bool:
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
