"""The grid of a sweep: its fields, their defaults and checks, the configurations it expands into and each
configuration's key.

Grid. A TOML file with a ``[grid]`` table (or a dict in Python); each key is a field of :data:`FIELDS`, each value
a list of values (a single value means a list of one). The configurations are the Cartesian product, the first key
varying slowest, in the order the keys are written. Fields left out take their defaults. Example::
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

from theory import validate
from theory.errors import SpecError

TASKS = ("moments", "norms")

#: field -> (type, default). weight_var None: use ``init``; else weights N(0, weight_var / n_in) (init replaced).
FIELDS: dict[str, tuple[type, object]] = {
    "task": (str, "moments"),
    "activation": (str, "tanh"),
    "init": (str, "glorot_normal"),
    "weight_var": (float, None),
    "bias_var": (float, 0.0),
    "width": (int, 256),
    "depth": (int, 10),
    "input_var": (float, 1.0),
    "batchnorm": (bool, False),
    "dropout_keep": (float, 1.0),
    "batch": (int, 64),
    "seeds": (int, 8),
    "seed": (int, 0),
    "dtype": (str, "float32"),
    "input_correlation": (float, 0.5),
    "backend": (str, "numpy"),
    "device": (str, "cpu"),
}


# ----------------------------------------------------------------------------------------------- grid
def _coerce(name: str, value):
    kind, _ = FIELDS[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise SpecError(f"grid field {name!r}: values must be true or false (got {value!r})")
        return value
    if kind is int:
        if not validate.is_integer(value):
            raise SpecError(f"grid field {name!r}: values must be integers (got {value!r})")
        return value
    if kind is float:
        if not validate.is_real(value):
            raise SpecError(f"grid field {name!r}: values must be finite numbers (got {value!r})")
        return float(value)
    if not isinstance(value, str):
        raise SpecError(f"grid field {name!r}: values must be strings (got {value!r})")
    return value


MAX_CONFIGS = 100_000  # one result file each: a store of 10^5 files is the most a sweep folder should hold


class Configurations(Sequence):
    """The configurations of a grid, computed on demand (mixed-radix indexing of the product): ``len`` is the product
    of the list lengths, computed, never enumerated; item ``i`` is built when asked for."""

    def __init__(self, axes: list[tuple[str, list]]):
        self._names = [a for a, _ in axes]
        self._values = [v for _, v in axes]
        self._count = math.prod(len(v) for v in self._values)
        self._defaults = {k: d for k, (_, d) in FIELDS.items()}

    def __len__(self) -> int:
        return self._count

    def _at(self, combo) -> dict:
        return {**self._defaults, **dict(zip(self._names, combo))}

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        combo = []
        for values in reversed(self._values):  # the last key varies fastest
            i, r = divmod(i, len(values))
            combo.append(values[r])
        return self._at(reversed(combo))

    def __iter__(self):
        return (self._at(c) for c in itertools.product(*self._values))


def expand(grid: dict) -> Configurations:
    """The configurations of ``grid`` (field -> list of values), each a dict of every field of :data:`FIELDS`, in
    product order (the first key slowest), as a lazy sequence. The count is the product of the list lengths and is
    checked against :data:`MAX_CONFIGS` first; unknown fields, empty lists, wrong types and invalid configurations
    raise SpecError, before anything runs."""
    if not isinstance(grid, dict):
        raise SpecError(f"a grid is a table of field = [values] (got {type(grid).__name__})")
    if not grid:
        raise SpecError("the grid is empty: give at least one field with a list of values")
    unknown = [k for k in grid if k not in FIELDS]
    if unknown:
        raise SpecError(f"unknown grid field(s) {', '.join(map(repr, unknown))}; known: {', '.join(FIELDS)}")
    axes = []
    for name, values in grid.items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise SpecError(f"grid field {name!r} has an empty list: the grid would have no configurations")
        axes.append((name, values))
    count = math.prod(len(v) for _, v in axes)
    if count > MAX_CONFIGS:
        sizes = " x ".join(str(len(v)) for _, v in axes)
        raise SpecError(f"the grid has {sizes} = {count:,} configurations; the limit is {MAX_CONFIGS:,} (one result "
                        "file each): split it into several sweeps")
    coerced = []
    for name, values in axes:
        values = [_coerce(name, v) for v in values]
        if len(set(map(repr, values))) != len(values):
            raise SpecError(f"grid field {name!r} lists a value twice")
        coerced.append((name, values))
    configs = Configurations(coerced)
    for cfg in configs:
        check_config(cfg)
    return configs


def read_grid(path) -> dict:
    """The ``[grid]`` table of a TOML file; a missing or malformed file raises SpecError."""
    import tomllib

    p = Path(path)
    try:
        with open(p, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"grid file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"grid file {str(p)!r} is a folder") from None
    except OSError as exc:
        raise SpecError(f"cannot read grid file {str(p)!r}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"grid file {str(p)!r} is not valid TOML: {exc}") from None
    extra = [k for k in doc if k != "grid"]
    if "grid" not in doc or not isinstance(doc["grid"], dict):
        raise SpecError(f"grid file {str(p)!r} has no [grid] table")
    if extra:
        raise SpecError(f"grid file {str(p)!r}: unknown table(s) or key(s) {', '.join(map(repr, extra))} "
                        "(only [grid])")
    return doc["grid"]


def network_config(cfg: dict):
    """The :class:`theory.config.NetworkConfig` of a configuration (``weight_var`` replaces ``init``)."""
    from theory.config import NetworkConfig

    init = cfg["init"] if cfg["weight_var"] is None else f"normal:sqrt({cfg['weight_var']!r}/n_in)"
    return NetworkConfig(activation=cfg["activation"], init=init, width=cfg["width"], depth=cfg["depth"],
                         bias_var=cfg["bias_var"], input_var=cfg["input_var"], batchnorm=cfg["batchnorm"],
                         dropout_keep=cfg["dropout_keep"])


def check_config(cfg: dict) -> None:
    """Raise SpecError unless ``cfg`` can run (checked in the main process, before any task is submitted)."""
    if cfg["task"] not in TASKS:
        raise SpecError(f"task must be one of {', '.join(TASKS)} (got {cfg['task']!r})")
    if cfg["weight_var"] is not None and cfg["weight_var"] <= 0:
        raise SpecError(f"weight_var must be > 0 (got {cfg['weight_var']!r})")
    if cfg["seed"] < 0:
        raise SpecError(f"seed must be >= 0 (got {cfg['seed']})")
    if cfg["task"] == "norms":
        if cfg["activation"] != "relu" or cfg["bias_var"] != 0 or cfg["batchnorm"] or cfg["dropout_keep"] != 1:
            raise SpecError("task 'norms' is the finite-width law of relu networks with He-normal weights and no "
                            "bias: set activation relu, bias_var 0, no batch norm or dropout")
        if cfg["seeds"] < 2 or cfg["width"] < 1 or cfg["depth"] < 1:
            raise SpecError("task 'norms' needs seeds >= 2 networks, width >= 1 and depth >= 1")
        return
    from sims.engine import validate

    config = network_config(cfg)
    validate(cfg["batch"], cfg["seeds"], cfg["dtype"], None)
    if not -1 <= cfg["input_correlation"] <= 1:
        raise SpecError(f"input_correlation must be in [-1, 1] (got {cfg['input_correlation']})")
    if cfg["backend"] not in ("numpy", "torch") or cfg["device"] not in ("cpu", "cuda"):
        raise SpecError(f"backend must be numpy or torch and device cpu or cuda (got {cfg['backend']!r}, "
                        f"{cfg['device']!r})")
    if cfg["device"] == "cuda" and cfg["backend"] != "torch":
        raise SpecError("device cuda needs backend torch")
    if cfg["backend"] == "torch":
        if config.batchnorm or config.dropout_keep < 1:
            raise SpecError("the torch backend runs neither batch norm nor dropout: use backend numpy")
        from sims import torch_backend

        torch_backend.device_of(cfg["device"])  # torch installed, and the device present


def config_key(cfg: dict) -> str:
    """A stable name for a configuration: the first 16 hex digits of SHA-256 of its canonical JSON."""
    text = json.dumps({k: cfg[k] for k in sorted(cfg)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
