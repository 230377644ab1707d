"""The computations behind the weight-initialization slides' claims (:mod:`lecture.claims_init`).

The slide's sigmoid unit sigma_1 = sigma(w_0 + w_2 sigma_2 + w_3 sigma_3) (the "..." of the slide as a bias w_0) and
its symbols live here; every formula comes from its topical module: the logistic function from
:mod:`theory.functions`, variances of products, sums and uniform/normal laws from :mod:`theory.variance`
(sympy.stats), schemes from :mod:`theory.init`, activation moments and derivatives from :mod:`theory.activations`,
the depth recursion from :func:`theory.predict.predict`. Conventions: ``n_in``, ``n_out`` are :mod:`theory.init`'s
fans; the slide's Var_w, Var_x, E_x2 stand for :mod:`theory.variance`'s sigma_w^2, sigma_x^2 and E[x^2], and print
(:func:`theory.latex.latex`) as the slide writes them: Var(w), Var(x), E(x^2).
"""
from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp
from sympy.stats import Expectation, Laplace, Normal, Uniform, Variance, density

from theory import activations as acts
from theory import variance as V
from theory.calculus import x
from theory.config import NetworkConfig
from theory.functions import relu, sigmoid
from theory.gaussian import q
from theory.init import get_init, n_in, n_out
from theory.latex import name as latex_name
from theory.predict import predict

# the slide's symbols: sigma_1 = sigma(w_2 sigma_2 + w_3 sigma_3 + ...), dL/dsigma_1 = g; their LaTeX is the slide's
s1, s2, s3 = (latex_name(sp.Symbol(f"sigma_{k}", real=True), rf"\sigma_{k}") for k in (1, 2, 3))
w2, w3, w0 = sp.symbols("w_2 w_3 w_0", real=True)
g = sp.Symbol("g", real=True)  # dL/dsigma_1
var_w = latex_name(sp.Symbol("Var_w", positive=True), r"\mathrm{Var}(w)")
var_x = latex_name(sp.Symbol("Var_x", positive=True), r"\mathrm{Var}(x)")
E_x2 = latex_name(sp.Symbol("E_x2", positive=True), r"E(x^2)")  # E[x^2]

#: the (w, x) laws under which Var(w_0 + sum w_i x_i) - Var(sum w_i x_i) is computed: exact finite sums (fast)
BIAS_LAWS = (("two-point(1/5)", "two-point(1/2)"), ("two-point(1/2)", "two-point(1/5)"))

_v = sp.Symbol("v", positive=True)  # an unknown weight variance, solved for


# ------------------------------------------------------------------------------------------------ the slide's unit
def _pre_activation() -> sp.Expr:
    return w0 + w2 * s2 + w3 * s3


@lru_cache(maxsize=None)
def slide_unit() -> sp.Expr:
    """sigma_1 = sigma(z), z = w_0 + w_2 sigma_2 + w_3 sigma_3 (the "..." of the slide as a bias w_0)."""
    return sigmoid(_pre_activation())


def chain_rule(wrt) -> sp.Expr:
    """dL/dw for L = L(sigma_1) by SymPy's chain rule, with dL/dsigma_1 written g."""
    L = sp.Function("L")
    expr = sp.diff(L(slide_unit()), wrt)
    return expr.replace(lambda e: isinstance(e, (sp.Subs, sp.Derivative)), lambda e: g)


def from_unit_output(expr) -> sp.Expr:
    """``expr`` with sigma_1 replaced by the unit sigma(w_0 + w_2 sigma_2 + w_3 sigma_3)."""
    return sp.sympify(expr).subs(s1, slide_unit())


def in_unit_output(expr) -> sp.Expr:
    """``expr`` rewritten in sigma_1, factored: e^(-z) = (1 - sigma_1)/sigma_1, solved from sigma_1 = sigma(z)."""
    z, u = _pre_activation(), sp.Symbol("u", positive=True)
    e_minus_z = sp.solve(sp.Eq(s1, sigmoid(z).subs(sp.exp(-z), u)), u)[0]
    return sp.factor(sp.simplify(sp.sympify(expr).subs(slide_unit(), s1).subs(sp.exp(-z), e_minus_z)))


