"""Variance identities behind weight initialization, derived with ``sympy.stats``.

Every closed form here is computed by ``sympy.stats`` from a distribution (the integral of a density or a finite
sum over outcomes), never typed: independence is the product probability space that ``sympy.stats`` builds for
distinct random symbols. Identities that hold for every distribution with the given mean and variance are checked
for several families with those two moments (:data:`FAMILIES`: normal, uniform, a skewed two-point law), so a
check cannot pass by an accident of normality.

Symbols: ``mu_w = E[w]``, ``mu_x = E[x]`` (real), ``sigma_w^2 = Var(w)``, ``sigma_x^2 = Var(x)`` (``sigma`` positive),
``n_in`` the fan-in (positive integer, the same symbol as :mod:`theory.init`'s).

Registered derivations: ``product-variance``, ``layer-variance`` (the slides "Инициализация весов (симметричный
случай)" and "Инициализация Хе") and ``uniform-variance`` (the slide formula Var U[a, b] = (b - a)^2 / 12).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import sympy as sp
from sympy.stats import Beta, ContinuousRV, Covariance, Expectation, FiniteRV, Normal, Uniform, Variance
from sympy.stats.rv import random_symbols

from theory.derivation import Derivation, Step, derivation
from theory.text import T

mu_w, mu_x = sp.symbols("mu_w mu_x", real=True)
sigma_w, sigma_x = sp.symbols("sigma_w sigma_x", positive=True)
n_in = sp.Symbol("n_in", positive=True, integer=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
a, b = sp.symbols("a b", real=True)
c = sp.Symbol("c", positive=True)
n = sp.Symbol("n", positive=True, integer=True)
k = _K = sp.Symbol("k", positive=True)  # _K: the symbol, where a parameter named k shadows it
_i = sp.Symbol("i", integer=True, positive=True)
_t = sp.Symbol("t", real=True)


# ------------------------------------------------------------------------------------------- families and evaluation
def _two_point(name: str, m, s, p):
    """Two values with P(m + s sqrt((1-p)/p)) = p: mean m, variance s^2, skewed unless p = 1/2."""
    r = sp.sqrt((1 - p) / p)
    return FiniteRV(name, {m + s * r: p, m - s / r: 1 - p})


def _uniform(name: str, m, s):
    """U[m - sqrt(3) s, m + sqrt(3) s] as an affine image of Beta(1, 1): SymPy integrates its density without the
    Piecewise of ``sympy.stats.Uniform``, which makes joint expectations several times faster."""
    return m + 2 * sp.sqrt(3) * s * (Beta(name, 1, 1) - sp.Rational(1, 2))


#: family -> builder (name, mean, standard deviation) -> random expression with exactly that mean and variance
FAMILIES: dict[str, Callable] = {
    "normal": lambda name, m, s: Normal(name, m, s),
    "uniform": _uniform,
    "two-point(1/5)": lambda name, m, s: _two_point(name, m, s, sp.Rational(1, 5)),
    "two-point(1/2)": lambda name, m, s: _two_point(name, m, s, sp.Rational(1, 2)),
}


@lru_cache(maxsize=4096)
def _monomial_expectation(term: sp.Expr) -> sp.Expr:
    """E[term] for a product of powers of random symbols, integrated (summed) over their joint law."""
    return sp.expand(Expectation(term).doit())


def _expectation(arg: sp.Expr) -> sp.Expr:
    """E[arg] by linearity: expand into monomials and take each one's expectation (cached across steps)."""
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(arg)):
        rvs = random_symbols(term)
        const, rand = term.as_independent(*rvs, as_Add=False) if rvs else (term, sp.Integer(1))
        total += const * (_monomial_expectation(rand) if rvs else 1)
    return total


def _variance(e: Variance) -> sp.Expr:
    y = e.args[0]
    return _expectation((y - _expectation(y)) ** 2)


