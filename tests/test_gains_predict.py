"""Derived gains vs framework constants, mean-field predictions by depth, and their CLI contracts."""
import json
import math
import re

import pytest
from optional import torch_or_skip

from theory import gains
from theory.activations import get_activation
from theory.cli import main as theory_main
from theory.config import NetworkConfig
from theory.predict import predict


@pytest.fixture(scope="module")
def table():
    """The rows the tests read (the whole table of every named activation is the slow test's and the CLI's)."""
    return {r["activation"]: r for r in gains.gains_table(["relu", "linear", "tanh", "gelu"])}


def test_homogeneous_gains_are_exact(table):
    relu = table["relu"]
    assert relu["forward_gain_exact"] == "sqrt(2)" and relu["backward_gain_exact"] == "sqrt(2)"
    assert relu["torch_matches"] == ["forward", "backward", "critical"]
    row = gains.gains_row(get_activation("leaky_relu:0.1"))
    assert row["forward_gain"] == pytest.approx(math.sqrt(2 / 1.01), rel=1e-15)
    assert row["torch_gain"] == pytest.approx(math.sqrt(2 / 1.01), rel=1e-15)
    assert table["linear"]["forward_gain"] == 1.0 and table["linear"]["critical_gain"] == 1.0


def test_torch_constants_are_judged_by_computation(table):
    tanh = table["tanh"]
    assert tanh["torch_gain_exact"] == "5/3" and tanh["torch_matches"] == []
    assert tanh["torch_does"]["phase"] == "chaotic" and tanh["torch_does"]["chi1"] > 1
    assert tanh["critical_gain"] == pytest.approx(1.0, abs=1e-9)
    assert table["gelu"]["torch_gain"] is None and "raises" in table["gelu"]["torch_note"]
    # negative control: the same judgement on gain 1 (the critical one) is not chaotic
    assert gains._consequence(get_activation("tanh"), 1.0)["phase"] != "chaotic"


def test_gelu_has_no_critical_gain_at_zero_bias(table):
    """chi_1 jumps (q* goes from 0 to an unstable fixed point): no root, reported as None with a reason."""
    assert table["gelu"]["critical_gain"] is None and "jumps" in table["gelu"]["critical_note"]


@pytest.mark.crosscheck
def test_torch_table_matches_torch_when_installed():
    torch = torch_or_skip()
    for name, expected in gains.TORCH_GAINS.items():
        if expected is None:
            with pytest.raises(ValueError):
                torch.nn.init.calculate_gain(name)
            continue
        value = expected.subs(gains._A, gains.TORCH_LEAKY_DEFAULT) if expected.free_symbols else expected
        assert torch.nn.init.calculate_gain(name) == pytest.approx(float(value), rel=1e-15), name


def test_markdown_both_languages(table):
    rows = list(table.values())
    en, ru = gains.gains_markdown(rows, "en"), gains.gains_markdown(rows, "ru")
    table_lines = [line for line in en.splitlines() if line.startswith("| ")]
    assert len(table_lines) == len(rows) + 2 and "| tanh |" in en and "5/3" in en
    assert re.search(r"\[\d\] gelu: no sigma_w\^2", en)  # degenerate critical points are footnoted, computed not typed
    assert "прямой проход" in ru and "хаотическая" in ru and "chaotic" not in ru


# ------------------------------------------------------------------------------------------- predictions
def test_he_relu_is_flat_and_xavier_relu_halves():
    he = predict(NetworkConfig(activation="relu", init="he_normal", width=64, depth=30))
    qs = [r["preact_var"] for r in he["layers"]]
    assert qs[0] == pytest.approx(2.0, rel=1e-14)  # h_1 = W x: n_0 * 2/n_0 * E[x^2]
    assert all(q == pytest.approx(qs[0], rel=1e-12) for q in qs)
    assert all(r["grad_var"] == pytest.approx(1.0, rel=1e-12) for r in he["layers"])
    xav = predict(NetworkConfig(activation="relu", init="glorot_uniform", width=64, depth=30))
    slope = math.log(xav["layers"][-1]["preact_var"] / xav["layers"][0]["preact_var"]) / 29
    assert slope == pytest.approx(math.log(0.5), rel=1e-12)
    # negative control: He's slope is 0, far from log(1/2)
    assert abs(math.log(qs[-1] / qs[0]) / 29 - math.log(0.5)) > 0.5


def test_tanh_xavier_approaches_the_meanfield_fixed_point():
    from theory.meanfield import analyze
    res = predict(NetworkConfig(activation="tanh", init="glorot_normal", width=100, depth=200, bias_var=0.05))
    mf = analyze("tanh", 1.0, 0.05)
    assert res["layers"][-1]["preact_var"] == pytest.approx(mf.q_star, rel=1e-6)


def test_predict_reports_divergence():
    res = predict(NetworkConfig(activation="relu", init="normal:100/sqrt(n_in)", width=10, depth=400))
    assert res["diverged_at"] is not None and res["diverged_at"] > 1


def test_cli_meanfield_gains_predict(capsys):
    assert theory_main(["meanfield", "--activation", "tanh", "--weight-var", "2.0", "--bias-var", "0.05",
                        "--critical", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["phase"] == "chaotic" and 0 < doc["c_star"] < 1
    assert doc["critical_weight_var"] == pytest.approx(1.7609546396, rel=1e-9)
    assert theory_main(["predict", "--activation", "relu", "--init", "he_uniform", "--width", "50", "--depth", "5",
                        "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in doc["layers"]] == [1, 2, 3, 4, 5] and doc["diverged_at"] is None
    assert set(doc["layers"][0]) == {"layer", "preact_var", "grad_var"}
    assert theory_main(["gains", "--activation", "relu", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["activations"][0]["forward_gain_exact"] == "sqrt(2)"


@pytest.mark.parametrize("argv, needle", [
    (["meanfield", "--activation", "tanh", "--weight-var", "nan", "--bias-var", "0"], "finite"),
    (["meanfield", "--activation", "tanh", "--weight-var", "1", "--bias-var", "-0.1"], "finite number >= 0"),
    (["predict", "--activation", "relu", "--init", "he_normal", "--width", "0", "--depth", "3"], "positive"),
    (["predict", "--activation", "relu", "--init", "he_normal", "--width", "3", "--depth", "-1"], "depth"),
    (["predict", "--activation", "relu", "--init", "hee_normal", "--width", "3", "--depth", "2"], "did you mean"),
    (["init", "--init", "he_normal", "--n-in", "0"], "positive"),
])
def test_cli_bad_input(argv, needle, capsys):
    assert theory_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
