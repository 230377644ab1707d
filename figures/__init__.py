"""Figures: one module per figure group, thin: results in, files out.

``python -m figures list`` names them; ``python -m figures [--only NAME ...] [--out DIR] [--lang en|ru] [--fast]``
regenerates PNG and PDF files, byte-reproducibly (see :mod:`figures.common`). A figure group is a module that
registers its figures with :func:`figures.common.register`; its name goes into :data:`figures.common.MODULES`.

From Python (names loaded on first use, PEP 562)::

    from figures import draw, entries
    list(entries())                                  # the figure names
    draw(["activation-tanh"], "out/figures")         # -> [.../activation-tanh.png, .../activation-tanh.pdf]
"""

import sims  # noqa: E402,F401  (before NumPy loads: sets the BLAS thread timeout, see sims/__init__)

import importlib as _importlib  # noqa: E402

#: public name -> the module that defines it
_EXPORTS = {
    "draw": "figures.common",
    "entries": "figures.common",
    "get": "figures.common",
    "FigureEntry": "figures.common",
    "LANGS": "figures.common",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import the module of a public name on first access (PEP 562) and keep the value."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
