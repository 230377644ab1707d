"""One network of the Monte Carlo engine, through one layer pipeline: linear, then batch norm if asked, then the
activation, then dropout if asked (layers 1..L-1), for any mix of batch norm and dropout.

Forward, per chunk of rows: h_l = x_(l-1) W_l^T + b_l; with batch norm u_l = BN(h_l) (the statistics of "the
pre-activation" are then of u_l); phi; with dropout x_l = D_l phi / p, the backward factor (D_l / p) phi' stored.
Backward from a random output gradient (dL/dh_L without batch norm, dL/dx_L with it): at each layer the activation's
derivative (or the stored dropout factor), batch norm's backward where present, the statistics of dL/dh_l, then the
product with W_l. :mod:`sims.engine` documents the statistics, memory and divergence; :mod:`sims.statistics` holds
the sums; :mod:`sims.streams` the chunk-independent random streams.
"""
from __future__ import annotations

import math

import numpy as np

from sims import statistics as st
from sims.batchnorm import bn_backward, bn_forward
from sims.init import sample_weights, standard_normal
from sims.streams import chunk_inputs, stream_mask, stream_rows
from sims.workspace import split_rows


# ------------------------------------------------------------------------------------------------ activations
def activate(kern, h, p) -> None:
    """p = phi(h): in place and over two threads for tanh, relu and linear, else the kernel's vectorised phi."""
    if kern.inplace is not None:  # the activation table's in-place pass (sims.activations.TABLE)
        kern.inplace(h, p)
    else:
        p[...] = kern.f(h)


def apply_derivative(kern, delta, post, pre, tmp) -> None:
    """delta *= phi'(pre), from the output ``post`` where the activation allows (fused), else from the input."""
    if kern.fused_backward is not None:  # the activation table's fused pass
        kern.fused_backward(delta, post, tmp)
        return
    tmp[...] = kern.df_from_output(post) if kern.df_from_output is not None else kern.df(pre)
    delta *= tmp


# ------------------------------------------------------------------------------------------------ dropout
def _dropout(kern, drop_key, layer, start, chunk, h, p, keep, g, workspace):
    """Inverted dropout of one hidden layer, in place: p = phi(h) becomes x = D * phi(h) / keep (exactly fl(phi /
    keep) where D = 1, 0 where D = 0), and ``g`` receives the backward factor (D / keep) * phi'(h), computed from the
    undropped phi(h) as the path without dropout computes phi'. Returns the boolean mask (a workspace buffer)."""
    rows, width = p.shape
    dt = p.dtype
    mask = stream_mask(drop_key, layer, start, rows, width, keep,
                       workspace.get(("mask", width), (chunk, width), np.bool_)[:rows])
    np.copyto(g, mask)  # 0 / 1
    apply_derivative(kern, g, p, h, workspace.get(("t", 0), (chunk, width), dt)[:rows])
    k = dt.type(keep)
    g /= k
    p *= mask
    p /= k
    return mask


