"""The one progress reporter (theory.cli_util.Progress) and the commands that use it.

Progress goes to stderr in every setting: a bar redrawn in place on a terminal, one plain line per finished task
elsewhere (never a control character), nothing with --quiet; stdout (a --json document) never holds any of it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from theory.cli_util import Progress

ROOT = Path(__file__).resolve().parents[1]


class _Stream:
    def __init__(self, tty):
        self.tty, self.parts = tty, []

    def isatty(self):
        return self.tty

    def write(self, s):
        self.parts.append(s)

    def flush(self):
        pass


def _clock(values):
    it = iter(values)
    return lambda: next(it)


def test_terminal_gets_a_bar_redrawn_in_place():
    tty = _Stream(True)
    bar = Progress(4, stream=tty, clock=_clock(range(0, 1000, 61)))
    bar.running("first")
    bar.finished("first")
    bar.finished("second")
    bar.close()
    text = "".join(tty.parts)
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "[############------------] 2/4  second  5:05" in text  # each finished task moves the bar


def test_a_log_gets_one_plain_line_per_finished_task():
    log = _Stream(False)
    bar = Progress(3, stream=log, clock=_clock([0, 41.2, 50.0]))
    bar.running("train-inits")  # nothing: a log only hears of finished tasks
    bar.finished("train-inits")
    bar.finished("claims", seconds=3.25)
    bar.close()
    assert log.parts == ["[1/3] train-inits 41.2 s\n", "[2/3] claims 3.2 s\n"]
    assert not any("\r" in p or "\033" in p for p in log.parts)


def test_quiet_prints_nothing_anywhere():
    for tty in (True, False):
        s = _Stream(tty)
        bar = Progress(2, stream=s, quiet=True)
        bar.running("a")
        bar.finished("a")
        bar.close()
        assert s.parts == []


def test_counted_units_are_throttled_in_a_log_and_silent_when_quick():
    quick = _Stream(False)
    report = Progress(0, stream=quick, unit="networks", min_interval=2.0, clock=_clock([0, 0.5, 1.0])).callback()
    report(1, 2), report(2, 2)
    assert quick.parts == []  # finished within 2 s: no lines at all
    slow = _Stream(False)
    t = [0, 1, 2.5, 3, 5, 9]
    report = Progress(0, stream=slow, unit="networks", min_interval=2.0, clock=_clock(t)).callback()
    for k in range(1, 6):
        report(k, 5)
    assert slow.parts == ["[2/5] networks 2.5 s so far\n", "[4/5] networks 5.0 s so far\n",
                          "[5/5] networks 9.0 s so far\n"]


def test_a_resumed_count_says_what_was_done_before_and_repeats_nothing():
    log = _Stream(False)
    report = Progress(0, stream=log, unit="configurations", clock=_clock([0, 0, 4.0, 4.0])).callback()
    report(0, 5)  # a fresh start: no line
    report(3, 5)  # three already stored (a resumed sweep)
    report(3, 5)  # the same count again: no line
    report(4, 5)
    assert log.parts == ["[3/5] configurations 0.0 s so far\n", "[4/5] configurations 4.0 s so far\n"]


def test_a_closed_stream_does_not_fail_the_work():
    class Closed(_Stream):
        def write(self, s):
            raise ValueError("I/O operation on closed file")
    bar = Progress(2, stream=Closed(False))
    bar.finished("a")
    bar.finished("b")


def _python(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          **kw)


def test_figures_report_each_finished_figure_and_quiet_silences_them(tmp_path, capsys):
    """In-process (stderr is not a terminal here): one line per figure; --quiet prints neither paths nor progress.
    The same through a real pipe: tests/test_figures.py::test_byte_identical_across_processes."""
    from figures.cli import main

    assert main(["--only", "activation-relu", "dropout-network", "--out", str(tmp_path), "--fast"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert [ln.split()[:2] for ln in lines] == [["[1/2]", "activation-relu"], ["[2/2]", "dropout-network"]]
    assert all(ln.endswith(" s") for ln in lines) and "\r" not in err and "\033" not in err
    assert len(out.split()) == 4  # the written paths, on stdout
    assert main(["--only", "activation-relu", "--out", str(tmp_path), "--fast", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow
def test_json_stdout_is_one_document_with_progress_on_stderr(tmp_path):
    """A sweep in a log: a line per configuration on stderr, stdout still parses as one JSON document."""
    grid = tmp_path / "g.toml"
    grid.write_text("[grid]\nactivation = ['tanh']\nwidth = [16]\ndepth = [3]\nbatch = [8]\nseeds = [2]\n"
                    "seed = [0, 1]\n")
    r = _python(["-m", "sims", "sweep", "--grid", str(grid), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--json"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ran"] == 2
    assert [ln.split()[0] for ln in r.stderr.splitlines()] == ["[1/2]", "[2/2]"]
