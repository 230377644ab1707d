"""LaTeX of SymPy expressions with the lecture's notation: symbols whose names are ASCII stand-ins (``dl/dmu_B``,
``sigma_B^2``, ``Var_w``) print as the lecture writes them (∂ℓ/∂μ_B, σ_B², Var(w)).

Modules register the LaTeX of their symbols with :func:`name`; :func:`latex` is ``sympy.latex`` with those names.
Every rendering of an expression for a reader (derivations, the report's evidence) goes through :func:`latex`.
"""
from __future__ import annotations

import sympy as sp

_NAMES: dict[sp.Symbol, str] = {}
_EXPRS: dict[sp.Expr, sp.Expr] = {}


def name(symbol: sp.Symbol, tex: str) -> sp.Symbol:
    """Register ``tex`` as the LaTeX of ``symbol``; returns the symbol (``x = name(sp.Symbol(...), r"...")``)."""
    if not isinstance(symbol, sp.Symbol):
        raise TypeError(f"only a Symbol takes a LaTeX name (got {type(symbol).__name__})")
    _NAMES[symbol] = tex
    return symbol


def show_as(expr: sp.Expr, display: sp.Expr) -> None:
    """Print every occurrence of ``expr`` (structurally equal) as ``display``: the sigmoid 1/(1 + e^{-x}) as σ(x), so
    a derivation checked on the expanded form reads as the lecture writes it."""
    _EXPRS[sp.sympify(expr)] = sp.sympify(display)


def latex(expr, **kwargs) -> str:
    """``sympy.latex(expr)`` with the lecture's notation: registered expressions shown as their display
    (:func:`show_as`) and registered names of symbols (:func:`name`)."""
    expr = sp.sympify(expr)
    if _EXPRS and isinstance(expr, sp.Basic):
        expr = expr.xreplace(_EXPRS)
    names = {s: t for s, t in _NAMES.items() if s in expr.free_symbols} if hasattr(expr, "free_symbols") else {}
    return sp.latex(expr, symbol_names=names, **kwargs) if names else sp.latex(expr, **kwargs)
