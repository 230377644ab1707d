"""Caches and stores: every entry is checked (schema, key, hash) before use and a damaged one is recomputed with one
notice naming the file; temporary files of dead writers are removed and those of live ones kept; wrong-kind and
unwritable paths are refused before any work; sweep files get a normal mode; and (slow) the main job's output is a
function of its arguments and the code alone, however much of its cache is there or damaged.

Every check that damage is detected comes with a negative control: the same entry undamaged is used as it is, with no
notice, so a detector that flagged everything (or nothing) fails here."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from same import assert_same

from lecture import claims as C
from lecture import cli as L
from lecture.registry import Claim, Evidence, Outcome, exact_equal
from sims import memo
from sims import sweep as S
from sims.cli import main as sims_main
from theory.errors import SpecError
from theory.files import is_temporary, read_entry, remove_stale, write_entry

ROOT = Path(__file__).resolve().parents[1]
x = sp.Symbol("x")


# ------------------------------------------------------------------------------------------------ helpers
def _notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("notice:")]


def _one_line(err: str) -> str:
    """The single line a refusal prints (fails on a traceback or several lines)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])


def _empty_object(p: Path) -> None:
    p.write_text("{}")


def _empty_list(p: Path) -> None:
    p.write_text("[]")


def _wrong_key(p: Path) -> None:
    """A well-formed entry of another key (its value and hash untouched: only the key check can tell)."""
    doc = json.loads(p.read_text(encoding="utf-8"))
    doc["key"] = "0" * len(doc["key"])
    p.write_text(json.dumps(doc))


def _edited_value(p: Path) -> None:
    """The right key, the value changed, the hash left as it was."""
    doc = json.loads(p.read_text(encoding="utf-8"))
    doc["value"] = [doc["value"], "edited"]
    p.write_text(json.dumps(doc))


def _non_utf8(p: Path) -> None:
    p.write_bytes(b'{"key": "\xff\xfe", "sha256": "", "value": 1}')


def _directory(p: Path) -> None:
    p.unlink()
    p.mkdir()


def _dead_pid() -> int:
    """The id of a process that has certainly ended (started, waited for and reaped here)."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)
    return proc.pid


def _temporary(folder: Path, name: str, pid: int) -> Path:
    """A file named like atomic_write's temporary for ``name`` written by process ``pid``."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f".{name}.{pid}.k3j9x2ab.tmp"
    p.write_text("partial")
    assert is_temporary(p)
    return p


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ------------------------------------------------------------------------------------------------ read_entry
DAMAGE = {"truncated": _truncate, "empty-object": _empty_object, "empty-list": _empty_list, "wrong-key": _wrong_key,
          "edited-value": _edited_value, "non-UTF-8": _non_utf8}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_read_entry_trusts_only_an_intact_entry_of_its_key(tmp_path, damage):
    p = tmp_path / "entry.json"
    value = {"a": [1, 2.5, None], "s": "é", "n": {"k": True}}
    stored = write_entry(p, "k1", value)
    # negative control: the intact entry is read as it was written
    assert read_entry(p, "k1") == (True, stored, None) and stored == value
    damage(p)
    found = read_entry(p, "k1")
    assert not found.ok and found.value is None
    assert isinstance(found.problem, str) and found.problem.strip()


def test_read_entry_refuses_a_folder_in_the_entrys_place(tmp_path):
    p = tmp_path / "entry.json"
    write_entry(p, "k1", [1])
    assert read_entry(p, "k1").ok  # negative control
    _directory(p)
    with pytest.raises(SpecError, match="in the way"):
        read_entry(p, "k1")


def test_read_entry_of_a_missing_file_is_no_problem_and_another_key_is(tmp_path):
    p = tmp_path / "entry.json"
    assert read_entry(p, "k1") == (False, None, None)  # nothing cached yet: not damage, no problem to report
    write_entry(p, "k1", [1, 2])
    assert read_entry(p, "k1").ok and not read_entry(p, "k2").ok and "another key" in read_entry(p, "k2").problem


def test_read_entry_of_deeply_nested_garbage_is_a_problem_not_a_traceback(tmp_path):
    p = tmp_path / "entry.json"
    write_entry(p, "k1", [1])
    assert read_entry(p, "k1").ok  # negative control
    p.write_text("[" * 100_000)  # a foreign (or truncated) file, nested deeper than the parser's recursion limit
    found = read_entry(p, "k1")
    assert not found.ok and found.problem


