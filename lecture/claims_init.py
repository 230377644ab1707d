"""Claims of the weight-initialization slides («Инициализация весов» … «Краткие итоги»), the first «Эксперимент с
MNIST» (Nikolenko, p. 149) and «Стандартизация», each with the check that computes its verdict.

This module holds the slides' statements as data and thin checks: each reads ``claimed``, calls the computation,
compares and words the :class:`~lecture.registry.Outcome`. Exact statements are decided by SymPy in
:mod:`theory.slides.init` (which calls :mod:`theory.variance`, :mod:`theory.init`, :mod:`theory.activations` and
holds the slide's sigmoid unit and its symbols), depth laws by the mean-field recursion
(:func:`theory.slides.init.depth_ratio`, :func:`theory.predict.predict`) and Monte Carlo networks
(:mod:`sims.variance_studies`, through :meth:`lecture.registry.Evidence.get`), and empirical effects by the training
experiments (:func:`lecture.registry.experiment`: ``symmetry``, ``inits``, ``standardization``).
Conventions: ``n_in``, ``n_out`` are the fans of :mod:`theory.init`; the "symmetric case" of the slides is
E[w] = E[x] = 0, so Var(h) = Var(x) n_in Var(w).
"""
from __future__ import annotations

import math
import re

import sympy as sp

from lecture.registry import (Claim, Outcome, effect_of, effect_outcome, experiment, flipped, fmt, scaled,
                              seeds_ru, spread_text, tex)
from theory.init import n_in, n_out
from theory.latex import latex
from theory.slides import init as S
from theory.slides.init import E_x2, g, s1, s2, s3, var_w, var_x, w0, w2, w3
from theory.text import T, plural_ru

PREFIX = "init-"

EXACT_TOL = 1e-12  # closed form / quadrature vs an exact value (quadrature is accurate to ~1e-13 relative)
Z_SE = 4.5  # theory vs Monte Carlo: z standard errors (false-alarm budget ~1e-3 over ~100 checks, STYLE.md)

# Monte Carlo networks (independent networks are the replicas; units of one network are not independent)
MC_WIDTH, MC_DEPTH, MC_BATCH, MC_NETWORKS = 256, 10, 32, 16
DEPTH, WIDTH = 20, 512  # the mean-field depth checks


# ------------------------------------------------------------------------------------------------ prose
def _act(spec: str) -> str:
    """An activation for the prose: its name (tanh, ReLU), or inline math for a formula spec (``x/(1 + Abs(x))``),
    |x| written \\lvert x\\rvert (a bare | would split a Markdown table cell)."""
    if re.fullmatch(r"[a-z]+", spec):
        return {"relu": "ReLU"}.get(spec, spec)
    return tex(sp.sympify(spec)).replace(r"\left|", r"\left\lvert").replace(r"\right|", r"\right\rvert")


def _setting(key: str) -> T:
    """An (activation, init) setting ``tanh/torch_default`` for the prose: tanh with `torch_default`."""
    act, init = key.split("/", 1)
    return T(f"{_act(act)} with `{init}`", f"{_act(act)} с `{init}`")


def _seeds(n: int) -> str:
    """«по n зёрнам»: the dative of зерно after a count n."""
    return f"по {n} {plural_ru(n, 'зерну', 'зёрнам', 'зёрнам')}"


# ------------------------------------------------------------------------------------------------ checks
def _check_chain_rule(claimed, evidence) -> Outcome:
    truth = {"dL_dw2": S.chain_rule(w2), "dL_dw3": S.chain_rule(w3)}
    bad = [key for key, expr in truth.items() if sp.simplify(S.from_unit_output(claimed[key]) - expr) != 0]
    computed = {k: S.in_unit_output(v) for k, v in truth.items()}
    nums = {"computed_dL_dw2": sp.sstr(computed["dL_dw2"]), "computed_dL_dw3": sp.sstr(computed["dL_dw3"]),
            "mismatch": bad}
    dw2 = rf"$\partial L/\partial w_2 = {latex(computed['dL_dw2'])}$"
    dw3 = rf"$\partial L/\partial w_3 = {latex(computed['dL_dw3'])}$"
    text = T(r"SymPy's chain rule on $L(\sigma(w_0 + w_2 \sigma_2 + w_3 \sigma_3))$ gives "
             rf"{dw2} and {dw3} ($g = \partial L/\partial \sigma_1$; $\sigma' = \sigma (1 - \sigma)$).",
             r"Цепное правило в SymPy для $L(\sigma(w_0 + w_2 \sigma_2 + w_3 \sigma_3))$ даёт "
             rf"{dw2} и {dw3} ($g = \partial L/\partial \sigma_1$; $\sigma' = \sigma (1 - \sigma)$).")
    if not bad:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums, correction=f"{dw2}, {dw3}")


_UNIT_NAMES = {1: "sigma_1", 2: "sigma_2", 3: "sigma_3"}
_UNIT_TEX = {name: f"${latex(sp.Symbol(name, real=True))}$" for name in _UNIT_NAMES.values()}  # $\sigma_1$, ...


def _check_zero_pair(claimed, evidence) -> Outcome:
    names = {v: k for k, v in _UNIT_NAMES.items()}
    i, j = (names[u] for u in claimed["pair"])
    grads = S.zero_init_gradients()
    equal_pairs = [(a, b) for a in (1, 2, 3) for b in (1, 2, 3) if a < b and S.same_update(a, b)]
    same = S.same_update(i, j)
    nums = {"gradients_at_zero_init": {_UNIT_NAMES[k]: [sp.sstr(e) for e in v] for k, v in grads.items()},
            "identical_pairs": [[_UNIT_NAMES[a], _UNIT_NAMES[b]] for a, b in equal_pairs],
            "claimed_pair_identical": same}
    unit = {k: _UNIT_TEX[v] for k, v in _UNIT_NAMES.items()}
    text = T(r"With all weights 0 in the slide's net (hidden $\sigma_2$, $\sigma_3$ feed $\sigma_1$), SymPy gives "
             "the first gradients of the incoming weights: "
             + "; ".join(f"{unit[k]}: {' and '.join(tex(e) for e in grads[k])}" for k in (1, 2, 3))
             + r" ($\ell'(1/2) = \partial L/\partial \sigma_1$ at $\sigma_1 = 1/2$); "
             "identical updates only for "
             + (", ".join(f"{unit[a]} and {unit[b]}" for a, b in equal_pairs) or "no pair") + ".",
             r"Когда все веса сети со слайда равны 0 (скрытые $\sigma_2$, $\sigma_3$ подают сигнал на $\sigma_1$), "
             "SymPy даёт первые градиенты входящих весов: "
             + "; ".join(f"{unit[k]}: {' и '.join(tex(e) for e in grads[k])}" for k in (1, 2, 3))
             + r" ($\ell'(1/2) = \partial L/\partial \sigma_1$ при $\sigma_1 = 1/2$); "
             + (f"одинаковые обновления получают только {', '.join(f'{unit[a]} и {unit[b]}' for a, b in equal_pairs)}"
                if equal_pairs else "одинаковых обновлений нет ни у одной пары") + ".")
    if same == claimed.get("identical", True):
        return Outcome("confirmed", text, nums)
    same_pairs = " and ".join(f"{unit[a]}, {unit[b]}" for a, b in equal_pairs) or "no units"
    pair = f"{_UNIT_TEX[claimed['pair'][0]]} и {_UNIT_TEX[claimed['pair'][1]]}"
    return Outcome("refuted", text, nums,
                   correction=T(f"{same_pairs} (the units of one layer; hence also $w_2$ and $w_3$, whose gradients "
                                r"differ only by $\sigma_2$ vs $\sigma_3$) are updated identically, "
                                f"{_UNIT_TEX[claimed['pair'][0]]} and {_UNIT_TEX[claimed['pair'][1]]} are not",
                                f"одинаково обновляются {'; '.join(f'{unit[a]} и {unit[b]}' for a, b in equal_pairs)} "
                                r"(нейроны одного слоя; а значит, и $w_2$ и $w_3$, чьи градиенты различаются только "
                                rf"множителем $\sigma_2$ или $\sigma_3$), а {pair} — нет" if equal_pairs else
                                f"одинаково не обновляется ни одна пара нейронов, в том числе {pair}"))


def _check_break_symmetry(claimed, evidence) -> Outcome:
    res = experiment(evidence, "symmetry")
    runs = res["runs"]

    def identical(r):  # bitwise identical units, or differences at rounding level
        return r["max_distinct"] == 1 or r["max_relative"]["max"] < 1e-12

    sym = {i: identical(runs[i]) for i in claimed["symmetric_inits"]}
    control = runs[claimed["random_init"]]
    measured = all(sym.values())
    control_ok = not identical(control)
    nums = {i: {"max_distinct": runs[i]["max_distinct"], "max_relative": runs[i]["max_relative"],
                "exact_seeds": runs[i]["exact"], "test_acc": runs[i]["test_acc"]}
            for i in (*claimed["symmetric_inits"], claimed["random_init"])}
    nums["seeds"] = len(res["seeds"])
    parts = [f"`{i}`: {runs[i]['max_distinct']} distinct unit(s) per layer, max relative difference "
             f"{fmt(runs[i]['max_relative']['max'])}, test acc {spread_text(runs[i]['test_acc'])}"
             for i in claimed["symmetric_inits"]]
    parts_ru = [f"`{i}`: различных нейронов в слое — {runs[i]['max_distinct']}, наибольшая относительная разница "
                f"{fmt(runs[i]['max_relative']['max'])}, точность на тестовой выборке "
                f"{spread_text(runs[i]['test_acc'])}" for i in claimed["symmetric_inits"]]
    text = T(f"Sigmoid nets trained on digits over {len(res['seeds'])} seeds: " + "; ".join(parts)
             + f"; the random control `{claimed['random_init']}`: {control['max_distinct']} distinct units, "
               f"test acc {spread_text(control['test_acc'])}.",
             f"Сигмоидные сети, обученные на рукописных цифрах, {_seeds(len(res['seeds']))}: " + "; ".join(parts_ru)
             + f"; контрольная случайная инициализация `{claimed['random_init']}`: различных нейронов — "
               f"{control['max_distinct']}, точность на тестовой выборке {spread_text(control['test_acc'])}.")
    if measured == claimed["stay_identical"] and control_ok:
        return Outcome("supported", text, nums)
    return Outcome("not-supported", text, nums,
                   correction=(T("zero/constant-initialized units stayed identical in every seed",
                                 "нейроны с нулевой или постоянной инициализацией остались одинаковыми при всех "
                                 "зёрнах")
                               if measured else T("zero/constant-initialized units became different",
                                                  "нейроны с нулевой или постоянной инициализацией стали различными"))
                   + ("" if control_ok else T("; the random control did not break the symmetry either",
                                              "; контрольная случайная инициализация тоже не нарушила симметрию")))


_MC_CONFIGS = (("tanh", "torch_default"), ("relu", "keras_uniform"), ("relu", "uniform:sqrt(12/n_in)"))


def _mc(evidence) -> dict:
    from sims.variance_studies import layer_factors

    return evidence.get("init-mc-depth", lambda configs: layer_factors([tuple(c) for c in configs], MC_WIDTH, MC_DEPTH,
                                                                          MC_BATCH, MC_NETWORKS),
                        configs=[list(c) for c in _MC_CONFIGS])


