"""The numeric dropout layer and the dropout identities of sims.dropout, each against an independent oracle.

``keep`` is the KEEP probability p everywhere (torch's nn.Dropout(p) and Keras' Dropout(rate) take 1 - p).

Tolerances: exact invariants have none; identities in float64 use 1e-12, far above their rounding (a few hundred
ulps of the terms at most: sums of <= 2^20 positive-weighted terms) and far below the effects that the negative
controls must detect; statistical checks use z * standard error with z = 4.5 (false-alarm budget ~1e-3 over the
suite's ~100 checks, STYLE.md), or the Student-t quantile at the same per-check level 1e-5 where the standard error
is itself estimated from few independent replicas. Every statistical check has a negative control that must fail
at the same tolerance. Seeds are fixed and were never changed to make a check pass; hypothesis runs derandomized.
"""
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy import stats

from sims import dropout as D
from theory.errors import SpecError

U = float(np.finfo(np.float64).eps)  # 2^-52
from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)
ALPHA = 2 * stats.norm.sf(Z)  # the per-check false-alarm level that z = 4.5 means (~7e-6)


def _rng(*key):
    return np.random.default_rng(np.random.SeedSequence([31337, *key]))


# ------------------------------------------------------------------ the layer: exact invariants
def _x_arrays():
    def of(dt):
        width = 32 if dt == np.float32 else 64
        # |x| <= 1e6 and keep >= 0.01: x / keep stays finite in float32
        return arrays(dt, array_shapes(min_dims=1, max_dims=3, max_side=7),
                      elements=st.floats(-1e6, 1e6, width=width, allow_nan=False))
    return st.sampled_from([np.float32, np.float64]).flatmap(of)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(x=_x_arrays(), keep=st.floats(0.01, 1.0), inverted=st.booleans(), seed=st.integers(0, 2**32 - 1))
@example(x=np.array([0.0, -0.0, 1.0, -3.5]), keep=1.0, inverted=True, seed=0)
@example(x=np.array([[2.0, -1.0], [5e-324, 7.0]], dtype=np.float64), keep=0.5, inverted=False, seed=1)
def test_train_output_is_zero_or_x_over_keep_and_backward_uses_the_same_mask(x, keep, inverted, seed):
    rng = _rng(1, seed)
    layer = D.Dropout(keep, inverted=inverted)
    y = layer(x, rng)
    mask = layer.mask
    assert y.shape == x.shape and y.dtype == x.dtype
    assert mask.shape == x.shape and mask.dtype == bool
    kept = x / x.dtype.type(keep) if inverted else x
    # exact: every entry is 0 or x / keep (0 or x), and which one is the stored mask
    assert np.all((y == 0) | (y == kept))
    assert np.all(y[~mask] == 0) and np.array_equal(y[mask], kept[mask])
    dy = rng.standard_normal(x.shape).astype(x.dtype)
    dx = layer.backward(dy)
    assert dx.dtype == x.dtype
    assert np.all(dx[~mask] == 0)
    assert np.array_equal(dx[mask], dy[mask] / x.dtype.type(keep) if inverted else dy[mask])


def test_keep_one_is_the_identity():
    x = _rng(2).standard_normal((5, 7))
    for inverted in (True, False):
        layer = D.Dropout(1.0, inverted=inverted)
        assert np.array_equal(layer(x, _rng(2, 1)), x) and layer.mask.all()
        assert np.array_equal(layer.backward(x), x)
        assert np.array_equal(layer.eval()(x), x)


def test_eval_maps_and_their_backward():
    x = _rng(3).standard_normal((4, 6))
    inv, plain = D.Dropout(0.7).eval(), D.Dropout(0.7, inverted=False).eval()
    assert np.array_equal(inv(x), x) and inv.mask is None
    assert np.array_equal(plain(x), 0.7 * x)  # the slides' test-time rule: E[D x] = p x
    assert np.array_equal(inv.backward(x), x) and np.array_equal(plain.backward(x), 0.7 * x)
    # train() switches back: a mask is drawn again
    y = plain.train()(x, _rng(3, 1))
    assert plain.mask is not None and np.all((y == 0) | (y == x))


