"""The numeric batch-norm layer (sims.batchnorm) against its defining identities, central differences, the SymPy
closed form (theory.batchnorm), float64 PyTorch, and the keras update written out here.

Tolerances are derived from the quantities: U = 2^-52 (one ulp at 1), u = U/2 the unit roundoff; a sum of k terms
errs by at most (k - 1) u times the sum of their magnitudes (first order). Seeds are fixed and were never changed
to make a check pass; hypothesis runs derandomized. No test here is statistical, so none needs a negative control
in the STYLE.md sense; where a check could be vacuous, a deliberately wrong formula must fail the same tolerance.
"""
import math

import numpy as np
import pytest
from optional import torch_or_skip
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sims.batchnorm import BatchNorm, SingleRowBatchWarning
from theory.errors import SpecError

U = float(np.finfo(np.float64).eps)  # 2^-52
u = U / 2


def _rng(*key):
    return np.random.default_rng(np.random.SeedSequence([20240, *key]))


def _data(rng, m, n, offset=3.0, const=()):
    """(m, n) rows with per-column offset and scale; columns listed in ``const`` are constant (variance 0)."""
    loc = rng.uniform(-offset, offset, n)
    scale = np.exp(rng.uniform(-2.0, 2.0, n))
    x = loc + scale * rng.standard_normal((m, n))
    for j in const:
        x[:, j] = loc[j]
    return x


def _layer(n, gamma=None, beta=None, **kw):
    bn = BatchNorm(n, **kw)
    if gamma is not None:
        bn.gamma = np.array(gamma, dtype=np.float64)
    if beta is not None:
        bn.beta = np.array(beta, dtype=np.float64)
    return bn


def _loss(gamma, beta, eps, x, dy):
    """l = sum(dy * y), y from a fresh train-mode layer (fresh, so running statistics cannot leak in)."""
    return float(np.sum(dy * _layer(x.shape[1], gamma, beta, eps=eps).forward(x)))


# ------------------------------------------------------------------ forward identities
@pytest.mark.parametrize("m, n, offset", [(2, 3, 3.0), (7, 4, 3.0), (64, 5, 3.0), (9, 3, 1e4)])
def test_forward_standardizes_each_feature(m, n, offset):
    x = _data(_rng(1, m, n), m, n, offset=offset)
    eps = 1e-5
    y = _layer(n, eps=eps).forward(x)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    sigma = np.sqrt(var + eps)
    xmax = np.abs(x).max(axis=0)
    # mean(y) = 0: the layer's mean errs by <= (m - 1) u max|x| (sequential sum), which shifts every y by that over
    # sigma; each y_i carries a few more u of |x_i|/sigma; the test's own mean of y adds (m - 1) u max|y|.
    tol_mean = U * ((m + 4) * xmax / sigma + m * np.abs(y).max(axis=0))
    assert np.all(np.abs(y.mean(axis=0)) <= tol_mean)
    # biased var(y) = var / (var + eps): the mean's error enters the sum of squares only at second order (the
    # deviations sum to 0), so the relative error is the rounding of three m-term sums of squares and a few
    # scalar operations, (3m + 10) u, plus that second-order term.
    want = var / (var + eps)
    got = y.var(axis=0)
    rtol = (3 * m + 10) * U + ((m + 4) * U * xmax / sigma) ** 2
    assert np.all(np.abs(got - want) <= rtol * want)
    assert np.all(want < 1.0) and np.all(1.0 - want > 1e-12)  # eps shows: var(y) is not 1


def test_forward_applies_gamma_and_beta():
    rng = _rng(2)
    x = _data(rng, 6, 4)
    gamma, beta = rng.uniform(-3, 3, 4), rng.standard_normal(4)
    y0 = _layer(4).forward(x)
    y = _layer(4, gamma, beta).forward(x)
    # same x_hat in both layers; gamma * x_hat + beta has two roundings
    assert np.all(np.abs(y - (gamma * y0 + beta)) <= U * (np.abs(gamma * y0) + np.abs(y)))
    assert not np.allclose(y, y0)  # gamma, beta really changed something