def _ratio_text(name: str, r: dict) -> T:
    import numpy as np

    setting, n = _setting(name), len(r["ratios"])
    spread = f"{fmt(float(np.median(r['ratios'])))} ({fmt(min(r['ratios']))}–{fmt(max(r['ratios']))})"
    last = rf"$\mathrm{{Var}}(h_{{{MC_DEPTH}}})$ = {fmt(r['last'])} ± {fmt(r['last_se'])}"
    return T(f"{setting.en}: per-layer factor {spread} over {n} networks (mean field {fmt(r['theory_ratio'])}), "
             + last,
             f"{setting.ru}: множитель на слой {spread} по {n} {plural_ru(n, 'сети', 'сетям', 'сетям')} "
             f"(среднее поле: {fmt(r['theory_ratio'])}), " + last)


def _log_factor(key: str) -> T:
    """The metric of a depth claim: the log of the per-layer variance factor of the setting ``key``."""
    setting = _setting(key)
    return T(f"log per-layer variance factor of {setting.en}",
             f"логарифм множителя дисперсии на слой для {setting.ru}")


def _check_vanish_explode(claimed, evidence) -> Outcome:
    """Per network, the log of the fitted per-layer variance factor (independent networks): in every network kind
    its interval on the claimed side of 0 (the slide gives the direction only: shrinks or grows)."""
    mc = _mc(evidence)
    nums, parts, per, effects = {}, [], {}, {}
    for key, direction in claimed["directions"].items():
        r = mc[key]
        per[_setting(key)] = [math.log(v) for v in r["ratios"]]
        effects[_setting(key)] = effect_of({"direction": direction}, _log_factor(key))
        nums[key] = {"ratios": r["ratios"], "theory_ratio": r["theory_ratio"], "last": r["last"],
                     "last_se": r["last_se"]}
        parts.append(_ratio_text(key, r))
    text = (T(f"Monte Carlo, width {MC_WIDTH}, depth {MC_DEPTH}, ",
              f"Монте-Карло, ширина {MC_WIDTH}, глубина {MC_DEPTH}, ")
            + "$\\mathrm{Var}(x) = 1$: " + T("; ", "; ").join(parts) + ".")
    return effect_outcome(effects, per, evidence=text, numbers=nums)


#: the laws of :data:`theory.variance.FAMILIES` in Russian (a two-point law keeps its parameter: двухточечный(1/5))
_LAWS_RU = {"normal": "нормальный", "uniform": "равномерный", "two-point": "двухточечный"}


def _law(family: str) -> str:
    """A family of :data:`theory.variance.FAMILIES` in Russian prose: two-point(1/5) -> двухточечный(1/5)."""
    name, _, param = family.partition("(")
    return _LAWS_RU.get(name, name) + (f"({param}" if param else "")


def _check_bias_constant(claimed, evidence) -> Outcome:
    shifts = S.bias_variance_shifts()
    fams, diffs = list(shifts), list(shifts.values())
    agree = all(sp.simplify(d - claimed["variance_shift"]) == 0 for d in diffs)
    nums = {"variance_shift": [sp.sstr(d) for d in diffs], "laws": ["/".join(f) for f in fams]}
    shift = r"`sympy.stats`: $\mathrm{Var}(w_0 + w_1 x_1 + w_2 x_2) - \mathrm{Var}(w_1 x_1 + w_2 x_2)$ "
    text = T(shift + "is " + " and ".join(tex(d) for d in diffs) + " for the "
             + " and ".join("/".join(f) for f in fams)
             + " laws of $(w, x)$ with symbolic means and variances ($w_0$ a constant).",
             shift + "равна " + " и ".join(tex(d) for d in diffs) + " для пар законов $(w, x)$ "
             + " и ".join("/".join(_law(f) for f in pair) for pair in fams)
             + " с символьными средними и дисперсиями ($w_0$ — константа).")
    if agree:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction=T(rf"adding the constant $w_0$ changes $\mathrm{{Var}}(h)$ by {tex(diffs[0])}",
                                rf"прибавление константы $w_0$ меняет $\mathrm{{Var}}(h)$ на {tex(diffs[0])}"))


def _check_product_variance(claimed, evidence) -> Outcome:
    truth = S.product_variance_cases()["var_wx"]
    stated = sp.sympify(claimed["var_wx"])
    nums = {"computed": sp.sstr(truth), "claimed": sp.sstr(stated)}
    formula = rf"$\mathrm{{Var}}(w x) = {latex(truth)}$"
    text = T("`sympy.stats` (normal $w$, $x$; the same result for uniform and skewed two-point laws): "
             + formula + r" with $E(w) = \mu_w$, $E(x) = \mu_x$, $\mathrm{Var} = \sigma^2$.",
             "`sympy.stats` (нормальные $w$, $x$; тот же результат для равномерных и асимметричных двухточечных "
             "законов): " + formula + r", где $E(w) = \mu_w$, $E(x) = \mu_x$, $\mathrm{Var} = \sigma^2$.")
    if sp.simplify(truth - stated) == 0:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums, correction=rf"$\mathrm{{Var}}(w x) = {latex(truth)}$")


#: activations that are "symmetric" in some sense: odd (tanh, identity, softsign), even (|x|), and point-symmetric
#: about (0, 1/2) (sigmoid)
SYMMETRIC_ACTIVATIONS = ("tanh", "linear", "x/(1 + Abs(x))", "Abs(x)", "sigmoid")


def _symmetry(kind: str, plural: bool = False) -> str:
    """A :func:`theory.slides.init.symmetry_kind` in Russian, agreeing with «функция активации» (``plural``: the
    genitive plural, «нечётных функций»): odd, even, point-symmetric about (0, c), none."""
    words = {"odd": ("нечётная", "нечётных"), "even": ("чётная", "чётных"),
             "point-symmetric": ("центрально-симметричная", "центрально-симметричных"),
             "none": ("несимметричная", "несимметричных")}
    name, about, point = kind.partition(" about ")
    word = words.get(name, (name, name))[plural]
    return f"{word} относительно {point}" if about else word


def _check_symmetric_mean(claimed, evidence) -> Outcome:
    means = S.activation_means(SYMMETRIC_ACTIVATIONS)
    target = float(claimed["mean"])
    holds = [a for a, (m, kind) in means.items() if kind != "none" and abs(m - target) < EXACT_TOL]
    fails = [a for a, (m, kind) in means.items() if kind != "none" and a not in holds]
    nums = {a: {"mean": m, "symmetry": k} for a, (m, k) in means.items()}
    text = T(r"$E(\varphi(h))$ for $h \sim N(0, 1)$ (Gaussian quadrature / closed form): "
             + "; ".join(f"{_act(a)} ({k}) {fmt(m) if abs(m) > EXACT_TOL else '0'}" for a, (m, k) in means.items())
             + ".",
             r"$E(\varphi(h))$ при $h \sim N(0, 1)$ (гауссова квадратура или замкнутая формула): "
             + "; ".join(f"{_act(a)} ({_symmetry(k)}) {fmt(m) if abs(m) > EXACT_TOL else '0'}"
                         for a, (m, k) in means.items())
             + ".")
    truth = ", ".join(f"{_act(a)}: {fmt(means[a][0])}" for a in fails)
    if not fails:
        return Outcome("confirmed", text, nums)
    if holds:
        kinds = sorted({means[a][1] for a in holds})
        names = ", ".join(_act(a) for a in holds)
        return Outcome("imprecise", text, nums,
                       condition=T(f"only for {' / '.join(kinds)} activations ({names}) "
                                   "with $h$ symmetric about 0 (zero-mean symmetric weights and inputs)",
                                   f"только для {' / '.join(_symmetry(k, plural=True) for k in kinds)} функций "
                                   f"активации ({names}) при $h$, симметричном относительно 0 (симметричные веса и "
                                   "входы с нулевым средним)"),
                       correction=T(f"other “symmetric” activations have $E(x) \\neq {fmt(target)}$: {truth}",
                                    f"у других «симметричных» функций активации $E(x) \\neq {fmt(target)}$: {truth}"))
    return Outcome("refuted", text, nums, correction=T(f"$E(x)$ for these activations: {truth}",
                                                       f"$E(x)$ для этих функций активации: {truth}"))


def _check_layer_variance(claimed, evidence) -> Outcome:
    total = S.symmetric_layer_variance()
    stated = S.in_variance_symbols(claimed["var_h"])
    nums = {"computed": sp.sstr(total), "claimed": sp.sstr(stated)}
    text = T(r"`sympy.stats`: $\mathrm{Var}(\sum_i w_i x_i)$ over $n_{in}$ iid independent terms is "
             rf"$n_{{in}} \mathrm{{Var}}(w x) = {latex(total)}$ with $E(w) = E(x) = 0$ (the product variance with "
             "both means 0).",
             r"`sympy.stats`: $\mathrm{Var}(\sum_i w_i x_i)$ по $n_{in}$ независимым одинаково распределённым "
             rf"слагаемым равна $n_{{in}} \mathrm{{Var}}(w x) = {latex(total)}$ при $E(w) = E(x) = 0$ (дисперсия "
             "произведения, когда оба средних равны 0).")
    if sp.simplify(total - stated) == 0:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction=rf"$\mathrm{{Var}}(h) = {latex(total)}$ ($\sigma^2 = \mathrm{{Var}}$)")


def _check_gain_over_depth(claimed, evidence) -> Outcome:
    """Per (activation, init): Var(h_L)/Var(h_1) by the mean-field recursion against the claimed ratio."""
    depth = claimed["depth"]
    rows = {f"{a}/{i}": S.depth_ratio(a, i, depth, claimed["width"]) for a, i in claimed["pairs"]}
    fans = {f"{a}/{i}": S.init_fans(i) for a, i in claimed["pairs"]}
    target = float(claimed["ratio"])
    holds = [k for k, r in rows.items() if abs(r["ratio"] - target) < 1e-9]
    fails = [k for k in rows if k not in holds]
    nums = {k: {**r, "weight_var_depends_on": fans[k]} for k, r in rows.items()}
    var = r"\mathrm{Var}"
    st = {k: _setting(k) for k in rows}

    def layers(r) -> str:
        return f"${var}(h_1) = {fmt(r['first'])}$, ${var}(h_{{{depth}}}) = {fmt(r['last'])}$"
    text = T(f"Mean field (`theory.predict`), width {claimed['width']}, ${var}(x) = 1$: "
             + "; ".join(f"{st[k].en}: {layers(r)} "
                         f"(ratio {fmt(r['ratio'])}, first layer-to-layer factor {fmt(r['first_step'])})"
                         for k, r in rows.items()) + ".",
             f"Среднее поле (`theory.predict`), ширина {claimed['width']}, ${var}(x) = 1$: "
             + "; ".join(f"{st[k].ru}: {layers(r)} "
                         f"(отношение {fmt(r['ratio'])}, первый множитель от слоя к слою {fmt(r['first_step'])})"
                         for k, r in rows.items()) + ".")
    ratio = {k: f"${var}(h_{{{depth}}})/{var}(h_1) = {fmt(rows[k]['ratio'])}$" for k in fails}
    truth = T("; ".join(f"{st[k].en} gives {ratio[k]}" for k in fails),
              "; ".join(f"{st[k].ru} даёт {ratio[k]}" for k in fails))
    if not fails:
        return Outcome("confirmed", text, nums)
    if holds:
        level = T(", ".join(f"{st[k].en} (${var}(h_l) = {fmt(rows[k]['first'])}$ at every layer for ${var}(x) = 1$)"
                            for k in holds),
                  ", ".join(f"{st[k].ru} (${var}(h_l) = {fmt(rows[k]['first'])}$ на каждом слое при ${var}(x) = 1$)"
                            for k in holds))
        wanted = sorted(claimed.get("depends_on", ()))
        fan_only = [k for k in holds if wanted and fans[k] != wanted]

        def side(k) -> T:
            return T("below", "меньше") if rows[k]["first_step"] < 1 else T("above", "больше")
        fan_tex = {k: ", ".join(tex(sp.Symbol(f)) for f in fans[k]) for k in fan_only}
        return Outcome("imprecise", text, nums,
                       condition=T(f"the ratio {fmt(target)} holds only for {level.en}; "
                                   + "; ".join(f"for {st[k].en} the layer-to-layer factor is "
                                               f"{side(k).en} 1 (first "
                                               f"{fmt(rows[k]['first_step'])})" for k in fails)
                                   + f", tending to 1 only in the linear regime, ${var}(h) \\to 0$"
                                   + "".join(f"; for {st[k].en}, ${var}(w)$ depends on "
                                             f"{fan_tex[k]} only" for k in fan_only),
                                   f"отношение {fmt(target)} получается только для {level.ru}; "
                                   + "; ".join(f"для {st[k].ru} множитель от слоя к слою {side(k).ru} 1 (первый — "
                                               f"{fmt(rows[k]['first_step'])})" for k in fails)
                                   + f", и к 1 он стремится только в линейном режиме, ${var}(h) \\to 0$"
                                   + "".join(f"; для {st[k].ru} ${var}(w)$ зависит только от {fan_tex[k]}"
                                             for k in fan_only)),
                       correction=truth)
    return Outcome("refuted", text, nums, correction=truth)