# ------------------------------------------------------------------------------------------------ the memo
CALLS: list[int] = []


def _memo_fn(seed: int):
    """A deterministic 'experiment' (module level: its memo key holds its name) with every form the memo keeps."""
    CALLS.append(seed)
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(4).astype(np.float32), "pair": (seed, 0.5), 3: float(rng.random()),
            "nan": float("nan")}


@pytest.fixture
def memo_dir(tmp_path):
    previous = memo.folder()
    memo.configure(tmp_path / "memo")
    CALLS.clear()
    yield tmp_path / "memo"
    memo.configure(previous)


@pytest.mark.parametrize("damage", [_empty_object, _truncate, _wrong_key, _edited_value],
                         ids=["empty-object", "truncated", "wrong-key", "edited-value"])
def test_a_damaged_memo_entry_is_recomputed_with_one_notice(memo_dir, capsys, damage):
    cold = memo.call(_memo_fn, seed=7)
    [p] = memo_dir.glob("*.json")
    written = p.read_bytes()
    # negative control: an intact entry is read, not recomputed, and nothing is said
    warm = memo.call(_memo_fn, seed=7)
    assert CALLS == [7] and not _notices(capsys.readouterr().err)
    assert_same(warm, cold)
    damage(p)  # `{}` used to end in a KeyError traceback
    repaired = memo.call(_memo_fn, seed=7)
    err = capsys.readouterr().err
    assert CALLS == [7, 7]  # recomputed
    assert_same(repaired, cold)
    assert repaired["x"].dtype == np.float32 and repaired["pair"] == (7, 0.5)
    [line] = _notices(err)
    assert p.name in line and err.count("\n") == 1
    assert p.read_bytes() == written  # the entry is repaired, byte for byte
    memo.call(_memo_fn, seed=7)
    assert CALLS == [7, 7] and not _notices(capsys.readouterr().err)


def _evidence_fn(seed: int):
    CALLS.append(seed)
    return {"draws": np.random.default_rng(seed).standard_normal(3).tolist()}


@pytest.mark.parametrize("cache", ["memo", "evidence"])
def test_a_directory_in_place_of_an_entry_is_refused_before_the_work(memo_dir, capsys, cache):
    """A folder where an entry belongs: one line (SpecError) before the function runs again, since the recomputed
    value could not be stored there afterwards."""
    if cache == "memo":
        def call():
            return memo.call(_memo_fn, seed=3)
        folder = memo_dir
    else:
        def call():
            return Evidence(memo_dir.parent).get("draws", _evidence_fn, seed=3)
        folder = memo_dir.parent / "evidence"
    cold = call()
    [p] = folder.glob("*.json")
    calls = len(CALLS)
    _directory(p)
    with pytest.raises(SpecError, match="in the way"):
        call()
    assert len(CALLS) == calls  # refused before any work
    p.rmdir()
    assert_same(call(), cold)  # negative control: with the folder gone, the entry is computed and stored again


# ------------------------------------------------------------------------------------------------ claim evidence
def _real_claims(*ids: str) -> tuple[Claim, ...]:
    found = {c.id: c for c in C.all_claims()}
    missing = [i for i in ids if i not in found]
    assert not missing, f"pick other quick claims with evidence files: {missing} are gone"
    return tuple(found[i] for i in ids)


def test_a_damaged_evidence_file_is_recomputed_to_the_same_evidence(tmp_path, capsys):
    """Two real claims whose (quick) checks read cached evidence: a truncated file and one of another key give the
    same rows as the cold run (a damaged file used to change the verdicts of 6 claims)."""
    claims = _real_claims("init-standardization", "do-ensemble-average")

    def rows():
        return [C.row(c, o) for c, o in C.evaluate_all(Evidence(tmp_path, fast=True), claims=claims)]
    cold = rows()
    files = sorted((tmp_path / "evidence").glob("*.json"))
    assert len(files) == 2
    written = {p: p.read_bytes() for p in files}
    capsys.readouterr()
    # negative control: an intact cache gives the same rows and no notice
    assert rows() == cold and not _notices(capsys.readouterr().err)
    _truncate(files[0])
    _wrong_key(files[1])
    assert rows() == cold
    notices = _notices(capsys.readouterr().err)
    assert len(notices) == 2 and all(any(p.name in n for n in notices) for p in files)
    assert {p: p.read_bytes() for p in files} == written


