"""Two studies run as sweeps (:mod:`sims.sweep`), each measured against the theory.

Phase diagram of tanh networks over (sigma_w^2, sigma_b^2) (Poole et al. 2016; Schoenholz et al. 2017). Two inputs
with correlation ``input_correlation`` go through ``seeds`` networks of ``depth`` layers; the correlation c_l of
their pre-activations approaches its fixed point c* geometrically, |c_l - c*| ~ exp(-l / xi_c). Measured: a fit of
m_l = c* + A r^l (three parameters, least squares weighted by the standard errors) to the mean over networks m_l
on layers ``FIT_FROM``..L, xi_c = -1 / log r, with its standard error by the jackknife over networks (each network
left out in turn, the fit repeated). Theory: :func:`theory.meanfield.analyze` (xi_c from the slope of the
correlation map at c*). The fixed point is fitted, not taken from the theory, so the check of xi_c does not lean on
the theory's c*; the fitted c* is reported beside the theory's.

Finite width (Hanin & Nica 2019): relu networks with He-normal weights and no bias; Var(log ||x_L||^2) over
``seeds`` networks (task ``norms``), against sum_l 1/n_l, beside the exact law
:func:`theory.finite_width.log_norm_variance` and the log-normal approximation sum_l log(1 + 5/n_l)
(:func:`theory.finite_width.lognormal_params`), which agree only for wide layers.
"""
from __future__ import annotations

import math
import tempfile

import numpy as np

from sims import sweep as S
from theory.errors import SpecError

FIT_FROM = 5  # first layer of the fit: the layers before carry the start's transient (q_0 != q*, the c-map's curvature)
START_OFFSET = 0.1  # inputs start this far from the theory's c* in the ordered phase (1 - 0.1)
CHAOTIC_OFFSET = 0.25  # and in the chaotic phase (c* + 0.25): the correlations' noise there is additive, ~0.1 / sqrt(S)
ROUNDING_FLOOR = 1e-13  # the smallest standard error the fit gives a layer (float64 correlations of 512 units)

#: (sigma_w^2, sigma_b^2) of the phase-diagram points: four ordered (chi_1 < 1), two chaotic (chi_1 > 1), with
#: theory xi_c between 1.7 and 8 so that depth 50 spans several depth scales (near the boundary xi_c diverges)
PHASE_POINTS = ((0.9, 0.05), (0.9, 0.2), (1.3, 0.05), (1.3, 0.2), (1.8, 0.2), (3.5, 0.2))
#: float64: in the ordered phase 1 - c_l falls below float32's resolution within the depth (xi_c = 1.7: 1e-8 by layer
#: 25), where float32 correlations would be rounding, not signal
PHASE_RUN = {"activation": "tanh", "width": 512, "depth": 50, "batch": 2, "seeds": 64, "dtype": "float64"}
PHASE_RUN_FAST = {**PHASE_RUN, "width": 128, "depth": 30, "seeds": 8}
FINITE_GRID = {"task": ["norms"], "activation": ["relu"], "width": [8, 16, 32, 64], "depth": [4, 8, 16],
               "seeds": [4000]}
FINITE_GRID_FAST = {**FINITE_GRID, "width": [8, 32], "depth": [4, 8], "seeds": [400]}


# ---------------------------------------------------------------------------------------------- phase diagram
def _fit_xi(layers: np.ndarray, m: np.ndarray, se: np.ndarray, c_star_guess: float) -> tuple[float, float]:
    """(xi, c*) of m_l = c* + A r^l by weighted least squares; nan if the fit fails or r is not in (0, 1)."""
    from scipy.optimize import curve_fit

    def model(l, c, a, log_r):
        return c + a * np.exp(log_r * (l - layers[0]))

    dev = m - c_star_guess
    # the start: the rate of the first two layers' deviations from the last layer's value
    ratio = dev[1] / dev[0] if dev[0] != 0 else 0.5
    p0 = (c_star_guess, dev[0] if dev[0] != 0 else 1e-3, math.log(ratio) if 0 < ratio < 1 else -0.3)
    # no layer is known better than the rounding of its correlation (a sum of n products: ~n eps relative; float64
    # here): in the ordered phase 1 - c_l reaches that floor, where the networks' spread is rounding, not signal
    sigma = np.maximum(se, ROUNDING_FLOOR)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            (c, _a, log_r), _ = curve_fit(model, layers, m, p0=p0, sigma=sigma, method="trf", x_scale="jac",
                                            max_nfev=20000)
    except (RuntimeError, ValueError):
        return math.nan, math.nan
    if not (log_r < 0):
        return math.nan, float(c)
    return float(-1.0 / log_r), float(c)


