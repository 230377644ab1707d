"""Mean-field maps (theory.meanfield) against independent oracles.

Oracles: closed forms (ReLU: E[relu(u)^2] = q/2, E[relu'^2] = 1/2, the arc-cosine kernel of Cho & Saul 2009
E[relu(u1) relu(u2)] = q (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi), E[relu'(u1) relu'(u2)] = (pi - arccos c)/(2 pi);
linear: everything by hand), activations written by hand in mpmath and integrated with mpmath.quad at 25 digits,
and scipy.integrate.dblquad (adaptive Gauss-Kronrod) for the 2D expectations. No SymPy expression of the package is
reused by an oracle. Tolerances (STYLE.md, closed form vs numeric float64): 1e-10 relative for closed forms and
layer moments, 1e-8 for the tanh fixed points (the issue's target; the residuals are ~1e-15). A fixed point is
checked through the oracle's residual: |q_{l+1}(q) - q| / (1 - slope) bounds the distance to the true fixed point.
Every numeric check has a negative control that must fail at the same tolerance.
"""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate

from theory import activations as acts
from theory import meanfield as M
from theory.errors import SpecError

DPS = 25
CLOSED_RTOL = 1e-10
TANH_RTOL = 1e-8
PI = math.pi


def close(got, want, rtol, atol=0.0) -> bool:
    return bool(np.all(np.abs(np.asarray(got) - np.asarray(want)) <= atol + rtol * np.abs(np.asarray(want))))


# ------------------------------------------------------------------------------------------------ oracles
def _sig(u):
    return 1 / (1 + mp.exp(-u))


ORACLE = {  # spec -> (phi, phi'), by hand in mpmath
    "tanh": (mp.tanh, lambda u: mp.sech(u) ** 2),
    "sigmoid": (_sig, lambda u: _sig(u) * (1 - _sig(u))),
    "softplus": (lambda u: mp.log1p(mp.exp(u)), _sig),
    "elu": (lambda u: u if u > 0 else mp.expm1(u), lambda u: mp.mpf(1) if u > 0 else mp.exp(u)),
}


def gauss(f, q) -> mp.mpf:
    """E[f(sqrt(q) z)], z ~ N(0, 1), split at 0 and at the activation's and the Gaussian's scales."""
    with mp.workdps(DPS):
        q = mp.mpf(q)
        s = mp.sqrt(q)
        cuts = {mp.mpf(0)} | {mp.mpf(v) for v in (-8, -4, -2, -1, 1, 2, 4, 8)}
        cuts |= {mp.mpf(v) / s for v in (-16, -4, -1, -0.25, 0.25, 1, 4, 16) if abs(v / s) < 10}
        pts = [-mp.inf, *sorted(cuts), mp.inf]
        return mp.quad(lambda z: f(s * z) * mp.exp(-z * z / 2), pts) / mp.sqrt(2 * mp.pi)


def dbl(f, g, q, c) -> float:
    """E[f(u1) g(u2)], Var = q, Corr = c, by scipy dblquad over (z1, z2) in [-10, 10]^2."""
    s, r = math.sqrt(q), math.sqrt(1 - c * c)
    val, _ = scipy.integrate.dblquad(
        lambda z2, z1: f(s * z1) * g(s * (c * z1 + r * z2)) * math.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * PI),
        -10, 10, -10, 10, epsabs=1e-15, epsrel=1e-13)
    return val


def tanh_(u):
    return math.tanh(u)


def dtanh(u):
    return 1 - math.tanh(u) ** 2


# ------------------------------------------------------------------------------------------------ 1D moments
QS = (1e-6, 1e-3, 1.0, 50.0, 1e4)


@pytest.mark.parametrize("spec", sorted(ORACLE))
def test_layer_moments_against_mpmath(spec):
    f, d = ORACLE[spec]
    m2, d2 = M.layer_moments(spec, np.array(QS))
    want2 = np.array([float(gauss(lambda u: f(u) ** 2, q)) for q in QS])
    wantd = np.array([float(gauss(lambda u: d(u) ** 2, q)) for q in QS])
    assert close(m2, want2, CLOSED_RTOL), (m2 / want2 - 1)
    assert close(d2, wantd, CLOSED_RTOL), (d2 / wantd - 1)
    # negative control: the same panels with 3 Gauss nodes each instead of 10 miss the tolerance somewhere
    coarse2, coarsed, _ = M._moments_at(M._kernel(acts.get_activation(spec)), np.array(QS), n=3)
    assert not close(coarse2, want2, CLOSED_RTOL) and not close(coarsed, wantd, CLOSED_RTOL)


