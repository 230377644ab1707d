"""Exact results: activation zoo, verified derivations (SymPy); imports only sympy, numpy, scipy, mpmath.

The public names below are loaded on first use (PEP 562), so ``import theory`` imports neither SymPy nor NumPy::

    from theory import derivation, get_activation, analyze, critical_weight_var, NetworkConfig
    from theory.predict import predict
    derivation.get("sigmoid-derivative")          # a Derivation: each step checked by SymPy (.ok)
    analyze("tanh", 1.5, 0.05)                     # MeanField: q*, chi_1, c*, xi_q, xi_c, phase
    predict(NetworkConfig("tanh", "glorot_normal", width=64, depth=10))   # mean-field Var(h_l), Var(delta_l)

``predict`` is imported from its module: the function has the name of the submodule ``theory.predict``, which Python
binds as the package's attribute whenever it is imported, so a package-level export would be the module or the
function depending on what ran before.
"""
import importlib as _importlib

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "Activation": "theory.activations",
    "get_activation": "theory.activations",
    "derivation": "theory.derivation",
    "Derivation": "theory.derivation",
    "MeanField": "theory.meanfield",
    "analyze": "theory.meanfield",
    "analyze_grid": "theory.meanfield",
    "critical_weight_var": "theory.meanfield",
    "InitScheme": "theory.init",
    "get_init": "theory.init",
    "NetworkConfig": "theory.config",
    "parse_expression": "theory.parse",
    "SpecError": "theory.errors",
}
__all__ = sorted(_EXPORTS)
_SUBMODULES = {"derivation"}  # exported as the module: derivation.get(NAME), derivation.names()


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
