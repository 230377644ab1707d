"""Exact law of the squared activation norm of a finite-width ReLU network with He-normal weights and no bias.

Setting: a fixed input x_0 != 0 in R^(n_0); for l = 1..L, h_l = W_l x_(l-1) with W_l's entries iid N(0, 2/n_(l-1))
(He normal, untruncated), x_l = relu(h_l); widths ``[n_0, n_1, ..., n_L]``. Given x_(l-1), the coordinates of h_l
are iid N(0, sigma_l^2), sigma_l^2 = 2 ||x_(l-1)||^2 / n_(l-1); by sign symmetry the number of active units is
K_l ~ Binomial(n_l, 1/2) and ||x_l||^2 = sigma_l^2 chi^2_(K_l) (chi^2_0 = 0: a dead layer, probability 2^-n_l),
independently across layers (Hanin 2018; Hanin & Nica 2019). Hence, with s_0 = ||x_0||^2,

* E ||x_L||^2 = s_0 n_L / n_0 and E ||x_L||^4 = (s_0 n_L / n_0)^2 prod_(l=1..L) (1 + 5/n_l), exactly;
* E ||h_L||^2 = 2 s_0 n_L / n_0 and E ||h_L||^4 = (2 s_0 n_L / n_0)^2 (1 + 2/n_L) prod_(l<L) (1 + 5/n_l);
* P(x_L = 0) = 1 - prod_l (1 - 2^-n_l);
* log-normal approximation (first two moments matched, higher ones not; the atom at 0 ignored):
  log(||x_L||^2 / E||x_L||^2) ~ N(mu, sigma^2), sigma^2 = sum_l log(1 + 5/n_l) ~ 5 sum_l 1/n_l, mu = -sigma^2/2.

The mean needs only symmetric weights of variance 2/n_(l-1) (E relu(h)^2 = E h^2 / 2 for symmetric h), so it also
holds for truncated or uniform He weights; the second moment, the dead-layer law and the log-normal use Gaussian
weights (Keras' truncated ``he_normal`` changes them at small widths: compare with ``he_normal:plain``).

The per-layer closed forms below are the single source of these formulas; the derivation ``finite-width-relu``
checks each against sympy.stats, and the numeric functions (:func:`norm_moments`, :func:`lognormal_params`)
evaluate them (exact rationals on request).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import sympy as sp
from sympy import stats as st

from theory.derivation import Derivation, Step, derivation
from theory import validate
from theory.errors import SpecError
from theory.text import T

#: width of layer l (the layer's own width n_l) and of layer l - 1
n = sp.Symbol("n", integer=True, positive=True)
n_in = sp.Symbol("n_in", integer=True, positive=True)
#: squared norm ||x_(l-1)||^2 of the layer's input, and ||x_0||^2 of the network's
s = sp.Symbol("s", positive=True)
s0 = sp.Symbol("s_0", positive=True)

# ---------------------------------------------------------------------------------------- per-layer closed forms
#: t_l = (||x_l||^2 / n_l) / (||x_(l-1)||^2 / n_(l-1)) = 2 chi^2_(K_l) / n_l: its mean and second moment.
POST_RATIO_MEAN = sp.Integer(1)
POST_RATIO_SECOND = 1 + 5 / n
#: u_l = (||h_l||^2 / n_l) / (2 ||x_(l-1)||^2 / n_(l-1)) = chi^2_(n_l) / n_l: its mean and second moment.
PRE_RATIO_MEAN = sp.Integer(1)
PRE_RATIO_SECOND = 1 + 2 / n
#: E t_l^4 (t_l = 2 S / n_l, S = chi^2_(K_l)): 1 + 30/n + 251/n^2 + 558/n^3. It sets the spread of a network's fourth
#: moment, hence how many networks a measured kurtosis needs (:func:`fourth_moment_spread`).
POST_RATIO_FOURTH = (n + 9) * (n**2 + 21 * n + 62) / n**3
#: P(K_l >= 1): the layer passes a nonzero signal on.
ALIVE = 1 - sp.Rational(1, 2) ** n

#: log-normal moment matching: log M ~ N(mu, sigma^2) with E M = m_1 = e^a, E M^2 = m_2 = e^b.
log_m1, log_m2 = sp.symbols("a b", real=True)
LOGNORMAL_SIGMA2 = log_m2 - 2 * log_m1
LOGNORMAL_MU = 2 * log_m1 - log_m2 / 2

#: log of a chi-square with k degrees of freedom: its mean and variance (derivation ``finite-width-log-variance``).
#: Given K_l = k active units, log ||x_l||^2 = log sigma_l^2 + log chi^2_k.
k_active = sp.Symbol("k", positive=True)
LOG_CHI2_MEAN = sp.polygamma(0, k_active / 2) + sp.log(2)
LOG_CHI2_VAR = sp.polygamma(1, k_active / 2)


def layer_ratio_moments(width: sp.Expr = n) -> dict[str, sp.Expr]:
    """Per-layer SymPy expressions in ``width`` (default the symbol ``n`` = n_l).

    ``post_mean``/``post_second``/``post_fourth``: moments of t_l = (||x_l||^2/n_l) / (||x_(l-1)||^2/n_(l-1));
    ``pre_mean``/``pre_second``: of u_l = (||h_l||^2/n_l) / (2 ||x_(l-1)||^2/n_(l-1)); ``alive``: P(at least one active unit).
    Each t_l (u_l) is independent of the layers below, so network moments are products of these.
    """
    sub = {n: sp.sympify(width)}
    return {"post_mean": POST_RATIO_MEAN, "post_second": POST_RATIO_SECOND.subs(sub),
            "post_fourth": POST_RATIO_FOURTH.subs(sub), "pre_mean": PRE_RATIO_MEAN,
            "pre_second": PRE_RATIO_SECOND.subs(sub), "alive": ALIVE.subs(sub)}


def conditional_moments() -> dict[str, sp.Expr]:
    """E[||x_l||^2 | x_(l-1)], E[||x_l||^4 | x_(l-1)] and the same for ||h_l||^2, in ``s = ||x_(l-1)||^2``,
    ``n_in = n_(l-1)`` and ``n = n_l`` (from the ratio moments: ||x_l||^2 = t_l s n / n_in, ||h_l||^2 = u_l 2 s n /
    n_in)."""
    post, pre = s * n / n_in, 2 * s * n / n_in
    return {"post_mean": post * POST_RATIO_MEAN, "post_second": post**2 * POST_RATIO_SECOND,
            "pre_mean": pre * PRE_RATIO_MEAN, "pre_second": pre**2 * PRE_RATIO_SECOND}


def width_symbols(depth: int) -> tuple[sp.Symbol, ...]:
    """``n_0, ..., n_L`` as positive-integer symbols."""
    return sp.symbols(f"n_0:{depth + 1}", integer=True, positive=True)


def network_moments(depth: int) -> dict[str, sp.Expr]:
    """Closed forms for a depth-L network as SymPy expressions in ``s_0 = ||x_0||^2`` and ``n_0, ..., n_L``.

    Keys: ``post_mean``, ``post_second`` (of ||x_L||^2), ``pre_mean``, ``pre_second`` (of ||h_L||^2),
    ``dead_probability`` (P(x_L = 0)). Products of the per-layer ratio moments (independent layers).
    """
    if depth < 1:
        raise SpecError(f"depth must be >= 1, got {depth}")
    ns = width_symbols(depth)
    per = [layer_ratio_moments(w) for w in ns[1:]]
    scale = s0 * ns[-1] / ns[0]
    below_mean = sp.Mul(*[p["post_mean"] for p in per[:-1]])
    below_second = sp.Mul(*[p["post_second"] for p in per[:-1]])
    return {"post_mean": scale * below_mean * per[-1]["post_mean"],
            "post_second": scale**2 * below_second * per[-1]["post_second"],
            "pre_mean": 2 * scale * below_mean * per[-1]["pre_mean"],
            "pre_second": (2 * scale) ** 2 * below_second * per[-1]["pre_second"],
            "dead_probability": 1 - sp.Mul(*[p["alive"] for p in per])}


# ----------------------------------------------------------------------------------------------- numeric API
_KEYS = ("post_mean", "post_second", "pre_mean", "pre_second", "alive")


@lru_cache(maxsize=None)
def _float_funcs():
    """Float evaluators lambdified from the closed forms. Moments greater than 1 are carried as excesses e with
    log(1 + e) = log1p(e), and the dead probability through log1p(alive - 1), so that wide layers lose no digits."""
    f = {k: sp.lambdify(n, v, "math") for k, v in layer_ratio_moments().items()}
    for k, v in layer_ratio_moments().items():
        f[f"{k}_excess"] = sp.lambdify(n, v - 1, "math")
    f["sigma2"] = sp.lambdify((log_m1, log_m2), LOGNORMAL_SIGMA2, "math")
    f["mu"] = sp.lambdify((log_m1, log_m2), LOGNORMAL_MU, "math")
    return f


def _check_widths(widths) -> list[int]:
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise SpecError(f"widths must be a list [n_0, n_1, ..., n_L], got {widths!r}")
    widths = list(widths)
    out = []
    for w in widths:
        if not validate.is_integer(w) or int(w) < 1:
            raise SpecError(f"widths must be positive integers, got {w!r} in {widths!r}")
        out.append(int(w))
    if len(out) < 2:
        raise SpecError(f"widths needs the input width and at least one layer, [n_0, n_1, ...], got {out!r}")
    return out


def _check_norm(v):
    return validate.real("input_sq_norm", v, 0.0, lo_open=True)


def _summary(mean, second):
    return {"mean": mean, "second": second, "var": second - mean**2, "ratio": second / mean**2}


def norm_moments_by_layer(widths: Sequence[int], input_sq_norm: float = 1.0, *, exact: bool = False) -> list[dict]:
    """The moments of :func:`norm_moments` at every layer l = 1..L: a list of dicts with ``layer``, ``width``,
    ``post``, ``pre`` and ``dead_probability``."""
    ws = _check_widths(widths)
    s_in = _check_norm(input_sq_norm)
    if exact:
        s_in = sp.nsimplify(s_in) if isinstance(s_in, float) else sp.sympify(s_in)
        per = [layer_ratio_moments(sp.Integer(w)) for w in ws[1:]]
        log_alive = None
    else:
        f = _float_funcs()
        s_in = float(s_in)
        per = [{k: float(f[k](w)) for k in _KEYS} for w in ws[1:]]
        log_alive = [math.log1p(f["alive_excess"](w)) for w in ws[1:]]
    out = []
    below_mean = below_second = alive = sp.Integer(1) if exact else 1.0  # products over the layers below l
    for layer, (w, p) in enumerate(zip(ws[1:], per), start=1):
        scale = s_in * (sp.Rational(w, ws[0]) if exact else w / ws[0])  # E||x_l||^2 = scale: the mean is exact
        alive = alive * p["alive"] if exact else math.fsum(log_alive[:layer])
        out.append({"layer": layer, "width": w,
                    "post": _summary(scale * below_mean * p["post_mean"], scale**2 * below_second * p["post_second"]),
                    "pre": _summary(2 * scale * below_mean * p["pre_mean"],
                                    (2 * scale) ** 2 * below_second * p["pre_second"]),
                    "dead_probability": 1 - alive if exact else -math.expm1(alive)})
        below_mean, below_second = below_mean * p["post_mean"], below_second * p["post_second"]
    return out


def norm_moments(widths: Sequence[int], input_sq_norm: float = 1.0, *, exact: bool = False) -> dict:
    """Exact mean and second moment of ||x_L||^2 (``post``, x_L = relu(h_L)) and of ||h_L||^2 (``pre``).

    ``widths = [n_0, n_1, ..., n_L]``, ``input_sq_norm = ||x_0||^2``; He-normal weights, no bias, ReLU. Each of
    ``post``/``pre`` holds ``mean``, ``second`` (E of the square), ``var`` and ``ratio`` = second / mean^2
    (prod_l (1 + 5/n_l) for ``post``); ``dead_probability`` = P(x_L = 0). Floats, or SymPy rationals with
    ``exact=True`` (a float ``input_sq_norm`` is then converted by ``nsimplify``). In floats a deep narrow network
    can give ``second = inf``; the exact form does not overflow.
    """
    ws = _check_widths(widths)
    last = norm_moments_by_layer(ws, input_sq_norm, exact=exact)[-1]
    return {"widths": ws, "depth": len(ws) - 1, "input_sq_norm": input_sq_norm,
            "post": last["post"], "pre": last["pre"], "dead_probability": last["dead_probability"]}


#: above this bound sqrt(rho_l / N) on the relative standard error of E h_l^4, N networks are too few for a fourth
#: moment: a measured kurtosis there is flagged (sims run --kurtosis, the figure finite-width-kurtosis)
FOURTH_MOMENT_RELIABLE = 0.5


def fourth_moment_se_bound(widths: Sequence[int], networks: int) -> list[float]:
    """Per layer: sqrt(rho_l / N), the relative standard error of E h_l^4 over N = ``networks`` independent networks
    for one fixed input (:func:`fourth_moment_spread`)."""
    networks = validate.integer("networks", networks, lo=1)
    return [math.sqrt(r / networks) for r in fourth_moment_spread(widths)]


def fourth_moment_spread(widths: Sequence[int]) -> list[float]:
    """Per layer l = 1..L (``widths = [n_0, ..., n_L]``, fixed input): rho_l = Var(G_l^2) / (E G_l^2)^2 =
    prod_(m<l) E t_m^4 / (E t_m^2)^2 - 1, the relative variance across networks of E[h_l^4 | network] = 3 G_l^2 for
    one input (G_l = 2 ||x_(l-1)||^2 / n_(l-1), the layer's conditional variance). N independent networks measure
    E h_l^4 to a relative standard error sqrt(rho_l / N) (less when each network sees several inputs, which share
    its weights); where that is not small the sample mean of this heavy-tailed quantity falls short of it, and a
    standard error computed from the same sample understates the error. ``inf`` past float64."""
    ws = _check_widths(widths)
    f = _float_funcs()
    out, log_ratio = [], 0.0
    for w in ws[1:]:
        out.append(math.expm1(log_ratio) if log_ratio < 700 else math.inf)
        log_ratio += math.log(f["post_fourth"](w)) - 2 * math.log(f["post_second"](w))
    return out


def lognormal_params(widths: Sequence[int], *, of: str = "post") -> tuple[float, float]:
    """(mu, sigma^2) of the log-normal approximation to ||x_L||^2 / E||x_L||^2 (``of="post"``) or to
    ||h_L||^2 / E||h_L||^2 (``of="pre"``).

    Moment matching: log M ~ N(mu, sigma^2) with E M = 1 and E M^2 = prod_l (1 + 5/n_l) (post) gives
    sigma^2 = sum_l log(1 + 5/n_l) and mu = -sigma^2/2; for ``pre`` the top factor is 1 + 2/n_L. Only the first
    two moments are matched; the atom at 0 (probability 1 - prod_l (1 - 2^-n_l)) is ignored. For log ||x_L||^2
    itself add log E||x_L||^2 to mu.
    """
    if of not in ("post", "pre"):
        raise SpecError(f"of must be 'post' or 'pre', got {of!r}")
    ws = _check_widths(widths)
    f = _float_funcs()
    keys = ["post"] * (len(ws) - 2) + [of]  # the layers below the top always enter through ||x_l||^2
    a = math.fsum(math.log1p(f[f"{k}_mean_excess"](w)) for k, w in zip(keys, ws[1:]))
    b = math.fsum(math.log1p(f[f"{k}_second_excess"](w)) for k, w in zip(keys, ws[1:]))
    return float(f["mu"](a, b)), float(f["sigma2"](a, b))


@lru_cache(maxsize=None)
def _log_chi2_funcs():
    return (sp.lambdify(k_active, LOG_CHI2_MEAN, "scipy"), sp.lambdify(k_active, LOG_CHI2_VAR, "scipy"))


def log_norm_variance_by_layer(widths: Sequence[int]) -> list[float]:
    """Per layer l = 1..L, V(n_l) = Var(log chi^2_(K_l) | K_l >= 1) with K_l ~ Binomial(n_l, 1/2): the law of total
    variance over K, E[LOG_CHI2_VAR(K)] + Var[LOG_CHI2_MEAN(K)], summed exactly over k = 1..n_l."""
    import numpy as np
    from scipy.stats import binom

    ws = _check_widths(widths)
    mean_f, var_f = _log_chi2_funcs()
    out = []
    for w in ws[1:]:
        k = np.arange(1, w + 1, dtype=float)
        p = binom.pmf(k, w, 0.5)
        p = p / p.sum()  # conditioned on K >= 1 (the normalization is 1 - 2^-n, summed directly)
        m = mean_f(k)
        mbar = float(np.dot(p, m))
        out.append(float(np.dot(p, var_f(k)) + np.dot(p, (m - mbar) ** 2)))
    return out


def log_norm_variance(widths: Sequence[int]) -> float:
    """Exact Var(log ||x_L||^2 | x_L != 0) for the network of :func:`norm_moments` (He normal, no bias, relu):
    sum over layers of :func:`log_norm_variance_by_layer`. Given that no layer is dead the layers' factors
    chi^2_(K_l) stay independent (each K_l >= 1 is an event of layer l alone), so the variances add. For wide layers
    V(n) = 5/n + O(1/n^2), the log-normal sigma^2 = sum log(1 + 5/n_l) to first order."""
    return math.fsum(log_norm_variance_by_layer(widths))


# ------------------------------------------------------------------------------------------------- derivation
def _after(transform, what: str):
    """A check: ``transform(lhs)`` (which must compute, e.g. rewrite a Variance into Expectations and evaluate)
    equals rhs after simplification."""
    def check(lhs, rhs):
        value = transform(lhs)
        diff = sp.simplify(value - sp.sympify(rhs).doit())
        return (diff == 0), (f"{what} equals rhs" if diff == 0 else f"{what}: lhs - rhs = {diff}")
    return check


def _bilinear(e):
    """Var/Cov of linear forms: expand by bilinearity, then evaluate each Var(W_a), Cov(W_a, W_b) by sympy.stats."""
    return e.expand().replace(lambda a: isinstance(a, (st.Variance, st.Covariance)),
                              lambda a: a.rewrite(st.Expectation).doit())


def _erf_form(e):
    return e.doit().rewrite(sp.erf)


def _for_every_width(var: sp.Symbol):
    """A check for a sum over j = 0..n with symbolic n: SymPy's closed form may be a Piecewise in n (``n > 1``);
    every conditional branch must equal rhs identically, and the widths left to the default branch (a finite set
    of positive integers, found by ``solveset``) are checked one by one by summing at that width."""
    def check(lhs, rhs):
        value = sp.piecewise_fold(lhs.doit())
        if not isinstance(value, sp.Piecewise):
            diff = sp.simplify(value - rhs)
            return diff == 0, "the sum simplifies to rhs" if diff == 0 else f"lhs - rhs = {diff}"
        remaining: sp.Set = sp.S.Naturals
        checked = []
        for expr, cond in value.args:
            if cond is sp.true:
                if not remaining.is_finite_set:
                    return False, f"default branch applies to infinitely many {var}: {remaining}"
                for v in remaining:
                    d = sp.simplify(lhs.subs(var, v).doit() - rhs.subs(var, v))
                    if d != 0:
                        return False, f"at {var} = {v}: lhs - rhs = {d}"
                    checked.append(int(v))
                break
            d = sp.simplify(expr - rhs)
            if d != 0:
                return False, f"for {cond}: lhs - rhs = {d}"
            remaining = sp.Intersection(remaining, cond.as_set().complement(sp.S.Reals))
        return True, f"summed for general {var} (conditional branches), and at {var} in {checked} separately"
    return check


def _tower(depth: int, power: int, key: str = "post") -> sp.Expr:
    """E[||x_L||^(2 power)] (or ||h_L||^(2 power) for key "pre") by iterated conditional expectation from the top,
    E[. | x_(L-1)], then E[. | x_(L-2)], ...: each conditional moment is c_l s_(l-1)^power (homogeneous in
    s = ||x_(l-1)||^2), so the result is s_0^power prod_l c_l; the factors are kept unevaluated for display."""
    ns = width_symbols(depth)
    cond = conditional_moments()
    name = {1: "mean", 2: "second"}[power]
    factors = []
    for l in range(1, depth + 1):
        moment = cond[f"{key if l == depth else 'post'}_{name}"]
        c = sp.simplify(moment / s**power)
        if c.has(s):
            raise AssertionError(f"conditional moment {moment} is not homogeneous of degree {power} in s")
        factors.append(sp.UnevaluatedExpr(c.subs({n_in: ns[l - 1], n: ns[l]}, simultaneous=True)))
    return s0**power * sp.Mul(*factors)


#: the reference of both derivations
_HANIN_NICA = T("B. Hanin, M. Nica, Products of many large random matrices and gradients in deep neural networks, "
                "Comm. Math. Phys. 2019",
                "B. Hanin и M. Nica, «Products of many large random matrices and gradients in deep neural networks», "
                "журнал «Comm. Math. Phys.», 2019")


@derivation("finite-width-relu",
            "He-normal ReLU net, finite widths: E||x_L||^2 = ||x_0||^2 n_L/n_0, "
            "E||x_L||^4 / (E||x_L||^2)^2 = prod (1 + 5/n_l); log-normal approximation")
def _finite_width_relu(depth: int = 3) -> Derivation:
    # one layer, shown for n_in = 3: h_i = sum_j W_ij x_j with W_ij ~ N(0, 2/3)
    xs = sp.symbols("x1:4", real=True)
    row = [st.Normal(f"W1{j}", 0, sp.sqrt(sp.Rational(2, 3))) for j in range(1, 4)]
    row2 = [st.Normal(f"W2{j}", 0, sp.sqrt(sp.Rational(2, 3))) for j in range(1, 4)]
    h1, h2 = sum(w * v for w, v in zip(row, xs)), sum(w * v for w, v in zip(row2, xs))
    z = sp.Symbol("z", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    Z = st.Normal("Z", 0, 1)
    k = sp.Symbol("k", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    Q1 = st.ChiSquared("Q_1", 1)
    Qk = st.ChiSquared("Q_k", k)
    K = st.Binomial("K", n, sp.Rational(1, 2))
    pmf = sp.simplify(st.density(K)(j).subs(sp.Le(j, n), True))  # the j <= n branch: all of the sum's range
    phi = st.density(Z)(z)  # E relu(Z)^p = integral over z > 0 of z^p phi(z)
    relu2, relu4 = sp.Integral(z**2 * phi, (z, 0, sp.oo)), sp.Integral(z**4 * phi, (z, 0, sp.oo))
    p_active = st.Probability(Z > 0)
    # E S and E S^2, S = ||relu(z)||^2, z ~ N(0, I_n): the claims of the two sums below, reused unevaluated
    e_s, e_s2 = sp.UnevaluatedExpr(n / 2), sp.UnevaluatedExpr(n**2 / 4 + 5 * n / 4)
    cond = conditional_moments()
    net = network_moments(depth)
    ns = width_symbols(depth)
    mu, s2 = sp.Symbol("mu", real=True), sp.Symbol("sigma2", positive=True)
    Y = st.Normal("Y", mu, sp.sqrt(s2))
    m1, m2 = sp.symbols("m_1 m_2", positive=True)
    mu_star = LOGNORMAL_MU.subs({log_m1: sp.log(m1), log_m2: sp.log(m2)})
    s2_star = LOGNORMAL_SIGMA2.subs({log_m1: sp.log(m1), log_m2: sp.log(m2)})
    ratio_net = sp.Mul(*[POST_RATIO_SECOND.subs(n, w) for w in ns[1:]])  # E r_L^2, r_L = ||x_L||^2 / E||x_L||^2
    sigma2_net = sum(sp.log(POST_RATIO_SECOND.subs(n, w)) for w in ns[1:])
    beta = sp.Symbol("beta", positive=True)
    t_mgf = sp.Symbol("t", real=True)
    unit_mgf = sp.Rational(1, 2) + sp.Rational(1, 2) / sp.sqrt(1 - 2 * t_mgf)  # E exp(t relu(z)^2), t < 1/2
    pos, neg = (z, sp.Symbol("z", positive=True), "$z > 0$"), (z, sp.Symbol("z", negative=True), "$z < 0$")
    return Derivation(
        "finite-width-relu", T("Squared activation norm of a finite-width He-normal ReLU network",
                               "Квадрат нормы активаций ReLU-сети конечной ширины с нормальной инициализацией He"),
        [
            # one layer, given x_(l-1)
            Step(lhs=st.Variance(h1), rhs=sp.Rational(2, 3) * sum(v**2 for v in xs),
                 check=_after(_bilinear, "Var by bilinearity"),
                 why=T(r"a pre-activation $h_i = \sum_j W_{ij} x_j$, $W_{ij} \sim N(0, 2/n_{in})$ iid (He normal), "
                       r"shown for $n_{in} = 3$: given $x$, $\mathrm{Var}\,h_i = 2\lVert x\rVert^2/n_{in}$",
                       r"предактивация $h_i = \sum_j W_{ij} x_j$, $W_{ij} \sim N(0, 2/n_{in})$ независимы "
                       r"(нормальная инициализация He), показано для $n_{in} = 3$: при заданном $x$ дисперсия "
                       r"$\mathrm{Var}\,h_i = 2\lVert x\rVert^2/n_{in}$")),
            Step(lhs=st.Covariance(h1, h2), rhs=0, check=_after(_bilinear, "Cov by bilinearity"),
                 why=T("distinct rows of $W$ are independent: given $x$, the $h_i$ are jointly Gaussian and "
                       r"uncorrelated, hence iid $N(0, \sigma^2)$, $\sigma^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$ (the "
                       "assumption)",
                       "разные строки $W$ независимы: при заданном $x$ величины $h_i$ совместно гауссовы и "
                       "некоррелированы, а значит, независимы и одинаково распределены по "
                       r"$N(0, \sigma^2)$, $\sigma^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$ (предположение)")),
            Step(lhs=sp.Max(0, sigma * z) ** 2, rhs=sigma**2 * sp.Max(0, z) ** 2, under=pos,
                 why=T(r"relu is positively homogeneous, so $\lVert x_l\rVert^2 = \sigma^2 S$ with "
                       r"$S = \lVert\mathrm{relu}(z)\rVert^2$, $z \sim N(0, I_n)$",
                       r"ReLU положительно однородна, поэтому $\lVert x_l\rVert^2 = \sigma^2 S$, где "
                       r"$S = \lVert\mathrm{relu}(z)\rVert^2$, $z \sim N(0, I_n)$")),
            Step(lhs=sp.Max(0, sigma * z) ** 2, rhs=sigma**2 * sp.Max(0, z) ** 2, under=neg,
                 why=T("both sides vanish for $z < 0$ (and at $z = 0$)",
                       "при $z < 0$ (и при $z = 0$) обе части равны нулю")),
            # the law of S
            Step(lhs=p_active, rhs=sp.Rational(1, 2),
                 why=T(r"sign symmetry: each unit is active with probability $\frac{1}{2}$, independently: "
                       r"$K \sim \mathrm{Binomial}(n, \frac{1}{2})$",
                       r"симметрия знака: каждый нейрон активен с вероятностью $\frac{1}{2}$ независимо от "
                       r"остальных: $K \sim \mathrm{Binomial}(n, \frac{1}{2})$")),
            Step(lhs=relu2, rhs=p_active * st.Expectation(Q1),
                 why=T(r"given $z > 0$, $z^2$ has the law of $\lvert z\rvert^2$, $\chi^2_1$ (symmetry): second "
                       "moment",
                       r"при условии $z > 0$ величина $z^2$ распределена как $\lvert z\rvert^2$, то есть как "
                       r"$\chi^2_1$ (симметрия): второй момент")),
            Step(lhs=relu4, rhs=p_active * st.Expectation(Q1**2),
                 why=T(r"and fourth moment; so given $K = k$, $S$ is a sum of $k$ iid $\chi^2_1$, i.e. "
                       r"$S \sim \chi^2_k$",
                       r"и четвёртый момент; значит, при $K = k$ величина $S$ — сумма $k$ независимых $\chi^2_1$, "
                       r"то есть $S \sim \chi^2_k$")),
            Step(lhs=st.Expectation(Qk), rhs=k, why=T(r"mean of $\chi^2_k$ (`sympy.stats.ChiSquared`)",
                                                      r"среднее $\chi^2_k$ (`sympy.stats.ChiSquared`)")),
            Step(lhs=st.Expectation(Qk**2), rhs=k**2 + 2 * k,
                 why=T(r"second moment of $\chi^2_k$ (`sympy.stats.ChiSquared`)",
                       r"второй момент $\chi^2_k$ (`sympy.stats.ChiSquared`)")),
            Step(lhs=k * st.Expectation(Q1**2) + k * (k - 1) * st.Expectation(Q1) ** 2, rhs=k**2 + 2 * k,
                 why=T(r"the same from $S$ = sum of $k$ iid $\chi^2_1$: $k\,E[Q^2] + k(k-1)\,E[Q]^2$, which holds "
                       r"for every $k \ge 0$",
                       r"то же из того, что $S$ — сумма $k$ независимых $\chi^2_1$: $k\,E[Q^2] + k(k-1)\,E[Q]^2$, "
                       r"и это верно при любом $k \ge 0$")),
            Step(lhs=sp.Subs(k**2 + 2 * k, k, 0), rhs=0,
                 why=T(r"$k = 0$ (a dead layer): $\chi^2_0 = 0$ and the formula gives 0, so the mixture over $K$ "
                       "needs no special case",
                       r"$k = 0$ (мёртвый слой): $\chi^2_0 = 0$, и формула даёт 0, так что смесь по $K$ не требует "
                       "особого случая")),
            Step(lhs=sp.Subs(pmf, j, 0), rhs=sp.Rational(1, 2) ** n,
                 why=T("$P(K = 0) = 2^{-n}$ (`sympy.stats.Binomial`): all $n$ units inactive; then $x_l = 0$ and so "
                       "are all later layers",
                       "$P(K = 0) = 2^{-n}$ (`sympy.stats.Binomial`): все $n$ нейронов неактивны; тогда $x_l = 0$, "
                       "как и выходы всех следующих слоёв")),
            Step(lhs=sp.Sum(pmf * j, (j, 0, n)), rhs=e_s.args[0],
                 why=T(r"tower property: $E S = E[E[\chi^2_K \mid K]] = E K$, summed over the Binomial pmf with "
                       "symbolic $n$",
                       r"формула полного математического ожидания: $E S = E[E[\chi^2_K \mid K]] = E K$, сумма по "
                       "биномиальным вероятностям с символьным $n$")),
            Step(lhs=sp.Sum(pmf * (j**2 + 2 * j), (j, 0, n)), rhs=e_s2.args[0], check=_for_every_width(n),
                 why=T(r"$E S^2 = E[K^2 + 2K]$ over the Binomial pmf, the $j = 0$ term included",
                       r"$E S^2 = E[K^2 + 2K]$ по биномиальным вероятностям, включая слагаемое $j = 0$")),
            Step(lhs=n * p_active * st.Expectation(Q1**2) + n * (n - 1) * (p_active * st.Expectation(Q1)) ** 2,
                 rhs=e_s2.args[0],
                 why=T(r"cross-check without $K$: $S$ = sum of $n$ iid $\mathrm{relu}(z_i)^2$, "
                       r"$E\,\mathrm{relu}^4 = 3/2$, $E\,\mathrm{relu}^2 = 1/2$",
                       r"перекрёстная проверка без $K$: $S$ — сумма $n$ независимых $\mathrm{relu}(z_i)^2$, "
                       r"$E\,\mathrm{relu}^4 = 3/2$, $E\,\mathrm{relu}^2 = 1/2$")),
            # per layer
            Step(lhs=(2 / n) * sp.Sum(pmf * j, (j, 0, n)), rhs=POST_RATIO_MEAN,
                 why=T(r"$t_l = \frac{\lVert x_l\rVert^2/n_l}{\lVert x_{l-1}\rVert^2/n_{l-1}} = 2S/n_l$ since "
                       r"$\sigma^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$: $E t_l = 1$, He init preserves the mean "
                       "exactly at every width",
                       r"$t_l = \frac{\lVert x_l\rVert^2/n_l}{\lVert x_{l-1}\rVert^2/n_{l-1}} = 2S/n_l$, поскольку "
                       r"$\sigma^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$: $E t_l = 1$, инициализация He сохраняет "
                       "среднее точно при любой ширине")),
            Step(lhs=(2 / n) ** 2 * e_s2, rhs=POST_RATIO_SECOND,
                 why=T(r"$E t_l^2 = (2/n)^2\,E S^2$: the finite-width excess $5/n_l$ per layer",
                       r"$E t_l^2 = (2/n)^2\,E S^2$: избыток $5/n_l$ на слой из-за конечной ширины")),
            Step(lhs=sp.Rational(1, 2) + sp.Rational(1, 2) * st.Expectation(sp.exp(t_mgf * Q1)), rhs=unit_mgf,
                 check=_after(lambda e: e.subs(st.Expectation(sp.exp(t_mgf * Q1)),
                                               st.moment_generating_function(Q1)(t_mgf)),
                              "the chi^2_1 moment generating function (sympy.stats)"),
                 why=T(r"a unit is off or has $\mathrm{relu}(z)^2 \sim \chi^2_1$, each with probability "
                       r"$\frac{1}{2}$: $E\,e^{t\,\mathrm{relu}(z)^2}$ for $t < \frac{1}{2}$ "
                       r"(`sympy.stats.moment_generating_function`); $S$ sums $n$ iid units, so "
                       r"$E\,e^{tS}$ is its $n$-th power",
                       r"нейрон выключен или даёт $\mathrm{relu}(z)^2 \sim \chi^2_1$, с вероятностью "
                       r"$\frac{1}{2}$ каждое: $E\,e^{t\,\mathrm{relu}(z)^2}$ при $t < \frac{1}{2}$ "
                       r"(`sympy.stats.moment_generating_function`); $S$ — сумма $n$ независимых нейронов, поэтому "
                       r"$E\,e^{tS}$ — её $n$-я степень")),
            Step(lhs=(2 / n) ** 4 * sp.Subs(sp.Derivative(unit_mgf**n, t_mgf, 4), t_mgf, 0), rhs=POST_RATIO_FOURTH,
                 why=T(r"$E t_l^4 = (2/n)^4\,E S^4$, the fourth derivative at $t = 0$: one input's $h_L^4$ varies "
                       r"across networks by $\rho_L = \prod_{l<L} E t_l^4/(E t_l^2)^2 - 1$ in relative variance, so "
                       r"$N$ networks measure its mean to a relative error $\sqrt{\rho_L/N}$",
                       r"$E t_l^4 = (2/n)^4\,E S^4$ — четвёртая производная при $t = 0$: $h_L^4$ одного входа "
                       r"меняется от сети к сети с относительной дисперсией "
                       r"$\rho_L = \prod_{l<L} E t_l^4/(E t_l^2)^2 - 1$, поэтому $N$ сетей измеряют его среднее с "
                       r"относительной ошибкой $\sqrt{\rho_L/N}$")),
            Step(lhs=(2 * s / n_in) * e_s, rhs=cond["post_mean"],
                 why=T(r"$E[\lVert x_l\rVert^2 \mid x_{l-1}] = \sigma^2\,E S$, with $s = \lVert x_{l-1}\rVert^2$",
                       r"$E[\lVert x_l\rVert^2 \mid x_{l-1}] = \sigma^2\,E S$, где $s = \lVert x_{l-1}\rVert^2$")),
            Step(lhs=(2 * s / n_in) ** 2 * e_s2, rhs=cond["post_second"],
                 why=r"$E[\lVert x_l\rVert^4 \mid x_{l-1}] = \sigma^4\,E S^2$"),
            Step(lhs=(2 * s / n_in) * st.Expectation(st.ChiSquared("Q_n", n)), rhs=cond["pre_mean"],
                 why=T(r"$\lVert h_l\rVert^2 = \sigma^2 \chi^2_n$ given $x_{l-1}$: "
                       r"$E[\lVert h_l\rVert^2 \mid x_{l-1}] = 2 s n/n_{in}$",
                       r"$\lVert h_l\rVert^2 = \sigma^2 \chi^2_n$ при заданном $x_{l-1}$: "
                       r"$E[\lVert h_l\rVert^2 \mid x_{l-1}] = 2 s n/n_{in}$")),
            Step(lhs=(2 * s / n_in) ** 2 * st.Expectation(st.ChiSquared("Q_n", n) ** 2), rhs=cond["pre_second"],
                 why=T(r"$E[\lVert h_l\rVert^4 \mid x_{l-1}] = \sigma^4 (n^2 + 2n)$: excess $2/n_l$, not $5/n_l$, "
                       "for the pre-activation",
                       r"$E[\lVert h_l\rVert^4 \mid x_{l-1}] = \sigma^4 (n^2 + 2n)$: у предактивации избыток "
                       "$2/n_l$, а не $5/n_l$")),
            # the network, L = depth
            Step(lhs=_tower(depth, 1), rhs=net["post_mean"],
                 why=T(f"$L = {depth}$: $t_l$ depends only on layer $l$'s fresh weights (independent of the layers "
                       r"below); iterating the conditional mean from the top gives "
                       r"$E\lVert x_L\rVert^2 = \lVert x_0\rVert^2 n_L/n_0$",
                       f"$L = {depth}$: $t_l$ зависит только от собственных весов слоя $l$ (независимых от нижних "
                       r"слоёв); последовательно беря условное среднее сверху вниз, получаем "
                       r"$E\lVert x_L\rVert^2 = \lVert x_0\rVert^2 n_L/n_0$")),
            Step(lhs=_tower(depth, 2), rhs=net["post_second"],
                 why=T("the same for the second moment: a product of the per-layer factors $(1 + 5/n_l)$",
                       "то же для второго момента: произведение множителей $(1 + 5/n_l)$ по слоям")),
            Step(lhs=sp.UnevaluatedExpr(net["post_second"]) / sp.UnevaluatedExpr(net["post_mean"]) ** 2,
                 rhs=ratio_net,
                 why=T(r"$E\lVert x_L\rVert^4/(E\lVert x_L\rVert^2)^2 = \prod_l (1 + 5/n_l)$, independent of "
                       r"$\lVert x_0\rVert$ and $n_0$",
                       r"$E\lVert x_L\rVert^4/(E\lVert x_L\rVert^2)^2 = \prod_l (1 + 5/n_l)$ не зависит от "
                       r"$\lVert x_0\rVert$ и $n_0$")),
            Step(lhs=_tower(depth, 2, "pre"), rhs=net["pre_second"],
                 why=T(r"pre-activation of the top layer: $(1 + 2/n_L) \prod_{l<L} (1 + 5/n_l)$",
                       r"предактивация верхнего слоя: $(1 + 2/n_L) \prod_{l<L} (1 + 5/n_l)$")),
            Step(lhs=1 - sp.Mul(*[1 - st.Probability(Z <= 0) ** w for w in ns[1:]]), rhs=net["dead_probability"],
                 why=T("$x_L = 0$ unless every layer keeps an active unit; layers independent",
                       "$x_L = 0$, если хотя бы в одном слое не осталось ни одного активного нейрона; слои "
                       "независимы")),
            # log-normal approximation
            Step(lhs=st.Expectation(sp.exp(Y)), rhs=sp.exp(mu + s2 / 2), check=_after(_erf_form, "E e^Y"),
                 why=r"$Y \sim N(\mu, \sigma^2)$: $E\,e^Y = e^{\mu + \sigma^2/2}$"),
            Step(lhs=st.Expectation(sp.exp(2 * Y)), rhs=sp.exp(2 * mu + 2 * s2),
                 why=r"$E\,e^{2Y} = e^{2\mu + 2\sigma^2}$"),
            Step(lhs=sp.exp(sp.UnevaluatedExpr(mu_star) + sp.UnevaluatedExpr(s2_star) / 2), rhs=m1,
                 why=T(r"moment matching: with $\mu = 2\log m_1 - \log(m_2)/2$ and $\sigma^2 = \log m_2 - 2\log m_1$ "
                       "the mean is $m_1$",
                       r"согласование моментов: при $\mu = 2\log m_1 - \log(m_2)/2$ и "
                       r"$\sigma^2 = \log m_2 - 2\log m_1$ среднее равно $m_1$")),
            Step(lhs=sp.exp(2 * sp.UnevaluatedExpr(mu_star) + 2 * sp.UnevaluatedExpr(s2_star)), rhs=m2,
                 why=T("and the second moment $m_2$", "а второй момент — $m_2$")),
            Step(lhs=s2_star.subs({m1: 1, m2: ratio_net}), rhs=sigma2_net,
                 why=T(r"for $r_L = \lVert x_L\rVert^2/E\lVert x_L\rVert^2$ ($m_1 = 1$): "
                       r"$\sigma^2 = \sum_l \log(1 + 5/n_l)$",
                       r"для $r_L = \lVert x_L\rVert^2/E\lVert x_L\rVert^2$ ($m_1 = 1$): "
                       r"$\sigma^2 = \sum_l \log(1 + 5/n_l)$")),
            Step(lhs=mu_star.subs({m1: 1, m2: ratio_net}), rhs=-sigma2_net / 2,
                 why=T(r"and $\mu = -\sigma^2/2$ ($E r_L = 1$); an approximation: higher moments and the atom at 0 "
                       "not matched",
                       r"и $\mu = -\sigma^2/2$ ($E r_L = 1$); это приближение: старшие моменты и атом в нуле не "
                       "согласованы")),
            Step(lhs=sp.Limit(n * sp.log(POST_RATIO_SECOND), n, sp.oo), rhs=5,
                 why=T(r"wide layers: $\log(1 + 5/n) \approx 5/n$, so $\sigma^2 \approx 5 \sum_l 1/n_l$",
                       r"широкие слои: $\log(1 + 5/n) \approx 5/n$, поэтому $\sigma^2 \approx 5 \sum_l 1/n_l$")),
            Step(lhs=sp.Limit(beta * n * sp.log(POST_RATIO_SECOND), n, sp.oo), rhs=5 * beta,
                 why=T(r"equal widths $n$ and depth $L = \beta n$: $\sigma^2 \to 5\beta$, the log-normal limit of "
                       "Hanin & Nica",
                       r"равные ширины $n$ и глубина $L = \beta n$: $\sigma^2 \to 5\beta$ — логнормальный предел "
                       "Hanin & Nica")),
        ],
        assumptions=[T(r"$x_0$ fixed and nonzero; $W_l$ iid $N(0, 2/n_{l-1})$ (He normal, untruncated), no bias, "
                       r"$x_l = \mathrm{relu}(h_l)$",
                       r"$x_0$ фиксирован и ненулевой; элементы $W_l$ независимы и распределены по $N(0, 2/n_{l-1})$ "
                       r"(нормальная инициализация He, без усечения), смещений нет, $x_l = \mathrm{relu}(h_l)$"),
                     T(r"given $x_{l-1}$, $h_l \sim N(0, (2\lVert x_{l-1}\rVert^2/n_{l-1})\,I)$: a linear image of "
                       r"the Gaussian $W_l$ (its variance and the rows' independence are checked for $n_{in} = 3$ "
                       "below)",
                       r"при заданном $x_{l-1}$ вектор $h_l \sim N(0, (2\lVert x_{l-1}\rVert^2/n_{l-1})\,I)$: это "
                       r"линейный образ гауссовой матрицы $W_l$ (дисперсия и независимость строк проверены ниже для "
                       r"$n_{in} = 3$)"),
                     T(f"the network steps are shown for $L = {depth}$ with symbolic widths; the per-layer factors "
                       "multiply the same way at any depth",
                       f"шаги для всей сети показаны при $L = {depth}$ с символьными ширинами; множители слоёв "
                       "перемножаются так же при любой глубине")],
        references=[T("B. Hanin, Which neural net architectures give rise to exploding and vanishing gradients? "
                      "NeurIPS 2018",
                      "B. Hanin, «Which neural net architectures give rise to exploding and vanishing gradients?», "
                      "NeurIPS 2018"),
                    _HANIN_NICA])


@derivation("finite-width-log-variance",
            "He-normal ReLU net: Var(log ||x_L||^2 | alive) = sum_l E[psi_1(K_l/2)] + Var[psi(K_l/2)], "
            "K_l ~ Binomial(n_l, 1/2) | K_l >= 1")
def _finite_width_log_variance() -> Derivation:
    k = k_active
    t = sp.Symbol("t", positive=True)
    Q = st.ChiSquared("Q", k)
    mgf = 2**t * sp.gamma(k / 2 + t) / sp.gamma(k / 2)  # E[Q^t]: the moment generating function of log Q
    return Derivation(
        "finite-width-log-variance", T("Variance of the log squared norm of a finite-width He-normal ReLU network",
                                       "Дисперсия логарифма квадрата нормы активаций ReLU-сети конечной ширины с "
                                       "нормальной инициализацией He"),
        [
            Step(lhs=st.Expectation(Q**t), rhs=mgf,
                 why=T(r"Mellin transform of $\chi^2_k$ (`sympy.stats`): $E[Q^t] = E[e^{t \log Q}]$, the moment "
                       r"generating function of $\log Q$",
                       r"преобразование Меллина для $\chi^2_k$ (`sympy.stats`): $E[Q^t] = E[e^{t \log Q}]$ — "
                       r"производящая функция моментов $\log Q$")),
            Step(lhs=sp.Subs(sp.Derivative(sp.log(mgf), t), t, 0), rhs=LOG_CHI2_MEAN,
                 why=T(r"first cumulant of $\log Q$: $\frac{d}{dt} \log E[Q^t]$ at $t = 0$",
                       r"первый кумулянт $\log Q$: $\frac{d}{dt} \log E[Q^t]$ при $t = 0$")),
            Step(lhs=sp.Subs(sp.Derivative(sp.log(mgf), t, 2), t, 0), rhs=LOG_CHI2_VAR,
                 why=T(r"second cumulant: the variance of $\log \chi^2_k$ is the trigamma function at $k/2$",
                       r"второй кумулянт: дисперсия $\log \chi^2_k$ равна тригамма-функции в точке $k/2$")),
            Step(lhs=st.Expectation(sp.log(Q)), rhs=LOG_CHI2_MEAN,
                 why=T(r"cross-check: $E \log Q$ integrated directly against the $\chi^2_k$ density",
                       r"перекрёстная проверка: $E \log Q$ — прямым интегрированием по плотности $\chi^2_k$")),
            Step(lhs=st.Expectation(sp.log(Q) ** 2) - st.Expectation(sp.log(Q)) ** 2, rhs=LOG_CHI2_VAR,
                 why=T(r"cross-check: $E(\log Q)^2 - (E \log Q)^2$ integrated directly",
                       r"перекрёстная проверка: $E(\log Q)^2 - (E \log Q)^2$ — прямым интегрированием")),
            Step(lhs=sp.Limit(k * LOG_CHI2_VAR, k, sp.oo), rhs=2,
                 why=T(r"many active units: $\mathrm{Var}\log\chi^2_k \approx 2/k$, so $E[\psi_1(K/2)] \approx 4/n$ "
                       r"with $K \approx n/2$; $\mathrm{Var}[\psi(K/2)] \approx \mathrm{Var}(\log K) \approx "
                       r"\mathrm{Var}\,K/(E K)^2 = 1/n$; together $5/n$ per layer, the log-normal "
                       r"$\sigma^2 = \sum_l \log(1 + 5/n_l)$ to first order",
                       r"много активных нейронов: $\mathrm{Var}\log\chi^2_k \approx 2/k$, поэтому "
                       r"$E[\psi_1(K/2)] \approx 4/n$ при $K \approx n/2$; $\mathrm{Var}[\psi(K/2)] \approx "
                       r"\mathrm{Var}(\log K) \approx \mathrm{Var}\,K/(E K)^2 = 1/n$; вместе $5/n$ на слой — "
                       r"логнормальное $\sigma^2 = \sum_l \log(1 + 5/n_l)$ в первом порядке")),
        ],
        assumptions=[T(r"the setting of finite-width-relu: $x_0$ fixed, $W_l$ iid $N(0, 2/n_{l-1})$, no bias, relu",
                       r"постановка вывода finite-width-relu: $x_0$ фиксирован, элементы $W_l$ независимы и "
                       r"распределены по $N(0, 2/n_{l-1})$, смещений нет, ReLU"),
                     T(r"given $x_{l-1}$: $\lVert x_l\rVert^2 = \sigma_l^2 \chi^2_{K_l}$, "
                       r"$\sigma_l^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$, "
                       r"$K_l \sim \mathrm{Binomial}(n_l, \frac{1}{2})$ the active units (finite-width-relu)",
                       r"при заданном $x_{l-1}$: $\lVert x_l\rVert^2 = \sigma_l^2 \chi^2_{K_l}$, "
                       r"$\sigma_l^2 = 2\lVert x_{l-1}\rVert^2/n_{l-1}$, "
                       r"$K_l \sim \mathrm{Binomial}(n_l, \frac{1}{2})$ — число активных нейронов "
                       "(finite-width-relu)"),
                     T(r"so $\log\lVert x_L\rVert^2 = \log\lVert x_0\rVert^2 + \sum_l [\log(2/n_{l-1}) + "
                       r"\log\chi^2_{K_l}]$ with independent terms; conditioning on $x_L \ne 0$ is conditioning each "
                       r"$K_l \ge 1$, which keeps them independent",
                       r"поэтому $\log\lVert x_L\rVert^2 = \log\lVert x_0\rVert^2 + \sum_l [\log(2/n_{l-1}) + "
                       r"\log\chi^2_{K_l}]$ с независимыми слагаемыми; условие $x_L \ne 0$ — это условия "
                       r"$K_l \ge 1$ в каждом слое, и при них слагаемые остаются независимыми"),
                     T(r"law of total variance over $K_l$: $\mathrm{Var}(\log\chi^2_{K_l} \mid K_l \ge 1) = "
                       r"E[\psi_1(K_l/2)] + \mathrm{Var}[\psi(K_l/2) + \log 2]$, summed exactly over the Binomial "
                       "pmf (`log_norm_variance`)",
                       r"формула полной дисперсии по $K_l$: $\mathrm{Var}(\log\chi^2_{K_l} \mid K_l \ge 1) = "
                       r"E[\psi_1(K_l/2)] + \mathrm{Var}[\psi(K_l/2) + \log 2]$, точная сумма по биномиальным "
                       "вероятностям (`log_norm_variance`)")],
        references=[_HANIN_NICA])
