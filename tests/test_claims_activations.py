"""The activation claims (lecture/claims_activations.py): quotes and slides from the seed, every check returns a valid
Outcome, every perturbed claim changes its verdict, and (slow) the verdicts with full evidence."""
import json
import re

import pytest

from lecture.claims_activations import CLAIMS, PREFIX
from lecture.registry import VERDICTS, Claim, Evidence, Outcome, quote_in_seed, slide_titles

IDS = [c.id for c in CLAIMS]

#: the verdicts computed with full evidence (5 seeds, default runs): a test of the computation, not its input
EXPECTED = {
    "act-sigmoid-derivative": "confirmed",
    "act-sigmoid-range": "imprecise",
    "act-sigmoid-max-derivative": "confirmed",
    "act-vanishing-exponential": "supported",
    "act-early-layers-slower": "supported",
    "act-paralysis": "supported",
    "act-shallow-unaffected": "supported",
    "act-same-sign-gradients": "imprecise",
    "act-zigzag-converges": "supported",
    "act-sigmoid-vanishing": "confirmed",
    "act-sigmoid-not-centred": "confirmed",
    "act-exp-costly": "not-supported",
    "act-tanh-centred": "confirmed",
    "act-tanh-like-sigmoid": "confirmed",
    "act-tanh-derivative": "confirmed",
    "act-tanh-vanishing": "imprecise",
    "act-relu-fast": "imprecise",
    "act-relu-no-vanishing": "imprecise",
    "act-relu-faster-convergence": "supported",
    "act-relu-dies": "confirmed",
    "act-relu-not-centred": "confirmed",
    "act-relu-bias-dead": "imprecise",
    "act-leaky-no-dying": "confirmed",
    "act-leaky-derivative-sign": "refuted",
    "act-leaky-linear-at-1": "confirmed",
    "act-choice-small-gain": "imprecise",
    "act-elu-deep-convergence": "supported",
    "act-elu-formula": "confirmed",
}


def _valid(o: Outcome) -> None:
    assert isinstance(o, Outcome)
    assert o.verdict in VERDICTS
    assert o.evidence and isinstance(o.evidence, str)
    json.dumps(o.numbers, allow_nan=False)  # strict JSON
    if o.verdict == "imprecise":
        assert o.condition
    if o.verdict in ("refuted", "imprecise", "not-supported"):
        assert o.correction


@pytest.fixture(scope="module")
def fast_evidence():
    return Evidence(fast=True)


@pytest.fixture(scope="module")
def full_evidence():
    return Evidence(fast=False)


def test_claims_are_well_formed():
    assert len(CLAIMS) >= 14
    assert len(set(IDS)) == len(IDS)
    assert set(IDS) == set(EXPECTED)
    titles = slide_titles()
    position = 0  # slide titles repeat («Sigmoid activation», «ReLU activation»): walk the seed forwards
    for c in CLAIMS:
        assert isinstance(c, Claim)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", c.id) and c.id.startswith(PREFIX), c.id
        assert c.slide in titles, c.id
        assert quote_in_seed(c.quote), c.id
        assert c.statement.strip(), c.id
        later = [i for i in range(position, len(titles)) if titles[i] == c.slide]
        assert later, f"{c.id}: slide {c.slide!r} is not at or after the previous claim's slide (slide order)"
        position = later[0]


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_claim_evaluates_and_perturbation_flips(claim, fast_evidence):
    o = claim.check(claim.claimed, fast_evidence)
    _valid(o)
    p = claim.perturbed()
    op = p.check(p.claimed, fast_evidence)
    _valid(op)
    assert op.verdict != o.verdict, f"{claim.id}: perturbed verdict {op.verdict} equals the original's"


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_full_evidence_verdicts(claim, full_evidence):
    o = claim.check(claim.claimed, full_evidence)
    _valid(o)
    assert o.verdict == EXPECTED[claim.id], o.evidence
    p = claim.perturbed()
    op = p.check(p.claimed, full_evidence)
    _valid(op)
    assert op.verdict != o.verdict, f"{claim.id}: perturbed verdict {op.verdict} equals the original's"
