"""The claims of the batch-norm, dropout and other-heuristics slides (lecture/claims_bn_dropout.py): quotes and titles
from the seed, every check computes a valid Outcome, every perturbed claim gets another verdict; the slow test runs
the full 5-seed experiments and asserts the reported verdicts."""
import json
import re

import pytest

from lecture.claims_bn_dropout import CLAIMS
from lecture.registry import VERDICTS, Claim, Evidence, Outcome, quote_in_seed, seed_text, slide_titles

PREFIXES = ("bn-", "do-", "other-")

#: The verdicts reported for the full evidence (5 seeds, default sizes): a test of the computation, not its input.
FULL_VERDICTS = {
    "bn-hidden-not-standardized": "confirmed",
    "bn-distribution-drift": "supported",
    "bn-scale-shift-notation": "imprecise",
    "bn-running-stats": "imprecise",
    "bn-speeds-training": "supported",
    "bn-forward-biased-variance": "confirmed",
    "bn-backward-line1": "confirmed",
    "bn-backward-line2": "confirmed",
    "bn-backward-line3": "imprecise",
    "bn-backward-line4": "refuted",
    "bn-backward-line5": "confirmed",
    "bn-backward-line6": "confirmed",
    "bn-mnist-p160": "supported",
    "bn-weaker-dropout": "imprecise",
    "other-shuffle-sorted": "supported",
    "other-reshuffle-every-epoch": "imprecise",
    "do-p-off": "imprecise",
    "do-mask-cases": "confirmed",
    "do-backward": "confirmed",
    "do-2n-networks": "imprecise",
    "do-ensemble-average": "imprecise",
    "do-test-expectation": "confirmed",
    "do-inverted": "confirmed",
    "other-pretraining-units": "not-supported",
    "other-pretraining-early-lead": "supported",
    "other-pretraining-autoencoder": "imprecise",
    "other-growth-cost": "imprecise",
    "other-growth-keeps-information": "imprecise",
    "other-pruning-retrain": "supported",
    "other-pruning-restore": "not-supported",
    "other-early-stopping": "not-supported",
}

IDS = [c.id for c in CLAIMS]


def _evaluate(evidence: Evidence) -> dict[str, tuple[Outcome, Outcome]]:
    return {c.id: (c.check(c.claimed, evidence), c.perturbed().check(c.perturbed().claimed, evidence))
            for c in CLAIMS}


def _valid(o: Outcome) -> None:
    assert isinstance(o, Outcome)
    assert o.verdict in VERDICTS
    assert o.evidence.strip()
    json.dumps(o.numbers)  # JSON-able
    if o.verdict == "imprecise":
        assert o.condition
    if o.verdict in ("refuted", "imprecise", "not-supported"):
        assert o.correction


@pytest.fixture(scope="module")
def fast_outcomes():
    return _evaluate(Evidence(fast=True))


def test_claims_are_well_formed():
    assert len(CLAIMS) >= 18
    assert len(set(IDS)) == len(IDS)
    titles = set(slide_titles())
    for c in CLAIMS:
        assert isinstance(c, Claim)
        assert c.id.startswith(PREFIXES) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.id), c.id
        assert c.slide in titles, c.slide
        assert quote_in_seed(c.quote), c.id
        assert c.statement.endswith(".")
    assert set(IDS) == set(FULL_VERDICTS)


def test_claims_in_slide_order():
    text = seed_text()
    where = [text.index(" ".join(c.quote.split())) for c in CLAIMS]
    assert where == sorted(where)


def test_every_claim_evaluates(fast_outcomes):
    for cid, (o, po) in fast_outcomes.items():
        _valid(o)
        _valid(po)


def test_perturbed_claims_change_verdict(fast_outcomes):
    for cid, (o, po) in fast_outcomes.items():
        assert o.verdict != po.verdict, (cid, o.verdict)


def test_exact_checks_do_not_need_experiments(fast_outcomes):
    """The SymPy verdicts are the same with fast evidence as reported for the full one (they use no experiment)."""
    exact = {"confirmed", "refuted"}
    for cid, (o, _) in fast_outcomes.items():
        if FULL_VERDICTS[cid] in exact:
            assert o.verdict == FULL_VERDICTS[cid], cid


@pytest.mark.slow
def test_full_evidence_verdicts():
    outcomes = _evaluate(Evidence(fast=False))
    for cid, (o, po) in outcomes.items():
        _valid(o)
        _valid(po)
        assert o.verdict == FULL_VERDICTS[cid], (cid, o.verdict, o.evidence)
        assert po.verdict != o.verdict, cid
