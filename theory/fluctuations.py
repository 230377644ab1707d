"""Finite width to first order in 1/n, for any activation: the mean variance correction and the excess kurtosis.

Network: h_1 = W_1 x + b_1, h_(l+1) = W_(l+1) phi(h_l) + b_(l+1), W_l's entries iid N(0, C_W / n_(l-1)), biases iid
N(0, C_b), widths ``[n_0, n_1, ..., n_L]`` that may differ per layer. Given layer l, the units of layer l + 1 are iid
N(0, G_(l+1)) with the random conditional variance (the conditional-Gaussian step)

    G_(l+1) = C_b + C_W (1/n_l) sum_j phi(h_(l,j))^2,

so E[h^2] = E[G] and E[h^4] = 3 E[G^2]: the excess kurtosis of a pre-activation is 3 Var(G) / E[G]^2 exactly. Write
g(K) = E[phi(sqrt(K) z)^2] (z ~ N(0, 1)), K_l for the infinite-width kernel (K_(l+1) = C_b + C_W g(K_l)),
v_l = Var(G_l) (the issue's V_l / n) and d_l = E[G_l] - K_l (the issue's K1_l / n). The units of layer l are a
scale mixture of Gaussians over G_l; expanding g about K_l (the scale-mixture step) and keeping first order in 1/n:

    d_(l+1) = C_W (g'(K_l) d_l + g''(K_l) v_l / 2),
    v_(l+1) = C_W^2 ((E[phi^4] - g(K_l)^2) / n_l + g'(K_l)^2 v_l),
    excess kurtosis of h_(l+1) = 3 v_(l+1) / K_(l+1)^2.

The derivatives of g come from Gaussian integration by parts, without derivatives of phi (so they hold for kinked
activations): g'(K) = E[phi(X)^2 (z^2 - 1)] / (2K), g''(K) = E[phi(X)^2 (z^4 - 6 z^2 + 3)] / (4 K^2), X = sqrt(K) z.
Gaussian expectations use the package's quadrature (:mod:`theory.meanfield`).

Weights that are not Gaussian (uniform, Keras' truncated normal) add, through their excess kurtosis k_w, a fourth
cumulant to h given the layer below (the Edgeworth step): c4_l = 3 v_l + k_w C_W^2 E[x^4] / n_(l-1), with x the
layer's inputs; then the excess kurtosis is c4_l / K_l^2 and the mean's correction reads
d_(l+1) = C_W (g'(K_l) d_l + g''(K_l) c4_l / 6) (for Gaussian weights c4 = 3 v: the formula above). Orthogonal and
zero weights are not iid: refused.

The input ensemble sets layer 1 (d_1 = 0 for both):
* ``fixed``: an input with |x|^2 / n_0 = q_x; G_1 = C_b + C_W q_x is not random, v_1 = 0;
* ``gaussian`` (the engine's default): x ~ N(0, q_x I); |x|^2 / n_0 has variance 2 q_x^2 / n_0, v_1 = 2 C_W^2 q_x^2 / n_0.

For ReLU with C_W = 2, C_b = 0, the recursion gives d_l = 0 at every width (the mean is exact) and v_L / K^2 =
5 sum_(l<L) 1/n_l (fixed input), the first order of the exact product law prod_(l<L) (1 + 5/n_l) - 1
(:mod:`theory.finite_width`): the first order fails once depth / width is not small (at L/n = 0.2 the exact
excess kurtosis is 3 (e^1 - 1) ~ 5.2 against 3 at first order for n large).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from theory.errors import SpecError

INPUTS = ("gaussian", "fixed")


def weight_kurtosis(distribution: str) -> float:
    """The excess kurtosis of iid weights drawn as ``distribution`` (an init scheme's: normal 0, uniform -6/5,
    truncated_normal cut at +-2 standard deviations); SpecError for weights that are not iid (orthogonal, zeros)."""
    if distribution == "normal":
        return 0.0
    if distribution == "uniform":
        return -1.2
    if distribution == "truncated_normal":
        from scipy.stats import truncnorm

        return float(truncnorm(-2.0, 2.0).stats(moments="k"))
    raise SpecError(f"finite-width theory needs iid weights (normal, uniform or truncated normal), not {distribution}")
NODES = 20  # Gauss-Legendre nodes per panel (the integrands carry z^4: more nodes than the mean-field moments)


def gaussian_stats(activation, K: float) -> dict[str, float]:
    """E[phi^2], E[phi^4], g'(K) and g''(K) for X ~ N(0, K) (module docstring: integration by parts)."""
    from theory.meanfield import Z_EDGES, gaussian_nodes, past_window, phi_numeric

    if not (K > 0 and np.isfinite(K)):
        raise SpecError(f"the kernel must be a finite number > 0 (got {K})")
    xs, w = gaussian_nodes(activation, K, NODES)
    phi = phi_numeric(activation)
    with np.errstate(over="ignore", invalid="ignore"):
        f2 = phi(xs) ** 2
        z2 = xs * xs / K
        g = float(np.sum(w * f2))
        out = {"g": g, "phi4": float(np.sum(w * f2 * f2)), "g1": float(np.sum(w * f2 * (z2 - 1))) / (2 * K),
               "g2": float(np.sum(w * f2 * (z2 * z2 - 6 * z2 + 3))) / (4 * K * K)}
    if not all(np.isfinite(v) for v in out.values()):
        raise SpecError(f"the Gaussian moments of {getattr(activation, 'name', activation)!r} are not finite at "
                        f"K = {K:g}")
    # the fastest-growing integrands: phi^4 and phi^2 z^4; mass past the window is not a value
    z4 = Z_EDGES[-1] ** 4
    if past_window(phi, K, out["phi4"], 4) or past_window(phi, K, 3 * out["g"], 2, z4):
        raise SpecError(f"the Gaussian moments of {getattr(activation, 'name', activation)!r} at K = {K:g} have mass "
                        "beyond 9 standard deviations (an activation growing like exp): not computed")
    return out