@lru_cache(maxsize=None)
def zero_init_gradients() -> dict:
    """Gradients of each unit's incoming weights at zero init, for the slide's net: inputs x_1, x_2; hidden units
    sigma_2, sigma_3 (weights v_jk); output sigma_1 = sigma(w_2 sigma_2 + w_3 sigma_3); any loss L(sigma_1, t)."""
    x1, x2, t = sp.symbols("x_1 x_2 t", real=True)
    v = sp.Matrix(2, 2, sp.symbols("v_21 v_22 v_31 v_32", real=True))
    hidden = {2: sigmoid(v[0, 0] * x1 + v[0, 1] * x2), 3: sigmoid(v[1, 0] * x1 + v[1, 1] * x2)}
    out = sigmoid(w2 * hidden[2] + w3 * hidden[3])
    L = sp.Function("ell")(out, t)
    zero = {p: 0 for p in (*v, w2, w3)}
    dl = latex_name(sp.Symbol("ell'(1/2)"), r"\ell'(1/2)")  # dL/dsigma_1 at sigma_1 = sigma(0) = 1/2, for display

    def grad(p):
        e = sp.simplify(sp.diff(L, p).subs(zero).doit())
        return e.replace(lambda a: isinstance(a, sp.Subs), lambda a: dl)
    return {1: [grad(p) for p in (w2, w3)], 2: [grad(p) for p in (v[0, 0], v[0, 1])],
            3: [grad(p) for p in (v[1, 0], v[1, 1])]}


def same_update(i: int, j: int) -> bool:
    """Units i and j (1, 2, 3) of :func:`zero_init_gradients` get identical first gradients (exactly, by SymPy)."""
    gi, gj = zero_init_gradients()[i], zero_init_gradients()[j]
    return all(sp.simplify(a - b) == 0 for a, b in zip(gi, gj))


# ------------------------------------------------------------------------------------------------ variances
def bias_variance_shifts(laws=BIAS_LAWS) -> dict:
    """(law of w, law of x) -> Var(w_0 + w_1 x_1 + w_2 x_2) - Var(w_1 x_1 + w_2 x_2) by sympy.stats, w_0 a constant,
    w_j, x_j independent with symbolic means and variances."""
    out = {}
    for fw, fx in laws:
        ws = [V.FAMILIES[fw](f"w_{j}", V.mu_w, V.sigma_w) for j in (1, 2)]
        xs = [V.FAMILIES[fx](f"x_{j}", V.mu_x, V.sigma_x) for j in (1, 2)]
        s = ws[0] * xs[0] + ws[1] * xs[1]
        out[(fw, fx)] = sp.simplify(V.evaluate(Variance(w0 + s)) - V.evaluate(Variance(s)))
    return out


def product_variance_cases() -> dict:
    """Var(w x) for independent w, x (:func:`theory.variance.product_variance`), the means it depends on, and its
    forms with E[w] = E[x] = 0 and with E[w] = 0 alone (He's case)."""
    var = V.product_variance()
    return {"var_wx": var, "means": sorted(str(m) for m in var.free_symbols & {V.mu_w, V.mu_x}),
            "zero_means": var.subs({V.mu_w: 0, V.mu_x: 0}), "zero_weight_mean": sp.factor(var.subs(V.mu_w, 0))}


def _layer_variance(zero_means: dict) -> sp.Expr:
    per_term = V.product_variance().subs(zero_means)
    return sp.simplify(V.sum_variance(V.n_in).subs(V.sigma, sp.sqrt(per_term)))


@lru_cache(maxsize=None)
def symmetric_layer_variance() -> sp.Expr:
    """Var(sum_i w_i x_i) = n_in Var(w x) = n_in sigma_w^2 sigma_x^2: n_in iid independent terms, E[w] = E[x] = 0."""
    return _layer_variance({V.mu_w: 0, V.mu_x: 0})


