"""The human-readable (non ``--json``) output of every command: no Python leaking through.

Each subcommand's text output at small sizes is scanned for what a person should never have to read: ``None``,
``nan``, Python lists or reprs (``['0']``), SymPy class names and its infinity (``Interval(0, oo)``, ``Union(``,
``oo``), float noise in e-notation (``1.87e-17``) and fields left empty (``note: ``). The scanner itself is checked
on strings that must be flagged (negative controls). Every parser refuses abbreviations (``allow_abbrev=False``).
"""
from __future__ import annotations

import argparse
import json
import math
import re

import pytest

from figures.cli import _parser as figures_parser
from lecture import cli as lecture_cli
from lecture.cli import _parser as lecture_parser
from sims import sweep as S
from sims.bench import format_bench as sims_format_bench
from sims.cli import _parser as sims_parser
from sims.cli import format_sweep_table
from sims.cli import main as sims_main
from theory.bench import format_bench as theory_format_bench
from theory.cli import _parser as theory_parser
from theory.cli import fmt_set, fmt_where, human
from theory.cli import main as theory_main
from theory.cli_util import fmt_number

# what must not appear in text for a person (name, pattern)
LEAKS = (
    ("None", re.compile(r"\bNone\b")),
    ("nan", re.compile(r"\bnan\b", re.IGNORECASE)),
    ("a Python list", re.compile(r"\[\s*'")),
    ("a Python dict", re.compile(r"\{\s*'")),
    ("Interval(", re.compile(r"\bInterval(\.\w+)?\(")),
    ("Union(", re.compile(r"\bUnion\(")),
    ("FiniteSet(", re.compile(r"\bFiniteSet\(")),
    ("SymPy's oo", re.compile(r"(?<![A-Za-z0-9_])oo(?![A-Za-z0-9_])")),
    # float noise: a tiny number in e-notation (exponent <= -15). Large positive exponents are real values
    # (a diverging variance 1.9e+111) and stay.
    ("float noise", re.compile(r"\d[eE]-0*(1[5-9]|[2-9]\d|\d{3,})\b")),
    # a field left empty: a label with nothing after it ("note: ", "bound ="), or a bare one-word label ("  note:");
    # a heading that ends in a colon ("sigmoid (stable kernel):") is not one
    ("an empty field", re.compile(r"[:=][ \t]+$|^[ \t]*[\w*^'|]+[ \t]*[:=]$", re.MULTILINE)),
)


def leaks(text: str, allow: tuple[str, ...] = ()) -> list[str]:
    """The leaks found in ``text``, each as ``name: the line`` (``allow``: names of LEAKS not checked)."""
    found = []
    for name, pattern in LEAKS:
        if name in allow:
            continue
        for m in pattern.finditer(text):
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            found.append(f"{name}: {text[start:end if end >= 0 else None]!r}")
    return found


def _text(main, argv, capsys) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip()
    return out


def _clean(text: str, allow: tuple[str, ...] = ()) -> None:
    assert not leaks(text, allow), "\n".join(leaks(text, allow))


# ------------------------------------------------------------------------------------------ the scanner itself
@pytest.mark.parametrize("bad", [
    "range = Interval(0, oo)", "range = Interval.open(0, 1)", "bound = None   std = 0.1", "c_star: nan",
    "attained at x in ['0']", "sign: ['negative', 'positive']", "E[phi] = 1.87306583873905e-17",
    "x = 3E-20", "where: Union(Interval.open(-oo, 0), Interval.open(0, oo))", "     note: ", "   note:",
    "sup at oo", "range (-oo, 0)", "{'a': 1}",
])
def test_the_scanner_flags_leaks(bad):
    assert leaks(bad), bad
    assert leaks(f"first line\n{bad}\nlast line")


@pytest.mark.parametrize("good", [
    "range (0, 1)", "range [0, ∞)", "attained at x = 0", "E[phi] = 0", "Var(h) 1.86265e+111",
    "sigmoid(-30) = 9.35762e-14", "root of phi'' at 30 digits, |error| < 1e-12", "a good pool took long",
    "per-layer growth going down (OLS over layers 2..7):", "sigmoid (stable kernel):", "none (no closed form)",
])
def test_the_scanner_passes_clean_text(good):
    assert not leaks(good), leaks(good)


