"""The main job (`python -m lecture`): figures, claims and REPORT.md; the cache keyed by code version; atomic writes;
bad input; and the registry's rules that apply to every claim (quotes from the seed, slide titles, sections,
perturbations change verdicts)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from processes import wait_for
import sympy as sp

from lecture import claims as C
from lecture import cli as L
from lecture import report as R
from lecture.registry import Claim, Evidence, Outcome, exact_equal, quote_in_seed, scaled, slide_titles

ROOT = Path(__file__).resolve().parents[1]
x = sp.Symbol("x")


def _stub_check(claimed, evidence):
    """A real (tiny) check: the slide's derivative of x^2 against sympy.diff."""
    truth = sp.diff(x**2, x)
    if exact_equal(claimed["derivative"], truth):
        return Outcome("confirmed", f"d/dx x^2 = {truth}", {"derivative": str(truth)})
    return Outcome("refuted", f"the slide's {claimed['derivative']} differs from {truth}",
                   {"derivative": str(truth)}, correction=f"d/dx x^2 = {truth}")


STUB = (Claim("act-stub", "Паралич сети", "В сетях с небольшим числом слоёв этот эффект незаметен", "a stub claim",
              {"derivative": 2 * x}, _stub_check, lambda c: scaled(c, "derivative", 3), figure="activation-relu",
              derivation=None),
        Claim("init-stub", "Немного лучше", "Немного лучше", "a wrong stub", {"derivative": 3 * x}, _stub_check,
              lambda c: scaled(c, "derivative", sp.Rational(2, 3))))


@pytest.fixture
def stub_claims(monkeypatch):
    monkeypatch.setattr(C, "all_claims", lambda: STUB)


# ------------------------------------------------------------------------------------------------ report
def test_report_has_errata_map_and_sections(stub_claims):
    rows = [C.row(c, o) for c, o in C.evaluate_all(Evidence())]
    md = R.render(rows, derivations={}, code="abc", figures={"activation-relu"})
    assert md.index("## Errata") < md.index("## Slide → figure") < md.index("## Activation functions")
    errata = md[md.index("## Errata"):md.index("## Slide → figure")]
    assert "Немного лучше" in errata and "Паралич сети" not in errata  # only the refuted one
    assert "d/dx x^2 = 2*x" in errata
    assert "![activation-relu](figures/activation-relu.png)" in md
    assert "❌ refuted 1" in md and "✅ confirmed 1" in md
    ru = R.render(rows, derivations={}, lang="ru", code="abc", figures={"activation-relu"})
    assert "## Список исправлений" in ru and "figures/activation-relu.ru.png" in ru


def test_a_fast_report_says_so_and_names_the_verdicts_that_differ_from_a_full_run(stub_claims):
    rows = [C.row(c, o) for c, o in C.evaluate_all(Evidence())]
    assert "A `--fast` report" not in R.render(rows, derivations={})  # a full report has no banner
    unknown = R.render(rows, derivations={}, fast={"full_rows": None})
    assert unknown.index("A `--fast` report") < unknown.index("## Errata") and "not known" in unknown
    assert "Every verdict equals" in R.fast_banner(rows, rows)
    full = [dict(r, verdict="confirmed") if r["id"] == "init-stub" else r for r in rows]
    banner = R.fast_banner(rows, full)
    assert "1 of 2 verdicts differ" in banner and "`init-stub` refuted here, confirmed in full" in banner
    assert "из 2 вердиктов отличаются" in R.fast_banner(rows, full, "ru")


def test_main_job_writes_report_and_a_warm_run_redraws_nothing(stub_claims, tmp_path):
    out = tmp_path / "out"
    first = L.main_job(out, fast=True, jobs=1, names=["activation-relu"])
    assert first["drawn"] == ["activation-relu", "activation-relu.ru"] and first["claims"]["refuted"] == 1
    report = (out / "REPORT.md").read_text()
    assert "«Немного лучше»" in report and "A `--fast` report" in report and "not known" in report
    # one run writes both editions, each with its HTML twin and its figures
    assert first["reports"] == [str(out / n) for n in ("REPORT.md", "REPORT.html", "REPORT.ru.md", "REPORT.ru.html")]
    ru = (out / "REPORT.ru.md").read_text()
    assert "Отчёт `--fast`" in ru and "figures/activation-relu.ru.png" in ru and "figures/activation-relu.png" in report
    assert (out / "figures" / "activation-relu.ru.png").is_file() and '<html lang="ru"' in (
        out / "REPORT.ru.html").read_text()
    rows = json.loads((out / "claims.json").read_text())
    assert {r["id"] for r in rows} == {"act-stub", "init-stub"}
    png = out / "figures" / "activation-relu.png"
    stamp = png.stat().st_mtime_ns
    second = L.main_job(out, fast=True, jobs=1, names=["activation-relu"])
    assert second["drawn"] == [] and second["current"] == ["activation-relu", "activation-relu.ru"]
    assert png.stat().st_mtime_ns == stamp and (out / "REPORT.md").read_text() == report
    # a changed figure file is redrawn (the stamp holds its hash)
    png.write_bytes(b"damaged")
    assert L.main_job(out, fast=True, jobs=1, names=["activation-relu"])["drawn"] == ["activation-relu"]
    # one edition only
    assert L.main_job(tmp_path / "ru", lang="ru", fast=True, jobs=1, names=["activation-relu"])["reports"] == [
        str(tmp_path / "ru" / n) for n in ("REPORT.ru.md", "REPORT.ru.html")]
    # nothing temporary left anywhere
    assert not [p for p in out.rglob(".*.tmp")]


