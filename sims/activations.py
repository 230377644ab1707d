"""Numerically stable activation kernels for simulation: ``phi`` and ``phi'`` on NumPy arrays, and the one table of
each named activation's numeric facts (:data:`TABLE`): the stable forward and derivative, phi' from the output, the
engine's in-place forward and fused backward, and the torch rule. The Monte Carlo pipeline, the trainer and the
torch backend all read the row of their activation; ``tests/test_sims_activations.py`` checks every row against
the SymPy expression.

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

from sims.workspace import split_rows
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
    #: the engine's p = phi(h) written into p, over two threads (None: ``p[...] = f(h)``)
    inplace: Callable[[Array, Array], None] | None = None
    #: the engine's delta *= phi'(h) from the output p, fused, with scratch tmp (None: from df_from_output or df)
    fused_backward: Callable[[Array, Array, Array], None] | None = None


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


def _one_minus_square(p):
    d = p * p
    np.subtract(1, d, out=d)
    return d


def _p_one_minus_p(p):
    d = 1 - p
    d *= p
    return d


# ------------------------------------------------------------------ the engine's in-place and fused passes
def _tanh_into(h, p):
    split_rows(lambda a, b: np.tanh(a, out=b), h, p)


def _tanh_backward(delta, p, tmp):
    """delta *= 1 - p^2 (tanh' from its output), fused over two threads."""
    def part(d, q, t):
        np.multiply(q, q, out=t)
        np.subtract(1, t, out=t)
        d *= t
    split_rows(part, delta, p, tmp)


def _relu_into(h, p):
    split_rows(lambda a, b: np.maximum(a, 0, out=b), h, p)


def _relu_backward(delta, p, tmp):
    """delta *= (p > 0), relu' from its output, over two threads."""
    def part(d, q, t):
        np.greater(q, 0, out=t)  # t is a float buffer: True -> 1.0
        d *= t
    split_rows(part, delta, p, tmp)


def _sigmoid_backward(delta, p, tmp):
    """delta *= p (1 - p), sigmoid' from its output, over two threads."""
    def part(d, q, t):
        np.subtract(1, q, out=t)
        t *= q
        d *= t
    split_rows(part, delta, p, tmp)


def _linear_into(h, p):
    np.copyto(p, h)


@dataclass(frozen=True)
class Row:
    """One named activation's numeric facts. ``forward`` / ``derivative`` build the stable phi and phi' from the
    family's parameter; ``from_output`` is phi' as a function of p = phi(h) where one exists; ``inplace`` and
    ``fused_backward`` are the engine's passes; ``torch`` names the torch function (``torch.X`` or
    ``torch.nn.functional.X``; None: the identity) and ``torch_backward`` the fused aten backward from the output
    (``tanh_backward``, ``sigmoid_backward``, ``threshold_backward``; ``identity``; None: autograd at h)."""

    forward: Callable
    derivative: Callable
    from_output: Callable[[Array], Array] | None = None
    inplace: Callable[[Array, Array], None] | None = None
    fused_backward: Callable[[Array, Array, Array], None] | None = None
    torch: str | None = None
    torch_backward: str | None = None


def _relu_f(_):
    return lambda v: np.maximum(v, 0)


TABLE: dict[str, Row] = {
    "sigmoid": Row(lambda _: expit, lambda _: _sigmoid_d, _p_one_minus_p, None, _sigmoid_backward, "sigmoid",
                   "sigmoid_backward"),
    "tanh": Row(lambda _: np.tanh, lambda _: _tanh_d, _one_minus_square, _tanh_into, _tanh_backward, "tanh",
                "tanh_backward"),
    "relu": Row(_relu_f, lambda _: (lambda v: (v > 0).astype(v.dtype)), lambda p: (p > 0).astype(p.dtype), _relu_into,
                _relu_backward, "relu", "threshold_backward"),
    "leaky_relu": Row(lambda a: _leaky(float(a))[0], lambda a: _leaky(float(a))[1], torch="leaky_relu"),
    "elu": Row(lambda a: _elu(float(a))[0], lambda a: _elu(float(a))[1], torch="elu"),
    "selu": Row(lambda _: _elu(float(SELU_ALPHA), float(SELU_LAMBDA))[0],
                lambda _: _elu(float(SELU_ALPHA), float(SELU_LAMBDA))[1], torch="selu"),
    "gelu": Row(lambda _: _gelu, lambda _: _gelu_d, torch="gelu"),
    "silu": Row(lambda _: (lambda v: v * expit(v)), lambda _: _silu_d, torch="silu"),
    "softplus": Row(lambda _: (lambda v: np.logaddexp(0, v)), lambda _: expit, torch="softplus"),
    "linear": Row(lambda _: (lambda v: v.copy()), lambda _: (lambda v: np.ones_like(v)), lambda p: np.ones_like(p),
                  _linear_into, lambda d, p, t: None, None, "identity"),
}


@lru_cache(maxsize=256)
def _kernel(act: Activation) -> Kernel:
    row = TABLE.get(act.family)
    if row is not None:
        return Kernel(act, _quiet(row.forward(act.param)), _quiet(row.derivative(act.param)), True, row.from_output,
                      row.inplace, row.fused_backward)
    ref, dref = evaluator(act), evaluator(act, derivative=True)
    return Kernel(act, _quiet(ref), _quiet(dref), False)


def kernel(spec: str | Activation) -> Kernel:
    """The numeric kernel of an activation given by spec (``'tanh'``, ``'elu:0.5'``, ``'x*tanh(x)'``)."""
    act = spec if isinstance(spec, Activation) else get_activation(spec)
    return _kernel(act)