# ------------------------------------------------------------------------------------------ the formatters
def test_fmt_number():
    assert fmt_number(None) == "—"
    assert fmt_number(float("inf")) == "∞" and fmt_number(-math.inf) == "-∞"
    assert fmt_number(float("nan")) == "undefined" and fmt_number(float("nan"), nan="—") == "—"
    assert fmt_number(1.87306583873905e-17) == "0" and fmt_number(-3e-16) == "0" and fmt_number(-0.0) == "0"
    assert fmt_number(1e-14) == "1e-14"  # above the noise level: shown
    assert fmt_number(2e-16, scale=1e-3) == "2e-16" and fmt_number(2e-16, scale=10) == "0"  # relative to the scale
    assert fmt_number(3e-300, scale=0) == "3e-300"  # scale 0: never zeroed
    assert fmt_number(0.7217618726520714) == "0.721762" and fmt_number(2.0000000000000067) == "2"
    assert fmt_number(0.1638996396, 8) == "0.16389964" and fmt_number(1e300) == "1e+300"


def test_fmt_set_and_where():
    import sympy as sp

    assert fmt_set(sp.Interval.open(0, 1)) == "(0, 1)"
    assert fmt_set(sp.Interval(0, sp.oo)) == "[0, ∞)"
    assert fmt_set(sp.Interval(-sp.oo, sp.oo)) == "(-∞, ∞)" and fmt_set(sp.S.Reals) == "(-∞, ∞)"
    assert fmt_set(sp.Interval(sp.Float("-0.169971207479903661693868470982"), sp.oo)) == "[-0.169971, ∞)"
    assert fmt_set(sp.Interval(sp.Rational(-1, 2), 2, False, True)) == "[-1/2, 2)"
    assert fmt_set(sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(0, sp.oo))) == "(-∞, 0) ∪ (0, ∞)"
    assert fmt_set(sp.FiniteSet(1, -1)) == "{-1, 1}" and fmt_set(sp.S.EmptySet) == "∅"
    assert fmt_where(None) == "not attained"
    assert fmt_where(sp.FiniteSet(0)) == "attained at x = 0"
    assert fmt_where(sp.FiniteSet(sp.sqrt(2))) == "attained at x = sqrt(2) ≈ 1.41421"
    assert fmt_where(sp.Interval.open(0, sp.oo)) == "attained on (0, ∞)"
    many = fmt_where(sp.FiniteSet(*range(-10, 11)))
    assert many.startswith("attained at 21 points, x ∈ {-10, -9, -8, …, 10}")
    assert human("Limit(f, x, oo) = -oo; a good pool") == "Limit(f, x, ∞) = -∞; a good pool"


# ------------------------------------------------------------------------------------------ theory
@pytest.mark.parametrize("argv", [
    ["list"],
    ["show", "tanh-derivative"],  # a Limit at x -> oo in SymPy's text
    ["activations", "--activation", "x*tanh(x)", "--activation", "abs(x)", "--q", "2"],
    ["init", "--init", "he_normal", "--activation", "tanh"],
    ["init", "--init", "orthogonal"],
    ["init", "--init", "keras_uniform", "--activation", "relu", "--n-in", "10", "--n-out", "30"],
    ["init", "--init", "zeros", "--activation", "tanh"],
    ["meanfield", "--activation", "tanh", "--weight-var", "2", "--bias-var", "0.05", "--critical"],
    ["meanfield", "--activation", "relu", "--weight-var", "2", "--bias-var", "0"],  # q* None, xi inf
    ["meanfield", "--activation", "tanh", "--weight-var", "1", "--bias-var", "0", "--critical"],  # c* NaN
    ["meanfield", "--activation", "gelu", "--weight-var", "1", "--bias-var", "0", "--critical"],  # no critical
    ["gains", "--activation", "softplus", "--activation", "relu", "--activation", "tanh"],  # phi'(-oo) in a note
    ["predict", "--activation", "tanh", "--init", "glorot_normal", "--width", "16", "--depth", "3", "--drop", "0.2"],
    ["predict", "--activation", "relu", "--init", "he_normal", "--width", "16", "--depth", "3", "--batchnorm"],
    ["predict", "--activation", "relu", "--init", "normal:100/sqrt(n_in)", "--width", "10", "--depth", "90"],
])
def test_theory_text_is_clean(argv, capsys):
    _clean(_text(theory_main, argv, capsys))


ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "linear"]  # selu: slow