def _check_uniform_weight_var(claimed, evidence) -> Outcome:
    truth = S.uniform_weight_var(claimed["bound"])
    stated = sp.sympify(claimed["weight_var"])
    nums = {"bound": sp.sstr(claimed["bound"]), "computed": sp.sstr(truth), "claimed": sp.sstr(stated),
            "ratio": sp.sstr(sp.simplify(truth / stated))}
    gives = rf"$a = {latex(claimed['bound'])}$"
    text = T(r"Integrating the uniform density (`theory.variance`): $\mathrm{Var}\,U[-a, a] = a^2/3$, so "
             + gives + rf" gives $\mathrm{{Var}}(w) = {latex(truth)}$ (the slide: {tex(stated)}).",
             r"Интегрирование равномерной плотности (`theory.variance`): $\mathrm{Var}\,U[-a, a] = a^2/3$, поэтому "
             + gives + rf" даёт $\mathrm{{Var}}(w) = {latex(truth)}$ (на слайде: {tex(stated)}).")
    if sp.simplify(truth - stated) == 0:
        return Outcome("confirmed", text, nums)
    times, bound = tex(sp.simplify(truth / stated)), tex(S.uniform_bound_for(stated))
    return Outcome("refuted", text, nums,
                   correction=T(rf"$\mathrm{{Var}}(w) = {latex(truth)}$, {times} times the "
                                rf"slide's value; the bound with $\mathrm{{Var}}(w) = {latex(stated)}$ is "
                                f"{bound}",
                                rf"$\mathrm{{Var}}(w) = {latex(truth)}$, то есть значение со слайда, умноженное на "
                                rf"{times}; $\mathrm{{Var}}(w) = {latex(stated)}$ даёт граница {bound}"))


def _check_uniform_layer_var(claimed, evidence) -> Outcome:
    """The slides' symmetric case: Var(h) = Var(x) n_in Var(w); what the same init gives for ReLU inputs is noted."""
    layer = S.uniform_layer_variance(claimed["bound"], claimed["var_x"])
    wv, sym, relu = layer["weight_var"], layer["symmetric"], layer["relu_inputs"]
    stated = sp.sympify(claimed["var_h"])
    nums = {"symmetric_case": sp.sstr(sym), "relu_inputs": sp.sstr(relu), "claimed": sp.sstr(stated)}
    var = r"\mathrm{Var}"
    wvar = f"${var}(w) = {latex(wv)}$"
    hvar = f"${var}(h) = {var}(x)\\,n_{{in}}\\,{var}(w) = {latex(sym)}$"
    xvar = f"${var}(x) = {latex(claimed['var_x'])}$"
    relu_x2 = f"($E(x^2) = {var}(h_{{\\text{{prev}}}})/2$)"
    text = T(f"{wvar} (uniform density), so {hvar} for {xvar} and $E(w) = E(x) = 0$ (the slides' symmetric "
             f"case); for ReLU inputs {relu_x2} it would be {tex(relu)}.",
             f"{wvar} (равномерная плотность), поэтому {hvar} при {xvar} и $E(w) = E(x) = 0$ (симметричный случай "
             f"слайдов); для входов после ReLU {relu_x2} получилось бы {tex(relu)}.")
    if sp.simplify(sym - stated) == 0:
        return Outcome("confirmed", text, nums)
    note = (T(f"; the value {tex(stated)} holds only for ReLU inputs (He's $E(x^2) = {var}(h)/2$)",
              f"; значение {tex(stated)} верно только для входов после ReLU (случай He: $E(x^2) = {var}(h)/2$)")
            if sp.simplify(relu - stated) == 0 else "")
    return Outcome("refuted", text, nums, correction=f"${var}(h) = {latex(sym * var_x)}$" + note)


def _check_bad_decay(claimed, evidence) -> Outcome:
    """«Получаем затухание!»: the log per-layer variance factor of tanh nets with U[-1/sqrt(n_in), 1/sqrt(n_in)]
    weights, one per network, its interval on the claimed side of 0 (the slide states the direction; the factor 1/3
    of the linear case, decided exactly by init-bad-uniform-layer-var, is reported beside the measurement)."""
    mc = _mc(evidence)
    key = claimed["network"]
    r = mc[key]
    logs = [math.log(v) for v in r["ratios"]]
    nums = {"ratios": r["ratios"], "theory_ratio": r["theory_ratio"], "first": r["first"], "last": r["last"],
            "last_se": r["last_se"], "theory_first": r["theory_first"], "theory_last": r["theory_last"],
            "linear_factor": str(claimed["factor"])}
    law, first = r"$U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$", rf"$\mathrm{{Var}}(h_1) = {fmt(r['first'])}$"
    text = (T(f"Monte Carlo tanh nets with {law}, width {MC_WIDTH}, $\\mathrm{{Var}}(x) = 1$: {first} "
              f"(theory {fmt(r['theory_first'])}), ",
              f"Сети с tanh и {law} (Монте-Карло), ширина {MC_WIDTH}, $\\mathrm{{Var}}(x) = 1$: {first} "
              f"(теория: {fmt(r['theory_first'])}), ")
            + _ratio_text(key, r)
            + T(f" (theory {fmt(r['theory_last'])}; the linear factor is {tex(claimed['factor'])}).",
                f" (теория: {fmt(r['theory_last'])}; в линейном случае множитель {tex(claimed['factor'])})."))
    return effect_outcome(effect_of(claimed, _log_factor(key)), logs, evidence=text, numbers=nums)


def _check_backward(claimed, evidence) -> Outcome:
    from sims.variance_studies import backward_factors, backward_variances

    res = evidence.get("init-mc-backward", backward_variances, widths=list(claimed["widths"]), batch=MC_BATCH,
                       networks=2 * MC_NETWORKS)
    n = res["widths"]
    stated = sp.sympify(claimed["backward_gain"])
    rows, exact_ok, mc_ok = [], True, True
    for f in backward_factors(res):  # delta_(l-1) = W_l^T delta_l: W_l has fan_in n_(l-1), fan_out n_l
        formula = float(stated.subs({n_out: f["n_out"], n_in: f["n_in"], var_w: f["weight_var"]}))
        pred, mc, se = f["mean_field"], f["mc"], f["mc_se"]
        exact_ok &= abs(pred - formula) < 1e-9 * max(1.0, abs(pred))
        mc_ok &= abs(mc - formula) < Z_SE * se
        rows.append({"layer": f["layer"], "n_in": f["n_in"], "n_out": f["n_out"], "formula": formula,
                     "mean_field": pred, "mc": mc, "mc_se": se})
    fwd_constant = max(res["pred_preact"]) - min(res["pred_preact"]) < 1e-9
    grad_varies = max(res["pred_grad"]) / min(res["pred_grad"]) > 1.5
    nums = {"rows": rows, "forward": res["pred_preact"], "grad_var": res["pred_grad"], "mc_grad_var": res["grad_mean"]}
    widths, wvar = ", ".join(str(w) for w in n), r"$\mathrm{Var}(w) = 1/n_{in}$"
    fwd, grad = fmt(res["pred_preact"][0]), ", ".join(fmt(v) for v in res["pred_grad"])
    grad_mc = ", ".join(fmt(v) for v in res["grad_mean"])
    factors = ", ".join(f"{fmt(r['mc'])} ± {fmt(r['mc_se'])}" for r in rows)
    formula = ", ".join(fmt(r["formula"]) for r in rows)
    text = T(f"Linear net, widths {widths}, {wvar}: the forward "
             f"variance stays {fwd} at every layer while $\\mathrm{{Var}}(\\delta_l)$ is "
             f"{grad} (mean field; Monte Carlo {grad_mc}); per-layer backward factors {factors}"
             f" against the formula {tex(stated)}: {formula}.",
             f"Линейная сеть, ширины слоёв {widths}, {wvar}: дисперсия при прямом проходе остаётся равной {fwd} на "
             f"каждом слое, а $\\mathrm{{Var}}(\\delta_l)$ равна {grad} (среднее поле; Монте-Карло: {grad_mc}); "
             f"множители обратного прохода по слоям {factors}, а по формуле {tex(stated)}: {formula}.")
    if exact_ok and mc_ok and fwd_constant and grad_varies:
        return Outcome("confirmed", text, nums)
    measured = ", ".join(fmt(r["mean_field"]) for r in rows)
    return Outcome("refuted", text, nums,
                   correction=T(r"the backward factor is $n_{out}\,\mathrm{Var}(w)\,E(\varphi'^2)$; measured "
                                + measured,
                                r"множитель обратного прохода равен $n_{out}\,\mathrm{Var}(w)\,E(\varphi'^2)$; "
                                "получено: "
                                + measured))