def test_bad_input_exits_2(tmp_path, capsys):
    assert L.main(["--jobs", "0", "--out", str(tmp_path)]) == 2
    assert "--jobs" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert L.main(["--out", str(blocker / "sub"), "--fast"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err
    assert L.main(["--lang", "de"]) == 2


def test_help(capsys):
    assert L.main(["--help"]) == 0
    assert "REPORT.md" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ registry rules
def test_outcome_rules():
    with pytest.raises(ValueError):
        Outcome("maybe", "x")
    with pytest.raises(ValueError):
        Outcome("imprecise", "x", correction="c")  # an imprecise verdict names its condition
    with pytest.raises(ValueError):
        Outcome("refuted", "x")  # and a refutation its correction


def test_each_section_module_holds_only_its_own_claims():
    modules = C.section_modules()
    assert [m.__name__ for m in modules] == [f"lecture.claims_{key}" for key, _, _ in C.SECTIONS]
    for (key, prefix, _), module in zip(C.SECTIONS, modules):
        assert module.CLAIMS, key
        for item in module.CLAIMS + tuple(getattr(module, "NOT_CLAIMS", ())):
            assert item.id.startswith(prefix), (module.__name__, item.id)
    # negative control: a claim of another section is caught by the same test
    assert not C.all_claims()[0].id.startswith(C.SECTIONS[-1][1])


def test_every_claim_quotes_the_seed_and_belongs_to_a_section():
    claims = C.all_claims()
    assert len(claims) >= 35
    titles = set(slide_titles())
    for c in claims:
        assert c.slide in titles, c.id
        assert quote_in_seed(c.quote), c.id
        C.section_of(c)
    covered = {c.slide for c in claims}
    # every slide with a formula or a factual statement has at least one claim
    for must in ("Паралич сети", "Центрирование", "Tanh activation", "ReLU activation", "Leaky ReLU activation",
                 "ELU activation", "Инициализация весов (симметричный случай)", "Плохая инициализация весов",
                 "Немного лучше", "Инициализация Ксавье (Глорота)", "Инициализация Хе", "Краткие итоги",
                 "Проблема", "Batch norm (2015)", "Forward pass", "Backward pass", "Трюки", "Dropout",
                 "Dropout в формулах", "Обратный Dropout", "Предобучение", "Динамическое наращивание сети",
                 "Прореживание сети"):
        assert must in covered, must


def test_every_named_derivation_and_figure_exists():
    from figures.common import entries
    from theory.derivation import names

    derivations, figures = names(), entries()
    for c in C.all_claims():
        assert c.derivation is None or c.derivation in derivations, c.id
        assert c.figure is None or c.figure in figures, c.id


def test_main_job_progress_and_ctrl_c(tmp_path):
    """A real Ctrl-C during the main job: exit status 130, one line, no temporary files, nothing half-written."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "lecture", "--out", str(out), "--fast", "--jobs", "1"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for(proc, lambda: any((out / "figures").glob("*.png")), "a first figure")
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, (proc.returncode, err[-3000:])
    assert not [p for p in out.rglob("*.tmp")]
    assert not (out / "REPORT.md").exists()


def test_cache_is_keyed_by_arguments_and_code_version(tmp_path, monkeypatch):
    from sims import memo

    calls = []

    def compute(k):
        calls.append(k)
        return {"k": k, "half": k / 2}
    assert Evidence(tmp_path).get("f", compute, k=3) == {"k": 3, "half": 1.5}
    assert Evidence(tmp_path).get("f", compute, k=3) == {"k": 3, "half": 1.5}  # a new process reads the file
    assert calls == [3]
    Evidence(tmp_path).get("f", compute, k=4)
    assert calls == [3, 4]
    monkeypatch.setattr(memo, "code_version", lambda: "changed")  # any edit of the code: recomputed
    Evidence(tmp_path).get("f", compute, k=3)
    assert calls == [3, 4, 3]
    # the experiment memo: same rule, and values come back in the same form cold and warm (arrays, tuples, keys)
    import numpy as np

    def run(seed):
        calls.append(("run", seed))
        return {"a": np.arange(3, dtype=np.float32), "t": (1, 2), 5: float("nan")}
    memo.configure(tmp_path / "memo")
    try:
        cold, warm = memo.call(run, seed=1), memo.call(run, seed=1)
    finally:
        memo.configure(None)
    assert calls.count(("run", 1)) == 1
    for v in (cold, warm):
        assert v["a"].dtype == np.float32 and v["a"].tolist() == [0, 1, 2] and v["t"] == (1, 2) and np.isnan(v[5])


def test_evidence_cached_reads_without_computing(tmp_path):
    full = Evidence(tmp_path, fast=False)
    assert full.cached("x", a=1) is None  # nothing cached: nothing computed either
    assert full.get("x", lambda a: {"v": a}, a=1) == {"v": 1}
    assert Evidence(tmp_path, fast=False).cached("x", a=1) == {"v": 1}
    assert Evidence(tmp_path, fast=True).cached("x", a=1) is None  # a fast store does not read the full entry
    assert Evidence(tmp_path, fast=False).cached("x", check=lambda v: "wrong", a=1) is None


def _rows_of_every_claim() -> list[dict]:
    """Rows of the real claims with a placeholder outcome (the outline reads only id, slide and quote)."""
    return [C.row(c, Outcome("confirmed", "e")) for c in C.all_claims()]


def test_the_outline_holds_each_slide_once_per_part_in_the_seeds_order():
    from lecture.registry import slide_index

    rows = _rows_of_every_claim()
    parts = R.outline(rows)
    assert [k for k, _ in parts] == [k for k, _, _ in C.SECTIONS]
    placed = [r["id"] for _, slides in parts for _, rs in slides for r in rs]
    assert sorted(placed) == sorted(r["id"] for r in rows)  # every claim once
    for _, slides in parts:
        titles = [t for t, _ in slides]
        assert len(titles) == len(set(titles)), titles  # each slide once in its part
        first = [min(slide_index(r["slide"], r["quote"]) for r in rs) for _, rs in slides]
        assert first == sorted(first)  # in the seed's order
    # «Трюки» comes once, in the batch-norm part where the seed has it, though two of its claims are "other-"
    tricks = [k for k, slides in parts for t, _ in slides if t == "Трюки"]
    assert tricks == ["batchnorm"]


def test_each_derivation_is_printed_once_at_the_end_and_the_claims_link_to_it():
    rows = _rows_of_every_claim()
    names = sorted({r["derivation"] for r in rows if r["derivation"]})
    derivations = {n: f"### Title of {n} (`{n}`)\n\nbody of {n}" for n in names}
    md = R.render(rows, derivations=derivations)
    part = md.index("## Derivations")
    for n in names:
        assert md.count(f"body of {n}") == 1 and md.index(f"body of {n}") > part
        assert md.count(f'<a id="derivation-{n}"></a>') == 1 and f"](#derivation-{n})" in md[:part]
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert all(h.startswith("### «") for h in headings)  # the outline below the parts holds slides only
    assert len(headings) == sum(len(slides) for _, slides in R.outline(rows))  # one heading per outline entry


def test_every_figure_of_the_main_job_is_shown_once_per_slide_with_a_caption_in_both_languages():
    from figures.cli import default_names
    from lecture.captions import CAPTIONS, EXTRA, NOT_GRADED

    names = set(default_names())
    assert names <= set(CAPTIONS) and all(CAPTIONS[n]["en"] and CAPTIONS[n]["ru"] for n in CAPTIONS)
    rows = _rows_of_every_claim()
    titles = {r["slide"] for r in rows}
    assert all(place == NOT_GRADED or place in titles for place in EXTRA.values())
    for lang in ("en", "ru"):
        md = R.render(rows, derivations={}, lang=lang, figures=names)
        suffix = "" if lang == "en" else ".ru"
        for n in names:
            assert f"![{n}](figures/{n}{suffix}.png)" in md, n  # shown
            caption = CAPTIONS[n][lang] if lang == "en" else R.decimal_commas(CAPTIONS[n][lang])
            assert caption in md, n  # with its caption (Russian numbers with a decimal comma)
        for _, slides in R.outline(rows):
            for slide, rs in slides:
                shown = R.slide_figures(slide, rs, names)
                assert len(shown) == len(set(shown))
    # negative control: a figure that was not drawn is not shown
    md = R.render(rows, derivations={}, figures=names - {"train-growth"})
    assert "figures/train-growth.png" not in md
