"""Command-line contracts (DESIGN.md): --help, one-line errors with exit 2, JSON with null for non-finite."""
import json
import subprocess
import sys

import pytest

from lecture.cli import main as lecture_main
from sims.cli import main as sims_main
from theory import activations as A
from theory.cli import main as theory_main
from theory.cli_util import dumps


def _run(main, argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("main, argv", [
    (theory_main, ["--help"]), (theory_main, ["show", "--help"]), (theory_main, ["activations", "--help"]),
    (sims_main, ["--help"]), (lecture_main, ["--help"]),
])
def test_help_exits_zero(main, argv, capsys):
    code, out, _ = _run(main, argv, capsys)
    assert code == 0 and "usage:" in out


@pytest.mark.parametrize("main, argv, needle", [
    (theory_main, [], "required"),
    (theory_main, ["bogus"], "invalid choice"),
    (theory_main, ["show", "sigmoid-derivativ"], "did you mean 'sigmoid-derivative'"),
    (theory_main, ["show", "tanh-derivative", "--format", "pdf"], "invalid choice"),
    (theory_main, ["activations", "--activation", "__import__('os').system('id')"], "attribute access"),
    (theory_main, ["activations", "--activation", "rellu"], "did you mean 'relu'"),
    (theory_main, ["activations", "--activation", "x*y"], "unknown name 'y'"),
    (theory_main, ["activations", "--activation", "leaky_relu:abc"], "must be a number"),
    (theory_main, ["activations", "--q", "-1"], "positive"),
    (theory_main, ["activations", "--q", "nan"], "positive"),
    (theory_main, ["activations", "--q", "abc"], "invalid float"),
    (sims_main, ["kernels", "--activation", "log(x)"], "not real-valued"),
    (sims_main, ["kernels", "--dtype", "float16"], "invalid choice"),
    (lecture_main, ["--lang", "de"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(main, argv, needle, capsys):
    code, out, err = _run(main, argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err, err


def test_injection_payload_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "pwned"
    code, _, err = _run(theory_main, ["activations", "--activation", f"open('{marker}', 'w')"], capsys)
    assert code == 2 and not marker.exists() and "Traceback" not in err


def test_list_and_show(capsys):
    code, out, _ = _run(theory_main, ["list", "--json"], capsys)
    names = [d["name"] for d in json.loads(out)]
    assert code == 0
    assert {"sigmoid-derivative", "tanh-derivative", "vanishing-gradient-bound", "leaky-relu-derivative",
            "elu-derivative"} <= set(names)
    for fmt, needle in (("text", "verified: all steps hold"), ("markdown", "**Verified.**"),
                        ("latex", r"\begin{align*}")):
        code, out, _ = _run(theory_main, ["show", "sigmoid-derivative", "--format", fmt], capsys)
        assert code == 0 and needle in out
    code, out, _ = _run(theory_main, ["show", "elu-derivative", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["verified"] is True and all(s["ok"] for s in doc["steps"])


def test_show_exits_1_when_a_step_fails(monkeypatch, capsys):
    """Negative control for `show`: a registered derivation with a wrong step must give exit status 1."""
    import sympy as sp

    from theory import derivation as D
    from theory.calculus import x

    def broken():
        return D.Derivation("broken", "A wrong derivative", [
            D.Step(lhs=sp.Derivative(sp.tanh(x), x), rhs=1 + sp.tanh(x) ** 2, why="wrong on purpose")])

    D._load()
    monkeypatch.setitem(D._REGISTRY, "broken", ("wrong on purpose", broken))
    code, out, err = _run(theory_main, ["show", "broken"], capsys)
    assert code == 1 and "NOT VERIFIED" in out and "step 1" in err


def test_activations_json_contract(capsys):
    code, out, _ = _run(theory_main, ["activations", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    rows = {r["name"]: r for r in doc["activations"]}
    assert list(rows) == list(A.NAMES)
    for r in rows.values():
        assert {"name", "expr", "derivative", "sup_abs_derivative", "sup_at", "moments"} <= set(r)
        assert set(r["moments"]) == {"mean", "second", "derivative_second"}
        assert all(isinstance(v, float) for v in r["moments"].values())
    # the JSON carries exactly the numbers the library computes
    assert rows["gelu"]["moments"] == {k: A.moments(A.get_activation("gelu"))[k] for k in A.MOMENT_KEYS}
    assert rows["sigmoid"]["sup_abs_derivative"] == 0.25 and rows["sigmoid"]["sup_at"] == 0.0
    assert rows["softplus"]["sup_at"] is None  # sup 1 approached, never attained
    assert rows["silu"]["sup_exact"] is None and "numeric" in rows["silu"]["sup_note"]
    # a user expression and a q other than 1
    code, out, _ = _run(theory_main, ["activations", "--activation", "x*tanh(x)", "--q", "2", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["q"] == 2.0 and doc["activations"][0]["name"] == "x*tanh(x)"


def test_json_writes_null_for_non_finite():
    text = dumps({"a": float("nan"), "b": [float("inf"), 1.0], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [None, 1.0], "c": {"d": None}}
    assert "NaN" not in text and "Infinity" not in text


def test_sims_kernels_json_at_extremes(capsys):
    code, out, _ = _run(sims_main, ["kernels", "--activation", "sigmoid", "--activation", "softplus", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["dtype"] == "float32"
    sig, soft = doc["kernels"]
    assert sig["f"][0] == 0.0 and sig["f"][-1] == 1.0 and soft["f"][-1] == 1000.0


@pytest.mark.slow  # fresh interpreters: seconds each; the default run calls main() in process, CI's wheel step too
def test_module_entry_points_run_as_subprocesses(tmp_path):
    """`python -m theory|sims` work as documented from a fresh interpreter (exit codes included)."""
    ok = subprocess.run([sys.executable, "-m", "theory", "show", "tanh-derivative"], capture_output=True, text=True)
    assert ok.returncode == 0 and "verified" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "theory", "activations", "--activation", "().__class__"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "sims", "kernels", "--activation", "x**"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_predict_with_dropout_and_batchnorm(capsys):
    from theory.config import NetworkConfig
    from theory.predict import predict

    args = ["predict", "--activation", "relu", "--init", "he_normal", "--width", "32", "--depth", "4"]
    assert theory_main(args + ["--dropout-keep", "0.5", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    want = predict(NetworkConfig("relu", "he_normal", width=32, depth=4, dropout_keep=0.5))
    assert [r["preact_var"] for r in got["layers"]] == [r["preact_var"] for r in want["layers"]]
    # He: n Var(w) = 2, E[relu(h)^2] = q/2, and E[(D/p)^2] = 1/p
    assert got["layers"][1]["preact_var"] == 2 * (got["layers"][0]["preact_var"] / 2) / 0.5
    assert theory_main(args + ["--batchnorm", "--json"]) == 0
    bn = json.loads(capsys.readouterr().out)
    assert all(r["preact_var"] == 1 and r["grad_var"] is None for r in bn["layers"])
    for bad in ("0", "1.5", "nan"):
        assert theory_main(args + ["--dropout-keep", bad]) == 2
        assert "keep probability" in capsys.readouterr().err


def test_predict_drop_is_one_minus_keep(capsys):
    args = ["predict", "--activation", "relu", "--init", "he_normal", "--width", "32", "--depth", "4", "--json"]
    assert theory_main(args + ["--drop", "0.5"]) == 0
    by_drop = json.loads(capsys.readouterr().out)
    assert theory_main(args + ["--dropout-keep", "0.5"]) == 0
    assert by_drop == json.loads(capsys.readouterr().out) and by_drop["config"]["dropout_keep"] == 0.5
    assert theory_main(args + ["--drop", "0.2"]) == 0
    by_drop = json.loads(capsys.readouterr().out)
    assert theory_main(args + ["--dropout-keep", "0.2"]) == 0  # negative control: another network
    assert by_drop["config"]["dropout_keep"] == 0.8 and by_drop != json.loads(capsys.readouterr().out)
    for bad, needle in ((["--drop", "1"], "DROP probability q in [0, 1)"), (["--drop", "-1"], "Keras' Dropout rate"),
                        (["--drop", "0.2", "--dropout-keep", "0.8"], "not allowed with"),
                        (["--dropout-k", "0.5"], "unrecognized arguments")):
        assert theory_main(args + bad) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and needle in err, err