def test_train_mode_needs_an_explicit_generator_and_leaves_global_state_alone():
    x = np.ones((3, 3))
    with pytest.raises(SpecError, match="numpy.random.Generator"):
        D.Dropout(0.5)(x)
    with pytest.raises(SpecError, match="numpy.random.Generator"):
        D.Dropout(0.5)(x, np.random.RandomState(0))
    with pytest.raises(SpecError, match="before forward"):
        D.Dropout(0.5).backward(x)
    state = np.random.get_state()[1].copy()
    a, b = D.Dropout(0.5)(x, _rng(4)), D.Dropout(0.5)(x, _rng(4))
    np.testing.assert_array_equal(a, b)  # the generator alone decides the mask
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ------------------------------------------------------------------ the layer: statistics
@pytest.mark.parametrize("keep", [0.1, 0.3, 0.8, 0.95])
def test_mask_mean_and_variance_match_bernoulli(keep):
    # keep = 0.5 is left out: there mu4 - sigma^4 = p(1-p)(1-2p)^2 = 0, the sample variance is a function of the
    # sample mean (s^2 = N/(N-1) m(1-m)) and its first-order standard error vanishes.
    N = 200_000
    layer = D.Dropout(keep)
    layer(np.ones(N), _rng(5, int(keep * 100)))
    d = layer.mask.astype(np.float64)
    m, s2 = d.mean(), d.var(ddof=1)

    def mean_ok(p):  # H0: D ~ Bernoulli(p); se of the mean under H0
        return abs(m - p) <= Z * math.sqrt(p * (1 - p) / N)

    def var_ok(p, var):  # se of the sample variance under H0: sqrt((mu4 - sigma^4) / N)
        return abs(s2 - var) <= Z * math.sqrt(p * (1 - p) * (1 - 2 * p) ** 2 / N)

    assert mean_ok(keep) and var_ok(keep, keep * (1 - keep))
    # negative controls at the same z: the drop probability (torch's p) as the mean; E[D^2] = p as the variance
    assert not mean_ok(1 - keep)
    assert not var_ok(keep, keep)


@pytest.mark.parametrize("keep", [0.3, 0.8])
def test_inverted_output_mean_is_x(keep):
    # E[D x / p] = x; Var = x^2 (1 - p) / p per entry; R independent rows: CLT, one check per entry
    R = 40_000
    x = np.array([1.5, -2.0, 0.3, 4.0, -0.7])
    se = np.abs(x) * math.sqrt((1 - keep) / keep / R)
    y = D.Dropout(keep)(np.tile(x, (R, 1)), _rng(6, int(keep * 10)))
    assert np.all(np.abs(y.mean(axis=0) - x) <= Z * se)
    # negative control: non-inverted dropout has mean p x, rejected at the same z
    y0 = D.Dropout(keep, inverted=False)(np.tile(x, (R, 1)), _rng(6, int(keep * 10), 1))
    assert np.all(np.abs(y0.mean(axis=0) - x) > Z * se)


# ------------------------------------------------------------------ validation
BAD_KEEPS = [0, 0.0, 1.5, float("nan"), -0.2, float("inf"), True, "0.5", None]


@pytest.mark.parametrize("keep", BAD_KEEPS, ids=repr)
def test_keep_outside_0_1_is_a_spec_error_that_explains_the_convention(keep):
    calls = [lambda: D.Dropout(keep), lambda: D.masks(3, keep), lambda: D.dropout_ensemble(3, keep),
             lambda: D.sigmoid_unit_ensemble([1.0, 2.0], [0.5, 0.5], keep),
             lambda: D.expected_dropout_loss(np.ones((2, 2)), np.ones(2), np.ones(2), keep),
             lambda: D.variance_shift_network(keep, width=2, batch=2, steps=1, seed=0, replicas=2)]
    for call in calls:
        with pytest.raises(SpecError) as info:
            call()
        msg = str(info.value)
        assert "\n" not in msg and "keep probability" in msg.lower() and "keep = 1 - p = 1 - rate" in msg


def test_too_many_units_is_a_spec_error_stating_the_limit():
    n = D.MAX_ENUMERATE_UNITS + 1
    assert D.MAX_ENUMERATE_UNITS == 20
    net = D.small_network(n, "relu", _rng(7), units2=0)
    calls = [lambda: D.masks(n, 0.5), lambda: D.exact_ensemble_mean(net, np.zeros(4), 0.5),
             lambda: D.dropout_ensemble(n, 0.5), lambda: D.ensemble_gap(n, 0.5, "relu", seeds=2),
             lambda: D.sigmoid_unit_ensemble(np.ones(n), np.ones(n), 0.5),
             lambda: D.expected_dropout_loss(np.ones((3, 7)), np.ones(3), np.ones(7), 0.5)]
    for call in calls:
        with pytest.raises(SpecError, match=r"2\^n masks: n .*<= 20"):
            call()
    # MC dropout has no such limit
    assert math.isfinite(D.mc_dropout_mean(net, np.zeros(4), 0.5, 10, _rng(7, 1)))


