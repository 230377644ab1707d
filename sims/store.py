"""The on-disk store of a sweep, and the table read back from it.

Store. ``DIR/manifest.json`` (the grid and its configurations' keys, in grid order) and ``DIR/results/KEY.json``,
one file per configuration with its ``key``, ``config`` and ``results``; KEY is a hash of the configuration (every
field, defaults included). The main process writes each file when its result arrives, to a temporary file in the
same folder that is then renamed over the final name (atomic on POSIX), so a file exists only complete. A rerun with
``resume`` skips every configuration whose file exists. A lost worker (a killed process: the pool breaks; dask:
``KilledWorker``) does not lose configurations: the ones without a result are submitted again to a fresh executor,
up to ``max_attempts`` times each; a configuration's result is written once (an existing file is never rewritten).
Results hold no timings and no host names, and every task is a pure function of its configuration (explicit seeds),
so two executors give identical stores and tables.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sims.grid import FIELDS, config_key
from theory.errors import SpecError

STORE_VERSION = 2  # 2: result files are checked entries (key, sha256, value)


# ----------------------------------------------------------------------------------------------- store
def _atomic_write(path: Path, text: str) -> None:
    from theory.files import atomic_write_text

    atomic_write_text(path, text, fsync=True)  # a crash must not leave an empty file under a final name


def _dump(obj) -> str:
    return json.dumps(obj, sort_keys=True, indent=1, allow_nan=False) + "\n"


RESULT_KEYS = {"moments": ("layers", "diverged_at", "diverged_networks", "correlation_per_network"),
               "norms": ("log_sq_norm", "dead", "mean", "var", "var_se")}


class Store:
    """The on-disk store of a sweep (module docstring). Every result file is a checked entry
    (:func:`theory.files.write_entry`: its key, a SHA-256 of its value) whose value is ``{"config", "results"}``; a
    file is trusted only when the entry is valid, its configuration hashes to its key and its results have the task's
    keys. Anything else (truncated by a crash, edited, ``{}``) counts as not finished: ``--resume`` recomputes it and
    ``sweep-table`` leaves it out, each with a one-line notice naming the file."""

    def __init__(self, root):
        self.root = Path(root)
        self.results = self.root / "results"
        self._noticed: set[str] = set()

    def prepare(self, grid: dict, configs, resume: bool) -> None:
        """Create the store for ``configs`` and write ``manifest.json`` (version, grid, keys); SpecError when it already
        holds results and not ``resume``, when ``root`` is a file, or when it cannot be written. Temporary files of
        writers that died are removed."""
        from theory.files import notice, remove_stale, writable_folder

        has = self.results.is_dir() and any(self.results.glob("*.json"))
        if has and not resume:
            raise SpecError(f"{str(self.root)!r} already holds sweep results: pass --resume to continue that sweep "
                            "(finished configurations are skipped), or choose another --out")
        writable_folder(self.results, "sweep store (--out)")
        for stale in remove_stale(self.root):
            notice(f"removed {stale}, a temporary file of a process that no longer runs")
        try:
            _atomic_write(self.root / "manifest.json",
                          _dump({"version": STORE_VERSION, "grid": grid, "keys": [config_key(c) for c in configs]}))
        except OSError as exc:
            raise SpecError(f"cannot write to {str(self.root)!r}: {exc.strerror or exc}") from None

    def path(self, key: str) -> Path:
        """``results/<key>.json``: where the result of configuration ``key`` is stored."""
        return self.results / f"{key}.json"

    def entry(self, key: str) -> dict | None:
        """The stored row ``{"key", "config", "results"}`` of ``key`` if its file is a valid result of that
        configuration, else None (a damaged file gets one notice, naming it)."""
        from theory.files import notice, read_entry

        found = read_entry(self.path(key), key)
        problem = found.problem
        if found.ok:
            problem = _result_problem(key, found.value)
            if problem is None:
                return {"key": key, **found.value}
        if problem is not None and key not in self._noticed:
            self._noticed.add(key)
            notice(f"sweep result {self.path(key)} {problem}: treated as not finished")
        return None

    def done(self, key: str) -> bool:
        """Whether configuration ``key`` has a valid stored result (:meth:`entry`)."""
        return self.entry(key) is not None

    def write(self, cfg: dict, results: dict) -> bool:
        """Store one result; False (and nothing written) if this configuration already has a valid one."""
        from theory.files import write_entry

        key = config_key(cfg)
        if self.done(key):
            return False
        write_entry(self.path(key), key, {"config": cfg, "results": results}, fsync=True)
        return True

    def rows(self) -> tuple[list[dict], list[str]]:
        """(rows, missing): the valid stored rows in the manifest's order (then any others by key), and the
        manifest's keys without a valid result."""
        manifest = self.root / "manifest.json"
        if not manifest.is_file():
            raise SpecError(f"{str(self.root)!r} is not a sweep folder (no manifest.json)")
        try:
            doc = json.loads(manifest.read_text())
            keys = doc["keys"]
            if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
                raise TypeError("keys is not a list of names")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpecError(f"{str(manifest)!r} is not a sweep manifest ({type(exc).__name__}: {exc})") from None
        found = {p.stem for p in self.results.glob("*.json")} if self.results.is_dir() else set()
        order = keys + sorted(found - set(keys))
        rows = [r for r in (self.entry(k) for k in order if k in found) if r is not None]
        have = {r["key"] for r in rows}
        return rows, [k for k in keys if k not in have]


