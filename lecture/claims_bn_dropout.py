"""Claims of the slides on batch normalization, dropout and the other training heuristics, each with the check that
computes its verdict.

Slides: «Проблема», «Batch norm (2015)», «Forward pass», «Backward pass», «Эксперимент с MNIST» (the second one,
Nikolenko p. 160), «Трюки», «Dropout», «Dropout в формулах», «Обратный Dropout», «Предобучение», «Динамическое
наращивание сети», «Прореживание сети», «Уже обсуждали». Exact statements are decided with SymPy
(:mod:`theory.batchnorm`, :mod:`theory.dropout`); empirical ones with the training experiments' 5-seed summaries
(:func:`lecture.registry.experiment`) and, for the dropout ensemble, an exact enumeration of all 2^n masks of random
relu networks (:mod:`sims.dropout`).

An empirical claim is data: ``direction`` (``greater`` / ``less`` than ``min_size`` in every seed, or ``none``:
within ``±min_size`` in every seed) of a paired per-seed difference. Where the effect is measured in more than one
setting (without / with batch norm, all / few labels), the verdict is ``supported`` when it holds in every setting,
``imprecise`` (the condition names the settings) when in some, and ``not-supported`` when in none.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import sympy as sp
from sympy import stats

from lecture.method import Effect, decide
from lecture.registry import (Claim, NotAClaim, Outcome, effect_of, effect_outcome, exact_equal, experiment, flipped, fmt, scaled,
                              spread_text)
from theory import batchnorm as tb
from theory import dropout as td

_UNIT_INTERVAL = sp.Interval.Lopen(0, 1)


# ------------------------------------------------------------------------------------------------ helpers
def _spread(values) -> dict:
    from sims.experiments.common import spread

    return spread([float(v) for v in values])


def _paired(a: Mapping, b: Mapping) -> list[float]:
    """Per-seed a - b of two spreads over the same seeds (in the same order)."""
    if len(a["values"]) != len(b["values"]):
        raise ValueError("paired spreads over different numbers of seeds")
    return [float(x) - float(y) for x, y in zip(a["values"], b["values"])]


def _effect_outcome(per: Mapping[str, list], claimed: Mapping, *, what: str, evidence: str, numbers: dict,
                    note: str = "") -> Outcome:
    """The Outcome of an effect claim measured in one or more settings (``per``: setting -> per-seed paired values),
    by the paired-interval method (:func:`lecture.registry.effect_outcome`); ``note`` ends the correction."""
    spreads = {k: _spread(v) for k, v in per.items()}
    return effect_outcome(effect_of(claimed, what), per, evidence=evidence, numbers={**numbers, "effect": spreads},
                          note=note)


def _sstr(e) -> str:
    return sp.sstr(e)


# ------------------------------------------------------------------------------------------------ «Проблема»
@lru_cache(maxsize=1)
def _hidden_moments() -> dict:
    """Mean and variance of h = f(z), z ~ N(0, 1) (a unit fed by standardized inputs through weights with
    n_in Var(w) = 1), and whether the mean is exactly 0. sigmoid: mean exactly 1/2, from sigma(z) + sigma(-z) = 1
    (SymPy) and the symmetry of z; relu: mean > 0 exactly, since relu >= 0 and relu(z) = z > 0 for z > 0 (a set
    of probability 1/2). The numbers by the rectangle rule on [-12, 12], step 1e-4 (the Gaussian tail beyond is
    below 1e-32; the rule's error is O(step^2) at relu's kink)."""
    import numpy as np

    z = sp.Symbol("z", real=True)
    sig = td.sigmoid(z)
    sig_mean_exact = sp.Rational(1, 2) if sp.simplify(sp.together(sig + sig.subs(z, -z) - 1)) == 0 else None
    relu = sp.Max(z, 0)
    relu_positive = bool(relu.subs(z, sp.Symbol("t", positive=True)).is_positive
                         and relu.subs(z, sp.Symbol("t", negative=True)) == 0)
    step = 1e-4
    t = np.arange(-12.0, 12.0 + step / 2, step)
    w = np.exp(-t * t / 2) / math.sqrt(2 * math.pi) * step
    funcs = {"sigmoid": 0.5 * (1 + np.tanh(t / 2)), "relu": np.maximum(t, 0.0)}
    out = {}
    for name, h in funcs.items():
        mean = float(np.sum(h * w))
        out[name] = {"mean": mean, "var": float(np.sum((h - mean) ** 2 * w))}
    out["sigmoid"]["mean_exact"] = _sstr(sig_mean_exact) if sig_mean_exact is not None else None
    out["sigmoid"]["mean_is_zero"] = sig_mean_exact is not None and sig_mean_exact == 0
    out["relu"]["mean_exact"] = "> 0" if relu_positive else None
    out["relu"]["mean_is_zero"] = False if relu_positive else None  # None: undecided
    return out


def _check_hidden_standardized(claimed, evidence):
    mom = _hidden_moments()
    off = [name for name, m in mom.items() if m["mean_is_zero"] is False]  # exactly nonzero mean
    numbers = {name: dict(m) for name, m in mom.items()}
    text = (f"For standardized inputs and n_in Var(w) = 1 the pre-activation z is N(0, 1); h = f(z) has mean exactly "
            f"{mom['sigmoid']['mean_exact']} for sigmoid (sigma(z) + sigma(-z) = 1, SymPy) with variance "
            f"{fmt(mom['sigmoid']['var'])}, and mean {mom['relu']['mean_exact']} for relu "
            f"({fmt(mom['relu']['mean'])}, variance {fmt(mom['relu']['var'])}): the hidden layer is unstandardized "
            f"for {', '.join(off) or 'neither'}.")
    can_be_off = "yes" if off else "no"
    if claimed["hidden_may_be_unstandardized"] == can_be_off:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=("the hidden layer is unstandardized (mean != 0) for " + ", ".join(off)) if off
                   else "the activations checked keep the hidden layer centred")


def _check_distribution_drift(claimed, evidence):
    bt = experiment(evidence, "bn_training")
    nets = bt["networks"]
    drift = {net: [abs(math.log(float(v))) for v in nets[net]["drift"]["spread_ratio"]["values"]]
             for net in ("plain", "batchnorm")}
    ratio = {net: nets[net]["drift"]["spread_ratio"] for net in drift}
    shift = {net: nets[net]["drift"]["shift_in_spreads"] for net in drift}
    per = {"": [a - b for a, b in zip(drift["plain"], drift["batchnorm"])]}  # paired: the same seed in both nets
    text = (f"The 15-85% spread of one sigmoid unit's input (3 × 100 sigmoid net, batch 60, "
            f"{bt['epochs']} epochs, {len(bt['seeds'])} seeds) changes by a factor {spread_text(ratio['plain'])} "
            f"without batch norm (its median moves by {spread_text(shift['plain'])} initial spreads) against "
            f"{spread_text(ratio['batchnorm'])} with it ({spread_text(shift['batchnorm'])}); |log ratio| "
            f"{spread_text(_spread(drift['plain']))} vs {spread_text(_spread(drift['batchnorm']))}.")
    numbers = {"spread_ratio": ratio, "shift_in_spreads": shift,
               "abs_log_spread_ratio": {k: _spread(v) for k, v in drift.items()}}
    return _effect_outcome(per, claimed, what="|log(spread ratio)| of the unit's input, without minus with batch norm",
                           evidence=text, numbers=numbers)


def _check_scale_shift(claimed, evidence):
    hhat = tb.h_hat
    out = sp.sympify(claimed["output"])
    ref_slide, ref_out, _ = next(e for e in tb.NOTATION if e[0] == "Forward pass")
    roles = {"scale": sp.diff(out, hhat), "shift": out.subs(hhat, 0)}
    ref = {"scale": sp.diff(ref_out, hhat), "shift": ref_out.subs(hhat, 0)}
    affine = sp.diff(out, hhat, 2) == 0
    numbers = {"claimed": {k: _sstr(v) for k, v in roles.items()}, "paper": {k: _sstr(v) for k, v in ref.items()}}
    text = (f"d(out)/d(hhat) = {_sstr(roles['scale'])} scales and out(hhat = 0) = {_sstr(roles['shift'])} shifts; "
            f"on «{ref_slide}» and in Ioffe & Szegedy (y = gamma xhat + beta) {_sstr(ref['scale'])} scales and "
            f"{_sstr(ref['shift'])} shifts.")
    if affine and all(exact_equal(roles[k], ref[k]) for k in roles):
        return Outcome("confirmed", text, numbers)
    if affine and {_sstr(v) for v in roles.values()} == {_sstr(v) for v in ref.values()}:
        return Outcome("imprecise", text, numbers,
                       condition=f"a naming convention: the same learned affine map with {_sstr(roles['scale'])} as "
                                 f"the scale and {_sstr(roles['shift'])} as the shift",
                       correction=f"in the paper's and the next slide's notation the output is "
                                  f"{_sstr(ref['scale'])} * hhat + {_sstr(ref['shift'])} ({_sstr(ref['scale'])} "
                                  f"scales, {_sstr(ref['shift'])} shifts)")
    return Outcome("refuted", text, numbers, correction=f"the output is {_sstr(ref_out)}")


# ------------------------------------------------------------------------------------------------ «Batch norm (2015)»
def _check_learned_by_backprop(claimed, evidence):
    """«β и γ оцениваются в ходе обратного распространения»: SymPy differentiates a loss of the train-mode output
    y = gamma * xhat + beta (xhat from the batch's own mean and variance) with respect to gamma, beta and the running
    mean and variance. The parameters with a non-zero gradient are learned by backprop (the optimizer then updates
    them); the running statistics have none (they are moving averages of the forward pass)."""
    mu_run, var_run = sp.symbols("mu_running sigma2_running", real=True)
    y = next(out for slide, out, _ in tb.NOTATION if slide == "Forward pass")  # gamma * hhat + beta, transcribed
    dl_dy = sp.Symbol("dell/dy")  # the chain rule: d ell / d theta = dell/dy * dy / d theta
    grads = {name: dl_dy * sp.diff(y, theta) for name, theta in (("gamma", tb.gamma), ("beta", tb.beta),
                                                                 ("running mean", mu_run), ("running variance", var_run))}
    learned = sorted(k for k, g in grads.items() if g != 0)
    nums = {"gradients": {k: _sstr(g) for k, g in grads.items()}, "learned": learned}
    text = (f"SymPy, a loss ell of the «Forward pass» output y = {_sstr(y)} in train mode: "
            + "; ".join(f"d ell / d {k} = {_sstr(g)}" for k, g in grads.items())
            + ". gamma and beta get gradients from backprop (the optimizer updates them); the running statistics get "
              "none: they are moving averages of the forward pass (PyTorch buffers, Keras non-trainable weights).")
    if learned == sorted(claimed["learned"]):
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums, correction=f"backprop gives gradients to {', '.join(learned)} only")


def _check_running_stats(claimed, evidence):
    r, v = tb.running, tb.batch_value
    upd = sp.sympify(claimed["update"])
    w_new, w_old = sp.diff(upd, v), sp.diff(upd, r)
    rest = sp.simplify(upd - w_new * v - w_old * r)
    total = sp.simplify(w_new + w_old)
    mm, ev = tb._expected_batch_variances()
    bias = sp.simplify(ev / tb.sigma2)  # E[sigma_B^2] / sigma^2 on an explicit batch of mm
    numbers = {"weight_new": _sstr(w_new), "weight_old": _sstr(w_old), "weights_sum": _sstr(total),
               "E_batch_var_over_var": {"m": mm, "value": _sstr(bias)}}
    if rest != 0 or total != 1:
        return Outcome("refuted", f"The update's weights on the batch value and the running value are "
                                  f"{_sstr(w_new)} and {_sstr(w_old)}, summing to {_sstr(total)}, not 1.", numbers,
                       correction="an exponential moving average: running = alpha * batch + (1 - alpha) * running, "
                                  "weights summing to 1")
    torch_m = sp.solve(sp.Eq(upd, tb.torch_update(r, v)), tb.momentum)
    keras_m = sp.solve(sp.Eq(upd, tb.keras_update(r, v)), tb.momentum)
    numbers.update(torch_momentum=[_sstr(x) for x in torch_m], keras_momentum=[_sstr(x) for x in keras_m],
                   torch_default=_sstr(tb.TORCH_MOMENTUM), keras_default=_sstr(tb.KERAS_MOMENTUM))
    fed = claimed["variance_fed"]
    lib = "PyTorch" if fed == "unbiased" else "Keras"
    text = (f"The update equals PyTorch's with momentum = {', '.join(map(_sstr, torch_m))} (default "
            f"{_sstr(tb.TORCH_MOMENTUM)}) and Keras' with momentum = {', '.join(map(_sstr, keras_m))} (default "
            f"{_sstr(tb.KERAS_MOMENTUM)}); E[sigma_B^2] = {_sstr(bias)} sigma^2 at m = {mm}, so the {fed} "
            f"s-hat^2 is what {lib} feeds its running variance.")
    return Outcome("imprecise", text, numbers,
                   condition=f"alpha is PyTorch's momentum (default {_sstr(tb.TORCH_MOMENTUM)})"
                             f" and 1 - Keras' momentum (Keras' momentum = {_sstr(keras_m[0])}, default "
                             f"{_sstr(tb.KERAS_MOMENTUM)}, i.e. alpha = {_sstr(1 - tb.KERAS_MOMENTUM)}); the {fed} "
                             f"batch variance is {lib}'s choice",
                   correction=f"name the convention: alpha = torch momentum = 1 - keras momentum; PyTorch feeds the "
                              f"unbiased m/(m - 1) sigma_B^2, Keras the biased sigma_B^2 (E = {_sstr(bias)} sigma^2 "
                              f"at m = {mm})")


def _bn_accuracies(bt):
    nets = bt["networks"]
    first = str(min(int(a) for a in bt["after"]))
    return nets, first


def _check_bn_speed(claimed, evidence):
    """Two paired effects, both needed: validation accuracy with minus without batch norm after the first evaluation
    (past ``min_size``), and final test accuracy (past ``final_min_size``)."""
    bt = experiment(evidence, "bn_training")
    nets, first = _bn_accuracies(bt)
    early = _paired(nets["batchnorm"]["accuracy_after"][first], nets["plain"]["accuracy_after"][first])
    final = _paired(nets["batchnorm"]["test_acc"], nets["plain"]["test_acc"])
    text = (f"Validation accuracy after {first} SGD steps: {spread_text(nets['batchnorm']['accuracy_after'][first])} "
            f"with batch norm vs {spread_text(nets['plain']['accuracy_after'][first])} without; final test accuracy "
            f"{spread_text(nets['batchnorm']['test_acc'])} vs {spread_text(nets['plain']['test_acc'])}, "
            f"{len(bt['seeds'])} seeds.")
    numbers = {"early_difference": _spread(early), "final_test_difference": _spread(final), "steps": int(first)}
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
    vals = _paired(nets["batchnorm"]["accuracy_after"][first], nets["plain"]["final_val_acc"])
    text = (f"With batch norm the validation accuracy after {first} steps is "
            f"{spread_text(nets['batchnorm']['accuracy_after'][first])}; without it, after all {steps_total} steps, "
            f"{spread_text(nets['plain']['final_val_acc'])} (paired difference {spread_text(_spread(vals))}, "
            f"{len(bt['seeds'])} seeds): batch norm needs at most 1/{fmt(steps_total / int(first))} of the steps.")
    return _effect_outcome({"": vals}, claimed,
                           what=f"accuracy with batch norm after {first} steps minus without after {steps_total}",
                           evidence=text, numbers={"steps_ratio": steps_total / int(first),
                                                   "steps": [int(first), steps_total]})


# ------------------------------------------------------------------------------------------------ «Forward pass»
def _check_forward_variance(claimed, evidence):
    """With sigma_B^2 = c sum (x_i - mu_B)^2 (eps -> 0), the normalized batch has (1/m) sum xhat_i^2 = 1 iff c = 1/m;
    checked on explicit batches m = 2..4, and against the forward pass of theory.batchnorm (the paper's)."""
    c = sp.Symbol("c", positive=True)
    needed = {}
    for mm in range(2, 5):
        xs = sp.symbols(f"x1:{mm + 1}", real=True)
        mean = sum(xs) / mm
        ss = sum((x - mean) ** 2 for x in xs)
        batch_var_xhat = sp.simplify(sum((x - mean) ** 2 / (c * ss) for x in xs) / mm)
        sol = sp.solve(sp.Eq(batch_var_xhat, 1), c)
        needed[mm] = sol[0]
    claimed_c = sp.sympify(claimed["normalizer"])
    ok = all(sp.simplify(claimed_c.subs(tb.m, mm) - cval) == 0 for mm, cval in needed.items())
    paper = sp.simplify(tb.VAR / sp.Sum((tb.x[tb.j] - tb.mu_B) ** 2, (tb.j, 1, tb.m)))
    numbers = {"needed": {str(k): _sstr(v) for k, v in needed.items()}, "paper": _sstr(paper),
               "claimed": _sstr(claimed_c)}
    text = (f"The normalized batch has (1/m) sum xhat_i^2 = 1 (eps -> 0) only for the normalizer "
            f"{', '.join(f'{_sstr(v)} at m = {k}' for k, v in needed.items())}, i.e. 1/m; Ioffe & Szegedy's "
            f"(theory.batchnorm) is {_sstr(paper)}, whose derivative gives the backward pass's 2(x_i - mu_B)/m.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=f"sigma_B^2 = (1/m) sum (x_i - mu_B)^2 (the biased variance); with {_sstr(claimed_c)} "
                              f"the normalized batch does not have unit variance")


# ------------------------------------------------------------------------------------------------ «Backward pass»
def _check_bn_line(claimed, evidence):
    derived = tb.derived_lines()[claimed["name"]]
    expr = sp.sympify(claimed["expr"])
    diff = sp.simplify(sp.expand(derived - expr))
    numbers = {"line": claimed["name"], "claimed": _sstr(expr), "chain_rule": _sstr(derived)}
    if tb._zero(diff):
        return Outcome("confirmed", f"{claimed['name']}: the slide's expression equals the chain rule's "
                                    f"{_sstr(derived)} (SymPy: difference 0).", numbers)
    given = tb._given_forward(diff)
    numbers.update(difference=_sstr(sp.factor(diff)), difference_given_forward=_sstr(sp.factor(given)))
    if tb._zero(given):
        return Outcome("imprecise",
                       f"{claimed['name']}: chain rule minus the slide is {_sstr(sp.factor(diff))}, which vanishes "
                       f"once mu_B = (1/m) sum x_j.", numbers,
                       condition="mu_B is the batch mean of the forward pass, so the term whose coefficient differs "
                                 "multiplies sum_j (x_j - mu_B) = 0: the value is right, the coefficient is not",
                       correction=f"{claimed['name']} = {_sstr(derived)}")
    return Outcome("refuted",
                   f"{claimed['name']}: chain rule minus the slide is {_sstr(sp.factor(diff))}; with the forward "
                   f"pass's mu_B it is still {_sstr(sp.factor(given))}, not 0.", numbers,
                   correction=f"{claimed['name']} = {_sstr(derived)}")


def _other_coefficient(claimed):
    """A changed coefficient: 1/(m - 1) -> 1/m where the line has it, else the line doubled."""
    expr = sp.sympify(claimed["expr"])
    m = tb.m
    return {**claimed, "expr": expr.subs(m - 1, m) if expr.has(m - 1) else 2 * expr}


# ------------------------------------------------------------------------------------------------ «Трюки»
def _check_weaker_dropout(claimed, evidence):
    """Inverted dropout before batch norm: Var_test / Var_train = p v / (v + (1 - p) c^2); the shift 1 - ratio as
    dropout weakens (p up): the sign of d(shift)/dp."""
    p = td.p
    r = sp.Symbol("r", nonnegative=True)
    num, den = sp.fraction(sp.together(sp.diff(td.VAR_RATIO, p)))
    num, den = sp.factor(num), sp.factor(den.subs(p, 1 - r))
    rising = bool(num.is_positive and den.is_positive)  # d ratio / dp > 0 on (0, 1]: the shift falls as p rises
    falling = bool(sp.factor(-num).is_positive and den.is_positive)
    computed = "less" if rising else ("greater" if falling else None)
    relu_c = 1 / sp.sqrt(2 * sp.pi)
    relu_v = sp.Rational(1, 2) - 1 / (2 * sp.pi)
    keeps = (0.5, 0.8, 0.9, 1.0)
    ratios = {k: td.variance_shift(k, float(relu_c), float(relu_v)) for k in keeps}
    numbers = {"d_ratio_dp": _sstr(sp.factor(num / den)), "shift_as_dropout_weakens": computed,
               "relu_ratio": {str(k): val for k, val in ratios.items()}}
    text = (f"Before batch norm, inverted dropout makes Var_test / Var_train = {_sstr(td.VAR_RATIO)}, with "
            f"d/dp = {_sstr(num)}/{_sstr(den)} (p = 1 - r) > 0: the variance shift shrinks as dropout weakens. For "
            f"relu units of N(0, 1) inputs the ratio is "
            f"{', '.join(f'{fmt(val)} at p = {k:g}' for k, val in ratios.items())}.")
    if computed == claimed["shift_as_dropout_weakens"]:
        return Outcome("imprecise", text, numbers,
                       condition="dropout placed before a batch-norm layer, whose running variance keeps the "
                                 "train-time (c^2 + v)/p - c^2 while the test input has variance v (Li et al. 2019); "
                                 "dropout after the last batch norm causes no shift, and the L2 part is not derived",
                       correction="before batch norm, weaken dropout (p -> 1) or move it after the last BN layer: "
                                  f"the variance ratio {_sstr(td.VAR_RATIO)} is 1 only at p = 1")
    return Outcome("refuted", text, numbers,
                   correction=f"the variance shift {_sstr(1 - td.VAR_RATIO)} gets {'smaller' if rising else 'larger'} "
                              "as dropout weakens")


def _check_shuffle_sorted(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {"without batch norm (validation accuracy after epoch 1)":
           _paired(sh["reshuffled"]["val_acc_first"], sh["sorted"]["val_acc_first"]),
           "with batch norm (final validation accuracy)":
           _paired(sh["reshuffled+bn"]["val_acc_final"], sh["sorted+bn"]["val_acc_final"])}
    text = (f"Class-sorted batches vs reshuffled every epoch: after epoch 1 "
            f"{spread_text(sh['sorted']['val_acc_first'])} vs {spread_text(sh['reshuffled']['val_acc_first'])} "
            f"validation accuracy without batch norm (at the end {spread_text(sh['sorted']['test_acc'])} vs "
            f"{spread_text(sh['reshuffled']['test_acc'])} test); with batch norm final "
            f"{spread_text(sh['sorted+bn']['val_acc_final'])} vs {spread_text(sh['reshuffled+bn']['val_acc_final'])}.")
    return _effect_outcome(per, claimed, what="accuracy reshuffled minus class-sorted", evidence=text,
                           numbers={"final_test_without_bn": {"sorted": sh["sorted"]["test_acc"],
                                                              "reshuffled": sh["reshuffled"]["test_acc"]}})


def _check_reshuffle_each_epoch(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {"without batch norm": _paired(sh["reshuffled"]["test_acc"], sh["shuffled_once"]["test_acc"]),
           "with batch norm": _paired(sh["reshuffled+bn"]["test_acc"], sh["shuffled_once+bn"]["test_acc"])}
    text = (f"Test accuracy reshuffled every epoch vs a random order fixed once: without batch norm "
            f"{spread_text(sh['reshuffled']['test_acc'])} vs {spread_text(sh['shuffled_once']['test_acc'])} "
            f"(paired {spread_text(_spread(per['without batch norm']))}); with batch norm "
            f"{spread_text(sh['reshuffled+bn']['test_acc'])} vs {spread_text(sh['shuffled_once+bn']['test_acc'])} "
            f"(paired {spread_text(_spread(per['with batch norm']))}).")
    return _effect_outcome(per, claimed, what="test accuracy reshuffled every epoch minus shuffled once",
                           evidence=text, numbers={})


# ------------------------------------------------------------------------------------------------ «Dropout»
def _formula_p_off() -> sp.Expr:
    """P(neuron off) implied by the slides' formulas (mask cases, test expectation, inverted dropout)."""
    offs = {sp.simplify(td.implied_p_off(s)[0]) for s in td.SLIDE_P_STATEMENTS if s.kind != "off"}
    if len(offs) != 1:
        raise ValueError(f"the slides' formulas disagree among themselves: {offs}")
    return offs.pop()


def _check_p_off(claimed, evidence):
    formula = _formula_p_off()
    said = sp.sympify(claimed["p_off"])
    where = sp.solveset(sp.simplify(said - formula), td.p, _UNIT_INTERVAL)
    at = ", ".join(map(_sstr, where)) if isinstance(where, sp.FiniteSet) else _sstr(where)
    numbers = {"claimed_p_off": _sstr(said), "formulas_p_off": _sstr(formula), "agree_at": _sstr(where)}
    text = (f"The slides' formulas (D ~ Bern(p) with o = f with probability p; test o = p f = E[D f]; train "
            f"(1/p) D f) all imply P(off) = {_sstr(formula)}; the sentence says {_sstr(said)}; on (0, 1] they "
            f"agree at p = {at}.")
    if where == _UNIT_INTERVAL:
        return Outcome("confirmed", text, numbers)
    if where == sp.S.EmptySet:
        return Outcome("refuted", text, numbers, correction=f"a neuron is switched off with probability "
                                                            f"{_sstr(formula)}")
    return Outcome("imprecise", text, numbers,
                   condition=f"only at p = {at}, or with p read as the DROP probability (torch.nn.Dropout's "
                             "p, Keras' rate), unlike the slides' formulas where p is the keep probability",
                   correction=f"with probability {_sstr(formula)} we switch a neuron off (p is the keep probability)")


def _check_mask_cases(claimed, evidence):
    Dm = stats.Bernoulli("D", claimed["keep"])
    dens = stats.density(Dm).dict
    out = claimed["output"]  # o_i as a function of the mask value td.D
    computed = {_sstr(out.subs(td.D, d)): sp.simplify(pr) for d, pr in dens.items()}
    ok = all(any(exact_equal(val, out.subs(td.D, d)) and exact_equal(prob, dens[d]) for d in dens)
             for val, prob in claimed["cases"])
    numbers = {"computed": {k: _sstr(v) for k, v in computed.items()},
               "claimed": [[_sstr(a), _sstr(b)] for a, b in claimed["cases"]]}
    text = (f"With D ~ Bernoulli({_sstr(claimed['keep'])}) (sympy.stats), o = {_sstr(out)} takes the values "
            + ", ".join(f"{k} with probability {_sstr(v)}" for k, v in computed.items()) + ".")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers, correction="o_i = " + ", ".join(f"{k} with probability {_sstr(v)}"
                                                                           for k, v in computed.items()))


def _check_dropout_backward(claimed, evidence):
    chain = td.chain_rule_backward(claimed["forward_multiplier"]).doit()
    formula = td.backward_formula(claimed["factors"]).doit()
    diff = (chain - formula).applyfunc(sp.simplify)
    ok = all(e == 0 for e in diff)
    numbers = {"factors": [_sstr(f) for f in claimed["factors"]], "difference": _sstr(diff)}
    text = (f"For o = {_sstr(claimed['forward_multiplier'])} f(x W + b) on an explicit 2 -> 2 layer, sympy.diff of "
            f"L = sum_k d_k o_k by x equals ({' * '.join(map(_sstr, claimed['factors']))}) W^T entry by entry: "
            f"{'yes' if ok else 'no, the difference is ' + _sstr(diff)}.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=f"d = {_sstr(claimed['forward_multiplier'])} * f'(h) * d times W^T: the mask multiplies "
                              "the backward pass as it does the forward")


_n = sp.Symbol("n", integer=True, positive=True)
_k = sp.Symbol("k", integer=True, nonnegative=True)


@lru_cache(maxsize=1)
def _mask_counts():
    a = sp.Symbol("a", positive=True)  # incoming weights per unit
    count = sp.simplify(sp.Sum(sp.binomial(_n, _k), (_k, 0, _n)).doit())
    total = sp.simplify(sp.Sum(sp.binomial(_n, _k) * _k * a, (_k, 0, _n)).doit())  # weights over all thinned nets
    union = _n * a  # distinct weights: every thinned net's weights are columns of the one W
    return count, sp.simplify(total / union)


def _check_2n_networks(claimed, evidence):
    count, reuse = _mask_counts()
    said = sp.sympify(claimed["networks"])
    numbers = {"masks": _sstr(count), "claimed": _sstr(said), "weights_reuse_factor": _sstr(reuse)}
    text = (f"n droppable units have sum_k C(n, k) = {_sstr(count)} masks; the thinned networks together use "
            f"{_sstr(reuse)} times as many weights as there are distinct ones (all are columns of one W).")
    if not exact_equal(said, count):
        return Outcome("refuted", text, numbers, correction=f"{_sstr(count)} thinned networks")
    shared = sp.simplify(reuse.subs(_n, 2)) > 1
    if claimed["weights"] == "shared" or not shared:
        return Outcome("confirmed", text, numbers)
    return Outcome("imprecise", text, numbers,
                   condition=f"an ensemble of {_sstr(count)} thinned networks that SHARE one set of weights (each "
                             "step trains one sampled network); not independently trained networks",
                   correction=f"dropout trains {_sstr(count)} weight-sharing sub-networks, each weight reused in "
                              f"{_sstr(reuse)} of them")


def _ensemble_gaps(units: int, keep: float, seeds: int) -> dict:
    from sims.dropout import ensemble_gap

    out = {}
    for act in ("relu", "linear"):
        g = ensemble_gap(units, keep, act, seeds=seeds, init="glorot_uniform")
        out[act] = {k: g[k] for k in ("gap_abs_mean", "gap_abs_se", "gap_signed_mean", "gap_signed_se")}
        out[act]["gap_abs_max"] = float(max(abs(x) for x in g["gaps"]))
    return out


def _expected_output(keep_scale=1) -> sp.Expr:
    Db = stats.Bernoulli("D", td.p)
    return sp.simplify(stats.E(keep_scale * Db * td.f))


def _check_ensemble_average(claimed, evidence):
    mean_linear, scaled_linear = td.ensemble_mean_linear(3)
    linear_exact = exact_equal(mean_linear, scaled_linear) and td.ensemble_is_exact(True)
    nonlinear_exact = td.ensemble_is_exact(False)
    expected = _expected_output()
    gaps = evidence.get("dropout-ensemble-gap", _ensemble_gaps, units=8, keep=0.5, seeds=64)
    relu_gap = gaps["relu"]["gap_abs_max"] > 1e-9
    numbers = {"linear_exact": linear_exact, "nonlinear_exact_z2": nonlinear_exact, "gaps": gaps,
               "E_Df": _sstr(expected)}
    text = (f"The mean over all 2^n masks equals weight scaling p W x exactly for a linear unit (n = 1..3 enumerated, "
            f"any n by linearity) but not for phi(z) = z^2 (gap p(1 - p) sum w_i^2 x_i^2); for random relu networks "
            f"with 8 dropped units (Glorot uniform, keep 0.5, 64 networks, all 256 masks) "
            f"|ensemble - weight scaling| = "
            f"{fmt(gaps['relu']['gap_abs_mean'])} ± {fmt(gaps['relu']['gap_abs_se'])} (up to "
            f"{fmt(gaps['relu']['gap_abs_max'])}), against {fmt(gaps['linear']['gap_abs_max'])} for linear ones.")
    if not exact_equal(claimed["test_output"], expected):
        return Outcome("refuted", text, numbers, correction=f"the expectation of D f is {_sstr(expected)}")
    exact_for = {"linear": linear_exact, "any": linear_exact and not relu_gap and nonlinear_exact,
                 "nonlinear": not relu_gap and nonlinear_exact}[claimed["activation"]]
    if exact_for:
        return Outcome("confirmed", text, numbers)
    if linear_exact:
        return Outcome("imprecise", text, numbers,
                       condition="exact only when everything after the dropout layer is linear (and, as the "
                                 "normalized geometric mean, for one sigmoid unit: Baldi & Sadowski 2013)",
                       correction="for nonlinear networks weight scaling p f only approximates the average of the 2^n "
                                  f"predictions (relu: mean |gap| {fmt(gaps['relu']['gap_abs_mean'])})")
    return Outcome("refuted", text, numbers, correction="weight scaling is not the ensemble mean")


def _check_test_expectation(claimed, evidence):
    expected = _expected_output()
    said = sp.sympify(claimed["test_output"])
    text = f"E[D f] for D ~ Bernoulli(p) (sympy.stats) is {_sstr(expected)}; the slide's test output is {_sstr(said)}."
    numbers = {"E_Df": _sstr(expected), "claimed": _sstr(said)}
    if exact_equal(said, expected):
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers, correction=f"o = {_sstr(expected)}")


def _check_inverted(claimed, evidence):
    s, t = sp.sympify(claimed["train_scale"]), sp.sympify(claimed["test_scale"])
    mean_train = _expected_output(s)
    Db = stats.Bernoulli("D", td.p)
    var_train = sp.simplify(stats.variance(s * Db * td.f))
    unbiased_scale = sp.solve(sp.Eq(_expected_output(sp.Symbol("s")), t * td.f), sp.Symbol("s"))
    numbers = {"E_train": _sstr(mean_train), "test": _sstr(t * td.f), "Var_train": _sstr(var_train),
               "unbiased_train_scale": [_sstr(x) for x in unbiased_scale]}
    text = (f"E[{_sstr(s)} D f] = {_sstr(mean_train)} (sympy.stats, D ~ Bernoulli(p)) against the test output "
            f"{_sstr(t * td.f)}; the train output's variance is {_sstr(var_train)}.")
    if exact_equal(mean_train, t * td.f):
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=f"train o = {', '.join(map(_sstr, unbiased_scale))} D f for test o = {_sstr(t)} f")


# ------------------------------------------------------------------------------------------------ other heuristics
def _check_pretraining(claimed, evidence):
    pr = experiment(evidence, "pretraining")["settings"]
    form, key = claimed["form"], claimed["measure"]
    per = {f"{name} labels": [float(x) for x in row[form][key]["values"]] for name, row in pr.items()}
    parts = []
    for name, row in pr.items():
        extra = (f", at equal cost {spread_text(row[form]['diff_test_acc_equal_cost'])}"
                 if "diff_test_acc_equal_cost" in row[form] and key == "diff_test_acc" else "")
        parts.append(f"{name} labels: {form} {spread_text(row[form]['test_acc'])} vs scratch "
                     f"{spread_text(row['scratch']['test_acc'])} test accuracy, {key} "
                     f"{spread_text(row[form][key])}{extra}")
    text = f"{form} pretraining, 64-32-10 tanh, 5 seeds: " + "; ".join(parts) + "."
    return _effect_outcome(per, claimed, what=f"{key} ({form} pretrained - scratch)", evidence=text,
                           numbers={"form": form, "measure": key})


def _check_growth_cost(claimed, evidence):
    from sims.experiments.growth import PRETRAINED

    gr = experiment(evidence, "growth")["strategies"]
    lo, hi = (float(x) for x in claimed["interval"])
    medians, where = {}, {}
    for name in (s for s in PRETRAINED if s in gr):
        if gr[name]["ratio"] is None:
            continue
        med = float(gr[name]["ratio"]["median"])
        medians[name] = med
        where[name] = "below" if med < lo else ("above" if med > hi else "inside")
    all_vals = [float(v) for n in medians for v in gr[n]["ratio"]["values"]]
    numbers = {"medians": medians, "where": where, "interval": [lo, hi],
               "ratio": {n: gr[n]["ratio"] for n in medians}, "missed": {n: gr[n]["missed"] for n in gr},
               "all_seeds": _spread(all_vals) if all_vals else None}
    text = ("Growth cost over the cost of the final size trained from scratch (multiply-adds, to training loss 0.02), "
            "the slide's strategies: " + "; ".join(f"{n} {spread_text(gr[n]['ratio'])}" for n in medians)
            + (f"; all seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}." if all_vals else "."))
    if medians and all(w == "inside" for w in where.values()):
        return Outcome("supported", text, numbers)
    off = [f"{n} {fmt(medians[n])} ({where[n]})" for n in medians if where[n] != "inside"]
    inside = [n for n in medians if where[n] == "inside"]
    if inside:  # «обычно»: true for some of the slide's strategies, not for all
        return Outcome("imprecise", text, numbers,
                       condition=f"for the new-unit strategies {', '.join(inside)} (median inside "
                                 f"[{fmt(lo)}, {fmt(hi)}]); not for " + ", ".join(off),
                       correction=f"the total cost is {fmt(min(medians.values()))}-{fmt(max(medians.values()))}× "
                                  f"(medians by strategy), single seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}×")
    return Outcome("not-supported", text, numbers,
                   correction=(f"medians {fmt(min(medians.values()))}-{fmt(max(medians.values()))}×: outside "
                               f"[{fmt(lo)}, {fmt(hi)}] for " + ", ".join(off)
                               + f"; {sum(w == 'above' for w in where.values())} median(s) above {fmt(hi)}; single "
                                 f"seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}×")
                   if medians else "no strategy reached the target")


def _check_growth_information(claimed, evidence):
    gr = experiment(evidence, "growth")["strategies"]
    limit = float(claimed["max_loss_rise"])
    kept, lost = [], []
    for name, row in gr.items():
        if row["max_rel_jump"] is None:
            continue
        (kept if all(float(v) <= limit + 1e-9 for v in row["max_rel_jump"]["values"]) else lost).append(name)
    numbers = {"max_rel_jump": {n: gr[n]["max_rel_jump"] for n in kept + lost}, "kept": kept, "lost": lost,
               "claimed_max_rise": limit}
    text = ("Largest relative change of the training loss at a growth (after - before) / before: "
            + "; ".join(f"{n} {spread_text(gr[n]['max_rel_jump'])}" for n in kept + lost) + ".")
    verdict = "supported" if not lost else ("not-supported" if not kept else "imprecise")
    rises = ", ".join(f"{n} up to +{fmt(gr[n]['max_rel_jump']['max'])}" for n in lost)
    if verdict == "supported":
        return Outcome(verdict, text, numbers)
    if verdict == "imprecise":
        return Outcome(verdict, text, numbers,
                       condition=f"the training loss rises by at most {fmt(limit)} (relative) at every growth "
                                 f"only with the new-unit strategies {', '.join(kept)} (zero outgoing weights keep "
                                 "the function exactly; a pre-trained unit can still raise the loss)",
                       correction=f"a new unit can raise the loss: {rises}")
    return Outcome(verdict, text, numbers, correction=f"the loss rises at growths: {rises}")


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
    return _effect_outcome(per, claimed, what="fraction of first-layer weights changed, without minus with dropout",
                           evidence=text, numbers={"settings": du["settings"]})


def _check_pruning_error_falls(claimed, evidence):
    """«обнуляем вес, смотрим как сильно упала ошибка» as written: zeroing weights makes the error fall. Per seed
    (paired), the test error after zeroing the given fraction of weights by the criterion (no retraining) minus the
    dense net's test error, its interval on the claimed side of 0 ("упала": less)."""
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = _paired(pr["dense"]["test_acc"], row["test_one_shot"])  # error after - error before = acc before - after
    text = (f"Zeroing {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
            f"criterion, no retraining: test accuracy {spread_text(pr['dense']['test_acc'])} dense vs "
            f"{spread_text(row['test_one_shot'])} pruned.")
    return _effect_outcome({"": vals}, claimed, what="test error after zeroing minus before", evidence=text,
                           numbers={"fraction": pr["fraction"], "dense": pr["dense"]["test_acc"],
                                    "one_shot": row["test_one_shot"]},
                           note="; the error grows when weights are zeroed: the significance of a weight is how much "
                                "the error RISES without it (Optimal Brain Damage: about h_ii w_i^2 / 2 >= 0)")


def _check_pruning_retrain(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    a, b = claimed["measure"]
    vals = _paired(row[a], row[b])
    text = (f"Pruning {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
            f"criterion: {a} {spread_text(row[a])} vs {b} {spread_text(row[b])} (paired {spread_text(_spread(vals))});"
            f" dense {spread_text(pr['dense']['test_acc'])}, and the unpruned control given the same extra epochs "
            f"{spread_text(row['test_continued'])}.")
    return _effect_outcome({f"{a} - {b}": vals}, claimed, what=f"{a} - {b}", evidence=text,
                           numbers={"fraction": pr["fraction"], a: row[a], b: row[b],
                                    "continued": row["test_continued"]})


def _check_pruning_restore(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = [float(v) for v in row[claimed["measure"]]["values"]]
    prev = _paired(row["previous_val_acc"], row["restore_val_acc"])
    text = (f"With the {claimed['criterion']} criterion the restore rule (validation 1 point below the dense net) "
            f"fires at {spread_text(row['restore_fraction'])} pruned; putting the last removed connections back "
            f"changes validation accuracy by {spread_text(_spread(vals))}, while the net from before that removal "
            f"is {spread_text(_spread(prev))} above the restored one.")
    rewind = decide(Effect("validation accuracy, the net before the last removal minus the restored one", "greater"),
                    prev)
    note = (f"; rewinding to the net from before that removal is better: {rewind.text()}"
            if rewind.verdict == "supported" else "")
    return _effect_outcome({claimed["measure"]: vals}, claimed, what="validation accuracy restored - dropped",
                           evidence=text, note=note, numbers={"previous_minus_restored": _spread(prev),
                                                   "restore_fraction": row["restore_fraction"],
                                                   "restore_test_acc": row["restore_test_acc"],
                                                   "previous_test_acc": row["previous_test_acc"]})


# ------------------------------------------------------------------------------------------------ perturbations
def _bigger_effect(claimed):
    return {**claimed, "min_size": 0.05}


# ------------------------------------------------------------------------------------------------ the claims
def _bn_line_claim(idx: int, cid: str, statement: str, quote: str) -> Claim:
    name, expr, _ = tb.SLIDE_LINES[idx]
    return Claim(cid, "Backward pass", quote, statement, {"name": name, "expr": expr}, _check_bn_line,
                 _other_coefficient, derivation="batchnorm-backward",
                 references=("Ioffe & Szegedy 2015, arXiv:1502.03167, section 3",))


_F = td.f
_p = td.p

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
    Claim("bn-scale-shift-notation", "Проблема",
          r"На выход будем выдавать $\beta \cdot \hat{h} + \gamma$ , для того, чтобы у нас было больше свободы, "
          r"параметры $\beta$ и $\gamma$ тоже учим",
          "The batch-norm layer outputs beta * hhat + gamma, with beta and gamma learned.",
          {"output": tb.beta * tb.h_hat + tb.gamma}, _check_scale_shift,
          lambda c: {**c, "output": tb.gamma * tb.h_hat + tb.beta},
          references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    Claim("bn-running-stats", "Batch norm (2015)",
          r"\mu_h &= \alpha \cdot \bar{x}_{batch} + (1 - \alpha) \cdot \mu_h \\ \sigma_h^2 &= \alpha \cdot "
          r"\hat{s}_{batch}^2 + (1 - \alpha) \cdot \sigma_h^2",
          "The running mean and variance are updated as alpha * batch value + (1 - alpha) * running value, with the "
          "unbiased batch variance s-hat^2.",
          {"update": tb.alpha * tb.batch_value + (1 - tb.alpha) * tb.running, "variance_fed": "unbiased"},
          _check_running_stats, lambda c: scaled(c, "update", 2), derivation="batchnorm-running-stats",
          references=("PyTorch BatchNorm1d documentation", "Keras BatchNormalization documentation")),
    Claim("bn-gamma-beta-by-backprop", "Batch norm (2015)",
          r"Коэффициенты $\beta$ и $\gamma$ оцениваются в ходе обратного распространения ошибки",
          "The coefficients beta and gamma are learned through backpropagation (unlike the running statistics).",
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
          "The mini-batch variance in the forward pass is the biased one, with 1/m.",
          {"normalizer": 1 / tb.m}, _check_forward_variance, lambda c: {**c, "normalizer": 1 / (tb.m - 1)},
          derivation="batchnorm-backward", references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    _bn_line_claim(0, "bn-backward-line1", "Backward line 1: dl/dxhat_i = dl/dy_i * gamma.",
                   r"\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} \cdot \gamma"),
    _bn_line_claim(1, "bn-backward-line2",
                   "Backward line 2: dl/dsigma_B^2 = sum_i dl/dxhat_i (x_i - mu_B) (-1/2) (sigma_B^2 + eps)^(-3/2).",
                   r"\frac{\partial \ell}{\partial \sigma_B^2} = \sum_{i=1}^m \frac{\partial \ell}{\partial \hat{x}_i} "
                   r"\cdot (x_i - \mu_B) \cdot \frac{-1}{2} (\sigma_B^2 + \epsilon)^{-3/2}"),
    _bn_line_claim(2, "bn-backward-line3",
                   "Backward line 3: dl/dmu_B = sum_i dl/dxhat_i (-1/sqrt(sigma_B^2 + eps)) + dl/dsigma_B^2 "
                   "sum_i -2(x_i - mu_B) / (m - 1).",
                   r"\frac{\partial \ell}{\partial \mu_B} = \left( \sum_{i=1}^m \frac{\partial \ell}{\partial "
                   r"\hat{x}_i} \cdot \frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} \right) + \frac{\partial \ell}{\partial "
                   r"\sigma_B^2} \cdot \frac{\sum_{i=1}^m -2(x_i - \mu_B)}{m-1}"),
    _bn_line_claim(3, "bn-backward-line4",
                   "Backward line 4: dl/dx_i = dl/dxhat_i / sqrt(sigma_B^2 + eps) + dl/dsigma_B^2 * "
                   "2(x_i - mu_B)/(m - 1) + dl/dmu_B / m.",
                   r"\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} \cdot \frac{1}{\sqrt"
                   r"{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot \frac{2(x_i - \mu_B)}"
                   r"{m-1} + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}"),
    _bn_line_claim(4, "bn-backward-line5", "Backward line 5: dl/dgamma = sum_i dl/dy_i xhat_i.",
                   r"\frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i} \cdot "
                   r"\hat{x}_i"),
    _bn_line_claim(5, "bn-backward-line6", "Backward line 6: dl/dbeta = sum_i dl/dy_i.",
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
    Claim("other-shuffle-sorted", "Трюки",
          "Не забывайте перемешивать обучающую выборку перед каждой новой эпохой, чтобы батчи были разнообразными",
          "Shuffling the training set (instead of feeding it in a class-sorted order) makes the batches diverse and "
          "training work better (no size stated).",
          {"direction": "greater"}, _check_shuffle_sorted, flipped, figure="train-shuffling"),
    Claim("other-reshuffle-every-epoch", "Трюки", "перемешивать обучающую выборку перед каждой новой эпохой",
          "Reshuffling before EVERY epoch beats a random order fixed once.",
          {"direction": "greater", "min_size": 0.0}, _check_reshuffle_each_epoch, _bigger_effect,
          figure="train-shuffling"),
    Claim("do-p-off", "Dropout", "С вероятностью $p$ отключаем нейрон",
          "Each neuron is switched off with probability p.",
          {"p_off": _p}, _check_p_off, lambda c: {**c, "p_off": 1 - c["p_off"]}, figure="dropout-network",
          derivation="inverted-dropout",
          references=("Srivastava et al. 2014, JMLR 15 (p is the retention probability)",)),
    Claim("do-mask-cases", "Dropout в формулах",
          r"o_i = D_i \cdot f(wx_i^T + b) = \begin{cases} f(wx_i^T + b), p \\ 0, 1 - p \end{cases}",
          "With D_i ~ Bern(p), o_i = D_i f equals f with probability p and 0 with probability 1 - p.",
          {"keep": _p, "output": td.D * _F, "cases": ((_F, _p), (sp.Integer(0), 1 - _p))}, _check_mask_cases,
          lambda c: {**c, "cases": tuple((v, 1 - pr) for v, pr in c["cases"])}, derivation="inverted-dropout"),
    Claim("do-backward", "Dropout в формулах", r"d = D \cdot f'(h) \cdot W \cdot d",
          "The backward pass through dropout multiplies the error signal by the same mask D.",
          {"forward_multiplier": td.D, "factors": (td.D, td.FPRIME, td.DELTA)}, _check_dropout_backward,
          lambda c: {**c, "factors": tuple(f for f in c["factors"] if f != td.D)}, derivation="inverted-dropout"),
    Claim("do-part-of-parameters", "Dropout", "тем самым мы изменяем только часть параметров",
          "Multiplying outputs by the mask D_i, a training step changes only part of the parameters.",
          {"direction": "greater"}, _check_part_of_parameters, flipped),
    Claim("do-2n-networks", "Dropout", "Dropout эквивалентен обучению $2^n$ сетей",
          "Dropout is equivalent to training 2^n networks.",
          {"networks": 2**_n, "weights": "independent"}, _check_2n_networks, lambda c: scaled(c, "networks", 2),
          figure="dropout-thinned", derivation="inverted-dropout"),
    Claim("do-ensemble-average", "Dropout",
          "можно отключать по очереди все возможные комбинации нейронов, получить $2^n$ прогнозов и усреднить их",
          "At test time the average of the 2^n thinned networks' predictions is what the expectation o = p f "
          "(weight scaling) computes.",
          {"test_output": _p * _F, "activation": "any"}, _check_ensemble_average,
          lambda c: {**c, "activation": "linear"}, figure="dropout-gap", derivation="dropout-ensemble",
          references=("Srivastava et al. 2014, section 7", "Baldi & Sadowski 2013, Understanding Dropout")),
    Claim("do-test-expectation", "Dropout",
          r"Но лучше просто брать по дропауту математическое ожидание $$o = p \cdot f(X \cdot W + b)$$",
          "The expectation of the dropout output over the mask is p f.",
          {"test_output": _p * _F}, _check_test_expectation, lambda c: scaled(c, "test_output", 1 / _p),
          derivation="inverted-dropout"),
    Claim("do-inverted", "Обратный Dropout",
          r"Давайте лучше будем домножать на $\frac{1}{p}$ на этапе обучения: $$\text{train: } o = \frac{1}{p} "
          r"\cdot D \cdot f(X \cdot W + b)$$ $$\text{test: } o = f(X \cdot W + b)$$",
          "Inverted dropout: training with (1/p) D f makes the plain f at test its expectation.",
          {"train_scale": 1 / _p, "test_scale": sp.Integer(1)}, _check_inverted,
          lambda c: scaled(c, "train_scale", _p**2), derivation="inverted-dropout"),
    Claim("other-pretraining-units", "Предобучение",
          "Обучаем каждый нейрон на рандомной подвыборке, каждый нейрон впитает какие-то отдельные её особенности, "
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          "Pretraining each unit on a random subsample, then joining them and training on, gives a better network "
          "than training from scratch.",
          {"form": "units", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pretraining"),
    Claim("other-pretraining-early-lead", "Предобучение",
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          "The joined pretrained units give training a head start: higher validation accuracy after the first epoch "
          "(no size stated).",
          {"form": "units", "measure": "diff_val_acc_first", "direction": "greater"},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-pretraining-autoencoder", "Предобучение",
          "обучаем на корпусе картинок автокодировщик, encoder благодаря этому учится выделять наиболее важные фичи, "
          "которые позволяют эффективно сжимать изображения. После срезаем decoder и на его месте достраиваем слои "
          "для решения нашей задачи, запускаем обычное дообучение.",
          "An autoencoder's encoder, fine-tuned with a new head, beats the same classifier trained from scratch.",
          {"form": "autoencoder", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-growth-cost", "Динамическое наращивание сети",
          "Общее время обучения обычно лишь в 1.5 — 2 раза больше, чем если бы в сети сразу было итоговое число "
          "нейронов",
          "Growing the network costs 1.5-2 times the training of the final size from scratch.",
          {"interval": (1.5, 2.0)}, _check_growth_cost, lambda c: {**c, "interval": (1.0, 2.0)},
          figure="train-growth"),
    Claim("other-growth-keeps-information", "Динамическое наращивание сети",
          "Полезная информация, накопленная сетью не теряется при добавлении нейронов",
          "Adding a neuron does not lose what the network has learned: the training loss does not rise at a growth.",
          {"max_loss_rise": 0.0}, _check_growth_information, lambda c: {**c, "max_loss_rise": 0.2},
          figure="train-growth"),
    Claim("other-pruning-error-falls", "Прореживание сети", "обнуляем вес, смотрим как сильно упала ошибка",
          "To judge a weight, zero it and see how much the error fell (as written: zeroing makes the error fall).",
          {"criterion": "saliency", "direction": "less"}, _check_pruning_error_falls, flipped,
          figure="train-pruning"),
    Claim("other-pruning-retrain", "Прореживание сети", "После прореживания снова запускаем backprop",
          "Retraining after pruning recovers accuracy: at 90% pruned, better than the pruned net left as it is (no "
          "size stated).",
          {"criterion": "saliency", "measure": ("test_retrained", "test_one_shot"), "direction": "greater"},
          _check_pruning_retrain, flipped, figure="train-pruning"),
    Claim("other-pruning-restore", "Прореживание сети",
          "Если качество модели сильно упала, надо вернуть последние удалённые связи",
          "When quality drops, putting the last removed connections back recovers it.",
          {"criterion": "saliency", "measure": "restore_gain", "direction": "greater", "min_size": 0.0},
          _check_pruning_restore, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pruning"),
)

#: Statements of these slides that are not graded (:class:`lecture.registry.NotAClaim`).
NOT_CLAIMS: tuple[NotAClaim, ...] = (
    NotAClaim("other-early-stopping", "Уже обсуждали", "Ранняя остановка",
              "a two-word item in the list of topics «Уже обсуждали» (already discussed): it names early stopping and "
              "states nothing about it. The experiment stays in the figure train-early-stopping, not graded."),
)