def _covariance(e: Covariance) -> sp.Expr:
    y, z = e.args[:2]
    return _expectation((y - _expectation(y)) * (z - _expectation(z)))


def evaluate(expr: sp.Expr) -> sp.Expr:
    """Replace every ``Variance``/``Covariance``/``Expectation`` in ``expr`` by its value under ``sympy.stats``.

    Definitions, not shortcuts: Var Y = E[(Y - E Y)^2], Cov(Y, Z) = E[(Y - E Y)(Z - E Z)]. Each expectation is
    split by linearity into monomials whose expectations sympy.stats computes from the joint law: an integral of
    the product density (that is independence) or a finite sum over outcomes.
    """
    expr = sp.sympify(expr)
    expr = expr.replace(lambda e: isinstance(e, Variance), _variance)
    expr = expr.replace(lambda e: isinstance(e, Covariance), _covariance)
    expr = expr.replace(lambda e: isinstance(e, Expectation), lambda e: _expectation(e.args[0]))
    return sp.expand(expr.doit())


def _normals(names: Sequence[str], moments: Sequence[tuple]) -> list:
    """Normal random symbols (the templates written in derivations) with the given (mean, sd) pairs."""
    return [FAMILIES["normal"](nm, m, s) for nm, (m, s) in zip(names, moments)]


def _for_families(templates: Sequence, moments: Sequence[tuple], families: Sequence[Sequence[str]]):
    """A step check: lhs = rhs after evaluation with sympy.stats, for each assignment of families to the templates.

    ``templates`` are the random symbols written in the step (normal ones, for printing); ``families`` lists, per
    trial, one family name per template; each template is replaced by a fresh random symbol of that family with
    the template's mean and standard deviation (``moments``), so the joint law stays a product (independence).
    """
    def check(lhs, rhs):
        passed = []
        for trial in families:
            swap = {t: FAMILIES[f](str(t.symbol), m, s) for t, (m, s), f in zip(templates, moments, trial)}
            ok, detail = _equal(sp.sympify(lhs).xreplace(swap), sp.sympify(rhs).xreplace(swap))
            label = "/".join(dict.fromkeys(trial))
            if not ok:
                return False, f"fails for {label} laws: {detail}"
            passed.append(label)
        return True, "sympy.stats: equal for " + ", ".join(passed) + " laws with these means and variances"
    return check


def _equal(lhs, rhs) -> tuple[bool, str]:
    """Evaluate both sides with sympy.stats, then the derivation's own equality check."""
    return Step(rhs=evaluate(rhs), why="").verify(evaluate(lhs))


def _by_law(lhs, rhs) -> tuple[bool, str]:
    """A step check: lhs = rhs after sympy.stats evaluates both under the law written in the step."""
    ok, detail = _equal(lhs, rhs)
    return ok, "sympy.stats: " + detail


# ------------------------------------------------------------------------------------------------- closed forms
@lru_cache(maxsize=None)
def product_variance() -> sp.Expr:
    """Var(w x) = E[x]^2 Var(w) + E[w]^2 Var(x) + Var(x) Var(w), for independent w, x with any means and variances.

    Computed by sympy.stats for normal w, x; the same expression must come out for uniform and skewed two-point
    laws with the same moments (it depends on the first two moments only), else ``ArithmeticError``.
    """
    w, x = _normals(("w", "x"), ((mu_w, sigma_w), (mu_x, sigma_x)))
    result = evaluate(Variance(w * x))
    ok, detail = _for_families((w, x), ((mu_w, sigma_w), (mu_x, sigma_x)),
                               (("uniform", "uniform"), ("two-point(1/5)", "uniform")))(Variance(w * x), result)
    if not ok:
        raise ArithmeticError(f"product variance depends on the family: {detail}")
    return result


