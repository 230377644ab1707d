"""Dropout (Srivastava et al. 2014) as on the lecture's slides, exactly: identities, the slides' p, ensembles,
the implicit L2 penalty and the variance shift before batch norm, each derived or checked with SymPy.

Convention: p is the KEEP probability. Each unit's mask is D ~ Bernoulli(p), the slides' «D ~ iid Bern(p)» with
o_i = f(.) with probability p and 0 with probability 1 - p. PyTorch's ``nn.Dropout(p=q)`` and Keras'
``Dropout(rate=q)`` take the DROP probability q = 1 - p (:func:`keep_from_torch`, :func:`keep_from_keras`,
:func:`torch_p`, :func:`keras_rate`; :func:`check_keep` rejects p outside (0, 1]). Both libraries implement
inverted dropout: train o = D f / p, test o = f.

Expectations over masks are exact two-point sums E[g(D)] = p g(1) + (1 - p) g(0), over several independent masks
the sum over all 2^n masks weighted by p^k (1 - p)^(n - k) (:func:`expect_masks`): a Bernoulli variable takes only
the values 0 and 1, so this is the definition of its expectation, independence is the product weight, and no
integration or ``sympy.stats`` joint-space machinery is needed for many masks. Single-mask identities are stated
with ``sympy.stats.Bernoulli`` (rendered as ``Expectation(...)``, evaluated by the derivation's check), which
cross-checks the two-point sums. Expectations over an activation a independent of D use only its moments
E[a] = c, E[a^2] = c^2 + v (:func:`expect_independent`), so they hold for any distribution of a.

Results (registered derivations, ``python -m theory show NAME``):

* ``inverted-dropout``: E[D f] = p f, E[D f / p] = f, Var(D f / p) = f^2 (1 - p)/p, E[(D a/p)^2] = E[a^2]/p; the
  backward pass of o = D f(h) is d_prev = (D * f'(h) * d) W^T (row convention h = x W + b, the slide's
  «d = D · f'(h) · W · d» up to the order of factors), with D/p for inverted dropout; 2^n masks; and the slides'
  four statements about p checked against each other (:func:`check_slide_p`): «С вероятностью p отключаем
  нейрон» says P(off) = p, the three formulas say P(off) = 1 - p; they agree only at p = 1/2.
* ``dropout-ensemble``: for a LINEAR layer the probability-weighted mean over all 2^n masks is exactly the
  weight-scaled layer (p W x; W x for inverted dropout), explicitly for n = 1..4 and by linearity for any n; for
  a nonlinear unit it is not (already (.)^2 differs by p(1 - p) sum w_i^2 x_i^2; the size of the gap for real
  networks is measured in sims). For one sigmoid unit the normalized weighted geometric mean of the ensemble is
  sigma(p sum w_i x_i) exactly (Baldi & Sadowski 2013), n = 1..3.
* ``dropout-l2-penalty``: for linear regression with inverted dropout on the inputs,
  E_D sum_i (y_i - sum_j D_ij x_ij w_j / p)^2 = ||y - X w||^2 + ((1 - p)/p) sum_j w_j^2 sum_i x_ij^2
  (Wager, Wang & Liang 2013): an L2 penalty weighted by the column norms.
* ``dropout-variance-shift``: a unit's input a (mean c, variance v) through inverted dropout has variance
  (c^2 + v)/p - c^2 in training and v at test; the ratio p v / (v + (1 - p) c^2) <= 1 (= 1 iff p = 1 for c != 0)
  is the variance shift that a following batch norm's running variance does not see (Li, Chen, Hu & Yang 2019).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy import stats
from sympy.printing.precedence import PRECEDENCE

from theory.derivation import Derivation, Step, derivation
from theory import functions
from theory import validate
from theory.errors import SpecError
from theory.text import T, plural_ru

p = sp.Symbol("p", positive=True)  # keep probability, 0 < p <= 1
q = sp.Symbol("q", positive=True)  # an unknown P(on), solved for in the slide check
f = sp.Symbol("f", real=True)  # a unit's activation f(XW + b), fixed while the mask is drawn
a = sp.Symbol("a", real=True)  # a random activation independent of the mask
c = sp.Symbol("c", real=True)  # E[a]
v = sp.Symbol("v", positive=True)  # Var(a)
r = sp.Symbol("r", nonnegative=True)  # drop probability 1 - p, for the sub-domain 0 < p <= 1
h = sp.Symbol("h", real=True)
D = sp.Symbol("D", nonnegative=True)  # one sampled mask value (0 or 1), a constant of the backward pass
E = sp.Function("E")  # an expectation, left unevaluated for display; the step's check computes it
F = sp.Function("f")
_MAX_MASK_UNITS = 24

# --------------------------------------------------------------------------------------------- closed forms
#: E[D f] (the slides' test output p f), E[D f / p], Var(D f / p), E[(D/p)^2], Var(D/p): the single source of these
#: formulas; the derivation checks each one, numbers come from them.
MEAN_PLAIN = p * f
MEAN_INVERTED = f
VAR_INVERTED = f**2 * (1 - p) / p
SECOND_MOMENT_MASK = 1 / p
PENALTY_FACTOR = (1 - p) / p
VAR_TRAIN = (c**2 + v) / p - c**2
VAR_TEST = v
VAR_RATIO = p * v / (v + (1 - p) * c**2)


# ------------------------------------------------------------------------------------------------ convention
def check_keep(keep):
    """Return ``keep`` if it is a keep probability in (0, 1]; else raise :class:`SpecError` (one line)."""
    hint = ("p is the KEEP probability (the slides' D ~ Bern(p)); from torch.nn.Dropout(p=q) or "
            "keras.layers.Dropout(rate=q) use keep = 1 - q")
    if isinstance(keep, bool):
        raise SpecError(f"keep probability must be a number in (0, 1], got {keep!r}: {hint}")
    try:
        ok = bool(0 < keep <= 1)
    except (TypeError, ValueError):  # not comparable, or an array
        raise SpecError(f"keep probability must be a number in (0, 1], got {keep!r}: {hint}") from None
    if not ok:
        raise SpecError(f"keep probability must be in (0, 1], got {keep!r}: {hint}")
    return keep


def _check_drop(q_drop, who: str):
    if isinstance(q_drop, bool):
        raise SpecError(f"{who} must be a number in [0, 1), got {q_drop!r}")
    try:
        ok = bool(0 <= q_drop < 1)
    except (TypeError, ValueError):
        raise SpecError(f"{who} must be a number in [0, 1), got {q_drop!r}") from None
    if not ok:
        raise SpecError(f"{who} is the DROP probability and must be in [0, 1) (keep = 1 - it > 0), got {q_drop!r}")
    return q_drop


def keep_from_torch(p_drop):
    """Keep probability from ``torch.nn.Dropout(p=p_drop)`` (torch's p is the drop probability): 1 - p_drop."""
    return check_keep(1 - _check_drop(p_drop, "torch.nn.Dropout's p"))


def keep_from_keras(rate):
    """Keep probability from ``keras.layers.Dropout(rate=rate)`` (the drop probability): 1 - rate."""
    return check_keep(1 - _check_drop(rate, "keras Dropout's rate"))


def torch_p(keep):
    """The ``p`` to pass to ``torch.nn.Dropout`` for keep probability ``keep``: 1 - keep."""
    return 1 - check_keep(keep)


def keras_rate(keep):
    """The ``rate`` to pass to ``keras.layers.Dropout`` for keep probability ``keep``: 1 - keep."""
    return 1 - check_keep(keep)


# ------------------------------------------------------------------------------------------- expectations
def mask_probability(mask: Sequence[int], keep=p):
    """P(mask) = keep^k (1 - keep)^(n - k), k the number of kept units (independent Bernoulli(keep) masks)."""
    k = sum(int(m) for m in mask)
    return keep**k * (1 - keep) ** (len(mask) - k)


def expect_masks(expr: sp.Expr, mask_symbols: Sequence[sp.Symbol], keep=p, *, unevaluated: bool = False) -> sp.Expr:
    """E over independent Bernoulli(keep) masks, exactly: sum over all 2^n masks of P(mask) * expr(mask)
    (left unsimplified, so a step shows the enumeration and its check simplifies it; ``unevaluated`` keeps even
    the products, P(mask) * 0 included, for display)."""
    terms = []
    for mask in itertools.product((0, 1), repeat=len(mask_symbols)):
        value = sp.sympify(expr).subs(dict(zip(mask_symbols, mask)))
        terms.append(sp.Mul(mask_probability(mask, keep), value, evaluate=not unevaluated))
    return sp.Add(*terms, evaluate=not unevaluated)


def expect_independent(expr: sp.Expr, moments: dict[sp.Symbol, Callable[[int], sp.Expr]]) -> sp.Expr:
    """E[expr] for expr polynomial in independent random symbols, monomial by monomial:
    E[prod_X X^k_X] = prod_X E[X^k_X], with ``moments[X](k)`` = E[X^k] (k >= 1)."""
    gens = list(moments)
    poly = sp.Poly(sp.expand(expr), *gens)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        term = coeff
        for g, k in zip(gens, powers):
            if k:
                term *= moments[g](k)
        total += term
    return sp.simplify(total)


def mask_moment(k: int, keep=p) -> sp.Expr:
    """E[D^k] for D ~ Bernoulli(keep), by the two-point sum keep * 1^k + (1 - keep) * 0^k."""
    return keep * sp.Integer(1) ** k + (1 - keep) * sp.Integer(0) ** k


def activation_moment(k: int, mean=c, var=v) -> sp.Expr:
    """E[a^k] for k = 1, 2 from the mean and variance alone (no distribution assumed)."""
    if k == 1:
        return mean
    if k == 2:
        return mean**2 + var
    raise ValueError(f"only the first two moments of a are specified (asked for E[a^{k}])")


def _moments(mask_syms=(D,)):
    out = {s: mask_moment for s in mask_syms}
    out[a] = activation_moment
    return out


def _expect_check(moments):
    """A step check: E(expr) on the left is computed by :func:`expect_independent` and compared with the right."""
    def check(lhs, rhs):
        value = _eval_E(lhs, moments)
        diff = sp.simplify(value - rhs)
        return diff == 0, (f"E computed monomial by monomial (independence, E[D^k] = p, E[a] = c, E[a^2] = c^2 + v): "
                           f"{sp.sstr(value)}" + ("" if diff == 0 else f"; differs by {sp.sstr(diff)}"))
    return check


def _expect_both_check(moments):
    """A step check: E(...) on both sides computed by :func:`expect_independent`, then compared."""
    def check(lhs, rhs):
        left, right = _eval_E(lhs, moments), _eval_E(rhs, moments)
        diff = sp.simplify(left - right)
        return diff == 0, (f"both sides computed monomial by monomial (independence, E[D^k] = p, E[a] = c, "
                           f"E[a^2] = c^2 + v): {sp.sstr(left)}"
                           + ("" if diff == 0 else f"; differs by {sp.sstr(diff)}"))
    return check


def _eval_E(e, moments):
    return sp.sympify(e).replace(lambda t: isinstance(t, sp.Function) and t.func == E,
                                 lambda t: expect_independent(t.args[0], moments))


# ----------------------------------------------------------------------------------------- backward pass
FPRIME = sp.Symbol("f'(h)")
DELTA = sp.Symbol("d")
#: The slide «Dropout в формулах», backward pass: (forward as written, its output per unit as a multiplier of
#: f(h_k) in the mask symbol D, the backward's element-wise factors; W is contracted, order of factors aside).
SLIDE_BACKWARD: tuple[tuple[str, str, sp.Expr, tuple[sp.Symbol, ...]], ...] = (
    (r"$o = f(X \cdot W + b)$", r"$d = f'(h) \cdot W \cdot d$", sp.Integer(1), (FPRIME, DELTA)),
    (r"$o = D \cdot f(X \cdot W + b)$", r"$d = D \cdot f'(h) \cdot W \cdot d$", D, (D, FPRIME, DELTA)),
)


@lru_cache(maxsize=8)
def _layer(n_in: int = 2, n_out: int = 2):
    xs = sp.symbols(f"x1:{n_in + 1}", real=True)
    W = sp.ImmutableMatrix(n_in, n_out, lambda j, k: sp.Symbol(f"W{j + 1}{k + 1}", real=True))
    bs = sp.symbols(f"b1:{n_out + 1}", real=True)
    Ds = sp.symbols(f"D1:{n_out + 1}", nonnegative=True)
    ds = sp.symbols(f"d1:{n_out + 1}", real=True)
    hs = tuple(sum(xs[j] * W[j, k] for j in range(n_in)) + bs[k] for k in range(n_out))
    return xs, W, bs, Ds, ds, hs


def _fprime(u):
    z = sp.Dummy("z")
    return sp.diff(F(z), z).subs(z, u)


def chain_rule_backward(multiplier: sp.Expr, n_in: int = 2, n_out: int = 2) -> sp.ImmutableMatrix:
    """dL/dx (a row) for o_k = multiplier(D_k) f(h_k), h = x W + b, L = sum_k d_k o_k (d = dL/do upstream), as
    unevaluated derivatives: the check differentiates (``doit``)."""
    xs, W, bs, Ds, ds, hs = _layer(n_in, n_out)
    loss = sum(ds[k] * sp.sympify(multiplier).subs(D, Ds[k]) * F(hs[k]) for k in range(n_out))
    return sp.ImmutableMatrix([[sp.Derivative(loss, xj) for xj in xs]])


def backward_formula(factors: Sequence[sp.Expr], n_in: int = 2, n_out: int = 2) -> sp.ImmutableMatrix:
    """The row (prod of element-wise factors over the output units) W^T; factors in D, f'(h), d (and p)."""
    xs, W, bs, Ds, ds, hs = _layer(n_in, n_out)
    row = [sp.Mul(*[sp.sympify(fac).subs({D: Ds[k], FPRIME: _fprime(hs[k]), DELTA: ds[k]}) for fac in factors])
           for k in range(n_out)]
    return sp.ImmutableMatrix([row]) * W.T


def _matrix_check(lhs, rhs):
    diff = (sp.ImmutableMatrix(lhs).doit() - sp.ImmutableMatrix(rhs).doit()).applyfunc(sp.simplify)
    ok = all(e == 0 for e in diff)
    return ok, "sympy.diff of the forward pass equals the formula, entry by entry" if ok else \
        f"they differ by {sp.sstr(diff)}"


def check_slide_backward() -> list[dict]:
    """Each backward line of the slide against the chain rule of its own forward pass (explicit 2 -> 2 layer):
    the line's element-wise factors times W^T versus sympy.diff of L = sum_k d_k o_k."""
    out = []
    for fwd, line, mult, factors in SLIDE_BACKWARD:
        ok, detail = _matrix_check(chain_rule_backward(mult), backward_formula(factors))
        out.append({"forward": fwd, "backward": line, "correct": ok, "detail": detail})
    return out


# ---------------------------------------------------------------------------------- the slides' p, checked
@dataclass(frozen=True)
class PStatement:
    """One statement of the slides about p, transcribed. ``kind`` says how to read ``data``:

    * ``"off"``: (P(neuron off),), stated directly;
    * ``"cases"``: ((value, probability), ...), the distribution of the output o_i given f;
    * ``"test_expectation"``: (t,), the test output o = t f is the expectation of the train output o = D f;
    * ``"inverted"``: (s, t), train o = s D f and test o = t f, test = E[train] (unbiased).
    """

    key: str
    slide: str
    quote: str
    kind: str
    data: tuple


SLIDE_P_STATEMENTS: tuple[PStatement, ...] = (
    PStatement("a", "Dropout", "С вероятностью $p$ отключаем нейрон", "off", (p,)),
    PStatement("b", "Dropout в формулах",
               r"$D \sim$ iid $\mathrm{Bern}(p)$; $o_i = D_i f(w x_i^T + b) = f$ with $p$, 0 with $1 - p$",
               "cases", ((f, p), (sp.Integer(0), 1 - p))),
    PStatement("c", "Dropout / Обратный Dropout",
               r"на тесте ищем математическое ожидание: $o = p \cdot f(X \cdot W + b)$", "test_expectation", (p,)),
    PStatement("d", "Обратный Dropout",
               r"train: $o = (1/p) \cdot D \cdot f(X \cdot W + b)$; test: $o = f(X \cdot W + b)$",
               "inverted", (1 / p, sp.Integer(1))),
)


#: the Russian text of a transcription that paraphrases a slide's formula in words (the others are the slides' own)
_QUOTE_RU = {"b": r"$D \sim$ iid $\mathrm{Bern}(p)$; $o_i = D_i f(w x_i^T + b) = f$ с вероятностью $p$, 0 с "
                  r"вероятностью $1 - p$"}


def _train_mean(scale) -> sp.Expr:
    """E[scale * D f] with D ~ Bernoulli(q), q = P(on) unknown (two-point sum)."""
    return expect_masks(scale * D * f, [D], keep=q)


def _solve_on(stmt: PStatement) -> sp.Expr:
    """P(on) implied by an expectation statement: solve E[train] = test for q."""
    if stmt.kind == "test_expectation":
        scale, test = sp.Integer(1), stmt.data[0] * f
    else:
        scale, test = stmt.data[0], stmt.data[1] * f
    sol = sp.solve(sp.Eq(_train_mean(scale), test), q)
    if len(sol) != 1:
        raise ValueError(f"({stmt.key}): E[train] = test has {len(sol)} solutions for P(on): {sol}")
    return sp.simplify(sol[0])


def implied_p_off(stmt: PStatement) -> tuple[sp.Expr, str]:
    """P(neuron off) implied by one transcribed statement, computed from its data, and how it was read."""
    if stmt.kind == "off":
        return sp.sympify(stmt.data[0]), "stated: P(off) = " + sp.sstr(stmt.data[0])
    if stmt.kind == "cases":
        zero = [prob for value, prob in stmt.data if sp.simplify(value) == 0]
        total = sp.simplify(sum(prob for _, prob in stmt.data))
        if total != 1:
            raise ValueError(f"({stmt.key}): the probabilities sum to {total}, not 1")
        off = sp.simplify(sum(zero))
        return off, "P(o_i = 0), the probability of the case 0"
    if stmt.kind in ("test_expectation", "inverted"):
        on = _solve_on(stmt)
        return sp.simplify(1 - on), f"E[train output] = test output solved for P(on): P(on) = {sp.sstr(on)}"
    raise ValueError(f"unknown statement kind {stmt.kind!r}")


_UNIT = sp.Interval.Lopen(0, 1)


def check_slide_p() -> dict:
    """The slides' statements about p (:data:`SLIDE_P_STATEMENTS`), each read as the P(neuron off) it implies;
    statements are consistent when these are equal for every p in (0, 1] (rational functions of p: equal on the
    interval iff identical); for each pair of inconsistent groups, the p in (0, 1] where they coincide."""
    statements, offs = {}, {}
    for s in SLIDE_P_STATEMENTS:
        off, how = implied_p_off(s)
        offs[s.key] = off
        statements[s.key] = {"slide": s.slide, "quote": s.quote, "p_off": off, "p_on": sp.simplify(1 - off),
                             "reading": how}
    groups: list[list[str]] = []
    for key, off in offs.items():
        for g in groups:
            if sp.simplify(offs[g[0]] - off) == 0:
                g.append(key)
                break
        else:
            groups.append([key])
    disagreements = []
    for ga, gb in itertools.combinations(groups, 2):
        ea, eb = offs[ga[0]], offs[gb[0]]
        disagreements.append({"groups": (tuple(ga), tuple(gb)), "p_off": (ea, eb),
                              "difference": sp.factor(ea - eb),
                              "agree_at": sp.solveset(sp.simplify(ea - eb), p, _UNIT)})
    consistent = len(groups) == 1
    if consistent:
        verdict = f"consistent: every statement implies P(off) = {sp.sstr(offs[groups[0][0]])}"
    else:
        parts = []
        for d in disagreements:
            (ga, gb), (ea, eb), where = d["groups"], d["p_off"], d["agree_at"]
            at = ("never on (0, 1]" if where == sp.S.EmptySet else
                  f"only at p = {', '.join(sp.sstr(z) for z in where)}" if isinstance(where, sp.FiniteSet) else
                  f"on {sp.sstr(where)}")
            parts.append(f"{_names(ga)} P(off) = {sp.sstr(ea)} vs {_names(gb)} P(off) = {sp.sstr(eb)}, equal {at}")
        verdict = "inconsistent: " + "; ".join(parts)
    return {"statements": statements, "groups": [tuple(g) for g in groups], "disagreements": disagreements,
            "consistent": consistent, "verdict": verdict}


def _names(keys) -> str:
    return ", ".join(f"({k})" for k in keys)


def _agree_check(diff, where):
    def check(lhs, rhs):
        found = sp.solveset(sp.simplify(diff), p, _UNIT)
        ok = found == where and sp.simplify((lhs - rhs).doit()) == 0
        return ok, f"solveset(difference = 0, p, (0, 1]) = {sp.sstr(found)}; the difference vanishes there"
    return check


def _differ_check(where):
    """A step check for ``lhs != rhs`` between two readings of the slides, rational functions of p: the difference
    is not identically 0 on (0, 1], and it vanishes exactly on ``where`` (solveset, recomputed)."""
    def check(lhs, rhs):
        diff = sp.factor(sp.simplify((sp.sympify(lhs) - rhs).doit()))
        found = sp.solveset(diff, p, _UNIT)
        ok = diff != 0 and found != _UNIT and found == where
        zeros = "nowhere" if found == sp.S.EmptySet else f"only at p in {sp.sstr(found)}"
        return ok, f"lhs - rhs = {sp.sstr(diff)} is not identically 0: on (0, 1] it vanishes {zeros}"
    return check


class _Dot(sp.Function):
    r"""``a · b`` kept unevaluated for the blackboard (``p \cdot 1 + (1 - p) \cdot 0``: a probability times a
    value, where SymPy would print ``p 1`` or drop the term); ``doit()`` multiplies."""

    nargs = 2

    def doit(self, **hints):
        return sp.Mul(*(arg.doit(**hints) for arg in self.args))

    def _latex(self, printer):
        return r" \cdot ".join(printer.parenthesize(arg, PRECEDENCE["Mul"], strict=True) for arg in self.args)

    def _sympystr(self, printer):
        return "*".join(printer.parenthesize(arg, PRECEDENCE["Mul"], strict=True) for arg in self.args)


class _Group(sp.Function):
    """``(x)`` kept as a group for the blackboard (``p + (1 - p)``, where SymPy prints ``p - (p - 1)``); ``doit()``
    is x."""

    nargs = 1

    def doit(self, **hints):
        return self.args[0].doit(**hints)

    def _latex(self, printer):
        return r"\left(" + printer._print(self.args[0]) + r"\right)"

    def _sympystr(self, printer):
        return "(" + printer._print(self.args[0]) + ")"


def _two_point(g: sp.Expr, keep=p) -> sp.Expr:
    """E[g(D)] over one mask as written on the blackboard: P(on) · g(1) + P(off) · g(0), unevaluated."""
    g = sp.sympify(g)
    return sp.Add(_Dot(keep, g.subs(D, 1)), _Dot(1 - keep, g.subs(D, 0)), evaluate=False)


def _masked_sum(n: int, *, scale=sp.Integer(1), phi: Callable[[sp.Expr], sp.Expr] = lambda z: z) -> sp.Expr:
    """The mean over all 2^n masks of phi(scale * sum_i D_i w_i x_i) written out mask by mask: the sum of
    P(mask) · phi(scale (w_1 x_1 · m_1 + ...)), each mask value shown (the check evaluates it)."""
    w, x, _ = _unit_symbols(n)
    terms = []
    for mask in itertools.product((1, 0), repeat=n):
        z = sp.Add(*(_Dot(wi * xi, sp.Integer(m)) for wi, xi, m in zip(w, x, mask)), evaluate=False)
        terms.append(_Dot(mask_probability(mask), phi(scale * z)))
    return sp.Add(*terms, evaluate=False)


def _p_text(where) -> str:
    r"""The p of (0, 1] in ``where`` as inline math: ``$p = 1/2$``, ``$p \in \{...\}$``."""
    from theory.latex import latex

    pts = sorted(where, key=sp.default_sort_key)
    return f"$p = {latex(pts[0])}$" if len(pts) == 1 else \
        "$p \\in \\{" + ", ".join(latex(z) for z in pts) + "\\}$"


def _slide_p_steps() -> list[Step]:
    r"""The slides' statements about p on the blackboard. Each expectation statement ((c), (d)): its train output
    averaged over the mask with the P(on) it implies, against its test output. The reference is the first
    statement of the largest group that agrees; a statement of the group that does not show an expectation is
    compared by the mean output it implies. A statement outside the group: its P(off) against the reference's,
    ``!=`` (the difference is not identically 0), and the p where they coincide."""
    from theory.latex import latex

    res = check_slide_p()
    ref_group = max(res["groups"], key=len)
    ref = ref_group[0]
    off_ref = res["statements"][ref]["p_off"]
    on_ref = sp.simplify(1 - off_ref)
    steps = []
    for s in SLIDE_P_STATEMENTS:
        quote = T(f"({s.key}) «{s.quote}» (slide «{s.slide}»)",
                  f"({s.key}) «{_QUOTE_RU.get(s.key, s.quote)}» (слайд «{s.slide}»)")
        agrees = T(f": agrees with ({ref})", f": согласуется с ({ref})") if s.key in ref_group and s.key != ref \
            else ""
        if s.kind in ("test_expectation", "inverted"):  # how the statement fixes P(on): the solution verified
            on = res["statements"][s.key]["p_on"]
            scale, test = (sp.Integer(1), s.data[0]) if s.kind == "test_expectation" else s.data
            steps.append(Step(lhs=_two_point(scale * D * f, on), rhs=test * f,
                              why=T(rf"{quote.en}: the train output averaged over the mask with "
                                    rf"$P(\text{{on}}) = {latex(on)}$ is the test output ${latex(test * f)}$, so "
                                    rf"$P(\text{{off}}) = {latex(1 - on)}$",
                                    rf"{quote.ru}: выход при обучении, усреднённый по маске с "
                                    rf"$P(\text{{on}}) = {latex(on)}$, равен выходу на тесте ${latex(test * f)}$, "
                                    rf"поэтому $P(\text{{off}}) = {latex(1 - on)}$") + agrees))
        elif agrees:  # stated probabilities: the mean output they give against the reference's P(on) f
            cases = s.data if s.kind == "cases" else ((f, 1 - s.data[0]), (sp.Integer(0), s.data[0]))
            steps.append(Step(lhs=sp.Add(*(_Dot(prob, value) for value, prob in cases), evaluate=False),
                              rhs=on_ref * f,
                              why=T(rf"{quote.en}: the mean output $E[o_i]$ of its probabilities is "
                                    rf"${latex(on_ref * f)}$, that of $P(\text{{on}}) = {latex(on_ref)}$",
                                    rf"{quote.ru}: средний выход $E[o_i]$ при этих вероятностях равен "
                                    rf"${latex(on_ref * f)}$, как и при $P(\text{{on}}) = {latex(on_ref)}$") + agrees))
    ref_kind = next(s.kind for s in SLIDE_P_STATEMENTS if s.key == ref)
    ref_reading = r"$P(\text{off}) = P(o_i = 0) = " if ref_kind == "cases" else r"$P(\text{off}) = "
    ref_tex = rf"\left({latex(off_ref)}\right)" if off_ref.is_Add else latex(off_ref)
    for s in SLIDE_P_STATEMENTS:
        if s.key in ref_group:
            continue
        off = res["statements"][s.key]["p_off"]
        diff = sp.factor(off - off_ref)
        where = sp.solveset(sp.simplify(diff), p, _UNIT)
        cond = None
        if isinstance(where, sp.FiniteSet) and len(where):
            words = _p_text(where).replace("p = ", "p \\ne ", 1).replace("\\in", "\\notin", 1)
            cond = (p, p, words)
        says = T("says", "утверждает, что") if s.kind == "off" else T("implies", "подразумевает")
        at = T("everywhere on $(0, 1]$", "всюду на $(0, 1]$") if where == sp.S.EmptySet else \
            T(f"except at {_p_text(where)}", f"везде, кроме {_p_text(where)}")
        steps.append(Step(lhs=off, rel="!=", rhs=off_ref, check=_differ_check(where), under=cond,
                          why=T(rf"({s.key}) «{s.quote}» (slide «{s.slide}») {says.en} "
                                rf"$P(\text{{off}}) = {latex(off)}$, ({ref}) gives {ref_reading}{latex(off_ref)}$: "
                                rf"they disagree {at.en}",
                                rf"({s.key}) «{_QUOTE_RU.get(s.key, s.quote)}» (слайд «{s.slide}») {says.ru} "
                                rf"$P(\text{{off}}) = {latex(off)}$, а ({ref}) даёт {ref_reading}{latex(off_ref)}$: "
                                rf"они расходятся {at.ru}")))
        if isinstance(where, sp.FiniteSet) and len(where) == 1:
            (pt,) = where
            steps.append(Step(lhs=sp.Subs(diff, p, pt), rhs=0, check=_agree_check(diff, where),
                              why=T(rf"their difference ${latex(off)} - {ref_tex} = {latex(diff)}$ vanishes "
                                    rf"only at $p = {latex(pt)}$ in $(0, 1]$: the one $p$ where ({s.key}) and ({ref}) "
                                    "agree",
                                    rf"их разность ${latex(off)} - {ref_tex} = {latex(diff)}$ обращается в нуль на "
                                    rf"$(0, 1]$ только при $p = {latex(pt)}$: это единственное $p$, при котором "
                                    rf"({s.key}) и ({ref}) согласуются")))
    return steps


# --------------------------------------------------------------------------------------------- derivation 1
def _masks_sum_check(nmax: int):
    def check(lhs, rhs):
        for n_ in range(1, nmax + 1):
            total = sum(mask_probability(m) for m in itertools.product((0, 1), repeat=n_))
            if sp.simplify(total - 1) != 0:
                return False, f"n = {n_}: the probabilities sum to {sp.simplify(total)}"
        ok = sp.simplify(sp.sympify(lhs).doit() - rhs) == 0
        return ok, (f"the product is {sp.sstr(sp.sympify(lhs).doit())}; enumerated for n = 1..{nmax}: the 2^n "
                    "probabilities p^k (1 - p)^(n - k) sum to 1")
    return check


@derivation("inverted-dropout", "dropout's mean, inverted dropout's unbiasedness and variance, the backward pass, "
                                "2^n masks, and the slides' statements about p checked against each other")
def _inverted_dropout() -> Derivation:
    from theory.latex import latex

    Db = stats.Bernoulli("D", p)
    i, n, k = sp.Symbol("i", integer=True, positive=True), sp.Symbol("n", integer=True, positive=True), \
        sp.Symbol("k", integer=True, nonnegative=True)
    slide_bw = check_slide_backward()
    mom = _moments()
    steps = [
        Step(lhs=stats.Expectation(Db), rhs=_two_point(D),
             why=T("the mask is 1 (keep) with probability $p$ and 0 with probability $1 - p$: its mean is the "
                   "probability-weighted sum of its two values",
                   "маска равна 1 (нейрон сохраняется) с вероятностью $p$ и 0 с вероятностью $1 - p$: её среднее — "
                   "сумма двух её значений, взвешенных вероятностями")),
        Step(rhs=p, why=T("the mean of the mask is the keep probability",
                          "среднее маски равно вероятности сохранения")),
        Step(lhs=stats.Expectation(Db * f), rhs=_two_point(D * f),
             why=T(r"the same two-point sum $p\,g(1) + (1 - p)\,g(0)$ for the output $o = D f$, $f$ fixed while the "
                   "mask is drawn (over many masks it becomes the sum over all $2^n$ masks)",
                   r"та же сумма по двум значениям $p\,g(1) + (1 - p)\,g(0)$ для выхода $o = D f$, где $f$ "
                   "фиксировано, пока разыгрывается маска (для многих масок это сумма по всем $2^n$ маскам)")),
        Step(rhs=MEAN_PLAIN, why=T("plain dropout shrinks the mean output to $p f$: the slides' test output $o = p f$",
                                   "обычный dropout уменьшает средний выход до $p f$: это выход на тесте со "
                                   "слайдов, $o = p f$")),
        Step(lhs=stats.Expectation(Db * f / p), rhs=MEAN_INVERTED,
             why=T(r"inverted dropout (train $D f/p$): the constant $1/p$ leaves the expectation, "
                   r"$E[D f]/p = p f/p$; it is unbiased, the test output is $f$, no rescaling at test",
                   r"обратный dropout (при обучении $D f/p$): константа $1/p$ выносится за знак математического "
                   r"ожидания, $E[D f]/p = p f/p$; он несмещённый, выход на тесте равен $f$, и на тесте ничего "
                   "масштабировать не нужно")),
        Step(lhs=stats.Expectation((Db / p) ** 2), rhs=_two_point((D / p) ** 2),
             why=T("the second moment of the inverted mask $D/p$, by the same two-point sum",
                   "второй момент маски обратного dropout $D/p$ — по той же сумме по двум значениям")),
        Step(rhs=SECOND_MOMENT_MASK, why=T("at least 1, and 1 only at $p = 1$ (no dropout)",
                                           "не меньше 1 и равен 1 только при $p = 1$ (без dropout)")),
        Step(lhs=stats.Variance(Db * f / p), rhs=f**2 * stats.Expectation((Db / p) ** 2) - f**2,
             why=T(r"$\mathrm{Var}\,X = E[X^2] - (E X)^2$ with $X = f D/p$: $E[X^2] = f^2 E[(D/p)^2]$ and "
                   "$E X = f$ from the rows above",
                   r"$\mathrm{Var}\,X = E[X^2] - (E X)^2$ при $X = f D/p$: $E[X^2] = f^2 E[(D/p)^2]$, а "
                   "$E X = f$ из строк выше")),
        Step(rhs=VAR_INVERTED, why=T("with $E[(D/p)^2] = 1/p$: the price of unbiasedness is a variance "
                                     "$f^2 (1 - p)/p$, 0 only at $p = 1$",
                                     "при $E[(D/p)^2] = 1/p$: цена несмещённости — дисперсия $f^2 (1 - p)/p$, "
                                     "равная 0 только при $p = 1$")),
        Step(lhs=E((D * a / p) ** 2), rhs=E(D**2) * E(a**2) / p**2, check=_expect_both_check(mom),
             why=T(r"for a random activation $a$ independent of $D$ ($E[a] = c$, $\mathrm{Var}\,a = v$): the mean "
                   "of a product of independent factors is the product of their means",
                   r"для случайной активации $a$, не зависящей от $D$ ($E[a] = c$, $\mathrm{Var}\,a = v$): "
                   "среднее произведения независимых множителей равно произведению их средних")),
        Step(rhs=activation_moment(2) / p, check=_expect_check(mom),
             why=T(r"$E[D^2] = p$ ($D^2 = D$ for a mask of zeros and ones) and $E[a^2] = c^2 + v$: the second "
                   "moment of the activation is inflated by $1/p$",
                   r"$E[D^2] = p$ ($D^2 = D$ для маски из нулей и единиц) и $E[a^2] = c^2 + v$: второй момент "
                   "активации увеличивается в $1/p$ раз")),
        Step(lhs=sp.Derivative(D * F(h), h), rhs=D * sp.Derivative(F(h), h),
             why=T(r"backward of $o = D f(h)$: the sampled mask $D$ is a constant of the backward pass, "
                   r"$\partial o/\partial h = D f'(h)$",
                   r"обратный проход для $o = D f(h)$: выпавшая маска $D$ на обратном проходе — константа, "
                   r"$\partial o/\partial h = D f'(h)$")),
        Step(lhs=sp.Derivative(D * F(h) / p, h), rhs=D / p * sp.Derivative(F(h), h),
             why=T(r"inverted dropout: $\partial o/\partial h = (D/p)\,f'(h)$, the backward pass carries the same "
                   "$D/p$",
                   r"обратный dropout: $\partial o/\partial h = (D/p)\,f'(h)$, обратный проход несёт тот же "
                   "множитель $D/p$")),
    ]
    for (fwd, line, mult, factors), res in zip(SLIDE_BACKWARD, slide_bw):
        steps.append(Step(lhs=chain_rule_backward(mult), rhs=backward_formula(factors), check=_matrix_check,
                          why=T(f"slide «Dropout в формулах»: for the forward {fwd} (row convention $h = x W + b$, "
                                r"2 inputs, 2 units, $L = \sum_k d_k o_k$) the chain rule gives the line "
                                f"«{line}» read as ",
                                f"слайд «Dropout в формулах»: для прямого прохода {fwd} (векторы-строки, "
                                r"$h = x W + b$, 2 входа, 2 нейрона, $L = \sum_k d_k o_k$) цепное правило даёт "
                                f"строку «{line}», прочитанную как ")
                              + "$d_{prev} = (" + r" \odot ".join(latex(fac) for fac in factors) + r")\,W^\top$"
                              + (T(", so the $D$ belongs there", ", так что $D$ там на своём месте")
                                 if D in factors else "")))
    steps.append(Step(lhs=chain_rule_backward(D / p), rhs=backward_formula((D / p, FPRIME, DELTA)),
                      check=_matrix_check,
                      why=T(r"inverted dropout (forward $o = D f(h)/p$): $d_{prev} = (\frac{D}{p} \odot f'(h) \odot "
                            r"d)\,W^\top$",
                            r"обратный dropout (прямой проход $o = D f(h)/p$): $d_{prev} = (\frac{D}{p} \odot "
                            r"f'(h) \odot d)\,W^\top$")))
    steps += [
        Step(lhs=sp.Sum(sp.binomial(n, k), (k, 0, n)), rhs=sp.Pow(sp.Add(1, 1, evaluate=False), n, evaluate=False),
             why=T(r"masks of $n$ units: $\binom{n}{k}$ with $k$ units kept; their number by the binomial theorem",
                   r"маски $n$ нейронов: $\binom{n}{k}$ масок с $k$ сохранёнными нейронами; их общее число — по "
                   "биному Ньютона")),
        Step(rhs=2**n, why=T("$2^n$ masks in all («Dropout эквивалентен обучению $2^n$ сетей»)",
                             "всего $2^n$ масок («Dropout эквивалентен обучению $2^n$ сетей»)")),
        Step(lhs=sp.Product(sp.Add(p, _Group(1 - p), evaluate=False), (i, 1, n)), rhs=1, check=_masks_sum_check(6),
             why=T(r"their probabilities $p^k (1 - p)^{n - k}$ sum to 1: the sum over masks factors into a product "
                   r"over units of $P(\text{on}) + P(\text{off})$",
                   r"их вероятности $p^k (1 - p)^{n - k}$ в сумме дают 1: сумма по маскам раскладывается в "
                   r"произведение по нейронам сомножителей $P(\text{on}) + P(\text{off})$")),
    ]
    steps += _slide_p_steps()
    return Derivation(
        "inverted-dropout", T("Dropout and inverted dropout: moments, backward pass, and the slides' $p$",
                              "Dropout и обратный dropout: моменты, обратный проход и $p$ на слайдах"),
        steps,
        assumptions=[T(r"$p = P(\text{keep}) \in (0, 1]$ (`torch.nn.Dropout(p=q)`, Keras `Dropout(rate=q)`: "
                       "$q = 1 - p$)",
                       r"$p = P(\text{keep}) \in (0, 1]$ — вероятность сохранения (`torch.nn.Dropout(p=q)` и "
                       "Keras `Dropout(rate=q)` принимают вероятность выключения $q = 1 - p$)"),
                     T(r"masks $D_i \sim \mathrm{Bernoulli}(p)$ independent of each other and of the activations",
                       r"маски $D_i \sim \mathrm{Bernoulli}(p)$ независимы друг от друга и от активаций"),
                     T("expectations over several masks are exact sums over the $2^n$ masks",
                       "математические ожидания по нескольким маскам — точные суммы по $2^n$ маскам")],
        references=[T("Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, Dropout, JMLR 15 "
                      "($p$ is the retention probability; test weights scaled by $p$)",
                      "Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, Dropout, JMLR 15 "
                      "($p$ — вероятность сохранения; на тесте веса умножаются на $p$)"),
                    T("PyTorch `torch.nn.Dropout` and Keras `Dropout` documentation (inverted dropout, drop "
                      "probability)",
                      "документация PyTorch `torch.nn.Dropout` и Keras `Dropout` (обратный dropout, параметр — "
                      "вероятность выключения)")])


# --------------------------------------------------------------------------------------------- ensembles
def _unit_symbols(n: int):
    return (sp.symbols(f"w1:{n + 1}", real=True), sp.symbols(f"x1:{n + 1}", real=True),
            sp.symbols(f"D1:{n + 1}", nonnegative=True))


def ensemble_mean_linear(n: int, *, inverted: bool = False) -> tuple[sp.Expr, sp.Expr]:
    """(probability-weighted sum over the 2^n masks of the unit sum_i D_i w_i x_i [/ p], the weight-scaled unit:
    p sum_i w_i x_i, or sum_i w_i x_i for inverted dropout). Each output of a linear layer is such a unit."""
    w, x, Ds = _unit_symbols(n)
    scale = 1 / p if inverted else sp.Integer(1)
    mean = expect_masks(scale * sum(d * wi * xi for d, wi, xi in zip(Ds, w, x)), Ds)
    return mean, (1 if inverted else p) * sum(wi * xi for wi, xi in zip(w, x))


def _ensemble_gap(phi: Callable[[sp.Expr], sp.Expr], n: int = 2) -> sp.Expr:
    """E_masks phi(sum D_i w_i x_i) - phi(p sum w_i x_i), simplified."""
    w, x, Ds = _unit_symbols(n)
    mean = expect_masks(phi(sum(d * wi * xi for d, wi, xi in zip(Ds, w, x))), Ds)
    return sp.factor(sp.simplify(mean - phi(p * sum(wi * xi for wi, xi in zip(w, x)))))


@lru_cache(maxsize=2)
def ensemble_is_exact(activation_is_linear: bool) -> bool:
    """Whether weight scaling (test output = the unit at p w) equals the mean over all 2^n masks. Computed on
    n = 2 units: for an affine activation alpha z + beta the gap is 0 (linearity of expectation, exact for any
    n); for a nonlinear one it is not in general, shown by phi(z) = z^2, whose gap p(1 - p) sum w_i^2 x_i^2 is the
    variance of the masked sum. (How large the gap is in real nonlinear networks is measured in sims.)"""
    alpha, beta = sp.symbols("alpha beta", real=True)
    phi = (lambda z: alpha * z + beta) if activation_is_linear else (lambda z: z**2)
    return sp.simplify(_ensemble_gap(phi)) == 0


sigmoid = functions.sigmoid  # the logistic function as a SymPy expression (theory.functions)


def nwgm_expr(n: int) -> tuple[sp.Expr, sp.Expr]:
    """(NWGM = G/(G + G') over the 2^n masks of one sigmoid unit sigma(sum D_i w_i x_i), with
    G = prod sigma^P(mask), G' = prod (1 - sigma)^P(mask); the weight-scaled unit sigma(p sum w_i x_i))."""
    w, x, _ = _unit_symbols(n)
    G, Gc = sp.Integer(1), sp.Integer(1)
    for mask in itertools.product((0, 1), repeat=n):
        P = mask_probability(mask)
        z = sum(m * wi * xi for m, wi, xi in zip(mask, w, x))
        G *= sigmoid(z) ** P
        Gc *= (1 - sigmoid(z)) ** P
    return G / (G + Gc), sigmoid(p * sum(wi * xi for wi, xi in zip(w, x)))


@derivation("dropout-ensemble", "the mean over all 2^n masks is weight scaling exactly for a linear layer, not for a "
                                "nonlinear unit; for one sigmoid unit the normalized geometric mean is exactly the "
                                "weight-scaled unit (Baldi & Sadowski 2013)")
def _dropout_ensemble() -> Derivation:
    steps = []
    for inverted in (False, True):
        for n_ in range(1, 5):
            mean, scaled = ensemble_mean_linear(n_, inverted=inverted)
            if n_ <= 2:  # every mask written out: P(mask) times the unit with the mask's zeros and ones
                mean = _masked_sum(n_, scale=1 / p if inverted else sp.Integer(1))
            shown = T("each mask written out", "каждая маска выписана") if n_ <= 2 else \
                T("each mask by the units it keeps; dropping all adds 0",
                  "каждая маска — через сохраняемые ею нейроны; маска, выключающая все, добавляет 0")
            if inverted:
                why = T(rf"$n = {n_}$, inverted dropout: the mean over the {2**n_} masks of $W (D \odot x)/p$ "
                        rf"({shown.en}) is $W x$",
                        rf"$n = {n_}$, обратный dropout: среднее $W (D \odot x)/p$ по {2**n_} маскам "
                        rf"({shown.ru}) равно $W x$")
            else:
                why = T(rf"$n = {n_}$: the slides' train output $\sum_i D_i w_i x_i$ averaged over all {2**n_} "
                        rf"masks, each weighted by $p^k (1 - p)^{{n - k}}$ ({shown.en}), is the slides' test output "
                        r"$p W x$",
                        rf"$n = {n_}$: выход при обучении со слайдов $\sum_i D_i w_i x_i$, усреднённый по всем "
                        rf"{2**n_} маскам с весами $p^k (1 - p)^{{n - k}}$ ({shown.ru}), равен выходу на тесте со "
                        r"слайдов $p W x$")
            steps.append(Step(lhs=mean, rhs=scaled, why=why))
    i, n = sp.Symbol("i", integer=True, positive=True), sp.Symbol("n", integer=True, positive=True)
    wI, xI = sp.IndexedBase("w"), sp.IndexedBase("x")
    steps += [
        Step(lhs=sp.Sum(stats.Expectation(stats.Bernoulli("D_i", p)) * wI[i] * xI[i], (i, 1, n)),
             rhs=sp.Sum(p * wI[i] * xI[i], (i, 1, n)),
             why=T(r"any $n$: $E[\sum_i D_i w_i x_i] = \sum_i E[D_i]\,w_i x_i$ by linearity of expectation (no "
                   "independence needed), and each mask's mean is $p$",
                   r"любое $n$: $E[\sum_i D_i w_i x_i] = \sum_i E[D_i]\,w_i x_i$ по линейности математического "
                   "ожидания (независимость не нужна), а среднее каждой маски равно $p$")),
        Step(rhs=p * sp.Sum(wI[i] * xI[i], (i, 1, n)),
             why=T("so the ensemble of a linear layer is the weight-scaled layer exactly",
                   "значит, ансамбль линейного слоя в точности равен слою с масштабированными весами")),
    ]
    w2, x2, _ = _unit_symbols(2)
    gap_sq = _ensemble_gap(lambda z: z**2)
    steps.append(Step(lhs=_masked_sum(2, phi=lambda z: z**2),
                      rhs=sp.Add((p * (w2[0] * x2[0] + w2[1] * x2[1])) ** 2, gap_sq, evaluate=False),
                      why=T(r"a nonlinear unit, $\phi(z) = z^2$, $n = 2$: the mean over the 4 masks is the "
                            r"weight-scaled output plus $p(1 - p) \sum_i w_i^2 x_i^2$ (the variance of the masked "
                            "sum), not equal to it: "
                            "for nonlinear networks weight scaling only approximates the ensemble",
                            r"нелинейный нейрон, $\phi(z) = z^2$, $n = 2$: среднее по 4 маскам равно выходу с "
                            r"масштабированными весами плюс $p(1 - p) \sum_i w_i^2 x_i^2$ (дисперсия суммы под "
                            "маской), то есть не равно ему: для нелинейных сетей масштабирование весов лишь "
                            "приближает ансамбль")))
    z = sp.Symbol("z", real=True)
    steps.append(Step(lhs=sp.log(sigmoid(z)) - sp.log(1 - sigmoid(z)), rhs=z,
                      why=T(r"the logit of the sigmoid is the identity: "
                            r"$\log G - \log G' = \sum_{\text{masks}} P(\text{mask})\,z(\text{mask})$, "
                            r"linear in the masks, $= p \sum_i w_i x_i$",
                            r"логит сигмоиды — тождественная функция, поэтому "
                            r"$\log G - \log G' = \sum_{\text{masks}} P(\text{mask})\,z(\text{mask})$ линейно "
                            r"по маскам и $= p \sum_i w_i x_i$")))
    for n_ in range(1, 4):
        nw, scaled = nwgm_expr(n_)
        steps.append(Step(lhs=nw, rhs=scaled,
                          why=T(f"$n = {n_}$: the normalized weighted geometric mean $G/(G + G')$ of the {2**n_} "
                                r"masked sigmoid outputs is the weight-scaled unit $\sigma(p \sum_i w_i x_i)$, exactly",
                                f"$n = {n_}$: нормированное взвешенное среднее геометрическое $G/(G + G')$ по "
                                f"{2**n_} выходам сигмоиды под масками в точности равно нейрону с масштабированными "
                                "весами "
                                r"$\sigma(p \sum_i w_i x_i)$")))
    return Derivation(
        "dropout-ensemble", T("Dropout as an ensemble of $2^n$ networks: when weight scaling is exact",
                              "Dropout как ансамбль $2^n$ сетей: когда масштабирование весов точно"), steps,
        assumptions=[T(r"one unit (a linear layer is one such unit per output), masks "
                       r"$D_i \sim \mathrm{Bernoulli}(p)$ independent",
                       r"один нейрон (линейный слой — это по такому нейрону на каждый выход), маски "
                       r"$D_i \sim \mathrm{Bernoulli}(p)$ независимы"),
                     T(r"$P(\text{mask}) = p^k (1 - p)^{n - k}$, $k$ the number of kept units",
                       r"$P(\text{mask}) = p^k (1 - p)^{n - k}$, где $k$ — число сохранённых нейронов")],
        references=[T("Baldi & Sadowski 2013, Understanding Dropout, NeurIPS (NWGM of a sigmoid unit)",
                      "Baldi & Sadowski 2013, «Understanding Dropout», NeurIPS (нормированное взвешенное среднее "
                      "геометрическое для сигмоидного нейрона)"),
                    T("Srivastava et al. 2014, section 7 and appendix (weight scaling as an ensemble approximation)",
                      "Srivastava et al. 2014, раздел 7 и приложение (масштабирование весов как приближение "
                      "ансамбля)")])


def mask_table(n: int, keep: float, start: int = 0, stop: int | None = None,
               dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
    """Masks ``start``..``stop - 1`` of the 2^n dropout masks of n units, and their probabilities: row i is the
    binary expansion of i (unit j = bit j), P(m) = keep^|m| (1 - keep)^(n - |m|) in float64 (0^0 = 1: keep = 1
    gives the all-ones mask probability 1). The one enumerator of the package (sims.dropout uses it in blocks)."""
    idx = np.arange(start, (1 << n) if stop is None else stop, dtype=np.int64)
    m = ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(dtype)
    k = m.sum(axis=1, dtype=np.int64).astype(np.float64)
    return m, np.power(keep, k) * np.power(1.0 - keep, n - k)


def _mask_table(n: int, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """All 2^n masks as float64 rows (:func:`mask_table`), n checked against the enumeration limit."""
    n = validate.integer("number of units", n, 1, _MAX_MASK_UNITS, why=" for mask enumeration")
    return mask_table(n, keep, dtype=np.float64)


def nwgm(outputs, probs) -> float:
    """Normalized weighted geometric mean G/(G + G'), G = prod o^P, G' = prod (1 - o)^P, for outputs in (0, 1)
    with weights P summing to 1 (computed in logs)."""
    o, P = np.asarray(outputs, dtype=float), np.asarray(probs, dtype=float)
    if np.any((o <= 0) | (o >= 1)):
        raise SpecError("NWGM needs outputs strictly between 0 and 1 (a geometric mean of o and of 1 - o)")
    log_ratio = float(np.sum(P * (np.log1p(-o) - np.log(o))))  # log G' - log G
    return 1.0 / (1.0 + math.exp(log_ratio))


def nwgm_sigmoid(w, x, keep: float) -> float:
    """NWGM of one sigmoid unit sigma(sum_i D_i w_i x_i) over all 2^n masks, n = len(w) <= 24; equals
    sigma(keep sum_i w_i x_i) (Baldi & Sadowski 2013). The logits z(mask) enter through log sigma(z) =
    -log(1 + e^-z), log(1 - sigma(z)) = -log(1 + e^z), so no output under- or overflows to 0 or 1."""
    keep = float(check_keep(keep))
    w, x = np.asarray(w, dtype=float).ravel(), np.asarray(x, dtype=float).ravel()
    if w.shape != x.shape:
        raise SpecError(f"w and x must have the same length, got {w.size} and {x.size}")
    masks, P = _mask_table(w.size, keep)
    zs = masks @ (w * x)
    log_ratio = float(np.sum(P * (-np.logaddexp(0.0, zs) + np.logaddexp(0.0, -zs))))  # log G' - log G
    return 1.0 / (1.0 + math.exp(log_ratio)) if log_ratio < 700 else 0.0


# ------------------------------------------------------------------------------- dropout as an L2 penalty
def regression_objective(n_samples: int, n_features: int) -> tuple[sp.Expr, sp.Expr, dict]:
    """(E over all masks of sum_i (y_i - sum_j D_ij x_ij w_j / p)^2 by enumeration, the Wager et al. form
    sum_i (y_i - x_i w)^2 + PENALTY_FACTOR sum_j w_j^2 sum_i x_ij^2, the symbols)."""
    X = sp.ImmutableMatrix(n_samples, n_features, lambda i, j: sp.Symbol(f"x{i + 1}{j + 1}", real=True))
    Dm = sp.ImmutableMatrix(n_samples, n_features, lambda i, j: sp.Symbol(f"D{i + 1}{j + 1}", nonnegative=True))
    y = sp.symbols(f"y1:{n_samples + 1}", real=True)
    w = sp.symbols(f"w1:{n_features + 1}", real=True)
    loss = sum((y[i] - sum(Dm[i, j] * X[i, j] * w[j] / p for j in range(n_features))) ** 2 for i in range(n_samples))
    mean = expect_masks(loss, list(Dm))
    fit = sum((y[i] - sum(X[i, j] * w[j] for j in range(n_features))) ** 2 for i in range(n_samples))
    penalty = PENALTY_FACTOR * sum(w[j] ** 2 * sum(X[i, j] ** 2 for i in range(n_samples)) for j in range(n_features))
    return mean, fit + penalty, {"X": X, "y": y, "w": w}


@lru_cache(maxsize=1)
def _penalty_factor():
    return sp.lambdify(p, PENALTY_FACTOR, "math")


def dropout_penalty(X, w, keep: float) -> float:
    """((1 - p)/p) sum_j w_j^2 sum_i X_ij^2: the penalty that inverted dropout (keep p) on the inputs adds to the
    expected squared error of linear regression (Wager, Wang & Liang 2013)."""
    factor = float(_penalty_factor()(float(check_keep(keep))))
    X = np.asarray(X, dtype=float)
    w = np.asarray(w, dtype=float).ravel()
    if X.ndim != 2 or X.shape[1] != w.size:
        raise SpecError(f"X must be (samples, features) with features = len(w) = {w.size}, got shape {X.shape}")
    return factor * float(np.sum(w**2 * np.sum(X**2, axis=0)))


@derivation("dropout-l2-penalty", "inverted dropout on the inputs of linear regression adds the penalty "
                                  "((1 - p)/p) sum_j w_j^2 sum_i x_ij^2 (Wager, Wang & Liang 2013)")
def _dropout_l2_penalty() -> Derivation:
    Db = stats.Bernoulli("D", p)
    i, j = sp.Symbol("i", integer=True, positive=True), sp.Symbol("j", integer=True, positive=True)
    n, N = sp.Symbol("n", integer=True, positive=True), sp.Symbol("N", integer=True, positive=True)
    xI, wI = sp.IndexedBase("x"), sp.IndexedBase("w")
    y, S, mu, s2 = sp.Symbol("y", real=True), sp.Symbol("S", real=True), sp.Symbol("mu", real=True), \
        sp.Symbol("s^2", nonnegative=True)
    s_moments = {S: lambda k: {1: mu, 2: mu**2 + s2}[k]}
    steps = [
        Step(lhs=stats.Expectation(Db / p), rhs=1,
             why=T(r"the inverted mask has mean 1: $E[\sum_j D_j x_j w_j/p] = x w$",
                   r"маска обратного dropout $D/p$ имеет среднее 1: $E[\sum_j D_j x_j w_j/p] = x w$")),
        Step(lhs=stats.Variance(Db / p), rhs=PENALTY_FACTOR, why=T("and variance $E[(D/p)^2] - 1 = 1/p - 1$",
                                                                   "и дисперсию $E[(D/p)^2] - 1 = 1/p - 1$")),
        Step(lhs=E((y - S) ** 2), rhs=(y - mu) ** 2 + s2, check=lambda lhs, rhs: (
            sp.simplify(lhs.replace(lambda t: isinstance(t, sp.Function) and t.func == E,
                                    lambda t: expect_independent(t.args[0], s_moments)) - rhs) == 0,
            "E[S] = mu, E[S^2] = mu^2 + s^2 substituted monomial by monomial"),
             why=T(r"for one sample, $S = \sum_j D_j x_j w_j/p$ with mean $\mu = x w$ and variance $s^2$: the "
                   "expected squared error is the squared error of the mean plus the variance",
                   r"для одного примера $S = \sum_j D_j x_j w_j/p$ со средним $\mu = x w$ и дисперсией $s^2$: "
                   "математическое ожидание квадрата ошибки равно квадрату ошибки среднего плюс дисперсия")),
        Step(lhs=sp.Sum(xI[j] ** 2 * wI[j] ** 2 * stats.Variance(Db / p), (j, 1, n)),
             rhs=PENALTY_FACTOR * sp.Sum(xI[j] ** 2 * wI[j] ** 2, (j, 1, n)),
             why=T(r"$s^2 = \sum_j x_j^2 w_j^2\,\mathrm{Var}(D_j/p)$: the masks are independent, so the variances "
                   "add",
                   r"$s^2 = \sum_j x_j^2 w_j^2\,\mathrm{Var}(D_j/p)$: маски независимы, поэтому дисперсии "
                   "складываются")),
        Step(lhs=sp.Sum(PENALTY_FACTOR * xI[i, j] ** 2 * wI[j] ** 2, (j, 1, n), (i, 1, N)),
             rhs=PENALTY_FACTOR * sp.Sum(wI[j] ** 2 * xI[i, j] ** 2, (i, 1, N), (j, 1, n)),
             check=lambda lhs, rhs: (sp.simplify(lhs.reorder((0, 1)) - rhs) == 0,
                                     "the finite sums exchanged (Sum.reorder), then simplified"),
             why=T(r"summed over the $N$ samples and regrouped by feature: an L2 penalty on $w_j$ weighted by the "
                   r"squared norm $\sum_i x_{ij}^2$ of column $j$ (ridge for standardized columns)",
                   r"сумма по $N$ примерам, перегруппированная по признакам: L2-штраф на $w_j$ с весом, равным "
                   r"квадрату нормы $\sum_i x_{ij}^2$ столбца $j$ (гребневая регрессия для стандартизованных "
                   "столбцов)")),
    ]
    for ns, nf in ((1, 3), (2, 2)):
        mean, closed, _ = regression_objective(ns, nf)
        steps.append(Step(lhs=mean, rhs=closed,
                          why=T(f"{ns} sample(s) × {nf} features with symbolic entries: the expected loss by exact "
                                f"enumeration of all {2 ** (ns * nf)} masks is the loss at $w$ plus the penalty",
                                f"{ns} {plural_ru(ns, 'пример', 'примера', 'примеров')} × {nf} "
                                f"{plural_ru(nf, 'признак', 'признака', 'признаков')} с символьными значениями: "
                                f"математическое ожидание функции потерь, найденное точным перебором всех "
                                f"{2 ** (ns * nf)} масок, равно функции потерь в точке $w$ плюс штраф")))
    return Derivation(
        "dropout-l2-penalty", T("Dropout on the inputs of linear regression is an adaptive L2 penalty",
                                "Dropout на входах линейной регрессии — адаптивный L2-штраф"), steps,
        assumptions=[T(r"inverted dropout on every input entry: $x_{ij} \to D_{ij} x_{ij}/p$, "
                       r"$D_{ij} \sim \mathrm{Bernoulli}(p)$ independent",
                       r"обратный dropout на каждом элементе входа: $x_{ij} \to D_{ij} x_{ij}/p$, "
                       r"$D_{ij} \sim \mathrm{Bernoulli}(p)$ независимы"),
                     T(r"squared loss, linear model $y \approx X w$; the expectation is over the masks only",
                       r"квадратичная функция потерь, линейная модель $y \approx X w$; математическое ожидание "
                       "берётся только по маскам")],
        references=[T("Wager, Wang & Liang 2013, Dropout Training as Adaptive Regularization, NeurIPS "
                      "(the quadratic penalty, exact for squared loss)",
                      "Wager, Wang и Liang 2013, «Dropout Training as Adaptive Regularization», NeurIPS "
                      "(квадратичный штраф, точный для квадратичной функции потерь)")])


# ------------------------------------------------------------------------------------ the variance shift
def variance_shift_exprs() -> dict[str, sp.Expr]:
    """The SymPy expressions in keep p, mean c and variance v of a unit's input: ``train`` = Var(D a/p),
    ``test`` = Var(a), ``ratio`` = test/train, and the symbols ``keep``, ``mean``, ``var``."""
    return {"train": VAR_TRAIN, "test": VAR_TEST, "ratio": VAR_RATIO, "keep": p, "mean": c, "var": v}


@lru_cache(maxsize=3)
def _lambdified(name: str):
    return sp.lambdify((p, c, v), variance_shift_exprs()[name], "math")


@lru_cache(maxsize=3)
def variance_shift_function(name: str = "ratio"):
    """The expression ``name`` of :func:`variance_shift_exprs` (train, test, ratio) as a NumPy function of
    (keep, mean, var), elementwise over arrays: the one numeric form of the formula (sims uses it unchecked, on
    arrays; :func:`variance_shift` checks its scalar arguments)."""
    return sp.lambdify((p, c, v), variance_shift_exprs()[name], "numpy")


def _shift_args(keep, mean, var):
    keep = float(check_keep(keep))
    try:
        mean, var = float(mean), float(var)
    except (TypeError, ValueError):
        raise SpecError(f"mean and variance must be numbers, got {mean!r} and {var!r}") from None
    if not math.isfinite(mean):
        raise SpecError(f"mean must be finite, got {mean!r}")
    if not (math.isfinite(var) and var >= 0):
        raise SpecError(f"variance must be finite and >= 0, got {var!r}")
    return keep, mean, var


def variance_train(keep: float, mean: float, var: float) -> float:
    """Var(D a / p) in training, a unit's input a with E[a] = mean, Var(a) = var: (mean^2 + var)/p - mean^2."""
    return float(_lambdified("train")(*_shift_args(keep, mean, var)))


def variance_test(keep: float, mean: float, var: float) -> float:
    """Var(a) at test (dropout off): var."""
    return float(_lambdified("test")(*_shift_args(keep, mean, var)))


def variance_shift(keep: float, mean: float, var: float) -> float:
    """Var_test / Var_train = p v / (v + (1 - p) c^2) (Li et al. 2019); 0/0 for a constant zero input."""
    keep, mean, var = _shift_args(keep, mean, var)
    if var == 0 and (mean == 0 or keep == 1):
        raise SpecError("the variance shift is 0/0 for an input with zero variance and (mean 0 or keep 1)")
    return float(_lambdified("ratio")(keep, mean, var))


def _ratio_one_check(lhs, rhs):
    cn = sp.Symbol("c", real=True, nonzero=True)
    found = sp.solveset(sp.simplify((VAR_RATIO - 1).subs(c, cn)), p, _UNIT)
    ok = found == sp.FiniteSet(1) and sp.simplify((lhs - rhs).doit()) == 0
    return ok, f"for c != 0: solveset(ratio = 1, p, (0, 1]) = {sp.sstr(found)}"


@derivation("dropout-variance-shift", "inverted dropout before batch norm: train variance (c^2 + v)/p - c^2, test "
                                      "variance v, ratio p v/(v + (1 - p) c^2) (Li, Chen, Hu & Yang 2019)")
def _dropout_variance_shift() -> Derivation:
    mom = _moments()
    steps = [
        Step(lhs=E(D * a / p), rhs=c, check=_expect_check(mom),
             why=T("a unit's input $a$ (mean $c$, variance $v$) through inverted dropout keeps its mean",
                   "вход нейрона $a$ (среднее $c$, дисперсия $v$) после обратного dropout сохраняет среднее")),
        Step(lhs=E((D * a / p) ** 2), rhs=(c**2 + v) / p, check=_expect_check(mom),
             why=T("its second moment is $E[a^2]/p$", "его второй момент равен $E[a^2]/p$")),
        Step(lhs=E((D * a / p) ** 2) - E(D * a / p) ** 2, rhs=VAR_TRAIN, check=_expect_check(mom),
             why=T("the variance that batch norm sees in training, batch statistics and running average alike",
                   "дисперсия, которую батч-нормализация видит при обучении, — и в статистиках батча, и в "
                   "скользящем среднем")),
        Step(lhs=VAR_TRAIN, rhs=v + (1 - p) * (c**2 + v) / p,
             why=T("$= v$ plus an inflation $(1 - p)(c^2 + v)/p$: larger than $v$ for $p < 1$, even for $c = 0$",
                   "$= v$ плюс прибавка $(1 - p)(c^2 + v)/p$: больше $v$ при $p < 1$, даже при $c = 0$")),
        Step(lhs=E(a**2) - E(a) ** 2, rhs=VAR_TEST, check=_expect_check(mom),
             why=T("at test dropout is off: the unit's input has variance $v$, while the running variance holds "
                   "the train value",
                   "на тесте dropout выключен: дисперсия входа нейрона равна $v$, а скользящая дисперсия хранит "
                   "значение, накопленное при обучении")),
        Step(lhs=VAR_TEST / VAR_TRAIN, rhs=VAR_RATIO, why=T("the variance shift "
                                                            r"$\mathrm{Var}_{test}/\mathrm{Var}_{train}$",
                                                            "сдвиг дисперсии "
                                                            r"$\mathrm{Var}_{test}/\mathrm{Var}_{train}$")),
        Step(lhs=VAR_RATIO, rel="<=", rhs=1, under=(p, 1 - r, r"$p = 1 - r$, $r \ge 0$"),
             why=T("at most 1: test activations after batch norm have a smaller variance than in training",
                   "не больше 1: на тесте активации после батч-нормализации имеют меньшую дисперсию, чем при "
                   "обучении")),
        Step(lhs=sp.Subs(VAR_RATIO, p, 1), rhs=1, check=_ratio_one_check,
             why=T(r"$= 1$ only at $p = 1$ (no dropout) when $c \ne 0$",
                   r"$= 1$ только при $p = 1$ (без dropout), если $c \ne 0$")),
        Step(lhs=sp.Subs(VAR_RATIO, c, 0), rhs=p,
             why=T("for a zero-mean input the ratio is $p$ itself: the shift does not need a mean",
                   "для входа с нулевым средним отношение равно самому $p$: сдвигу ненулевое среднее не нужно")),
    ]
    return Derivation(
        "dropout-variance-shift", T("Dropout before batch norm: the variance shift",
                                    "Dropout перед батч-нормализацией: сдвиг дисперсии"), steps,
        assumptions=[T(r"a unit's input $a$ with $E[a] = c$, $\mathrm{Var}(a) = v > 0$, any distribution; the mask "
                       r"$D \sim \mathrm{Bernoulli}(p)$ independent of $a$; inverted dropout (train $D a/p$, test "
                       "$a$)",
                       r"вход нейрона $a$ с $E[a] = c$, $\mathrm{Var}(a) = v > 0$, распределение любое; маска "
                       r"$D \sim \mathrm{Bernoulli}(p)$ не зависит от $a$; обратный dropout (при обучении $D a/p$, "
                       "на тесте $a$)"),
                     T("batch norm normalizes with the train-time variance at test (running statistics)",
                       "на тесте батч-нормализация нормирует на дисперсию, накопленную при обучении (скользящие "
                       "статистики)")],
        references=[T("Li, Chen, Hu & Yang 2019, Understanding the Disharmony between Dropout and Batch "
                      "Normalization by Variance Shift, CVPR",
                      "Li и др. 2019, «Understanding the Disharmony between Dropout and Batch Normalization by "
                      "Variance Shift», CVPR")])
