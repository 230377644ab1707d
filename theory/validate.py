"""Checks of untrusted values (command-line arguments, grid fields, function arguments): one place for every layer.

Each function returns the value (converted where that is safe, e.g. an int given as 3.0 is refused, a float given as
an int becomes a float) or raises :class:`SpecError` with one line that names the value, its range and what was
given. Like :mod:`theory.cli_util` it is plumbing at the bottom layer, so every layer can import it.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from theory.errors import SpecError

MAX_SEED = 2**63 - 1  # SeedSequence takes any non-negative int; JSON and every consumer handle 63 bits


def integer(name: str, value, lo: int | None = None, hi: int | None = None, why: str = "") -> int:
    """``value`` as an int in [lo, hi] (bools and non-integral numbers refused; NumPy integers accepted). ``why``
    (e.g. " (the standard error needs two samples)") is added to the message after the range."""
    if isinstance(value, bool):
        raise SpecError(f"{name} must be an integer (got {value!r})")
    try:
        v = operator.index(value)
    except TypeError:
        raise SpecError(f"{name} must be an integer (got {value!r})") from None
    if lo is not None and v < lo or hi is not None and v > hi:
        span = (f">= {lo}" if hi is None else f"<= {hi:,}" if lo is None else f"in [{lo}, {hi:,}]")
        raise SpecError(f"{name} must be an integer {span}{why} (got {v})")
    return v


def is_integer(value) -> bool:
    """True for a Python or NumPy integer that is not a bool: the predicate behind :func:`integer`, for checks that
    look at several values at once (a list of layer sizes, say)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for a finite Python or NumPy real number that is not a bool: the predicate behind :func:`real`."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def generator(rng, what: str) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator``; else :class:`SpecError` saying that ``what`` needs one: the
    package never draws from global random state."""
    if not isinstance(rng, np.random.Generator):
        raise SpecError(f"{what} needs an explicit numpy.random.Generator (rng=np.random.default_rng(seed)); "
                        f"it never uses global random state (got {type(rng).__name__})")
    return rng


def real(name: str, value, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval (ends closed unless ``lo_open`` / ``hi_open``). A real number
    (Python or NumPy); booleans and strings are refused (a typo, not a number)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise SpecError(f"{name} must be a number (got {value!r})")
    try:
        v = float(value)
    except OverflowError:
        raise SpecError(f"{name} is too large for a float (got {value!r})") from None
    bad = not math.isfinite(v)
    bad = bad or (lo is not None and (v <= lo if lo_open else v < lo))
    bad = bad or (hi is not None and (v >= hi if hi_open else v > hi))
    if bad:
        left = "(" if lo_open or lo is None else "["
        right = ")" if hi_open or hi is None else "]"
        span = f"{left}{'-inf' if lo is None else format(lo, 'g')}, {'inf' if hi is None else format(hi, 'g')}{right}"
        raise SpecError(f"{name} must be a finite number in {span} (got {value!r})")
    return v


def seed(value, name: str = "seed") -> int:
    """A root seed for ``numpy.random.SeedSequence``: an integer in [0, 2^63 - 1]."""
    return integer(name, value, 0, MAX_SEED)


def keep_probability(value, name: str = "keep probability") -> float:
    """Inverted dropout's KEEP probability p in (0, 1] (the lecture's D ~ Bern(p); 1: no dropout). PyTorch's
    ``nn.Dropout(p')`` and Keras' ``Dropout(rate)`` take the DROP probability p' = rate = 1 - p."""
    try:
        return real(name, value, 0.0, 1.0, lo_open=True)
    except SpecError:
        raise SpecError(f"{name} is the keep probability p (KEEP, not drop) and must be a number in (0, 1] "
                        f"(got {value!r}); "
                        "PyTorch's nn.Dropout(p) and Keras' Dropout(rate) take the drop probability: use "
                        "keep = 1 - p = 1 - rate") from None


def drop_probability(value, name: str = "drop probability") -> float:
    """A DROP probability q in [0, 1) (PyTorch's ``nn.Dropout(p)``, Keras' ``Dropout(rate)``); keep = 1 - q."""
    try:
        return real(name, value, 0.0, 1.0, hi_open=True)
    except SpecError:
        raise SpecError(f"{name} is the DROP probability q in [0, 1) (PyTorch's nn.Dropout p, Keras' Dropout rate), "
                        f"got {value!r}; the keep probability is 1 - q") from None


#: The most worker processes a command starts: each is a Python process with NumPy and SciPy loaded (about 100 MB),
#: and no machine this runs on has more cores than this.
MAX_PROCESSES = 256


def processes(value, name: str = "--jobs") -> int:
    """A number of worker processes: an integer in [1, MAX_PROCESSES]."""
    try:
        return integer(name, value, 1, MAX_PROCESSES)
    except SpecError:
        raise SpecError(f"{name} must be an integer from 1 to {MAX_PROCESSES} (got {value!r}): each worker is a "
                        "Python process of about 100 MB") from None
