"""Every claim of the lecture (lecture.claims.all_claims: activations, initialization, batch norm, dropout, other),
one parametrized test each: the claim is well formed (id, slide of the seed, verbatim quote, slide order), its check
returns a valid Outcome, and its perturbed form gets another verdict; SymPy verdicts need no experiment; (slow) the
full-evidence verdicts against the regression pins."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lecture.claims import all_claims
from lecture.registry import VERDICTS, Claim, Evidence, Outcome, quote_in_seed, seed_text, slide_titles
from theory.text import pick

CLAIMS = all_claims()
IDS = [c.id for c in CLAIMS]
PREFIXES = ("act-", "init-", "bn-", "do-", "other-")
EXACT = {"confirmed", "refuted"}  # the verdicts of SymPy checks, which use no experiment
#: Timing claims: their verdicts depend on the machine and the NumPy build (docs/METHOD.md), so no pin fixes them;
#: they are checked for a valid outcome and a perturbation that flips.
MACHINE_DEPENDENT = {"act-exp-costly", "act-relu-fast"}
README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- claims:begin -->\n(.*?)\n<!-- claims:end -->", re.S)

#: REGRESSION PINS, not inputs: the verdicts the code computed with full evidence (10 seeds, default sizes) when these
#: pins were recorded. A change here is a change of the computation (or of its evidence) to be explained in the
#: commit, never a number typed to make a test pass; the report itself always shows the computed verdict.
REGRESSION_PINS = {
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
    "act-exp-costly": "supported",
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
    "act-leaky-derivative-sign": "imprecise",
    "act-leaky-linear-at-1": "confirmed",
    "act-elu-deep-convergence": "supported",
    "act-elu-formula": "confirmed",
    "init-chain-rule": "confirmed",
    "init-zero-init-pair": "refuted",
    "init-break-symmetry": "supported",
    "init-vanish-or-explode": "supported",
    "init-index-clash": "refuted",
    "init-variance-in-variances": "imprecise",
    "init-bias-constant": "confirmed",
    "init-assumption-ranges": "refuted",
    "init-inputs-called-observations": "refuted",
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
    "init-he-layer-index": "refuted",
    "init-summary-keras-keyword": "refuted",
    "init-summary-he-nomal": "refuted",
    "init-summary-unit-variance": "imprecise",
    "init-summary-xavier-symmetric": "imprecise",
    "init-mnist-he-vs-uniform": "supported",
    "init-standardization": "supported",
    "bn-hidden-not-standardized": "confirmed",
    "bn-distribution-drift": "supported",
    "bn-h-after-activation": "refuted",
    "bn-current-batch": "imprecise",
    "bn-scale-shift-notation": "imprecise",
    "bn-running-stats": "imprecise",
    "bn-gamma-beta-by-backprop": "confirmed",
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
    "bn-weaker-l2": "not-supported",
    "other-shuffle-sorted": "supported",
    "other-reshuffle-every-epoch": "inconclusive",
    "do-p-off": "imprecise",
    "do-mask-cases": "confirmed",
    "do-mask-index-clash": "refuted",
    "do-backward": "confirmed",
    "do-part-of-parameters": "imprecise",
    "do-2n-networks": "imprecise",
    "do-ensemble-average": "imprecise",
    "do-test-expectation": "confirmed",
    "do-inverted": "confirmed",
    "other-pretraining-units": "inconclusive",
    "other-pretraining-early-lead": "supported",
    "other-pretraining-autoencoder": "inconclusive",
    "other-growth-cost": "imprecise",
    "other-growth-keeps-information": "imprecise",
    "other-pruning-error-falls": "not-supported",
    "other-pruning-retrain": "supported",
    "other-pruning-restore": "inconclusive",
}


def _valid(o: Outcome) -> None:
    assert isinstance(o, Outcome)
    assert o.verdict in VERDICTS
    for lang in ("en", "ru"):  # every text in both languages (theory.text.T), or one str that reads the same in both
        assert isinstance(pick(o.evidence, lang), str) and pick(o.evidence, lang).strip()
        assert all(t is None or isinstance(pick(t, lang), str) for t in (o.condition, o.correction))
    json.dumps(o.numbers, allow_nan=False)  # strict JSON
    if o.verdict == "imprecise":
        assert o.condition
    if o.verdict in ("refuted", "imprecise", "not-supported"):
        assert o.correction


def _flips(claim: Claim, o: Outcome, op: Outcome) -> None:
    """The perturbed claim gets another verdict; or, where the measurement cannot decide the claim (inconclusive),
    the perturbed claim was judged on the same intervals against another claimed effect, and cannot be decided
    either; or, for a claim measured in several settings that holds in some (imprecise), every setting's verdict
    changes (a claim read from its data, not a typed verdict)."""
    if o.verdict == op.verdict == "inconclusive":
        assert o.numbers["effects"] != op.numbers["effects"], f"{claim.id}: the perturbation changed no effect"
        assert o.numbers["decisions"].keys() == op.numbers["decisions"].keys()
        for k, d in o.numbers["decisions"].items():
            assert (d["low"], d["high"], d["n"]) == tuple(op.numbers["decisions"][k][x] for x in ("low", "high", "n"))
        return
    if o.verdict == op.verdict == "imprecise" and "decisions" in o.numbers:  # settings split either way
        flips = [o.numbers["decisions"][k]["verdict"] != op.numbers["decisions"][k]["verdict"]
                 for k in o.numbers["decisions"]]
        assert all(flips), f"{claim.id}: the perturbation left a setting's verdict unchanged"
        return
    assert op.verdict != o.verdict, f"{claim.id}: perturbed verdict {op.verdict} equals the original's"


@pytest.fixture(scope="module")
def fast_evidence():
    return Evidence(fast=True)


@pytest.fixture(scope="module")
def full_evidence():
    return Evidence(fast=False)


def test_the_claims_are_well_formed_and_in_slide_order():
    assert len(set(IDS)) == len(IDS) and set(IDS) == set(REGRESSION_PINS)
    titles = set(slide_titles())
    for c in CLAIMS:
        assert isinstance(c, Claim)
        assert c.id.startswith(PREFIXES) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", c.id), c.id
        assert c.slide in titles, c.id
        assert quote_in_seed(c.quote), c.id
        assert pick(c.statement, "en").strip() and pick(c.statement, "ru").strip(), c.id
    from lecture.claims import section_modules

    ordered = list(slide_titles())
    text = seed_text()
    for module in section_modules():  # sections in the agenda's order; within one, the claims follow the slides
        section = module.CLAIMS
        if section[0].id.startswith(("act-", "init-")):
            position = 0  # slide titles repeat («Sigmoid activation», «ReLU activation»): walk the seed forwards
            for c in section:
                later = [i for i in range(position, len(ordered)) if ordered[i] == c.slide]
                assert later, f"{c.id}: slide {c.slide!r} is not at or after the previous claim's slide"
                position = later[0]
        else:  # batch norm, dropout and the other heuristics follow the seed quote by quote
            where = [text.index(" ".join(c.quote.split())) for c in section]
            assert where == sorted(where), module.__name__
    assert [c.id for c in CLAIMS] == [c.id for m in section_modules() for c in m.CLAIMS]


def test_statements_left_ungraded_are_quoted_and_give_a_reason():
    from lecture.claims import not_claims

    skipped = not_claims()
    titles = set(slide_titles())
    assert skipped and not {n.id for n in skipped} & set(IDS)
    for n in skipped:
        assert n.slide in titles and quote_in_seed(n.quote) and len(pick(n.reason, "en")) > 40, n.id
        assert len(pick(n.reason, "ru")) > 40, n.id


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_a_claim_evaluates_and_its_perturbation_flips(claim, fast_evidence):
    o = claim.check(claim.claimed, fast_evidence)
    _valid(o)
    p = claim.perturbed()
    op = p.check(p.claimed, fast_evidence)
    _valid(op)
    _flips(claim, o, op)
    if REGRESSION_PINS[claim.id] in EXACT:  # a SymPy verdict does not depend on the size of the experiments
        assert o.verdict == REGRESSION_PINS[claim.id], o.evidence


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_the_full_evidence_verdict_matches_its_regression_pin(claim, full_evidence):
    o = claim.check(claim.claimed, full_evidence)
    _valid(o)
    if claim.id not in MACHINE_DEPENDENT:
        assert o.verdict == REGRESSION_PINS[claim.id], o.evidence
    p = claim.perturbed()
    _flips(claim, o, p.check(p.claimed, full_evidence))


def _readme_rows() -> tuple[str, list[tuple[str, str]]]:
    """(counts line, [(statement, verdict)]) of the README's block written by `python -m lecture claims --markdown`."""
    block = BLOCK.search(README.read_text(encoding="utf-8"))
    assert block, "README.md lacks the <!-- claims:begin --> ... <!-- claims:end --> block"
    lines = block.group(1).splitlines()
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("«"):
            rows.append((cells[1], cells[4].split()[-1]))
    return lines[0], rows


def test_the_readme_counts_are_those_of_its_table():
    """The README's counts line and its table come from one run of `lecture claims --markdown`: every count equals
    the number of table rows with that verdict, and every claim has one row."""
    head, rows = _readme_rows()
    assert len(rows) == len(CLAIMS)
    counted = {v: int(n) for v, n in re.findall(r"([a-z-]+) (\d+)", head.split(":", 1)[1])}
    assert counted == {v: sum(r[1] == v for r in rows) for v in VERDICTS}, head
    assert head.startswith(f"**Claims per verdict** ({len(rows)})")


@pytest.mark.slow
def test_the_readme_table_holds_the_computed_verdicts(full_evidence):
    """Each README row's verdict is the full-evidence verdict of its claim (the timing claims' rows excepted: they
    depend on the machine)."""
    _, rows = _readme_rows()
    by_statement = dict(rows)
    for claim in CLAIMS:
        if claim.id in MACHINE_DEPENDENT:
            continue
        verdict = claim.check(claim.claimed, full_evidence).verdict
        assert by_statement[pick(claim.statement, "en").replace("|", "\\|")] == verdict, claim.id
