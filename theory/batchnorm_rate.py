"""Per-layer growth of the back-propagated squared gradient norm in deep batch-normalized networks at initialization.

Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (ICLR 2019), "A Mean Field Theory of Batch Normalization":
the gradient explodes geometrically with depth at a rate lambda(B) > 1 set by the batch size B, whatever sigma_w.

Setting and assumptions (all of them):

* fully connected, no bias, equal widths n -> infinity; layer l: h_l = W_l x_(l-1), the entries of W_l iid
  N(0, sigma_w^2 / n), independent across layers;
* a batch of B inputs; each unit is normalized over the batch with gamma = 1, beta = 0, eps = 0 and the biased
  standard deviation: x_hat = (h - mean_b h) / std_b(h), std_b^2 = |G h|^2 / B, G = I - 11^T/B; x_l = phi(x_hat);
* deep in the network the forward pass is at its permutation-symmetric fixed point: the previous layer's kernel
  K = E[x x^T] is c_1 I + c_2 11^T, so G h_j of a unit is isotropic Gaussian in the (B-1)-dim space 1-perp,
  x_hat is uniform on the sphere of radius sqrt(B) there, and sigma_j^2 = sigma_w^2 a chi^2_(B-1) / B is
  independent of x_hat, with a = E|G phi(x_hat)|^2 / (B-1) the eigenvalue of K on 1-perp;
* gradient independence (the backward weights are taken independent of the forward ones, as in the mean-field
  literature); the back-propagated dL/dx_(l-1) of a unit is then N(0, c G) (it lies in 1-perp and, deep in the
  network, its covariance is the permutation-invariant eigendirection G of the backward map) independent of x_hat;
* lambda(B) = E|dL/dh_(l-1)|^2 / E|dL/dh_l|^2, expectations over weights and units.

Then the BN Jacobian of a unit is P/sigma, P = G - x_hat x_hat^T / B the projection onto {1, x_hat}-perp (rank
B - 2), E[1/chi^2_nu] = 1/(nu - 2), sigma_w^2 cancels, and with D = diag(phi'(x_hat))

    lambda(B) = B E tr(P D G D) / (a (B - 1) (B - 3)),

finite only for B >= 4 (E[1/chi^2_(B-1)] diverges for B = 3; for B = 2, P = 0 and the gradient through BN is
exactly 0). Linear: lambda = (B-2)/(B-3) -> 1. ReLU, theta = arccos(-1/(B-1)) the angle between two batch
coordinates of x_hat:

    lambda(B) = ((B-2)(pi B - theta) + sqrt(B(B-2))) / ((B-3)(pi B - theta - sqrt(B(B-2)))) -> pi/(pi-1),

not the no-BN He value 1: BN removes the mean of relu(x_hat), so the effective gain is E relu'(z)^2 / Var relu(z)
= (1/2) / ((pi-1)/(2 pi)). The derivation ``batchnorm-gradient-rate`` checks every step with SymPy.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy import stats as st

from theory.derivation import Derivation, Step, derivation
from theory import validate
from theory.errors import SpecError
from theory.text import T as Txt  # (T: the trace E tr(P D G D) here)

#: batch size
B = sp.Symbol("B", integer=True, positive=True)
RATE_ACTIVATIONS = ("linear", "relu")

#: angle between two coordinates of x_hat (as vectors G e_i, G e_j in 1-perp): cos(theta) = -1/(B-1)
theta = sp.Symbol("theta", positive=True)
THETA = sp.acos(-1 / (B - 1))
SIN_THETA = sp.sqrt(B * (B - 2)) / (B - 1)  # = sin(THETA) for B >= 2 (checked in the derivation)
#: for a rotation-invariant pair (u.w, v.w), |u| = |v| = 1 at angle theta: P(both > 0) and E[relu relu]
ORTHANT = (sp.pi - theta) / (2 * sp.pi)
ARCCOS_KERNEL = (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)

#: per-sample functionals of x_hat and d = 1(x_hat > 0): k = |d|^2, r = sum_i d_i x_i^2, s = sum_i d_i x_i
k, r, s = sp.symbols("k r s", real=True)
#: tr(P D G D) = E_g |P D g|^2 for g ~ N(0, G), written in k, r, s (pointwise identity; D^2 = D)
TRACE_IDENTITY = k * (1 - 1 / B) - r / B - (k - k**2 / B - s**2 / B) / B
#: |G relu(x_hat)|^2
GRELU_IDENTITY = r - s**2 / B

#: the general rate in the kernel eigenvalue a and T = E tr(P D G D) (sigma_w cancels)
a, T = sp.symbols("a T", positive=True)
RATE = B * T / (a * (B - 1) * (B - 3))

LINEAR_RATE = (B - 2) / (B - 3)
#: ReLU: T = E tr(P D G D) and a = E|G relu(x_hat)|^2 / (B-1), closed forms (checked against the moments)
RELU_TRACE = ((B - 2) * (sp.pi * B - THETA) + sp.sqrt(B * (B - 2))) / (2 * sp.pi * B)
RELU_KERNEL_EIG = (sp.pi * B - THETA - sp.sqrt(B * (B - 2))) / (2 * sp.pi * (B - 1))
RELU_RATE = ((B - 2) * (sp.pi * B - THETA) + sp.sqrt(B * (B - 2))) / (
    (B - 3) * (sp.pi * B - THETA - sp.sqrt(B * (B - 2))))
RELU_RATE_LIMIT = sp.pi / (sp.pi - 1)


def relu_moments(angle: sp.Expr = THETA) -> dict[str, sp.Expr]:
    """E k, E k^2, E r, E s^2 for x_hat uniform on the radius-sqrt(B) sphere in 1-perp, two coordinates at ``angle``.

    ``angle`` = THETA is the true law; pi/2 (uncorrelated coordinates) is the control that must fail."""
    half = sp.Rational(1, 2)
    return {"k": B * half, "k2": B * half + B * (B - 1) * ORTHANT.subs(theta, angle),
            "r": B * half, "s2": B * half + B * (B - 1) * ARCCOS_KERNEL.subs(theta, angle)}


def expect(identity: sp.Expr, moments: dict[str, sp.Expr]) -> sp.Expr:
    """E of an expression linear in k, k^2, r, s^2 (TRACE_IDENTITY, GRELU_IDENTITY), from ``relu_moments``."""
    e = sp.expand(identity).xreplace({k**2: moments["k2"], s**2: moments["s2"]})
    e = e.xreplace({k: moments["k"], r: moments["r"]})
    if e.has(k, r, s):
        raise ValueError(f"{identity} is not linear in k, k^2, r, s^2")
    return e


def rate_expr(activation: str) -> sp.Expr | None:
    """lambda(B) for ``linear`` or ``relu`` (valid for B >= 4); None for activations without a closed form here."""
    if not isinstance(activation, str):
        raise SpecError(f"activation must be a name, got {activation!r}")
    return {"linear": LINEAR_RATE, "relu": RELU_RATE}.get(activation)


@lru_cache(maxsize=None)
def _rate_func(activation: str):
    return sp.lambdify(B, rate_expr(activation), "math")


def gradient_rate(activation: str, batch: int) -> float | None:
    """lambda(batch) as a float: E|dL/dh_(l-1)|^2 / E|dL/dh_l|^2 per layer; None where no closed form."""
    try:
        batch = validate.integer("batch", batch, 4)
    except SpecError:
        raise SpecError(f"batch must be an integer >= 4, got {batch!r}: "
                        "E[1/chi^2_(B-1)] diverges for B <= 3, so there is no finite rate") from None
    if rate_expr(activation) is None:
        return None
    return float(_rate_func(activation)(int(batch)))


# ------------------------------------------------------------------------------------------------ derivation
# Matrix symbols for display; the explicit checks substitute small concrete batches for them.
_G = sp.MatrixSymbol("G", B, B)
_X = sp.MatrixSymbol("xhat", B, 1)
_H = sp.MatrixSymbol("h", B, 1)
_D = sp.MatrixSymbol("D", B, B)
_sigma = sp.Symbol("sigma", positive=True)
_P = _G - _X * _X.T / B


def _centering(b: int) -> sp.Matrix:
    one = sp.ones(b, 1)
    return sp.eye(b) - one * one.T / b


def _bn_env(b: int):
    """Batch b of generic pre-activations h: x_hat = G h t with t = 1/sigma, sigma^2 = q = |G h|^2 / b.

    Entries are polynomials in h and t; a result is reduced modulo q t^2 - 1 (pseudo-remainder in t)."""
    h = sp.Matrix(sp.symbols(f"h1:{b + 1}", real=True))
    inv = sp.Symbol("t_b", positive=True)
    g = _centering(b)
    c = g * h
    q = sp.expand((c.T * c)[0] / b)

    def reduce(e):
        e = sp.expand(e)
        return sp.expand(sp.prem(e, q * inv**2 - 1, inv)) if e.has(inv) else e

    # keys named like the display symbols are substituted; "_"-keys are for the Jacobian check only
    return {"G": g, "xhat": c * inv, "sigma": 1 / inv, "_h": h, "_q": q, "_t": inv}, reduce


def _relu_env(b: int):
    """Batch b of generic x and indicators d (d_i^2 = d_i): D = diag(d), k = sum d, r = sum d x^2, s = sum d x."""
    x = sp.Matrix(sp.symbols(f"x1:{b + 1}", real=True))
    d = sp.symbols(f"d1:{b + 1}", real=True)
    env = {"G": _centering(b), "xhat": x, "D": sp.diag(*d), "k": sum(d),
           "r": sum(di * xi**2 for di, xi in zip(d, x)), "s": sum(di * xi for di, xi in zip(d, x))}

    def reduce(e):
        e = sp.expand(e)
        return sp.expand(e.replace(lambda t: t.is_Pow and t.base in d, lambda t: t.base))

    return env, reduce


def _explicit(expr, b: int, env: dict):
    e = sp.sympify(expr).subs(B, b)
    reps = {m: env[m.name] for m in e.atoms(sp.MatrixSymbol) if m.name in env}
    reps.update({v: env[v.name] for v in e.free_symbols if isinstance(v, sp.Symbol) and v.name in env})
    e = e.xreplace(reps).doit()
    return sp.Matrix(e.as_explicit()) if getattr(e, "is_Matrix", False) else e


def _zero(diff, reduce) -> bool:
    entries = list(diff) if getattr(diff, "is_Matrix", False) else [diff]
    return all(reduce(e) == 0 for e in entries)


def _for_batches(batches, make_env, words: str):
    """Check lhs = rhs after substituting explicit batch-b matrices, for each b in ``batches``."""
    def check(lhs, rhs):
        for b in batches:
            env, reduce = make_env(b)
            if not _zero(_explicit(lhs, b, env) - _explicit(rhs, b, env), reduce):
                return False, f"fails for the explicit batch B = {b}"
        return True, f"{words}, entry by entry for explicit B = {', '.join(map(str, batches))}"
    return check


def _jacobian_check(batches):
    """d x_hat / d h by sympy differentiation of G h / sigma(h), sigma = sqrt(|G h|^2 / B), against the rhs."""
    def check(lhs, rhs):
        if lhs != sp.Derivative(_X, _H):
            return False, "left side must be d xhat / d h"
        for b in batches:
            env, reduce = _bn_env(b)
            h, inv, q = env["_h"], env["_t"], env["_q"]
            sfun = sp.Function("sigma")(*h)
            jac = (env["G"] * h / sfun).jacobian(h)
            # d sigma / d h_j from sympy's derivative of sqrt(q), then q^e written t^(-2e) (t = 1/sigma)
            chain = {sp.Derivative(sfun, hj): sp.diff(sp.sqrt(q), hj).replace(
                lambda u: u.is_Pow and u.base == q, lambda u: inv**(-2 * u.exp)) for hj in h}
            jac = jac.subs(chain).subs(sfun, 1 / inv)
            if not _zero(jac - _explicit(rhs, b, env), reduce):
                return False, f"the Jacobian differs from the rhs for B = {b}"
        return True, f"sympy's Jacobian of the BN map equals the rhs for explicit B = {', '.join(map(str, batches))}"
    return check


def _diverges(lhs, rhs):
    val = lhs.doit()
    return val == sp.oo, f"the integral evaluates to {val}"


@derivation("batchnorm-gradient-rate",
            "BN networks: per-layer growth of the squared gradient norm, (B-2)/(B-3) for linear, closed form for "
            "ReLU (-> pi/(pi-1)); no finite rate for B <= 3")
def _batchnorm_gradient_rate() -> Derivation:
    i, x, q, m = sp.Symbol("i", integer=True), sp.Symbol("x", positive=True), sp.Symbol("q", positive=True), \
        sp.Symbol("m", integer=True, nonnegative=True)
    kk = sp.Symbol("nu", positive=True)  # chi-square degrees of freedom
    sw2 = sp.Symbol("sigma_w^2", positive=True)
    z, rho, phi = sp.Symbol("z", real=True), sp.Symbol("rho", positive=True), sp.Symbol("phi", real=True)
    b_ge_4 = (B, m + 4, r"$B \ge 4$")  # B = m + 4 with m a non-negative integer
    small = (3, 4)

    chi2_pdf = st.density(st.ChiSquared("X", kk))(x)
    inv_chi2 = sp.Integral(chi2_pdf / x, (x, 0, sp.oo))
    e_inv_chi2 = 1 / (kk - 2)
    e_inv_sigma2 = B / (sw2 * a * (B - 3))  # E[1/sigma^2] = B/(sigma_w^2 a) E[1/chi^2_(B-1)]
    tr_g = sp.Sum(1 - 1 / B, (i, 1, B))

    # (z_i, z_j) = (u.w, v.w), w standard normal in the plane, |u| = |v| = 1 at angle theta; polar coordinates
    # (rho, phi) with u at phi = 0: u.w > 0 and v.w > 0 on the arc theta - pi/2 < phi < pi/2 (0 <= theta <= pi)
    polar = rho * sp.exp(-rho**2 / 2) / (2 * sp.pi)
    arc = (phi, theta - sp.pi / 2, sp.pi / 2)
    orthant = sp.Integral(polar, arc, (rho, 0, sp.oo))
    kernel = sp.Integral(rho**2 * sp.cos(phi) * sp.cos(phi - theta) * polar, arc, (rho, 0, sp.oo))
    var_z = 1 - 1 / B  # G_ii: the variance of a coordinate of z ~ N(0, G)
    z_pdf = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)  # standard normal: z_i = sqrt(var_z) Z
    sphere = B / tr_g  # x_hat = sqrt(B) z / |z| and E|z|^2 = tr G: relu is 1-homogeneous

    mom = relu_moments()
    relu_pair_tex = (r"$E[\mathrm{relu}(x_i)\,\mathrm{relu}(x_j)] = "
                     r"\frac{B}{E\lVert z\rVert^2} E[\mathrm{relu}(z_i)\,\mathrm{relu}(z_j)]$")
    limit_tex = r"$\frac{1}{2}/\mathrm{Var}\,\mathrm{relu}(z) = \pi/(\pi - 1) \approx 1.467$"
    lambda_tex = (r"$\lambda(B) = E\lVert\partial L/\partial h_{l-1}\rVert^2 / E\lVert\partial L/\partial "
                  r"h_l\rVert^2$")
    jac_tex = r"$J = G/\sigma - G h (G h)^\top/(B\sigma^3) = (G - \hat{x}\hat{x}^\top/B)/\sigma = P/\sigma$"
    zn = st.Normal("Z", 0, 1)
    steps = [
        # ---- the BN Jacobian is a projection over sigma
        Step(lhs=sp.Derivative(_X, _H), rhs=_P / _sigma, check=_jacobian_check(small),
             why=Txt(r"differentiate $\hat{x} = G h/\sigma(h)$, $\sigma^2 = \lVert G h\rVert^2/B$: " + jac_tex,
                     r"дифференцируем $\hat{x} = G h/\sigma(h)$, $\sigma^2 = \lVert G h\rVert^2/B$: " + jac_tex)),
        Step(lhs=_P * _P, rhs=_P, check=_for_batches(small, _bn_env, "P^2 = P"),
             why=Txt(r"$P$ is a projection: $\hat{x} \in \mathbf{1}^\perp$ ($G\hat{x} = \hat{x}$) and "
                     r"$\lVert\hat{x}\rVert^2 = B$",
                     r"$P$ — проектор: $\hat{x} \in \mathbf{1}^\perp$ ($G\hat{x} = \hat{x}$) и "
                     r"$\lVert\hat{x}\rVert^2 = B$")),
        Step(lhs=_P * _G, rhs=_P, check=_for_batches(small, _bn_env, "P G = P"),
             why=Txt(r"$P$ kills $\mathbf{1}$ (so $P G = P$) and $\hat{x}$: the projection onto "
                     r"$\{\mathbf{1}, \hat{x}\}^\perp$",
                     r"$P$ обнуляет $\mathbf{1}$ (поэтому $P G = P$) и $\hat{x}$: это проектор на "
                     r"$\{\mathbf{1}, \hat{x}\}^\perp$")),
        Step(lhs=tr_g - B / B, rhs=B - 2,
             why=Txt(r"$\mathrm{tr}\,P = \mathrm{tr}\,G - \lVert\hat{x}\rVert^2/B = B(1 - 1/B) - 1$: rank $B - 2$",
                     r"$\mathrm{tr}\,P = \mathrm{tr}\,G - \lVert\hat{x}\rVert^2/B = B(1 - 1/B) - 1$: ранг $B - 2$")),
        # ---- forward: E[1/sigma^2]
        Step(lhs=inv_chi2, rhs=e_inv_chi2, under=(kk, q + 2, r"$\nu > 2$"),
             why=Txt(r"$E[1/\chi^2_\nu]$: integrate $1/x$ against the chi-square density",
                     r"$E[1/\chi^2_\nu]$: интегрируем $1/x$ с плотностью распределения хи-квадрат")),
        Step(lhs=inv_chi2.subs(kk, 2), rhs=sp.oo, check=_diverges,
             why=Txt(r"for $\nu = B - 1 = 2$ ($B = 3$) the integral diverges at 0: no finite rate for $B \le 3$ "
                     "(for $B = 2$, $P$ has rank 0 and the gradient through BN vanishes)",
                     r"при $\nu = B - 1 = 2$ ($B = 3$) интеграл расходится в 0: при $B \le 3$ конечной скорости роста "
                     "нет (при $B = 2$ ранг $P$ равен 0 и градиент через батч-нормализацию обращается в ноль)")),
        Step(lhs=B / (sw2 * a) * e_inv_chi2, rhs=e_inv_sigma2, under=(kk, B - 1, r"$\nu = B - 1$"),
             why=Txt(r"$E[1/\sigma^2] = \frac{B}{\sigma_w^2 a} E[1/\chi^2_{B-1}]$, as "
                     r"$\sigma^2 = \lVert G h\rVert^2/B = \sigma_w^2 a\,\chi^2_{B-1}/B$: "
                     r"$G h \sim N(0, \sigma_w^2 a G)$, "
                     r"isotropic in $\mathbf{1}^\perp$ ($a$ = eigenvalue of the previous kernel on "
                     r"$\mathbf{1}^\perp$)",
                     r"$E[1/\sigma^2] = \frac{B}{\sigma_w^2 a} E[1/\chi^2_{B-1}]$, так как "
                     r"$\sigma^2 = \lVert G h\rVert^2/B = \sigma_w^2 a\,\chi^2_{B-1}/B$: "
                     r"$G h \sim N(0, \sigma_w^2 a G)$ "
                     r"изотропен в $\mathbf{1}^\perp$ ($a$ — собственное значение ядра предыдущего слоя на "
                     r"$\mathbf{1}^\perp$)")),
        # ---- backward: the rate
        Step(lhs=tr_g, rhs=B - 1, why=Txt(r"$E\lVert g\rVert^2 = \mathrm{tr}\,G$ for the back-propagated "
                                          r"$g \sim N(0, G)$, independent of $\hat{x}$",
                                          r"$E\lVert g\rVert^2 = \mathrm{tr}\,G$ для обратно распространяемого "
                                          r"$g \sim N(0, G)$, не зависящего от $\hat{x}$")),
        Step(lhs=sp.Mul(sw2, sp.UnevaluatedExpr(e_inv_sigma2), sp.UnevaluatedExpr(T / (B - 1)), evaluate=False),
             rhs=RATE,
             why=Txt(r"$\lambda = \sigma_w^2\,E[1/\sigma^2]\,T/E\lVert g\rVert^2$: "
                     r"$\partial L/\partial h = (P/\sigma) D g$, $\sigma$ independent of the direction $\hat{x}$ "
                     r"and of $g$; $E\lVert P D g\rVert^2 = E\,\mathrm{tr}(P D G D) = T$; "
                     r"$E\lVert W^\top v\rVert^2 = \sigma_w^2 \lVert v\rVert^2$ (gradient independence), so $\sigma_w$ "
                     "cancels",
                     r"$\lambda = \sigma_w^2\,E[1/\sigma^2]\,T/E\lVert g\rVert^2$: "
                     r"$\partial L/\partial h = (P/\sigma) D g$, $\sigma$ не зависит ни от направления $\hat{x}$, "
                     r"ни от $g$; $E\lVert P D g\rVert^2 = E\,\mathrm{tr}(P D G D) = T$; "
                     r"$E\lVert W^\top v\rVert^2 = \sigma_w^2 \lVert v\rVert^2$ (независимость градиентов), поэтому "
                     r"$\sigma_w$ сокращается")),
        # ---- linear
        Step(lhs=sp.Trace((_G * _X).T * (_G * _X)) / (B - 1), rhs=B / (B - 1),
             check=_for_batches(small, _bn_env, "|G x_hat|^2 / (B-1) = B/(B-1)"),
             why=Txt(r"linear: $a = E\lVert G\hat{x}\rVert^2/(B - 1)$ with $\lVert\hat{x}\rVert^2 = B$",
                     r"линейная сеть: $a = E\lVert G\hat{x}\rVert^2/(B - 1)$, где $\lVert\hat{x}\rVert^2 = B$")),
        Step(lhs=sp.Subs(RATE, (a, T), (B / (B - 1), B - 2)), rhs=LINEAR_RATE,
             why=Txt(r"linear: $D = I$, $T = \mathrm{tr}(P G) = \mathrm{tr}\,P = B - 2$",
                     r"линейная сеть: $D = I$, $T = \mathrm{tr}(P G) = \mathrm{tr}\,P = B - 2$")),
        Step(lhs=sp.Limit(LINEAR_RATE, B, sp.oo), rhs=1,
             why=Txt("linear: no explosion only in the infinite-batch limit",
                     "линейная сеть: взрыва нет только в пределе бесконечного батча")),
        # ---- ReLU: the angle between two coordinates and the moments of k, r, s
        Step(lhs=(-1 / B) / var_z, rhs=sp.cos(THETA),
             why=Txt(r"$\mathrm{corr}(z_i, z_j) = G_{ij}/G_{ii}$ for $z \sim N(0, G)$; "
                     r"$\hat{x} = \sqrt{B}\,z/\lVert z\rVert$ has the same angles",
                     r"$\mathrm{corr}(z_i, z_j) = G_{ij}/G_{ii}$ для $z \sim N(0, G)$; "
                     r"у $\hat{x} = \sqrt{B}\,z/\lVert z\rVert$ те же углы")),
        Step(lhs=sp.sin(THETA), rhs=SIN_THETA, under=b_ge_4, why=r"$\sin\theta = \sqrt{1 - \cos^2\theta}$"),
        Step(lhs=orthant, rhs=ORTHANT,
             why=Txt(r"orthant probability of a rotation-invariant pair at angle $\theta$: the arc of length "
                     r"$\pi - \theta$",
                     r"вероятность попадания в ортант для вращательно-инвариантной пары под углом $\theta$: дуга "
                     r"длины $\pi - \theta$")),
        Step(lhs=kernel, rhs=ARCCOS_KERNEL,
             why=Txt(r"$E[\mathrm{relu}(u \cdot w)\,\mathrm{relu}(v \cdot w)]$, the degree-1 arc-cosine kernel (Cho & "
                     "Saul 2009)",
                     r"$E[\mathrm{relu}(u \cdot w)\,\mathrm{relu}(v \cdot w)]$, ядро арккосинуса степени 1 (Cho & "
                     "Saul 2009)")),
        Step(lhs=sphere * var_z, rhs=1,
             why=Txt(relu_pair_tex + r" (relu 1-homogeneous, "
                     r"$\lVert z\rVert$ independent of $z/\lVert z\rVert$, $E\lVert z\rVert^2 = \mathrm{tr}\,G$) and "
                     r"$\lVert u\rVert\,\lVert v\rVert = G_{ii}$: the factors cancel",
                     relu_pair_tex + r" (ReLU положительно однородна степени 1, $\lVert z\rVert$ не зависит от "
                     r"$z/\lVert z\rVert$, $E\lVert z\rVert^2 = \mathrm{tr}\,G$) и "
                     r"$\lVert u\rVert\,\lVert v\rVert = G_{ii}$: множители сокращаются")),
        Step(lhs=B * sp.Integral(z_pdf, (z, 0, sp.oo)), rhs=mom["k"],
             why=r"$E k = B\,P(x_i > 0)$, $\mathrm{sign}(x_i) = \mathrm{sign}(z_i)$"),
        Step(lhs=B * sphere * var_z * sp.Integral(z**2 * z_pdf, (z, 0, sp.oo)), rhs=mom["r"],
             why=Txt(r"$E r = B\,E[x_i^2; x_i > 0]$ (homogeneity: the sphere factor $B/E\lVert z\rVert^2$)",
                     r"$E r = B\,E[x_i^2; x_i > 0]$ (однородность: множитель сферы $B/E\lVert z\rVert^2$)")),
        Step(lhs=B * sp.Integral(z_pdf, (z, 0, sp.oo)) + B * (B - 1) * orthant.subs(theta, THETA), rhs=mom["k2"],
             why=r"$E k^2 = \sum_i P(x_i > 0) + \sum_{i \ne j} P(x_i > 0, x_j > 0)$"),
        Step(lhs=B * sphere * var_z * sp.Integral(z**2 * z_pdf, (z, 0, sp.oo))
             + B * (B - 1) * sphere * var_z * kernel.subs(theta, THETA), rhs=mom["s2"], under=b_ge_4,
             why=r"$E s^2 = \sum_i E[\mathrm{relu}(x_i)^2] + \sum_{i \ne j} "
                 r"E[\mathrm{relu}(x_i)\,\mathrm{relu}(x_j)]$"),
        # ---- ReLU: the rate
        Step(lhs=sp.Trace(_P * _D * _G * _D), rhs=TRACE_IDENTITY, check=_for_batches((4,), _relu_env, "pointwise"),
             why=Txt(r"expand $\mathrm{tr}((G - x x^\top/B) D G D)$ with $D^2 = D$, $D\mathbf{1} = d$, "
                     r"$x^\top D x = r$, $x^\top d = s$ (any $x$)",
                     r"раскрываем $\mathrm{tr}((G - x x^\top/B) D G D)$, используя $D^2 = D$, $D\mathbf{1} = d$, "
                     r"$x^\top D x = r$, $x^\top d = s$ (при любом $x$)")),
        Step(lhs=sp.Trace((_G * _D * _X).T * (_G * _D * _X)), rhs=GRELU_IDENTITY,
             check=_for_batches((4,), _relu_env, "pointwise"),
             why=Txt(r"$\lVert G\,\mathrm{relu}(x)\rVert^2 = \lVert\mathrm{relu}(x)\rVert^2 - (\mathbf{1}^\top "
                     r"\mathrm{relu}(x))^2/B$ with $\mathrm{relu}(x) = D x$",
                     r"$\lVert G\,\mathrm{relu}(x)\rVert^2 = \lVert\mathrm{relu}(x)\rVert^2 - (\mathbf{1}^\top "
                     r"\mathrm{relu}(x))^2/B$, где $\mathrm{relu}(x) = D x$")),
        Step(lhs=expect(TRACE_IDENTITY, mom), rhs=RELU_TRACE, under=b_ge_4,
             why=Txt(r"ReLU: $T = E\,\mathrm{tr}(P D G D)$, linear in $E k$, $E k^2$, $E r$, $E s^2$",
                     r"ReLU: $T = E\,\mathrm{tr}(P D G D)$ линейно выражается через $E k$, $E k^2$, $E r$, $E s^2$")),
        Step(lhs=expect(GRELU_IDENTITY, mom) / (B - 1), rhs=RELU_KERNEL_EIG, under=b_ge_4,
             why=r"ReLU: $a = E\lVert G\,\mathrm{relu}(\hat{x})\rVert^2/(B - 1) = (E r - E s^2/B)/(B - 1)$"),
        Step(lhs=sp.Subs(RATE, (a, T), (RELU_KERNEL_EIG, RELU_TRACE)), rhs=RELU_RATE,
             why=Txt("ReLU: the rate", "ReLU: скорость роста")),
        Step(lhs=sp.Limit(RELU_TRACE / (B - 1), B, sp.oo), rhs=st.Expectation(sp.Heaviside(zn)),
             why=Txt(r"infinite batch: $T/(B-1) \to E[\mathrm{relu}'(z)^2] = \frac{1}{2}$",
                     r"бесконечный батч: $T/(B-1) \to E[\mathrm{relu}'(z)^2] = \frac{1}{2}$")),
        Step(lhs=sp.Limit(RELU_KERNEL_EIG, B, sp.oo), rhs=st.Variance(sp.Max(zn, 0)),
             why=Txt(r"infinite batch: $a \to \mathrm{Var}\,\mathrm{relu}(z)$ (BN removes the mean), not "
                     r"$E[\mathrm{relu}(z)^2] = \frac{1}{2}$",
                     r"бесконечный батч: $a \to \mathrm{Var}\,\mathrm{relu}(z)$ (батч-нормализация вычитает среднее), "
                     r"а не $E[\mathrm{relu}(z)^2] = \frac{1}{2}$")),
        Step(lhs=sp.Limit(RELU_RATE, B, sp.oo), rhs=RELU_RATE_LIMIT,
             why=Txt(r"ReLU: the rate tends to " + limit_tex, r"ReLU: скорость роста стремится к " + limit_tex)),
        Step(rhs=1, rel=">", why=Txt("above the He (no-BN ReLU) value 1 even at infinite batch",
                                     "больше значения 1 при инициализации He (ReLU без батч-нормализации), даже при "
                                     "бесконечном батче")),
    ]
    return Derivation(
        "batchnorm-gradient-rate", Txt("Gradient explosion rate of batch-normalized networks",
                                       "Скорость взрыва градиента в сетях с батч-нормализацией"),
        steps,
        assumptions=[Txt(r"$h_l = W_l x_{l-1}$, $W$ entries iid $N(0, \sigma_w^2/n)$, equal widths $n \to \infty$, "
                         "no bias",
                         r"$h_l = W_l x_{l-1}$, элементы $W$ независимы и распределены как $N(0, \sigma_w^2/n)$, "
                         r"ширины всех слоёв равны и $n \to \infty$, смещений нет"),
                     Txt(r"BN per unit over a batch of $B$: $\gamma = 1$, $\beta = 0$, $\epsilon = 0$, biased std; "
                         r"$x_l = \phi(\hat{x})$",
                         r"батч-нормализация каждого нейрона по батчу из $B$ примеров: $\gamma = 1$, $\beta = 0$, "
                         r"$\epsilon = 0$, смещённое стандартное отклонение; $x_l = \phi(\hat{x})$"),
                     Txt(r"forward at its permutation-symmetric fixed point: $\hat{x}$ uniform on the "
                         r"radius-$\sqrt{B}$ sphere in $\mathbf{1}^\perp$, $\sigma$ independent of $\hat{x}$",
                         r"прямой проход в своей неподвижной точке, симметричной относительно перестановок: $\hat{x}$ "
                         r"равномерно распределён на сфере радиуса $\sqrt{B}$ в $\mathbf{1}^\perp$, $\sigma$ не "
                         r"зависит от $\hat{x}$"),
                     Txt("gradient independence: backward weights independent of forward ones; the back-propagated "
                         r"gradient of a unit is $N(0, c G)$, independent of $\hat{x}$",
                         "независимость градиентов: веса обратного прохода независимы от весов прямого; обратно "
                         r"распространяемый градиент нейрона распределён как $N(0, c G)$ и не зависит от $\hat{x}$"),
                     Txt(lambda_tex + " deep in the network; finite only for $B \\ge 4$",
                         lambda_tex + " в глубине сети; конечна только при $B \\ge 4$")],
        references=[Txt("Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz 2019, A Mean Field Theory of Batch "
                        "Normalization (ICLR)",
                        "Yang и др., «A Mean Field Theory of Batch Normalization», ICLR 2019"),
                    Txt("Cho & Saul 2009, Kernel Methods for Deep Learning (arc-cosine kernel)",
                        "Cho & Saul 2009, «Kernel Methods for Deep Learning» (ядро арккосинуса)")])
