"""Claims of the activation-function slides («Паралич сети» to «ELU activation») as data, each with its check.

Data and thin checks only: each check reads its ``claimed`` data, calls the computations and compares. Exact
statements (formulas, ranges, maxima, signs) are decided by SymPy in :mod:`theory.slides.activations` (and
:mod:`theory.activations`' ranges and maxima), on the activation expressions of :mod:`theory.activations` (the single
source of each formula); the per-layer backward factor chi_1 = sigma_w^2 E[phi'(h)^2] and the finite-depth trajectory
come from :mod:`theory.meanfield` and :mod:`theory.predict` through :func:`theory.slides.activations.backward_signal`;
empirical statements are read from the training experiments (:func:`lecture.registry.experiment`: gradients,
nonzero_centred, activation_cost, activations, symmetry) and from three small computations run through
:meth:`lecture.registry.Evidence.get`: dead ReLU layers and units behind a negative bias on the digits
(:mod:`sims.experiments.dead_units`), and the signs of SGD steps (:func:`sims.experiments.nonzero_centred.step_signs`).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from lecture.method import Effect, decide_fraction
from lecture.registry import (Claim, NotAClaim, Outcome, and_join, code_spans, effect_of, effect_outcome,
                              exact_equal, experiment, flipped, fmt, paired, scaled, seeds_ru, spread_text, tex)
from theory import activations as acts
from theory.calculus import x
from theory.slides import activations as slides
from theory.slides.activations import ALPHA, F
from theory.text import T, plural_ru

PREFIX = "act-"

SIGMOID = "Паралич сети"
CENTRING = "Центрирование"
SIG_SLIDE = "Sigmoid activation"
TANH_SLIDE = "Tanh activation"
RELU_SLIDE = "ReLU activation"
RELU_ZERO = "Зануление ReLU"
LEAKY_SLIDE = "Leaky ReLU activation"
CHOICE = "Что же выбрать"
ELU_SLIDE = "ELU activation"

#: the lecture's inits on equal widths (n_in = n_out): the slide's U[-1/sqrt(n_in), 1/sqrt(n_in)], Glorot and He
LECTURE_INITS = ("uniform:1/sqrt(n_in)", "glorot_uniform", "he_uniform")
CHI1_TOL = 1e-9  # chi_1 is computed by quadrature to ~1e-14; "vanishing" means chi_1 < 1 - CHI1_TOL
OWN_SEEDS = 5  # seeds of the three small computations of the claims (not Evidence.fast-dependent: ~1 s in all)


def _act(spec: str) -> acts.Activation:
    return acts.get_activation(spec)


def _sstr(e) -> str:
    """SymPy's sstr, intervals as (a, b] etc."""
    if isinstance(e, sp.Interval):
        return f"{'(' if e.left_open else '['}{sp.sstr(e.start)}, {sp.sstr(e.end)}{')' if e.right_open else ']'}"
    if isinstance(e, sp.Union):
        return " U ".join(_sstr(a) for a in e.args)
    return sp.sstr(e)


# ------------------------------------------------------------------------------ prose: math, code and lists in words
#: each activation's symbol in formulas and its name in prose
_SYMBOL = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}",
           "leaky_relu": r"\operatorname{LReLU}", "elu": r"\operatorname{ELU}"}
_WORD = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU", "elu": "ELU"}


def _latex(e) -> str:
    """The LaTeX of ``e`` in the lecture's notation, without the $ of :func:`lecture.registry.tex` (to build a longer
    formula)."""
    return tex(e)[1:-1]


def _symbol(name: str) -> str:
    r"""The activation ``name``'s symbol in a formula: \sigma, \tanh, \operatorname{ReLU}, ..."""
    base = name.split(":")[0]
    return _SYMBOL.get(base, rf"\operatorname{{{base.replace('_', '')}}}")


def _word(name: str) -> str:
    """The activation ``name`` in prose (a spec with parameters as code)."""
    return _WORD.get(name, f"`{name}`")


#: the Russian forms of an activation's name that decline (nominative, genitive, instrumental); the others are names
_WORD_RU = {"sigmoid": ("сигмоида", "сигмоиды", "сигмоидой")}
_CASES = ("nom", "gen", "ins")


def _word_ru(name: str, case: str = "nom") -> str:
    """The activation ``name`` in Russian prose, in ``case`` (nom, gen, ins): сигмоида, сигмоиды, сигмоидой."""
    forms = _WORD_RU.get(name)
    return forms[_CASES.index(case)] if forms else _word(name)


#: a sign in Russian: after «(она) бывает», as a predicate (производная ...), after «(знак) может быть»
_SIGN_RU = {"positive": ("положительной", "положительна", "положительным"),
            "negative": ("отрицательной", "отрицательна", "отрицательным"),
            "zero": ("нулевой", "равна нулю", "нулевым")}


def _signs_ru(signs, form: int, conj: str = "and") -> str:
    """Signs (positive, negative, zero), in their English order, as Russian words of ``form`` (index into
    :data:`_SIGN_RU`) joined by ``conj``."""
    return and_join([_SIGN_RU[s][form] for s in sorted(signs)], conj, lang="ru")


def _hidden_ru(n, case: str = "nom") -> str:
    """«скрытый слой» agreeing with the count ``n``, in ``case`` (nom or ins: с 6 скрытыми слоями)."""
    forms = {"nom": ("скрытый слой", "скрытых слоя", "скрытых слоёв"),
             "ins": ("скрытым слоем", "скрытыми слоями", "скрытыми слоями")}[case]
    return plural_ru(n, *forms)


def _where(places, var: str = "x", lang: str = "en") -> str:
    r"""Where a bound is attained, as math: $x = 0$ for a point, $x \in (-\infty, 0)$ for a set."""
    return and_join((f"${var} \\in {_latex(w)}$" if isinstance(w, sp.Set) else f"${var} = {_latex(w)}$"
                     for w in places), lang=lang)


# ============================================================================== exact checks (SymPy)
def check_derivative_in_f(claimed, evidence) -> Outcome:
    """phi'(x) written through f = phi(x): exact if phi' - claimed(f = phi) simplifies to 0."""
    act = _act(claimed["activation"])
    stated = sp.sympify(claimed["derivative_of_f"])
    d = slides.derivative_through_f(act.name, stated)
    ok = d["equal"]
    num = {"activation": act.name, "derivative": _sstr(d["derivative"]), "claimed": _sstr(stated), "equal": ok}
    fn = _symbol(act.name)
    formula = rf"$\frac{{d}}{{dx}} {_latex(act.expr)} = {_latex(d['derivative'])}$"
    text = T(f"SymPy: {formula}; {tex(stated)} with "
             f"$f = {fn}(x)$ {'equals' if ok else 'differs from'} it (the difference simplifies to "
             f"{tex(d['difference'])}).",
             f"SymPy: {formula}; выражение {tex(stated)} при $f = {fn}(x)$ "
             f"{'совпадает с этой производной' if ok else 'отличается от этой производной'} (разность упрощается до "
             f"{tex(d['difference'])}).")
    if ok:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num, correction=f"${fn}'(x) = {_latex(d['derivative'])}$")


def check_range(claimed, evidence) -> Outcome:
    """The range of phi over the reals (exact, theory.activations.value_range) against the stated set."""
    act = _act(claimed["activation"])
    rng, exact = acts.value_range(act)
    stated = claimed["range"]
    num = {"range": _sstr(rng), "claimed": _sstr(stated), "exact": exact,
           "inf_attained": not rng.left_open, "sup_attained": not rng.right_open}
    attained = {(False, False): T("neither is attained", "ни один из них не достигается"),
                (True, True): T("both are attained", "оба достигаются"),
                (True, False): T("the lower one is attained, the upper one is not",
                                 "нижний достигается, верхний нет"),
                (False, True): T("the upper one is attained, the lower one is not",
                                 "верхний достигается, нижний нет")}[(not rng.left_open, not rng.right_open)]
    text = T(f"SymPy: the range of {_word(act.name)} over the reals is {tex(rng)} (the endpoints are limits at "
             rf"$-\infty$ and $+\infty$; {attained.en}); the slide says {tex(stated)}.",
             f"SymPy: область значений {_word_ru(act.name, 'gen')} на вещественной прямой — {tex(rng)} (концы — "
             rf"пределы при $-\infty$ и $+\infty$; {attained.ru}); на слайде — {tex(stated)}.")
    if rng == stated:
        return Outcome("confirmed", text, num)
    if rng.is_subset(stated) and rng.closure == stated:
        return Outcome("imprecise", text, num,
                       condition=T(f"read as 'values lie within {tex(stated)}' (the range is contained in it); the "
                                   "endpoints are never attained",
                                   f"если читать как «значения лежат в пределах {tex(stated)}» (область значений "
                                   "содержится в этом множестве); концы никогда не достигаются"),
                       correction=T(f"{_word(act.name)} takes values in the open interval {tex(rng)}",
                                    f"{_word_ru(act.name)} принимает значения на открытом интервале {tex(rng)}"))
    return Outcome("refuted", text, num, correction=T(f"the range of {_word(act.name)} is {tex(rng)}",
                                                      f"область значений {_word_ru(act.name, 'gen')} — {tex(rng)}"))