def test_layer_is_deterministic_and_leaves_global_random_state_alone():
    x = _data(_rng(3), 5, 3)
    state = np.random.get_state()[1].copy()
    a, b = _layer(3), _layer(3)
    ya, yb = a.forward(x), b.forward(x)
    dya, dyb = a.backward(x), b.backward(x)
    np.testing.assert_array_equal(ya, yb)
    for p, q in zip(dya, dyb):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ------------------------------------------------------------------ backward vs central differences
def _central_difference_bound(x, V, dy, gamma, beta, eps, dx):
    """(A, B, C, t_max): |(l(x+tV) - l(x-tV))/(2t) - sum(dx*V)| <= A t^2 + B/t + C for 0 < t <= t_max = R_min/4.

    Truncation: per feature, l_j(t) = gamma_j sum_i dy_i (a_i + t b_i) / sqrt(q(t)) with a = x - mean x, b = V -
    mean V, q(t) = var + eps + 2 t mean(ab) + t^2 mean(b^2). Since mean(ab)^2 <= var mean(b^2) < (var + eps)
    mean(b^2), q's roots are complex conjugates of modulus R = sqrt(var + eps) / rms(b), so l_j is analytic in
    |t| < R. For |xi| <= t <= R/4, Cauchy's estimate on the circle of radius R/2 about xi (|z| <= 3R/4, so
    |sqrt q| >= r/4 with r = sqrt(var + eps)) bounds the third derivative by 3! M_j / (R/2)^3, M_j = (4/r)
    sum_i |dy_i| (|a_i| + 3R|b_i|/4); the central difference errs by t^2/6 times that: A = 8 sum |gamma| M / R^3.
    A constant column has var = 0: r = sqrt(eps), R = sqrt(eps)/rms(b), and t must resolve that scale.
    Rounding (first order, u = 2^-53): each l has error E <= u [sum|dx| X (rounding x + tV) + (m-1) sum_j |gamma_j|
    X_j/r_j sum_i|dy_ij| (the batch mean's error shifts x_hat) + sum |dy| ((m+6)|gamma x_hat| + (mn+1)|y|)
    (variance, scaling, the mn-term loss sum)], X = max|x| + t_max max|V| per column; the quotient errs by E/t:
    B = E. The analytic side sum(dx*V) errs by C = u [(m+8) sum |V| |gamma|/r (|dy| + mean|dy| + |x_hat|
    mean|dy x_hat|) + mn sum|dx V|].
    """
    m, n = x.shape
    a = x - x.mean(axis=0)
    b = V - V.mean(axis=0)
    r = np.sqrt((a * a).mean(axis=0) + eps)
    R = r / np.sqrt((b * b).mean(axis=0))
    t_max = R.min() / 4
    M = 4.0 / r * np.sum(np.abs(dy) * (np.abs(a) + 0.75 * R * np.abs(b)), axis=0)
    A = 8.0 * np.sum(np.abs(gamma) * M / R**3)
    x_hat = a / r
    y = gamma * x_hat + beta
    X = np.abs(x).max(axis=0) + t_max * np.abs(V).max(axis=0)
    B = u * (np.sum(np.abs(dx) * X) + (m - 1) * np.sum(np.abs(gamma) * X / r * np.abs(dy).sum(axis=0))
             + np.sum(np.abs(dy) * ((m + 6) * np.abs(gamma * x_hat) + (m * n + 1) * np.abs(y))))
    mean_abs_dy = np.abs(dy).mean(axis=0)
    mean_abs_dyxh = np.abs(dy * x_hat).mean(axis=0)
    C = u * ((m + 8) * np.sum(np.abs(V) * np.abs(gamma) / r
                              * (np.abs(dy) + mean_abs_dy + np.abs(x_hat) * mean_abs_dyxh))
             + m * n * np.sum(np.abs(dx * V)))
    return A, B, C, t_max