def _per_layer(value, depth: int, what: str) -> list[float]:
    vals = list(value) if isinstance(value, (list, tuple)) else [value] * depth
    if len(vals) != depth or not all(np.isfinite(float(v)) and float(v) >= 0 for v in vals):
        raise SpecError(f"{what} must be one number >= 0 or one per layer ({depth})")
    return [float(v) for v in vals]


#: the first order drops terms of relative size O(excess kurtosis); for ReLU its ratio to the exact law is
#: e/(e^e - 1) with e = kurtosis / 3, so at 0.5 the first-order kurtosis is about 8 % low. Past this value a layer is
#: flagged as outside the first order's range (:func:`first_unreliable_layer`).
KURTOSIS_LIMIT = 0.5
#: kernels whose square is not a normal float64 (under- or overflow): the first order is not computed there
_K_RANGE = (float(np.sqrt(np.finfo(np.float64).tiny)), float(np.sqrt(np.finfo(np.float64).max)))
_KEYS = ("kernel", "mean_shift", "preact_var_finite", "conditional_var_var", "preact_excess_kurtosis")


def first_unreliable_layer(rows: Sequence[dict], limit: float = KURTOSIS_LIMIT) -> int | None:
    """The first layer whose first-order excess kurtosis exceeds ``limit`` in size (None: none does)."""
    return next((r["layer"] for r in rows if abs(r["preact_excess_kurtosis"]) > limit), None)


def first_undefined_layer(rows: Sequence[dict]) -> int | None:
    """The first layer where the first order has no value (NaN: the kernel left float64's range, or the activation's
    Gaussian moments are not finite there); None if every layer has one."""
    return next((r["layer"] for r in rows if not np.isfinite(r["preact_excess_kurtosis"])), None)


def relu_exact_kurtosis(widths: Sequence[int], input: str = "gaussian") -> list[float]:
    """The exact excess kurtosis of a pre-activation of a ReLU network with Gaussian weights (any C_W: the kurtosis is
    scale free) and no bias, per layer l = 1..L: 3 (1 + 2/n_0 for Gaussian inputs) E||x_(l-1)||^4 / E||x_(l-1)||^2^2
    - 3, the moments from the exact law (:func:`theory.finite_width.norm_moments_by_layer`)."""
    from theory.finite_width import norm_moments_by_layer

    widths = [int(w) for w in widths]
    if input not in INPUTS:
        raise SpecError(f"input must be one of {', '.join(INPUTS)} (got {input!r})")
    gauss = 1 + 2 / widths[0] if input == "gaussian" else 1.0
    ratios = [1.0] + [row["post"]["ratio"] for row in norm_moments_by_layer(widths[:-1])] if len(widths) > 2 \
        else [1.0]
    return [3 * gauss * r - 3 for r in ratios]


