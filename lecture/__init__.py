"""The lecture as data and the main job that regenerates every figure, checks every claim and writes the report.

From Python (names loaded on first use, PEP 562)::

    from lecture import main_job, all_claims, evaluate_all, Evidence
    len(all_claims())                                 # the checkable statements of the slides
    main_job("out")                                   # figures, claims.json and REPORT.md under out/
"""

import sims  # noqa: E402,F401  (before NumPy loads: sets the BLAS thread timeout, see sims/__init__)

import importlib as _importlib  # noqa: E402

#: public name -> the module that defines it
_EXPORTS = {
    "main_job": "lecture.cli",
    "all_claims": "lecture.claims",
    "evaluate": "lecture.claims",
    "evaluate_all": "lecture.claims",
    "row": "lecture.claims",
    "counts": "lecture.claims",
    "Claim": "lecture.registry",
    "Outcome": "lecture.registry",
    "Evidence": "lecture.registry",
    "VERDICTS": "lecture.registry",
    "claims_table": "lecture.report",
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