def _gradient_case(m, n, seed, const, eps):
    """A random case; the step t minimizes the bound A t^2 + B/t (t = (B / 2A)^(1/3), capped at t_max)."""
    rng = _rng(4, seed)
    x = _data(rng, m, n, const=[j for j in range(n) if const[j]])
    gamma = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
    beta = rng.standard_normal(n)
    dy, V = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    bn = _layer(n, gamma, beta, eps=eps)
    bn.forward(x)
    dx, dgamma, dbeta = bn.backward(dy)
    A, B, C, t_max = _central_difference_bound(x, V, dy, gamma, beta, eps, dx)
    t = min(t_max, (B / (2 * A)) ** (1 / 3))
    fd = (_loss(gamma, beta, eps, x + t * V, dy) - _loss(gamma, beta, eps, x - t * V, dy)) / (2 * t)
    return x, V, dy, gamma, beta, dx, dgamma, dbeta, fd, A * t * t + B / t + C


_const = st.lists(st.booleans(), min_size=5, max_size=5)


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(m=st.integers(2, 12), n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1), const=_const,
       eps=st.sampled_from([1e-5, 1e-3, 1e-8]))
@example(m=2, n=3, seed=0, const=[False, True, False, False, False], eps=1e-5)
@example(m=2, n=1, seed=1, const=[True] * 5, eps=1e-5)
@example(m=12, n=5, seed=2, const=[True, False, True, False, True], eps=1e-8)
def test_backward_dx_matches_central_differences_along_random_directions(m, n, seed, const, eps):
    x, V, dy, gamma, _, dx, _, _, fd, tol = _gradient_case(m, n, seed, const, eps)
    assert abs(fd - float(np.sum(dx * V))) <= tol
    # the bound is tight enough to mean something: below 1e-5 of the natural scale sum |gamma/sigma dy V| of a
    # term of dx (not of sum|dx V| itself, which is O(eps) at m = 2, where x_hat = +-sqrt(var/(var + eps)))
    natural = np.sum(np.abs(gamma) / np.sqrt(x.var(axis=0) + eps) * np.abs(dy * V))
    assert tol <= 1e-5 * natural


def test_central_difference_check_rejects_wrong_backward_formulas():
    # negative control at the same tolerance: drop the x_hat * mean(dy x_hat) term, or the mean(dy) term
    x, V, dy, gamma, _, dx, _, _, fd, tol = _gradient_case(6, 3, 7, [False, True, False, False, False], 1e-5)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    scale = gamma / np.sqrt(x.var(axis=0) + 1e-5)
    no_var_term = scale * (dy - dy.mean(axis=0))
    no_mean_term = scale * (dy - x_hat * (dy * x_hat).mean(axis=0))
    assert abs(fd - np.sum(dx * V)) <= tol
    assert abs(fd - np.sum(no_var_term * V)) > tol
    assert abs(fd - np.sum(no_mean_term * V)) > tol


@settings(max_examples=20, deadline=None, database=None, derandomize=True)
@given(m=st.integers(2, 12), n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1), const=_const)
@example(m=2, n=2, seed=0, const=[True, False, False, False, False])
def test_backward_dgamma_dbeta_match_central_differences(m, n, seed, const):
    # l is linear in gamma and in beta: the central difference has no truncation error at any t, only rounding,
    # so a large step t = 1/2 is best. Rounding of each l: u (mn + 4) sum|dy| (|gamma + tW| |x_hat| + |beta + tW|).
    eps = 1e-5
    rng = _rng(5, seed)
    x = _data(rng, m, n, const=[j for j in range(n) if const[j]])
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    dy, W = rng.standard_normal((m, n)), rng.standard_normal(n)
    bn = _layer(n, gamma, beta, eps=eps)
    bn.forward(x)
    _, dgamma, dbeta = bn.backward(dy)
    x_hat = np.abs((x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps))
    t = 0.5
    for which, grad in (("gamma", dgamma), ("beta", dbeta)):
        g_p, b_p = (gamma + t * W, beta) if which == "gamma" else (gamma, beta + t * W)
        g_m, b_m = (gamma - t * W, beta) if which == "gamma" else (gamma, beta - t * W)
        fd = (_loss(g_p, b_p, eps, x, dy) - _loss(g_m, b_m, eps, x, dy)) / (2 * t)
        E = u * (m * n + 4) * np.sum(np.abs(dy) * ((np.abs(gamma) + t * np.abs(W)) * x_hat
                                                   + np.abs(beta) + t * np.abs(W)))
        tol = E / t + u * (m + n + 2) * np.sum(np.abs(dy) * (x_hat + 1) * np.abs(W))
        assert abs(fd - float(np.sum(grad * W))) <= tol


