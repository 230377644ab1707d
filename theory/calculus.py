"""Piecewise structure and extrema of real functions of one variable, exact where SymPy can prove them.

``pieces(f)`` splits ``f`` at its kinks: ``Max``, ``Min``, ``Abs``, ``Heaviside`` and ``sign`` are rewritten as
``Piecewise`` and the boundaries of the conditions are solved for ``x``. Between two consecutive kinks the
function is one smooth expression.

``extrema(pieces)`` finds the infimum and supremum over the real line from three kinds of candidate on each
piece: stationary points (``solveset``; when it returns no finite set, sign changes of the derivative on a grid
refined with ``mpmath.findroot`` at 30 digits, marked numeric), one-sided limits at the kinks, and limits at
``±oo``. A candidate is *attained* if it is the value at a point where the function is defined; a limit at a
kink counts as attained only when the caller says the function is continuous there (``closed_at_kinks``) or both
one-sided limits agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

x = sp.Symbol("x", real=True)

NUMERIC_SCAN = (-60.0, 60.0, 24001)  # grid for stationary points SymPy cannot solve for: [a, b], points
_DPS = 30


@dataclass(frozen=True)
class Piece:
    """One smooth piece of a function: its expression on the open interval between two consecutive kinks."""

    interval: sp.Interval  # open interval between consecutive kinks
    expr: sp.Expr


def pieces(f: sp.Expr) -> list[Piece]:
    """Split ``f`` at its kinks into smooth pieces on open intervals."""
    pw = sp.piecewise_fold(f.rewrite(sp.Piecewise)) if f.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign,
                                                              sp.Piecewise) else f
    if not pw.has(sp.Piecewise):
        return [Piece(sp.Interval.open(-sp.oo, sp.oo), f)]
    points = set()
    for rel in pw.atoms(sp.core.relational.Relational):
        sol = sp.solveset(rel.lhs - rel.rhs, x, sp.S.Reals)
        if not isinstance(sol, sp.FiniteSet):
            raise NotImplementedError(f"cannot locate the kinks of {f}")
        points |= set(sol)
    points = sorted(points, key=lambda p: float(p))
    bounds = [-sp.oo, *points, sp.oo]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        mid = (a + b) / 2 if a.is_finite and b.is_finite else (b - 1 if a == -sp.oo and b.is_finite else
                                                                a + 1 if b == sp.oo and a.is_finite else 0)
        expr = next(e for e, c in _top_pieces(pw) if c.subs(x, mid) == sp.true)
        out.append(Piece(sp.Interval.open(a, b), sp.simplify(expr) if expr.has(sp.Piecewise) else expr))
    return out


def _top_pieces(pw):
    if isinstance(pw, sp.Piecewise):
        return pw.args
    # Piecewise nested below an operation piecewise_fold could not lift: evaluate the whole at the midpoint
    return [(pw, sp.true)]


def kinks(ps: list[Piece]) -> list[sp.Expr]:
    """The kinks of a function split by :func:`pieces`: the right end of every piece but the last, in order."""
    return [p.interval.end for p in ps[:-1]]


def derivative_pieces(ps: list[Piece]) -> list[Piece]:
    """The derivative piece by piece: d expr/dx on each open interval (nothing said at the kinks)."""
    return [Piece(p.interval, sp.diff(p.expr, x)) for p in ps]


@dataclass
class Bound:
    """An infimum or supremum: its value, whether it is attained, where, and whether SymPy proved it."""

    value: sp.Expr
    attained: bool
    where: list = field(default_factory=list)  # points (SymPy numbers) and open intervals where attained
    exact: bool = True

    @property
    def float(self) -> float:
        """The value as a Python float (SymPy oo -> inf, -oo -> -inf)."""
        return float(self.value) if self.value.is_finite else (np.inf if self.value == sp.oo else -np.inf)

    def where_set(self):
        """Where the bound is attained, as one SymPy set (the union of the points and intervals); None if not
        attained."""
        if not self.attained:
            return None
        return sp.Union(*[w if isinstance(w, sp.Set) else sp.FiniteSet(w) for w in self.where])


@dataclass
class _Cand:
    value: sp.Expr
    attained: bool
    where: object  # point or interval
    exact: bool


def _high(v: sp.Expr) -> mpmath.mpf:
    if v == sp.oo:
        return mpmath.inf
    if v == -sp.oo:
        return -mpmath.inf
    return mpmath.mpf(str(sp.N(v, _DPS)))


def _limit(g, point, direction):
    try:
        v = sp.limit(g, x, point, direction)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if v.has(sp.AccumBounds) or v.has(sp.nan) or v.free_symbols or v == sp.zoo:
        return None
    return v


def _stationary(g: sp.Expr, interval: sp.Interval, numeric: bool = False) -> tuple[list, bool]:
    """Stationary points of ``g`` inside ``interval``; second item False when found numerically (always with
    ``numeric``: sign changes of g' on the grid, refined by mpmath, without asking SymPy to solve)."""
    dg = sp.diff(g, x)
    if dg == 0:
        return [], True
    if numeric:
        return _numeric_roots(dg, interval), False
    try:
        sol = sp.solveset(dg, x, interval)
    except (NotImplementedError, ValueError, TypeError):
        sol = None
    if isinstance(sol, sp.FiniteSet) and all(s.is_real for s in sol):
        return list(sol), True
    if sol is sp.S.EmptySet:
        return [], True
    return _numeric_roots(dg, interval), False


def _numeric_roots(h: sp.Expr, interval: sp.Interval) -> list:
    lo = max(float(interval.start), NUMERIC_SCAN[0]) if interval.start.is_finite else NUMERIC_SCAN[0]
    hi = min(float(interval.end), NUMERIC_SCAN[1]) if interval.end.is_finite else NUMERIC_SCAN[1]
    grid = np.linspace(lo, hi, NUMERIC_SCAN[2])[1:-1]
    fn = sp.lambdify(x, h, modules=["scipy", "numpy"])
    with np.errstate(all="ignore"):
        vals = np.broadcast_to(np.asarray(fn(grid), dtype=float), grid.shape)
    roots = []
    fmp = sp.lambdify(x, h, modules="mpmath")
    sign = np.sign(vals)
    idx = np.nonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (sign[:-1] * sign[1:] < 0))[0]
    # grid points where h is exactly 0: an isolated zero, or a run of them where h underflows around a root of high
    # multiplicity (sin(x)**999 near k pi); the middle of each run is taken as a candidate point (a point of the
    # function's domain, so its value can only lie inside the true range)
    zero = vals == 0
    runs, start = [], None
    for i, z in enumerate(zero):
        if z and start is None:
            start = i
        if not z and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(zero) - 1))
    with mpmath.workdps(_DPS):
        for i in idx:
            r = mpmath.findroot(fmp, (mpmath.mpf(grid[i]), mpmath.mpf(grid[i + 1])), solver="anderson")
            roots.append(sp.Float(r, _DPS))
        # interior runs only: a run touching an end of the grid is a flat tail (tanh's phi'' underflows for large
        # |x|), whose points would pass for the limit at infinity and mark it attained
        roots += [sp.Float(grid[(a + b) // 2], _DPS) for a, b in runs if a > 0 and b < len(zero) - 1]
    return roots


def _numeric_limit(g: sp.Expr, end, direction: str):
    """The one-sided limit of ``g`` at ``end`` by evaluation alone (30 digits): at a finite end, the value 1e-12
    inside; at +-oo, the values at |x| = 1e2, 1e4, 1e8: +-oo when they grow by more than 10x each time past 1e6, the
    last value when the last two agree to 1e-9, else None (no limit found: oscillating)."""
    if end.is_finite:
        step = sp.Rational(1, 10**12) if direction == "+" else -sp.Rational(1, 10**12)
        try:
            return sp.Float(sp.N(g.subs(x, end + step), _DPS), _DPS)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None
    sign = 1 if end == sp.oo else -1
    fmp = sp.lambdify(x, g, modules="mpmath")
    values = []
    with mpmath.workdps(_DPS):
        for t in (10**2, 10**4, 10**8):
            try:
                v = mpmath.mpf(fmp(mpmath.mpf(sign * t)))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                return None
            if not mpmath.isfinite(v):
                return sp.oo if v > 0 else -sp.oo if v < 0 else None
            values.append(v)
        a, b, c = values
        if abs(c) > 1e6 and abs(c) > 10 * abs(b) > 100 * abs(a) and b * c > 0:
            return sp.oo if c > 0 else -sp.oo
        if abs(c - b) <= mpmath.mpf(10) ** -9 * max(1, abs(c)):
            return sp.Float(c, _DPS)
    return None


def extrema(ps: list[Piece], *, closed_at_kinks: bool, numeric: bool = False) -> tuple[Bound, Bound]:
    """Infimum and supremum over the real line of the function given by its pieces. ``numeric``: no SymPy solving
    or limits (the fallback when the exact route is past its budget): stationary points from a grid on
    [-60, 60] refined by mpmath, limits by evaluation (:func:`_numeric_limit`); every candidate is marked numeric."""
    cands: list[_Cand] = []
    for k, p in enumerate(ps):
        g, a, b = p.expr, p.interval.start, p.interval.end
        if not g.has(x):
            cands.append(_Cand(sp.nsimplify(g) if g.is_Float else g, True, p.interval, not numeric))
            continue
        points, exact = _stationary(g, p.interval, numeric)
        for s_ in points:
            val = g.subs(x, s_)
            cands.append(_Cand(sp.simplify(val) if exact else sp.Float(sp.N(val, _DPS), _DPS), True, s_, exact))
        for end, direction in ((a, "+"), (b, "-")):
            v = None if numeric else _limit(g, end, direction)
            if v is None:
                v = _numeric_limit(g, end, direction) if numeric else (
                    sp.Float(sp.N(g.subs(x, end + (sp.Rational(1, 10**12) if direction == "+" else
                                                   -sp.Rational(1, 10**12))), _DPS), _DPS) if end.is_finite else None)
                if v is None:
                    continue
                exact_end = False
            else:
                exact_end = True
            attained = False
            if end.is_finite:
                other = ps[k - 1] if direction == "+" else ps[k + 1]
                ov = _numeric_limit(other.expr, end, "-" if direction == "+" else "+") if numeric else \
                    _limit(other.expr, end, "-" if direction == "+" else "+")
                same = (ov is not None and abs(float(ov - v)) <= 1e-12 * (1 + abs(float(v)))) if numeric else \
                    (ov is not None and sp.simplify(ov - v) == 0)
                attained = closed_at_kinks or same
            cands.append(_Cand(v, attained, end, exact_end))
    if not cands:
        raise ValueError("no candidate for an extremum (an oscillating function without a limit?)")
    return _pick(cands, max_=False), _pick(cands, max_=True)


def _pick(cands: list[_Cand], *, max_: bool) -> Bound:
    with mpmath.workdps(_DPS):
        vals = [_high(c.value) for c in cands]
        best = max(vals) if max_ else min(vals)
        tol = mpmath.mpf(10) ** (-20) * (1 + abs(best)) if mpmath.isfinite(best) else 0
        winners = [c for c, v in zip(cands, vals)
                   if (v == best if not mpmath.isfinite(best) else abs(v - best) <= tol)]
    exact = all(c.exact for c in winners)
    attained_at = [c.where for c in winners if c.attained]
    value = next((c.value for c in winners if c.exact), winners[0].value)
    return Bound(value=value, attained=bool(attained_at), where=attained_at, exact=exact)


def sup_abs(ps: list[Piece], numeric: bool = False) -> Bound:
    """sup |f| over the reals where f is given by pieces (kink points excluded unless both sides agree);
    ``numeric``: see :func:`extrema`."""
    lo, hi = extrema(ps, closed_at_kinks=False, numeric=numeric)
    with mpmath.workdps(_DPS):
        a, b = _high(-lo.value), _high(hi.value)
    if a > b:
        return Bound(sp.simplify(-lo.value), lo.attained, lo.where, lo.exact)
    if b > a:
        return hi
    return Bound(hi.value, lo.attained or hi.attained, hi.where + lo.where, hi.exact and lo.exact)
