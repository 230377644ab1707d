"""theory.validate: the one module that checks untrusted numbers, and a scan that keeps it the only one."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from theory import validate
from theory.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "sims", "figures", "lecture")


@pytest.mark.parametrize("value", [0, 3, np.int64(7), np.uint8(2)])
def test_integers_are_accepted_as_int(value):
    out = validate.integer("n", value, 0)
    assert out == int(value) and type(out) is int
    assert validate.is_integer(value)


@pytest.mark.parametrize("value", [True, np.bool_(True), 3.0, 2.5, "3", None, [1]])
def test_non_integers_are_refused_with_one_line(value):
    with pytest.raises(SpecError, match=r"^n must be an integer \(got ") as info:
        validate.integer("n", value)
    assert "\n" not in str(info.value)
    assert not validate.is_integer(value)


def test_integer_range_and_reason_are_in_the_message():
    with pytest.raises(SpecError, match=r"seeds must be an integer >= 2 \(the standard error needs two\) \(got 1\)"):
        validate.integer("seeds", 1, 2, why=" (the standard error needs two)")
    with pytest.raises(SpecError, match=r"in \[1, 10\]"):
        validate.integer("k", 11, 1, 10)
    assert validate.integer("k", 10, 1, 10) == 10


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int16(1)])
def test_reals_in_range_are_floats(value):
    out = validate.real("x", value, 0.0, 1.0)
    assert out == float(value) and type(out) is float
    assert validate.is_real(value)


@pytest.mark.parametrize("value", [True, "0.5", None, float("nan"), float("inf"), -float("inf"), 10**400])
def test_non_reals_and_non_finite_values_are_refused(value):
    with pytest.raises(SpecError) as info:
        validate.real("x", value)
    assert str(info.value).startswith("x ") and "\n" not in str(info.value)
    assert not validate.is_real(value)  # 10**400: an int too large for a float


@pytest.mark.parametrize("value, lo_open, hi_open, ok", [
    (0.0, False, False, True), (0.0, True, False, False), (1.0, False, True, False), (1.0, False, False, True)])
def test_open_and_closed_ends(value, lo_open, hi_open, ok):
    if ok:
        assert validate.real("x", value, 0.0, 1.0, lo_open=lo_open, hi_open=hi_open) == value
    else:
        with pytest.raises(SpecError, match=r"must be a finite number in [\[(]0, 1[\])]"):
            validate.real("x", value, 0.0, 1.0, lo_open=lo_open, hi_open=hi_open)


def test_keep_and_drop_probabilities_name_the_convention():
    assert validate.keep_probability(1) == 1.0 and validate.drop_probability(0) == 0.0
    with pytest.raises(SpecError, match="KEEP, not drop"):
        validate.keep_probability(0.0)
    with pytest.raises(SpecError, match="DROP probability"):
        validate.drop_probability(1.0)


def test_seed_and_processes_bounds():
    assert validate.seed(2**63 - 1) == 2**63 - 1
    for bad in (-1, 2**63):
        with pytest.raises(SpecError, match="seed must be an integer"):
            validate.seed(bad)
    assert validate.processes(256) == 256
    with pytest.raises(SpecError, match="100 MB"):
        validate.processes(257)


def test_a_generator_is_required_never_global_state():
    rng = np.random.default_rng(0)
    assert validate.generator(rng, "sampling") is rng
    for bad in (None, 0, np.random.RandomState(0)):
        with pytest.raises(SpecError, match=r"^sampling needs an explicit numpy.random.Generator .*got "):
            validate.generator(bad, "sampling")


# The idiom of a hand-typed number check: "isinstance(v, bool) or not isinstance(v, ...)". It belongs in
# theory/validate.py; the parser's literal check (which AST constants are allowed in an expression) is not a check of
# a value and stays in theory/parse.py.
HAND_TYPED = re.compile(r"isinstance\([\w.]+, \(?bool[^)]*\)?\) or not \(?isinstance\(|"
                        r"not isinstance\([\w.]+, \(?(int|float)[^)]*\)?\) or isinstance\([\w.]+, \(?bool")
ALLOWED = {"theory/validate.py", "theory/parse.py"}


def _hand_typed(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if HAND_TYPED.search(line)]


def test_number_checks_are_not_retyped_outside_the_validation_module():
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in ALLOWED:
                found += [f"{rel}:{n}" for n in _hand_typed(path.read_text())]
    assert not found, f"use theory.validate instead of a hand-typed check at {found}"


def test_the_scan_finds_a_hand_typed_check():
    """Negative control: the scan above sees the idiom it forbids, in both spellings."""
    assert _hand_typed("    if isinstance(v, bool) or not isinstance(v, int):\n") == [1]
    assert _hand_typed("x = 1\n    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, float):\n") == [2]
    assert _hand_typed("    if not isinstance(self.depth, int) or isinstance(self.depth, bool) or d <= 0:\n") == [1]
    assert _hand_typed("    return validate.integer('n', n)\n") == []
