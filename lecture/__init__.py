"""The lecture as data and the main job that regenerates every figure (and, later, the report)."""

import sims  # noqa: E402,F401  (before NumPy loads: sets the BLAS thread timeout, see sims/__init__)
