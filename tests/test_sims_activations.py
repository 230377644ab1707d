"""Stable numeric kernels vs the SymPy expressions they rewrite, on grids that include the extremes."""
import functools

import mpmath
import numpy as np
import pytest
import sympy as sp

from sims.activations import kernel
from theory.activations import NAMES, derivative_pieces, get_activation, pieces
from theory.calculus import x

SPECS = [*NAMES, "leaky_relu:0.1", "elu:2", "x*tanh(x)", "Abs(x) + x**3/10"]
GRID = np.concatenate([[-1000.0, -700.0, -100.0, -40.0], np.linspace(-20, 20, 81) + 0.013, [40.0, 100.0, 700.0, 1000.0]])
EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _exact(act, values, derivative=False):
    """The formula at 350 digits, with what bounds a stable kernel's float rounding at each point.

    Returns (value, scale, cond): ``scale`` is sum |terms| of the piece's additive terms (rounding in a sum is
    bounded by eps * sum|terms|) and ``cond`` = |x g'(x) / g(x)| is the condition number (rounding the input
    alone moves the output by cond * eps relatively; e.g. gelu at x = -20 has cond ~ 400). 350 digits because
    the formulas as written cancel: 1 + erf(x/sqrt(2)) at x = -40 is 1e-350.
    """
    ps = derivative_pieces(act) if derivative else pieces(act)
    want, scale, cond = [], [], []
    with mpmath.workdps(350):
        for v in values:
            piece = next(p for p in ps if p.interval.contains(sp.Float(v, 30)))
            term_fns, slope_fn = _compiled(piece.expr)
            terms = [t(mpmath.mpf(v)) for t in term_fns]
            slope = slope_fn(mpmath.mpf(v))
            value = sum(terms)
            want.append(float(value))
            scale.append(float(sum(abs(t) for t in terms)) if len(terms) > 1 else 0.0)
            cond.append(float(abs(v * slope / value)) if value != 0 else 0.0)
    return np.array(want), np.array(scale), np.array(cond)


@functools.lru_cache(maxsize=None)
def _compiled(expr):
    return ([sp.lambdify(x, t, modules="mpmath") for t in sp.Add.make_args(expr)],
            sp.lambdify(x, sp.diff(expr, x), modules="mpmath"))


def _tolerance(eps, value, scale, cond):
    return 8 * eps * (np.abs(value) * (1 + cond) + scale) + 1e-300


def _close(got, want, rtol, atol=1e-300):
    return np.abs(got - want) <= rtol * np.abs(want) + atol


@pytest.mark.parametrize("spec", SPECS)
def test_kernel_matches_sympy_float64(spec):
    act = get_activation(spec)
    k = kernel(act)
    grid = GRID if k.stable else GRID[np.abs(GRID) <= 40]  # the lambdified fallback is not claimed stable
    want_f, scale_f, cond_f = _exact(act, grid)
    want_d, scale_d, cond_d = _exact(act, grid, derivative=True)
    got_f, got_d = k.f(grid), k.df(grid)
    # a few ulps, times the condition number, plus a few ulps of the terms that cancel
    ok_f = np.abs(got_f - want_f) <= _tolerance(EPS64, want_f, scale_f, cond_f)
    ok_d = np.abs(got_d - want_d) <= _tolerance(EPS64, want_d, scale_d, cond_d)
    assert ok_f.all(), (grid[~ok_f], got_f[~ok_f], want_f[~ok_f])
    assert ok_d.all(), (grid[~ok_d], got_d[~ok_d], want_d[~ok_d])


@pytest.mark.parametrize("spec", SPECS)
def test_kernel_float32_and_no_warnings(spec):
    k = kernel(spec)
    g32 = GRID.astype(np.float32)
    f, d = k.f(g32), k.df(g32)  # filterwarnings=error: any overflow warning fails the test
    assert f.dtype == np.float32 and d.dtype == np.float32
    if k.stable:
        assert np.isfinite(f).all() and np.isfinite(d).all()
        act = get_activation(spec)
        for got, (want, scale, cond) in ((f, _exact(act, g32.astype(np.float64))),
                                          (d, _exact(act, g32.astype(np.float64), derivative=True))):
            tiny = np.finfo(np.float32).tiny  # below the normal range only absolute accuracy (flush to 0 allowed)
            ok = np.abs(got - want) <= _tolerance(EPS32, want, scale, cond) + tiny
            assert ok.all(), (g32[~ok], got[~ok], want[~ok])


