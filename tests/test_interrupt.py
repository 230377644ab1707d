"""Ctrl-C is reliable (theory.cli_util.run): a KeyboardInterrupt that lands in a weakref callback or a __del__ is
swallowed by Python ("Exception ignored"), so the command must raise it again until it lands where it is handled.
Real signals to the running process; no clock in any assertion."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from theory import cli_util

ROOT = Path(__file__).resolve().parents[1]


def _swallowing_body(events: list, swallow_first: bool, steps: int):
    """A command body that swallows the first KeyboardInterrupt (as a weakref callback does), then works on for
    ``steps`` short waits."""
    def body() -> int:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**6):  # bytecode, so the handler runs here
                pass
            threading.Event().wait(1.0)
        except KeyboardInterrupt:
            events.append("swallowed")
            if not swallow_first:
                raise
        for _ in range(steps):  # keeps working; only a repeated interrupt stops it
            threading.Event().wait(0.05)
        events.append("finished")
        return 0
    return body


def test_a_swallowed_interrupt_is_raised_again_and_exits_130(capsys):
    events: list = []
    # work that would last 10 minutes (a guard against a hang, not a speed limit): only the repeat can end it
    assert cli_util.run("prog", _swallowing_body(events, swallow_first=True, steps=12_000)) == 130
    assert events == ["swallowed"]  # the repeat stopped the work before it finished
    assert capsys.readouterr().err == "prog: interrupted\n"


def test_without_the_repeat_the_swallowed_interrupt_is_lost(monkeypatch, capsys):
    """Negative control: with the watchdog disabled the body runs to its end (what happened before)."""
    monkeypatch.setattr(cli_util, "_watchdog", lambda generation: None)
    events: list = []
    code = cli_util.run("prog", _swallowing_body(events, swallow_first=True, steps=20))
    assert events == ["swallowed", "finished"]
    assert code == 130  # still reported as interrupted at the end: the request was remembered
    capsys.readouterr()


def test_the_handler_is_restored_and_a_later_command_runs_normally():
    before = signal.getsignal(signal.SIGINT)
    assert cli_util.run("prog", lambda: 0) == 0
    assert signal.getsignal(signal.SIGINT) is before
    assert cli_util.run("prog", lambda: 3) == 3 and not cli_util.interrupt_requested()


_EVAL_SCRIPT = """import os, signal
from theory.cli_util import exit_with, run


def body():
    eval("os.kill(os.getpid(), signal.SIGINT) or sum(range(10**7))")
    return 0


{last}(run("prog", body))
"""


def _run_module(tmp_path, last: str):
    """``python -m`` a module whose command is interrupted inside eval() of a string (as fontTools is)."""
    import os
    import subprocess
    import sys

    (tmp_path / "evalint.py").write_text(_EVAL_SCRIPT.format(last=last))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "evalint"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)


def test_an_interrupt_caught_after_passing_through_eval_still_exits_130(tmp_path):
    """CPython (3.11) flags a KeyboardInterrupt that leaves code run by eval() of a string as "unhandled" even when it
    is caught later, and at the exit of ``python -m`` kills the process with SIGINT (status -2). fontTools builds its
    tables that way under matplotlib's PDF writer, so a Ctrl-C while a figure was saved hit it; exit_with() ends such
    a run with 130."""
    r = _run_module(tmp_path, "exit_with")
    assert (r.returncode, r.stderr) == (130, "prog: interrupted\n")


def test_without_exit_with_the_interpreter_dies_of_sigint(tmp_path):
    """Negative control: the same module ending in ``raise SystemExit(...)`` dies of SIGINT where the interpreter has
    the quirk (skipped, with the reason, where it does not)."""
    import pytest

    r = _run_module(tmp_path, "raise SystemExit")
    if r.returncode == 130:
        pytest.skip("this interpreter returns 130 here: it does not have the eval() KeyboardInterrupt quirk")
    assert r.returncode == -2 and r.stderr == "prog: interrupted\n"
