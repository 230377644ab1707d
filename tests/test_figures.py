"""Figures: every figure in both languages, byte-reproducible files, the CLI contract, labels from SymPy, layering."""
from __future__ import annotations

import json
import os
import re
import string
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from figures import activations as F
from figures import common
from figures.cli import main
from theory import activations as A

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CYRILLIC = re.compile("[\u0400-\u04ff]")
EXPECTED = {"activation-sigmoid", "activation-tanh", "activation-relu", "activation-leaky-relu", "activation-elu",
            "activation-zoo"}  # the activations group; other groups are tested in their own files


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """All figures, --fast, in both languages, each language in its own folder (rendered once per module)."""
    out = {}
    for lang in common.LANGS:
        d = tmp_path_factory.mktemp(f"figs-{lang}")
        assert main(["--only", *sorted(EXPECTED), "--out", str(d), "--lang", lang, "--fast", "--quiet"]) == 0
        out[lang] = d
    return out


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE
    chunks, i = [], 8
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        chunks.append((data[i + 4:i + 8], data[i + 8:i + 8 + n]))
        i += 12 + n
    return chunks


# ------------------------------------------------------------------------------------------- the files
def test_registry_names():
    assert {n for n, e in common.entries().items() if e.group == "activations"} == EXPECTED
    assert all(e.description for e in common.entries().values())
    assert "figures.activations" in common.MODULES


