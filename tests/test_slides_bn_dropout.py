"""theory.slides.batchnorm and theory.slides.dropout: what the batch-norm and dropout claims compare the slides with,
asserted exactly (SymPy) or against an independent float64 oracle, each with a negative control that must fail; and
sims.dropout's ensemble gaps on a tiny case (linear networks: no gap, relu networks: a gap)."""
from __future__ import annotations

import itertools
import math

import sympy as sp

from theory import batchnorm as tb
from theory import dropout as td
from theory.slides import batchnorm as tsb
from theory.slides import dropout as tsd

p, f, D = td.p, td.f, td.D


def _same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


# ------------------------------------------------------------------------------------------------ batch norm
def test_hidden_moments_against_the_gaussian_closed_forms():
    mom = tsb.hidden_moments()
    assert mom["sigmoid"]["mean_exact"] == "1/2" and mom["sigmoid"]["mean_is_zero"] is False
    assert mom["relu"]["mean_exact"] == "> 0" and mom["relu"]["mean_is_zero"] is False
    # the rectangle rule (step 1e-4) against E[relu(z)] = 1/sqrt(2 pi), Var = 1/2 - 1/(2 pi), E[sigmoid(z)] = 1/2
    relu_mean, relu_var = 1 / math.sqrt(2 * math.pi), 0.5 - 1 / (2 * math.pi)
    assert math.isclose(mom["relu"]["mean"], relu_mean, rel_tol=1e-8)
    assert math.isclose(mom["relu"]["var"], relu_var, rel_tol=1e-8)
    assert math.isclose(mom["sigmoid"]["mean"], 0.5, rel_tol=1e-8)
    # negative control: the second moment E[relu^2] = 1/2 is not the variance at that tolerance
    assert not math.isclose(mom["relu"]["var"], 0.5, rel_tol=1e-8)


def test_scale_and_shift_roles():
    slide = tsb.scale_shift_roles(tb.beta * tb.h_hat + tb.gamma)  # «Проблема» as written
    assert slide["affine"] and slide["paper_slide"] == "Forward pass"
    assert slide["paper"] == {"scale": tb.gamma, "shift": tb.beta}
    assert slide["claimed"] == {"scale": tb.beta, "shift": tb.gamma}  # swapped against the paper
    paper = tsb.scale_shift_roles(tb.gamma * tb.h_hat + tb.beta)
    assert paper["claimed"] == paper["paper"]
    assert not tsb.scale_shift_roles(tb.gamma * tb.h_hat**2 + tb.beta)["affine"]  # negative control


def test_only_gamma_and_beta_get_gradients():
    got = tsb.backprop_gradients()
    dl_dy = sp.Symbol("dell/dy")
    assert _same(got["gradients"]["gamma"], dl_dy * tb.h_hat) and _same(got["gradients"]["beta"], dl_dy)
    assert got["gradients"]["running mean"] == 0 and got["gradients"]["running variance"] == 0
    assert got["learned"] == ["beta", "gamma"]
    assert "running mean" not in got["learned"]  # negative control: the claim's perturbation lists it


def test_running_update_is_an_ema_in_both_conventions():
    slide = tb.alpha * tb.batch_value + (1 - tb.alpha) * tb.running
    w = tsb.update_weights(slide)
    assert (w["weight_new"], w["weight_old"], w["rest"], w["total"]) == (tb.alpha, 1 - tb.alpha, 0, 1)
    assert tsb.update_weights(2 * slide)["total"] == 2  # negative control: weights summing to 2
    mom = tsb.momentum_conventions(slide)
    assert mom["torch"] == [tb.alpha] and mom["keras"] == [1 - tb.alpha]
    mm, bias = tsb.batch_variance_bias()
    assert _same(bias, sp.Rational(mm - 1, mm))
    assert not _same(bias, 1)  # the biased batch variance


def test_unit_variance_needs_the_biased_normalizer():
    needed = tsb.unit_variance_normalizers((2, 3, 4))
    assert needed == {2: sp.Rational(1, 2), 3: sp.Rational(1, 3), 4: sp.Rational(1, 4)}
    assert _same(tsb.paper_normalizer(), 1 / tb.m)
    assert all(not _same((1 / (tb.m - 1)).subs(tb.m, mm), c) for mm, c in needed.items())  # negative control


