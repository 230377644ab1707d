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
                              fmt, paired, paired_outcome, scaled, seeds_ru, spread_of, spread_text, tex)
from theory import batchnorm as tb
from theory import dropout as td
from theory.latex import latex
from theory.slides import batchnorm as tsb
from theory.text import T, plural_ru




def _steps_gen_ru(n: int) -> str:
    """«после n шагов»: the genitive that agrees with ``n`` (после 1 шага, после 10 шагов, после 21 шага)."""
    return f"{n} {plural_ru(n, 'шага', 'шагов', 'шагов')}"


# ------------------------------------------------------------------------------------------------ «Проблема»
#: activations in the Russian genitive (для сигмоиды, для ReLU)
_ACT_GEN_RU = {"sigmoid": "сигмоиды", "relu": "ReLU"}


def _check_hidden_standardized(claimed, evidence):
    mom = tsb.hidden_moments()
    off = [name for name, m in mom.items() if m["mean_is_zero"] is False]  # exactly nonzero mean
    numbers = {name: dict(m) for name, m in mom.items()}
    def exact(s, undecided="(undecided)"):
        return f"${s}$" if s is not None else undecided
    off_ru = and_join([_ACT_GEN_RU.get(a, a) for a in off], lang="ru")
    text = T(f"For standardized inputs and $n_{{in}} \\operatorname{{Var}}(w) = 1$ the pre-activation $z$ is "
             f"$N(0, 1)$; $h = f(z)$ has mean exactly {exact(mom['sigmoid']['mean_exact'])} for sigmoid "
             f"($\\sigma(z) + \\sigma(-z) = 1$, SymPy) with variance {fmt(mom['sigmoid']['var'])}, and mean "
             f"{exact(mom['relu']['mean_exact'])} for relu ({fmt(mom['relu']['mean'])}, variance "
             f"{fmt(mom['relu']['var'])}): the hidden layer is unstandardized for {and_join(off) or 'neither'}.",
             f"При стандартизованном входе и $n_{{in}} \\operatorname{{Var}}(w) = 1$ предактивация $z$ распределена "
             f"как $N(0, 1)$; у $h = f(z)$ среднее ровно {exact(mom['sigmoid']['mean_exact'], '(не установлено)')} для "
             f"сигмоиды ($\\sigma(z) + \\sigma(-z) = 1$, SymPy) при дисперсии {fmt(mom['sigmoid']['var'])}, а для ReLU "
             f"оно {exact(mom['relu']['mean_exact'], '(не установлено)')} ({fmt(mom['relu']['mean'])}, "
             f"дисперсия {fmt(mom['relu']['var'])}): скрытый слой оказывается нестандартизованным "
             f"{('для ' + off_ru) if off else 'ни для одной из них'}.")
    can_be_off = "yes" if off else "no"
    if claimed["hidden_may_be_unstandardized"] == can_be_off:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=T("the hidden layer is unstandardized (mean $\\neq 0$) for " + and_join(off),
                                "скрытый слой не стандартизован (среднее $\\neq 0$) для " + off_ru) if off
                   else T("the activations checked keep the hidden layer centred",
                          "при проверенных функциях активации скрытый слой остаётся центрированным"))


def _check_distribution_drift(claimed, evidence):
    bt = experiment(evidence, "bn_training")
    nets = bt["networks"]
    drift = {net: [abs(math.log(float(v))) for v in nets[net]["drift"]["spread_ratio"]["values"]]
             for net in ("plain", "batchnorm")}
    ratio = {net: nets[net]["drift"]["spread_ratio"] for net in drift}
    shift = {net: nets[net]["drift"]["shift_in_spreads"] for net in drift}
    per = {"": [a - b for a, b in zip(drift["plain"], drift["batchnorm"])]}  # paired: the same seed in both nets
    n_ep, n_seeds = bt["epochs"], len(bt["seeds"])
    epochs = f"{n_ep} epoch{'' if n_ep == 1 else 's'}"
    text = T(f"The 15-85% spread of one sigmoid unit's input (3 × 100 sigmoid net, batch 60, "
             f"{epochs}, {n_seeds} seeds) changes by a factor {spread_text(ratio['plain'])} "
             f"without batch norm (its median moves by {spread_text(shift['plain'])} initial spreads) against "
             f"{spread_text(ratio['batchnorm'])} with it ({spread_text(shift['batchnorm'])}); "
             f"$\\lvert\\log(\\text{{ratio}})\\rvert$ "
             f"{spread_text(spread_of(drift['plain']))} vs {spread_text(spread_of(drift['batchnorm']))}.",
             f"Разброс 15–85% входа одного сигмоидного нейрона (сеть 3 × 100 с сигмоидой, батч 60, "
             f"{n_ep} {plural_ru(n_ep, 'эпоха', 'эпохи', 'эпох')}, {seeds_ru(n_seeds)}) без батч-нормализации "
             f"меняется с множителем {spread_text(ratio['plain'])} (медиана входа сдвигается на "
             f"{spread_text(shift['plain'])} в единицах начального разброса), а с ней — с множителем "
             f"{spread_text(ratio['batchnorm'])} ({spread_text(shift['batchnorm'])}); "
             f"$\\lvert\\log(\\text{{ratio}})\\rvert$: "
             f"{spread_text(spread_of(drift['plain']))} против {spread_text(spread_of(drift['batchnorm']))}.")
    numbers = {"spread_ratio": ratio, "shift_in_spreads": shift,
               "abs_log_spread_ratio": {k: spread_of(v) for k, v in drift.items()}}
    metric = T(r"$\lvert\log(\text{spread ratio})\rvert$ of the unit's input, without minus with batch norm",
               r"$\lvert\log(\text{spread ratio})\rvert$ входа нейрона, без батч-нормализации минус с ней")
    return paired_outcome(per, claimed, what=metric, evidence=text, numbers=numbers)


