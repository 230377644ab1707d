"""Claims of the slides on batch normalization, each with the check that computes its verdict.

Slides: «Проблема», «Batch norm (2015)», «Forward pass», «Backward pass», «Эксперимент с MNIST» (the second one,
Nikolenko p. 160) and the batch-norm advice of «Трюки». Exact statements are decided with SymPy
(:mod:`theory.batchnorm`, :mod:`theory.dropout` for the variance shift); empirical ones with the training
experiments' paired seeds (:func:`lecture.registry.experiment`) by the paired-interval method (docs/METHOD.md).
"""
from __future__ import annotations

import math
from functools import lru_cache

import sympy as sp

from lecture.registry import (Claim, Outcome, effect_of, effect_outcome, exact_equal, experiment, flipped, fmt, paired,
                              paired_outcome, scaled, spread_of, spread_text)
from theory import batchnorm as tb
from theory import dropout as td


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
    out["sigmoid"]["mean_exact"] = sp.sstr(sig_mean_exact) if sig_mean_exact is not None else None
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
            f"{spread_text(spread_of(drift['plain']))} vs {spread_text(spread_of(drift['batchnorm']))}.")
    numbers = {"spread_ratio": ratio, "shift_in_spreads": shift,
               "abs_log_spread_ratio": {k: spread_of(v) for k, v in drift.items()}}
    return paired_outcome(per, claimed, what="|log(spread ratio)| of the unit's input, without minus with batch norm",
                           evidence=text, numbers=numbers)