def check_max_derivative(claimed, evidence) -> Outcome:
    """sup |phi'| over the reals (exact), and whether it is attained (a maximum)."""
    act = _act(claimed["activation"])
    sup = acts.sup_abs_derivative(act)
    stated = sp.sympify(claimed["max_derivative"])
    where = [_sstr(w) for w in sup.where]
    num = {"sup": _sstr(sup.value), "attained": sup.attained, "where": where, "claimed": _sstr(stated)}
    fn = _symbol(act.name)
    sup_text = rf"$\sup_x {fn}'(x) = {_latex(sup.value)}$"
    where_ru = f"достигается при {_where(sup.where, lang='ru')}" if sup.where else "не достигается"
    text = T(f"SymPy: {sup_text}, "
             f"{f'attained at {_where(sup.where)}' if sup.where else 'not attained'} "
             f"({'exact' if sup.exact else 'numeric'}); the slide says {tex(stated)}.",
             f"SymPy: {sup_text}, {where_ru} "
             f"({'точное значение' if sup.exact else 'численное значение'}); на слайде — {tex(stated)}.")
    if sup.attained and sup.exact and exact_equal(sup.value, stated):
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num, correction=rf"$\max {fn}' = {_latex(sup.value)}$")


def check_centred(claimed, evidence) -> Outcome:
    """Zero-centred := E[phi(h)] = 0 for h symmetric about 0 (at every scale q):
    :func:`theory.slides.activations.symmetric_mean`."""
    act = _act(claimed["activation"])
    m = slides.symmetric_mean(act.name)
    mean, centred, value_q1, s = m["mean"], m["centred"], m["mean_at_q1"], m["pair_sum"]
    fn = _symbol(act.name)
    how = (T(f"${fn}(x) + {fn}(-x) = {_latex(s)}$, so $E = {_latex(s / 2)}$ for any law symmetric about 0",
             f"${fn}(x) + {fn}(-x) = {_latex(s)}$, поэтому $E = {_latex(s / 2)}$ для любого распределения, "
             "симметричного относительно 0")
           if s is not None else T(rf"for $h \sim N(0, q)$: $E[{fn}(h)] = {_latex(mean)}$",
                                   rf"для $h \sim N(0, q)$: $E[{fn}(h)] = {_latex(mean)}$"))
    num = {"mean": _sstr(mean), "mean_at_q1": value_q1, "centred": centred, "claimed": claimed["centred"]}
    text = T(f"SymPy: {how.en} (at $q = 1$: {fmt(value_q1)}); {'zero' if centred else 'non-zero'}-centred.",
             f"SymPy: {how.ru} (при $q = 1$: {fmt(value_q1)}); функция {'' if centred else 'не '}центрирована "
             "относительно нуля.")
    if centred == claimed["centred"]:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num,
                   correction=T(f"$E[{fn}(h)] = {_latex(mean)}$ for symmetric $h$: "
                                f"{'centred' if centred else 'not centred'}",
                                f"$E[{fn}(h)] = {_latex(mean)}$ при симметричном $h$: функция "
                                f"{'' if centred else 'не '}центрирована"))


def check_tanh_as_sigmoid(claimed, evidence) -> Outcome:
    """tanh(x) = scale * sigmoid(rate * x) + shift, exactly."""
    rest = slides.tanh_sigmoid_residual(claimed["scale"], claimed["rate"], claimed["shift"])
    ok = rest == 0
    num = {k: _sstr(claimed[k]) for k in ("scale", "rate", "shift")} | {"equal": ok}
    formula = (rf"$\tanh(x) - ({_latex(claimed['scale'])} \sigma({_latex(sp.sympify(claimed['rate']) * x)}) "
               f"{'-' if claimed['shift'] < 0 else '+'} {_latex(abs(claimed['shift']))})$")
    text = T(f"SymPy: {formula} simplifies to {tex(rest)}: "
             f"tanh {'is' if ok else 'is not'} this rescaled sigmoid (range $(-1, 1)$ vs $(0, 1)$, the same S shape).",
             f"SymPy: {formula} упрощается до {tex(rest)}: tanh "
             f"{'в точности совпадает' if ok else 'не совпадает'} с этой растянутой и сдвинутой сигмоидой (область "
             "значений $(-1, 1)$ против $(0, 1)$, та же S-образная форма).")
    if ok:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num, correction=r"$\tanh(x) = 2 \sigma(2x) - 1$")


def check_vanishing(claimed, evidence) -> Outcome:
    """Does the backward signal vanish at the lecture's inits? One method for every "vanishes" and "does not vanish"
    of the lecture: the finite-depth mean-field trajectory of a ``TRAJECTORY_DEPTH``-layer net from the lecture's
    starting variance Var(x) = 1 (:func:`theory.predict.backward_trajectory`): it vanishes when Var(delta_1) /
    Var(delta_L) < 1 (beyond float64 rounding, CHI1_TOL). The fixed-point factor chi_1 (deep in the net) is reported
    as a second line (both from :func:`theory.slides.activations.backward_signal`). All inits agree with the claim:
    confirmed; some: imprecise (the condition names them); none: refuted."""
    from theory.predict import TRAJECTORY_DEPTH

    spec = claimed["activation"]
    sig = slides.backward_signal(spec, tuple(claimed["inits"]))
    rows = [(name, _sstr(sw2), sig["chi1"][name]) for name, sw2 in sig["sigma_w2"].items()]
    traj = sig["trajectory"]
    vanish = {name: traj[name]["ratio"] < 1 - CHI1_TOL for name in traj}
    holds = [name for name in vanish if vanish[name] == claimed["vanishes"]]
    crit = sig["critical_sigma_w2"]

    def part(name: str) -> T:
        head = (rf"`{name}` ($\sigma_w^2 = {_latex(sig['sigma_w2'][name])}$): "
                rf"$\operatorname{{Var}}(\delta_1) / \operatorname{{Var}}(\delta_{{{TRAJECTORY_DEPTH}}})$ = "
                f"{fmt(traj[name]['ratio'], 3)}, {fmt(traj[name]['per_layer'], 3)}")
        return T(f"{head} per layer", f"{head} на слой")
    parts = T("; ", "; ").join(part(name) for name, _, _ in rows)
    fixed = "; ".join(f"`{name}` {fmt(c, 4)}" for name, _, c in rows)
    critical = (T(rf"$\chi_1 = 1$ at $\sigma_w^2$ = {fmt(crit, 4)}",
                  rf"$\chi_1 = 1$ при $\sigma_w^2$ = {fmt(crit, 4)}") if crit is not None else
                T(r"$\chi_1 = 1$ at no $\sigma_w^2$", r"$\chi_1 = 1$ ни при каком $\sigma_w^2$"))
    chi1 = rf"$\chi_1 = \sigma_w^2 E[{_symbol(spec)}'(h)^2]$"
    text = T(f"Mean field, a {TRAJECTORY_DEPTH}-layer {_word(spec)} net from $\\operatorname{{Var}}(x) = 1$: "
             f"{parts.en}. Deep in the net (the fixed point) the factor per layer is {chi1}: {fixed}; {critical.en}.",
             f"Среднее поле: {TRAJECTORY_DEPTH}-слойная сеть с {_word_ru(spec, 'ins')} при "
             f"$\\operatorname{{Var}}(x) = 1$ на входе: {parts.ru}. В глубине сети (в неподвижной точке) множитель на "
             f"слой {chi1}: {fixed}; {critical.ru}.")
    num = {"ratio": {n: traj[n]["ratio"] for n in traj}, "per_layer": {n: traj[n]["per_layer"] for n in traj},
           "depth": TRAJECTORY_DEPTH, "chi1_fixed_point": {name: c for name, _, c in rows},
           "sigma_w2": {name: sw for name, sw, _ in rows}, "critical_sigma_w2": crit, "vanishes": vanish}
    if len(holds) == len(rows):
        return Outcome("confirmed", text, num)
    layers_ru = plural_ru(TRAJECTORY_DEPTH, "слой", "слоя", "слоёв")
    truth = T("; ", "; ").join(T(f"`{n}`: ×{fmt(traj[n]['ratio'], 3)} over {TRAJECTORY_DEPTH} layers",
                                 f"`{n}`: ×{fmt(traj[n]['ratio'], 3)} за {TRAJECTORY_DEPTH} {layers_ru}") for n in traj)
    factor_ru = f"множитель обратного распространения для {_word_ru(spec, 'gen')}"
    if holds:
        return Outcome("imprecise", text, num,
                       condition=T(f"holds with {and_join(code_spans(holds))} (equal widths, no bias), "
                                   "not with the others",
                                   f"верно при {and_join(code_spans(holds), lang='ru')} (равные ширины, без "
                                   "смещения), но не при остальных"),
                       correction=T(f"the backward factor of {_word(spec)} depends on the init: {truth.en}",
                                    f"{factor_ru} зависит от инициализации: {truth.ru}"))
    return Outcome("refuted", text, num, correction=T(f"the backward factor of {_word(spec)} is {truth.en}",
                                                      f"{factor_ru}: {truth.ru}"))