def _stub_check(claimed, evidence):
    """A real (tiny) check that reads cached evidence: the slide's derivative of x^2 against sympy.diff."""
    truth = evidence.get("stub-derivative", lambda expr: str(sp.diff(sp.sympify(expr), x)), expr="x**2")
    if exact_equal(claimed["derivative"], truth):
        return Outcome("confirmed", f"d/dx x^2 = {truth}", {"derivative": truth})
    return Outcome("refuted", f"the slide's {claimed['derivative']} differs from {truth}", {"derivative": truth},
                   correction=f"d/dx x^2 = {truth}")


STUB = (Claim("act-stub", "Паралич сети", "В сетях с небольшим числом слоёв этот эффект незаметен", "a stub claim",
              {"derivative": 2 * x}, _stub_check, lambda c: {**c, "derivative": 3 * x}),
        Claim("init-stub", "Немного лучше", "Немного лучше", "a wrong stub", {"derivative": 3 * x}, _stub_check,
              lambda c: {**c, "derivative": 2 * x}))


@pytest.fixture
def quick_job(monkeypatch):
    """The main job and `lecture claims` with two stub claims and figures that draw nothing, recording the work that
    starts (``work``: figure names and ``"claims"``), so a test can tell whether a refusal came before any."""
    work: list[str] = []
    monkeypatch.setattr(C, "all_claims", lambda: STUB)

    def make_figure(name, fig_dir, lang, fast):
        work.append(name)
        return [], 0.0
    real = L._claims_and_derivations

    def claims_and_derivations(*args, **kwargs):
        work.append("claims")
        return real(*args, **kwargs)
    monkeypatch.setattr(L, "_make_figure", make_figure)
    monkeypatch.setattr(L, "_claims_and_derivations", claims_and_derivations)
    return work


def _claims_entry(cache: Path) -> Path:
    [p] = (cache / "evidence").glob("claims-*.json")
    return p


def _hash_valid_empty_rows(p: Path) -> None:
    """A well-formed entry of the right key whose value is no rows: only the rows check can refuse it."""
    write_entry(p, json.loads(p.read_text(encoding="utf-8"))["key"], [])


@pytest.mark.parametrize("damage", [_empty_list, _hash_valid_empty_rows, _truncate],
                         ids=["empty-list", "entry-holding-no-rows", "truncated"])
def test_a_damaged_claims_entry_is_recomputed_never_zero_claims(tmp_path, capsys, quick_job, damage):
    cache = tmp_path / "cache"
    argv = ["claims", "--json", "--cache", str(cache), "--quiet"]
    assert L.main(argv) == 0
    cold = capsys.readouterr().out
    assert [r["id"] for r in json.loads(cold)] == ["act-stub", "init-stub"]
    assert quick_job == ["claims"]
    # negative control: an intact entry is used, with no notice
    assert L.main(argv) == 0
    out = capsys.readouterr()
    assert out.out == cold and not _notices(out.err)
    p = _claims_entry(cache)
    damage(p)
    assert L.main(argv) == 0
    out = capsys.readouterr()
    assert out.out == cold
    [line] = _notices(out.err)
    assert p.name in line and out.err.count("\n") == 1


def test_the_main_job_never_writes_a_report_of_zero_claims(tmp_path, capsys, quick_job):
    """A cached claims entry holding no rows used to give exit 0 and a REPORT.md of 812 bytes with 0 claims."""
    out = tmp_path / "out"
    argv = ["--out", str(out), "--fast", "--jobs", "1", "--quiet"]
    assert L.main(argv) == 0
    report, claims_json = (out / "REPORT.md").read_bytes(), (out / "claims.json").read_bytes()
    assert "**Claims per verdict** (2)" in report.decode() and "«Немного лучше»" in report.decode()
    capsys.readouterr()
    assert L.main(argv) == 0 and not _notices(capsys.readouterr().err)  # negative control
    for damage in (_empty_list, _hash_valid_empty_rows):
        damage(_claims_entry(out / ".cache"))
        assert L.main(argv) == 0
        err = capsys.readouterr().err
        assert (out / "REPORT.md").read_bytes() == report and (out / "claims.json").read_bytes() == claims_json
        [line] = _notices(err)
        assert _claims_entry(out / ".cache").name in line


# ------------------------------------------------------------------------------------------------ the sweep store
GRID_TEXT = "[grid]\nactivation = ['tanh']\nwidth = [16]\ndepth = [3]\nbatch = [8]\nseeds = [2, 3]\n"


