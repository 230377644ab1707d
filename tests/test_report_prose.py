"""The report's prose has no leaks (lecture.prose): no Python reprs, no SymPy plain printing, no identifiers with
underscores and no LaTeX outside math. The default tests scan what needs no evaluation (quotes, statements, the
reasons of the ungraded statements, the derivations); the slow test scans a whole rendered report."""
from __future__ import annotations

import pytest

from lecture import claims as C
from lecture import report as R
from lecture.prose import english_runs, latin_share, leaks
from theory.text import pick


def _none(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in found.items() if v}


def test_the_scanner_finds_each_kind_of_leak():
    """Negative control: text with one leak of every kind is caught, kind by kind; the same math in delimiters and
    the same names in code spans are not."""
    bad = "at x in ['0'], None, Sum(x, (j, 1, m)) to -oo, x**2, n_in and \\frac{1}{4}"
    assert all(len(v) >= 1 for v in leaks(bad).values()), leaks(bad)
    good = "at $x = 0$, none, $\\sum_j x_j$ to $-\\infty$, $x^2$, $n_{in}$ and $\\frac{1}{4}$, `glorot_uniform`"
    assert _none(leaks(good)) == {}


def test_quotes_statements_and_reasons_have_no_leaks():
    for c in C.all_claims():
        assert _none(leaks(R.quote_markdown(c.quote))) == {}, c.id
        assert _none(leaks(R.quote_markdown(c.quote, inline=True))) == {}, c.id
        for lang in ("en", "ru"):
            assert _none(leaks(pick(c.statement, lang))) == {}, c.id
    for n in C.not_claims():
        for lang in ("en", "ru"):
            assert _none(leaks(pick(n.reason, lang))) == {}, n.id
    from lecture.captions import CAPTIONS

    for name, langs in CAPTIONS.items():
        for lang, caption in langs.items():
            assert _none(leaks(caption)) == {}, (name, lang)


def test_every_derivations_texts_read_without_leaks():
    """The words of every derivation (title, assumptions, each step's justification, references); the formulas are
    LaTeX from SymPy (the slow test scans the rendered derivations too)."""
    from theory.derivation import get, names, plain

    found = {}
    for n in names():
        d = get(n)  # built, not verified: the texts are data
        for lang in ("en", "ru"):
            texts = [pick(t, lang) for t in (d.title, *d.assumptions, *(s.why for s in d.steps))]
            found[n] = found.get(n, {}) | _none(leaks("\n\n".join(texts)))
            # the title in a <summary> (raw HTML: no math there) is plain text, subscripts as characters
            found[n] |= _none(leaks(R._subscripts(plain(pick(d.title, lang)))))
    assert {n: f for n, f in found.items() if f} == {}


# ------------------------------------------------------------------------------------------- the Russian edition
def test_the_english_scanner_finds_english_in_russian_prose_and_not_names_code_math_or_quotes():
    """Negative control: an English sentence in Russian prose is found; names, code, math, the slide's quotes and its
    «titles» are not; the Latin-word share counts words, not characters."""
    bad = "Дисперсия сохраняется: the variance is kept at every layer, как и на слайде."
    assert english_runs(bad) == ["the variance is kept at every layer"]
    good = ("Инициализация Glorot & Bengio для tanh в Keras и PyTorch: `glorot_uniform`, $\\operatorname{Var}(w) = "
            "\\frac{2}{n_{in} + n_{out}}$; слайд «Sigmoid activation».\n> Leaky ReLU activation is the slide's own")
    assert english_runs(good) == []
    assert latin_share("сеть ReLU") == 0.5 and latin_share("`code` $x$ «Batch norm (2015)»") == 0


def test_decimal_commas_in_russian_numbers_and_not_in_code_links_or_versions():
    d = R.decimal_commas("a 0.25 and [0.1, 0.2], [0, 0.5] $x = 0.5$ `f(0.5)` ![x](figures/a.ru.png) torch 2.13.0 1.0–1.3×")
    assert d == "a 0,25 and [0,1; 0,2], [0; 0,5] $x = 0{,}5$ `f(0.5)` ![x](figures/a.ru.png) torch 2.13.0 1,0–1,3×"
    # a slide's quote keeps its own decimal point
    assert R.decimal_commas("> лишь в 1.5 — 2 раза; ровно в 1.5 раза", keep=["лишь в 1.5 — 2 раза"]) == (
        "> лишь в 1.5 — 2 раза; ровно в 1,5 раза")


def test_the_words_inside_math_become_russian_but_never_the_slides_own():
    import re

    from lecture.registry import seed_text

    assert R.decimal_commas(r"$P(\text{off}) = 0.5$, $\text{for}\: x > 0$") == r"$P(\text{откл}) = 0{,}5$, $\text{при}\: x > 0$"
    in_seed = {w.strip() for w in re.findall(r"\\text\{([^{}]*)\}", seed_text())}
    assert in_seed and not in_seed & set(R.MATH_WORDS_RU)


