"""Helpers shared by the training experiments: independent seeds, BLAS on one thread, summaries over seeds."""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from theory import validate
from theory.errors import SpecError


#: Seeds per arm of every training experiment, fixed in advance (lecture.method reads it). Replicate s uses the root
#: seed s, whose SeedSequence children are its data split, initial weights and batch order; every arm of a comparison
#: runs replicate s with the same three (paired seeds). 10 is what the main job's time allows (docs/METHOD.md).
SEEDS = 10
FAST_SEEDS = 2  # the tests' small runs (a fast verdict may differ from the full one)
#: The one root of the other seeds the claims use (Monte Carlo studies): :func:`derived_seed` draws each from it along
#: a path of integers, so that no seed is picked by hand (docs/METHOD.md).
ROOT_SEED = 20261203


def derived_seed(*path: int) -> int:
    """A seed for one computation, drawn from :data:`ROOT_SEED` along ``path`` (``SeedSequence(ROOT_SEED,
    spawn_key=path)``): 63 bits, so every consumer of seeds takes it."""
    seq = np.random.SeedSequence(ROOT_SEED, spawn_key=tuple(int(p) for p in path))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def seeds_of(seed: int) -> tuple[int, int, int]:
    """(data split, weights, batch order) seeds: three children of SeedSequence(seed), so seeds are independent
    replicas and the three sources of randomness do not share a stream."""
    seed = validate.seed(seed)
    return tuple(int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(3))


def blas_single_thread():
    """A context in which BLAS runs on one thread. The products here are at most 500 x 100 by 100 x 100: a second
    BLAS thread buys nothing and, on a loaded 2-core machine, costs synchronization spikes (measured: steps of
    8 ms became 0.1 s). One thread also makes the floats independent of the machine's core count.
    (threadpoolctl ships with scikit-learn, a dependency.)"""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def spread(values) -> dict:
    """Median and (min, max) of finite values, with the per-seed values."""
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()), "values": v.tolist()}


def censored_spread(values, horizon: int) -> dict:
    """Median / min / max of event times where None means "not within ``horizon``" (later than all): an order
    statistic that falls on a censored value is None."""
    key = sorted(math.inf if e is None else e for e in values)
    n = len(key)
    med = (key[(n - 1) // 2] + key[n // 2]) / 2

    def stat(x):
        return None if math.isinf(x) else float(x)
    return {"median": stat(med), "min": stat(key[0]), "max": stat(key[-1]), "values": list(values),
            "never": sum(e is None for e in values), "horizon": horizon}


def seed_list(seeds) -> list:
    """``seeds`` as a list, refused when empty: an over-seeds summary (median, min, max) needs one seed or more."""
    seeds = list(seeds)
    if not seeds:
        raise SpecError("over_seeds needs at least one seed")
    return seeds


def check_runs(runs) -> None:
    """Refuse an empty list of per-seed runs (a ``summarize`` of nothing)."""
    if not runs:
        raise SpecError("summarize needs at least one run")


def timing_ratio(a: Callable[[], object], b: Callable[[], object], *, trials: int = SEEDS, repeats: int = 5,
                 clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """log(time of ``a`` / time of ``b``) in each of ``trials`` independent trials, each time the minimum over
    ``repeats`` calls (the operations themselves, their outputs preallocated by the caller; a and b alternate, so a
    slow spell of the machine hits both)."""
    out = []
    for _ in range(trials):
        best = [math.inf, math.inf]
        for _ in range(repeats):
            for i, fn in enumerate((a, b)):
                t = clock()
                fn()
                best[i] = min(best[i], clock() - t)
        out.append(math.log(best[0] / best[1]))
    return out