def _check_scale_shift(claimed, evidence):
    got = tsb.scale_shift_roles(claimed["output"])
    roles, ref, affine = got["claimed"], got["paper"], got["affine"]
    ref_slide, ref_out = got["paper_slide"], got["paper_output"]
    numbers = {"claimed": {k: sp.sstr(v) for k, v in roles.items()}, "paper": {k: sp.sstr(v) for k, v in ref.items()}}
    text = T(f"The output's derivative by $\\hat{{h}}$, {tex(roles['scale'])}, scales and "
             f"its value at $\\hat{{h}} = 0$, {tex(roles['shift'])}, shifts; on «{ref_slide}» and in Ioffe & "
             f"Szegedy ($y = \\gamma \\hat{{x}} + \\beta$) {tex(ref['scale'])} scales and {tex(ref['shift'])} shifts.",
             f"Производная выхода по $\\hat{{h}}$, {tex(roles['scale'])}, задаёт масштаб, а его значение при "
             f"$\\hat{{h}} = 0$, {tex(roles['shift'])}, — сдвиг; на слайде «{ref_slide}» и у Ioffe & Szegedy "
             f"($y = \\gamma \\hat{{x}} + \\beta$) масштаб задаёт {tex(ref['scale'])}, а сдвиг — {tex(ref['shift'])}.")
    if affine and all(exact_equal(roles[k], ref[k]) for k in roles):
        return Outcome("confirmed", text, numbers)
    if affine and {sp.sstr(v) for v in roles.values()} == {sp.sstr(v) for v in ref.values()}:
        paper_out = f"${latex(ref['scale'])} \\hat{{h}} + {latex(ref['shift'])}$"
        return Outcome("imprecise", text, numbers,
                       condition=T(f"a naming convention: the same learned affine map with {tex(roles['scale'])} as "
                                   f"the scale and {tex(roles['shift'])} as the shift",
                                   f"дело в обозначениях: это то же обучаемое аффинное преобразование, где масштаб — "
                                   f"{tex(roles['scale'])}, а сдвиг — {tex(roles['shift'])}"),
                       correction=T(f"in the paper's and the next slide's notation the output is "
                                    f"{paper_out} ({tex(ref['scale'])} scales, {tex(ref['shift'])} shifts)",
                                    f"в обозначениях статьи и следующего слайда выход равен {paper_out} "
                                    f"({tex(ref['scale'])} — масштаб, {tex(ref['shift'])} — сдвиг)"))
    return Outcome("refuted", text, numbers,
                   correction=T(f"the output is {tex(ref_out)}", f"выход равен {tex(ref_out)}"))


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
    formulas = "; ".join(f"$\\partial \\ell / \\partial {_PARAM_TEX.get(k, k)} = {latex(g)}$" for k, g in grads.items())
    text = (T(f"SymPy, a loss $\\ell$ of the «Forward pass» output $y = {latex(y)}$ in train mode: ",
              f"SymPy, функция потерь $\\ell$ от выхода $y = {latex(y)}$ слайда «Forward pass» в режиме обучения: ")
            + formulas
            + T(". $\\gamma$ and $\\beta$ get gradients from backprop (the optimizer updates them); the running "
                "statistics get none: they are moving averages of the forward pass (PyTorch buffers, Keras "
                "non-trainable weights).",
                ". $\\gamma$ и $\\beta$ получают градиенты при обратном распространении (их обновляет оптимизатор); "
                "скользящие статистики градиентов не получают: это скользящие средние прямого прохода (в PyTorch — "
                "буферы, в Keras — необучаемые веса)."))
    if learned == sorted(claimed["learned"]):
        return Outcome("confirmed", text, nums)
    learned_tex = [f"${_PARAM_TEX.get(k, k)}$" for k in learned]
    return Outcome("refuted", text, nums,
                   correction=T(f"backprop gives gradients to {and_join(learned_tex)} only",
                                f"обратное распространение даёт градиенты только параметрам "
                                f"{and_join(learned_tex, lang='ru')}"))


