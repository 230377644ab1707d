"""An optional on-disk memo for expensive, deterministic computations (experiment runs), shared by the figures and
the lecture's claims so that one `python -m lecture` run computes each experiment once, and a second run reads it.

Off by default: :func:`call` just calls. :func:`configure` (the lecture's main job does it) names a folder; then each
``call(fn, **kwargs)`` is stored as ``FOLDER/<module.function>-<key>.json``, the key a hash of the function's name,
its keyword arguments and :func:`code_version` (every Python source file of the package): a changed line of code
invalidates every entry. Results are JSON with NumPy arrays tagged (dtype and shape kept), written atomically (a
temporary file renamed into place). Only deterministic functions of their arguments belong here (explicit seeds).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from theory.files import notice, read_entry, write_entry

PACKAGES = ("theory", "sims", "figures", "lecture")
_FOLDER: Path | None = None


@lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 (16 hex digits) of every Python source file of the four packages and pyproject.toml."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    files = sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))
    if (root / "pyproject.toml").is_file():
        files.append(root / "pyproject.toml")
    for p in files:
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def configure(folder: Path | str | None) -> None:
    """Memoize into ``folder`` from now on (None: stop)."""
    global _FOLDER
    _FOLDER = Path(folder) if folder is not None else None


def folder() -> Path | None:
    """The folder :func:`configure` set, or None when memoizing is off."""
    return _FOLDER


def _encode(obj):
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": _encode(obj.tolist()), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, dict):
        if not all(isinstance(k, (str, int, float, bool)) or k is None for k in obj):
            raise TypeError("memo: dict keys must be str, int, float, bool or None")
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isfinite(v):
            return v
        return {"__float__": repr(v)}
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    raise TypeError(f"memo: cannot store a {type(obj).__name__}")


def _decode(obj):
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            arr = np.array(_decode(obj["__ndarray__"]), dtype=obj["dtype"])
            return arr.reshape(obj["shape"])
        if "__dict__" in obj:
            return {_decode(k): _decode(v) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v) for v in obj["__tuple__"])
        if "__float__" in obj:
            return float(obj["__float__"])
    return obj


def _name(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _key(fn: Callable, kwargs: dict) -> str:
    def norm(v):
        if callable(v):
            return {"__callable__": _name(v)}
        if isinstance(v, (list, tuple, range)):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
        return v
    text = json.dumps({"fn": _name(fn), "kwargs": norm(kwargs), "code": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def call(fn: Callable, /, **kwargs):
    """``fn(**kwargs)``, read from / written to the memo folder when one is configured. An entry is used only when
    it is valid (:func:`theory.files.read_entry`: schema, key and a hash of its value); a damaged one is recomputed
    with a one-line notice on stderr. The value comes back in the same form cold and warm."""
    if _FOLDER is None:
        return fn(**kwargs)
    key = _key(fn, kwargs)
    path = _FOLDER / f"{_name(fn)}-{key}.json"
    entry = read_entry(path, key)
    if entry.ok:
        try:
            return _decode(entry.value)
        except (ValueError, KeyError, TypeError) as exc:
            entry = entry._replace(problem=f"cannot be decoded ({type(exc).__name__})")
    if entry.problem:
        notice(f"memo entry {path.name} {entry.problem}: recomputed")
    value = fn(**kwargs)
    return _decode(write_entry(path, key, _encode(value)))  # the same form as a later read (tuples, arrays, keys)
