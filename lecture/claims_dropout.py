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
                              seeds_ru, tex)
from theory import dropout as td
from theory.latex import latex
from theory.slides import dropout as tsd
from theory.text import T, join_words


# ------------------------------------------------------------------------------------------------ «Dropout»
def _check_p_off(claimed, evidence):
    said = sp.sympify(claimed["p_off"])
    agreement = tsd.p_off_agreement(said)
    formula, where = agreement["formula"], agreement["agree_at"]
    at = (T(" or ", " или ").join(f"$p = {latex(w)}$" for w in where) if isinstance(where, sp.FiniteSet)
          else T("", "") + f"$p \\in {latex(where)}$")
    numbers = {"claimed_p_off": sp.sstr(said), "formulas_p_off": sp.sstr(formula), "agree_at": sp.sstr(where)}
    text = T(r"The slides' formulas ($D \sim \mathrm{Bern}(p)$ with $o = f$ with probability $p$; test "
             r"$o = p f = E[D f]$; train $\frac{1}{p} D f$) all imply "
             f"$P(\\text{{off}}) = {latex(formula)}$; the sentence says {tex(said)}; on $(0, 1]$ they agree at "
             f"{at.en}.",
             r"Формулы слайдов ($D \sim \mathrm{Bern}(p)$, причём $o = f$ с вероятностью $p$; на тесте "
             r"$o = p f = E[D f]$; при обучении $\frac{1}{p} D f$) все дают "
             f"$P(\\text{{off}}) = {latex(formula)}$; в предложении сказано {tex(said)}; на $(0, 1]$ они совпадают "
             f"при {at.ru}.")
    if where == tsd.KEEP_RANGE:
        return Outcome("confirmed", text, numbers)
    if where == sp.S.EmptySet:
        return Outcome("refuted", text, numbers, correction=T(f"a neuron is switched off with probability "
                                                              f"{tex(formula)}",
                                                              f"нейрон отключается с вероятностью {tex(formula)}"))
    return Outcome("imprecise", text, numbers,
                   condition=T(f"only at {at.en}, or with $p$ read as the DROP probability (`torch.nn.Dropout`'s "
                               "`p`, Keras' `rate`), unlike the slides' formulas where $p$ is the keep probability",
                               f"только при {at.ru} или если читать $p$ как вероятность ОТКЛЮЧЕНИЯ (`p` в "
                               "`torch.nn.Dropout`, `rate` в Keras), в отличие от формул слайдов, где $p$ — "
                               "вероятность сохранения"),
                   correction=T(f"with probability {tex(formula)} we switch a neuron off ($p$ is the keep probability)",
                                f"с вероятностью {tex(formula)} мы отключаем нейрон ($p$ — вероятность сохранения)"))


