"""theory.batchnorm_rate: the gradient-explosion rate of batch-normalized networks (Yang et al. 2019).

Oracle: x_hat sampled uniform on the radius-sqrt(B) sphere in 1-perp and g ~ N(0, G) (numpy, fixed seed); k, k^2,
r, s^2, |P D g|^2 (P applied directly, not through the k/r/s identity) and |G relu(x_hat)|^2 are compared with the
closed forms at z = 4.5 standard errors of the mean of independent samples, and the rate B E|P D g|^2 /
((B-3) E|G relu|^2) with a delta-method standard error. Negative controls at the same z: the moments of uncorrelated
coordinates (theta = pi/2, ignoring cos(theta) = -1/(B-1)), the rate they give, and the no-BN He value 1.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
import sympy as sp

from theory import batchnorm_rate as br
from theory import derivation as D
from theory.errors import SpecError

from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)
N = 200_000
SEED = 20190221
BATCHES = (4, 5, 8, 16)


@functools.lru_cache(maxsize=None)
def registered():
    return D.get("batchnorm-gradient-rate")


def _step(pred):
    return next(s for s in registered().steps if pred(s))


# ------------------------------------------------------------------------------------------------ derivation
def test_derivation_registered_and_verifies():
    assert "batchnorm-gradient-rate" in D.names()
    d = registered()
    assert d.ok, f"step {d.first_failure().index} fails: {d.first_failure().detail}"
    assert "verified: all steps hold" in d.render("text")


def test_jacobian_step_rejects_a_wrong_jacobian():
    step = _step(lambda s: s.lhs == sp.Derivative(br._X, br._H))
    assert step.verify(step.lhs)[0]
    for wrong in (br._G / br._sigma, (br._G - br._X * br._X.T / (br.B - 1)) / br._sigma, br._P):
        ok, detail = dataclasses.replace(step, rhs=wrong).verify(step.lhs)
        assert not ok, wrong


def test_projection_step_rejects_a_wrong_projection():
    step = _step(lambda s: s.lhs == br._P * br._P)
    wrong = br._G - br._X * br._X.T / (br.B - 1)
    assert not dataclasses.replace(step, lhs=wrong * wrong, rhs=wrong).verify(wrong * wrong)[0]


def test_moment_and_limit_steps_reject_wrong_values():
    s2 = _step(lambda s: s.rhs == br.relu_moments()["s2"])
    assert not dataclasses.replace(s2, rhs=br.relu_moments(sp.pi / 2)["s2"]).verify(s2.lhs)[0]
    lim = _step(lambda s: s.rhs == br.RELU_RATE_LIMIT)
    assert not dataclasses.replace(lim, rhs=sp.Integer(1)).verify(lim.lhs)[0]  # the He value is not the limit


# ------------------------------------------------------------------------------------------------ values
@pytest.mark.parametrize("b", [4, 5, 8, 16, 64])
def test_linear_rate_exact(b):
    assert br.rate_expr("linear").subs(br.B, b) == sp.Rational(b - 2, b - 3)
    assert br.gradient_rate("linear", b) == pytest.approx((b - 2) / (b - 3), rel=1e-14)


@pytest.mark.parametrize("b", [4, 8, 16, 64, 10**6])
def test_relu_float_matches_high_precision(b):
    exact = br.RELU_RATE.subs(br.B, b).evalf(40)
    assert br.gradient_rate("relu", b) == pytest.approx(float(exact), rel=1e-12)


def test_relu_values_order_and_limit():
    vals = [br.gradient_rate("relu", b) for b in (4, 5, 8, 16, 64, 1024)]
    assert vals == sorted(vals, reverse=True)
    assert all(v > br.gradient_rate("linear", b) for v, b in zip(vals, (4, 5, 8, 16, 64, 1024)))
    assert vals[0] == pytest.approx(3.0840609480877, rel=1e-12)
    limit = math.pi / (math.pi - 1)
    assert br.gradient_rate("relu", 10**8) == pytest.approx(limit, rel=1e-7)
    assert all(v > limit > 1 for v in vals)


@pytest.mark.parametrize("batch", [3, 2, 1, 0, -5, 4.0, 8.5, True, "8", None])
def test_small_or_non_integer_batch_is_a_spec_error(batch):
    with pytest.raises(SpecError, match="diverges") as info:
        br.gradient_rate("relu", batch)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "leaky_relu:0.1", "ReLU", "identity", "relu "])
def test_no_closed_form_is_none(name):
    assert br.rate_expr(name) is None
    assert br.gradient_rate(name, 8) is None


def test_rate_activations_have_closed_forms():
    assert br.RATE_ACTIVATIONS == ("linear", "relu")
    assert all(isinstance(br.rate_expr(a), sp.Expr) for a in br.RATE_ACTIVATIONS)
    with pytest.raises(SpecError):
        br.rate_expr(None)


# ------------------------------------------------------------------------------------------------ Monte Carlo
@functools.lru_cache(maxsize=None)
def _samples(b: int) -> dict[str, np.ndarray]:
    """Per-sample functionals of x_hat uniform on the radius-sqrt(b) sphere in 1-perp and g ~ N(0, G)."""
    rng = np.random.default_rng([SEED, b])
    z = rng.standard_normal((N, b))
    z -= z.mean(axis=1, keepdims=True)
    x = z * (math.sqrt(b) / np.linalg.norm(z, axis=1, keepdims=True))
    w = rng.standard_normal((N, b))
    g = w - w.mean(axis=1, keepdims=True)
    pos = x > 0
    v = np.where(pos, g, 0.0)  # D g
    pv = v - v.mean(axis=1, keepdims=True) - x * ((x * v).sum(axis=1, keepdims=True) / b)  # P v, P = G - x x^T/B
    relu = np.where(pos, x, 0.0)
    grelu = relu - relu.mean(axis=1, keepdims=True)
    kk = pos.sum(axis=1).astype(float)
    return {"k": kk, "k2": kk**2, "r": (relu**2).sum(axis=1), "s2": relu.sum(axis=1) ** 2,
            "T": (pv**2).sum(axis=1), "N": (grelu**2).sum(axis=1)}


def _theory(b: int, angle=br.THETA) -> dict[str, float]:
    m = br.relu_moments(angle)
    out = {key: float(e.subs(br.B, b)) for key, e in m.items()}
    out["T"] = float(br.expect(br.TRACE_IDENTITY, m).subs(br.B, b))
    out["N"] = float(br.expect(br.GRELU_IDENTITY, m).subs(br.B, b))
    return out


def _z(sample: np.ndarray, value: float) -> float:
    return abs(sample.mean() - value) / (sample.std(ddof=1) / math.sqrt(sample.size))


@pytest.mark.parametrize("b", BATCHES)
def test_relu_moments_monte_carlo(b):
    smp, th = _samples(b), _theory(b)
    for key in ("k", "k2", "r", "s2", "T", "N"):
        assert _z(smp[key], th[key]) < Z, (key, smp[key].mean(), th[key])
    # the closed forms of T and a are those the moments give
    assert th["T"] == pytest.approx(float(br.RELU_TRACE.subs(br.B, b)), rel=1e-12)
    assert th["N"] / (b - 1) == pytest.approx(float(br.RELU_KERNEL_EIG.subs(br.B, b)), rel=1e-12)


@pytest.mark.parametrize("b", [4, 5])
def test_uncorrelated_moments_are_rejected(b):
    smp, wrong = _samples(b), _theory(b, sp.pi / 2)
    for key in ("k2", "s2", "T", "N"):
        assert _z(smp[key], wrong[key]) > Z, (key, smp[key].mean(), wrong[key])


def _rate_z(b: int, value: float) -> float:
    smp = _samples(b)
    t, n = smp["T"], smp["N"]
    ratio = t.mean() / n.mean()
    se = (t - ratio * n).std(ddof=1) / (math.sqrt(t.size) * n.mean())  # delta method for a ratio of means
    scale = b / (b - 3)
    return abs(scale * ratio - value) / (scale * se)


@pytest.mark.parametrize("b", BATCHES)
def test_relu_rate_monte_carlo(b):
    assert _rate_z(b, br.gradient_rate("relu", b)) < Z
    assert _rate_z(b, 1.0) > Z  # the no-BN He value


@pytest.mark.parametrize("b", [4, 5])
def test_rate_from_uncorrelated_moments_is_rejected(b):
    m = br.relu_moments(sp.pi / 2)
    wrong = br.RATE.subs({br.a: br.expect(br.GRELU_IDENTITY, m) / (br.B - 1), br.T: br.expect(br.TRACE_IDENTITY, m)})
    assert _rate_z(b, float(wrong.subs(br.B, b))) > Z
