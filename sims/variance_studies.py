"""Monte Carlo studies of the signal's variance through depth, for the initialization claims (:mod:`lecture`
calls these; it runs no simulation itself).

:func:`layer_factors`: for each (activation, init), ``networks`` independent networks of ``width`` units and
``depth`` layers (float64, input Var(x) = 1); per network, the per-layer factor of Var(h_l), exp of the least-squares
slope of log Var(h_l) over the layers (:func:`sims.statistics.depth_slope`), with the mean field's Var(h_l) and the
same estimator applied to it. :func:`backward_variances`: Var(delta_l) per layer of a linear net with lecun_uniform
weights and unequal widths, with the mean field's prediction; :func:`backward_factors`: its per-layer backward factors
Var(delta_(l-1)) / Var(delta_l), measured and predicted. Seeds come from
:func:`sims.experiments.common.derived_seed` (no seed picked by hand): study path (1, k) for configuration k of
:func:`layer_factors`, (2,) for :func:`backward_variances`.
"""
from __future__ import annotations

import math

import numpy as np

from sims.engine import simulate
from sims.experiments.common import blas_single_thread, derived_seed
from sims.statistics import depth_slope
from theory.config import NetworkConfig
from theory.predict import predict


def layer_factors(configs, width: int, depth: int, batch: int, networks: int) -> dict:
    """``"activation/init"`` -> ``ratios`` (one per network), ``first`` / ``last`` (mean Var(h) at layers 1 and L),
    ``last_se``, ``theory_first``, ``theory_last`` and ``theory_ratio`` (module docstring). BLAS on one thread: the
    products are small, and a second thread only adds contention on a loaded machine."""
    out = {}
    layers = np.arange(1, depth + 1)
    with blas_single_thread():
        for k, (act, init) in enumerate(configs):
            cfg = NetworkConfig(act, init, width, depth)
            r = simulate(cfg, batch, networks, dtype="float64", seed=derived_seed(1, k))
            pv = np.array([p["preact_var"] for p in r["per_network"]], dtype=float)
            theory = [row["preact_var"] for row in predict(cfg)["layers"]]
            out[f"{act}/{init}"] = {
                "ratios": [float(np.exp(depth_slope(np.log(v), layers)[0])) for v in pv],
                "first": r["summary"]["preact_var"][0][0], "last": r["summary"]["preact_var"][0][-1],
                "last_se": r["summary"]["preact_var"][1][-1], "theory_first": theory[0], "theory_last": theory[-1],
                "theory_ratio": float(np.exp(depth_slope(np.log(theory), layers)[0]))}
    return out


def backward_variances(widths, batch: int, networks: int) -> dict:
    """Monte Carlo Var(delta_l) (mean and standard error over independent networks) and Var(h_l) of a linear net with
    lecun_uniform weights and layer widths ``widths`` (the input as wide as the last layer), with the mean field."""
    cfg = NetworkConfig("linear", "lecun_uniform", tuple(widths), len(widths), input_dim=widths[-1])
    with blas_single_thread():
        r = simulate(cfg, batch, networks, dtype="float64", seed=derived_seed(2))
    pred = predict(cfg)["layers"]
    return {"widths": list(cfg.widths), "weight_vars": cfg.weight_vars(),
            "grad_mean": r["summary"]["grad_var"][0], "grad_se": r["summary"]["grad_var"][1],
            "preact_mean": r["summary"]["preact_var"][0],
            "pred_grad": [p["grad_var"] for p in pred], "pred_preact": [p["preact_var"] for p in pred]}


def backward_factors(res: dict) -> list[dict]:
    """Per layer l of a :func:`backward_variances` result, from the last down to 2 (delta_(l-1) = W_l^T delta_l, W_l
    with fan-in n_(l-1) and fan-out n_l): ``layer``, ``n_in``, ``n_out``, ``weight_var`` (of W_l), the mean field's
    factor Var(delta_(l-1)) / Var(delta_l) and the Monte Carlo one (``mc``) with its delta-method standard error
    ``mc_se`` from the two layers' standard errors (conservative: as if independent)."""
    n = res["widths"]
    rows = []
    for l in range(len(n) - 1, 1, -1):
        m_hi, m_lo = res["grad_mean"][l - 1], res["grad_mean"][l - 2]
        se = abs(m_lo / m_hi) * math.hypot(res["grad_se"][l - 2] / m_lo, res["grad_se"][l - 1] / m_hi)
        rows.append({"layer": l, "n_in": n[l - 1], "n_out": n[l], "weight_var": res["weight_vars"][l - 1],
                     "mean_field": res["pred_grad"][l - 2] / res["pred_grad"][l - 1], "mc": m_lo / m_hi, "mc_se": se})
    return rows