def exact_law_applies(config) -> bool:
    """Whether :func:`relu_exact_kurtosis` is exact for ``config``: ReLU, untruncated Gaussian weights, no bias."""
    return config.act.name == "relu" and config.scheme.distribution == "normal" and config.bias_var == 0


def for_config(config, input: str = "gaussian") -> list[dict]:
    """:func:`by_layer` for a :class:`theory.config.NetworkConfig`: C_W,l = n_(l-1) Var(w_l) from its init at its
    widths, C_b its bias variance, the input variance, and the init's weight kurtosis; SpecError for what the first
    order does not cover (batch norm, dropout, weights that are not iid)."""
    if config.batchnorm or config.dropout_keep < 1:
        raise SpecError("the finite-width theory covers plain networks (no batch norm, no dropout)")
    kw = weight_kurtosis(config.scheme.distribution)
    n = config.widths
    cw = [n[i] * v for i, v in enumerate(config.weight_vars())]
    return by_layer(config.act, n, cw, config.bias_var, config.input_var, input, kw)


def by_layer(activation, widths: Sequence[int], weight_var, bias_var=0.0, input_var: float = 1.0,
             input: str = "gaussian", weight_kurtosis: float = 0.0) -> list[dict]:
    """Per layer l = 1..L (``widths`` = [n_0, ..., n_L]): ``kernel`` K_l (infinite width), ``mean_shift`` d_l,
    ``preact_var_finite`` K_l + d_l, ``conditional_var_var`` v_l and ``preact_excess_kurtosis`` c4_l / K_l^2, to first
    order in 1/n (module docstring). ``weight_var`` C_W and ``bias_var`` C_b: one number or one per layer;
    ``weight_kurtosis``: the weights' excess kurtosis (0: Gaussian; :func:`weight_kurtosis`)."""
    from theory.meanfield import phi_numeric

    phi_numeric(activation)  # an unknown activation is an error here, not a layer without a value below
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise SpecError("widths must be [n_0, n_1, ..., n_L] with every width >= 1 and L >= 1")
    if input not in INPUTS:
        raise SpecError(f"input must be one of {', '.join(INPUTS)} (got {input!r})")
    depth = len(widths) - 1
    cw, cb = _per_layer(weight_var, depth, "the weight variance"), _per_layer(bias_var, depth, "the bias variance")
    if not (input_var > 0 and np.isfinite(input_var)):
        raise SpecError(f"the input variance must be a finite number > 0 (got {input_var})")
    kw = float(weight_kurtosis)
    K = cb[0] + cw[0] * input_var
    n0 = widths[0]
    v = 2 * cw[0] ** 2 * input_var ** 2 / n0 if input == "gaussian" else 0.0
    # E[x^4] of an input coordinate: Gaussian 3 q^2; on the sphere of radius sqrt(n_0 q), 3 q^2 n_0 / (n_0 + 2)
    x4 = 3 * input_var ** 2 * (1.0 if input == "gaussian" else n0 / (n0 + 2))
    d = 0.0
    out = []
    for layer in range(1, depth + 1):
        if not _K_RANGE[0] <= K <= _K_RANGE[1]:  # under- or overflow (NaN included): no value from here on
            out += [{"layer": k, **dict.fromkeys(_KEYS, float("nan"))} for k in range(layer, depth + 1)]
            break
        c4 = 3 * v + kw * cw[layer - 1] ** 2 * x4 / widths[layer - 1]
        row = {"layer": layer, "kernel": K, "mean_shift": d, "preact_var_finite": K + d, "conditional_var_var": v,
               "preact_excess_kurtosis": c4 / K / K}
        out.append({k: (x if k == "layer" or np.isfinite(x) else float("nan")) for k, x in row.items()})
        if layer == depth:
            break
        try:
            s = gaussian_stats(activation, K)
        except SpecError:  # moments not finite at this kernel: the next layers have no value
            K = float("nan")
            continue
        c = cw[layer]
        d = c * (s["g1"] * d + s["g2"] * c4 / 6)
        v = c * c * ((s["phi4"] - s["g"] ** 2) / widths[layer] + s["g1"] ** 2 * v)
        K = cb[layer] + c * s["g"]
        x4 = s["phi4"]
    return out


