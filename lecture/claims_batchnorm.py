"""Claims of the slides on batch normalization, each with the check that computes its verdict.

Slides: «Проблема», «Batch norm (2015)», «Forward pass», «Backward pass», «Эксперимент с MNIST» (the second one,
Nikolenko p. 160) and the batch-norm advice of «Трюки». This module holds the slides' statements as data and thin
checks: exact statements are derived with SymPy in :mod:`theory.slides.batchnorm` (from :mod:`theory.batchnorm`, and
:mod:`theory.dropout` for the variance shift) and compared here; empirical ones with the training experiments'
paired seeds (:func:`lecture.registry.experiment`) by the paired-interval method (docs/METHOD.md).
"""
from __future__ import annotations

import math

import sympy as sp

from lecture.registry import (Claim, Outcome, and_join, effect_of, effect_outcome, exact_equal, experiment, flipped,
                              fmt, paired, paired_outcome, scaled, spread_of, spread_text, tex)
from theory import batchnorm as tb
from theory import dropout as td
from theory.latex import latex
from theory.slides import batchnorm as tsb


# ------------------------------------------------------------------------------------------------ «Проблема»
def _check_hidden_standardized(claimed, evidence):
    mom = tsb.hidden_moments()
    off = [name for name, m in mom.items() if m["mean_is_zero"] is False]  # exactly nonzero mean
    numbers = {name: dict(m) for name, m in mom.items()}
    def exact(s):
        return f"${s}$" if s is not None else "(undecided)"
    text = (f"For standardized inputs and $n_{{in}} \\operatorname{{Var}}(w) = 1$ the pre-activation $z$ is $N(0, 1)$; "
            f"$h = f(z)$ has mean exactly {exact(mom['sigmoid']['mean_exact'])} for sigmoid "
            f"($\\sigma(z) + \\sigma(-z) = 1$, SymPy) with variance {fmt(mom['sigmoid']['var'])}, and mean "
            f"{exact(mom['relu']['mean_exact'])} for relu ({fmt(mom['relu']['mean'])}, variance "
            f"{fmt(mom['relu']['var'])}): the hidden layer is unstandardized for {and_join(off) or 'neither'}.")
    can_be_off = "yes" if off else "no"
    if claimed["hidden_may_be_unstandardized"] == can_be_off:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=("the hidden layer is unstandardized (mean $\\neq 0$) for " + and_join(off)) if off
                   else "the activations checked keep the hidden layer centred")


def _check_distribution_drift(claimed, evidence):
    bt = experiment(evidence, "bn_training")
    nets = bt["networks"]
    drift = {net: [abs(math.log(float(v))) for v in nets[net]["drift"]["spread_ratio"]["values"]]
             for net in ("plain", "batchnorm")}
    ratio = {net: nets[net]["drift"]["spread_ratio"] for net in drift}
    shift = {net: nets[net]["drift"]["shift_in_spreads"] for net in drift}
    per = {"": [a - b for a, b in zip(drift["plain"], drift["batchnorm"])]}  # paired: the same seed in both nets
    epochs = f"{bt['epochs']} epoch{'' if bt['epochs'] == 1 else 's'}"
    text = (f"The 15-85% spread of one sigmoid unit's input (3 × 100 sigmoid net, batch 60, "
            f"{epochs}, {len(bt['seeds'])} seeds) changes by a factor {spread_text(ratio['plain'])} "
            f"without batch norm (its median moves by {spread_text(shift['plain'])} initial spreads) against "
            f"{spread_text(ratio['batchnorm'])} with it ({spread_text(shift['batchnorm'])}); "
            f"$\\lvert\\log(\\text{{ratio}})\\rvert$ "
            f"{spread_text(spread_of(drift['plain']))} vs {spread_text(spread_of(drift['batchnorm']))}.")
    numbers = {"spread_ratio": ratio, "shift_in_spreads": shift,
               "abs_log_spread_ratio": {k: spread_of(v) for k, v in drift.items()}}
    metric = r"$\lvert\log(\text{spread ratio})\rvert$ of the unit's input, without minus with batch norm"
    return paired_outcome(per, claimed, what=metric, evidence=text, numbers=numbers)


