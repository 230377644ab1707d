"""Finite-width ReLU law (theory.finite_width): exact identities, the derivation, and Monte Carlo agreement.

Oracles independent of the module's closed forms: sympy.stats sums over the Binomial number of active units of
ChiSquared moments at explicit widths; and a forward simulation of independent He-normal ReLU networks compared at
z = 4.5 standard errors estimated across networks (STYLE.md: ~1e-3 false alarms over 100 checks). Each
statistical check has negative controls that must fail at the same tolerance: the infinite-width second moment
(no 5/n factors), the excess 6/n instead of 5/n, 5/n_L instead of 2/n_L for the top pre-activation, and Xavier
weights (1/n_in) against the He mean (off by 2^L).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
import sympy as sp
from sympy import stats as st

from theory import derivation as D
from theory import finite_width as fw
from theory.derivation import Derivation
from theory.errors import SpecError

from conftest import Z as Z_TOL  # noqa: E402 - the suite's shared z (tests/conftest.py)
WIDTHS = [8, 6, 5, 7]
N_NETS = 100_000  # ~0.3 s; enough for the 6/n control to be rejected with a wide margin (expected z ~ 10)


# ---------------------------------------------------------------------------------------------- exact identities
def _stats_layer_ratio(width: int) -> tuple[sp.Rational, sp.Rational]:
    """E t, E t^2 for t = 2 chi^2_K / n, K ~ Binomial(n, 1/2), by summing over K with sympy.stats at this width;
    chi^2_0 = 0 (the dead layer) enters as its own term."""
    K = st.Binomial("K", width, sp.Rational(1, 2))
    m1 = m2 = sp.Integer(0)
    for k, p in st.density(K).dict.items():
        if k == 0:
            continue  # chi^2_0 = 0 contributes nothing to either moment
        Q = st.ChiSquared("Q", k)
        m1 += p * st.E(Q)
        m2 += p * st.E(Q**2)
    c = sp.Rational(2, width)
    return c * m1, c**2 * m2


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8])
def test_layer_ratio_moments_match_stats_mixture(width):
    exact = fw.layer_ratio_moments(width)
    m1, m2 = _stats_layer_ratio(width)
    assert exact["post_mean"] == m1 == 1
    assert exact["post_second"] == m2 == 1 + sp.Rational(5, width)
    Q = st.ChiSquared("Q", width)  # ||h||^2 / sigma^2 ~ chi^2_n: u = chi^2_n / n
    assert exact["pre_second"] == st.E((Q / width) ** 2)
    assert exact["alive"] == 1 - st.P(sp.Eq(st.Binomial("K", width, sp.Rational(1, 2)), 0))


def test_layer_ratio_symbolic_identities():
    n = fw.n
    m = fw.layer_ratio_moments()
    assert sp.simplify(m["post_second"] - (1 + 5 / n)) == 0
    assert sp.simplify(m["pre_second"] - (1 + 2 / n)) == 0
    # E S^2 = E[K^2 + 2K] with E K = n/2, Var K = n/4 (Binomial): (2/n)^2 (n/4 + n^2/4 + n) = 1 + 5/n
    assert sp.simplify((2 / n) ** 2 * (n / 4 + n**2 / 4 + n) - m["post_second"]) == 0
    # ... and without K: S = sum of n iid relu(z)^2 with E relu^2 = 1/2, E relu^4 = 3/2 (sympy.stats)
    Z = st.Normal("Z", 0, 1)
    r2, r4 = (st.E(Z**p, Z > 0) * st.P(Z > 0) for p in (2, 4))
    assert (r2, r4) == (sp.Rational(1, 2), sp.Rational(3, 2))
    assert sp.simplify((2 / n) ** 2 * (n * r4 + n * (n - 1) * r2**2) - m["post_second"]) == 0


def test_conditional_moments_are_homogeneous_in_input_norm():
    c = fw.conditional_moments()
    lam = sp.Symbol("lambda", positive=True)
    for key, power in (("post_mean", 1), ("post_second", 2), ("pre_mean", 1), ("pre_second", 2)):
        assert sp.simplify(c[key].subs(fw.s, lam * fw.s) - lam**power * c[key]) == 0
    assert sp.simplify(c["post_second"] / c["post_mean"] ** 2 - (1 + 5 / fw.n)) == 0


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_network_closed_forms(depth):
    net = fw.network_moments(depth)
    ns = fw.width_symbols(depth)
    assert sp.simplify(net["post_mean"] - fw.s0 * ns[-1] / ns[0]) == 0  # the mean is exactly preserved
    ratio = sp.Mul(*[1 + 5 / w for w in ns[1:]])
    assert sp.simplify(net["post_second"] / net["post_mean"] ** 2 - ratio) == 0
    assert sp.simplify(net["pre_second"] / net["pre_mean"] ** 2 - ratio * (1 + 2 / ns[-1]) / (1 + 5 / ns[-1])) == 0
    assert sp.simplify(net["dead_probability"] - (1 - sp.Mul(*[1 - 2**-w for w in ns[1:]]))) == 0
    # the tower over layers (iterated conditional moments) gives the same
    assert sp.simplify(fw._tower(depth, 2).doit() - net["post_second"]) == 0
    assert sp.simplify(fw._tower(depth, 2, "pre").doit() - net["pre_second"]) == 0


@pytest.mark.parametrize("widths,s_in", [([8, 6, 5, 7], 3), ([3, 1], 1), ([10, 4, 4, 4, 4, 4, 2], sp.Rational(7, 2)),
                                         ([784, 300, 100, 10], 2)])
def test_numeric_moments_match_symbolic(widths, s_in):
    L = len(widths) - 1
    net = fw.network_moments(L)
    sub = {fw.s0: s_in, **dict(zip(fw.width_symbols(L), widths))}
    exact = fw.norm_moments(widths, s_in, exact=True)
    floats = fw.norm_moments(widths, float(s_in))
    for part in ("post", "pre"):
        for key in ("mean", "second"):
            want = net[f"{part}_{key}"].subs(sub)
            assert exact[part][key] == want
            assert floats[part][key] == pytest.approx(float(want), rel=1e-12)
        assert exact[part]["var"] == exact[part]["second"] - exact[part]["mean"] ** 2
    assert exact["post"]["ratio"] == sp.Mul(*[1 + sp.Rational(5, w) for w in widths[1:]])
    assert exact["dead_probability"] == net["dead_probability"].subs(sub)
    assert floats["dead_probability"] == pytest.approx(float(exact["dead_probability"]), rel=1e-12)
    by_layer = fw.norm_moments_by_layer(widths, s_in, exact=True)
    assert [d["layer"] for d in by_layer] == list(range(1, L + 1))
    assert [d["post"]["mean"] for d in by_layer] == [s_in * sp.Rational(w, widths[0]) for w in widths[1:]]
    assert by_layer[-1]["post"] == exact["post"] and by_layer[-1]["pre"] == exact["pre"]


def test_dead_layer_probability_single_layer_and_tiny_tails():
    assert fw.norm_moments([4, 3], exact=True)["dead_probability"] == sp.Rational(1, 8)
    deep = fw.norm_moments([100] * 51)  # 50 layers of width 100: P ~ 50 * 2^-100, not rounded to 0
    assert deep["dead_probability"] == pytest.approx(float(fw.norm_moments([100] * 51, exact=True)["dead_probability"]),
                                                     rel=1e-12)
    assert deep["dead_probability"] > 0


def test_float_overflow_is_inf_and_exact_is_not():
    widths = [4] + [1] * 600  # (1 + 5)^600 overflows a double
    f = fw.norm_moments(widths)
    assert f["post"]["mean"] == 0.25 and f["post"]["second"] == math.inf
    e = fw.norm_moments(widths, exact=True)
    assert e["post"]["second"] == sp.Rational(1, 16) * 6**600


# ------------------------------------------------------------------------------------------------ log-normal
@pytest.mark.parametrize("widths", [[8, 6, 5, 7], [3, 1], [50] * 11, [784, 300, 100, 10]])
def test_lognormal_matches_first_two_moments(widths):
    for of in ("post", "pre"):
        mu, s2 = fw.lognormal_params(widths, of=of)
        ratio = float(fw.norm_moments(widths, exact=True)[of]["ratio"])
        assert math.exp(mu + s2 / 2) == pytest.approx(1.0, rel=1e-12)  # E M = 1
        assert math.exp(2 * mu + 2 * s2) == pytest.approx(ratio, rel=1e-12)  # E M^2 = the exact ratio
        assert mu == pytest.approx(-s2 / 2, rel=1e-12)
    mu, s2 = fw.lognormal_params(widths)
    assert s2 == pytest.approx(math.fsum(math.log(1 + 5 / w) for w in widths[1:]), rel=1e-12)
    assert s2 < 5 * sum(1 / w for w in widths[1:])  # log(1 + x) < x


def test_lognormal_wide_limit_keeps_digits():
    """sigma^2 -> 5 sum 1/n_l; at n = 10^9 the log1p route keeps the relative error at rounding level."""
    mu, s2 = fw.lognormal_params([10**9] * 4)
    want = 3 * float(sp.log(1 + sp.Rational(5, 10**9)).evalf(30))
    assert s2 == pytest.approx(want, rel=1e-14)
    assert s2 == pytest.approx(15e-9, rel=1e-8)


# ------------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("widths", [[], [5], [0, 3], [3, 2.5], [3, -1], [True, 2], "83", 7, None])
def test_bad_widths_rejected(widths):
    with pytest.raises(SpecError):
        fw.norm_moments(widths)
    with pytest.raises(SpecError):
        fw.lognormal_params(widths)


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, "1", True])
def test_bad_input_norm_rejected(value):
    with pytest.raises(SpecError):
        fw.norm_moments([3, 2], value)


def test_bad_kind_and_depth_rejected():
    with pytest.raises(SpecError):
        fw.lognormal_params([3, 2], of="both")
    with pytest.raises(SpecError):
        fw.network_moments(0)


def test_numpy_integer_widths_accepted():
    assert fw.norm_moments(np.array(WIDTHS))["post"] == fw.norm_moments(WIDTHS)["post"]


# ------------------------------------------------------------------------------------------------ Monte Carlo
def _simulate(widths, x0, n_nets, rng, weight_gain=2.0):
    """||x_L||^2 and ||h_L||^2 for n_nets independent networks, each with its own weights W_l entries
    N(0, weight_gain / n_in), all fed the same input x0."""
    x = np.broadcast_to(x0, (n_nets, widths[0]))
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        w = rng.standard_normal((n_nets, n_out, n_in)) * math.sqrt(weight_gain / n_in)
        h = np.einsum("bij,bj->bi", w, x)
        x = np.maximum(h, 0.0)
    return np.einsum("bi,bi->b", x, x), np.einsum("bi,bi->b", h, h)


def _z(sample: np.ndarray, target: float) -> float:
    """(sample mean - target) / standard error, the error estimated across the independent networks."""
    return float((sample.mean() - target) / (sample.std(ddof=1) / math.sqrt(sample.size)))


@functools.lru_cache(maxsize=None)
def _mc():
    rng = np.random.default_rng(np.random.SeedSequence(20240611))
    x0 = np.linspace(-1.0, 1.5, WIDTHS[0])
    s_in = float(x0 @ x0)
    post, pre = _simulate(WIDTHS, x0, N_NETS, rng)
    post_xavier, _ = _simulate(WIDTHS, x0, N_NETS, rng, weight_gain=1.0)
    return s_in, post, pre, post_xavier


def test_monte_carlo_agrees_with_exact_moments():
    s_in, post, pre, _ = _mc()
    th = fw.norm_moments(WIDTHS, s_in)
    checks = {"E||x_L||^2": _z(post, th["post"]["mean"]),
              "E||x_L||^4": _z(post**2, th["post"]["second"]),
              "E||h_L||^2": _z(pre, th["pre"]["mean"]),
              "E||h_L||^4": _z(pre**2, th["pre"]["second"]),
              "P(x_L = 0)": _z((post == 0).astype(float), th["dead_probability"])}
    bad = {k: round(v, 2) for k, v in checks.items() if abs(v) > Z_TOL}
    assert not bad, f"|z| > {Z_TOL}: {bad}"


def test_monte_carlo_negative_controls_fail():
    s_in, post, pre, post_xavier = _mc()
    th = fw.norm_moments(WIDTHS, s_in)
    mean = th["post"]["mean"]
    wrong = {
        # infinite width: E r_L^2 = 1, no finite-width factor
        "no 5/n": _z(post**2, mean**2),
        # the excess 6/n per layer instead of 5/n
        "6/n": _z(post**2, mean**2 * math.prod(1 + 6 / w for w in WIDTHS[1:])),
        # the top pre-activation with the post-activation excess 5/n_L instead of 2/n_L
        "pre 5/n_L": _z(pre**2, th["pre"]["second"] * (1 + 5 / WIDTHS[-1]) / (1 + 2 / WIDTHS[-1])),
        # Xavier weights, variance 1/n_in, against the He mean: off by 2^L
        "Xavier vs He": _z(post_xavier, mean),
        # ignoring the atom at 0 (no dead networks)
        "no dead layers": _z((post == 0).astype(float), 0.0),
    }
    passed = {k: round(v, 2) for k, v in wrong.items() if abs(v) <= Z_TOL}
    assert not passed, f"negative controls not rejected at z = {Z_TOL}: {passed}"


# ------------------------------------------------------------------------------------------------ derivation
@functools.lru_cache(maxsize=None)
def _derivation() -> Derivation:
    # the registry entry itself: importing theory.finite_width registered it (D.get would import every theory module)
    return D._REGISTRY["finite-width-relu"][1]()


def test_derivation_registered_and_verifies():
    assert "theory.finite_width" in D._MODULES
    summary, _ = D._REGISTRY["finite-width-relu"]
    assert "5/n_l" in summary
    d = _derivation()
    assert d.name == "finite-width-relu"
    assert d.ok, f"step {d.first_failure().index} fails: {d.first_failure().detail}"
    text = d.render("text")
    assert "verified: all steps hold" in text and "FAILED" not in text
    assert "Hanin" in " ".join(str(r) for r in d.references)


def test_derivation_states_the_claims():
    """The steps' right-hand sides are the module's closed forms: the per-layer excesses and the network law."""
    d = _derivation()
    rhs = [st_.rhs for st_ in d.steps]
    assert fw.POST_RATIO_SECOND in rhs and fw.POST_RATIO_FOURTH in rhs
    assert fw.conditional_moments()["pre_second"] in rhs
    net = fw.network_moments(3)
    assert net["post_mean"] in rhs and net["post_second"] in rhs and net["dead_probability"] in rhs


def _perturbed(old: sp.Expr, new: sp.Expr):
    d = _derivation()
    steps = list(d.steps)
    (k,) = [i for i, s in enumerate(steps) if s.rhs == old]
    steps[k] = dataclasses.replace(steps[k], rhs=new)
    return k, Derivation(d.name, d.title, steps[:k + 2], list(d.assumptions))


def test_perturbed_excess_fails_at_that_step():
    n = fw.n
    k, bad = _perturbed(fw.POST_RATIO_SECOND, 1 + 6 / n)
    assert not bad.ok
    assert bad.first_failure().index == k + 1
    results = bad.verify()
    assert all(r.ok for r in results[:k]) and results[k + 1].ok  # only the perturbed step fails
    assert f"NOT VERIFIED: step {k + 1} fails" in bad.render("text")


def test_a_wrong_fourth_moment_fails_at_its_step():
    """E t^4 = 1 + 30/n + 251/n^2 + 558/n^3 (the fourth derivative of the moment generating function of S); changing
    the n^-3 term, which matters only at small widths, fails that step."""
    n = fw.n
    assert sp.expand(fw.POST_RATIO_FOURTH - (1 + 30 / n + 251 / n**2 + 558 / n**3)) == 0
    d = _derivation()
    (k,) = [i for i, s in enumerate(d.steps) if s.rhs == fw.POST_RATIO_FOURTH]
    good = Derivation(d.name, d.title, [d.steps[k]], list(d.assumptions))
    bad = Derivation(d.name, d.title, [dataclasses.replace(d.steps[k], rhs=1 + 30 / n + 251 / n**2 + 557 / n**3)],
                     list(d.assumptions))
    assert good.ok and not bad.ok


def test_fourth_moment_spread_by_direct_enumeration():
    """rho_L = prod_(l<L) E t^4 / (E t^2)^2 - 1 with t = 2 chi^2_K / n, K ~ Binomial(n, 1/2): the moments summed over
    K at widths 2, 3 and 5 (E chi^2_k^4 = k (k+2) (k+4) (k+6), E chi^2_k^2 = k (k+2)), float64 precision."""
    def moment(n, chi):
        return sum(math.comb(n, k) / 2**n * chi(k) for k in range(n + 1)) * (2 / n) ** (4 if chi is c4 else 2)

    def c4(k):
        return k * (k + 2) * (k + 4) * (k + 6)

    widths = [7, 2, 3, 5, 3]
    ratios = [moment(n, c4) / moment(n, lambda k: k * (k + 2)) ** 2 for n in widths[1:]]
    expected = [math.prod(ratios[:i]) - 1 for i in range(len(widths) - 1)]
    assert fw.fourth_moment_spread(widths) == pytest.approx(expected, rel=1e-13, abs=0)
    assert fw.fourth_moment_spread([16] * 3)[0] == 0.0  # a fixed input: the first layer's G is not random
    assert fw.fourth_moment_spread([1] + [1] * 800)[-1] == math.inf


# ------------------------------------------------------------------------------------- exact Var(log ||x_L||^2)
def test_log_variance_derivation_verifies_and_a_wrong_cumulant_fails():
    d = D._REGISTRY["finite-width-log-variance"][1]()
    assert d.ok, f"step {d.first_failure().index} fails: {d.first_failure().detail}"
    rhs = [s.rhs for s in d.steps]
    assert fw.LOG_CHI2_MEAN in rhs and fw.LOG_CHI2_VAR in rhs
    (k,) = [i for i, s in enumerate(d.steps) if s.rhs == fw.LOG_CHI2_VAR and i == 2]
    steps = list(d.steps)
    steps[k] = dataclasses.replace(steps[k], rhs=sp.polygamma(1, fw.k_active))  # trigamma at k, not k/2
    assert not Derivation(d.name, d.title, steps[:k + 1], list(d.assumptions)).ok  # the steps up to the changed one


def test_log_variance_by_direct_enumeration_at_small_width():
    """n = 2: K in {1, 2} with P(K = 1) = 2/3, P(K = 2) = 1/3 given K >= 1; the law of total variance by hand."""
    from scipy.special import polygamma

    p = np.array([2 / 3, 1 / 3])
    mean = polygamma(0, np.array([0.5, 1.0]))
    var = polygamma(1, np.array([0.5, 1.0]))
    want = p @ var + p @ (mean - p @ mean) ** 2
    assert fw.log_norm_variance([2, 2]) == pytest.approx(float(want), rel=1e-14)
    assert fw.log_norm_variance([5, 2, 2, 2]) == pytest.approx(3 * float(want), rel=1e-14)  # layers add; n_0 free


def test_log_variance_approaches_five_over_n():
    for n_ in (256, 1024, 4096):
        v = fw.log_norm_variance([n_, n_])
        assert abs(n_ * v - 5) < 40 / n_  # 5/n + O(1/n^2)