def test_theory_activations_text(capsys):
    args = ["activations"] + [a for name in ACTIVATIONS for a in ("--activation", name)]
    out = _text(theory_main, args, capsys)
    _clean(out)
    blocks = {b.split(":", 1)[0]: b for b in re.split(r"\n(?=\S)", out.strip())}
    assert list(blocks) == ACTIVATIONS
    assert "sup|phi'| = 1/4 = 0.25, attained at x = 0 (exact, SymPy)" in blocks["sigmoid"]
    assert "range (0, 1)" in blocks["sigmoid"]
    assert "E[phi] = 0," in blocks["tanh"] and "range (-1, 1)" in blocks["tanh"]  # not 1.87e-17
    assert "attained on (0, ∞)" in blocks["relu"] and "range [0, ∞)" in blocks["relu"]
    assert "phi'(x) = 0 if x < 0; 1 if x > 0" in blocks["relu"]
    assert "attained on [0, ∞)" in blocks["elu"] and "range (-1, ∞)" in blocks["elu"]
    assert "not attained" in blocks["softplus"] and "range (0, ∞)" in blocks["softplus"]
    assert "attained at x = sqrt(2) ≈ 1.41421" in blocks["gelu"]
    assert "sup|phi'| ≈ 1.09984" in blocks["silu"] and "numeric" in blocks["silu"]
    assert "range (-∞, ∞)" in blocks["linear"]


def test_theory_init_shows_only_the_spread_that_applies(capsys):
    out = _text(theory_main, ["init", "--init", "he_uniform"], capsys)
    assert "bound = sqrt(6)/sqrt(n_in)" in out and "std" not in out
    out = _text(theory_main, ["init", "--init", "he_normal:plain"], capsys)
    assert "std = sqrt(2)/sqrt(n_in)" in out and "bound" not in out


def test_theory_meanfield_text_omits_the_empty_note(capsys):
    out = _text(theory_main, ["meanfield", "--activation", "tanh", "--weight-var", "2", "--bias-var", "0.05"], capsys)
    assert "note" not in out and "q_star: 0.721762" in out
    out = _text(theory_main, ["meanfield", "--activation", "relu", "--weight-var", "2", "--bias-var", "0"], capsys)
    assert "q_star: —" in out and "xi_q: ∞" in out and "every q is a fixed point" in out


def test_theory_predict_text_marks_divergence(capsys):
    out = _text(theory_main, ["predict", "--activation", "relu", "--init", "normal:100/sqrt(n_in)", "--width", "10",
                              "--depth", "90"], capsys)
    assert "diverges (non-finite) at layer" in out and "undefined" not in out


THEORY_BENCH = {
    "meanfield_point": {"activation": "tanh", "weight_var": 2.0, "bias_var": 0.05, "repeats": 50,
                        "cold_s": 0.16124, "warm_median_s": 0.0034440, "warm_min_s": 0.0026417, "target_warm_s": 0.05},
    "phase_grid": {"activation": "tanh", "n": 100, "points": 10000, "seconds": 3.4121971210000765,
                   "target_s": 30.0, "weight_vars": [0.5, 4.0], "bias_vars": [0.0, 0.5], "chaotic": 4798,
                   "c_star_methods": {"c* = 1": 5187, "mehler": 4234, "nested": 564, "undefined": 15}},
}


def test_theory_bench_table():
    text = theory_format_bench(THEORY_BENCH)
    _clean(text)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["what", "time"]
    assert "3.44 ms" in text and "< 50 ms" in text and "3.41 s" in text and "< 30 s" in text
    rows = [ln for ln in lines if ln.endswith(" ok")]
    assert len(rows) == 2 and len({ln.index("ok") for ln in rows}) == 1  # aligned
    slow = json.loads(json.dumps(THEORY_BENCH))
    slow["phase_grid"]["seconds"] = 31.0
    assert "MISSED" in theory_format_bench(slow)


def test_theory_bench_command_json_and_text(monkeypatch, capsys):
    """``theory bench --json`` prints the measurements unchanged; without it, the table (the bench is stubbed)."""
    import theory.bench as B

    monkeypatch.setattr(B, "bench_meanfield_point", lambda: THEORY_BENCH["meanfield_point"])
    monkeypatch.setattr(B, "bench_phase_grid", lambda: THEORY_BENCH["phase_grid"])
    assert json.loads(_text(theory_main, ["bench", "--json"], capsys)) == THEORY_BENCH
    assert _text(theory_main, ["bench"], capsys).strip() == theory_format_bench(THEORY_BENCH)