def _check_scale_shift(claimed, evidence):
    got = tsb.scale_shift_roles(claimed["output"])
    roles, ref, affine = got["claimed"], got["paper"], got["affine"]
    ref_slide, ref_out = got["paper_slide"], got["paper_output"]
    numbers = {"claimed": {k: sp.sstr(v) for k, v in roles.items()}, "paper": {k: sp.sstr(v) for k, v in ref.items()}}
    text = (f"The output's derivative by $\\hat{{h}}$, {tex(roles['scale'])}, scales and "
            f"its value at $\\hat{{h}} = 0$, {tex(roles['shift'])}, shifts; on «{ref_slide}» and in Ioffe & "
            f"Szegedy ($y = \\gamma \\hat{{x}} + \\beta$) {tex(ref['scale'])} scales and {tex(ref['shift'])} shifts.")
    if affine and all(exact_equal(roles[k], ref[k]) for k in roles):
        return Outcome("confirmed", text, numbers)
    if affine and {sp.sstr(v) for v in roles.values()} == {sp.sstr(v) for v in ref.values()}:
        return Outcome("imprecise", text, numbers,
                       condition=f"a naming convention: the same learned affine map with {tex(roles['scale'])} as "
                                 f"the scale and {tex(roles['shift'])} as the shift",
                       correction=f"in the paper's and the next slide's notation the output is "
                                  f"${latex(ref['scale'])} \\hat{{h}} + {latex(ref['shift'])}$ ({tex(ref['scale'])} "
                                  f"scales, {tex(ref['shift'])} shifts)")
    return Outcome("refuted", text, numbers, correction=f"the output is {tex(ref_out)}")


# ------------------------------------------------------------------------------------------------ «Batch norm (2015)»
#: the parameters of :func:`theory.slides.batchnorm.backprop_gradients` in LaTeX
_PARAM_TEX = {"gamma": r"\gamma", "beta": r"\beta", "running mean": r"\mu_{\mathrm{running}}",
              "running variance": r"\sigma^2_{\mathrm{running}}"}


def _check_learned_by_backprop(claimed, evidence):
    """«β и γ оцениваются в ходе обратного распространения»: the gradients of a loss of the train-mode output
    y = gamma * xhat + beta with respect to gamma, beta and the running mean and variance
    (:func:`theory.slides.batchnorm.backprop_gradients`). The parameters with a non-zero gradient are learned by
    backprop (the optimizer then updates them); the running statistics have none (moving averages of the forward
    pass)."""
    got = tsb.backprop_gradients()
    y, grads, learned = got["output"], got["gradients"], got["learned"]
    nums = {"gradients": {k: sp.sstr(g) for k, g in grads.items()}, "learned": learned}
    text = (f"SymPy, a loss $\\ell$ of the «Forward pass» output $y = {latex(y)}$ in train mode: "
            + "; ".join(f"$\\partial \\ell / \\partial {_PARAM_TEX.get(k, k)} = {latex(g)}$" for k, g in grads.items())
            + ". $\\gamma$ and $\\beta$ get gradients from backprop (the optimizer updates them); the running "
              "statistics get none: they are moving averages of the forward pass (PyTorch buffers, Keras non-trainable "
              "weights).")
    if learned == sorted(claimed["learned"]):
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction="backprop gives gradients to "
                              f"{and_join(f'${_PARAM_TEX.get(k, k)}$' for k in learned)} only")


