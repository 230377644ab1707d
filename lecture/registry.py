"""The claims registry: every checkable statement of the lecture, what it claims as data, and the check that decides it.

A :class:`Claim` holds the slide title exactly as in the seed (``slide``), the exact Russian text (``quote``, a
substring of the seed after whitespace is collapsed), an English ``statement``, the claim as data (``claimed``: a
mapping of SymPy expressions, numbers, intervals or an effect's direction and rough size), and ``check``, a function
``check(claimed, evidence) -> Outcome`` that COMPUTES the verdict from the claimed data: a SymPy computation from
:mod:`theory`, or a Monte Carlo statistic or a training experiment from :mod:`sims` (through :class:`Evidence`,
which caches them). No verdict is typed in: a check compares what the slide states with what is computed, so a
perturbed statement (:func:`perturbed`: another value, a flipped direction) changes the verdict.

Verdicts:
* ``confirmed``: an exact statement (formula, value) that the computation reproduces;
* ``refuted``: an exact statement the computation contradicts (``correction`` gives the computed one);
* ``imprecise``: holds only under a condition (an activation, an init, a convention), named in ``condition``;
* ``supported`` / ``not-supported`` / ``inconclusive``: an empirical statement (the direction of an effect, and its
  size where the lecture gives one) whose paired confidence interval over the seeds lies inside the claimed region,
  outside it, or across its boundary (:mod:`lecture.method`). ``inconclusive`` means the data cannot decide; it is
  not an erratum.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import sympy as sp

from lecture.method import Decision, Effect, combine, decide
from theory.files import notice, read_entry, write_entry
from theory.text import T, join_words, pick, plural_ru

VERDICTS = ("confirmed", "refuted", "imprecise", "supported", "not-supported", "inconclusive")
ERRATA_VERDICTS = ("refuted", "imprecise", "not-supported")
SEED_PATH = Path(__file__).resolve().parent / "seed.txt"


@dataclass
class Outcome:
    """What a check computed. ``evidence``: one or two sentences with the numbers (and standard errors or spreads);
    ``numbers``: the same numbers as data (JSON-able); ``condition``: for ``imprecise``, when the statement holds;
    ``correction``: for ``refuted`` / ``imprecise`` / ``not-supported``, what the slide should say."""

    verdict: str
    evidence: T | str
    numbers: dict = field(default_factory=dict)
    condition: T | str | None = None
    correction: T | str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; one of {', '.join(VERDICTS)}")
        if self.verdict == "imprecise" and not self.condition:
            raise ValueError("an imprecise verdict names its condition")
        if self.verdict in ERRATA_VERDICTS and not self.correction:
            raise ValueError(f"a {self.verdict} verdict gives the correction")


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a slide: the quote, an English ``statement``, the claim as data (``claimed``) and
    ``check(claimed, evidence) -> Outcome``, which computes the verdict (module docstring); ``perturb`` gives another
    statement of the same shape whose verdict must differ (the negative control)."""

    id: str
    slide: str
    quote: str
    statement: T | str
    claimed: Mapping
    check: Callable[[Mapping, "Evidence"], Outcome]
    perturb: Callable[[Mapping], Mapping]  # another statement of the same shape whose verdict must differ
    figure: str | None = None  # the figure registered in figures/ that shows the evidence
    derivation: str | None = None  # the verified derivation in theory/ (python -m theory show NAME)
    references: tuple[str, ...] = ()

    def perturbed(self) -> "Claim":
        """The same claim with ``claimed`` replaced by ``perturb(claimed)``."""
        return replace(self, claimed=self.perturb(self.claimed))


@dataclass(frozen=True)
class NotAClaim:
    """A statement of the slides that is not graded, with the reason: a list item, a heading or a rhetorical phrase
    that names a topic and states nothing checkable about it, or a statement no computation can decide. The report
    lists these, so that leaving them out is visible."""

    id: str
    slide: str
    quote: str
    reason: T | str


# ------------------------------------------------------------------------------------------------ evidence
def code_version() -> str:
    """SHA-256 (16 hex digits) of every Python source file of the package and pyproject.toml: any change of code
    invalidates cached results (:func:`sims.memo.code_version`)."""
    from sims.memo import code_version as version

    return version()


def _jsonable(obj):
    """numpy scalars/arrays and SymPy numbers to plain JSON types (non-finite floats to None):
    :func:`theory.cli_util.finite_or_none`."""
    from theory.cli_util import finite_or_none

    return finite_or_none(obj)