def _check_xavier_average(claimed, evidence) -> Outcome:
    fan = sp.sympify(claimed["average_fan"])
    xa = S.xavier_average(claimed["bound"], fan)
    wv, fwd, bwd, gain = xa["weight_var"], xa["forward"], xa["backward"], xa["fan_times_var"]
    both = xa["both"]  # needs n_in = n_out
    nums = {"weight_var": sp.sstr(wv), "claimed_fan": sp.sstr(fan), "fan_times_var": sp.sstr(gain),
            "forward": sp.sstr(fwd), "backward": sp.sstr(bwd), "both_solvable_for_unequal_sizes": bool(both)}
    var = r"\mathrm{Var}"
    fwd_var, wvar, mean = f"${var}(w) = {latex(fwd)}$", f"${var}(w) = {latex(wv)}$", r"$(n_{in} + n_{out})/2$"
    cond = f"$\\left({latex(fan)}\\right) {var}(w) = {latex(gain)}$"
    text = T(f"The forward condition gives {fwd_var}, the backward one {tex(bwd)}: both hold only "
             f"if $n_{{in}} = n_{{out}}$. The slide's bound gives {wvar} (uniform density), i.e. "
             f"{cond}: the condition with the averaged fan "
             f"{mean} (the harmonic mean of {tex(fwd)} and {tex(bwd)}).",
             f"Условие для прямого прохода даёт {fwd_var}, для обратного — {tex(bwd)}: оба выполняются, только "
             f"если $n_{{in}} = n_{{out}}$. Граница со слайда даёт {wvar} (равномерная плотность), то есть "
             f"{cond}: это условие с усреднённым числом связей {mean} (среднее гармоническое {tex(fwd)} и "
             f"{tex(bwd)}).")
    if gain == 1 and not both:
        return Outcome("confirmed", text, nums)
    true_fan = xa["true_fan"]
    holds = f"$\\left({latex(true_fan)}\\right) {var}(w) = 1$"
    return Outcome("refuted", text, nums,
                   correction=T(f"the bound satisfies {holds}, i.e. the averaged fan {mean}",
                                f"граница удовлетворяет условию {holds}, то есть соответствует усреднённому числу "
                                f"связей {mean}"))


def _check_xavier_normal(claimed, evidence) -> Outcome:
    xn = S.xavier_normal(claimed["uniform_bound"])  # the analogue: the same variance as the slide's uniform
    target, s, plain = xn["target"], xn["std"], xn["plain"]  # plain: sympy.stats Var N(0, s^2)
    stated = sp.sympify(claimed["normal_weight_var"])
    # Keras' truncated normal (redrawn beyond 2 sd): Var = s^2 * factor, so it divides s by the root
    trunc_var_factor = xn["truncated_var_factor"]
    ok = sp.simplify(stated - target) == 0 and sp.simplify(plain - target) == 0
    nums = {"target": sp.sstr(target), "plain_normal_std": sp.sstr(s),
            "keras_truncated_std_factor": math.sqrt(trunc_var_factor),
            "truncated_with_plain_std_ratio": trunc_var_factor}
    b = latex(claimed["uniform_bound"])
    law, wvar, std = f"$U[-{b}, {b}]$", f"$\\mathrm{{Var}}(w) = {latex(target)}$", f"$s = {latex(s)}$"
    trunc, root = f"${fmt(trunc_var_factor, 4)}\\,s^2$", fmt(math.sqrt(trunc_var_factor), 6)
    text = T(f"The normal analogue of {law} has {wvar}: $N(0, s^2)$ with "
             f"{std} (`sympy.stats`); Keras' `glorot_normal` draws a normal truncated at 2 sd, whose "
             f"variance is {trunc}, so it divides $s$ by "
             f"{root} to keep the same $\\mathrm{{Var}}(w)$.",
             f"Нормальный аналог {law} имеет {wvar}: $N(0, s^2)$ с {std} (`sympy.stats`); `glorot_normal` в Keras "
             f"берёт нормальное распределение, усечённое на двух стандартных отклонениях, с дисперсией {trunc}, "
             f"поэтому делит $s$ на {root}, чтобы сохранить ту же $\\mathrm{{Var}}(w)$.")
    if ok:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction=T(f"{wvar} (std {tex(s)} untruncated)",
                                f"{wvar} (стандартное отклонение {tex(s)} без усечения)"))


def _check_he_layer(claimed, evidence) -> Outcome:
    total = S.he_layer_variance()  # only E[w] = 0: the non-symmetric case
    stated = S.in_variance_symbols(claimed["var_h"])  # E_x2 = E[x^2] = Var(x) + E[x]^2
    nums = {"computed": sp.sstr(sp.factor(total)), "claimed": sp.sstr(sp.factor(stated))}
    var = r"\mathrm{Var}"
    hvar = (f"${var}(h) = n_{{in}}\\,{var}(w x) = {latex(sp.factor(total))} = "
            f"n_{{in}}\\,{var}(w)\\,({var}(x) + E(x)^2) = E(x^2)\\,n_{{in}}\\,{var}(w)$")
    text = T(f"`sympy.stats` with $E(w) = 0$ and $E(x) = \\mu_x \\neq 0$: {hvar}.",
             f"`sympy.stats` при $E(w) = 0$ и $E(x) = \\mu_x \\neq 0$: {hvar}.")
    if sp.simplify(total - stated) == 0:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction=f"${var}(h) = {latex(sp.factor(total))} = E(x^2)\\,n_{{in}}\\,{var}(w)$")


#: the laws of :func:`theory.slides.init.relu_second_over_var` (its keys, kept in the numbers) for the prose
_LAW_PROSE = {"normal N(0, s^2)": T("normal $N(0, s^2)$", "нормальный $N(0, s^2)$"),
              "uniform U[-s, s]": T("uniform $U[-s, s]$", "равномерный $U[-s, s]$"),
              "Laplace(0, s)": T("Laplace $(0, s)$", "закон Лапласа $(0, s)$")}


def _check_he_relu_moment(claimed, evidence) -> Outcome:
    ratios = S.relu_second_over_var()
    stated = sp.sympify(claimed["coefficient"])
    ok = all(sp.simplify(r - stated) == 0 for r in ratios.values())
    nums = {k: sp.sstr(v) for k, v in ratios.items()}
    laws = T(", ", ", ").join(_LAW_PROSE.get(k, k) + f": {tex(v)}" for k, v in ratios.items())
    text = (T(r"$E(\max(0, h)^2)/\mathrm{Var}(h)$ integrated (SymPy) for laws symmetric about 0: ",
              r"$E(\max(0, h)^2)/\mathrm{Var}(h)$, проинтегрированное в SymPy для законов, симметричных "
              "относительно 0: ") + laws + ".")
    if ok:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums,
                   correction=rf"$E(x^2) = {latex(next(iter(ratios.values())))}\,\mathrm{{Var}}(h)$")


def _check_he_weight_var(claimed, evidence) -> Outcome:
    solved = S.he_weight_var()  # Var(h_l) = Var(h_(l-1)) (1/2) n_in Var(w)
    stated = sp.sympify(claimed["weight_var"])
    depth = S.depth_ratio("relu", "he_uniform", DEPTH, WIDTH)
    nums = {"computed": sp.sstr(solved), "claimed": sp.sstr(stated), "he_relu_depth": depth}
    half = S.relu_second_moment_ratio()
    var = r"\mathrm{Var}"
    eq, moment = f"${latex(half)}\\,n_{{in}}\\,{var}(w) = 1$", f"$E(\\mathrm{{relu}}(h)^2) = {latex(half)}\\,{var}(h)$"
    wvar, hvar = f"${var}(w) = {latex(solved)}$", f"${var}(h_l) = {fmt(depth['first'])}$"
    text = T(f"Solving {eq} (with {moment} from the closed form) gives "
             f"{wvar}; the mean field with it keeps {hvar} through "
             f"{DEPTH} ReLU layers (largest per-layer change {fmt(depth['max_step_dev'])}).",
             f"Решение уравнения {eq} (где {moment} по замкнутой формуле) даёт {wvar}; с такой дисперсией весов "
             f"среднее поле сохраняет {hvar} на протяжении {DEPTH} {plural_ru(DEPTH, 'слоя', 'слоёв', 'слоёв')} "
             f"с ReLU (наибольшее изменение за слой {fmt(depth['max_step_dev'])}).")
    if sp.simplify(solved - stated) == 0:
        return Outcome("confirmed", text, nums)
    return Outcome("refuted", text, nums, correction=f"${var}(w) = {latex(solved)}$")


def _check_init_names(claimed, evidence) -> Outcome:
    from theory.errors import SpecError
    from theory.init import NAMES, get_init

    known, unknown = [], {}
    for name in claimed["names"]:
        if name in NAMES:  # a canonical name (resolving *_normal would integrate the truncated normal: slow)
            known.append(name)
            continue
        try:
            get_init(name)  # aliases (xavier_*, kaiming_*) resolve; unknown names raise with a suggestion
            known.append(name)
        except SpecError as exc:
            unknown[name] = str(exc)
    nums = {"resolved": known, "unknown": unknown}
    resolved, failed = ", ".join(f"`{k}`" for k in known), ", ".join(f"`{u}`" for u in unknown)
    why = "; ".join(f"`{m}`" for m in unknown.values())
    text = T(f"Keras' initializer names (`theory.init.get_init`): {resolved} resolve"
             + (f"; {failed} does not: {why}" if unknown else "") + ".",
             f"Имена инициализаторов Keras (`theory.init.get_init`): {resolved} распознаются"
             + (f"; {failed} — нет: {why}" if unknown else "") + ".")
    if not unknown:
        return Outcome("confirmed", text, nums)
    import difflib

    from theory.init import NAMES

    fix = {u: (difflib.get_close_matches(u, NAMES, n=1) or ["?"])[0] for u in unknown}
    return Outcome("refuted", text, nums,
                   correction=T("; ".join(f"`init=\"{v}\"`, not `init=\"{u}\"`" for u, v in fix.items()),
                                "; ".join(f"`init=\"{v}\"`, а не `init=\"{u}\"`" for u, v in fix.items())))


def _check_xavier_symmetric(claimed, evidence) -> Outcome:
    # near 0 (the linear regime, where the zero fixed point of an odd phi sits) the per-layer factor, forward and
    # backward, is n Var(w) phi'(0)^2 (chi_1 at q -> 0): 1 is the critical (edge-of-chaos) initialization
    near = S.near_zero_factors(claimed["init"], claimed["activations"])
    gain = near["n_var_w"]  # equal widths: n Var(w)
    rows = {}
    for spec, r in near["activations"].items():
        rows[spec] = {"phi_prime_0": sp.sstr(r["phi_prime_0"]), "mean": r["mean"],
                      "zero_mean": abs(r["mean"]) < EXACT_TOL,
                      "chi_near_0": sp.sstr(r["chi_near_0"]), "critical": sp.simplify(r["chi_near_0"] - 1) == 0,
                      "critical_n_var_w": r["critical_n_var_w"]}
    considered = {k: r for k, r in rows.items() if r["zero_mean"]}
    holds = [k for k, r in considered.items() if r["critical"]]
    fails = [k for k in considered if k not in holds]
    nums = {"n_var_w": sp.sstr(gain), "activations": rows}
    init, nvar = f"`{claimed['init']}`", f"$n\\,\\mathrm{{Var}}(w) = {latex(gain)}$"
    factor = r"$n\,\mathrm{Var}(w)\,\varphi'(0)^2$"
    per = {k: (f"$\\varphi'(0) = {fmt(float(sp.sympify(r['phi_prime_0'])), 5)}$",
               fmt(float(sp.sympify(r['chi_near_0'])), 4)) for k, r in considered.items()}
    text = T(f"{init} with equal widths has {nvar}; for zero-mean odd "
             r"activations the per-layer variance factor near 0 (forward and backward) is "
             f"{factor}: "
             + "; ".join(f"{_act(k)}: {d}, factor {f}" for k, (d, f) in per.items())
             + ".",
             f"{init} при равных ширинах слоёв даёт {nvar}; для нечётных функций активации с нулевым средним "
             f"множитель дисперсии на слой вблизи 0 (при прямом и обратном проходе) равен {factor}: "
             + "; ".join(f"{_act(k)}: {d}, множитель {f}" for k, (d, f) in per.items())
             + ".")
    need = {k: f"$\\mathrm{{Var}}(w) = {fmt(rows[k]['critical_n_var_w'], 4)}/n_{{in}}$" for k in fails}
    truth = T(", ".join(f"{_act(k)} needs {need[k]}" for k in fails),
              ", ".join(f"{_act(k)} требует {need[k]}" for k in fails))
    if not fails:
        return Outcome("confirmed", text, nums)
    if holds:
        names = ", ".join(_act(k) for k in holds)
        return Outcome("imprecise", text, nums,
                       condition=T(f"for zero-mean activations with $\\varphi'(0) = 1$ "
                                   f"({names}); Xavier also needs $n_{{in}} = n_{{out}}$ to "
                                   "keep both directions at 1",
                                   f"для функций активации с нулевым средним и $\\varphi'(0) = 1$ ({names}); кроме "
                                   f"того, Xavier требует $n_{{in}} = n_{{out}}$, чтобы множители прямого и обратного "
                                   "прохода оба были равны 1"),
                       correction=truth)
    return Outcome("refuted", text, nums, correction=truth)


