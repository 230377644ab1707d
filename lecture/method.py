"""The method for the lecture's empirical claims, written once (``docs/METHOD.md`` explains it for readers).

An empirical claim states its :class:`Effect` before any run:
- the metric: a per-seed paired difference of two arms (the same data split and initial draw feed both arms),
  or the log of a per-seed ratio;
- the claimed region for the metric's mean: a direction, and a size where the lecture's words give one (``source``
  quotes them). Where the lecture gives no size, the claim is the direction alone (size 0) and "how much" is
  reported, not judged;
- the confidence level (:data:`LEVEL`) and the number of seeds (``sims.experiments.common.SEEDS``), fixed in
  advance.

The verdict (:func:`decide`) comes from a two-sided Student t interval of the mean paired difference over the seeds:
- ``supported``: the interval lies inside the claimed region (on the claimed side of zero, and past the claimed size
  when one is stated);
- ``not-supported``: the interval lies outside it (it excludes the claimed effect);
- ``inconclusive``: neither. The data cannot decide; that is not an erratum. The decision reports how many seeds the
  measured spread would need to decide (:attr:`Decision.seeds_to_decide`).

Timing claims compare the operations themselves with preallocated outputs, take the minimum of repeats per trial,
and judge the log of the time ratio across independent trials by the same interval (the trials are measured by
:func:`sims.experiments.common.timing_ratio`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95  # two-sided confidence level of every interval
DIRECTIONS = ("greater", "less", "at most", "at least", "within")
#: The claimed region for the mean of the metric, per direction, as (low, high, low closed, high closed) for size s.
_REGIONS = {
    "greater": lambda s: (s, math.inf, False, False),  # the effect exceeds s (s = 0: the direction alone)
    "less": lambda s: (-math.inf, -s, False, False),  # the effect is below -s
    "at least": lambda s: (s, math.inf, True, False),
    "at most": lambda s: (-math.inf, s, False, True),  # an upper bound ("only 1.5-2 times": at most log 2)
    "within": lambda s: (-s, s, True, True),  # no effect larger than s either way
}


@dataclass(frozen=True)
class Effect:
    """What an empirical claim says, fixed before any run: ``metric`` (in words: what is differenced, a minus b),
    ``direction`` (one of :data:`DIRECTIONS`), ``size`` (0: the direction alone) and ``source`` (the lecture's words
    that give the size, or "" when it gives none)."""

    metric: str
    direction: str
    size: float = 0.0
    source: str = ""

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)} (got {self.direction!r})")
        if not (math.isfinite(self.size) and self.size >= 0):
            raise ValueError(f"size must be a finite number >= 0 (got {self.size!r})")
        if self.direction == "within" and self.size == 0:
            raise ValueError("'within' needs a size from the lecture (no effect is exactly zero)")

    @property
    def region(self) -> tuple[float, float, bool, bool]:
        """(low, high, low closed, high closed): where the mean of the metric lies if the claim holds."""
        return _REGIONS[self.direction](float(self.size))

    def describe(self, lang: str = "en") -> str:
        """The claimed region in words, e.g. ``> 0`` or ``<= 0.693`` (``lang``: en or ru)."""
        lo, hi, lo_c, hi_c = (v + 0.0 if isinstance(v, float) else v for v in self.region)  # -0.0 prints as 0
        if math.isinf(lo):
            return f"{'≤' if hi_c else '<'} {hi:.4g}"
        if math.isinf(hi):
            return f"{'≥' if lo_c else '>'} {lo:.4g}"
        return f"{'in' if lang == 'en' else 'в'} [{lo:.4g}, {hi:.4g}]"

    def flipped(self) -> "Effect":
        """The opposite claim (the negative control): greater <-> less, at least <-> at most; within -> a size
        three times larger outside."""
        other = {"greater": "less", "less": "greater", "at least": "at most", "at most": "at least"}
        if self.direction == "within":
            return Effect(self.metric, "greater", 3 * self.size, self.source)
        return Effect(self.metric, other[self.direction], self.size, self.source)


@dataclass(frozen=True)
class Decision:
    """The verdict of :func:`decide`, with its numbers: the mean paired difference, the interval at ``level``, the
    per-seed standard deviation, ``n`` seeds, and ``seeds_to_decide`` (None when decided, or when the spread is
    zero): about how many seeds the measured mean and spread would need for the interval to leave the boundary."""

    verdict: str
    mean: float
    low: float
    high: float
    sd: float
    n: int
    level: float
    seeds_to_decide: int | None

    def text(self, unit: str = "", digits: int = 3, lang: str = "en") -> str:
        """``mean [low, high] (95% t interval, n seeds)`` for an evidence sentence (``lang``: en or ru)."""
        f = f"{{:.{digits}g}}"
        over = (f"{self.level:.0%} t interval over {self.n} paired seeds" if lang == "en" else
                f"{self.level:.0%}-й интервал Стьюдента по {self.n} парным зёрнам")
        return f"{f.format(self.mean)}{unit} [{f.format(self.low)}, {f.format(self.high)}] ({over})"

    def as_dict(self) -> dict:
        """The decision as JSON-able data (the claim's ``numbers``)."""
        return {"verdict": self.verdict, "mean": self.mean, "low": self.low, "high": self.high, "sd": self.sd,
                "n": self.n, "level": self.level, "seeds_to_decide": self.seeds_to_decide}


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom (SciPy)."""
    from scipy.stats import t

    return float(t.ppf(p, df))


def interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float, float]:
    """(mean, low, high, sd) of the two-sided Student t interval of the mean of ``values`` (two or more finite
    numbers: one per seed)."""
    v = [float(x) for x in values]
    if len(v) < 2:
        raise ValueError(f"an interval needs two or more seeds (got {len(v)})")
    if not all(math.isfinite(x) for x in v):
        raise ValueError("every per-seed value must be finite")
    n = len(v)
    mean = math.fsum(v) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in v) / (n - 1))
    half = t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, sd


def _inside(x: float, region) -> bool:
    lo, hi, lo_c, hi_c = region
    return (x >= lo if lo_c else x > lo) and (x <= hi if hi_c else x < hi)


def _verdict(effect: Effect, low: float, high: float) -> str:
    region = effect.region
    lo, hi, lo_c, hi_c = region
    disjoint = high < lo or (high == lo and not lo_c) or low > hi or (low == hi and not hi_c)
    return ("supported" if _inside(low, region) and _inside(high, region)
            else "not-supported" if disjoint else "inconclusive")


def decide(effect: Effect, values: Sequence[float], level: float = LEVEL) -> Decision:
    """The verdict on ``effect`` from one paired difference (or log ratio) per seed (module docstring)."""
    mean, low, high, sd = interval(values, level)
    verdict = _verdict(effect, low, high)
    need = None
    if verdict == "inconclusive" and sd > 0:
        lo, hi, _, _ = effect.region
        gap = min(abs(mean - b) for b in (lo, hi) if math.isfinite(b))
        if gap > 0:
            z = t_quantile((1 + level) / 2, max(len(values) - 1, 1))
            need = max(len(values) + 1, math.ceil((z * sd / gap) ** 2))
    return Decision(verdict, mean, low, high, sd, len(values), level, need)


def decide_fraction(effect: Effect, events: Sequence[bool], level: float = LEVEL) -> Decision:
    """The verdict on a claimed fraction of seeds in which a yes/no event happens (a network stays stuck, say), from
    the exact (Clopper-Pearson) interval of the proportion; ``sd`` is the per-seed sd sqrt(p (1 - p))."""
    from scipy.stats import binomtest

    n, k = len(events), sum(bool(e) for e in events)
    if n < 1:
        raise ValueError("a fraction needs one or more seeds")
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    p = k / n
    return Decision(_verdict(effect, float(ci.low), float(ci.high)), p, float(ci.low), float(ci.high),
                    math.sqrt(p * (1 - p)), n, level, None)


def combine(decisions: dict[str, Decision]) -> tuple[str, list[str], list[str]]:
    """One verdict for a claim measured in several settings (setting -> Decision): ``supported`` when every setting
    supports it, ``not-supported`` when none does and one or more contradict it, ``imprecise`` when some support it
    and others contradict it (the condition names them), else ``inconclusive``. Also returns the settings that support
    and those that contradict it."""
    held = [k for k, d in decisions.items() if d.verdict == "supported"]
    failed = [k for k, d in decisions.items() if d.verdict == "not-supported"]
    if len(held) == len(decisions):
        return "supported", held, failed
    if held and failed:
        return "imprecise", held, failed
    if failed:
        return "not-supported", held, failed
    return "inconclusive", held, failed
