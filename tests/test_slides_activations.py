"""The computations behind the activation slides (theory.slides.activations): exact SymPy asserts against facts
written here independently (sigma' = sigma (1 - sigma), E[relu(h)] = sqrt(q / (2 pi)), Phi, ...), each with a
negative control that must fail the same assert. Tolerances (STYLE.md): symbolic identities exactly; chi_1 by
quadrature rtol 1e-10."""
from __future__ import annotations

import math

import sympy as sp

from theory import activations as acts
from theory.calculus import x
from theory.functions import Phi, sigmoid
from theory.gaussian import q
from theory.slides import activations as S

RTOL = 1e-10


def _zero(e, rewrite=None) -> bool:
    """Exactly 0: simplify(e) == 0, after ``e.rewrite(rewrite)`` when given (exp for hyperbolic forms, erf for erfc)."""
    e = sp.sympify(e)
    return sp.simplify(e.rewrite(rewrite) if rewrite is not None else e) == 0


def test_derivative_through_f_sigmoid_and_tanh():
    d = S.derivative_through_f("sigmoid", S.F * (1 - S.F))
    assert d["equal"] and d["difference"] == 0
    assert _zero(d["derivative"] - sp.exp(-x) / (1 + sp.exp(-x)) ** 2, sp.exp)  # the quotient rule, by hand
    assert S.derivative_through_f("tanh", 1 - S.F**2)["equal"]
    # negative controls: twice the derivative, and tanh' written as 1 - f, are not equal; the difference is exact
    bad = S.derivative_through_f("sigmoid", 2 * S.F * (1 - S.F))
    assert not bad["equal"] and _zero(bad["difference"] + sigmoid(x) * (1 - sigmoid(x)), sp.exp)
    assert not S.derivative_through_f("tanh", 1 - S.F)["equal"]


def test_symmetric_mean():
    tanh, sig, relu = (S.symmetric_mean(a) for a in ("tanh", "sigmoid", "relu"))
    assert tanh["centred"] and tanh["pair_sum"] == 0 and tanh["mean"] == 0  # odd: any symmetric law
    assert sig["pair_sum"] == 1 and sig["mean"] == sp.Rational(1, 2) and not sig["centred"]
    # relu: no constant pair sum, Gaussian closed form = the half-normal mean sqrt(q / (2 pi))
    assert relu["pair_sum"] is None and not relu["centred"]
    assert _zero(relu["mean"] - sp.sqrt(q / (2 * sp.pi)))
    assert math.isclose(relu["mean_at_q1"], 1 / math.sqrt(2 * math.pi), rel_tol=RTOL)
    assert not _zero(relu["mean"] - sp.sqrt(q / sp.pi))  # negative control: a factor sqrt(2) off is seen


def test_tanh_is_a_rescaled_sigmoid():
    assert S.tanh_sigmoid_residual(2, 2, -1) == 0
    assert S.tanh_sigmoid_residual(2, 1, -1) != 0  # negative control: rate 1 (tanh(x) != 2 sigma(x) - 1)
    assert S.tanh_sigmoid_residual(1, 2, 0) != 0


def test_gradient_sign_pattern():
    shared, signs = S.gradient_sign_pattern()
    assert shared and signs == {"positive", "negative"}
    assert S.gradient_sign_pattern(1) == (True, frozenset({"positive", "negative"}))


def test_derivative_infimum_relu_dies_leaky_does_not():
    lo = S.derivative_infimum("relu")
    assert lo.value == 0 and lo.attained
    leaky = S.derivative_infimum("leaky_relu")  # negative control: slope 1/100 on x < 0
    assert leaky.value == sp.Rational(1, 100) and leaky.value != 0


def test_leaky_relu_symbolic_is_the_package_family():
    f = S.leaky_relu_symbolic()
    assert _zero(f.subs(S.SLOPE, sp.Rational(1, 100)) - acts.get_activation("leaky_relu").expr)
    assert not _zero(f.subs(S.SLOPE, sp.Rational(1, 10)) - acts.get_activation("leaky_relu").expr)


def test_leaky_relu_derivative_values_and_linearity():
    image, signs = S.leaky_relu_derivative_values(sp.Interval.open(0, 1))
    assert image == sp.Interval.Lopen(0, 1) and signs == {"positive"}
    slide = sp.Union(sp.Interval.open(-sp.oo, 1), sp.Interval.open(1, sp.oo))
    _, all_signs = S.leaky_relu_derivative_values(slide)
    assert {"positive", "negative"} <= all_signs  # a < 0 is allowed by a != 1 alone
    lin = S.leaky_relu_linear_slopes()
    assert (lin["left"], lin["right"]) == (S.SLOPE, 1)
    assert lin["linear_at"] == sp.FiniteSet(1) and lin["identity"] == {1: True}
    # negative control: at a = 0 (relu) f(x) - x does not vanish
    assert not _zero(S.leaky_relu_symbolic().subs(S.SLOPE, 0).rewrite(sp.Piecewise) - x)


def test_elu_against_slide():
    good = S.elu_against_slide(x, S.ALPHA * (sp.exp(x) - 1))
    assert all(good["matches"].values()) and list(good["matches"]) == list(S.ELU_ALPHAS)
    assert good["continuous"] and good["left"] == 0 and good["right"] == 0
    assert good["differentiable_for"] == sp.FiniteSet(1)
    bad = S.elu_against_slide(x, S.ALPHA * sp.exp(x))  # negative control: without the -1, a jump of alpha at 0
    assert not any(bad["matches"].values()) and not bad["continuous"] and bad["left"] == S.ALPHA


def test_active_probability_is_phi():
    p, lim = S.active_probability()
    assert _zero(p - Phi(S.K), sp.erf) and lim == 0
    assert not _zero(p - Phi(-S.K), sp.erf)  # negative control: the inactive fraction


def test_backward_signal_relu():
    sig = S.backward_signal("relu", ("he_uniform", "glorot_uniform"))
    assert sig["sigma_w2"] == {"he_uniform": 2, "glorot_uniform": 1}
    # relu: E[relu'(h)^2] = P(h > 0) = 1/2 at any q, so chi_1 = sigma_w^2 / 2, critical at 2 (He)
    assert math.isclose(sig["chi1"]["he_uniform"], 1.0, rel_tol=RTOL)
    assert math.isclose(sig["chi1"]["glorot_uniform"], 0.5, rel_tol=RTOL)
    assert not math.isclose(sig["chi1"]["glorot_uniform"], 1.0, rel_tol=RTOL)  # control: Glorot is off by 2
    assert math.isclose(sig["critical_sigma_w2"], 2.0, rel_tol=RTOL)
    assert list(sig["trajectory"]) == ["he_uniform", "glorot_uniform"]
    assert sig["trajectory"]["glorot_uniform"]["ratio"] < sig["trajectory"]["he_uniform"]["ratio"]
