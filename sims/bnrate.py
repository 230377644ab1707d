"""Gradient explosion in deep batch-norm networks, measured: the per-layer growth rate of E[(dL/dh_l)^2] going down.

At initialization the backward signal of a deep batch-norm network grows geometrically with depth whatever the init
(Yang et al. 2019, "A mean field theory of batch normalization"): E[(dL/dh_(l-1))^2] = lambda E[(dL/dh_l)^2] with
lambda = (B - 2)/(B - 3) for linear networks and batch size B (closed forms: :mod:`theory.batchnorm_rate`).

:func:`measure_rate` runs S independent networks of the engine's batch-norm path (:mod:`sims.engine`) and fits, per
network s, log grad_var_l = c + slope_s l by ordinary least squares over layers 1 + skip_bottom .. L - skip, and
lambda_s = exp(-slope_s). Left out: the top ``skip`` layers (a transient: the output gradient is iid, not yet the
backward fixed point) and the bottom ``skip_bottom`` (layer 1 normalizes the raw input, not a BN output: for a
linear network its batch variance is (B-1)/B of the others', so E[(dL/dh_1)^2] is larger by B/(B-1), a step that
tilts the fit by a constant that no width removes: measured +0.0026 in log lambda at B = 8, width 2048).
Estimate: the geometric mean exp(mean_s log lambda_s); standard error by the delta method, rate * sd_s(log
lambda_s) / sqrt(S), across the independent networks.

Finite width: log lambda_s is a typical (log-scale) rate; the per-layer factor is a mean over the n units of a
term whose mean is the theory, taken inside the log (Jensen), so it is biased low. Measured (depth 20, layers 2..17,
widths 128-2048): linear about 1.5/n to 2/n for B = 8, 16, 64 (at width 512 and 32 networks: 1-6 SE), ReLU within
the noise for B >= 8; at B = 4 about 1.2/sqrt(n) (linear) and 1.5/sqrt(n) (ReLU), because there the per-unit
factor 1/var_B(h_j), a scaled 1/chi^2_3, has infinite variance (tail index 3/2), so the gap decays like
n^(1 - 3/2) (B = 5: log(n)/n). tests/test_engine_batchnorm.py removes it by extrapolating from two widths.
"""
from __future__ import annotations

import math

import numpy as np

from theory import validate
from theory.errors import SpecError


def _ols_slope_weights(layers: np.ndarray) -> np.ndarray:
    """a with slope = a @ y for the ordinary least-squares line through (layers, y)."""
    centred = layers - layers.mean()
    return centred / np.sum(centred**2)


def measure_rate(activation: str, batch: int, width: int, depth: int, seeds: int, *, init: str = "lecun_normal",
                 seed: int = 0, skip: int = 3, skip_bottom: int = 1, dtype: str = "float64") -> dict:
    """Measured per-layer growth rate of the squared gradient norm in a batch-norm network, beside the theory.

    Returns ``measured_rate``, ``se`` (delta method, across networks), ``theory_rate`` (None where no closed form),
    ``fit_layers`` ([first, last], 1-based, inclusive), ``per_network`` (each network's lambda_s), ``batch``,
    ``seeds``, ``config`` (the network config as a dict), ``dtype``, ``seed``, ``diverged_networks``, ``seconds``.
    A network whose fitted layers are not all finite and positive (divergence) makes the estimate nan (null in
    JSON), never a mean over the survivors."""
    from sims.engine import simulate
    from theory import validate as check
    from theory.batchnorm_rate import gradient_rate
    from theory.config import NetworkConfig

    seed = check.seed(seed)
    validate.integer("batch", batch, 4)  # (theory.batchnorm_rate: E[1/chi^2_(B-1)] diverges for B <= 3)
    validate.integer("skip", skip, 0)
    validate.integer("skip_bottom", skip_bottom, 0)
    config = NetworkConfig(activation=activation, init=init, width=width, depth=depth, batchnorm=True)
    first, last = 1 + skip_bottom, depth - skip
    if last - first + 1 < 3:
        raise SpecError(f"the fit needs >= 3 layers: depth {depth} leaves layers {first}..{last} after skipping "
                        f"{skip_bottom} at the bottom and {skip} at the top")
    theory = gradient_rate(activation, batch)
    res = simulate(config, batch, seeds, dtype=dtype, seed=seed)
    a = _ols_slope_weights(np.arange(first, last + 1, dtype=np.float64))
    g = np.stack([p["grad_var"][first - 1:last] for p in res["per_network"]])  # (S, fitted layers)
    ok = np.all(np.isfinite(g) & (g > 0), axis=1)
    log_rate = np.full(len(g), np.nan)
    log_rate[ok] = -(np.log(g[ok]) @ a)
    if ok.all():
        measured = math.exp(float(log_rate.mean()))
        se = measured * float(log_rate.std(ddof=1)) / math.sqrt(len(log_rate))
    else:
        measured = se = math.nan
    return {"measured_rate": measured, "se": se, "theory_rate": None if theory is None else float(theory),
            "fit_layers": [first, last], "batch": batch, "seeds": seeds,
            "per_network": [math.exp(v) if math.isfinite(v) else None for v in log_rate],
            "config": config.to_dict(), "dtype": dtype, "seed": seed,
            "diverged_networks": res["diverged_networks"], "seconds": res["seconds"]}
