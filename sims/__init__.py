"""Numeric work: numerically stable activation kernels, weight sampling and the Monte Carlo engine.

Importing this package before NumPy sets ``OPENBLAS_THREAD_TIMEOUT=16`` unless the environment already has a value.
OpenBLAS (NumPy's BLAS) keeps an idle worker thread spinning for 2^28 cycles (about 0.1 s) after each matrix
product; the engine's own threads (weight sampling, activations, statistics) run between products, and on a
2-core machine they would share a core with that spinning worker (weight drawing measured 1.8x slower right after
a product). With 2^16 cycles (about 25 us) the worker sleeps almost at once, and waking it for the next product
costs microseconds against milliseconds of product. OpenBLAS reads the variable when it loads, so this has no
effect when NumPy was imported first.

The public names below are loaded on first use (PEP 562), so ``import sims`` stays cheap and imports no NumPy::

    from sims import simulate, MLP, load_dataset
    from sims.train import train
    simulate(config, batch=64, seeds=4)                 # Monte Carlo of 4 networks: per-layer mean ± s.e.
    train(MLP([64, 64, 10], "relu", "he_normal"), load_dataset("digits"), epochs=2)

``train`` is imported from its module (``sims.train``), whose name it shares (see ``theory``'s docstring).

``sims.sweep`` is the sweep module (``sweep.sweep(grid, out)``, ``sweep.load_table(out)``).
"""
import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

# after the environment variable; nothing below loads NumPy at import time (the exports are lazy)
import importlib as _importlib  # noqa: E402

#: public name -> the module that defines it
_EXPORTS = {
    "simulate": "sims.engine",
    "run_json": "sims.engine",
    "Simulation": "sims.engine",
    "MLP": "sims.train",
    "gradient_check": "sims.train",
    "SGD": "sims.train",
    "Momentum": "sims.train",
    "Adam": "sims.train",
    "load_dataset": "sims.data",
    "Dataset": "sims.data",
    "BatchNorm": "sims.batchnorm",
    "Dropout": "sims.dropout",
    "sweep": "sims.sweep",
    "expand": "sims.sweep",
    "read_grid": "sims.sweep",
    "load_table": "sims.sweep",
}
__all__ = sorted(_EXPORTS)
_SUBMODULES = {"sweep"}  # exported as the module (existing code does `from sims import sweep as S`)


def __getattr__(name: str):
    """Import the module of a public name on first access (PEP 562) and keep the value."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    mod = _importlib.import_module(module)
    value = mod if name in _SUBMODULES else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
