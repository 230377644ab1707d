from __future__ import annotations  # noqa: I001
"""FROZEN ORACLE: sims/engine.py as it was before the one-pipeline rewrite (issue 16, commit ce23478 + fixes), kept
verbatim except for the thread pool's import. tests/test_engine_pins.py checks that the new pipeline gives
bit-identical statistics to these three network loops (plain, dropout, batch norm, batch norm with dropout). Do not
edit or reuse it: it is the "before" of a regression pin, not code of the package."""
"""Monte Carlo engine: S independent random networks of a :class:`theory.config.NetworkConfig` on B inputs.

Network s draws everything (weights, biases, inputs, output gradient) from its own Generator, spawned from one
``SeedSequence(seed)``, so networks are independent and a run is reproducible bit for bit.

Forward: h_1 = x W_1^T + b_1, h_l = phi(h_(l-1)) W_l^T + b_l. Backward from a random output gradient
dL/dh_L ~ N(0, 1): delta_(l-1) = (delta_l W_l) * phi'(h_(l-1)) (the convention of :mod:`theory.predict`).

Per layer and per network: pre-activation mean and second moment E[h^2] (``preact_var``; the variance that the
theory's q_l predicts, since weights and biases have mean zero), post-activation mean and second moment, the
fraction of dead units (never positive over the batch), the cosine correlation of the representations of inputs
0 and 1 (input 1 = c0 x_0 + sqrt(1 - c0^2) x_1', the mean-field c_l), E[delta^2] (``grad_var``), and on request the
Frobenius norm of the weight gradient sum_b delta_l^T x_(l-1) (a third matrix product per layer). Every statistic
is reported as mean and standard error across the S networks (units of one network share inputs and are not
independent; networks are).

Memory: the batch is processed in chunks of C rows, and nothing is allocated per batch row outside a chunk (the
inputs and the output gradient are drawn per chunk from row-block streams). Peak memory is at most about
C * (2L + 8) * max(n) * itemsize (each layer's pre- and post-activations of the chunk, kept for the backward pass,
plus inputs, deltas and scratch) plus one network's weights, sum_l n_l n_(l-1) * itemsize (twice with
weight-gradient norms), plus transient sampling scratch of 40 bytes per entry of the largest weight matrix
(:func:`plan_chunk`). C is chosen so that the first term stays under ``CHUNK_BYTES`` (512 MiB); a run whose
estimated peak exceeds ``MEMORY_LIMIT_BYTES`` (8 GiB) is refused. Buffers are reused between networks and runs;
after a run only that run's buffers stay allocated. Statistics are sums over rows, so they do not depend on C
beyond float rounding; a network that diverges in chunk k averages its earlier layers over the rows they saw.

Divergence: the first layer at which a network's sums are non-finite (overflow past the dtype's range, or nan) is
recorded; that network stops there, its later statistics are nan, and the run goes on. ``diverged_at`` is the
earliest such layer over the networks; statistics of layers at or after it are nan (null in JSON), never a mean
over the survivors, which would be biased. No RuntimeWarning escapes (floating-point errors are silenced inside and
detected from the sums).

Batch norm (``config.batchnorm``; the layer of :mod:`theory.config`: h_l = W_l x_(l-1) + b_l, u_l = (h_l -
mean_B) / sqrt(var_B + eps) per unit over the batch rows, x_l = phi(u_l)) runs in its own code path,
:func:`_network_bn`, and leaves the path above untouched. BN couples the rows, so the chunk is the whole batch
(an explicit smaller chunk is refused; the memory estimate and limit are those above with C = B). There
``preact_*``, ``dead_fraction`` and ``correlation`` are of u_l (BN's output, the input of phi), ``post_*`` of x_l,
and ``grad_var`` = E[(dL/dh_l)^2] of the pre-BN h_l, back-propagated through BN
(dL/dh = (du - mean_B du - u mean_B(du u)) / sqrt(var_B + eps), du = dL/du) from a random output gradient
dL/dx_L ~ N(0, 1) drawn from the same row-block streams as above (reproducible); the weight-gradient norm is that
of dL/dW_l = (dL/dh_l)^T x_(l-1). Seed s draws the same weights, inputs and output gradient with or without BN.
Divergence: as above (a non-finite u_l, x_l or dL/dh_l); the batch moments are float64, so a float32 h of any
finite size normalizes, and a float64 variance past the range is recomputed from h scaled by its largest value.

Dropout (``config.dropout_keep`` = p < 1, the KEEP probability; :mod:`theory.config`): inverted dropout on the outputs
of layers 1..L-1, x_l = D_l * phi(h_l) / p, in its own code path :func:`_network_dropout` (with batch norm: inside
:func:`_network_bn`, after phi, so the next layer's BN sees the dropped-out signal); p = 1 runs the paths above
unchanged. The mask of layer l, rows [r, r + 64), comes from the stream SeedSequence([key, l, r // 64]) (a third key
after the input and output-gradient keys: seed s draws the same weights, inputs and output gradient with and without
dropout), as float32 uniforms U with D = (U < p), so P(D = 1) = p within 2^-24 and the masks, like the inputs, do not
depend on the chunk. The backward pass uses the same mask: delta_(l-1) = (delta_l W_l) * (D_(l-1) / p) * phi'(h_(l-1));
the forward pass stores the product (D/p) phi'(h) per hidden layer (one more array per hidden layer: memory
C * (3L + 7) * max(n) * itemsize, plus one byte per entry for the mask and a 64-row block of uniforms). Statistics: the
pre-activation ones (``preact_*``, ``dead_fraction``, ``correlation``) are of h_l (of u_l with BN), which sees the
dropped-out x_(l-1); ``post_*`` are of the dropped-out x_l at layers 1..L-1 and of phi(h_L) at layer L (not dropped);
``grad_var`` is E[(dL/dh_l)^2] through the masks. Chunk invariance and divergence are as above (a non-finite x_l, which
phi / p can reach before phi does, is a divergence at layer l).
"""

import math
import time
from collections.abc import Callable

import numpy as np

from sims.activations import kernel
from sims.init import sample_weights, standard_normal
from theory.config import NetworkConfig
from theory import validate as check
from theory.errors import SpecError

CHUNK_BYTES = 512 * 2**20
MEMORY_LIMIT_BYTES = 8 * 2**30
STATS = ("preact_mean", "preact_var", "post_mean", "post_second", "dead_fraction", "correlation", "grad_var")


