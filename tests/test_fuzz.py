"""The command-line fuzzer (slow) and the fixed regression list of the hardening issue.

The fuzzer reads every subcommand's options from the parsers themselves (a new option is fuzzed without a change
here) and draws argument vectors that mix valid values, boundary values, wrong types, huge numbers, odd strings and
random expressions from the parser's grammar. Each vector runs in-process through the command's ``main`` and must:

- exit 0 or 2 (or 1 where the contract defines it: ``theory show`` with a failed step, a ``sweep`` with a failed
  configuration; 130 only comes from a signal, which the fuzzer does not send);
- with exit 2, print exactly one line on stderr (progress lines and ``notice:`` lines aside), never a traceback;
- with ``--json`` and exit 0, print strict JSON (no NaN or Infinity);
- finish within ``BOUND_S``: four times the code's own limit for a command's expressions (``theory.budget.TOTAL_S``),
  plus a minute for imports and the small valid runs. The bound is generous on purpose: it catches work the code
  does not bound (a hang is minutes or forever), not a slow machine.

Valid sizes are drawn small (a valid run is fast); huge sizes are far past the limits (a refusal is fast). The long
commands (the main job, every figure, ``lecture claims`` without ``--fast``, the benchmarks) are drawn with at least
one hostile value, so they are fuzzed on their refusals and never run in full. Hypothesis runs derandomized: CI
draws the same ``EXAMPLES`` vectors per subcommand every time.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from theory import budget  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOUND_S = 4 * budget.TOTAL_S + 60.0
EXAMPLES = 25  # per subcommand

PACKAGES = ("theory", "sims", "figures", "lecture")
#: Commands whose valid runs are long (minutes): drawn with at least one hostile value.
LONG = {("lecture",), ("figures",), ("lecture", "claims"), ("sims", "bench"), ("sims", "sweep-bench")}
#: Commands with few distinct vectors or a fixed cost of seconds per run: fewer examples.
FEW = {("theory", "bench"): 3, ("theory", "list"): 4, ("figures", "list"): 4, ("sims", "sweep-table"): 8}
#: Commands whose contract includes exit 1 (docs/ARCHITECTURE.md).
EXIT_1 = {("theory", "show"), ("sims", "sweep")}


def _commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []

    def walk(parser, path):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        found.append((path, parser))
        for s in subs:
            for name, sp in s.choices.items():
                walk(sp, (*path, name))

    for pkg in PACKAGES:
        walk(importlib.import_module(f"{pkg}.cli")._parser(), (pkg,))
    return found


COMMANDS = dict(_commands())


# ------------------------------------------------------------------------------------------ value strategies
HUGE_INTS = ["1000000000", "99999999999999999999999", "100001", "10000001", "1e9", "2**64"]
BAD_NUMBERS = ["", " ", "abc", "nan", "inf", "-inf", "1.5", "0x10", "1_000", "\x00", "١", "--", "-0"]
SMALL_INTS = ["1", "2", "3", "4", "8"]
BOUNDARY_INTS = ["0", "-1", "-5"]
GOOD_FLOATS = ["0", "0.5", "1", "2", "1e-3", "0.9"]
BAD_FLOATS = ["-1", "1e308", "1e-320", "-0.0", "1.0000001", "3", "1e400"]
ODD_STRINGS = ["", " ", "\t", "x" * 5000, "__import__('os').system('echo pwned')", "lambda: 0", "x.real",
               "x[0]", "{}", "é", "😀", "\x00", "../../etc/passwd", "1/0", "x**x**x**x**x", "9" * 400, "(" * 60]
NAMED_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "linear",
                     "leaky_relu:0.2", "elu:2", "leaky_relu:-1", "elu:x", "relu:1"]
INITS = ["he_normal", "he_uniform", "glorot_normal", "glorot_uniform", "lecun_normal", "kaiming_uniform",
         "glorot_normal:plain", "uniform:1/sqrt(n_in)", "normal:sqrt(2/n_in)", "normal:0", "uniform:-1",
         "normal:exp(exp(exp(n_in)))", "uniform:", "he", "zeros", "normal:n_out/n_in"]
LEAVES = ["x", "0", "1", "2", "-1", "0.5", "pi", "E", "1e308", "1e-308", "q", "n_in"]
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "erf", "abs", "sign", "Heaviside", "sigmoid",
         "softplus", "relu", "Phi", "atan", "asinh"]


def expressions() -> st.SearchStrategy[str]:
    """Random expressions from the parser's grammar (names, numbers, unary functions, Max/Min, + - * / **)."""
    base = st.sampled_from(LEAVES)

    def extend(inner):
        return st.one_of(
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(UNARY), inner),
            st.builds(lambda op, a, b: f"({a}){op}({b})", st.sampled_from(["+", "-", "*", "/", "**"]), inner, inner),
            st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(["Max", "Min"]), inner, inner),
            st.builds(lambda a: f"-({a})", inner),
        )

    return st.recursive(base, extend, max_leaves=6)


