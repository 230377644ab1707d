"""``python -m sims bench``: the engine against the same matrix products alone (issue: engine >= 0.85).

ratio = (time of the 2 L matrix products per network, on preallocated operands of the same shapes and dtype) /
(engine time for the same networks, default statistics, forward and backward), median over interleaved repeats.

Beside it, in the same process and on the same shapes:

- the straightforward loop a user would write (draw W with ``rng.standard_normal``, matmul, the activation, the
  per-layer variance with ``np.var``, and the backward pass), and its ratio to the same matrix products;
- where the engine's time goes, each phase timed alone on the engine's own primitives: the matrix products, the
  drawing of the n^2 Gaussian weights per layer, the elementwise passes (activation forward, its derivative
  backward) and the statistics (sums, sums of squares, alive units); the rest is Python and the random streams;
- the ratio this machine allows once the weights must be drawn: matmuls / (matmuls + drawing), the ceiling of any
  engine that draws fresh networks (the products cannot start before their weights exist).
"""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np

from sims.engine import simulate
from theory.config import NetworkConfig

CONFIGS = (
    {"activation": "tanh", "init": "glorot_normal", "width": 1024, "depth": 20, "batch": 2048},
    {"activation": "relu", "init": "he_normal", "width": 512, "depth": 50, "batch": 1024},
)


def _time_chain(x, w, depth: int, networks: int, sync=lambda: None) -> float:
    """Seconds for ``networks`` x (depth forward products h @ w.T and depth backward products d @ w)."""
    sync()
    t = time.perf_counter()
    for _ in range(networks):
        h = x
        for _ in range(depth):
            h = h @ w.T
        d = x
        for _ in range(depth):
            d = d @ w
    sync()
    return time.perf_counter() - t


def _matmuls_only(width: int, depth: int, batch: int, networks: int, dtype) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width)).astype(dtype)
    w = rng.standard_normal((width, width)).astype(dtype) / np.sqrt(width).astype(dtype)
    return _time_chain(x, w, depth, networks)