def check_leaky_derivative_sign(claimed, evidence) -> Outcome:
    """Signs the derivative of leaky ReLU takes over x, for the slopes the slide allows (``a_range``: the slide only
    asks a != 1) and for the usual slopes (``usual_a_range``, 0 < a < 1, e.g. Maas et al.'s 0.01). Holds over both:
    confirmed; over the slide's range only: imprecise (the condition names the negative slopes); else refuted.
    Values and signs: :func:`theory.slides.activations.leaky_relu_derivative_values`."""
    image, signs = slides.leaky_relu_derivative_values(claimed["a_range"])
    usual_image, usual_signs = slides.leaky_relu_derivative_values(claimed["usual_a_range"])
    wanted = frozenset(claimed["derivative_signs"])
    out_rng, _ = acts.value_range(_act("leaky_relu"))
    num = {"derivative_values": _sstr(image), "signs": sorted(signs), "claimed": sorted(wanted),
           "usual_derivative_values": _sstr(usual_image), "usual_signs": sorted(usual_signs),
           "output_range": _sstr(out_rng)}
    def sign_text(found) -> T:
        return T(f"sign{'s' if len(found) > 1 else ''} {and_join(sorted(found))}",
                 f"то есть бывает {_signs_ru(found, 0)}")
    a_range, usual_range = _latex(claimed["a_range"]), _latex(claimed["usual_a_range"])
    text = T(r"SymPy: leaky ReLU's derivative is $a$ for $x < 0$ and $1$ for $x > 0$. Over the slide's slopes "
             rf"$a \in {a_range}$ (it asks only $a \neq 1$) it takes values in {tex(image)}: "
             rf"{sign_text(signs).en}; over the usual slopes $a \in {usual_range}$, values in "
             f"{tex(usual_image)}: {sign_text(usual_signs).en}. The output's range is {tex(out_rng)} (both signs).",
             r"SymPy: производная leaky ReLU равна $a$ при $x < 0$ и $1$ при $x > 0$. При наклонах, которые допускает "
             rf"слайд, $a \in {a_range}$ (он требует лишь $a \neq 1$) она принимает значения из {tex(image)}, "
             rf"{sign_text(signs).ru}; при обычных наклонах $a \in {usual_range}$ — значения из "
             f"{tex(usual_image)}, {sign_text(usual_signs).ru}. Область значений самой функции — {tex(out_rng)} "
             "(оба знака).")
    if wanted <= signs and wanted <= usual_signs:
        return Outcome("confirmed", text, num)
    if wanted <= signs:
        return Outcome("imprecise", text, num,
                       condition=T(r"the slope $a$ may be negative, as the slide's only condition $a \neq 1$ allows; "
                                   f"with the usual $0 < a < 1$ the derivative is {and_join(sorted(usual_signs))} "
                                   "only",
                                   r"наклон $a$ может быть отрицательным: единственное условие слайда $a \neq 1$ это "
                                   "допускает; при обычных $0 < a < 1$ производная бывает только "
                                   f"{_signs_ru(usual_signs, 0)}"),
                       correction=T("the derivative is $a$ ($x < 0$) or $1$ ($x > 0$): of either sign only for "
                                    "$a < 0$; for the usual $0 < a < 1$ it is positive, and it is the *output* that "
                                    "takes both signs",
                                    "производная равна $a$ ($x < 0$) или $1$ ($x > 0$): разного знака она бывает "
                                    "только при $a < 0$; при обычных $0 < a < 1$ она положительна, а оба знака "
                                    "принимает *выход* функции"))
    return Outcome("refuted", text, num,
                   correction=T(f"the derivative is $a$ or $1$, in {tex(image)}: {and_join(sorted(signs))} only",
                                f"производная равна $a$ или $1$, лежит в {tex(image)}: она бывает только "
                                f"{_signs_ru(signs, 0)}"))


def check_leaky_linear(claimed, evidence) -> Outcome:
    """The slopes a for which leaky ReLU has no kink (and is then the identity):
    :func:`theory.slides.activations.leaky_relu_linear_slopes`."""
    lin = slides.leaky_relu_linear_slopes()
    left, right, linear_at = lin["left"], lin["right"], lin["linear_at"]
    identity = {_sstr(v): ok for v, ok in lin["identity"].items()}
    num = {"linear_at": _sstr(linear_at), "identity": identity, "claimed": _sstr(claimed["linear_at"])}
    same = [v for v, ok in lin["identity"].items() if ok]
    other = [v for v, ok in lin["identity"].items() if not ok]
    where = T("", "").join([T(f"; $f(x) - x$ simplifies to 0 (the identity) at {_where(same, 'a')}",
                              f"; $f(x) - x$ упрощается до 0 (тождественная функция) при {_where(same, 'a', 'ru')}")
                            if same else "",
                            T(f"; $f(x) - x$ does not simplify to 0 at {_where(other, 'a')}",
                              f"; $f(x) - x$ не упрощается до 0 при {_where(other, 'a', 'ru')}") if other else ""])
    text = T(f"SymPy: the one-sided slopes at 0 are {tex(left)} and {tex(right)}: equal (no kink, $f$ linear) for "
             rf"$a \in {_latex(linear_at)}${where.en}.",
             f"SymPy: односторонние наклоны в 0 — {tex(left)} и {tex(right)}: они равны (излома нет, $f$ линейна) "
             rf"при $a \in {_latex(linear_at)}${where.ru}.")
    if linear_at == claimed["linear_at"]:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num, correction=T(rf"leaky ReLU is linear exactly for $a \in {_latex(linear_at)}$",
                                                      rf"leaky ReLU линеен ровно при $a \in {_latex(linear_at)}$"))


def check_no_dying(claimed, evidence) -> Outcome:
    """A unit 'dies' when phi' = 0 on a whole interval (its gradient is exactly 0 for all those inputs):
    inf phi' over x = 0 and attained. Computed on the derivative's pieces
    (:func:`theory.slides.activations.derivative_infimum`)."""
    act = _act(claimed["activation"])
    lo = slides.derivative_infimum(act.name)
    dies = bool(lo.value == 0 and lo.attained)
    num = {"inf_derivative": _sstr(lo.value), "attained_on": [_sstr(w) for w in lo.where] if lo.attained else [],
           "dies": dies, "claimed_dies": claimed["dies"]}
    fn = _symbol(act.name)
    text = (rf"SymPy: $\inf_x {fn}'(x) = {_latex(lo.value)}$" +
            (T(f", attained on {_where(lo.where)}", f", достигается при {_where(lo.where, lang='ru')}")
             if lo.attained else "") +
            T(f": the gradient through a unit is {'exactly 0 for all inputs there' if dies else 'never 0'}.",
              f": градиент через нейрон {'равен в точности 0 на всех этих входах' if dies else 'никогда не равен 0'}."))
    if dies == claimed["dies"]:
        return Outcome("confirmed", text, num)
    inf = rf"$\inf {fn}' = {_latex(lo.value)}$"
    return Outcome("refuted", text, num, correction=T(f"{_word(act.name)} {'can' if dies else 'cannot'} die: {inf}",
                                                      f"{_word_ru(act.name)} {'может' if dies else 'не может'} "
                                                      f"умереть: {inf}"))


def check_elu_formula(claimed, evidence) -> Outcome:
    """The slide's ELU against the package's ELU (Clevert et al. 2015) at alpha = 1/2, 1, 2, and its continuity
    (:func:`theory.slides.activations.elu_against_slide`)."""
    e = slides.elu_against_slide(claimed["nonneg_piece"], claimed["neg_piece"])
    matches, left, right, continuous = e["matches"], e["left"], e["right"], e["continuous"]
    dl, dr, smooth_at = e["left_slope"], e["right_slope"], e["differentiable_for"]
    num = {"matches_reference": matches, "left_limit": _sstr(left), "right_value": _sstr(right),
           "continuous": continuous, "left_slope": _sstr(dl), "right_slope": _sstr(dr),
           "differentiable_for_alpha": _sstr(smooth_at)}
    alphas = sp.FiniteSet(*(sp.Rational(a) for a in matches))
    equal = [a for a, ok in matches.items() if ok]
    unequal = [tex(sp.Rational(a)) for a, ok in matches.items() if not ok]
    equal_tex = [tex(sp.Rational(a)) for a in equal]
    agree = (T("at each of them", "при каждом из этих значений") if not unequal else
             T("at none of them", "ни при одном из этих значений") if not equal else
             T(f"at {and_join(equal_tex)}, not at {and_join(unequal)}",
               f"при {and_join(equal_tex, lang='ru')}, но не при {and_join(unequal, lang='ru')}"))
    text = T(rf"SymPy: compared with the package's ELU at $\alpha \in {_latex(alphas)}$, the slide's pieces equal it "
             f"{agree.en}; at 0 the left limit is {tex(left)} and the right value {tex(right)} "
             f"({'continuous' if continuous else 'a jump'}); the slopes are {tex(dl)} and {tex(dr)}: differentiable "
             rf"at 0 only for $\alpha \in {_latex(smooth_at)}$.",
             rf"SymPy: в сравнении с ELU из пакета при $\alpha \in {_latex(alphas)}$ ветви формулы со слайда совпадают "
             f"с ней {agree.ru}; в 0 предел слева равен {tex(left)}, а значение справа — {tex(right)} "
             f"({'функция непрерывна' if continuous else 'скачок'}); наклоны — {tex(dl)} и {tex(dr)}: функция "
             rf"дифференцируема в 0 только при $\alpha \in {_latex(smooth_at)}$.")
    if all(matches.values()) and continuous:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num,
                   correction=T(r"ELU is $f(x) = x$ for $x \ge 0$, $\alpha (e^x - 1)$ for $x < 0$",
                                r"ELU — это $f(x) = x$ при $x \ge 0$ и $\alpha (e^x - 1)$ при $x < 0$"))


