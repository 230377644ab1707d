"""Drawing weight matrices for the init schemes of :mod:`theory.init` (the scheme's SymPy parameters, evaluated).

Shapes are (n_out, n_in) so that h = x @ W.T. float64 uses NumPy's exact samplers. float32 normals are drawn by
Box-Muller from 24-bit uniforms (three times faster than the float32 ziggurat here, and weight drawing is a large
part of the engine's cost): tails beyond sqrt(-2 log 2^-24) = 5.77 sd are cut, a mass of 8e-9 that changes the
variance by less than 1e-7 relative. Keras' truncated normal redraws values beyond 2 sd (as TensorFlow does).
"""
from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np

from sims.workspace import pool
from theory.init import InitScheme

_TWO_PI = np.float32(2 * math.pi)


PARALLEL_MIN = 1 << 18  # below this, threads cost more than they save


_LOCAL = threading.local()


def _scratch(n: int, name: str = "uniform", dtype=np.float32) -> np.ndarray:
    """A per-thread buffer of at least n entries, reused: fresh multi-MB arrays cost page faults."""
    bufs = getattr(_LOCAL, "bufs", None)
    if bufs is None:
        bufs = _LOCAL.bufs = {}
    buf = bufs.get(name)
    if buf is None or buf.size < n or buf.dtype != dtype:
        buf = bufs[name] = np.empty(n, dtype=dtype)
    return buf[:n]


def standard_normal(rng: np.random.Generator, shape, dtype, truncate: float | None = None,
                    scale: float = 1.0, out: np.ndarray | None = None) -> np.ndarray:
    """``scale`` * N(0, 1) samples of ``dtype`` (``truncate``: values beyond +-truncate sd are redrawn). Large
    float32 draws are split over two threads, each with a child Generator spawned from ``rng`` writing its half
    of the output (deterministic: the split depends only on the size)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if out is None or out.dtype != dtype or out.size != n or not out.flags.c_contiguous:
        out = np.empty(n, dtype=dtype)
    out = out.reshape(-1)
    if dtype == np.float64:
        _truncated(lambda r, m, o: r.standard_normal(m, out=o), rng, out, truncate)
        if scale != 1.0:
            out *= scale
        return out.reshape(shape)
    if n >= PARALLEL_MIN:
        first, second = rng.spawn(2)
        half = n // 2
        a = pool().submit(_truncated, _box_muller, first, out[:half], truncate, scale)
        _truncated(_box_muller, second, out[half:], truncate, scale)
        a.result()
        return out.reshape(shape)
    _truncated(_box_muller, rng, out, truncate, scale)
    return out.reshape(shape)


SEARCH_BLOCK = 1 << 17  # the out-of-range search runs on blocks: index arrays stay small (no fresh-page faults)


def _out_of_range(out: np.ndarray, bound: float) -> np.ndarray:
    """Indices i with |out[i]| > bound, searched block by block in per-thread scratch."""
    found = []
    for start in range(0, out.size, SEARCH_BLOCK):
        block = out[start:start + SEARCH_BLOCK]
        mag = _scratch(block.size, "abs", block.dtype)
        np.abs(block, out=mag)
        hit = _scratch(block.size, "hit", np.bool_)
        np.greater(mag, bound, out=hit)
        idx = np.flatnonzero(hit)
        if idx.size:
            found.append(idx + start)
    return np.concatenate(found) if found else np.empty(0, dtype=np.intp)


def _truncated(draw, rng, out: np.ndarray, limit: float | None, scale: float = 1.0) -> None:
    draw(rng, out.size, out, scale) if scale != 1.0 else draw(rng, out.size, out)
    if limit is None:
        return
    bound = limit * abs(scale)
    bad = _out_of_range(out, bound)
    while bad.size:  # TensorFlow/Keras redraw values beyond the limit
        fresh = np.empty(bad.size, dtype=out.dtype)
        draw(rng, bad.size, fresh, scale) if scale != 1.0 else draw(rng, bad.size, fresh)
        out[bad] = fresh
        bad = bad[np.abs(fresh) > bound]


def _box_muller(rng: np.random.Generator, n: int, out: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """n float32 normals into ``out`` (allocated if None), times ``scale`` (folded into the radius)."""
    half = (n + 1) // 2
    u = _scratch(2 * half)
    rng.random(out=u, dtype=np.float32)
    r, theta = u[:half], u[half:]
    np.subtract(np.float32(1.0), r, out=r)  # (0, 1]: log is finite
    np.log(r, out=r)
    r *= np.float32(-2.0)
    np.sqrt(r, out=r)
    if scale != 1.0:  # after the root: scale^2 would overflow float32 for scales above ~1e18
        r *= np.float32(scale)
    theta *= _TWO_PI
    if out is None:
        out = np.empty(n, dtype=np.float32)
    lo = n - half  # the cosines fill the first n - half entries, the sines the last half (n odd: one cosine fewer)
    np.cos(theta[:lo], out=out[:lo])
    np.sin(theta, out=out[lo:])
    out[:lo] *= r[:lo]
    out[lo:] *= r
    return out


@lru_cache(maxsize=4096)
def scheme_parameter(scheme: InitScheme, which: str, fan_in: int, fan_out: int) -> float:
    """A scheme's parameter (``bound`` or ``std``) at these fans, evaluated once (SymPy substitution is slow)."""
    return scheme.value(getattr(scheme, which), fan_in, fan_out)


def sample_weights(scheme: InitScheme, fan_in: int, fan_out: int, rng: np.random.Generator, dtype,
                   out: np.ndarray | None = None) -> np.ndarray:
    """One (fan_out, fan_in) weight matrix drawn from ``scheme`` (into ``out`` when given, for reuse)."""
    dtype = np.dtype(dtype)
    shape = (fan_out, fan_in)
    kind = scheme.distribution
    if out is not None and (out.shape != shape or out.dtype != dtype):
        out = None
    if kind == "zeros":
        if out is None:
            return np.zeros(shape, dtype=dtype)
        out.fill(0)
        return out
    if kind == "uniform":
        bound = dtype.type(scheme_parameter(scheme, "bound", fan_in, fan_out))
        w = rng.random(shape, dtype=dtype, out=out)
        w *= dtype.type(2) * bound
        w -= bound
        return w
    if kind == "normal":
        return standard_normal(rng, shape, dtype, scale=scheme_parameter(scheme, "std", fan_in, fan_out), out=out)
    if kind == "truncated_normal":
        return standard_normal(rng, shape, dtype, truncate=2.0, scale=scheme_parameter(scheme, "std", fan_in, fan_out),
                               out=out)
    if kind == "orthogonal":
        a = rng.standard_normal((max(shape), min(shape)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # the sign fix of Keras/PyTorch makes q Haar-distributed
        q = q if shape[0] >= shape[1] else q.T
        if out is None:
            return q.astype(dtype, copy=False)
        np.copyto(out, q, casting="same_kind")
        return out
    raise ValueError(f"no sampler for distribution {kind!r}")
