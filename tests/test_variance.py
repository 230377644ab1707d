"""Variance identities (theory.variance): exact SymPy identities, float constants, Monte Carlo, derivations.

Oracles independent of the module's own route: ``sympy.stats.variance`` on laws the module does not use (the
Piecewise ``Uniform``, a shifted ``Exponential``), scipy's ``truncnorm``, Keras' constant 0.87962566103423978, and
NumPy samples. Statistical checks compare a replica mean with theory at z = 4.5 standard errors, the error estimated
from independent replicas (STYLE.md), each with a negative control that must fail at the same tolerance.
Negative controls for derivations: a perturbed step must fail, and at that step.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
import scipy.stats
import sympy as sp
from sympy.stats import Expectation, Exponential, Normal, Uniform, Variance, variance
from sympy.stats.rv import RandomSymbol

from theory import derivation as D
from theory import variance as V
from theory.derivation import Derivation, Step

from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)
KERAS_TRUNCATED_NORMAL_STD = 0.87962566103423978  # keras.initializers.VarianceScaling: stddev / .879...
MINE = ("product-variance", "layer-variance", "uniform-variance")
mu_w, mu_x, sigma_w, sigma_x, n_in = V.mu_w, V.mu_x, V.sigma_w, V.sigma_x, V.n_in
PRODUCT = mu_x**2 * sigma_w**2 + mu_w**2 * sigma_x**2 + sigma_x**2 * sigma_w**2  # the slide's formula, typed


def _zero(e) -> bool:
    return sp.simplify(e) == 0


@functools.lru_cache(maxsize=None)
def built(name: str) -> Derivation:
    """One verified instance per name; the builders are called directly (the registry may list modules that are
    still being written, so ``D.names()`` is not used here)."""
    return D._REGISTRY[name][1]()


# ------------------------------------------------------------------------------------------- exact identities
def test_product_variance_closed_form():
    assert _zero(V.product_variance() - PRODUCT)


@pytest.mark.parametrize("family", ["uniform", "shifted-exponential"])
def test_product_variance_other_families(family):
    """sympy.stats.variance on laws with the same two moments gives the same expression: not a normal-only fact."""
    if family == "uniform":
        w = Uniform("w", mu_w - sp.sqrt(3) * sigma_w, mu_w + sp.sqrt(3) * sigma_w)
        x = Uniform("x", mu_x - sp.sqrt(3) * sigma_x, mu_x + sp.sqrt(3) * sigma_x)
    else:
        w = mu_w - sigma_w + Exponential("w", 1 / sigma_w)
        x = mu_x - sigma_x + Exponential("x", 1 / sigma_x)
    assert _zero(variance(w * x) - V.product_variance())


def test_product_variance_needs_independence():
    """Negative control: x = w (fully dependent) does not obey the formula."""
    w = Normal("w", mu_w, sigma_w)
    dependent = V.evaluate(Variance(w * w))
    assert not _zero(dependent - PRODUCT.subs({mu_x: mu_w, sigma_x: sigma_w}))
    assert _zero(dependent - (4 * mu_w**2 * sigma_w**2 + 2 * sigma_w**4))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sum_variance_explicit(n):
    assert _zero(V.sum_variance(n) - n * V.sigma**2)


def test_sum_variance_symbolic():
    m = sp.Symbol("m", positive=True, integer=True)
    assert _zero(V.sum_variance(m) - m * V.sigma**2)
    assert _zero(V.sum_variance() - V.n * V.sigma**2)
    with pytest.raises(ValueError):
        V.sum_variance(0)


def test_uniform_variances():
    a, b, c = V.a, V.b, sp.Symbol("r", positive=True)
    assert _zero(V.uniform_interval_variance() - (b - a) ** 2 / 12)
    assert _zero(V.uniform_variance(c) - c**2 / 3)
    assert V.uniform_variance(sp.Rational(1, 20)) == sp.Rational(1, 1200)  # keras_uniform U[-0.05, 0.05]
    assert V.uniform_interval_variance(2, 5) == sp.Rational(3, 4)
    for bad in (lambda: V.uniform_variance(-1), lambda: V.uniform_interval_variance(5, 2),
                lambda: V.truncated_normal_variance(1, 0), lambda: V.normal_variance(-2)):
        with pytest.raises(ValueError):
            bad()


def test_slide_uniform_examples():
    """'Плохая инициализация весов': U[+-1/sqrt(n_in)] has 1/(3 n_in) (slide right). 'Немного лучше':
    U[+-sqrt(6)/sqrt(n_in)] has 2/n_in, not the slide's 1/n_in; 1/n_in needs the bound sqrt(3)/sqrt(n_in)."""
    assert _zero(V.uniform_variance(1 / sp.sqrt(n_in)) - 1 / (3 * n_in))
    better = V.uniform_variance(sp.sqrt(6) / sp.sqrt(n_in))
    assert _zero(better - 2 / n_in) and not _zero(better - 1 / n_in)
    assert _zero(V.uniform_variance(sp.sqrt(3) / sp.sqrt(n_in)) - 1 / n_in)