# ------------------------------------------------------------------------------------------ sims
QUICK = ["--width", "16", "--depth", "3", "--batch", "8", "--seeds", "2", "--quiet"]


@pytest.mark.parametrize("argv", [
    ["run", "--activation", "tanh", "--init", "glorot_normal"] + QUICK,
    ["run", "--activation", "relu", "--init", "he_normal", "--batchnorm", "--drop", "0.2", "--bias-var", "0.1"] + QUICK,
    ["run", "--activation", "relu", "--init", "normal:100/sqrt(n_in)", "--width", "16", "--depth", "30", "--batch",
     "4", "--seeds", "2", "--quiet"],  # diverges: NaN statistics from layer ~20 on
    ["batchnorm-rate", "--activation", "tanh", "--batch", "8", "--width", "16", "--depth", "8", "--seeds", "2"],
    ["batchnorm-rate", "--activation", "relu", "--batch", "8", "--width", "16", "--depth", "8", "--seeds", "2"],
    ["dropout-ensemble", "--units", "4", "--keep", "0.5", "--T", "50"],
    ["dropout-ensemble", "--units", "4", "--drop", "0.2", "--T", "50", "--activation", "linear"],  # exact = scaling
    ["train", "--dataset", "digits", "--depth", "1", "--width", "16", "--activation", "relu", "--init", "he_normal",
     "--epochs", "2", "--drop", "0.2", "--quiet"],
    ["train", "--dataset", "digits", "--depth", "3", "--width", "16", "--activation", "relu", "--init", "he_uniform",
     "--optimizer", "sgd", "--lr", "1e300", "--epochs", "2", "--quiet"],  # diverges: NaN losses
])
def test_sims_text_is_clean(argv, capsys):
    _clean(_text(sims_main, argv, capsys))


@pytest.mark.parametrize("argv", [["kernels"], ["kernels", "--activation", "exp(x)", "--dtype", "float64"]])
def test_sims_kernels_text(argv, capsys):
    """The kernels at the extremes: tiny values there are what the command shows (tanh'(30) = 3.5e-26 in float32 is
    sech(30)^2, not noise), so only they may be in e-notation below 1e-15; inf is written ∞."""
    out = _text(sims_main, argv, capsys)
    _clean(out, allow=("float noise",))
    assert "inf" not in out


def test_sims_text_details(capsys):
    out = _text(sims_main, ["run", "--activation", "relu", "--init", "normal:100/sqrt(n_in)", "--width", "16",
                            "--depth", "30", "--batch", "4", "--seeds", "2", "--quiet"], capsys)
    assert "diverged at layer" in out and "—" in out
    out = _text(sims_main, ["batchnorm-rate", "--activation", "tanh", "--batch", "8", "--width", "16", "--depth", "8",
                            "--seeds", "2"], capsys)
    assert "theory   none (no closed form for tanh)" in out
    out = _text(sims_main, ["dropout-ensemble", "--units", "4", "--drop", "0.2", "--T", "50", "--activation",
                            "linear"], capsys)
    assert "keep p = 0.8 (drop 0.2)" in out and "(minus exact: 0)" in out


SIMS_BENCH = {
    "target_ratio": 0.85,
    "environment": {"numpy": "2.1.3", "blas": "scipy-openblas 0.3.27", "openblas_thread_timeout": None, "cpus": 16,
                    "machine": "x86_64"},
    "results": [
        {"activation": "tanh", "init": "glorot_normal", "width": 1024, "depth": 20, "batch": 2048, "networks": 2,
         "dtype": "float32", "repeats": 5, "ratio_median": 0.9123, "ratios": [0.91, 0.92, 0.9123, 0.90, 0.93],
         "engine_seconds_median": 1.2345, "matmul_seconds_median": 1.1262},
        {"activation": "relu", "init": "he_normal", "width": 512, "depth": 50, "batch": 1024, "networks": 2,
         "dtype": "float32", "repeats": 5, "ratio_median": 0.8, "ratios": [0.8] * 5,
         "engine_seconds_median": 0.5, "matmul_seconds_median": 0.4},
    ],
}
SIMS_BENCH_TORCH = {
    "target_ratio": 0.9, "environment": SIMS_BENCH["environment"],
    "results": [{"activation": "tanh", "init": "glorot_normal", "width": 4096, "depth": 50, "batch": 4096,
                 "backend": "torch", "device": "cuda", "networks": 2, "repeats": 5, "ratio_median": 0.95,
                 "ratios": [0.95] * 5, "engine_seconds_median": 0.1, "matmul_seconds_median": 0.095}],
}


