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
from theory.latex import latex
from theory.parse import parse_expression

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
    steps = []
    a = sp.Symbol("a", positive=True)
    steps.append(Step(lhs=_uniform_var(a), rhs=a**2 / 3, why=r"$\mathrm{Var}(U[-a, a]) = (a - (-a))^2/12 = a^2/3$"))
    for row in lecture_uniform_bounds():
        b, var = row["bound"], row["weight_var"]
        steps.append(Step(lhs=_slide_form(b), rhs=var,
                          why=f"slide «{row['slide']}»: $a = {latex(b)}$"))
        steps.append(Step(lhs=sp.Mul(n_in, var, evaluate=False), rhs=row["layer_gain"],
                          why=r"the layer multiplier $n_{in}\,\mathrm{Var}(w)$ "
                              r"($\mathrm{Var}(h) = n_{in}\,\mathrm{Var}(w)\,\mathrm{Var}(x)$, layer-variance)"))
        if row["slide_weight_var"] is not None:
            ratio = row["ratio_to_slide"]
            verdict = ("as the slide says" if row["agrees"] else
                       f"the slide writes ${latex(row['slide_weight_var'])}$: off by a factor ${latex(ratio)}$")
            shown = row["slide_weight_var"] if row["agrees"] else sp.Mul(ratio, row["slide_weight_var"], evaluate=False)
            steps.append(Step(lhs=var, rhs=shown, why=verdict))
    lecun = sp.sqrt(3) / sp.sqrt(n_in)
    steps.append(Step(lhs=_slide_form(lecun), rhs=1 / n_in,
                      why=r"the bound that does give $\mathrm{Var}(w) = 1/n_{in}$ ($\mathrm{Var}(h) = "
                          r"\mathrm{Var}(x)$) is $\sqrt{3}/\sqrt{n_{in}}$ (LeCun)"))
    return Derivation("lecture-uniform-inits", "Uniform initializations on the slides: the variance they give",
                      steps, assumptions=[r"$w \sim U[-a, a]$ iid, independent of the inputs $x$; $E[x] = 0$",
                                          r"$n_{in}$, $n_{out}$ positive integers"])


