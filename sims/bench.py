"""``python -m sims bench``: the engine against the same matrix products alone (issue: engine >= 0.85).

ratio = (time of the 2 L matrix products per network, on preallocated operands of the same shapes and dtype) /
(engine time for the same networks, default statistics, forward and backward), median over interleaved repeats.
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


def bench_config(activation, init, width, depth, batch, repeats: int = 5, networks: int = 2, dtype="float32") -> dict:
    """ratio = time of the 2 L matrix products alone / engine time (forward and backward) for ``networks`` networks of
    one config, after a warm-up: medians over ``repeats`` interleaved repeats, with every ratio and both times."""
    cfg = NetworkConfig(activation=activation, init=init, width=width, depth=depth)
    simulate(cfg, batch, networks, dtype=dtype)  # warm-up (lambdify, BLAS threads)
    _matmuls_only(width, depth, batch, 1, dtype)
    ratios, engine, base = [], [], []
    for r in range(repeats):
        b = _matmuls_only(width, depth, batch, networks, dtype)
        e = simulate(cfg, batch, networks, dtype=dtype, seed=r)["seconds"]
        ratios.append(b / e)
        engine.append(e)
        base.append(b)
    return {"activation": activation, "init": init, "width": width, "depth": depth, "batch": batch,
            "networks": networks, "dtype": dtype, "repeats": repeats,
            "ratio_median": statistics.median(ratios), "ratios": ratios,
            "engine_seconds_median": statistics.median(engine), "matmul_seconds_median": statistics.median(base)}


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
    head = (f"engine time vs the same matrix products alone (ratio = matmul time / engine time, median over "
            f"{'/'.join(map(str, repeats)) or '?'} repeats; target >= {fmt_number(target)})")
    blas = ", ".join(str(x) for x in (f"numpy {env['numpy']}" if env.get("numpy") else None, env.get("blas"),
                                       f"{env['cpus']} cores" if env.get("cpus") else None, env.get("machine"))
                     if x)
    return "\n".join([head] + ([blas] if blas else []) + lines)
