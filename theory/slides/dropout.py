"""The computations behind the dropout claims (:mod:`lecture.claims_dropout`).

Slides «Dropout», «Dropout в формулах», «Обратный Dropout». Each function derives with SymPy one thing a claim
compares the slide with and returns plain data; the formulas come from :mod:`theory.dropout` (p the KEEP
probability, D ~ Bernoulli(p) the mask, f a unit's activation fixed while the mask is drawn). The ensemble gap of
real networks is measured by :func:`sims.dropout.ensemble_gaps`, not here.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy import stats

from theory import dropout as td

#: the keep probabilities, (0, 1]
KEEP_RANGE = sp.Interval.Lopen(0, 1)
#: the number of droppable units, and a number of kept ones
n = sp.Symbol("n", integer=True, positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)


# ------------------------------------------------------------------------------------------------ «Dropout»
def formula_p_off() -> sp.Expr:
    """P(neuron off) implied by the slides' formulas (mask cases, test expectation, inverted dropout;
    theory.dropout.implied_p_off): 1 - p; ValueError if they disagree among themselves."""
    offs = {sp.simplify(td.implied_p_off(s)[0]) for s in td.SLIDE_P_STATEMENTS if s.kind != "off"}
    if len(offs) != 1:
        raise ValueError(f"the slides' formulas disagree among themselves: {offs}")
    return offs.pop()


def p_off_agreement(said) -> dict:
    """The formulas' P(off) (:func:`formula_p_off`) and the p in (0, 1] where ``said`` equals it (solveset)."""
    formula = formula_p_off()
    return {"formula": formula, "agree_at": sp.solveset(sp.simplify(sp.sympify(said) - formula), td.p, KEEP_RANGE)}


@lru_cache(maxsize=1)
def mask_counts() -> dict:
    """sum_k C(n, k) = 2^n masks of n units; ``reuse``: the weights of all thinned networks (k a per kept unit)
    over the n a distinct ones, 2^(n-1); ``shared``: reuse > 1 at n = 2 (the thinned networks share weights)."""
    a = sp.Symbol("a", positive=True)  # incoming weights per unit
    count = sp.simplify(sp.Sum(sp.binomial(n, k), (k, 0, n)).doit())
    total = sp.simplify(sp.Sum(sp.binomial(n, k) * k * a, (k, 0, n)).doit())  # weights over all thinned nets
    union = n * a  # distinct weights: every thinned net's weights are columns of the one W
    reuse = sp.simplify(total / union)
    return {"count": count, "reuse": reuse, "shared": bool(sp.simplify(reuse.subs(n, 2)) > 1)}


def expected_output(scale=1) -> sp.Expr:
    """E[scale D f] for D ~ Bernoulli(p) (sympy.stats), simplified: scale p f."""
    Db = stats.Bernoulli("D", td.p)
    return sp.simplify(stats.E(scale * Db * td.f))


def ensemble_exactness() -> dict:
    """Whether the mean over all 2^n masks is weight scaling: ``linear`` for a linear unit (n = 3 enumerated,
    theory.dropout.ensemble_mean_linear, and any n by linearity), ``nonlinear`` for phi(z) = z^2
    (theory.dropout.ensemble_is_exact): True, False."""
    mean_linear, scaled_linear = td.ensemble_mean_linear(3)
    linear = sp.simplify(mean_linear - scaled_linear) == 0 and td.ensemble_is_exact(True)
    return {"linear": linear, "nonlinear": td.ensemble_is_exact(False)}


# ------------------------------------------------------------------------------------------------ «Dropout в формулах»
def mask_cases(keep, output) -> list[tuple[sp.Expr, sp.Expr]]:
    """(value, probability) of ``output`` (an expression in the mask symbol theory.dropout.D) for each value of
    D ~ Bernoulli(keep) (sympy.stats), in sympy.stats' order; the probabilities simplified."""
    dens = stats.density(stats.Bernoulli("D", keep)).dict
    return [(output.subs(td.D, d), sp.simplify(pr)) for d, pr in dens.items()]


def backward_difference(forward_multiplier, factors) -> sp.ImmutableMatrix:
    """dL/dx by sympy.diff of L = sum_k d_k o_k, o_k = multiplier(D_k) f(h_k), minus (prod factors) W^T, entry by
    entry simplified, on an explicit 2 -> 2 layer (theory.dropout.chain_rule_backward, backward_formula): 0 iff the
    backward line is the chain rule."""
    chain = td.chain_rule_backward(forward_multiplier).doit()
    formula = td.backward_formula(factors).doit()
    return (chain - formula).applyfunc(sp.simplify)


# ------------------------------------------------------------------------------------------------ «Обратный Dropout»
def inverted_moments(train_scale, test_scale) -> dict:
    """For train o = s D f, D ~ Bernoulli(p) (sympy.stats): ``mean`` E[s D f], ``variance`` Var(s D f), and
    ``unbiased_scales``, the s (solved) with E[s D f] = t f, the test output: t/p."""
    s, t = sp.sympify(train_scale), sp.sympify(test_scale)
    Db = stats.Bernoulli("D", td.p)
    unknown = sp.Symbol("s")
    return {"mean": expected_output(s), "variance": sp.simplify(stats.variance(s * Db * td.f)),
            "unbiased_scales": sp.solve(sp.Eq(expected_output(unknown), t * td.f), unknown)}