def _check_running_stats(claimed, evidence):
    weights = tsb.update_weights(claimed["update"])
    w_new, w_old, rest, total = (weights[k] for k in ("weight_new", "weight_old", "rest", "total"))
    mm, bias = tsb.batch_variance_bias()  # E[sigma_B^2] / sigma^2 on an explicit batch of mm
    numbers = {"weight_new": sp.sstr(w_new), "weight_old": sp.sstr(w_old), "weights_sum": sp.sstr(total),
               "E_batch_var_over_var": {"m": mm, "value": sp.sstr(bias)}}
    if rest != 0 or total != 1:
        return Outcome("refuted", T(f"The update's weights on the batch value and the running value are "
                                    f"{tex(w_new)} and {tex(w_old)}, summing to {tex(total)}, not 1.",
                                    f"Веса обновления при значении по батчу и при скользящем значении равны "
                                    f"{tex(w_new)} и {tex(w_old)}, в сумме {tex(total)}, а не 1."),
                       numbers,
                       correction=T(r"an exponential moving average: $\text{running} = \alpha \cdot \text{batch} + "
                                    r"(1 - \alpha) \cdot \text{running}$, weights summing to 1",
                                    r"экспоненциальное скользящее среднее: $\text{running} = \alpha \cdot "
                                    r"\text{batch} + (1 - \alpha) \cdot \text{running}$, веса в сумме дают 1"))
    momenta = tsb.momentum_conventions(claimed["update"])
    torch_m, keras_m = momenta["torch"], momenta["keras"]
    numbers.update(torch_momentum=[sp.sstr(x) for x in torch_m], keras_momentum=[sp.sstr(x) for x in keras_m],
                   torch_default=sp.sstr(tb.TORCH_MOMENTUM), keras_default=sp.sstr(tb.KERAS_MOMENTUM))
    fed = claimed["variance_fed"]
    fed_ru = {"unbiased": "несмещённая", "biased": "смещённая"}.get(fed, fed)  # the Russian nominative
    fed_acc = {"unbiased": "несмещённую", "biased": "смещённую"}.get(fed, fed)  # and accusative
    lib = "PyTorch" if fed == "unbiased" else "Keras"
    bias_tex = f"$E[\\sigma_B^2] = {latex(bias * tb.sigma2)}$"
    expected = T(f"{bias_tex} at $m = {mm}$", f"{bias_tex} при $m = {mm}$")
    torch_d, keras_d = sp.sstr(tb.TORCH_MOMENTUM), sp.sstr(tb.KERAS_MOMENTUM)
    torch_tex, keras_tex = [tex(x) for x in torch_m], [tex(x) for x in keras_m]
    text = T(f"The update equals PyTorch's with `momentum` = {and_join(torch_tex)} (default "
             f"{torch_d}) and Keras' with `momentum` = {and_join(keras_tex)} (default "
             f"{keras_d}); {expected.en}, so the {fed} $\\hat{{s}}^2$ is what {lib} feeds its running "
             "variance.",
             f"Обновление совпадает с обновлением PyTorch при `momentum` = {and_join(torch_tex, lang='ru')} (по "
             f"умолчанию {torch_d}) и с обновлением Keras при `momentum` = {and_join(keras_tex, lang='ru')} (по "
             f"умолчанию {keras_d}); {expected.ru}, так что именно {fed_acc} оценку $\\hat{{s}}^2$ {lib} "
             "подаёт в скользящую дисперсию.")
    return Outcome("imprecise", text, numbers,
                   condition=T(f"$\\alpha$ is PyTorch's `momentum` (default {torch_d})"
                               f" and 1 - Keras' `momentum` (Keras' `momentum` = {tex(keras_m[0])}, default "
                               f"{keras_d}, i.e. $\\alpha = {latex(1 - tb.KERAS_MOMENTUM)}$); the "
                               f"{fed} batch variance is {lib}'s choice",
                               f"$\\alpha$ — это `momentum` в PyTorch (по умолчанию {torch_d}) и 1 - `momentum` в "
                               f"Keras (там `momentum` = {tex(keras_m[0])}, по умолчанию {keras_d}, т. е. "
                               f"$\\alpha = {latex(1 - tb.KERAS_MOMENTUM)}$); {fed_ru} дисперсия батча — выбор {lib}"),
                   correction=T(f"name the convention: $\\alpha$ = PyTorch's `momentum` = 1 - Keras' `momentum`; "
                                f"PyTorch feeds the unbiased $\\frac{{m}}{{m - 1}} \\sigma_B^2$, Keras the biased "
                                f"$\\sigma_B^2$ ({expected.en})",
                                f"назвать соглашение явно: $\\alpha$ = `momentum` в PyTorch = 1 - `momentum` в Keras; "
                                f"PyTorch подаёт несмещённую оценку $\\frac{{m}}{{m - 1}} \\sigma_B^2$, Keras — "
                                f"смещённую $\\sigma_B^2$ ({expected.ru})"))


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
    n_seeds, after_ru = len(bt["seeds"]), f"после {_steps_gen_ru(int(first))}"
    text = T(f"Validation accuracy after {first} SGD steps: {spread_text(nets['batchnorm']['accuracy_after'][first])} "
             f"with batch norm vs {spread_text(nets['plain']['accuracy_after'][first])} without; final test accuracy "
             f"{spread_text(nets['batchnorm']['test_acc'])} vs {spread_text(nets['plain']['test_acc'])}, "
             f"{n_seeds} seeds.",
             f"Точность на валидационной выборке {after_ru} SGD: "
             f"{spread_text(nets['batchnorm']['accuracy_after'][first])} с батч-нормализацией против "
             f"{spread_text(nets['plain']['accuracy_after'][first])} без неё; итоговая точность на тестовой выборке "
             f"{spread_text(nets['batchnorm']['test_acc'])} против {spread_text(nets['plain']['test_acc'])}, "
             f"{seeds_ru(n_seeds)}.")
    numbers = {"early_difference": spread_of(early), "final_test_difference": spread_of(final), "steps": int(first)}
    early_key = T(f"after {first} steps", after_ru)
    final_key = T("final test accuracy", "итоговая точность на тестовой выборке")
    effects = {early_key: effect_of(claimed, T(f"validation accuracy after {first} steps, batch norm minus plain",
                                               f"точность на валидационной выборке {after_ru}, с батч-нормализацией "
                                               "минус без неё")),
               final_key: effect_of({**claimed, "min_size": claimed["final_min_size"]},
                                    T("final test accuracy, batch norm minus plain",
                                      "итоговая точность на тестовой выборке, с батч-нормализацией минус без неё"))}
    return effect_outcome(effects, {early_key: early, final_key: final}, evidence=text, numbers=numbers)