def measure_xi(per_network, *, fit_from: int = FIT_FROM) -> dict:
    """xi_c from per-network correlation curves (list of S lists over layers 1..L): the fit of the mean curve, and
    the jackknife standard error over networks."""
    c = np.asarray(per_network, dtype=float)
    if c.ndim != 2 or c.shape[0] < 3 or not np.isfinite(c).all():
        raise SpecError("measure_xi needs finite correlations of at least 3 networks")
    S_, L = c.shape
    layers = np.arange(fit_from, L + 1, dtype=float)
    part = c[:, fit_from - 1:]

    def fit(rows):
        m = rows.mean(axis=0)
        se = rows.std(axis=0, ddof=1) / math.sqrt(rows.shape[0])
        return _fit_xi(layers, m, se, float(m[-1]))
    xi, c_star = fit(part)
    leave = np.array([fit(np.delete(part, i, axis=0))[0] for i in range(S_)])
    if not np.isfinite(leave).all() or not math.isfinite(xi):
        return {"xi": xi, "se": math.nan, "c_star": c_star}
    se = math.sqrt((S_ - 1) / S_ * np.sum((leave - leave.mean()) ** 2))
    return {"xi": xi, "se": float(se), "c_star": c_star}


def phase_grids(points=PHASE_POINTS, run: dict = PHASE_RUN, offset: float = START_OFFSET,
                chaotic_offset: float = CHAOTIC_OFFSET) -> list[dict]:
    """One single-configuration grid per point, the input correlation a little off the theory's c* (below 1 in the
    ordered phase, above c* in the chaotic one): close enough for the linearized map, whose rate is xi_c, to hold
    over most of the depth, far enough to stay above the noise for several depth scales."""
    from theory.meanfield import analyze

    grids = []
    for wv, bv in points:
        mf = analyze(run["activation"], wv, bv)
        c0 = mf.c_star - offset if mf.c_star > 1 - offset else mf.c_star + chaotic_offset
        grids.append({**{k: [v] for k, v in run.items()}, "weight_var": [float(wv)], "bias_var": [float(bv)],
                      "input_correlation": [round(float(c0), 6)]})
    return grids


def phase_points(rows: list[dict]) -> list[dict]:
    """Per moments row: sigma_w^2, sigma_b^2, measured xi_c +- se and fitted c*, the theory's xi_c, c*, chi_1 and
    the z-score (measured - theory) / se."""
    from theory.meanfield import analyze

    out = []
    for r in rows:
        cfg = r["config"]
        if cfg["task"] != "moments" or cfg["weight_var"] is None:
            continue
        mf = analyze(cfg["activation"], cfg["weight_var"], cfg["bias_var"])
        meas = measure_xi(r["results"]["correlation_per_network"])
        z = (meas["xi"] - mf.xi_c) / meas["se"] if meas["se"] and math.isfinite(meas["se"]) else math.nan
        out.append({"weight_var": cfg["weight_var"], "bias_var": cfg["bias_var"], "xi": meas["xi"],
                    "xi_se": meas["se"], "c_star_fit": meas["c_star"], "xi_theory": float(mf.xi_c),
                    "c_star_theory": float(mf.c_star), "chi1": float(mf.chi1), "z": z, "width": cfg["width"],
                    "depth": cfg["depth"], "seeds": cfg["seeds"]})
    return out


# ---------------------------------------------------------------------------------------------- finite width
def finite_width_points(rows: list[dict]) -> list[dict]:
    """Per norms row: width, depth, sum 1/n_l, the measured Var(log ||x_L||^2) +- se, the exact law, the
    log-normal sigma^2 and the z-scores of the measurement against both."""
    from theory.finite_width import log_norm_variance, lognormal_params

    out = []
    for r in rows:
        cfg, res = r["config"], r["results"]
        if cfg["task"] != "norms":
            continue
        widths = [cfg["width"]] * (cfg["depth"] + 1)
        exact = log_norm_variance(widths)
        approx = lognormal_params(widths)[1]
        se = res["var_se"]
        out.append({"width": cfg["width"], "depth": cfg["depth"], "inv_width_sum": cfg["depth"] / cfg["width"],
                    "var": res["var"], "var_se": se, "dead": res["dead"], "networks": cfg["seeds"],
                    "exact": exact, "lognormal": approx,
                    "z_exact": (res["var"] - exact) / se, "z_lognormal": (res["var"] - approx) / se})
    return out


# ---------------------------------------------------------------------------------------------- running
def run_grids(grids: list[dict], out=None, *, executor: str = "local", workers: int | None = None) -> list[dict]:
    """Run the configurations of ``grids`` through ``executor`` into the store ``out`` (a temporary folder if None,
    then removed); ``out`` is resumed if it holds part of the same sweep. Returns the rows in grid order.
    A script that runs the local pool needs the ``if __name__ == "__main__":`` guard (the workers are spawned)."""
    def go(folder):
        configs = [c for g in grids for c in S.expand(g)]
        store = S.Store(folder)
        store.prepare({"grids": grids}, configs, resume=True)
        res = S.run_sweep(configs, store, executor=lambda: S.make_executor(executor, workers=workers))
        if res["failed"]:
            raise RuntimeError(f"sweep failed: {res['failed']}")
        rows, missing = store.rows()
        keys = {S.config_key(c) for c in configs}
        return [r for r in rows if r["key"] in keys]
    if out is not None:
        return go(out)
    with tempfile.TemporaryDirectory() as d:
        return go(d)
