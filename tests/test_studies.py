"""The sweep studies against the theory: the finite-width law and the tanh correlation depth scale.

Tolerance: |z| <= Z_TOL with z = (measured - theory) / standard error, the error estimated across independent
networks (the sample variance's own standard error from the fourth moment; xi's by the jackknife over networks).
Each check has a negative control that must fail at the same tolerance."""
from __future__ import annotations

import math

import pytest

from sims import studies as T
from sims import sweep as S
from theory.errors import SpecError
from theory.meanfield import analyze

from conftest import Z as Z_TOL  # noqa: E402 - the suite's shared z (tests/conftest.py)


def _rows(grids):
    """Rows computed in this process (no pool): the studies' numbers do not depend on the executor."""
    return [{"key": S.config_key(c), "config": c, "results": S.run_config(c, 1)} for g in grids for c in S.expand(g)]


def test_finite_width_exact_law_holds_and_the_lognormal_one_is_rejected():
    grid = {"task": ["norms"], "activation": ["relu"], "width": [8, 32], "depth": [4], "seeds": [2000]}
    points = T.finite_width_points(_rows([grid]))
    assert len(points) == 2
    for p in points:
        assert abs(p["z_exact"]) <= Z_TOL, p
    # negative control: the log-normal sigma^2 (first two moments only) is rejected at width 8 at the same tolerance
    narrow = next(p for p in points if p["width"] == 8)
    assert abs(narrow["z_lognormal"]) > Z_TOL, narrow


def test_ordered_phase_depth_scale_matches_the_theory():
    run = {**T.PHASE_RUN, "width": 128, "depth": 30, "seeds": 16}
    points = T.phase_points(_rows(T.phase_grids([(1.3, 0.2), (0.9, 0.05)], run)))
    for p in points:
        assert p["c_star_theory"] == 1.0 and abs(p["c_star_fit"] - 1.0) < 1e-3
        assert abs(p["z"]) <= Z_TOL, p
        # negative control: the same measurement against the theory of a neighbouring point (sigma_w^2 + 0.2)
        wrong = analyze("tanh", p["weight_var"] + 0.2, p["bias_var"]).xi_c
        assert abs(p["xi"] - wrong) / p["xi_se"] > Z_TOL, (p, wrong)


def test_start_correlation_is_off_the_fixed_point_on_the_right_side():
    grids = T.phase_grids([(1.3, 0.2), (3.5, 0.2)])
    ordered, chaotic = (g["input_correlation"][0] for g in grids)
    assert ordered == pytest.approx(1 - T.START_OFFSET)
    assert chaotic == pytest.approx(analyze("tanh", 3.5, 0.2).c_star + T.CHAOTIC_OFFSET, abs=1e-6)


def test_measure_xi_recovers_a_known_rate_and_refuses_bad_input():
    import numpy as np

    rng = np.random.default_rng(0)
    layers = np.arange(1, 41)
    curves = 0.3 + 0.4 * np.exp(-layers / 5.0) + 1e-4 * rng.standard_normal((12, 40))
    m = T.measure_xi(curves.tolist())
    assert abs(m["xi"] - 5.0) <= Z_TOL * m["se"] and m["se"] < 0.1
    assert abs(m["c_star"] - 0.3) < 1e-3
    with pytest.raises(SpecError):
        T.measure_xi([[0.5, 0.4]])
    with pytest.raises(SpecError):
        T.measure_xi([[math.nan] * 10] * 4)


@pytest.mark.slow
def test_full_phase_points_agree_with_the_theory():
    """The figure's six points (width 512, depth 50, 64 networks); ordered ones also reject a neighbour's theory."""
    points = T.phase_points(_rows(T.phase_grids()))
    assert len(points) == len(T.PHASE_POINTS)
    for p in points:
        assert math.isfinite(p["xi_se"]) and abs(p["z"]) <= Z_TOL, p
        if p["chi1"] < 1:
            wrong = analyze("tanh", p["weight_var"] + 0.2, p["bias_var"]).xi_c
            assert abs(p["xi"] - wrong) / p["xi_se"] > Z_TOL, (p, wrong)


@pytest.mark.slow
def test_full_finite_width_grid():
    points = T.finite_width_points(_rows([T.FINITE_GRID]))
    assert len(points) == 12
    assert all(abs(p["z_exact"]) <= Z_TOL for p in points)
    assert all(abs(p["z_lognormal"]) > Z_TOL for p in points if p["width"] <= 32)  # the control, narrow widths
