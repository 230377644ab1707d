"""The computations behind the activation-function slides («Паралич сети» to «ELU activation»).

What :mod:`lecture.claims_activations` compares the slides with: exact facts derived by SymPy from the activation
expressions of :mod:`theory.activations` (derivatives written through f = phi(x), the mean over symmetric inputs,
tanh as a rescaled sigmoid, leaky ReLU with a symbolic slope, ELU's pieces, the sign pattern of a unit's weight
gradient, the active fraction of a unit behind a bias) and the backward factors of :mod:`theory.meanfield` at the
lecture's inits (:mod:`theory.init`). Every formula is taken from its topical module; nothing is retyped here.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory import activations as acts
from theory import calculus
from theory.calculus import x
from theory.gaussian import q

F = sp.Symbol("f", real=True)  # the activation's value f = phi(x), for derivatives written through f
ALPHA = sp.Symbol("alpha", positive=True)  # ELU's alpha (the slide's symbol)
SLOPE = sp.Symbol("a", real=True)  # leaky ReLU's slope on the negative side, any real (the slide asks only a != 1)
K = sp.Symbol("k", real=True)  # a bias in units of the pre-activation's sd: w0 = k sigma_h
ELU_ALPHAS = ("1/2", "1", "2")  # the alphas at which the slide's ELU is compared with the package's


def _same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


# ------------------------------------------------------------------------------------------------ derivatives
def derivative_through_f(spec: str, stated) -> dict:
    """phi'(x) (:func:`theory.activations.derivative`) against ``stated``, an expression in F = phi(x): the simplified
    derivative, simplify(phi' - stated(F = phi)) and whether that difference is exactly 0 (x real)."""
    act = acts.get_activation(spec)
    true = acts.derivative(act)
    difference = sp.simplify(true - sp.sympify(stated).subs(F, act.expr))
    return {"derivative": sp.simplify(true), "difference": difference, "equal": difference == 0}


def derivative_infimum(spec: str) -> calculus.Bound:
    """inf over real x of phi'(x), taken on phi's smooth pieces (phi' is undefined at a kink, so a kink never attains
    it): a unit 'dies' where this inf is 0 and attained, its gradient exactly 0 on a whole interval."""
    lo, _ = calculus.extrema(list(acts.derivative_pieces(acts.get_activation(spec))), closed_at_kinks=False)
    return lo


# ------------------------------------------------------------------------------------------------ centring
@lru_cache(maxsize=32)
def _symmetric_mean(spec: str) -> tuple[sp.Expr, sp.Expr | None]:
    act = acts.get_activation(spec)
    s = sp.simplify(act.expr + act.expr.subs(x, -x))
    if not s.has(x):
        return sp.nsimplify(s / 2), s
    return sp.simplify(acts.moment_closed_forms(act)["mean"]), None


def symmetric_mean(spec: str) -> dict:
    """E[phi(h)] for h symmetric about 0: c/2 for ANY symmetric law when phi(x) + phi(-x) = c is a constant
    (``pair_sum`` c, else None), otherwise the Gaussian closed form E[phi(sqrt(q) z)] in q (h ~ N(0, q),
    :func:`theory.activations.moment_closed_forms`); with its value at q = 1 and whether it is exactly 0."""
    mean, pair_sum = _symmetric_mean(spec)
    at_q1 = float(mean.subs(q, 1)) if mean.free_symbols else float(mean)
    return {"mean": mean, "pair_sum": pair_sum, "mean_at_q1": at_q1, "centred": sp.simplify(mean) == 0}


def tanh_sigmoid_residual(scale, rate, shift) -> sp.Expr:
    """tanh(x) - (scale sigma(rate x) + shift), rewritten in exp and simplified (x real): exactly 0 when tanh is that
    rescaled sigmoid (it is for scale 2, rate 2, shift -1)."""
    t, s = acts.get_activation("tanh").expr, acts.get_activation("sigmoid").expr
    return sp.simplify((t - (scale * s.subs(x, rate * x) + shift)).rewrite(sp.exp))


def gradient_sign_pattern(n_inputs: int = 3) -> tuple[bool, frozenset]:
    """A unit's weight gradient dL/dw_i = delta o_i with inputs o_i > 0 (i = 1..n_inputs, e.g. sigmoid outputs): whether
    sign(dL/dw_i) = sign(delta) for every i (SymPy, delta real), and the signs ALL components share as delta ranges
    over delta > 0 and delta < 0."""
    delta = sp.Symbol("delta", real=True)
    o = sp.symbols(f"o1:{n_inputs + 1}", positive=True)
    g = [delta * oi for oi in o]
    shared = all(sp.simplify(sp.sign(gi) - sp.sign(delta)) == 0 for gi in g)
    signs = set()
    for sym in (sp.Symbol("d", positive=True), sp.Symbol("d", negative=True)):
        vals = [gi.subs(delta, sym) for gi in g]
        if all(v.is_positive for v in vals):
            signs.add("positive")
        if all(v.is_negative for v in vals):
            signs.add("negative")
    return shared, frozenset(signs)


# ------------------------------------------------------------------------------------------------ backward signal
@lru_cache(maxsize=64)
def _fixed_point_rows(spec: str, inits: tuple[str, ...]) -> tuple[tuple[str, sp.Expr, float], ...]:
    from theory.init import get_init, n_in, n_out
    from theory.meanfield import chi1

    n = sp.Symbol("n", positive=True)
    rows = []
    for name in inits:
        sw2 = sp.simplify(get_init(name).weight_var.subs({n_in: n, n_out: n}) * n)
        rows.append((name, sw2, float(chi1(spec, float(sw2), 0.0))))
    return tuple(rows)


@lru_cache(maxsize=8)
def _critical(spec: str) -> float | None:
    from theory.meanfield import critical_weight_var

    return critical_weight_var(spec, 0.0)


def backward_signal(spec: str, inits: tuple[str, ...]) -> dict:
    """The backward signal of a ``spec`` net at each init on equal widths n_in = n_out = n, no bias:
    ``sigma_w2`` = n Var(w) (exact, :mod:`theory.init`), ``chi1`` = sigma_w^2 E[phi'(h)^2] at the fixed point q*
    (:func:`theory.meanfield.chi1`), ``trajectory``: the finite-depth mean field from Var(x) = 1
    (:func:`theory.predict.backward_trajectory`), and ``critical_sigma_w2``, where chi_1 = 1 (None: nowhere)."""
    from theory.predict import backward_trajectory

    rows = _fixed_point_rows(spec, tuple(inits))
    return {"sigma_w2": {name: sw2 for name, sw2, _ in rows}, "chi1": {name: c for name, _, c in rows},
            "trajectory": {name: backward_trajectory(spec, name) for name, _, _ in rows},
            "critical_sigma_w2": _critical(spec)}


# ------------------------------------------------------------------------------------------------ leaky ReLU
@lru_cache(maxsize=1)
def leaky_relu_symbolic() -> sp.Expr:
    """leaky ReLU max(0, x) + a min(0, x) with a symbolic slope a = SLOPE (real): the family's own builder in
    :mod:`theory.activations`, the single definition of the formula."""
    return acts._FAMILIES["leaky_relu"][0](SLOPE)  # noqa: SLF001 (the single definition of the family)


def leaky_relu_derivative_pieces() -> list[calculus.Piece]:
    """leaky ReLU's derivative piece by piece for symbolic a (:func:`theory.calculus.derivative_pieces`): a on
    x < 0, 1 on x > 0 (nothing said at the kink)."""
    return calculus.derivative_pieces(calculus.pieces(leaky_relu_symbolic()))


def leaky_relu_derivative_values(slopes: sp.Set) -> tuple[sp.Set, frozenset]:
    """The values leaky ReLU's derivative takes over real x and slopes a in ``slopes`` (a SymPy image set), and its
    signs among positive, negative, zero."""
    image = sp.S.EmptySet
    for p in leaky_relu_derivative_pieces():
        e = p.expr
        image = image | (sp.imageset(sp.Lambda(SLOPE, e), slopes) if e.has(SLOPE) else sp.FiniteSet(e))
    image = sp.simplify(image)
    signs = frozenset(s for s, half in (("positive", sp.Interval.open(0, sp.oo)),
                                        ("negative", sp.Interval.open(-sp.oo, 0)),
                                        ("zero", sp.FiniteSet(0))) if image.intersect(half) != sp.S.EmptySet)
    return image, signs


def leaky_relu_linear_slopes() -> dict:
    """leaky ReLU's one-sided slopes at 0 (``left``, ``right``), the real slopes a where they agree (``linear_at``:
    no kink) and, for each such a, whether f(x) - x simplifies to 0 (``identity``: f is then the identity)."""
    f = leaky_relu_symbolic()
    ps = leaky_relu_derivative_pieces()
    left, right = ps[0].expr, ps[-1].expr
    linear_at = sp.solveset(sp.Eq(left, right), SLOPE, sp.S.Reals)
    identity = {v: bool(sp.simplify(f.subs(SLOPE, v).rewrite(sp.Piecewise) - x) == 0)
                for v in linear_at} if isinstance(linear_at, sp.FiniteSet) else {}
    return {"left": left, "right": right, "linear_at": linear_at, "identity": identity}


# ------------------------------------------------------------------------------------------------ ELU
def elu_against_slide(nonneg_piece, neg_piece, alphas: tuple[str, ...] = ELU_ALPHAS) -> dict:
    """A stated ELU (``nonneg_piece`` for x >= 0, ``neg_piece`` in x and ALPHA for x < 0) against the package's ELU
    (Clevert et al. 2015) piece by piece at each alpha of ``alphas`` (``matches``), its left limit and right value at
    0 (``continuous`` when equal), its one-sided slopes there and the alpha > 0 for which they agree."""
    pos, neg = sp.sympify(nonneg_piece), sp.sympify(neg_piece)
    matches = {}
    for a in alphas:
        av = sp.Rational(a)
        ok = True
        for p in acts.pieces(acts.get_activation(f"elu:{a}")):
            mine = neg.subs(ALPHA, av) if p.interval.end <= 0 else pos
            ok = ok and _same(p.expr, mine)
        matches[a] = ok
    left, right = sp.limit(neg, x, 0, "-"), pos.subs(x, 0)
    dl, dr = sp.limit(sp.diff(neg, x), x, 0, "-"), sp.diff(pos, x).subs(x, 0)
    return {"matches": matches, "left": left, "right": right, "continuous": sp.simplify(left - right) == 0,
            "left_slope": dl, "right_slope": dr,
            "differentiable_for": sp.solveset(sp.Eq(dl, dr), ALPHA, sp.Interval.open(0, sp.oo))}


# ------------------------------------------------------------------------------------------------ a bias of w0
@lru_cache(maxsize=1)
def active_probability() -> tuple[sp.Expr, sp.Expr]:
    """P(w0 + s > 0) for a Gaussian weighted input s ~ N(0, sigma_h^2) and w0 = k sigma_h, in K (exact,
    :mod:`sympy.stats`; equal to Phi(k)), and its limit as k -> -oo."""
    from sympy.stats import Normal, P

    p = sp.simplify(P(Normal("s", 0, 1) > -K))
    return sp.simplify(p), sp.limit(p, K, -sp.oo)
