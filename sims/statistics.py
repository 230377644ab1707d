"""The engine's statistics, in one place: the sums each network accumulates, its per-layer statistics, and the
summary across networks (mean and standard error). The NumPy pipeline (:mod:`sims.pipeline`) and the torch backend
(:mod:`sims.torch_backend`) both end in :func:`finish` and :func:`summarize`.

Sums are BLAS dot products in the working dtype, redone in float64 where float32 may have lost squares to
underflow or overflowed although every value is finite: divergence is a signal value out of the dtype's range,
which does not depend on how many rows a chunk sums.
"""
from __future__ import annotations

import math
import threading

import numpy as np

STATS = ("preact_mean", "preact_var", "post_mean", "post_second", "dead_fraction", "correlation", "grad_var")
SUMS = ("s_h", "s_h2", "s_p", "s_p2", "s_d2")
_TINY = 1e-30  # below this mean square a float32 dot product may have lost squares to underflow


def sum_squares(flat: np.ndarray) -> float:
    """sum(x^2) by BLAS in the working dtype; redone in float64 when squares may have underflowed (float32 values
    below ~1e-19 square to subnormals or 0), so tiny gradients are measured, not flushed, and when the float32 sum
    overflowed although every value is finite."""
    s2 = float(np.dot(flat, flat))
    if flat.dtype != np.float64 and (s2 < _TINY * flat.size or (not math.isfinite(s2) and np.isfinite(flat).all())):
        f64 = flat.astype(np.float64)
        s2 = float(np.dot(f64, f64))
    return s2


#: Vectors of ones by (size, dtype) for :func:`total`: a deliberate cache (at most 65 entries, then cleared),
#: guarded by a lock.
_ONES: dict = {}
_ONES_LOCK = threading.Lock()


def total(flat: np.ndarray) -> float:
    """sum(x) as a BLAS dot product with ones, in the working dtype (like the sums of squares; 2.5x faster than
    NumPy's pairwise sum here). BLAS keeps many partial sums: measured in float32, the error relative to sum|x| is
    1e-7 for 2^21 terms and 5e-7 for 2^24 (pairwise summation: 1e-8), far below the statistical error of a mean.
    Redone in float64 if a float32 sum of finite values overflowed."""
    key = (flat.size, flat.dtype)
    with _ONES_LOCK:
        ones = _ONES.get(key)
        if ones is None:
            if len(_ONES) > 64:
                _ONES.clear()
            ones = _ONES[key] = np.ones(flat.size, dtype=flat.dtype)
    s = float(np.dot(flat, ones))
    if not math.isfinite(s) and flat.dtype != np.float64 and np.isfinite(flat).all():
        s = float(flat.sum(dtype=np.float64))
    return s


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The cosine of two rows in float64 (nan where either is zero): the two-input correlation c_l."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(a @ b / math.sqrt((a @ a) * (b @ b))) if (a @ a) * (b @ b) > 0 else np.nan


def finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged):
    """Per-network statistics from the accumulated sums, and the divergence layer: after a forward divergence every
    statistic at and after it is nan and the gradient is nan everywhere (the backward pass never ran); after a
    backward overflow the gradient is nan at and below it.

    ``acc``: the sums :data:`SUMS` per layer; ``rows_fwd`` / ``rows_bwd``: rows that reached each layer forward /
    backward; ``alive``: per layer, units ever positive; ``corr``: the two-input cosine; ``grads``: weight gradients
    or None; ``kept``: kept samples or None."""
    out = {}
    width = np.array(n[1:], dtype=np.float64)
    count = np.where(rows_fwd > 0, rows_fwd, np.nan) * width  # nan (not 0/0 warnings) where no row arrived
    out["preact_mean"] = acc["s_h"] / count
    out["preact_var"] = acc["s_h2"] / count
    if "s_h4" in acc:  # asked for (the kurtosis): mean h^4
        out["preact_fourth"] = acc["s_h4"] / count
    out["post_mean"] = acc["s_p"] / count
    out["post_second"] = acc["s_p2"] / count
    out["dead_fraction"] = np.array([1.0 - a.mean() for a in alive])
    out["correlation"] = corr
    out["grad_var"] = acc["s_d2"] / (np.where(rows_bwd > 0, rows_bwd, np.nan) * width)
    if grads is not None:
        out["weight_grad_norm"] = np.array([float(np.linalg.norm(g)) for g in grads])
    if kept is not None:
        out["samples"] = kept
    if back_diverged is not None and diverged is None:
        out["grad_var"][:back_diverged] = np.nan
        if "weight_grad_norm" in out:
            out["weight_grad_norm"][:back_diverged] = np.nan
        return out, back_diverged
    if diverged is not None:
        for v in (v for k, v in out.items() if k != "samples"):
            v[diverged - 1:] = np.nan
        out["grad_var"][:] = np.nan  # the backward pass never ran
        if "weight_grad_norm" in out:
            out["weight_grad_norm"][:] = np.nan
    return out, diverged