# ------------------------------------------------------------------ exact ensembles
@pytest.mark.parametrize("n, keep", [(0, 0.5), (1, 0.3), (5, 0.8), (10, 0.37), (6, 1.0)])
def test_masks_enumerate_every_thinned_network_once(n, keep):
    m, p = D.masks(n, keep)
    assert m.shape == (2**n, n) and p.shape == (2**n,)
    assert set(np.unique(m)) <= {0, 1}
    assert len({row.tobytes() for row in m}) == 2**n
    k = m.sum(axis=1)
    np.testing.assert_array_equal(p, keep ** k * (1 - keep) ** (n - k))
    # sum P = (p + (1 - p))^n = 1; the 2^n-term sum errs by <= 2^n U at most
    assert abs(p.sum() - 1.0) <= 2**n * U
    # E[|m|] = n p: the binomial mean, exactly enumerated
    assert abs(p @ k - n * keep) <= 2**n * n * U


ACTS = ["relu", "tanh", "sigmoid", "gelu"]


def _net_and_x(units, act, units2, *key):
    rng = _rng(8, *key)
    net = D.small_network(units, act, rng, units2=units2)
    return net, rng.standard_normal(net.inputs)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("keep", [0.3, 0.8])
def test_ensemble_equals_weight_scaling_iff_linear_after_dropout(act, keep):
    # Readout right after dropout: E[r . (D h / p)] = r . h exactly (linearity); only rounding separates them,
    # ~ (units + 14) U sum|r h| / p <~ 1e-14. With phi(W2 .) in between, Jensen's gap must exceed that 1e-12.
    units = 10
    key = ACTS.index(act), int(keep * 10)
    lin, x = _net_and_x(units, act, 0, *key)
    assert lin.units2 == 0
    assert abs(D.exact_ensemble_mean(lin, x, keep) - D.weight_scaling(lin, x, keep)) <= 1e-12
    deep, x = _net_and_x(units, act, 8, *key)
    assert abs(D.exact_ensemble_mean(deep, x, keep) - D.weight_scaling(deep, x, keep)) > 1e-12
    # and the exact mean is an honest sum over masks: recompute it from masks() and output()
    m, p = D.masks(units, keep)
    assert abs(p @ deep.output(x, m, keep) - D.exact_ensemble_mean(deep, x, keep)) <= 1e-12


@pytest.mark.parametrize("act, keep", [("relu", 0.5), ("tanh", 0.8), ("relu", 0.9)])
def test_mc_dropout_mean_within_z_se_of_the_exact_ensemble(act, keep):
    units, T, seed = 10, 16_000, ACTS.index(act)
    r = D.dropout_ensemble(units, keep, act, T=T, seed=seed)
    assert set(r) >= {"ensemble_mean", "weight_scaling", "mc_mean", "se", "masks", "keep", "activation", "units"}
    assert r["masks"] == 2**units and r["keep"] == keep and r["units"] == units and r["se"] > 0
    assert abs(r["mc_mean"] - r["ensemble_mean"]) <= Z * r["se"]
    # the documented seeding reproduces the network and the MC draws through the public functions
    net_seq, mc_seq = np.random.SeedSequence(seed).spawn(2)
    g = np.random.default_rng(net_seq)
    net = D.small_network(units, act, g, inputs=4)
    x = g.standard_normal(4)
    assert D.exact_ensemble_mean(net, x, keep) == r["ensemble_mean"]
    assert D.mc_dropout_mean(net, x, keep, T, np.random.default_rng(mc_seq)) == r["mc_mean"]
    # negative control at the same z: the exact ensemble of the NON-inverted network (masks without the 1/p;
    # mask m * p divided by p), the mean a forgotten rescaling would target. (Swapping keep for the drop
    # probability is no control here: the inverted ensemble mean barely depends on keep, and not at all at 0.5.)
    m, p = D.masks(units, keep)
    wrong = p @ net.output(x, m * keep, keep)
    assert abs(wrong - r["ensemble_mean"]) > 2 * Z * r["se"]  # power: the control is expected >= 9 se away
    assert abs(r["mc_mean"] - wrong) > Z * r["se"]