def _result_problem(key: str, value) -> str | None:
    """None when ``value`` is ``{"config", "results"}`` of the configuration ``key`` with its task's result keys."""
    if not isinstance(value, dict) or set(value) != {"config", "results"}:
        return "is not a sweep result (config, results)"
    cfg, res = value["config"], value["results"]
    if not isinstance(cfg, dict) or set(cfg) != set(FIELDS) or config_key(cfg) != key:
        return "holds another configuration than its name says"
    needed = RESULT_KEYS.get(cfg.get("task"))
    if not isinstance(res, dict) or needed is None or any(k not in res for k in needed):
        return f"lacks the results of task {cfg.get('task')!r}"
    return None


# ----------------------------------------------------------------------------------------------- table
def flatten(row: dict) -> dict:
    """One flat record: the configuration's fields, then each result (per-layer lists as lists)."""
    out = dict(row["config"])
    out["key"] = row["key"]
    res = row["results"]
    for name, v in res.items():
        if name == "layers":
            for stat, ms in v.items():
                out[f"{stat}_mean"] = ms["mean"]
                out[f"{stat}_se"] = ms["se"]
        elif name not in ("log_sq_norm", "correlation_per_network"):
            out[name] = v
    return out


def load_table(out, *, as_pandas: bool | None = None):
    """The stored results as one table: a pandas DataFrame when pandas is installed (or ``as_pandas=True``), else
    a NumPy structured array. Columns: the configuration fields, ``key``, and the flattened results (per-layer
    statistics ``<stat>_mean`` / ``<stat>_se`` as float arrays, NaN where undefined)."""
    rows, _ = Store(out).rows()
    flat = [flatten(r) for r in rows]
    if as_pandas is None:
        try:
            import pandas  # noqa: F401
            as_pandas = True
        except ImportError:
            as_pandas = False
    if as_pandas:
        import pandas as pd

        return pd.DataFrame(flat)
    names = list(dict.fromkeys(k for r in flat for k in r))
    fields = []
    for name in names:
        vals = [r.get(name) for r in flat]
        if all(isinstance(v, bool) for v in vals):
            fields.append((name, np.bool_))
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            fields.append((name, np.int64))
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in vals) \
                and any(v is not None for v in vals):
            fields.append((name, np.float64))
        elif all(isinstance(v, str) for v in vals):
            fields.append((name, f"U{max(map(len, vals), default=1)}"))
        else:
            fields.append((name, object))
    table = np.empty(len(flat), dtype=fields)
    for i, r in enumerate(flat):
        for name, dt in fields:
            v = r.get(name)
            if dt is object and isinstance(v, list):
                v = np.array([np.nan if x is None else x for x in v], dtype=float)
            elif dt == np.float64 and v is None:
                v = np.nan
            table[i][name] = v
    return table


def table_rows(out) -> dict:
    """The ``sweep-table --json`` document: ``rows`` (key, config, results; grid order) and ``missing`` (keys of
    configurations not finished). No timings or host names: two executors give identical documents."""
    rows, missing = Store(out).rows()
    return {"rows": rows, "missing": missing}