@lru_cache(maxsize=None)
def he_layer_variance() -> sp.Expr:
    """Var(sum_i w_i x_i) = n_in sigma_w^2 (sigma_x^2 + mu_x^2): n_in iid independent terms, E[w] = 0 only."""
    return _layer_variance({V.mu_w: 0})


@lru_cache(maxsize=None)
def _second_moment_x() -> sp.Expr:
    """E[x^2] = sigma_x^2 + mu_x^2 by sympy.stats (x with mean mu_x and variance sigma_x^2)."""
    return V.evaluate(Expectation(Normal("x", V.mu_x, V.sigma_x) ** 2))


def in_variance_symbols(expr) -> sp.Expr:
    """The slide's Var_w, Var_x, n_in, E_x2 in ``expr`` as :mod:`theory.variance`'s sigma_w^2, sigma_x^2, n_in and
    E[x^2] = sigma_x^2 + mu_x^2."""
    out = sp.sympify(expr).subs({var_w: V.sigma_w**2, var_x: V.sigma_x**2, n_in: V.n_in})
    return out.subs(E_x2, _second_moment_x())


def _layer_variance_in_second_moment() -> sp.Expr:
    """Var(h) = n_in sigma_w^2 E[x^2] (E[w] = 0): :func:`he_layer_variance` with sigma_x^2 = E[x^2] - mu_x^2."""
    return he_layer_variance().subs(V.sigma_x, sp.sqrt(E_x2 - V.mu_x**2))


def forward_gain(weight_var) -> sp.Expr:
    """n_in Var(w) = Var(h)/Var(x) of :func:`symmetric_layer_variance` at Var(w) = ``weight_var``."""
    return sp.simplify((symmetric_layer_variance() / V.sigma_x**2).subs(V.sigma_w, sp.sqrt(weight_var)))


def uniform_weight_var(bound) -> sp.Expr:
    """Var(w) for w ~ U[-bound, bound] (bound > 0): bound^2/3, integrating the density (theory.variance)."""
    return sp.simplify(V.uniform_variance(bound))


def uniform_bound_for(weight_var) -> sp.Expr:
    """The bound a > 0 with Var U[-a, a] = ``weight_var``, solved from :func:`theory.variance.uniform_variance`."""
    a = sp.Symbol("a", positive=True)
    return sp.simplify(sp.solve(sp.Eq(V.uniform_variance(a), _v), a)[0].subs(_v, weight_var))


def uniform_layer_variance(bound, input_var) -> dict:
    """w ~ U[-bound, bound], Var(x) = ``input_var``: ``weight_var``; Var(h) in the symmetric case E[w] = E[x] = 0
    (``symmetric``, n_in Var(w) Var(x)); and for ReLU inputs x = relu(h_prev), Var(h_prev) = ``input_var``
    (``relu_inputs``, n_in Var(w) E[x^2] with E[x^2] = Var(h_prev)/2 from :func:`relu_second_moment_ratio`)."""
    wv = uniform_weight_var(bound)
    values = {V.sigma_w: sp.sqrt(wv), V.sigma_x: sp.sqrt(input_var)}
    relu_values = {V.sigma_w: sp.sqrt(wv), E_x2: relu_second_moment_ratio() * input_var}
    return {"weight_var": wv, "symmetric": sp.simplify(symmetric_layer_variance().subs(values)),
            "relu_inputs": sp.simplify(_layer_variance_in_second_moment().subs(relu_values))}