def summarize(per_net: list[dict], diverged: list, seeds: int) -> dict:
    """{statistic: (mean, standard error)} across the networks, per layer. The correlation is averaged over the
    networks where it is defined (a layer of all-dead units has none) and is nan from the first divergence on."""
    summary = {}
    for k in list(per_net[0]):
        arr = np.stack([p[k] for p in per_net])  # (S, L)
        with np.errstate(all="ignore"):
            if k == "correlation":
                ok = np.isfinite(arr)
                count = ok.sum(axis=0)
                safe = np.where(ok, arr, 0.0)
                mean = np.where(count > 0, safe.sum(axis=0) / np.maximum(count, 1), np.nan)
                var = np.where(count > 1, (np.where(ok, (arr - mean) ** 2, 0.0)).sum(axis=0)
                               / np.maximum(count - 1, 1), np.nan)
                se = np.sqrt(var / np.maximum(count, 1))
                if first_div := min((d for d in diverged if d is not None), default=None):
                    mean[first_div - 1:] = np.nan
                    se[first_div - 1:] = np.nan
            else:
                mean = arr.mean(axis=0)
                se = arr.std(axis=0, ddof=1) / math.sqrt(seeds)
        summary[k] = (mean, se)
    if "preact_fourth" in summary:
        m2 = np.stack([p["preact_var"] for p in per_net])
        m4 = np.stack([p["preact_fourth"] for p in per_net])
        summary["preact_excess_kurtosis"] = pooled_kurtosis(m2, m4)
        del summary["preact_fourth"]
    return summary


def pooled_kurtosis(m2: np.ndarray, m4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(excess kurtosis, jackknife standard error) per layer of a pre-activation over the network ensemble, from each
    network's mean h^2 and h^4 (arrays (S, L)): mean(m4) / mean(m2)^2 - 3, its error from leaving one network out at a
    time (networks are independent; units and inputs within a network are not). nan where a network diverged."""
    s = m2.shape[0]
    with np.errstate(all="ignore"):
        kurt = m4.mean(axis=0) / m2.mean(axis=0) ** 2 - 3
        loo2 = (m2.sum(axis=0) - m2) / (s - 1)
        loo4 = (m4.sum(axis=0) - m4) / (s - 1)
        jack = loo4 / loo2 ** 2 - 3
        se = np.sqrt((s - 1) / s * ((jack - jack.mean(axis=0)) ** 2).sum(axis=0))
    return kurt, se


def depth_slope(values, layers=None) -> tuple[float, float]:
    """(slope, se) of the least-squares line through (layers, values): with ``values`` = log of a per-layer statistic,
    exp(slope) is the factor per layer (the geometric mean growth from one layer to the next). ``layers`` default to
    1, 2, ...; ``se`` is the slope's standard error from the residuals (nan with fewer than three points). The slope
    is NumPy's ``polyfit`` degree 1; a ValueError for fewer than two points."""
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(1, y.size + 1, dtype=np.float64) if layers is None else np.asarray(layers, dtype=np.float64)
    if y.size < 2 or x.shape != y.shape:
        raise ValueError(f"a slope needs two or more (layer, value) pairs of one shape (got {x.shape}, {y.shape})")
    slope, intercept = np.polyfit(x, y, 1)
    if y.size < 3:
        return float(slope), float("nan")
    residual = y - (slope * x + intercept)
    sxx = float(np.sum((x - x.mean()) ** 2))
    return float(slope), math.sqrt(float(residual @ residual) / (y.size - 2) / sxx)


def depth_law(ratios, depths) -> dict:
    """Which law a per-seed depth profile follows: for each row of ``ratios`` (one seed: a positive ratio per depth in
    ``depths``, e.g. |dJ/dW_L| / |dJ/dW_1|), ``factor`` = exp(-slope) of log ratio against depth
    (:func:`depth_slope`: the per-layer factor) and ``rss_gap`` = the residual sum of squares of a line fitted to
    log ratio against log depth (a power law) minus that against depth (an exponential): above 0 when the
    exponential fits better. Lists, one entry per seed."""
    dx = np.asarray(depths, dtype=np.float64)
    factor, gap = [], []
    for r in np.asarray(ratios, dtype=np.float64):
        y = np.log(r)
        factor.append(float(np.exp(-depth_slope(y, dx)[0])))
        rss = {law: float(np.sum((y - np.polyval(np.polyfit(xs, y, 1), xs)) ** 2))
               for law, xs in (("exponential", dx), ("power", np.log(dx)))}
        gap.append(rss["power"] - rss["exponential"])
    return {"factor": factor, "rss_gap": gap}
