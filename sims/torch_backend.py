"""Optional PyTorch backend of the Monte Carlo engine (``--backend torch [--device cuda]``).

Same networks, same statistics and the same conventions as :mod:`sims.engine`; only the random streams differ
(torch.Generator seeded from the same SeedSequence children), so results agree with the NumPy backend within
the Monte Carlo error, not bit for bit. Imported only when asked for; a clear error when torch is absent.
"""
from __future__ import annotations

import math

import numpy as np

from theory.errors import SpecError

_TORCH_ACT = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "linear": None, "gelu": "gelu", "silu": "silu",
              "softplus": "softplus", "elu": "elu", "selu": "selu", "leaky_relu": "leaky_relu"}


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _torch():
    try:
        import torch
    except ImportError:
        raise SpecError("--backend torch needs PyTorch (pip install torch==2.13.0)") from None
    return torch


def device_of(name: str):
    torch = _torch()
    if name == "cuda" and not torch.cuda.is_available():
        raise SpecError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise SpecError(f"--device must be cpu or cuda (got {name!r})")
    return torch.device(name)


def _phi(torch, act):
    fam, p = act.family, act.param
    F = torch.nn.functional
    if fam == "linear":
        return lambda h: h
    if fam == "leaky_relu":
        return lambda h: F.leaky_relu(h, float(p))
    if fam == "elu":
        return lambda h: F.elu(h, float(p))
    if fam in _TORCH_ACT:
        return getattr(torch, fam) if hasattr(torch, fam) else getattr(F, fam)
    raise SpecError(f"the torch backend supports the named activations only (got {act.name!r})")


def _weights(torch, scheme, fan_in, fan_out, gen, dtype, device):
    shape = (fan_out, fan_in)
    kind = scheme.distribution
    val = lambda e: scheme.value(e, fan_in, fan_out)  # noqa: E731
    if kind == "zeros":
        return torch.zeros(shape, dtype=dtype, device=device)
    if kind == "uniform":
        b = val(scheme.bound)
        return (torch.rand(shape, generator=gen, dtype=dtype, device=device) * 2 - 1) * b
    if kind == "normal":
        return torch.randn(shape, generator=gen, dtype=dtype, device=device) * val(scheme.std)
    if kind == "truncated_normal":
        z = torch.randn(shape, generator=gen, dtype=dtype, device=device)
        bad = z.abs() > 2
        while bool(bad.any()):  # redraw beyond 2 sd, as Keras/TensorFlow
            z[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=dtype, device=device)
            bad = z.abs() > 2
        return z * val(scheme.std)
    if kind == "orthogonal":
        a = torch.randn(max(shape), min(shape), generator=gen, dtype=torch.float64, device=device)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        return (q if shape[0] >= shape[1] else q.T).to(dtype)
    raise SpecError(f"no torch sampler for {kind!r}")


def network(config, act, scheme, seed_seq, batch, chunk, dtype_name, c0, device):
    """One network's statistics, as :func:`sims.engine._network` returns them (numpy arrays of length L)."""
    torch = _torch()
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed_seq.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1)))
    phi = _phi(torch, act)
    L, n = config.depth, config.widths
    W = [_weights(torch, scheme, n[i], n[i + 1], gen, dtype, device) for i in range(L)]
    sb = math.sqrt(config.bias_var)
    b = [torch.randn(n[i + 1], generator=gen, dtype=dtype, device=device) * sb if sb > 0 else None for i in range(L)]
    x_all = torch.randn(batch, n[0], generator=gen, dtype=dtype, device=device) * math.sqrt(config.input_var)
    x_all[1] = c0 * x_all[0] + math.sqrt(1 - c0 * c0) * x_all[1]
    sums = torch.zeros(5, L, dtype=torch.float64, device=device)  # s_h, s_h2, s_p, s_p2, s_d2
    alive = [torch.zeros(n[i + 1], dtype=torch.bool, device=device) for i in range(L)]
    corr = np.full(L, np.nan)
    diverged = None
    for start in range(0, batch, chunk):
        x = x_all[start:start + chunk].requires_grad_(False)
        hs, posts = [], [x]
        for l in range(L):
            h = posts[-1] @ W[l].T
            if b[l] is not None:
                h = h + b[l]
            hs.append(h)
            posts.append(phi(h))
        h2 = torch.stack([(h.double() ** 2).sum() for h in hs])
        finite = torch.isfinite(h2).cpu().numpy()
        if not finite.all():
            diverged = int(np.argmin(finite)) + 1
            break
        for l, h in enumerate(hs):
            p = posts[l + 1]
            sums[0, l] += h.double().sum()
            sums[1, l] += h2[l]
            sums[2, l] += p.double().sum()
            sums[3, l] += (p.double() ** 2).sum()
            alive[l] |= (h > 0).any(dim=0)
            if start == 0:
                h0, h1 = h[0].double(), h[1].double()
                corr[l] = float(h0 @ h1 / torch.sqrt((h0 @ h0) * (h1 @ h1)))
        delta_L = torch.randn(hs[-1].shape, generator=gen, dtype=dtype, device=device)
        # delta_(l-1) = (delta_l W_l) * phi'(h_(l-1)); phi' by autograd of the torch activation (elementwise)
        delta = delta_L
        for l in range(L - 1, -1, -1):
            sums[4, l] += (delta.double() ** 2).sum()
            if l > 0:
                hprev = hs[l - 1].detach().requires_grad_(True)
                with torch.enable_grad():
                    dphi, = torch.autograd.grad(phi(hprev).sum(), hprev)
                delta = (delta @ W[l]) * dphi
    s = sums.cpu().numpy()
    count = np.array([batch * n[l + 1] for l in range(L)], dtype=np.float64)
    out = {"preact_mean": s[0] / count, "preact_var": s[1] / count, "post_mean": s[2] / count,
           "post_second": s[3] / count,
           "dead_fraction": np.array([1.0 - float(a.double().mean()) for a in alive]),
           "correlation": corr, "grad_var": s[4] / count}
    if diverged is not None:
        for v in out.values():
            v[diverged - 1:] = np.nan
        out["grad_var"][:] = np.nan
    return out, diverged
