"""Claims of the slides on dropout, each with the check that computes its verdict.

Slides: «Dropout», «Dropout в формулах», «Обратный Dropout». This module holds the slides' statements as data and
thin checks: exact statements are derived with SymPy in :mod:`theory.slides.dropout` (from :mod:`theory.dropout`) and
compared here; the ensemble average with an exact enumeration of all 2^n masks of random relu networks
(:func:`sims.dropout.ensemble_gaps`); which parameters a step changes with a small experiment
(:mod:`sims.experiments.dropout_update`) judged by the paired-interval method (docs/METHOD.md).
"""
from __future__ import annotations

import sympy as sp

from lecture.registry import (Claim, Outcome, and_join, exact_equal, experiment, flipped, fmt, paired_outcome, scaled,
                              tex)
from theory import dropout as td
from theory.latex import latex
from theory.slides import dropout as tsd


# ------------------------------------------------------------------------------------------------ «Dropout»
def _check_p_off(claimed, evidence):
    said = sp.sympify(claimed["p_off"])
    agreement = tsd.p_off_agreement(said)
    formula, where = agreement["formula"], agreement["agree_at"]
    at = (" or ".join(f"$p = {latex(w)}$" for w in where) if isinstance(where, sp.FiniteSet)
          else f"$p \\in {latex(where)}$")
    numbers = {"claimed_p_off": sp.sstr(said), "formulas_p_off": sp.sstr(formula), "agree_at": sp.sstr(where)}
    text = (r"The slides' formulas ($D \sim \mathrm{Bern}(p)$ with $o = f$ with probability $p$; test "
            r"$o = p f = E[D f]$; train $\frac{1}{p} D f$) all imply "
            f"$P(\\text{{off}}) = {latex(formula)}$; the sentence says {tex(said)}; on $(0, 1]$ they agree at {at}.")
    if where == tsd.KEEP_RANGE:
        return Outcome("confirmed", text, numbers)
    if where == sp.S.EmptySet:
        return Outcome("refuted", text, numbers, correction=f"a neuron is switched off with probability "
                                                            f"{tex(formula)}")
    return Outcome("imprecise", text, numbers,
                   condition=f"only at {at}, or with $p$ read as the DROP probability (`torch.nn.Dropout`'s "
                             "`p`, Keras' `rate`), unlike the slides' formulas where $p$ is the keep probability",
                   correction=f"with probability {tex(formula)} we switch a neuron off ($p$ is the keep probability)")