@pytest.mark.parametrize("spec,a,b", [("relu", 0.5, 0.5), ("leaky_relu:0.1", 0.505, 0.505), ("linear", 1.0, 1.0)])
def test_layer_moments_homogeneous_closed_form(spec, a, b):
    q = np.array(QS)
    m2, d2 = M.layer_moments(spec, q)
    assert close(m2, a * q, CLOSED_RTOL) and close(d2, b, CLOSED_RTOL)
    assert not close(m2, a * q * (1 + 1e-9), CLOSED_RTOL)  # negative control: a perturbed closed form


def test_layer_moments_at_zero_and_bad_input():
    m2, d2 = M.layer_moments("tanh", [0.0])
    assert m2[0] == 0.0 and d2[0] == 1.0
    m2, d2 = M.layer_moments("elu:0.5", 0.0)  # one-sided derivatives 0.5 and 1 at the kink
    assert m2 == 0.0 and d2 == pytest.approx(0.625, rel=1e-15)
    m2, d2 = M.layer_moments("sigmoid", 0.0)
    assert m2 == 0.25 and d2 == 0.0625
    with pytest.raises(SpecError):
        M.layer_moments("tanh", [-1.0])


# ------------------------------------------------------------------------------------------------ 2D expectations
CS = np.array([-1.0, -0.999, -0.5, 0.0, 0.3, 0.9, 0.99, 0.99999, 1.0])


def arccos_kernel(q, c):
    return q / (2 * PI) * (np.sqrt(1 - c ** 2) + (PI - np.arccos(c)) * c), (PI - np.arccos(c)) / (2 * PI)


@pytest.mark.parametrize("q", [1e-3, 0.7, 250.0])
def test_relu_two_point_is_the_arccos_kernel(q):
    got_c, got_d = M.two_point("relu", q, CS)
    want_c, want_d = arccos_kernel(q, CS)
    assert close(got_c, want_c, CLOSED_RTOL, atol=1e-12 * q), got_c / want_c - 1
    assert close(got_d, want_d, CLOSED_RTOL, atol=1e-12)
    # negative control: the closed form at a slightly different correlation is caught
    bad_c, bad_d = arccos_kernel(q, CS[1:-1] - 1e-7)
    assert not np.any([close(g, w, CLOSED_RTOL, atol=1e-12 * q) for g, w in zip(got_c[1:-1], bad_c)])
    assert not np.any([close(g, w, CLOSED_RTOL, atol=1e-12) for g, w in zip(got_d[1:-1], bad_d)])


def test_relu_and_linear_correlation_maps():
    w, b, q = 1.5, 0.1, 0.4
    want = (w * arccos_kernel(q, CS)[0] + b) / q
    assert close(M.correlation_map("relu", w, b, CS, q), want, CLOSED_RTOL)
    assert not close(M.correlation_map("relu", w * (1 + 1e-9), b, CS, q), want, CLOSED_RTOL)
    w, b, q = 0.5, 0.3, 0.6
    assert close(M.correlation_map("linear", w, b, CS, q), (w * q * CS + b) / q, CLOSED_RTOL, atol=1e-15)


def test_tanh_two_point_against_dblquad():
    q, c = 1.7, 0.5
    got_c, got_d = M.two_point("tanh", q, c)
    assert close(got_c, dbl(tanh_, tanh_, q, c), CLOSED_RTOL)
    assert close(got_d, dbl(dtanh, dtanh, q, c), CLOSED_RTOL)
    assert not close(got_c, dbl(tanh_, tanh_, q, c * (1 + 1e-8)), CLOSED_RTOL)  # negative control