def _in_process_executor(*args, **kwargs):
    """The sweep's executor, in this process (the store's checks do not depend on the executor; no pool to start)."""
    return ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def sweep_store(tmp_path, monkeypatch):
    """A finished two-configuration store, its grid file and its `sweep-table --json` document."""
    monkeypatch.setattr(S, "make_executor", _in_process_executor)
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID_TEXT)
    grid = S.read_grid(grid_file)
    configs = S.expand(grid)
    out = tmp_path / "store"
    store = S.Store(out)
    store.prepare(grid, configs, resume=False)
    assert S.run_sweep(configs, store, executor=_in_process_executor)["ran"] == 2
    files = [store.path(S.config_key(c)) for c in configs]
    return {"out": out, "grid": grid_file, "files": files, "table": S.table_rows(out)}


def _sims(argv, capsys):
    code = sims_main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.parametrize("damage", [_truncate, _empty_object, _wrong_key, _edited_value],
                         ids=["truncated", "empty-object", "wrong-key", "edited-value"])
def test_a_damaged_sweep_result_is_not_finished_and_resume_recomputes_it(sweep_store, capsys, damage):
    out, grid = sweep_store["out"], sweep_store["grid"]
    bad, good = sweep_store["files"]
    written = {p: p.read_bytes() for p in (bad, good)}
    resume = ["sweep", "--grid", grid, "--out", out, "--resume", "--quiet", "--json"]
    # negative control: an intact store is finished, nothing runs, nothing is said
    code, stdout, err = _sims(resume, capsys)
    assert code == 0 and json.loads(stdout)["ran"] == 0 and json.loads(stdout)["skipped"] == 2 and not err
    damage(bad)
    assert not S.Store(out).done(bad.stem) and S.Store(out).done(good.stem)
    capsys.readouterr()
    code, stdout, err = _sims(resume, capsys)
    summary = json.loads(stdout)
    assert code == 0 and summary["ran"] == 1 and summary["skipped"] == 1 and not summary["failed"]
    [line] = _notices(err)
    assert str(bad) in line and err.count("\n") == 1
    assert {p: p.read_bytes() for p in (bad, good)} == written  # recomputed to the same bytes; the other untouched
    assert S.table_rows(out) == sweep_store["table"]


@pytest.mark.parametrize("damage", [_empty_object, _truncate, _hash_valid_empty_rows],
                         ids=["empty-object", "truncated", "entry-holding-a-list"])
def test_sweep_table_leaves_a_damaged_result_out_with_a_notice(sweep_store, capsys, damage):
    out, grid = sweep_store["out"], sweep_store["grid"]
    bad, good = sweep_store["files"]
    code, intact_json, err = _sims(["sweep-table", out, "--json"], capsys)
    assert code == 0 and not err and json.loads(intact_json) == sweep_store["table"]  # negative control
    code, intact_text, err = _sims(["sweep-table", out], capsys)
    assert code == 0 and not err and intact_text.count(sweep_store["files"][0].stem) == 1
    damage(bad)  # `{}` used to end sweep-table in a KeyError traceback
    code, stdout, err = _sims(["sweep-table", out], capsys)
    [line] = _notices(err)
    assert code == 0 and str(bad) in line and err.count("\n") == 1
    assert bad.stem not in stdout and good.stem in stdout and "1 configurations not finished" in stdout
    code, stdout, err = _sims(["sweep-table", out, "--json"], capsys)
    doc = json.loads(stdout)
    assert code == 0 and len(_notices(err)) == 1
    assert [r["key"] for r in doc["rows"]] == [good.stem] and doc["missing"] == [bad.stem]
    assert all(r and set(r) == {"key", "config", "results"} and r["results"] for r in doc["rows"])  # no empty row
    # repaired by --resume: the table is the intact one again
    code, _, _ = _sims(["sweep", "--grid", grid, "--out", out, "--resume", "--quiet"], capsys)
    assert code == 0
    code, stdout, err = _sims(["sweep-table", out, "--json"], capsys)
    assert code == 0 and not err and stdout == intact_json