@derivation("xavier", "Glorot/Xavier: forward n_in Var(w) = 1, backward n_out Var(w) = 1, compromise 2/(n_in+n_out)")
def _xavier() -> Derivation:
    v = sp.Symbol("Var_w", positive=True)
    fwd = sp.solve(sp.Eq(n_in * v, 1), v)[0]
    bwd = sp.solve(sp.Eq(n_out * v, 1), v)[0]
    comp = sp.solve(sp.Eq((n_in + n_out) / 2 * v, 1), v)[0]
    a = sp.solve(sp.Eq(sp.Symbol("a", positive=True) ** 2 / 3, comp), sp.Symbol("a", positive=True))[0]
    keras = _PRESETS["glorot"]
    return Derivation(
        "xavier", "Xavier (Glorot) initialization",
        [
            Step(lhs=n_in * fwd, rhs=1, why=r"forward: $\mathrm{Var}(h) = \mathrm{Var}(x)$ needs "
                                            r"$n_{in}\,\mathrm{Var}(w) = 1$, $\mathrm{Var}(w) = 1/n_{in}$"),
            Step(lhs=n_out * bwd, rhs=1, why=r"backward: $n_{out}$ gradients enter each unit; "
                                                  r"$\mathrm{Var}(w) = 1/n_{out}$"),
            Step(lhs=comp, rhs=2 / (1 / fwd + 1 / bwd),
                 why=r"both hold only if $n_{in} = n_{out}$; the compromise $\frac{n_{in} + "
                     r"n_{out}}{2}\,\mathrm{Var}(w) = 1$ is the harmonic mean of the two conditions"),
            Step(lhs=comp, rhs=keras[0] / keras[1], why="Keras `glorot_*`: scale 1 over `fan_avg` "
                                                        "$= (n_{in} + n_{out})/2$"),
            Step(lhs=a, rhs=sp.sqrt(6) / sp.sqrt(n_in + n_out),
                 why=r"uniform bound: $a^2/3 = 2/(n_{in} + n_{out})$, the slide's $\sqrt{6}/\sqrt{n_{out} + n_{in}}$"),
            Step(lhs=sp.sqrt(comp), rhs=sp.sqrt(2) / sp.sqrt(n_in + n_out),
                 why="normal std (the slide's 'seminar exercise'); Keras' truncated normal divides it by 0.8796"),
        ],
        assumptions=["$E[w] = 0$, $E[x] = 0$, all independent (layer-variance)"],
        references=["Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward networks"])


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
    v, vprev = sp.Symbol("Var_w", positive=True), sp.Symbol("Var_h", positive=True)
    slope = sp.Symbol("a", real=True)
    H = stats.Normal("H", 0, s)
    U = stats.Uniform("U", -half, half)
    relu2 = sp.Piecewise((h**2, h > 0), (0, True))
    full = sp.Integral(h**2 * f(h), (h, -sp.oo, sp.oo))
    neg, pos = sp.Integral(h**2 * f(h), (h, -sp.oo, 0)), sp.Integral(h**2 * f(h), (h, 0, sp.oo))
    he_var = sp.solve(sp.Eq(n_in * v * vprev / 2, vprev), v)[0]
    leaky_var = sp.solve(sp.Eq(n_in * v * (1 + slope**2) * vprev / 2, vprev), v)[0]
    return Derivation(
        "he", "He (Kaiming) initialization for ReLU",
        [
            Step(lhs=neg, rhs=pos, why="$h$ symmetric about 0 (density $f(-h) = f(h)$)", check=_reflect_check(h, f)),
            Step(lhs=full, rhs=neg + pos, why="split the second moment at 0",
                 check=lambda l, r: (sp.Integral(l.function, (h, -sp.oo, 0)) + sp.Integral(l.function, (h, 0, sp.oo))
                                     == r, "additivity of the integral over (-oo, 0] and [0, oo)")),
            Step(lhs=stats.Expectation(relu2.subs(h, H)), rhs=stats.Variance(H) / 2,
                 why=r"so $E[\mathrm{relu}(h)^2] = \int_0^\infty h^2 f = E[h^2]/2 = \mathrm{Var}(h)/2$; "
                     r"e.g. $h \sim N(0, s^2)$"),
            Step(lhs=stats.Expectation(relu2.subs(h, U)), rhs=stats.Variance(U) / 2,
                 why=r"and $h \sim U[-c, c]$ (any symmetric law)"),
            Step(lhs=sp.Mul(n_in, he_var, vprev / 2, evaluate=False), rhs=vprev,
                 why=r"$\mathrm{Var}(h_l) = n_{in}\,\mathrm{Var}(w)\,E[x^2] = "
                     r"n_{in}\,\mathrm{Var}(w)\,\mathrm{Var}(h_{l-1})/2$ is preserved iff "
                     r"$\mathrm{Var}(w) = 2/n_{in}$"),
            Step(lhs=he_var, rhs=_PRESETS["he"][0] / _PRESETS["he"][1], why="Keras `he_*`: scale 2 over `fan_in`"),
            Step(lhs=stats.Expectation((sp.Piecewise((h, h > 0), (slope * h, True)) ** 2).subs(h, H)),
                 rhs=(1 + slope**2) * stats.Variance(H) / 2,
                 why=r"leaky ReLU: $E[\mathrm{leaky}(h)^2] = (1 + a^2)\,\mathrm{Var}(h)/2$"),
            Step(lhs=leaky_var, rhs=2 / ((1 + slope**2) * n_in),
                 why=r"hence $\mathrm{Var}(w) = 2/((1 + a^2)\,n_{in})$"),
        ],
        assumptions=["$h_{l-1}$ symmetric about 0 with $E[h] = 0$ (zero-mean symmetric weights make it so)",
                     r"$w$ iid with $E[w] = 0$, independent of $x = \mathrm{relu}(h_{l-1})$ (layer-variance, He form)"],
        references=["He, Zhang, Ren & Sun 2015, Delving deep into rectifiers"])


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
    steps = []
    for p1, p2 in pairs:
        steps.append(Step(lhs=(sp.diff(L, p1) - sp.diff(L, p2)).subs(same), rhs=0,
                          why=rf"$\partial L/\partial {latex(p1)} = \partial L/\partial {latex(p2)}$ when unit 1 "
                              "and unit 2 have identical parameters"))
    p1, p2 = sp.symbols("theta_1 theta_2", real=True)
    g = sp.Symbol("g", real=True)
    steps.append(Step(lhs=(p1 - eta * g) - (p2 - eta * g), rhs=p1 - p2,
                      why=r"a gradient step subtracts the same $\eta g$ from both, so equal parameters stay equal: by "
                          "induction over steps the two units are the same function forever"))
    steps.append(Step(lhs=(p1 - eta * g) - (p2 - eta * g), rhs=0, under=(p2, p1, r"$\theta_2 = \theta_1$"),
                      why="in particular all-zero (or any constant) initial weights never break the symmetry"))
    return Derivation(
        "zero-init-symmetry", "Why identical (e.g. zero) initial weights fail",
        steps,
        assumptions=[r"network $y = v_1 f(w_1 \cdot x + b_1) + v_2 f(w_2 \cdot x + b_2) + c$, any activation $f$, "
                     r"any loss $\ell(y, t)$; plain gradient descent (the same holds for momentum and Adam, which act "
                     "coordinate-wise on equal gradients)"])
