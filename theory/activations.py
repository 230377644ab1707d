"""The activation zoo: each activation is one SymPy expression in ``x``; everything else is derived from it.

Named activations (DESIGN.md): ``sigmoid tanh relu leaky_relu[:a] elu[:alpha] selu gelu silu softplus linear``;
any other spec is parsed as a SymPy expression in ``x`` by the safe parser (:mod:`theory.parse`).

Kinked activations are written without ``Piecewise`` so that their LaTeX is compact:
``relu = max(0, x)``, ``leaky_relu = max(0, x) + a min(0, x)``, ``elu = max(0, x) + alpha (exp(min(0, x)) - 1)``;
:func:`theory.calculus.pieces` recovers the pieces. Derivatives are taken piece by piece and are undefined at a
kink unless both one-sided values agree.

Gaussian moments for z ~ N(0, 1) and variance q: ``E[phi(sqrt(q) z)]``, ``E[phi(sqrt(q) z)^2]`` and
``E[phi'(sqrt(q) z)^2]``. Closed forms come from ``sympy.integrate`` for piecewise polynomial-times-exponential
activations (relu, leaky_relu, elu, selu, linear); GELU's are the table :data:`GELU_MOMENTS`, derived by Stein's
lemma (see its docstring) and checked against mpmath in the tests; the rest use quadrature of the expression.
"""
from __future__ import annotations

import difflib
import re
import warnings

import numpy as np
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory import budget, calculus, gaussian
from theory.calculus import x
from theory.derivation import Derivation, Step, derivation
from theory import functions
from theory.errors import SpecError
from theory.gaussian import q
from theory.latex import show_as as _show_as
from theory.parse import CONSTANTS, parse_expression
from theory.text import T

# SELU's constants in closed form (Klambauer et al. 2017, eqs. 14-15): the values of (alpha, lambda) for which
# N(0, 1) pre-activations give outputs of mean 0 and variance 1.
_E1 = sp.erfc(1 / sp.sqrt(2))
SELU_ALPHA = -sp.sqrt(2 / sp.pi) / (_E1 * sp.exp(sp.Rational(1, 2)) - 1)
SELU_LAMBDA = (1 - _E1 * sp.sqrt(sp.E)) * sp.sqrt(2 * sp.pi) / sp.sqrt(
    2 * sp.erfc(sp.sqrt(2)) * sp.E**2 + sp.pi * _E1**2 * sp.E - 2 * (2 + sp.pi) * _E1 * sp.sqrt(sp.E) + sp.pi + 2)


_relu = functions.relu


def _elu(u, alpha):
    return functions.relu(u) + alpha * (sp.exp(sp.Min(0, u)) - 1)


#: name -> (builder of the expression from its parameter, default parameter or None)
_FAMILIES = {
    "sigmoid": (lambda _: functions.sigmoid(x), None),
    "tanh": (lambda _: sp.tanh(x), None),
    "relu": (lambda _: _relu(x), None),
    "leaky_relu": (lambda a: _relu(x) + a * sp.Min(0, x), sp.Rational(1, 100)),
    "elu": (lambda a: _elu(x, a), sp.Integer(1)),
    "selu": (lambda _: SELU_LAMBDA * _elu(x, SELU_ALPHA), None),
    "gelu": (lambda _: x * (1 + sp.erf(x / sp.sqrt(2))) / 2, None),
    "silu": (lambda _: x * functions.sigmoid(x), None),
    "softplus": (lambda _: functions.softplus(x), None),
    "linear": (lambda _: x, None),
}
NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "linear")

# GELU, phi(x) = x Phi(x), X ~ N(0, q). With Stein's lemma E[X h(X)] = q E[h'(X)], the orthant probability
# E[Phi(X)^2] = 1/4 + asin(q/(1+q))/(2 pi), and the Gaussian products
# E[X Phi(X) N(X)] = q/(2 pi (1+q) sqrt(1+2q)),  E[X^2 N(X)^2] = q/(2 pi (1+2q)^(3/2))   (N the standard pdf):
GELU_MOMENTS = {
    "mean": q / sp.sqrt(2 * sp.pi * (1 + q)),
    "second": q / 4 + q * sp.asin(q / (1 + q)) / (2 * sp.pi) + q**2 / (sp.pi * (1 + q) * sp.sqrt(1 + 2 * q)),
    "derivative_second": sp.Rational(1, 4) + sp.asin(q / (1 + q)) / (2 * sp.pi)
    + q / (sp.pi * (1 + q) * sp.sqrt(1 + 2 * q)) + q / (2 * sp.pi * (1 + 2 * q) ** sp.Rational(3, 2)),
}
MOMENT_KEYS = ("mean", "second", "derivative_second")