def _check_mnist_inits(claimed, evidence) -> Outcome:
    """Test accuracy ``better`` minus ``worse`` init, per seed (paired: the same data split and batch order), its
    interval on the claimed side of ``min_size``."""
    res = experiment(evidence, "inits")["configs"]
    better, worse = res[claimed["better"]], res[claimed["worse"]]
    diffs = [a - b for a, b in zip(better["test_acc"]["values"], worse["test_acc"]["values"])]  # paired by seed
    nums = {"diff_per_seed": diffs, claimed["better"]: better["test_acc"], claimed["worse"]: worse["test_acc"],
            "first_above_0.9": {claimed["better"]: better["first_above"], claimed["worse"]: worse["first_above"]}}
    fa = better["first_above"]
    b, w = claimed["better"], claimed["worse"]
    n, h = len(diffs), fa["horizon"]
    acc_b, acc_w = spread_text(better["test_acc"]), spread_text(worse["test_acc"])
    reached_b, reached_w = n - fa["never"], n - worse["first_above"]["never"]
    text = T(f"Seminar net (6 × 100 ReLU, Adam, digits), {n} seeds: test acc `{b}` "
             f"{acc_b} vs `{w}` {acc_w}; validation "
             f"accuracy above 0.9 within {h} epochs in {reached_b} of {n} seeds "
             f"for `{b}` (median epoch {fmt(fa['median'])}), in "
             f"{reached_w} "
             f"for `{w}`.",
             f"Сеть семинара (6 × 100 ReLU, Adam, рукописные цифры), {seeds_ru(n)}: "
             f"точность на тестовой выборке `{b}` {acc_b} против `{w}` {acc_w}; точность на валидационной выборке "
             f"выше 0.9 за {h} {plural_ru(h, 'эпоху', 'эпохи', 'эпох')} достигнута при {reached_b} из "
             f"{seeds_ru(n, case='gen')} для `{b}` ("
             + (f"медианная эпоха {fmt(fa['median'])}" if fa["median"] is not None else "медиана не определена")
             + f") и при {reached_w} — для `{w}`.")
    return effect_outcome(effect_of(claimed, T(f"test accuracy, `{b}` minus `{w}`",
                                               f"точность на тестовой выборке, `{b}` минус `{w}`")),
                          diffs, evidence=text, numbers=nums)


def _check_standardization(claimed, evidence) -> Outcome:
    res = experiment(evidence, "standardization")
    rows = [r for r in res["rows"] if r["scale"] > 1]  # features on different scales
    ratios = [r["raw"]["steps"] / max(r["standardized"]["steps"], 1) for r in rows]
    theory_match = all(r["raw"]["steps"] == r["raw"]["theory_steps"] for r in rows)
    # direction: log(steps raw / steps standardized) > log(min_ratio) ("greater": standardized is faster)
    # deterministic (no seeds): every scale's log(steps raw / steps standardized) past log(min_ratio)
    logs, bound = [math.log(v) for v in ratios], math.log(claimed["min_ratio"])
    ok = all(v > bound for v in logs) if claimed["direction"] == "greater" else all(v < -bound for v in logs)
    nums = {"rows": [{"scale": r["scale"], "kappa_raw": r["raw"]["kappa"], "steps_raw": r["raw"]["steps"],
                      "theory_steps_raw": r["raw"]["theory_steps"], "kappa_std": r["standardized"]["kappa"],
                      "steps_std": r["standardized"]["steps"]} for r in rows], "theory_match": theory_match}
    rate = r"$\lceil \log \mathrm{tol} / \log((\kappa - 1)/(\kappa + 1)) \rceil$"

    def steps(r) -> str:
        n = r["raw"]["steps"]
        return f"{n} {plural_ru(n, 'шаг', 'шага', 'шагов')}"
    text = T("Gradient descent with the best fixed step to $10^{-6}$ relative error: "
             + "; ".join(f"scale {fmt(r['scale'])} ($\\kappa$ {fmt(r['raw']['kappa'])}): {r['raw']['steps']} steps "
                         f"raw vs {r['standardized']['steps']} standardized "
                         f"($\\kappa$ {fmt(r['standardized']['kappa'])})" for r in rows)
             + f"; raw steps {'equal' if theory_match else 'differ from'} the theory's "
             + rate + ".",
             "Градиентный спуск с наилучшим постоянным шагом до относительной ошибки $10^{-6}$: "
             + "; ".join(f"масштаб {fmt(r['scale'])} ($\\kappa$ {fmt(r['raw']['kappa'])}): {steps(r)} на исходных "
                         f"признаках против {r['standardized']['steps']} на стандартизованных "
                         f"($\\kappa$ {fmt(r['standardized']['kappa'])})" for r in rows)
             + "; число шагов на исходных признаках "
             + ("совпадает с теоретическим " if theory_match else "отличается от теоретического ") + rate + ".")
    if ok:
        return Outcome("supported", text, nums)
    return Outcome("not-supported", text, nums,
                   correction=T("steps raw / standardized: ",
                                "отношение числа шагов (исходные признаки / стандартизованные): ")
                   + ", ".join(fmt(v) for v in ratios))


# ------------------------------------------------------------------------------------------------ perturbations
def _swap_pair(c):
    out = dict(c)
    out["pair"] = ("sigma_2", "sigma_3") if tuple(c["pair"]) == ("sigma_1", "sigma_2") else ("sigma_1", "sigma_2")
    return out


def _swap_directions(c):
    out = dict(c)
    out["directions"] = {k: {"less": "greater", "greater": "less"}[v] for k, v in c["directions"].items()}
    return out


def _with(key, value):
    def perturb(c):
        out = dict(c)
        out[key] = value
        return out
    return perturb


def _typo_fixed(c):
    out = dict(c)
    out["names"] = tuple("he_normal" if n == "he_nomal" else ("he_nomal" if n == "he_normal" else n)
                         for n in c["names"])
    return out


def _check_layer_index(claimed, evidence):
    """A notation check of «Инициализация Хе» as written: the roles of the index i across the slide's lines
    (:func:`theory.slides.notation.index_roles`): the summation variable over a unit's inputs and, in
    x_i = max(0; h_{i-1}), a step back to the previous layer. Both: refuted (one letter for two things)."""
    from theory.slides import notation

    roles = notation.index_roles(claimed["formulas"], "i")
    why = notation.clashes(roles)
    nums = {"formulas": list(claimed["formulas"]), "roles": roles}
    def spans(items, none):  # LaTeX snippets as inline math
        return ", ".join(f"${t}$" for t in items) or none
    quoted = ['«$' + f + '$»' for f in claimed["formulas"]]
    text = T(f"The index $i$ in {' and '.join(quoted)}: summation variable in "
             f"{spans(roles['bound'], 'no sum')}; one step back in {spans(roles['shifted'], 'nothing')}; "
             f"plain index of {spans(roles['free'], 'nothing')}.",
             f"Индекс $i$ в {' и '.join(quoted)}: "
             + "; ".join(f"{what} в {spans(roles[k], '')}" if roles[k] else f"{what} — нигде"
                         for k, what in (("bound", "переменная суммирования"), ("shifted", "шаг на слой назад"),
                                         ("free", "просто индекс")))
             + ".")
    if why:  # notation.clashes found the clash; the correction names it from the roles
        fix = (r"$x^{(l)} = \max(0, h^{(l-1)})$, "
               r"$\mathrm{Var}(h^{(l)}) = n_{in}\,\mathrm{Var}(w^{(l)})\,E[(x^{(l)})^2]$")
        return Outcome("refuted", text, nums,
                       correction=T(f"$i$ names an input and a layer (it runs the sum {spans(roles['bound'], '')} and "
                                    f"also steps back in {spans(roles['shifted'], '')}): write the layer as a "
                                    "superscript, " + fix,
                                    f"$i$ обозначает и вход, и слой (по $i$ идёт сумма {spans(roles['bound'], '')}, "
                                    f"и $i$ же отсчитывает шаг назад в {spans(roles['shifted'], '')}): номер слоя "
                                    "нужно писать верхним индексом, " + fix))
    return Outcome("confirmed", text, nums)


def _check_ranges(claimed, evidence):
    """A notation check of the assumptions' ranges against the sum they are used in (the same slide): the upper ends
    of w_1, ..., w_? and x_1, ..., x_? against the sum's n_in (:func:`theory.slides.notation.range_ends`). All
    equal: confirmed; else refuted."""
    from theory.slides import notation

    ends = notation.range_ends(claimed["text"])
    nums = {"ends": ends}
    text = T("Index ranges on the slide: "
             + "; ".join(f"the sum runs to ${v}$" if k == "sum" else f"${k}_1, \\dots, {k}_{{{v}}}$"
                         for k, v in ends.items())
             + ".",
             "Диапазоны индексов на слайде: "
             + "; ".join(f"сумма идёт до ${v}$" if k == "sum" else f"${k}_1, \\dots, {k}_{{{v}}}$"
                         for k, v in ends.items())
             + ".")
    if len(set(ends.values())) > 1:
        return Outcome("refuted", text, nums,
                       correction=T(f"the sum runs to ${ends.get('sum')}$: "
                                    r"$w_1, \dots, w_{n_{in}}$ and $x_1, \dots, x_{n_{in}}$ (one weight and one input "
                                    "per term)",
                                    f"сумма идёт до ${ends.get('sum')}$: "
                                    r"$w_1, \dots, w_{n_{in}}$ и $x_1, \dots, x_{n_{in}}$ (по одному весу и одному "
                                    "входу на слагаемое)"))
    return Outcome("confirmed", text, nums)


#: what the slides may call the x_i (``claimed['called']``), in the slides' Russian word
_CALLED_RU = {"observations": "наблюдения", "inputs": "входы"}