def check_bias_dead(claimed, evidence) -> Outcome:
    """«large negative w0: the unit dies at once» read as: active on no input (``active_fraction`` 0). Exactly, for a
    Gaussian weighted input of sd sigma_h the unit is active on Phi(w0 / sigma_h) > 0 of inputs for every finite w0,
    and on none only in the limit (SymPy); on a finite data set it is dead once w0 is below the largest weighted input,
    k* sd (measured per unit). Equal to the exact fraction at every w0: confirmed; to the limit only: imprecise, with
    "large" made precise by k*; else refuted. Exact: :func:`theory.slides.activations.active_probability`;
    measured: :func:`sims.experiments.dead_units.thresholds`."""
    from sims.experiments import dead_units

    stated = sp.nsimplify(claimed["active_fraction"])
    p, lim = slides.active_probability()
    data = evidence.get("act-bias-dead-thresholds", dead_units.thresholds, seeds=OWN_SEEDS, width=100)
    ks = np.array(data["k_star"], dtype=float)
    per_seed = np.median(ks, axis=1)
    num = {"active_probability": _sstr(p), "limit": _sstr(lim), "claimed": _sstr(stated),
           "k_star_median_per_seed": per_seed.tolist(), "k_star_min": float(ks.min()), "k_star_max": float(ks.max()),
           "rows": data["rows"]}
    threshold = r"$w_0 \le k^\ast \operatorname{sd}(h)$"
    k_star, k_max, k_min = fmt(float(np.median(ks))), fmt(float(ks.max())), fmt(float(ks.min()))
    per_seed_range = f"{fmt(float(per_seed.min()))}–{fmt(float(per_seed.max()))}"
    text = T(r"Gaussian pre-activation of sd $\sigma_h$: with $w_0 = k \sigma_h$ the unit is active on "
             rf"{tex(p)} of inputs, $> 0$ for every finite $k$, and 0 only in the limit $k \to -\infty$. Digits, "
             f"`he_uniform` first layer of 100 units, {OWN_SEEDS} seeds: a unit is dead on all {data['rows']} "
             rf"training rows once {threshold}, $k^\ast$ = {k_star} (units {k_max} to {k_min}; median per seed "
             f"{per_seed_range}).",
             r"Гауссова предактивация со стандартным отклонением $\sigma_h$: при $w_0 = k \sigma_h$ нейрон активен на "
             rf"доле входов {tex(p)}, $> 0$ при любом конечном $k$, и 0 лишь в пределе $k \to -\infty$. Данные digits, "
             f"первый слой `he_uniform` из 100 нейронов, {seeds_ru(OWN_SEEDS)}: нейрон мёртв на всех "
             rf"{data['rows']} обучающих примерах, как только {threshold}, $k^\ast$ = {k_star} (по нейронам от "
             f"{k_max} до {k_min}; медиана по зёрнам {per_seed_range}).")
    if exact_equal(p, stated):
        return Outcome("confirmed", text, num)
    if exact_equal(lim, stated):
        return Outcome("imprecise", text, num,
                       condition=T(r"'large' means below the largest weighted input on the data: "
                                   rf"{threshold}, $k^\ast$ about "
                                   f"{k_star} here (it grows slowly with the number of inputs, "
                                   "like the Gaussian maximum); above "
                                   r"it the unit is only rarely active, $\Phi(w_0 / \sigma_h) > 0$",
                                   r"«большое» значит ниже наибольшей взвешенной суммы входов на данных: "
                                   rf"{threshold}, здесь $k^\ast$ около {k_star} (он медленно растёт с числом входов, "
                                   "как максимум гауссовых величин); выше этого порога нейрон лишь редко активен, "
                                   r"$\Phi(w_0 / \sigma_h) > 0$"),
                       correction=T(r"a large negative $w_0$ makes the unit rarely active (on $\Phi(w_0 / \sigma_h)$ "
                                    "of inputs); it is dead at once only below the largest weighted input of the data",
                                    r"большое отрицательное $w_0$ делает нейрон редко активным (на доле входов "
                                    r"$\Phi(w_0 / \sigma_h)$); сразу мёртвым он становится лишь ниже наибольшей "
                                    "взвешенной суммы входов на данных"))
    return Outcome("refuted", text, num,
                   correction=T(f"the active fraction is {tex(p)}, 0 only in the limit",
                                f"доля входов, на которых нейрон активен, равна {tex(p)} и обращается в 0 лишь в "
                                "пределе"))


# ------------------------------------------------------------------ the Центрирование slide: gradient signs
def check_same_sign(claimed, evidence) -> Outcome:
    """dL/dw_i = delta * o_i with o_i = sigma(h_i) > 0: SymPy gives sign(dL/dw_i) = sign(delta) for every i, so all
    components share one sign, the sign of delta, which can be either
    (:func:`theory.slides.activations.gradient_sign_pattern`); the steps' signs are measured by
    :func:`sims.experiments.nonzero_centred.step_signs`."""
    from sims.experiments import nonzero_centred

    shared, signs = slides.gradient_sign_pattern()
    stated = set(claimed["gradient_signs"])
    nz = experiment(evidence, "nonzero_centred")
    steps = evidence.get("act-step-signs", nonzero_centred.step_signs, activation="sigmoid", seeds=OWN_SEEDS)
    num = {"shared_sign": shared, "possible_signs": sorted(signs), "claimed": sorted(stated),
           "same_sign_fraction": {a: nz[a]["same_sign_fraction"] for a in ("sigmoid", "tanh")},
           "steps_all_positive": steps["positive"], "steps_all_negative": steps["negative"]}
    sign_rule = r"$\operatorname{sign}(\delta o_i) = \operatorname{sign}(\delta)$"
    same = {a: spread_text(nz[a]["same_sign_fraction"]) for a in ("sigmoid", "tanh")}
    pos, neg = ({"median": fmt(np.median(steps[k])), "range": f"{fmt(min(steps[k]))}–{fmt(max(steps[k]))}"}
                for k in ("positive", "negative"))
    text = T(f"SymPy: {sign_rule} for $o_i > 0$, so the components "
             rf"share the sign of $\delta = \partial L / \partial h$, which can be {and_join(sorted(signs), 'or')}. "
             f"SGD on a unit fed by sigmoid outputs: same-sign steps {same['sigmoid']} (tanh inputs: "
             f"{same['tanh']}), of which all-positive {pos['median']} ({pos['range']}) "
             f"and all-negative {neg['median']} ({neg['range']}) of the steps (own runs of the same experiment, "
             f"{OWN_SEEDS} seeds).",
             f"SymPy: {sign_rule} при $o_i > 0$, поэтому все компоненты имеют "
             rf"знак $\delta = \partial L / \partial h$, а он может быть {_signs_ru(signs, 2, 'or')}. "
             f"SGD для нейрона, на вход которого подаются выходы сигмоиды: доля шагов, у которых все компоненты одного "
             f"знака, — {same['sigmoid']} (при входах от tanh: {same['tanh']}); из них со всеми положительными "
             f"компонентами — доля {pos['median']} ({pos['range']}) всех шагов, со всеми отрицательными — "
             f"{neg['median']} ({neg['range']}) (собственные запуски того же эксперимента, "
             f"{seeds_ru(OWN_SEEDS)}).")
    if shared and stated == signs:
        return Outcome("confirmed", text, num)
    if shared and stated < signs:
        return Outcome("imprecise", text, num,
                       condition=T(rf"when $\delta = \partial L / \partial h_j$ is {and_join(sorted(stated), 'or')}",
                                   rf"когда $\delta = \partial L / \partial h_j$ {_signs_ru(stated, 1, 'or')}"),
                       correction=T(r"the gradient components all share the sign of $\delta$ (all positive or all "
                                    "negative), so the weights move together in one direction, up or down",
                                    r"все компоненты градиента имеют знак $\delta$ (все положительны или все "
                                    "отрицательны), поэтому веса сдвигаются вместе в одну сторону: вверх или вниз"))
    return Outcome("refuted", text, num,
                   correction=T(rf"the components share the sign of $\delta$, which can be "
                                f"{and_join(sorted(signs), 'or')}",
                                rf"все компоненты имеют знак $\delta$, а он может быть {_signs_ru(signs, 2, 'or')}"))


# ============================================================================== empirical checks (experiments)
def _deepest(vanishing: dict) -> str:
    return max(vanishing, key=int)


