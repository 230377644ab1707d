"""Activation facts (theory.activations) against an INDEPENDENT oracle.

The oracle writes each activation and its derivative by hand in mpmath (no SymPy expression of the package is
reused) and integrates against the standard normal density with ``mpmath.quad`` at 30 digits, split at 0 (the
only kink of every activation here). Tolerances (STYLE.md, closed form / quadrature vs numeric float64):
moments rtol 1e-10 (atol 1e-13 for means that vanish), closed form vs the package's own quadrature rtol 1e-12,
extrema 1e-12, float64 evaluation rtol 1e-12. Each comparison has a negative control that must fail at the same
tolerance.
"""
from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from theory import activations as A
from theory import calculus, gaussian
from theory.calculus import x

DPS = 30
SELU_ALPHA_DEC = "1.6732632423543772848170429916717"
SELU_LAMBDA_DEC = "1.0507009873554804934193349852946"
QS = (0.25, 1.0, 4.0)
KEYS = A.MOMENT_KEYS  # ("mean", "second", "derivative_second")

MOMENT_RTOL, MOMENT_ATOL = 1e-10, 1e-13
CLOSED_RTOL, CLOSED_ATOL = 1e-12, 1e-14
EXTREMUM_RTOL = 1e-12
EVAL_RTOL = 1e-12
# The evaluator is the formula as written in float64 (documented): where the formula cancels (log(1 + e^x),
# 1 + erf(x), 1 - tanh^2 in the tails) only absolute accuracy of a few ulps of its O(1) terms survives.
EVAL_ATOL = 8 * np.finfo(np.float64).eps


def close(got: float, want: float, rtol: float, atol: float = 0.0) -> bool:
    return abs(got - want) <= atol + rtol * abs(want)


# ------------------------------------------------------------------------------------------------ the oracle
# Each entry: spec -> (phi, phi'), both functions of an mpf, written by hand. Constants are built inside
# mp.workdps(DPS) by the factory so that they carry 30 digits.
def _sig(u):
    return 1 / (1 + mp.exp(-u))


def _leaky(a):
    a = mp.mpf(a)
    return (lambda u: u if u > 0 else a * u), (lambda u: mp.mpf(1) if u > 0 else a)


def _elu(alpha, lam="1"):
    alpha, lam = mp.mpf(alpha), mp.mpf(lam)
    return (lambda u: lam * (u if u > 0 else alpha * mp.expm1(u)),
            lambda u: lam * (mp.mpf(1) if u > 0 else alpha * mp.exp(u)))


_ORACLE_FACTORIES = {
    "sigmoid": lambda: (_sig, lambda u: _sig(u) * (1 - _sig(u))),
    "tanh": lambda: (mp.tanh, lambda u: mp.sech(u) ** 2),
    "relu": lambda: (lambda u: u if u > 0 else mp.mpf(0), lambda u: mp.mpf(1) if u > 0 else mp.mpf(0)),
    "leaky_relu": lambda: _leaky("0.01"),
    "leaky_relu:0.1": lambda: _leaky("0.1"),
    "leaky_relu:-2": lambda: _leaky("-2"),
    "elu": lambda: _elu("1"),
    "elu:2": lambda: _elu("2"),
    "selu": lambda: _elu(SELU_ALPHA_DEC, SELU_LAMBDA_DEC),
    "gelu": lambda: (lambda u: u * mp.ncdf(u), lambda u: mp.ncdf(u) + u * mp.npdf(u)),
    "silu": lambda: (lambda u: u * _sig(u), lambda u: _sig(u) + u * _sig(u) * (1 - _sig(u))),
    "softplus": lambda: (lambda u: mp.log1p(mp.exp(u)), _sig),
    "linear": lambda: (lambda u: u, lambda u: mp.mpf(1)),
    "x*tanh(x)": lambda: (lambda u: u * mp.tanh(u), lambda u: mp.tanh(u) + u * mp.sech(u) ** 2),
    "Abs(x)": lambda: (lambda u: abs(u), lambda u: mp.sign(u)),
}
NAMED = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "linear"]
MOMENT_SPECS = NAMED + ["leaky_relu:0.1", "elu:2", "x*tanh(x)", "Abs(x)"]
assert sorted(NAMED) == sorted(A.NAMES)