def _check_inputs_named(claimed, evidence):
    """A notation check of what the slides call the x_i: in h_i = w_0 + sum_i w_i x_i each x_i is summed with its own
    weight w_i (:func:`theory.slides.notation.summed_with`), i.e. it is one of the unit's n_in inputs (its fan-in,
    :data:`theory.init.n_in`), the same for every example. «Наблюдения» (observations) are the rows of the data, which
    share the weights. Inputs: confirmed; observations: refuted."""
    from theory.slides import notation

    partners = notation.summed_with(claimed["formula"], "x")
    role = "inputs" if "w" in partners else None
    nums = {"formula": claimed["formula"], "x_summed_with": partners, "x_are": role, "slides_say": claimed["called"]}
    weights = ", ".join("$" + p + "_i$" for p in partners)
    called = _CALLED_RU.get(claimed["called"], claimed["called"])
    text = T(f"In «${claimed['formula']}$» each $x_i$ is summed with its own weight "
             f"({weights}): "
             r"$x_1, \dots, x_{n_{in}}$ are the unit's inputs ($n_{in}$ = fan-in, one weight per input), the same "
             f"weights for every example; the slides call them «{claimed['called']}».",
             f"В «${claimed['formula']}$» каждый $x_i$ суммируется со своим весом ({weights}): "
             r"$x_1, \dots, x_{n_{in}}$ — входы нейрона ($n_{in}$ — число входов, по одному весу на вход), и веса "
             f"одни и те же для всех примеров; слайды называют их «{called}».")
    if role is None:
        raise ValueError(f"the sum's terms are not read: {nums}")
    if claimed["called"] != role:
        return Outcome("refuted", text, nums,
                       correction=T(r"$x_1, \dots, x_{n_{in}}$ are a unit's inputs (the previous layer's outputs, or "
                                    "the features of one example), not observations; likewise «$n_{in}$ наблюдений» "
                                    "in «Немного лучше» is $n_{in}$ inputs",
                                    r"$x_1, \dots, x_{n_{in}}$ — входы нейрона (выходы предыдущего слоя или признаки "
                                    "одного примера), а не наблюдения; так же и «$n_{in}$ наблюдений» на слайде "
                                    "«Немного лучше» — это $n_{in}$ входов"))
    return Outcome("confirmed", text, nums)


def _check_keras_keyword(claimed, evidence) -> Outcome:
    """The keyword the slide passes Keras' initializer names with, against Keras' documented keywords
    (:data:`theory.slides.init.KERAS_INITIALIZER_KEYWORDS`): documented evidence, not a computation."""
    used = S.keywords_in(claimed["code"])
    unknown = [k for k in used if k not in S.KERAS_INITIALIZER_KEYWORDS]
    nums = {"keywords": used, "keras_keywords": list(S.KERAS_INITIALIZER_KEYWORDS)}
    words, keras = ", ".join(f"`{k}`" for k in used), [f"`{k}`" for k in S.KERAS_INITIALIZER_KEYWORDS]
    text = T(f"The slide writes `{claimed['code']}`: keyword {words}. Keras layers take "
             f"initializers as {' and '.join(keras)} (keras.io, Layer "
             "weight initializers); `init=` is Keras 1's keyword, renamed in Keras 2.0 (2017).",
             f"На слайде написано `{claimed['code']}`: ключевое слово {words}. Слои Keras принимают инициализаторы "
             f"через {' и '.join(keras)} (keras.io, раздел «Layer weight initializers»); `init=` — ключевое слово "
             "Keras 1, в Keras 2.0 (2017) его переименовали.")
    if unknown:
        return Outcome("refuted", text, nums,
                       correction=T('`kernel_initializer="glorot_uniform"` (or `"he_uniform"`, `"he_normal"`), not '
                                    '`init=...`',
                                    '`kernel_initializer="glorot_uniform"` (или `"he_uniform"`, `"he_normal"`), а не '
                                    '`init=...`'))
    return Outcome("confirmed", text, nums)


# ------------------------------------------------------------------------------------------------ the claims
def _check_index_clash(claimed, evidence) -> Outcome:
    """A notation check of the slide's formula as written (``claimed['formula']``, LaTeX): the index of the unit on
    the left (h_i) must not be the summation variable on the right (sum_{i=1}): a sum over i binds i, so the left
    side's i would be the same letter for two things. Distinct letters: confirmed; the same letter: refuted."""
    formula = claimed["formula"]
    idx = S.formula_indices(formula)
    left, bound = idx["left"], idx["summation"]
    nums = {"formula": formula, "left_index": left, "summation_indices": bound}
    sums = ", ".join(f"${b}$" for b in bound)
    text = T(f"In «${formula}$» the left side's index is "
             f"{'$' + left + '$' if left is not None else 'missing'} and the sum runs over "
             f"{sums or 'no index'}.",
             f"В «${formula}$» "
             + (f"индекс в левой части — ${left}$, " if left is not None else "в левой части индекса нет, ")
             + (f"а сумма идёт по {sums}." if sums else "а у суммы индекса нет."))
    if left is not None and left in bound:
        fix = r"$h_j = w_0 + \sum_{i=1}^{n_{in}} w_{ji} x_i$"
        return Outcome("refuted", text, nums,
                       correction=T("the unit's index and the summation index are one letter: write "
                                    + fix + " (unit $j$, inputs $i$)",
                                    "индекс нейрона и индекс суммирования обозначены одной буквой: нужно писать "
                                    + fix + " (нейрон $j$, входы $i$)"))
    return Outcome("confirmed", text, nums)


def _check_variance_in_variances(claimed, evidence) -> Outcome:
    """«Дисперсия h_i выражается через дисперсии x и w»: the means that the variance of a product w x (independent
    w, x: :func:`theory.variance.product_variance`, sympy.stats) depends on, against the claimed ones (none: the
    variances alone). The same set: confirmed; else imprecise, the condition being the means that must vanish."""
    cases = S.product_variance_cases()
    var, means, only_vars, he = cases["var_wx"], cases["means"], cases["zero_means"], cases["zero_weight_mean"]
    nums = {"var_wx": sp.sstr(var), "depends_on_means": means, "zero_means": sp.sstr(only_vars),
            "zero_weight_mean": sp.sstr(he)}
    var_wx, he_var = rf"$\mathrm{{Var}}(w x) = {latex(var)}$", "$" + latex(he) + r" = \mathrm{Var}(w)\,E(x^2)$"
    text = T(rf"`sympy.stats`, $w$ and $x$ independent: {var_wx}; with $E(w) = E(x) = 0$ "
             rf"it is {tex(only_vars)}, with $E(w) = 0$ alone " + he_var + " (He's "
             "case, ReLU inputs).",
             rf"`sympy.stats`, $w$ и $x$ независимы: {var_wx}; при $E(w) = E(x) = 0$ "
             rf"это {tex(only_vars)}, при одном лишь $E(w) = 0$ — " + he_var + " (случай He, входы после ReLU).")
    if sorted(claimed["depends_on_means"]) == means:
        return Outcome("confirmed", text, nums)
    sum_of = rf"$\mathrm{{Var}}(h_i)$ is a sum of $\mathrm{{Var}}(w x_i) = {latex(var)}$"
    return Outcome("imprecise", text, nums,
                   condition=T("$E(w) = E(x) = 0$ (the symmetric case of the next slide); otherwise the means enter "
                               "too",
                               "$E(w) = E(x) = 0$ (симметричный случай следующего слайда); иначе в дисперсию входят "
                               "и средние"),
                   correction=T(sum_of + r": it needs "
                                r"the means as well (with $E(w) = 0$ alone, $\mathrm{Var}(w)\,E(x^2)$)",
                                rf"$\mathrm{{Var}}(h_i)$ — сумма $\mathrm{{Var}}(w x_i) = {latex(var)}$: нужны и "
                                r"средние (при одном лишь $E(w) = 0$ — $\mathrm{Var}(w)\,E(x^2)$)"))


S_INIT = "Инициализация весов"
S_SYM = "Инициализация весов (симметричный случай)"
S_BAD = "Плохая инициализация весов"
S_BETTER = "Немного лучше"
S_XAVIER = "Инициализация Ксавье (Глорота)"
S_HE = "Инициализация Хе"
S_SUMMARY = "Краткие итоги"
S_MNIST = "Эксперимент с MNIST"
S_STD = "Стандартизация"