@pytest.mark.parametrize("lang", common.LANGS)
def test_every_figure_written_as_png_and_pdf(rendered, lang):
    d = rendered[lang]
    files = sorted(p.name for p in d.iterdir())
    want = sorted(f"{common.stem(n, lang)}.{ext}" for n in EXPECTED for ext in ("png", "pdf"))
    assert files == want  # nothing else: no temporary files left behind
    for name in EXPECTED:
        png = (d / f"{common.stem(name, lang)}.png").read_bytes()
        chunks = _png_chunks(png)
        assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert width >= 300 and height >= 200 and len(png) > 10_000
        # no software version or time in the metadata
        assert not [c for c, body in chunks if c in (b"tEXt", b"iTXt", b"zTXt", b"tIME")]
        pdf = (d / f"{common.stem(name, lang)}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 5_000
        for key in (b"/CreationDate", b"/ModDate", b"/Producer", b"/Creator", b"/ID"):
            assert key not in pdf


def test_russian_files_carry_the_suffix(rendered):
    assert (rendered["ru"] / "activation-sigmoid.ru.png").is_file()
    assert not list(rendered["ru"].glob("activation-sigmoid.png"))


def test_byte_identical_in_process(rendered, tmp_path):
    """Rendering again (Russian: Cyrillic glyphs and mathtext in the embedded fonts) gives the same bytes."""
    assert main(["--only", *sorted(EXPECTED), "--out", str(tmp_path), "--lang", "ru", "--fast", "--quiet"]) == 0
    for p in rendered["ru"].iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.slow
def test_byte_identical_across_processes(tmp_path):
    """Two separate interpreters (different hash seeds, a second apart) write the same bytes (slow: the default run
    has the in-process check, and the slow gallery test regenerates every gallery image in a fresh process)."""
    outs, procs = [], []
    for seed in ("1", "2"):  # run side by side: the test costs one interpreter start, not two
        d = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        env.pop("SOURCE_DATE_EPOCH", None)  # reproducible without it
        procs.append(subprocess.Popen([sys.executable, "-m", "figures", "--only", "activation-sigmoid", "--fast",
                                       "--out", str(d)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
        outs.append(d)
    for d, proc in zip(outs, procs):
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        assert re.fullmatch(r"\[1/1\] activation-sigmoid \d+\.\d s\n", stderr), stderr  # a pipe: plain progress
        assert stdout.split() == [str(d / "activation-sigmoid.png"), str(d / "activation-sigmoid.pdf")]
    for name in ("activation-sigmoid.png", "activation-sigmoid.pdf"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_existing_files_are_replaced(tmp_path):
    target = tmp_path / "activation-relu.png"
    target.write_bytes(b"stale")
    assert main(["--only", "activation-relu", "--out", str(tmp_path), "--fast", "--quiet"]) == 0
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------- the CLI
def test_list_and_json(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(common.entries())
    assert EXPECTED <= {line.split()[0] for line in lines}
    assert main(["list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in doc} == set(common.entries())
    assert all(set(d) == {"name", "group", "description", "timing"} for d in doc)
    assert {d["name"] for d in doc if d["timing"]} == {n for n, e in common.entries().items() if e.timing}


def test_paths_printed_unless_quiet(tmp_path, capsys):
    assert main(["--only", "activation-relu", "--out", str(tmp_path), "--fast"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "activation-relu.png"),
                                                    str(tmp_path / "activation-relu.pdf")]


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in cap.err and cap.out == ""
    return lines[0]


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    line = _one_line_error(capsys, ["--only", "activation-sigmod", "--out", str(tmp_path)])
    assert "activation-sigmod" in line and "did you mean 'activation-sigmoid'" in line
    assert not list(tmp_path.iterdir())  # checked before anything is drawn
    assert "--lang" in _one_line_error(capsys, ["--lang", "de", "--out", str(tmp_path)])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    line = _one_line_error(capsys, ["--only", "activation-relu", "--out", str(blocker / "sub")])
    assert "cannot write" in line and str(blocker / "sub") in line
    _one_line_error(capsys, ["--no-such-option"])
    _one_line_error(capsys, ["list", "--bogus"])


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--lang" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------- strings
def test_string_table_has_distinct_entries_for_both_languages():
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    for key, entry in common.STRINGS.items():
        assert set(entry) == set(common.LANGS), key
        assert entry["en"] and entry["ru"] and entry["en"] != entry["ru"], key
        assert CYRILLIC.search(entry["ru"]) and not CYRILLIC.search(entry["en"]), key
        assert fields(entry["en"]) == fields(entry["ru"]), key


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def test_russian_figure_text_differs_from_english():
    c = F.curves("sigmoid", -6, 6, n=F.FAST_GRID_POINTS)
    en, ru = (_texts(F.plot_activation(c, F.title_for("sigmoid", "title_sigmoid", lang), lang))
              for lang in common.LANGS)
    assert len(en) == len(ru) and not any(CYRILLIC.search(t) for t in en)
    # title, axis label, two legend entries, annotation: every worded string is translated
    assert sum(bool(CYRILLIC.search(t)) for t in ru) >= 5
    assert [a == b for a, b in zip(en, ru)].count(False) >= 5


# ---------------------------------------------------------------------------------- data from theory
def test_sigmoid_maximum_comes_from_theory():
    c = F.curves("sigmoid", -6, 6, n=1201)
    sup = A.sup_abs_derivative(A.get_activation("sigmoid"))
    assert c.peak == (sup.where[0], sup.value) and c.peak[1] == sp.Rational(1, 4)
    # independent oracle: the sampled derivative peaks at the same place and height
    i = int(np.nanargmax(c.dy))
    assert c.x[i] == 0.0 and c.dy[i] == pytest.approx(0.25, rel=1e-12)
    texts = _texts(F.plot_activation(c, "t", "en"))
    expr = sp.latex(A.get_activation("sigmoid").expr).replace(r"\frac", r"\dfrac")  # display-size fractions
    assert any(expr in t for t in texts)
    assert any(r"\dfrac{1}{4}" in t and "maximum of the derivative" in t for t in texts)


def test_kink_is_sampled_and_left_as_a_gap():
    c = F.curves("relu", -3, 3, n=F.FAST_GRID_POINTS - 1)  # an even count: linspace alone would miss 0
    assert 0.0 in c.x and np.isnan(c.dy[c.x == 0.0]).all() and np.isfinite(np.delete(c.dy, c.x == 0.0)).all()
    assert c.jumps == [(0.0, 0.0, 1.0)]

    def largest_step(y):
        ok = np.isfinite(y[:-1]) & np.isfinite(y[1:])
        return np.max(np.abs(np.diff(y))[ok])

    assert largest_step(c.dy) == 0.0  # no segment joins the two sides of the jump
    # negative control: the same derivative on a grid without the kink draws a vertical segment
    xs = np.linspace(-3, 3, F.FAST_GRID_POINTS - 1)
    assert 0.0 not in xs and largest_step(A.evaluator(c.act, derivative=True)(xs)) == 1.0


def test_elu_derivative_is_continuous_so_no_kink_marker():
    assert F.curves("elu", -3, 3, n=F.FAST_GRID_POINTS).jumps == []
    assert F.curves("leaky_relu:0.1", -3, 3, n=F.FAST_GRID_POINTS).jumps == [(0.0, 0.1, 1.0)]


def test_which_latex_mathtext_can_draw():
    """Every named activation's own LaTeX parses; the derivatives of kinked ones are Piecewise (a cases
    environment mathtext lacks) and are drawn piece by piece; SELU's constants are too wide and fall back."""
    kinked = {"relu", "leaky_relu", "elu", "selu"}
    for name in A.NAMES:
        act = A.get_activation(name)
        assert common.mathtext_width(f"${sp.latex(act.expr)}$") is not None, name
        raw_ok = common.mathtext_width(f"${sp.latex(A.derivative(act))}$") is not None
        assert raw_ok == (name not in kinked), name
        assert common.latex(A.derivative(act)) is not None, name
        label = common.formula_label("d", "f'(x)", A.derivative(act), "FALLBACK")
        assert label.endswith("FALLBACK") == (name == "selu"), (name, label)
    assert common.mathtext_width(r"$\notacommand{x}$") is None


def test_leaky_relu_title_states_the_slope_and_default():
    for lang in common.LANGS:
        t = F.title_for("leaky_relu:0.1", "title_leaky_relu", lang)
        point = "." if lang == "en" else ","  # Russian takes a decimal comma
        assert f"0{point}1" in t and f"0{point}01" in t


def test_register_refuses_duplicates():
    with pytest.raises(ValueError):
        common.register("activation-zoo", "x", "y")(lambda out, lang, fast: [])


def test_russian_labels_take_the_plural_that_agrees_and_a_decimal_comma():
    assert [common.plural_ru(n, "сеть", "сети", "сетей") for n in (1, 2, 5, 11, 21, 22, 32, 112, 2.5)] == [
        "сеть", "сети", "сетей", "сетей", "сеть", "сети", "сети", "сетей", "сети"]
    assert common.text("fw_mc", "ru", n=64, nets=32) == "ширина 64: Монте-Карло, 32 сети"
    assert common.text("fw_mc", "en", n=64, nets=32) == "width 64: Monte Carlo, 32 networks"
    assert common.decimal_comma("p = 0.5, NumPy 2.4.6") == "p = 0,5, NumPy 2.4.6"  # a version keeps its dots
    # every Russian template with a plural marker names a number it is given
    import re

    for key, langs in common.STRINGS.items():
        for name in re.findall(r"\[(\w+)\|", langs["ru"]):
            assert "{" + name + "}" in langs["ru"] or "{" + name + ":" in langs["ru"], (key, name)