@functools.lru_cache(maxsize=None)
def oracle_moment(spec: str, q: float, key: str) -> float:
    """E[g(sqrt(q) z)], z ~ N(0, 1), g = phi, phi^2 or phi'^2 of the hand-written oracle, at 30 digits."""
    with mp.workdps(DPS):
        phi, dphi = _ORACLE_FACTORIES[spec]()
        g = {"mean": phi, "second": lambda u: phi(u) ** 2, "derivative_second": lambda u: dphi(u) ** 2}[key]
        s = mp.sqrt(mp.mpf(q))
        value = mp.quad(lambda z: g(s * z) * mp.npdf(z), [-mp.inf, 0, mp.inf])  # all kinks are at 0
        return float(value)


@functools.lru_cache(maxsize=None)
def package_moments(spec: str, q: float) -> dict:
    return A.moments(A.get_activation(spec), q)


@functools.lru_cache(maxsize=None)
def oracle_on_grid(spec: str, derivative: bool) -> np.ndarray:
    with mp.workdps(DPS):
        phi, dphi = _ORACLE_FACTORIES[spec]()
        f = dphi if derivative else phi
        return np.array([float(f(mp.mpf(float(v)))) for v in GRID])


GRID = np.linspace(-20.0, 20.0, 400)  # even number of points: 0 (the only kink) is not on the grid
assert not np.any(GRID == 0.0)


# ------------------------------------------------------------------------------------------------ moments
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("q", [q if q == 1.0 else pytest.param(q, marks=pytest.mark.slow) for q in QS])
@pytest.mark.parametrize("spec", MOMENT_SPECS)
def test_moments_match_mpmath_oracle(spec, q, key):
    """Every activation's three moments against mpmath at q = 1 (the other variances of QS in the slow run)."""
    got = package_moments(spec, q)[key]
    want = oracle_moment(spec, q, key)
    assert close(got, want, MOMENT_RTOL, MOMENT_ATOL), \
        f"{spec} q={q} {key}: package {got!r} ({package_moments(spec, q)['method'][key]}), oracle {want!r}"


def test_moment_negative_controls():
    """The same comparison notices a wrong activation, a wrong parameter and a q off by 1e-4."""
    for key in KEYS:  # tanh's moments are not sigmoid's
        assert not close(package_moments("tanh", 1.0)[key], oracle_moment("sigmoid", 1.0, key), MOMENT_RTOL,
                         MOMENT_ATOL)
    for key in KEYS:  # slope 0.1 is not the default 0.01; alpha 2 is not alpha 1
        assert not close(package_moments("leaky_relu:0.1", 1.0)[key], oracle_moment("leaky_relu", 1.0, key),
                         MOMENT_RTOL, MOMENT_ATOL)
        assert not close(package_moments("elu:2", 1.0)[key], oracle_moment("elu", 1.0, key), MOMENT_RTOL,
                         MOMENT_ATOL)
    # q = 1.0001 vs q = 1 (only moments that depend on q: relu's derivative moment and sigmoid's mean do not)
    for spec, key in [("gelu", "mean"), ("gelu", "second"), ("gelu", "derivative_second"), ("relu", "mean"),
                      ("sigmoid", "second"), ("elu", "derivative_second"), ("selu", "second"), ("tanh", "second")]:
        got = A.moments(A.get_activation(spec), 1.0001)[key]
        assert not close(got, oracle_moment(spec, 1.0, key), MOMENT_RTOL, MOMENT_ATOL), (spec, key)


# ------------------------------------------------------------------------------------------------ closed forms
CLOSED = ["relu", "leaky_relu", "leaky_relu:0.1", "elu", "elu:2", "selu", "gelu", "linear"]


def _integrands(act):
    ps = list(A.pieces(act))
    dps = list(A.derivative_pieces(act))
    return {"mean": ps, "second": [calculus.Piece(p.interval, p.expr**2) for p in ps],
            "derivative_second": [calculus.Piece(p.interval, p.expr**2) for p in dps]}