#: The engine's time model, for refusing runs before they start (not a promise of speed): matrix products at
#: FLOP_RATE (float32 on this 2-core machine measures 100-190 GFLOP/s; the slower end is taken), plus a fixed Python
#: cost per layer, chunk and network. A run estimated above MAX_SECONDS is refused.
FLOP_RATE = 1e11
LAYER_OVERHEAD_S = 5e-5
MAX_SECONDS = 24 * 3600.0


def estimate_seconds(config: NetworkConfig, batch: int, seeds: int, chunk: int, weight_grad_norm: bool = False) -> float:
    """The time model's estimate of a run: 2 n_(l-1) n_l flops per row and layer for each matrix product (forward,
    backward, and the weight gradient on request), n_(l-1) n_l weights drawn per layer at about 10 flops each, and
    LAYER_OVERHEAD_S per layer, chunk and network."""
    pairs = sum(a * b for a, b in zip(config.widths[:-1], config.widths[1:]))
    products = 3 if weight_grad_norm else 2
    flops = seeds * (2.0 * pairs * batch * products + 10.0 * pairs)
    chunks = -(-batch // max(chunk, 1))
    return flops / FLOP_RATE + seeds * chunks * config.depth * LAYER_OVERHEAD_S


ROW_ARRAYS_EXTRA = 8  # per chunk besides the 2L stored layers: input, output gradient, 2 deltas, 1 scratch, and
# room for an activation kernel's temporaries and a float64 re-summation


def plan_chunk(config: NetworkConfig, batch: int, itemsize: int, chunk: int | None = None) -> tuple[int, int]:
    """(rows per chunk, estimated peak bytes): chunk * (2L + 8) * max(n) * itemsize for the chunk's arrays, plus
    one network's weights, plus 40 bytes per entry of the largest weight matrix for transient sampling scratch
    (an orthogonal init's float64 QR: 29 bytes per entry measured at 256 x 256). Nothing grows with the batch:
    inputs and output gradients are drawn per chunk. With dropout, per row (L - 1) * max(n) * itemsize + max(n) more
    (the stored (D/p) phi' arrays and the boolean mask) and a 64-row block of float32 uniforms."""
    widest = max(config.widths)
    per_row = (2 * config.depth + ROW_ARRAYS_EXTRA) * widest * itemsize
    fixed = 0
    if config.dropout_keep < 1:  # L - 1 stored (D/p) phi'(h) arrays, a boolean mask, a block of float32 uniforms
        per_row += (config.depth - 1) * widest * itemsize + widest
        fixed = GRAD_BLOCK * widest * 4
    if chunk is None:
        chunk = max(2, min(batch, CHUNK_BYTES // per_row))
    chunk = min(chunk, batch)
    sizes = [a * b for a, b in zip(config.widths[:-1], config.widths[1:])]
    return chunk, chunk * per_row + sum(sizes) * itemsize + 40 * max(sizes) + fixed


def validate(batch: int, seeds: int, dtype: str, chunk: int | None) -> None:
    """SpecError (one line) unless batch >= 2 (two inputs for the correlation), seeds >= 2 (a standard error across
    networks), dtype float32 / float64 and chunk None or >= 2."""
    if not isinstance(batch, int) or batch < 2:
        raise SpecError(f"batch must be an integer >= 2 (got {batch!r}): the two-input correlation needs 2 rows")
    if not isinstance(seeds, int) or seeds < 2:
        raise SpecError(f"seeds must be an integer >= 2 (got {seeds!r}): no standard error from one network")
    if dtype not in ("float32", "float64"):
        raise SpecError(f"dtype must be float32 or float64 (got {dtype!r})")
    if chunk is not None and (not isinstance(chunk, int) or chunk < 2):
        raise SpecError(f"chunk must be an integer >= 2 (got {chunk!r})")


GRAD_BLOCK = 64  # rows per output-gradient stream
_TINY = 1e-30  # below this mean square a float32 dot product may have lost squares to underflow


def _sum_squares(flat: np.ndarray) -> float:
    """sum(x^2) by BLAS in the working dtype; redone in float64 when squares may have underflowed (float32 values
    below ~1e-19 square to subnormals or 0), so tiny gradients are measured, not flushed, and when the float32 sum
    overflowed although every value is finite: divergence is a signal value out of the dtype's range, which does
    not depend on how many rows a chunk sums."""
    s2 = float(np.dot(flat, flat))
    if flat.dtype != np.float64 and (s2 < _TINY * flat.size or (not math.isfinite(s2) and np.isfinite(flat).all())):
        f64 = flat.astype(np.float64)
        s2 = float(np.dot(f64, f64))
    return s2


_ONES: dict = {}


def _sum(flat: np.ndarray) -> float:
    """sum(x) as a BLAS dot product with ones, in the working dtype (like the sums of squares; 2.5x faster than
    NumPy's pairwise sum here). BLAS keeps many partial sums: measured in float32, the error relative to sum|x| is
    1e-7 for 2^21 terms and 5e-7 for 2^24 (pairwise summation: 1e-8), far below the statistical error of a mean.
    Redone in float64 if a float32 sum of finite values overflowed."""
    key = (flat.size, flat.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(flat.size, dtype=flat.dtype)
    s = float(np.dot(flat, ones))
    if not math.isfinite(s) and flat.dtype != np.float64 and np.isfinite(flat).all():
        s = float(flat.sum(dtype=np.float64))
    return s


def _stream_rows(key: int, start: int, rows: int, width: int, dt) -> np.ndarray:
    """N(0, 1) rows [start, start + rows) of a (batch, width) array that is never stored whole: row block b always
    comes from the stream SeedSequence([key, b]), so the draws, and hence the statistics, do not depend on the
    chunk size, and memory does not grow with the batch. Used for the inputs and the output gradient dL/dh_L."""
    first, last = start // GRAD_BLOCK, (start + rows - 1) // GRAD_BLOCK
    blocks = [standard_normal(np.random.default_rng(np.random.SeedSequence([key, b])), (GRAD_BLOCK, width), dt)
              for b in range(first, last + 1)]
    full = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = start - first * GRAD_BLOCK
    return full[offset:offset + rows]


def _stream_mask(key: int, layer: int, start: int, rows: int, width: int, keep: float, out: np.ndarray) -> np.ndarray:
    """The dropout mask D = (U < keep) of rows [start, start + rows) of a layer's (batch, width) mask, written into the
    boolean ``out`` (rows x width). U are float32 uniforms on [0, 1) in steps of 2^-24 from the stream
    SeedSequence([key, layer, b]) of row block b, so P(D = 1) = keep within 2^-24, and the masks, hence the
    statistics, do not depend on the chunk size (as :func:`_stream_rows`); only one block of uniforms is allocated."""
    k32 = np.float32(keep)
    first, last = start // GRAD_BLOCK, (start + rows - 1) // GRAD_BLOCK
    for blk in range(first, last + 1):
        u = np.random.default_rng(np.random.SeedSequence([key, layer, blk])).random((GRAD_BLOCK, width),
                                                                                     dtype=np.float32)
        lo, hi = max(start, blk * GRAD_BLOCK), min(start + rows, (blk + 1) * GRAD_BLOCK)
        np.less(u[lo - blk * GRAD_BLOCK:hi - blk * GRAD_BLOCK], k32, out=out[lo - start:hi - start])
    return out


def _dropout_layer(kern, fused, drop_key, layer, start, chunk, h, p, keep, g, workspace):
    """Inverted dropout of one hidden layer (0-based ``layer``; rows ``start``.. of a chunk of ``chunk`` rows), in
    place: p = phi(h) becomes x = D * phi(h) / keep (exactly fl(phi / keep) where D = 1, 0 where D = 0), and ``g``
    receives the backward factor (D / keep) * phi'(h), computed from the undropped phi(h) as the paths without dropout
    compute phi' in their backward passes. Returns the boolean mask (a workspace buffer, valid until the next layer)."""
    rows, width = p.shape
    dt = p.dtype
    mask = _stream_mask(drop_key, layer, start, rows, width, keep,
                        workspace.get(("mask", width), (chunk, width), np.bool_)[:rows])
    np.copyto(g, mask)  # 0 / 1
    tmp = workspace.get(("t", 0), (chunk, width), dt)[:rows]
    if fused is not None:
        fused(g, p, tmp)
    else:
        tmp[...] = kern.df_from_output(p) if kern.df_from_output is not None else kern.df(h)
        g *= tmp
    k = dt.type(keep)
    g /= k
    p *= mask
    p /= k
    return mask


class Workspace:
    """Buffers reused across networks and runs: fresh 8 MB arrays per layer cost page faults comparable to the
    arithmetic. :meth:`release_unused` (called at the end of every run) drops the buffers that run did not use, so
    what stays allocated between runs is the last run's working set."""

    def __init__(self):
        self._bufs: dict = {}
        self._used: set = set()

    def get(self, key, shape, dtype) -> np.ndarray:
        """The buffer ``key`` with this shape and dtype, reused when it matches (contents undefined)."""
        self._used.add(key)
        buf = self._bufs.get(key)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
            self._bufs.pop(key, None)  # release before allocating: never two generations at once
            buf = self._bufs[key] = np.empty(shape, dtype=dtype)
        return buf

    def release_unused(self) -> None:
        """Drop the buffers not asked for since the last call."""
        for key in set(self._bufs) - self._used:
            del self._bufs[key]
        self._used = set()

    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        return sum(b.nbytes for b in self._bufs.values())


def _split_rows(fn, *arrays):
    """fn on the two row-halves of the arrays in two threads (NumPy ufuncs release the GIL)."""
    rows = arrays[0].shape[0]
    if rows < 64 or arrays[0].size < (1 << 17):
        fn(*arrays)
        return
    from sims.workspace import pool as _pool
    mid = rows // 2
    job = _pool().submit(fn, *(a[:mid] for a in arrays))
    fn(*(a[mid:] for a in arrays))
    job.result()


_WORKSPACE = Workspace()


def _tanh_into(h, p):
    _split_rows(lambda a, b: np.tanh(a, out=b), h, p)


def _tanh_backward(delta, p, tmp):
    """delta *= 1 - p^2 (tanh' from its output), fused over two threads."""
    def part(d, q, t):
        np.multiply(q, q, out=t)
        np.subtract(1, t, out=t)
        d *= t
    _split_rows(part, delta, p, tmp)


def _relu_into(h, p):
    _split_rows(lambda a, b: np.maximum(a, 0, out=b), h, p)


def _relu_backward(delta, p, tmp):
    """delta *= (p > 0), relu' from its output, over two threads."""
    def part(d, q, t):
        np.greater(q, 0, out=t)  # t is a float buffer: True -> 1.0
        d *= t
    _split_rows(part, delta, p, tmp)


def _sigmoid_backward(delta, p, tmp):
    """delta *= p (1 - p), sigmoid' from its output, over two threads."""
    def part(d, q, t):
        np.subtract(1, q, out=t)
        t *= q
        d *= t
    _split_rows(part, delta, p, tmp)


def _linear_into(h, p):
    np.copyto(p, h)


_INPLACE = {"tanh": _tanh_into, "relu": _relu_into, "linear": _linear_into}
_FUSED_BACKWARD = {"tanh": lambda d, p, t: _tanh_backward(d, p, t), "relu": lambda d, p, t: _relu_backward(d, p, t),
                   "sigmoid": lambda d, p, t: _sigmoid_backward(d, p, t), "linear": lambda d, p, t: None}


def _chunk_inputs(inputs, input_key, start, rows, config, dt, c0):
    """Inputs of batch rows [start, start + rows): the user's, or N(0, input_var) from the row-block streams with
    input 1 = c0 x_0 + sqrt(1 - c0^2) x_1' (the first chunk has >= 2 rows), the same whatever the chunk size."""
    if inputs is not None:
        return inputs[start:start + rows].astype(dt, copy=False)
    x = _stream_rows(input_key, start, rows, config.widths[0], dt)
    x *= dt.type(math.sqrt(config.input_var))
    if start == 0:
        x[1] = dt.type(c0) * x[0] + dt.type(math.sqrt(1 - c0 * c0)) * x[1]
    return x


def _network(config, kern, scheme, rng, batch, chunk, dtype, c0, weight_grad_norm, inputs, workspace, samples=0):
    """Statistics of one network: dict of arrays of length L (nan after divergence) and the divergence layer."""
    L, n = config.depth, config.widths
    dt = np.dtype(dtype)
    W = [sample_weights(scheme, n[i], n[i + 1], rng, dt, out=workspace.get(("W", i), (n[i + 1], n[i]), dt))
         for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [standard_normal(rng, (n[i + 1],), dt) * dt.type(sb) if sb > 0 else None for i in range(L)]
    input_key = int(rng.integers(2**63))  # inputs, like the output gradient, come in chunk-independent row blocks
    grad_key = int(rng.integers(2**63))  # output-gradient rows come from per-block streams: chunk-independent
    acc = {k: np.zeros(L) for k in ("s_h", "s_h2", "s_p", "s_p2", "s_d2")}
    # rows that reached each layer: a network that diverges in chunk k skips later chunks, so its earlier layers
    # average over the rows they saw (iid inputs: still unbiased), never over rows they did not see
    rows_fwd, rows_bwd = np.zeros(L), np.zeros(L)
    alive = [np.zeros(n[i + 1], dtype=bool) for i in range(L)]
    corr = np.full(L, np.nan)
    grads = [np.zeros((n[i + 1], n[i]), dtype=dt) for i in range(L)] if weight_grad_norm else None
    diverged = back_diverged = None
    inplace = _INPLACE.get(kern.activation.family)
    kept = {"post": [None] * L, "grad": [None] * L} if samples else None
    for start in range(0, batch, chunk):
        rows = min(chunk, batch - start)
        x = _chunk_inputs(inputs, input_key, start, rows, config, dt, c0)
        hs, posts = [], [x]
        for l in range(L):
            h = np.matmul(posts[-1], W[l].T, out=workspace.get(("h", l), (chunk, n[l + 1]), dt)[:rows])
            if b[l] is not None:
                h += b[l]
            flat = h.ravel()
            s2 = _sum_squares(flat)
            if not math.isfinite(s2):
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_h"][l] += _sum(flat)
            acc["s_h2"][l] += s2
            alive[l] |= np.maximum.reduce(h, axis=0) > 0
            p = workspace.get(("p", l), (chunk, n[l + 1]), dt)[:rows]
            if inplace is not None:
                inplace(h, p)
            else:
                p[...] = kern.f(h)
            pf = p.ravel()
            p2 = _sum_squares(pf)
            if not math.isfinite(p2):  # phi can exceed its input (selu): the output overflowed
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_p"][l] += _sum(pf)
            acc["s_p2"][l] += p2
            rows_fwd[l] += rows
            if kept is not None and start == 0:
                kept["post"][l] = pf[:samples].astype(np.float64)  # the first rows: iid inputs, exchangeable units
            if start == 0:
                h0, h1 = h[0].astype(np.float64), h[1].astype(np.float64)
                corr[l] = float(h0 @ h1 / math.sqrt((h0 @ h0) * (h1 @ h1))) if (h0 @ h0) * (h1 @ h1) > 0 else np.nan
            hs.append(h)
            posts.append(p)
        if diverged is not None:
            break
        delta = _stream_rows(grad_key, start, rows, n[L], dt)
        for l in range(L - 1, -1, -1):
            d2 = _sum_squares(delta.ravel())
            if not math.isfinite(d2):  # the backward signal overflowed at layer l + 1
                back_diverged = l + 1 if back_diverged is None else max(back_diverged, l + 1)
                break
            acc["s_d2"][l] += d2
            rows_bwd[l] += rows
            if kept is not None and start == 0:
                kept["grad"][l] = delta.ravel()[:samples].astype(np.float64)
            if grads is not None:
                grads[l] += delta.T @ posts[l]
            if l > 0:
                nxt = np.matmul(delta, W[l], out=workspace.get(("d", l % 2), (chunk, n[l]), dt)[:rows])
                tmp = workspace.get(("t", 0), (chunk, n[l]), dt)[:rows]
                fused = _FUSED_BACKWARD.get(kern.activation.family)
                if fused is not None:
                    fused(nxt, posts[l], tmp)
                    delta = nxt
                    continue
                if kern.df_from_output is not None:
                    tmp[...] = kern.df_from_output(posts[l])
                else:
                    tmp[...] = kern.df(hs[l - 1])
                nxt *= tmp
                delta = nxt
    return _finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged)


def _network_dropout(config, kern, scheme, rng, batch, chunk, dtype, c0, weight_grad_norm, inputs, workspace,
                     samples=0, trace=None):
    """:func:`_network` with inverted dropout on layers 1..L-1 (module docstring), a copy of it so that the path
    without dropout stays exactly as it is. ``trace`` (a dict, for tests; one chunk only) receives float64 copies of
    the weights, biases, inputs, output gradient dL/dh_L and, per layer, h, phi(h), the mask D (None at layer L), x
    and dL/dh."""
    L, n = config.depth, config.widths
    dt = np.dtype(dtype)
    keep = float(config.dropout_keep)
    # the draws of _network, in its order, then the mask key: seed s gives the same network with and without dropout
    W = [sample_weights(scheme, n[i], n[i + 1], rng, dt, out=workspace.get(("W", i), (n[i + 1], n[i]), dt))
         for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [standard_normal(rng, (n[i + 1],), dt) * dt.type(sb) if sb > 0 else None for i in range(L)]
    input_key = int(rng.integers(2**63))
    grad_key = int(rng.integers(2**63))
    drop_key = int(rng.integers(2**63))  # masks: per (layer, row block) streams, chunk-independent
    if trace is not None:
        if chunk < batch:
            raise ValueError("a dropout trace needs the whole batch in one chunk")
        trace.update(W=[w.astype(np.float64) for w in W], b=[None if v is None else v.astype(np.float64) for v in b],
                     h=[], phi=[], mask=[], x=[], dh=[None] * L)
    acc = {k: np.zeros(L) for k in ("s_h", "s_h2", "s_p", "s_p2", "s_d2")}
    rows_fwd, rows_bwd = np.zeros(L), np.zeros(L)
    alive = [np.zeros(n[i + 1], dtype=bool) for i in range(L)]
    corr = np.full(L, np.nan)
    grads = [np.zeros((n[i + 1], n[i]), dtype=dt) for i in range(L)] if weight_grad_norm else None
    diverged = back_diverged = None
    family = kern.activation.family
    inplace, fused = _INPLACE.get(family), _FUSED_BACKWARD.get(family)
    kept = {"post": [None] * L, "grad": [None] * L} if samples else None
    for start in range(0, batch, chunk):
        rows = min(chunk, batch - start)
        x = _chunk_inputs(inputs, input_key, start, rows, config, dt, c0)
        if trace is not None:
            trace["inputs"] = x.astype(np.float64)
        posts, gs = [x], []
        for l in range(L):
            h = np.matmul(posts[-1], W[l].T, out=workspace.get(("h", l), (chunk, n[l + 1]), dt)[:rows])
            if b[l] is not None:
                h += b[l]
            flat = h.ravel()
            s2 = _sum_squares(flat)
            if not math.isfinite(s2):
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_h"][l] += _sum(flat)
            acc["s_h2"][l] += s2
            alive[l] |= np.maximum.reduce(h, axis=0) > 0
            p = workspace.get(("p", l), (chunk, n[l + 1]), dt)[:rows]
            if inplace is not None:
                inplace(h, p)
            else:
                p[...] = kern.f(h)
            if trace is not None:
                trace["h"].append(h.astype(np.float64))
                trace["phi"].append(p.astype(np.float64))
            if l < L - 1:  # x_l = D phi(h_l) / p; the top layer feeds nothing and is not dropped
                g = workspace.get(("g", l), (chunk, n[l + 1]), dt)[:rows]
                mask = _dropout_layer(kern, fused, drop_key, l, start, chunk, h, p, keep, g, workspace)
                gs.append(g)
                if trace is not None:
                    trace["mask"].append(mask.astype(np.float64))
            elif trace is not None:
                trace["mask"].append(None)
            pf = p.ravel()
            p2 = _sum_squares(pf)
            if not math.isfinite(p2):  # phi / p can overflow where phi did not
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_p"][l] += _sum(pf)
            acc["s_p2"][l] += p2
            rows_fwd[l] += rows
            if kept is not None and start == 0:
                kept["post"][l] = pf[:samples].astype(np.float64)
            if trace is not None:
                trace["x"].append(p.astype(np.float64))
            if start == 0:
                h0, h1 = h[0].astype(np.float64), h[1].astype(np.float64)
                corr[l] = float(h0 @ h1 / math.sqrt((h0 @ h0) * (h1 @ h1))) if (h0 @ h0) * (h1 @ h1) > 0 else np.nan
            posts.append(p)
        if diverged is not None:
            break
        delta = _stream_rows(grad_key, start, rows, n[L], dt)
        if trace is not None:
            trace["output_grad"] = delta.astype(np.float64)
        for l in range(L - 1, -1, -1):
            d2 = _sum_squares(delta.ravel())
            if not math.isfinite(d2):  # the backward signal overflowed at layer l + 1
                back_diverged = l + 1 if back_diverged is None else max(back_diverged, l + 1)
                break
            acc["s_d2"][l] += d2
            rows_bwd[l] += rows
            if kept is not None and start == 0:
                kept["grad"][l] = delta.ravel()[:samples].astype(np.float64)
            if trace is not None:
                trace["dh"][l] = delta.astype(np.float64)
            if grads is not None:
                grads[l] += delta.T @ posts[l]
            if l > 0:  # delta_(l-1) = (delta_l W_l) * (D/p) phi'(h_(l-1)), the factor stored by the forward pass
                delta = np.matmul(delta, W[l], out=workspace.get(("d", l % 2), (chunk, n[l]), dt)[:rows])
                _split_rows(lambda d, f: np.multiply(d, f, out=d), delta, gs[l - 1])
    return _finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged)


def _finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged):
    """Per-network statistics from the accumulated sums (both code paths), and the divergence layer: after a
    forward divergence every statistic at and after it is nan and the gradient is nan everywhere (the backward
    pass never ran); after a backward overflow the gradient is nan at and below it."""
    out = {}
    width = np.array(n[1:], dtype=np.float64)
    count = np.where(rows_fwd > 0, rows_fwd, np.nan) * width  # nan (not 0/0 warnings) where no row arrived
    out["preact_mean"] = acc["s_h"] / count
    out["preact_var"] = acc["s_h2"] / count
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


def _bn_forward(h: np.ndarray, eps: float) -> np.ndarray:
    """Batch norm of one layer, in place: h (rows: the batch, columns: units) becomes u = (h - mean) / sigma with
    sigma = sqrt(var + eps), mean and biased variance per unit over the rows; returns sigma (float64, per unit).

    The moments are float64 (two passes: mean, then the centred squares), so a float32 h of any finite size
    normalizes; where a float64 variance overflows (|h| > ~1e154) it is recomputed from h / max|h|. A non-finite
    h gives a non-finite u: that is the divergence signal."""
    rows = h.shape[0]
    c = h if h.dtype == np.float64 else h.astype(np.float64)
    np.subtract(c, c.mean(axis=0), out=c)
    sigma = np.sqrt(np.einsum("ij,ij->j", c, c) / rows + eps)
    if not np.isfinite(sigma).all() and np.isfinite(c).all():  # squares past the range, values not
        scale = np.abs(c).max(axis=0)
        scale[scale == 0] = 1.0
        r = c / scale
        sigma = scale * np.sqrt(np.einsum("ij,ij->j", r, r) / rows + eps / scale**2)
    np.divide(c, sigma, out=c)
    if c is not h:
        h[...] = c
    return sigma


def _bn_backward(du: np.ndarray, u: np.ndarray, sigma: np.ndarray, tmp: np.ndarray) -> None:
    """dL/du -> dL/dh through :func:`_bn_forward`, in place in ``du``: dh = (du - mean(du) - u mean(du u)) / sigma,
    means per unit over the rows, u the normalized value (eps included, so this is the exact gradient of
    u = (h - mean) / sqrt(var + eps)). ``tmp`` is scratch of du's shape; the two means are float64 sums."""
    dt = du.dtype
    m1 = du.mean(axis=0, dtype=np.float64)
    np.multiply(du, u, out=tmp)
    m2 = tmp.mean(axis=0, dtype=np.float64)
    np.multiply(u, m2.astype(dt), out=tmp)
    du -= m1.astype(dt)
    du -= tmp
    du /= sigma.astype(dt)


def _network_bn(config, kern, scheme, rng, batch, dtype, c0, weight_grad_norm, inputs, workspace, samples=0,
                trace=None):
    """:func:`_network` for a batch-norm network (one chunk: the whole batch). ``trace`` (a dict, for tests) receives
    float64 copies of the weights, biases, inputs, output gradient dL/dx_L and, per layer, h, u, x, sigma, dL/dh;
    with dropout also ``mask`` (D, None at layer L) and ``phi`` (phi(u), before dropout)."""
    L, n = config.depth, config.widths
    dt = np.dtype(dtype)
    # the draws of _network, in its order: seed s gives the same network with and without batch norm
    W = [sample_weights(scheme, n[i], n[i + 1], rng, dt, out=workspace.get(("W", i), (n[i + 1], n[i]), dt))
         for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [standard_normal(rng, (n[i + 1],), dt) * dt.type(sb) if sb > 0 else None for i in range(L)]
    input_key = int(rng.integers(2**63))
    grad_key = int(rng.integers(2**63))
    drop = config.dropout_keep < 1
    drop_key = int(rng.integers(2**63)) if drop else None  # drawn only with dropout: BN alone is unchanged
    gs = []
    if trace is not None:
        trace.update(W=[w.astype(np.float64) for w in W], b=[None if v is None else v.astype(np.float64) for v in b],
                     h=[], u=[], x=[], sigma=[], dh=[None] * L)
        if drop:
            trace.update(mask=[], phi=[])
    acc = {k: np.zeros(L) for k in ("s_h", "s_h2", "s_p", "s_p2", "s_d2")}
    rows_fwd, rows_bwd = np.zeros(L), np.zeros(L)
    alive = [np.zeros(n[i + 1], dtype=bool) for i in range(L)]
    corr = np.full(L, np.nan)
    grads = [np.zeros((n[i + 1], n[i]), dtype=dt) for i in range(L)] if weight_grad_norm else None
    kept = {"post": [None] * L, "grad": [None] * L} if samples else None
    diverged = back_diverged = None
    family = kern.activation.family
    inplace, fused = _INPLACE.get(family), _FUSED_BACKWARD.get(family)
    x = _chunk_inputs(inputs, input_key, 0, batch, config, dt, c0)
    if trace is not None:
        trace["inputs"] = x.astype(np.float64)
    us, posts, sigmas = [], [x], []
    for l in range(L):
        u = np.matmul(posts[-1], W[l].T, out=workspace.get(("h", l), (batch, n[l + 1]), dt))
        if b[l] is not None:
            u += b[l]
        if trace is not None:
            trace["h"].append(u.astype(np.float64))
        sigma = _bn_forward(u, config.bn_eps)  # u now holds BN(h)
        flat = u.ravel()
        s2 = _sum_squares(flat)
        if not math.isfinite(s2):
            diverged = l + 1
            break
        acc["s_h"][l] += _sum(flat)
        acc["s_h2"][l] += s2
        alive[l] |= np.maximum.reduce(u, axis=0) > 0
        p = workspace.get(("p", l), (batch, n[l + 1]), dt)
        if inplace is not None:
            inplace(u, p)
        else:
            p[...] = kern.f(u)
        if drop:  # dropout after phi: the next layer's BN normalizes x_l = D phi(u_l) / p
            if trace is not None:
                trace["phi"].append(p.astype(np.float64))
            if l < L - 1:
                g = workspace.get(("g", l), (batch, n[l + 1]), dt)
                mask = _dropout_layer(kern, fused, drop_key, l, 0, batch, u, p, config.dropout_keep, g, workspace)
                gs.append(g)
                if trace is not None:
                    trace["mask"].append(mask.astype(np.float64))
            elif trace is not None:
                trace["mask"].append(None)
        pf = p.ravel()
        p2 = _sum_squares(pf)
        if not math.isfinite(p2):
            diverged = l + 1
            break
        acc["s_p"][l] += _sum(pf)
        acc["s_p2"][l] += p2
        rows_fwd[l] += batch
        if kept is not None:
            kept["post"][l] = pf[:samples].astype(np.float64)
        u0, u1 = u[0].astype(np.float64), u[1].astype(np.float64)
        corr[l] = float(u0 @ u1 / math.sqrt((u0 @ u0) * (u1 @ u1))) if (u0 @ u0) * (u1 @ u1) > 0 else np.nan
        if trace is not None:
            trace["u"].append(u.astype(np.float64))
            trace["x"].append(p.astype(np.float64))
            trace["sigma"].append(sigma.copy())
        us.append(u)
        posts.append(p)
        sigmas.append(sigma)
    if diverged is None:
        delta = _stream_rows(grad_key, 0, batch, n[L], dt)  # dL/dx_L
        if trace is not None:
            trace["output_grad"] = delta.astype(np.float64)
        for l in range(L - 1, -1, -1):  # delta = dL/dx_(l+1) (0-based layer l) -> dL/du -> dL/dh
            tmp = workspace.get(("t", 0), (batch, n[l + 1]), dt)
            if drop and l < L - 1:  # (D/p) phi'(u_l), stored by the forward pass
                _split_rows(lambda d, f: np.multiply(d, f, out=d), delta, gs[l])
            elif fused is not None:
                fused(delta, posts[l + 1], tmp)
            else:
                tmp[...] = kern.df_from_output(posts[l + 1]) if kern.df_from_output is not None else kern.df(us[l])
                delta *= tmp
            _bn_backward(delta, us[l], sigmas[l], tmp)
            d2 = _sum_squares(delta.ravel())
            if not math.isfinite(d2):  # the backward signal overflowed at layer l + 1
                back_diverged = l + 1
                break
            acc["s_d2"][l] += d2
            rows_bwd[l] += batch
            if kept is not None:
                kept["grad"][l] = delta.ravel()[:samples].astype(np.float64)
            if trace is not None:
                trace["dh"][l] = delta.astype(np.float64)
            if grads is not None:
                grads[l] += delta.T @ posts[l]
            if l > 0:
                delta = np.matmul(delta, W[l], out=workspace.get(("d", l % 2), (batch, n[l]), dt))
    return _finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged)


def bn_trace(config: NetworkConfig, batch: int, rng: np.random.Generator, *, dtype: str = "float64",
             input_correlation: float = 0.5, inputs: np.ndarray | None = None) -> dict:
    """The tensors of one batch-norm network drawn from ``rng`` (float64 copies, for tests and inspection): ``W``,
    ``b`` (None without bias), ``inputs``, ``output_grad`` (dL/dx_L) and per layer ``h``, ``u``, ``x``, ``sigma``,
    ``dh`` (dL/dh_l), plus ``stats`` (what :func:`simulate` reports for this network). With
    ``rng = np.random.default_rng(SeedSequence(seed).spawn(S)[s])`` it is network s of ``simulate(..., seed=seed)``."""
    if not config.batchnorm:
        raise SpecError("bn_trace needs a batch-norm config (batchnorm=True)")
    validate(batch, 2, dtype, None)
    trace: dict = {}
    stats, div = _network_bn(config, kernel(config.act), config.scheme, rng, batch, dtype, input_correlation, False,
                             None if inputs is None else np.asarray(inputs), Workspace(), trace=trace)
    trace["stats"], trace["diverged_at"] = stats, div
    return trace


def dropout_trace(config: NetworkConfig, batch: int, rng: np.random.Generator, *, dtype: str = "float64",
                  input_correlation: float = 0.5, inputs: np.ndarray | None = None) -> dict:
    """The tensors of one dropout network drawn from ``rng`` (float64 copies, for tests and inspection; the whole batch
    in one chunk): ``W``, ``b``, ``inputs``, ``output_grad`` and per layer ``h`` (u with batch norm), ``phi``
    (phi(h), before dropout), ``mask`` (D as 0.0 / 1.0; None at layer L, not dropped), ``x`` (the layer's output,
    D * phi(h) / p), ``dh`` (dL/dh_l), plus ``stats`` and ``diverged_at``. With
    ``rng = np.random.default_rng(SeedSequence(seed).spawn(S)[s])`` it is network s of ``simulate(..., seed=seed)``.
    A batch-norm config gives :func:`bn_trace`'s tensors with ``mask`` and ``phi`` added."""
    if not config.dropout_keep < 1:
        raise SpecError("dropout_trace needs a dropout config (dropout_keep < 1)")
    if config.batchnorm:
        return bn_trace(config, batch, rng, dtype=dtype, input_correlation=input_correlation, inputs=inputs)
    validate(batch, 2, dtype, None)
    trace: dict = {}
    stats, div = _network_dropout(config, kernel(config.act), config.scheme, rng, batch, batch, dtype,
                                  input_correlation, False, None if inputs is None else np.asarray(inputs),
                                  Workspace(), trace=trace)
    trace["stats"], trace["diverged_at"] = stats, div
    return trace


class Simulation(dict):
    """What :func:`simulate` returns: a plain dict (``summary``, ``per_network``, ``diverged_at``, ``samples``,
    ``diverged_networks``, ``seconds``, ``chunk``, ``peak_bytes_estimate``) that Jupyter shows as the per-layer table
    of Var(h_l) = E[h_l^2] and Var(delta_l) = E[delta_l^2], mean ± standard error across the S networks."""

    def _repr_markdown_(self) -> str:
        """Jupyter: one row per layer, Var(h_l) and Var(delta_l) as mean ± s.e.; "—" where a layer diverged."""
        summary = self.get("summary") or {}
        networks = len(self.get("per_network") or ())
        head = f"**Monte Carlo**: {networks} independent networks, mean ± standard error across them"
        if self.get("diverged_at") is not None:
            head += (f"; {self.get('diverged_networks', 0)} diverged, the first at layer {self['diverged_at']} "
                     "(undefined statistics: —)")
        out = [head, "", "| layer | $\\mathrm{Var}(h_l)$ | $\\mathrm{Var}(\\delta_l)$ |", "| ---: | ---: | ---: |"]
        pre, grad = summary.get("preact_var"), summary.get("grad_var")
        depth = len(pre[0]) if pre is not None else 0
        for l in range(depth):
            cells = [self._cell(*stat, l) if stat is not None else "—" for stat in (pre, grad)]
            out.append(f"| {l + 1} | {cells[0]} | {cells[1]} |")
        return "\n".join(out)

    @staticmethod
    def _cell(mean, se, l: int) -> str:
        """'m ± s' (4 and 2 significant digits; 0 below 1e-15), '—' where the mean is not finite (diverged)."""
        m, s = float(mean[l]), float(se[l])
        if not math.isfinite(m):
            return "—"
        text = "0" if abs(m) < 1e-15 else f"{m:.4g}"
        if math.isfinite(s):
            text += " ± " + ("0" if abs(s) < 1e-15 else f"{s:.2g}")
        return text


def simulate(config: NetworkConfig, batch: int, seeds: int, *, dtype: str = "float32", seed: int = 0,
             chunk: int | None = None, input_correlation: float = 0.5, weight_grad_norm: bool = False,
             inputs: np.ndarray | None = None, progress: Callable[[int, int], None] | None = None,
             samples_per_layer: int = 0, backend: str = "numpy", device: str = "cpu") -> dict:
    """Run ``seeds`` independent networks on ``batch`` inputs; per-layer means and standard errors.

    Per layer l and statistic (``result["summary"][name]`` = (mean, se) arrays over layers): the mean over the S
    networks and its standard error std / sqrt(S), networks independent (each from its own SeedSequence child);
    ``preact_var`` = E[h_l^2] is what the mean-field q_l predicts, ``grad_var`` = E[delta_l^2] from a random output
    gradient dL/dh_L ~ N(0, 1) (module docstring). Returns a :class:`Simulation` (a dict; Jupyter shows the table).

    ``samples_per_layer`` > 0 (on request: histograms and quantiles) keeps, per network and layer, that many
    post-activation values and back-propagated deltas from the first rows of the batch, in
    ``result["samples"]["post"|"grad"][layer]`` (concatenated over networks).
    """
    validate(batch, seeds, dtype, chunk)
    seed = check.seed(seed)
    if not (-1.0 <= input_correlation <= 1.0):
        raise SpecError(f"input correlation must be in [-1, 1] (got {input_correlation})")
    if inputs is not None:
        inputs = np.asarray(inputs)
        if inputs.ndim != 2 or inputs.shape != (batch, config.widths[0]):
            raise SpecError(f"inputs must have shape (batch, n_0) = ({batch}, {config.widths[0]}), got {inputs.shape}")
    if backend not in ("numpy", "torch"):
        raise SpecError(f"backend must be numpy or torch (got {backend!r})")
    if config.dropout_keep < 1 and backend != "numpy":
        raise SpecError("dropout: numpy backend only (the torch backend does not implement it)")
    if config.batchnorm:
        if backend != "numpy":
            raise SpecError("batch norm: numpy backend only")
        if chunk is not None and chunk < batch:
            raise SpecError(f"batch norm normalizes over the whole batch, so the chunk must hold all {batch} rows "
                            f"(got chunk {chunk}; leave it out)")
        chunk = batch
    itemsize = np.dtype(dtype).itemsize
    if backend == "torch":
        from sims import torch_backend
        if weight_grad_norm or samples_per_layer or inputs is not None:
            raise SpecError("the torch backend computes the default statistics only")
        dev = torch_backend.device_of(device)
        chunk, peak, limit = torch_backend.plan(config, batch, itemsize, dev, chunk)
    else:
        if device != "cpu":
            raise SpecError("--device cuda needs --backend torch")
        chunk, peak = plan_chunk(config, batch, itemsize, chunk)
        limit = MEMORY_LIMIT_BYTES
    if weight_grad_norm:
        peak += sum(a * b for a, b in zip(config.widths[:-1], config.widths[1:])) * itemsize
    if peak > limit:
        raise SpecError(f"this run needs about {peak / 2**30:.1f} GiB; the limit is {limit / 2**30:.1f} GiB "
                        "(lower the width, depth or --chunk)")
    seconds_needed = estimate_seconds(config, batch, seeds, chunk, weight_grad_norm)
    if seconds_needed > MAX_SECONDS:
        raise SpecError(f"this run is about {seconds_needed / 3600:,.0f} hours of work by the engine's time model "
                        f"({FLOP_RATE / 1e9:g} GFLOP/s for the products, {LAYER_OVERHEAD_S * 1e6:g} us per layer and "
                        f"chunk); the limit is {MAX_SECONDS / 3600:g} hours: lower the seeds, batch, width or depth")
    kern = kernel(config.act)
    scheme = config.scheme
    children = np.random.SeedSequence(seed).spawn(seeds)
    per_net, diverged = [], []
    workspace = _WORKSPACE  # kept between runs: re-touching fresh 8 MB buffers costs page faults every call
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for s, child in enumerate(children):
            if backend == "torch":
                stats, div = torch_backend.network(config, config.act, scheme, child, batch, chunk, dtype,
                                                   input_correlation, dev)
                per_net.append(stats)
                diverged.append(div)
                if progress is not None:
                    progress(s + 1, seeds)
                continue
            if config.batchnorm:
                stats, div = _network_bn(config, kern, scheme, np.random.default_rng(child), batch, dtype,
                                         input_correlation, weight_grad_norm, inputs, workspace, samples_per_layer)
            elif config.dropout_keep < 1:
                stats, div = _network_dropout(config, kern, scheme, np.random.default_rng(child), batch, chunk, dtype,
                                              input_correlation, weight_grad_norm, inputs, workspace,
                                              samples_per_layer)
            else:
                stats, div = _network(config, kern, scheme, np.random.default_rng(child), batch, chunk, dtype,
                                      input_correlation, weight_grad_norm, inputs, workspace, samples_per_layer)
            per_net.append(stats)
            diverged.append(div)
            if progress is not None:
                progress(s + 1, seeds)
    seconds = time.perf_counter() - t0
    workspace.release_unused()
    samples = None
    if samples_per_layer:
        samples = {kind: [np.concatenate([p["samples"][kind][l] for p in per_net if p["samples"][kind][l] is not None])
                          if any(p["samples"][kind][l] is not None for p in per_net) else np.empty(0)
                          for l in range(config.depth)] for kind in ("post", "grad")}
        for p in per_net:
            del p["samples"]
    keys = list(per_net[0])
    summary = {}
    for k in keys:
        arr = np.stack([p[k] for p in per_net])  # (S, L)
        with np.errstate(all="ignore"):
            if k == "correlation":
                # undefined (0/0) where a network's layer is entirely zero (all units dead): averaged over the
                # networks where it is defined; divergence is handled separately (diverged networks are nan
                # in every statistic and set diverged_at)
                ok = np.isfinite(arr)
                count = ok.sum(axis=0)
                safe = np.where(ok, arr, 0.0)
                mean = np.where(count > 0, safe.sum(axis=0) / np.maximum(count, 1), np.nan)
                var = np.where(count > 1, (np.where(ok, (arr - mean) ** 2, 0.0)).sum(axis=0) / np.maximum(count - 1, 1), np.nan)
                se = np.sqrt(var / np.maximum(count, 1))
                if first_div := min((d for d in diverged if d is not None), default=None):
                    mean[first_div - 1:] = np.nan
                    se[first_div - 1:] = np.nan
            else:
                mean = arr.mean(axis=0)
                se = arr.std(axis=0, ddof=1) / math.sqrt(seeds)
        summary[k] = (mean, se)
    first = min((d for d in diverged if d is not None), default=None)
    return Simulation({"summary": summary, "per_network": per_net, "diverged_at": first, "samples": samples,
                       "diverged_networks": sum(d is not None for d in diverged), "seconds": seconds, "chunk": chunk,
                       "peak_bytes_estimate": peak})


def run_json(config: NetworkConfig, batch: int, seeds: int, **kwargs) -> dict:
    """The ``sims run --json`` document (DESIGN.md): config, layers with MC and theory, diverged_at, seconds."""
    from theory.predict import predict

    theory = predict(config)["layers"]  # first: a user's expression is analysed before the long work
    res = simulate(config, batch, seeds, **kwargs)
    layers = []
    for l in range(config.depth):
        row = {"layer": l + 1}
        for k, (mean, se) in res["summary"].items():
            row[k] = {"mean": float(mean[l]), "se": float(se[l])}
        row["theory_preact_var"] = theory[l]["preact_var"]
        row["theory_grad_var"] = theory[l]["grad_var"]
        layers.append(row)
    return {"config": config.to_dict(),
            "run": {"batch": batch, "seeds": seeds, "dtype": kwargs.get("dtype", "float32"),
                    "seed": kwargs.get("seed", 0), "chunk": res["chunk"],
                    "input_correlation": kwargs.get("input_correlation", 0.5)},
            "layers": layers, "diverged_at": res["diverged_at"], "diverged_networks": res["diverged_networks"],
            "seconds": res["seconds"]}
