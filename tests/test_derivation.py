"""Verified derivations (theory.derivation): every registered one verifies and renders; wrong steps are caught.

Negative controls: a wrong equality, a wrong bound with a mismatched witness, a true bound SymPy cannot prove
without a witness, a strict bound that fails at one point, a sub-domain step checked without its sub-domain, and a
registered derivation with its bound 1/4 replaced by 1/5 must all fail, at the step that is wrong.
"""
from __future__ import annotations

import dataclasses
import functools
import re

import pytest
import sympy as sp

from theory import derivation as D
from theory.derivation import Derivation, Step
from theory.errors import SpecError
from theory.text import pick

x = sp.Symbol("x", real=True)
SIG = 1 / (1 + sp.exp(-x))
SIG_D = SIG * (1 - SIG)
NAMES = list(D.names())


@functools.lru_cache(maxsize=None)
def registered(name: str) -> Derivation:
    """One built-and-verified instance per name (Derivation caches its results); tests only read it."""
    return D.get(name)


def test_registry_lists_expected_derivations():
    names = D.names()
    for required in ("sigmoid-derivative", "tanh-derivative", "vanishing-gradient-bound", "leaky-relu-derivative",
                     "elu-derivative"):
        assert required in names
    assert all(isinstance(summary, str) and summary.strip() for summary in names.values())


#: verified in their own modules' default tests (test_init, test_finite_width, test_theory_batchnorm,
#: test_batchnorm_rate, test_theory_dropout, test_experiments_basic): here only in the slow run, which CI also runs
OWN_TESTS = {"lecture-uniform-inits", "xavier", "he", "zero-init-symmetry", "finite-width-relu", "batchnorm-backward",
             "finite-width-log-variance",
             "batchnorm-running-stats", "batchnorm-gradient-rate", "inverted-dropout", "dropout-ensemble",
             "dropout-l2-penalty", "dropout-variance-shift", "gd-quadratic-rate"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in OWN_TESTS else n for n in NAMES])
def test_registered_derivation_verifies(name):
    d = registered(name)
    assert isinstance(d, Derivation) and d.name == name
    results = d.verify()
    assert len(results) == len(d.steps) > 0
    assert [r.index for r in results] == list(range(1, len(d.steps) + 1))
    assert d.ok, f"{name}: step {d.first_failure().index} fails: {d.first_failure().detail}"
    assert d.first_failure() is None
    assert d.to_dict()["verified"] is True


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in OWN_TESTS else n for n in NAMES])
def test_renderings(name):
    d = registered(name)
    text = d.render("text")
    assert D.plain(pick(d.title, "en")) in text and f"[{name}]" in text  # inline math as plain characters
    assert "verified: all steps hold" in text and "NOT VERIFIED" not in text and "FAILED" not in text
    assert text.count("because ") == len(d.steps)

    md = d.render("markdown")
    assert md.startswith(f"### {pick(d.title, 'en')}") and f"`{name}`" in md
    assert md.count("✓") == len(d.steps) and "✗" not in md
    assert "**Verified.**" in md
    assert d._repr_markdown_() == md

    tex = d.render("latex")
    assert "\\begin{align*}" in tex and "\\end{align*}" in tex and pick(d.title, "en") in tex
    assert "FAILS" not in tex
    rows = tex.split("\\begin{align*}")[1].split("\\end{align*}")[0]
    assert rows.count("&& \\text{") == len(d.steps)  # one justification per row (cases/Piecewise may add \\\\)

    jup = d._repr_latex_()
    assert jup.startswith("$$") and jup.endswith("$$")
    assert "\\begin{aligned}" in jup and "\\end{aligned}" in jup and "align*" not in jup

    with pytest.raises(ValueError):
        d.render("pdf")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in OWN_TESTS else n for n in NAMES])
def test_latex_justifications_compile_in_text_mode(name):
    r"""Inside \text{...} LaTeX is in text mode, where ^ (and ~) are errors or wrong glyphs ("Missing $
    inserted"): the justification text must be escaped for them, like _ and & already are; its inline math
    ``$...$`` is math mode again, where they belong."""
    tex = registered(name).render("latex")
    for body in re.findall(r"\\text\{((?:[^{}]|\\\{|\\\})*)\}", tex):
        body = re.sub(r"(?<!\\)\$[^$]*(?<!\\)\$", "", body)
        unescaped = re.findall(r"(?<!\\)[\^~]", body)
        assert not unescaped, f"{name}: unescaped {unescaped} in \\text{{{body}}}"