def test_a_result_of_another_configuration_is_not_taken_for_this_one(sweep_store, capsys):
    """Entries valid in themselves but not a result of this configuration: another's file copied under its name, its
    key with another configuration inside, its key and configuration without the task's results."""
    out = sweep_store["out"]
    a, b = sweep_store["files"]
    assert S.Store(out).done(a.stem) and S.Store(out).done(b.stem)  # negative control
    assert not _notices(capsys.readouterr().err)
    value_a, value_b = (json.loads(p.read_text(encoding="utf-8"))["value"] for p in (a, b))
    shutil.copyfile(b, a)
    assert not S.Store(out).done(a.stem)
    write_entry(a, a.stem, value_b)
    assert not S.Store(out).done(a.stem)
    write_entry(a, a.stem, {"config": value_a["config"], "results": {"layers": {}}})
    assert not S.Store(out).done(a.stem)
    notices = _notices(capsys.readouterr().err)
    assert len(notices) == 3 and all(str(a) in n for n in notices)
    assert "another key" in notices[0] and "another configuration" in notices[1] and "lacks" in notices[2]
    write_entry(a, a.stem, value_a)  # and the right value again is trusted again
    assert S.Store(out).done(a.stem) and not _notices(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------------ stale temporaries
def test_remove_stale_removes_dead_writers_files_and_keeps_live_ones(tmp_path):
    dead = _dead_pid()
    gone = [_temporary(tmp_path, "a.json", dead), _temporary(tmp_path / "sub" / "deeper", "b.png", dead)]
    kept = [_temporary(tmp_path, "a.json", os.getpid()), _temporary(tmp_path / "sub", "c.json", os.getpid())]
    other = tmp_path / ".notes.tmp"  # not a writer's temporary name: never touched
    other.write_text("mine")
    assert not is_temporary(other) and not is_temporary(tmp_path / "a.json")
    assert sorted(remove_stale(tmp_path)) == sorted(gone)
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept) and other.exists()
    assert remove_stale(tmp_path) == []  # negative control: nothing more to remove
    assert remove_stale(tmp_path / "missing") == []


