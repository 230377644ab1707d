"""Numerically stable activation kernels for simulation: ``phi`` and ``phi'`` on NumPy arrays.

The SymPy expression in :mod:`theory.activations` is the definition; these kernels are rewritings of it that stay
finite and warning-free at extreme inputs (``sigmoid(+-1000)``, ``softplus(1000)``, ``elu(-1000)``) and keep the
input's dtype (float32 or float64). The tests compare every kernel with the SymPy expression evaluated at 30
digits on grids that include the extremes, so a kernel cannot drift from its formula.

Conventions at kinks (measure zero for Gaussian inputs): the positive branch is taken for ``x > 0`` only, so
``relu'(0) = 0``, ``leaky_relu'(0) = a`` and ``elu'(0) = alpha`` (PyTorch's convention).

User expressions fall back to the lambdified SymPy pieces (:func:`theory.activations.evaluator`), with overflow
reported as inf/nan in the output rather than as a warning; the Monte Carlo engine detects non-finite values.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import erfc, expit

from theory.activations import SELU_ALPHA, SELU_LAMBDA, Activation, evaluator, get_activation

Array = np.ndarray
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Kernel:
    """``f(x)`` and ``df(x)`` for one activation; both return arrays of the input's floating dtype."""

    activation: Activation
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    stable: bool  # True for hand-rewritten stable kernels, False for the lambdified fallback
    #: phi' from the output p = phi(h), cheaper in the engine's backward pass (tanh: 1 - p^2, sigmoid: p (1 - p),
    #: relu: p > 0); absolute error <= eps where the output saturates; None: use df(h)
    df_from_output: Callable[[Array], Array] | None = None


def _quiet(fn):
    def wrapped(v):
        v = np.asarray(v)
        if v.dtype.kind != "f":
            v = v.astype(np.float64)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(fn(v), dtype=v.dtype)
    wrapped.__name__ = getattr(fn, "__name__", "kernel")
    return wrapped


def _sigmoid_d(v):
    return expit(v) * expit(-v)  # = s (1 - s) without the cancellation in 1 - s for large x


def _tanh_d(v):
    c = 1 / np.cosh(v)  # = 1 - tanh^2 without cancellation; cosh overflows to inf -> 0 (silenced)
    return c * c


def _elu(alpha, scale=1.0):
    def f(v):
        return scale * np.where(v > 0, v, alpha * np.expm1(np.minimum(v, 0)))

    def df(v):
        return scale * np.where(v > 0, 1.0, alpha * np.exp(np.minimum(v, 0))).astype(v.dtype)
    return f, df


def _leaky(a):
    return (lambda v: np.where(v > 0, v, a * v),
            lambda v: np.where(v > 0, 1.0, a).astype(v.dtype))


def _gelu(v):
    return 0.5 * v * erfc(-v * _SQRT_HALF)


def _gelu_d(v):
    # Phi(x) + x N(x); N underflows to 0 for |x| > 38 without a warning (underflow is ignored)
    return 0.5 * erfc(-v * _SQRT_HALF) + v * np.exp(-0.5 * np.minimum(v * v, 1e4)) * _INV_SQRT_2PI


def _silu_d(v):
    return expit(v) * (1 + v * expit(-v))  # = s + x s (1 - s)


def _named(act: Activation):
    fam, p = act.family, act.param
    if fam == "sigmoid":
        return expit, _sigmoid_d
    if fam == "tanh":
        return np.tanh, _tanh_d
    if fam == "relu":
        return (lambda v: np.maximum(v, 0)), (lambda v: (v > 0).astype(v.dtype))
    if fam == "leaky_relu":
        return _leaky(float(p))
    if fam == "elu":
        return _elu(float(p))
    if fam == "selu":
        return _elu(float(SELU_ALPHA), float(SELU_LAMBDA))
    if fam == "gelu":
        return _gelu, _gelu_d
    if fam == "silu":
        return (lambda v: v * expit(v)), _silu_d
    if fam == "softplus":
        return (lambda v: np.logaddexp(0, v)), expit
    if fam == "linear":
        return (lambda v: v.copy()), (lambda v: np.ones_like(v))
    return None


def _one_minus_square(p):
    d = p * p
    np.subtract(1, d, out=d)
    return d


def _p_one_minus_p(p):
    d = 1 - p
    d *= p
    return d


_FROM_OUTPUT = {"tanh": _one_minus_square, "sigmoid": _p_one_minus_p,
                "relu": lambda p: (p > 0).astype(p.dtype), "linear": lambda p: np.ones_like(p)}


@lru_cache(maxsize=256)
def _kernel(act: Activation) -> Kernel:
    named = _named(act)
    if named is not None:
        f, df = named
        return Kernel(act, _quiet(f), _quiet(df), True, _FROM_OUTPUT.get(act.family))
    ref, dref = evaluator(act), evaluator(act, derivative=True)
    return Kernel(act, _quiet(ref), _quiet(dref), False)


def kernel(spec: str | Activation) -> Kernel:
    """The numeric kernel of an activation given by spec (``'tanh'``, ``'elu:0.5'``, ``'x*tanh(x)'``)."""
    act = spec if isinstance(spec, Activation) else get_activation(spec)
    return _kernel(act)