@lru_cache(maxsize=None)
def sum_variance(n=n) -> sp.Expr:
    """Var(X_1 + ... + X_n) = n Var(X) for iid X_i with Var(X) = sigma^2.

    Explicit integer n: sympy.stats on n iid N(mu, sigma^2). Symbolic n: Var(sum) = sum_i sum_j Cov(X_i, X_j) =
    n Var(X) + n (n - 1) Cov(X_1, X_2), with Var(X) and Cov(X_1, X_2) (= 0 by independence) computed by sympy.stats.
    """
    if isinstance(n, int) or (isinstance(n, sp.Basic) and n.is_Integer):
        if int(n) < 1:
            raise ValueError("n must be a positive integer")
        terms = [FAMILIES["normal"](f"X_{j}", mu, sigma) for j in range(1, int(n) + 1)]
        return sp.simplify(evaluate(Variance(sp.Add(*terms))))
    x1, x2 = (FAMILIES["normal"](f"X_{j}", mu, sigma) for j in (1, 2))
    var, cov = evaluate(Variance(x1)), evaluate(Covariance(x1, x2))
    return sp.simplify(sp.Sum(var + (n - 1) * cov, (_i, 1, n)).doit())


def _positive(value, what: str):
    value = sp.sympify(value)
    if value.is_positive is False or (value.is_number and not value.is_positive):
        raise ValueError(f"{what} must be positive, got {value}")
    return value


@lru_cache(maxsize=None)
def _uniform_general() -> sp.Expr:
    return sp.factor(evaluate(Variance(Uniform("u", a, b))))


def uniform_interval_variance(lo=a, hi=b) -> sp.Expr:
    """Var U[lo, hi] = (hi - lo)^2 / 12 (the slide's formula), integrating the uniform density once for symbolic
    endpoints a < b, then substituting; needs lo < hi."""
    _positive(sp.sympify(hi) - sp.sympify(lo), "hi - lo")
    return _uniform_general().subs({a: lo, b: hi}, simultaneous=True)


def uniform_variance(bound=c) -> sp.Expr:
    """Var U[-c, c] = c^2 / 3 for a bound c > 0 (a symmetric uniform init): U[a, b] with a = -c, b = c."""
    bound = _positive(bound, "the bound")
    return sp.simplify(uniform_interval_variance(-bound, bound))


@lru_cache(maxsize=None)
def normal_variance(s=sigma) -> sp.Expr:
    """Var N(0, s^2) = s^2 (s > 0)."""
    return sp.simplify(evaluate(Variance(Normal("z", 0, _positive(s, "s")))))


@lru_cache(maxsize=None)
def _truncated_general() -> sp.Expr:
    pdf = sp.exp(-_t**2 / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma)
    mass = sp.integrate(pdf, (_t, -k * sigma, k * sigma))
    z = ContinuousRV(_t, pdf / mass, set=sp.Interval(-k * sigma, k * sigma))
    return sp.simplify(evaluate(Variance(z)))


def truncated_normal_variance(s=sigma, k=2) -> sp.Expr:
    """Var of N(0, s^2) conditioned on |z| < k s: s^2 (1 - 2 k phi(k) / (2 Phi(k) - 1)), phi, Phi of N(0, 1).

    Integrated once from the renormalized density on [-k s, k s] for symbolic s, k > 0, then substituted; k = 2 is
    Keras' ``TruncatedNormal`` (values beyond 2 sd are redrawn).
    """
    values = {sigma: _positive(s, "s"), _K: _positive(k, "k")}
    return sp.simplify(_truncated_general().subs(values, simultaneous=True))


@lru_cache(maxsize=None)
def truncated_normal_std_factor(k=2) -> sp.Expr:
    """sd of N(0, 1) truncated at +-k: sqrt(1 - 2 k phi(k) / (2 Phi(k) - 1)); 0.8796256610342398 for k = 2.

    Keras divides its truncated-normal stddev by this number (for k = 2) so that the drawn weights have variance
    exactly scale / fan.
    """
    return sp.sqrt(sp.simplify(truncated_normal_variance(sigma, k) / sigma**2))