def test_the_reports_own_words_are_russian_in_the_russian_edition():
    """The report's frame (headings, intro, banners, verdict words), the captions, the derivations' frame words and the
    method's sentences, in Russian: no English runs."""
    from lecture.captions import CAPTIONS
    from lecture.method import Effect
    from lecture.registry import effect_outcome
    from theory.derivation import _WORDS
    from theory.text import T

    frame = [w["ru"] for w in R.WORDS.values()] + [w["ru"] for w in R.VERDICT_WORDS.values()]
    frame += [c["ru"] for c in CAPTIONS.values()] + [str(w) for w in _WORDS["ru"].values()]
    for values, direction in (([1.0, 1.2, 0.9], "greater"), ([-1.0, 1.0, 0.1], "greater"), ([1.0, 1.1], "less")):
        out = effect_outcome(Effect(T("accuracy gap", "разность точностей"), direction), values, evidence=T("x", "х"))
        frame += [pick(t, "ru") for t in (out.evidence, out.condition, out.correction) if t]
    found = {t: english_runs(t) for t in frame if english_runs(t)}
    assert found == {}


def test_statements_reasons_and_derivations_have_their_russian_texts():
    """Every text that needs no evaluation, in Russian: the claims' statements, the ungraded statements' reasons, and
    every derivation's title, assumptions, justifications and conditions (the slow test reads the evaluated ones in a
    whole report)."""
    from theory.derivation import get, names

    texts = {c.id: pick(c.statement, "ru") for c in C.all_claims()}
    texts |= {n.id: pick(n.reason, "ru") for n in C.not_claims()}
    for n in names():
        d = get(n)  # built, not verified
        texts[n] = "\n\n".join(pick(t, "ru") for t in [d.title, *d.assumptions, *(s.why for s in d.steps),
                                                        *(s.under[2] for s in d.steps if s.under)])
    found = {k: english_runs(t) for k, t in texts.items() if english_runs(t)}
    assert found == {}


@pytest.mark.slow
def test_a_whole_report_has_no_leaks_and_the_russian_one_no_english():
    """Both editions of a whole (fast) report: no leaks; the Russian one has no English run in its prose, no decimal
    point in a prose number, and its Latin-word share (names such as ReLU, Keras) stays small."""
    import re

    from lecture.registry import Evidence
    from theory.derivation import get

    rows = [C.row(c, o) for c, o in C.evaluate_all(Evidence(fast=True))]
    names = sorted({r["derivation"] for r in rows if r["derivation"]})
    for lang in ("en", "ru"):
        md = R.render(rows, derivations={n: get(n).render("markdown", lang) for n in names}, lang=lang)
        assert _none(leaks(md)) == {}
        if lang == "ru":
            assert english_runs(md) == []
            from lecture.prose import russian_prose

            # the slides' words as they are, decimal points included: each quote's block, and its table cell (errata)
            assert all(f"> {R.quote_markdown(r['quote'])}\n" in md for r in rows)
            quotes = {R._cell(R.quote_markdown(r["quote"], inline=True)) for r in rows}
            ours = md
            for q in sorted(quotes, key=len, reverse=True):
                ours = ours.replace(q, " ")
            assert re.findall(r"(?<![\w.])\d+\.\d+(?![\w.]*\.\d)", russian_prose(ours)) == []
            assert latin_share(md, names=False) < LATIN_SHARE_MAX


#: the most Latin-script words that are not names (lecture.prose.NAMES) the Russian report's prose may hold, as a
#: share of its words: code-like names outside code spans (a derivation's name in its summary, `expit`). Measured on
#: the full report: 0.5 % (5.4 % with names such as ReLU, Keras, SymPy)
LATIN_SHARE_MAX = 0.01


def test_seed_counts_agree_in_number_and_case():
    """One helper for every «N зёрен» of the claims: the noun agrees with N, and after «из» / «около» (genitive)."""
    from lecture.registry import seeds_ru

    assert [seeds_ru(n) for n in (1, 2, 5, 11, 21)] == ["1 зерно", "2 зерна", "5 зёрен", "11 зёрен", "21 зерно"]
    assert [seeds_ru(n, paired=True) for n in (1, 3, 10)] == ["1 парное зерно", "3 парных зерна", "10 парных зёрен"]
    assert [seeds_ru(n, case="gen") for n in (1, 2, 21)] == ["1 зерна", "2 зёрен", "21 зерна"]
    assert seeds_ru(31, paired=True, case="gen") == "31 парного зерна"