@dataclass(frozen=True)
class Activation:
    """An activation: its canonical spec ``name``, its family (``expression`` for user input) and expression.

    phi(x) is the SymPy expression ``expr`` in real x; everything else (phi', sup |phi'|, range, Gaussian moments) is
    derived from it by the functions of this module. In Jupyter it shows those facts (:meth:`_repr_markdown_`).
    """

    name: str
    family: str
    expr: sp.Expr
    param: sp.Expr | None = None
    #: the same function with named constants, for display only (SELU: lambda and alpha as symbols)
    display: sp.Expr | None = None

    def __str__(self) -> str:
        return self.name

    @property
    def latex(self) -> str:
        """LaTeX of phi(x), with named constants where the activation has them (SELU's lambda, alpha)."""
        return sp.latex(self.display if self.display is not None else self.expr)

    def _repr_markdown_(self) -> str:
        """Jupyter: phi, phi' (undefined at a kink unless both sides agree), sup |phi'| and the range of phi."""
        lines = [f"**Activation** `{self.name}`", "", f"- $\\varphi(x) = {self.latex}$"]
        if self.family == "selu":
            lines.append(f"- $\\lambda {_md_equals(SELU_LAMBDA, True)}$, $\\alpha {_md_equals(SELU_ALPHA, True)}$")
        try:
            d = derivative(self)
            text = sp.latex(d)
            lines.append(f"- $\\varphi'(x) = {text if len(text) <= 200 else sp.latex(sp.N(d, 6))}$")
            sup = sup_abs_derivative(self)
            how = "exact" if sup.exact else "numeric, |error| < 1e-12"
            where = sup.where_set()
            if where is None:
                at = "not attained"
            elif isinstance(where, sp.FiniteSet) and len(where) == 1:
                at = f"attained at $x = {_md_number(next(iter(where)), sup.exact)}$"
            elif isinstance(where, sp.FiniteSet) and len(where) > 4:  # periodic: name the point nearest 0
                first = min(where, key=lambda w: abs(float(w)))
                at = f"attained at $x = {_md_number(first, sup.exact)}$ and {len(where) - 1} more points"
            else:
                at = f"attained on $x \\in {sp.latex(_rounded(where))}$"
            lines.append(f"- $\\sup_x \\lvert\\varphi'(x)\\rvert {_md_equals(sup.value, sup.exact)}$, {at} ({how})")
            rng, exact = value_range(self)
            lines.append(f"- range $\\varphi(\\mathbb{{R}}) = {_md_set(rng, exact)}$ "
                         f"({'exact' if exact else 'endpoints numeric, |error| < 1e-12'})")
        except (SpecError, NotImplementedError, ValueError, TypeError) as exc:  # a fact SymPy cannot derive
            lines.append(f"- derivative, sup and range: not derived ({exc})")
        return "\n".join(lines)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def _rounded(e):
    """``e`` with every Float rounded to 6 significant digits (for display)."""
    return e.xreplace({f: sp.Float(f, 6) for f in e.atoms(sp.Float)})


def _md_number(v, exact: bool) -> str:
    """LaTeX of a number for display: as SymPy writes it when exact and short, else 6 significant digits; 0 below
    1e-15 in magnitude; infinities as \\infty."""
    v = sp.sympify(v)
    if v.is_infinite:
        return sp.latex(v)
    num = float(v)
    if abs(num) < 1e-15:
        return "0"
    text = sp.latex(v)
    return text if exact and len(text) <= 40 else f"{num:.6g}"


def _md_equals(v, exact: bool) -> str:
    """``= value`` (exact, short), ``= value \\approx decimal`` (exact irrational) or ``\\approx decimal``."""
    text = _md_number(v, exact)
    v = sp.sympify(v)
    if not (exact and text == sp.latex(v)):
        return f"\\approx {text}"
    return f"= {text}" if v.is_Rational or v.is_infinite else f"= {text} \\approx {float(v):.6g}"


def _md_set(rng, exact: bool) -> str:
    """LaTeX of the range: an interval with each endpoint through :func:`_md_number`."""
    if isinstance(rng, sp.Interval):
        left = "(" if rng.left_open else "["
        right = ")" if rng.right_open else "]"
        ends = [_md_number(e, exact) for e in (rng.start, rng.end)]
        return f"\\left{left}{ends[0]}, {ends[1]}\\right{right}"
    return sp.latex(_rounded(rng))


