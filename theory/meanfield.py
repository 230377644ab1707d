"""Mean-field signal propagation through deep random networks (Poole et al. 2016; Schoenholz et al. 2017).

For an activation phi, weight variance sigma_w^2 (= n_in Var(w)), bias variance sigma_b^2 and z, z1, z2 ~ N(0, 1):

* length map      q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) z)^2] + sigma_b^2, stable fixed point q*;
* chi_1           = sigma_w^2 E[phi'(sqrt(q*) z)^2] (slope of the correlation map at c = 1);
* correlation map c_{l+1} = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*, u1 = sqrt(q*) z1,
                  u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2); c* = 1 if chi_1 <= 1, else the stable c* < 1;
* depth scales    xi_q = -1 / log(d q_{l+1} / d q_l at q*) (Schoenholz eq. 5: the slope equals
                  chi_1 + sigma_w^2 E[phi'' phi], computed here by differentiating under the integral,
                  sigma_w^2 E[z phi(sqrt(q) z) phi'(sqrt(q) z)] / sqrt(q), which needs no phi'' and so holds for
                  kinked phi); xi_c = -1 / log(sigma_w^2 E[phi'(u1) phi'(u2)] at c*) (= -1 / log chi_1 when
                  c* = 1); inf on the critical line;
* phase           "ordered" (chi_1 < 1), "chaotic" (chi_1 > 1), "critical" (|chi_1 - 1| < CRITICAL_TOL).

Numbers come from the SymPy expression of phi (lambdified piece by piece, :func:`theory.activations.pieces`).
Quadrature (vectorised, fixed order, no adaptivity):

* 1D: E[g(X)], X ~ N(m, s^2), by Gauss-Legendre on panels whose edges are the union of the z-grid
  ``m + s * Z_EDGES`` (|z| <= 9; the tail beyond carries < 1e-17 of any polynomially growing integrand), the
  x-grid ``X_EDGES`` (0, +-1/4, ..., +-32: the activation's own scale, so that tanh(sqrt(q) z) at q = 1e4 is
  resolved) and the kinks of phi. With 10 nodes per panel the error against 30-digit mpmath is below 1e-14
  relative for tanh, q in [1e-6, 1e4] (tests: 1e-10).
* 2D, two routes. (a) Hermite (Mehler) expansion, E[phi(u1) phi(u2)] = sum_k alpha_k^2 c^k with
  alpha_k = E[phi(sqrt(q) z) He_k(z)] / sqrt(k!), K = MEHLER_TERMS terms computed with 20 nodes per panel
  (exact to ~1e-14 for k < 128). The terms are non-negative and sum to E[phi^2] at c = 1, so the truncation error
  at c in [0, 1] is at most c^K (E[phi^2] - sum_k<K alpha_k^2): a computable bound. (b) A nested panel rule
  (outer over z1, inner over z2 with the inner mean c x1, panel edges at the kinks and at the kinks smoothed by the
  inner width). Route (a) is used for c* when its bound certifies < MEHLER_TOL; otherwise (kinked phi, steep
  tanh at large q*, c* near 1 with slowly decaying terms) route (b) refines c* by Newton steps.

The correlation map is convex on [0, 1] (non-negative Mehler terms), maps 0 to (sigma_w^2 E[phi]^2 + sigma_b^2)/q*
>= 0 and 1 to 1, so when chi_1 > 1 there is exactly one fixed point c* in [0, 1), reached monotonically by Newton
from c = 0. The length map is assumed to cross the diagonal once between the probes of the bracket search (true
for the zoo); the reported q* is the fixed point reached by iterating from ``q0`` (default 1).

Degenerate cases (each reported with a ``note``):

* positively homogeneous phi (relu, leaky_relu, linear: phi(t x) = t phi(x), t > 0): the length map is exactly
  q -> sigma_w^2 a q + sigma_b^2 with a = E[phi(z)^2]. sigma_w^2 a = 1 and sigma_b^2 = 0: every q is a fixed
  point (q_star None, c* = 1, infinite depth scales); sigma_w^2 a = 1, sigma_b^2 > 0: q grows linearly by
  sigma_b^2 per layer (q_star None, c* -> 1); sigma_w^2 a > 1: geometric growth (q_star None).
  chi_1 = sigma_w^2 E[phi'^2] does not depend on q for these activations and is always reported.
* phi(0) = 0, sigma_b^2 = 0 and the length map below the diagonal down to Q_MIN: q* = 0 (ordered), chi_1 =
  sigma_w^2 (phi'(0-)^2 + phi'(0+)^2) / 2; if chi_1 = 1 (tanh at (1, 0)) q decays polynomially, q_l ~ 1 / (k l).
  The correlation map divides by q* and is undefined there: c_star and xi_c are None (NaN in arrays).
* no fixed point below Q_MAX for other activations: q grows without bound; chi_1 is reported as its q -> oo
  limit sigma_w^2 (phi'(-oo)^2 + phi'(+oo)^2) / 2.

Valid for activations that grow at most polynomially (the whole zoo); an integrand growing like exp(x) at large q
puts its mass beyond |z| = 9: :func:`layer_moments` detects it (:func:`past_window`) and returns NaN there, never a
truncated value. Limitation: where the length map is the diagonal to within
rounding over a range of q (a user activation that is exactly the identity near 0, such as Max(x, -1) at
sigma_w^2 = 1, sigma_b^2 = 0), the sign of q_{l+1} - q_l is rounding noise there and q* is some point of that range.
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import mpmath
import numpy as np
import scipy.optimize
import sympy as sp

from theory import activations as acts
from theory import budget
from theory.activations import Activation
from theory.calculus import x
from theory.errors import SpecError

CRITICAL_TOL = 1e-9  # |chi_1 - 1| below this is "critical"
Q0 = 1.0  # start of the length-map iteration whose limit is reported
Q_MIN, Q_MAX = 1e-12, 1e16  # below Q_MIN (with phi(0) = 0, sigma_b = 0) q* = 0; above Q_MAX: no fixed point
HOMOGENEOUS_TOL = 1e-13  # |sigma_w^2 a - 1| below this: the degenerate homogeneous cases

Z_EDGES = np.array([-9.0, -7.5, -6.0, -4.5, -3.5, -2.5, -1.5, -0.75, 0.0, 0.75, 1.5, 2.5, 3.5, 4.5, 6.0, 7.5, 9.0])
X_EDGES = np.array([-32.0, -16.0, -8.0, -4.0, -2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0,
                    32.0])
SMOOTHED_KINK_EDGES = np.array([-6.0, -4.5, -3.5, -2.5, -1.5, -0.75, 0.0, 0.75, 1.5, 2.5, 3.5, 4.5, 6.0])
NODES_1D = 10  # Gauss-Legendre nodes per panel for 1D expectations
NODES_2D = 8  # per panel and dimension for the nested 2D rule
NODES_MEHLER = 20  # per panel for the Hermite coefficients (resolves He_k for k < 128)
MEHLER_TERMS = 96
MEHLER_TOL = 1e-12  # certified bound on the error of c* and of the slope at c* from truncating the expansion
_CHUNK = 2_000_000  # elements per array in the nested 2D rule
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_EPS = np.finfo(np.float64).eps


# ------------------------------------------------------------------------------------------------ evaluation
class _Piecewise:
    """phi (or phi') from its SymPy pieces, vectorised in float64.

    Values that overflow float64 in the formula as written (exp(-x) at x = -800 in sigmoid', log(1 + exp(x)) at
    x = 900) are recomputed at those points with mpmath at 30 digits; a value that is not representable even then
    stays inf. A point exactly on a kink takes the piece on its left (quadrature nodes never lie on kinks).
    """

    def __init__(self, pieces):
        self.exprs = [p.expr for p in pieces]
        self.fns = [sp.lambdify(x, p.expr, modules=["scipy", "numpy"]) for p in pieces]
        self.ends = [float(p.interval.end) for p in pieces[:-1]]
        self._mp = None

    def __call__(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(all="ignore"):
            if len(self.fns) == 1:
                out = np.array(np.broadcast_to(self.fns[0](v), v.shape), dtype=np.float64)
            else:
                out = np.full_like(v, np.nan)  # nan inputs stay nan
                lo = -np.inf
                for i, fn in enumerate(self.fns):
                    hi = self.ends[i] if i < len(self.ends) else np.inf
                    mask = (v > lo) & (v <= hi) if i > 0 else (v <= hi)
                    if mask.any():
                        out[mask] = np.broadcast_to(fn(v[mask]), (int(mask.sum()),))
                    lo = hi
        bad = ~np.isfinite(out) & np.isfinite(v)
        if bad.any():
            out[bad] = [self._high_precision(t) for t in v[bad]]
        return out

    def _high_precision(self, t: float) -> float:
        if self._mp is None:
            self._mp = [sp.lambdify(x, e, modules="mpmath") for e in self.exprs]
        i = sum(t > e for e in self.ends)
        with mpmath.workdps(30):
            try:
                val = mpmath.mpf(self._mp[i](mpmath.mpf(t)))
            except (OverflowError, ValueError, ZeroDivisionError, TypeError):
                return math.nan
        try:
            return float(val)
        except OverflowError:
            return math.inf if val > 0 else -math.inf


@dataclass(frozen=True)
class _Kernel:
    phi: _Piecewise
    dphi: _Piecewise
    kinks: np.ndarray
    homogeneous: bool  # phi(t x) = t phi(x) for t > 0: every piece is a multiple of x, kinks only at 0
    phi0: float  # phi(0)
    dphi0_sq: float  # (phi'(0-)^2 + phi'(0+)^2) / 2, the q -> 0 limit of E[phi'(sqrt(q) z)^2]
    decay: float | None  # k in q_{l+1} = q_l - k q_l^2 + ... at sigma_w^2 phi'(0)^2 = 1 (smooth at 0), per sigma_w^2


@lru_cache(maxsize=256)
def _kernel(act: Activation) -> _Kernel:
    ps, dps = list(acts.pieces(act)), list(acts.derivative_pieces(act))
    kinks = np.array([float(p.interval.end) for p in ps[:-1]])
    homogeneous = all(sp.diff(p.expr, x, 2) == 0 and sp.expand(p.expr.subs(x, 0)) == 0 for p in ps) and \
        all(k == 0 for k in kinks)
    phi0 = float(sp.N(act.expr.subs(x, 0)))
    # one-sided values of phi' at 0: the piece on each side (lambdified pieces are smooth up to their ends)
    left = next(i for i, p in enumerate(dps) if p.interval.end >= 0)
    right = next(i for i, p in enumerate(dps) if p.interval.end > 0)
    d_left = float(sp.N(sp.limit(dps[left].expr, x, 0, "-")))
    d_right = float(sp.N(sp.limit(dps[right].expr, x, 0, "+")))
    decay = None
    if left == right:  # smooth at 0: phi^2 = b2 x^2 + b4 x^4 + ..., E over N(0, q) = b2 q + 3 b4 q^2 + ...
        try:
            b4 = sp.series(ps[left].expr ** 2, x, 0, 5).removeO().coeff(x, 4)
            decay = float(-3 * b4)
        except (ValueError, TypeError, NotImplementedError):
            decay = None
    return _Kernel(_Piecewise(ps), _Piecewise(dps), kinks, bool(homogeneous), phi0, (d_left ** 2 + d_right ** 2) / 2,
                   decay)


@lru_cache(maxsize=256)
def _dphi_inf_sq(act: Activation) -> float:
    """lim_{q -> oo} E[phi'(sqrt(q) z)^2] = (phi'(-oo)^2 + phi'(+oo)^2) / 2 (SymPy limits), NaN if one fails."""
    dps = acts.derivative_pieces(act)
    try:
        lo, hi = sp.limit(dps[0].expr, x, -sp.oo), sp.limit(dps[-1].expr, x, sp.oo)
        return float((lo ** 2 + hi ** 2) / 2) if lo.is_finite and hi.is_finite else math.nan
    except (NotImplementedError, ValueError, TypeError):
        return math.nan


def _activation(act: Activation | str) -> Activation:
    return acts.get_activation(act) if isinstance(act, str) else act


def _bounded(what: str):
    """For a user's expression, run the decorated function in a :mod:`theory.budget` worker (killed past the
    command's budget: one line), after checking that its Gaussian moments are finite (``exp(exp(x))``: refused at
    once, no fixed point can exist). The package's named activations run directly."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(act, *args, **kwargs):
            act = _activation(act)
            if acts.is_user(act):
                acts.moments(act, 1.0)  # SpecError when E[phi^2] or E[phi'^2] is infinite
                return budget.run(wrapper, act, *args, what=f"{what} of {act.name!r}", seconds=budget.TOTAL_S,
                                  **kwargs)
            return fn(act, *args, **kwargs)
        return wrapper
    return decorate


# ------------------------------------------------------------------------------------------------ quadrature
_GL = {}


def _legendre(n: int):
    if n not in _GL:
        t, w = np.polynomial.legendre.leggauss(n)
        _GL[n] = ((t + 1.0) / 2.0, w / 2.0)
    return _GL[n]


def _rule(mean, std, kinks: np.ndarray, n: int, extra=None):
    """Nodes and weights (shape ``mean.shape + (M,)``) with sum(w g(x)) ~ E[g(X)], X ~ N(mean, std^2), std > 0.

    Panels: the union of ``mean + std * Z_EDGES``, ``X_EDGES``, ``kinks`` and the per-point ``extra`` edges
    (shape ``mean.shape + (k,)``), clipped to |z| <= 9; empty panels are dropped (rows padded with weight-0
    panels to the longest row).
    """
    mean, std = np.broadcast_arrays(np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64))
    shape = mean.shape
    m, s = mean[..., None], std[..., None]
    zedges = m + s * Z_EDGES
    lo, hi = zedges[..., :1], zedges[..., -1:]
    parts = [zedges, np.broadcast_to(np.concatenate([X_EDGES, kinks]), shape + (len(X_EDGES) + len(kinks),))]
    if extra is not None:
        parts.append(extra)
    edges = np.concatenate(parts, axis=-1)
    np.clip(edges, lo, hi, out=edges)
    edges.sort(axis=-1)
    left, length = edges[..., :-1], np.diff(edges, axis=-1)
    full = length > 0
    count = int(full.sum(axis=-1).max()) if full.size else 0
    if count < length.shape[-1]:
        order = np.argsort(~full, axis=-1, kind="stable")[..., :count]
        left, length = np.take_along_axis(left, order, -1), np.take_along_axis(length, order, -1)
    t, w = _legendre(n)
    nodes = left[..., None] + length[..., None] * t
    z = (nodes - m[..., None]) / s[..., None]
    weights = (length / s)[..., None] * w * np.exp(-0.5 * z * z) * _INV_SQRT_2PI
    return nodes.reshape(shape + (-1,)), weights.reshape(shape + (-1,))


#: a Gaussian expectation is trusted only if its integrand at the window's edge |z| = Z_EDGES[-1], times the
#: standard normal density there, is below this fraction of the integral (an integrand growing like exp(a x) puts
#: its mass near z = a sqrt(q): past the window once a sqrt(q) nears 9)
WINDOW_TOL = 1e-10


def past_window(f, q, total, power: int = 1, factor: float = 1.0) -> np.ndarray:
    """Where the integrand ``factor`` |f(x)|^power of E[...], X ~ N(0, q) (``f`` vectorised), still carries weight at
    the quadrature window's edges: max over z = +-9 of factor |f(z sqrt(q))|^power pdf(z) > WINDOW_TOL |total|
    (True: the computed ``total`` misses mass beyond the window and is not a value). Compared in logarithms, so a
    large but finite total (a diverging network's last layers) is judged without overflow; a non-finite ``total``
    is left to the caller's finiteness checks (False)."""
    q, total = np.asarray(q, dtype=np.float64), np.asarray(total, dtype=np.float64)
    z = Z_EDGES[-1]
    log_pdf = -0.5 * z * z - 0.5 * math.log(2.0 * math.pi)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        edge = np.maximum(np.log(np.abs(f(-z * np.sqrt(q)))), np.log(np.abs(f(z * np.sqrt(q)))))
        bad = power * edge + math.log(factor) + log_pdf > math.log(WINDOW_TOL) + np.log(np.abs(total))
    return bad & np.isfinite(total) & (total != 0)


def phi_numeric(act: Activation | str):
    """The activation as a vectorised NumPy function (piece by piece from its SymPy expression)."""
    return _kernel(_activation(act)).phi


def gaussian_nodes(act: Activation | str, q: float, nodes: int = NODES_1D) -> tuple[np.ndarray, np.ndarray]:
    """Nodes x and weights w with sum(w f(x)) ~ E[f(X)], X ~ N(0, q), q > 0, panels cut at the activation's kinks
    (the quadrature of this module)."""
    return _rule(0.0, np.sqrt(q), _kernel(_activation(act)).kinks, nodes)


def _moments_at(kern: _Kernel, q: np.ndarray, n: int = NODES_1D):
    """E[phi^2], E[phi'^2], d/dq E[phi(sqrt(q) z)^2] = E[X phi(X) phi'(X)] / q at q > 0 (X ~ N(0, q))."""
    xs, w = _rule(0.0, np.sqrt(q), kern.kinks, n)
    f, d = kern.phi(xs), kern.dphi(xs)
    with np.errstate(over="ignore", invalid="ignore"):
        second = np.sum(w * f * f, axis=-1)
        dsecond = np.sum(w * d * d, axis=-1)
        slope = np.sum(w * xs * f * d, axis=-1) / q
    return second, dsecond, slope


@_bounded("the Gaussian moments")
def layer_moments(act: Activation | str, q_values) -> tuple[np.ndarray, np.ndarray]:
    """(E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2]) for each q (array in, arrays out, float64).

    Panel Gauss-Legendre quadrature of the SymPy pieces (module docstring); relative error < 1e-10 for
    q in [1e-6, 1e4] (tested against mpmath). q = 0 gives (phi(0)^2, (phi'(0-)^2 + phi'(0+)^2) / 2), the limits.
    """
    kern = _kernel(_activation(act))
    q = np.asarray(q_values, dtype=np.float64)
    if np.any(q < 0):
        raise SpecError("q must be non-negative")
    second, dsecond = np.full(q.shape, np.nan), np.full(q.shape, np.nan)
    pos = (q > 0) & np.isfinite(q)
    if pos.any():
        qp = q[pos]
        m2, d2, _ = _moments_at(kern, qp)
        # mass past the quadrature's window (an activation growing like exp): not a value (NaN)
        m2[past_window(kern.phi, qp, m2, 2)] = np.nan
        d2[past_window(kern.dphi, qp, d2, 2)] = np.nan
        second[pos], dsecond[pos] = m2, d2
    zero = q == 0
    second[zero], dsecond[zero] = kern.phi0 ** 2, kern.dphi0_sq
    return second, dsecond


def _two_point_nested(kern: _Kernel, q: np.ndarray, c: np.ndarray, n: int = NODES_2D):
    """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)]) by the nested panel rule; q > 0, |c| <= 1, 1D arrays."""
    q, c = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(c, dtype=np.float64))
    q, c = q.ravel(), np.clip(c.ravel(), -1.0, 1.0)
    out_c, out_d = np.empty(q.shape), np.empty(q.shape)
    sq = np.sqrt(q)
    s = np.sqrt(np.maximum(0.0, (1.0 - c) * (1.0 + c)))
    xs1, w1 = _rule(0.0, sq, kern.kinks, n, extra=_smoothed_kinks(kern, c, sq * s))
    f1, d1 = kern.phi(xs1), kern.dphi(xs1)
    flat = s == 0
    if flat.any():  # c = +-1: u2 = c u1
        g = kern.phi(c[flat, None] * xs1[flat])
        h = kern.dphi(c[flat, None] * xs1[flat])
        out_c[flat], out_d[flat] = np.sum(w1[flat] * f1[flat] * g, -1), np.sum(w1[flat] * d1[flat] * h, -1)
    idx = np.nonzero(~flat)[0]
    per_point = xs1.shape[-1] * xs1.shape[-1] * 2
    step = max(1, _CHUNK // max(per_point, 1))
    for start in range(0, len(idx), step):
        sel = idx[start:start + step]
        x1 = xs1[sel]
        xs2, w2 = _rule(c[sel, None] * x1, (sq[sel] * s[sel])[:, None], kern.kinks, n)
        g = np.sum(w2 * kern.phi(xs2), -1)
        h = np.sum(w2 * kern.dphi(xs2), -1)
        out_c[sel] = np.sum(w1[sel] * f1[sel] * g, -1)
        out_d[sel] = np.sum(w1[sel] * d1[sel] * h, -1)
    return out_c, out_d


def _smoothed_kinks(kern: _Kernel, c: np.ndarray, inner_std: np.ndarray):
    """Outer edges x1 where c x1 sits at a kink, +- multiples of the inner width (the kink smoothed by the inner
    integral is a feature of width inner_std / |c| in x1)."""
    if len(kern.kinks) == 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cs = np.where(np.abs(c) < 1e-300, 1e-300, c)[:, None, None]
        e = (kern.kinks[None, :, None] + inner_std[:, None, None] * SMOOTHED_KINK_EDGES) / cs
    e = e.reshape(len(c), -1)
    return np.nan_to_num(e, nan=0.0, posinf=np.finfo(np.float64).max, neginf=-np.finfo(np.float64).max)


@_bounded("the two-point moments")
def two_point(act: Activation | str, q, c) -> tuple[np.ndarray, np.ndarray]:
    """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)]) with Var u1 = Var u2 = q, Corr = c, by the nested panel rule.

    Vectorised over broadcast q (> 0) and c (in [-1, 1]); returns arrays of the broadcast shape.
    """
    kern = _kernel(_activation(act))
    q, c = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(c, dtype=np.float64))
    if np.any(~(q > 0)) or np.any(np.abs(c) > 1):
        raise SpecError("two_point needs q > 0 and |c| <= 1")
    cc, dd = _two_point_nested(kern, q, c)
    return cc.reshape(q.shape), dd.reshape(q.shape)


@_bounded("the correlation map")
def correlation_map(act: Activation | str, weight_var, bias_var, c, q):
    """c -> (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q at variance q (q* for the fixed-point map)."""
    cc, _ = two_point(act, q, c)
    return (np.asarray(weight_var) * cc + np.asarray(bias_var)) / np.asarray(q)


def _hermite_squares(kern: _Kernel, q: np.ndarray, terms: int = MEHLER_TERMS):
    """alpha_k^2 = E[phi(sqrt(q) z) h_k(z)]^2, h_k = He_k / sqrt(k!) (shape (P, terms)), and E[phi^2], E[phi'^2]."""
    sq = np.sqrt(q)
    xs, w = _rule(0.0, sq, kern.kinks, NODES_MEHLER)
    f = kern.phi(xs)
    wf = w * f
    z = xs / sq[:, None]
    coef = np.empty((len(q), terms))
    h_prev, h = np.ones_like(z), z.copy()
    coef[:, 0] = wf.sum(-1)
    coef[:, 1] = (wf * h).sum(-1)
    for k in range(1, terms - 1):
        h_prev, h = h, (z * h - math.sqrt(k) * h_prev) / math.sqrt(k + 1)
        coef[:, k + 1] = (wf * h).sum(-1)
    d = kern.dphi(xs)
    return coef ** 2, (wf * f).sum(-1), (w * d * d).sum(-1)


# ------------------------------------------------------------------------------------------------ fixed points
# kinds of length-map behaviour (codes in MeanFieldGrid.kind)
FIXED, ZERO, EVERY_Q, LINEAR_GROWTH, GEOMETRIC_GROWTH, UNBOUNDED = range(6)


def _solve_q(kern: _Kernel, wv: np.ndarray, bv: np.ndarray, q0: float = Q0):
    """Stable fixed point of the length map reached from q0, vectorised; returns (q*, kind)."""
    P = len(wv)
    qstar = np.full(P, np.nan)
    kind = np.full(P, FIXED)

    def F(q, sel):
        second, _, slope = _moments_at(kern, q)
        return wv[sel] * second + bv[sel] - q, wv[sel] * slope - 1.0

    if kern.homogeneous:
        a = _moments_at(kern, np.array([1.0]))[0][0]  # E[phi(z)^2]: q -> wv a q + bv exactly
        gain = wv * a
        eq = np.abs(gain - 1.0) <= HOMOGENEOUS_TOL
        below = (gain < 1.0) & ~eq
        qstar[below] = bv[below] / (1.0 - gain[below])
        kind[below] = np.where(qstar[below] == 0.0, ZERO, FIXED)
        kind[eq] = np.where(bv[eq] == 0.0, EVERY_Q, LINEAR_GROWTH)
        kind[(gain > 1.0) & ~eq] = GEOMETRIC_GROWTH
        return qstar, kind

    q = np.full(P, q0)
    f0, _ = F(q, np.arange(P))
    lo = np.where(f0 >= 0, q, np.nan)
    hi = np.where(f0 <= 0, q, np.nan)
    done = f0 == 0
    qstar[done] = q[done]
    # bracket search: up by factors of 10 until F <= 0, down by 10 until F >= 0
    up = np.nonzero(f0 > 0)[0]
    t = q[up].copy()
    while len(up):
        t = t * 10.0
        fv, _ = F(t, up)
        found = fv <= 0
        hi[up[found]] = t[found]
        lo[up[~found]] = t[~found]
        over = ~found & (t >= Q_MAX)
        kind[up[over]] = UNBOUNDED
        keep = ~found & ~over
        up, t = up[keep], t[keep]
    down = np.nonzero(f0 < 0)[0]
    t = q[down].copy()
    while len(down):
        t = t / 10.0
        fv, _ = F(t, down)
        found = fv >= 0
        lo[down[found]] = t[found]
        hi[down[~found]] = t[~found]
        under = ~found & (t <= Q_MIN)
        keep = ~found & ~under
        if under.any():
            u = down[under]
            at_zero = wv[u] * kern.phi0 ** 2 + bv[u]
            zero = at_zero == 0
            kind[u[zero]] = ZERO
            qstar[u[zero]] = 0.0
            lo[u[~zero]] = 1e-300  # F(0) = L(0) > 0: the root is in (0, Q_MIN), bisected in log q below
        down, t = down[keep], t[keep]
    # safeguarded Newton inside [lo, hi]
    act_ = np.nonzero((kind == FIXED) & np.isnan(qstar))[0]
    q = np.where(np.isfinite(lo[act_]) & (lo[act_] > 1e-300), lo[act_], hi[act_])
    prev = np.full(len(act_), np.inf)
    for it in range(200):
        if not len(act_):
            break
        fv, dv = F(q, act_)
        l, h = lo[act_], hi[act_]
        l = np.where(fv > 0, q, l)
        h = np.where(fv < 0, q, h)
        lo[act_], hi[act_] = l, h
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = q - fv / dv
        ok = np.isfinite(newton) & (newton > l) & (newton < h)
        mid = np.where(h > 8 * l, np.sqrt(l * h), 0.5 * (l + h))
        nxt = np.where(ok, newton, mid)
        step = np.abs(nxt - q)
        # converged, or Newton steps that stopped shrinking at the level of the quadrature's rounding noise
        stall = ok & (it >= 3) & (step >= 0.5 * prev) & (step <= 1e-10 * q)
        conv = (fv == 0) | (step <= 1e-15 * q) | (h - l <= 4 * _EPS * h) | stall
        qstar[act_[conv]] = np.where(fv[conv] == 0, q[conv], nxt[conv])
        act_, q, prev = act_[~conv], nxt[~conv], step[~conv]
    if len(act_):  # not converged in 200 steps (never seen): report the bracket's midpoint
        qstar[act_] = 0.5 * (lo[act_] + hi[act_])
    return qstar, kind


def _solve_c(kern: _Kernel, wv, bv, qs):
    """Stable fixed point c* in [0, 1) of the correlation map for chaotic points; returns (c*, slope at c*, method)."""
    A, second, dsecond = _hermite_squares(kern, qs)
    K = A.shape[1]
    k = np.arange(K)
    scale = wv / qs

    def poly(c):
        val = np.zeros_like(c)
        der = np.zeros_like(c)
        for j in range(K - 1, -1, -1):
            der = der * c + val
            val = val * c + A[:, j]
        return val, der

    c = np.zeros_like(qs)
    for _ in range(200):
        val, der = poly(c)
        g, dg = scale * val + bv / qs - c, scale * der - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(g > 0, g / dg, 0.0)
        nxt = np.clip(c - step, 0.0, 1.0)
        if np.all(np.abs(nxt - c) <= 4 * _EPS):
            c = nxt
            break
        c = nxt
    val, der = poly(c)
    tail_c = np.maximum(second - A.sum(1), 0.0)
    tail_d = np.maximum(qs * dsecond - (k * A).sum(1), 0.0)  # sum_k k alpha_k^2 = q E[phi'^2]
    dg = np.abs(scale * der - 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = scale * np.maximum(c ** K * (tail_c + 1e-15 * second) / dg, c ** (K - 1) * tail_d)
    slope = scale * der  # sigma_w^2 E[phi' phi'](c*) = sigma_w^2 C'(c*) / q*
    certified = bound <= MEHLER_TOL
    method = np.where(certified, "mehler", "nested")
    bad = np.nonzero(~certified)[0]
    if len(bad):
        cb = c[bad].copy()
        sb = slope[bad].copy()
        active = np.arange(len(bad))
        prev = np.full(len(bad), np.inf)
        for it in range(60):
            cc, dd = _two_point_nested(kern, qs[bad][active], cb[active])
            sc = wv[bad][active] / qs[bad][active]
            g = sc * cc + bv[bad][active] / qs[bad][active] - cb[active]
            slope_here = wv[bad][active] * dd
            sb[active] = slope_here
            with np.errstate(divide="ignore", invalid="ignore"):
                nxt = np.clip(cb[active] - g / (slope_here - 1.0), 0.0, 1.0)
            step = np.abs(nxt - cb[active])
            conv = ~np.isfinite(nxt) | (step <= 1e-14) | ((it >= 3) & (step >= 0.5 * prev[active]) & (step <= 1e-10))
            cb[active] = np.where(np.isfinite(nxt), nxt, cb[active])
            prev[active] = step
            active = active[~conv]
            if not len(active):
                break
        c[bad], slope[bad] = cb, sb  # slope at the last iterate (the last step moved c by < 1e-10)
    return c, slope, method


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class MeanField:
    """Mean-field fixed points, phase and depth scales at one (sigma_w^2, sigma_b^2).

    ``q_star`` None: no isolated fixed point (see ``note``); ``c_star``/``xi_*`` NaN: undefined (see ``note``);
    inf: an infinite depth scale (critical).
    """

    activation: str
    weight_var: float
    bias_var: float
    q_star: float | None
    chi1: float
    c_star: float
    xi_q: float
    xi_c: float
    phase: str
    note: str
    slope_q: float  # d q_{l+1} / d q_l at q* (xi_q = -1 / log slope_q)
    slope_c: float  # d c_{l+1} / d c_l at c* (xi_c = -1 / log slope_c)
    method: str  # how c* was obtained: "c* = 1", "mehler", "nested", "undefined"

    def to_dict(self) -> dict:
        """Every field as a plain dict (the ``theory meanfield --json`` document)."""
        return asdict(self)

    def _repr_markdown_(self) -> str:
        """Jupyter: q*, chi_1, c*, xi_q, xi_c and the phase as a table, then the note (if any)."""
        rows = [("$q^*$", self.q_star), ("$\\chi_1$", self.chi1), ("$c^*$", self.c_star), ("$\\xi_q$", self.xi_q),
                ("$\\xi_c$", self.xi_c)]
        out = [f"**Mean field** `{self.activation}` at $\\sigma_w^2 = {_md_float(self.weight_var)}$, "
               f"$\\sigma_b^2 = {_md_float(self.bias_var)}$: **{self.phase}**", "",
               "| quantity | value |", "| --- | --- |"]
        out += [f"| {name} | {_md_float(v)} |" for name, v in rows]
        if self.note:
            out += ["", f"*Note:* {self.note}"]
        return "\n".join(out)


def _md_float(v) -> str:
    """A number for display: 6 significant digits, 0 below 1e-15 in magnitude, "—" for None (no isolated fixed point,
    see the note), "undefined" for NaN, $\\infty$ for an infinite depth scale."""
    if v is None:
        return "—"
    v = float(v)
    if math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "$\\infty$" if v > 0 else "$-\\infty$"
    return "0" if abs(v) < 1e-15 else f"{v:.6g}"


@dataclass(frozen=True)
class MeanFieldGrid:
    """Arrays of shape (len(weight_vars), len(bias_vars)); ``kind`` holds the length-map codes FIXED, ZERO, ..."""

    weight_vars: np.ndarray
    bias_vars: np.ndarray
    q_star: np.ndarray
    chi1: np.ndarray
    c_star: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    slope_q: np.ndarray
    slope_c: np.ndarray
    kind: np.ndarray
    phase: np.ndarray  # -1 ordered, 0 critical, 1 chaotic, -2 unknown (chi_1 NaN)
    method: np.ndarray  # "c* = 1", "mehler", "nested", "undefined", "not computed"

    def phase_names(self) -> np.ndarray:
        """``phase`` as names: "ordered" (chi_1 < 1), "critical", "chaotic" (chi_1 > 1), "unknown" (chi_1 NaN)."""
        return np.vectorize(_PHASES.get, otypes=[object])(self.phase)


def _depth(slope):
    slope = np.abs(np.asarray(slope, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -1.0 / np.log(slope)
    return np.where(slope == 1.0, np.inf, out)


def _phase_code(chi1):
    code = np.where(chi1 < 1, -1, 1)
    code = np.where(np.abs(chi1 - 1) < CRITICAL_TOL, 0, code)
    return np.where(np.isnan(chi1), -2, code)


def _analyze(act: Activation, wv: np.ndarray, bv: np.ndarray, correlation: bool = True):
    kern = _kernel(act)
    P = len(wv)
    qstar, kind = _solve_q(kern, wv, bv)
    chi1 = np.full(P, np.nan)
    slope_q = np.full(P, np.nan)
    fixed = (kind == FIXED) & (qstar > 0)
    if fixed.any():
        _, dsecond, slope = _moments_at(kern, qstar[fixed])
        chi1[fixed], slope_q[fixed] = wv[fixed] * dsecond, wv[fixed] * slope
    zero = kind == ZERO
    chi1[zero] = slope_q[zero] = wv[zero] * kern.dphi0_sq
    if kern.homogeneous:
        other = ~fixed & ~zero
        if other.any():
            dsecond = _moments_at(kern, np.array([1.0]))[1][0]
            chi1[other] = wv[other] * dsecond
            slope_q[other] = wv[other] * _moments_at(kern, np.array([1.0]))[0][0]
            marginal = (kind == EVERY_Q) | (kind == LINEAR_GROWTH)  # the length map's slope is 1 (within tol)
            slope_q[marginal] = 1.0
    unb = kind == UNBOUNDED
    if unb.any():  # chi_1's q -> oo limit
        chi1[unb] = wv[unb] * _dphi_inf_sq(act)
    phase = _phase_code(chi1)
    cstar = np.full(P, np.nan)
    slope_c = np.full(P, np.nan)
    method = np.full(P, "undefined", dtype=object)
    has_c = fixed | (kind == EVERY_Q) | (kind == LINEAR_GROWTH)
    one = has_c & (phase <= 0)
    cstar[one], slope_c[one], method[one] = 1.0, chi1[one], "c* = 1"
    chaos = fixed & (phase == 1)
    if correlation and chaos.any():
        c, s, m = _solve_c(kern, wv[chaos], bv[chaos], qstar[chaos])
        cstar[chaos], slope_c[chaos], method[chaos] = c, s, m
    elif chaos.any():
        method[chaos] = "not computed"
    xi_q = _depth(slope_q)
    xi_q[(kind == GEOMETRIC_GROWTH) | unb] = np.nan
    xi_c = _depth(slope_c)
    xi_c[one & (phase == 0)] = np.inf  # critical: chi_1 = 1 within CRITICAL_TOL
    return dict(q_star=qstar, chi1=chi1, c_star=cstar, xi_q=xi_q, xi_c=xi_c, slope_q=slope_q,
                slope_c=slope_c, kind=kind, phase=phase, method=method)


_PHASES = {-2: "unknown", -1: "ordered", 0: "critical", 1: "chaotic"}


def _note(kern: _Kernel, kind: int, wv: float, bv: float, chi1: float, slope_q: float, phase: int) -> str:
    if kind == EVERY_Q:
        return "every q is a fixed point (the length map is the identity); chi_1 = 1: critical"
    if kind == LINEAR_GROWTH:
        return f"no fixed point: q grows linearly, by sigma_b^2 = {bv:.6g} per layer; c -> 1"
    if kind == GEOMETRIC_GROWTH:
        return (f"no fixed point: q grows geometrically, by a factor sigma_w^2 E[phi(z)^2] = {slope_q:.6g} per layer"
                + ("" if bv == 0 else " (plus sigma_b^2)") + "; chi_1 does not depend on q for this activation")
    if kind == UNBOUNDED:
        head = f"no fixed point below q = {Q_MAX:.0e}: q grows without bound; "
        if not math.isfinite(chi1):
            return head + "chi_1 has no finite q -> infinity limit"
        return head + "chi_1 is its q -> infinity limit sigma_w^2 (phi'(-oo)^2 + phi'(+oo)^2) / 2"
    if kind == ZERO:
        base = "q* = 0 (phi(0) = 0, sigma_b^2 = 0); the correlation map divides by q* and is undefined"
        if phase == 0:
            k = None if kern.decay is None else kern.decay * wv
            if k is not None and k > 0:
                return base + f"; chi_1 = 1: q decays polynomially, q_l ~ 1/({k:.6g} l)"
            return base + "; chi_1 = 1: q decays slower than geometrically"
        return base + f"; q decays geometrically, by a factor chi_1 = {chi1:.6g} per layer"
    if phase == 0:
        return "critical: chi_1 = 1, c* = 1 and xi_c is infinite"
    return ""


@_bounded("the mean-field analysis")
def analyze(act: Activation | str, weight_var: float, bias_var: float) -> MeanField:
    """Fixed points q*, c*, chi_1, depth scales and phase at (sigma_w^2, sigma_b^2) (module docstring).

    q* = sigma_w^2 E[phi(sqrt(q*) z)^2] + sigma_b^2 (z ~ N(0, 1)), chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]: ordered
    for chi_1 < 1, chaotic for chi_1 > 1; infinite width, iid weights N(0, sigma_w^2 / n) (Poole et al. 2016;
    Schoenholz et al. 2017). ``act`` is an :class:`Activation` or a spec (``"tanh"``, ``"x*tanh(x)"``).
    """
    act = _activation(act)
    wv, bv = float(weight_var), float(bias_var)
    if not (math.isfinite(wv) and wv > 0):
        raise SpecError(f"weight variance must be positive and finite (got {weight_var})")
    if not (math.isfinite(bv) and bv >= 0):
        raise SpecError(f"bias variance must be non-negative and finite (got {bias_var})")
    r = _analyze(act, np.array([wv]), np.array([bv]))
    kind, phase = int(r["kind"][0]), int(r["phase"][0])
    qs = float(r["q_star"][0])
    return MeanField(
        activation=act.name, weight_var=wv, bias_var=bv,
        q_star=None if kind in (EVERY_Q, LINEAR_GROWTH, GEOMETRIC_GROWTH, UNBOUNDED) else qs,
        chi1=float(r["chi1"][0]), c_star=float(r["c_star"][0]), xi_q=float(r["xi_q"][0]),
        xi_c=float(r["xi_c"][0]), phase=_PHASES[phase],
        note=_note(_kernel(act), kind, wv, bv, float(r["chi1"][0]), float(r["slope_q"][0]), phase),
        slope_q=float(r["slope_q"][0]), slope_c=float(r["slope_c"][0]), method=str(r["method"][0]))


@_bounded("the mean-field grid")
def analyze_grid(act: Activation | str, weight_vars, bias_vars, *, correlation: bool = True) -> MeanFieldGrid:
    """:func:`analyze` on the grid weight_vars x bias_vars, vectorised (c* only where chaotic, and only if
    ``correlation``)."""
    act = _activation(act)
    w = np.asarray(weight_vars, dtype=np.float64).ravel()
    b = np.asarray(bias_vars, dtype=np.float64).ravel()
    if np.any(~(w > 0)) or np.any(~(b >= 0)) or not np.all(np.isfinite(w)) or not np.all(np.isfinite(b)):
        raise SpecError("weight variances must be positive, bias variances non-negative, both finite")
    W, B = np.meshgrid(w, b, indexing="ij")
    r = _analyze(act, W.ravel(), B.ravel(), correlation)
    shape = W.shape
    return MeanFieldGrid(weight_vars=w, bias_vars=b, **{k: v.reshape(shape) for k, v in r.items()})


@_bounded("chi_1")
def chi1(act: Activation | str, weight_var, bias_var) -> np.ndarray:
    """chi_1 at the fixed point q* (vectorised over broadcast weight_var, bias_var; no correlation map)."""
    act = _activation(act)
    w, b = np.broadcast_arrays(np.asarray(weight_var, dtype=np.float64), np.asarray(bias_var, dtype=np.float64))
    r = _analyze(act, w.ravel(), b.ravel(), correlation=False)
    return r["chi1"].reshape(w.shape)


@_bounded("the critical sigma_w^2")
def critical_weight_var(act: Activation | str, bias_var: float, bracket=(1e-3, 1e4), scan: int = 57) -> float | None:
    """The sigma_w^2 where chi_1(sigma_w^2, sigma_b^2) = 1 (q* depends on sigma_w^2), or None.

    chi_1 - 1 is scanned on ``scan`` geometric points of ``bracket``; the first sign change is refined with
    brentq (xtol 1e-14). For positively homogeneous phi (relu, leaky_relu, linear) chi_1 = sigma_w^2 E[phi'^2]
    does not depend on q, so the root is 1 / E[phi'^2] (relu: 2, He init) whatever sigma_b^2; there the length map
    has no finite fixed point for sigma_b^2 > 0 (q grows linearly): critical only in that degenerate sense.
    None when chi_1 - 1 does not change sign on the bracket, or when it changes sign by a jump rather than a
    crossing (GELU, SiLU at sigma_b = 0: q* jumps from 0 to an unstable fixed point, chi_1 never equals 1 there).
    """
    act = _activation(act)
    bv = float(bias_var)
    if not (math.isfinite(bv) and bv >= 0):
        raise SpecError(f"bias variance must be non-negative and finite (got {bias_var})")
    grid = np.geomspace(bracket[0], bracket[1], scan)
    g = chi1(act, grid, bv) - 1.0
    finite = np.isfinite(g)
    exact = np.nonzero(finite & (g == 0))[0]
    if len(exact):
        return float(grid[exact[0]])
    sign = np.sign(g)
    change = np.nonzero(finite[:-1] & finite[1:] & (sign[:-1] * sign[1:] < 0))[0]
    if not len(change):
        return None
    i = change[0]

    def f(w):
        return float(chi1(act, w, bv)) - 1.0

    root = float(scipy.optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-14, rtol=4 * _EPS, maxiter=200))
    if abs(f(root)) > 1e-6:  # brentq converged onto a discontinuity of chi_1, not a root
        return None
    return root


def clear_caches() -> None:
    """Forget the lambdified kernels and derived constants of every activation (a cold benchmark)."""
    _kernel.cache_clear()
    _dphi_inf_sq.cache_clear()
