"""The elementary functions of the activations, each defined once as a SymPy expression builder: the named
activations (:mod:`theory.activations`), the expression parser's function table (:mod:`theory.parse`), the dropout
derivations and the claims all build them from here."""
from __future__ import annotations

import sympy as sp


def sigmoid(u):
    """The logistic function 1 / (1 + e^-u)."""
    return 1 / (1 + sp.exp(-u))


def softplus(u):
    """log(1 + e^u)."""
    return sp.log(1 + sp.exp(u))


def relu(u):
    """max(0, u)."""
    return sp.Max(0, u)


def Phi(u):  # noqa: N802 - the standard normal CDF's usual name
    """The standard normal CDF, (1 + erf(u / sqrt 2)) / 2."""
    return (1 + sp.erf(u / sp.sqrt(2))) / 2
