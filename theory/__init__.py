"""Exact results: activation zoo, verified derivations (SymPy); imports only sympy, numpy, scipy, mpmath."""

__version__ = "0.1.0"
