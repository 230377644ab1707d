"""Files written atomically, and the leftovers of writers that died: one implementation for every layer.

Like :mod:`theory.cli_util`, this is plumbing at the bottom layer so that every layer can use it (it holds no theory).

:func:`atomic_write_bytes` / :func:`atomic_write_text` write to a temporary file in the target's folder, named
``.NAME.PID.XXXXXXXX.tmp`` (PID: the writer's process id), then rename it over ``NAME`` (atomic on POSIX and
Windows), so a reader sees the old file or the new one, never half of one. The file gets the permissions a plain
``open(..., "w")`` would give (``0666`` minus the umask), not ``mkstemp``'s ``0600``. ``fsync=True`` also flushes
the data to disk before the rename (the sweep store: a crash must not leave an empty file under a final name).

A writer killed between the two steps (SIGKILL, power loss) leaves its temporary file; :func:`remove_stale` deletes
the temporary files under a folder whose writer process no longer exists, and leaves those of live writers alone.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import NamedTuple

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def atomic_write_bytes(path, data: bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (module docstring), creating its folder if needed. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path``, created with mode 0666 so that the kernel applies the umask of the
    moment, as for a plain ``open``."""
    import secrets

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def atomic_write_text(path, text: str, *, fsync: bool = False) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists (another user's), or cannot tell: keep its file
        return True
    return True


def is_temporary(path) -> bool:
    """Whether ``path`` is named like a temporary file of :func:`atomic_write_bytes`."""
    return _TEMPORARY.match(Path(path).name) is not None


def remove_stale(folder) -> list[Path]:
    """Delete the temporary files under ``folder`` (recursively) whose writer process is gone; returns them."""
    root = Path(folder)
    removed = []
    if not root.is_dir():
        return removed
    for p in root.rglob(".*.tmp"):
        m = _TEMPORARY.match(p.name)
        if m and p.is_file() and not _alive(int(m["pid"])):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


# ---------------------------------------------------------------------------------------------- checked cache entries
def notice(message: str) -> None:
    """One line on stderr for something the user should know but that is not an error (a repaired cache entry)."""
    import sys

    text = " ".join(str(message).split())
    try:
        print(f"notice: {text}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_entry(path, key: str, value, *, fsync: bool = False):
    """Store ``value`` (JSON-able) under ``key`` in ``path`` as ``{"key", "sha256", "value"}``, the hash taken over
    the value's JSON text; returns the value in its JSON form (what :func:`read_entry` will return)."""
    import json

    text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    atomic_write_text(path, f'{{"key": {json.dumps(key)}, "sha256": "{_digest(text)}", "value": {text}}}\n',
                      fsync=fsync)
    return json.loads(text)


class Entry(NamedTuple):
    """What :func:`read_entry` found: ``ok`` (a valid entry, its ``value``), or not, with the ``problem`` (None when
    there was simply no file)."""

    ok: bool
    value: object = None
    problem: str | None = None


def read_entry(path, key: str) -> Entry:
    """The entry of ``key`` in ``path``, trusted only when every check passes: it parses, has the schema
    ``{"key", "sha256", "value"}``, holds this key, and its value matches its hash. A damaged or foreign file gives
    ``Entry(False, problem=...)`` (unreadable, truncated, not the schema, another key, edited); no file gives
    ``Entry(False)``. A folder in the entry's place is a SpecError: it would make storing the recomputed value fail
    after the work."""
    import json

    from theory.errors import SpecError

    p = Path(path)
    if not p.exists():
        return Entry(False)
    if not p.is_file():  # refused before the work: the result could not be stored there afterwards
        raise SpecError(f"{str(p)!r} is in the way of a cache entry (a folder or another kind of file): remove it")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return Entry(False, problem=f"unreadable ({type(exc).__name__})")
    except (ValueError, RecursionError):
        return Entry(False, problem="not valid JSON (truncated?)")
    if not isinstance(doc, dict) or set(doc) != {"key", "sha256", "value"}:
        return Entry(False, problem="not a cache entry (keys key, sha256, value)")
    if doc["key"] != key:
        return Entry(False, problem=f"holds another key ({str(doc['key'])[:24]!r})")
    try:
        text = json.dumps(doc["value"], allow_nan=False, ensure_ascii=False)
    except ValueError:
        return Entry(False, problem="holds a non-finite number")
    if doc["sha256"] != _digest(text):
        return Entry(False, problem="its value does not match its hash (edited or damaged)")
    return Entry(True, doc["value"])


def writable_folder(path, what: str = "output folder") -> Path:
    """``path`` as a folder that exists and can be written (created if needed), checked before any work: an empty
    path, a file in the way (at the path or above it) or a folder without write permission is a SpecError (one line)."""
    from theory.errors import SpecError

    if path is None or not str(path).strip():
        raise SpecError(f"the {what} is an empty path")
    folder = Path(path)
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            raise SpecError(f"cannot write to the {what} {str(folder)!r}: {str(parent)!r} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SpecError(f"cannot write to the {what} {str(folder)!r}: {exc.strerror or exc}") from None
    return folder
