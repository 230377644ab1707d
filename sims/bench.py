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
