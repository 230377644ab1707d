"""A time budget for the analysis of user-supplied expressions, enforced by the code on every platform.

SymPy and mpmath have no notion of a deadline, and a few characters (``sin(x)**1000``, ``exp(exp(x))``) can keep
``solveset``, ``integrate`` or a quadrature busy for minutes. A SIGALRM inside SymPy is neither portable nor safe, so
each bounded step runs in a separate process that is killed at its deadline: :func:`run` returns the step's result or
raises :class:`BudgetExceeded` (a :class:`SpecError`: one line, exit status 2 on the command line), and the callers
fall back to a numeric route (marked ``numeric``) where there is one.

Limits (seconds of wall-clock time):

- :data:`STEP_S`: one exact (SymPy) step of one expression (its pieces and derivative, sup |phi'|, its range, the
  closed forms of its Gaussian moments, parsing and checking it);
- :data:`TOTAL_S`: all bounded steps of one command together (:func:`session`; the time spent in them is counted),
  the numeric fallbacks included. The analysis of a command's expressions therefore answers, or refuses with one
  line, within about TOTAL_S plus the start of the worker server (about a second, once per process).

Named activations (``tanh``, ``elu:0.5``, ...) are the package's own, analysed in-process without a budget. Workers
come from the ``forkserver`` start method where it exists (a clean server process that imports SymPy and the theory
modules once, then forks one worker per step in milliseconds) and ``spawn`` elsewhere. Inside a worker, nested
bounded steps run directly (the outer deadline covers them).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import types
from collections.abc import Callable, Iterator

from theory.errors import SpecError

STEP_S = 5.0
TOTAL_S = 25.0
PRELOAD = ["sympy", "mpmath", "numpy", "scipy.integrate", "theory.activations", "theory.meanfield", "theory.init"]

_INSIDE_WORKER = False
_LEFT: list[float] = []  # per open session (innermost last): seconds of bounded work it still allows
_CONTEXT = None  # the multiprocessing context, made once per process (a deliberate, process-wide cache)


class BudgetExceeded(SpecError):
    """A bounded step did not finish within its budget; the message says which step and what the budget is."""


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
        else:
            ctx = multiprocessing.get_context("spawn")
        _CONTEXT = ctx
    return _CONTEXT


def stop_server() -> None:
    """Stop the forkserver of the bounded steps, if this process started one (Ctrl-C: no process is left behind;
    it would end by itself once our pipe closes, but only after we are gone)."""
    import signal

    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    server._forkserver_pid = None  # a later step starts a fresh server instead of using a dead one
    with contextlib.suppress(OSError, TypeError):
        os.close(server._forkserver_alive_fd)
    server._forkserver_alive_fd = None
    server._forkserver_address = None


def run_directly() -> None:
    """From now on this process runs bounded steps directly: for the pool workers of the package's own jobs (the main
    job, a sweep), whose expressions are the package's own or were checked under the budget by the parent."""
    global _INSIDE_WORKER
    _INSIDE_WORKER = True


def inside_worker() -> bool:
    """True where bounded steps run directly: in a worker process of :func:`run` (nested steps), and in a daemonic
    process (a dask worker), which may not start children; there the inputs were checked, under the budget, by the
    process that sent the work."""
    return _INSIDE_WORKER or multiprocessing.current_process().daemon


def remaining(default: float = STEP_S) -> float:
    """Seconds of bounded work left in the current :func:`session` (``default`` outside one)."""
    return min(_LEFT) if _LEFT else default


@contextlib.contextmanager
def session(seconds: float = TOTAL_S) -> Iterator[None]:
    """Inside the block, all :func:`run` steps together may take at most ``seconds`` (the time spent in them is
    counted, not the time of other work between them; nested sessions count against every open one)."""
    _LEFT.append(float(seconds))
    try:
        yield
    finally:
        _LEFT.pop()


def _spend(seconds: float) -> None:
    for i in range(len(_LEFT)):
        _LEFT[i] -= seconds


def _worker(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    global _INSIDE_WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group: the parent stops this worker
    _INSIDE_WORKER = True
    try:
        result = ("ok", fn(*args, **kwargs))
    except SpecError as exc:
        result = ("spec", str(exc))
    except RecursionError:
        result = ("spec", "the expression is nested too deeply for the analysis")
    except MemoryError:
        result = ("spec", "the analysis ran out of memory")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as one line, never a traceback
        result = ("error", f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
    try:
        conn.send(result)
    except (BrokenPipeError, ConnectionError):  # the parent is gone (stopped, interrupted): nobody to tell
        pass
    except Exception as exc:  # an unpicklable result: say so instead of dying silently
        with contextlib.suppress(OSError):
            conn.send(("error", f"result not transferable ({type(exc).__name__})"))
    finally:
        conn.close()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a worker without telling it about the ``__main__`` module: ``fn`` belongs to this package, and a worker
    that re-ran the caller's script (as spawn and forkserver do) would, in a script without an ``if __name__ ==
    '__main__'`` guard, start the same bounded step again while bootstrapping and die."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def run(fn: Callable, *args, what: str, seconds: float = STEP_S, **kwargs):
    """``fn(*args, **kwargs)`` in a worker process killed after ``seconds`` (and no later than the session's
    deadline); its result, or :class:`BudgetExceeded` naming ``what``. A SpecError inside the step is re-raised as
    itself; any other exception becomes a one-line SpecError (bad input, not a crash of ours)."""
    if inside_worker():
        return fn(*args, **kwargs)
    limit = min(seconds, remaining(seconds))
    if limit <= 0:
        raise BudgetExceeded(f"{what}: the time budget of {TOTAL_S:g} s for this command's expressions is spent")
    ctx = _context()
    started = time.monotonic()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, fn, args, kwargs), daemon=True)
    with _without_main():
        proc.start()
    child.close()
    try:
        ready = parent.poll(limit)
        message = parent.recv() if ready else None
    except EOFError:  # the worker died without a word (killed, out of memory)
        message = ("spec", f"{what}: the analysis stopped unexpectedly (exit status {proc.exitcode})")
    except BaseException:
        _stop(proc)
        raise
    finally:
        parent.close()
        _spend(time.monotonic() - started)
    _stop(proc)
    if message is None:
        raise BudgetExceeded(f"{what} did not finish within its budget of {limit:.3g} s (python -m theory --help: "
                             "'budget')")
    kind, value = message
    if kind == "ok":
        return value
    if kind == "spec":
        raise SpecError(value)
    raise SpecError(f"{what}: {value}")


def _stop(proc) -> None:
    """Kill a worker that is still running and reap it (no zombie, no ResourceWarning)."""
    if proc.is_alive():
        proc.kill()
    proc.join()
    with contextlib.suppress(ValueError, AttributeError):
        proc.close()


def describe() -> str:
    """The budget in one sentence, for ``--help``."""
    return (f"user-typed expressions are analysed under a time budget: each exact (SymPy) step at most {STEP_S:g} s "
            f"(past it the numeric route, marked numeric, or a one-line refusal), at most {TOTAL_S:g} s for a "
            "command's expressions in all; named activations are not limited")


def _pid() -> int:  # for tests: the worker's process id
    return os.getpid()