def test_backward_lines_against_the_chain_rule():
    lines = {name: expr for name, expr, _ in tb.SLIDE_LINES}
    first = tsb.backward_line("dl/dxhat_i", lines["dl/dxhat_i"])
    assert first["as_written"] and "given_zero" not in first
    mu_line = tsb.backward_line("dl/dmu_B", lines["dl/dmu_B"])  # 1/(m - 1) times sum (x_j - mu_B) = 0
    assert not mu_line["as_written"] and mu_line["given_zero"]
    x_line = tsb.backward_line("dl/dx_i", lines["dl/dx_i"])  # 1/(m - 1) where the chain rule has 1/m: wrong
    assert not x_line["as_written"] and not x_line["given_zero"]
    fixed = lines["dl/dx_i"].subs(tb.m - 1, tb.m)
    assert tsb.backward_line("dl/dx_i", fixed)["as_written"]


def test_variance_shift_falls_as_dropout_weakens():
    trend = tsb.variance_shift_trend((0.5, 1.0))
    assert trend["rising"] and not trend["falling"]
    c, v = 1 / math.sqrt(2 * math.pi), 0.5 - 1 / (2 * math.pi)  # relu of N(0, 1)
    assert math.isclose(trend["relu_ratio"][0.5], 0.5 * v / (v + 0.5 * c * c), rel_tol=1e-12)
    assert trend["relu_ratio"][1.0] == 1.0
    assert not math.isclose(trend["relu_ratio"][0.5], 0.5, rel_tol=1e-6)  # negative control: c = 0 would give p


# ------------------------------------------------------------------------------------------------ dropout
def test_formulas_say_p_off_is_one_minus_p():
    assert _same(tsd.formula_p_off(), 1 - p)
    assert tsd.p_off_agreement(p)["agree_at"] == sp.FiniteSet(sp.Rational(1, 2))  # the sentence: only at 1/2
    assert tsd.p_off_agreement(1 - p)["agree_at"] == tsd.KEEP_RANGE


def test_mask_counts_against_enumeration():
    got = tsd.mask_counts()
    assert _same(got["count"], 2**tsd.n) and _same(got["reuse"], 2 ** (tsd.n - 1)) and got["shared"]
    masks = list(itertools.product((0, 1), repeat=3))  # n = 3 enumerated: 8 masks, 12 kept units over 3 distinct
    assert got["count"].subs(tsd.n, 3) == len(masks)
    assert got["reuse"].subs(tsd.n, 3) == sp.Rational(sum(map(sum, masks)), 3)
    assert got["count"].subs(tsd.n, 3) != 2 * len(masks)  # negative control


def test_expectations_and_ensembles():
    assert _same(tsd.expected_output(), p * f) and _same(tsd.expected_output(1 / p), f)
    assert not _same(tsd.expected_output(), f)  # negative control: plain dropout shrinks the mean
    assert tsd.ensemble_exactness() == {"linear": True, "nonlinear": False}


def test_mask_cases_and_backward():
    cases = tsd.mask_cases(p, D * f)
    assert set(cases) == {(f, p), (sp.Integer(0), 1 - p)}
    assert (f, 1 - p) not in cases  # negative control: the claim's perturbation
    assert all(e == 0 for e in tsd.backward_difference(D, (D, td.FPRIME, td.DELTA)))
    assert any(e != 0 for e in tsd.backward_difference(D, (td.FPRIME, td.DELTA)))  # the mask left out


def test_inverted_dropout_moments():
    inv = tsd.inverted_moments(1 / p, 1)
    assert _same(inv["mean"], f) and _same(inv["variance"], f**2 * (1 - p) / p)
    assert inv["unbiased_scales"] == [1 / p]
    assert not _same(tsd.inverted_moments(p, 1)["mean"], f)  # negative control: scaling by p, not 1/p


def test_ensemble_gaps_tiny():
    from sims.dropout import ensemble_gaps

    gaps = ensemble_gaps(units=3, keep=0.5, seeds=4)
    assert gaps["linear"]["gap_abs_max"] < 1e-12  # linearity of expectation: exact up to rounding
    assert gaps["relu"]["gap_abs_max"] > 1e-6  # a relu after the mask: weight scaling is not the ensemble mean