@pytest.mark.parametrize("spec", CLOSED)
def test_closed_forms_exist(spec):
    act = A.get_activation(spec)
    forms = A.moment_closed_forms(act)
    for key in KEYS:
        assert forms[key] is not None, (spec, key)
        assert forms[key].free_symbols <= {gaussian.q}, (spec, key, forms[key])
    assert all(m == "closed form" for m in A.moments(act, 1.0)["method"].values())


@pytest.mark.parametrize("q", QS)
@pytest.mark.parametrize("spec", CLOSED)
def test_closed_form_equals_quadrature(spec, q):
    act = A.get_activation(spec)
    forms, integrands = A.moment_closed_forms(act), _integrands(act)
    for key in KEYS:
        exact = gaussian.evaluate(forms[key], q)
        numeric = gaussian.quadrature(integrands[key], q)
        assert close(exact, numeric, CLOSED_RTOL, CLOSED_ATOL), (spec, q, key, exact, numeric)


def test_closed_form_negative_control():
    relu = A.get_activation("relu")
    exact = gaussian.evaluate(A.moment_closed_forms(relu)["mean"], 1.0)
    assert not close(exact, gaussian.quadrature(_integrands(relu)["mean"], 1.0 + 1e-6), CLOSED_RTOL, CLOSED_ATOL)
    leaky = _integrands(A.get_activation("leaky_relu"))["second"]
    assert not close(gaussian.evaluate(A.moment_closed_forms(relu)["second"], 1.0), gaussian.quadrature(leaky, 1.0),
                     CLOSED_RTOL, CLOSED_ATOL)


def test_selu_fixed_point():
    m = A.moments(A.get_activation("selu"), 1.0)
    assert abs(m["mean"]) < 1e-14
    assert abs(m["second"] - 1.0) < 1e-14
    forms = A.moment_closed_forms(A.get_activation("selu"))
    # the identity is exact: at 30 digits only rounding is left
    assert abs(sp.N(forms["mean"].subs(gaussian.q, 1), DPS)) < 1e-25
    assert abs(sp.N(forms["second"].subs(gaussian.q, 1), DPS) - 1) < 1e-25


def test_selu_fixed_point_negative_control():
    """alpha rounded to 5 digits (1.6733) breaks the fixed point far beyond 1e-14."""
    with mp.workdps(DPS):
        phi, _ = _elu("1.6733", SELU_LAMBDA_DEC)
        mean = mp.quad(lambda z: phi(z) * mp.npdf(z), [-mp.inf, 0, mp.inf])
    assert abs(mean) > 1e-6


def test_selu_constants():
    for expr, dec in ((A.SELU_ALPHA, SELU_ALPHA_DEC), (A.SELU_LAMBDA, SELU_LAMBDA_DEC)):
        value = sp.N(expr, 40)
        assert abs(value - sp.Float(dec, 40)) < 1e-15 * abs(value)
    # negative control: the 8-digit values commonly quoted differ by more than the tolerance
    assert abs(sp.N(A.SELU_ALPHA, 40) - sp.Float("1.6732632", 40)) > 1e-15


# ------------------------------------------------------------------------------------------------ sup |phi'|
def _sup(spec):
    return A.sup_abs_derivative(A.get_activation(spec))


def test_sup_sigmoid_exact_quarter_at_zero():
    b = _sup("sigmoid")
    assert b.value == sp.Rational(1, 4) and b.exact and b.attained
    assert b.where_set() == sp.FiniteSet(0)


def test_sup_tanh():
    b = _sup("tanh")
    assert b.value == 1 and b.exact and b.attained and b.where_set() == sp.FiniteSet(0)


def test_sup_relu_attained():
    b = _sup("relu")
    assert b.value == 1 and b.attained and b.exact
    assert b.where_set() == sp.Interval.open(0, sp.oo)  # not at the kink


def test_sup_softplus_not_attained():
    b = _sup("softplus")
    assert b.value == 1 and not b.attained and b.exact and b.where_set() is None