def test_normal_variance():
    assert _zero(V.normal_variance() - V.sigma**2)
    assert V.normal_variance(sp.Rational(1, 2)) == sp.Rational(1, 4)


def _phi(k):
    return sp.exp(-k**2 / 2) / sp.sqrt(2 * sp.pi)


def _Phi(k):
    return (1 + sp.erf(k / sp.sqrt(2))) / 2


def test_truncated_normal_variance_symbolic():
    s, k = V.sigma, V.k
    closed = s**2 * (1 - 2 * k * _phi(k) / (2 * _Phi(k) - 1))
    assert _zero(V.truncated_normal_variance(s, k) - closed)
    assert _zero(V.truncated_normal_variance(s, 2) - closed.subs(k, 2))
    assert _zero(V.truncated_normal_std_factor(2) ** 2 - closed.subs({k: 2, s: 1}))


def test_truncated_normal_floats():
    factor = V.truncated_normal_std_factor(2)
    value = float(sp.N(factor, 30))
    assert value == pytest.approx(KERAS_TRUNCATED_NORMAL_STD, rel=1e-15, abs=0)
    assert value**2 == pytest.approx(0.7737413035499232, rel=1e-15, abs=0)
    assert value == pytest.approx(scipy.stats.truncnorm(-2, 2).std(), rel=1e-15, abs=0)
    var = sp.lambdify(V.sigma, V.truncated_normal_variance(V.sigma, 2), "math")
    assert var(0.3) == pytest.approx(0.09 * value**2, rel=1e-14, abs=0)
    assert var(0.3) == pytest.approx(scipy.stats.truncnorm(-2, 2, scale=0.3).var(), rel=1e-12, abs=0)


# ------------------------------------------------------------------------------------------------- Monte Carlo
def _replicas(seed: int, count: int):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]


def _mean_se(values):
    values = np.asarray(values)
    return values.mean(), values.std(ddof=1) / math.sqrt(len(values))


def test_product_variance_monte_carlo():
    """w uniform, x shifted exponential (E[x] != 0): the sample variance of w x matches; dropping E[x]^2 Var(w)
    (the symmetric-case formula applied where E[x] != 0) is caught at the same tolerance."""
    mw, sw, mx, sx = 0.5, 1.0, 2.0, 1.5
    values = {mu_w: mw, sigma_w: sw, mu_x: mx, sigma_x: sx}
    theory = float(V.product_variance().subs(values))
    wrong = theory - mx**2 * sw**2
    estimates = []
    for rng in _replicas(20240611, 32):
        w = rng.uniform(mw - math.sqrt(3) * sw, mw + math.sqrt(3) * sw, size=20_000)
        x = mx - sx + rng.exponential(sx, size=20_000)
        estimates.append(np.var(w * x, ddof=1))
    mean, se = _mean_se(estimates)
    assert abs(mean - theory) < Z * se, (mean, theory, se)
    assert abs(mean - wrong) > Z * se, (mean, wrong, se)


def _truncated_normal(rng, std, size, k=2.0):
    """N(0, std^2) redrawn until |z| < k std (Keras / TF truncated_normal)."""
    out = np.empty(0)
    while out.size < size:
        z = rng.normal(0.0, std, size=size)
        out = np.concatenate([out, z[np.abs(z) < k * std]])
    return out[:size]


def test_truncated_normal_monte_carlo():
    """Truncated N(0, s^2) has variance s^2 * 0.7737...; the untruncated s^2 is rejected; Keras' corrected stddev
    s / 0.8796... restores s^2."""
    s = 0.7
    factor = float(sp.N(V.truncated_normal_std_factor(2), 20))
    theory = float(V.truncated_normal_variance(V.sigma, 2).subs(V.sigma, s))
    plain, corrected = [], []
    for rng in _replicas(7, 32):
        plain.append(np.var(_truncated_normal(rng, s, 20_000), ddof=1))
        corrected.append(np.var(_truncated_normal(rng, s / factor, 20_000), ddof=1))
    mean, se = _mean_se(plain)
    assert abs(mean - theory) < Z * se, (mean, theory, se)
    assert abs(mean - s**2) > Z * se, (mean, s**2, se)
    mean_c, se_c = _mean_se(corrected)
    assert abs(mean_c - s**2) < Z * se_c, (mean_c, s**2, se_c)
    assert abs(mean_c - theory) > Z * se_c


# ------------------------------------------------------------------------------------------------- derivations
def test_registered_under_their_names():
    for name in MINE:
        summary, build = D._REGISTRY[name]
        assert summary.strip() and callable(build)