def _check_running_stats(claimed, evidence):
    weights = tsb.update_weights(claimed["update"])
    w_new, w_old, rest, total = (weights[k] for k in ("weight_new", "weight_old", "rest", "total"))
    mm, bias = tsb.batch_variance_bias()  # E[sigma_B^2] / sigma^2 on an explicit batch of mm
    numbers = {"weight_new": sp.sstr(w_new), "weight_old": sp.sstr(w_old), "weights_sum": sp.sstr(total),
               "E_batch_var_over_var": {"m": mm, "value": sp.sstr(bias)}}
    if rest != 0 or total != 1:
        return Outcome("refuted", f"The update's weights on the batch value and the running value are "
                                  f"{tex(w_new)} and {tex(w_old)}, summing to {tex(total)}, not 1.",
                       numbers,
                       correction=r"an exponential moving average: $\text{running} = \alpha \cdot \text{batch} + "
                                  r"(1 - \alpha) \cdot \text{running}$, weights summing to 1")
    momenta = tsb.momentum_conventions(claimed["update"])
    torch_m, keras_m = momenta["torch"], momenta["keras"]
    numbers.update(torch_momentum=[sp.sstr(x) for x in torch_m], keras_momentum=[sp.sstr(x) for x in keras_m],
                   torch_default=sp.sstr(tb.TORCH_MOMENTUM), keras_default=sp.sstr(tb.KERAS_MOMENTUM))
    fed = claimed["variance_fed"]
    lib = "PyTorch" if fed == "unbiased" else "Keras"
    expected = f"$E[\\sigma_B^2] = {latex(bias * tb.sigma2)}$ at $m = {mm}$"
    text = (f"The update equals PyTorch's with `momentum` = {and_join(map(tex, torch_m))} (default "
            f"{sp.sstr(tb.TORCH_MOMENTUM)}) and Keras' with `momentum` = {and_join(map(tex, keras_m))} (default "
            f"{sp.sstr(tb.KERAS_MOMENTUM)}); {expected}, so the {fed} $\\hat{{s}}^2$ is what {lib} feeds its running "
            "variance.")
    return Outcome("imprecise", text, numbers,
                   condition=f"$\\alpha$ is PyTorch's `momentum` (default {sp.sstr(tb.TORCH_MOMENTUM)})"
                             f" and 1 - Keras' `momentum` (Keras' `momentum` = {tex(keras_m[0])}, default "
                             f"{sp.sstr(tb.KERAS_MOMENTUM)}, i.e. $\\alpha = {latex(1 - tb.KERAS_MOMENTUM)}$); the "
                             f"{fed} batch variance is {lib}'s choice",
                   correction=f"name the convention: $\\alpha$ = PyTorch's `momentum` = 1 - Keras' `momentum`; "
                              f"PyTorch feeds the unbiased $\\frac{{m}}{{m - 1}} \\sigma_B^2$, Keras the biased "
                              f"$\\sigma_B^2$ ({expected})")


def _bn_accuracies(bt):
    nets = bt["networks"]
    first = str(min(int(a) for a in bt["after"]))
    return nets, first


def _check_bn_speed(claimed, evidence):
    """Two paired effects, both needed: validation accuracy with minus without batch norm after the first evaluation
    (past ``min_size``), and final test accuracy (past ``final_min_size``)."""
    bt = experiment(evidence, "bn_training")
    nets, first = _bn_accuracies(bt)
    early = paired(nets["batchnorm"]["accuracy_after"][first], nets["plain"]["accuracy_after"][first])
    final = paired(nets["batchnorm"]["test_acc"], nets["plain"]["test_acc"])
    text = (f"Validation accuracy after {first} SGD steps: {spread_text(nets['batchnorm']['accuracy_after'][first])} "
            f"with batch norm vs {spread_text(nets['plain']['accuracy_after'][first])} without; final test accuracy "
            f"{spread_text(nets['batchnorm']['test_acc'])} vs {spread_text(nets['plain']['test_acc'])}, "
            f"{len(bt['seeds'])} seeds.")
    numbers = {"early_difference": spread_of(early), "final_test_difference": spread_of(final), "steps": int(first)}
    effects = {f"after {first} steps": effect_of(claimed, f"validation accuracy after {first} steps, batch norm "
                                                          "minus plain"),
               "final test accuracy": effect_of({**claimed, "min_size": claimed["final_min_size"]},
                                                "final test accuracy, batch norm minus plain")}
    return effect_outcome(effects, {f"after {first} steps": early, "final test accuracy": final}, evidence=text,
                          numbers=numbers)


def _check_mnist_p160(claimed, evidence):
    bt = experiment(evidence, "bn_training")
    nets, first = _bn_accuracies(bt)
    steps_total = int(nets["plain"]["eval_steps"][-1])
    vals = paired(nets["batchnorm"]["accuracy_after"][first], nets["plain"]["final_val_acc"])
    text = (f"With batch norm the validation accuracy after {first} steps is "
            f"{spread_text(nets['batchnorm']['accuracy_after'][first])}; without it, after all {steps_total} steps, "
            f"{spread_text(nets['plain']['final_val_acc'])} (paired difference {spread_text(spread_of(vals))}, "
            f"{len(bt['seeds'])} seeds): batch norm needs at most 1/{fmt(steps_total / int(first))} of the steps.")
    return paired_outcome({"": vals}, claimed,
                           what=f"accuracy with batch norm after {first} steps minus without after {steps_total}",
                           evidence=text, numbers={"steps_ratio": steps_total / int(first),
                                                   "steps": [int(first), steps_total]})