def _check_mask_cases(claimed, evidence):
    out = claimed["output"]  # o_i as a function of the mask value td.D
    cases = tsd.mask_cases(claimed["keep"], out)
    computed = {sp.sstr(value): prob for value, prob in cases}
    ok = all(any(exact_equal(val, value) and exact_equal(prob, p_case) for value, p_case in cases)
             for val, prob in claimed["cases"])
    numbers = {"computed": {k: sp.sstr(v) for k, v in computed.items()},
               "claimed": [[sp.sstr(a), sp.sstr(b)] for a, b in claimed["cases"]]}
    values = and_join(f"{tex(value)} with probability {tex(prob)}" for value, prob in cases)
    text = (f"With $D \\sim \\mathrm{{Bernoulli}}({latex(claimed['keep'])})$ (`sympy.stats`), $o = {latex(out)}$ takes "
            f"the values {values}.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers, correction=f"$o_i$ is {values}")


def _check_dropout_backward(claimed, evidence):
    diff = tsd.backward_difference(claimed["forward_multiplier"], claimed["factors"])
    ok = all(e == 0 for e in diff)
    numbers = {"factors": [sp.sstr(f) for f in claimed["factors"]], "difference": sp.sstr(diff)}
    mult, product = latex(claimed["forward_multiplier"]), r" \cdot ".join(map(latex, claimed["factors"]))
    text = (f"For $o = {mult} f(x W + b)$ on an explicit 2 → 2 layer, `sympy.diff` of $L = \\sum_k d_k o_k$ by $x$ "
            f"equals $({product}) W^T$ entry by entry: "
            f"{'yes' if ok else 'no, the difference is ' + tex(diff)}.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=f"$d = {mult} \\cdot f'(h) \\cdot d$ times $W^T$: the mask multiplies the backward pass "
                              "as it does the forward")


def _check_2n_networks(claimed, evidence):
    masks = tsd.mask_counts()
    count, reuse = masks["count"], masks["reuse"]
    said = sp.sympify(claimed["networks"])
    numbers = {"masks": sp.sstr(count), "claimed": sp.sstr(said), "weights_reuse_factor": sp.sstr(reuse)}
    text = (f"$n$ droppable units have $\\sum_k \\binom{{n}}{{k}} = {latex(count)}$ masks; the thinned networks "
            f"together use {tex(reuse)} times as many weights as there are distinct ones (all are columns of one $W$).")
    if not exact_equal(said, count):
        return Outcome("refuted", text, numbers, correction=f"{tex(count)} thinned networks")
    if claimed["weights"] == "shared" or not masks["shared"]:
        return Outcome("confirmed", text, numbers)
    return Outcome("imprecise", text, numbers,
                   condition=f"an ensemble of {tex(count)} thinned networks that SHARE one set of weights (each "
                             "step trains one sampled network); not independently trained networks",
                   correction=f"dropout trains {tex(count)} weight-sharing sub-networks, each weight reused in "
                              f"{tex(reuse)} of them")


def _check_ensemble_average(claimed, evidence):
    from sims.dropout import ensemble_gaps

    exact = tsd.ensemble_exactness()
    linear_exact, nonlinear_exact = exact["linear"], exact["nonlinear"]
    expected = tsd.expected_output()
    gaps = evidence.get("dropout-ensemble-gap", ensemble_gaps, units=8, keep=0.5, seeds=64)
    relu_gap = gaps["relu"]["gap_abs_max"] > 1e-9
    numbers = {"linear_exact": linear_exact, "nonlinear_exact_z2": nonlinear_exact, "gaps": gaps,
               "E_Df": sp.sstr(expected)}
    text = (r"The mean over all $2^n$ masks equals weight scaling $p W x$ exactly for a linear unit ($n = 1, 2, 3$ "
            r"enumerated, any $n$ by linearity) but not for $\varphi(z) = z^2$ (gap $p(1 - p) \sum_i w_i^2 x_i^2$); "
            r"for random relu networks with 8 dropped units (Glorot uniform, keep 0.5, 64 networks, all 256 masks) "
            r"$\lvert \text{ensemble} - \text{weight scaling} \rvert$ = "
            f"{fmt(gaps['relu']['gap_abs_mean'])} ± {fmt(gaps['relu']['gap_abs_se'])} (up to "
            f"{fmt(gaps['relu']['gap_abs_max'])}), against {fmt(gaps['linear']['gap_abs_max'])} for linear ones.")
    if not exact_equal(claimed["test_output"], expected):
        return Outcome("refuted", text, numbers, correction=f"the expectation of $D f$ is {tex(expected)}")
    exact_for = {"linear": linear_exact, "any": linear_exact and not relu_gap and nonlinear_exact,
                 "nonlinear": not relu_gap and nonlinear_exact}[claimed["activation"]]
    if exact_for:
        return Outcome("confirmed", text, numbers)
    if linear_exact:
        return Outcome("imprecise", text, numbers,
                       condition="exact only when everything after the dropout layer is linear (and, as the "
                                 "normalized geometric mean, for one sigmoid unit: Baldi & Sadowski 2013)",
                       correction=r"for nonlinear networks weight scaling $p f$ only approximates the average of the "
                                  r"$2^n$ predictions (relu: mean $\lvert \text{gap} \rvert$ "
                                  f"{fmt(gaps['relu']['gap_abs_mean'])})")
    return Outcome("refuted", text, numbers, correction="weight scaling is not the ensemble mean")


def _check_test_expectation(claimed, evidence):
    expected = tsd.expected_output()
    said = sp.sympify(claimed["test_output"])
    text = (r"$E[D f]$ for $D \sim \mathrm{Bernoulli}(p)$ (`sympy.stats`) is "
            f"{tex(expected)}; the slide's test output is {tex(said)}.")
    numbers = {"E_Df": sp.sstr(expected), "claimed": sp.sstr(said)}
    if exact_equal(said, expected):
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers, correction=f"$o = {latex(expected)}$")