def test_sup_selu_lambda_alpha_not_attained():
    b = _sup("selu")
    assert not b.attained and b.exact
    assert abs(sp.N(b.value - A.SELU_LAMBDA * A.SELU_ALPHA, 40)) < 1e-30
    with mp.workdps(DPS):
        assert close(b.float, float(mp.mpf(SELU_LAMBDA_DEC) * mp.mpf(SELU_ALPHA_DEC)), 1e-15)


def test_sup_gelu_exact():
    b = _sup("gelu")
    expected = sp.Rational(1, 2) + sp.erf(1) / 2 + sp.exp(-1) / sp.sqrt(sp.pi)
    assert b.exact and b.attained
    assert sp.simplify(b.value - expected) == 0
    assert b.where_set() == sp.FiniteSet(sp.sqrt(2))
    with mp.workdps(DPS):  # oracle: gelu'' = npdf(x) (2 - x^2) vanishes at sqrt(2)
        r = mp.findroot(lambda u: mp.npdf(u) * (2 - u**2), 1.3)
        assert close(float(r), math.sqrt(2), 1e-15)
        assert close(b.float, float(mp.ncdf(r) + r * mp.npdf(r)), EXTREMUM_RTOL)


def _silu_max_oracle():
    """Maximum of silu' = s + x s (1 - s): root of silu'' = s (1 - s) (2 + x (1 - 2 s))."""
    with mp.workdps(DPS):
        d1 = _ORACLE_FACTORIES["silu"]()[1]
        r = mp.findroot(lambda u: _sig(u) * (1 - _sig(u)) * (2 + u * (1 - 2 * _sig(u))), 2.4)
        return r, d1(r), d1


def test_sup_silu_numeric():
    b = _sup("silu")
    r, value, _ = _silu_max_oracle()
    assert not b.exact and b.attained
    assert close(b.float, float(value), EXTREMUM_RTOL)
    (where,) = b.where
    assert close(float(where), float(r), 1e-10)


def test_sup_silu_negative_control():
    b = _sup("silu")
    r, value, d1 = _silu_max_oracle()
    assert not close(b.float, float(value) * (1 + 1e-11), EXTREMUM_RTOL)
    with mp.workdps(DPS):  # silu' one step of 1e-4 off the maximiser: off by ~4e-10 relative
        assert not close(b.float, float(d1(r + mp.mpf("1e-4"))), EXTREMUM_RTOL)


def test_sup_elu2_not_attained():
    b = _sup("elu:2")
    assert b.value == 2 and not b.attained and b.exact  # the left slope 2 e^x tends to 2 at the kink


def test_sup_elu1_attained_at_kink():
    b = _sup("elu")  # both one-sided slopes equal 1 at 0: defined there
    assert b.value == 1 and b.attained


def test_sup_leaky_negative_slope():
    b = _sup("leaky_relu:-2")
    assert b.value == 2 and b.attained and b.where_set() == sp.Interval.open(-sp.oo, 0)
    assert _sup("leaky_relu:0.1").value == 1


# ------------------------------------------------------------------------------------------------ ranges
@pytest.mark.parametrize("spec, interval", [
    ("sigmoid", sp.Interval.open(0, 1)),
    ("tanh", sp.Interval.open(-1, 1)),
    ("relu", sp.Interval(0, sp.oo)),
    ("elu", sp.Interval.open(-1, sp.oo)),
    ("elu:2", sp.Interval.open(-2, sp.oo)),
    ("softplus", sp.Interval.open(0, sp.oo)),
    ("linear", sp.Interval(-sp.oo, sp.oo)),
])
def test_exact_ranges(spec, interval):
    rng, exact = A.value_range(A.get_activation(spec))
    assert exact
    assert rng == interval
    assert (rng.left_open, rng.right_open) == (interval.left_open, interval.right_open)


def _gelu_min_oracle():
    with mp.workdps(DPS):
        phi, d1 = _ORACLE_FACTORIES["gelu"]()
        r = mp.findroot(d1, -0.75)
        return r, phi(r), phi


def test_gelu_range_numeric_minimum():
    rng, exact = A.value_range(A.get_activation("gelu"))
    r, m, _ = _gelu_min_oracle()
    assert not exact
    assert not rng.left_open and rng.right == sp.oo
    assert close(float(rng.left), float(m), EXTREMUM_RTOL)