def _check_mask_cases(claimed, evidence):
    out = claimed["output"]  # o_i as a function of the mask value td.D
    cases = tsd.mask_cases(claimed["keep"], out)
    computed = {sp.sstr(value): prob for value, prob in cases}
    ok = all(any(exact_equal(val, value) and exact_equal(prob, p_case) for value, p_case in cases)
             for val, prob in claimed["cases"])
    numbers = {"computed": {k: sp.sstr(v) for k, v in computed.items()},
               "claimed": [[sp.sstr(a), sp.sstr(b)] for a, b in claimed["cases"]]}
    values = join_words(T(f"{tex(value)} with probability {tex(prob)}", f"{tex(value)} с вероятностью {tex(prob)}")
                        for value, prob in cases)
    text = T(f"With $D \\sim \\mathrm{{Bernoulli}}({latex(claimed['keep'])})$ (`sympy.stats`), $o = {latex(out)}$ "
             f"takes the values {values.en}.",
             f"При $D \\sim \\mathrm{{Bernoulli}}({latex(claimed['keep'])})$ (`sympy.stats`) величина "
             f"$o = {latex(out)}$ принимает значения {values.ru}.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=T(f"$o_i$ is {values.en}", f"$o_i$ принимает значения {values.ru}"))


def _check_dropout_backward(claimed, evidence):
    diff = tsd.backward_difference(claimed["forward_multiplier"], claimed["factors"])
    ok = all(e == 0 for e in diff)
    numbers = {"factors": [sp.sstr(f) for f in claimed["factors"]], "difference": sp.sstr(diff)}
    mult, product = latex(claimed["forward_multiplier"]), r" \cdot ".join(map(latex, claimed["factors"]))
    text = T(f"For $o = {mult} f(x W + b)$ on an explicit 2 → 2 layer, `sympy.diff` of $L = \\sum_k d_k o_k$ by $x$ "
             f"equals $({product}) W^T$ entry by entry: "
             f"{'yes' if ok else 'no, the difference is ' + tex(diff)}.",
             f"Для $o = {mult} f(x W + b)$ на явно заданном слое 2 → 2 производная `sympy.diff` от "
             f"$L = \\sum_k d_k o_k$ по $x$ поэлементно равна $({product}) W^T$: "
             f"{'да' if ok else 'нет, разность равна ' + tex(diff)}.")
    if ok:
        return Outcome("confirmed", text, numbers)
    return Outcome("refuted", text, numbers,
                   correction=T(f"$d = {mult} \\cdot f'(h) \\cdot d$ times $W^T$: the mask multiplies the backward "
                                "pass as it does the forward",
                                f"$d = {mult} \\cdot f'(h) \\cdot d$, умноженное на $W^T$: маска умножает обратный "
                                "проход так же, как прямой"))


def _check_2n_networks(claimed, evidence):
    masks = tsd.mask_counts()
    count, reuse = masks["count"], masks["reuse"]
    said = sp.sympify(claimed["networks"])
    numbers = {"masks": sp.sstr(count), "claimed": sp.sstr(said), "weights_reuse_factor": sp.sstr(reuse)}
    text = T(f"$n$ droppable units have $\\sum_k \\binom{{n}}{{k}} = {latex(count)}$ masks; the thinned networks "
             f"together use {tex(reuse)} times as many weights as there are distinct ones (all are columns of one "
             "$W$).",
             f"У $n$ отключаемых нейронов $\\sum_k \\binom{{n}}{{k}} = {latex(count)}$ масок; прореженные сети "
             f"вместе используют в {tex(reuse)} раз больше весов, чем есть различных (все они — столбцы одной "
             "матрицы $W$).")
    if not exact_equal(said, count):
        return Outcome("refuted", text, numbers,
                       correction=T(f"{tex(count)} thinned networks", f"{tex(count)} прореженных сетей"))
    if claimed["weights"] == "shared" or not masks["shared"]:
        return Outcome("confirmed", text, numbers)
    return Outcome("imprecise", text, numbers,
                   condition=T(f"an ensemble of {tex(count)} thinned networks that SHARE one set of weights (each "
                               "step trains one sampled network); not independently trained networks",
                               f"ансамбль из {tex(count)} прореженных сетей с ОБЩИМ набором весов (каждый шаг "
                               "обучает одну случайно выбранную сеть), а не независимо обученные сети"),
                   correction=T(f"dropout trains {tex(count)} weight-sharing sub-networks, each weight reused in "
                                f"{tex(reuse)} of them",
                                f"dropout обучает {tex(count)} подсетей с общими весами, и каждый вес входит в "
                                f"{tex(reuse)} из них"))


def _check_ensemble_average(claimed, evidence):
    from sims.dropout import ensemble_gaps

    exact = tsd.ensemble_exactness()
    linear_exact, nonlinear_exact = exact["linear"], exact["nonlinear"]
    expected = tsd.expected_output()
    gaps = evidence.get("dropout-ensemble-gap", ensemble_gaps, units=8, keep=0.5, seeds=64)
    relu_gap = gaps["relu"]["gap_abs_max"] > 1e-9
    numbers = {"linear_exact": linear_exact, "nonlinear_exact_z2": nonlinear_exact, "gaps": gaps,
               "E_Df": sp.sstr(expected)}
    gap = r"$\lvert \text{ensemble} - \text{weight scaling} \rvert$ = "
    text = T(r"The mean over all $2^n$ masks equals weight scaling $p W x$ exactly for a linear unit ($n = 1, 2, 3$ "
             r"enumerated, any $n$ by linearity) but not for $\varphi(z) = z^2$ (gap $p(1 - p) \sum_i w_i^2 x_i^2$); "
             r"for random relu networks with 8 dropped units (Glorot uniform, keep 0.5, 64 networks, all 256 masks) "
             + gap + f"{fmt(gaps['relu']['gap_abs_mean'])} ± {fmt(gaps['relu']['gap_abs_se'])} (up to "
             f"{fmt(gaps['relu']['gap_abs_max'])}), against {fmt(gaps['linear']['gap_abs_max'])} for linear ones.",
             r"Среднее по всем $2^n$ маскам в точности равно масштабированию весов $p W x$ для линейного нейрона "
             r"($n = 1, 2, 3$ перебраны явно, любое $n$ — по линейности), но не для $\varphi(z) = z^2$ (разница "
             r"$p(1 - p) \sum_i w_i^2 x_i^2$); для случайных сетей с ReLU с 8 отключаемыми нейронами (равномерная "
             r"инициализация Glorot, доля сохраняемых 0.5, 64 сети, все 256 масок) "
             + gap + f"{fmt(gaps['relu']['gap_abs_mean'])} ± {fmt(gaps['relu']['gap_abs_se'])} (до "
             f"{fmt(gaps['relu']['gap_abs_max'])}) против {fmt(gaps['linear']['gap_abs_max'])} у линейных.")
    if not exact_equal(claimed["test_output"], expected):
        return Outcome("refuted", text, numbers,
                       correction=T(f"the expectation of $D f$ is {tex(expected)}",
                                    f"математическое ожидание $D f$ равно {tex(expected)}"))
    exact_for = {"linear": linear_exact, "any": linear_exact and not relu_gap and nonlinear_exact,
                 "nonlinear": not relu_gap and nonlinear_exact}[claimed["activation"]]
    if exact_for:
        return Outcome("confirmed", text, numbers)
    if linear_exact:
        return Outcome("imprecise", text, numbers,
                       condition=T("exact only when everything after the dropout layer is linear (and, as the "
                                   "normalized geometric mean, for one sigmoid unit: Baldi & Sadowski 2013)",
                                   "точно, только если всё после слоя dropout линейно (а для одного сигмоидного "
                                   "нейрона — как нормированное среднее геометрическое: Baldi & Sadowski 2013)"),
                       correction=T(r"for nonlinear networks weight scaling $p f$ only approximates the average of the "
                                    r"$2^n$ predictions (relu: mean $\lvert \text{gap} \rvert$ "
                                    f"{fmt(gaps['relu']['gap_abs_mean'])})",
                                    r"для нелинейных сетей масштабирование весов $p f$ лишь приближает среднее "
                                    r"$2^n$ прогнозов (ReLU: среднее $\lvert \text{gap} \rvert$ "
                                    f"{fmt(gaps['relu']['gap_abs_mean'])})"))
    return Outcome("refuted", text, numbers, correction=T("weight scaling is not the ensemble mean",
                                                          "масштабирование весов не даёт среднего по ансамблю"))


def _check_test_expectation(claimed, evidence):
    expected = tsd.expected_output()
    said = sp.sympify(claimed["test_output"])
    text = T(r"$E[D f]$ for $D \sim \mathrm{Bernoulli}(p)$ (`sympy.stats`) is "
             f"{tex(expected)}; the slide's test output is {tex(said)}.",
             r"$E[D f]$ при $D \sim \mathrm{Bernoulli}(p)$ (`sympy.stats`) равно "
             f"{tex(expected)}; выход на тесте на слайде — {tex(said)}.")
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
    text = T(f"$E[{latex(s)} D f] = {latex(mean_train)}$ (`sympy.stats`, $D \\sim \\mathrm{{Bernoulli}}(p)$) against "
             f"the test output {tex(t * td.f)}; the train output's variance is {tex(var_train)}.",
             f"$E[{latex(s)} D f] = {latex(mean_train)}$ (`sympy.stats`, $D \\sim \\mathrm{{Bernoulli}}(p)$) против "
             f"выхода на тесте {tex(t * td.f)}; дисперсия выхода при обучении равна {tex(var_train)}.")
    if exact_equal(mean_train, t * td.f):
        return Outcome("confirmed", text, numbers)
    train = T(" or ", " или ").join(f"$o = {latex(x)} D f$" for x in unbiased_scale)
    return Outcome("refuted", text, numbers,
                   correction=T(f"train {train.en} for test $o = {latex(t * td.f)}$",
                                f"при обучении {train.ru}, если на тесте $o = {latex(t * td.f)}$"))


# ----------------------------------------------------------------------------------- «Dropout»: which parameters change
def _check_part_of_parameters(claimed, evidence):
    """«тем самым мы изменяем только часть параметров»: per setting (optimizer, batch size), the fraction of the first
    layer's weights a training step changes without dropout minus with it, per seed (paired: the same data, weights
    and batches); dropout leaves a part unchanged where its interval lies above 0 (experiment dropout_update)."""
    du = experiment(evidence, "dropout_update")
    names = {k: T(k, k.replace("(batch ", "(батч ")) for k in du["settings"]}  # "sgd (batch 64)"
    per = {names[k]: [a - b for a, b in zip(v["without"], v["with"])] for k, v in du["settings"].items()}
    changed = T("; ", "; ").join(names[k] + f" {fmt(sum(v['without']) / len(v['without']))} / "
                                            f"{fmt(sum(v['with']) / len(v['with']))}"
                                 for k, v in du["settings"].items())
    n = len(du["seeds"])
    text = T(f"A relu net 64-32-10 on digits, two steps, keep {fmt(du['keep'])}, {n} paired seeds; the "
             "fraction of first-layer weights the second step changes, without / with dropout: "
             + changed.en + ". With a minibatch each row draws its own mask, so every unit is kept for some row.",
             f"Сеть с ReLU 64-32-10 на digits, два шага, доля сохраняемых {fmt(du['keep'])}, "
             f"{seeds_ru(n, paired=True)}; доля весов первого слоя, которые "
             "меняет второй шаг, без dropout / с dropout: "
             + changed.ru + ". В мини-батче каждая строка получает свою маску, так что каждый нейрон сохраняется "
             "хотя бы в одной строке.")
    return paired_outcome(per, claimed, what=T("fraction of first-layer weights changed, without minus with dropout",
                                               "доля изменённых весов первого слоя, без dropout минус с dropout"),
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
    index = join_words(f"${i}$" for i in mask)
    text = T(f"In ${claimed['formula']}$ the mask carries the index {index.en or 'none'}; the "
             f"slide's mask ${claimed['mask']}$ has one entry per unit, 1 to "
             f"{f'${units}$' if units is not None else 'the last'}. "
             + (f"The same index marks {and_join(f'${r}$' for r in rows)}, row ${mask[0]}$ of $X$ transposed: "
                "an example, "
                "not a unit." if rows else "No transposed row of $X$ carries the mask's index."),
             f"В ${claimed['formula']}$ "
             + (f"у маски {'индекс' if len(mask) == 1 else 'индексы'} {index.ru}" if mask else "у маски нет индекса")
             + f"; маска слайда ${claimed['mask']}$ содержит по одному элементу на нейрон, от 1 до "
             f"{f'${units}$' if units is not None else 'последнего'}. "
             + (f"Тот же индекс стоит у {and_join((f'${r}$' for r in rows), lang='ru')} — транспонированной строки "
                f"${mask[0]}$ матрицы $X$, то есть у примера, а не у нейрона." if rows else
                "Ни у одной транспонированной строки $X$ нет индекса маски."))
    if rows:
        return Outcome("refuted", text, nums,
                       correction=T("one letter for the example and the unit: $o_{ij} = D_{ij} f(x_i w_j^T + b_j)$ "
                                    "(example $i$, unit $j$; a mask entry per example and unit, an elementwise "
                                    "product)",
                                    "по своей букве для примера и для нейрона: $o_{ij} = D_{ij} f(x_i w_j^T + b_j)$ "
                                    "(пример $i$, нейрон $j$; свой элемент маски для каждой пары пример–нейрон, "
                                    "поэлементное произведение)"))
    return Outcome("confirmed", text, nums)


_F = td.f
_p = td.p


CLAIMS: tuple[Claim, ...] = (
    Claim("do-p-off", "Dropout", "С вероятностью $p$ отключаем нейрон",
          T("Each neuron is switched off with probability $p$.", "Каждый нейрон отключается с вероятностью $p$."),
          {"p_off": _p}, _check_p_off, lambda c: {**c, "p_off": 1 - c["p_off"]}, figure="dropout-network",
          derivation="inverted-dropout",
          references=(T("Srivastava et al. 2014, JMLR 15 (p is the retention probability)",
                        "Srivastava et al. 2014, JMLR 15 (p — вероятность сохранения)"),)),
    Claim("do-mask-cases", "Dropout в формулах",
          r"o_i = D_i \cdot f(wx_i^T + b) = \begin{cases} f(wx_i^T + b), p \\ 0, 1 - p \end{cases}",
          T(r"With $D_i \sim \mathrm{Bern}(p)$, $o_i = D_i f$ equals $f$ with probability $p$ and 0 with probability "
            "$1 - p$.",
            r"При $D_i \sim \mathrm{Bern}(p)$ выход $o_i = D_i f$ равен $f$ с вероятностью $p$ и 0 с вероятностью "
            "$1 - p$."),
          {"keep": _p, "output": td.D * _F, "cases": ((_F, _p), (sp.Integer(0), 1 - _p))}, _check_mask_cases,
          lambda c: {**c, "cases": tuple((v, 1 - pr) for v, pr in c["cases"])}, derivation="inverted-dropout"),
    Claim("do-mask-index-clash", "Dropout в формулах", r"o_i = D_i \cdot f(wx_i^T + b)",
          T(r"The mask entry of one output: $o_i = D_i f(w x_i^T + b)$ (as written: $i$ numbers the mask's units, "
            r"$D = (D_1, \dots, D_k)$, and the rows of $X$).",
            r"Элемент маски для одного выхода: $o_i = D_i f(w x_i^T + b)$ (как написано, $i$ нумерует и нейроны "
            r"маски, $D = (D_1, \dots, D_k)$, и строки $X$)."),
          {"formula": r"o_i = D_i \cdot f(wx_i^T + b)", "mask": r"D = (D_1, \dots, D_k) \sim iidBern(p)"},
          _check_mask_index, lambda c: {**c, "formula": r"o_{ij} = D_{ij} \cdot f(x_i w_j^T + b_j)"}),
    Claim("do-backward", "Dropout в формулах", r"d = D \cdot f'(h) \cdot W \cdot d",
          T("The backward pass through dropout multiplies the error signal by the same mask $D$.",
            "Обратный проход через dropout умножает сигнал ошибки на ту же маску $D$."),
          {"forward_multiplier": td.D, "factors": (td.D, td.FPRIME, td.DELTA)}, _check_dropout_backward,
          lambda c: {**c, "factors": tuple(f for f in c["factors"] if f != td.D)}, derivation="inverted-dropout"),
    Claim("do-part-of-parameters", "Dropout", "тем самым мы изменяем только часть параметров",
          T("Multiplying outputs by the mask $D_i$, a training step changes only part of the parameters.",
            "Когда выходы умножаются на маску $D_i$, шаг обучения меняет только часть параметров."),
          {"direction": "greater"}, _check_part_of_parameters, flipped),
    Claim("do-2n-networks", "Dropout", "Dropout эквивалентен обучению $2^n$ сетей",
          T("Dropout is equivalent to training $2^n$ networks.", "Dropout равносилен обучению $2^n$ сетей."),
          {"networks": 2**tsd.n, "weights": "independent"}, _check_2n_networks, lambda c: scaled(c, "networks", 2),
          figure="dropout-thinned", derivation="inverted-dropout"),
    Claim("do-ensemble-average", "Dropout",
          "можно отключать по очереди все возможные комбинации нейронов, получить $2^n$ прогнозов и усреднить их",
          T("At test time the average of the $2^n$ thinned networks' predictions is what the expectation $o = p f$ "
            "(weight scaling) computes.",
            "На тесте математическое ожидание $o = p f$ (масштабирование весов) вычисляет среднее прогнозов $2^n$ "
            "прореженных сетей."),
          {"test_output": _p * _F, "activation": "any"}, _check_ensemble_average,
          lambda c: {**c, "activation": "linear"}, figure="dropout-gap", derivation="dropout-ensemble",
          references=(T("Srivastava et al. 2014, section 7", "Srivastava et al. 2014, раздел 7"),
                      "Baldi & Sadowski 2013, Understanding Dropout")),
    Claim("do-test-expectation", "Dropout",
          r"Но лучше просто брать по дропауту математическое ожидание $$o = p \cdot f(X \cdot W + b)$$",
          T("The expectation of the dropout output over the mask is $p f$.",
            "Математическое ожидание выхода dropout по маске равно $p f$."),
          {"test_output": _p * _F}, _check_test_expectation, lambda c: scaled(c, "test_output", 1 / _p),
          derivation="inverted-dropout"),
    Claim("do-inverted", "Обратный Dropout",
          r"Давайте лучше будем домножать на $\frac{1}{p}$ на этапе обучения: $$\text{train: } o = \frac{1}{p} "
          r"\cdot D \cdot f(X \cdot W + b)$$ $$\text{test: } o = f(X \cdot W + b)$$",
          T(r"Inverted dropout: training with $\frac{1}{p} D f$ makes the plain $f$ at test its expectation.",
            r"Обратный dropout: при обучении с $\frac{1}{p} D f$ простой выход $f$ на тесте становится его "
            "математическим ожиданием."),
          {"train_scale": 1 / _p, "test_scale": sp.Integer(1)}, _check_inverted,
          lambda c: scaled(c, "train_scale", _p**2), derivation="inverted-dropout"),
)
