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
    def error(self, message: str):  # noqa: D401 - argparse API
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
    """A progress bar on stderr for long commands: ``[#####-----]  3/25  name  0:42``.

    Drawn only where someone watches: when ``stream`` is a terminal (redrawn in place with a carriage return), or
    when ``enabled=True`` (then one plain line per item, for logs). Otherwise silent, so scripted and tested runs
    keep stderr empty. It reports; it never changes what is computed."""

    WIDTH = 24

    def __init__(self, total: int, *, stream=None, enabled: bool | None = None, clock=None):
        import time

        self.total = max(int(total), 0)
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.enabled = self.tty if enabled is None else bool(enabled)
        self.clock = time.monotonic if clock is None else clock
        self.start = self.clock()
        self.done = 0
        self._drawn = False

    def _line(self, label: str) -> str:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        elapsed = int(self.clock() - self.start)
        return (f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done:>{len(str(self.total))}}/{self.total}  "
                f"{label}  {elapsed // 60}:{elapsed % 60:02d}")

    def update(self, label: str, done: int | None = None) -> None:
        """Show ``label`` (what runs now) with ``done`` items finished (default: unchanged)."""
        if done is not None:
            self.done = min(max(int(done), 0), self.total)
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self._line(label))
        else:
            self.stream.write(self._line(label) + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self, label: str = "done") -> None:
        self.update(label, self.total)
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
