"""`python -m sims run` contract (DESIGN.md) and its bad-input handling."""
import json

import pytest

from sims import cli
from sims.cli import main as sims_main


def test_run_json_contract(capsys):
    code = sims_main(["run", "--activation", "tanh", "--init", "glorot_normal", "--width", "32", "--depth", "4",
                      "--batch", "16", "--seeds", "3", "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and err == ""  # silent under --json
    assert {"config", "layers", "diverged_at", "seconds"} <= set(doc)
    row = doc["layers"][0]
    assert row["layer"] == 1 and set(row["preact_var"]) == {"mean", "se"} and set(row["grad_var"]) == {"mean", "se"}
    assert isinstance(row["theory_preact_var"], float) and isinstance(row["theory_grad_var"], float)
    assert doc["diverged_at"] is None


def test_run_twice_gives_the_same_bytes(capsys):
    argv = ["run", "--activation", "relu", "--init", "he_uniform", "--width", "16", "--depth", "3", "--batch", "8",
            "--seeds", "2", "--json"]
    sims_main(argv)
    first = json.loads(capsys.readouterr().out)
    sims_main(argv)
    second = json.loads(capsys.readouterr().out)
    first.pop("seconds"), second.pop("seconds")  # wall time is the only thing allowed to differ
    assert first == second


def test_divergent_run_is_valid_json_with_nulls(capsys):
    code = sims_main(["run", "--activation", "relu", "--init", "normal:100/sqrt(n_in)", "--width", "16", "--depth",
                      "60", "--batch", "4", "--seeds", "2", "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert code == 0 and isinstance(doc["diverged_at"], int)
    assert doc["layers"][-1]["preact_var"]["mean"] is None and "NaN" not in out and "Infinity" not in out


@pytest.mark.parametrize("argv, needle", [
    (["--width", "0"], "positive"), (["--depth", "0"], "depth"), (["--batch", "1"], "batch"),
    (["--seeds", "1"], "seeds"), (["--activation", "rellu"], "did you mean 'relu'"),
    (["--init", "glorot_normall"], "did you mean"), (["--width", "200000", "--depth", "100"], "GiB"),
    (["--device", "cuda"], "needs --backend torch"), (["--chunk", "1"], "chunk"),
])
def test_run_bad_input(argv, needle, capsys):
    base = {"--activation": "tanh", "--init": "glorot_normal", "--width": "8", "--depth": "2", "--batch": "4",
            "--seeds": "2"}
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    args = ["run"] + [x for kv in base.items() for x in kv]
    assert sims_main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


# ------------------------------------------------------------------------- --drop Q: the DROP probability, keep 1 - Q
RUN = ["run", "--activation", "relu", "--init", "he_normal", "--width", "16", "--depth", "4", "--batch", "8",
       "--seeds", "2", "--quiet"]
TRAIN = ["train", "--dataset", "digits", "--depth", "1", "--width", "16", "--activation", "relu", "--init",
         "he_normal", "--epochs", "1", "--quiet"]


def _json(argv, capsys) -> dict:
    assert sims_main(argv + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    doc.pop("seconds")  # wall time: the only thing allowed to differ
    return doc


@pytest.mark.parametrize("base", [RUN, TRAIN], ids=["run", "train"])
def test_drop_is_one_minus_keep(base, capsys):
    """--drop 0.2 is --dropout-keep 0.8 (before, prefix matching read --drop 0.2 as --dropout-keep 0.2)."""
    by_drop = _json(base + ["--drop", "0.2"], capsys)
    by_keep = _json(base + ["--dropout-keep", "0.8"], capsys)
    assert by_drop == by_keep and by_keep["config"]["dropout_keep"] == 0.8
    # negative control: the drop probability read as the keep probability is another network
    assert _json(base + ["--dropout-keep", "0.2"], capsys) != by_keep
    assert _json(base + ["--drop", "0"], capsys) == _json(base, capsys)  # --drop 0: no dropout


@pytest.mark.parametrize("base", [RUN, TRAIN], ids=["run", "train"])
def test_drop_in_the_text_output(base, capsys):
    assert sims_main(base + ["--drop", "0.2"]) == 0
    assert "dropout keep p = 0.8 (drop 0.2)" in capsys.readouterr().out


@pytest.mark.parametrize("base", [RUN, TRAIN], ids=["run", "train"])
@pytest.mark.parametrize("extra, needle", [
    (["--drop", "1"], "DROP probability q in [0, 1)"), (["--drop", "-0.1"], "DROP probability q in [0, 1)"),
    (["--drop", "nan"], "DROP probability q in [0, 1)"), (["--drop", "1.5"], "PyTorch's nn.Dropout p"),
    (["--drop", "0.2", "--dropout-keep", "0.8"], "not allowed with argument"),
    (["--dropout-keep", "0"], "keep probability p"),
    (["--dropout-k", "0.5"], "unrecognized arguments: --dropout-k"),  # no prefix matching
    (["--dro", "0.5"], "unrecognized arguments: --dro"),
])
def test_bad_drop_is_one_line(base, extra, needle, capsys):
    assert sims_main(base + extra) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle.lower() in err.lower(), err


def test_drop_help_names_the_convention(capsys):
    for command in ("run", "train"):
        assert sims_main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "DROP probability q in [0, 1) (PyTorch's nn.Dropout p, Keras' Dropout rate)" in text
        assert "KEEP probability p in (0, 1]" in text
