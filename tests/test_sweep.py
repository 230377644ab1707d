"""sims.sweep: grids, the store, executors (local pool, dask), lost workers, resuming, and the command line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from processes import wait_for
from optional import distributed_or_skip

from sims import sweep as S
from sims.cli import main as sims_main
from theory.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
TINY = {"activation": ["tanh", "relu"], "weight_var": [1.0, 2.0], "width": [16], "depth": [4], "batch": [8],
        "seeds": [3]}


def _run(argv, capsys):
    code = sims_main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------------ grid
def test_expand_is_the_product_in_written_order_with_defaults():
    configs = S.expand({"width": [8, 16], "activation": ["tanh", "relu", "elu"], "depth": 3})
    assert len(configs) == 6
    assert [(c["width"], c["activation"]) for c in configs] == [(8, "tanh"), (8, "relu"), (8, "elu"),
                                                               (16, "tanh"), (16, "relu"), (16, "elu")]
    assert all(c["depth"] == 3 and c["init"] == "glorot_normal" and c["bias_var"] == 0.0 for c in configs)
    assert set(configs[0]) == set(S.FIELDS)
    assert len({S.config_key(c) for c in configs}) == 6
    # the key depends on every field, defaults included
    other = dict(configs[0], seed=1)
    assert S.config_key(other) != S.config_key(configs[0])


@pytest.mark.parametrize("grid, needle", [
    ({}, "empty"),
    ({"width": []}, "empty list"),
    ({"widht": [8]}, "unknown grid field"),
    ({"width": [8.5]}, "integers"),
    ({"width": [True]}, "integers"),
    ({"batchnorm": [1]}, "true or false"),
    ({"bias_var": ["x"]}, "finite numbers"),
    ({"width": [8, 8]}, "twice"),
    ({"width": [0]}, "positive"),
    ({"activation": ["nosuch"]}, "activation"),
    ({"task": ["nosuch"]}, "task"),
    ({"weight_var": [-1.0]}, "weight_var"),
    ({"batch": [1]}, "batch"),
    ({"device": ["cuda"]}, "cuda needs backend torch"),
    ({"task": ["norms"], "activation": ["tanh"]}, "relu"),
])
def test_bad_grids_raise_one_clear_error(grid, needle):
    with pytest.raises(SpecError, match=needle):
        S.expand(grid)


@pytest.mark.parametrize("text, needle", [
    ("[grid\nwidth = [8]", "not valid TOML"),
    ("width = [8]", "no \\[grid\\] table"),
    ("[grid]\nwidth = [8]\n[other]\nx = 1", "unknown table"),
])
def test_malformed_grid_files(tmp_path, text, needle):
    p = tmp_path / "g.toml"
    p.write_text(text)
    with pytest.raises(SpecError, match=needle):
        S.read_grid(p)
    with pytest.raises(SpecError, match="does not exist"):
        S.read_grid(tmp_path / "missing.toml")


def test_weight_var_replaces_the_init():
    cfg = S.expand({"weight_var": [1.5], "width": [32]})[0]
    assert S.network_config(cfg).scheme.variance(32, 32) == pytest.approx(1.5 / 32, rel=1e-15)


# ------------------------------------------------------------------------------------------ store and runs
def _inprocess():
    """An executor that runs each task in this process (a reference for the pools)."""
    from concurrent.futures import ThreadPoolExecutor
    return ThreadPoolExecutor(max_workers=1)


def _sweep(out, grid=TINY, executor=None, **kw):
    configs = S.expand(grid)
    store = S.Store(out)
    store.prepare(grid, configs, resume=kw.pop("resume", False))
    return S.run_sweep(configs, store, executor=executor or _inprocess, **kw)


def test_local_pool_matches_in_process_and_rows_hold_no_timings(tmp_path):
    a = _sweep(tmp_path / "a")
    b = _sweep(tmp_path / "b", executor=lambda: S.make_executor("local", workers=2))
    assert a["ran"] == b["ran"] == 4 and not a["failed"] and not b["failed"]
    ta, tb = S.table_rows(tmp_path / "a"), S.table_rows(tmp_path / "b")
    assert ta == tb and len(ta["rows"]) == 4 and ta["missing"] == []
    text = json.dumps(ta)
    assert "seconds" not in text and "host" not in text and "pid" not in text
    # grid order, and the results of a configuration are those of sims.engine.simulate for it
    assert [r["key"] for r in ta["rows"]] == [S.config_key(c) for c in S.expand(TINY)]
    from sims.engine import simulate
    cfg = ta["rows"][0]["config"]
    direct = simulate(S.network_config(cfg), cfg["batch"], cfg["seeds"], seed=cfg["seed"])
    assert ta["rows"][0]["results"]["layers"]["preact_var"]["mean"] == direct["summary"]["preact_var"][0].tolist()
    # the folder holds the manifest and one file per configuration, nothing temporary
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["manifest.json", "results"]
    assert sorted(p.suffix for p in (tmp_path / "b" / "results").iterdir()) == [".json"] * 4


def test_table_loads_as_a_structured_array(tmp_path):
    _sweep(tmp_path)
    t = S.load_table(tmp_path, as_pandas=False)
    assert t.shape == (4,) and list(t["activation"]) == ["tanh", "tanh", "relu", "relu"]
    assert t["weight_var"].dtype == np.float64 and t["width"].dtype == np.int64
    rows = S.table_rows(tmp_path)["rows"]
    np.testing.assert_array_equal(t["preact_var_mean"][2], rows[2]["results"]["layers"]["preact_var"]["mean"])


class _Counting:
    """A task wrapper that records which configurations it computed (threads: same process)."""

    def __init__(self):
        self.ran = []

    def __call__(self, cfg, blas_threads=None):
        self.ran.append(S.config_key(cfg))
        return S.run_config(cfg, blas_threads)


def test_resume_recomputes_nothing_that_finished(tmp_path):
    _sweep(tmp_path)
    files = sorted((tmp_path / "results").iterdir())
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    for p in files[:2]:  # an interrupted sweep: two configurations never finished
        p.unlink()
    with pytest.raises(SpecError, match="--resume"):
        S.Store(tmp_path).prepare(TINY, S.expand(TINY), resume=False)
    task = _Counting()
    res = _sweep(tmp_path, resume=True, task=task)
    assert res["ran"] == 2 and res["skipped"] == 2
    assert sorted(task.ran) == sorted(p.stem for p in files[:2])
    for p in files[2:]:
        assert (p.read_bytes(), p.stat().st_mtime_ns) == before[p.name]
    for p in files[:2]:  # recomputed: the same bytes as the first time (deterministic)
        assert p.read_bytes() == before[p.name][0]
    # negative control: the same counting on an empty store computes all four
    task2 = _Counting()
    _sweep(tmp_path / "fresh", task=task2)
    assert len(task2.ran) == 4


def test_an_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    store = S.Store(tmp_path)
    configs = S.expand(TINY)
    store.prepare(TINY, configs, resume=False)

    def fail(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)  # the atomic write renames with os.replace
    with pytest.raises(OSError):
        store.write(configs[0], {"x": 1})
    assert list((tmp_path / "results").iterdir()) == []


def suicidal_task(cfg, blas_threads=None):
    """Kill this worker process the first time each configuration of width 16 with weight_var 2 runs (a marker
    file records the first attempt); compute normally otherwise."""
    marker = Path(os.environ["SWEEP_TEST_MARKERS"]) / S.config_key(cfg)
    if cfg["weight_var"] == 2.0 and not marker.exists():
        marker.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return S.run_config(cfg, blas_threads)


@pytest.mark.slow
def test_a_killed_worker_loses_no_configuration(tmp_path, monkeypatch):
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("SWEEP_TEST_MARKERS", str(markers))  # inherited by the spawned workers
    res = _sweep(tmp_path / "killed", executor=lambda: S.make_executor("local", workers=2), task=suicidal_task)
    assert len(list(markers.iterdir())) == 2  # two workers were killed (one per configuration with weight_var 2)
    assert res["retried"] >= 1 and not res["failed"]
    _sweep(tmp_path / "clean")
    killed, clean = S.table_rows(tmp_path / "killed"), S.table_rows(tmp_path / "clean")
    assert killed == clean  # every configuration once, with the same results
    # negative control: with a single attempt the lost configurations are reported, not silently dropped
    for m in markers.iterdir():
        m.unlink()
    res = _sweep(tmp_path / "once", executor=lambda: S.make_executor("local", workers=2), task=suicidal_task,
                 max_attempts=1)
    assert res["failed"] and all("lost" in why for why in res["failed"].values())
    assert len(S.table_rows(tmp_path / "once")["missing"]) == len(res["failed"])


def test_a_task_error_is_reported_not_retried(tmp_path):
    def broken(cfg, blas_threads=None):
        if cfg["activation"] == "relu":
            raise ValueError("boom")
        return S.run_config(cfg, blas_threads)
    res = _sweep(tmp_path, task=broken)
    assert res["ran"] == 2 and len(res["failed"]) == 2 and all("boom" in v for v in res["failed"].values())


# ------------------------------------------------------------------------------------------ norms task
def test_norms_task_is_deterministic_and_counts_dead_networks():
    cfg = S.expand({"task": ["norms"], "activation": ["relu"], "init": ["he_normal"], "width": [2], "depth": [6],
                    "seeds": [400]})[0]
    a, b = S.norms_task(cfg), S.norms_task(cfg)
    assert a == b
    logs = a["log_sq_norm"]
    assert a["dead"] == sum(v is None for v in logs) > 0  # width 2: a layer dies with probability 1/4
    live = np.array([v for v in logs if v is not None])
    assert a["var"] == pytest.approx(live.var(ddof=1), rel=1e-12)


# ------------------------------------------------------------------------------------------ command line
def _grid_file(tmp_path, text):
    p = tmp_path / "grid.toml"
    p.write_text(text)
    return str(p)


GRID_TEXT = "[grid]\nactivation = ['tanh']\nwidth = [16]\ndepth = [3]\nbatch = [8]\nseeds = [2, 3]\n"


def test_cli_sweep_and_table(tmp_path, capsys):
    g = _grid_file(tmp_path, GRID_TEXT)
    out = str(tmp_path / "out")
    code, stdout, err = _run(["sweep", "--grid", g, "--out", out, "--workers", "1", "--json"], capsys)
    assert code == 0 and err.count("\n") == 2 and err.startswith("[1/2]")  # one progress line per configuration
    assert json.loads(stdout) == {"ran": 2, "skipped": 0, "retried": 0, "failed": {}, "configurations": 2}
    code, stdout, _ = _run(["sweep-table", out, "--json"], capsys)
    doc = json.loads(stdout)
    assert code == 0 and [r["config"]["seeds"] for r in doc["rows"]] == [2, 3] and doc["missing"] == []
    code, stdout, _ = _run(["sweep-table", out], capsys)
    assert code == 0 and stdout.count("seeds=") == 2
    code, stdout, err = _run(["sweep", "--grid", g, "--out", out, "--resume", "--json"], capsys)
    assert code == 0 and json.loads(stdout)["skipped"] == 2


@pytest.mark.parametrize("text, extra, needle", [
    ("[grid\n", [], "not valid TOML"),
    ("[grid]\nwidht = [3]\n", [], "unknown grid field"),
    ("[grid]\n", [], "empty"),
    (GRID_TEXT, ["--scheduler", "tcp://127.0.0.1:9"], "needs --executor dask"),
    (GRID_TEXT, ["--workers", "0"], "workers"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, text, extra, needle):
    g = _grid_file(tmp_path, text)
    code, stdout, err = _run(["sweep", "--grid", g, "--out", str(tmp_path / "o"), *extra], capsys)
    assert code == 2 and stdout == "" and err.count("\n") == 1 and needle in err, err


def test_cli_missing_store_and_existing_results(tmp_path, capsys):
    code, _, err = _run(["sweep-table", str(tmp_path / "nothing")], capsys)
    assert code == 2 and "not a sweep folder" in err
    g = _grid_file(tmp_path, GRID_TEXT)
    out = str(tmp_path / "out")
    _sweep(out, S.read_grid(g))  # a finished sweep in the folder (computed in this process)
    code, _, err = _run(["sweep", "--grid", g, "--out", out], capsys)
    assert code == 2 and "--resume" in err and err.count("\n") == 1


@pytest.mark.crosscheck
def test_cli_unreachable_scheduler_is_one_line(tmp_path, capsys):
    """The code's own --timeout bounds the wait (its speed is not this test's business: no clock here)."""
    distributed_or_skip()
    g = _grid_file(tmp_path, GRID_TEXT)
    code, _, err = _run(["sweep", "--grid", g, "--out", str(tmp_path / "o"), "--executor", "dask", "--scheduler",
                         "tcp://127.0.0.1:9", "--timeout", "1"], capsys)
    assert code == 2 and "cannot reach the dask scheduler" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ slow: dask, Ctrl-C
@pytest.mark.crosscheck
@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_pools_table(tmp_path):
    distributed_or_skip()
    _sweep(tmp_path / "pool", executor=lambda: S.make_executor("local", workers=2))
    res = _sweep(tmp_path / "dask", executor=lambda: S.make_executor("dask", workers=2))
    assert res["ran"] == 4 and not res["failed"]
    assert S.table_rows(tmp_path / "dask") == S.table_rows(tmp_path / "pool")


@pytest.mark.slow
def test_ctrl_c_then_resume(tmp_path):
    g = _grid_file(tmp_path, "[grid]\nactivation = ['tanh']\nwidth = [256]\ndepth = [40]\nbatch = [256]\n"
                             "seeds = [4]\nseed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sims", "sweep", "--grid", g, "--out", str(out), "--workers",
                             "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for(proc, lambda: any((out / "results").glob("*.json")), "a first stored result")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, workers included
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, (proc.returncode, err[-3000:])
    done = sorted(p.name for p in (out / "results").iterdir())
    assert done and all(not n.startswith(".") for n in done) and len(done) < 12
    stamps = {n: (out / "results" / n).stat().st_mtime_ns for n in done}
    r = subprocess.run([sys.executable, "-m", "sims", "sweep", "--grid", g, "--out", str(out), "--resume", "--json"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["skipped"] == len(done) and summary["ran"] == 12 - len(done)
    assert all((out / "results" / n).stat().st_mtime_ns == stamps[n] for n in done)