def test_texts_with_inline_math_in_each_format():
    """A text is Markdown prose: its ``$...$`` stays math inside \\text{} (LaTeX), its prose is escaped, its code
    spans are typewriter; the terminal shows the math as plain characters and the code without backticks."""
    why = r"so $\sigma' = \sigma(1 - \sigma) \le \frac{1}{4}$ at 50% for `fan_in` & $n_{in}$"
    assert D._latex_text(why) == (r"so $\sigma' = \sigma(1 - \sigma) \le \frac{1}{4}$ at 50\% for "
                                  r"$\texttt{fan\_in}$ \& $n_{in}$")
    assert D.plain(why) == "so σ' = σ(1 - σ) ≤ 1/4 at 50% for fan_in & n_in"
    assert D._math_text("for $x > 0$") == r"\text{for }x > 0"
    d = Derivation("t", "Texts of $L = 2$ units", [Step(lhs=x, rhs=x, why=why, under=(x, x, "$x > 0$"))])
    assert "Texts of L = 2 units" in d.render("text") and "because " + D.plain(why) in d.render("text")
    assert f"| {why} |" in d.render("markdown") and r"\quad \text{for }x > 0$" in d.render("markdown")
    assert r"\text{" + D._latex_text(why) + "}" in d.render("latex")


# ------------------------------------------------------------------------------------------------ negative controls
def test_wrong_equality_fails_at_its_step():
    d = Derivation("wrong", "A wrong derivative", [
        Step(lhs=sp.Derivative(SIG, x), rhs=sp.exp(-x) / (1 + sp.exp(-x)) ** 2, why="chain rule"),
        Step(lhs=sp.Derivative(SIG, x), rhs=SIG * (1 + SIG), why="wrong on purpose"),
        Step(lhs=SIG_D, rel="<=", rhs=sp.Rational(1, 4), witness=(SIG - sp.Rational(1, 2)) ** 2, why="square"),
    ])
    assert not d.ok
    failure = d.first_failure()
    assert failure.index == 2 and not failure.ok
    assert "is not 0" in failure.detail
    assert [r.ok for r in d.verify()] == [True, False, True]


def test_correct_equality_passes_same_structure():
    """Positive twin of the control above: only the wrong sign made it fail."""
    d = Derivation("right", "The derivative", [
        Step(lhs=sp.Derivative(SIG, x), rhs=SIG * (1 - SIG), why="sigma(1 - sigma)")])
    assert d.ok


def test_wrong_bound_with_mismatched_witness_fails():
    d = Derivation("wrong-bound", "sigma' <= 1/5", [
        Step(lhs=SIG_D, rel="<=", rhs=sp.Rational(1, 5), witness=(SIG - sp.Rational(1, 2)) ** 2, why="square")])
    assert not d.ok
    assert d.first_failure().index == 1
    assert "witness" in d.first_failure().detail and "does not equal" in d.first_failure().detail


def test_witness_that_is_not_nonnegative_fails():
    """x <= x + sin(x) is false; the witness equals the gap sin(x) but is not non-negative."""
    d = Derivation("w", "w", [Step(lhs=x, rel="<=", rhs=x + sp.sin(x), witness=sp.sin(x), why="bogus")])
    assert not d.ok and "not provably" in d.first_failure().detail


def test_true_bound_without_witness_is_not_taken_on_faith():
    d = Derivation("nowitness", "sigma' <= 1/4 without a witness", [
        Step(lhs=SIG_D, rel="<=", rhs=sp.Rational(1, 4), why="trust me")])
    assert not d.ok
    assert d.first_failure().index == 1 and "cannot prove" in d.first_failure().detail


def test_strict_bound_false_at_one_point_fails():
    """sigma' < 1/4 fails at x = 0; the witness (sigma - 1/2)^2 is only non-negative, not positive."""
    d = Derivation("strict", "sigma' < 1/4", [
        Step(lhs=SIG_D, rel="<", rhs=sp.Rational(1, 4), witness=(SIG - sp.Rational(1, 2)) ** 2, why="square")])
    assert not d.ok
    d_nonstrict = Derivation("nonstrict", "sigma' <= 1/4", [
        Step(lhs=SIG_D, rel="<=", rhs=sp.Rational(1, 4), witness=(SIG - sp.Rational(1, 2)) ** 2, why="square")])
    assert d_nonstrict.ok