# ------------------------------------------------------------------------------------------------ the derivation
def _second_order(var: "object", step: "object"):
    """A check: lhs and rhs agree to second order in ``step`` (a series in the fluctuation's size: the first-order
    expansion in 1/n, since the fluctuation's variance is O(1/n))."""
    import sympy as sp

    def check(lhs, rhs):
        diff = sp.simplify(sp.series(sp.sympify(lhs).doit() - sp.sympify(rhs), step, 0, 3).removeO())
        return diff == 0, ("lhs - rhs is O(s^3), s^2 = the fluctuation's variance" if diff == 0 else
                           f"to second order lhs - rhs = {diff}")
    return check


def _fluctuation_derivation():
    import sympy as sp
    from sympy import stats as st

    from theory.derivation import Derivation, Step
    from theory.text import T

    G, K, v, n, a = sp.symbols("G K v n a", positive=True)
    s = sp.Symbol("s", positive=True)  # the size of the fluctuation: G = K + s or K - s, each with probability 1/2
    g = sp.Function("g")
    z = st.Normal("z", 0, 1)
    h = st.Normal("h", 0, sp.sqrt(G))
    e = sp.exp(a * sp.sqrt(K) * z)  # phi^2 of generating form: every power of X = sqrt(K) z at once
    two_point = (g(K + s) + g(K - s)) / 2
    steps = [
        Step(lhs=st.Expectation(h ** 4), rhs=3 * G ** 2,
             why=T("the conditional-Gaussian step: given layer $l$, a unit of layer $l + 1$ is $N(0, G)$ with "
                   "$G = C_b + C_W \\frac{1}{n_l} \\sum_j \\phi(h_j)^2$; its fourth moment (`sympy.stats`)",
                   "условно-гауссовский шаг: при заданном слое $l$ нейрон слоя $l + 1$ распределён как $N(0, G)$, "
                   "$G = C_b + C_W \\frac{1}{n_l} \\sum_j \\phi(h_j)^2$; его четвёртый момент (`sympy.stats`)")),
        Step(lhs=3 * (K ** 2 + v) / K ** 2 - 3, rhs=3 * v / K ** 2,
             why=T("averaged over $G$ with $E[G] = K$, $\\operatorname{Var}(G) = v$: "
                   "$E[h^4] / E[h^2]^2 - 3 = 3 E[G^2] / E[G]^2 - 3$, the excess kurtosis",
                   "усреднение по $G$ при $E[G] = K$, $\\operatorname{Var}(G) = v$: "
                   "$E[h^4] / E[h^2]^2 - 3 = 3 E[G^2] / E[G]^2 - 3$, эксцесс")),
        Step(lhs=two_point, rhs=g(K) + s ** 2 * sp.Derivative(g(K), K, 2) / 2, check=_second_order(K, s),
             why=T("the scale-mixture step: a unit of layer $l$ is Gaussian given $G_l = K + \\Delta$; "
                   "$E[g(K + \\Delta)]$ for $E \\Delta = 0$, $E \\Delta^2 = s^2 = v$, to first order in $1/n$ "
                   "(Taylor; shown for $\\Delta = \\pm s$)",
                   "шаг смеси масштабов: нейрон слоя $l$ гауссов при заданном $G_l = K + \\Delta$; "
                   "$E[g(K + \\Delta)]$ при $E \\Delta = 0$, $E \\Delta^2 = s^2 = v$, с точностью до первого "
                   "порядка по $1/n$ (ряд Тейлора; показано для $\\Delta = \\pm s$)")),
        Step(lhs=(g(K + s) ** 2 + g(K - s) ** 2) / 2 - two_point ** 2,
             rhs=s ** 2 * sp.Derivative(g(K), K) ** 2, check=_second_order(K, s),
             why=T("$\\operatorname{Var}(g(G_l))$ to first order: the term $g'(K)^2 v$ of "
                   "$v_{l+1} = C_W^2 (\\frac{E[\\phi^4] - g^2}{n_l} + g'(K)^2 v_l)$ (law of total variance)",
                   "$\\operatorname{Var}(g(G_l))$ в первом порядке: слагаемое $g'(K)^2 v$ в "
                   "$v_{l+1} = C_W^2 (\\frac{E[\\phi^4] - g^2}{n_l} + g'(K)^2 v_l)$ (закон полной дисперсии)")),
        Step(lhs=sp.Derivative(st.Expectation(e), K), rhs=st.Expectation(e * (z ** 2 - 1)) / (2 * K),
             why=T("Gaussian integration by parts: $\\frac{d}{dK} E[f(\\sqrt{K} z)] = "
                   "E[f(\\sqrt{K} z)(z^2 - 1)] / (2K)$, for $f = e^{a x}$, whose powers of $a$ give every moment; "
                   "no derivative of $\\phi$ is needed, so it holds for ReLU",
                   "гауссово интегрирование по частям: $\\frac{d}{dK} E[f(\\sqrt{K} z)] = "
                   "E[f(\\sqrt{K} z)(z^2 - 1)] / (2K)$ для $f = e^{a x}$, степени $a$ дают все моменты; "
                   "производная $\\phi$ не нужна, поэтому формула верна и для ReLU")),
        Step(lhs=sp.Derivative(st.Expectation(e), (K, 2)),
             rhs=st.Expectation(e * (z ** 4 - 6 * z ** 2 + 3)) / (4 * K ** 2),
             why=T("the same twice: $g''(K)$ with the Hermite polynomial $z^4 - 6 z^2 + 3$",
                   "то же дважды: $g''(K)$ с многочленом Эрмита $z^4 - 6 z^2 + 3$")),
        Step(lhs=(K ** 2 + v) * (1 + 5 / n) - K ** 2, rhs=5 * K ** 2 / n + v + 5 * v / n,
             why=T("ReLU, $C_W = 2$: the exact law multiplies $E[G^2]$ by $1 + 5/n_l$ per layer (`finite-width-relu`); "
                   "the recursion $v_{l+1} = 4 (\\frac{5 K^2}{4 n_l} + \\frac{v_l}{4})$ keeps all but $5 v / n$, "
                   "a second-order term",
                   "ReLU, $C_W = 2$: точный закон умножает $E[G^2]$ на $1 + 5/n_l$ на каждом слое "
                   "(`finite-width-relu`); рекурсия $v_{l+1} = 4 (\\frac{5 K^2}{4 n_l} + \\frac{v_l}{4})$ "
                   "отбрасывает только $5 v / n$, член второго порядка")),
    ]
    return Derivation(
        "finite-width-fluctuations",
        T("Finite width to first order in 1/n: the kurtosis and the mean's correction, for any activation",
          "Конечная ширина в первом порядке по 1/n: эксцесс и поправка к среднему для любой функции активации"),
        steps,
        assumptions=[T("weights $N(0, C_W / n_{l-1})$, biases $N(0, C_b)$, all independent; widths may differ per "
                       "layer", "веса $N(0, C_W / n_{l-1})$, смещения $N(0, C_b)$, все независимы; ширины слоёв "
                       "могут различаться"),
                     T("$g(K) = E[\\phi(\\sqrt{K} z)^2]$; $v = \\operatorname{Var}(G) = O(1/n)$",
                       "$g(K) = E[\\phi(\\sqrt{K} z)^2]$; $v = \\operatorname{Var}(G) = O(1/n)$")],
        references=[T("Roberts, Yaida & Hanin 2022, The Principles of Deep Learning Theory, ch. 4–5",
                      "Roberts, Yaida и Hanin 2022, «The Principles of Deep Learning Theory», гл. 4–5"),
                    T("Hanin & Nica 2019, Products of many large random matrices and gradients in deep neural networks",
                      "Hanin и Nica 2019, «Products of many large random matrices and gradients in deep neural "
                      "networks»")])


def _register():
    from theory.derivation import derivation

    derivation("finite-width-fluctuations", "finite width to first order in 1/n for any activation: the four-point "
               "vertex (excess kurtosis 3v/K^2) and the mean's correction, by the conditional-Gaussian, "
               "scale-mixture and integration-by-parts steps")(_fluctuation_derivation)


_register()