@pytest.mark.parametrize("q", [1.0, 4.0, 20.0])
def test_mehler_truncation_bound_is_honest(q):
    """The Hermite expansion's computable tail bound c^K (E[phi^2] - sum alpha_k^2) covers its actual error."""
    kern = M._kernel(acts.get_activation("tanh"))
    a2, second, _ = M._hermite_squares(kern, np.array([q]))
    cs = np.array([0.0, 0.5, 0.9, 0.99, 1.0])
    nested, _ = M._two_point_nested(kern, np.full(len(cs), q), cs)
    K = a2.shape[1]
    for c, ref in zip(cs, nested):
        series = float(np.polyval(a2[0][::-1], c))
        bound = c ** K * max(second[0] - a2[0].sum(), 0.0)
        assert abs(series - ref) <= bound + 1e-13, (q, c, series - ref, bound)
    # negative control: dropping the last half of the terms breaks agreement at c = 0.99 for q = 20
    if q == 20.0:
        half = float(np.polyval(a2[0][: K // 2][::-1], 0.99))
        assert abs(half - nested[3]) > 1e-8


# ------------------------------------------------------------------------------------------------ fixed points
def test_relu_closed_forms():
    w, b = 1.5, 0.1
    r = M.analyze("relu", w, b)
    assert close(r.q_star, b / (1 - w / 2), CLOSED_RTOL)
    assert close(r.chi1, w / 2, CLOSED_RTOL)
    assert r.c_star == 1.0 and r.phase == "ordered"
    assert close(r.xi_c, -1 / math.log(w / 2), CLOSED_RTOL)
    assert close(r.xi_q, -1 / math.log(w / 2), CLOSED_RTOL)  # the length map's slope is sigma_w^2 / 2
    # negative control: the closed forms at a slightly wrong sigma_w^2
    w2 = w * (1 + 1e-8)
    assert not close(r.q_star, b / (1 - w2 / 2), CLOSED_RTOL)
    assert not close(r.chi1, w2 / 2, CLOSED_RTOL)
    assert not close(r.xi_c, -1 / math.log(w2 / 2), CLOSED_RTOL)


def test_linear_closed_forms():
    w, b = 0.5, 0.3
    r = M.analyze("linear", w, b)
    assert close(r.q_star, b / (1 - w), CLOSED_RTOL) and close(r.chi1, w, CLOSED_RTOL)
    assert r.c_star == 1.0 and close(r.xi_c, -1 / math.log(w), CLOSED_RTOL)
    assert not close(r.q_star, b / (1 - w * (1 + 1e-8)), CLOSED_RTOL)


TANH_POINTS = {(1.5, 0.05): "ordered", (2.0, 0.05): "chaotic"}


@pytest.mark.parametrize("w,b", sorted(TANH_POINTS))
def test_tanh_fixed_point_against_mpmath(w, b):
    r = M.analyze("tanh", w, b)
    f, d = ORACLE["tanh"]
    q = r.q_star
    with mp.workdps(DPS):
        residual = w * gauss(lambda u: f(u) ** 2, q) + b - q
        slope = w * gauss(lambda u: u * f(u) * d(u), q) / q  # d q_{l+1} / d q_l
        # Schoenholz eq. 5 form of the same slope: chi_1 + sigma_w^2 E[phi'' phi], phi'' = -2 tanh sech^2
        slope_eq5 = w * gauss(lambda u: d(u) ** 2 - 2 * f(u) ** 2 * d(u), q)
        chi1 = w * gauss(lambda u: d(u) ** 2, q)
    assert abs(float(residual / (1 - slope))) <= TANH_RTOL * q
    assert close(r.chi1, float(chi1), TANH_RTOL)
    assert close(r.slope_q, float(slope), TANH_RTOL) and close(r.slope_q, float(slope_eq5), TANH_RTOL)
    assert close(r.xi_q, -1 / math.log(float(slope)), TANH_RTOL)
    assert r.phase == TANH_POINTS[(w, b)]
    # negative controls: a wrong sigma_w^2 moves chi_1, a perturbed q* leaves a residual
    assert not close(M.analyze("tanh", w * (1 + 1e-7), b).chi1, float(chi1), TANH_RTOL)
    with mp.workdps(DPS):
        q2 = q * (1 + 1e-7)
        assert abs(float((w * gauss(lambda u: f(u) ** 2, q2) + b - q2) / (1 - slope))) > TANH_RTOL * q


def test_tanh_chaotic_c_star_against_dblquad():
    w, b = 2.0, 0.05
    r = M.analyze("tanh", w, b)
    assert r.method in ("mehler", "nested") and 0 < r.c_star < 1
    q, c = r.q_star, r.c_star
    slope = w * dbl(dtanh, dtanh, q, c)
    residual = (w * dbl(tanh_, tanh_, q, c) + b) / q - c
    assert abs(residual / (1 - slope)) <= TANH_RTOL * c
    assert close(r.slope_c, slope, TANH_RTOL) and close(r.xi_c, -1 / math.log(slope), TANH_RTOL)
    # negative control: c* moved by 1e-7 leaves a residual the check catches
    c2 = c + 1e-7
    assert abs(((w * dbl(tanh_, tanh_, q, c2) + b) / q - c2) / (1 - slope)) > TANH_RTOL * c


def test_ordered_tanh_has_c_star_one():
    r = M.analyze("tanh", 1.5, 0.05)
    assert r.c_star == 1.0 and r.method == "c* = 1" and close(r.xi_c, -1 / math.log(r.chi1), 1e-14)


# ------------------------------------------------------------------------------------------------ degenerate cases
DEGENERATE = [  # spec, sigma_w^2, sigma_b^2, q_star, phase, words in the note
    ("relu", 2.0, 0.0, None, "critical", "every q is a fixed point"),
    ("relu", 2.0, 0.1, None, "critical", "grows linearly, by sigma_b^2"),
    ("relu", 3.0, 0.0, None, "chaotic", "grows geometrically"),
    ("relu", 3.0, 0.2, None, "chaotic", "grows geometrically"),
    ("relu", 1.0, 0.0, 0.0, "ordered", "q* = 0"),
    ("tanh", 1.0, 0.0, 0.0, "critical", "q_l ~ 1/(2 l)"),
    ("tanh", 0.5, 0.0, 0.0, "ordered", "q* = 0"),
    ("softplus", 2.5, 0.1, None, "chaotic", "grows without bound"),
]


@pytest.mark.parametrize("spec,w,b,q_star,phase,words", DEGENERATE)
def test_degenerate_cases(spec, w, b, q_star, phase, words):
    r = M.analyze(spec, w, b)  # a note, not a loop: the speed is the bench's business (python -m theory bench)
    assert r.q_star == q_star and r.phase == phase and words in r.note, r
    if q_star == 0.0:
        assert math.isnan(r.c_star) and math.isnan(r.xi_c)
    if "every q" in r.note:
        assert r.c_star == 1.0 and r.xi_c == math.inf and r.xi_q == math.inf and r.chi1 == pytest.approx(1, abs=1e-15)


def test_degenerate_neighbours_are_not_degenerate():
    """Negative controls: just off the degenerate points the ordinary answers come back."""
    r = M.analyze("relu", 2.0 * (1 - 1e-6), 0.1)
    assert r.q_star == pytest.approx(0.1 / 1e-6, rel=1e-8) and r.note == ""
    r = M.analyze("tanh", 1.0 + 1e-3, 0.0)
    assert r.q_star > 0 and "q* = 0" not in r.note
    assert M.analyze("tanh", 0.9, 0.0).note.endswith("by a factor chi_1 = 0.9 per layer")


def test_bad_arguments():
    with pytest.raises(SpecError):
        M.analyze("tanh", 0.0, 0.1)
    with pytest.raises(SpecError):
        M.analyze("tanh", 1.0, -0.1)
    with pytest.raises(SpecError):
        M.analyze_grid("tanh", [1.0, math.nan], [0.0])


# ------------------------------------------------------------------------------------------------ the critical line
TANH_CRITICAL_005 = 1.7609546396067  # computed by this module; the checks below do not depend on it


def test_critical_weight_var_tanh():
    w = M.critical_weight_var("tanh", 0.05)
    assert abs(float(M.chi1("tanh", w, 0.05)) - 1) < 1e-9
    assert abs(w - TANH_CRITICAL_005) < 1e-9
    # negative control: 1e-6 away chi_1 differs from 1 by more than the tolerance
    assert abs(float(M.chi1("tanh", w + 1e-6, 0.05)) - 1) > 1e-9
    assert M.critical_weight_var("tanh", 0.0) == pytest.approx(1.0, abs=1e-9)


def test_critical_weight_var_homogeneous_and_none():
    assert M.critical_weight_var("relu", 0.0) == pytest.approx(2.0, abs=1e-12)
    assert M.critical_weight_var("relu", 0.3) == pytest.approx(2.0, abs=1e-12)  # documented degenerate sense
    assert M.critical_weight_var("linear", 0.1) == pytest.approx(1.0, abs=1e-12)
    assert M.critical_weight_var("tanh", 0.05, bracket=(0.1, 1.5)) is None  # no sign change on the bracket


def test_xi_c_diverges_at_the_critical_line():
    w0 = M.critical_weight_var("tanh", 0.05)
    at = M.analyze("tanh", w0, 0.05)
    assert at.phase == "critical" and at.xi_c == math.inf
    for side in (-1, 1):
        xs = [M.analyze("tanh", w0 + side * d, 0.05).xi_c for d in (1e-1, 1e-2, 1e-3)]
        assert all(np.isfinite(xs)) and xs[0] < xs[1] < xs[2] < at.xi_c, (side, xs)
    # the phases on either side
    assert M.analyze("tanh", w0 - 1e-3, 0.05).phase == "ordered"
    assert M.analyze("tanh", w0 + 1e-3, 0.05).phase == "chaotic"


# ------------------------------------------------------------------------------------------------ the grid
def test_grid_matches_points():
    ws, bs = [0.8, 1.9, 2.5, 3.9], [0.0, 0.05, 0.49]
    g = M.analyze_grid("tanh", ws, bs)
    assert g.q_star.shape == (4, 3)
    for i, w in enumerate(ws):
        for j, b in enumerate(bs):
            r = M.analyze("tanh", w, b)
            for key in ("q_star", "chi1", "c_star", "xi_q", "xi_c"):
                got, want = getattr(g, key)[i, j], getattr(r, key)
                want = math.nan if want is None else want
                assert (math.isnan(got) and math.isnan(want)) or abs(got - want) <= 1e-12 * max(1.0, abs(want)), \
                    (key, w, b, got, want)
            assert M._PHASES[int(g.phase[i, j])] == r.phase
    chaotic = g.phase == 1
    assert np.all((g.c_star[chaotic] >= 0) & (g.c_star[chaotic] < 1))


def test_moments_with_mass_past_the_window_are_not_values_and_predict_says_why(capsys):
    """exp(x): E[exp(X)^2] = e^(2q) in closed form. At q = 0.09 its mass sits near z = 2 sqrt(q) = 0.6 and predict
    matches the closed form at quadrature precision; at q = 2 (He), E[exp(X)^4] and E[exp(2X)] put weight near
    z = 5.7 and 2.8, the integrand at z = 9 is above 1e-10 of the integral, and predict gives no value (null) from
    layer 2 with a note instead of a truncated number; the text output says so and does not call it a divergence."""
    import json
    import math

    from theory.cli import main
    from theory.config import NetworkConfig
    from theory.predict import predict

    small = predict(NetworkConfig("exp(x)", "normal:0.3/sqrt(n_in)", width=16, depth=3))
    q = [r["preact_var"] for r in small["layers"]]
    for a, b in zip(q, q[1:]):
        assert b == pytest.approx(0.09 * math.exp(2 * a), rel=1e-10)
    assert "not_computed_from" not in small and small["diverged_at"] is None
    assert main(["predict", "--activation", "exp(x)", "--init", "he_normal:plain", "--width", "16", "--depth", "4",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0]["preact_var"] == 2 and [r["preact_var"] for r in doc["layers"][1:]] == [None] * 3
    assert doc["not_computed_from"] == 1 and "beyond 9 standard deviations" in doc["note"]
    assert main(["predict", "--activation", "exp(x)", "--init", "he_normal:plain", "--width", "16", "--depth", "4"]) == 0
    out = capsys.readouterr().out
    assert "not a divergence" in out and "diverges (non-finite)" not in out
