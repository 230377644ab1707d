"""Weight-initialization schemes as SymPy expressions in ``n_in`` and ``n_out``, and their derivations.

Every scheme named in DESIGN.md, with its framework's exact convention:

* ``lecun_* / glorot_* (xavier_*) / he_* (kaiming_*)`` follow Keras' ``VarianceScaling``: the target variance is
  ``scale / fan`` with (scale, fan) = (1, n_in), (1, (n_in + n_out)/2), (2, n_in). ``*_uniform`` draws
  U[-a, a] with a = sqrt(3 * var). ``*_normal`` is Keras' truncated normal: N(0, s^2) cut at +-2s with
  s = sqrt(var) / 0.87962566..., the constant being sqrt of the truncated-normal variance factor (derived in
  :mod:`theory.variance`), so that the variance after truncation is exactly ``var``. ``*_normal:plain`` is the
  untruncated N(0, var) (PyTorch's ``kaiming_normal_``/``xavier_normal_``).
* ``orthogonal``: Keras/PyTorch ``Orthogonal`` with gain 1: a matrix with orthonormal rows (n_out <= n_in) or
  columns, so each entry has variance 1 / max(n_in, n_out).
* ``zeros``; ``keras_uniform``: U[-0.05, 0.05] (Keras' ``RandomUniform`` default);
  ``torch_default``: ``nn.Linear``'s ``kaiming_uniform_(a=sqrt(5))``, i.e. U[-1/sqrt(n_in), 1/sqrt(n_in)].
* ``uniform:EXPR`` (bound a, U[-a, a]) and ``normal:EXPR`` (standard deviation), EXPR a SymPy expression in
  ``n_in`` and ``n_out`` parsed by the safe parser.

The per-layer variance multiplier of a scheme with activation phi, for pre-activations of variance q:
forward ``n_in Var(w) E[phi(sqrt(q) z)^2] / q``, backward ``n_out Var(w) E[phi'(sqrt(q) z)^2]`` (mean field, the
lecture's recursion Var(h_l) = n_in Var(w) E[x^2]).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory import activations as acts
from theory import budget, variance
from theory.derivation import Derivation, Step, derivation
from theory.errors import SpecError
from theory.latex import latex, name
from theory.parse import parse_expression
from theory.text import T

n_in, n_out = sp.symbols("n_in n_out", positive=True, integer=True)
SYMBOLS = {"n_in": n_in, "n_out": n_out}


def truncation_std_factor() -> sp.Expr:
    """std of N(0, s^2) truncated at +-2s over s (derived in theory.variance; Keras types .87962566103423978)."""
    return variance.truncated_normal_std_factor(2)

_PRESETS = {  # name -> (scale, fan)
    "lecun": (sp.Integer(1), n_in),
    "glorot": (sp.Integer(1), (n_in + n_out) / 2),
    "he": (sp.Integer(2), n_in),
}
_ALIASES = {"xavier": "glorot", "kaiming": "he"}
NAMES = ("lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
         "orthogonal", "zeros", "keras_uniform", "torch_default")


@dataclass(frozen=True)
class InitScheme:
    """A weight distribution: ``weight_var`` (exact, after any truncation) and the parameter that draws it."""

    name: str
    distribution: str  # uniform | normal | truncated_normal | orthogonal | zeros
    weight_var: sp.Expr
    bound: sp.Expr | None = None  # half-width of U[-bound, bound]
    std: sp.Expr | None = None  # std of the normal before truncation (truncated at +-2 std)
    convention: str = ""

    def variance(self, fan_in: int, fan_out: int) -> float:
        """Var(w) at these fans, e.g. 2 / n_in for he_*, 2 / (n_in + n_out) for glorot_* (after any truncation)."""
        return self.value(self.weight_var, fan_in, fan_out)

    def value(self, expr: sp.Expr | None, fan_in: int, fan_out: int) -> float | None:
        """``expr`` (``bound`` or ``std``, an expression in n_in, n_out) at these fans, or None if absent; a value
        that is not a finite float (it overflows, or is not real) is a SpecError, one line."""
        if expr is None:
            return None
        return _finite(expr.subs({n_in: fan_in, n_out: fan_out}), f"init {self.name!r} at n_in = {fan_in}, "
                       f"n_out = {fan_out}")


@lru_cache(maxsize=512)
def get_init(spec: str) -> InitScheme:
    """Resolve an init spec (``he_normal``, ``kaiming_uniform``, ``glorot_normal:plain``, ``uniform:1/sqrt(n_in)``).

    Keras' VarianceScaling conventions: Var(w) = scale / fan, (scale, fan) = (1, n_in) lecun, (1, (n_in + n_out)/2)
    glorot, (2, n_in) he; uniform U[-a, a] with a = sqrt(3 Var(w)) (module docstring). SpecError for a bad spec.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError("init spec is empty")
    spec = spec.strip()
    head, colon, arg = spec.partition(":")
    if head in ("uniform", "normal"):
        if not arg.strip():
            raise SpecError(f"init {spec!r}: give an expression after ':', e.g. {head}:1/sqrt(n_in)")
        if not budget.inside_worker():  # a user's expression: parsed and checked under the budget
            return budget.run(get_init, spec, what=f"parsing and checking the init {spec!r}")
        e = parse_expression(arg, SYMBOLS, what=f"init {head} {'bound' if head == 'uniform' else 'std'}")
        _check_positive(e, spec)
        if head == "uniform":
            return InitScheme(spec, "uniform", sp.simplify(e**2 / 3), bound=e, convention="U[-a, a], a = EXPR")
        return InitScheme(spec, "normal", sp.simplify(e**2), std=e, convention="N(0, EXPR^2), untruncated")
    family, _, kind = head.rpartition("_")
    family = _ALIASES.get(family, family)
    if family in _PRESETS and kind in ("normal", "uniform"):
        scale, fan = _PRESETS[family]
        var = sp.simplify(scale / fan)
        canonical = f"{family}_{kind}" + (f":{arg}" if arg else "")
        if kind == "uniform":
            if colon:
                raise SpecError(f"init {spec!r}: only *_normal takes ':plain'")
            return InitScheme(canonical, "uniform", var, bound=sp.sqrt(3 * var),
                              convention=f"Keras VarianceScaling(scale={scale}, fan), U[-sqrt(3 var), sqrt(3 var)]")
        if colon and arg != "plain":
            raise SpecError(f"init {spec!r}: the only option is ':plain' (untruncated normal)")
        if arg == "plain":
            return InitScheme(canonical, "normal", var, std=sp.sqrt(var), convention="N(0, var), untruncated")
        return InitScheme(canonical, "truncated_normal", var, std=sp.sqrt(var) / truncation_std_factor(),
                          convention="Keras truncated normal: N(0, s^2) cut at +-2s, s = sqrt(var)/0.8796...")
    if colon:
        raise SpecError(f"init {head!r} takes no parameter")
    if spec == "orthogonal":
        return InitScheme(spec, "orthogonal", 1 / sp.Max(n_in, n_out),
                          convention="orthonormal rows (n_out <= n_in) or columns, gain 1")
    if spec == "zeros":
        return InitScheme(spec, "zeros", sp.Integer(0), convention="all weights 0")
    if spec == "keras_uniform":
        a = sp.Rational(1, 20)
        return InitScheme(spec, "uniform", a**2 / 3, bound=a, convention="Keras RandomUniform(-0.05, 0.05)")
    if spec == "torch_default":
        a = 1 / sp.sqrt(n_in)
        return InitScheme(spec, "uniform", a**2 / 3, bound=a,
                          convention="torch.nn.Linear: kaiming_uniform_(a=sqrt(5)) = U[-1/sqrt(n_in), 1/sqrt(n_in)]")
    close = difflib.get_close_matches(spec, [*NAMES, "xavier_normal", "xavier_uniform", "kaiming_normal",
                                             "kaiming_uniform", "uniform:EXPR", "normal:EXPR"], n=1)
    raise SpecError(f"unknown init {spec!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                    + f"; known: {', '.join(NAMES)}, uniform:EXPR, normal:EXPR")


def _finite(value: sp.Expr, where: str) -> float:
    """``value`` as a finite float, else a one-line SpecError: not real, or past a float's range (1.8e308)."""
    try:
        n = sp.N(value, 17)
    except (OverflowError, TypeError, ValueError):
        n = sp.nan
    if n.is_real is False or n.has(sp.I):
        raise SpecError(f"{where}: the value {sp.sstr(n)[:60]} is not real (it must be a non-negative real)")
    try:
        v = float(n)
    except (OverflowError, TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        raise SpecError(f"{where}: the value {sp.sstr(value)[:60]} overflows a float (past 1.8e308) or is not a "
                        "number")
    return v


def _check_positive(e: sp.Expr, spec: str) -> None:
    extra = e.free_symbols - {n_in, n_out}
    if extra:
        raise SpecError(f"init {spec!r}: unknown symbols {sorted(map(str, extra))}; use n_in and n_out")
    for a, b in ((1, 1), (3, 7), (1000, 10), (10, 1000)):
        v = _finite(e.subs({n_in: a, n_out: b}), f"init {spec!r} at n_in = {a}, n_out = {b}")
        if not v >= 0:
            raise SpecError(f"init {spec!r}: EXPR must be a non-negative real for all sizes (at n_in={a}, "
                            f"n_out={b} it is {v:g})")


# ----------------------------------------------------------------------------------------------- layer gains
def layer_gain(scheme: InitScheme, activation: acts.Activation, fan_in: int, fan_out: int, q: float = 1.0) -> dict:
    """Forward and backward per-layer variance multipliers at pre-activation variance ``q`` (mean field).

    forward  = n_in Var(w) E[phi(sqrt(q) z)^2] / q   (Var(h_l) / Var(h_(l-1)) without bias),
    backward = n_out Var(w) E[phi'(sqrt(q) z)^2]     (Var(delta_(l-1)) / Var(delta_l)).
    For positively homogeneous phi (relu, leaky relu, linear) both are independent of q.
    """
    m = acts.moments(activation, q)
    var = scheme.variance(fan_in, fan_out)
    return {"forward": fan_in * var * m["second"] / q, "backward": fan_out * var * m["derivative_second"],
            "q": q}


def layer_gain_exprs(scheme: InitScheme, activation: acts.Activation, q: float = 1.0) -> dict:
    """The same multipliers as expressions in n_in, n_out (the activation's moments as numbers at ``q``)."""
    m = acts.moments(activation, q)
    return {"forward": sp.nsimplify(n_in * scheme.weight_var) * sp.Float(m["second"] / q, 15),
            "backward": sp.nsimplify(n_out * scheme.weight_var) * sp.Float(m["derivative_second"], 15)}


# ------------------------------------------------------------------------------------------- derivations
#: the uniform bounds on the slides, with the variance each slide states for it (None: the slide states none)
SLIDE_UNIFORM_BOUNDS = (
    ("Плохая инициализация весов", 1 / sp.sqrt(n_in), 1 / (3 * n_in)),
    ("Немного лучше", sp.sqrt(6) / sp.sqrt(n_in), 1 / n_in),
    ("Инициализация Ксавье (Глорота)", sp.sqrt(6) / sp.sqrt(n_out + n_in), None),
)


def _uniform_var(a: sp.Expr) -> sp.Expr:
    """The slide's own formula Var(U[a1, a2]) = (a2 - a1)^2 / 12, applied to U[-a, a] (derived in variance)."""
    lo, hi = sp.symbols("a_1 a_2", real=True)
    return variance.uniform_interval_variance(lo, hi).subs({lo: -a, hi: a})


def lecture_uniform_bounds() -> list[dict]:
    """For each slide bound: the variance it really gives, the slide's value, and whether they agree (computed)."""
    out = []
    for slide, a, claimed in SLIDE_UNIFORM_BOUNDS:
        var = sp.simplify(_uniform_var(a))
        out.append({"slide": slide, "bound": a, "weight_var": var, "layer_gain": sp.simplify(n_in * var),
                    "slide_weight_var": claimed,
                    "agrees": None if claimed is None else sp.simplify(var - claimed) == 0,
                    "ratio_to_slide": None if claimed is None else sp.simplify(var / claimed)})
    return out


def _slide_form(bound: sp.Expr) -> sp.Expr:
    """(1/12) (a + a)^2 unevaluated, as the slides write it."""
    return sp.Mul(sp.Rational(1, 12), sp.Pow(sp.Add(bound, bound, evaluate=False), 2, evaluate=False), evaluate=False)


@derivation("lecture-uniform-inits", "the variance each uniform bound on the slides really gives")
def _lecture_uniform_inits() -> Derivation:
    from sympy import stats

    a = sp.Symbol("a", positive=True)
    steps = [Step(lhs=stats.Variance(stats.Uniform("w", -a, a)), rhs=_slide_form(a),
                  why=T(r"$w \sim U[-a, a]$: $\mathrm{Var}(U[a_1, a_2]) = (a_2 - a_1)^2/12$ (`uniform-variance`), "
                        r"written as the slides do, $\frac{1}{12}(a + a)^2$",
                        r"$w \sim U[-a, a]$: $\mathrm{Var}(U[a_1, a_2]) = (a_2 - a_1)^2/12$ (`uniform-variance`), "
                        r"в записи слайдов $\frac{1}{12}(a + a)^2$")),
             Step(rhs=a**2 / 3, why=r"$(2a)^2/12 = a^2/3$")]
    for row in lecture_uniform_bounds():
        b, var, gain, claimed = row["bound"], row["weight_var"], row["layer_gain"], row["slide_weight_var"]
        where = T(f"slide «{row['slide']}»: $a = {latex(b)}$", f"слайд «{row['slide']}»: $a = {latex(b)}$")
        wrong = claimed is not None and not row["agrees"]
        if row["agrees"]:  # the slide's own computation with its result on the right: the comparison itself
            steps.append(Step(lhs=_slide_form(b), rhs=claimed,
                              why=where + T(rf", and the slide's $\mathrm{{Var}}(w_i) = {latex(claimed)}$ is right",
                                            rf", и значение $\mathrm{{Var}}(w_i) = {latex(claimed)}$ на слайде "
                                            "верно")))
        else:
            steps.append(Step(lhs=_slide_form(b), rhs=var, why=where))
        if wrong:
            steps.append(Step(lhs=claimed, rel="!=", rhs=var,
                              why=T(rf"the slide writes $\mathrm{{Var}}(w_i) = {latex(claimed)}$: off by a factor "
                                    rf"${latex(row['ratio_to_slide'])}$",
                                    rf"на слайде написано $\mathrm{{Var}}(w_i) = {latex(claimed)}$, а верное значение "
                                    rf"отличается от него множителем ${latex(row['ratio_to_slide'])}$")))
        steps.append(Step(lhs=sp.Mul(n_in, sp.UnevaluatedExpr(var)), rhs=gain,
                          why=T(r"the layer multiplier $n_{in}\,\mathrm{Var}(w)$ ($\mathrm{Var}(h) = n_{in}\,"
                                r"\mathrm{Var}(w)\,\mathrm{Var}(x)$, layer-variance)",
                                r"множитель слоя $n_{in}\,\mathrm{Var}(w)$ ($\mathrm{Var}(h) = n_{in}\,"
                                r"\mathrm{Var}(w)\,\mathrm{Var}(x)$, вывод `layer-variance`)")))
        if wrong:  # the slide's Var(h_i) = n_in Var(w_i) at Var(x) = 1, with its own Var(w_i)
            said = sp.simplify(n_in * claimed)
            steps.append(Step(lhs=said, rel="!=", rhs=gain,
                              why=T(rf"the slide writes $\mathrm{{Var}}(h_i) = {latex(said)}$ "
                                    rf"(at $\mathrm{{Var}}(x) = 1$): with this bound "
                                    rf"$\mathrm{{Var}}(h) = {latex(gain)}\,\mathrm{{Var}}(x)$",
                                    rf"на слайде написано $\mathrm{{Var}}(h_i) = {latex(said)}$ "
                                    rf"(при $\mathrm{{Var}}(x) = 1$), а с этой границей "
                                    rf"$\mathrm{{Var}}(h) = {latex(gain)}\,\mathrm{{Var}}(x)$")))
    lecun = sp.sqrt(3) / sp.sqrt(n_in)
    steps.append(Step(lhs=_slide_form(lecun), rhs=1 / n_in,
                      why=T(r"the bound that does give $\mathrm{Var}(w) = 1/n_{in}$ ($\mathrm{Var}(h) = "
                            r"\mathrm{Var}(x)$) is $\sqrt{3}/\sqrt{n_{in}}$ (LeCun)",
                            r"граница, которая действительно даёт $\mathrm{Var}(w) = 1/n_{in}$ ($\mathrm{Var}(h) = "
                            r"\mathrm{Var}(x)$), — это $\sqrt{3}/\sqrt{n_{in}}$ (LeCun)")))
    return Derivation("lecture-uniform-inits",
                      T("Uniform initializations on the slides: the variance they give",
                        "Равномерные инициализации на слайдах: какую дисперсию они дают"),
                      steps, assumptions=[T(r"$w \sim U[-a, a]$ iid, independent of the inputs $x$; $E[x] = 0$",
                                            r"веса $w \sim U[-a, a]$ независимы, одинаково распределены и не зависят "
                                            r"от входов $x$; $E[x] = 0$"),
                                          T(r"$n_{in}$, $n_{out}$ positive integers",
                                            r"$n_{in}$, $n_{out}$ — натуральные числа")])


#: Var(w) and Var(h_(l-1)) as unknowns of the conditions that xavier and he solve
VAR_W = name(sp.Symbol("var_w", positive=True), r"\mathrm{Var}(w)")
VAR_H_PREV = name(sp.Symbol("var_h_prev", positive=True), r"\mathrm{Var}(h_{l-1})")


def _solves(value: sp.Expr) -> tuple[sp.Symbol, sp.Expr, str]:
    """A step's ``under``: the condition in Var(w) holds at this solution of it."""
    return VAR_W, value, rf"$\mathrm{{Var}}(w) = {latex(value)}$"


@derivation("xavier", "Glorot/Xavier: forward n_in Var(w) = 1, backward n_out Var(w) = 1, compromise 2/(n_in+n_out)")
def _xavier() -> Derivation:
    v = VAR_W
    fwd = sp.solve(sp.Eq(n_in * v, 1), v)[0]
    bwd = sp.solve(sp.Eq(n_out * v, 1), v)[0]
    mean_condition = sp.Mul(sp.Rational(1, 2), sp.Add(n_in * v, n_out * v, evaluate=False), evaluate=False)
    comp = sp.solve(sp.Eq(mean_condition, 1), v)[0]
    scale, fan = _PRESETS["glorot"]
    slide_bound = SLIDE_UNIFORM_BOUNDS[2][1]
    return Derivation(
        "xavier", T("Xavier (Glorot) initialization", "Инициализация Xavier (Glorot)"),
        [
            Step(lhs=n_in * v, rhs=1, under=_solves(fwd),
                 why=T(r"forward: $\mathrm{Var}(h) = \mathrm{Var}(x)\,[n_{in}\,\mathrm{Var}(w)]$ keeps the variance "
                       r"iff $n_{in}\,\mathrm{Var}(w) = 1$",
                       r"прямой проход: $\mathrm{Var}(h) = \mathrm{Var}(x)\,[n_{in}\,\mathrm{Var}(w)]$, дисперсия "
                       r"сохраняется тогда и только тогда, когда $n_{in}\,\mathrm{Var}(w) = 1$")),
            Step(lhs=n_out * v, rhs=1, under=_solves(bwd),
                 why=T(r"backward: $n_{out}$ gradients enter each unit, so the gradient's variance is kept iff "
                       r"$n_{out}\,\mathrm{Var}(w) = 1$",
                       r"обратный проход: в каждый нейрон приходят $n_{out}$ градиентов, поэтому дисперсия градиента "
                       r"сохраняется тогда и только тогда, когда $n_{out}\,\mathrm{Var}(w) = 1$")),
            Step(lhs=mean_condition, rhs=1, under=_solves(comp),
                 why=T(r"both hold only if $n_{in} = n_{out}$; the compromise averages the two conditions, so "
                       r"$\mathrm{Var}(w)$ is the harmonic mean of $1/n_{in}$ and $1/n_{out}$",
                       r"оба условия выполняются, только если $n_{in} = n_{out}$; компромисс усредняет два условия, "
                       r"так что $\mathrm{Var}(w)$ — среднее гармоническое $1/n_{in}$ и $1/n_{out}$")),
            Step(lhs=scale / fan, rhs=comp,
                 why=T("Keras `glorot_*`: scale 1 over `fan_avg` $= (n_{in} + n_{out})/2$",
                       "Keras `glorot_*`: масштаб 1, делённый на `fan_avg` $= (n_{in} + n_{out})/2$")),
            Step(lhs=sp.sqrt(sp.Mul(3, comp, evaluate=False), evaluate=False), rhs=slide_bound,
                 why=T(r"uniform bound $a = \sqrt{3\,\mathrm{Var}(w)}$ (from $a^2/3 = \mathrm{Var}(w)$): the slide's "
                       r"$\sqrt{6}/\sqrt{n_{out} + n_{in}}$",
                       r"граница равномерного распределения $a = \sqrt{3\,\mathrm{Var}(w)}$ (из $a^2/3 = "
                       r"\mathrm{Var}(w)$): это $\sqrt{6}/\sqrt{n_{out} + n_{in}}$ со слайда")),
            Step(lhs=sp.sqrt(comp, evaluate=False), rhs=sp.sqrt(2) / sp.sqrt(n_in + n_out),
                 why=T("normal std (the slide's 'seminar exercise'); Keras' truncated normal divides it by 0.8796",
                       "стандартное отклонение нормального распределения (на слайде это «семинарская задача»); "
                       "усечённое нормальное распределение Keras делит его на 0.8796")),
        ],
        assumptions=[T("$E[w] = 0$, $E[x] = 0$, all independent (layer-variance)",
                       "$E[w] = 0$, $E[x] = 0$, все величины независимы (вывод `layer-variance`)")],
        references=[T("Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward networks",
                      "Glorot & Bengio 2010, «Understanding the difficulty of training deep feedforward networks»")])


def _reflect_check(h, f):
    """int_{-oo}^0 g(h) f(h) dh = int_0^oo g(-h) f(-h) dh (substitution h -> -h), then f(-h) = f(h)."""
    def check(lhs, rhs):
        (integrand, (var, lo, hi)) = lhs.function, lhs.limits[0]
        if (var, lo, hi) != (h, -sp.oo, 0):
            return False, "left side must integrate over (-oo, 0)"
        # h -> -h maps (-oo, 0) to (0, oo) (the sign of d(-h) flips the limits back), then f(-h) = f(h)
        symmetric = sp.Integral(integrand.subs(h, -h).subs(f(-h), f(h)), (h, 0, sp.oo))
        ok = sp.simplify(symmetric.function - rhs.function) == 0 and symmetric.limits == rhs.limits
        return ok, ("substitution h -> -h, then f(-h) = f(h)" if ok else f"reflection gives {symmetric}")
    return check


@derivation("he", "He/Kaiming: E[relu(h)^2] = Var(h)/2 for symmetric h, so Var(w) = 2/n_in; leaky: 2/((1+a^2) n_in)")
def _he() -> Derivation:
    from sympy import stats

    h = sp.Symbol("h", real=True)
    f = sp.Function("f")
    s, half = sp.Symbol("s", positive=True), sp.Symbol("c", positive=True)
    v, vprev = VAR_W, VAR_H_PREV
    slope = sp.Symbol("a", real=True)
    H = stats.Normal("H", 0, s)
    U = stats.Uniform("U", -half, half)
    relu2 = sp.Piecewise((h**2, h > 0), (0, True))
    full = sp.Integral(h**2 * f(h), (h, -sp.oo, sp.oo))
    neg, pos = sp.Integral(h**2 * f(h), (h, -sp.oo, 0)), sp.Integral(h**2 * f(h), (h, 0, sp.oo))
    he_var = sp.solve(sp.Eq(n_in * v * vprev / 2, vprev), v)[0]
    leaky_var = sp.solve(sp.Eq(n_in * v * (1 + slope**2) * vprev / 2, vprev), v)[0]
    scale, fan = _PRESETS["he"]
    return Derivation(
        "he", T("He (Kaiming) initialization for ReLU", "Инициализация He (Kaiming) для ReLU"),
        [
            Step(lhs=neg, rhs=pos, why=T("$h$ symmetric about 0 (density $f(-h) = f(h)$)",
                                         "$h$ симметрична относительно 0 (плотность $f(-h) = f(h)$)"),
                 check=_reflect_check(h, f)),
            Step(lhs=full, rhs=neg + pos, why=T("split the second moment at 0", "разбиваем второй момент в точке 0"),
                 check=lambda l, r: (sp.Integral(l.function, (h, -sp.oo, 0)) + sp.Integral(l.function, (h, 0, sp.oo))
                                     == r, "additivity of the integral over (-oo, 0] and [0, oo)")),
            Step(lhs=stats.Expectation(relu2.subs(h, H)), rhs=stats.Variance(H) / 2,
                 why=T(r"so $E[\mathrm{relu}(h)^2] = \int_0^\infty h^2 f = E[h^2]/2 = \mathrm{Var}(h)/2$; "
                       r"e.g. $h \sim N(0, s^2)$",
                       r"поэтому $E[\mathrm{relu}(h)^2] = \int_0^\infty h^2 f = E[h^2]/2 = \mathrm{Var}(h)/2$; "
                       r"например, $h \sim N(0, s^2)$")),
            Step(lhs=stats.Expectation(relu2.subs(h, U)), rhs=stats.Variance(U) / 2,
                 why=T(r"and $h \sim U[-c, c]$ (any symmetric law)",
                       r"и $h \sim U[-c, c]$ (подходит любое симметричное распределение)")),
            Step(lhs=n_in * v * vprev / 2, rhs=vprev, under=_solves(he_var),
                 why=T(r"$\mathrm{Var}(h_l) = n_{in}\,\mathrm{Var}(w)\,E[x^2]$ with $E[x^2] = \mathrm{Var}(h_{l-1})/2$ "
                       r"(the slide's $\frac{1}{2}\mathrm{Var}(h_{i-1})\,[n_{in}\,\mathrm{Var}(w)]$) is preserved iff "
                       r"$\mathrm{Var}(w) = 2/n_{in}$",
                       r"$\mathrm{Var}(h_l) = n_{in}\,\mathrm{Var}(w)\,E[x^2]$, где $E[x^2] = \mathrm{Var}(h_{l-1})/2$ "
                       r"(на слайде $\frac{1}{2}\mathrm{Var}(h_{i-1})\,[n_{in}\,\mathrm{Var}(w)]$): дисперсия "
                       r"сохраняется тогда и только тогда, когда $\mathrm{Var}(w) = 2/n_{in}$")),
            Step(lhs=sp.sqrt(sp.Mul(3, scale / fan, evaluate=False), evaluate=False), rhs=sp.sqrt(6) / sp.sqrt(n_in),
                 why=T(r"Keras `he_uniform`: scale 2 over `fan_in` gives $\mathrm{Var}(w) = 2/n_{in}$ and the bound "
                       r"$a = \sqrt{3\,\mathrm{Var}(w)}$, the bound of slide «Немного лучше»",
                       r"Keras `he_uniform`: масштаб 2, делённый на `fan_in`, даёт $\mathrm{Var}(w) = 2/n_{in}$ и "
                       r"границу $a = \sqrt{3\,\mathrm{Var}(w)}$ — ту же, что на слайде «Немного лучше»")),
            Step(lhs=stats.Expectation((sp.Piecewise((h, h > 0), (slope * h, True)) ** 2).subs(h, H)),
                 rhs=(1 + slope**2) * stats.Variance(H) / 2,
                 why=T(r"leaky ReLU: $E[\mathrm{leaky}(h)^2] = (1 + a^2)\,\mathrm{Var}(h)/2$",
                       r"для leaky ReLU: $E[\mathrm{leaky}(h)^2] = (1 + a^2)\,\mathrm{Var}(h)/2$")),
            Step(lhs=n_in * v * (1 + slope**2) * vprev / 2, rhs=vprev, under=_solves(leaky_var),
                 why=T(r"hence $\mathrm{Var}(h_l) = \mathrm{Var}(h_{l-1})$ iff "
                       r"$\mathrm{Var}(w) = 2/((1 + a^2)\,n_{in})$",
                       r"отсюда $\mathrm{Var}(h_l) = \mathrm{Var}(h_{l-1})$ тогда и только тогда, когда "
                       r"$\mathrm{Var}(w) = 2/((1 + a^2)\,n_{in})$")),
        ],
        assumptions=[T("$h_{l-1}$ symmetric about 0 with $E[h] = 0$ (zero-mean symmetric weights make it so)",
                       "$h_{l-1}$ симметрична относительно 0 и $E[h] = 0$ (это обеспечивают симметричные веса с "
                       "нулевым средним)"),
                     T(r"$w$ iid with $E[w] = 0$, independent of $x = \mathrm{relu}(h_{l-1})$ (layer-variance, He "
                       "form)",
                       r"веса $w$ независимы и одинаково распределены, $E[w] = 0$, не зависят от "
                       r"$x = \mathrm{relu}(h_{l-1})$ (вывод `layer-variance` в форме He)")],
        references=[T("He, Zhang, Ren & Sun 2015, Delving deep into rectifiers",
                      "He и др. 2015, «Delving deep into rectifiers»")])


def _at_point(grads: dict, point: dict):
    """Check that two gradients (symbols standing for the ``sympy.diff`` in ``grads``) agree at ``point``."""
    def check(lhs, rhs):
        diff = sp.simplify((lhs - rhs).subs(grads).subs(point).doit())
        ok = diff == 0
        return ok, ("both computed by sympy.diff; at identical parameters their difference simplifies to 0" if ok
                    else f"at these parameters they differ by {sp.sstr(diff)[:200]}")
    return check


@derivation("zero-init-symmetry", "identical initial weights give identical gradients at every step (2 hidden units)")
def _zero_init_symmetry(break_symmetry: bool = False) -> Derivation:
    """``break_symmetry``: give unit 2 a different first weight (negative control: the equalities must fail)."""
    x1, x2, t, eta = sp.symbols("x_1 x_2 t eta", real=True)
    w = sp.Matrix(2, 2, sp.symbols("w_11 w_12 w_21 w_22", real=True))
    b = sp.symbols("b_1 b_2", real=True)
    v = sp.symbols("v_1 v_2", real=True)
    c = sp.Symbol("c", real=True)
    act, loss = sp.Function("f"), sp.Function("ell")
    hidden = [act(w[j, 0] * x1 + w[j, 1] * x2 + b[j]) for j in range(2)]
    y = v[0] * hidden[0] + v[1] * hidden[1] + c
    L = loss(y, t)
    u1, u2, bb, vv = sp.symbols("u_1 u_2 beta nu", real=True)
    same = {w[0, 0]: u1, w[1, 0]: u1 + (1 if break_symmetry else 0), w[0, 1]: u2, w[1, 1]: u2, b[0]: bb, b[1]: bb,
            v[0]: vv, v[1]: vv}
    pairs = [(w[0, 0], w[1, 0]), (w[0, 1], w[1, 1]), (b[0], b[1]), (v[0], v[1])]
    grads = {name(sp.Symbol(f"dL/d{p}", real=True), rf"\frac{{\partial L}}{{\partial {latex(p)}}}"): sp.diff(L, p)
             for pair in pairs for p in pair}
    grad = dict(zip([p for pair in pairs for p in pair], grads))
    chain = [r"\partial L/\partial w_{j1} = \ell'(y)\,v_j f'(z_j)\,x_1",
             r"\partial L/\partial w_{j2} = \ell'(y)\,v_j f'(z_j)\,x_2",
             r"\partial L/\partial b_j = \ell'(y)\,v_j f'(z_j)", r"\partial L/\partial v_j = \ell'(y)\,f(z_j)"]
    steps = [Step(lhs=grad[p1], rhs=grad[p2], check=_at_point(grads, same),
                  why=T(rf"the chain rule gives ${rule}$ ($z_j = w_j \cdot x + b_j$): the same for both units when ",
                        rf"по цепному правилу ${rule}$ ($z_j = w_j \cdot x + b_j$): это одно и то же для обоих "
                        "нейронов, если ")
                      + (T(r"they have identical parameters ($w_{21} = w_{11}$, $w_{22} = w_{12}$, $b_2 = b_1$, "
                           r"$v_2 = v_1$)",
                           r"их параметры совпадают ($w_{21} = w_{11}$, $w_{22} = w_{12}$, $b_2 = b_1$, $v_2 = v_1$)")
                         if k == 0 else T("their parameters are identical", "их параметры совпадают")))
             for k, ((p1, p2), rule) in enumerate(zip(pairs, chain))]
    p1, p2 = sp.symbols("theta_1 theta_2", real=True)
    g = sp.Symbol("g", real=True)
    after = sp.Add(sp.Add(p1, -eta * g, evaluate=False), sp.Mul(-1, sp.Add(p2, -eta * g, evaluate=False),
                                                                 evaluate=False), evaluate=False)
    steps.append(Step(lhs=after, rhs=p1 - p2,
                      why=T(r"a gradient step subtracts the same $\eta g$ from both, so the gap between the two units' "
                            "parameters is unchanged",
                            r"шаг градиентного спуска вычитает из обоих параметров одно и то же $\eta g$, поэтому "
                            "разность параметров двух нейронов не меняется")))
    steps.append(Step(rhs=0, under=(p2, p1, r"$\theta_2 = \theta_1$"),
                      why=T("equal parameters stay equal: by induction over steps the two units are the same function "
                            "forever; in particular all-zero (or any constant) initial weights never break the "
                            "symmetry",
                            "равные параметры остаются равными: по индукции по шагам оба нейрона всегда вычисляют "
                            "одну и ту же функцию; в частности, нулевые (или любые одинаковые) начальные веса никогда "
                            "не нарушают симметрию")))
    return Derivation(
        "zero-init-symmetry", T("Why identical (e.g. zero) initial weights fail",
                                "Почему одинаковые (например, нулевые) начальные веса не работают"),
        steps,
        assumptions=[T(r"network $y = v_1 f(w_1 \cdot x + b_1) + v_2 f(w_2 \cdot x + b_2) + c$, any activation $f$, "
                       r"any loss $\ell(y, t)$; plain gradient descent (the same holds for momentum and Adam, which "
                       "act coordinate-wise on equal gradients)",
                       r"сеть $y = v_1 f(w_1 \cdot x + b_1) + v_2 f(w_2 \cdot x + b_2) + c$, любая функция "
                       r"активации $f$, любая функция потерь $\ell(y, t)$; обычный градиентный спуск (то же верно "
                       "для спуска с импульсом и для Adam: они действуют покоординатно, а градиенты равны)")])
