"""Finite-depth mean-field predictions for a :class:`theory.config.NetworkConfig`.

Forward (exact in the infinite-width limit; the Monte Carlo measures the finite-width deviation):
    q_1 = n_0 Var(w_1) E[x^2] + sigma_b^2,
    q_l = n_(l-1) Var(w_l) E[phi(sqrt(q_(l-1)) z)^2] + sigma_b^2.
Backward, from a random output gradient dL/dh_L ~ N(0, 1) per unit, under the gradient-independence assumption
(Schoenholz et al. 2017):
    Var(delta_L) = 1,   Var(delta_(l-1)) = n_l Var(w_l) E[phi'(sqrt(q_(l-1)) z)^2] Var(delta_l).
With inverted dropout of keep probability p (``config.dropout_keep``, on x_1..x_(L-1), :mod:`theory.config`):
E[x_l^2] = E[D^2] E[phi(h_l)^2] / p^2 = E[phi(h_l)^2] / p, so for l >= 2 q_l = n_(l-1) Var(w_l) E[phi^2] / p + sigma_b^2
(q_1 unchanged), and delta_(l-1) = (W_l^T delta_l) * (D_(l-1) / p) phi'(h_(l-1)) picks up E[(D/p)^2] = 1/p:
Var(delta_(l-1)) = n_l Var(w_l) E[phi'^2] / p * Var(delta_l) (Var(delta_L) = 1 unchanged). For linear and ReLU
networks with symmetric iid weights these means are exact at any width, as without dropout (the mask is independent
of everything else).
With batch norm (``config.batchnorm``) the prediction is of BN's output u_l: E[u^2] = mean over units of
var_B / (var_B + eps) = 1 - O(eps / var_B) at every layer, given as 1 (no closed form for the eps correction, which
lowers it by about eps / Var(h_l)); the gradient's per-layer growth rate is :mod:`theory.batchnorm_rate`'s, and its
level is not predicted here (``grad_var`` None, null in JSON). Dropout before batch norm leaves BN's output
normalized (preact_var 1 as above); its gradient level is not predicted either.
"""
from __future__ import annotations

import math

import numpy as np

