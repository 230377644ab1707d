"""Batch normalization (Ioffe & Szegedy 2015) as on the lecture's slides, derived and checked with SymPy.

The forward pass of the slide «Forward pass», over a mini-batch x_1..x_m of one unit:

    mu_B = (1/m) sum_j x_j,   sigma_B^2 = (1/m) sum_j (x_j - mu_B)^2   (the biased variance),
    xhat_i = (x_i - mu_B) / sqrt(sigma_B^2 + eps),   y_i = gamma xhat_i + beta.

The backward pass is derived twice, from these definitions alone:

* line by line, by the chain rule on the computation graph x -> (mu_B, sigma_B^2) -> xhat -> y, each local
  derivative computed by ``sympy.diff`` of its node's definition with a symbolic batch size m
  (:func:`derived_lines`); each line of the slide «Backward pass» (transcribed in :data:`SLIDE_LINES`) is compared
  with it (:func:`check_slide_lines`), as written and after substituting the forward pass's mu_B;
* for explicit batches m = 2..6, by differentiating l = sum_i dy_i y_i with respect to every x_i
  (:func:`explicit_backward`), and compared with the closed form
  dx_i = (gamma / sigma)(dy_i - mean(dy) - xhat_i mean(dy xhat)), sigma = sqrt(sigma_B^2 + eps), exactly: both sides
  are rational in x, dy, gamma and sigma, so their difference times sigma^3 is reduced modulo
  sigma^2 = sigma_B^2 + eps and must vanish as a polynomial (:func:`same_function_of_batch`).

Assumptions: one unit (the features are independent), eps > 0, gamma and beta constants of the batch, the loss
l depends on x only through y (upstream gradient dy_i = dl/dy_i). With m = 1 the batch variance is 0, xhat = 0
and only eps is left: y = beta whatever x is, and the gradient to x is 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation, Step, derivation
from theory.latex import latex, name as latex_name
from theory.text import T

m = sp.Symbol("m", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True, positive=True)
x = sp.IndexedBase("x")
xhat = sp.IndexedBase("xhat")
dl_dy = sp.IndexedBase("dl/dy")
dl_dxhat = sp.IndexedBase("dl/dxhat")
mu_B = sp.Symbol("mu_B", real=True)
var_B = sp.Symbol("sigma_B^2", nonnegative=True)
eps = sp.Symbol("epsilon", positive=True)
gamma, beta = sp.symbols("gamma beta", real=True)
dl_dvar = sp.Symbol("dl/dsigma_B^2", real=True)
dl_dmu = sp.Symbol("dl/dmu_B", real=True)
_k = sp.Symbol("k", integer=True, nonnegative=True)
# the lecture's notation for the ASCII names above (theory.latex)
for _s, _tex in ((xhat.label, r"\hat{x}"), (dl_dy.label, r"\frac{\partial \ell}{\partial y}"),
                 (dl_dxhat.label, r"\frac{\partial \ell}{\partial \hat{x}}"), (var_B, r"\sigma_B^2"),
                 (dl_dvar, r"\frac{\partial \ell}{\partial \sigma_B^2}"),
                 (dl_dmu, r"\frac{\partial \ell}{\partial \mu_B}"), (mu_B, r"\mu_B")):
    latex_name(_s, _tex)

# ------------------------------------------------------------------------------------------ the forward pass
MEAN = sp.Sum(x[j], (j, 1, m)) / m
VAR = sp.Sum((x[j] - mu_B) ** 2, (j, 1, m)) / m  # with mu_B a node of the graph
SIGMA = sp.sqrt(var_B + eps)


def xhat_def(idx):
    """xhat_idx = (x_idx - mu_B) / sqrt(sigma_B^2 + eps), with mu_B and sigma_B^2 nodes of the graph (symbols)."""
    return (x[idx] - mu_B) / SIGMA


def y_def(idx):
    """y_idx = gamma xhat_idx + beta, with xhat a node of the graph (an IndexedBase)."""
    return gamma * xhat[idx] + beta


def _within_batch(e: sp.Expr) -> sp.Expr:
    """Resolve SymPy's ``Piecewise((f, i <= m), (0, True))`` from differentiating a sum over j = 1..m by x_i:
    i is one of the batch's indices (written m = i + k, k >= 0, the condition is decided by SymPy, not assumed)."""
    def pick(p):
        for value, cond in p.args:
            if sp.simplify(cond.subs(m, i + _k)) is sp.true:
                return value
        raise ValueError(f"cannot decide {p}")
    return e.replace(lambda a: isinstance(a, sp.Piecewise), pick)


# ---------------------------------------------------------------------------------- the slide, transcribed
#: The slide «Backward pass», line by line (Ioffe & Szegedy's Algorithm with the slide's 1/(m - 1)); the slide's
#: summation index i is written j here, because line 4 also has a free i.
SLIDE_LINES: tuple[tuple[str, sp.Expr, str], ...] = (
    ("dl/dxhat_i", dl_dy[i] * gamma,
     r"\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} \cdot \gamma"),
    ("dl/dsigma_B^2", sp.Sum(dl_dxhat[j] * (x[j] - mu_B) * sp.Rational(-1, 2) * (var_B + eps) ** sp.Rational(-3, 2),
                             (j, 1, m)),
     r"\frac{\partial \ell}{\partial \sigma_B^2} = \sum_{i=1}^m \frac{\partial \ell}{\partial \hat{x}_i} \cdot "
     r"(x_i - \mu_B) \cdot \frac{-1}{2} (\sigma_B^2 + \epsilon)^{-3/2}"),
    ("dl/dmu_B", sp.Sum(dl_dxhat[j] * (-1 / SIGMA), (j, 1, m)) + dl_dvar * sp.Sum(-2 * (x[j] - mu_B), (j, 1, m)) / (m - 1),
     r"\frac{\partial \ell}{\partial \mu_B} = \left( \sum_{i=1}^m \frac{\partial \ell}{\partial \hat{x}_i} \cdot "
     r"\frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} \right) + \frac{\partial \ell}{\partial \sigma_B^2} \cdot "
     r"\frac{\sum_{i=1}^m -2(x_i - \mu_B)}{m-1}"),
    ("dl/dx_i", dl_dxhat[i] / SIGMA + dl_dvar * 2 * (x[i] - mu_B) / (m - 1) + dl_dmu / m,
     r"\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} \cdot "
     r"\frac{1}{\sqrt{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot \frac{2(x_i - \mu_B)}{m-1}"
     r" + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}"),
    ("dl/dgamma", sp.Sum(dl_dy[j] * xhat[j], (j, 1, m)),
     r"\frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i} \cdot \hat{x}_i"),
    ("dl/dbeta", sp.Sum(dl_dy[j], (j, 1, m)),
     r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i}"),
)