def _check_inverted(claimed, evidence):
    s, t = sp.sympify(claimed["train_scale"]), sp.sympify(claimed["test_scale"])
    moments = tsd.inverted_moments(s, t)
    mean_train, var_train, unbiased_scale = moments["mean"], moments["variance"], moments["unbiased_scales"]
    numbers = {"E_train": sp.sstr(mean_train), "test": sp.sstr(t * td.f), "Var_train": sp.sstr(var_train),
               "unbiased_train_scale": [sp.sstr(x) for x in unbiased_scale]}
    text = (f"$E[{latex(s)} D f] = {latex(mean_train)}$ (`sympy.stats`, $D \\sim \\mathrm{{Bernoulli}}(p)$) against "
            f"the test output {tex(t * td.f)}; the train output's variance is {tex(var_train)}.")
    if exact_equal(mean_train, t * td.f):
        return Outcome("confirmed", text, numbers)
    train = " or ".join(f"$o = {latex(x)} D f$" for x in unbiased_scale)
    return Outcome("refuted", text, numbers, correction=f"train {train} for test $o = {latex(t * td.f)}$")


# ----------------------------------------------------------------------------------- «Dropout»: which parameters change
def _check_part_of_parameters(claimed, evidence):
    """«тем самым мы изменяем только часть параметров»: per setting (optimizer, batch size), the fraction of the first
    layer's weights a training step changes without dropout minus with it, per seed (paired: the same data, weights
    and batches); dropout leaves a part unchanged where its interval lies above 0 (experiment dropout_update)."""
    du = experiment(evidence, "dropout_update")
    per = {k: [a - b for a, b in zip(v["without"], v["with"])] for k, v in du["settings"].items()}
    text = (f"A relu net 64-32-10 on digits, two steps, keep {fmt(du['keep'])}, {len(du['seeds'])} paired seeds; the "
            "fraction of first-layer weights the second step changes, without / with dropout: "
            + "; ".join(f"{k} {fmt(sum(v['without']) / len(v['without']))} / {fmt(sum(v['with']) / len(v['with']))}"
                        for k, v in du["settings"].items())
            + ". With a minibatch each row draws its own mask, so every unit is kept for some row.")
    return paired_outcome(per, claimed, what="fraction of first-layer weights changed, without minus with dropout",
                           evidence=text, numbers={"settings": du["settings"]})



def _check_mask_index(claimed, evidence):
    """A notation check of «o_i = D_i f(w x_i^T + b)» as written, with the same slide's mask D = (D_1, ..., D_k): the
    index of D runs over the k units (:func:`theory.slides.notation.range_ends`), while x_i^T is row i of the data
    matrix X transposed, an example (:func:`theory.slides.notation.transposed`). One letter for both: refuted."""
    from theory.slides import notation

    mask = notation.indices_of(claimed["formula"], "D")
    rows = [f"{s}_{i}^T" for s, i in notation.transposed(claimed["formula"]) if i in mask]
    units = notation.range_ends(claimed["mask"]).get("D")
    nums = {"formula": claimed["formula"], "mask_index": mask, "mask_range_end": units, "rows_with_that_index": rows}
    text = (f"In ${claimed['formula']}$ the mask carries the index {and_join(f'${i}$' for i in mask) or 'none'}; the "
            f"slide's mask ${claimed['mask']}$ has one entry per unit, 1 to "
            f"{f'${units}$' if units is not None else 'the last'}. "
            + (f"The same index marks {and_join(f'${r}$' for r in rows)}, row ${mask[0]}$ of $X$ transposed: "
               "an example, "
               "not a unit." if rows else "No transposed row of $X$ carries the mask's index."))
    if rows:
        return Outcome("refuted", text, nums,
                       correction="one letter for the example and the unit: $o_{ij} = D_{ij} f(x_i w_j^T + b_j)$ "
                                  "(example $i$, unit $j$; a mask entry per example and unit, an elementwise product)")
    return Outcome("confirmed", text, nums)


_F = td.f
_p = td.p