# ------------------------------------------------------------------------------------------------ «Forward pass»
def _check_forward_variance(claimed, evidence):
    """With sigma_B^2 = c sum (x_i - mu_B)^2 (eps -> 0), the normalized batch has (1/m) sum xhat_i^2 = 1 iff c = 1/m
    (:func:`theory.slides.batchnorm.unit_variance_normalizers`, explicit batches m = 2..4); the claimed c is compared
    with it at each m, and the paper's forward pass (theory.batchnorm) is quoted."""
    needed = tsb.unit_variance_normalizers((2, 3, 4))
    claimed_c = sp.sympify(claimed["normalizer"])
    ok = all(exact_equal(claimed_c.subs(tb.m, mm), cval) for mm, cval in needed.items())
    paper = tsb.paper_normalizer()
    numbers = {"needed": {str(k): sp.sstr(v) for k, v in needed.items()}, "paper": sp.sstr(paper),
               "claimed": sp.sstr(claimed_c)}
    text = (r"The normalized batch has $\frac{1}{m} \sum_i \hat{x}_i^2 = 1$ ($\epsilon \to 0$) only for the "
            f"normalizer {and_join(f'{tex(v)} at $m = {k}$' for k, v in needed.items())}, i.e. $1/m$; "
            "Ioffe & Szegedy's "
            f"(`theory.batchnorm`) is {tex(paper)}, whose derivative gives the backward pass's $2(x_i - \\mu_B)/m$.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=r"$\sigma_B^2 = \frac{1}{m} \sum_i (x_i - \mu_B)^2$ (the biased variance); with "
                              f"{tex(claimed_c)} the normalized batch does not have unit variance")


# ------------------------------------------------------------------------------------------------ «Backward pass»
def _line_lhs(name: str) -> str:
    """The LaTeX of backward line ``name``'s left-hand side as the slide writes it
    (:data:`theory.batchnorm.SLIDE_LINES`)."""
    return next(t.split(" = ", 1)[0] for n, _, t in tb.SLIDE_LINES if n == name)


def _check_bn_line(claimed, evidence):
    line = tsb.backward_line(claimed["name"], claimed["expr"])
    derived = line["derived"]
    lhs = _line_lhs(claimed["name"])
    numbers = {"line": claimed["name"], "claimed": sp.sstr(sp.sympify(claimed["expr"])), "chain_rule": sp.sstr(derived)}
    if line["as_written"]:
        return Outcome("confirmed", f"${lhs}$: the slide's expression equals the chain rule's "
                                    f"{tex(derived)} (SymPy: difference 0).", numbers)
    diff, given = line["difference_factored"], line["given_forward"]
    numbers.update(difference=sp.sstr(diff), difference_given_forward=sp.sstr(given))
    if line["given_zero"]:
        return Outcome("imprecise",
                       f"${lhs}$: chain rule minus the slide is {tex(diff)}, which vanishes "
                       r"once $\mu_B = \frac{1}{m} \sum_j x_j$.", numbers,
                       condition=r"$\mu_B$ is the batch mean of the forward pass, so the term whose coefficient "
                                 r"differs multiplies $\sum_j (x_j - \mu_B) = 0$: the value is right, the coefficient "
                                 "is not",
                       correction=f"${lhs} = {latex(derived)}$")
    return Outcome("refuted",
                   f"${lhs}$: chain rule minus the slide is {tex(diff)}; with the forward "
                   f"pass's $\\mu_B$ it is still {tex(given)}, not 0.", numbers,
                   correction=f"${lhs} = {latex(derived)}$")


def _other_coefficient(claimed):
    """A changed coefficient: 1/(m - 1) -> 1/m where the line has it, else the line doubled."""
    expr = sp.sympify(claimed["expr"])
    m = tb.m
    return {**claimed, "expr": expr.subs(m - 1, m) if expr.has(m - 1) else 2 * expr}