# ------------------------------------------------------------------ the SymPy closed form
@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
def test_backward_matches_sympy_explicit_backward(m):
    sympy = pytest.importorskip("sympy")
    from theory.batchnorm import explicit_backward  # the single source of truth for the formula (STYLE.md)

    eb = explicit_backward(m)
    f = sympy.lambdify((*eb.x, *eb.dy, eb.gamma, eb.beta, eb.eps), [*eb.dx, eb.dgamma, eb.dbeta], "numpy")
    rng = _rng(6, m)
    n = 3
    x = _data(rng, m, n, const=[2])  # the last feature is constant: the eps-governed case
    dy = rng.standard_normal((m, n))
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    eps = 1e-5
    bn = _layer(n, gamma, beta, eps=eps)
    bn.forward(x)
    dx, dgamma, dbeta = bn.backward(dy)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) / sigma
    for j in range(n):
        ref = [float(v) for v in f(*x[:, j], *dy[:, j], gamma[j], beta[j], eps)]
        # 1e-12 of each output's natural scale (about 5e3 ulps): both sides are float64 evaluations of the same
        # function, the expression tree of sympy.diff unsimplified, with O(m) terms
        # plus, for dgamma = sum(dy x_hat), the rounding of x_hat itself: the batch mean errs by up to (m - 1) u
        # max|x|, so a constant column's x_hat is ~1e-14 in float64, where the lambdified expression may give 0
        xhat_err = (m + 4) * U * np.abs(x[:, j]).max() / sigma[j]
        assert np.all(np.abs(dx[:, j] - ref[:m]) <= 1e-12 * abs(gamma[j]) / sigma[j] * np.abs(dy[:, j]).sum())
        tol_dgamma = 1e-12 * np.abs(dy[:, j] * x_hat[:, j]).sum() + xhat_err * np.abs(dy[:, j]).sum()
        assert abs(dgamma[j] - ref[m]) <= tol_dgamma
        assert abs(dbeta[j] - ref[m + 1]) <= 1e-12 * np.abs(dy[:, j]).sum()


