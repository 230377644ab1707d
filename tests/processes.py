"""Real signals to real process groups, without a clock in any assertion: wait for an event, however slow the
machine is, and fail only if the process ends without it (or after HUNG_S, which only a hang reaches)."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

HUNG_S = 1800.0  # not a speed limit: a guard so that a hung child cannot hang the suite forever


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool], what: str) -> None:
    """Poll until ``ready()``; fail if ``proc`` exits first (it never reached the state the test needs)."""
    start = time.monotonic()
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the process ended (status {proc.returncode}) before {what}:\n{err[-2000:]}")
        if time.monotonic() - start > HUNG_S:
            proc.kill()
            raise AssertionError(f"no {what} after {HUNG_S:.0f} s: hung")
        time.sleep(0.05)