# ------------------------------------------------------------------------------------------------ Xavier and He
def xavier_average(bound, fan) -> dict:
    """The uniform init U[-bound, bound]: ``weight_var``; ``fan_times_var`` = fan Var(w); the forward condition
    n_in Var(w) = 1 (:func:`forward_gain`) and the backward one n_out Var(w) = 1 (the same sum over n_out gradients)
    solved for Var(w) (``forward``, ``backward``); ``both``: their common solutions (none unless n_in = n_out);
    ``true_fan`` = 1/Var(w)."""
    wv = uniform_weight_var(bound)
    fwd_gain = forward_gain(_v)
    bwd_gain = fwd_gain.subs(n_in, n_out)
    fwd, bwd = sp.solve(sp.Eq(fwd_gain, 1), _v)[0], sp.solve(sp.Eq(bwd_gain, 1), _v)[0]
    both = sp.solve([sp.Eq(fwd_gain, 1), sp.Eq(bwd_gain, 1)], [_v], dict=True)
    return {"weight_var": wv, "fan_times_var": sp.simplify(sp.sympify(fan) * wv), "forward": fwd, "backward": bwd,
            "both": both, "true_fan": sp.simplify(1 / wv)}


def xavier_normal(uniform_bound) -> dict:
    """The normal analogue of U[-bound, bound]: ``target`` = its Var(w), ``std`` s = sqrt(target), ``plain`` =
    Var N(0, s^2) (sympy.stats), ``truncated_var_factor`` = Var of N(0, 1) truncated at +-2 (Keras' truncated
    normal has variance factor * s^2; :func:`theory.variance.truncated_normal_variance`)."""
    target = uniform_weight_var(uniform_bound)
    s = sp.sqrt(target)
    return {"target": target, "std": s, "plain": sp.simplify(V.normal_variance(s)),
            "truncated_var_factor": float(V.truncated_normal_variance(1, 2))}


@lru_cache(maxsize=None)
def relu_second_moment_ratio() -> sp.Expr:
    """E[relu(h)^2] / Var(h) for h ~ N(0, q): the closed form of theory.activations, divided by q."""
    return sp.simplify(acts.moment_closed_forms(acts.get_activation("relu"))["second"] / q)


@lru_cache(maxsize=None)
def relu_second_over_var() -> dict:
    """E[max(0, h)^2] / Var(h) for h symmetric about 0 (normal, uniform, Laplace laws of sympy.stats, scale s), by
    integrating relu(h)^2 against the law's density."""
    h, s = sp.Symbol("h", real=True), sp.Symbol("s", positive=True)
    laws = {"normal N(0, s^2)": Normal("H", 0, s), "uniform U[-s, s]": Uniform("H", -s, s),
            "Laplace(0, s)": Laplace("H", 0, s)}
    second = relu(h) ** 2
    return {name: sp.simplify(sp.integrate(second * density(H)(h), (h, -sp.oo, sp.oo)) / V.evaluate(Variance(H)))
            for name, H in laws.items()}


def he_weight_var() -> sp.Expr:
    """Var(w) with Var(h_l) = Var(h_(l-1)) for ReLU inputs: n_in Var(w) E[x^2] = Var(h_(l-1)), E[x^2] =
    Var(h_(l-1))/2 (:func:`relu_second_moment_ratio`), solved: 2/n_in."""
    prev = latex_name(sp.Symbol("Var_h", positive=True), r"\mathrm{Var}(h)")
    layer = _layer_variance_in_second_moment().subs({V.sigma_w: sp.sqrt(_v), E_x2: relu_second_moment_ratio() * prev})
    return sp.solve(sp.Eq(layer, prev), _v)[0]


# ------------------------------------------------------------------------------------------------ activations
def phi_prime_at_zero(spec: str) -> sp.Expr:
    """phi'(0) exactly: the limits of the derivative pieces at 0 from both sides (equal for these activations)."""
    values = set()
    for p in acts.derivative_pieces(acts.get_activation(spec)):
        if p.interval.start <= 0 <= p.interval.end:
            for d in ("+", "-"):
                if (d == "+" and p.interval.start <= 0 < p.interval.end) or (d == "-" and p.interval.start < 0):
                    values.add(sp.nsimplify(sp.simplify(sp.limit(p.expr, x, 0, d))))
    if len(values) != 1:
        raise ArithmeticError(f"phi'(0) of {spec} is not unique: {values}")
    return values.pop()


