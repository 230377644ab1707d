"""The computations behind the batch-normalization claims (:mod:`lecture.claims_batchnorm`).

Slides «Проблема», «Batch norm (2015)», «Forward pass», «Backward pass» and the batch-norm advice of «Трюки». Each
function derives (SymPy) or computes (Gaussian quadrature) one thing a claim compares the slide with and returns plain
data; the formulas come from their topical modules: the forward and backward pass, the notation and the running
statistics from :mod:`theory.batchnorm`, the variance shift from :mod:`theory.dropout`, the activations from
:mod:`theory.functions` and their Gaussian moments from :mod:`theory.activations`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory import activations as ta
from theory import batchnorm as tb
from theory import dropout as td
from theory import functions
from theory.latex import name as latex_name

#: the symbols of :func:`backprop_gradients` (a loss's derivative by the output, the running statistics), with the
#: lecture's notation (theory.latex)
DL_DY = latex_name(sp.Symbol("dell/dy"), r"\frac{\partial \ell}{\partial y}")
MU_RUNNING = latex_name(sp.Symbol("mu_running", real=True), r"\mu_{\mathrm{running}}")
VAR_RUNNING = latex_name(sp.Symbol("sigma2_running", real=True), r"\sigma^2_{\mathrm{running}}")


# ------------------------------------------------------------------------------------------------ «Проблема»
@lru_cache(maxsize=1)
def hidden_moments() -> dict:
    """Mean and variance of h = f(z), z ~ N(0, 1), for f = sigmoid, relu (standardized inputs, n_in Var(w) = 1):
    sigmoid's mean is exactly 1/2 (sigma(z) + sigma(-z) = 1, SymPy), relu's exactly > 0; the numbers are the
    Gaussian moments of :func:`theory.activations.moments` (closed form where one exists, else quadrature)."""
    z = sp.Symbol("z", real=True)
    sig = functions.sigmoid(z)
    sig_mean_exact = sp.Rational(1, 2) if sp.simplify(sp.together(sig + sig.subs(z, -z) - 1)) == 0 else None
    relu = functions.relu(z)
    relu_positive = bool(relu.subs(z, sp.Symbol("t", positive=True)).is_positive
                         and relu.subs(z, sp.Symbol("t", negative=True)) == 0)
    out = {}
    for name in ("sigmoid", "relu"):
        m = ta.moments(ta.get_activation(name), 1.0)
        out[name] = {"mean": float(m["mean"]), "var": float(m["second"] - m["mean"] ** 2)}
    out["sigmoid"]["mean_exact"] = sp.sstr(sig_mean_exact) if sig_mean_exact is not None else None
    out["sigmoid"]["mean_is_zero"] = sig_mean_exact is not None and sig_mean_exact == 0
    out["relu"]["mean_exact"] = "> 0" if relu_positive else None
    out["relu"]["mean_is_zero"] = False if relu_positive else None  # None: undecided
    return out


def scale_shift_roles(output) -> dict:
    """Which symbol scales (d out/d hhat) and which shifts (out at hhat = 0), for ``output`` and for the «Forward
    pass» output gamma hhat + beta (Ioffe & Szegedy's y = gamma xhat + beta), and whether ``output`` is affine in
    hhat (d^2 out/d hhat^2 = 0); hhat is :data:`theory.batchnorm.h_hat`."""
    hhat = tb.h_hat
    out = sp.sympify(output)
    ref_slide, ref_out, _ = next(e for e in tb.NOTATION if e[0] == "Forward pass")
    return {"claimed": {"scale": sp.diff(out, hhat), "shift": out.subs(hhat, 0)},
            "paper": {"scale": sp.diff(ref_out, hhat), "shift": ref_out.subs(hhat, 0)},
            "affine": sp.diff(out, hhat, 2) == 0, "paper_slide": ref_slide, "paper_output": ref_out}


# ------------------------------------------------------------------------------------------------ «Batch norm (2015)»
def backprop_gradients() -> dict:
    """d ell/d theta = dell/dy * dy/d theta for the train-mode «Forward pass» output y = gamma hhat + beta
    (theory.batchnorm.NOTATION) and theta = gamma, beta, running mean, running variance; ``learned``: the sorted
    names with a non-zero gradient (the running statistics are not in y: moving averages of the forward pass)."""
    mu_run, var_run = MU_RUNNING, VAR_RUNNING
    y = next(out for slide, out, _ in tb.NOTATION if slide == "Forward pass")  # gamma * hhat + beta, transcribed
    dl_dy = DL_DY  # the chain rule: d ell / d theta = dell/dy * dy / d theta
    params = (("gamma", tb.gamma), ("beta", tb.beta), ("running mean", mu_run), ("running variance", var_run))
    grads = {name: dl_dy * sp.diff(y, theta) for name, theta in params}
    return {"output": y, "gradients": grads, "learned": sorted(k for k, g in grads.items() if g != 0)}


def update_weights(update) -> dict:
    """An update of the running value r by the batch value v (theory.batchnorm.running, batch_value) as
    w_new v + w_old r + rest, w the derivatives by v and r: an exponential moving average iff rest = 0 and
    w_new + w_old = 1 (``total``)."""
    r, v = tb.running, tb.batch_value
    upd = sp.sympify(update)
    w_new, w_old = sp.diff(upd, v), sp.diff(upd, r)
    return {"weight_new": w_new, "weight_old": w_old, "rest": sp.simplify(upd - w_new * v - w_old * r),
            "total": sp.simplify(w_new + w_old)}


def momentum_conventions(update) -> dict:
    """The momenta that make ``update`` PyTorch's (1 - momentum) r + momentum v and Keras' momentum r +
    (1 - momentum) v (theory.batchnorm.torch_update, keras_update), solved with SymPy; lists of solutions."""
    r, v = tb.running, tb.batch_value
    upd = sp.sympify(update)
    return {"torch": sp.solve(sp.Eq(upd, tb.torch_update(r, v)), tb.momentum),
            "keras": sp.solve(sp.Eq(upd, tb.keras_update(r, v)), tb.momentum)}


def batch_variance_bias() -> tuple[int, sp.Expr]:
    """(m, E[sigma_B^2] / sigma^2) for iid inputs of variance sigma^2 on an explicit batch of m
    (theory.batchnorm's expected batch variance): (m - 1)/m, the biased forward-pass variance."""
    mm, ev = tb.expected_batch_variances()
    return mm, sp.simplify(ev / tb.sigma2)


# ------------------------------------------------------------------------------------------------ «Forward pass»
def unit_variance_normalizers(sizes=(2, 3, 4)) -> dict[int, sp.Expr]:
    """For each batch size m the c with sigma_B^2 = c sum_i (x_i - mu_B)^2 that gives the normalized batch
    (1/m) sum xhat_i^2 = 1 (eps -> 0), solved on an explicit symbolic batch: 1/m."""
    c = sp.Symbol("c", positive=True)
    needed = {}
    for mm in sizes:
        xs = sp.symbols(f"x1:{mm + 1}", real=True)
        mean = sum(xs) / mm
        ss = sum((x - mean) ** 2 for x in xs)
        batch_var_xhat = sp.simplify(sum((x - mean) ** 2 / (c * ss) for x in xs) / mm)
        needed[mm] = sp.solve(sp.Eq(batch_var_xhat, 1), c)[0]
    return needed


def paper_normalizer() -> sp.Expr:
    """sigma_B^2 / sum_j (x_j - mu_B)^2 in the forward pass of theory.batchnorm (Ioffe & Szegedy): 1/m."""
    return sp.simplify(tb.VAR / sp.Sum((tb.x[tb.j] - tb.mu_B) ** 2, (tb.j, 1, tb.m)))


# ------------------------------------------------------------------------------------------------ «Backward pass»
def backward_line(name: str, expr) -> dict:
    """The chain rule's backward line ``name`` (theory.batchnorm.derived_lines) minus ``expr``: ``as_written``
    when the difference is 0; otherwise the difference factored and, with the forward pass's mu_B = (1/m) sum x_j
    substituted, ``given_forward`` (factored) and whether that is 0 (``given_zero``)."""
    derived = tb.derived_lines()[name]
    diff = sp.simplify(sp.expand(derived - sp.sympify(expr)))
    out = {"derived": derived, "difference": diff, "as_written": tb.is_zero(diff)}
    if not out["as_written"]:
        given = tb.given_forward(diff)
        out.update(difference_factored=sp.factor(diff), given_forward=sp.factor(given), given_zero=tb.is_zero(given))
    return out


# ------------------------------------------------------------------------------------------------ «Трюки»
def variance_shift_trend(keeps=(0.5, 0.8, 0.9, 1.0)) -> dict:
    """The sign of d/dp of Var_test / Var_train = p v / (v + (1 - p) c^2) (theory.dropout.VAR_RATIO, inverted
    dropout before batch norm) on 0 < p <= 1 (p = 1 - r, r >= 0), and the ratio for relu units of N(0, 1) inputs
    (c, v from theory.activations' closed forms) at each keep probability."""
    p = td.p
    num, den = sp.fraction(sp.together(sp.diff(td.VAR_RATIO, p)))
    num, den = sp.factor(num), sp.factor(den.subs(p, 1 - td.r))
    forms = ta.moment_closed_forms(ta.get_activation("relu"))
    relu_c = forms["mean"].subs(ta.q, 1)
    relu_v = forms["second"].subs(ta.q, 1) - relu_c**2
    return {"numerator": num, "denominator": den, "derivative": sp.factor(num / den),
            "rising": bool(num.is_positive and den.is_positive),  # d ratio / dp > 0 on (0, 1]: the shift falls
            "falling": bool(sp.factor(-num).is_positive and den.is_positive),
            "relu_ratio": {k: td.variance_shift(k, float(relu_c), float(relu_v)) for k in keeps}}
