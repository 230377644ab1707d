"""lecture.method: the paired-interval verdicts of the empirical claims. Each property is checked on data whose answer
is known by construction, with a negative control (the claimed direction flipped, or the claimed size tripled) that
must get another verdict at the same level."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lecture.method import LEVEL, Effect, combine, decide, interval
from sims.experiments.common import timing_ratio


def test_the_interval_is_students_t():
    """Against SciPy's own t interval of the mean (a float64 identity: agreement to rounding)."""
    from scipy import stats

    v = [0.3, -0.1, 0.45, 0.2, 0.05, 0.12]
    mean, lo, hi, sd = interval(v, 0.95)
    ref = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert math.isclose(lo, ref[0], rel_tol=1e-12) and math.isclose(hi, ref[1], rel_tol=1e-12)
    assert math.isclose(sd, np.std(v, ddof=1), rel_tol=1e-12) and math.isclose(mean, np.mean(v), rel_tol=1e-12)


@pytest.mark.parametrize("bad", [[1.0], [], [1.0, math.nan], [1.0, math.inf]])
def test_an_interval_needs_two_finite_values(bad):
    with pytest.raises(ValueError):
        interval(bad)


def _draw(mean: float, n: int = 10, seed: int = 0) -> list[float]:
    """``n`` values with sample mean ``mean`` (exactly, up to rounding) and unit-scale spread: the verdicts below
    follow from the mean and spread, not from the luck of a seed."""
    z = np.random.default_rng(seed).standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return (mean + z).tolist()


def test_a_clear_effect_is_supported_and_its_flip_is_not():
    diffs = _draw(3.0)  # mean 3, sd 1, 10 seeds: the 95% interval is 3 +- 0.72
    claim = Effect("a - b", "greater")
    d = decide(claim, diffs)
    assert d.verdict == "supported" and d.low > 0 and d.seeds_to_decide is None
    assert decide(claim.flipped(), diffs).verdict == "not-supported"  # negative control: the direction flipped


def test_a_stated_size_is_judged_and_tripling_it_changes_the_verdict():
    diffs = _draw(3.0)
    assert decide(Effect("a - b", "greater", 1.0, "in 1-2 times"), diffs).verdict == "supported"
    # negative control: the size tripled (3.0) falls inside the interval; tripled again, it lies above it
    assert decide(Effect("a - b", "greater", 3.0), diffs).verdict == "inconclusive"
    assert decide(Effect("a - b", "greater", 9.0), diffs).verdict == "not-supported"


def test_an_upper_bound_reads_as_at_most():
    """«лишь в 1.5–2 раза» is an upper bound: a log ratio of about log 1.2 is at most log 2, and at most log 1.1 is
    contradicted."""
    logs = (math.log(1.2) + 0.01 * np.random.default_rng(1).standard_normal(10)).tolist()
    assert decide(Effect("log time ratio", "at most", math.log(2)), logs).verdict == "supported"
    assert decide(Effect("log time ratio", "at most", math.log(1.1)), logs).verdict == "not-supported"


def test_identical_arms_are_inconclusive():
    """Two arms with the same values, paired in another order (the effect set to zero on purpose: the mean difference
    is 0 up to rounding, the spread is not): no claimed direction can be decided, and the decision says how many
    seeds the spread would need (more than it had)."""
    a = np.random.default_rng(7).standard_normal(10)
    diffs = (a - np.roll(a, 1)).tolist()
    assert abs(math.fsum(diffs)) < 1e-12
    for direction in ("greater", "less"):
        d = decide(Effect("a - b", direction), diffs)
        assert d.verdict == "inconclusive" and d.low < 0 < d.high
        assert d.seeds_to_decide is not None and d.seeds_to_decide > d.n


def test_exactly_equal_arms_contradict_a_strict_direction():
    """Paired arms that are the same computation give differences of exactly 0: the interval [0, 0] excludes
    "greater than 0" (not-supported), and lies inside "within +-0.1"."""
    d = decide(Effect("a - b", "greater"), [0.0] * 10)
    assert d.verdict == "not-supported" and d.low == d.high == 0
    assert decide(Effect("a - b", "within", 0.1), [0.0] * 10).verdict == "supported"


def test_the_level_is_the_stated_one():
    """At 99% the interval is wider than at 95%: a borderline effect decided at 95% can be undecided at 99%."""
    diffs = _draw(0.8)
    d95, d99 = decide(Effect("a - b", "greater"), diffs, 0.95), decide(Effect("a - b", "greater"), diffs, 0.99)
    assert d99.high - d99.low > d95.high - d95.low and d95.level == LEVEL


def test_settings_combine_into_one_verdict():
    yes = decide(Effect("x", "greater"), _draw(3.0))
    no = decide(Effect("x", "greater"), _draw(-3.0))
    maybe = decide(Effect("x", "greater"), _draw(0.0))  # mean 0: undecidable
    assert maybe.verdict == "inconclusive"
    assert combine({"a": yes, "b": yes})[0] == "supported"
    assert combine({"a": yes, "b": no}) == ("imprecise", ["a"], ["b"])
    assert combine({"a": no, "b": maybe})[0] == "not-supported"
    assert combine({"a": yes, "b": maybe})[0] == "inconclusive"


def test_effects_refuse_what_they_cannot_mean():
    with pytest.raises(ValueError):
        Effect("x", "bigger")
    with pytest.raises(ValueError):
        Effect("x", "within")  # no size: "no effect at all" cannot be decided
    with pytest.raises(ValueError):
        Effect("x", "greater", -1.0)


def test_timing_ratio_takes_minima_of_alternating_calls():
    """A fake clock: a costs 2 units, b 1 unit, plus a slow spell on the first call of each trial; the minimum over
    repeats removes the spell, so every trial gives log 2 exactly."""
    now = [0.0]
    calls = {"n": 0}

    def clock():
        return now[0]

    def op(cost):
        def run():
            calls["n"] += 1
            now[0] += cost + (5.0 if calls["n"] % 6 == 1 else 0.0)
        return run
    logs = timing_ratio(op(2.0), op(1.0), trials=4, repeats=3, clock=clock)
    assert logs == [math.log(2.0)] * 4


def test_a_fraction_of_seeds_uses_the_exact_interval():
    """10 of 10 runs stuck: the Clopper-Pearson 95% interval is [0.692, 1], above 1/2 (most runs); 5 of 10 cannot
    decide it; 0 of 10 contradicts it. Negative control: the flipped claim (most runs leave) on 10 of 10."""
    from lecture.method import decide_fraction

    most = Effect("fraction stuck", "greater", 0.5)
    d = decide_fraction(most, [True] * 10)
    assert d.verdict == "supported" and math.isclose(d.low, 0.025 ** 0.1, rel_tol=1e-9) and d.high == 1.0
    assert decide_fraction(most, [True] * 5 + [False] * 5).verdict == "inconclusive"
    assert decide_fraction(most, [False] * 10).verdict == "not-supported"
    assert decide_fraction(most.flipped(), [True] * 10).verdict == "not-supported"
