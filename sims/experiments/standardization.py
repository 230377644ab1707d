"""Experiment e, the slide «Стандартизация» («Какая из ситуаций лучше для SGD?»): gradient descent on least squares
with raw features on different scales against standardized ones.

Two features x_1 ~ N(0, 1) and x_2 ~ N(0, s^2), target y = x w_true + noise; the loss (1/2n)|X w - y|^2 has
Hessian A = X^T X / n with condition number kappa ~ s^2. Gradient descent with the best fixed step
eta* = 2/(lambda_min + lambda_max) (:mod:`theory.optimization`) contracts the error in the eigenbasis by exactly
(kappa - 1)/(kappa + 1) per step along both eigenvectors (two features: there are no others), so the number of
steps to a relative error tol is the theory's ceil(log tol / log rate) exactly; standardizing the columns makes
A the sample correlation matrix (kappa ~ 1, one or two steps).
"""
from __future__ import annotations

import numpy as np

from theory.errors import SpecError
from theory.optimization import rate, steps_to

SCALES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)


def make_data(scale: float, n: int = 500, seed: int = 0):
    """(x, y): n rows of x_1 ~ N(0, 1), x_2 ~ N(0, scale^2) and y = x w_true + 0.1 N(0, 1), w_true = (1, -2/scale), all
    from ``default_rng(seed)``; kappa of X^T X / n grows like scale^2."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)) * np.array([1.0, scale])
    w_true = np.array([1.0, -2.0 / scale])
    y = x @ w_true + 0.1 * rng.standard_normal(n)
    return x, y


def standardize(x: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit variance: (x - mean) / std (ddof 0), per column."""
    return (x - x.mean(axis=0)) / x.std(axis=0)


def descend(x: np.ndarray, y: np.ndarray, *, tol: float = 1e-6, max_steps: int = 100_000, w0=None, keep_path=0):
    """Full-batch gradient descent with eta* on (1/2n)|Xw - y|^2 (centred y and X: no intercept needed) until the
    error |w - w_hat| in the A-eigenbasis falls below tol times its start. Returns steps, kappa, eta, rate, path."""
    if not 0 < tol < 1:
        raise SpecError(f"tol must be in (0, 1) (got {tol})")
    n = x.shape[0]
    a = x.T @ x / n
    b = x.T @ y / n
    lam = np.linalg.eigvalsh(a)
    kappa = float(lam[-1] / lam[0])
    eta = 2.0 / (lam[0] + lam[-1])
    w_hat = np.linalg.solve(a, b)
    w = np.array([-3.0, 3.0]) * np.sqrt(np.diag(np.linalg.inv(a))) if w0 is None else np.asarray(w0, float)
    e0 = np.linalg.norm(w - w_hat)
    path = [w.copy()]
    steps = 0
    while np.linalg.norm(w - w_hat) > tol * e0 and steps < max_steps:
        w = w - eta * (a @ w - b)
        steps += 1
        if steps <= keep_path:
            path.append(w.copy())
    return {"steps": steps, "kappa": kappa, "eta": float(eta), "rate": rate(kappa), "theory_steps": steps_to(kappa, tol),
            "path": np.array(path), "w_hat": w_hat, "hessian": a, "b": b}


def run(scales=SCALES, *, n: int = 500, tol: float = 1e-6, seed: int = 0, keep_path: int = 40) -> dict:
    """Per scale: raw and standardized runs (steps, kappa, theory steps); paths for the contour panels."""
    rows = []
    for k, s in enumerate(scales):
        x, y = make_data(s, n, seed + k)
        y = y - y.mean()
        raw = descend(x - x.mean(axis=0), y, tol=tol, keep_path=keep_path)
        std = descend(standardize(x), y, tol=tol, keep_path=keep_path)
        rows.append({"scale": s, "raw": raw, "standardized": std})
    return {"rows": rows, "tol": tol, "n": n, "seed": seed}
