"""Optional PyTorch backend of the Monte Carlo engine (``--backend torch [--device cuda]``).

Same networks, same statistics and the same conventions as :mod:`sims.engine`; only the random streams differ
(torch.Generator seeded from the same SeedSequence children), so results agree with the NumPy backend within
the Monte Carlo error, not bit for bit. Imported only when asked for; a clear error when torch is absent.
"""
from __future__ import annotations

import math

import numpy as np

from theory.errors import SpecError

def _torch():
    try:
        import torch
    except ImportError:
        raise SpecError("--backend torch needs PyTorch (pip install torch==2.13.0)") from None
    return torch


def device_of(name: str):
    """``torch.device(name)`` for ``name`` cpu or cuda; SpecError for another name, for cuda without a CUDA device, or
    without torch."""
    torch = _torch()
    if name == "cuda" and not torch.cuda.is_available():
        raise SpecError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise SpecError(f"--device must be cpu or cuda (got {name!r})")
    return torch.device(name)


def _row(act):
    from sims.activations import TABLE

    row = TABLE.get(act.family)
    if row is None:
        raise SpecError(f"the torch backend supports the named activations only (got {act.name!r})")
    return row


def _phi(torch, act):
    """The activation's torch function, named by its row of :data:`sims.activations.TABLE` (with its parameter for
    leaky_relu and elu)."""
    row, p = _row(act), act.param
    F = torch.nn.functional
    if row.torch is None:
        return lambda h: h
    fn = getattr(torch, row.torch) if hasattr(torch, row.torch) else getattr(F, row.torch)
    if act.family in ("leaky_relu", "elu"):
        return lambda h: fn(h, float(p))
    return fn


_ERF_2 = math.erf(2 / math.sqrt(2))  # P(|z| <= 2) = erf(sqrt(2))


def truncated_normal(torch, shape, gen, dtype, device, scale: float = 1.0):
    """``scale`` * N(0, 1) conditioned on |z| <= 2 (Keras' truncated normal), by inverse CDF:
    z = sqrt(2) erfinv(v), v ~ U(-erf(sqrt 2), erf(sqrt 2)). The same distribution as Keras' redraw-beyond-2-sd, in
    four elementwise passes with no host synchronisation (a rejection loop waits for the device every round)."""
    v = torch.empty(shape, dtype=dtype, device=device).uniform_(-_ERF_2, _ERF_2, generator=gen)
    return v.erfinv_().mul_(math.sqrt(2) * scale).clamp_(-2 * scale, 2 * scale)  # clamp: rounding only


def _weights(torch, scheme, fan_in, fan_out, gen, dtype, device):
    from sims.init import scheme_parameter

    shape = (fan_out, fan_in)
    kind = scheme.distribution
    val = lambda which: scheme_parameter(scheme, which, fan_in, fan_out)  # noqa: E731
    if kind == "zeros":
        return torch.zeros(shape, dtype=dtype, device=device)
    if kind == "uniform":
        b = val("bound")
        return torch.empty(shape, dtype=dtype, device=device).uniform_(-b, b, generator=gen)
    if kind == "normal":
        return torch.randn(shape, generator=gen, dtype=dtype, device=device).mul_(val("std"))
    if kind == "truncated_normal":
        return truncated_normal(torch, shape, gen, dtype, device, val("std"))
    if kind == "orthogonal":
        a = torch.randn(max(shape), min(shape), generator=gen, dtype=torch.float64, device=device)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        return (q if shape[0] >= shape[1] else q.T).to(dtype)
    raise SpecError(f"no torch sampler for {kind!r}")