# ------------------------------------------------------------------------------------------------- derivations
#: the laws of (w, x) under which the distribution-free steps are checked: continuous, bounded, discrete and skewed
_ALL_PAIRS = (("normal", "normal"), ("uniform", "uniform"), ("two-point(1/5)", "two-point(1/5)"))


@derivation("product-variance",
            "Var(w x) = E[x]^2 Var(w) + E[w]^2 Var(x) + Var(x) Var(w) for independent w, x (any laws)")
def _product_variance() -> Derivation:
    moments = ((mu_w, sigma_w), (mu_x, sigma_x))
    w, x = _normals(("w", "x"), moments)
    stats = _for_families((w, x), moments, _ALL_PAIRS)
    E = Expectation
    formula = mu_x**2 * sigma_w**2 + mu_w**2 * sigma_x**2 + sigma_x**2 * sigma_w**2
    return Derivation(
        "product-variance", T("Variance of a product of independent random variables",
                              "Дисперсия произведения независимых случайных величин"),
        [
            Step(lhs=Variance(w * x), rhs=E((w * x) ** 2) - E(w * x) ** 2, check=stats,
                 why=T(r"$\mathrm{Var}(Y) = E[(Y - E[Y])^2] = E[Y^2] - E[Y]^2$ with $Y = w x$",
                       r"$\mathrm{Var}(Y) = E[(Y - E[Y])^2] = E[Y^2] - E[Y]^2$, где $Y = w x$")),
            Step(rhs=E(w**2) * E(x**2) - E(w) ** 2 * E(x) ** 2, check=stats,
                 why=T("$w$ and $x$ are independent: $E[f(w) g(x)] = E[f(w)]\\,E[g(x)]$ (a product probability space)",
                       "$w$ и $x$ независимы: $E[f(w) g(x)] = E[f(w)]\\,E[g(x)]$ (произведение вероятностных "
                       "пространств)")),
            Step(rhs=(sigma_w**2 + mu_w**2) * (sigma_x**2 + mu_x**2) - mu_w**2 * mu_x**2, check=stats,
                 why=T(r"$E[w] = \mu_w$ and $E[w^2] = \mathrm{Var}(w) + E[w]^2 = \sigma_w^2 + \mu_w^2$ (likewise for "
                       "$x$)",
                       r"$E[w] = \mu_w$ и $E[w^2] = \mathrm{Var}(w) + E[w]^2 = \sigma_w^2 + \mu_w^2$ (аналогично "
                       "для $x$)")),
            Step(rhs=formula, why=T(r"expand: the term $\mu_w^2 \mu_x^2$ cancels",
                                    r"раскрываем скобки: слагаемое $\mu_w^2 \mu_x^2$ сокращается")),
            Step(lhs=Variance(w * x), rhs=E(x) ** 2 * Variance(w) + E(w) ** 2 * Variance(x) + Variance(x) * Variance(w),
                 check=stats, why=T("the slide's form, in moments of $w$ and $x$ only: no normality needed",
                                    "форма со слайда, только через моменты $w$ и $x$: нормальность не нужна")),
        ],
        assumptions=[T(r"$w$, $x$ independent with $E[w] = \mu_w$, $\mathrm{Var}(w) = \sigma_w^2$, $E[x] = \mu_x$, "
                       r"$\mathrm{Var}(x) = \sigma_x^2$",
                       r"$w$, $x$ независимы, $E[w] = \mu_w$, $\mathrm{Var}(w) = \sigma_w^2$, $E[x] = \mu_x$, "
                       r"$\mathrm{Var}(x) = \sigma_x^2$"),
                     T("`sympy.stats` checks each step for normal, uniform and skewed two-point laws with these "
                       "moments",
                       "`sympy.stats` проверяет каждый шаг для нормального, равномерного и асимметричного "
                       "двухточечного распределений с этими моментами")])


