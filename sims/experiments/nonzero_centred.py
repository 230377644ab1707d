"""Experiment f, non-zero-centred activations: a unit fed by sigmoid outputs (all positive) gets weight gradients
dL/dw_i = delta x_i whose components all share the sign of delta, so every SGD step moves all its weights up or all
down; reaching weights of mixed signs takes a zig-zag path. Fed by tanh outputs (zero-centred) the components'
signs are free.

Measured here on a single linear unit y_hat = w . x trained by SGD on squared error towards targets y = w* . x with
w* = (1, -1) (mixed signs), the inputs x = phi(z), z ~ N(0, I): the fraction of steps whose gradient components
share one sign (or are 0) until it arrives, the path length over the straight distance |w_0 - w*|, and the steps to get within tol of w*.
Split by sign (:func:`step_signs`): the fractions of steps whose components are all positive / all negative.
"""
from __future__ import annotations

import numpy as np

from sims.activations import kernel
from sims.experiments.common import SEEDS
from theory.activations import get_activation
from theory.errors import SpecError

W_STAR = np.array([1.0, -1.0])


def run(activation: str, *, steps: int = 400, lr: float = 0.5, seed: int = 0, tol: float = 0.05,
        w0=(0.0, 0.0)) -> dict:
    """One SGD run of y_hat = w . x, x = phi(z), z ~ N(0, I_2), on (y_hat - w* . x)^2 / 2 from ``w0``: the path, the
    same-sign fraction of steps until arrival, path length / |w_0 - w*|, steps to |w - w*| < tol (None: never)."""
    if steps < 1 or not lr > 0:
        raise SpecError("steps must be >= 1 and lr > 0")
    f = kernel(get_activation(activation)).f
    rng = np.random.default_rng(seed)
    w = np.asarray(w0, dtype=float).copy()
    path, same_sign, reached = [w.copy()], 0, None
    for t in range(steps):
        x = f(rng.standard_normal(2))
        delta = w @ x - W_STAR @ x  # dL/dy_hat for L = (y_hat - y)^2 / 2
        g = delta * x
        if reached is None:  # counted until the unit arrives (noise-free targets: later gradients vanish)
            same_sign += bool(np.all(g >= 0) or np.all(g <= 0))  # one sign (zeros allowed: relu)
        w = w - lr * g
        path.append(w.copy())
        if reached is None and np.linalg.norm(w - W_STAR) < tol:
            reached = t + 1
    path = np.array(path)
    length = float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))
    straight = float(np.linalg.norm(path[0] - W_STAR))
    return {"activation": get_activation(activation).name, "same_sign_fraction": same_sign / (reached or steps),
            "path_ratio": length / straight, "steps_to_tol": reached, "path": path, "steps": steps, "lr": lr,
            "seed": seed, "tol": tol}


def over_seeds(activation: str, seeds=range(SEEDS), **kw) -> dict:
    """Medians and spreads (min, max) over independent seeds of the three measures."""
    runs = [run(activation, seed=s, **kw) for s in seeds]
    out = {"activation": runs[0]["activation"], "seeds": list(seeds), "steps_budget": runs[0]["steps"]}
    for key in ("same_sign_fraction", "path_ratio", "steps_to_tol"):
        vals = np.array([np.nan if r[key] is None else r[key] for r in runs], dtype=float)
        out[key] = {"median": float(np.nanmedian(vals)) if np.isfinite(vals).any() else None,
                    "min": float(np.nanmin(vals)) if np.isfinite(vals).any() else None,
                    "max": float(np.nanmax(vals)) if np.isfinite(vals).any() else None,
                    "not_reached": int(np.isnan(vals).sum()),
                    "values": [None if np.isnan(v) else float(v) for v in vals]}  # per seed (paired across arms)
    return out


def step_signs(activation: str, seeds: int) -> dict:
    """Per seed 0..seeds-1, the fractions of SGD steps (until arrival) whose gradient components are all > 0 / all < 0
    (``positive`` / ``negative``), from the paths of :func:`run` with its defaults (g_t = (w_t - w_(t+1)) / lr)."""
    pos, neg = [], []
    for s in range(seeds):
        r = run(activation, seed=s)
        n = r["steps_to_tol"] or r["steps"]
        g = -np.diff(r["path"][: n + 1], axis=0) / r["lr"]
        pos.append(float(np.mean(np.all(g > 0, axis=1))))
        neg.append(float(np.mean(np.all(g < 0, axis=1))))
    return {"positive": pos, "negative": neg}
