"""Numeric work: numerically stable activation kernels (and, in later issues, the Monte Carlo engine)."""
