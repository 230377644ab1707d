"""The report's prose has no leaks (lecture.prose): no Python reprs, no SymPy plain printing, no identifiers with
underscores and no LaTeX outside math. The default tests scan what needs no evaluation (quotes, statements, the
reasons of the ungraded statements, the derivations); the slow test scans a whole rendered report."""
from __future__ import annotations

import pytest

from lecture import claims as C
from lecture import report as R
from lecture.prose import leaks


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
        assert _none(leaks(c.statement)) == {}, c.id
    for n in C.not_claims():
        assert _none(leaks(n.reason)) == {}, n.id
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
        texts = [d.title, *d.assumptions, *(s.why for s in d.steps)]
        found[n] = _none(leaks("\n\n".join(texts)))
        # the title in a <summary> (raw HTML: no math there) is plain text, subscripts as characters
        found[n] |= _none(leaks(R._subscripts(plain(d.title))))
    assert {n: f for n, f in found.items() if f} == {}


@pytest.mark.slow
def test_a_whole_report_has_no_leaks():
    from lecture.registry import Evidence
    from theory.derivation import get

    rows = [C.row(c, o) for c, o in C.evaluate_all(Evidence(fast=True))]
    names = sorted({r["derivation"] for r in rows if r["derivation"]})
    for lang in ("en", "ru"):
        md = R.render(rows, derivations={n: get(n).render("markdown") for n in names}, lang=lang)
        assert _none(leaks(md)) == {}