CLAIMS: tuple[Claim, ...] = (
    Claim("do-p-off", "Dropout", "С вероятностью $p$ отключаем нейрон",
          "Each neuron is switched off with probability $p$.",
          {"p_off": _p}, _check_p_off, lambda c: {**c, "p_off": 1 - c["p_off"]}, figure="dropout-network",
          derivation="inverted-dropout",
          references=("Srivastava et al. 2014, JMLR 15 (p is the retention probability)",)),
    Claim("do-mask-cases", "Dropout в формулах",
          r"o_i = D_i \cdot f(wx_i^T + b) = \begin{cases} f(wx_i^T + b), p \\ 0, 1 - p \end{cases}",
          r"With $D_i \sim \mathrm{Bern}(p)$, $o_i = D_i f$ equals $f$ with probability $p$ and 0 with probability "
          "$1 - p$.",
          {"keep": _p, "output": td.D * _F, "cases": ((_F, _p), (sp.Integer(0), 1 - _p))}, _check_mask_cases,
          lambda c: {**c, "cases": tuple((v, 1 - pr) for v, pr in c["cases"])}, derivation="inverted-dropout"),
    Claim("do-mask-index-clash", "Dropout в формулах", r"o_i = D_i \cdot f(wx_i^T + b)",
          r"The mask entry of one output: $o_i = D_i f(w x_i^T + b)$ (as written: $i$ numbers the mask's units, "
          r"$D = (D_1, \dots, D_k)$, and the rows of $X$).",
          {"formula": r"o_i = D_i \cdot f(wx_i^T + b)", "mask": r"D = (D_1, \dots, D_k) \sim iidBern(p)"},
          _check_mask_index, lambda c: {**c, "formula": r"o_{ij} = D_{ij} \cdot f(x_i w_j^T + b_j)"}),
    Claim("do-backward", "Dropout в формулах", r"d = D \cdot f'(h) \cdot W \cdot d",
          "The backward pass through dropout multiplies the error signal by the same mask $D$.",
          {"forward_multiplier": td.D, "factors": (td.D, td.FPRIME, td.DELTA)}, _check_dropout_backward,
          lambda c: {**c, "factors": tuple(f for f in c["factors"] if f != td.D)}, derivation="inverted-dropout"),
    Claim("do-part-of-parameters", "Dropout", "тем самым мы изменяем только часть параметров",
          "Multiplying outputs by the mask $D_i$, a training step changes only part of the parameters.",
          {"direction": "greater"}, _check_part_of_parameters, flipped),
    Claim("do-2n-networks", "Dropout", "Dropout эквивалентен обучению $2^n$ сетей",
          "Dropout is equivalent to training $2^n$ networks.",
          {"networks": 2**tsd.n, "weights": "independent"}, _check_2n_networks, lambda c: scaled(c, "networks", 2),
          figure="dropout-thinned", derivation="inverted-dropout"),
    Claim("do-ensemble-average", "Dropout",
          "можно отключать по очереди все возможные комбинации нейронов, получить $2^n$ прогнозов и усреднить их",
          "At test time the average of the $2^n$ thinned networks' predictions is what the expectation $o = p f$ "
          "(weight scaling) computes.",
          {"test_output": _p * _F, "activation": "any"}, _check_ensemble_average,
          lambda c: {**c, "activation": "linear"}, figure="dropout-gap", derivation="dropout-ensemble",
          references=("Srivastava et al. 2014, section 7", "Baldi & Sadowski 2013, Understanding Dropout")),
    Claim("do-test-expectation", "Dropout",
          r"Но лучше просто брать по дропауту математическое ожидание $$o = p \cdot f(X \cdot W + b)$$",
          "The expectation of the dropout output over the mask is $p f$.",
          {"test_output": _p * _F}, _check_test_expectation, lambda c: scaled(c, "test_output", 1 / _p),
          derivation="inverted-dropout"),
    Claim("do-inverted", "Обратный Dropout",
          r"Давайте лучше будем домножать на $\frac{1}{p}$ на этапе обучения: $$\text{train: } o = \frac{1}{p} "
          r"\cdot D \cdot f(X \cdot W + b)$$ $$\text{test: } o = f(X \cdot W + b)$$",
          r"Inverted dropout: training with $\frac{1}{p} D f$ makes the plain $f$ at test its expectation.",
          {"train_scale": 1 / _p, "test_scale": sp.Integer(1)}, _check_inverted,
          lambda c: scaled(c, "train_scale", _p**2), derivation="inverted-dropout"),
)