def test_sims_bench_table():
    text = sims_format_bench(SIMS_BENCH)
    _clean(text)
    lines = text.splitlines()
    header = next(ln for ln in lines if ln.startswith("activation"))
    rows = [ln for ln in lines if ln.startswith(("tanh", "relu"))]
    assert len(rows) == 2 and "target >= 0.85" in text and "16 cores" in text
    assert rows[0].endswith("0.91  ok") and rows[1].endswith("0.80  below target")
    assert header.index("ratio") + len("ratio") == rows[0].index("0.91") + len("0.91")  # right-aligned column
    torch_text = sims_format_bench(SIMS_BENCH_TORCH)
    _clean(torch_text)
    assert "torch cuda" in torch_text and "target >= 0.9" in torch_text


def test_sims_bench_command_json_and_text(monkeypatch, capsys):
    """``sims bench --json`` prints the document unchanged; without it, the table (the bench is stubbed)."""
    import sims.bench as B

    monkeypatch.setattr(B, "run_all", lambda repeats: SIMS_BENCH["results"])
    monkeypatch.setattr(B, "environment", lambda: SIMS_BENCH["environment"])
    assert json.loads(_text(sims_main, ["bench", "--json"], capsys)) == SIMS_BENCH
    assert _text(sims_main, ["bench"], capsys).strip() == sims_format_bench(SIMS_BENCH)


def _thread_pool(*_args, **_kwargs):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1)