def check_exponential(claimed, evidence) -> Outcome:
    """Deep sigmoid nets (experiment gradients), two effects over the paired seeds, both needed: the log of the
    fitted per-layer factor |dJ/dW_l| / |dJ/dW_(l+1)| at the deepest net on the claimed side of 0 (decay: less),
    and the law: across depths, the residual sum of squares of log(|dJ/dW_L| / |dJ/dW_1|) fitted against log depth
    (a power law) minus that against depth (an exponential), above 0 when the exponential fits better."""
    from sims.statistics import depth_law

    van = experiment(evidence, "gradients")["vanishing"]
    deep = _deepest(van)
    f = van[deep]["factor"]
    logs = [math.log(v) for v in f["values"]]
    depths = sorted(van, key=int)
    law = depth_law(np.array([van[d]["ratio_first"]["values"] for d in depths]).T, [int(d) for d in depths])
    across, law_gap = law["factor"], law["rss_gap"]
    num = {"depth": int(deep), "factor": f, "factor_theory": van[deep]["factor_theory"],
           "factor_across_depths": across, "law_rss_gap": law_gap, "depths": [int(d) for d in depths]}
    theory = rf"$\sqrt{{\chi_1}}$ = {fmt(van[deep]['factor_theory'])}"
    across_text = f"{fmt(np.median(across))} ({fmt(min(across))}–{fmt(max(across))})"
    text = T(f"Sigmoid/Glorot nets on digits, {len(logs)} seeds: the weight-gradient norm shrinks by "
             rf"{spread_text(f)} per layer towards the input at depth {deep} (mean field {theory}); across depths "
             f"{', '.join(depths)} the output/input gradient ratio gives {across_text} per layer.",
             f"Сети с сигмоидой и инициализацией Glorot на данных digits, {seeds_ru(len(logs))}: норма "
             f"градиента по весам умножается на {spread_text(f)} на каждый слой по направлению ко входу при глубине "
             f"{deep} (среднее поле: {theory}); по глубинам {', '.join(depths)} отношение градиентов на выходе и на "
             f"входе даёт {across_text} на слой.")
    law_dir = "greater" if claimed["law"] == "exponential" else "less"
    factor, law = T("per-layer factor", "множитель на слой"), T("law", "закон")
    effects = {factor: effect_of(claimed, T(f"log per-layer gradient factor towards the input (depth {deep})",
                                            f"логарифм множителя градиента на слой по направлению ко входу "
                                            f"(глубина {deep})")),
               law: Effect(T("RSS of a power-law fit minus RSS of an exponential fit (log gradient ratio against "
                             "depth)",
                             "сумма квадратов остатков степенной подгонки минус та же сумма для экспоненциальной "
                             "(логарифм отношения градиентов в зависимости от глубины)"), law_dir)}
    if len(depths) < 3:  # two depths fit both laws exactly: only the factor is judged
        return effect_outcome(effects[factor], logs, evidence=text, numbers=num)
    return effect_outcome(effects, {factor: logs, law: law_gap}, evidence=text, numbers=num)


def check_ratio_first(claimed, evidence) -> Outcome:
    """log(|dJ/dW_L| / |dJ/dW_1|) in the first epoch of the deepest sigmoid net, per seed: its interval on the
    claimed side of 0 (greater: the first layer's weights get the smaller gradient)."""
    van = experiment(evidence, "gradients")["vanishing"]
    deep = _deepest(van)
    r = van[deep]["ratio_first"]
    num = {"depth": int(deep), "ratio_first": r, "ratio_last": van[deep]["ratio_last"]}
    ratio = r"\lVert \partial J / \partial W_{out} \rVert / \lVert \partial J / \partial W_1 \rVert"
    first, last = spread_text(r), spread_text(van[deep]["ratio_last"])
    text = T(f"Sigmoid/Glorot net with {deep} hidden layers: ${ratio}$ = {first} in the first "
             f"epoch and {last} in the last (the first layer's weights get the smallest gradient).",
             f"Сеть с сигмоидой и инициализацией Glorot с {deep} {_hidden_ru(deep, 'ins')}: ${ratio}$ = {first} в "
             f"первую эпоху и {last} в последнюю (веса первого слоя получают наименьший градиент).")
    return effect_outcome(effect_of(claimed, T(f"$\\log({ratio})$, first epoch", f"$\\log({ratio})$, первая эпоха")),
                          [math.log(v) for v in r["values"]], evidence=text, numbers=num)


def check_paralysis(claimed, evidence) -> Outcome:
    """«наступает паралич сети» read as: the deepest sigmoid net typically stays on the chance plateau (loss above
    0.9 ln K for the whole budget), i.e. in most runs: the exact interval of the fraction of seeds stuck lies above
    1/2 (claimed stuck) or below it (claimed not stuck)."""
    van = experiment(evidence, "gradients")["vanishing"]
    deep = _deepest(van)
    pl, acc = van[deep]["plateau"], van[deep]["test_acc"]
    stuck = [v is None for v in pl["values"]]
    num = {"depth": int(deep), "plateau": pl, "test_acc": acc}
    h = pl["horizon"]
    text = T(rf"Sigmoid/Glorot net with {deep} hidden layers: the training loss stays above $0.9 \ln 10$ for the "
             f"whole budget of {h} epochs in {sum(stuck)}/{len(stuck)} seeds; test accuracy {spread_text(acc)} "
             "(chance 0.1).",
             rf"Сеть с сигмоидой и инициализацией Glorot с {deep} {_hidden_ru(deep, 'ins')}: функция потерь на "
             rf"обучающей выборке остаётся выше $0.9 \ln 10$ весь бюджет обучения "
             f"({h} {plural_ru(h, 'эпоха', 'эпохи', 'эпох')}) в {sum(stuck)} из "
             f"{seeds_ru(len(stuck), case='gen')}; точность на тестовой выборке {spread_text(acc)} "
             "(уровень случайного угадывания 0.1).")
    read_as = T("«наступает паралич сети» read as: in most runs",
                "«наступает паралич сети» понимается как: в большинстве запусков")
    effect = Effect(T("fraction of seeds stuck on the plateau", "доля зёрен, в которых сеть застряла на плато"),
                    "greater" if claimed["stuck"] else "less", 0.5, read_as)
    return effect_outcome(effect, decide_fraction(effect, stuck), evidence=text, numbers=num)


def check_shallow(claimed, evidence) -> Outcome:
    """Test accuracy of the shallow sigmoid net minus the deepest one's, per seed (paired): its interval past
    ``min_size`` in the claimed direction."""
    van = experiment(evidence, "gradients")["vanishing"]
    sh, deep = str(claimed["shallow_depth"]), _deepest(van)
    a, b = van[sh]["test_acc"]["values"], van[deep]["test_acc"]["values"]
    diff = [u - v for u, v in zip(a, b)]
    num = {"shallow": int(sh), "deep": int(deep), "test_acc_shallow": van[sh]["test_acc"],
           "test_acc_deep": van[deep]["test_acc"], "difference": diff, "ratio_first_shallow": van[sh]["ratio_first"],
           "ratio_first_deep": van[deep]["ratio_first"], "plateau_shallow": van[sh]["plateau"]}
    acc_sh, acc_deep = spread_text(van[sh]["test_acc"]), spread_text(van[deep]["test_acc"])
    ratio_sh, ratio_deep = spread_text(van[sh]["ratio_first"]), spread_text(van[deep]["ratio_first"])
    text = T(f"Sigmoid/Glorot nets: {sh} hidden layers reach test accuracy {acc_sh} "
             f"(output/first-layer gradient ratio {ratio_sh}), {deep} layers {acc_deep} (ratio {ratio_deep}).",
             f"Сети с сигмоидой и инициализацией Glorot: с {sh} {_hidden_ru(sh, 'ins')} точность на тестовой выборке "
             f"{acc_sh} (отношение градиентов выходного и первого слоя {ratio_sh}), с {deep} — {acc_deep} "
             f"(отношение {ratio_deep}).")
    return effect_outcome(effect_of(claimed, T(f"test accuracy, {sh} minus {deep} hidden layers",
                                               f"точность на тестовой выборке, {sh} {_hidden_ru(sh)} минус {deep} "
                                               f"{_hidden_ru(deep)}")), diff,
                          evidence=text, numbers=num)


def check_zigzag(claimed, evidence) -> Outcome:
    """A unit fed by sigmoid vs tanh outputs (experiment nonzero_centred; seed s draws the same inputs z for both, so
    the seeds are paired): log(steps to reach w*, sigmoid / tanh) and log(path length / straight distance, sigmoid /
    tanh), both intervals on the claimed side of 0 ("slower and zig-zag"). A run that never arrives counts its whole
    budget of steps (a lower bound on its time); how many arrive is reported."""
    nz = experiment(evidence, "nonzero_centred")
    s, t = nz["sigmoid"], nz["tanh"]

    def logs(key):
        cap = float(s["steps_budget"])  # a run that never arrives counts its whole budget
        a = [v if v is not None else cap for v in s[key]["values"]]
        b = [v if v is not None else cap for v in t[key]["values"]]
        return [math.log(u / v) for u, v in zip(a, b)]
    steps, path = T(r"steps to $w^\ast$", r"шаги до $w^\ast$"), T("path / straight distance", "путь / прямая")
    per = {steps: logs("steps_to_tol"), path: logs("path_ratio")}
    effects = {steps: effect_of(claimed, T(r"log of the steps to $w^\ast$, sigmoid / tanh inputs",
                                           r"логарифм отношения числа шагов до $w^\ast$, входы от сигмоиды / tanh")),
               path: effect_of(claimed, T("log of the path / straight distance, sigmoid / tanh inputs",
                                          "логарифм отношения длины пути к расстоянию по прямой, входы от сигмоиды "
                                          "/ tanh"))}
    num = {"sigmoid": s, "tanh": t, "arrived": len(s["seeds"]) - s["steps_to_tol"]["not_reached"]}
    n, arrived = len(s["seeds"]), len(s["seeds"]) - s["steps_to_tol"]["not_reached"]
    s_steps, s_path = spread_text(s["steps_to_tol"]), spread_text(s["path_ratio"])
    t_steps, t_path = spread_text(t["steps_to_tol"]), spread_text(t["path_ratio"])
    text = T(rf"SGD on one unit towards $w^\ast = (1, -1)$, {n} paired seeds: fed by sigmoid outputs "
             f"{s_steps} steps and path/straight {s_path}, fed by tanh {t_steps} steps and {t_path}; sigmoid "
             f"arrives in {arrived}/{n} seeds.",
             rf"SGD для одного нейрона к $w^\ast = (1, -1)$, "
             f"{seeds_ru(n, paired=True)}: на входе выходы сигмоиды — число "
             f"шагов {s_steps}, отношение пути к прямой {s_path}; на входе tanh — число шагов {t_steps}, отношение "
             f"{t_path}; с сигмоидой цель достигнута в {arrived} из {seeds_ru(n, case='gen')}.")
    return effect_outcome(effects, per, evidence=text, numbers=num)