@pytest.mark.parametrize("name", MINE)
def test_derivation_verifies(name):
    d = built(name)
    assert isinstance(d, Derivation) and d.name == name
    assert d.ok, f"{name}: step {d.first_failure().index} fails: {d.first_failure().detail}"
    text = d.render("text")
    assert "verified: all steps hold" in text and "FAILED" not in text
    assert d.to_dict()["verified"] is True
    for fmt in ("markdown", "latex"):
        assert d.render(fmt)


def _perturbed(name: str, index: int, **changes) -> Derivation:
    """The registered derivation with step ``index`` (1-based) changed."""
    d = built(name)
    steps = list(d.steps)
    steps[index - 1] = dataclasses.replace(steps[index - 1], **changes)
    return Derivation(d.name, d.title, steps, d.assumptions)


def _step(name: str, index: int) -> Step:
    return built(name).steps[index - 1]


def test_product_variance_final_step():
    d = built("product-variance")
    assert _zero(d.steps[3].rhs - PRODUCT)


@pytest.mark.parametrize("index, rhs", [
    (4, PRODUCT - mu_x**2 * sigma_w**2),  # drop E[x]^2 Var(w)
    (3, (sigma_w**2 + mu_w**2) * (sigma_x**2 + mu_x**2)),  # forget to subtract E[w]^2 E[x]^2
])
def test_product_variance_perturbed_fails_there(index, rhs):
    d = _perturbed("product-variance", index, rhs=rhs)
    assert not d.ok and d.first_failure().index == index


def _dependent(step: Step, lhs, old, new) -> tuple[bool, str]:
    """Apply ``step``'s own check with the random symbol ``old`` replaced by ``new`` on both sides."""
    return dataclasses.replace(step, rhs=step.rhs.xreplace({old: new})).verify(lhs.xreplace({old: new}))


def test_product_variance_independence_step_detects_dependence():
    """Step 2's check with x replaced by w (fully dependent factors): E[w^4] - E[w^2]^2 != E[w^2]^2 - E[w]^4."""
    lhs = _step("product-variance", 1).rhs
    w, x = sorted(lhs.atoms(RandomSymbol), key=str)
    ok, detail = _dependent(_step("product-variance", 2), lhs, x, w)
    assert not ok, detail


def test_layer_variance_result():
    d = built("layer-variance")
    w = Normal("w_1", mu_w, sigma_w)
    x = Normal("x_1", mu_x, sigma_x)
    assert _zero(V.evaluate(d.steps[7].rhs) - n_in * sigma_w**2 * sigma_x**2)
    assert _zero(V.evaluate(d.steps[10].rhs) - n_in * sigma_w**2 * V.evaluate(Expectation(x**2)))
    assert {w, x} <= d.steps[7].rhs.atoms(RandomSymbol)


@pytest.mark.parametrize("index, rhs", [
    (8, n_in * Variance(Normal("w_1", mu_w, sigma_w)) * Variance(Normal("x_1", mu_x, sigma_x)) / 2),
    (3, 3 * (sigma_w**2 * sigma_x**2)),  # the zero-mean result used before its assumptions
    (10, n_in * sigma_w**2 * sigma_x**2),  # He case: E[x]^2 forgotten
])
def test_layer_variance_perturbed_fails_there(index, rhs):
    d = _perturbed("layer-variance", index, rhs=rhs)
    assert not d.ok and d.first_failure().index == index


def test_layer_variance_random_bias_fails_step_1():
    """A random (not constant) bias does change the variance: step 1 must fail."""
    d = built("layer-variance")
    bias = V.FAMILIES["two-point(1/2)"]("b", 0, 1)  # any non-degenerate law; a discrete one keeps it fast
    w0 = sp.Symbol("w_0", real=True)
    d2 = _perturbed("layer-variance", 1, lhs=d.steps[0].lhs.xreplace({w0: bias}))
    assert not d2.ok and d2.first_failure().index == 1


def test_layer_variance_shared_input_fails_step_2():
    """Independence matters: with x_2 = x_1 (two weights reading the same input) the covariance is
    E[w]^2 Var(x) != 0 and the 'variances add' step fails."""
    d = built("layer-variance")
    xs = sorted((r for r in d.steps[0].lhs.atoms(RandomSymbol) if str(r).startswith("x")), key=str)
    ok, detail = _dependent(d.steps[1], d.steps[0].rhs, xs[1], xs[0])
    assert not ok, detail


def test_uniform_variance_perturbed_fails_there():
    a, b = V.a, V.b
    d = _perturbed("uniform-variance", 4, rhs=(b - a) ** 2 / 6)
    assert not d.ok and d.first_failure().index == 4
    d = _perturbed("uniform-variance", 2, rhs=sp.Integral(V._t**2, (V._t, a, b)) - sp.Integral(V._t, (V._t, a, b)) ** 2)
    assert not d.ok and d.first_failure().index == 2