def get_activation(spec: str) -> Activation:
    """Resolve a spec (``relu``, ``leaky_relu:0.1``, ``x*tanh(x)``) into an :class:`Activation`.

    Raises :class:`SpecError` with a one-line message for unknown names, bad parameters or unsafe expressions.
    """
    if not isinstance(spec, str):
        raise SpecError(f"activation spec must be a string, got {type(spec).__name__}")
    if not spec.strip():
        raise SpecError("activation spec is empty")
    spec = spec.strip()
    name, colon, arg = spec.partition(":")
    if name in _FAMILIES and colon and not arg.strip():
        raise SpecError(f"activation {spec!r}: empty parameter after ':'")
    if name in _FAMILIES:
        build, default = _FAMILIES[name]
        if arg and default is None:
            raise SpecError(f"activation {name!r} takes no parameter (got {arg!r})")
        param = _parameter(name, arg) if arg else default
        canonical = name if param is None or not arg else f"{name}:{arg}"
        display = (sp.Symbol("lambda", positive=True) * _elu(x, _ALPHA)) if name == "selu" else None
        return Activation(canonical, name, build(param), param, display)
    if arg and _IDENT.match(name):
        raise SpecError(f"unknown activation {name!r}{_close(name)}")
    if _IDENT.match(spec) and spec != "x" and spec not in CONSTANTS:
        raise SpecError(f"unknown activation {spec!r}{_close(spec)}; known: {', '.join(NAMES)}, "
                        "or a SymPy expression in x")
    return _expression_activation(spec)


@lru_cache(maxsize=256)
def _expression_activation(spec: str) -> Activation:
    """Parse and check a user's expression (bounded by :mod:`theory.budget` outside a worker)."""
    if not budget.inside_worker():
        return budget.run(_expression_activation, spec, what=f"parsing and checking the activation {spec!r}")
    expr = parse_expression(spec, {"x": x}, what="activation expression")
    if not expr.has(x):
        raise SpecError(f"activation expression {spec!r} does not depend on x")
    _check_real(expr, spec)
    _check_not_constant(expr, spec)
    return Activation(sp.sstr(expr), "expression", expr)


_SAMPLES = np.concatenate([np.linspace(-20.0, 20.0, 81), [-1e6, -1e3, -100.0, -50.0, 50.0, 100.0, 1e3, 1e6]])


def _check_not_constant(expr: sp.Expr, spec: str) -> None:
    """Refuse an expression that is identically constant although it names x (``cos(x)**2 + sin(x)**2 - 1``): its
    derivative is 0, and an activation that ignores its input has no facts to derive."""
    d = sp.diff(expr, x)
    if d == 0:
        raise SpecError(f"activation expression {spec!r} is identically constant (its derivative is 0)")
    fn = sp.lambdify(x, expr, modules=["scipy", "numpy"])
    with np.errstate(all="ignore"):
        try:
            values = np.broadcast_to(np.asarray(fn(_SAMPLES), dtype=float), _SAMPLES.shape)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return
    finite = values[np.isfinite(values)]
    if finite.size < 2 or np.ptp(finite) > 1e-12 * max(1.0, float(np.max(np.abs(finite)))):
        return
    if sp.simplify(d) == 0:  # constant at every sample: SymPy decides (bounded with the parsing)
        raise SpecError(f"activation expression {spec!r} is identically constant (its derivative simplifies to 0)")