def check_cost(claimed, evidence) -> Outcome:
    """Timing (experiment activation_cost, :func:`sims.experiments.activation_cost.timing_trials`): per named
    operation, log(its time / ReLU's time) over independent trials, each the minimum of alternating repeats with
    preallocated outputs on an in-cache array; every operation's interval on the claimed side of 0 (the slides give
    the direction only: "expensive", "fast"). Several operations: :func:`lecture.method.combine`. A timing depends on
    the machine and the NumPy build, which the evidence names."""
    c = experiment(evidence, "activation_cost")
    logs = c["log_ratio_to_relu"]
    fns = claimed["functions"]
    per = {f: logs[f] for f in fns}
    effects = {f: effect_of(claimed, T(f"log of the time of `{f}` / time of ReLU",
                                       f"логарифм отношения времени `{f}` ко времени ReLU")) for f in fns}
    ratios = {f: [math.exp(v) for v in logs[f]] for f in logs}
    num = {"ratio_to_relu": ratios, "size": c["size"], "trials": c["trials"], "repeats": c["repeats"],
           "dtype": c["dtype"], "numpy": c["numpy"], "machine": c["machine"]}
    measured = ", ".join(f"`{f}` {fmt(float(np.median(v)))} ({fmt(min(v))}–{fmt(max(v))})" for f, v in ratios.items())
    size, trials, repeats = c["size"], c["trials"], c["repeats"]
    text = T(f"Timing (`{c['dtype']}`, {size} elements in cache, outputs preallocated, NumPy {c['numpy']}, "
             f"`{c['machine']}`, {trials} trials of the minimum over {repeats} alternating calls): time "
             f"relative to ReLU's `np.maximum(x, 0)`: {measured}.",
             f"Замер времени (`{c['dtype']}`, {size} {plural_ru(size, 'элемент', 'элемента', 'элементов')} в кэше, "
             f"выходные массивы выделены заранее, NumPy {c['numpy']}, `{c['machine']}`, {trials} "
             f"{plural_ru(trials, 'испытание', 'испытания', 'испытаний')}, в каждом минимум по {repeats} "
             f"{plural_ru(repeats, 'чередующемуся вызову', 'чередующимся вызовам', 'чередующимся вызовам')}): время "
             f"относительно ReLU (`np.maximum(x, 0)`): {measured}.")
    return effect_outcome(effects, per, evidence=text, numbers=num)


def _epochs_text(cfg: dict) -> T:
    """When validation accuracy first rises above 0.9 (EN: "at" + this; RU: "у relu" + this)."""
    f = cfg["first_above"]
    h, n = f["horizon"], len(f["values"])
    if f["never"] == n:
        final = spread_text(cfg["final_val_acc"])
        return T(f"at never within {h} epochs (final val. acc. {final})",
                 f"ни разу за {h} {plural_ru(h, 'эпоху', 'эпохи', 'эпох')} (итоговая точность на валидационной "
                 f"выборке {final})")
    med = fmt(f["median"]) if f["median"] is not None else "n/a"
    med_ru = fmt(f["median"]) if f["median"] is not None else "нет"
    never = (T(f", never in {f['never']}/{n} seeds",
               f", ни разу в {f['never']} из {seeds_ru(n, case='gen')}") if f["never"] else "")
    lo = fmt(f["min"])
    return T(f"at epoch {med} ({lo}–{fmt(f['max']) if f['max'] is not None else 'never'})",
             f"на эпохе {med_ru} ({lo}–{fmt(f['max']) if f['max'] is not None else 'никогда'})") + never


def check_faster(claimed, evidence) -> Outcome:
    """The seminar net (6 x 100, Adam; experiment activations), "converges faster": the area under the validation
    curve (validation accuracy averaged over the epochs), ``faster`` minus ``than``, per seed (paired), its interval
    on the claimed side of 0. The epoch of first crossing 0.9 is reported (it is censored where a run never
    crosses, so it is not the metric)."""
    cfgs = experiment(evidence, "activations")["configs"]
    a, b = claimed["faster"], claimed["than"]
    area = paired(cfgs[a]["curve_area"], cfgs[b]["curve_area"])
    num = {a: cfgs[a]["first_above"], b: cfgs[b]["first_above"], f"{a}_curve_area": cfgs[a]["curve_area"],
           f"{b}_curve_area": cfgs[b]["curve_area"], f"{a}_test_acc": cfgs[a]["test_acc"],
           f"{b}_test_acc": cfgs[b]["test_acc"], "inits": {a: cfgs[a]["init"], b: cfgs[b]["init"]}}
    ea, eb = _epochs_text(cfgs[a]), _epochs_text(cfgs[b])
    area_a, area_b = spread_text(cfgs[a]["curve_area"]), spread_text(cfgs[b]["curve_area"])
    text = T(f"6 × 100 net, Adam, {len(area)} seeds, {a} with `{cfgs[a]['init']}` and {b} with "
             f"`{cfgs[b]['init']}`: validation accuracy first above 0.9 for {a} {ea.en}; for {b} "
             f"{eb.en}; validation accuracy averaged over the epochs {area_a} vs {area_b}.",
             f"Сеть 6 × 100, Adam, {seeds_ru(len(area))}, {a} с `{cfgs[a]['init']}` и {b} с "
             f"`{cfgs[b]['init']}`: точность на валидационной выборке впервые выше 0.9: у {a} — {ea.ru}; у {b} — "
             f"{eb.ru}; точность на валидационной выборке, усреднённая по эпохам, {area_a} против {area_b}.")
    return effect_outcome(effect_of(claimed, T(f"validation accuracy averaged over the epochs, {a} minus {b}",
                                               f"точность на валидационной выборке, усреднённая по эпохам, {a} минус "
                                               f"{b}")), area,
                          evidence=text, numbers=num)


def check_relu_dies(claimed, evidence) -> Outcome:
    """Exact: with ``inactive_fraction`` of a relu layer's units at h < 0 on every input, relu' = 0 there, so the
    layer's gradients are exactly 0 (computed in float64, no tolerance) and, all units off, the output is constant
    (:func:`sims.experiments.dead_units.dead_layer`)."""
    from sims.experiments import dead_units

    r = evidence.get("act-dead-layer", dead_units.dead_layer, seeds=OWN_SEEDS,
                     inactive_fraction=claimed["inactive_fraction"], width=32)
    sym = experiment(evidence, "symmetry")["frozen"]
    zero = all(v == 0 for v in r["max_grad_layer1"])
    num = {**r, "frozen_max_abs_grad": sym["max_abs_grad"], "frozen_max_abs_weight": sym["max_abs_weight"],
           "inactive_fraction": claimed["inactive_fraction"], "gradient_zero": zero}
    frac = fmt(claimed["inactive_fraction"])
    grads = (r"$\max \lvert \partial J / \partial (W_1, b_1) \rvert$ = "
             rf"{fmt(max(r['max_grad_layer1']))}, $\max \lvert \partial J / \partial W_2 \rvert$ = "
             f"{fmt(max(r['max_grad_W2']))}")
    grad0 = rf"$\max \lvert \nabla J \rvert$ = {fmt(sym['max_abs_grad'])}"
    spread, weights = fmt(max(r["logit_spread"])), fmt(sym["max_abs_weight"])
    text = T(f"ReLU net 64-32-32-10 on digits, {OWN_SEEDS} seeds, a fraction {frac} of "
             f"the first layer's units below 0 on every row: {grads}, logit spread over rows {spread}; a ReLU net "
             f"initialized with zeros (experiment `symmetry`): {grad0}, weights after training {weights}.",
             f"Сеть с ReLU 64-32-32-10 на данных digits, {seeds_ru(OWN_SEEDS)}, доля нейронов "
             f"первого слоя с предактивацией ниже 0 на каждом примере — {frac}: {grads}, разброс логитов по "
             f"примерам {spread}; сеть с ReLU, инициализированная нулями (эксперимент `symmetry`): {grad0}, веса "
             f"после обучения {weights}.")
    if zero == claimed["gradient_zero"]:
        return Outcome("confirmed", text, num)
    return Outcome("refuted", text, num,
                   correction=T(f"with {frac} of the units off the layer's gradient is "
                                f"{'exactly 0' if zero else 'non-zero'}",
                                f"при доле выключенных нейронов {frac} градиент слоя "
                                f"{'в точности равен 0' if zero else 'не равен 0'}"))


