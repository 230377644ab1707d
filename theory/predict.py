"""Finite-depth mean-field predictions for a :class:`theory.config.NetworkConfig`.

Forward (exact in the infinite-width limit; the Monte Carlo measures the finite-width deviation):
    q_1 = n_0 Var(w_1) E[x^2] + sigma_b^2,
    q_l = n_(l-1) Var(w_l) E[phi(sqrt(q_(l-1)) z)^2] + sigma_b^2.
Backward, from a random output gradient dL/dh_L ~ N(0, 1) per unit, under the gradient-independence assumption
(Schoenholz et al. 2017):
    Var(delta_L) = 1,   Var(delta_(l-1)) = n_l Var(w_l) E[phi'(sqrt(q_(l-1)) z)^2] Var(delta_l).
With batch norm (``config.batchnorm``) the prediction is of BN's output u_l: E[u^2] = mean over units of
var_B / (var_B + eps) = 1 - O(eps / var_B) at every layer, given as 1 (no closed form for the eps correction, which
lowers it by about eps / Var(h_l)); the gradient's per-layer growth rate is :mod:`theory.batchnorm_rate`'s, and its
level is not predicted here (``grad_var`` None, null in JSON).
"""
from __future__ import annotations

import math

import numpy as np

from theory.config import NetworkConfig
from theory.meanfield import layer_moments


def _moments(act, q: float) -> tuple[float, float]:
    """E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2]; at q = 0 their limits (one-sided average of phi'(0)^2 at a kink)."""
    if not math.isfinite(q):
        return math.nan, math.nan
    m2, d2 = layer_moments(act, np.array([q]))
    return float(m2[0]), float(d2[0])


def predict(config: NetworkConfig) -> dict:
    """Per layer ``{layer, preact_var, grad_var}`` (layers 1..L) and ``diverged_at`` (first non-finite layer); with
    batch norm, preact_var 1 and grad_var None at every layer, and a ``note`` saying so (module docstring)."""
    if config.batchnorm:
        return {"config": config.to_dict(),
                "layers": [{"layer": i + 1, "preact_var": 1.0, "grad_var": None} for i in range(config.depth)],
                "diverged_at": None,
                "note": f"batch norm: preact_var is the variance of BN's output, 1 up to eps (lower by about "
                        f"eps / Var(h) = {config.bn_eps:g} / Var(h)); grad_var is not predicted (only its per-layer "
                        "growth rate, theory.batchnorm_rate)"}
    act, n, wv = config.act, config.widths, config.weight_vars()
    q = [n[0] * wv[0] * config.input_var + config.bias_var]
    second, dsecond = [], []
    for layer in range(1, config.depth):
        m2, d2 = _moments(act, q[-1])
        second.append(m2)
        dsecond.append(d2)
        with np.errstate(over="ignore", invalid="ignore"):
            q.append(float(np.float64(n[layer]) * wv[layer] * m2 + config.bias_var))
    dsecond.append(_moments(act, q[-1])[1])
    # lists are 0-based: q[i] = q_(i+1), wv[i] = Var(w_(i+1)), dsecond[i] = E[phi'^2] at q_(i+1), n[i] = n_i
    grad = [1.0]
    for l in range(config.depth, 1, -1):  # Var(delta_(l-1)) = n_l Var(w_l) E[phi'(h_(l-1))^2] Var(delta_l)
        with np.errstate(over="ignore", invalid="ignore"):
            grad.append(float(np.float64(n[l]) * wv[l - 1] * dsecond[l - 2] * grad[-1]))
    grad.reverse()
    bad = [i + 1 for i, v in enumerate(q) if not math.isfinite(v)]
    return {"config": config.to_dict(),
            "layers": [{"layer": i + 1, "preact_var": q[i], "grad_var": grad[i]} for i in range(config.depth)],
            "diverged_at": bad[0] if bad else None}