# ------------------------------------------------------------------------------------------------ one network
def network(config, kern, scheme, rng, batch, chunk, dtype, c0, weight_grad_norm, inputs, workspace, samples=0,
            trace=None, fourth=False, fixed_input=False):
    """Statistics of one network (:func:`sims.statistics.finish`: per-layer arrays, nan after divergence, and the
    divergence layer). The draws, in order: weights, biases, the input key, the output-gradient key, and with
    dropout the mask key, so seed s gives the same network with and without batch norm or dropout.

    ``trace`` (a dict, for tests; the whole batch in one chunk) receives float64 copies of the weights ``W``, biases
    ``b``, ``inputs``, the output gradient ``output_grad`` and per layer ``h`` (before batch norm), ``x`` (the
    layer's output), ``dh`` (dL/dh_l); with batch norm ``u`` and ``sigma``; with dropout ``phi`` (phi before
    dropout) and ``mask`` (D as 0.0 / 1.0, None at layer L). ``fourth``: also the sum of h^4 per layer (the
    excess kurtosis; off by default, so runs that do not ask pay nothing); ``fixed_input``: inputs of equal norm
    (:func:`sims.streams.chunk_inputs`)."""
    L, n = config.depth, config.widths
    dt = np.dtype(dtype)
    bn, drop = bool(config.batchnorm), config.dropout_keep < 1
    keep = float(config.dropout_keep)
    W = [sample_weights(scheme, n[i], n[i + 1], rng, dt, out=workspace.get(("W", i), (n[i + 1], n[i]), dt))
         for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [standard_normal(rng, (n[i + 1],), dt) * dt.type(sb) if sb > 0 else None for i in range(L)]
    input_key = int(rng.integers(2**63))  # inputs, like the output gradient, come in chunk-independent row blocks
    grad_key = int(rng.integers(2**63))
    drop_key = int(rng.integers(2**63)) if drop else None  # drawn only with dropout: the other paths are unchanged
    if trace is not None:
        if chunk < batch:
            raise ValueError("a trace needs the whole batch in one chunk")
        trace.update(W=[w.astype(np.float64) for w in W], b=[None if v is None else v.astype(np.float64) for v in b],
                     h=[], x=[], dh=[None] * L)
        if bn:
            trace.update(u=[], sigma=[])
        if drop:
            trace.update(mask=[], phi=[])
    acc = {k: np.zeros(L) for k in st.SUMS + (("s_h4",) if fourth else ())}
    # rows that reached each layer: a network that diverges in chunk k skips later chunks, so its earlier layers
    # average over the rows they saw (iid inputs: still unbiased), never over rows they did not see
    rows_fwd, rows_bwd = np.zeros(L), np.zeros(L)
    alive = [np.zeros(n[i + 1], dtype=bool) for i in range(L)]
    corr = np.full(L, np.nan)
    grads = [np.zeros((n[i + 1], n[i]), dtype=dt) for i in range(L)] if weight_grad_norm else None
    kept = {"post": [None] * L, "grad": [None] * L} if samples else None
    diverged = back_diverged = None
    for start in range(0, batch, chunk):
        rows = min(chunk, batch - start)
        x = chunk_inputs(inputs, input_key, start, rows, config, dt, c0, fixed_input)
        if trace is not None:
            trace["inputs"] = x.astype(np.float64)
        pres, posts, gs, sigmas = [], [x], [], []
        for l in range(L):
            h = np.matmul(posts[-1], W[l].T, out=workspace.get(("h", l), (chunk, n[l + 1]), dt)[:rows])
            if b[l] is not None:
                h += b[l]
            if trace is not None:
                trace["h"].append(h.astype(np.float64))
            if bn:
                sigmas.append(bn_forward(h, config.bn_eps))  # h now holds u = BN(h)
            flat = h.ravel()
            s2 = st.sum_squares(flat)
            if not math.isfinite(s2):
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_h"][l] += st.total(flat)
            acc["s_h2"][l] += s2
            if fourth:
                sq = np.square(flat, dtype=np.float64)
                acc["s_h4"][l] += float(np.dot(sq, sq))
            alive[l] |= np.maximum.reduce(h, axis=0) > 0
            p = workspace.get(("p", l), (chunk, n[l + 1]), dt)[:rows]
            activate(kern, h, p)
            if drop:
                if trace is not None:
                    trace["phi"].append(p.astype(np.float64))
                if l < L - 1:  # x_l = D phi(h_l) / p; the top layer feeds nothing and is not dropped
                    g = workspace.get(("g", l), (chunk, n[l + 1]), dt)[:rows]
                    mask = _dropout(kern, drop_key, l, start, chunk, h, p, keep, g, workspace)
                    gs.append(g)
                    if trace is not None:
                        trace["mask"].append(mask.astype(np.float64))
                elif trace is not None:
                    trace["mask"].append(None)
            pf = p.ravel()
            p2 = st.sum_squares(pf)
            if not math.isfinite(p2):  # phi can exceed its input (selu), and phi / p where phi did not
                diverged = l + 1 if diverged is None else min(diverged, l + 1)
                break
            acc["s_p"][l] += st.total(pf)
            acc["s_p2"][l] += p2
            rows_fwd[l] += rows
            if kept is not None and start == 0:
                kept["post"][l] = pf[:samples].astype(np.float64)  # the first rows: iid inputs, exchangeable units
            if start == 0:
                corr[l] = st.cosine(h[0], h[1])
            if trace is not None:
                trace["x"].append(p.astype(np.float64))
                if bn:
                    trace["u"].append(h.astype(np.float64))
                    trace["sigma"].append(sigmas[-1].copy())
            pres.append(h)
            posts.append(p)
        if diverged is not None:
            break
        delta = stream_rows(grad_key, start, rows, n[L], dt)  # dL/dh_L, or dL/dx_L with batch norm
        if trace is not None:
            trace["output_grad"] = delta.astype(np.float64)
        for l in range(L - 1, -1, -1):
            if bn:  # delta = dL/dx_(l+1) -> dL/du -> dL/dh
                tmp = workspace.get(("t", 0), (chunk, n[l + 1]), dt)[:rows]
                if drop and l < L - 1:
                    split_rows(lambda d, f: np.multiply(d, f, out=d), delta, gs[l])
                else:
                    apply_derivative(kern, delta, posts[l + 1], pres[l], tmp)
                bn_backward(delta, pres[l], sigmas[l], tmp)
            d2 = st.sum_squares(delta.ravel())
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
            if l == 0:
                continue
            delta = np.matmul(delta, W[l], out=workspace.get(("d", l % 2), (chunk, n[l]), dt)[:rows])
            if bn:
                continue  # the next step applies layer l-1's derivative and batch norm
            if drop:  # delta_(l-1) = (delta_l W_l) * (D/p) phi'(h_(l-1)), the factor stored by the forward pass
                split_rows(lambda d, f: np.multiply(d, f, out=d), delta, gs[l - 1])
            else:
                apply_derivative(kern, delta, posts[l], pres[l - 1],
                            workspace.get(("t", 0), (chunk, n[l]), dt)[:rows])
    return st.finish(n, acc, rows_fwd, rows_bwd, alive, corr, grads, kept, diverged, back_diverged)
