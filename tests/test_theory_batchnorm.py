"""theory.batchnorm: the slide's backward pass checked line by line, the closed form, running statistics, notation."""
import math

import numpy as np
import pytest
import sympy as sp

from theory import batchnorm as bn
from theory.derivation import get


@pytest.mark.parametrize("name", ["batchnorm-backward", "batchnorm-running-stats"])
def test_derivations_verify(name):
    d = get(name)
    assert d.ok, d.first_failure()


def test_slide_lines_verdicts_are_computed():
    verdicts = {c.name: c.verdict for c in bn.check_slide_lines()}
    assert verdicts == {"dl/dxhat_i": "correct", "dl/dsigma_B^2": "correct",
                        "dl/dmu_B": "correct in value, wrong coefficient", "dl/dx_i": "wrong",
                        "dl/dgamma": "correct", "dl/dbeta": "correct"}
    line4 = bn.check_slide_lines()[3]
    # the difference is the 1/m - 1/(m - 1) of the variance term
    expected = 2 * bn.dl_dvar * (bn.x[bn.i] - bn.mu_B) * (1 / bn.m - 1 / (bn.m - 1))
    assert sp.simplify(line4.difference - expected) == 0


def _recheck(monkeypatch, lines):
    monkeypatch.setattr(bn, "SLIDE_LINES", lines)
    bn.check_slide_lines.cache_clear()
    try:
        return {c.name: c.verdict for c in bn.check_slide_lines()}
    finally:
        bn.check_slide_lines.cache_clear()


def test_corrected_slide_is_all_correct(monkeypatch):
    """The checker is not a list of known errors: with 1/m in lines 3 and 4 every line is correct."""
    fixed = tuple((name, expr.subs(bn.m - 1, bn.m), tex) for name, expr, tex in bn.SLIDE_LINES)
    assert set(_recheck(monkeypatch, fixed).values()) == {"correct"}


def test_perturbed_correct_line_is_caught(monkeypatch):
    """Negative control: flipping the sign of the -1/2 in line 2 makes that line wrong."""
    lines = list(bn.SLIDE_LINES)
    name, expr, tex = lines[1]
    lines[1] = (name, expr.subs(sp.Rational(-1, 2), sp.Rational(1, 2)), tex)
    assert _recheck(monkeypatch, tuple(lines))["dl/dsigma_B^2"] == "wrong"


def _numeric_grad(mm, xs, dys, g, e):
    """Central differences of l = sum dy_i y_i in float64 (an oracle independent of SymPy)."""
    def loss(v):
        mu = v.mean()
        return float(np.sum(dys * (g * (v - mu) / np.sqrt(((v - mu) ** 2).mean() + e))))
    h = 1e-6
    out = []
    for k in range(mm):
        d = np.zeros(mm)
        d[k] = h
        out.append((loss(xs + d) - loss(xs - d)) / (2 * h))
    return np.array(out)


@pytest.mark.parametrize("mm", [2, 3, 5])
def test_explicit_backward_against_finite_differences(mm):
    ex = bn.explicit_backward(mm)
    rng = np.random.default_rng(mm)
    xs, dys = rng.standard_normal(mm), rng.standard_normal(mm)
    g, e = 1.3, 0.05
    f = sp.lambdify((ex.x, ex.dy, ex.gamma, ex.eps), ex.dx, "numpy")
    got = np.array(f(xs, dys, g, e), dtype=float)
    # truncation O(h^2 * l''') ~ 1e-12 and rounding O(eps_mach * |l| / h) ~ 1e-10 for |l| ~ 1
    np.testing.assert_allclose(got, _numeric_grad(mm, xs, dys, g, e), atol=1e-8)


def test_same_function_of_batch_rejects_a_wrong_closed_form():
    """Negative control for the exact test: (m - 1) in place of m in mean(dy xhat) is not the gradient."""
    ex = bn.explicit_backward(3)
    xh = [(v - sum(ex.x) / 3) / ex.sigma for v in ex.x]
    wrong = ex.gamma / ex.sigma * (ex.dy[0] - sum(ex.dy) / 3 - xh[0] * sum(d * v for d, v in zip(ex.dy, xh)) / 2)
    assert bn.same_function_of_batch(ex.dx[0], ex.closed_form[0], ex)
    assert not bn.same_function_of_batch(ex.dx[0], wrong, ex)


def test_counterexample_slide_gradient_differs_and_corrected_lines_agree():
    c = bn.check_slide_lines()[3].counterexample
    slide = [sp.sympify(v) for v in c["slide_dx"]]
    true = [sp.sympify(v) for v in c["true_dx"]]
    assert all(sp.simplify(a - b) != 0 for a, b in zip(slide, true))
    # the true values are the closed form at the same point
    ex = bn.explicit_backward(c["m"])
    pt = {**dict(zip(ex.x, map(sp.sympify, c["x"]))), **dict(zip(ex.dy, map(sp.sympify, c["dy"]))),
          ex.gamma: 1, ex.eps: sp.sympify(c["eps"])}
    assert all(sp.simplify(cf.subs(pt) - t) == 0 for cf, t in zip(ex.closed_form, true))


def test_general_closed_form_residual_vanishes_only_for_the_batch_mean():
    _, residual = bn.general_closed_form()
    assert residual != 0  # for an arbitrary mu_B the chain rule is not the closed form
    assert sp.simplify(residual.subs(bn.mu_B, bn.MEAN)) == 0


def test_scale_and_shift_notation_is_inconsistent_across_slides(monkeypatch):
    got = bn.scale_shift_notation()
    assert got["slides"]["Проблема"] == {"scale": "beta", "shift": "gamma"}
    assert got["slides"]["Forward pass"] == {"scale": "gamma", "shift": "beta"}
    assert got["consistent"] is False
    monkeypatch.setattr(bn, "NOTATION", (("a", bn.gamma * bn.h_hat + bn.beta, bn.h_hat),
                                         ("b", bn.gamma * bn.h_hat + bn.beta, bn.h_hat)))
    assert bn.scale_shift_notation()["consistent"] is True


def test_running_stat_conventions():
    r, v = 2.0, 5.0
    assert math.isclose(float(bn.torch_update(r, v, 0.1)), 0.9 * r + 0.1 * v)
    assert math.isclose(float(bn.keras_update(r, v, 0.99)), 0.99 * r + 0.01 * v)
    # the same update needs momentum 0.1 in torch and 0.9 in keras
    assert math.isclose(float(bn.torch_update(r, v, 0.1)), float(bn.keras_update(r, v, 0.9)))
    assert not math.isclose(float(bn.torch_update(r, v, 0.1)), float(bn.keras_update(r, v, 0.99)))
    mm, ev = bn.expected_batch_variances()
    assert sp.simplify(ev - sp.Rational(mm - 1, mm) * bn.sigma2) == 0