def _close(name: str) -> str:
    close = difflib.get_close_matches(name, NAMES, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parameter(name: str, text: str) -> sp.Expr:
    if _IDENT.match(text.strip()) and text.strip() not in CONSTANTS:
        raise SpecError(f"parameter of {name} must be a number (got {text!r})")
    value = parse_expression(text, {}, what=f"parameter of {name}")
    if not (value.is_real and value.is_finite):
        raise SpecError(f"parameter of {name} must be a finite real number (got {text!r})")
    if name == "elu" and not value.is_positive:
        raise SpecError(f"elu's alpha must be positive (got {text!r})")
    return value


def _check_real(expr: sp.Expr, spec: str) -> None:
    """Refuse expressions with real poles (1/x, tan x) or non-real values (log x, sqrt x) on the real line."""
    for t in (-3, -1, -sp.Rational(1, 3), 0, sp.Rational(1, 2), 2):
        try:
            v = sp.N(expr.subs(x, t), 15)
        except (TypeError, ValueError, ZeroDivisionError):
            v = sp.nan
        if v.has(sp.nan, sp.zoo) or not v.is_real:
            raise SpecError(f"activation expression {spec!r} is not real-valued on the real line (at x = {t}: {v})")
    from sympy.calculus.singularities import singularities
    try:
        poles = singularities(expr, x, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        poles = sp.S.EmptySet
    if poles is not sp.S.EmptySet:
        raise SpecError(f"activation expression {spec!r} has singularities on the real line: {sp.sstr(poles)[:80]}")


# ------------------------------------------------------------------------- derived facts (cached per activation)
def is_user(act: Activation) -> bool:
    """True for a user's expression outside a budget worker: its analysis runs under :mod:`theory.budget`."""
    return act.family == "expression" and not budget.inside_worker()


@lru_cache(maxsize=256)
def _structure(act: Activation) -> tuple[tuple[calculus.Piece, ...], tuple[calculus.Piece, ...], tuple[bool, ...]]:
    """(pieces of phi, pieces of phi', whether phi' has equal one-sided limits at each kink): one exact step."""
    if is_user(act):
        return budget.run(_structure, act, what=f"splitting the activation {act.name!r} at its kinks")
    try:
        ps = tuple(calculus.pieces(act.expr))
    except NotImplementedError as exc:
        raise SpecError(str(exc)) from None
    ds = tuple(calculus.derivative_pieces(list(ps)))
    agree = tuple(_sides_agree(ds[i], ds[i + 1]) for i in range(len(ds) - 1))
    return ps, ds, agree


def clear_caches() -> None:
    """Forget the derived facts cached per activation (its pieces and kinks): a cold benchmark."""
    _structure.cache_clear()


def pieces(act: Activation) -> tuple[calculus.Piece, ...]:
    """phi as smooth pieces on consecutive intervals (kinks of Max/Min/Abs/Heaviside split them); SpecError if not."""
    return _structure(act)[0]


def derivative_pieces(act: Activation) -> tuple[calculus.Piece, ...]:
    """phi' piece by piece: d/dx of each piece of :func:`pieces` on the same open intervals."""
    return _structure(act)[1]


def derivative(act: Activation) -> sp.Expr:
    """phi' as one expression: Piecewise for kinked activations, undefined at a kink unless both sides agree."""
    ps, agree = list(derivative_pieces(act)), _structure(act)[2]
    if len(ps) == 1:
        return ps[0].expr
    args = []
    for i, p in enumerate(ps):
        a, b = p.interval.start, p.interval.end
        closed_left = i > 0 and agree[i - 1]  # differentiable at this kink: include it
        args.append((p.expr, sp.Interval(a, b, left_open=not closed_left, right_open=True).as_relational(x)))
    return sp.Piecewise(*args)


@lru_cache(maxsize=256)
def evaluator(act: Activation, derivative: bool = False):
    """A vectorised float64 function x -> phi(x) (or phi'(x)) lambdified from the SymPy pieces.

    The formula exactly as written, evaluated in float64: for plotting and as the fallback kernel of user
    expressions. It is accurate to about 1e-15 absolute, but relative accuracy is lost in tails where the formula
    cancels (log(1 + e^x) for x << 0, 1 + erf(x) for x << 0); ``sims.activations`` has stable rewritings, checked
    against this expression at high precision. Overflow inside a piece is silenced and shows up as inf/nan. At a
    kink phi takes the value of the piece on its left (phi is continuous there); phi' is nan unless both sides
    agree.
    """

    ps = list(derivative_pieces(act) if derivative else pieces(act))
    agree = _structure(act)[2]
    fns = [sp.lambdify(x, p.expr, modules=["scipy", "numpy"]) for p in ps]
    ends = [float(p.interval.end) for p in ps[:-1]]
    # value at each kink: phi is continuous (left piece); phi' only where both one-sided limits agree
    at_kink = [None if not derivative or agree[i] else np.nan for i in range(len(ends))]

    def f(values):
        v = np.asarray(values, dtype=np.float64)
        out = np.full_like(v, np.nan)  # nan inputs stay nan
        with np.errstate(all="ignore"):
            lo = -np.inf
            for i, fn in enumerate(fns):
                hi = ends[i] if i < len(ends) else np.inf
                mask = ((v >= lo) if i == 0 else (v > lo)) & (v <= hi)
                if mask.any():
                    out[mask] = np.broadcast_to(fn(v[mask]), v[mask].shape)
                if i < len(ends) and at_kink[i] is not None:
                    out[v == hi] = at_kink[i]
                lo = hi
        return out

    return f


def _sides_agree(left: calculus.Piece, right: calculus.Piece) -> bool:
    k = left.interval.end
    return sp.simplify(sp.limit(left.expr, x, k, "-") - sp.limit(right.expr, x, k, "+")) == 0


def _exact_else_numeric(exact, numeric, act: Activation, what: str):
    """``exact(act)`` under the budget; past it, ``numeric(act)`` (also bounded), whose answer says it is numeric."""
    try:
        return budget.run(exact, act, what=what)
    except budget.BudgetExceeded:
        return budget.run(numeric, act, what=f"the numeric {what}")


@lru_cache(maxsize=256)
def sup_abs_derivative(act: Activation) -> calculus.Bound:
    """sup_x |phi'(x)| over the reals, with where it is attained (kinks excluded unless both sides agree); exact by
    SymPy where it can, else an mpmath root of phi'' at 30 digits (sigmoid: 1/4 at 0; tanh: 1 at 0). For a user's
    expression the exact route runs under :mod:`theory.budget`; past it, the numeric route (marked not exact)."""
    if is_user(act):
        return _exact_else_numeric(sup_abs_derivative, _numeric_sup, act, f"sup |phi'| of the activation {act.name!r}")
    return calculus.sup_abs(list(derivative_pieces(act)))


def _numeric_sup(act: Activation) -> calculus.Bound:
    return calculus.sup_abs(list(derivative_pieces(act)), numeric=True)


@lru_cache(maxsize=256)
def value_range(act: Activation) -> tuple[sp.Set, bool]:
    """The range of phi over the reals and whether it is exact (False: an endpoint was found numerically). For a
    user's expression: under :mod:`theory.budget`, falling back to the numeric route."""
    if is_user(act):
        return _exact_else_numeric(value_range, _numeric_range, act, f"the range of the activation {act.name!r}")
    lo, hi = calculus.extrema(list(pieces(act)), closed_at_kinks=True)
    return sp.Interval(lo.value, hi.value, not lo.attained, not hi.attained), lo.exact and hi.exact


def _numeric_range(act: Activation) -> tuple[sp.Set, bool]:
    lo, hi = calculus.extrema(list(pieces(act)), closed_at_kinks=True, numeric=True)
    return sp.Interval(lo.value, hi.value, not lo.attained, not hi.attained), False


def _square(ps):
    return [calculus.Piece(p.interval, p.expr**2) for p in ps]


def _integrands(act: Activation) -> dict[str, list[calculus.Piece]]:
    ps = list(pieces(act))
    return {"mean": ps, "second": _square(ps), "derivative_second": _square(list(derivative_pieces(act)))}


_ALPHA = sp.Symbol("alpha", positive=True)


@lru_cache(maxsize=1)
def _elu_closed_forms() -> dict[str, sp.Expr]:
    """ELU's moments with a symbolic alpha, integrated once; elu:alpha and selu substitute into them."""
    template = Activation("elu:alpha", "elu", _elu(x, _ALPHA), _ALPHA)  # noqa: the family template
    return {k: gaussian.closed_form(ps) for k, ps in _integrands(template).items()}


@lru_cache(maxsize=256)
def moment_closed_forms(act: Activation) -> dict[str, sp.Expr | None]:
    """Closed forms in q of the three Gaussian moments, None where no closed form is attempted.

    SELU = lambda * ELU(alpha) with constants that make SymPy's integrator slow, so the ELU forms are integrated
    once with a symbolic alpha and scaled: E[selu] = lambda E[elu], E[selu^2] = lambda^2 E[elu^2], likewise for
    the derivative. For a user's expression SymPy's integration runs under :mod:`theory.budget`; past it, no closed
    form (the moments come from quadrature).
    """
    if is_user(act):
        try:
            return budget.run(moment_closed_forms, act, what=f"the closed-form moments of {act.name!r}")
        except budget.BudgetExceeded:
            return {k: None for k in MOMENT_KEYS}
    if act.family == "gelu":
        return dict(GELU_MOMENTS)
    if act.family in ("elu", "selu"):
        alpha, scale = (act.param, 1) if act.family == "elu" else (SELU_ALPHA, SELU_LAMBDA)
        forms = _elu_closed_forms()
        power = {"mean": 1, "second": 2, "derivative_second": 2}
        return {k: scale ** power[k] * v.subs(_ALPHA, alpha) for k, v in forms.items()}
    return {k: gaussian.closed_form(ps) for k, ps in _integrands(act).items()}


def moments(act: Activation, qval: float = 1.0) -> dict:
    """Numbers for the three Gaussian moments at variance ``qval``, with the method used for each. A moment that is
    infinite (the integral diverges, e.g. for exp(exp(x))) or overflows a float is a SpecError (one line). For a
    user's expression the numbers are computed under :mod:`theory.budget`."""
    closed = moment_closed_forms(act)
    if is_user(act):
        out = budget.run(_moment_values, act, float(qval), closed,
                         what=f"the Gaussian moments of {act.name!r} at q = {qval:g}")
    else:
        out = _moment_values(act, float(qval), closed)
    bad = [k for k in MOMENT_KEYS if not np.isfinite(out[k])]
    if bad:
        raise SpecError(f"the Gaussian moment{'s' if len(bad) > 1 else ''} {', '.join(bad)} of {act.name!r} at "
                        f"q = {qval:g} {'are' if len(bad) > 1 else 'is'} infinite or too large for a float")
    return out


def _moment_values(act: Activation, qval: float, closed: dict) -> dict:
    out, methods = {}, {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's IntegrationWarning on a divergent integral: reported as non-finite
        for key, ps in _integrands(act).items():
            try:
                if closed[key] is not None:
                    out[key] = gaussian.evaluate(closed[key], qval)
                    methods[key] = "closed form"
                else:
                    out[key] = gaussian.quadrature(ps, qval)
                    methods[key] = "quadrature"
            except (OverflowError, ValueError, ZeroDivisionError):
                out[key], methods[key] = float("inf"), "quadrature"
    out["method"] = methods
    return out


def _where_json(bound: calculus.Bound):
    s = bound.where_set()
    if s is None:
        return None
    if isinstance(s, sp.FiniteSet) and len(s) == 1:
        return float(next(iter(s)))
    return sp.sstr(s)


def describe(act: Activation, qval: float = 1.0) -> dict:
    """Everything the ``theory activations`` command reports for one activation (DESIGN.md keys first)."""
    sup = sup_abs_derivative(act)
    rng, rng_exact = value_range(act)
    closed = moment_closed_forms(act)
    mom = moments(act, qval)
    return {
        "name": act.name,
        "expr": sp.sstr(act.expr),
        "derivative": sp.sstr(derivative(act)),
        "sup_abs_derivative": sup.float,
        "sup_at": _where_json(sup),
        "sup_exact": sp.sstr(sup.value) if sup.exact else None,
        "sup_note": "exact (SymPy)" if sup.exact else "numeric (mpmath root of phi'' at 30 digits; |error| < 1e-12)",
        "range": sp.sstr(rng),
        "range_note": "exact (SymPy)" if rng_exact else "endpoints numeric (|error| < 1e-12)",
        "kinks": [sp.sstr(k) for k in calculus.kinks(list(pieces(act)))],
        "q": qval,
        "moments": {k: mom[k] for k in MOMENT_KEYS},
        "moments_method": mom["method"],
        "moments_closed_form": {k: (sp.sstr(v) if v is not None else None) for k, v in closed.items()},
        "latex": act.latex,
    }


# ------------------------------------------------------------------------------------------- derivations
h = sp.Symbol("h", real=True)


_sig = functions.sigmoid
# the lecture writes the sigmoid as σ(x): every rendering of 1/(1 + e^{-x}) in x shows σ(x) (theory.latex), set at
# import so that the output never depends on what ran before; checks still run on the expanded form
_show_as(_sig(x), sp.Function("sigma")(x))


@derivation("sigmoid-derivative", "sigma' = sigma (1 - sigma), maximal 1/4 at x = 0")
def _sigmoid_derivative() -> Derivation:
    s = _sig(x)
    sd = s * (1 - s)
    return Derivation(
        "sigmoid-derivative", T("Derivative of the sigmoid and its maximum", "Производная сигмоиды и её максимум"),
        [
            Step(lhs=sp.Derivative(s, x), rhs=sp.exp(-x) / (1 + sp.exp(-x)) ** 2,
                 why=T("chain rule", "цепное правило")),
            Step(rhs=sd, why=r"$e^{-x}/(1+e^{-x}) = 1 - \sigma(x)$"),
            Step(lhs=sd, rel="<=", rhs=sp.Rational(1, 4), witness=(s - sp.Rational(1, 2)) ** 2,
                 why=r"$\frac{1}{4} - \sigma(1 - \sigma) = (\sigma - \frac{1}{2})^2 \ge 0$"),
            Step(lhs=sp.Subs(sd, x, 0), rhs=sp.Rational(1, 4),
                 why=T(r"$\sigma(0) = \frac{1}{2}$, so the bound is attained at $x = 0$",
                       r"$\sigma(0) = \frac{1}{2}$, поэтому оценка достигается при $x = 0$")),
            Step(lhs=sp.Limit(sd, x, sp.oo), rhs=0,
                 why=T(r"the derivative vanishes as $x \to +\infty$ (saturation)",
                       r"производная стремится к нулю при $x \to +\infty$ (насыщение)")),
            Step(lhs=sp.Limit(sd, x, -sp.oo), rhs=0, why=T(r"and as $x \to -\infty$", r"и при $x \to -\infty$")),
        ],
        assumptions=[T("$x$ real", "$x$ — вещественное число")])


@derivation("tanh-derivative", "tanh' = 1 - tanh^2, maximal 1 at x = 0")
def _tanh_derivative() -> Derivation:
    t = sp.tanh(x)
    return Derivation(
        "tanh-derivative", T("Derivative of tanh and its maximum", "Производная tanh и её максимум"),
        [
            Step(lhs=sp.Derivative(t, x), rhs=1 - t**2, why=r"$\frac{d}{dx}\tanh x = 1/\cosh^2 x = 1 - \tanh^2 x$"),
            Step(lhs=1 - t**2, rel="<=", rhs=1, witness=t**2, why=r"$1 - (1 - \tanh^2 x) = \tanh^2 x \ge 0$"),
            Step(lhs=sp.Subs(1 - t**2, x, 0), rhs=1, why=T(r"$\tanh 0 = 0$: the bound is attained at $x = 0$",
                                                            r"$\tanh 0 = 0$: оценка достигается при $x = 0$")),
            Step(lhs=sp.Limit(1 - t**2, x, sp.oo), rhs=0, why=T(r"saturation: $\tanh' \to 0$ as $x \to \infty$",
                                                                 r"насыщение: $\tanh' \to 0$ при $x \to \infty$")),
            Step(lhs=sp.tanh(x), rhs=2 * _sig(2 * x) - 1,
                 why=T(r"$\tanh$ is a rescaled sigmoid: $\tanh x = 2\sigma(2x) - 1$",
                       r"$\tanh$ — это масштабированная сигмоида: $\tanh x = 2\sigma(2x) - 1$")),
        ],
        assumptions=[T("$x$ real", "$x$ — вещественное число")])


def _product_bound_check(ws, hs):
    """Check |prod_l w_l sigma'(h_l)| <= (1/4)^k prod_l |w_l| factor by factor.

    Each factor is verified on its own: 0 < sigma'(h) = e^-h/(1+e^-h)^2 (positive by SymPy's assumptions) and
    sigma'(h) <= 1/4 by the witness (sigma(h) - 1/2)^2; a product of non-negative factors is monotone in each.
    """
    def check(lhs, rhs):
        factors = [_sig(hh) * (1 - _sig(hh)) for hh in hs]
        if not _verify_same(lhs, sp.Abs(sp.Mul(*[w * d for w, d in zip(ws, factors)]))):
            return False, "left side is not the product of weights and sigmoid derivatives"
        for hh, d in zip(hs, factors):
            positive = sp.exp(-hh) / (1 + sp.exp(-hh)) ** 2
            if not (_verify_same(d, positive) and positive.is_positive):
                return False, f"cannot show sigma'({hh}) > 0"
            ok, detail = Step(lhs=d, rel="<=", rhs=sp.Rational(1, 4), witness=(_sig(hh) - sp.Rational(1, 2)) ** 2,
                              why="").verify(d)
            if not ok:
                return False, f"sigma'({hh}) <= 1/4 fails: {detail}"
        bound = sp.Rational(1, 4) ** len(factors) * sp.Mul(*[sp.Abs(w) for w in ws])
        if not _verify_same(bound, rhs):
            return False, f"the product of the factor bounds is {bound}, not {rhs}"
        return True, f"{len(factors)} factors 0 < sigma'(h_l) <= 1/4, each verified; product monotone"
    return check


def _verify_same(a, b) -> bool:
    return sp.simplify(a - b) == 0


@derivation("vanishing-gradient-bound",
            "|d o_L / d o_1| <= (1/4)^(L-1) prod_(l>=2) |w_l| for a chain of L sigmoid units")
def _vanishing_gradient_bound(L: int = 4) -> Derivation:
    ws = sp.symbols(f"w2:{L + 1}", real=True)
    o1 = sp.Symbol("o_1", real=True)
    outs, pre = [o1], []
    for w in ws:  # h_l = w_l o_(l-1), o_l = sigma(h_l)
        pre.append(w * outs[-1])
        outs.append(_sig(pre[-1]))
    hsym = sp.symbols(f"h2:{L + 1}", real=True)
    chain = sp.Mul(*[w * _sig(hh) * (1 - _sig(hh)) for w, hh in zip(ws, hsym)])
    return Derivation(
        "vanishing-gradient-bound", T(f"Gradient through a chain of $L = {L}$ sigmoid units",
                                      f"Градиент через цепочку из $L = {L}$ сигмоидных нейронов"),
        [
            Step(lhs=sp.Derivative(outs[-1], o1), rhs=chain.subs(dict(zip(hsym, pre))),
                 why=T(r"chain rule through $h_l = w_l o_{l-1}$, $o_l = \sigma(h_l)$; SymPy differentiates the "
                       "composition",
                       r"цепное правило для $h_l = w_l o_{l-1}$, $o_l = \sigma(h_l)$; композицию "
                       "дифференцирует SymPy")),
            Step(lhs=sp.Abs(chain), rel="<=", rhs=sp.Rational(1, 4) ** (L - 1) * sp.Mul(*[sp.Abs(w) for w in ws]),
                 why=T(r"each of the $L - 1$ factors $\sigma'(h_l)$ lies in $(0, \frac{1}{4}]$ "
                       "(sigmoid-derivative)",
                       r"каждый из $L - 1$ множителей $\sigma'(h_l)$ лежит в $(0, \frac{1}{4}]$ "
                       "(вывод `sigmoid-derivative`)"),
                 check=_product_bound_check(ws, hsym)),
        ],
        assumptions=[T(f"$L = {L}$ units, $o_1$ the first unit's output, $h_l = w_l o_{{l-1}}$ (a bias inside $h_l$ "
                       r"changes nothing); w.r.t. $h_1$ instead of $o_1$ one more factor $\sigma'(h_1)$ gives "
                       r"$(\frac{1}{4})^L$",
                       f"число нейронов $L = {L}$, $o_1$ — выход первого нейрона, $h_l = w_l o_{{l-1}}$ (смещение "
                       r"внутри $h_l$ ничего не меняет); для производной по $h_1$ вместо $o_1$ ещё один множитель "
                       r"$\sigma'(h_1)$ даёт $(\frac{1}{4})^L$"),
                     T(r"the bound decays geometrically in $L$ whenever every $\lvert w_l\rvert < 4$",
                       r"оценка убывает с ростом $L$ как геометрическая прогрессия, если все $\lvert w_l\rvert < 4$")])


def _positive_negative():
    return ((x, sp.Symbol("x", positive=True), "$x > 0$"), (x, sp.Symbol("x", negative=True), "$x < 0$"))


@derivation("leaky-relu-derivative", "leaky ReLU: derivative 1 for x > 0 and a for x < 0; a kink at 0 unless a = 1")
def _leaky_relu_derivative() -> Derivation:
    a = sp.Symbol("a", real=True)
    f = _relu(x) + a * sp.Min(0, x)
    pos, neg = _positive_negative()
    return Derivation(
        "leaky-relu-derivative", T("Derivative of leaky ReLU", "Производная leaky ReLU"),
        [
            Step(lhs=f, rhs=x, under=pos, why=T(r"$\max(0, x) = x$ and $\min(0, x) = 0$",
                                                r"$\max(0, x) = x$ и $\min(0, x) = 0$")),
            Step(lhs=sp.Derivative(f, x), rhs=1, under=pos,
                 why=T("slope 1 on the positive side", "наклон 1 на положительной полуоси")),
            Step(lhs=f, rhs=a * x, under=neg, why=T(r"$\max(0, x) = 0$ and $\min(0, x) = x$",
                                                    r"$\max(0, x) = 0$ и $\min(0, x) = x$")),
            Step(lhs=sp.Derivative(f, x), rhs=a, under=neg,
                 why=T("slope $a$ on the negative side; $a$ may have any sign",
                       "наклон $a$ на отрицательной полуоси; знак $a$ может быть любым")),
            Step(lhs=sp.Limit(f / x, x, 0, "+") - sp.Limit(f / x, x, 0, "-"), rhs=1 - a,
                 why=T("the one-sided slopes at 0 differ by $1 - a$: a kink unless $a = 1$, and then $f(x) = x$ is "
                       "linear",
                       "односторонние наклоны в нуле различаются на $1 - a$: в нуле излом, кроме случая $a = 1$, "
                       "но тогда функция $f(x) = x$ линейна")),
        ],
        assumptions=[T(r"$x$ real, $a$ real (the slide's caveat $a \ne 1$ keeps it nonlinear)",
                       r"$x$ и $a$ — вещественные числа (оговорка слайда $a \ne 1$ сохраняет нелинейность)")])


@derivation("elu-derivative", "ELU: derivative 1 for x > 0 and alpha e^x = f(x) + alpha for x < 0")
def _elu_derivative() -> Derivation:
    al = sp.Symbol("alpha", positive=True)
    f = _elu(x, al)
    pos, neg = _positive_negative()
    return Derivation(
        "elu-derivative", T("Derivative of ELU", "Производная ELU"),
        [
            Step(lhs=f, rhs=x, under=pos,
                 why=T("the identity on the positive side", "на положительной полуоси — тождественная функция")),
            Step(lhs=sp.Derivative(f, x), rhs=1, under=pos, why=T("slope 1", "наклон 1")),
            Step(lhs=f, rhs=al * (sp.exp(x) - 1), under=neg,
                 why=T(r"the slide's formula $\alpha(e^x - 1)$", r"формула со слайда $\alpha(e^x - 1)$")),
            Step(lhs=sp.Derivative(f, x), rhs=al * sp.exp(x), under=neg,
                 why=T("derivative on the negative side", "производная на отрицательной полуоси")),
            Step(lhs=al * sp.exp(x), rhs=f + al, under=neg,
                 why=T(r"so $f'(x) = f(x) + \alpha$: cheap once $f$ is known",
                       r"поэтому $f'(x) = f(x) + \alpha$: производную дёшево вычислить, когда $f$ уже известна")),
            Step(lhs=sp.Limit(al * sp.exp(x), x, 0, "-"), rhs=al,
                 why=T(r"left slope at 0 is $\alpha$, right slope 1: differentiable at 0 only for $\alpha = 1$",
                       r"наклон в нуле слева равен $\alpha$, справа 1: функция дифференцируема в нуле только при "
                       r"$\alpha = 1$")),
            Step(lhs=sp.Limit(f, x, -sp.oo), rhs=-al,
                 why=T(r"saturates at $-\alpha$ as $x \to -\infty$ (bounded below)",
                       r"насыщается на уровне $-\alpha$ при $x \to -\infty$ (ограничена снизу)")),
        ],
        assumptions=[T(r"$x$ real, $\alpha > 0$", r"$x$ — вещественное число, $\alpha > 0$")])
