"""The initialization claims (lecture/claims_init.py): quotes and slides from the seed, every check returns a valid
Outcome, every perturbed claim changes its verdict, and (slow) the full-evidence verdicts."""
import json

import pytest

from lecture.claims_init import CLAIMS, PREFIX
from lecture.registry import VERDICTS, Claim, Evidence, Outcome, quote_in_seed, slide_titles

IDS = [c.id for c in CLAIMS]

#: the verdicts computed with full evidence (5 seeds, default runs): a test of the computation, not its input
EXPECTED = {
    "init-chain-rule": "confirmed",
    "init-zero-init-pair": "refuted",
    "init-break-symmetry": "supported",
    "init-vanish-or-explode": "supported",
    "init-bias-constant": "confirmed",
    "init-product-variance": "confirmed",
    "init-symmetric-activation-mean": "imprecise",
    "init-layer-variance": "confirmed",
    "init-unit-gain-constant-flow": "imprecise",
    "init-bad-uniform-weight-var": "confirmed",
    "init-bad-uniform-layer-var": "confirmed",
    "init-bad-uniform-decay": "supported",
    "init-better-uniform-weight-var": "refuted",
    "init-better-uniform-layer-var": "refuted",
    "init-backward-n-out": "confirmed",
    "init-xavier-average": "confirmed",
    "init-xavier-normal": "confirmed",
    "init-he-layer-variance": "confirmed",
    "init-he-relu-second-moment": "confirmed",
    "init-he-weight-var": "confirmed",
    "init-summary-he-nomal": "refuted",
    "init-summary-unit-variance": "imprecise",
    "init-summary-xavier-symmetric": "imprecise",
    "init-mnist-he-vs-uniform": "supported",
    "init-standardization": "supported",
}


def _valid(o: Outcome) -> None:
    assert isinstance(o, Outcome)
    assert o.verdict in VERDICTS
    assert o.evidence and isinstance(o.evidence, str)
    json.dumps(o.numbers)  # JSON-able
    if o.verdict == "imprecise":
        assert o.condition
    if o.verdict in ("refuted", "imprecise", "not-supported"):
        assert o.correction


@pytest.fixture(scope="module")
def fast_evidence():
    return Evidence(fast=True)


def test_claims_are_well_formed():
    assert len(CLAIMS) >= 14
    assert len(set(IDS)) == len(IDS)
    assert set(IDS) == set(EXPECTED)
    titles = slide_titles()
    order = []
    for c in CLAIMS:
        assert isinstance(c, Claim)
        assert c.id.startswith(PREFIX)
        assert c.slide in titles, c.id
        assert quote_in_seed(c.quote), c.id
        order.append(min(i for i, t in enumerate(titles) if t == c.slide))
    assert order == sorted(order), "CLAIMS are in slide order"


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
    assert p.check(p.claimed, full_evidence).verdict != o.verdict


@pytest.fixture(scope="module")
def full_evidence():
    return Evidence(fast=False)
