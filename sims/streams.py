"""Random streams of the Monte Carlo engine that do not depend on the chunk size.

A (batch, width) array that the engine never stores whole (the inputs, the output gradient dL/dh_L, a layer's
dropout mask) is drawn in row blocks of ``GRAD_BLOCK`` rows: block b of a stream always comes from the generator of
``SeedSequence([key, b])`` (``[key, layer, b]`` for masks). Any chunk of rows [start, start + rows) is then the same
numbers whatever the chunk size, so the statistics do not depend on it, and memory does not grow with the batch.
"""
from __future__ import annotations

import math

import numpy as np

from sims.init import standard_normal

GRAD_BLOCK = 64  # rows per stream block


def stream_rows(key: int, start: int, rows: int, width: int, dt) -> np.ndarray:
    """N(0, 1) rows [start, start + rows) of the stream ``key`` (module docstring). Used for the inputs and the
    output gradient dL/dh_L."""
    first, last = start // GRAD_BLOCK, (start + rows - 1) // GRAD_BLOCK
    blocks = [standard_normal(np.random.default_rng(np.random.SeedSequence([key, b])), (GRAD_BLOCK, width), dt)
              for b in range(first, last + 1)]
    full = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = start - first * GRAD_BLOCK
    return full[offset:offset + rows]


def stream_mask(key: int, layer: int, start: int, rows: int, width: int, keep: float, out: np.ndarray) -> np.ndarray:
    """The dropout mask D = (U < keep) of rows [start, start + rows) of a layer's (batch, width) mask, written into the
    boolean ``out`` (rows x width). U are float32 uniforms on [0, 1) in steps of 2^-24 from the stream
    SeedSequence([key, layer, b]) of row block b, so P(D = 1) = keep within 2^-24; only one block of uniforms is
    allocated."""
    k32 = np.float32(keep)
    first, last = start // GRAD_BLOCK, (start + rows - 1) // GRAD_BLOCK
    for blk in range(first, last + 1):
        u = np.random.default_rng(np.random.SeedSequence([key, layer, blk])).random((GRAD_BLOCK, width),
                                                                                     dtype=np.float32)
        lo, hi = max(start, blk * GRAD_BLOCK), min(start + rows, (blk + 1) * GRAD_BLOCK)
        np.less(u[lo - blk * GRAD_BLOCK:hi - blk * GRAD_BLOCK], k32, out=out[lo - start:hi - start])
    return out


def chunk_inputs(inputs, input_key: int, start: int, rows: int, config, dt, c0: float,
                 fixed: bool = False) -> np.ndarray:
    """Inputs of batch rows [start, start + rows): the user's, or N(0, input_var) from the row-block streams with
    input 1 = c0 x_0 + sqrt(1 - c0^2) x_1' (the first chunk has >= 2 rows), the same whatever the chunk size.
    ``fixed``: each row rescaled to |x|^2 / n_0 = input_var (the fixed-input ensemble of the finite-width theory:
    with Gaussian weights only the norm matters)."""
    if inputs is not None:
        return inputs[start:start + rows].astype(dt, copy=False)
    x = stream_rows(input_key, start, rows, config.widths[0], dt)
    x *= dt.type(math.sqrt(config.input_var))
    if start == 0:
        x[1] = dt.type(c0) * x[0] + dt.type(math.sqrt(1 - c0 * c0)) * x[1]
    if fixed:
        norms = np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
        x *= (math.sqrt(config.widths[0] * config.input_var) / np.maximum(norms, 1e-300)).astype(dt)
    return x