@lru_cache(maxsize=1)
def derived_lines() -> dict[str, sp.Expr]:
    """Each line of the backward pass by the chain rule, every local derivative by ``sympy.diff`` of its node."""
    xh = sp.Symbol("xh")
    return {
        "dl/dxhat_i": dl_dy[i] * sp.diff(y_def(i).subs(xhat[i], xh), xh),
        "dl/dsigma_B^2": sp.Sum(dl_dxhat[j] * sp.diff(xhat_def(j), var_B), (j, 1, m)),
        "dl/dmu_B": sp.Sum(dl_dxhat[j] * sp.diff(xhat_def(j), mu_B), (j, 1, m))
        + dl_dvar * sp.diff(VAR, mu_B),
        "dl/dx_i": dl_dxhat[i] * sp.diff(xhat_def(i), x[i])
        + dl_dvar * _within_batch(sp.diff(VAR, x[i]).doit())
        + dl_dmu * _within_batch(sp.diff(MEAN, x[i]).doit()),
        "dl/dgamma": sp.Sum(dl_dy[j] * sp.diff(y_def(j), gamma), (j, 1, m)),
        "dl/dbeta": sp.Sum(dl_dy[j] * sp.diff(y_def(j), beta), (j, 1, m)),
    }


def is_zero(e: sp.Expr) -> bool:
    """Whether ``e`` is identically 0 after expansion (SymPy simplify; skipped when expansion alone gives 0, and a
    rational function is tried by cancel before simplify: both are exact rewritings)."""
    e = sp.expand(e)
    if e == 0:
        return True
    try:
        if sp.cancel(sp.together(e)) == 0:
            return True
    except sp.PolynomialError:
        pass
    return sp.simplify(e) == 0


def given_forward(e: sp.Expr) -> sp.Expr:
    """Substitute the forward pass's mu_B = (1/m) sum x_j (sums expanded first, so sum(x_j - mu_B) = sum x_j - m mu_B)."""
    return sp.simplify(sp.expand(e).doit().subs(mu_B, MEAN).doit())


@dataclass
class LineCheck:
    """One line of the slide «Backward pass» against the chain rule: both expressions, whether they agree as written or
    given mu_B = mean(x), their difference, and a computed counterexample when the value is wrong."""

    index: int
    name: str
    slide: sp.Expr
    derived: sp.Expr
    latex: str
    as_written: bool  # the slide's expression equals the derived one
    given_forward: bool  # equal once mu_B is the batch mean (a term that multiplies sum(x_j - mu_B) = 0)
    difference: sp.Expr  # derived - slide
    counterexample: dict | None  # explicit m and point where the slide's gradient differs, computed

    @property
    def verdict(self) -> str:
        """'correct' (equal as written), 'correct in value, wrong coefficient' (equal once mu_B is the batch mean) or
        'wrong'."""
        if self.as_written:
            return "correct"
        return "correct in value, wrong coefficient" if self.given_forward else "wrong"


@lru_cache(maxsize=1)
def check_slide_lines() -> tuple[LineCheck, ...]:
    """Each slide line against the chain rule; where it disagrees, the difference, and for a wrong value a computed
    counterexample on an explicit batch (the slide's lines evaluated in order, against sympy.diff of the loss)."""
    derived = derived_lines()
    out = []
    for k, (name, slide, tex) in enumerate(SLIDE_LINES, start=1):
        d = derived[name]
        diff = sp.simplify(sp.expand(d - slide))
        as_written = is_zero(diff)
        given = as_written or is_zero(given_forward(diff))
        counter = None if given else _counterexample()
        out.append(LineCheck(k, name, slide, d, tex, as_written, given, sp.factor(diff), counter))
    return tuple(out)


def _counterexample() -> dict:
    """m = 2, x = (0, 2), dy = (1, 0), gamma = 1, eps = 1/100: the slide's lines evaluated in order against the
    derivative of the explicit forward pass. At m = 2 the normalized batch is (-a, a) with a = 1/sqrt(1 + eps/d^2)
    (d the half-distance), nearly constant in x: the true gradient is O(eps), the slide's is not."""
    mm, point_x, point_dy = 2, (sp.Integer(0), sp.Integer(2)), (sp.Integer(1), sp.Integer(0))
    e = sp.Rational(1, 100)
    ex = explicit_backward(mm)
    sub = {**dict(zip(ex.x, point_x)), **dict(zip(ex.dy, point_dy)), ex.gamma: 1, ex.beta: 0, ex.eps: e}
    true = [sp.nsimplify(sp.simplify(v.subs(sub))) for v in ex.dx]
    slide = slide_gradient(mm, point_x, point_dy, 1, e)
    return {"m": mm, "x": [str(v) for v in point_x], "dy": [str(v) for v in point_dy], "gamma": "1", "eps": str(e),
            "slide_dx": [str(v) for v in slide], "true_dx": [str(v) for v in true]}


def slide_gradient(mm: int, xs, dys, g, e) -> list[sp.Expr]:
    """dl/dx on an explicit batch by the slide's own lines, in the slide's order (exact arithmetic)."""
    lines = {name: expr for name, expr, _ in SLIDE_LINES}
    mean = sum(xs) / sp.Integer(mm)
    var = sum((v - mean) ** 2 for v in xs) / mm
    base = {m: mm, mu_B: mean, var_B: var, eps: e, gamma: g}
    dxh = [lines["dl/dxhat_i"].subs({**base, dl_dy[i]: d}) for d in dys]

    def evaluate(expr, extra):
        expr = expr.subs({**base, **extra}).doit()
        for idx in range(mm):
            expr = expr.subs({x[idx + 1]: xs[idx], dl_dxhat[idx + 1]: dxh[idx]})
        return sp.simplify(expr)

    dvar = evaluate(lines["dl/dsigma_B^2"], {})
    dmu = evaluate(lines["dl/dmu_B"], {dl_dvar: dvar})
    return [evaluate(lines["dl/dx_i"].subs(i, idx + 1), {dl_dvar: dvar, dl_dmu: dmu}) for idx in range(mm)]


# ------------------------------------------------------------------------------------------ explicit batches
@dataclass(frozen=True)
class ExplicitBN:
    """Batch norm on m explicit symbols: y, the exact dx_i, dgamma, dbeta of l = sum_j dy_j y_j by ``sympy.diff``, and
    the closed form (gamma/sigma)(dy_i - mean(dy) - xhat_i mean(dy xhat)), sigma = sqrt(sigma_B^2 + eps)."""

    m: int
    x: tuple
    dy: tuple
    gamma: sp.Symbol
    beta: sp.Symbol
    eps: sp.Symbol
    y: tuple
    dx: tuple  # d/dx_i of l = sum_j dy_j y_j, by sympy.diff of the explicit forward pass
    dgamma: sp.Expr
    dbeta: sp.Expr
    closed_form: tuple  # (gamma/sigma)(dy_i - mean(dy) - xhat_i mean(dy xhat))
    sigma: sp.Expr  # sqrt(sigma_B^2 + eps) in the x's