from theory import activations as acts
from theory import budget
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
    batch norm, preact_var 1 and grad_var None at every layer, and a ``note`` saying so (module docstring). With
    dropout (keep p < 1) every hidden layer's E[phi^2] and E[phi'^2] are divided by p (module docstring).

    q_l = n_(l-1) Var(w_l) E[phi(sqrt(q_(l-1)) z)^2] + sigma_b^2 and Var(delta_(l-1)) = n_l Var(w_l)
    E[phi'(sqrt(q_(l-1)) z)^2] Var(delta_l), Var(delta_L) = 1: mean field, exact at infinite width, gradients under
    the independence assumption (Schoenholz et al. 2017). With a user's activation expression the recursion runs
    under :mod:`theory.budget` (one line past it)."""
    if acts.is_user(config.act):
        return budget.run(predict, config, what=f"the mean-field prediction for {config.activation!r}",
                          seconds=budget.TOTAL_S)
    if config.batchnorm:
        drop = (f"; dropout (keep p = {config.dropout_keep:g}) before BN does not change BN's output variance, and "
                "the gradient level with dropout is not predicted either") if config.dropout_keep < 1 else ""
        return {"config": config.to_dict(),
                "layers": [{"layer": i + 1, "preact_var": 1.0, "grad_var": None} for i in range(config.depth)],
                "diverged_at": None,
                "note": f"batch norm: preact_var is the variance of BN's output, 1 up to eps (lower by about "
                        f"eps / Var(h) = {config.bn_eps:g} / Var(h)); grad_var is not predicted (only its per-layer "
                        "growth rate, theory.batchnorm_rate)" + drop}
    act, n, wv = config.act, config.widths, config.weight_vars()
    keep = config.dropout_keep
    q = [n[0] * wv[0] * config.input_var + config.bias_var]
    second, dsecond = [], []
    for layer in range(1, config.depth):
        m2, d2 = _moments(act, q[-1])
        if keep != 1.0:  # x_l = D phi(h_l) / p: E[x_l^2] = E[phi^2] / p; backward E[(D/p)^2 phi'^2] = E[phi'^2] / p
            m2, d2 = m2 / keep, d2 / keep
        second.append(m2)
        dsecond.append(d2)
        with np.errstate(over="ignore", invalid="ignore"):
            q.append(float(np.float64(n[layer]) * wv[layer] * m2 + config.bias_var))
    dsecond.append(_moments(act, q[-1])[1])  # layer L: not dropped (and its E[phi'^2] is not used below)
    # lists are 0-based: q[i] = q_(i+1), wv[i] = Var(w_(i+1)), dsecond[i] = E[phi'^2] at q_(i+1), n[i] = n_i
    grad = [1.0]
    for l in range(config.depth, 1, -1):  # Var(delta_(l-1)) = n_l Var(w_l) E[phi'(h_(l-1))^2] Var(delta_l)
        with np.errstate(over="ignore", invalid="ignore"):
            grad.append(float(np.float64(n[l]) * wv[l - 1] * dsecond[l - 2] * grad[-1]))
    grad.reverse()
    bad = [i + 1 for i, v in enumerate(q) if not math.isfinite(v)]
    out = {"config": config.to_dict(),
           "layers": [{"layer": i + 1, "preact_var": q[i], "grad_var": grad[i]} for i in range(config.depth)],
           "diverged_at": bad[0] if bad else None}
    # a finite q whose Gaussian moments are NaN: their mass lies past the quadrature's window (meanfield.past_window)
    cut = [i + 1 for i, (qi, m2, d2) in enumerate(zip(q, second + [0.0], dsecond))
           if math.isfinite(qi) and not (math.isfinite(m2) and math.isfinite(d2))]
    if cut:
        out["not_computed_from"] = cut[0]
        out["note"] = (f"from layer {cut[0]} (Var(h) = {q[cut[0] - 1]:.6g}) the Gaussian moments of "
                       f"{config.activation!r} have mass beyond 9 standard deviations (an activation growing like exp):"
                       " its gradient and the later layers are not computed (NaN), which is not a divergence of the "
                       "network")
    return out


#: The depth and width at which the lecture's "the gradient vanishes / does not vanish" is read: the trajectory of
#: a 20-layer network from the lecture's starting variance Var(x) = 1 (one method for every activation and init).
TRAJECTORY_DEPTH, TRAJECTORY_WIDTH = 20, 512


def backward_trajectory(activation: str, init: str, depth: int = TRAJECTORY_DEPTH, width: int = TRAJECTORY_WIDTH,
                        input_var: float = 1.0) -> dict:
    """The backward signal of a finite-depth network, from :func:`predict` with Var(x) = ``input_var``:
    ``ratio`` = Var(delta_1) / Var(delta_L) (below 1: the gradient reaching the first layer is smaller than the one
    at the output, it vanishes; above 1: it grows), ``per_layer`` = ratio^(1/(L-1)) (the geometric mean factor per
    layer), and ``grad_var`` / ``preact_var`` per layer. The fixed-point factor chi_1 of :mod:`theory.meanfield` is the
    limit of the per-layer factor deep in the network; this is what a net of the given depth sees."""
    layers = predict(NetworkConfig(activation, init, width, depth, input_var=input_var))["layers"]
    grad = [row["grad_var"] for row in layers]
    ratio = grad[0] / grad[-1]
    return {"ratio": ratio, "per_layer": ratio ** (1.0 / (depth - 1)) if depth > 1 else 1.0, "grad_var": grad,
            "preact_var": [row["preact_var"] for row in layers], "depth": depth, "width": width,
            "input_var": input_var}
