"""Command-line plumbing shared by every package's ``main(argv=None) -> int``.

Contract (DESIGN.md): ``--help``; a bad argument gives ONE line on stderr and exit status 2; ``--json`` prints one
JSON document with non-finite numbers written as null. :func:`run` turns :class:`SpecError` (and argparse errors)
into that one line, and Ctrl-C into exit status 130 without a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from collections.abc import Callable

import numpy as np

from theory.errors import SpecError


class UsageError(Exception):
    """Raised instead of argparse's exit so that :func:`run` prints exactly one line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors and no prefix matching: ``--drop`` is never silently taken for
    ``--dropout-keep`` (``allow_abbrev=False``, also for every subcommand, which argparse builds with this class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401 - argparse API
        """argparse's error hook: raise :class:`UsageError` (``prog: error: message (see --help)``, one line) instead of
        printing the usage and exiting."""
        raise UsageError(f"{self.prog}: error: {message} (see --help)")


def path_arg(text: str):
    """argparse ``type`` for a file or folder path: refuses an empty string (``Path("")`` would silently mean the
    current folder) with one line."""
    from pathlib import Path

    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path with a NUL character")
    return Path(text)


def finite_or_none(obj):
    """Recursively replace NaN/inf floats (Python or NumPy) by None; convert NumPy scalars and arrays; a SymPy
    object becomes its string. The one JSON sanitiser of the package."""
    if isinstance(obj, dict):
        return {str(k): finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite_or_none(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if type(obj).__module__.startswith("sympy."):  # without importing SymPy here (every command imports this)
        return str(obj)
    return obj


def fmt_number(v, digits: int = 6, *, scale: float = 1.0, none: str = "—", nan: str = "undefined") -> str:
    """A number for the human-readable (non ``--json``) output: ``%.{digits}g``, but "0" where
    ``|v| < 1e-15 * |scale|`` (float noise such as tanh's Gaussian mean 1.9e-17: pass the quantity's natural scale),
    ``none`` ("—") for None, "∞" / "-∞" for infinities and ``nan`` ("undefined") for NaN. Never a Python repr."""
    if v is None:
        return none
    if isinstance(v, bool):
        return str(v).lower()
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return nan
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    ref = abs(float(scale))
    if not math.isfinite(ref):
        ref = 1.0
    if x == 0 or abs(x) < 1e-15 * ref:
        return "0"
    return f"{x:.{int(digits)}g}"


def dumps(obj) -> str:
    """One JSON document; raises if anything non-finite slipped through (it cannot, after finite_or_none)."""
    return json.dumps(finite_or_none(obj), indent=2, allow_nan=False, ensure_ascii=False)


class _Interrupt:
    """Ctrl-C, made reliable. Python raises KeyboardInterrupt at whatever bytecode runs when SIGINT arrives; inside a
    weakref callback or a ``__del__`` (matplotlib and NumPy run many) it is printed as "Exception ignored" and lost,
    and the command would run to its end. So the handler remembers the request, and until the command acknowledges
    it (:func:`acknowledge_interrupt`, in its cleanup) a watchdog thread raises it again in the main thread every
    :data:`REPEAT_S` seconds (``_thread.interrupt_main``), until it lands where it is handled."""

    REPEAT_S = 0.25
    requested = False
    acknowledged = False
    generation = 0  # one per run(): a watchdog of an earlier command stops
    watchdog: threading.Thread | None = None


def interrupt_requested() -> bool:
    """True once Ctrl-C (SIGINT) has reached a command run by :func:`run` (for loops that check between tasks)."""
    return _Interrupt.requested


def acknowledge_interrupt() -> None:
    """The command has seen the interrupt and is stopping: no more repeats (called first thing in cleanup code)."""
    _Interrupt.acknowledged = True


def _watchdog(generation: int) -> None:
    import _thread
    import time

    while _Interrupt.generation == generation and not _Interrupt.acknowledged:
        time.sleep(_Interrupt.REPEAT_S)
        if _Interrupt.generation == generation and _Interrupt.requested and not _Interrupt.acknowledged:
            _thread.interrupt_main(signal.SIGINT)


def _on_sigint(signum, frame):
    if _Interrupt.acknowledged:
        return  # already stopping: a second Ctrl-C (or a repeat) must not break the cleanup
    if not _Interrupt.requested:
        _Interrupt.requested = True
        _Interrupt.watchdog = threading.Thread(target=_watchdog, args=(_Interrupt.generation,),
                                               name="interrupt-watchdog", daemon=True)
        _Interrupt.watchdog.start()
    raise KeyboardInterrupt


def _drain_repeats() -> None:
    """Stop the watchdog, then let a repeat it already posted run through :func:`_on_sigint` (which ignores it once
    acknowledged) before the previous handler comes back: otherwise Python's own handler would raise it after the
    command has ended, and the process would die of SIGINT instead of exiting with 130."""
    _Interrupt.acknowledged = True
    if _Interrupt.watchdog is not None and _Interrupt.watchdog is not threading.current_thread():
        _Interrupt.watchdog.join()
    _Interrupt.watchdog = None
    for _ in range(8):  # backward jumps: where the interpreter runs pending signal handlers
        pass
    signal.getsignal(signal.SIGINT)


def _quiet_unraisable(previous):
    """``sys.unraisablehook`` that drops a KeyboardInterrupt swallowed by a callback (the watchdog raises it again
    where it is handled) instead of printing "Exception ignored ... Traceback"; anything else goes to ``previous``."""
    def hook(unraisable):
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            return
        previous(unraisable)
    return hook


def _interrupted(prog: str) -> int:
    acknowledge_interrupt()
    print(f"{prog}: interrupted", file=sys.stderr)
    return 130


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, mapping bad input to one stderr line + exit 2 and Ctrl-C to exit 130 (reliably: see
    :class:`_Interrupt`)."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if main_thread else None
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(previous_hook)
    _Interrupt.requested = _Interrupt.acknowledged = False
    _Interrupt.generation += 1
    try:
        code = _run(prog, body)
        if _Interrupt.requested and code != 130:  # the interrupt was swallowed somewhere, and the body finished
            code = _interrupted(prog)
        return code
    except KeyboardInterrupt:  # a repeat that landed in the handlers above
        return _interrupted(prog)
    finally:
        _drain_repeats()
        sys.unraisablehook = previous_hook
        if main_thread:
            signal.signal(signal.SIGINT, previous)


def stop_children(grace: float = 1.0) -> None:
    """Terminate every live multiprocessing child of this process (pool workers: Ctrl-C must not leave them behind,
    blocked on their task queue with our pipes open): SIGTERM, then SIGKILL after ``grace`` seconds."""
    import multiprocessing

    children = multiprocessing.active_children()
    for p in children:
        p.terminate()
    for p in children:
        p.join(grace)
        if p.is_alive():
            p.kill()
            p.join()
    from theory import budget

    budget.stop_server()


def exit_with(code: int):
    """End the process with ``code``: the ``python -m X`` entry points' last line.

    After Ctrl-C (130) the process ends with ``os._exit`` once stdout and stderr are flushed: CPython (3.11) marks a
    KeyboardInterrupt that passes through code run by ``eval``/``exec`` of a string (fontTools, under matplotlib's PDF
    writer, builds its tables that way) as "unhandled" even when it is caught later, and at exit kills the process
    with SIGINT (status -2) instead of returning 130. The command's own cleanup has run by then; workers are already
    stopped."""
    import os

    if code == 130:
        stop_children()
        try:  # what a normal exit runs: the pools' semaphores are released (else the resource tracker warns of leaks)
            from multiprocessing import util

            util._run_finalizers()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    raise SystemExit(code)


def _run(prog: str, body: Callable[[], int]) -> int:
    from theory import budget

    try:
        with budget.session():  # every command: its user-typed expressions share one budget (theory.budget)
            return body()
    except KeyboardInterrupt:
        return _interrupted(prog)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SpecError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version from argparse
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        import os
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except OSError as exc:  # the file system refused a path the user gave (permissions, a name too long, a full disk)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"{prog}: error: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2


class Progress:
    """Progress of ``total`` tasks on stderr, in every setting, never on stdout (so ``--json`` stays one document).

    - On a terminal: one bar redrawn in place, ``[#####-----]  3/25  name  0:42`` (what runs now, time so far).
    - Anywhere else (a log file, CI, a notebook's ``!python -m ...``): one plain line per finished task,
      ``[12/33] train-inits 41.2 s``, never a control character.
    - ``quiet=True`` (the commands' ``--quiet``): nothing.

    ``min_interval`` > 0 is for fine-grained counts (networks, epochs): the plain lines then start only after that many
    seconds and come at most once per interval (the last one always), so a quick run prints nothing and a long one
    prints a line now and then. It reports; it never changes what is computed."""

    WIDTH = 24

    def __init__(self, total: int, *, stream=None, quiet: bool = False, min_interval: float = 0.0, unit: str = "",
                 clock=None):
        import time

        self.total = max(int(total), 0)
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        try:
            self.tty = bool(isatty and isatty())
        except (OSError, ValueError):  # a closed or odd stream: treat as a log
            self.tty = False
        self.quiet = bool(quiet)
        self.min_interval = float(min_interval)
        self.unit = f"{unit} " if unit else ""
        self.clock = time.monotonic if clock is None else clock
        self.start = self.last = self.clock()
        self._printed = self.start  # when the last plain line was written
        self.done = 0
        self._drawn = False

    # ------------------------------------------------------------------ writing
    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: progress is not worth failing the work for
            self.quiet = True

    def _bar(self, label: str) -> str:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        elapsed = int(self.clock() - self.start)
        return (f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done:>{len(str(self.total))}}/{self.total}  "
                f"{self.unit}{label}  {elapsed // 60}:{elapsed % 60:02d}").rstrip()

    # ------------------------------------------------------------------ API
    def running(self, label: str) -> None:
        """Say what runs now (redraws the bar on a terminal; nothing in a log, where only finished tasks are lines)."""
        if self.quiet or not self.tty:
            return
        self._write("\r\033[K" + self._bar(label))
        self._drawn = True

    def finished(self, label: str = "", seconds: float | None = None, done: int | None = None) -> None:
        """One task finished (or ``done`` tasks so far), the last named ``label``, which took ``seconds`` (default:
        the time since the previous report)."""
        now = self.clock()
        if seconds is None:
            seconds = now - self.last
        self.last = now
        self.done = min(self.done + 1 if done is None else max(int(done), 0), self.total)
        if self.quiet:
            return
        if self.tty:
            self._write("\r\033[K" + self._bar(label))
            self._drawn = True
            return
        if self.min_interval > 0 and self.done < self.total and now - self._printed < self.min_interval:
            return
        if self.min_interval > 0 and self.done == self.total and now - self.start < self.min_interval:
            return  # a quick run: no lines at all
        self._printed = now
        count = f"[{self.done:>{len(str(self.total))}}/{self.total}]"
        if label:
            self._write(f"{count} {label} {seconds:.1f} s\n")
        else:  # counted units (networks, epochs, configurations): the time so far
            self._write(f"{count} {self.unit}{now - self.start:.1f} s so far\n")

    def callback(self):
        """``f(done, total)`` for the engine, the trainer and the sweep, which count what they finished."""
        def report(done: int, total: int) -> None:
            self.total = max(int(total), 0)
            if int(done) > self.done:  # a first report of work already done before (a resumed sweep) is no line
                self.finished(done=done)
            else:
                self.done = min(max(int(done), 0), self.total)
        return report

    def clear_line(self) -> None:
        """Before printing to stdout on a terminal: wipe the bar's line so the output does not print over it."""
        if self._drawn and not self.quiet and self.tty:
            self._write("\r\033[K")

    def close(self) -> None:
        """End the bar's line on a terminal (a log needs nothing)."""
        if self._drawn and not self.quiet and self.tty:
            self._write("\n")
            self._drawn = False