@lru_cache(maxsize=16)
def explicit_backward(mm: int) -> ExplicitBN:
    """The forward pass on m explicit symbols and its exact gradient by ``sympy.diff`` (no chain rule by hand)."""
    if not isinstance(mm, int) or mm < 1:
        raise ValueError(f"m must be a positive integer (got {mm!r})")
    xs = sp.symbols(f"x1:{mm + 1}", real=True)
    dys = sp.symbols(f"dy1:{mm + 1}", real=True)
    g, b = sp.symbols("gamma beta", real=True)
    e = sp.Symbol("epsilon", positive=True)
    mean = sum(xs) / mm
    var = sum((v - mean) ** 2 for v in xs) / mm
    sigma = sp.sqrt(var + e)
    xh = [(v - mean) / sigma for v in xs]
    y = tuple(g * v + b for v in xh)
    loss = sum(d * v for d, v in zip(dys, y))
    dx = tuple(sp.diff(loss, v) for v in xs)
    mdy = sum(dys) / mm
    mdyx = sum(d * v for d, v in zip(dys, xh)) / mm
    closed = tuple(g / sigma * (d - mdy - v * mdyx) for d, v in zip(dys, xh))
    return ExplicitBN(mm, xs, dys, g, b, e, y, dx, sp.diff(loss, g), sp.diff(loss, b), closed, sigma)


def same_function_of_batch(a: sp.Expr, b: sp.Expr, ex: ExplicitBN) -> bool:
    """Exact test of a == b for expressions rational in the batch and sigma = sqrt(sigma_B^2 + eps): half-integer
    powers of sigma^2 become powers of a symbol s, the difference times s^3 is expanded and reduced modulo
    s^2 - (sigma_B^2 + eps); the remainder is the zero polynomial iff a == b."""
    s = sp.Symbol("s", positive=True)
    base = sp.expand(ex.sigma**2)

    def ours(p):
        return isinstance(p, sp.Pow) and p.exp.is_Rational and p.exp.q == 2 and sp.expand(p.base - base) == 0

    diff = (a - b).replace(ours, lambda p: s ** (2 * p.exp))
    poly = sp.expand(diff * s**3)
    if poly.has(sp.Pow) and any(ours(p) for p in poly.atoms(sp.Pow)):
        return False
    num = sp.numer(sp.together(poly))
    return sp.rem(sp.Poly(num, s), sp.Poly(s**2 - base, s)).is_zero


def _explicit_check(mm: int):
    def check(lhs, rhs):
        ex = explicit_backward(mm)
        ok = all(same_function_of_batch(a, c, ex) for a, c in zip(ex.dx, ex.closed_form))
        return ok, (f"m = {mm}: sympy.diff of l = sum dy_i y_i equals the closed form for every x_i (exact: "
                    "difference * sigma^3 reduced modulo sigma^2 = sigma_B^2 + eps is the zero polynomial)"
                    if ok else f"m = {mm}: the closed form differs from sympy.diff")
    return check


CLOSED_FORM = gamma / SIGMA * (dl_dy[i] - sp.Sum(dl_dy[j], (j, 1, m)) / m
                               - xhat[i] * sp.Sum(dl_dy[j] * xhat[j], (j, 1, m)) / m)


def _sub_indexed(e: sp.Expr, base: sp.IndexedBase, fn) -> sp.Expr:
    """Replace every base[k] by fn(k), also inside sums (``subs`` leaves bound indices alone)."""
    return e.replace(lambda a: isinstance(a, sp.Indexed) and a.base == base, lambda a: fn(a.indices[0]))


def _linear_sums(e: sp.Expr) -> sp.Expr:
    """Linearity of finite sums: split each Sum over its terms, pull out factors free of the index, and evaluate
    sum_j 1 = m. What is left is rational in the remaining sums, which SymPy then treats as symbols."""
    from sympy.simplify.simplify import factor_sum

    def split(a):
        f = sp.expand(a.function)
        return sp.Add(*[factor_sum(sp.Sum(t, *a.limits)) for t in (f.args if isinstance(f, sp.Add) else (f,))])
    e = sp.expand(sp.expand(e).replace(lambda a: isinstance(a, sp.Sum), split))
    return e.replace(lambda a: isinstance(a, sp.Sum) and a.function == 1, lambda a: a.limits[0][2] - a.limits[0][1] + 1)


@lru_cache(maxsize=1)
def general_closed_form() -> tuple[sp.Expr, sp.Expr]:
    """(dl/dx_i by the chain rule with lines 1-3 substituted, the residual chain - closed form), for symbolic m."""
    d = derived_lines()
    up = lambda e: _sub_indexed(e, dl_dxhat, lambda k: gamma * dl_dy[k])  # noqa: E731  line 1
    dvar = up(d["dl/dsigma_B^2"])
    dmu = up(d["dl/dmu_B"]).subs(dl_dvar, dvar)
    chain = up(d["dl/dx_i"]).subs({dl_dvar: dvar, dl_dmu: dmu})
    closed = _sub_indexed(CLOSED_FORM, xhat, xhat_def)
    return chain, sp.factor(_linear_sums(chain - closed))


def _general_check(lhs, rhs):
    """lhs is the chain rule's dl/dx_i (lines 1-3 substituted into line 4); rhs, xhat written out, equals it."""
    chain, _ = general_closed_form()
    if lhs != dl_dx[i]:
        return False, "the left side must be dl/dx_i"
    ok = sp.simplify(_linear_sums(chain - _sub_indexed(rhs, xhat, xhat_def))) == 0
    return ok, ("lines 1-3 substituted into line 4, sums split by linearity (sum_j 1 = m): chain - rhs simplifies "
                "to 0" if ok else "the chain rule is not the closed form plus the residual")


def _mean_check(lhs, rhs):
    ok = sp.simplify(lhs - rhs) == 0
    return ok, "mu_B = (1/m) sum_j x_j makes the factor (m mu_B - sum_j x_j) vanish" if ok else "residual survives"


# ------------------------------------------------------------------------ the derivation's rows: chain rule, slide
dl_dx = sp.IndexedBase("dl/dx")
dl_dgamma, dl_dbeta = sp.symbols("dl/dgamma dl/dbeta", real=True)
for _s, _tex in ((dl_dx.label, r"\frac{\partial \ell}{\partial x}"),
                 (dl_dgamma, r"\frac{\partial \ell}{\partial \gamma}"),
                 (dl_dbeta, r"\frac{\partial \ell}{\partial \beta}")):
    latex_name(_s, _tex)