def test_sims_sweep_and_sweep_table_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(S, "make_executor", _thread_pool)  # in this process: no pool to start
    grid = tmp_path / "g.toml"
    grid.write_text("[grid]\nactivation = ['tanh', 'relu']\nwidth = [16]\ndepth = [3]\nbatch = [8]\nseeds = [2]\n"
                    "weight_var = [1.0, 40.0]\n")
    out = _text(sims_main, ["sweep", "--grid", str(grid), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    _clean(out)
    out = _text(sims_main, ["sweep-table", str(tmp_path / "m")], capsys)
    _clean(out)
    assert out.count("weight_var=") == 4 and "diverged" not in out
    norms = tmp_path / "n.toml"  # width 2: a network dies, so a variance can be missing
    norms.write_text("[grid]\ntask = ['norms']\nactivation = ['relu']\nwidth = [2, 16]\ndepth = [3]\nseeds = [4]\n")
    _text(sims_main, ["sweep", "--grid", str(norms), "--out", str(tmp_path / "n"), "--quiet"], capsys)
    out = _text(sims_main, ["sweep-table", str(tmp_path / "n")], capsys)
    _clean(out)
    assert "dead networks" in out and out.count("width=") == 2


def test_sweep_table_formatter_on_a_synthetic_store():
    rows = [{"key": "k1", "config": {**{k: d for k, (_, d) in S.FIELDS.items()}, "task": "moments",
                                     "weight_var": None, "batchnorm": True},
             "results": {"layers": {"preact_var": {"mean": [1.0, float("nan")]}, "correlation": {"mean": [0.5, None]}},
                         "diverged_at": 2}},
            {"key": "k2", "config": {**{k: d for k, (_, d) in S.FIELDS.items()}, "task": "moments",
                                     "weight_var": 2.0, "batchnorm": False},
             "results": {"layers": {"preact_var": {"mean": [1.0, 1.2]}, "correlation": {"mean": [0.5, 0.6]}},
                         "diverged_at": None}}]
    text = format_sweep_table({"rows": rows, "missing": ["k3"]})
    _clean(text)
    assert "weight_var=— batchnorm=yes" in text and "weight_var=2 batchnorm=no" in text
    assert "diverged at layer 2" in text and "(1 configurations not finished)" in text


def test_sweep_bench_text():
    doc = {"environment": {"cpus": 2, "machine": "x86_64", "python": "3.11.7"}, "configurations": 16,
           "grid_note": "tanh, width 256, depth 32, batch 256, 4 networks; sigma_w^2 x sigma_b^2 = 4 x 4",
           "repeats": 1, "single_seconds": 2.645, "pool_seconds": 2.61, "pool_cold_seconds": 8.48, "speedup": 1.01,
           "speedup_cold": 0.31, "speedup_target": 1.7, "workers": 2,
           "dask": {"workers": 2, "seconds": 2.84, "overhead_per_config": 0.0101, "overhead_target": 0.05,
                    "extra_per_config": 0.0141}}
    _clean(S.format_bench(doc))
    _clean(S.format_bench({**doc, "dask": None}))


# ------------------------------------------------------------------------------------------ lecture
def test_lecture_claims_text(monkeypatch, capsys):
    rows = [{"id": "act-sigmoid-range", "slide": "Паралич сети", "quote": "q", "verdict": "imprecise",
             "evidence": "e", "correction": "c"},
            {"id": "init-he", "slide": "Немного лучше", "quote": "q", "verdict": "confirmed", "evidence": "e"}]
    monkeypatch.setattr(lecture_cli, "_claims_and_derivations",
                        lambda cache, fast, progress=None: {"rows": rows, "derivations": {}})
    out = _text(lecture_cli.main, ["claims", "--quiet", "--cache", "unused"], capsys)
    _clean(out)
    assert "act-sigmoid-range  imprecise" in out and "«Немного лучше»" in out


# ------------------------------------------------------------------------------------------ no prefix matching
def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


@pytest.mark.parametrize("make", [theory_parser, sims_parser, figures_parser, lecture_parser],
                         ids=["theory", "sims", "figures", "lecture"])
def test_every_parser_refuses_abbreviations(make):
    parsers = list(_all_parsers(make()))
    assert len(parsers) >= 2
    assert all(p.allow_abbrev is False for p in parsers), [p.prog for p in parsers if p.allow_abbrev]


@pytest.mark.parametrize("main, argv, needle", [
    (sims_main, ["run", "--activation", "tanh", "--init", "glorot_normal", "--widt", "8", "--depth", "2", "--batch",
                 "4", "--seeds", "2"], "required: --width"),  # not read as --width 8
    (sims_main, ["run", "--activation", "tanh", "--init", "glorot_normal", "--width", "8", "--depth", "2", "--batch",
                 "4", "--seeds", "2", "--dropout-k", "0.5"], "unrecognized arguments: --dropout-k"),
    (sims_main, ["train", "--dataset", "digits", "--depth", "1", "--width", "8", "--activation", "relu", "--init",
                 "he_normal", "--dropout-k", "0.5"], "unrecognized arguments: --dropout-k"),
    (theory_main, ["predict", "--activation", "relu", "--init", "he_normal", "--width", "8", "--depth", "2",
                   "--dropout-k", "0.5"], "unrecognized arguments: --dropout-k"),
    (theory_main, ["activations", "--activ", "relu"], "unrecognized arguments: --activ"),
])
def test_an_abbreviated_flag_is_one_line_and_exit_2(main, argv, needle, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle in err, err


def test_theory_bench_clears_caches_that_exist():
    """The cold measurement clears the real caches (it raised AttributeError once a cached helper was renamed)."""
    import theory.bench as B
    from theory import activations, meanfield

    meanfield.analyze("tanh", 2.0, 0.05)
    assert meanfield._kernel.cache_info().currsize > 0
    B._clear_caches()
    assert meanfield._kernel.cache_info().currsize == 0 and activations._structure.cache_info().currsize == 0  # private: the test looks inside


def test_sims_bench_shows_the_straightforward_loop_and_where_the_time_goes():
    """The phase breakdown and the straightforward loop's ratio are printed under the table when measured."""
    doc = json.loads(json.dumps(SIMS_BENCH))
    doc["results"][1].update(straightforward_seconds_median=1.0, straightforward_ratio_median=0.4,
                             phase_seconds_median={"matmuls": 0.4, "weights": 0.05, "elementwise": 0.02,
                                                   "statistics": 0.01, "other": 0.02},
                             allowed_ratio=0.4 / 0.45)
    text = sims_format_bench(doc)
    _clean(text)
    assert "straightforward NumPy loop  1.000 s, ratio 0.40 (the engine: 0.80)" in text
    assert "matmuls 0.400 s (80%), weights 0.050 s (10%)" in text and "= 0.89" in text
    assert "straightforward" not in sims_format_bench(SIMS_BENCH)  # not measured: not printed


def test_bench_phases_time_the_engines_own_primitives():
    """The phase timer runs on a small config and returns the three phases, each a time >= 0."""
    from sims.bench import _phases
    from theory.config import NetworkConfig

    ph = _phases(NetworkConfig(activation="tanh", init="glorot_normal", width=8, depth=2), 4, 1, "float32")
    assert set(ph) == {"weights", "elementwise", "statistics"} and all(v >= 0 for v in ph.values())