def _hostile(action) -> st.SearchStrategy[str]:
    """A value that must be refused: the long commands are fuzzed on their refusals."""
    if action.choices is not None:
        return st.sampled_from(["nope", "", "EN"])
    if action.type is int:
        return st.sampled_from(BOUNDARY_INTS[1:] + HUGE_INTS[:2] + BAD_NUMBERS[:4])
    return st.sampled_from(["", "\x00bad"])


# ------------------------------------------------------------------------------------------ paths and grids
GRID_FIELDS = {
    "activation": ["'tanh'", "'relu'", "'x'", "'exp(exp(x))'", "'nope'", "1"],
    "init": ["'he_normal'", "'glorot_normal'", "'uniform:1/sqrt(n_in)'", "'bad'"],
    "width": ["4", "8", "0", "-1", "10000000000", "'a'"],
    "depth": ["2", "3", "0", "1000000000", "1.5"],
    "batch": ["4", "8", "1", "0", "99999999999"],
    "seeds": ["2", "3", "1", "0"],
    "seed": ["0", "1", "-1", "7"],
    "task": ["'moments'", "'norms'", "'nope'"],
    "bias_var": ["0", "0.1", "-1", "nan"],
}


@st.composite
def grids(draw) -> str:
    if draw(st.booleans()):  # anything: not TOML, TOML without [grid], odd keys
        return draw(st.sampled_from(["", "[grid", "not = toml = here", "[other]\nx = 1\n", "[grid]\nbogus = [1]\n",
                                     "[grid]\nwidth = []\n", "\x00\xff", "[grid]\n" + "\n".join(
                                         f"f{i} = {list(range(1000))}" for i in range(4))]))
    lines = ["[grid]", "activation = ['tanh']", "width = [4]", "depth = [2]", "batch = [4]", "seeds = [2]"]
    for field in draw(st.lists(st.sampled_from(sorted(GRID_FIELDS)), max_size=4, unique=True)):
        values = draw(st.lists(st.sampled_from(GRID_FIELDS[field]), min_size=1, max_size=2))
        lines = [ln for ln in lines if not ln.startswith(f"{field} =")] + [f"{field} = [{', '.join(values)}]"]
    return "\n".join(lines) + "\n"


PATH_KINDS = ["missing", "file", "dir", "empty-dir", "", "/dev/null", "/proc/self/mem", "nested-missing", "\x00"]


def _path(kind: str, tmp: Path, grid_text: str | None) -> str:
    if kind == "file":
        p = tmp / "a_file"
        p.write_text(grid_text if grid_text is not None else "not json\n")
        return str(p)
    if kind == "dir":
        p = tmp / "a_dir"
        (p / "results").mkdir(parents=True, exist_ok=True)
        (p / "results" / "x.json").write_text("{")
        return str(p)
    if kind == "empty-dir":
        p = tmp / "empty"
        p.mkdir(exist_ok=True)
        return str(p)
    if kind == "missing":
        return str(tmp / "missing")
    if kind == "nested-missing":
        return str(tmp / "a_file" / "below")
    return kind