# ------------------------------------------------------------------ float64 PyTorch
def _torch_pair(n, eps, gamma, beta):
    torch = torch_or_skip()
    tb = torch.nn.BatchNorm1d(n, eps=eps, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        tb.weight.copy_(torch.from_numpy(gamma))
        tb.bias.copy_(torch.from_numpy(beta))
    return torch, tb, _layer(n, gamma, beta, eps=eps)


def _torch_step(torch, tb, x, dy):
    xt = torch.from_numpy(x).requires_grad_(True)
    tb.weight.grad = tb.bias.grad = None
    y = tb(xt)
    (y * torch.from_numpy(dy)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), tb.weight.grad.numpy(), tb.bias.grad.numpy()


@pytest.mark.crosscheck
@pytest.mark.parametrize("m, n, eps", [(2, 3, 1e-5), (5, 4, 1e-5), (33, 2, 1e-3)])
def test_forward_backward_match_torch_train_mode(m, n, eps):
    rng = _rng(7, m, n)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    torch, tb, bn = _torch_pair(n, eps, gamma, beta)
    x = _data(rng, m, n, const=[0])
    dy = rng.standard_normal((m, n))
    y_t, dx_t, dg_t, db_t = _torch_step(torch, tb.train(), x, dy)
    y = bn.forward(x)
    dx, dg, db = bn.backward(dy)
    for ours, ref in ((y, y_t), (dx, dx_t), (dg, dg_t), (db, db_t)):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


@pytest.mark.crosscheck
def test_running_statistics_and_eval_mode_match_torch():
    n, eps = 4, 1e-5
    rng = _rng(8)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    torch, tb, bn = _torch_pair(n, eps, gamma, beta)
    for m in (2, 3, 5, 8, 17, 64, 3):
        x = _data(rng, m, n)
        with torch.no_grad():
            tb.train()(torch.from_numpy(x))
        bn.train().forward(x)
    # Same formula, same operation order per update; only the summation order of the batch sums may differ (a few
    # ulps of a mean whose columns are offset from 0, so no cancellation), and each update multiplies earlier
    # errors by 1 - momentum = 0.9, so they do not accumulate: rtol 1e-14 (45 ulps). Measured: at most 1 ulp.
    np.testing.assert_allclose(bn.running_mean, tb.running_mean.numpy(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(bn.running_var, tb.running_var.numpy(), rtol=1e-14, atol=0)
    assert bn.num_batches_tracked == int(tb.num_batches_tracked) == 7
    # eval: torch computes x * a + (beta - r_mean * a) with a = gamma / sqrt(r_var + eps), we compute
    # gamma * ((x - r_mean) / sqrt(r_var + eps)) + beta: each errs by a few u of |x||a| + |r_mean||a| + |beta|
    x = _data(rng, 6, n)
    dy = rng.standard_normal((6, n))
    y_t, dx_t, dg_t, db_t = _torch_step(torch, tb.eval(), x, dy)
    y = bn.eval().forward(x)
    a = np.abs(gamma) / np.sqrt(bn.running_var + eps)
    np.testing.assert_array_less(np.abs(y - y_t), 8 * U * ((np.abs(x) + np.abs(bn.running_mean)) * a + np.abs(beta)))
    dx, dg, db = bn.backward(dy)
    for ours, ref in ((dx, dx_t), (dg, dg_t), (db, db_t)):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


@pytest.mark.crosscheck
def test_single_row_batch_warns_where_torch_raises():
    n = 3
    rng = _rng(9)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    torch, tb, bn = _torch_pair(n, 1e-5, gamma, beta)
    x = rng.standard_normal((1, n)) + 5.0
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        tb.train()(torch.from_numpy(x))
    with pytest.warns(SingleRowBatchWarning, match="variance is 0"):
        y = bn.forward(x)
    np.testing.assert_array_equal(y, beta[None, :])  # x - mean(x) is exactly 0 for one row
    np.testing.assert_array_equal(bn.running_var, np.ones(n))  # unbiased variance undefined: unchanged
    np.testing.assert_allclose(bn.running_mean, 0.1 * x[0], rtol=U)  # (1 - 0.1) * 0 + 0.1 * x
    dx, dgamma, dbeta = bn.backward(np.ones((1, n)))
    np.testing.assert_array_equal(dx, np.zeros((1, n)))  # y does not depend on x
    np.testing.assert_array_equal(dbeta, np.ones(n))
    k = _layer(n, gamma, beta, convention="keras", momentum=0.9)
    with pytest.warns(SingleRowBatchWarning):
        k.forward(x)
    np.testing.assert_allclose(k.moving_variance, 0.9 * np.ones(n), rtol=U)  # biased variance 0 blended in


def test_eval_mode_single_row_does_not_warn():
    bn = _layer(2).eval()
    y = bn.forward(np.array([[1.0, -2.0]]))  # warnings are errors in this suite
    np.testing.assert_allclose(y, np.array([[1.0, -2.0]]) / math.sqrt(1 + 1e-5), rtol=U)


# ------------------------------------------------------------------ the keras convention
def test_keras_moving_statistics_follow_old_weighted_update_with_biased_variance():
    n, mom = 3, 0.9
    rng = _rng(10)
    batches = [_data(rng, m, n) for m in (5, 3, 8, 2)]
    k = _layer(n, convention="keras", momentum=mom)
    mean, variance = np.zeros(n), np.ones(n)
    for x in batches:
        k.forward(x)
        mean = mom * mean + (1 - mom) * np.mean(x, axis=0)
        variance = mom * variance + (1 - mom) * np.var(x, axis=0)  # ddof=0: biased
    # both sides: the same blend of batch statistics with <= (m + 2) u relative rounding each, contracted by
    # momentum at every step; 1e-14 is 45 ulps
    np.testing.assert_allclose(k.moving_mean, mean, rtol=1e-14, atol=0)
    np.testing.assert_allclose(k.moving_variance, variance, rtol=1e-14, atol=0)
    assert k.running_mean is k.moving_mean
    # negative controls at the same tolerance: the torch convention on the same batches
    t_same = _layer(n, convention="torch", momentum=mom)  # same number, opposite meaning
    t_equiv = _layer(n, convention="torch", momentum=1 - mom)  # same weights: only the unbiased variance differs
    for x in batches:
        t_same.forward(x)
        t_equiv.forward(x)
    assert not np.allclose(t_same.running_mean, mean, rtol=1e-14, atol=0)
    np.testing.assert_allclose(t_equiv.running_mean, mean, rtol=1e-14, atol=0)
    assert np.all(np.abs(t_equiv.running_var - variance) > 1e-14 * variance)


def test_default_momentum_per_convention():
    assert BatchNorm(2).momentum == 0.1
    assert BatchNorm(2, convention="keras").momentum == 0.99
    assert BatchNorm(2, momentum=0.3, convention="keras").momentum == 0.3


# ------------------------------------------------------------------ eval vs train
def test_eval_differs_from_train_before_running_statistics_converge():
    n, eps = 3, 1e-5
    x = _data(_rng(11), 8, n)
    bn = _layer(n, eps=eps)
    y_train = bn.forward(x)
    y_eval = bn.eval().forward(x)
    # after one batch: running = 0.1 * batch (mean) and 0.9 + 0.1 * unbiased var
    r_mean = 0.1 * x.mean(axis=0)
    r_var = 0.9 + 0.1 * x.var(axis=0, ddof=1)
    want = (x - r_mean) / np.sqrt(r_var + eps)
    np.testing.assert_allclose(y_eval, want, rtol=0, atol=16 * U * np.abs(want).max())
    assert np.abs(y_eval - y_train).max() > 0.1


def _train_eval_relation(x, gamma, beta, eps, y_train, y_eval, d_mean, d_var):
    """With running mean = batch mean and running var = unbiased var v m/(m-1), eval and train differ exactly by
    (y_eval - beta) = (y_train - beta) sqrt((v + eps)/(v m/(m-1) + eps)). Tolerance: each side has a few u of
    |gamma x_hat| from its variance (an m-term sum) and scaling, plus u |y| and u |beta| from the shift; and the
    running statistics' own errors |d_mean|, |d_var| move y_eval by |gamma| d_mean / s + |y_eval - beta| d_var / 2s^2
    (s^2 = running var + eps)."""
    m = x.shape[0]
    v = x.var(axis=0)
    s2 = v * m / (m - 1) + eps
    ratio = np.sqrt((v + eps) / s2)
    lhs, rhs = y_eval - beta, (y_train - beta) * ratio
    tol = U * ((m + 8) * np.abs(y_train - beta) + 2 * np.abs(y_train) + 2 * np.abs(y_eval) + 2 * np.abs(beta))
    tol = tol + np.abs(gamma) * d_mean / np.sqrt(s2) + np.abs(y_eval - beta) * d_var / (2 * s2)
    assert np.all(np.abs(lhs - rhs) <= tol)
    return ratio


def test_eval_and_train_after_many_batches_of_the_same_data_momentum_one():
    n, eps, m = 3, 1e-5, 5
    rng = _rng(12)
    x = _data(rng, m, n)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    bn = _layer(n, gamma, beta, eps=eps, momentum=1.0)
    for _ in range(5):
        y_train = bn.train().forward(x)
    # momentum 1: running = (1 - 1) * old + batch, exactly the last batch's statistics (the variance unbiased)
    mu, v_unb = x.mean(axis=0), x.var(axis=0) * m / (m - 1)
    d_mean, d_var = U * np.abs(mu), (m + 4) * U * v_unb
    assert np.all(np.abs(bn.running_mean - mu) <= d_mean)
    assert np.all(np.abs(bn.running_var - v_unb) <= d_var)
    y_eval = bn.eval().forward(x)
    ratio = _train_eval_relation(x, gamma, beta, eps, y_train, y_eval, d_mean, d_var)
    assert np.all(1 - ratio > 0.1)  # not identical: the unbiased variance is larger by m/(m-1) = 1.25


def test_eval_and_train_after_many_batches_of_the_same_data_default_momentum():
    # momentum 0.1: running - target shrinks by 0.9 per batch; after K = 400, 0.9^K = 5e-19 < u. The fixed point
    # of the rounded update r <- fl(0.9) r + fl(0.1) b is off by <= (2 + 1) u / 0.1 relative (two roundings per
    # step, amplified by 1/momentum, and fl(0.9) + fl(0.1) != 1 by an ulp).
    n, eps, m, K, mom = 3, 1e-5, 6, 400, 0.1
    rng = _rng(13)
    x = _data(rng, m, n)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    bn = _layer(n, gamma, beta, eps=eps)
    for _ in range(K):
        y_train = bn.train().forward(x)
    mu, v_unb = x.mean(axis=0), x.var(axis=0, ddof=1)
    rtol = (3 / mom + m + 4) * U
    d_mean = rtol * np.abs(mu) + (1 - mom) ** K * np.abs(mu)
    d_var = rtol * v_unb + (1 - mom) ** K * np.abs(1 - v_unb)
    assert np.all(np.abs(bn.running_mean - mu) <= d_mean)
    assert np.all(np.abs(bn.running_var - v_unb) <= d_var)
    _train_eval_relation(x, gamma, beta, eps, y_train, bn.eval().forward(x), d_mean, d_var)


def test_keras_momentum_zero_makes_eval_equal_train():
    # keras, momentum 0: moving = the batch's (biased) statistics, so eval reproduces train up to rounding of the
    # two evaluations (same formula; a few u of |gamma x_hat| and |beta|)
    n, eps, m = 3, 1e-5, 4
    rng = _rng(14)
    x = _data(rng, m, n)
    gamma, beta = rng.uniform(-2, 2, n), rng.standard_normal(n)
    k = _layer(n, gamma, beta, eps=eps, convention="keras", momentum=0.0)
    y_train = k.forward(x)
    y_eval = k.eval().forward(x)
    assert np.all(np.abs(y_eval - y_train) <= 4 * U * (np.abs(y_train - beta) + np.abs(beta)))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(num_features=0), "num_features"),
    (dict(num_features=2.5), "num_features"),
    (dict(num_features=2, eps=0.0), "eps"),
    (dict(num_features=2, eps=-1e-5), "eps"),
    (dict(num_features=2, eps=float("nan")), "eps"),
    (dict(num_features=2, eps=float("inf")), "eps"),
    (dict(num_features=2, momentum=-0.1), "momentum"),
    (dict(num_features=2, momentum=1.5), "momentum"),
    (dict(num_features=2, momentum=float("nan")), "momentum"),
    (dict(num_features=2, convention="tensorflow"), "unknown convention.*'torch'.*'keras'"),
])
def test_constructor_rejects_bad_arguments(kwargs, match):
    n = kwargs.pop("num_features")
    with pytest.raises(SpecError, match=match):
        BatchNorm(n, **kwargs)