def _straightforward(activation: str, width: int, depth: int, batch: int, networks: int, dtype, seed: int) -> float:
    """Seconds for the loop a user would write: per layer draw W (``standard_normal / sqrt(n)``), h = x W^T,
    phi(h), ``np.var(h)``; backward d = (d W) * phi'(h) from the output, ``np.var(d)``. tanh and relu."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    t = time.perf_counter()
    for _ in range(networks):
        ws = [rng.standard_normal((width, width), dtype=dt) * dt.type(np.sqrt((2.0 if activation == "relu" else 1.0)
                                                                               / width)) for _ in range(depth)]
        x = rng.standard_normal((batch, width), dtype=dt)
        posts, variances = [x], []
        for w in ws:
            h = posts[-1] @ w.T
            variances.append(float(np.var(h)))
            posts.append(np.tanh(h) if activation == "tanh" else np.maximum(h, 0))
        d = rng.standard_normal((batch, width), dtype=dt)
        for layer in range(depth - 1, 0, -1):
            variances.append(float(np.var(d)))
            p = posts[layer]
            d = (d @ ws[layer]) * ((1 - p * p) if activation == "tanh" else (p > 0))
    return time.perf_counter() - t


def _phases(cfg: NetworkConfig, batch: int, networks: int, dtype) -> dict:
    """Seconds of each phase of the engine's work for ``networks`` networks, each timed alone on the engine's own
    primitives: ``weights`` (drawing L weight matrices), ``elementwise`` (activation forward and derivative backward
    per layer), ``statistics`` (the sums and sums of squares of h, phi(h) and delta, and the alive units)."""
    from sims import pipeline
    from sims import statistics as st
    from sims.activations import kernel
    from sims.init import sample_weights

    dt = np.dtype(dtype)
    n, L = cfg.widths, cfg.depth
    kern = kernel(cfg.act)
    rng = np.random.default_rng(0)
    out = np.empty((n[1], n[0]), dtype=dt)
    t = time.perf_counter()
    for _ in range(networks * L):
        sample_weights(cfg.scheme, n[0], n[1], rng, dt, out=out)
    weights = time.perf_counter() - t
    h = rng.standard_normal((batch, n[1]), dtype=dt)
    p, d, tmp = np.empty_like(h), rng.standard_normal((batch, n[1]), dtype=dt), np.empty_like(h)
    t = time.perf_counter()
    for _ in range(networks * L):
        pipeline.activate(kern, h, p)
        pipeline.apply_derivative(kern, d, p, h, tmp)
        d[...] = h  # keep d bounded across repeats (a copy, counted with the elementwise passes)
    elementwise = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(networks * L):
        for a in (h, p, d):
            flat = a.ravel()
            st.sum_squares(flat)
            st.total(flat)
        np.maximum.reduce(h, axis=0)
    stats = time.perf_counter() - t
    return {"weights": weights, "elementwise": elementwise, "statistics": stats}


def bench_config(activation, init, width, depth, batch, repeats: int = 5, networks: int = 2, dtype="float32") -> dict:
    """ratio = time of the 2 L matrix products alone / engine time (forward and backward) for ``networks`` networks of
    one config, after a warm-up: medians over ``repeats`` interleaved repeats, with every ratio and both times; the
    straightforward loop's ratio, the phases and the ratio the weight drawing allows (module docstring)."""
    cfg = NetworkConfig(activation=activation, init=init, width=width, depth=depth)
    simulate(cfg, batch, networks, dtype=dtype)  # warm-up (lambdify, BLAS threads)
    _matmuls_only(width, depth, batch, 1, dtype)
    _straightforward(activation, width, 2, batch, 1, dtype, 0)
    ratios, engine, base, plain, phases = [], [], [], [], []
    for r in range(repeats):
        b = _matmuls_only(width, depth, batch, networks, dtype)
        e = simulate(cfg, batch, networks, dtype=dtype, seed=r)["seconds"]
        s = _straightforward(activation, width, depth, batch, networks, dtype, r)
        phases.append(_phases(cfg, batch, networks, dtype))
        ratios.append(b / e)
        engine.append(e)
        base.append(b)
        plain.append(s)
    m = statistics.median(base)
    phase = {k: statistics.median(ph[k] for ph in phases) for k in phases[0]}
    eng = statistics.median(engine)
    phase = {"matmuls": m, **phase}
    phase["other"] = max(0.0, eng - sum(phase.values()))
    return {"activation": activation, "init": init, "width": width, "depth": depth, "batch": batch,
            "networks": networks, "dtype": dtype, "repeats": repeats,
            "ratio_median": statistics.median(ratios), "ratios": ratios,
            "engine_seconds_median": eng, "matmul_seconds_median": m,
            "straightforward_seconds_median": statistics.median(plain),
            "straightforward_ratio_median": statistics.median(b / s for b, s in zip(base, plain)),
            "phase_seconds_median": phase, "allowed_ratio": m / (m + phase["weights"])}


def environment() -> dict:
    """What the numbers depend on: NumPy, its BLAS, the BLAS thread timeout in effect (see :mod:`sims`), cores."""
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {"numpy": np.__version__, "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
            "openblas_thread_timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"), "cpus": os.cpu_count(),
            "machine": platform.machine()}


def run_all(repeats: int = 5) -> list[dict]:
    """:func:`bench_config` of every configuration of :data:`CONFIGS` (NumPy engine, float32)."""
    return [bench_config(**c, repeats=repeats) for c in CONFIGS]


GPU_CONFIG = {"activation": "tanh", "init": "glorot_normal", "width": 4096, "depth": 50, "batch": 4096}


def _torch_matmuls_only(width, depth, batch, networks, device) -> float:
    import torch
    dev = torch.device(device)
    x = torch.randn(batch, width, device=dev)
    w = torch.randn(width, width, device=dev) / width**0.5
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    return _time_chain(x, w, depth, networks, sync)