def _check_scale_shift(claimed, evidence):
    hhat = tb.h_hat
    out = sp.sympify(claimed["output"])
    ref_slide, ref_out, _ = next(e for e in tb.NOTATION if e[0] == "Forward pass")
    roles = {"scale": sp.diff(out, hhat), "shift": out.subs(hhat, 0)}
    ref = {"scale": sp.diff(ref_out, hhat), "shift": ref_out.subs(hhat, 0)}
    affine = sp.diff(out, hhat, 2) == 0
    numbers = {"claimed": {k: sp.sstr(v) for k, v in roles.items()}, "paper": {k: sp.sstr(v) for k, v in ref.items()}}
    text = (f"d(out)/d(hhat) = {sp.sstr(roles['scale'])} scales and out(hhat = 0) = {sp.sstr(roles['shift'])} shifts; "
            f"on «{ref_slide}» and in Ioffe & Szegedy (y = gamma xhat + beta) {sp.sstr(ref['scale'])} scales and "
            f"{sp.sstr(ref['shift'])} shifts.")
    if affine and all(exact_equal(roles[k], ref[k]) for k in roles):
        return Outcome("confirmed", text, numbers)
    if affine and {sp.sstr(v) for v in roles.values()} == {sp.sstr(v) for v in ref.values()}:
        return Outcome("imprecise", text, numbers,
                       condition=f"a naming convention: the same learned affine map with {sp.sstr(roles['scale'])} as "
                                 f"the scale and {sp.sstr(roles['shift'])} as the shift",
                       correction=f"in the paper's and the next slide's notation the output is "
                                  f"{sp.sstr(ref['scale'])} * hhat + {sp.sstr(ref['shift'])} ({sp.sstr(ref['scale'])} "
                                  f"scales, {sp.sstr(ref['shift'])} shifts)")
    return Outcome("refuted", text, numbers, correction=f"the output is {sp.sstr(ref_out)}")


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
    nums = {"gradients": {k: sp.sstr(g) for k, g in grads.items()}, "learned": learned}
    text = (f"SymPy, a loss ell of the «Forward pass» output y = {sp.sstr(y)} in train mode: "
            + "; ".join(f"d ell / d {k} = {sp.sstr(g)}" for k, g in grads.items())
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
    numbers = {"weight_new": sp.sstr(w_new), "weight_old": sp.sstr(w_old), "weights_sum": sp.sstr(total),
               "E_batch_var_over_var": {"m": mm, "value": sp.sstr(bias)}}
    if rest != 0 or total != 1:
        return Outcome("refuted", f"The update's weights on the batch value and the running value are "
                                  f"{sp.sstr(w_new)} and {sp.sstr(w_old)}, summing to {sp.sstr(total)}, not 1.", numbers,
                       correction="an exponential moving average: running = alpha * batch + (1 - alpha) * running, "
                                  "weights summing to 1")
    torch_m = sp.solve(sp.Eq(upd, tb.torch_update(r, v)), tb.momentum)
    keras_m = sp.solve(sp.Eq(upd, tb.keras_update(r, v)), tb.momentum)
    numbers.update(torch_momentum=[sp.sstr(x) for x in torch_m], keras_momentum=[sp.sstr(x) for x in keras_m],
                   torch_default=sp.sstr(tb.TORCH_MOMENTUM), keras_default=sp.sstr(tb.KERAS_MOMENTUM))
    fed = claimed["variance_fed"]
    lib = "PyTorch" if fed == "unbiased" else "Keras"
    text = (f"The update equals PyTorch's with momentum = {', '.join(map(sp.sstr, torch_m))} (default "
            f"{sp.sstr(tb.TORCH_MOMENTUM)}) and Keras' with momentum = {', '.join(map(sp.sstr, keras_m))} (default "
            f"{sp.sstr(tb.KERAS_MOMENTUM)}); E[sigma_B^2] = {sp.sstr(bias)} sigma^2 at m = {mm}, so the {fed} "
            f"s-hat^2 is what {lib} feeds its running variance.")
    return Outcome("imprecise", text, numbers,
                   condition=f"alpha is PyTorch's momentum (default {sp.sstr(tb.TORCH_MOMENTUM)})"
                             f" and 1 - Keras' momentum (Keras' momentum = {sp.sstr(keras_m[0])}, default "
                             f"{sp.sstr(tb.KERAS_MOMENTUM)}, i.e. alpha = {sp.sstr(1 - tb.KERAS_MOMENTUM)}); the {fed} "
                             f"batch variance is {lib}'s choice",
                   correction=f"name the convention: alpha = torch momentum = 1 - keras momentum; PyTorch feeds the "
                              f"unbiased m/(m - 1) sigma_B^2, Keras the biased sigma_B^2 (E = {sp.sstr(bias)} sigma^2 "
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
    numbers = {"needed": {str(k): sp.sstr(v) for k, v in needed.items()}, "paper": sp.sstr(paper),
               "claimed": sp.sstr(claimed_c)}
    text = (f"The normalized batch has (1/m) sum xhat_i^2 = 1 (eps -> 0) only for the normalizer "
            f"{', '.join(f'{sp.sstr(v)} at m = {k}' for k, v in needed.items())}, i.e. 1/m; Ioffe & Szegedy's "
            f"(theory.batchnorm) is {sp.sstr(paper)}, whose derivative gives the backward pass's 2(x_i - mu_B)/m.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=f"sigma_B^2 = (1/m) sum (x_i - mu_B)^2 (the biased variance); with {sp.sstr(claimed_c)} "
                              f"the normalized batch does not have unit variance")


# ------------------------------------------------------------------------------------------------ «Backward pass»
def _check_bn_line(claimed, evidence):
    derived = tb.derived_lines()[claimed["name"]]
    expr = sp.sympify(claimed["expr"])
    diff = sp.simplify(sp.expand(derived - expr))
    numbers = {"line": claimed["name"], "claimed": sp.sstr(expr), "chain_rule": sp.sstr(derived)}
    if tb._zero(diff):
        return Outcome("confirmed", f"{claimed['name']}: the slide's expression equals the chain rule's "
                                    f"{sp.sstr(derived)} (SymPy: difference 0).", numbers)
    given = tb._given_forward(diff)
    numbers.update(difference=sp.sstr(sp.factor(diff)), difference_given_forward=sp.sstr(sp.factor(given)))
    if tb._zero(given):
        return Outcome("imprecise",
                       f"{claimed['name']}: chain rule minus the slide is {sp.sstr(sp.factor(diff))}, which vanishes "
                       f"once mu_B = (1/m) sum x_j.", numbers,
                       condition="mu_B is the batch mean of the forward pass, so the term whose coefficient differs "
                                 "multiplies sum_j (x_j - mu_B) = 0: the value is right, the coefficient is not",
                       correction=f"{claimed['name']} = {sp.sstr(derived)}")
    return Outcome("refuted",
                   f"{claimed['name']}: chain rule minus the slide is {sp.sstr(sp.factor(diff))}; with the forward "
                   f"pass's mu_B it is still {sp.sstr(sp.factor(given))}, not 0.", numbers,
                   correction=f"{claimed['name']} = {sp.sstr(derived)}")


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
    numbers = {"d_ratio_dp": sp.sstr(sp.factor(num / den)), "shift_as_dropout_weakens": computed,
               "relu_ratio": {str(k): val for k, val in ratios.items()}}
    text = (f"Before batch norm, inverted dropout makes Var_test / Var_train = {sp.sstr(td.VAR_RATIO)}, with "
            f"d/dp = {sp.sstr(num)}/{sp.sstr(den)} (p = 1 - r) > 0: the variance shift shrinks as dropout weakens. For "
            f"relu units of N(0, 1) inputs the ratio is "
            f"{', '.join(f'{fmt(val)} at p = {k:g}' for k, val in ratios.items())}.")
    if computed == claimed["shift_as_dropout_weakens"]:
        return Outcome("imprecise", text, numbers,
                       condition="dropout placed before a batch-norm layer, whose running variance keeps the "
                                 "train-time (c^2 + v)/p - c^2 while the test input has variance v (Li et al. 2019); "
                                 "dropout after the last batch norm causes no shift, and the L2 part is not derived",
                       correction="before batch norm, weaken dropout (p -> 1) or move it after the last BN layer: "
                                  f"the variance ratio {sp.sstr(td.VAR_RATIO)} is 1 only at p = 1")
    return Outcome("refuted", text, numbers,
                   correction=f"the variance shift {sp.sstr(1 - td.VAR_RATIO)} gets {'smaller' if rising else 'larger'} "
                              "as dropout weakens")


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
)
