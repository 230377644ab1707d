"""Drawing weight matrices for the init schemes of :mod:`theory.init` (the scheme's SymPy parameters, evaluated).

Shapes are (n_out, n_in) so that h = x @ W.T. float64 uses NumPy's exact samplers. float32 normals are drawn by
Box-Muller from 24-bit uniforms (three times faster than the float32 ziggurat here, and weight drawing is a large
part of the engine's cost): tails beyond sqrt(-2 log 2^-24) = 5.77 sd are cut, a mass of 8e-9 that changes the
variance by less than 1e-7 relative. Keras' truncated normal redraws values beyond 2 sd (as TensorFlow does).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from theory.init import InitScheme

_TWO_PI = np.float32(2 * math.pi)


_POOL = None
PARALLEL_MIN = 1 << 18  # below this, threads cost more than they save


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sims-rng")
    return _POOL


def standard_normal(rng: np.random.Generator, shape, dtype, truncate: float | None = None) -> np.ndarray:
    """N(0, 1) samples of ``dtype`` (``truncate``: values beyond +-truncate are redrawn). Large float32 draws are
    split over two threads, each with a child Generator spawned from ``rng`` (deterministic: the split depends
    only on the size)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == np.float64:
        return _truncated(lambda r, m: r.standard_normal(m), rng, n, truncate).reshape(shape)
    if n >= PARALLEL_MIN:
        first, second = rng.spawn(2)
        half = n // 2
        a = _pool().submit(_truncated, _box_muller, first, half, truncate)
        b = _pool().submit(_truncated, _box_muller, second, n - half, truncate)
        out = np.empty(n, dtype=np.float32)
        out[:half], out[half:] = a.result(), b.result()
        return out.reshape(shape)
    return _truncated(_box_muller, rng, n, truncate).reshape(shape)


def _truncated(draw, rng, n: int, limit: float | None) -> np.ndarray:
    z = draw(rng, n)
    if limit is None:
        return z
    bad = np.flatnonzero(np.abs(z) > limit)
    while bad.size:  # TensorFlow/Keras redraw values beyond the limit
        z[bad] = draw(rng, bad.size)
        bad = bad[np.abs(z[bad]) > limit]
    return z


def _box_muller(rng: np.random.Generator, n: int) -> np.ndarray:
    half = (n + 1) // 2
    u = rng.random(2 * half, dtype=np.float32)
    r, theta = u[:half], u[half:]
    np.subtract(np.float32(1.0), r, out=r)  # (0, 1]: log is finite
    np.log(r, out=r)
    r *= np.float32(-2.0)
    np.sqrt(r, out=r)
    theta *= _TWO_PI
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(theta, out=out[:half])
    np.sin(theta, out=out[half:])
    out[:half] *= r
    out[half:] *= r
    return out[:n]


@lru_cache(maxsize=4096)
def _parameter(scheme: InitScheme, which: str, fan_in: int, fan_out: int) -> float:
    return scheme.value(getattr(scheme, which), fan_in, fan_out)


def sample_weights(scheme: InitScheme, fan_in: int, fan_out: int, rng: np.random.Generator, dtype) -> np.ndarray:
    """One (fan_out, fan_in) weight matrix drawn from ``scheme``."""
    dtype = np.dtype(dtype)
    shape = (fan_out, fan_in)
    kind = scheme.distribution
    if kind == "zeros":
        return np.zeros(shape, dtype=dtype)
    if kind == "uniform":
        bound = dtype.type(_parameter(scheme, "bound", fan_in, fan_out))
        w = rng.random(shape, dtype=dtype)
        w *= dtype.type(2) * bound
        w -= bound
        return w
    if kind == "normal":
        w = standard_normal(rng, shape, dtype)
        w *= dtype.type(_parameter(scheme, "std", fan_in, fan_out))
        return w
    if kind == "truncated_normal":
        z = standard_normal(rng, shape, dtype, truncate=2.0)
        z *= dtype.type(_parameter(scheme, "std", fan_in, fan_out))
        return z
    if kind == "orthogonal":
        a = rng.standard_normal((max(shape), min(shape)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # the sign fix of Keras/PyTorch makes q Haar-distributed
        return (q if shape[0] >= shape[1] else q.T).astype(dtype, copy=False)
    raise ValueError(f"no sampler for distribution {kind!r}")
