"""Optional dependencies of the tests: the cross-checks against independent implementations need the ``crosscheck``
extra (torch, dask); without it their tests skip with the reason below (``pip install '.[crosscheck]'`` adds them; CI
installs both)."""
from __future__ import annotations

CROSSCHECK = "needs the crosscheck extra (pip install '.[crosscheck]'): {}"


def torch_or_skip():
    """torch, or a skip that says how to get it."""
    import pytest

    return pytest.importorskip("torch", reason=CROSSCHECK.format("torch is not installed"))


def distributed_or_skip():
    """dask.distributed, or a skip that says how to get it."""
    import pytest

    return pytest.importorskip("distributed", reason=CROSSCHECK.format("dask.distributed is not installed"))
