"""Command-line plumbing shared by every package's ``main(argv=None) -> int``.

Contract (DESIGN.md): ``--help``; a bad argument gives ONE line on stderr and exit status 2; ``--json`` prints one
JSON document with non-finite numbers written as null. :func:`run` turns :class:`SpecError` (and argparse errors)
into that one line, and Ctrl-C into exit status 130 without a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
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


def finite_or_none(obj):
    """Recursively replace NaN/inf floats (Python or NumPy) by None; convert NumPy scalars and arrays."""
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


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, mapping bad input to one stderr line + exit 2 and Ctrl-C to exit 130."""
    try:
        return body()
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
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


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