def _backward(torch, act, phi):
    """delta -> delta * phi'(h) as one fused kernel from the stored output p where torch has one (tanh, sigmoid,
    relu), else by autograd of the torch activation at the stored input h: ``fn(delta, p, h)``."""
    aten = torch.ops.aten
    rule = _row(act).torch_backward
    if rule == "tanh_backward":
        return lambda d, p, h: aten.tanh_backward(d, p)
    if rule == "sigmoid_backward":
        return lambda d, p, h: aten.sigmoid_backward(d, p)
    if rule == "threshold_backward":
        return lambda d, p, h: aten.threshold_backward(d, p, 0)  # p > 0 exactly where h > 0
    if rule == "identity":
        return lambda d, p, h: d

    def by_autograd(d, p, h):
        hh = h.detach().requires_grad_(True)
        with torch.enable_grad():
            dphi, = torch.autograd.grad(phi(hh).sum(), hh)
        return d * dphi
    return by_autograd


def needs_preactivations(act) -> bool:
    """Whether the backward needs the pre-activations h kept (autograd of phi at h): every family but tanh, sigmoid,
    relu (fused kernels from the output) and linear."""
    from sims.activations import TABLE

    row = TABLE.get(act.family)
    return row is None or row.torch_backward is None


CUDA_CHUNK_BYTES = 8 * 2**30


def _refuse_batchnorm(config) -> None:
    """Batch norm couples the rows of a batch; only the NumPy pipeline implements it (sims.pipeline). The same for
    dropout."""
    if getattr(config, "batchnorm", False):
        raise SpecError("batch norm: numpy backend only")
    if getattr(config, "dropout_keep", 1.0) < 1:  # numpy only, like batch norm
        raise SpecError("dropout: numpy backend only (the torch backend does not implement it)")


