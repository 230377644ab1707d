"""sims.experiments.l2_batchnorm: the L2 strengths come from the rules stated in advance (validation of the plain
network, Ioffe & Szegedy's factor 5), the arms are paired, and the penalty reaches the model."""
from __future__ import annotations

import numpy as np
import pytest

from sims.experiments import l2_batchnorm as E
from theory.errors import SpecError


@pytest.fixture(scope="module")
def small():
    return E.over_seeds([0, 1], epochs=1, grid=(1e-4, 1.0))


def test_the_plain_strength_is_the_validation_choice_and_the_reduced_one_a_fifth(small):
    med = {g: float(np.median(v)) for g, v in small["grid_val"].items()}
    assert small["l2_plain"] == max(float(g) for g, m in med.items() if m == max(med.values()))
    assert small["l2_reduced"] == small["l2_plain"] / E.REDUCTION
    # a penalty of 1.0 on every weight wipes the plain network out: validation never picks it (negative control
    # of the choice: the rule reads the validation accuracy it was given)
    assert small["l2_plain"] == 1e-4 and med["1.0"] < med["0.0001"]


def test_the_arms_are_paired_and_reproducible(small):
    again = E.over_seeds([0, 1], epochs=1, grid=(1e-4, 1.0))
    assert again == small and small["seeds"] == [0, 1]
    for net in ("plain", "batchnorm"):
        assert all(len(v) == 2 for v in small["networks"][net]["test_acc"].values())


def test_the_penalty_reaches_the_model():
    bn = E.over_seeds([0], epochs=3, grid=(1.0,), reduction=1e4)["networks"]["batchnorm"]["test_acc"]
    assert bn["plain_l2"][0] < 0.2 < bn["reduced"][0]  # 1.0 collapses to chance (10 classes); 1e-4 learns


def test_bad_arguments_are_refused():
    with pytest.raises(SpecError):
        E.over_seeds([0], epochs=1, grid=(0.0,))
    with pytest.raises(SpecError):
        E.over_seeds([0], epochs=1, reduction=1.0)
