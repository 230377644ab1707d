"""All claims of the lecture, in slide order, and their evaluation.

The claims live in one module per part of the lecture (its agenda, :data:`SECTIONS`): :mod:`lecture.claims_activations`,
:mod:`lecture.claims_init`, :mod:`lecture.claims_batchnorm`, :mod:`lecture.claims_dropout` and
:mod:`lecture.claims_other`, each holding the claims of its slides as data with thin checks; this one collects them, evaluates them against one
:class:`lecture.registry.Evidence` store, and turns the results into the ``claims --json`` rows (DESIGN.md: at least
``id``, ``slide``, ``quote``, ``verdict``, ``evidence``).
"""
from __future__ import annotations

from collections.abc import Callable

from lecture.registry import Claim, Evidence, Outcome

#: the parts of the lecture (its agenda), each with the claim-id prefixes that belong to it
SECTIONS = (
    ("activations", "act-", {"en": "Activation functions", "ru": "Какими бывают функции активации"}),
    ("init", "init-", {"en": "Weight initialization", "ru": "Инициализация весов"}),
    ("batchnorm", "bn-", {"en": "Batch normalization", "ru": "Нормализация по батчам"}),
    ("dropout", "do-", {"en": "Dropout", "ru": "Dropout"}),
    ("other", "other-", {"en": "Other heuristics", "ru": "Другие эвристики"}),
)

#: the first slide of each part of the lecture in the seed (the report's outline follows the seed: a slide belongs to
#: the part it falls in)
SECTION_STARTS = {"activations": "Sigmoid activation", "init": "Инициализация весов", "batchnorm": "Батч-нормализация",
                  "dropout": "Dropout", "other": "Другие эвристики для обучения сеток"}


def section_modules() -> tuple:
    """The claims' modules, one per section of :data:`SECTIONS`, in order (``lecture.claims_<key>``)."""
    from importlib import import_module

    return tuple(import_module(f"lecture.claims_{key}") for key, _, _ in SECTIONS)


def all_claims() -> tuple[Claim, ...]:
    """Every claim of the lecture, section by section (:data:`SECTIONS`), in slide order within a section;
    ValueError if two share an id."""
    claims = tuple(c for module in section_modules() for c in module.CLAIMS)
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate claim ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return claims


def not_claims() -> tuple:
    """The statements of the slides that are not graded, each with its reason (:class:`lecture.registry.NotAClaim`),
    in slide order."""
    return tuple(n for module in section_modules() for n in getattr(module, "NOT_CLAIMS", ()))


def section_of(claim: Claim) -> str:
    """The part of the lecture a claim belongs to (a key of :data:`SECTIONS`), from its id's prefix."""
    for key, prefix, _ in SECTIONS:
        if claim.id.startswith(prefix):
            return key
    raise ValueError(f"claim {claim.id!r} belongs to no section (prefixes {[p for _, p, _ in SECTIONS]})")


def evaluate(claim: Claim, evidence: Evidence) -> Outcome:
    """Run the claim's check on its claimed data: the computed :class:`Outcome` (verdict, evidence, numbers)."""
    out = claim.check(claim.claimed, evidence)
    if not isinstance(out, Outcome):
        raise TypeError(f"claim {claim.id}: its check returned {type(out).__name__}, not an Outcome")
    return out


def evaluate_all(evidence: Evidence, claims: tuple[Claim, ...] | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> list[tuple[Claim, Outcome]]:
    """Evaluate every claim in order; ``progress(done, total, claim_id)`` after each one."""
    claims = all_claims() if claims is None else claims
    out = []
    for k, c in enumerate(claims):
        out.append((c, evaluate(c, evidence)))
        if progress is not None:
            progress(k + 1, len(claims), c.id)
    return out


#: the keys of one ``claims --json`` object, in order
ROW_KEYS = ("id", "slide", "quote", "statement", "section", "verdict", "evidence", "numbers", "condition", "correction",
            "figure", "derivation", "references", "ru")
#: the texts of a row that exist in both languages: English at the top level, Russian under "ru"
TEXT_KEYS = ("statement", "evidence", "condition", "correction")


def row(claim: Claim, outcome: Outcome) -> dict:
    """One ``claims --json`` object (keys :data:`ROW_KEYS`): its texts in English, and under ``ru`` the same texts
    (:data:`TEXT_KEYS`) in Russian (a text written once reads the same in both)."""
    from theory.text import pick

    texts = (claim.statement, outcome.evidence, outcome.condition, outcome.correction)
    return dict(zip(ROW_KEYS, (claim.id, claim.slide, claim.quote, pick(claim.statement, "en"), section_of(claim),
                               outcome.verdict, pick(outcome.evidence, "en"), outcome.numbers,
                               pick(outcome.condition, "en"), pick(outcome.correction, "en"), claim.figure,
                               claim.derivation, [pick(r, "en") for r in claim.references],
                               {k: pick(t, "ru") for k, t in zip(TEXT_KEYS, texts)})))


def in_language(r: dict, lang: str) -> dict:
    """A row with its texts (:data:`TEXT_KEYS`) in ``lang`` (en: as it is; ru: from its ``ru`` entry)."""
    return r if lang == "en" else {**r, **{k: r["ru"].get(k) for k in TEXT_KEYS}}


def rows_problem(rows) -> str | None:
    """None when ``rows`` are the rows of every claim, in order, each with :data:`ROW_KEYS` and a known verdict
    (what :func:`row` writes); otherwise why not (a cached result must pass this before it is used)."""
    from lecture.registry import VERDICTS

    ids = [c.id for c in all_claims()]
    if not isinstance(rows, list) or len(rows) != len(ids):
        return f"does not hold the {len(ids)} claims' rows"
    for r, cid in zip(rows, ids):
        if not isinstance(r, dict) or tuple(r) != ROW_KEYS:
            return f"has a malformed row (expected the keys {', '.join(ROW_KEYS)})"
        if (r["id"] != cid or r["verdict"] not in VERDICTS or not isinstance(r["evidence"], str)
                or not isinstance(r["ru"], dict) or not isinstance(r["ru"].get("evidence"), str)):
            return f"has a wrong row for {cid!r}"
    return None


def counts(rows: list[dict]) -> dict[str, int]:
    """Number of claims per verdict, in the order of :data:`lecture.registry.VERDICTS`."""
    from lecture.registry import VERDICTS

    return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