# ------------------------------------------------------------------------------------------------ «Трюки»
def _check_weaker_dropout(claimed, evidence):
    """Inverted dropout before batch norm: Var_test / Var_train = p v / (v + (1 - p) c^2); the shift 1 - ratio as
    dropout weakens (p up): the sign of d(shift)/dp (:func:`theory.slides.batchnorm.variance_shift_trend`)."""
    trend = tsb.variance_shift_trend((0.5, 0.8, 0.9, 1.0))
    num, den, rising, ratios = trend["numerator"], trend["denominator"], trend["rising"], trend["relu_ratio"]
    computed = "less" if rising else ("greater" if trend["falling"] else None)
    numbers = {"d_ratio_dp": sp.sstr(trend["derivative"]), "shift_as_dropout_weakens": computed,
               "relu_ratio": {str(k): val for k, val in ratios.items()}}
    text = (r"Before batch norm, inverted dropout makes "
            r"$\mathrm{Var}_{\mathrm{test}} / \mathrm{Var}_{\mathrm{train}} = "
            f"{latex(td.VAR_RATIO)}$, with $\\frac{{d}}{{dp}} = \\frac{{{latex(num)}}}{{{latex(den)}}} > 0$ "
            "($p = 1 - r$): the variance shift shrinks as dropout weakens. For relu units of $N(0, 1)$ inputs the "
            f"ratio is {and_join(f'{fmt(val)} at $p = {k:g}$' for k, val in ratios.items())}.")
    if computed == claimed["shift_as_dropout_weakens"]:
        return Outcome("imprecise", text, numbers,
                       condition="dropout placed before a batch-norm layer, whose running variance keeps the "
                                 "train-time $(c^2 + v)/p - c^2$ while the test input has variance $v$ (Li et al. "
                                 "2019); dropout after the last batch norm causes no shift, and the L2 part is not "
                                 "derived",
                       correction=r"before batch norm, weaken dropout ($p \to 1$) or move it after the last BN layer: "
                                  f"the variance ratio {tex(td.VAR_RATIO)} is 1 only at $p = 1$")
    return Outcome("refuted", text, numbers,
                   correction=f"the variance shift {tex(1 - td.VAR_RATIO)} gets "
                              f"{'smaller' if rising else 'larger'} "
                              "as dropout weakens")


def _check_weaker_l2(claimed, evidence):
    """The L2 half of «уменьшить силу Dropout и регуляризацию» (experiment ``l2_batchnorm``): per paired seed, the
    test accuracy of the batch-norm network at the reduced L2 strength minus at the strength the network without
    batch norm is trained with; the same difference without batch norm is reported beside it, not judged."""
    e = experiment(evidence, "l2_batchnorm")
    bn, plain = (e["networks"][k]["test_acc"] for k in ("batchnorm", "plain"))
    diff = [r - q for r, q in zip(bn["reduced"], bn["plain_l2"])]
    context = [r - q for r, q in zip(plain["reduced"], plain["plain_l2"])]
    text = (f"3 × 100 sigmoid, SGD lr 0.5, batches of 60, {e['epochs']} epochs, {len(diff)} paired seeds. The L2 "
            f"strength of the network without batch norm, chosen on its validation accuracy from "
            f"{and_join(fmt(g) for g in e['grid'])}: {fmt(e['l2_plain'])}; reduced by Ioffe & Szegedy's factor "
            f"{fmt(e['reduction'])}: {fmt(e['l2_reduced'])}. Test accuracy at the reduced minus at the plain strength: "
            f"with batch norm {spread_text(spread_of(diff))}; without batch norm (context, not judged) "
            f"{spread_text(spread_of(context))}.")
    return paired_outcome({"": diff}, claimed, what="test accuracy with batch norm, reduced L2 minus the plain "
                          "network's L2", evidence=text,
                          numbers={"l2_plain": e["l2_plain"], "l2_reduced": e["l2_reduced"], "grid_val": e["grid_val"],
                                   "without_batchnorm": spread_of(context)},
                          note="; without batch norm the same reduction changes it by "
                               f"{spread_text(spread_of(context))}")