class Evidence:
    """Computed results shared by the checks, memoized in memory and, with ``cache_dir``, on disk (one JSON file per
    result, keyed by the name, the arguments and :func:`code_version`). ``fast``: checks may use smaller runs (for
    tests; the report always uses the default sizes)."""

    def __init__(self, cache_dir: Path | None = None, fast: bool = False):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.fast = fast
        self._memo: dict[str, object] = {}

    def _key(self, name: str, kwargs: dict) -> str:
        text = json.dumps({"name": name, "kwargs": _jsonable(kwargs), "fast": self.fast, "code": code_version()},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def cached(self, name: str, /, *, check: Callable[[object], str | None] | None = None, **kwargs):
        """The valid cached result of ``name`` with ``kwargs`` (as :meth:`get` would read it), or None when there is
        none: nothing is computed."""
        key = self._key(name, kwargs)
        if key in self._memo:
            return self._memo[key]
        if self.cache_dir is None:
            return None
        entry = read_entry(self.cache_dir / "evidence" / f"{name}-{key}.json", key)
        if entry.ok and (check is None or check(entry.value) is None):
            return entry.value
        return None

    def get(self, name: str, compute: Callable[..., object], /, *, check: Callable[[object], str | None] | None = None,
            **kwargs):
        """``compute(**kwargs)``, once per (name, kwargs) and code version; the result must be JSON-able (after
        numpy / SymPy numbers are converted), and is returned in its JSON form, the same cold and warm.

        A cached entry is used only when valid (:func:`theory.files.read_entry`: schema, key, a hash of its value)
        and, with ``check``, when ``check(value)`` returns None (else the reason it is not a result of ``compute``);
        an invalid one is recomputed with a one-line notice on stderr."""
        key = self._key(name, kwargs)
        if key in self._memo:
            return self._memo[key]
        path = self.cache_dir / "evidence" / f"{name}-{key}.json" if self.cache_dir is not None else None
        if path is not None:
            entry = read_entry(path, key)
            problem = entry.problem
            if entry.ok:
                problem = check(entry.value) if check is not None else None
                if problem is None:
                    self._memo[key] = entry.value
                    return entry.value
            if problem:
                notice(f"cache entry {path.name} {problem}: recomputed")
        value = _jsonable(compute(**kwargs))
        if check is not None and (problem := check(json.loads(json.dumps(value)))) is not None:
            raise ValueError(f"{name}: a freshly computed result fails its own check: {problem}")
        value = write_entry(path, key, value) if path is not None else json.loads(json.dumps(value))
        self._memo[key] = value
        return value


# ------------------------------------------------------------------------------------------------ helpers for checks
def exact_equal(a, b) -> bool:
    """SymPy equality of two expressions: simplify(a - b) == 0."""
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def scaled(claimed: Mapping, key: str, factor) -> dict:
    """A copy of ``claimed`` with ``claimed[key]`` multiplied by ``factor`` (a perturbation)."""
    out = dict(claimed)
    out[key] = out[key] * factor
    return out


def flipped(claimed: Mapping, key: str = "direction") -> dict:
    """A copy with the direction of an effect reversed (``greater`` <-> ``less``; ``yes`` <-> ``no``)."""
    swap = {"greater": "less", "less": "greater", "yes": "no", "no": "yes", "faster": "slower", "slower": "faster",
            True: False, False: True}
    out = dict(claimed)
    out[key] = swap[out[key]]
    return out


def fmt(x, digits: int = 3) -> str:
    """A number for evidence text: 3 significant digits, exact rationals as they are."""
    if isinstance(x, sp.Basic) and not x.is_Float:
        return sp.sstr(x)
    if x is None:
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def tex(expr) -> str:
    r"""An expression as inline math for the report's prose: ``$`` + its LaTeX in the lecture's notation
    (:func:`theory.latex.latex`) + ``$``; a set's braces as \lbrace / \rbrace, since Markdown may eat the backslash of
    \{."""
    from theory.latex import latex

    return "$" + latex(expr).replace(r"\{", r"\lbrace ").replace(r"\}", r"\rbrace ").strip() + "$"


def and_join(items, conj: str = "and", lang: str = "en") -> str:
    """Items in prose in ``lang``: ``a``, ``a and b``, ``a, b and c`` (``conj`` may be "or"; in Russian и, или);
    items may be :class:`theory.text.T`."""
    return pick(join_words(items, conj), lang)


def code_spans(names) -> list[str]:
    """Names of code (inits, specs, strategies) as Markdown code spans."""
    return [f"`{n}`" for n in names]


def spread_text(s: Mapping, digits: int = 3) -> str:
    """'median (min–max)' of a :func:`sims.experiments.common.spread`."""
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"


def effect_of(claimed: Mapping, metric: str):
    """The :class:`lecture.method.Effect` an empirical claim states in ``claimed``: ``direction`` (greater, less,
    at most, at least; ``none`` reads as within), ``min_size`` (0 or absent: the direction alone) and ``size_source``
    (the lecture's words that give the size)."""
    direction = {"none": "within"}.get(claimed["direction"], claimed["direction"])
    return Effect(metric, direction, float(claimed.get("min_size", 0.0)), claimed.get("size_source", ""))


def effect_outcome(effect, per, *, evidence: "T | str", numbers: Mapping | None = None, unit: str = "",
                   note: "T | str" = "") -> Outcome:
    """The Outcome of an empirical claim from its paired per-seed values (:func:`lecture.method.decide`): ``per`` is
    one list (one value per seed, or a :class:`lecture.method.Decision` already made, e.g. of a fraction) or a
    mapping setting -> list when the effect is measured in several settings
    (:func:`lecture.method.combine`); ``effect`` is one :class:`lecture.method.Effect`, or a mapping setting -> Effect
    when the settings measure different metrics (all of which the claim needs). The evidence ends with the claimed
    region and each setting's interval; an inconclusive verdict says how many seeds the measured spread would need;
    ``note`` ends a correction. Settings and metrics may be :class:`theory.text.T` (texts in both languages); the
    texts of the Outcome are."""
    per = dict(per) if isinstance(per, Mapping) else {"": per if isinstance(per, Decision) else list(per)}
    effects = dict(effect) if isinstance(effect, Mapping) else {k: effect for k in per}
    effect = next(iter(effects.values()))
    decisions = {k: v if isinstance(v, Decision) else decide(effects[k], v) for k, v in per.items()}
    verdict, held, failed = combine(decisions)

    def each(lang: str) -> dict[str, str]:
        def setting(k) -> str:
            return f"{pick(k, lang)}: " if k else ""
        measured = "; ".join(f"{setting(k)}{d.text(unit, lang=lang)}" for k, d in decisions.items())

        def claimed_text(e) -> str:
            if e.source:
                size = f" ({pick(e.source, lang)})"
            elif e.size == 0:
                size = (" (the direction alone: the lecture states no size)" if lang == "en" else
                        " (только направление: размера лекция не называет)")
            else:
                size = ""
            return f"{pick(e.metric, lang)} {e.describe(lang)}{size}"
        claims = "; ".join(dict.fromkeys(claimed_text(e) for e in effects.values()))
        words = {"en": ("Claimed", "measured", "only", "not"), "ru": ("Заявлено", "измерено", "только", "но не")}[lang]
        text = f"{pick(evidence, lang)} {words[0]}: {claims}; {words[1]} {measured}."
        undecided = [d.seeds_to_decide for d in decisions.values() if d.seeds_to_decide is not None]
        if verdict == "inconclusive":
            if lang == "en":
                text += (f" The interval crosses the claimed boundary: about {max(undecided)} paired seeds would decide "
                         "it at this spread." if undecided else " The interval touches the claimed boundary.")
            else:
                text += (f" Интервал пересекает заявленную границу: при таком разбросе решение дали бы около "
                         f"{seeds_ru(max(undecided), paired=True, case='gen')}." if undecided else " Интервал касается заявленной границы.")
        held_s = ", ".join(str(pick(k, lang)) for k in held)
        failed_s = ", ".join(str(pick(k, lang)) for k in failed)
        return {"evidence": text,
                "condition": f"{words[2]} {held_s}, {words[3]} {failed_s}: {claims}",
                "correction": f"{pick(effect.metric, lang)}: {measured}{pick(note, lang)}",
                "refutation": (f"measured {measured}, not {claims}{pick(note, lang)}" if lang == "en" else
                               f"измерено {measured}, а не {claims}{pick(note, lang)}")}
    en, ru = each("en"), each("ru")

    def t(key: str) -> T:
        return T(en[key], ru[key])
    nums = {**(numbers or {}),
            "effects": {str(k) or "all": {"metric": str(e.metric), "direction": e.direction, "size": e.size,
                                          "source": str(e.source)} for k, e in effects.items()},
            "decisions": {str(k) or "all": d.as_dict() for k, d in decisions.items()}}
    condition = correction = None
    if verdict == "imprecise":
        condition, correction = t("condition"), t("correction")
    elif verdict == "not-supported":
        correction = t("refutation")
    return Outcome(verdict, t("evidence"), nums, condition=condition, correction=correction)


SEEDS_RU = {("nom", False): ("зерно", "зерна", "зёрен"), ("nom", True): ("парное зерно", "парных зерна", "парных зёрен"),
            ("gen", False): ("зерна", "зёрен", "зёрен"), ("gen", True): ("парного зерна", "парных зёрен", "парных зёрен")}


def seeds_ru(n: int, *, paired: bool = False, case: str = "nom") -> str:
    """``n`` (paired) seeds in Russian, the noun agreeing with ``n`` in ``case``: nom «5 парных зёрен», «2 зерна»;
    gen, after «из», «около»: «из 21 зерна», «около 5 парных зёрен»."""
    return f"{n} {plural_ru(n, *SEEDS_RU[case, paired])}"


def spread_of(values) -> dict:
    """:func:`sims.experiments.common.spread` of per-seed values (median, min, max, values) as floats."""
    from sims.experiments.common import spread

    return spread([float(v) for v in values])


def paired(a: Mapping, b: Mapping) -> list[float]:
    """Per-seed a - b of two spreads (:func:`sims.experiments.common.spread`) over the same seeds, in the same order:
    the paired differences an empirical claim is judged on; ValueError for spreads over different numbers of seeds."""
    if len(a["values"]) != len(b["values"]):
        raise ValueError("paired spreads over different numbers of seeds")
    return [float(x) - float(y) for x, y in zip(a["values"], b["values"])]


def paired_outcome(per: Mapping, claimed: Mapping, *, what: "T | str", evidence: "T | str", numbers: Mapping,
                   note: "T | str" = "") -> Outcome:
    """:func:`effect_outcome` of the effect ``claimed`` states about the metric ``what``, measured in one or more
    settings (``per``: setting -> per-seed paired values); the numbers gain each setting's spread under "effect"."""
    spreads = {str(k): spread_of(vals) for k, vals in per.items()}
    return effect_outcome(effect_of(claimed, what), per, evidence=evidence, numbers={**numbers, "effect": spreads},
                          note=note)


# ------------------------------------------------------------------------------------------------ the seed
@lru_cache(maxsize=1)
def seed_text() -> str:
    """The lecture (the seed), whitespace collapsed. Looked up next to the package (lecture/seed.txt), else in the
    shared folder of this workspace."""
    for p in (SEED_PATH, Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_6c4a29ccdfe2d71c.txt"):
        if p.is_file():
            return " ".join(p.read_text(encoding="utf-8").split())
    raise FileNotFoundError("the lecture's text (lecture/seed.txt) is missing")


@lru_cache(maxsize=1)
def slide_titles() -> tuple[str, ...]:
    """Slide titles in order: the lines that start with '# ' or '## ' in the seed."""
    return tuple(title for title, _ in slides())


@lru_cache(maxsize=1)
def slides() -> tuple[tuple[str, str], ...]:
    """The seed's slides in order: (title, body with whitespace collapsed), a slide being a line that starts with
    '# ' or '## ' and the lines up to the next one (text before the first heading is left out)."""
    for p in (SEED_PATH, Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_6c4a29ccdfe2d71c.txt"):
        if p.is_file():
            out: list[tuple[str, list[str]]] = []
            for line in p.read_text(encoding="utf-8").splitlines():
                s = line.strip()
                if s.startswith("# ") or s.startswith("## "):
                    out.append((s.lstrip("#").strip(), []))
                elif out:
                    out[-1][1].append(line)
            return tuple((title, " ".join(" ".join(body).split())) for title, body in out)
    raise FileNotFoundError("the lecture's text (lecture/seed.txt) is missing")


def slide_index(title: str, quote: str) -> int:
    """The index in :func:`slides` of the first slide titled ``title`` whose body holds ``quote`` (whitespace
    collapsed), else of the first slide with that title; ValueError for a title the seed does not have."""
    q = " ".join(quote.split())
    found = [i for i, (t, _) in enumerate(slides()) if t == title]
    if not found:
        raise ValueError(f"no slide is titled {title!r}")
    return next((i for i in found if q in slides()[i][1]), found[0])


def quote_in_seed(quote: str) -> bool:
    """True when ``quote`` (whitespace collapsed) occurs in the lecture's text."""
    return " ".join(quote.split()) in seed_text()


# ------------------------------------------------------------------------------------------------ experiments
def _experiment_table(fast: bool) -> dict[str, Callable[[], object]]:
    """name -> computation of the summaries over SEEDS paired seeds that the checks read (the figures draw the same
    experiments). With ``fast``: FAST_SEEDS seeds and short runs (tests only: a fast verdict may differ from the full
    one)."""
    from sims.experiments import (activation_cost, bn_training, dropout_update, early_stopping, gradients, growth,
                                  inits, l2_batchnorm, nonzero_centred, pretraining, pruning, shuffling,
                                  standardization, symmetry)
    from sims.experiments.common import FAST_SEEDS, SEEDS

    seeds = range(FAST_SEEDS) if fast else range(SEEDS)
    if fast:
        return {
            "inits": lambda: inits.over_seeds(inits.run_inits, seeds=seeds, epochs=3),
            "activations": lambda: inits.over_seeds(inits.run_activations, seeds=seeds, epochs=3),
            "bn_training": lambda: bn_training.over_seeds(seeds=seeds, epochs=1, after=(10, 20)),
            "gradients": lambda: gradients.over_seeds(seeds=seeds, depths=(2, 6), vanishing_kw={"epochs": 1},
                                                      exploding_kw={"epochs": 1}),
            "symmetry": lambda: symmetry.over_seeds(seeds=seeds, epochs=2, hidden=(8, 8)),
            "standardization": lambda: standardization.run(scales=(1.0, 10.0), n=200),
            "nonzero_centred": lambda: {a: nonzero_centred.over_seeds(a, seeds=seeds, steps=200)
                                        for a in ("sigmoid", "tanh", "relu")},
            "early_stopping": lambda: early_stopping.over_seeds(seeds=seeds, widths=(8, 64),
                                                                curves_kw={"epochs": 30, "hidden": (64,)},
                                                                sizes_kw={"epochs": 10}),
            "pruning": lambda: pruning.over_seeds(seeds=seeds, hidden=(32,), epochs=10, fractions=(0.5, 0.9)),
            "growth": lambda: growth.over_seeds(seeds=seeds, strategies=("zero_out", "random", "hardest"),
                                                target=0.3, h_max=6),
            "pretraining": lambda: pretraining.over_seeds(seeds=seeds, epochs=3, few_epochs=6, unit_epochs=2,
                                                          ae_epochs=5),
            "activation_cost": lambda: activation_cost.timing_trials(trials=3, repeats=3),
            "shuffling": lambda: shuffling.over_seeds(seeds=seeds, epochs=2),
            "dropout_update": lambda: dropout_update.over_seeds(range(SEEDS)),  # cheap: the full seeds in tests too
            "l2_batchnorm": lambda: l2_batchnorm.over_seeds(seeds=seeds, epochs=2),
        }
    from sims import memo

    def runs(module):  # the per-seed runs the figures draw (memoized once for both when the memo is on)
        return [memo.call(module.run, seed=s) for s in seeds]
    return {
        "inits": lambda: memo.call(inits.over_seeds, fn=inits.run_inits, epochs=inits.EPOCHS),
        "activations": lambda: memo.call(inits.over_seeds, fn=inits.run_activations, epochs=inits.EPOCHS),
        "bn_training": lambda: memo.call(bn_training.over_seeds, epochs=bn_training.EPOCHS),
        "gradients": lambda: gradients.over_seeds(seeds=seeds),
        "symmetry": lambda: symmetry.summarize(runs(symmetry)),
        "standardization": lambda: standardization.run(),
        "nonzero_centred": lambda: {a: nonzero_centred.over_seeds(a, seeds=seeds) for a in ("sigmoid", "tanh", "relu")},
        "early_stopping": lambda: early_stopping.summarize(runs(early_stopping)),
        "pruning": lambda: pruning.summarize(runs(pruning)),
        "growth": lambda: growth.summarize(runs(growth)),
        "pretraining": lambda: pretraining.summarize(runs(pretraining)),
        "activation_cost": lambda: activation_cost.timing_trials(),
        "shuffling": lambda: shuffling.over_seeds(seeds=seeds),
        "dropout_update": lambda: dropout_update.over_seeds(seeds=seeds),
        "l2_batchnorm": lambda: memo.call(l2_batchnorm.over_seeds, seeds=seeds),
    }


EXPERIMENTS = ("inits", "activations", "bn_training", "gradients", "symmetry", "standardization", "nonzero_centred",
               "early_stopping", "pruning", "growth", "pretraining", "activation_cost", "shuffling", "dropout_update",
               "l2_batchnorm")


def experiment(evidence: "Evidence", name: str):
    """The summary of training experiment ``name`` (:data:`EXPERIMENTS`), computed once per evidence store (BLAS on
    one thread, as the figures run them). Keys as the experiment's ``over_seeds`` (``run`` for the deterministic
    ``standardization`` and the timing ``activation_cost``; ``nonzero_centred`` maps sigmoid / tanh / relu)."""
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")

    def compute():
        from sims.experiments.common import blas_single_thread

        with blas_single_thread():
            return _experiment_table(evidence.fast)[name]()
    return evidence.get(f"experiment-{name}", compute)