@derivation("layer-variance",
            "Var(h) = n_in Var(w) Var(x) for h = w_0 + sum w_i x_i, E[w] = E[x] = 0; n_in Var(w) E[x^2] if E[w] = 0")
def _layer_variance(m: int = 3) -> Derivation:
    w0 = sp.Symbol("w_0", real=True)
    ws = _normals([f"w_{j}" for j in range(1, m + 1)], [(mu_w, sigma_w)] * m)
    xs = _normals([f"x_{j}" for j in range(1, m + 1)], [(mu_x, sigma_x)] * m)
    # steps 1-3 at an explicit fan-in m: two-point laws keep the 2m-dimensional expectations exact and fast
    explicit = _for_families(ws + xs, [(mu_w, sigma_w)] * m + [(mu_x, sigma_x)] * m,
                             [("two-point(1/2)",) * m + ("two-point(1/5)",) * m,
                              ("two-point(1/5)",) * (2 * m)])
    pair = ws[:2] + xs[:2]
    general = _for_families(pair, [(mu_w, sigma_w)] * 2 + [(mu_x, sigma_x)] * 2,
                            [("two-point(1/2)",) * 2 + ("two-point(1/5)",) * 2, ("two-point(1/5)",) * 4])
    single = _for_families((ws[0], xs[0]), ((mu_w, sigma_w), (mu_x, sigma_x)), _ALL_PAIRS)
    w, x = ws[0], xs[0]
    s = sp.Add(*[wi * xi for wi, xi in zip(ws, xs)])
    term = mu_x**2 * sigma_w**2 + mu_w**2 * sigma_x**2 + sigma_x**2 * sigma_w**2
    zero_x = (mu_x, 0, T("$E[x] = 0$: symmetric activation", "$E[x] = 0$: симметричная функция активации"))
    zero_w = (mu_w, 0, T("$E[w] = 0$: zero-mean init", "$E[w] = 0$: инициализация с нулевым средним"))
    return Derivation(
        "layer-variance", T(r"Variance of a pre-activation $h = w_0 + \sum_i w_i x_i$",
                            r"Дисперсия предактивации $h = w_0 + \sum_i w_i x_i$"),
        [
            Step(lhs=Variance(w0 + s), rhs=Variance(s), check=explicit,
                 why=T(f"(1) $n_{{in}} = {m}$: the bias $w_0$ is a constant and does not change the variance",
                       f"(1) $n_{{in}} = {m}$: смещение $w_0$ — константа и не меняет дисперсию")),
            Step(rhs=sp.Add(*[Variance(wi * xi) for wi, xi in zip(ws, xs)]), check=explicit,
                 why=T("(2) $w_i$ iid, $x_i$ iid, $w$ independent of $x$: the terms $w_i x_i$ are independent, so "
                       "their covariances vanish and the variances add",
                       "(2) $w_i$ независимы и одинаково распределены, $x_i$ тоже, $w$ не зависят от $x$: слагаемые "
                       "$w_i x_i$ независимы, поэтому их ковариации равны нулю, а дисперсии складываются")),
            Step(rhs=m * term, check=explicit,
                 why=T("(3) product-variance for each term; the terms are identically distributed",
                       "(3) вывод `product-variance` для каждого слагаемого; слагаемые одинаково распределены")),
            Step(lhs=sp.Sum(Variance(w * x) + (n_in - 1) * Covariance(ws[0] * xs[0], ws[1] * xs[1]), (_i, 1, n_in)),
                 rhs=sp.Sum(Variance(w * x), (_i, 1, n_in)), check=general,
                 why=T(r"(2) any $n_{in}$: $\mathrm{Var}(\sum_i w_i x_i) = \sum_i \sum_j \mathrm{Cov}(w_i x_i, w_j "
                       "x_j)$, $n_{in}$ equal variances and $n_{in}(n_{in} - 1)$ equal covariances; independence "
                       "makes each covariance 0",
                       r"(2) любое $n_{in}$: $\mathrm{Var}(\sum_i w_i x_i) = \sum_i \sum_j \mathrm{Cov}(w_i x_i, w_j "
                       "x_j)$, $n_{in}$ равных дисперсий и $n_{in}(n_{in} - 1)$ равных ковариаций; из-за "
                       "независимости каждая ковариация равна 0")),
            Step(rhs=sp.Sum(term, (_i, 1, n_in)), check=single,
                 why=T("(3) product-variance", "(3) вывод `product-variance`")),
            Step(rhs=sp.Sum(mu_w**2 * sigma_x**2 + sigma_x**2 * sigma_w**2, (_i, 1, n_in)), under=zero_x,
                 why=T(r"(4) the slide: a symmetric activation gives $E[x] = 0$, killing $E[x]^2\,\mathrm{Var}(w)$",
                       r"(4) слайд: симметричная функция активации даёт $E[x] = 0$, и слагаемое "
                       r"$E[x]^2\,\mathrm{Var}(w)$ исчезает")),
            Step(rhs=sp.Sum(sigma_x**2 * sigma_w**2, (_i, 1, n_in)), under=zero_w,
                 why=T(r"(4) zero-mean weights, $E[w] = 0$, kill $E[w]^2\,\mathrm{Var}(x)$",
                       r"(4) веса с нулевым средним, $E[w] = 0$, убирают слагаемое $E[w]^2\,\mathrm{Var}(x)$")),
            Step(rhs=n_in * Variance(w) * Variance(x), check=single,
                 why=T(r"(5) a sum of $n_{in}$ equal terms: $\mathrm{Var}(h) = "
                       r"\mathrm{Var}(x)\,[n_{in}\,\mathrm{Var}(w)]$, so $\mathrm{Var}(h) = "
                       r"\mathrm{Var}(x)$ iff $\mathrm{Var}(w) = 1/n_{in}$ (the slide's bracket $= 1$)",
                       r"(5) сумма $n_{in}$ равных слагаемых: $\mathrm{Var}(h) = "
                       r"\mathrm{Var}(x)\,[n_{in}\,\mathrm{Var}(w)]$, поэтому $\mathrm{Var}(h) = "
                       r"\mathrm{Var}(x)$ тогда и только тогда, когда $\mathrm{Var}(w) = 1/n_{in}$ (скобка на слайде "
                       r"$= 1$)")),
            Step(lhs=sp.Sum(term, (_i, 1, n_in)), rhs=sp.Sum(mu_x**2 * sigma_w**2 + sigma_x**2 * sigma_w**2,
                                                             (_i, 1, n_in)), under=zero_w,
                 why=T("non-symmetric case (slide «Инициализация Хе», e.g. ReLU, $E[x] > 0$): only $E[w] = 0$ holds",
                       "несимметричный случай (слайд «Инициализация Хе», например ReLU, $E[x] > 0$): выполняется "
                       "только $E[w] = 0$")),
            Step(rhs=n_in * sigma_w**2 * (mu_x**2 + sigma_x**2),
                 why=T("$n_{in}$ equal terms", "$n_{in}$ равных слагаемых")),
            Step(rhs=n_in * Variance(w) * Expectation(x**2), check=single,
                 why=T(r"$E[x^2] = \mathrm{Var}(x) + E[x]^2$: $\mathrm{Var}(h) = E[x^2]\,[n_{in}\,\mathrm{Var}(w)]$ "
                       "(He et al. 2015)",
                       r"$E[x^2] = \mathrm{Var}(x) + E[x]^2$: $\mathrm{Var}(h) = E[x^2]\,[n_{in}\,\mathrm{Var}(w)]$ "
                       "(He и др. 2015)")),
        ],
        assumptions=[T(f"steps 1-3 (at $n_{{in}} = {m}$) and step 4's covariance are checked by `sympy.stats` on "
                       "two-point laws (symmetric $w$ with skewed $x$; both skewed), exact sums over all outcomes; "
                       "steps 4-11 hold for symbolic $n_{in}$, and steps 5, 8, 11 are also checked for normal and "
                       "uniform laws",
                       f"шаги 1–3 (при $n_{{in}} = {m}$) и ковариацию в шаге 4 `sympy.stats` проверяет на "
                       "двухточечных распределениях (симметричное $w$ и асимметричное $x$; оба асимметричные) точным "
                       "суммированием по всем исходам; шаги 4–11 верны для символьного $n_{in}$, а шаги 5, 8 и 11 "
                       "проверены также для нормального и равномерного распределений"),
                     T(r"$w_i$ iid with $E[w] = \mu_w$, $\mathrm{Var}(w) = \sigma_w^2$; $x_i$ iid with $E[x] = \mu_x$, "
                       r"$\mathrm{Var}(x) = \sigma_x^2$; all $w$ independent of all $x$; $w_0$ a constant",
                       r"$w_i$ независимы и одинаково распределены, $E[w] = \mu_w$, $\mathrm{Var}(w) = \sigma_w^2$; "
                       r"$x_i$ независимы и одинаково распределены, $E[x] = \mu_x$, $\mathrm{Var}(x) = \sigma_x^2$; "
                       r"все $w$ не зависят от всех $x$; $w_0$ — константа")],
        references=[T("He, Zhang, Ren, Sun 2015, Delving deep into rectifiers, eq. (7)",
                      "He и др. 2015, «Delving deep into rectifiers», формула (7)"),
                    T("Glorot, Bengio 2010, Understanding the difficulty of training deep feedforward networks",
                      "Glorot, Bengio 2010, «Understanding the difficulty of training deep feedforward networks»")])