# ============================================================================== the claims
CLAIMS: tuple[Claim, ...] = (
    # ---------------------------------------------------------------- Паралич сети
    Claim("act-sigmoid-derivative", SIGMOID, r"$\sigma'(x) = \sigma(x) \cdot (1 - \sigma(x))$",
          T(r"The sigmoid's derivative is $\sigma(x)(1 - \sigma(x))$.",
            r"Производная сигмоиды равна $\sigma(x)(1 - \sigma(x))$."),
          {"activation": "sigmoid", "derivative_of_f": F * (1 - F)}, check_derivative_in_f,
          lambda c: scaled(c, "derivative_of_f", 2), figure="activation-sigmoid", derivation="sigmoid-derivative"),
    Claim("act-sigmoid-range", SIGMOID, r"Сигмоида принимает значения на отрезке $[0; 1]$",
          T("The sigmoid takes values on the closed interval $[0, 1]$.",
            "Сигмоида принимает значения на отрезке $[0, 1]$."),
          {"activation": "sigmoid", "range": sp.Interval(0, 1)}, check_range,
          lambda c: {**c, "range": sp.Interval(-1, 1)}, figure="activation-sigmoid"),
    Claim("act-sigmoid-max-derivative", SIGMOID, r"максимальное значение её производной это $\frac{1}{4}$",
          T("The maximum of the sigmoid's derivative is $1/4$.", "Максимум производной сигмоиды равен $1/4$."),
          {"activation": "sigmoid", "max_derivative": sp.Rational(1, 4)}, check_max_derivative,
          lambda c: scaled(c, "max_derivative", 2), figure="activation-sigmoid", derivation="sigmoid-derivative"),
    Claim("act-vanishing-exponential", SIGMOID, "Градиент затухает экспоненциально",
          T("In a deep sigmoid network the gradient decays exponentially (by a constant factor per layer) towards "
            "the input.",
            "В глубокой сети с сигмоидой градиент по направлению ко входу затухает экспоненциально (с постоянным "
            "множителем на слой)."),
          {"direction": "less", "law": "exponential"}, check_exponential, flipped,
          figure="train-gradients", derivation="vanishing-gradient-bound"),
    Claim("act-early-layers-slower", SIGMOID, "более ранние веса обновляются дольше, более глубокие веса быстрее",
          T("In a deep sigmoid network the weights near the input get smaller gradients (update more slowly) than "
            "those near the output.",
            "В глубокой сети с сигмоидой веса у входа получают меньшие градиенты (обновляются медленнее), чем веса "
            "у выхода."),
          {"direction": "greater"}, check_ratio_first, flipped, figure="train-gradients"),
    Claim("act-paralysis", SIGMOID, "наступает **паралич сети**",
          T("A deep sigmoid network gets stuck (network paralysis): training does not leave the initial plateau.",
            "Глубокая сеть с сигмоидой застревает (паралич сети): обучение не выходит с начального плато."),
          {"stuck": True}, check_paralysis, lambda c: flipped(c, "stuck"), figure="train-gradients"),
    Claim("act-shallow-unaffected", SIGMOID, "В сетях с небольшим числом слоёв этот эффект незаметен",
          T("With few layers the vanishing gradient does not hurt: a shallow sigmoid net trains better than a deep "
            "one (the slide states no size).",
            "При малом числе слоёв затухание градиента не мешает: неглубокая сеть с сигмоидой обучается лучше "
            "глубокой (насколько, слайд не говорит)."),
          {"shallow_depth": 2, "direction": "greater"}, check_shallow, flipped,
          figure="train-gradients"),
    # ---------------------------------------------------------------- Центрирование
    Claim("act-same-sign-gradients", CENTRING,
          r"Выход слоя мы обычно находим как $o_i = \sigma(h_i)$ , он всегда положительный, значит градиент по "
          r"весам, идущим на вход в текущий нейрон тоже положительные $\Rightarrow$ они обновляются в одинаковом "
          r"направлении",
          T("Since sigmoid outputs are positive, the gradients of a unit's incoming weights are all positive, so the "
            "weights move in the same direction.",
            "Так как выходы сигмоиды положительны, градиенты по всем входящим весам нейрона положительны, и веса "
            "сдвигаются в одном направлении."),
          {"gradient_signs": ("positive",)}, check_same_sign,
          lambda c: {**c, "gradient_signs": ("positive", "negative")}, figure="train-nonzero-centred"),
    Claim("act-zigzag-converges", CENTRING, "Сходимость идёт медленнее и зигзагообразно, но идёт",
          T("With all-positive (sigmoid) inputs SGD converges more slowly and along a zig-zag path than with "
            "zero-centred (tanh) inputs, but it converges.",
            "На положительных входах (выходах сигмоиды) SGD сходится медленнее и по зигзагообразной траектории, чем "
            "на входах, центрированных относительно нуля (выходах tanh), но сходится."),
          {"direction": "greater"}, check_zigzag, flipped, figure="train-nonzero-centred"),
    # ---------------------------------------------------------------- Sigmoid activation
    Claim("act-sigmoid-vanishing", SIG_SLIDE, "Способствует затуханию градиента",
          T(r"The sigmoid makes the backpropagated gradient shrink from layer to layer ($\chi_1 < 1$) at the "
            "lecture's inits.",
            r"При инициализациях из лекции сигмоида заставляет градиент при обратном распространении убывать от "
            r"слоя к слою ($\chi_1 < 1$)."),
          {"activation": "sigmoid", "vanishes": True, "inits": LECTURE_INITS}, check_vanishing,
          lambda c: {**c, "activation": "relu"}, figure="init-variance-depth"),
    Claim("act-sigmoid-not-centred", SIG_SLIDE, "Не центрирована относительно нуля",
          T("The sigmoid is not zero-centred: its mean over inputs symmetric about 0 is not 0.",
            "Сигмоида не центрирована относительно нуля: её среднее по входам, симметричным относительно 0, не "
            "равно 0."),
          {"activation": "sigmoid", "centred": False}, check_centred, lambda c: flipped(c, "centred"),
          figure="activation-sigmoid"),
    Claim("act-exp-costly", SIG_SLIDE, r"Вычислять $e^x$ дорого",
          T(r"Computing $e^x$ is expensive: `np.exp` costs more than ReLU's $\max(0, x)$ (the slide states no "
            "size).",
            r"Вычислять $e^x$ дорого: `np.exp` обходится дороже, чем $\max(0, x)$ у ReLU (насколько, слайд не "
            "говорит)."),
          {"functions": ("exp",), "direction": "greater"}, check_cost, flipped,
          figure="train-activation-cost"),
    # ---------------------------------------------------------------- Tanh activation
    Claim("act-tanh-centred", TANH_SLIDE, "Центрирован относительно нуля",
          T("tanh is zero-centred: its mean over inputs symmetric about 0 is 0.",
            "tanh центрирован относительно нуля: его среднее по входам, симметричным относительно 0, равно 0."),
          {"activation": "tanh", "centred": True}, check_centred, lambda c: flipped(c, "centred"),
          figure="activation-tanh"),
    Claim("act-tanh-like-sigmoid", TANH_SLIDE, "Всё ещё похож на сигмоиду",
          T(r"tanh is still like the sigmoid: exactly a rescaled sigmoid, $\tanh(x) = 2 \sigma(2x) - 1$.",
            r"tanh всё ещё похож на сигмоиду: это в точности растянутая и сдвинутая сигмоида, "
            r"$\tanh(x) = 2 \sigma(2x) - 1$."),
          {"scale": 2, "rate": 2, "shift": -1}, check_tanh_as_sigmoid, lambda c: scaled(c, "rate", sp.Rational(1, 2)),
          figure="activation-zoo", derivation="tanh-derivative"),
    Claim("act-tanh-derivative", TANH_SLIDE, r"f'(x) = 1 - f(x)^2",
          T(r"The derivative of tanh is $1 - \tanh(x)^2$.", r"Производная tanh равна $1 - \tanh(x)^2$."),
          {"activation": "tanh", "derivative_of_f": 1 - F**2}, check_derivative_in_f,
          lambda c: {**c, "derivative_of_f": 1 - F}, figure="activation-tanh", derivation="tanh-derivative"),
    Claim("act-tanh-vanishing", TANH_SLIDE, r"$f'(x) = 1 - f(x)^2 \Rightarrow$ затухание градиента",
          T(r"Because $\tanh' = 1 - \tanh^2 \le 1$, tanh networks have vanishing gradients ($\chi_1 < 1$) at the "
            "lecture's inits.",
            r"Так как $\tanh' = 1 - \tanh^2 \le 1$, в сетях с tanh при инициализациях из лекции градиент затухает "
            r"($\chi_1 < 1$)."),
          {"activation": "tanh", "vanishes": True, "inits": LECTURE_INITS}, check_vanishing,
          lambda c: {**c, "activation": "sigmoid"}, figure="init-variance-depth", derivation="tanh-derivative"),
    # ---------------------------------------------------------------- ReLU activation
    Claim("act-relu-fast", RELU_SLIDE, "Быстро вычисляется",
          T("ReLU is fast to compute: the sigmoid (SciPy's `expit`) and tanh cost more than ReLU (the slide states "
            "no size).",
            "ReLU быстро вычисляется: сигмоида (`expit` из SciPy) и tanh обходятся дороже ReLU (насколько, слайд не "
            "говорит)."),
          {"functions": ("expit", "tanh"), "direction": "greater"}, check_cost, flipped,
          figure="train-activation-cost"),
    Claim("act-relu-no-vanishing", RELU_SLIDE, "Градиент не затухает",
          T(r"With ReLU the backpropagated gradient does not shrink from layer to layer ($\chi_1 \ge 1$) at the "
            "lecture's inits.",
            r"С ReLU при инициализациях из лекции градиент при обратном распространении не убывает от слоя к слою "
            r"($\chi_1 \ge 1$)."),
          {"activation": "relu", "vanishes": False, "inits": LECTURE_INITS}, check_vanishing,
          lambda c: {**c, "activation": "sigmoid"}, figure="init-variance-depth", derivation="he"),
    Claim("act-relu-faster-convergence", RELU_SLIDE, "Сходимость сетей ускоряется",
          T("Networks with ReLU converge faster than with the sigmoid.",
            "Сети с ReLU сходятся быстрее, чем с сигмоидой."),
          {"faster": "relu", "than": "sigmoid", "direction": "greater"}, check_faster, flipped, figure="train-inits"),
    Claim("act-relu-dies", RELU_SLIDE, "Сетка может умереть, если активация занулится на всех нейронах",
          T("If a ReLU layer's units are all at zero for every input, its gradients are exactly zero and the "
            "network stops learning (dies).",
            "Если все нейроны слоя с ReLU равны нулю на каждом входе, градиенты этого слоя в точности равны нулю и "
            "сеть перестаёт обучаться (умирает)."),
          {"inactive_fraction": 1.0, "gradient_zero": True}, check_relu_dies, lambda c: flipped(c, "gradient_zero"),
          figure="train-symmetry"),
    Claim("act-relu-not-centred", RELU_SLIDE, "Не центрирован относительно нуля",
          T("ReLU is not zero-centred: its mean over inputs symmetric about 0 is positive.",
            "ReLU не центрирован относительно нуля: его среднее по входам, симметричным относительно 0, "
            "положительно."),
          {"activation": "relu", "centred": False}, check_centred, lambda c: flipped(c, "centred"),
          figure="activation-relu"),
    # ---------------------------------------------------------------- Зануление ReLU
    Claim("act-relu-bias-dead", RELU_ZERO,
          r"Если $w_0$ инициализировано большим отрицательным числом, нейрон сразу умирает",
          T("A ReLU unit whose bias $w_0$ starts at a large negative value is dead at once: active on no input.",
            "Нейрон с ReLU, смещение $w_0$ которого инициализировано большим отрицательным числом, сразу мёртв: он "
            "не активен ни на одном входе."),
          {"active_fraction": 0}, check_bias_dead,
          lambda c: {**c, "active_fraction": sp.Rational(1, 2)}, figure="activation-relu"),
    # ---------------------------------------------------------------- Leaky ReLU activation
    Claim("act-leaky-no-dying", LEAKY_SLIDE, "Как ReLU, но не умирает",
          T("Leaky ReLU cannot die: its derivative is never zero.",
            "Leaky ReLU не может умереть: его производная нигде не равна нулю."),
          {"activation": "leaky_relu", "dies": False}, check_no_dying, lambda c: {**c, "activation": "relu"},
          figure="activation-leaky-relu", derivation="leaky-relu-derivative"),
    Claim("act-leaky-derivative-sign", LEAKY_SLIDE, "Производная может быть любого знака",
          T("The derivative of leaky ReLU can be of either sign (read with the slide's only condition on the "
            r"slope, $a \neq 1$; the usual $0 < a < 1$ is checked beside it).",
            "Производная leaky ReLU может быть любого знака (при единственном условии слайда на наклон, "
            r"$a \neq 1$; обычный случай $0 < a < 1$ проверен рядом)."),
          {"a_range": sp.Union(sp.Interval.open(-sp.oo, 1), sp.Interval.open(1, sp.oo)),
           "usual_a_range": sp.Interval.open(0, 1), "derivative_signs": ("positive", "negative")},
          check_leaky_derivative_sign, lambda c: {**c, "derivative_signs": ("positive",)},
          figure="activation-leaky-relu", derivation="leaky-relu-derivative"),
    Claim("act-leaky-linear-at-1", LEAKY_SLIDE, r"Важно, чтобы $a \neq 1$ , иначе линейность",
          T("Leaky ReLU is linear exactly when $a = 1$.", "Leaky ReLU линеен ровно при $a = 1$."),
          {"linear_at": sp.FiniteSet(1)}, check_leaky_linear, lambda c: {**c, "linear_at": sp.FiniteSet(0)},
          figure="activation-leaky-relu", derivation="leaky-relu-derivative"),
    # ---------------------------------------------------------------- Что же выбрать
    # ---------------------------------------------------------------- ELU activation
    Claim("act-elu-deep-convergence", ELU_SLIDE, "ELU улучшает сходимость для глубоких сетей",
          T("ELU converges faster than ReLU in deep networks.",
            "Глубокие сети с ELU сходятся быстрее, чем с ReLU."),
          {"faster": "elu", "than": "relu", "direction": "greater"}, check_faster, flipped, figure="train-inits"),
    Claim("act-elu-formula", ELU_SLIDE,
          r"$$f(x) = \begin{cases} x, & x \geq 0 \\ \alpha \cdot (e^x - 1), & x < 0 \end{cases}$$",
          T(r"ELU is $f(x) = x$ for $x \ge 0$ and $\alpha (e^x - 1)$ for $x < 0$, continuous at 0.",
            r"ELU — это $f(x) = x$ при $x \ge 0$ и $\alpha (e^x - 1)$ при $x < 0$; она непрерывна в 0."),
          {"nonneg_piece": x, "neg_piece": ALPHA * (sp.exp(x) - 1)}, check_elu_formula,
          lambda c: {**c, "neg_piece": ALPHA * sp.exp(x)}, figure="activation-elu", derivation="elu-derivative"),
)