def test_extremes_named_in_the_issue():
    big = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(kernel("sigmoid").f(big), [0.0, 1.0])
    assert kernel("softplus").f(np.array([1000.0]))[0] == 1000.0
    assert kernel("elu").f(np.array([-1000.0]))[0] == -1.0
    assert kernel("sigmoid").df(big).tolist() == [0.0, 0.0]


def test_negative_control_naive_kernel_is_caught():
    """The comparison used above must notice a kernel that is off by one ulp-scale-exceeding amount or unstable."""
    act = get_activation("softplus")
    want = _exact(act, GRID)[0]
    with np.errstate(over="ignore"):
        naive = np.log1p(np.exp(GRID))  # overflows to inf at 1000
    assert not _close(naive, want, 8 * EPS64).all()
    sloppy = kernel("tanh").f(GRID) * (1 + 1e-13)
    assert not _close(sloppy, _exact(get_activation("tanh"), GRID)[0], 8 * EPS64).all()
    # the textbook derivative s(1 - s) loses all relative accuracy for large x: the test must notice
    s = kernel("sigmoid").f(GRID)
    want_d = _exact(get_activation("sigmoid"), GRID, derivative=True)[0]
    assert not _close(s * (1 - s), want_d, 8 * EPS64).all()


# ------------------------------------------------------------------ the activation table (sims.activations.TABLE)
def _table_cases():
    from sims.activations import TABLE
    return sorted(TABLE)


def _row_problems(family: str, row, h: np.ndarray) -> list[str]:
    """What is wrong with a table row on inputs h (float64): its in-place pass against f, its phi' from the output
    and its fused backward against df (relative 1e-12 plus eps where phi' is computed from a saturated output)."""
    from sims.activations import kernel

    kern = kernel(family)
    f, df = kern.f(h), kern.df(h)
    tol = 1e-12 * np.abs(df) + 4 * np.finfo(np.float64).eps
    out = []
    if row.inplace is not None:
        p = np.empty_like(h)
        row.inplace(h, p)
        if not np.array_equal(p, f):
            out.append("inplace != f")
    if row.from_output is not None and not np.all(np.abs(row.from_output(f) - df) <= tol):
        out.append("from_output != df")
    if row.fused_backward is not None:
        delta = np.linspace(-2.0, 2.0, h.size).reshape(h.shape)
        got = delta.copy()
        row.fused_backward(got, f, np.empty_like(h))
        if not np.all(np.abs(got - delta * df) <= 2 * tol):
            out.append("fused_backward != delta * df")
    return out


@pytest.mark.parametrize("family", _table_cases())
def test_every_row_of_the_activation_table_agrees_with_its_kernel(family):
    """The engine's in-place pass, phi' from the output and the fused backward agree with the kernel's f and df,
    which the tests above check against the SymPy expression at 30 digits; also on a chunk large enough for the
    two-thread split."""
    from sims.activations import TABLE

    for h in (np.linspace(-30.0, 30.0, 600).reshape(3, -1), np.random.default_rng(1).standard_normal((256, 1024))):
        assert _row_problems(family, TABLE[family], h) == []


def test_a_wrong_row_is_caught():
    """Negative control: tanh's fused backward and phi'-from-output in sigmoid's row are found."""
    import dataclasses

    from sims.activations import TABLE

    wrong = dataclasses.replace(TABLE["sigmoid"], fused_backward=TABLE["tanh"].fused_backward,
                                from_output=TABLE["tanh"].from_output)
    found = _row_problems("sigmoid", wrong, np.linspace(-5.0, 5.0, 101).reshape(1, -1))
    assert "fused_backward != delta * df" in found and "from_output != df" in found


@pytest.mark.crosscheck
@pytest.mark.parametrize("family", _table_cases())
def test_the_torch_rule_of_every_row_matches_the_kernel(family):
    """The torch function and fused backward named by the row give the kernel's f and delta * df (float64)."""
    from optional import torch_or_skip

    torch = torch_or_skip()
    from sims import torch_backend
    from sims.activations import kernel

    kern = kernel(family)
    act = kern.activation
    h = np.linspace(-6.0, 6.0, 241)
    th = torch.tensor(h, dtype=torch.float64)
    phi = torch_backend._phi(torch, act)
    p = phi(th)
    np.testing.assert_allclose(p.numpy(), kern.f(h), rtol=1e-12, atol=1e-15)
    delta = torch.linspace(-2.0, 2.0, h.size, dtype=torch.float64)
    got = torch_backend._backward(torch, act, phi)(delta, p, th).numpy()
    np.testing.assert_allclose(got, delta.numpy() * kern.df(h), rtol=1e-10, atol=1e-13)