# ------------------------------------------------------------------------------------------ argument vectors
def _value(action, draw, tmp: Path, grid_text: str | None, clean: bool) -> str:
    """A value for ``action``: valid in a clean vector, else valid three times in four, otherwise a boundary value,
    a wrong type, a huge number or an odd string."""
    dest = action.dest
    valid = clean or draw(st.integers(0, 3)) > 0
    if action.choices is not None:
        return draw(st.sampled_from(list(action.choices) if valid else ["nope", "", "EN"]))
    if dest == "activation":
        if clean:  # the named ones (every command takes them); an expression is analysed in the mixed vectors
            return draw(st.sampled_from(NAMED_ACTIVATIONS[:10]))
        return draw(st.one_of(st.sampled_from(NAMED_ACTIVATIONS), expressions()) if valid
                    else st.sampled_from(ODD_STRINGS))
    if dest == "init":
        return draw(st.sampled_from(INITS[:10] if valid else INITS[10:] + ODD_STRINGS))
    if getattr(action.type, "__name__", "") == "path_arg" or dest in ("grid", "out", "cache", "dir"):
        kinds = (["file"] if dest == "grid" else ["missing", "dir", "empty-dir"]) if valid else PATH_KINDS
        return _path(draw(st.sampled_from(kinds)), tmp, grid_text if dest == "grid" else None)
    if dest == "dataset":
        return draw(st.sampled_from(["digits"] if valid else ["mnist:", f"mnist:{tmp}", "mnist:/nonexistent",
                                                              "cifar", "", "digits:x"]))
    if dest == "name":
        return draw(st.sampled_from(["he", "xavier", "uniform-variance"] if valid else ["nope", "", "x" * 300]))
    if dest == "only":
        return draw(st.sampled_from(["activation-sigmoid", "activation-relu"] if valid else ["nope", ""]))
    if dest == "scheduler":
        return draw(st.sampled_from(["tcp://127.0.0.1:1", "nonsense", ""]))
    if action.type is int:
        return draw(st.sampled_from(SMALL_INTS) if valid else
                    st.sampled_from(BOUNDARY_INTS + HUGE_INTS + BAD_NUMBERS))
    if action.type is float:
        return draw(st.sampled_from(GOOD_FLOATS) if valid else st.sampled_from(BAD_FLOATS + BAD_NUMBERS))
    return draw(st.sampled_from(ODD_STRINGS))


@st.composite
def vectors(draw, command: tuple[str, ...], tmp: Path) -> list[str]:
    parser = COMMANDS[command]
    grid_text = draw(grids()) if command == ("sims", "sweep") else None
    argv = list(command[1:])
    actions = [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    hostile_needed = command in LONG
    hostile_target = draw(st.sampled_from([a for a in actions if a.nargs != 0])) if hostile_needed else None
    # one vector in three is clean: valid values only, few options (the valid runs are exercised, not only refusals)
    clean = not hostile_needed and draw(st.integers(0, 2)) == 0
    for action in actions:
        required = action.required or not action.option_strings
        if action is not hostile_target and not required and not draw(st.integers(0, 3 if clean else 1)) == 1:
            continue
        if action.nargs == 0:  # a flag
            argv.append(action.option_strings[0])
            continue
        value = draw(_hostile(action)) if action is hostile_target else _value(action, draw, tmp, grid_text, clean)
        if action.option_strings:
            argv += [action.option_strings[0], value]
        else:
            argv.append(value)
    if not clean and draw(st.integers(0, 9)) == 0:  # an unknown or abbreviated option now and then
        argv.append(draw(st.sampled_from(["--bogus", "--dro", "--act", "-x", "--json=1"])))
    return argv


# ------------------------------------------------------------------------------------------ running one vector
def run_cli(argv: list[str]) -> tuple[int, str, str, float]:
    """``PKG.cli.main(argv[1:])`` in this process: (exit status, stdout, stderr, seconds)."""
    main = importlib.import_module(f"{argv[0]}.cli").main
    if os.environ.get("FUZZ_LOG"):  # each vector, its exit and time (and a hang's vector): FUZZ_LOG=FILE pytest ...
        with open(os.environ["FUZZ_LOG"], "a", encoding="utf-8") as log:
            log.write(f"start {argv!r}\n")
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            code = main(argv[1:])
        except SystemExit as exc:  # main returns its status; a SystemExit escaping it is a defect, reported below
            code = f"SystemExit({exc.code!r}) escaped main"
    seconds = time.monotonic() - started
    if os.environ.get("FUZZ_LOG"):
        with open(os.environ["FUZZ_LOG"], "a", encoding="utf-8") as log:
            log.write(f"exit {code} {seconds:.2f}\n")
    return code, out.getvalue(), err.getvalue(), seconds


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def check_contract(command: tuple[str, ...], argv: list[str], code, out: str, err: str, seconds: float) -> None:
    allowed = {0, 2} | ({1} if command in EXIT_1 else set())
    assert code in allowed, f"{argv!r}: exit {code!r}\n{err[-2000:]}"
    assert "Traceback" not in err, f"{argv!r}: traceback\n{err[-3000:]}"
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("notice:", "["))]
        assert len(lines) == 1, f"{argv!r}: exit 2 with {len(lines)} lines on stderr:\n{err[-2000:]}"
    if code == 0 and "--json" in argv:
        _strict_json(out)
    assert seconds < BOUND_S, f"{argv!r}: {seconds:.1f} s, past the bound of {BOUND_S:g} s"