def gaussian_mean(spec: str) -> float:
    """E[phi(h)] for h ~ N(0, 1) (closed form or quadrature, theory.activations)."""
    return acts.moments(acts.get_activation(spec), 1.0)["mean"]


def symmetry_kind(spec: str) -> str:
    """"odd" (phi(-x) = -phi(x)), "even", "point-symmetric about (0, phi(0))" or "none", decided exactly by SymPy."""
    f = acts.get_activation(spec).expr
    if sp.simplify(f.subs(x, -x) + f) == 0:
        return "odd"
    if sp.simplify(f.subs(x, -x) - f) == 0:
        return "even"
    if sp.simplify(f.subs(x, -x) + f - 2 * f.subs(x, 0)) == 0:
        return f"point-symmetric about (0, {sp.sstr(f.subs(x, 0))})"
    return "none"


@lru_cache(maxsize=None)
def activation_means(specs: tuple) -> dict:
    """spec -> (E[phi(h)] for h ~ N(0, 1), :func:`symmetry_kind`)."""
    return {a: (gaussian_mean(a), symmetry_kind(a)) for a in specs}


def near_zero_factors(init: str, specs) -> dict:
    """``n_var_w``: n Var(w) of ``init`` with equal widths (:func:`forward_gain`); per activation ``phi_prime_0``,
    ``mean`` (:func:`gaussian_mean`), ``chi_near_0`` = n Var(w) phi'(0)^2, the per-layer variance factor near 0
    (chi_1 at q -> 0, forward and backward), and ``critical_n_var_w`` = 1/phi'(0)^2 (the n Var(w) that makes it 1)."""
    gain = forward_gain(get_init(init).weight_var.subs(n_out, n_in))
    rows = {}
    for spec in specs:
        d0 = phi_prime_at_zero(spec)
        chi = sp.nsimplify(sp.simplify(gain * d0**2))
        rows[spec] = {"phi_prime_0": d0, "mean": gaussian_mean(spec), "chi_near_0": chi,
                      "critical_n_var_w": float(1 / d0**2)}
    return {"n_var_w": gain, "activations": rows}


# ------------------------------------------------------------------------------------------------ depth
def depth_ratio(activation: str, init: str, depth: int, width: int) -> dict:
    """Mean-field Var(h_l) by layer (input Var(x) = 1): first, last, and the largest per-layer deviation from 1."""
    qs = [row["preact_var"] for row in predict(NetworkConfig(activation, init, width, depth))["layers"]]
    return {"first": qs[0], "last": qs[-1], "ratio": qs[-1] / qs[0], "first_step": qs[1] / qs[0],
            "max_step_dev": max(abs(b / a - 1) for a, b in zip(qs, qs[1:]))}


def init_fans(init: str) -> list[str]:
    """The fans (n_in, n_out) that the init's Var(w) depends on, sorted."""
    return sorted(str(v) for v in get_init(init).weight_var.free_symbols)


# ------------------------------------------------------------------------------------------------ notation
def formula_indices(latex: str) -> dict:
    """The index of the unit on the left of ``h_i = ... \\sum_{i=1} ...`` (``left``, None if there is no h_) and the
    summation indices on the right (``summation``), read from the LaTeX as written."""
    free = re.match(r"\s*h_\{?(\w)", latex)
    return {"left": free.group(1) if free else None, "summation": re.findall(r"\\sum_\{(\w)=", latex)}


# ------------------------------------------------------------------------------------------------ framework API
#: The keyword arguments through which Keras layers take their initializers (keras.io, "Layer weight initializers":
#: "Usually, it is simply kernel_initializer and bias_initializer"). Keras 1's ``init=`` was renamed
#: ``kernel_initializer=`` in Keras 2.0 (2017); a documented fact, not a computation.
KERAS_INITIALIZER_KEYWORDS = ("kernel_initializer", "bias_initializer")


def keywords_in(code: str) -> list[str]:
    """The keyword arguments written in a code snippet (``init="he_uniform"`` -> ["init"]), in order."""
    return list(dict.fromkeys(re.findall(r"([A-Za-z_]\w*)\s*=", code)))