def plan(config, batch: int, itemsize: int, device, chunk: int | None) -> tuple[int, int, int]:
    """(rows per chunk, estimated peak bytes, memory limit in bytes) on ``device``. A chunk stores L outputs (and
    L pre-activations where the backward pass needs them) plus about 4 work arrays of the widest layer; all L
    weight matrices and the batch's inputs (B x n_0) stay resident. On CUDA chunks go up to 8 GiB (a whole batch is one chunk for the benchmark's
    4096 x 4096 x 50) and the limit is 90% of the device's free memory; on the CPU the NumPy engine's limits hold."""
    from sims.workspace import CHUNK_BYTES, MEMORY_LIMIT_BYTES

    _refuse_batchnorm(config)
    torch = _torch()
    stored = 2 * config.depth if needs_preactivations(config.act) else config.depth
    per_row = (stored + 4) * max(config.widths) * itemsize
    cuda = device.type == "cuda"
    if chunk is None:
        chunk = max(2, min(batch, (CUDA_CHUNK_BYTES if cuda else CHUNK_BYTES) // per_row))
    weights = sum(a * b for a, b in zip(config.widths[:-1], config.widths[1:])) * itemsize
    limit = int(0.9 * torch.cuda.mem_get_info(device)[0]) if cuda else MEMORY_LIMIT_BYTES
    inputs = batch * config.widths[0] * itemsize  # drawn whole, before chunking
    return chunk, chunk * per_row + weights + inputs, limit


def network(config, act, scheme, seed_seq, batch, chunk, dtype_name, c0, device):
    """One network's statistics, as :func:`sims.pipeline.network` returns them (:func:`sims.statistics.finish`).

    Each layer's mean and second moment come from one fused ``var_mean`` pass in the working dtype (Welford,
    tree-reduced: rounding far below the Monte Carlo error), combined in float64; the host waits once per chunk
    and pass, to test the sums for finiteness. A non-finite float32 sum is recomputed from float64 casts, so
    divergence means a signal value out of the dtype's range, as in the NumPy engine, not an overflowing sum."""
    _refuse_batchnorm(config)
    torch = _torch()
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    f64 = torch.float64
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed_seq.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1)))
    phi = _phi(torch, act)
    backward = _backward(torch, act, phi)
    keep_pre = needs_preactivations(act)
    L, n = config.depth, config.widths
    W = [_weights(torch, scheme, n[i], n[i + 1], gen, dtype, device) for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [torch.randn(n[i + 1], generator=gen, dtype=dtype, device=device) * sb if sb > 0 else None for i in range(L)]
    x_all = torch.randn(batch, n[0], generator=gen, dtype=dtype, device=device) * math.sqrt(config.input_var)
    x_all[1] = c0 * x_all[0] + math.sqrt(1 - c0 * c0) * x_all[1]
    sums = torch.zeros(5, L, dtype=f64, device=device)  # s_h, s_h2, s_p, s_p2, s_d2
    alive = [torch.zeros(n[i + 1], dtype=torch.bool, device=device) for i in range(L)]
    corr = torch.full((L,), float("nan"), dtype=f64, device=device)
    width = torch.tensor(n[1:], dtype=f64, device=device)

    def moments(t, exact):
        """(mean, mean square) of t as float64 0-d tensors."""
        var, mean = torch.var_mean(t.to(f64) if exact else t, correction=0)
        mean = mean.to(f64)
        return mean, var.to(f64) + mean * mean

    def forward(x, first, exact):
        posts, pres, mom = [x], [None], []
        for l in range(L):
            h = posts[-1] @ W[l].T
            if b[l] is not None:
                h += b[l]
            mom.extend(moments(h, exact))
            if not exact:
                alive[l] |= h.amax(dim=0) > 0
                if first:
                    h0, h1 = h[0].to(f64), h[1].to(f64)
                    corr[l] = h0 @ h1 / torch.sqrt((h0 @ h0) * (h1 @ h1))
            p = phi(h)
            mom.extend(moments(p, exact))
            pres.append(h if keep_pre else None)
            posts.append(p)
        return posts, pres, torch.stack(mom).view(L, 4).T * (x.shape[0] * width)  # rows: s_h, s_h2, s_p, s_p2

    def backward_pass(posts, pres, delta, exact):
        d2 = []
        for l in range(L - 1, -1, -1):  # delta_(l-1) = (delta_l W_l) * phi'(h_(l-1))
            d2.append(torch.linalg.vector_norm(delta.to(f64) if exact else delta).to(f64).square())
            if l > 0:
                delta = backward(delta @ W[l], posts[l], pres[l])
        return torch.stack(d2[::-1])

    diverged = back_diverged = None
    rows_fwd = np.zeros(L)
    for start in range(0, batch, chunk):
        x = x_all[start:start + chunk]
        rows = x.shape[0]
        posts, pres, part = forward(x, start == 0, False)
        finite = torch.isfinite(part).all(dim=0).cpu().numpy()  # the one wait of the forward pass
        if not finite.all():
            _, _, part = forward(x, False, True)  # float32 sums may overflow where values do not
            finite = torch.isfinite(part).all(dim=0).cpu().numpy()
        if not finite.all():  # layers above the first bad one keep this chunk's rows (as the NumPy engine)
            diverged = int(np.argmin(finite)) + 1
            sums[:4, :diverged - 1] += part[:, :diverged - 1]
            rows_fwd[:diverged - 1] += rows
            break
        sums[:4] += part
        rows_fwd += rows
        delta_out = torch.randn(posts[-1].shape, generator=gen, dtype=dtype, device=device)  # dL/dh_L ~ N(0, 1)
        d2 = backward_pass(posts, pres, delta_out, False)
        bad = ~torch.isfinite(d2).cpu().numpy()
        if bad.any():
            d2 = backward_pass(posts, pres, delta_out, True)
            bad = ~torch.isfinite(d2).cpu().numpy()
        if bad.any():  # the backward signal overflowed: layers at and below the deepest bad one are unusable
            back_diverged = max(back_diverged or 0, int(np.flatnonzero(bad).max()) + 1)
        sums[4] += d2  # sums of squares already
    from sims.statistics import SUMS, finish

    s = sums.cpu().numpy()
    acc = dict(zip(SUMS, s))
    alive_np = [a.cpu().numpy() for a in alive]
    # every chunk that finished its forward pass ran its backward pass over all layers: rows_bwd = rows_fwd
    return finish(n, acc, rows_fwd, rows_fwd.copy(), alive_np, corr.cpu().numpy(), None, None, diverged,
                  None if diverged is not None else back_diverged)