FUZZED = sorted(COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("command", FUZZED, ids=[" ".join(c) for c in FUZZED])
def test_fuzz_every_subcommand(command, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # nothing a vector writes lands in the clone

    @settings(max_examples=FEW.get(command, EXAMPLES), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data):
        tmp = tmp_path_factory.mktemp("vec")
        argv = [command[0], *data.draw(vectors(command, tmp), label="argv")]
        check_contract(command, argv, *run_cli(argv))

    one()


def test_the_fuzzer_reaches_every_subcommand_and_option():
    """The fuzzer's list comes from the parsers: every subcommand of the four CLIs is there, and every long
    command has an option to draw a hostile value for."""
    names = {" ".join(c) for c in COMMANDS}
    assert {"theory activations", "sims run", "sims sweep", "sims train", "figures", "figures list", "lecture",
            "lecture claims"} <= names
    for command in LONG:
        assert [a for a in COMMANDS[command]._actions if a.option_strings and a.nargs != 0
                and not isinstance(a, argparse._HelpAction)], command


@pytest.mark.parametrize("code, err, out, argv, needle", [
    (1, "", "", ["sims", "run"], "exit 1"),  # exit 1 outside the documented commands
    (2, "a\nb\n", "", ["sims", "run"], "2 lines"),  # more than one line for a refusal
    (2, "Traceback (most recent call last):\nX\n", "", ["sims", "run"], "traceback"),
    (0, "", '{"a": NaN}', ["sims", "run", "--json"], "non-standard"),
    (0, "", "{", ["sims", "run", "--json"], "Expecting"),
])
def test_the_contract_check_fails_on_each_kind_of_defect(code, err, out, argv, needle):
    """Negative controls: the fuzzer's check rejects each defect it is there to catch, and passes a clean run."""
    with pytest.raises((AssertionError, ValueError)) as info:
        check_contract(("sims", "run"), argv, code, out, err, 0.1)
    assert needle in str(info.value)
    check_contract(("sims", "run"), argv, 0, '{"a": 1.5}', "", 0.1)
    with pytest.raises(AssertionError):
        check_contract(("sims", "run"), argv, 0, "{}", "", BOUND_S + 1)


# ------------------------------------------------------------------------------------------ regression list
MF = ["--weight-var", "1", "--bias-var", "0"]
#: Every failing input of the hardening issue: (argv, allowed exits, a phrase of the answer or of the one line).
REGRESSIONS = [
    pytest.param(["theory", "activations", "--activation", "sin(x)**1000"], {0, 2}, "sin(x)**1000",
                 marks=pytest.mark.slow, id="hang-sin-power"),
    pytest.param(["theory", "activations", "--activation", "tanh(tanh(tanh(tanh(tanh(x)))))"], {0, 2}, "tanh",
                 marks=pytest.mark.slow, id="hang-nested-tanh"),
    pytest.param(["theory", "meanfield", "--activation", "exp(exp(x))", *MF], {2}, "infinite", id="hang-meanfield"),
    pytest.param(["theory", "activations", "--activation", "exp(exp(x))"], {2}, "infinite", id="polynomial-error"),
    pytest.param(["theory", "activations", "--activation", "cos(x)**2+sin(x)**2-1"], {2}, "constant",
                 id="identically-zero"),
    pytest.param(["theory", "init", "--init", "normal:exp(exp(exp(n_in)))"], {2}, "overflow", id="init-overflow"),
    pytest.param(["theory", "activations", "--activation", "Max(1,sigmoid(1e308))"], {2}, "does not depend on x",
                 id="slow-refusal"),
    pytest.param(["theory", "predict", "--activation", "tanh", "--init", "glorot_normal", "--width", "10", "--depth",
                  "1000000000"], {2}, "above the limit", id="predict-depth"),
    pytest.param(["sims", "run", "--activation", "tanh", "--init", "glorot_normal", "--width", "10", "--depth",
                  "1000000000", "--batch", "4", "--seeds", "2"], {2}, "above the limit", id="run-depth"),
    pytest.param(["sims", "run", "--activation", "tanh", "--init", "glorot_normal", "--width", "4", "--depth", "2",
                  "--batch", "4", "--seeds", "2", "--seed", "-1"], {2}, "seed", id="run-negative-seed"),
    pytest.param(["sims", "batchnorm-rate", "--activation", "relu", "--batch", "8", "--width", "4", "--depth", "3",
                  "--seeds", "2", "--seed", "-1"], {2}, "seed", id="bn-rate-negative-seed"),
    pytest.param(["sims", "dropout-ensemble", "--units", "4", "--keep", "0.5", "--seed", "-1"], {2}, "seed",
                 id="ensemble-negative-seed"),
    pytest.param(["figures", "--out", "", "--only", "activation-sigmoid"], {2}, "empty", id="figures-empty-out"),
    pytest.param(["sims", "train", "--dataset", "digits", "--depth", "1", "--width", "4", "--activation", "relu",
                  "--init", "he_normal", "--batch", "1", "--batchnorm", "--epochs", "1"], {2}, "at least 2 rows",
                 id="train-batch-one-bn"),
    pytest.param(["sims", "dropout-ensemble", "--units", "4", "--keep", "0.5", "--activation", "exp(10*x)"], {0, 2},
                 "", id="ensemble-overflow-warning"),
]


@pytest.mark.slow  # with the fuzzer; test_hardening.py checks most of these classes in the default suite
@pytest.mark.parametrize("argv, exits, needle", REGRESSIONS)
def test_the_issues_failing_inputs_now_fail_cleanly(argv, exits, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err, seconds = run_cli(argv)
    assert code in exits, (code, err)
    check_contract(tuple(argv[:2]) if argv[0] != "figures" else ("figures",), argv, code, out, err, seconds)
    assert needle in (err if code == 2 else out), (out, err)
    assert "Warning" not in err
    if argv[0] == "figures":
        assert not list(tmp_path.iterdir())  # nothing written in the current folder


@pytest.mark.slow
def test_the_grid_of_a_trillion_configurations_is_refused_by_its_count(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grid = tmp_path / "g.toml"
    grid.write_text("[grid]\nactivation = ['tanh']\nseeds = [2]\nbatch = [4]\n"
                    + "".join(f"{f} = {list(range(1, 1001))}\n" for f in ("width", "depth", "seed", "input_var")))
    code, out, err, seconds = run_cli(["sims", "sweep", "--grid", str(grid), "--out", str(tmp_path / "s")])
    check_contract(("sims", "sweep"), ["sims", "sweep"], code, out, err, seconds)
    assert code == 2 and "configurations; the limit is" in err and not (tmp_path / "s").exists(), err


@pytest.mark.slow
def test_a_zero_image_idx_file_is_one_line(tmp_path, monkeypatch):
    """MNIST IDX files that declare 0 images (it used to be a reshape traceback)."""
    import struct

    monkeypatch.chdir(tmp_path)
    for name, dims in (("train-images-idx3-ubyte", (0, 28, 28)), ("t10k-images-idx3-ubyte", (0, 28, 28)),
                       ("train-labels-idx1-ubyte", (0,)), ("t10k-labels-idx1-ubyte", (0,))):
        (tmp_path / name).write_bytes(struct.pack(">HBB", 0, 8, len(dims)) + struct.pack(f">{len(dims)}I", *dims))
    argv = ["sims", "train", "--dataset", f"mnist:{tmp_path}", "--depth", "1", "--width", "4", "--activation", "relu",
            "--init", "he_normal", "--epochs", "1"]
    code, out, err, seconds = run_cli(argv)
    check_contract(("sims", "train"), argv, code, out, err, seconds)
    assert code == 2, err


def test_the_fuzzer_runs_as_a_separate_process_too():
    """The in-process runner and a real ``python -m`` agree on a refusal (exit status and the one line)."""
    argv = ["theory", "predict", "--activation", "tanh", "--init", "glorot_normal", "--width", "10", "--depth", "0"]
    code, _, err, _ = run_cli(argv)
    proc = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert code == proc.returncode == 2 and err.strip() == proc.stderr.strip(), (err, proc.stderr)
