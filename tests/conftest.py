"""Suite-wide constants and hooks. The shared z of the statistical tests (``Z``), and: a test that skips for want of the crosscheck extra must carry the ``crosscheck`` marker, so that
CI's cross-check step (``pytest -m crosscheck``) runs it; an unmarked one fails instead of skipping unnoticed."""
from __future__ import annotations

import os

# Parallel suite (pytest-xdist, one worker per core): one BLAS thread per worker, so that the workers' matrix products
# do not oversubscribe the cores (OpenBLAS threads spin while they wait). Set before any test imports NumPy. Results do
# not depend on it: the tests compare with theory within z standard errors, or compare runs made in one environment.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import math  # noqa: E402

import pytest  # noqa: E402

#: The z of every statistical test of the suite: |measured - theory| <= Z * SE, the standard error estimated across
#: independent networks (or replicas). Two-sided, one check at Z = 4.5 raises a false alarm with probability
#: FALSE_ALARM_PER_CHECK = erfc(4.5 / sqrt(2)) = 6.8e-6; over the suite's few hundred statistical checks the
#: chance of any false alarm stays near FALSE_ALARM_BUDGET = 1e-3 (STYLE.md). Import it: ``from conftest import Z``.
Z = 4.5
FALSE_ALARM_PER_CHECK = math.erfc(Z / math.sqrt(2))
FALSE_ALARM_BUDGET = 1e-3

from optional import CROSSCHECK

_PREFIX = CROSSCHECK.split("{}")[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple) and _PREFIX in str(report.longrepr[2]) \
            and item.get_closest_marker("crosscheck") is None:
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} needs the crosscheck extra but is not marked @pytest.mark.crosscheck, "
                           "so CI's cross-check step would never run it")


# Hypothesis: no per-example deadline anywhere (a wall-clock limit fails on a busy machine; the code bounds its own
# work, see theory.budget), and no example database written into the clone.
from hypothesis import settings  # noqa: E402

settings.register_profile("suite", deadline=None, database=None)
settings.load_profile("suite")