def test_the_main_job_removes_stale_temporaries(tmp_path, capsys, quick_job):
    out = tmp_path / "out"
    dead = _dead_pid()
    gone = [_temporary(out, "REPORT.md", dead), _temporary(out / ".cache" / "memo", "m.json", dead),
            _temporary(out / "figures", "activation-relu.png", dead)]
    kept = [_temporary(out, "claims.json", os.getpid()), _temporary(out / ".cache" / "evidence", "e.json", os.getpid())]
    assert L.main(["--out", str(out), "--fast", "--jobs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert not any(p.exists() for p in gone) and all(p.exists() for p in kept)
    notices = _notices(err)
    assert len(notices) == len(gone) and all(any(p.name in n for n in notices) for p in gone)
    assert not any(p.name in err for p in kept)


def test_a_resumed_sweep_removes_stale_temporaries(sweep_store, capsys):
    out = sweep_store["out"]
    dead = _dead_pid()
    gone = [_temporary(out / "results", sweep_store["files"][0].name, dead), _temporary(out, "manifest.json", dead)]
    kept = [_temporary(out / "results", sweep_store["files"][1].name, os.getpid())]
    code, stdout, err = _sims(["sweep", "--grid", sweep_store["grid"], "--out", out, "--resume", "--quiet", "--json"],
                              capsys)
    assert code == 0 and json.loads(stdout)["skipped"] == 2
    assert not any(p.exists() for p in gone) and all(p.exists() for p in kept)
    notices = _notices(err)
    assert len(notices) == len(gone) and all(any(p.name in n for n in notices) for p in gone)
    assert S.table_rows(out) == sweep_store["table"]  # a live writer's temporary is not a result


# ------------------------------------------------------------------------------------------------ paths refused first
def _file(p: Path, text: str = "not a folder") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def _folder(p: Path) -> Path:
    p.mkdir(parents=True)
    return p


MAIN_JOB_OBSTACLES = {
    ".cache is a file": (lambda out: _file(out / ".cache"), ".cache"),
    ".cache/memo is a file": (lambda out: _file(out / ".cache" / "memo"), "memo"),
    "REPORT.md is a folder": (lambda out: _folder(out / "REPORT.md"), "REPORT.md"),
    "claims.json is a folder": (lambda out: _folder(out / "claims.json"), "claims.json"),
    "--out is a file": (lambda out: _file(out), str(Path("out"))),
}


@pytest.mark.parametrize("obstacle, needle", MAIN_JOB_OBSTACLES.values(), ids=MAIN_JOB_OBSTACLES.keys())
def test_the_main_job_refuses_a_wrong_kind_path_before_any_work(tmp_path, capsys, quick_job, obstacle, needle):
    """`.cache` a file used to end in NotADirectoryError after 11 s of work."""
    out = tmp_path / "out"
    argv = ["--out", str(out), "--fast", "--jobs", "1", "--quiet"]
    blocker = obstacle(out)
    assert L.main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert needle in line and str(tmp_path) in line
    assert quick_job == []  # no figure drawn, no claim evaluated
    assert blocker.exists() and not (out / "REPORT.md").is_file()
    if blocker.is_file():
        assert blocker.read_text() == "not a folder"


def test_the_main_job_runs_when_no_path_is_in_the_way(tmp_path, capsys, quick_job):
    """Negative control of the refusals above: the same job on a clean folder works (and so does a rerun)."""
    out = tmp_path / "out"
    assert L.main(["--out", str(out), "--fast", "--jobs", "1", "--quiet"]) == 0
    assert "claims" in quick_job and len(quick_job) > 1 and (out / "REPORT.md").is_file()
    assert (out / ".cache").is_dir() and not _notices(capsys.readouterr().err)


LATE_OBSTACLES = {".cache/evidence is a file": ".cache/evidence", ".cache/figures is a file": ".cache/figures"}


@pytest.mark.parametrize("where", LATE_OBSTACLES.values(), ids=LATE_OBSTACLES.keys())
def test_the_main_job_refuses_a_file_in_place_of_a_cache_subfolder_before_any_work(tmp_path, capsys, quick_job,
                                                                                    where):
    out = tmp_path / "out"
    _file(out / where)
    code = L.main(["--out", str(out), "--fast", "--jobs", "1", "--quiet"])
    assert code == 2
    _one_line(capsys.readouterr().err)
    assert quick_job == []


def test_claims_refuses_a_cache_that_is_a_file(tmp_path, capsys, quick_job):
    blocker = _file(tmp_path / "cache")
    for cache in (blocker, blocker / "sub"):
        assert L.main(["claims", "--json", "--cache", str(cache), "--quiet"]) == 2
        got = capsys.readouterr()
        line = _one_line(got.err)
        assert str(blocker) in line and not got.out
    assert quick_job == [] and blocker.read_text() == "not a folder"
    # negative control: a folder is used
    assert L.main(["claims", "--json", "--cache", str(tmp_path / "folder"), "--quiet"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2 and quick_job == ["claims"]


def test_claims_refuses_a_file_in_place_of_the_evidence_folder_before_any_work(tmp_path, capsys, quick_job):
    cache = tmp_path / "cache"
    _file(cache / "evidence")
    assert L.main(["claims", "--json", "--cache", str(cache), "--quiet"]) == 2
    _one_line(capsys.readouterr().err)
    assert quick_job == []


def test_sweep_refuses_an_out_that_is_a_file_before_any_work(tmp_path, capsys, monkeypatch):
    started = []

    def executor(*args, **kwargs):
        started.append(args)
        return ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(S, "make_executor", executor)
    grid = _file(tmp_path / "grid.toml", GRID_TEXT)
    blocker = _file(tmp_path / "store")
    for out in (blocker, blocker / "sub"):
        code, stdout, err = _sims(["sweep", "--grid", grid, "--out", out, "--quiet"], capsys)
        assert code == 2 and str(blocker) in _one_line(err) and not stdout
    assert started == [] and blocker.read_text() == "not a folder"
    # negative control: a folder is used
    code, _, err = _sims(["sweep", "--grid", grid, "--out", tmp_path / "folder", "--quiet"], capsys)
    assert code == 0 and not err and started and len(list((tmp_path / "folder" / "results").glob("*.json"))) == 2


def test_read_only_folders_are_refused_before_any_work(tmp_path, capsys, quick_job, monkeypatch):
    monkeypatch.setattr(S, "make_executor", _in_process_executor)
    locked = _folder(tmp_path / "locked")
    grid = _file(tmp_path / "grid.toml", GRID_TEXT)
    locked.chmod(0o555)
    try:
        try:
            (locked / "probe").write_text("")
        except PermissionError:
            pass
        else:  # root (euid 0, with CAP_DAC_OVERRIDE): permissions do not stop it, so nothing can be refused
            (locked / "probe").unlink()
            pytest.skip("a read-only folder is writable for this process (running as root): chmod cannot make a "
                        "folder unwritable here")
        assert L.main(["--out", str(locked / "out"), "--fast", "--jobs", "1", "--quiet"]) == 2
        assert "cannot write" in _one_line(capsys.readouterr().err)
        assert L.main(["claims", "--cache", str(locked / "cache"), "--quiet"]) == 2
        assert "cannot write" in _one_line(capsys.readouterr().err)
        code, _, err = _sims(["sweep", "--grid", grid, "--out", locked / "store", "--quiet"], capsys)
        assert code == 2 and "cannot write" in _one_line(err)
        assert quick_job == [] and list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)
    assert L.main(["claims", "--cache", str(locked / "cache"), "--quiet"]) == 0  # negative control


# ------------------------------------------------------------------------------------------------ file modes
UMASK = 0o027  # not the usual 022, so that 0o640 tells "0666 & ~umask" from both mkstemp's 0600 and a fixed 0644

CHILD = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from sims import sweep as S

out = Path(sys.argv[1])
grid = {"activation": ["tanh"], "width": [8], "depth": [2], "batch": [4], "seeds": [2]}
configs = S.expand(grid)
store = S.Store(out / "store")
store.prepare(grid, configs, resume=False)
assert S.run_sweep(configs, store, executor=lambda: ThreadPoolExecutor(1))["ran"] == 1
with open(out / "plain.txt", "w") as fh:
    fh.write("a plain open()")
"""


def _store_files(store: Path) -> list[Path]:
    files = [store / "manifest.json", *sorted((store / "results").glob("*.json"))]
    assert len(files) == 2
    return files


def test_sweep_files_get_the_mode_of_a_plain_open_under_a_known_umask(tmp_path):
    """A process started under umask 027 (the user's shell's): its sweep files are 0640, as a plain open() gives (not
    mkstemp's 0600)."""
    previous = os.umask(UMASK)
    try:
        res = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=tmp_path, capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.umask(previous)
    assert res.returncode == 0, res.stderr
    plain = _mode(tmp_path / "plain.txt")
    assert plain == 0o666 & ~UMASK == 0o640
    for p in _store_files(tmp_path / "store"):
        assert _mode(p) == plain, (p.name, oct(_mode(p)))


def test_sweep_files_follow_a_umask_set_after_import(tmp_path):
    previous = os.umask(UMASK)
    try:
        grid = {"activation": ["tanh"], "width": [8], "depth": [2], "batch": [4], "seeds": [2]}
        configs = S.expand(grid)
        store = S.Store(tmp_path / "store")
        store.prepare(grid, configs, resume=False)
        S.run_sweep(configs, store, executor=_in_process_executor)
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("a plain open()")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "plain.txt") == 0o640
    assert [oct(_mode(p)) for p in _store_files(tmp_path / "store")] == [oct(0o640)] * 2


# ------------------------------------------------------------------------------------------------ slow: reproducible
def _timing_claims() -> set[str]:
    """The claims whose evidence is a wall-clock timing, as the code declares them: those whose figure is registered
    with ``timing=True`` (figures.common.register), which the main job also leaves out of its default figures."""
    from figures.common import entries

    figures = entries()
    return {c.id for c in C.all_claims() if c.figure is not None and figures[c.figure].timing}


def _without_timing(report: str, rows: list[dict], timing: set[str]) -> tuple[str, list[dict]]:
    """REPORT.md and the claims.json rows with exactly the timing claims taken out: their rows; in the report their
    errata row, map row and section block, and their verdicts from the count line."""
    from lecture.registry import VERDICTS
    from lecture.report import _cell

    timed = [r for r in rows if r["id"] in timing]
    assert {r["id"] for r in timed} == timing
    kept_rows = [r for r in rows if r["id"] not in timing]
    errata = tuple(f"| «{_cell(r['slide'])}» | {_cell(r['quote'])} | " for r in timed)
    lines, out, skipping = report.split("\n"), [], False
    for k, line in enumerate(lines):
        block = line.startswith('<div class="claim"')  # a claim's block opens with its verdict, then its anchor
        if skipping and (block or line.startswith('<a id="') or line.startswith("### ") or line.startswith("## ")):
            skipping = False
        anchor = next((x for x in lines[k + 1:k + 3] if x), "") if block else line
        if any(anchor == f'<a id="{i}"></a>' for i in timing):
            skipping = True
        if skipping or line.startswith(errata) or any(f"| [{i}](#{i}) |" in line for i in timing):
            continue
        if line.startswith("**Claims per verdict** ("):
            counts = {}
            for v in VERDICTS:
                m = re.search(rf"(?<![\w-]){re.escape(v)} (\d+)", line)
                counts[v] = int(m[1]) - sum(r["verdict"] == v for r in timed)
            line = f"(claims per verdict without the timing claims: {counts})"
        out.append(line)
    stripped = "\n".join(out)
    for i in timing:  # nothing of theirs is left (another id may start with theirs: act-relu-fast, act-relu-faster-...)
        assert not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", stripped), i
    return stripped, kept_rows


def _state(out: Path, timing: set[str]) -> tuple[str, list[dict]]:
    """What must not change between runs: REPORT.md and claims.json without the timing claims; claims.json is also
    checked to be exactly the rows as the job writes them (so a byte of formatting cannot differ either)."""
    from theory.cli_util import dumps

    text = (out / "claims.json").read_text(encoding="utf-8")
    rows = json.loads(text)
    assert text == dumps(rows) + "\n"
    return _without_timing((out / "REPORT.md").read_text(encoding="utf-8"), rows, timing)


def _figures(out: Path) -> dict[str, str]:
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "figures").iterdir())}