def test_mc_error_shrinks_like_one_over_sqrt_T():
    # E|mean_T - mu| = sigma sqrt(2 / (pi T)) (1 + O(1/T)): log E|err| against log T has slope -1/2. For each T,
    # R independent repetitions give mean |err| with relative variance var|err| / (R mean^2) (delta method for
    # the log); weighted least squares gives the slope and its standard error. T >= 64 keeps the O(1/T) (Edgeworth)
    # term, ~ kurtosis / (8 T) < 1% of |err|, below a tenth of the slope's standard error.
    keep, R = 0.5, 200
    net, x = _net_and_x(8, "relu", 8, 99)
    mu = D.exact_ensemble_mean(net, x, keep)
    Ts = 2 ** np.arange(6, 13)
    rng = _rng(9)
    y, var = [], []
    for T in Ts:
        err = np.abs([D.mc_dropout_mean(net, x, keep, int(T), rng) - mu for _ in range(R)])
        y.append(math.log(err.mean()))
        var.append(err.var(ddof=1) / (R * err.mean() ** 2))
    lt, y, wts = np.log(Ts), np.array(y), 1 / np.array(var)
    xbar, ybar = np.average(lt, weights=wts), np.average(y, weights=wts)
    sxx = np.sum(wts * (lt - xbar) ** 2)
    slope, se = np.sum(wts * (lt - xbar) * (y - ybar)) / sxx, 1 / math.sqrt(sxx)
    assert se < 0.02  # the check has power: 1/T would be 25 standard errors away
    assert abs(slope + 0.5) <= Z * se
    assert abs(slope + 1.0) > Z * se  # negative control: a 1/T law is rejected


def test_ensemble_gap_summarises_independent_networks():
    r = D.ensemble_gap(6, 0.5, "relu", seeds=8, inputs=4, rng_seed=3)
    gaps = r["gaps"]
    # (a gap may be exactly 0: a zero-bias relu network whose hidden units are all off at this x is constant)
    assert gaps.shape == (8,) and np.count_nonzero(gaps) >= 1
    assert r["gap_abs_mean"] == pytest.approx(np.abs(gaps).mean(), rel=1e-15)
    assert r["gap_signed_se"] == pytest.approx(gaps.std(ddof=1) / math.sqrt(8), rel=1e-15)
    net, x = D._network_and_input(6, "relu", np.random.SeedSequence(3).spawn(8)[5], "glorot_normal", 4, 8)
    assert gaps[5] == D.exact_ensemble_mean(net, x, 0.5) - D.weight_scaling(net, x, 0.5)
    lin = D.ensemble_gap(6, 0.5, "relu", seeds=4, units2=0)
    assert lin["gap_abs_mean"] <= 1e-12


# ------------------------------------------------------------------ a single sigmoid unit (Baldi & Sadowski 2013)
@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8, 1.0])
def test_nwgm_equals_weight_scaling_for_a_sigmoid_unit(keep):
    # NWGM = sigma(sum_m P(m) z_m) = sigma(p w.x) exactly (logit(sigma(z)) = z is linear). In floating point the
    # two weighted log-sums err by ~ 12 U sum P(|z| + log 2) ~ 1e-14, and sigma' <= 1/4.
    rng = _rng(10, int(keep * 10))
    w, x = rng.standard_normal(10), rng.standard_normal(10)
    r = D.sigmoid_unit_ensemble(w, x, keep)
    assert r["masks"] == 2**10
    assert abs(r["nwgm"] - r["weight_scaled"]) <= 1e-12
    assert r["weight_scaled"] == pytest.approx(1 / (1 + math.exp(-keep * float(w @ x))), abs=U)
    m, p = D.masks(10, keep)
    assert abs(r["ensemble_mean"] - p @ (1 / (1 + np.exp(-(m @ (w * x)))))) <= 1e-12
    if keep < 1:  # the arithmetic mean is a different number (Jensen), by much more than rounding
        assert abs(r["ensemble_mean"] - r["weight_scaled"]) > 1e-6


def test_nwgm_identity_is_special_to_the_logistic_link():
    rng = _rng(11)
    w, x = rng.standard_normal(10), rng.standard_normal(10)
    # negative control at the same tolerance: the Gaussian CDF (probit) unit, logit(Phi(z)) not linear in z
    probit = D.sigmoid_unit_ensemble(w, x, 0.5, activation="(1 + erf(x/sqrt(2)))/2")
    assert abs(probit["nwgm"] - probit["weight_scaled"]) > 1e-6
    # tanh itself leaves [0, 1]: no geometric mean of probabilities
    with pytest.raises(SpecError, match=r"\[0, 1\]"):
        D.sigmoid_unit_ensemble(w, x, 0.5, activation="tanh")
    # tanh read as a probability, (1 + tanh z)/2 = sigma(2z), is logistic: the identity holds (so it is no control).
    # 1 - phi is formed directly here: accurate to U / (1 - phi) relative; w scaled so that 1 - phi > 1e-3.
    r = D.sigmoid_unit_ensemble(0.3 * w, x, 0.5, activation="(1 + tanh(x))/2")
    assert abs(r["nwgm"] - r["weight_scaled"]) <= 1e-12