def test_subdomain_step_needs_its_subdomain():
    xp = sp.Symbol("x", positive=True)
    with_domain = Derivation("abs", "|x| = x for x > 0", [
        Step(lhs=sp.Abs(x), rhs=x, under=(x, xp, "x > 0"), why="positive")])
    without = Derivation("abs", "|x| = x", [Step(lhs=sp.Abs(x), rhs=x, why="forgot the domain")])
    assert with_domain.ok
    assert not without.ok and without.first_failure().index == 1


def test_registered_derivation_with_perturbed_bound_fails_at_that_step():
    original = registered("sigmoid-derivative")
    steps = list(original.steps)
    (k,) = [i for i, s in enumerate(steps) if s.rel == "<=" and s.rhs == sp.Rational(1, 4)]
    steps[k] = dataclasses.replace(steps[k], rhs=sp.Rational(1, 5))
    perturbed = Derivation(original.name, original.title, steps, list(original.assumptions))
    copy = Derivation(original.name, original.title, list(original.steps), list(original.assumptions))
    assert copy.ok  # the copy itself verifies: the failure below is the perturbation's
    assert not perturbed.ok
    assert perturbed.first_failure().index == k + 1
    assert [r.ok for i, r in enumerate(perturbed.verify()) if i != k] == [True] * (len(steps) - 1)

    text = perturbed.render("text")
    assert f"NOT VERIFIED: step {k + 1} fails" in text and "FAILED" in text
    assert "verified: all steps hold" not in text
    md = perturbed.render("markdown")
    assert "✗" in md and f"Not verified: step {k + 1} fails" in md
    assert "(FAILS)" in perturbed.render("latex")
    assert perturbed.to_dict()["verified"] is False
    assert perturbed.to_dict()["steps"][k]["ok"] is False


def test_perturbed_product_bound_fails():
    """The vanishing-gradient bound is checked by a callable: (1/5)^(L-1) instead of (1/4)^(L-1) must fail."""
    original = registered("vanishing-gradient-bound")
    steps = list(original.steps)
    last = steps[-1]
    steps[-1] = dataclasses.replace(last, rhs=last.rhs * sp.Rational(4, 5) ** 3)
    perturbed = Derivation(original.name, original.title, steps)
    assert not perturbed.ok and perturbed.first_failure().index == len(steps)
    assert "not" in perturbed.first_failure().detail


def test_failing_check_callable_and_exceptions_are_reported():
    d = Derivation("cb", "callable", [
        Step(lhs=x, rhs=x, why="refused", check=lambda lhs, rhs: (False, "no")),
        Step(lhs=x, rhs=x, why="raises", check=lambda lhs, rhs: 1 / 0),
        Step(lhs=x, rhs=x, why="fine")])
    assert [r.ok for r in d.verify()] == [False, False, True]
    assert d.verify()[1].detail.startswith("check raised ZeroDivisionError")


def test_malformed_steps_rejected():
    with pytest.raises(ValueError):
        Step(rhs=x, why="?", rel="~")
    with pytest.raises(ValueError):
        Derivation("orphan", "no lhs", [Step(rhs=x, why="continues nothing")]).verify()


def test_duplicate_registration_refused():
    with pytest.raises(ValueError):
        D.derivation("sigmoid-derivative", "again")(lambda: None)
    assert D.names()["sigmoid-derivative"] != "again"  # the registry is unchanged


# ------------------------------------------------------------------------------------------------ lookup
def test_unknown_name():
    with pytest.raises(SpecError) as info:
        D.get("no-such")
    assert "'no-such'" in str(info.value) and "\n" not in str(info.value)


def test_near_miss_suggestion():
    with pytest.raises(SpecError) as info:
        D.get("sigmoid-derivativ")
    assert "did you mean 'sigmoid-derivative'" in str(info.value)
    with pytest.raises(SpecError) as info:
        D.get("tanh-derivatve")
    assert "'tanh-derivative'" in str(info.value)


def test_no_displayed_step_is_a_tautology():
    """Each displayed step shows a transformation or a comparison: its two sides never print the same (X = X says
    nothing; a comparison with the slide puts the slide's expression on one side and the computed one on the
    other, with = or ≠). Negative control: a step X = X is caught."""
    from theory.derivation import Derivation, Step, get, names
    from theory.latex import latex

    def tautologies(d):
        return [i + 1 for i, lhs, step in d._pairs() if latex(lhs) == latex(step.rhs)]
    x = sp.Symbol("x")
    assert tautologies(Derivation("t", "T", [Step(lhs=2 * x, rhs=2 * x, why="same")])) == [1]
    found = {n: tautologies(get(n)) for n in names()}
    assert {n: s for n, s in found.items() if s} == {}