def _check_h_stage(claimed, evidence):
    """A notation check: where the slide's h sits in a layer (:func:`theory.slides.notation.definition_stage`) in its
    definition here and on the initialization slides («Посмотрим на выход нейрона перед активацией»). The same
    stage: confirmed; two stages under one name: refuted."""
    from theory.slides import notation

    here = notation.definition_stage(claimed["formula"], "h")
    there = notation.definition_stage(claimed["elsewhere"], "h")
    nums = {"formula": claimed["formula"], "stage": here, "elsewhere": claimed["elsewhere"], "stage_elsewhere": there}
    text = (f"${claimed['formula']}$ defines $h$ {here}; ${claimed['elsewhere']}$ (on «Инициализация весов») defines "
            f"it {there}.")
    if here is None or there is None:
        raise ValueError(f"a definition of h is not read: {nums}")
    if here != there:
        return Outcome("refuted", text, nums,
                       correction=r"one name for two quantities: $h$ is the pre-activation $w_0 + \sum_i w_i x_i$ on "
                                  "the initialization slides and $f(XW)$ here; write $z = XW$, $h = f(z)$ (Ioffe & "
                                  "Szegedy normalize $z = XW$, before $f$)")
    return Outcome("confirmed", text, nums)


def _check_current_batch(claimed, evidence):
    """Which statistics normalize h in training, measured on the package's batch-norm layer
    (:func:`sims.batchnorm.statistics_used`: its output with the running averages replaced, in each mode), against
    the slide's: the running averages of its formula («Оценить по текущему батчу!» followed by
    mu_h = alpha x_batch + (1 - alpha) mu_h). Training's: confirmed; only eval's: imprecise; neither: refuted."""
    from sims.batchnorm import statistics_used

    used = evidence.get("bn-statistics-used", statistics_used)
    kind = {mode: "current batch" if u["is_batch_standardized"] and not u["depends_on_running"]
            else "running average" if u["depends_on_running"] else "neither" for mode, u in used.items()}
    nums = {"measured": used, "normalizes_with": kind, "claimed_training": claimed["training"]}
    text = (f"The batch-norm layer (PyTorch convention), its output recomputed with the running averages replaced: in "
            f"training it {'does not change' if not used['train']['depends_on_running'] else 'changes'} and equals "
            f"the batch standardized by its own mean and variance ({kind['train']}); in evaluation it "
            f"{'changes' if used['eval']['depends_on_running'] else 'does not change'} ({kind['eval']}).")
    if claimed["training"] == kind["train"]:
        return Outcome("confirmed", text, nums)
    if claimed["training"] == kind["eval"]:
        return Outcome("imprecise", text, nums,
                       condition=r"only at test time (evaluation mode): in training the current batch's own $\mu_B$ "
                                 r"and $\sigma_B^2$ normalize, and the running averages are only updated",
                       correction=r"training normalizes with the current batch's $\mu_B$ and $\sigma_B^2$; the running "
                                  r"averages $\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ are kept for test "
                                  "time")
    return Outcome("refuted", text, nums, correction=f"training normalizes with the {kind['train']} statistics")


# ------------------------------------------------------------------------------------------------ the claims
def _bn_line_claim(idx: int, cid: str, statement: str, quote: str) -> Claim:
    name, expr, _ = tb.SLIDE_LINES[idx]
    return Claim(cid, "Backward pass", quote, statement, {"name": name, "expr": expr}, _check_bn_line,
                 _other_coefficient, derivation="batchnorm-backward",
                 references=("Ioffe & Szegedy 2015, arXiv:1502.03167, section 3",))