@pytest.mark.parametrize("x, match", [
    (np.ones(3), "2-D"),
    (np.ones((2, 3, 1)), "2-D"),
    (np.ones((4, 2)), "features"),
    (np.array([[1.0, 2.0, np.nan], [0.0, 1.0, 2.0]]), "non-finite"),
    (np.array([[1.0, np.inf, 0.0], [0.0, 1.0, 2.0]]), "non-finite"),
])
def test_forward_rejects_bad_input(x, match):
    with pytest.raises(SpecError, match=match):
        BatchNorm(3).forward(x)


def test_backward_rejects_bad_use():
    bn = BatchNorm(3)
    with pytest.raises(SpecError, match="before forward"):
        bn.backward(np.ones((4, 3)))
    bn.forward(_data(_rng(15), 4, 3))
    with pytest.raises(SpecError, match="shape"):
        bn.backward(np.ones((5, 3)))
    with pytest.raises(SpecError, match="shape"):
        bn.backward(np.ones((4, 2)))


def test_training_normalizes_with_the_batch_and_evaluation_with_the_running_averages():
    from sims.batchnorm import statistics_used

    used = statistics_used(seed=3)
    assert used["train"] == {"depends_on_running": False, "is_batch_standardized": True}
    assert used["eval"] == {"depends_on_running": True, "is_batch_standardized": False}  # the contrast
