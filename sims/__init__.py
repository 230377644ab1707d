"""Numeric work: numerically stable activation kernels, weight sampling and the Monte Carlo engine.

Importing this package before NumPy sets ``OPENBLAS_THREAD_TIMEOUT=16`` unless the environment already has a value.
OpenBLAS (NumPy's BLAS) keeps an idle worker thread spinning for 2^28 cycles (about 0.1 s) after each matrix
product; the engine's own threads (weight sampling, activations, statistics) run between products, and on a
2-core machine they would share a core with that spinning worker (weight drawing measured 1.8x slower right after
a product). With 2^16 cycles (about 25 us) the worker sleeps almost at once, and waking it for the next product
costs microseconds against milliseconds of product. OpenBLAS reads the variable when it loads, so this has no
effect when NumPy was imported first.
"""
import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")