_q = sp.Symbol("q", integer=True, positive=True)  # a second summation index, for mu_B substituted inside a sum


def _times(first, *then):
    """A product shown in the order given (SymPy prints a product's commutative factors sorted, then the others in
    order: the later factors are wrapped as unevaluated, so the upstream gradient comes first, then the local
    derivative). A later factor must print unambiguously without brackets (a symbol, a derivative, a fraction)."""
    return sp.Mul(first, *(sp.UnevaluatedExpr(f) for f in then), evaluate=False)


def _chain() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Each line of the backward pass as the chain rule on x -> (mu_B, sigma_B^2) -> xhat -> y: (the node's
    gradient, the sum over its children of upstream gradient times unevaluated local derivative)."""
    d = sp.Derivative
    return {
        "dl/dxhat_i": (dl_dxhat[i], _times(dl_dy[i], d(y_def(i), xhat[i]))),
        "dl/dsigma_B^2": (dl_dvar, sp.Sum(_times(dl_dxhat[j], d(xhat_def(j), var_B)), (j, 1, m))),
        "dl/dmu_B": (dl_dmu, sp.Add(sp.Sum(_times(dl_dxhat[j], d(xhat_def(j), mu_B)), (j, 1, m)),
                                    _times(dl_dvar, d(VAR, mu_B)), evaluate=False)),
        "dl/dx_i": (dl_dx[i], sp.Add(_times(dl_dxhat[i], d(xhat_def(i), x[i])), _times(dl_dvar, d(VAR, x[i])),
                                     _times(dl_dmu, d(MEAN, x[i])), evaluate=False)),
        "dl/dgamma": (dl_dgamma, sp.Sum(_times(dl_dy[j], d(y_def(j), gamma)), (j, 1, m))),
        "dl/dbeta": (dl_dbeta, sp.Sum(_times(dl_dy[j], d(y_def(j), beta)), (j, 1, m))),
    }


def _as_written() -> dict[str, sp.Expr]:
    """The slide's lines as written: its order of factors and its summation index i (:data:`SLIDE_LINES` is the
    same transcription with the index j, evaluated; each comparison row checks the two agree)."""
    half, inv_sigma = sp.Rational(-1, 2), sp.Pow(var_B + eps, sp.Rational(-1, 2))
    return {
        "dl/dxhat_i": _times(dl_dy[i], gamma),
        "dl/dsigma_B^2": sp.Sum(sp.Mul(dl_dxhat[i], x[i] - mu_B, half, sp.Pow(var_B + eps, sp.Rational(-3, 2)),
                                       evaluate=False), (i, 1, m)),
        "dl/dmu_B": sp.Add(sp.Sum(sp.Mul(dl_dxhat[i], -1, inv_sigma, evaluate=False), (i, 1, m)),
                           _times(dl_dvar, sp.Sum(sp.Mul(-2, x[i] - mu_B, evaluate=False), (i, 1, m)) / (m - 1)),
                           evaluate=False),
        "dl/dx_i": sp.Add(_times(dl_dxhat[i], inv_sigma),
                          _times(dl_dvar, sp.Mul(2, x[i] - mu_B, evaluate=False) / (m - 1)),
                          _times(dl_dmu, 1 / m), evaluate=False),
        "dl/dgamma": sp.Sum(_times(dl_dy[i], xhat[i]), (i, 1, m)),
        "dl/dbeta": sp.Sum(dl_dy[i], (i, 1, m)),
    }


def _slide_index(e: sp.Expr) -> sp.Expr:
    """The slide's summation index i renamed j, the chain rule's (a sum's bound index; a free i stays)."""
    return e.replace(lambda a: isinstance(a, sp.Sum) and a.limits[0][0] == i,
                     lambda a: a.xreplace({i: j}))


def _one_index(e: sp.Expr) -> sp.Expr:
    """Every (unnested) sum over the index j, so that equal sums cancel."""
    return e.replace(lambda a: isinstance(a, sp.Sum) and a.limits[0][0] != j,
                     lambda a: a.xreplace({a.limits[0][0]: j}))


_EXPLICIT_M = 3  # the batch of the chain-rule check


@lru_cache(maxsize=1)
def _explicit_graph():
    """On a batch of 3: l = sum_k dl/dy_k y_k (a first-order identity needs no more than a loss linear in y with
    symbolic coefficients) and SymPy's derivative of l by each node, the node's parents held fixed: by xhat_k (l of
    xhat), by sigma_B^2 (l of x, mu_B, sigma_B^2), by mu_B (sigma_B^2 its definition), by x_k (mu_B too)."""
    ks = range(1, _EXPLICIT_M + 1)
    var_m = sum((x[k] - mu_B) ** 2 for k in ks) / _EXPLICIT_M
    mean_m = sum(x[k] for k in ks) / _EXPLICIT_M
    ell = sum(dl_dy[k] * y_def(k) for k in ks)
    ell_var = ell.subs({xhat[k]: xhat_def(k) for k in ks})
    ell_mu = ell_var.subs(var_B, var_m)
    ell_x = ell_mu.subs(mu_B, mean_m)
    value = {"dl/dxhat_i": lambda k: sp.diff(ell, xhat[k]), "dl/dsigma_B^2": lambda k: sp.diff(ell_var, var_B),
             "dl/dmu_B": lambda k: sp.diff(ell_mu, mu_B), "dl/dx_i": lambda k: sp.diff(ell_x, x[k]),
             "dl/dgamma": lambda k: sp.diff(ell, gamma), "dl/dbeta": lambda k: sp.diff(ell, beta)}
    upstream = {**{dl_dxhat[k]: value["dl/dxhat_i"](k) for k in ks}, dl_dvar: value["dl/dsigma_B^2"](None),
                dl_dmu: value["dl/dmu_B"](None)}
    # below a node the forward pass fills in its parents: sigma_B^2 = its definition, then mu_B
    below = {"dl/dmu_B": ((var_B, var_m),), "dl/dx_i": ((var_B, var_m), (mu_B, mean_m))}
    return value, upstream, below


def _chain_check(name: str):
    """The chain-rule row of ``name``: lhs is that node's gradient and rhs, on an explicit batch of 3 (each index
    i of the batch), equals SymPy's derivative of the loss by the node (:func:`_explicit_graph`)."""
    def check(lhs, rhs):
        if lhs != _chain()[name][0]:
            return False, f"the left side must be the gradient {_chain()[name][0]}"
        value, upstream, below = _explicit_graph()
        for k in (range(1, _EXPLICIT_M + 1) if i in rhs.free_symbols else (None,)):
            r = rhs.subs(m, _EXPLICIT_M)
            r = (r.subs(i, k) if k else r).doit().xreplace(upstream)
            for old, new in below.get(name, ()):
                r = r.subs(old, new)
            if not is_zero(value[name](k) - r):
                at = f", i = {k}" if k else ""
                return False, f"batch of {_EXPLICIT_M}{at}: the sum differs from SymPy's derivative of the loss"
        every = " (every i)" if i in rhs.free_symbols else ""
        return True, (f"on a batch of {_EXPLICIT_M}{every}: equals sympy.diff of l = sum dl/dy_k y_k by the node, "
                      "its parents fixed")
    return check


def _at_counterexample(e: sp.Expr) -> sp.Expr:
    """``e`` (free i = 1) at the counterexample's batch, the upstream gradients by the chain rule (lines 1-3)."""
    ce = check_slide_lines()[3].counterexample
    mm, xs, dys = ce["m"], [sp.sympify(v) for v in ce["x"]], [sp.sympify(v) for v in ce["dy"]]
    mean = sum(xs) / sp.Integer(mm)
    point = {m: mm, mu_B: mean, var_B: sum((v - mean) ** 2 for v in xs) / mm, eps: sp.sympify(ce["eps"]),
             gamma: sp.sympify(ce["gamma"]), **{x[k + 1]: xs[k] for k in range(mm)},
             **{dl_dy[k + 1]: dys[k] for k in range(mm)}}
    d = derived_lines()

    def at(expr, known):
        return sp.simplify(expr.subs(m, mm).doit().subs({**point, **known}))
    known = {dl_dxhat[k]: at(d["dl/dxhat_i"].subs(i, k), {}) for k in range(1, mm + 1)}
    known[dl_dvar] = at(d["dl/dsigma_B^2"], known)
    known[dl_dmu] = at(d["dl/dmu_B"], known)
    return at(e.subs(i, 1), known)


def _slide_check(index: int, rel: str):
    """A comparison row of slide line ``index``: the row shows the transcription (:func:`_as_written` equals
    :data:`SLIDE_LINES`), and lhs (the slide, its index renamed j) REL rhs: ``=`` identically, ``mean`` equal for
    mu_B the batch mean (the row substitutes it), ``!=`` different at the counterexample's batch."""
    name, slide, _ = SLIDE_LINES[index - 1]

    def check(lhs, rhs):
        if not is_zero(_slide_index(_as_written()[name]).doit() - slide):
            return False, f"the row's slide line {index} is not the transcription SLIDE_LINES"
        diff = _slide_index(lhs).doit() - rhs.doit()
        if rel == "=":
            ok = is_zero(diff)
            return ok, "slide (index renamed j) - chain rule simplifies to 0" if ok else f"they differ by {diff}"
        if rel == "mean":  # the row substituted mu_B = (1/m) sum_q x_q: split the sums, then one index for all
            ok = is_zero(_one_index(_linear_sums(diff)))
            return ok, ("with mu_B = (1/m) sum_j x_j, slide - chain rule simplifies to 0 (sums split)" if ok
                        else "they differ for the batch mean")
        value = _at_counterexample(diff)
        ok = value.is_zero is False
        return ok, f"slide - chain rule = {value} at the counterexample's batch" + (", not 0" if ok else "")
    return check


def _slide_label(index: int, of: bool = False) -> T:
    """``slide line INDEX (its lhs)``; ``of``: the Russian in the genitive (строки, after для)."""
    lhs = SLIDE_LINES[index - 1][2].split(' = ')[0]
    return T(f"slide line {index} (${lhs}$)", f"{'строки' if of else 'строка'} {index} слайда (${lhs}$)")


_MEAN_WORDS = r"$\mu_B = \frac{1}{m}\sum_j x_j$"
_CLOSED_TEX = (r"$\frac{\gamma}{\sigma}\big(\frac{\partial \ell}{\partial y_i} - "
               r"\mathrm{mean}(\frac{\partial \ell}{\partial y}) - \hat{x}_i\,\mathrm{mean}(\frac{\partial "
               r"\ell}{\partial y}\hat{x})\big)$")
#: the forward pass in the assumptions: the mean and the biased variance; the normalized value and the output
_FORWARD_TEX = (r"$\mu_B = \frac{1}{m}\sum_j x_j$, $\sigma_B^2 = \frac{1}{m}\sum_j (x_j - \mu_B)^2$",
                r"$\hat{x}_i = (x_i - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$, $y_i = \gamma\hat{x}_i + \beta$")


@derivation("batchnorm-backward", "the slide's batch-norm backward pass, line by line, against SymPy's chain rule; "
                                  "the general closed form, proved for m = 2..6")
def _batchnorm_backward() -> Derivation:
    chain, written, derived, checks = _chain(), _as_written(), derived_lines(), check_slide_lines()
    through = {  # why each chain-rule row has the terms it has
        "dl/dxhat_i": T(r"$\hat{x}_i$ reaches $\ell$ only through $y_i = \gamma \hat{x}_i + \beta$",
                        r"$\hat{x}_i$ влияет на $\ell$ только через $y_i = \gamma \hat{x}_i + \beta$"),
        "dl/dsigma_B^2": T(r"$\sigma_B^2$ reaches $\ell$ through every $\hat{x}_j = (x_j - \mu_B)/\sqrt{\sigma_B^2 + "
                           r"\epsilon}$",
                           r"$\sigma_B^2$ влияет на $\ell$ через каждое $\hat{x}_j = (x_j - \mu_B)/\sqrt{\sigma_B^2 + "
                           r"\epsilon}$"),
        "dl/dmu_B": T(r"$\mu_B$ reaches $\ell$ through every $\hat{x}_j$ and through $\sigma_B^2 = \frac{1}{m}\sum_j "
                      r"(x_j - \mu_B)^2$",
                      r"$\mu_B$ влияет на $\ell$ через каждое $\hat{x}_j$ и через $\sigma_B^2 = \frac{1}{m}\sum_j "
                      r"(x_j - \mu_B)^2$"),
        "dl/dx_i": T(r"$x_i$ reaches $\ell$ through $\hat{x}_i$, $\sigma_B^2$ and $\mu_B = \frac{1}{m}\sum_j x_j$",
                     r"$x_i$ влияет на $\ell$ через $\hat{x}_i$, $\sigma_B^2$ и $\mu_B = \frac{1}{m}\sum_j x_j$"),
        "dl/dgamma": T(r"$\gamma$ reaches $\ell$ through every $y_j = \gamma \hat{x}_j + \beta$",
                       r"$\gamma$ влияет на $\ell$ через каждое $y_j = \gamma \hat{x}_j + \beta$"),
        "dl/dbeta": T(r"$\beta$ reaches $\ell$ through every $y_j$", r"$\beta$ влияет на $\ell$ через каждое $y_j$"),
    }
    steps = []
    for c in checks:
        node, terms = chain[c.name]
        label, of_label = _slide_label(c.index), _slide_label(c.index, of=True)
        steps.append(Step(lhs=node, rhs=terms, check=_chain_check(c.name),
                          why=T(f"chain rule for {label.en}: {through[c.name].en}; each local derivative of its node's "
                                "definition, the others held fixed",
                                f"цепное правило для {of_label.ru}: {through[c.name].ru}; каждая локальная производная "
                                "берётся от определения своего узла при фиксированных остальных аргументах")))
        if c.name == "dl/dx_i":
            steps.append(Step(rhs=derived[c.name], under=(m, i + _k, r"$i \le m$"),
                              why=T(r"differentiate: of the sums over $j$ only the term $j = i$ depends on $x_i$",
                                    r"дифференцируем: из сумм по $j$ от $x_i$ зависит только слагаемое $j = i$")))
        else:
            steps.append(Step(rhs=derived[c.name], why=T("differentiate", "дифференцируем")))
        if c.as_written:
            renamed = written[c.name].has(sp.Sum)
            steps.append(Step(lhs=written[c.name], rhs=derived[c.name], check=_slide_check(c.index, "="),
                              why=T(f"{label.en} as written: agrees with the chain rule" + (
                                  " (its summation index $i$ is $j$ here)" if renamed else ""),
                                  f"{label.ru}, как она записана, совпадает с цепным правилом" + (
                                      " (её индекс суммирования $i$ здесь обозначен $j$)" if renamed else ""))))
        elif c.given_forward:
            mean_q = sp.Sum(x[_q], (_q, 1, m)) / m
            steps.append(Step(lhs=written[c.name], rhs=derived[c.name], check=_slide_check(c.index, "mean"),
                              under=(mu_B, mean_q, _MEAN_WORDS),
                              why=T(f"{label.en} as written has the chain rule's value: its wrong term "
                                    r"multiplies $\sum_i (x_i - \mu_B) = 0$ ($\mu_B$ is the batch mean)",
                                    f"{label.ru}, как она записана, даёт то же значение, что и цепное правило: её "
                                    r"неверное слагаемое умножается на $\sum_i (x_i - \mu_B) = 0$ ($\mu_B$ — "
                                    "среднее по батчу)")))
            steps.append(Step(lhs=1 / (m - 1), rhs=1 / m, rel="!=",
                              why=T(r"its coefficient is wrong: the slide divides $\sum_i -2(x_i - \mu_B)$ by "
                                    r"$m - 1$, while $\partial \sigma_B^2/\partial \mu_B$ of the forward pass's biased "
                                    r"variance divides by $m$",
                                    r"но её коэффициент неверен: слайд делит $\sum_i -2(x_i - \mu_B)$ на $m - 1$, "
                                    r"тогда как в производной $\partial \sigma_B^2/\partial \mu_B$ смещённой дисперсии "
                                    r"прямого прохода стоит деление на $m$")))
        else:
            zero_term = given_forward(c.difference)
            by, zero = f"${latex(-c.difference)}$", f"${latex(-zero_term)}$"
            steps.append(Step(lhs=written[c.name], rhs=derived[c.name], rel="!=", check=_slide_check(c.index, "!="),
                              why=T(f"{label.en} as written is wrong: it differs from the chain rule by "
                                    f"{by}, which with $\\mu_B$ the batch mean is "
                                    f"{zero}, not 0 (the slide's $1/(m - 1)$ against the forward "
                                    r"pass's $1/m$)",
                                    f"{label.ru}, как она записана, неверна: она отличается от цепного правила на "
                                    f"{by}, что при $\\mu_B$, равном среднему по батчу, даёт {zero}, а не 0 "
                                    r"($1/(m - 1)$ на слайде против $1/m$ в прямом проходе)")))
            ce = c.counterexample
            slide0, true0 = sp.sympify(ce["slide_dx"][0]), sp.sympify(ce["true_dx"][0])
            point = (f"$m = {ce['m']}$, $x = ({', '.join(ce['x'])})$, "
                     r"$\frac{\partial \ell}{\partial y} = (" + ", ".join(ce["dy"]) + r")$, "
                     f"$\\gamma = 1$, $\\epsilon = {latex(sp.sympify(ce['eps']))}$")
            steps.append(Step(lhs=slide0, rhs=true0, rel="!=",
                              why=T(f"and the gradient is wrong: at {point} the slide's lines give "
                                    r"$\frac{\partial \ell}{\partial x_1}$ on the left, the derivative of the forward "
                                    "pass on the right",
                                    f"и градиент неверен: при {point} строки слайда дают "
                                    r"$\frac{\partial \ell}{\partial x_1}$ слева, а производная прямого прохода — "
                                    "справа")))
    _, residual = general_closed_form()
    steps.append(Step(lhs=dl_dx[i], rhs=sp.Add(CLOSED_FORM, residual, evaluate=False), check=_general_check,
                      why=T("general $m$: the corrected lines substituted into each other "
                            r"($\partial \ell/\partial \hat{x} = \gamma\,\partial \ell/\partial y$) give the closed "
                            r"form " + _CLOSED_TEX + " plus a residual",
                            "произвольное $m$: исправленные строки, подставленные друг в друга "
                            r"($\partial \ell/\partial \hat{x} = \gamma\,\partial \ell/\partial y$), дают замкнутую "
                            "форму " + _CLOSED_TEX + " плюс остаток")))
    steps.append(Step(rhs=CLOSED_FORM, under=(mu_B, MEAN, _MEAN_WORDS), check=_mean_check,
                      why=T(r"the residual carries the factor $m\mu_B - \sum_j x_j$, 0 for the forward pass's mean: "
                            "the closed form holds for every $m$",
                            r"остаток содержит множитель $m\mu_B - \sum_j x_j$, равный 0 для среднего прямого "
                            "прохода: замкнутая форма верна при любом $m$")))
    for mm in range(2, 7):
        steps.append(Step(lhs=latex_name(sp.Symbol(f"dl/dx_i[m={mm}]"),
                                         r"\frac{\partial \ell}{\partial x_i}\Big|_{m = " + str(mm) + "}"),
                          rhs=CLOSED_FORM.subs(m, mm),
                          why=T(r"explicit batch: differentiate $\ell = \sum_i \frac{\partial \ell}{\partial y_i}\,"
                                r"y_i$ by every $x_i$",
                                r"явный батч: дифференцируем $\ell = \sum_i \frac{\partial \ell}{\partial y_i}\,"
                                r"y_i$ по каждому $x_i$"),
                          check=_explicit_check(mm)))
    return Derivation(
        "batchnorm-backward", T("Batch-norm backward pass: the slide checked line by line",
                                "Обратный проход батч-нормализации: построчная проверка слайда"),
        steps,
        assumptions=[T("forward: " + _FORWARD_TEX[0] + " (biased, as on the slide «Forward pass»), "
                       + _FORWARD_TEX[1],
                       "прямой проход: " + _FORWARD_TEX[0] + " (смещённая, как на слайде «Forward pass»), "
                       + _FORWARD_TEX[1]),
                     T(r"$\epsilon > 0$; $\gamma$, $\beta$ constant over the batch; $\ell$ depends on $x$ only through "
                       "$y$",
                       r"$\epsilon > 0$; $\gamma$, $\beta$ постоянны в пределах батча; $\ell$ зависит от $x$ только "
                       "через $y$"),
                     T("the chain rule sums over $j$ (line 4 has a free $i$); the slide's lines are quoted as written, "
                       "with its summation index $i$",
                       "цепное правило суммирует по $j$ (в строке 4 есть свободный индекс $i$); строки слайда "
                       "приведены в том виде, как они записаны, с индексом суммирования $i$")],
        references=[T("Ioffe & Szegedy 2015, Batch Normalization, arXiv:1502.03167, Algorithm 1 and section 3 "
                      "(their backward pass has $1/m$)",
                      "Ioffe & Szegedy 2015, «Batch Normalization», arXiv:1502.03167, алгоритм 1 и раздел 3 "
                      "(в их обратном проходе стоит $1/m$)")])


# ------------------------------------------------------------------------------------------ running statistics
alpha = sp.Symbol("alpha", positive=True)
momentum = sp.Symbol("momentum", positive=True)
running, batch_value = sp.symbols("r v", real=True)
sigma2 = latex_name(sp.Symbol("sigma^2", positive=True), r"\sigma^2")
TORCH_MOMENTUM, KERAS_MOMENTUM = sp.Rational(1, 10), sp.Rational(99, 100)
_UNROLLED_TEX = r"$(1 - \alpha)^k r_0 + \alpha \sum_t (1 - \alpha)^t v_{k-t}$"


def slide_update(old, new):
    """The slide «Batch norm (2015)»: mu_h = alpha xbar_batch + (1 - alpha) mu_h (the same for sigma_h^2)."""
    return alpha * new + (1 - alpha) * old


def torch_update(old, new, mom=momentum):
    """PyTorch BatchNorm: running = (1 - momentum) running + momentum batch; momentum (default 0.1) weights the NEW
    value; the variance fed in is the unbiased m/(m - 1) sigma_B^2, while training normalizes with sigma_B^2."""
    return (1 - mom) * old + mom * new


def keras_update(old, new, mom=momentum):
    """Keras BatchNormalization: moving = momentum moving + (1 - momentum) batch; momentum (default 0.99) weights
    the OLD value; the variance fed in is the biased sigma_B^2."""
    return mom * old + (1 - mom) * new


def expected_batch_variances():
    """E[sigma_B^2] and E[m/(m-1) sigma_B^2] for iid inputs with variance sigma^2, from E[x_a x_b] = mu^2 + [a = b]
    sigma^2 on an explicit batch of 5 (the general-m closed forms are checked in the derivation's steps)."""
    mm = 5
    xs = sp.symbols(f"x1:{mm + 1}", real=True)
    mu = sp.Symbol("mu", real=True)
    mean = sum(xs) / mm
    var = sp.expand(sum((v - mean) ** 2 for v in xs) / mm)
    expectation = var
    for a in xs:  # E[x_a^2] = mu^2 + sigma^2, E[x_a x_b] = mu^2 (a != b): replace monomials
        expectation = expectation.subs(a**2, mu**2 + sigma2)
    for a in xs:
        for b in xs:
            if a != b:
                expectation = expectation.subs(a * b, mu**2)
    return mm, sp.simplify(expectation)


@derivation("batchnorm-running-stats", "the slide's moving averages as the PyTorch and Keras conventions, and the "
                                       "bias of each running variance")
def _batchnorm_running_stats() -> Derivation:
    t = sp.Symbol("t", integer=True, nonnegative=True)
    mm, ev = expected_batch_variances()
    mu = sp.Symbol("mu", real=True)
    # each library's momentum, a parameter of its own (the slide's alpha is one of them, 1 - alpha the other)
    torch_m = latex_name(sp.Symbol("momentum_PyTorch", positive=True), r"\mathrm{momentum}_{\mathrm{PyTorch}}")
    keras_m = latex_name(sp.Symbol("momentum_Keras", positive=True), r"\mathrm{momentum}_{\mathrm{Keras}}")
    expected_var = latex_name(sp.Symbol(f"E[sigma_B^2](m={mm})"), r"E[\sigma_B^2]\big|_{m = " + str(mm) + "}")
    steps = [
        Step(lhs=slide_update(running, batch_value), rhs=torch_update(running, batch_value, torch_m),
             under=(torch_m, alpha, T(r"PyTorch's `momentum` $= \alpha$", r"`momentum` в PyTorch $= \alpha$")),
             why=T(r"the slide's $\alpha$ is PyTorch's `momentum`: the weight of the new batch value",
                   r"$\alpha$ слайда — это `momentum` в PyTorch: вес нового значения по батчу")),
        Step(lhs=slide_update(running, batch_value), rhs=keras_update(running, batch_value, keras_m),
             under=(keras_m, 1 - alpha, T(r"Keras' `momentum` $= 1 - \alpha$", r"`momentum` в Keras $= 1 - \alpha$")),
             why=T("and $1 -$ Keras' `momentum`: Keras weights the old value",
                   "и $1 -$ `momentum` в Keras: Keras задаёт вес старого значения")),
        Step(lhs=torch_update(running, batch_value, TORCH_MOMENTUM), rhs=keras_update(running, batch_value, keras_m),
             under=(keras_m, 1 - TORCH_MOMENTUM, T(r"Keras' `momentum` $= 0.9$", r"`momentum` в Keras $= 0.9$")),
             why=T(r"PyTorch's default 0.1 is Keras' 0.9, not Keras' default 0.99 (0.99 averages over $\approx 100$ "
                   r"batches, 0.1 over $\approx 10$)",
                   r"значение PyTorch по умолчанию 0.1 соответствует 0.9 в Keras, а не значению Keras по умолчанию "
                   r"0.99 (0.99 усредняет по $\approx 100$ батчам, 0.1 — по $\approx 10$)")),
        Step(lhs=sp.Sum(alpha * (1 - alpha) ** t, (t, 0, sp.oo)), rhs=1,
             why=T(r"unrolled, the running value is " + _UNROLLED_TEX + r": "
                   r"weights summing to 1, so $E[\mathrm{running}] \to E[v]$ ($0 < \alpha < 1$)",
                   r"если развернуть рекурсию, скользящее значение равно " + _UNROLLED_TEX + r": веса в сумме дают 1, "
                   r"поэтому $E[\mathrm{running}] \to E[v]$ ($0 < \alpha < 1$)"),
             under=(alpha, sp.Symbol("alpha", positive=True), r"$0 < \alpha < 1$"),
             check=lambda lhs, rhs: (sp.simplify(sp.Sum(alpha * (1 - alpha) ** t, (t, 0, sp.oo))
                                                 .subs(alpha, sp.Rational(1, 10)).doit() - 1) == 0
                                     and sp.simplify(sp.Sum(alpha * (1 - alpha) ** t, (t, 0, sp.oo))
                                                     .subs(alpha, sp.Rational(99, 100)).doit() - 1) == 0,
                                     "geometric series at alpha = 1/10 and 99/100 (PyTorch and Keras defaults)")),
        Step(lhs=(m * (mu**2 + sigma2) + m * (m - 1) * mu**2) / m**2, rhs=mu**2 + sigma2 / m,
             why=T(r"$E[\mu_B^2]$ for iid inputs (mean $\mu$, variance $\sigma^2$): $m$ squares "
                   r"$E[x^2] = \mu^2 + \sigma^2$ and $m(m - 1)$ cross terms $E[x_a x_b] = \mu^2$, over $m^2$",
                   r"$E[\mu_B^2]$ для независимых одинаково распределённых входов (среднее $\mu$, дисперсия "
                   r"$\sigma^2$): $m$ квадратов $E[x^2] = \mu^2 + \sigma^2$ и $m(m - 1)$ перекрёстных членов "
                   r"$E[x_a x_b] = \mu^2$, делённые на $m^2$")),
        Step(lhs=(mu**2 + sigma2) - (mu**2 + sigma2 / m), rhs=(m - 1) * sigma2 / m,
             why=T(r"$E[\sigma_B^2] = E[\frac{1}{m}\sum_j x_j^2] - E[\mu_B^2]$: the batch variance of the forward pass "
                   "is biased",
                   r"$E[\sigma_B^2] = E[\frac{1}{m}\sum_j x_j^2] - E[\mu_B^2]$: дисперсия по батчу в прямом проходе "
                   "смещена")),
        Step(lhs=expected_var, rhs=(mm - 1) * sigma2 / mm,
             why=T(f"the same on an explicit batch of {mm}, monomial by monomial in the expanded $\\sigma_B^2$",
                   f"то же на явном батче размера {mm}, моном за мономом в раскрытом $\\sigma_B^2$"),
             check=lambda lhs, rhs: (sp.simplify(ev - rhs) == 0, f"E[sigma_B^2] = {sp.sstr(ev)}")),
        Step(lhs=sp.Mul(m / (m - 1), (m - 1) * sigma2 / m, evaluate=False), rhs=sigma2,
             why=T(r"PyTorch feeds $\frac{m}{m - 1}\sigma_B^2$: its running variance is unbiased ($E \to \sigma^2$)",
                   r"PyTorch подаёт $\frac{m}{m - 1}\sigma_B^2$: его скользящая дисперсия несмещённая "
                   r"($E \to \sigma^2$)")),
        Step(lhs=(m - 1) * sigma2 / m, rhs=sigma2 - sigma2 / m,
             why=T(r"Keras feeds $\sigma_B^2$: its moving variance is biased low by $\sigma^2/m$ (by half at "
                   r"$m = 2$); the slide writes $\hat{s}^2_{batch}$, the usual notation for the unbiased variance, "
                   "i.e. PyTorch's choice",
                   r"Keras подаёт $\sigma_B^2$: его скользящая дисперсия занижена на $\sigma^2/m$ (вдвое при "
                   r"$m = 2$); на слайде написано $\hat{s}^2_{batch}$ — обычное обозначение несмещённой "
                   "дисперсии, т. е. выбор PyTorch")),
    ]
    return Derivation("batchnorm-running-stats",
                      T("Batch-norm running statistics: the slide, PyTorch and Keras",
                        "Скользящие статистики батч-нормализации: слайд, PyTorch и Keras"),
                      steps,
                      assumptions=[T(r"inputs of a unit iid across batches with mean $\mu$ and variance $\sigma^2$",
                                     r"входы нейрона независимы и одинаково распределены от батча к батчу, со средним "
                                     r"$\mu$ и дисперсией $\sigma^2$"),
                                   T("PyTorch: `torch.nn.BatchNorm1d(momentum=0.1)`, `running_var` updated with the "
                                     "unbiased batch variance; Keras: `BatchNormalization(momentum=0.99)`",
                                     "PyTorch: `torch.nn.BatchNorm1d(momentum=0.1)`, `running_var` обновляется "
                                     "несмещённой дисперсией по батчу; Keras: `BatchNormalization(momentum=0.99)`")],
                      references=[T("PyTorch `BatchNorm1d` documentation", "документация PyTorch `BatchNorm1d`"),
                                  T("Keras `BatchNormalization` documentation",
                                    "документация Keras `BatchNormalization`"),
                                  T(r"Ioffe & Szegedy 2015 (inference uses the unbiased variance "
                                    r"$\frac{m}{m-1}E[\sigma_B^2]$)",
                                    r"Ioffe & Szegedy 2015 (при применении обученной сети используется несмещённая "
                                    r"дисперсия $\frac{m}{m-1}E[\sigma_B^2]$)")])


# ------------------------------------------------------------------------------------ scale and shift notation
h_hat = sp.Symbol("hhat", real=True)
#: (slide, the output as written, the normalized variable, the statement about learning)
NOTATION = (
    ("Проблема", beta * h_hat + gamma, h_hat),
    ("Forward pass", gamma * h_hat + beta, h_hat),
)


def scale_shift_notation() -> dict:
    """Which symbol scales and which shifts on each slide, read off the transcribed output by differentiation:
    scale = d(out)/d(hhat), shift = out at hhat = 0; consistent iff every slide gives the same pair."""
    roles = {}
    for slide, out, var in NOTATION:
        roles[slide] = {"scale": sp.sstr(sp.diff(out, var)), "shift": sp.sstr(out.subs(var, 0))}
    pairs = {(r["scale"], r["shift"]) for r in roles.values()}
    return {"slides": roles, "consistent": len(pairs) == 1}