@derivation("uniform-variance", "Var U[a, b] = (b - a)^2 / 12 by integrating the density; U[-c, c] has c^2 / 3")
def _uniform_variance() -> Derivation:
    u = Uniform("u", a, b)
    v = Uniform("v", -c, c)
    f = 1 / (b - a)
    return Derivation(
        "uniform-variance", T("Variance of a uniform distribution", "Дисперсия равномерного распределения"),
        [
            Step(lhs=Variance(u), rhs=Expectation(u**2) - Expectation(u) ** 2, check=_by_law,
                 why=r"$\mathrm{Var}(U) = E[U^2] - E[U]^2$"),
            Step(rhs=sp.Integral(_t**2 * f, (_t, a, b)) - sp.Integral(_t * f, (_t, a, b)) ** 2, check=_by_law,
                 why=T("the density of $U[a, b]$ is $1/(b - a)$ on $[a, b]$ and 0 outside",
                       "плотность $U[a, b]$ равна $1/(b - a)$ на $[a, b]$ и 0 вне этого отрезка")),
            Step(rhs=(a**2 + a * b + b**2) / 3 - (a + b) ** 2 / 4,
                 why=T("integrate: $E[U^2] = (b^3 - a^3)/(3(b - a))$, $E[U] = (a + b)/2$",
                       "интегрируем: $E[U^2] = (b^3 - a^3)/(3(b - a))$, $E[U] = (a + b)/2$")),
            Step(rhs=(b - a) ** 2 / 12, why="$(4a^2 + 4ab + 4b^2 - 3a^2 - 6ab - 3b^2)/12 = (b - a)^2/12$"),
            Step(lhs=Variance(v), rhs=sp.UnevaluatedExpr(c - (-c)) ** 2 / 12, check=_by_law,
                 why=T("$U[-c, c]$: the same integral with $a = -c$, $b = c$",
                       "$U[-c, c]$: тот же интеграл при $a = -c$, $b = c$")),
            Step(rhs=c**2 / 3, why="$(2c)^2/12 = c^2/3$"),
        ],
        assumptions=[T("$a < b$ real; $c > 0$", "$a < b$ — вещественные числа; $c > 0$")])