@pytest.mark.slow
def test_the_main_jobs_output_is_a_function_of_its_arguments_and_the_code(tmp_path):
    """`python -m lecture --out DIR --fast --quiet` cold, warm, with cache entries damaged (truncated, `{}`, another
    key) and with about half of its cache deleted: REPORT.md and claims.json are the same bytes each time apart from
    the declared timing claims (and the figures are the same bytes). The code is copied first, so that an edit of the
    working tree during the test cannot change the code version between the runs."""
    code = tmp_path / "code"
    for pkg in memo.PACKAGES:
        shutil.copytree(ROOT / pkg, code / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", code / "pyproject.toml")
    out = tmp_path / "out"
    cache = out / ".cache"

    def job() -> str:
        res = subprocess.run([sys.executable, "-m", "lecture", "--out", str(out), "--fast", "--quiet"], cwd=code,
                             env={**os.environ, "PYTHONPATH": str(code)}, capture_output=True, text=True)
        assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
        return res.stderr

    timing = _timing_claims()
    assert timing and len(timing) < len(C.all_claims())

    # cold
    assert not _notices(job())
    cold, figures = _state(out, timing), _figures(out)
    assert len(cold[1]) == len(C.all_claims()) - len(timing) and any(n.endswith(".png") for n in figures)

    # warm
    assert not _notices(job())
    assert _state(out, timing) == cold, "warm"

    # repaired: the claims entry of another key (so the claims are evaluated again and read their evidence), an
    # evidence file truncated, a figure's memo entry `{}` and the figure's stamp truncated (so it is redrawn and
    # reads the entry)
    claims_entry = _claims_entry(cache)
    evidence = sorted(p for p in (cache / "evidence").glob("*.json") if p != claims_entry)[0]
    memo_entry = sorted((cache / "memo").glob("sims.experiments.shuffling.run-*.json"))
    stamp = cache / "figures" / "train-shuffling.en.fast.json"
    assert len(memo_entry) == 1 and stamp.is_file(), "pick another memoized figure"
    _wrong_key(claims_entry)
    _truncate(evidence)
    _empty_object(memo_entry[0])
    _truncate(stamp)
    notices = _notices(job())
    assert _state(out, timing) == cold, "repaired"
    assert _figures(out) == figures
    assert len(notices) == 4, notices
    for p in (claims_entry, evidence, memo_entry[0], stamp):
        assert sum(p.name in n for n in notices) == 1, (p.name, notices)

    # partially cached: every second cache file deleted, and the claims entry (so the claims are evaluated again)
    files = sorted(p for p in cache.rglob("*.json") if p.is_file())
    deleted = files[::2]
    deleted += [p for p in cache.glob("evidence/claims-*.json") if p not in deleted]
    for p in deleted:
        p.unlink()
    assert not _notices(job())  # a missing entry is not damage
    assert _state(out, timing) == cold, "partially cached"
    assert _figures(out) == figures

    # negative control: the comparison sees a change in a claim that is not a timing, in either file
    report, rows = (out / "REPORT.md").read_text(encoding="utf-8"), json.loads((out / "claims.json").read_text())
    target = next(r for r in rows if r["id"] not in timing)
    edited = [dict(r, evidence=r["evidence"] + " (edited)") if r is target else r for r in rows]
    assert _without_timing(report, edited, timing) != cold
    assert _without_timing(report.replace(target["evidence"], target["evidence"] + " (edited)", 1), rows,
                           timing) != cold
    # ... and none in a timing claim, whose numbers differ run to run
    timed = next(r for r in rows if r["id"] in timing)
    assert _without_timing(report.replace(timed["evidence"], "other timings"),
                           [dict(r, evidence="other timings") if r is timed else r for r in rows], timing) == cold