CLAIMS: tuple[Claim, ...] = (
    Claim("bn-hidden-not-standardized", "Проблема",
          "Даже если мы стандартизовали вход $X$ , внутри сетки может произойти несчастье и скрытый слой окажется "
          "нестандартизован",
          "Even with standardized inputs, a hidden layer can come out unstandardized (mean not 0 or variance not 1).",
          {"hidden_may_be_unstandardized": "yes"}, _check_hidden_standardized,
          lambda c: flipped(c, "hidden_may_be_unstandardized"), figure="bn-unit-percentiles-depth"),
    Claim("bn-distribution-drift", "Проблема",
          "Скрытые представления $h = f(XW)$ могут менять своё распределение в процессе обучения, это усложняет его",
          "Without normalization a hidden unit's input distribution changes during training: its 15-85% spread "
          "changes more than with batch norm, which the slide introduces to prevent it (no size stated).",
          {"direction": "greater"}, _check_distribution_drift, flipped,
          figure="bn-unit-percentiles", references=("Ioffe & Szegedy 2015, Figure 1",)),
    Claim("bn-h-after-activation", "Проблема", "Скрытые представления $h = f(XW)$",
          "Hidden representations $h = f(XW)$ (as written: $h$ is the output of the activation, while the "
          "initialization slides name $h$ the unit's value before it).",
          {"formula": "h = f(XW)", "elsewhere": r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i"}, _check_h_stage,
          lambda c: {**c, "formula": "h = XW"}, references=("Ioffe & Szegedy 2015, section 3.2",)),
    Claim("bn-scale-shift-notation", "Проблема",
          r"На выход будем выдавать $\beta \cdot \hat{h} + \gamma$ , для того, чтобы у нас было больше свободы, "
          r"параметры $\beta$ и $\gamma$ тоже учим",
          r"The batch-norm layer outputs $\beta \hat{h} + \gamma$, with $\beta$ and $\gamma$ learned.",
          {"output": tb.beta * tb.h_hat + tb.gamma}, _check_scale_shift,
          lambda c: {**c, "output": tb.gamma * tb.h_hat + tb.beta},
          references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    Claim("bn-current-batch", "Batch norm (2015)", "Оценить по текущему батчу!",
          r"$\mu_h$ and $\sigma_h$, which normalize $h$ in training, are the running averages of the next formula, "
          r"$\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ (as written: the answer to «Откуда взять $\mu_h$ и "
          r"$\sigma_h$?»).",
          {"training": "running average"}, _check_current_batch, lambda c: {**c, "training": "current batch"},
          references=("Ioffe & Szegedy 2015, Algorithms 1 and 2",)),
    Claim("bn-running-stats", "Batch norm (2015)",
          r"\mu_h &= \alpha \cdot \bar{x}_{batch} + (1 - \alpha) \cdot \mu_h \\ \sigma_h^2 &= \alpha \cdot "
          r"\hat{s}_{batch}^2 + (1 - \alpha) \cdot \sigma_h^2",
          r"The running mean and variance are updated as $\alpha \cdot \text{batch value} + (1 - \alpha) \cdot "
          r"\text{running value}$, with the unbiased batch variance $\hat{s}^2$.",
          {"update": tb.alpha * tb.batch_value + (1 - tb.alpha) * tb.running, "variance_fed": "unbiased"},
          _check_running_stats, lambda c: scaled(c, "update", 2), derivation="batchnorm-running-stats",
          references=("PyTorch BatchNorm1d documentation", "Keras BatchNormalization documentation")),
    Claim("bn-gamma-beta-by-backprop", "Batch norm (2015)",
          r"Коэффициенты $\beta$ и $\gamma$ оцениваются в ходе обратного распространения ошибки",
          r"The coefficients $\beta$ and $\gamma$ are learned through backpropagation (unlike the running statistics).",
          {"learned": ("beta", "gamma")}, _check_learned_by_backprop,
          lambda c: {**c, "learned": ("beta", "gamma", "running mean", "running variance")},
          references=("PyTorch BatchNorm1d documentation", "Keras BatchNormalization documentation")),
    Claim("bn-speeds-training", "Batch norm (2015)", "Обучение довольно сильно ускоряется, сходимость улучшается",
          "Batch norm speeds training up (ahead at the first checkpoint) and improves the final result (the slide's "
          "«довольно сильно» gives no size).",
          {"direction": "greater", "final_min_size": 0.0}, _check_bn_speed, flipped,
          figure="bn-unit-percentiles", references=("Ioffe & Szegedy 2015, Figure 1",)),
    Claim("bn-forward-biased-variance", "Forward pass",
          r"\sigma_{\mathcal{B}}^2 \leftarrow \frac{1}{m} \sum_{i=1}^m (x_i - \mu_{\mathcal{B}})^2 \quad // "
          r"\text{ mini-batch variance}",
          "The mini-batch variance in the forward pass is the biased one, with $1/m$.",
          {"normalizer": 1 / tb.m}, _check_forward_variance, lambda c: {**c, "normalizer": 1 / (tb.m - 1)},
          derivation="batchnorm-backward", references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    _bn_line_claim(0, "bn-backward-line1",
                   r"Backward line 1: $\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} "
                   r"\gamma$.",
                   r"\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} \cdot \gamma"),
    _bn_line_claim(1, "bn-backward-line2",
                   r"Backward line 2: $\frac{\partial \ell}{\partial \sigma_B^2} = \sum_i "
                   r"\frac{\partial \ell}{\partial \hat{x}_i} (x_i - \mu_B) \cdot (-\frac{1}{2}) "
                   r"(\sigma_B^2 + \epsilon)^{-3/2}$.",
                   r"\frac{\partial \ell}{\partial \sigma_B^2} = \sum_{i=1}^m \frac{\partial \ell}{\partial \hat{x}_i} "
                   r"\cdot (x_i - \mu_B) \cdot \frac{-1}{2} (\sigma_B^2 + \epsilon)^{-3/2}"),
    _bn_line_claim(2, "bn-backward-line3",
                   r"Backward line 3: $\frac{\partial \ell}{\partial \mu_B} = \sum_i \frac{\partial \ell}{\partial "
                   r"\hat{x}_i} \cdot \frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial "
                   r"\sigma_B^2} \cdot \frac{\sum_i -2(x_i - \mu_B)}{m - 1}$.",
                   r"\frac{\partial \ell}{\partial \mu_B} = \left( \sum_{i=1}^m \frac{\partial \ell}{\partial "
                   r"\hat{x}_i} \cdot \frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} \right) + \frac{\partial \ell}{\partial "
                   r"\sigma_B^2} \cdot \frac{\sum_{i=1}^m -2(x_i - \mu_B)}{m-1}"),
    _bn_line_claim(3, "bn-backward-line4",
                   r"Backward line 4: $\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} "
                   r"\cdot \frac{1}{\sqrt{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot "
                   r"\frac{2(x_i - \mu_B)}{m - 1} + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}$.",
                   r"\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} \cdot \frac{1}{\sqrt"
                   r"{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot \frac{2(x_i - \mu_B)}"
                   r"{m-1} + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}"),
    _bn_line_claim(4, "bn-backward-line5",
                   r"Backward line 5: $\frac{\partial \ell}{\partial \gamma} = \sum_i "
                   r"\frac{\partial \ell}{\partial y_i} \hat{x}_i$.",
                   r"\frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i} \cdot "
                   r"\hat{x}_i"),
    _bn_line_claim(5, "bn-backward-line6",
                   r"Backward line 6: $\frac{\partial \ell}{\partial \beta} = \sum_i \frac{\partial \ell}{\partial "
                   r"y_i}$.",
                   r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i}"),
    Claim("bn-mnist-p160", "Эксперимент с MNIST", "Источник: Николенко, страница 160",
          "In the MNIST experiment (Ioffe & Szegedy's Figure 1, in Nikolenko p. 160) the network with batch norm "
          "reaches, early in training, the accuracy the plain network ends with.",
          {"direction": "greater", "min_size": 0.0}, _check_mnist_p160, flipped, figure="bn-unit-percentiles",
          references=("Ioffe & Szegedy 2015, Figure 1(a)", "Николенко, Кадурин, Архангельская, Глубокое обучение, "
                                                             "с. 160")),
    Claim("bn-weaker-dropout", "Трюки", "С батч-нормализацией нужно уменьшить силу Dropout и регуляризацию",
          "With batch norm, dropout should be weakened: the train/test mismatch it causes shrinks as dropout "
          "weakens.",
          {"shift_as_dropout_weakens": "less"}, _check_weaker_dropout, lambda c: flipped(c, "shift_as_dropout_weakens"),
          figure="dropout-variance-shift", derivation="dropout-variance-shift",
          references=("Li, Chen, Hu & Yang 2019, Understanding the Disharmony between Dropout and Batch "
                      "Normalization by Variance Shift, CVPR",)),
    Claim("bn-weaker-l2", "Трюки", "С батч-нормализацией нужно уменьшить силу Dropout и регуляризацию",
          "With batch norm, the L2 penalty should be reduced: the batch-norm network does better at a smaller L2 "
          "strength than the one a network without batch norm is trained with (no size stated).",
          # negative control: the opposite statement, that reducing L2 changes nothing (within 1/1000); with an
          # effect of exactly 0 the flipped direction would be excluded too
          {"direction": "greater", "min_size": 0.0}, _check_weaker_l2,
          lambda c: {**c, "direction": "none", "min_size": 0.001},
          references=("Ioffe & Szegedy 2015, section 4.2.1 (reduce the L2 weight regularization by a factor of 5)",
                      "van Laarhoven 2017, L2 Regularization versus Batch and Weight Normalization, "
                      "arXiv:1706.05350")),
)