GLOROT = ("Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks",)
HE = ("He, Zhang, Ren & Sun 2015, Delving deep into rectifiers",)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="init-chain-rule",
        slide=S_INIT,
        quote=r"$$\frac{\partial L}{\partial w_2} = \frac{\partial L}{\partial \sigma_1} \sigma_1 (1 - \sigma_1) "
              r"\sigma_2$$ $$\frac{\partial L}{\partial w_3} = \frac{\partial L}{\partial \sigma_1} \sigma_1 "
              r"(1 - \sigma_1) \sigma_3$$",
        statement=T(r"For $\sigma_1 = \sigma(w_2 \sigma_2 + w_3 \sigma_3 + \dots)$, $\partial L/\partial w_2 = "
                    r"\partial L/\partial \sigma_1 \cdot \sigma_1 (1 - \sigma_1) \sigma_2$ and likewise for $w_3$ with "
                    r"$\sigma_3$.",
                    r"Для $\sigma_1 = \sigma(w_2 \sigma_2 + w_3 \sigma_3 + \dots)$ имеем $\partial L/\partial w_2 = "
                    r"\partial L/\partial \sigma_1 \cdot \sigma_1 (1 - \sigma_1) \sigma_2$ и аналогично для $w_3$ с "
                    r"$\sigma_3$."),
        claimed={"dL_dw2": g * s1 * (1 - s1) * s2, "dL_dw3": g * s1 * (1 - s1) * s3},
        check=_check_chain_rule,
        perturb=lambda c: scaled(c, "dL_dw2", 2),
        derivation="sigmoid-derivative",
    ),
    Claim(
        id="init-zero-init-pair",
        slide=S_INIT,
        quote=r"$\sigma_1$ и $\sigma_2$ будут обновляться одинаково",
        statement=T(r"With all weights initialized to zero, units $\sigma_1$ and $\sigma_2$ receive identical updates.",
                    r"Если все веса инициализированы нулями, нейроны $\sigma_1$ и $\sigma_2$ получают "
                    "одинаковые обновления."),
        claimed={"pair": ("sigma_1", "sigma_2"), "identical": True},
        check=_check_zero_pair,
        perturb=_swap_pair,
        figure="train-symmetry",
        derivation="zero-init-symmetry",
    ),
    Claim(
        id="init-break-symmetry",
        slide=S_INIT,
        quote="Хочется уничтожить симметрию",
        statement=T("Zero or constant initialization leaves the units of a layer identical through training, so the "
                    "symmetry must be broken by small random initial weights.",
                    "При нулевой или постоянной инициализации нейроны одного слоя остаются одинаковыми на "
                    "протяжении всего обучения, поэтому симметрию нужно нарушить малыми случайными начальными "
                    "весами."),
        claimed={"symmetric_inits": ("zeros", "constant:0.1"), "random_init": "he_uniform", "stay_identical": True},
        check=_check_break_symmetry,
        perturb=lambda c: flipped(c, "stay_identical"),
        figure="train-symmetry",
        derivation="zero-init-symmetry",
    ),
    Claim(
        id="init-vanish-or-explode",
        slide=S_INIT,
        quote="Если инициализировать веса неправильно, дисперсия распределения може от слоя к слою затухать (сигнал "
              "будет теряться) либо наоборот, возрастать (сигнал будет рассеиваться)",
        statement=T("With a badly scaled initialization the variance of the signal shrinks (too small weights) or "
                    "grows (too large weights) from layer to layer.",
                    "При неудачном масштабе инициализации дисперсия сигнала от слоя к слою убывает (слишком "
                    "малые веса) или растёт (слишком большие веса)."),
        claimed={"directions": {"tanh/torch_default": "less", "relu/keras_uniform": "less",
                                "relu/uniform:sqrt(12/n_in)": "greater"}},
        check=_check_vanish_explode,
        perturb=_swap_directions,
        figure="mc-variance-depth",
    ),
    Claim(
        id="init-index-clash",
        slide=S_INIT,
        quote=r"$$h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i$$",
        statement=T(r"A unit's pre-activation: $h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i$ (as written: the unit and the "
                    "inputs share the index $i$).",
                    r"Предактивация нейрона: $h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i$ (как написано: у нейрона и "
                    "у входов общий индекс $i$)."),
        claimed={"formula": r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i"},
        check=_check_index_clash,
        perturb=lambda c: {**c, "formula": r"h_j = w_0 + \sum_{i=1}^{n_{in}} w_{ji} x_i"},
    ),
    Claim(
        id="init-variance-in-variances",
        slide=S_INIT,
        quote="Дисперсия $h_i$ выражается через дисперсии $x$ и $w$",
        statement=T("The variance of $h_i$ is expressed through the variances of $x$ and $w$ (alone).",
                    "Дисперсия $h_i$ выражается через дисперсии $x$ и $w$ (и только через них)."),
        claimed={"depends_on_means": []},
        check=_check_variance_in_variances,
        perturb=lambda c: {**c, "depends_on_means": ["mu_w", "mu_x"]},
    ),
    Claim(
        id="init-bias-constant",
        slide=S_INIT,
        quote=r"Она не зависит от константы $w_0$",
        statement=T(r"The variance of $h_i = w_0 + \sum_i w_i x_i$ does not depend on the constant $w_0$.",
                    r"Дисперсия $h_i = w_0 + \sum_i w_i x_i$ не зависит от константы $w_0$."),
        claimed={"variance_shift": sp.Integer(0)},
        check=_check_bias_constant,
        perturb=_with("variance_shift", w0**2),
        derivation="layer-variance",
    ),
    Claim(
        id="init-assumption-ranges",
        slide=S_INIT,
        quote=r"Будем считать, что веса $w_1, \dots, w_k \sim iid$ , наблюдения $x_1, \dots, x_n \sim iid$",
        statement=T(r"The assumptions list $w_1, \dots, w_k$ and $x_1, \dots, x_n$ for the terms of "
                    r"$h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i$ (as written: three names, $k$, $n$ and $n_{in}$, for "
                    "the number of terms).",
                    r"В допущениях слагаемые $h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i$ перечислены как "
                    r"$w_1, \dots, w_k$ и $x_1, \dots, x_n$ (как написано: у числа слагаемых три имени — $k$, "
                    "$n$ и $n_{in}$)."),
        claimed={"text": r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i; "
                 + r"Будем считать, что веса $w_1, \dots, w_k \sim iid$ , наблюдения $x_1, \dots, x_n \sim iid$"},
        check=_check_ranges,
        perturb=lambda c: {**c, "text": c["text"].replace("w_k", "w_{n_{in}}").replace("x_n", "x_{n_{in}}")},
    ),
    Claim(
        id="init-inputs-called-observations",
        slide=S_INIT,
        quote=r"наблюдения $x_1, \dots, x_n \sim iid$",
        statement=T(r"The $x_i$ of $h_i = w_0 + \sum_i w_i x_i$ are observations («наблюдения»; also «$n_{in}$ "
                    "наблюдений» in «Немного лучше»).",
                    r"$x_i$ в $h_i = w_0 + \sum_i w_i x_i$ — это наблюдения (так и на слайде "
                    "«Немного лучше»: «$n_{in}$ наблюдений»)."),
        claimed={"formula": r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i", "called": "observations"},
        check=_check_inputs_named,
        perturb=lambda c: {**c, "called": "inputs"},
    ),
    Claim(
        id="init-product-variance",
        slide=S_SYM,
        quote=r"[E(x_i)]^2 \cdot \text{Var}(w_i) + [E(w_i)]^2 \cdot \text{Var}(x_i) + \text{Var}(x_i) \cdot "
              r"\text{Var}(w_i)",
        statement=T(r"For independent $w$ and $x$, $\mathrm{Var}(w x) = E(x)^2\,\mathrm{Var}(w) + "
                    r"E(w)^2\,\mathrm{Var}(x) + \mathrm{Var}(x)\,\mathrm{Var}(w)$.",
                    r"Для независимых $w$ и $x$ выполняется $\mathrm{Var}(w x) = E(x)^2\,\mathrm{Var}(w) + "
                    r"E(w)^2\,\mathrm{Var}(x) + \mathrm{Var}(x)\,\mathrm{Var}(w)$."),
        claimed={"var_wx": sp.Symbol("mu_x", real=True)**2 * sp.Symbol("sigma_w", positive=True)**2
                 + sp.Symbol("mu_w", real=True)**2 * sp.Symbol("sigma_x", positive=True)**2
                 + sp.Symbol("sigma_x", positive=True)**2 * sp.Symbol("sigma_w", positive=True)**2},
        check=_check_product_variance,
        perturb=lambda c: scaled(c, "var_wx", 2),
        derivation="product-variance",
    ),
    Claim(
        id="init-symmetric-activation-mean",
        slide=S_SYM,
        quote=r"Если функция активации симметричная, тогда $E(x_i) = 0$",
        statement=T("If the activation function is symmetric, its output $x_i$ has zero mean.",
                    "Если функция активации симметрична, её выход $x_i$ имеет нулевое среднее."),
        claimed={"mean": 0},
        check=_check_symmetric_mean,
        perturb=_with("mean", 1),
        figure="mc-activation-histograms",
    ),
    Claim(
        id="init-layer-variance",
        slide=S_SYM,
        quote=r"\sum_{i=1}^{n_{in}} \text{Var}(x_i) \cdot \text{Var}(w_i) = \text{Var}(x) \cdot [n_{in} \cdot "
              r"\text{Var}(w)]",
        statement=T(r"With $E(x) = E(w) = 0$ and iid independent terms, "
                    r"$\mathrm{Var}(h) = \mathrm{Var}(x)\,n_{in}\,\mathrm{Var}(w)$.",
                    r"При $E(x) = E(w) = 0$ и независимых одинаково распределённых слагаемых "
                    r"$\mathrm{Var}(h) = \mathrm{Var}(x)\,n_{in}\,\mathrm{Var}(w)$."),
        claimed={"var_h": var_x * n_in * var_w},
        check=_check_layer_variance,
        perturb=lambda c: scaled(c, "var_h", 2),
        derivation="layer-variance",
        figure="mc-variance-depth",
        references=GLOROT,
    ),
    Claim(
        id="init-unit-gain-constant-flow",
        slide=S_SYM,
        quote=r"Хотим, чтобы зелёная штука была равна единице, тогда у потока будет всегда постоянная дисперсия, "
              r"совпадающая с $\text{Var}(x)$",
        statement=T(r"With $n_{in}\,\mathrm{Var}(w) = 1$ the signal keeps the variance $\mathrm{Var}(x)$ through "
                    "every layer.",
                    r"При $n_{in}\,\mathrm{Var}(w) = 1$ сигнал сохраняет дисперсию $\mathrm{Var}(x)$ на "
                    "каждом слое."),
        claimed={"ratio": 1, "pairs": (("linear", "lecun_uniform"), ("tanh", "lecun_uniform")), "depth": DEPTH,
                 "width": WIDTH},
        check=_check_gain_over_depth,
        perturb=lambda c: scaled(c, "ratio", 2),
        figure="init-variance-depth",
        derivation="layer-variance",
    ),
    Claim(
        id="init-bad-uniform-weight-var",
        slide=S_BAD,
        quote=r"\text{Var}(w_i) = \frac{1}{12} \cdot \left( \frac{1}{\sqrt{n_{in}}} + \frac{1}{\sqrt{n_{in}}} "
              r"\right)^2 = \frac{1}{3n_{in}}",
        statement=T(r"For $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$, $\mathrm{Var}(w) = 1/(3 n_{in})$.",
                    r"Для $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$ получаем $\mathrm{Var}(w) = 1/(3 n_{in})$."),
        claimed={"bound": 1 / sp.sqrt(n_in), "weight_var": 1 / (3 * n_in)},
        check=_check_uniform_weight_var,
        perturb=lambda c: scaled(c, "weight_var", 3),
        derivation="lecture-uniform-inits",
        figure="init-gains-table",
    ),
    Claim(
        id="init-bad-uniform-layer-var",
        slide=S_BAD,
        quote=r"\Rightarrow \text{Var}(h_i) = \frac{1}{3}",
        statement=T(r"With $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$ and $\mathrm{Var}(x) = 1$, "
                    r"$\mathrm{Var}(h) = 1/3$.",
                    r"При $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$ и $\mathrm{Var}(x) = 1$ получаем "
                    r"$\mathrm{Var}(h) = 1/3$."),
        claimed={"bound": 1 / sp.sqrt(n_in), "var_x": 1, "var_h": sp.Rational(1, 3)},
        check=_check_uniform_layer_var,
        perturb=lambda c: scaled(c, "var_h", 3),
        derivation="lecture-uniform-inits",
    ),
    Claim(
        id="init-bad-uniform-decay",
        slide=S_BAD,
        quote="Получаем затухание!",
        statement=T(r"With $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$ the variance decays from layer to layer, "
                    "by about a factor 1/3 per layer.",
                    r"При $w \sim U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]$ дисперсия затухает от слоя к слою, "
                    "примерно с множителем 1/3 на каждом слое."),
        claimed={"network": "tanh/torch_default", "direction": "less", "factor": sp.Rational(1, 3)},
        check=_check_bad_decay,
        perturb=lambda c: flipped(c, "direction"),
        figure="mc-variance-depth",
        derivation="lecture-uniform-inits",
    ),
    Claim(
        id="init-better-uniform-weight-var",
        slide=S_BETTER,
        quote=r"\frac{1}{12} \cdot \left( \frac{\sqrt{6}}{\sqrt{n_{in}}} + \frac{\sqrt{6}}{\sqrt{n_{in}}} \right)^2 "
              r"= \frac{1}{n_{in}}",
        statement=T(r"For $w \sim U[-\sqrt{6}/\sqrt{n_{in}}, \sqrt{6}/\sqrt{n_{in}}]$, "
                    r"$\mathrm{Var}(w) = 1/n_{in}$.",
                    r"Для $w \sim U[-\sqrt{6}/\sqrt{n_{in}}, \sqrt{6}/\sqrt{n_{in}}]$ получаем "
                    r"$\mathrm{Var}(w) = 1/n_{in}$."),
        claimed={"bound": sp.sqrt(6) / sp.sqrt(n_in), "weight_var": 1 / n_in},
        check=_check_uniform_weight_var,
        perturb=lambda c: scaled(c, "weight_var", 2),
        derivation="lecture-uniform-inits",
        figure="init-gains-table",
    ),
    Claim(
        id="init-better-uniform-layer-var",
        slide=S_BETTER,
        quote=r"\frac{1}{n_{in}} \Rightarrow \text{Var}(h_i) = 1",
        statement=T(r"With $w \sim U[-\sqrt{6}/\sqrt{n_{in}}, \sqrt{6}/\sqrt{n_{in}}]$ and "
                    r"$\mathrm{Var}(x) = 1$, $\mathrm{Var}(h) = 1$.",
                    r"При $w \sim U[-\sqrt{6}/\sqrt{n_{in}}, \sqrt{6}/\sqrt{n_{in}}]$ и "
                    r"$\mathrm{Var}(x) = 1$ получаем $\mathrm{Var}(h) = 1$."),
        claimed={"bound": sp.sqrt(6) / sp.sqrt(n_in), "var_x": 1, "var_h": sp.Integer(1)},
        check=_check_uniform_layer_var,
        perturb=lambda c: scaled(c, "var_h", 2),
        derivation="lecture-uniform-inits",
        figure="init-variance-depth",
    ),
    Claim(
        id="init-backward-n-out",
        slide=S_BETTER,
        quote=r"При forward pass на вход идёт $n_{in}$ наблюдений, при backward pass на вход идёт $n_{out}$ "
              r"градиентов $\Rightarrow$ **канал с дисперсией может быть непостоянным, если число весов от слоя к "
              r"слою сильно колеблется**",
        statement=T(r"Backward, each unit sums $n_{out}$ gradients, so the gradient variance is multiplied by "
                    r"$n_{out}\,\mathrm{Var}(w)$ per layer and is not constant when layer widths vary, even if the "
                    "forward variance is.",
                    r"При обратном проходе каждый нейрон суммирует $n_{out}$ градиентов, поэтому дисперсия "
                    r"градиента на каждом слое умножается на $n_{out}\,\mathrm{Var}(w)$ и не постоянна, если "
                    "ширина слоёв меняется, даже когда дисперсия при прямом проходе постоянна."),
        claimed={"backward_gain": n_out * var_w, "widths": (100, 400, 100, 400, 100, 400)},
        check=_check_backward,
        perturb=_with("backward_gain", n_in * var_w),
        derivation="xavier",
        figure="init-gains-table",
        references=GLOROT,
    ),
    Claim(
        id="init-xavier-average",
        slide=S_XAVIER,
        quote="Для неодинаковых размеров слоёв невозможно удовлетворить обоим условиям, поэтому обычно усредняют",
        statement=T(r"For unequal layer sizes $n_{in}\,\mathrm{Var}(w) = 1$ and $n_{out}\,\mathrm{Var}(w) = 1$ "
                    r"cannot both hold; the Xavier bound $\sqrt{6}/\sqrt{n_{out} + n_{in}}$ satisfies the averaged "
                    r"condition $\frac{n_{in} + n_{out}}{2}\,\mathrm{Var}(w) = 1$.",
                    r"При неодинаковых размерах слоёв условия $n_{in}\,\mathrm{Var}(w) = 1$ и "
                    r"$n_{out}\,\mathrm{Var}(w) = 1$ не могут выполняться одновременно; граница Xavier "
                    r"$\sqrt{6}/\sqrt{n_{out} + n_{in}}$ удовлетворяет усреднённому условию "
                    r"$\frac{n_{in} + n_{out}}{2}\,\mathrm{Var}(w) = 1$."),
        claimed={"bound": sp.sqrt(6) / sp.sqrt(n_out + n_in), "average_fan": (n_in + n_out) / 2},
        check=_check_xavier_average,
        perturb=lambda c: scaled(c, "average_fan", 2),
        derivation="xavier",
        figure="init-gains-table",
        references=GLOROT,
    ),
    Claim(
        id="init-xavier-normal",
        slide=S_XAVIER,
        quote="По аналогии можно найти формулу для дисперсии нормального распределения",
        statement=T(r"By analogy, the normal Xavier initialization has $\mathrm{Var}(w) = 2/(n_{in} + n_{out})$.",
                    r"По аналогии, у нормальной инициализации Xavier $\mathrm{Var}(w) = 2/(n_{in} + n_{out})$."),
        claimed={"uniform_bound": sp.sqrt(6) / sp.sqrt(n_out + n_in), "normal_weight_var": 2 / (n_in + n_out)},
        check=_check_xavier_normal,
        perturb=lambda c: scaled(c, "normal_weight_var", 2),
        derivation="xavier",
        references=GLOROT,
    ),
    Claim(
        id="init-he-layer-variance",
        slide=S_HE,
        quote=r"&= E(x^2) \cdot [n_{in} \cdot \text{Var}(w)]",
        statement=T(r"With $E(w) = 0$ but $E(x) \neq 0$, $\mathrm{Var}(h) = E(x^2)\,n_{in}\,\mathrm{Var}(w)$.",
                    r"При $E(w) = 0$, но $E(x) \neq 0$ получаем $\mathrm{Var}(h) = E(x^2)\,n_{in}\,\mathrm{Var}(w)$."),
        claimed={"var_h": E_x2 * n_in * var_w},
        check=_check_he_layer,
        perturb=_with("var_h", var_x * n_in * var_w),
        derivation="layer-variance",
        references=HE,
    ),
    Claim(
        id="init-he-relu-second-moment",
        slide=S_HE,
        quote=r"Если $h_{i-1}$ симметрично распределён относительно нуля, тогда: $$E(x_i^2) = \frac{1}{2} \cdot "
              r"\text{Var}(h_{i-1})$$",
        statement=T(r"For $x = \max(0, h)$ with $h$ symmetric about 0, $E(x^2) = \mathrm{Var}(h)/2$.",
                    r"Если $h$ симметрично относительно 0, то для $x = \max(0, h)$ верно "
                    r"$E(x^2) = \mathrm{Var}(h)/2$."),
        claimed={"coefficient": sp.Rational(1, 2)},
        check=_check_he_relu_moment,
        perturb=lambda c: scaled(c, "coefficient", 2),
        derivation="he",
        references=HE,
    ),
    Claim(
        id="init-he-weight-var",
        slide=S_HE,
        quote=r"\text{Var}(w_i) &= \frac{2}{n_{in}}",
        statement=T(r"For ReLU layers the variance is preserved with $\mathrm{Var}(w) = 2/n_{in}$.",
                    r"В слоях с ReLU дисперсия сохраняется при $\mathrm{Var}(w) = 2/n_{in}$."),
        claimed={"weight_var": 2 / n_in},
        check=_check_he_weight_var,
        perturb=lambda c: scaled(c, "weight_var", sp.Rational(1, 2)),
        derivation="he",
        figure="init-variance-depth",
        references=HE,
    ),
    Claim(
        id="init-he-layer-index",
        slide=S_HE,
        quote=r"x_i &= \max(0; h_{i-1})",
        statement=T(r"$x_i = \max(0; h_{i-1})$ with $\mathrm{Var}(h_i) = \mathrm{Var}(\sum_{i=1}^{n_{in}} w_i x_i)$ "
                    r"(as written: $i$ sums over a unit's inputs and also steps back to the previous layer).",
                    r"$x_i = \max(0; h_{i-1})$ и $\mathrm{Var}(h_i) = \mathrm{Var}(\sum_{i=1}^{n_{in}} w_i x_i)$ "
                    r"(как написано: по $i$ идёт сумма по входам нейрона, и $i$ же отсчитывает шаг назад, к "
                    "предыдущему слою)."),
        claimed={"formulas": (r"\text{Var}(h_i) = \text{Var}\left(\sum_{i=1}^{n_{in}} w_i x_i\right)",
                              r"x_i = \max(0; h_{i-1})")},
        check=_check_layer_index,
        perturb=lambda c: {**c, "formulas": (
            r"\text{Var}(h^{(l)}) = \text{Var}\left(\sum_{i=1}^{n_{in}} w_i x_i\right)",
            r"x^{(l)} = \max(0; h^{(l-1)})")},
        references=HE,
    ),
    Claim(
        id="init-summary-keras-keyword",
        slide=S_SUMMARY,
        quote='инициализацию Ксавье `init="glorot_uniform"`',
        statement=T('Keras layers take the initializer by the keyword `init`: `init="glorot_uniform"`, '
                    '`init="he_uniform"`.',
                    'Слои Keras принимают инициализатор через ключевое слово `init`: `init="glorot_uniform"`, '
                    '`init="he_uniform"`.'),
        claimed={"code": 'init="glorot_uniform"'},
        check=_check_keras_keyword,
        perturb=lambda c: {**c, "code": 'kernel_initializer="glorot_uniform"'},
        references=("keras.io, Layer weight initializers (kernel_initializer, bias_initializer)",),
    ),
    Claim(
        id="init-summary-he-nomal",
        slide=S_SUMMARY,
        quote='`init="he_uniform"` или `init="he_nomal"`',
        statement=T("The Keras initializer names are `glorot_uniform`, `he_uniform` and `he_nomal`.",
                    "Имена инициализаторов Keras: `glorot_uniform`, `he_uniform` и `he_nomal`."),
        claimed={"names": ("glorot_uniform", "he_uniform", "he_nomal")},
        check=_check_init_names,
        perturb=_typo_fixed,
    ),
    Claim(
        id="init-summary-unit-variance",
        slide=S_SUMMARY,
        quote="Эти две инициализации корректируют параметры распределений в зависимости от входа и выхода слоя так, "
              "чтобы поддерживать дисперсию равной единице",
        statement=T("Xavier (for tanh) and He (for ReLU) keep the variance of the signal constant through the layers.",
                    "Инициализации Xavier (для tanh) и He (для ReLU) сохраняют дисперсию сигнала "
                    "постоянной от слоя к слою."),
        claimed={"ratio": 1, "pairs": (("tanh", "glorot_uniform"), ("relu", "he_uniform")), "depth": DEPTH,
                 "width": WIDTH, "depends_on": ("n_in", "n_out")},
        check=_check_gain_over_depth,
        perturb=lambda c: scaled(c, "ratio", 2),
        figure="init-variance-depth",
        references=GLOROT + HE,
    ),
    Claim(
        id="init-summary-xavier-symmetric",
        slide=S_SUMMARY,
        quote="Для симметричных функций с нулевым средним используйте инициализацию Ксавье",
        statement=T("For symmetric zero-mean activations Xavier initialization is the right scale.",
                    "Для симметричных функций активации с нулевым средним инициализация Xavier задаёт "
                    "правильный масштаб."),
        claimed={"init": "glorot_uniform", "activations": ("tanh", "x/(1 + Abs(x))", "1.7159*tanh(2*x/3)")},
        check=_check_xavier_symmetric,
        perturb=_with("init", "he_uniform"),
        figure="meanfield-phase-tanh",
        references=GLOROT + (T("LeCun, Bottou, Orr & Müller 1998, Efficient BackProp (scaled tanh 1.7159 tanh(2x/3))",
                                 "LeCun, Bottou, Orr & Müller 1998, Efficient BackProp (масштабированный tanh "
                                 "1.7159 tanh(2x/3))"),),
    ),
    Claim(
        id="init-mnist-he-vs-uniform",
        slide=S_MNIST,
        quote="Источник: Николенко, страница 149",
        statement=T("On MNIST-like digits a ReLU network with He initialization trains better than with the small "
                    "default uniform initialization $U[-0.05, 0.05]$.",
                    "На рукописных цифрах, похожих на MNIST, сеть с ReLU и инициализацией He обучается "
                    "лучше, чем с малой равномерной инициализацией по умолчанию $U[-0.05, 0.05]$."),
        claimed={"better": "he_uniform", "worse": "keras_uniform", "direction": "greater"},
        check=_check_mnist_inits,
        perturb=lambda c: flipped(c, "direction"),
        figure="train-inits",
        references=HE,
    ),
    Claim(
        id="init-standardization",
        slide=S_STD,
        quote="Какая из ситуаций лучше для SGD?",
        statement=T("Gradient descent converges faster on standardized features than on features of different scales.",
                    "Градиентный спуск сходится быстрее на стандартизованных признаках, чем на признаках "
                    "разного масштаба."),
        claimed={"direction": "greater", "min_ratio": 1},
        check=_check_standardization,
        perturb=lambda c: flipped(c, "direction"),
        figure="train-standardization",
        derivation="gd-quadratic-rate",
    ),
)