#: Statements of these slides that are not graded (:class:`lecture.registry.NotAClaim`).
NOT_CLAIMS: tuple[NotAClaim, ...] = (
    NotAClaim("act-choice-start-relu", CHOICE, "Обычно начинают с $ReLU$ , если сетка умирает, берут $LeakyReLU$",
              T("practice advice: where to start is a convention, not a fact a computation decides. Its mechanism "
                "is graded elsewhere: a ReLU layer off on every input gets exactly zero gradient (`act-relu-dies`) "
                "and leaky ReLU's derivative is never zero (`act-leaky-no-dying`).",
                "практический совет: с чего начинать — дело соглашения, а не факт, который решает вычисление. Его "
                "механизм проверен в других утверждениях: слой с ReLU, выключенный на всех входах, получает в "
                "точности нулевой градиент (`act-relu-dies`), а производная leaky ReLU нигде не равна нулю "
                "(`act-leaky-no-dying`).")),
    NotAClaim("act-choice-relu-cnn", CHOICE, "$ReLU$ — стандартный выбор для свёрточных сетей",
              T("a statement about common practice in the literature (AlexNet, VGG, ResNet), not decidable by a "
                "computation of this package.",
                "утверждение о распространённой практике в литературе (AlexNet, VGG и ResNet), которое вычисления "
                "этого пакета решить не могут.")),
    NotAClaim("act-choice-tanh-rnn", CHOICE, "В рекуррентных сетках чаще всего предпочитается $tanh$",
              T("a statement about practice; the frameworks' defaults agree (`torch.nn.RNN` with "
                "`nonlinearity='tanh'`, Keras `SimpleRNN`, `LSTM` and `GRU` with `activation='tanh'`, with sigmoid "
                "gates), which documentation, not computation, settles.",
                "утверждение о практике; с ним согласуются значения по умолчанию во фреймворках (`torch.nn.RNN` с "
                "`nonlinearity='tanh'`, в Keras `SimpleRNN`, `LSTM` и `GRU` с `activation='tanh'` и сигмоидными "
                "вентилями), а решает его документация, а не вычисление.")),
    NotAClaim("act-choice-small-gain", CHOICE, "от перебора функций обычно выигрыш в качестве довольно низкий",
              T("«довольно низкий» (rather low) gives neither a size nor a direction to test: any measured gain is "
                "low or not by a threshold the lecture never states. How much the activation changes test accuracy, "
                "each activation at its recommended init, is shown in the figure `train-inits`, not graded.",
                "«довольно низкий» не даёт ни размера, ни направления для проверки: низок измеренный выигрыш или нет, "
                "зависит от порога, которого лекция не называет. Насколько функция активации меняет точность на "
                "тестовой выборке (каждая функция — при рекомендованной для неё инициализации), показано на рисунке "
                "`train-inits`, но не оценивается.")),
)