def _check_mnist_p160(claimed, evidence):
    bt = experiment(evidence, "bn_training")
    nets, first = _bn_accuracies(bt)
    steps_total = int(nets["plain"]["eval_steps"][-1])
    vals = paired(nets["batchnorm"]["accuracy_after"][first], nets["plain"]["final_val_acc"])
    n_seeds, after_ru = len(bt["seeds"]), f"после {_steps_gen_ru(int(first))}"
    text = T(f"With batch norm the validation accuracy after {first} steps is "
             f"{spread_text(nets['batchnorm']['accuracy_after'][first])}; without it, after all {steps_total} steps, "
             f"{spread_text(nets['plain']['final_val_acc'])} (paired difference {spread_text(spread_of(vals))}, "
             f"{n_seeds} seeds): batch norm needs at most 1/{fmt(steps_total / int(first))} of the steps.",
             f"С батч-нормализацией точность на валидационной выборке {after_ru} равна "
             f"{spread_text(nets['batchnorm']['accuracy_after'][first])}; без неё, после всего обучения "
             f"({steps_total} {plural_ru(steps_total, 'шаг', 'шага', 'шагов')}), — "
             f"{spread_text(nets['plain']['final_val_acc'])} (парная разность {spread_text(spread_of(vals))}, "
             f"{seeds_ru(n_seeds)}): батч-нормализации хватает не более 1/{fmt(steps_total / int(first))} этого "
             "числа шагов.")
    return paired_outcome({"": vals}, claimed,
                           what=T(f"accuracy with batch norm after {first} steps minus without after {steps_total}",
                                  f"точность с батч-нормализацией {after_ru} минус без неё после {steps_total}"),
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
    text = T(r"The normalized batch has $\frac{1}{m} \sum_i \hat{x}_i^2 = 1$ ($\epsilon \to 0$) only for the "
             f"normalizer {and_join(f'{tex(v)} at $m = {k}$' for k, v in needed.items())}, i.e. $1/m$; "
             "Ioffe & Szegedy's "
             f"(`theory.batchnorm`) is {tex(paper)}, whose derivative gives the backward pass's $2(x_i - \\mu_B)/m$.",
             r"У нормализованного батча $\frac{1}{m} \sum_i \hat{x}_i^2 = 1$ ($\epsilon \to 0$) только при "
             f"нормирующем множителе {and_join([f'{tex(v)} при $m = {k}$' for k, v in needed.items()], lang='ru')}, "
             "т. е. $1/m$; у Ioffe & Szegedy (`theory.batchnorm`) он равен "
             f"{tex(paper)}, и его производная даёт $2(x_i - \\mu_B)/m$ обратного прохода.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=T(r"$\sigma_B^2 = \frac{1}{m} \sum_i (x_i - \mu_B)^2$ (the biased variance); with "
                                f"{tex(claimed_c)} the normalized batch does not have unit variance",
                                r"$\sigma_B^2 = \frac{1}{m} \sum_i (x_i - \mu_B)^2$ (смещённая дисперсия); при "
                                f"{tex(claimed_c)} дисперсия нормализованного батча не равна 1"))


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
        return Outcome("confirmed", T(f"${lhs}$: the slide's expression equals the chain rule's "
                                      f"{tex(derived)} (SymPy: difference 0).",
                                      f"${lhs}$: выражение слайда совпадает с полученным по цепному правилу "
                                      f"{tex(derived)} (SymPy: разность 0)."), numbers)
    diff, given = line["difference_factored"], line["given_forward"]
    numbers.update(difference=sp.sstr(diff), difference_given_forward=sp.sstr(given))
    if line["given_zero"]:
        return Outcome("imprecise",
                       T(f"${lhs}$: chain rule minus the slide is {tex(diff)}, which vanishes "
                         r"once $\mu_B = \frac{1}{m} \sum_j x_j$.",
                         f"${lhs}$: разность между цепным правилом и слайдом равна {tex(diff)} и обращается в "
                         r"нуль, как только $\mu_B = \frac{1}{m} \sum_j x_j$."), numbers,
                       condition=T(r"$\mu_B$ is the batch mean of the forward pass, so the term whose coefficient "
                                   r"differs multiplies $\sum_j (x_j - \mu_B) = 0$: the value is right, the "
                                   "coefficient is not",
                                   r"$\mu_B$ — среднее по батчу из прямого прохода, поэтому слагаемое с отличающимся "
                                   r"коэффициентом умножается на $\sum_j (x_j - \mu_B) = 0$: значение верное, "
                                   "коэффициент — нет"),
                       correction=f"${lhs} = {latex(derived)}$")
    return Outcome("refuted",
                   T(f"${lhs}$: chain rule minus the slide is {tex(diff)}; with the forward "
                     f"pass's $\\mu_B$ it is still {tex(given)}, not 0.",
                     f"${lhs}$: разность между цепным правилом и слайдом равна {tex(diff)}; и с $\\mu_B$ из "
                     f"прямого прохода она по-прежнему равна {tex(given)}, а не 0."), numbers,
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
    ratio_tex = (r"$\mathrm{Var}_{\mathrm{test}} / \mathrm{Var}_{\mathrm{train}} = "
                 f"{latex(td.VAR_RATIO)}$, ")
    slope_tex = f"$\\frac{{d}}{{dp}} = \\frac{{{latex(num)}}}{{{latex(den)}}} > 0$"
    text = T(r"Before batch norm, inverted dropout makes " + ratio_tex + f"with {slope_tex} "
             "($p = 1 - r$): the variance shift shrinks as dropout weakens. For relu units of $N(0, 1)$ inputs the "
             f"ratio is {and_join(f'{fmt(val)} at $p = {k:g}$' for k, val in ratios.items())}.",
             "Перед батч-нормализацией инвертированный dropout даёт " + ratio_tex + f"причём {slope_tex} "
             "($p = 1 - r$): сдвиг дисперсии уменьшается по мере ослабления dropout. Для нейронов с ReLU при входах "
             f"$N(0, 1)$ это отношение равно "
             f"{and_join([f'{fmt(val)} при $p = {k:g}$' for k, val in ratios.items()], lang='ru')}.")
    if computed == claimed["shift_as_dropout_weakens"]:
        return Outcome("imprecise", text, numbers,
                       condition=T("dropout placed before a batch-norm layer, whose running variance keeps the "
                                   "train-time $(c^2 + v)/p - c^2$ while the test input has variance $v$ (Li et al. "
                                   "2019); dropout after the last batch norm causes no shift, and the L2 part is not "
                                   "derived",
                                   "dropout стоит перед слоем батч-нормализации, чья скользящая дисперсия хранит "
                                   "значение времени обучения $(c^2 + v)/p - c^2$, тогда как при тестировании "
                                   "дисперсия входа равна $v$ (Li et al. 2019); dropout после последнего слоя "
                                   "батч-нормализации сдвига не вызывает, а часть совета про L2 здесь не выводится"),
                       correction=T(r"before batch norm, weaken dropout ($p \to 1$) or move it after the last BN "
                                    f"layer: the variance ratio {tex(td.VAR_RATIO)} is 1 only at $p = 1$",
                                    r"перед батч-нормализацией ослабить dropout ($p \to 1$) или перенести его за "
                                    f"последний слой батч-нормализации: отношение дисперсий {tex(td.VAR_RATIO)} равно "
                                    "1 только при $p = 1$"))
    return Outcome("refuted", text, numbers,
                   correction=T(f"the variance shift {tex(1 - td.VAR_RATIO)} gets "
                                f"{'smaller' if rising else 'larger'} "
                                "as dropout weakens",
                                f"сдвиг дисперсии {tex(1 - td.VAR_RATIO)} по мере ослабления dropout "
                                f"{'уменьшается' if rising else 'растёт'}"))


def _check_weaker_l2(claimed, evidence):
    """The L2 half of «уменьшить силу Dropout и регуляризацию» (experiment ``l2_batchnorm``): per paired seed, the
    test accuracy of the batch-norm network at the reduced L2 strength minus at the strength the network without
    batch norm is trained with; the same difference without batch norm is reported beside it, not judged."""
    e = experiment(evidence, "l2_batchnorm")
    bn, plain = (e["networks"][k]["test_acc"] for k in ("batchnorm", "plain"))
    diff = [r - q for r, q in zip(bn["reduced"], bn["plain_l2"])]
    context = [r - q for r, q in zip(plain["reduced"], plain["plain_l2"])]
    grid = [fmt(g) for g in e["grid"]]
    n_ep, factor = e["epochs"], fmt(e["reduction"])
    text = T(f"3 × 100 sigmoid, SGD lr 0.5, batches of 60, {n_ep} epochs, {len(diff)} paired seeds. The L2 "
             f"strength of the network without batch norm, chosen on its validation accuracy from "
             f"{and_join(grid)}: {fmt(e['l2_plain'])}; reduced by Ioffe & Szegedy's factor "
             f"{factor}: {fmt(e['l2_reduced'])}. Test accuracy at the reduced minus at the plain strength: "
             f"with batch norm {spread_text(spread_of(diff))}; without batch norm (context, not judged) "
             f"{spread_text(spread_of(context))}.",
             f"Сеть 3 × 100 с сигмоидой, SGD с темпом обучения 0.5, батчи по 60, {n_ep} "
             f"{plural_ru(n_ep, 'эпоха', 'эпохи', 'эпох')}, {seeds_ru(len(diff), paired=True)}. Сила L2 для сети "
             f"без батч-нормализации, выбранная по точности на валидационной выборке из {and_join(grid, lang='ru')}: "
             f"{fmt(e['l2_plain'])}; уменьшенная, как у Ioffe & Szegedy, в {factor} "
             f"{plural_ru(e['reduction'], 'раз', 'раза', 'раз')}: {fmt(e['l2_reduced'])}. Точность на тестовой "
             f"выборке при уменьшенной силе минус при исходной: с батч-нормализацией {spread_text(spread_of(diff))}; "
             f"без батч-нормализации (для сравнения, не оценивается) {spread_text(spread_of(context))}.")
    return paired_outcome({"": diff}, claimed,
                          what=T("test accuracy with batch norm, reduced L2 minus the plain network's L2",
                                 "точность на тестовой выборке с батч-нормализацией: при уменьшенной силе L2 минус "
                                 "при силе L2 сети без неё"),
                          evidence=text,
                          numbers={"l2_plain": e["l2_plain"], "l2_reduced": e["l2_reduced"], "grid_val": e["grid_val"],
                                   "without_batchnorm": spread_of(context)},
                          note=T("; without batch norm the same reduction changes it by "
                                 f"{spread_text(spread_of(context))}",
                                 "; без батч-нормализации то же уменьшение меняет её на "
                                 f"{spread_text(spread_of(context))}"))


#: the stages of :func:`theory.slides.notation.definition_stage` in Russian (значение после функции активации)
_STAGE_RU = {"after the activation": "после функции активации", "before the activation": "до функции активации"}


def _check_h_stage(claimed, evidence):
    """A notation check: where the slide's h sits in a layer (:func:`theory.slides.notation.definition_stage`) in its
    definition here and on the initialization slides («Посмотрим на выход нейрона перед активацией»). The same
    stage: confirmed; two stages under one name: refuted."""
    from theory.slides import notation

    here = notation.definition_stage(claimed["formula"], "h")
    there = notation.definition_stage(claimed["elsewhere"], "h")
    nums = {"formula": claimed["formula"], "stage": here, "elsewhere": claimed["elsewhere"], "stage_elsewhere": there}
    text = T(f"${claimed['formula']}$ defines $h$ {here}; ${claimed['elsewhere']}$ (on «Инициализация весов») defines "
             f"it {there}.",
             f"${claimed['formula']}$ определяет $h$ как значение {_STAGE_RU.get(here, here)}; "
             f"${claimed['elsewhere']}$ (на слайде «Инициализация весов») — как значение "
             f"{_STAGE_RU.get(there, there)}.")
    if here is None or there is None:
        raise ValueError(f"a definition of h is not read: {nums}")
    if here != there:
        return Outcome("refuted", text, nums,
                       correction=T(r"one name for two quantities: $h$ is the pre-activation $w_0 + \sum_i w_i x_i$ on "
                                    "the initialization slides and $f(XW)$ here; write $z = XW$, $h = f(z)$ (Ioffe & "
                                    "Szegedy normalize $z = XW$, before $f$)",
                                    r"одно имя для двух величин: на слайдах об инициализации $h$ — предактивация "
                                    r"$w_0 + \sum_i w_i x_i$, а здесь $f(XW)$; лучше писать $z = XW$, $h = f(z)$ "
                                    "(Ioffe & Szegedy нормализуют $z = XW$, до применения $f$)"))
    return Outcome("confirmed", text, nums)


#: the statistics a batch-norm layer normalizes with (:func:`_check_current_batch`) in Russian, and in the genitive
_KIND_RU = {"current batch": "текущий батч", "running average": "скользящее среднее", "neither": "ни то ни другое"}
_KIND_GEN_RU = {"current batch": "текущего батча", "running average": "скользящих средних",
                "neither": "иного рода (ни текущего батча, ни скользящих средних)"}


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
    train_dep, eval_dep = used["train"]["depends_on_running"], used["eval"]["depends_on_running"]
    text = T(f"The batch-norm layer (PyTorch convention), its output recomputed with the running averages replaced: in "
             f"training it {'does not change' if not train_dep else 'changes'} and equals "
             f"the batch standardized by its own mean and variance ({kind['train']}); in evaluation it "
             f"{'changes' if eval_dep else 'does not change'} ({kind['eval']}).",
             f"Слой батч-нормализации (соглашение PyTorch), выход пересчитан с подменёнными скользящими средними: в "
             f"режиме обучения он {'не меняется' if not train_dep else 'меняется'} и равен батчу, стандартизованному "
             f"по его собственным среднему и дисперсии ({_KIND_RU[kind['train']]}); в режиме тестирования он "
             f"{'меняется' if eval_dep else 'не меняется'} ({_KIND_RU[kind['eval']]}).")
    if claimed["training"] == kind["train"]:
        return Outcome("confirmed", text, nums)
    if claimed["training"] == kind["eval"]:
        return Outcome("imprecise", text, nums,
                       condition=T(r"only at test time (evaluation mode): in training the current batch's own $\mu_B$ "
                                   r"and $\sigma_B^2$ normalize, and the running averages are only updated",
                                   r"только при тестировании (в режиме eval): при обучении нормализуют собственные "
                                   r"$\mu_B$ и $\sigma_B^2$ текущего батча, а скользящие средние лишь обновляются"),
                       correction=T(r"training normalizes with the current batch's $\mu_B$ and $\sigma_B^2$; the "
                                    r"running averages $\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ are kept "
                                    "for test time",
                                    r"при обучении нормализация идёт по $\mu_B$ и $\sigma_B^2$ текущего батча; "
                                    r"скользящие средние $\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ "
                                    "хранятся для тестирования"))
    return Outcome("refuted", text, nums,
                   correction=T(f"training normalizes with the {kind['train']} statistics",
                                f"при обучении нормализация идёт по статистикам {_KIND_GEN_RU[kind['train']]}"))


# ------------------------------------------------------------------------------------------------ the claims
def _bn_line_claim(idx: int, cid: str, formula: str, quote: str) -> Claim:
    """The claim that backward line ``idx + 1`` (:data:`theory.batchnorm.SLIDE_LINES`) is ``formula`` (``$...$.``)."""
    name, expr, _ = tb.SLIDE_LINES[idx]
    statement = T(f"Backward line {idx + 1}: ", f"Строка {idx + 1} обратного прохода: ") + formula
    return Claim(cid, "Backward pass", quote, statement, {"name": name, "expr": expr}, _check_bn_line,
                 _other_coefficient, derivation="batchnorm-backward",
                 references=("Ioffe & Szegedy 2015, arXiv:1502.03167, section 3",))



CLAIMS: tuple[Claim, ...] = (
    Claim("bn-hidden-not-standardized", "Проблема",
          "Даже если мы стандартизовали вход $X$ , внутри сетки может произойти несчастье и скрытый слой окажется "
          "нестандартизован",
          T("Even with standardized inputs, a hidden layer can come out unstandardized (mean not 0 or variance not 1).",
            "Даже при стандартизованном входе скрытый слой может оказаться нестандартизованным (среднее не 0 или "
            "дисперсия не 1)."),
          {"hidden_may_be_unstandardized": "yes"}, _check_hidden_standardized,
          lambda c: flipped(c, "hidden_may_be_unstandardized"), figure="bn-unit-percentiles-depth"),
    Claim("bn-distribution-drift", "Проблема",
          "Скрытые представления $h = f(XW)$ могут менять своё распределение в процессе обучения, это усложняет его",
          T("Without normalization a hidden unit's input distribution changes during training: its 15-85% spread "
            "changes more than with batch norm, which the slide introduces to prevent it (no size stated).",
            "Без нормализации распределение входа скрытого нейрона меняется в ходе обучения: его разброс 15–85% "
            "меняется сильнее, чем с батч-нормализацией, которую слайд и вводит, чтобы этого избежать (размер "
            "эффекта не назван)."),
          {"direction": "greater"}, _check_distribution_drift, flipped,
          figure="bn-unit-percentiles", references=("Ioffe & Szegedy 2015, Figure 1",)),
    Claim("bn-h-after-activation", "Проблема", "Скрытые представления $h = f(XW)$",
          T("Hidden representations $h = f(XW)$ (as written: $h$ is the output of the activation, while the "
            "initialization slides name $h$ the unit's value before it).",
            "Скрытые представления $h = f(XW)$ (как написано: $h$ — выход функции активации, тогда как на слайдах "
            "об инициализации $h$ обозначает значение нейрона до неё)."),
          {"formula": "h = f(XW)", "elsewhere": r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i"}, _check_h_stage,
          lambda c: {**c, "formula": "h = XW"}, references=("Ioffe & Szegedy 2015, section 3.2",)),
    Claim("bn-scale-shift-notation", "Проблема",
          r"На выход будем выдавать $\beta \cdot \hat{h} + \gamma$ , для того, чтобы у нас было больше свободы, "
          r"параметры $\beta$ и $\gamma$ тоже учим",
          T(r"The batch-norm layer outputs $\beta \hat{h} + \gamma$, with $\beta$ and $\gamma$ learned.",
            r"Слой батч-нормализации выдаёт $\beta \hat{h} + \gamma$, где $\beta$ и $\gamma$ — обучаемые параметры."),
          {"output": tb.beta * tb.h_hat + tb.gamma}, _check_scale_shift,
          lambda c: {**c, "output": tb.gamma * tb.h_hat + tb.beta},
          references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    Claim("bn-current-batch", "Batch norm (2015)", "Оценить по текущему батчу!",
          T(r"$\mu_h$ and $\sigma_h$, which normalize $h$ in training, are the running averages of the next formula, "
            r"$\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ (as written: the answer to «Откуда взять $\mu_h$ и "
            r"$\sigma_h$?»).",
            r"$\mu_h$ и $\sigma_h$, которыми при обучении нормализуется $h$, — это скользящие средние из следующей "
            r"формулы, $\mu_h = \alpha \bar{x}_{batch} + (1 - \alpha) \mu_h$ (как написано: ответ на вопрос «Откуда "
            r"взять $\mu_h$ и $\sigma_h$?»)."),
          {"training": "running average"}, _check_current_batch, lambda c: {**c, "training": "current batch"},
          references=("Ioffe & Szegedy 2015, Algorithms 1 and 2",)),
    Claim("bn-running-stats", "Batch norm (2015)",
          r"\mu_h &= \alpha \cdot \bar{x}_{batch} + (1 - \alpha) \cdot \mu_h \\ \sigma_h^2 &= \alpha \cdot "
          r"\hat{s}_{batch}^2 + (1 - \alpha) \cdot \sigma_h^2",
          T(r"The running mean and variance are updated as $\alpha \cdot \text{batch value} + (1 - \alpha) \cdot "
            r"\text{running value}$, with the unbiased batch variance $\hat{s}^2$.",
            r"Скользящие среднее и дисперсия обновляются как $\alpha \cdot \text{batch value} + (1 - \alpha) \cdot "
            r"\text{running value}$, причём берётся несмещённая дисперсия батча $\hat{s}^2$."),
          {"update": tb.alpha * tb.batch_value + (1 - tb.alpha) * tb.running, "variance_fed": "unbiased"},
          _check_running_stats, lambda c: scaled(c, "update", 2), derivation="batchnorm-running-stats",
          references=("PyTorch BatchNorm1d documentation", "Keras BatchNormalization documentation")),
    Claim("bn-gamma-beta-by-backprop", "Batch norm (2015)",
          r"Коэффициенты $\beta$ и $\gamma$ оцениваются в ходе обратного распространения ошибки",
          T(r"The coefficients $\beta$ and $\gamma$ are learned through backpropagation (unlike the running "
            r"statistics).",
            r"Коэффициенты $\beta$ и $\gamma$ обучаются обратным распространением ошибки (в отличие от скользящих "
            r"статистик)."),
          {"learned": ("beta", "gamma")}, _check_learned_by_backprop,
          lambda c: {**c, "learned": ("beta", "gamma", "running mean", "running variance")},
          references=("PyTorch BatchNorm1d documentation", "Keras BatchNormalization documentation")),
    Claim("bn-speeds-training", "Batch norm (2015)", "Обучение довольно сильно ускоряется, сходимость улучшается",
          T("Batch norm speeds training up (ahead at the first checkpoint) and improves the final result (the slide's "
            "«довольно сильно» gives no size).",
            "Батч-нормализация ускоряет обучение (сеть впереди уже на первой контрольной точке) и улучшает итоговый "
            "результат (слайд со своим «довольно сильно» размера не называет)."),
          {"direction": "greater", "final_min_size": 0.0}, _check_bn_speed, flipped,
          figure="bn-unit-percentiles", references=("Ioffe & Szegedy 2015, Figure 1",)),
    Claim("bn-forward-biased-variance", "Forward pass",
          r"\sigma_{\mathcal{B}}^2 \leftarrow \frac{1}{m} \sum_{i=1}^m (x_i - \mu_{\mathcal{B}})^2 \quad // "
          r"\text{ mini-batch variance}",
          T("The mini-batch variance in the forward pass is the biased one, with $1/m$.",
            "Дисперсия мини-батча в прямом проходе — смещённая, с множителем $1/m$."),
          {"normalizer": 1 / tb.m}, _check_forward_variance, lambda c: {**c, "normalizer": 1 / (tb.m - 1)},
          derivation="batchnorm-backward", references=("Ioffe & Szegedy 2015, Algorithm 1",)),
    _bn_line_claim(0, "bn-backward-line1",
                   r"$\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} "
                   r"\gamma$.",
                   r"\frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial y_i} \cdot \gamma"),
    _bn_line_claim(1, "bn-backward-line2",
                   r"$\frac{\partial \ell}{\partial \sigma_B^2} = \sum_i "
                   r"\frac{\partial \ell}{\partial \hat{x}_i} (x_i - \mu_B) \cdot (-\frac{1}{2}) "
                   r"(\sigma_B^2 + \epsilon)^{-3/2}$.",
                   r"\frac{\partial \ell}{\partial \sigma_B^2} = \sum_{i=1}^m \frac{\partial \ell}{\partial \hat{x}_i} "
                   r"\cdot (x_i - \mu_B) \cdot \frac{-1}{2} (\sigma_B^2 + \epsilon)^{-3/2}"),
    _bn_line_claim(2, "bn-backward-line3",
                   r"$\frac{\partial \ell}{\partial \mu_B} = \sum_i \frac{\partial \ell}{\partial "
                   r"\hat{x}_i} \cdot \frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial "
                   r"\sigma_B^2} \cdot \frac{\sum_i -2(x_i - \mu_B)}{m - 1}$.",
                   r"\frac{\partial \ell}{\partial \mu_B} = \left( \sum_{i=1}^m \frac{\partial \ell}{\partial "
                   r"\hat{x}_i} \cdot \frac{-1}{\sqrt{\sigma_B^2 + \epsilon}} \right) + \frac{\partial \ell}{\partial "
                   r"\sigma_B^2} \cdot \frac{\sum_{i=1}^m -2(x_i - \mu_B)}{m-1}"),
    _bn_line_claim(3, "bn-backward-line4",
                   r"$\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} "
                   r"\cdot \frac{1}{\sqrt{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot "
                   r"\frac{2(x_i - \mu_B)}{m - 1} + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}$.",
                   r"\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} \cdot \frac{1}{\sqrt"
                   r"{\sigma_B^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_B^2} \cdot \frac{2(x_i - \mu_B)}"
                   r"{m-1} + \frac{\partial \ell}{\partial \mu_B} \cdot \frac{1}{m}"),
    _bn_line_claim(4, "bn-backward-line5",
                   r"$\frac{\partial \ell}{\partial \gamma} = \sum_i "
                   r"\frac{\partial \ell}{\partial y_i} \hat{x}_i$.",
                   r"\frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i} \cdot "
                   r"\hat{x}_i"),
    _bn_line_claim(5, "bn-backward-line6",
                   r"$\frac{\partial \ell}{\partial \beta} = \sum_i \frac{\partial \ell}{\partial "
                   r"y_i}$.",
                   r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^m \frac{\partial \ell}{\partial y_i}"),
    Claim("bn-mnist-p160", "Эксперимент с MNIST", "Источник: Николенко, страница 160",
          T("In the MNIST experiment (Ioffe & Szegedy's Figure 1, in Nikolenko p. 160) the network with batch norm "
            "reaches, early in training, the accuracy the plain network ends with.",
            "В эксперименте на MNIST (рисунок 1 у Ioffe & Szegedy, у Николенко на с. 160) сеть с батч-нормализацией "
            "уже в начале обучения достигает той точности, которой сеть без неё достигает лишь к концу."),
          {"direction": "greater", "min_size": 0.0}, _check_mnist_p160, flipped, figure="bn-unit-percentiles",
          references=("Ioffe & Szegedy 2015, Figure 1(a)", "Николенко, Кадурин, Архангельская, Глубокое обучение, "
                                                             "с. 160")),
    Claim("bn-weaker-dropout", "Трюки", "С батч-нормализацией нужно уменьшить силу Dropout и регуляризацию",
          T("With batch norm, dropout should be weakened: the train/test mismatch it causes shrinks as dropout "
            "weakens.",
            "С батч-нормализацией dropout нужно ослабить: вызываемое им расхождение между обучением и тестированием "
            "уменьшается по мере ослабления dropout."),
          {"shift_as_dropout_weakens": "less"}, _check_weaker_dropout, lambda c: flipped(c, "shift_as_dropout_weakens"),
          figure="dropout-variance-shift", derivation="dropout-variance-shift",
          references=("Li, Chen, Hu & Yang 2019, Understanding the Disharmony between Dropout and Batch "
                      "Normalization by Variance Shift, CVPR",)),
    Claim("bn-weaker-l2", "Трюки", "С батч-нормализацией нужно уменьшить силу Dropout и регуляризацию",
          T("With batch norm, the L2 penalty should be reduced: the batch-norm network does better at a smaller L2 "
            "strength than the one a network without batch norm is trained with (no size stated).",
            "С батч-нормализацией штраф L2 нужно уменьшить: сеть с батч-нормализацией работает лучше при меньшей "
            "силе L2, чем та, с которой обучается сеть без батч-нормализации (размер эффекта не назван)."),
          # negative control: the opposite statement, that reducing L2 changes nothing (within 1/1000); with an
          # effect of exactly 0 the flipped direction would be excluded too
          {"direction": "greater", "min_size": 0.0}, _check_weaker_l2,
          lambda c: {**c, "direction": "none", "min_size": 0.001},
          references=(T("Ioffe & Szegedy 2015, section 4.2.1 (reduce the L2 weight regularization by a factor of 5)",
                        "Ioffe & Szegedy 2015, раздел 4.2.1 (регуляризацию весов L2 уменьшить в 5 раз)"),
                      "van Laarhoven 2017, L2 Regularization versus Batch and Weight Normalization, "
                      "arXiv:1706.05350")),
)