# ------------------------------------------------------------------ dropout as a penalty (Wager et al. 2013)
def _regression(*key, n=3, d=4):
    rng = _rng(12, *key)
    return rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)


def _closed_form(X, y, w, factor):
    """plain squared loss + factor * sum_j w_j^2 sum_i x_ij^2 (factor (1-p)/p is Wager's; written out here)."""
    return float(np.sum((y - X @ w) ** 2) + factor * np.sum(w**2 * np.sum(X**2, axis=0)))


@pytest.mark.parametrize("keep", [0.3, 0.7, 1.0])
@pytest.mark.parametrize("shape", [(3, 4), (2, 5), (4, 1)])
def test_exhaustive_expected_loss_equals_the_closed_form(keep, shape):
    X, y, w = _regression(int(keep * 10), *shape, n=shape[0], d=shape[1])
    exact = D.expected_dropout_loss(X, y, w, keep)
    want = _closed_form(X, y, w, (1 - keep) / keep)
    assert abs(exact - want) <= 1e-12 * want
    if keep < 1:  # negative control: the penalty without its (1 - p)/p factor
        assert abs(exact - _closed_form(X, y, w, 1.0)) > 1e-12 * want


def test_monte_carlo_expected_loss_within_z_se_of_the_closed_form():
    keep = 0.7
    X, y, w = _regression(20)
    r = D.dropout_loss_mc(X, y, w, keep, 20_000, _rng(13))
    assert r["T"] == 20_000 and r["se"] > 0
    assert abs(r["mean"] - _closed_form(X, y, w, (1 - keep) / keep)) <= Z * r["se"]
    assert abs(r["mean"] - _closed_form(X, y, w, 1.0)) > Z * r["se"]  # negative control
    assert abs(r["mean"] - _closed_form(X, y, w, 0.0)) > Z * r["se"]  # and no penalty at all


# ------------------------------------------------------------------ variance shift (Li et al. 2019)
VS = dict(width=32, batch=128, steps=100, seed=0, replicas=16)
# the standard error comes from 16 independent replicas (units of one layer share inputs): Student t, 15 dof, at
# the per-check level that z = 4.5 means
T_CRIT = float(stats.t.ppf(1 - ALPHA / 2, VS["replicas"] - 1))


def test_variance_shift_matches_p_v_over_v_plus_1_minus_p_c2():
    # running_var learns (v + (1-p) c^2)/p with dropout on; the test-time BN input has variance v. measured ratio =
    # test_var / running_var, theory p v / (v + (1-p) c^2) with c, v the exact Gaussian moments of relu given W.
    # Bias budget: E[1/R] = (1 + cv^2)/E[R] to second order (cv^2 = the EMA's relative variance, estimated from the
    # training batch variances: ``jensen_bias``); the initial running_var = 1 keeps weight 0.9^steps = 2.7e-5.
    keep = 0.5
    r = D.variance_shift_network(keep, **VS)
    assert r["moments"] == "closed form" and r["init_weight"] < 1e-4
    # The budget is second order in delta = R/E[R] - 1 (E delta^2 = cv^2 ~ 4e-3 per unit here). Neglected: E delta^3
    # = m^3/(1 - (1-m)^3) k3(s^2)/E[s^2]^3 ~ 4e-5 (the EMA averages the skewness of s^2 away) and E delta^4 ~ 3 cv^4
    # ~ 5e-5 (both measured once on 2000 batches of this layer), i.e. <~ 2e-5 on a ratio of 0.4, against a standard
    # error of ~1e-3.
    assert abs(r["diff_mean"] - r["jensen_bias"]) <= T_CRIT * r["diff_se"]
    assert r["ratio_mean"] + T_CRIT * r["ratio_se"] < 1.0  # a real shift
    # relu: c^2 = q/(2 pi), v = q (pi - 1)/(2 pi) for every unit, so the ratio is p (pi - 1)/(pi - p), whatever q
    np.testing.assert_allclose(r["theory_ratio"], keep * (math.pi - 1) / (math.pi - keep), rtol=1e-12)
    # negative control at the same tolerance: ignoring the mean (ratio = p)
    assert abs(r["ratio_mean"] - keep) > T_CRIT * r["ratio_se"]


def test_no_variance_shift_at_keep_one():
    r = D.variance_shift_network(1.0, **VS)
    assert np.all(r["theory_ratio"] == 1.0)  # p v / (v + 0) = v / v, exact in floating point
    # measured: 1 within the same statistical tolerance (running and test variances are estimates of one v)
    assert abs(r["ratio_mean"] - 1.0 - r["jensen_bias"]) <= T_CRIT * r["ratio_se"]