def test_gelu_range_negative_control():
    rng, _ = A.value_range(A.get_activation("gelu"))
    r, m, phi = _gelu_min_oracle()
    with mp.workdps(DPS):  # the value 1e-4 off the minimiser is off by ~1e-8 relative
        assert not close(float(rng.left), float(phi(r + mp.mpf("1e-4"))), EXTREMUM_RTOL)
    m_silu = float(A.value_range(A.get_activation("silu"))[0].left)  # another activation's minimum
    assert not close(m_silu, float(m), EXTREMUM_RTOL)


# ------------------------------------------------------------------------------------------------ evaluator
EVAL_SPECS = NAMED + ["leaky_relu:0.1", "leaky_relu:-2", "elu:2", "x*tanh(x)", "Abs(x)"]


@pytest.mark.parametrize("derivative", [False, True], ids=["phi", "dphi"])
@pytest.mark.parametrize("spec", EVAL_SPECS)
def test_evaluator_matches_oracle(spec, derivative):
    got = A.evaluator(A.get_activation(spec), derivative=derivative)(GRID)
    want = oracle_on_grid(spec, derivative)
    assert got.shape == GRID.shape and got.dtype == np.float64
    bad = ~(np.abs(got - want) <= EVAL_RTOL * np.abs(want) + EVAL_ATOL)
    if bad.any():
        rel = np.abs(got - want) / np.abs(want)
        worst = int(np.nanargmax(np.where(bad, rel, -1)))
        pytest.fail(f"{spec} {'phi_prime' if derivative else 'phi'}: {bad.sum()} of {GRID.size} grid points off by "
                    f"more than rtol {EVAL_RTOL}, x in [{GRID[bad].min():.3g}, {GRID[bad].max():.3g}]; worst at "
                    f"x = {GRID[worst]:.4g}: package {got[worst]!r}, oracle {want[worst]!r}")


def test_evaluator_negative_control():
    got = A.evaluator(A.get_activation("silu"))(GRID)
    want = oracle_on_grid("gelu", False)
    assert not np.all(np.abs(got - want) <= EVAL_RTOL * np.abs(want) + EVAL_ATOL)
    got = A.evaluator(A.get_activation("elu:2"), derivative=True)(GRID)
    want = oracle_on_grid("elu", True)
    assert not np.all(np.abs(got - want) <= EVAL_RTOL * np.abs(want) + EVAL_ATOL)
    # a perturbation just above the tolerance is caught
    want = oracle_on_grid("tanh", False)
    got = A.evaluator(A.get_activation("tanh"))(GRID) * (1 + 1e-11)
    assert not np.all(np.abs(got - want) <= EVAL_RTOL * np.abs(want) + EVAL_ATOL)


def test_evaluator_at_kinks():
    """phi is continuous at a kink; phi' is nan there unless both one-sided slopes agree (documented)."""
    zero = np.array([0.0])
    assert A.evaluator(A.get_activation("relu"))(zero)[0] == 0.0
    assert np.isnan(A.evaluator(A.get_activation("relu"), derivative=True)(zero)[0])
    assert np.isnan(A.evaluator(A.get_activation("elu:2"), derivative=True)(zero)[0])
    assert A.evaluator(A.get_activation("elu"), derivative=True)(zero)[0] == 1.0


@pytest.mark.parametrize("spec", ["elu", "selu", "elu:2"])
@pytest.mark.parametrize("q", [50.0, 1000.0])
def test_elu_closed_forms_at_large_q(spec, q):
    """Regression: e^(2q) (1 - erf(sqrt(2q))) cancelled to garbage for large q; the erfc form must not."""
    got = package_moments(spec, q)
    for key in KEYS:
        want = oracle_moment(spec, q, key)
        assert close(got[key], want, MOMENT_RTOL, MOMENT_ATOL), (key, got[key], want)
    # negative control at the same tolerance: the q = 1.01 q value differs
    assert not close(package_moments(spec, q * 1.01)["second"], oracle_moment(spec, q, "second"), MOMENT_RTOL)
