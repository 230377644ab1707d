"""theory.slides.init: the initialization slides' computations, asserted exactly with SymPy against hand-derived
values; each identity has a negative control (a wrong value the same assert must reject)."""
from __future__ import annotations

import sympy as sp

from theory import variance as V
from theory.init import n_in, n_out
from theory.slides import init as S


def _same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def test_chain_rule_of_the_slide_unit_is_g_sigma1_one_minus_sigma1_times_the_input():
    got = S.chain_rule(S.w2)
    assert S.in_unit_output(got) == sp.factor(S.g * S.s1 * (1 - S.s1) * S.s2)
    assert _same(S.from_unit_output(S.g * S.s1 * (1 - S.s1) * S.s2), got)
    assert not _same(S.from_unit_output(S.g * S.s1 * (1 - S.s1) * S.s3), got)  # the other input: wrong


def test_zero_init_makes_only_the_hidden_units_identical():
    assert S.same_update(2, 3)
    assert not S.same_update(1, 2) and not S.same_update(1, 3)  # the output unit's gradient is not 0


def test_layer_variances_symmetric_and_he_cases():
    sym, he = S.symmetric_layer_variance(), S.he_layer_variance()
    assert _same(sym, V.n_in * V.sigma_w**2 * V.sigma_x**2)
    assert _same(he, V.n_in * V.sigma_w**2 * (V.sigma_x**2 + V.mu_x**2))
    assert not _same(he, sym)  # E[x] != 0 adds n_in Var(w) E[x]^2
    # the slide's symbols map onto theory.variance's: E_x2 n_in Var_w is the He form, Var_x n_in Var_w is not
    assert _same(S.in_variance_symbols(S.E_x2 * n_in * S.var_w), he)
    assert not _same(S.in_variance_symbols(S.var_x * n_in * S.var_w), he)
    assert _same(S.in_variance_symbols(S.var_x * n_in * S.var_w), sym)


def test_uniform_bounds_of_the_slides():
    assert S.uniform_weight_var(1 / sp.sqrt(n_in)) == 1 / (3 * n_in)
    better = S.uniform_weight_var(sp.sqrt(6) / sp.sqrt(n_in))
    assert better == 2 / n_in and better != 1 / n_in  # «Немного лучше» states 1/n_in: off by 2
    a = sp.Symbol("a", positive=True)
    assert S.uniform_bound_for(S.uniform_weight_var(a)) == a  # round trip: a^2/3 solved back for a
    assert S.uniform_bound_for(1 / n_in) == sp.sqrt(3) / sp.sqrt(n_in)
    layer = S.uniform_layer_variance(1 / sp.sqrt(n_in), 1)
    assert (layer["symmetric"], layer["relu_inputs"]) == (sp.Rational(1, 3), sp.Rational(1, 6))


def test_he_weight_variance_is_two_over_n_in_not_xavier():
    assert S.relu_second_moment_ratio() == sp.Rational(1, 2)
    assert S.he_weight_var() == 2 / n_in
    assert S.he_weight_var() != 1 / n_in  # negative control: the Xavier/LeCun variance is off by a factor 2 on ReLU


def test_xavier_bound_meets_the_averaged_condition_only():
    xa = S.xavier_average(sp.sqrt(6) / sp.sqrt(n_in + n_out), (n_in + n_out) / 2)
    assert xa["fan_times_var"] == 1 and xa["both"] == []
    assert (xa["forward"], xa["backward"]) == (1 / n_in, 1 / n_out)
    assert S.xavier_average(sp.sqrt(6) / sp.sqrt(n_in + n_out), n_in)["fan_times_var"] != 1  # forward fan alone


def test_phi_prime_at_zero_and_symmetry_kinds():
    assert S.phi_prime_at_zero("tanh") == 1
    assert S.phi_prime_at_zero("sigmoid") == sp.Rational(1, 4)  # negative control: not every phi has phi'(0) = 1
    kinds = {a: S.symmetry_kind(a) for a in ("tanh", "Abs(x)", "sigmoid", "relu")}
    assert kinds == {"tanh": "odd", "Abs(x)": "even", "sigmoid": "point-symmetric about (0, 1/2)", "relu": "none"}


def test_formula_indices_read_the_latex_as_written():
    clash = S.formula_indices(r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i")
    assert clash == {"left": "i", "summation": ["i"]}
    fixed = S.formula_indices(r"h_j = w_0 + \sum_{i=1}^{n_{in}} w_{ji} x_i")
    assert fixed["left"] not in fixed["summation"]  # negative control: distinct letters


def test_keywords_in_a_code_snippet():
    from theory.slides.init import KERAS_INITIALIZER_KEYWORDS, keywords_in

    assert keywords_in('init="he_uniform"') == ["init"]
    assert keywords_in('Dense(64, kernel_initializer="he_uniform", bias_initializer="zeros")') == list(
        KERAS_INITIALIZER_KEYWORDS)
    assert keywords_in('"he_uniform"') == []
