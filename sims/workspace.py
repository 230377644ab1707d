"""Reused buffers and the two-thread split of elementwise passes, for the Monte Carlo engine and the samplers.

Two pieces of module-level state live here, both deliberate caches:

- ``WORKSPACE``, the engine's :class:`Workspace`: buffers reused across networks and runs (fresh 8 MB arrays per
  layer cost page faults comparable to the arithmetic). The engine uses it from one thread at a time (a run holds
  it for its whole duration; the helper threads of :func:`split_rows` only write the halves they are given).
- the thread pool of :func:`pool`: two threads, created on first use, shared by :func:`split_rows` and the weight
  samplers of :mod:`sims.init` (NumPy ufuncs and generators release the GIL). ``ThreadPoolExecutor`` is
  thread-safe; creating it is guarded by a lock.
"""
from __future__ import annotations

import threading

import numpy as np

#: Memory budget of the engines (NumPy and torch on the CPU): a chunk's row arrays stay under CHUNK_BYTES, and a
#: run whose estimated peak exceeds MEMORY_LIMIT_BYTES is refused (sims.engine.plan_chunk).
CHUNK_BYTES = 512 * 2**20
MEMORY_LIMIT_BYTES = 8 * 2**30

_POOL = None
_POOL_LOCK = threading.Lock()


def pool():
    """The shared two-thread pool (module docstring)."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                from concurrent.futures import ThreadPoolExecutor
                _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sims-rng")
    return _POOL


def split_rows(fn, *arrays) -> None:
    """fn on the two row-halves of the arrays in two threads (NumPy ufuncs release the GIL); one call for small
    arrays."""
    rows = arrays[0].shape[0]
    if rows < 64 or arrays[0].size < (1 << 17):
        fn(*arrays)
        return
    mid = rows // 2
    job = pool().submit(fn, *(a[:mid] for a in arrays))
    fn(*(a[mid:] for a in arrays))
    job.result()


class Workspace:
    """Buffers reused across networks and runs. :meth:`release_unused` (called at the end of every run) drops the
    buffers that run did not use, so what stays allocated between runs is the last run's working set."""

    def __init__(self):
        self._bufs: dict = {}
        self._used: set = set()

    def get(self, key, shape, dtype) -> np.ndarray:
        """The buffer ``key`` with this shape and dtype, reused when it matches (contents undefined)."""
        self._used.add(key)
        buf = self._bufs.get(key)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
            self._bufs.pop(key, None)  # release before allocating: never two generations at once
            buf = self._bufs[key] = np.empty(shape, dtype=dtype)
        return buf

    def release_unused(self) -> None:
        """Drop the buffers not asked for since the last call."""
        for key in set(self._bufs) - self._used:
            del self._bufs[key]
        self._used = set()

    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        return sum(b.nbytes for b in self._bufs.values())


WORKSPACE = Workspace()