def bench_torch(device: str = "cuda", repeats: int = 5, networks: int = 2, config: dict | None = None) -> dict:
    """The same ratio for the torch backend (the issue's GPU target: >= 0.9 at width 4096, depth 50, batch 4096)."""
    c = dict(config or GPU_CONFIG)
    cfg = NetworkConfig(activation=c["activation"], init=c["init"], width=c["width"], depth=c["depth"])
    simulate(cfg, c["batch"], networks, backend="torch", device=device)
    _torch_matmuls_only(c["width"], c["depth"], c["batch"], 1, device)
    ratios, engine, base = [], [], []
    for r in range(repeats):
        b = _torch_matmuls_only(c["width"], c["depth"], c["batch"], networks, device)
        e = simulate(cfg, c["batch"], networks, backend="torch", device=device, seed=r)["seconds"]
        ratios.append(b / e)
        engine.append(e)
        base.append(b)
    return {**c, "backend": "torch", "device": device, "networks": networks, "repeats": repeats,
            "ratio_median": statistics.median(ratios), "ratios": ratios,
            "engine_seconds_median": statistics.median(engine), "matmul_seconds_median": statistics.median(base)}


def format_bench(doc: dict) -> str:
    """``python -m sims bench`` without ``--json``: one aligned row per configuration (engine time, the matrix
    products alone, their ratio against the target); ``doc`` is the JSON document (``target_ratio``,
    ``environment``, ``results``)."""
    from theory.cli_util import fmt_number

    target = doc.get("target_ratio")
    env = doc.get("environment") or {}
    results = doc.get("results") or []
    repeats = sorted({r.get("repeats") for r in results if r.get("repeats") is not None})

    def seconds(v) -> str:
        return "—" if v is None else f"{v:.3f} s"
    rows = [("activation", "init", "width", "depth", "batch", "on", "networks", "engine", "matmuls", "ratio", "")]
    for r in results:
        on = f"{r['backend']} {r.get('device', '')}".strip() if r.get("backend") else f"numpy {r.get('dtype', '')}"
        ratio = r.get("ratio_median")
        verdict = "" if ratio is None or target is None else ("ok" if ratio >= target else "below target")
        rows.append((str(r.get("activation", "")), str(r.get("init", "")), str(r.get("width", "")),
                     str(r.get("depth", "")), str(r.get("batch", "")), on.strip(), str(r.get("networks", "")),
                     seconds(r.get("engine_seconds_median")), seconds(r.get("matmul_seconds_median")),
                     "—" if ratio is None else f"{ratio:.2f}", verdict))
    left = {0, 1, 5, 10}
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    lines.insert(1, "-" * max(map(len, lines)))
    for r in results:
        if r.get("straightforward_ratio_median") is None:
            continue
        ph = r.get("phase_seconds_median") or {}
        total = r.get("engine_seconds_median") or 0.0
        parts = ", ".join(f"{k} {v:.3f} s ({v / total:.0%})" for k, v in ph.items()) if total else ""
        lines += ["", f"{r['activation']} {r['width']} x {r['depth']}, batch {r['batch']}:",
                  f"  straightforward NumPy loop  {seconds(r.get('straightforward_seconds_median'))}, ratio "
                  f"{r['straightforward_ratio_median']:.2f} (the engine: {r['ratio_median']:.2f})",
                  f"  where the engine's time goes: {parts}",
                  f"  ratio allowed once the n^2 Gaussian weights per layer are drawn: matmuls / (matmuls + drawing) "
                  f"= {r['allowed_ratio']:.2f}"]
    head = (f"engine time vs the same matrix products alone (ratio = matmul time / engine time, median over "
            f"{'/'.join(map(str, repeats)) or '?'} repeats; target >= {fmt_number(target)})")
    blas = ", ".join(str(x) for x in (f"numpy {env['numpy']}" if env.get("numpy") else None, env.get("blas"),
                                       f"{env['cpus']} cores" if env.get("cpus") else None, env.get("machine"))
                     if x)
    return "\n".join([head] + ([blas] if blas else []) + lines)
