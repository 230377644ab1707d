"""Shared by the experiment tests: recursive equality for determinism checks."""
from __future__ import annotations

import math

import numpy as np


def assert_same(a, b, path="result"):
    """Recursive equality, floats bit for bit (NaN equal to NaN): determinism, not closeness. Wall times (keys
    named ``seconds``) are skipped."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            if k != "seconds":
                assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), path
    else:
        assert a == b, path
