"""theory.dropout: the derivations verify, the slides' statements about p are checked by computation, the keep/drop
conventions, and every identity spot-checked by exact enumeration of the masks in numpy (an oracle independent of
SymPy), each with a negative control that must fail."""
from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import numpy as np
import pytest
import sympy as sp
from sympy import stats

from theory import dropout as dr
from theory.derivation import Derivation, Step, get
from theory.errors import SpecError

NAMES = ["inverted-dropout", "dropout-ensemble", "dropout-l2-penalty", "dropout-variance-shift"]
KEEPS = (0.3, 0.5, 0.8, 1.0)


@functools.lru_cache(maxsize=None)
def registered(name: str) -> Derivation:
    return get(name)


def _masks(n: int):
    """All 2^n masks and their probabilities, by itertools (not the module's enumeration)."""
    return list(itertools.product((0, 1), repeat=n))


def _prob(mask, keep):
    return math.prod(keep if m else 1 - keep for m in mask)


# ------------------------------------------------------------------------------------------------ derivations
@pytest.mark.parametrize("name", NAMES)
def test_derivations_verify(name):
    d = registered(name)
    assert d.ok, d.first_failure()
    assert "dropout" in d.render("text").lower()


def test_perturbed_steps_fail():
    """Negative controls through the same checker: plain dropout is not unbiased, the variance needs (1 - p)/p,
    the penalty needs its factor, the variance shift is not p for c != 0."""
    Db = stats.Bernoulli("D", dr.p)
    bad = Derivation("bad", "bad", [
        Step(lhs=stats.Expectation(Db * dr.f), rhs=dr.f, why="E[D f] = f? only at p = 1"),
        Step(lhs=stats.Variance(Db * dr.f / dr.p), rhs=dr.f**2 * (1 - dr.p), why="missing 1/p"),
        Step(lhs=dr.regression_objective(1, 2)[0],
             rhs=dr.regression_objective(1, 2)[1].subs(dr.PENALTY_FACTOR, 1), why="penalty without (1 - p)/p"),
        Step(lhs=dr.VAR_RATIO, rhs=dr.p, why="the c = 0 value for every c"),
    ])
    assert [r.ok for r in bad.verify()] == [False] * 4
    good = Derivation("good", "good", [
        Step(lhs=stats.Expectation(Db * dr.f), rhs=dr.f, why="at p = 1", under=(dr.p, sp.Integer(1), "p = 1"))])
    assert good.ok


def test_registered_step_perturbed_fails():
    d = registered("inverted-dropout")
    steps = list(d.steps)
    (k,) = [i for i, s in enumerate(steps) if s.rhs == dr.MEAN_INVERTED and isinstance(s.lhs, stats.Expectation)]
    steps[k] = dataclasses.replace(steps[k], rhs=dr.p * dr.f)
    perturbed = Derivation(d.name, d.title, steps)
    assert not perturbed.ok and perturbed.first_failure().index == k + 1


# --------------------------------------------------------------------------------------------- slides' p
def _recheck(monkeypatch, statements):
    monkeypatch.setattr(dr, "SLIDE_P_STATEMENTS", tuple(statements))
    return dr.check_slide_p()


def _replace(key, **changes):
    return [dataclasses.replace(s, **changes) if s.key == key else s for s in dr.SLIDE_P_STATEMENTS]


def test_slide_p_verdict_as_transcribed():
    res = dr.check_slide_p()
    offs = {k: s["p_off"] for k, s in res["statements"].items()}
    assert sp.simplify(offs["a"] - dr.p) == 0
    assert all(sp.simplify(offs[k] - (1 - dr.p)) == 0 for k in "bcd")
    assert res["groups"] == [("a",), ("b", "c", "d")]
    assert not res["consistent"]
    (dis,) = res["disagreements"]
    assert dis["agree_at"] == sp.FiniteSet(sp.Rational(1, 2))
    assert res["verdict"].startswith("inconsistent") and "p = 1/2" in res["verdict"]


def test_slide_p_with_a_corrected_is_consistent(monkeypatch):
    """The checker is not a list of known errors: with (a) saying P(off) = 1 - p all four agree."""
    res = _recheck(monkeypatch, _replace("a", data=(1 - dr.p,)))
    assert res["consistent"] and res["groups"] == [("a", "b", "c", "d")] and res["disagreements"] == []
    assert res["verdict"].startswith("consistent")
    d = dr._inverted_dropout()  # the derivation follows the transcription: no disagreement step left
    assert d.ok and not any("disagree" in str(s.why) for s in d.steps)


def test_slide_p_inverted_test_output_perturbed(monkeypatch):
    """Inverted test output p f instead of f: unbiased only if P(on) = p^2, so (d) leaves the group."""
    res = _recheck(monkeypatch, _replace("d", data=(1 / dr.p, dr.p)))
    assert sp.simplify(res["statements"]["d"]["p_off"] - (1 - dr.p**2)) == 0
    assert res["groups"] == [("a",), ("b", "c"), ("d",)]
    where = {d["groups"]: d["agree_at"] for d in res["disagreements"]}
    assert where[(("b", "c"), ("d",))] == sp.FiniteSet(1)
    assert where[(("a",), ("d",))] == sp.FiniteSet((sp.sqrt(5) - 1) / 2)
    d = dr._inverted_dropout()
    assert d.ok and sum("disagree" in str(s.why) for s in d.steps) == 2


def test_slide_p_swapped_cases_join_a(monkeypatch):
    res = _recheck(monkeypatch, _replace("b", data=((dr.f, 1 - dr.p), (sp.Integer(0), dr.p))))
    assert res["groups"] == [("a", "b"), ("c", "d")]


def test_slide_p_cases_must_be_a_distribution(monkeypatch):
    monkeypatch.setattr(dr, "SLIDE_P_STATEMENTS", tuple(_replace("b", data=((dr.f, dr.p), (sp.Integer(0), dr.p)))))
    with pytest.raises(ValueError, match="sum to"):
        dr.check_slide_p()


# --------------------------------------------------------------------------------------------- backward pass
def test_slide_backward_lines_correct_and_d_is_needed():
    assert [r["correct"] for r in dr.check_slide_backward()] == [True, True]
    # negative control: the no-dropout line «d = f'(h) W d» for the dropout forward misses the mask
    ok, detail = dr._matrix_check(dr.chain_rule_backward(dr.D), dr.backward_formula((dr.FPRIME, dr.DELTA)))
    assert not ok and "differ" in detail
    ok, _ = dr._matrix_check(dr.chain_rule_backward(dr.D / dr.p), dr.backward_formula((dr.D, dr.FPRIME, dr.DELTA)))
    assert not ok  # inverted dropout's backward needs the 1/p too


def test_backward_against_finite_differences():
    """The SymPy chain rule, with f = tanh, against central differences of the numpy forward pass."""
    rng = np.random.default_rng(7)
    xs, W, bs, Ds, ds, hs = dr._layer(2, 2)
    keep = 0.7
    grad = dr.chain_rule_backward(dr.D / dr.p).doit().replace(dr.F, sp.tanh).doit()
    args = (*xs, *W, *bs, *Ds, *ds, dr.p)
    fn = sp.lambdify(args, grad, "numpy")
    x0, W0, b0 = rng.standard_normal(2), rng.standard_normal((2, 2)), rng.standard_normal(2)
    mask, d0 = np.array([1.0, 0.0]), rng.standard_normal(2)
    got = np.asarray(fn(*x0, *W0.ravel(), *b0, *mask, *d0, keep), dtype=float).ravel()

    def loss(xv):
        return float(d0 @ (mask * np.tanh(xv @ W0 + b0) / keep))
    step, num = 1e-6, []
    for j in range(2):
        e = np.zeros(2)
        e[j] = step
        num.append((loss(x0 + e) - loss(x0 - e)) / (2 * step))
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got, (mask * (1 - np.tanh(x0 @ W0 + b0) ** 2) * d0 / keep) @ W0.T, rtol=1e-12)


# ------------------------------------------------------------------------------------------------ conventions
def test_conversions():
    assert dr.keep_from_torch(0.1) == pytest.approx(0.9, rel=1e-15)
    assert dr.keep_from_keras(0.25) == 0.75
    assert dr.torch_p(0.9) == pytest.approx(0.1, rel=1e-12)
    assert dr.keras_rate(0.8) == pytest.approx(0.2, rel=1e-12)
    assert dr.keep_from_torch(0) == 1 and dr.torch_p(1) == 0
    assert dr.keep_from_torch(sp.Rational(1, 10)) == sp.Rational(9, 10)  # exact in, exact out
    for q in (0.0, 0.2, 0.5, 0.75):
        assert dr.torch_p(dr.keep_from_torch(q)) == pytest.approx(q, abs=1e-15)
        assert dr.keras_rate(dr.keep_from_keras(q)) == pytest.approx(q, abs=1e-15)


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), float("inf"), "0.5", True, None])
def test_check_keep_rejects(bad):
    with pytest.raises(SpecError) as info:
        dr.check_keep(bad)
    msg = str(info.value)
    assert "\n" not in msg and "KEEP" in msg and "1 - q" in msg


@pytest.mark.parametrize("bad", [1, 1.0, -0.1, float("nan"), "0.1"])
def test_drop_probabilities_rejected(bad):
    for conv in (dr.keep_from_torch, dr.keep_from_keras):
        with pytest.raises(SpecError) as info:
            conv(bad)
        assert "\n" not in str(info.value)


def test_keep_accepted():
    for k in (1e-9, 0.5, 1, 1.0, sp.Rational(1, 3), np.float64(0.9)):
        assert dr.check_keep(k) == k


# ------------------------------------------------------------------------- identities by numpy enumeration
@pytest.mark.parametrize("keep", KEEPS)
def test_single_mask_moments(keep):
    f0 = -1.7
    vals = np.array([0.0, 1.0])
    P = np.array([1 - keep, keep])
    mean_plain = P @ (vals * f0)
    mean_inv = P @ (vals * f0 / keep)
    var_inv = P @ (vals * f0 / keep - mean_inv) ** 2
    ev = lambda e: float(sp.lambdify((dr.p, dr.f), e)(keep, f0))  # noqa: E731
    assert mean_plain == pytest.approx(ev(dr.MEAN_PLAIN), rel=1e-12)
    assert mean_inv == pytest.approx(ev(dr.MEAN_INVERTED), rel=1e-12)
    assert var_inv == pytest.approx(ev(dr.VAR_INVERTED), rel=1e-12, abs=1e-15)
    if keep < 1:  # negative control: plain dropout is biased
        assert abs(mean_plain - f0) > 0.1


def test_expect_masks_against_sympy_stats():
    """The two-point enumeration used for many masks agrees with sympy.stats for two independent masks."""
    D1, D2 = stats.Bernoulli("D1", dr.p), stats.Bernoulli("D2", dr.p)
    s1, s2 = sp.symbols("s1 s2", nonnegative=True)
    x = sp.Symbol("x", real=True)
    for expr in (s1 * s2 * x, (s1 * x + s2) ** 2 / dr.p**2, s1 + 3 * s2):
        via_stats = stats.E(expr.subs({s1: D1, s2: D2}))
        assert sp.simplify(dr.expect_masks(expr, [s1, s2]) - via_stats) == 0


@pytest.mark.parametrize("keep", KEEPS)
def test_second_moment_with_random_activation(keep):
    """a on three points, independent of D: E[(D a/p)^2] = E[a^2]/p, Var(D a/p) = variance_train."""
    a_vals, a_P = np.array([-1.0, 0.5, 2.0]), np.array([0.2, 0.5, 0.3])
    mean, var = float(a_P @ a_vals), float(a_P @ a_vals**2 - (a_P @ a_vals) ** 2)
    outs, probs = [], []
    for d in (0, 1):
        for av, ap in zip(a_vals, a_P):
            outs.append(d * av / keep)
            probs.append((keep if d else 1 - keep) * ap)
    outs, probs = np.array(outs), np.array(probs)
    m2 = probs @ outs**2
    assert m2 == pytest.approx(float(a_P @ a_vals**2) / keep, rel=1e-12)
    var_train = m2 - (probs @ outs) ** 2
    assert dr.variance_train(keep, mean, var) == pytest.approx(var_train, rel=1e-12)
    assert dr.variance_test(keep, mean, var) == pytest.approx(var, rel=1e-15)
    assert dr.variance_shift(keep, mean, var) == pytest.approx(var / var_train, rel=1e-12)
    if keep < 1:  # negative control: the zero-mean value p is not the shift of an input with mean != 0
        assert abs(dr.variance_shift(keep, mean, var) - keep) > 1e-3


@pytest.mark.parametrize("n", [1, 3, 5])
@pytest.mark.parametrize("keep", [0.3, 0.8])
def test_linear_ensemble_is_weight_scaling(n, keep):
    rng = np.random.default_rng(100 + n)
    W, x = rng.standard_normal((3, n)), rng.standard_normal(n)
    plain = sum(_prob(m, keep) * (W @ (np.array(m) * x)) for m in _masks(n))
    inverted = sum(_prob(m, keep) * (W @ (np.array(m) * x / keep)) for m in _masks(n))
    np.testing.assert_allclose(plain, keep * W @ x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(inverted, W @ x, rtol=1e-12, atol=1e-14)
    # negative control: a nonlinear unit (tanh) averaged over the masks is not the weight-scaled unit
    ens = sum(_prob(m, keep) * np.tanh(W @ (np.array(m) * x)) for m in _masks(n))
    if n > 1:
        assert np.max(np.abs(ens - np.tanh(keep * W @ x))) > 1e-3


def test_ensemble_is_exact():
    assert dr.ensemble_is_exact(True) is True
    assert dr.ensemble_is_exact(False) is False
    gap = dr._ensemble_gap(lambda z: z**2)
    w, x, _ = dr._unit_symbols(2)
    assert sp.simplify(gap - dr.p * (1 - dr.p) * (w[0] ** 2 * x[0] ** 2 + w[1] ** 2 * x[1] ** 2)) == 0


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("keep", [0.3, 0.5, 0.9])
def test_nwgm_sigmoid(n, keep):
    rng = np.random.default_rng(200 + n)
    w, x = rng.standard_normal(n), rng.standard_normal(n)
    masks = _masks(n)
    P = np.array([_prob(m, keep) for m in masks])
    outs = np.array([_sigmoid(np.dot(np.array(m) * w, x)) for m in masks])
    G, Gc = np.prod(outs**P), np.prod((1 - outs) ** P)  # direct products, no logs
    target = _sigmoid(keep * np.dot(w, x))
    assert G / (G + Gc) == pytest.approx(target, rel=1e-12)
    assert dr.nwgm_sigmoid(w, x, keep) == pytest.approx(target, rel=1e-12)
    assert dr.nwgm(outs, P) == pytest.approx(target, rel=1e-12)
    if n <= 3:  # the SymPy expression of the derivation, evaluated
        lhs, rhs = dr.nwgm_expr(n)
        ws, xs, _ = dr._unit_symbols(n)
        fn = sp.lambdify((dr.p, *ws, *xs), lhs)
        assert fn(keep, *w, *x) == pytest.approx(target, rel=1e-12)
    # negative control: the arithmetic mean of the ensemble is not the weight-scaled unit
    if n > 1:
        assert abs(P @ outs - target) > 1e-6


def test_nwgm_fails_for_tanh():
    """Negative control: with tanh in place of sigmoid the NWGM is not the weight-scaled unit (the identity needs
    logit(phi(z)) linear in z). A bias b = 0.5 and positive w x keep every tanh output in (0, 1); the sigmoid
    twin with the same bias stays exact."""
    w, x, keep, b = np.array([0.8, 1.1, 0.4]), np.array([0.5, 0.9, 1.2]), 0.6, 0.5
    masks = _masks(3)
    P = np.array([_prob(m, keep) for m in masks])
    zs = np.array([b + np.dot(np.array(m) * w, x) for m in masks])
    scaled = b + keep * np.dot(w, x)
    assert abs(dr.nwgm(np.tanh(zs), P) - np.tanh(scaled)) > 1e-6  # ~3e-3 here; the sigmoid twin holds to 1e-12
    assert dr.nwgm(_sigmoid(zs), P) == pytest.approx(_sigmoid(scaled), rel=1e-12)
    with pytest.raises(SpecError):  # without the bias the all-off mask gives tanh(0) = 0: no geometric mean
        dr.nwgm(np.tanh(zs - b), P)


def test_nwgm_sigmoid_extreme_and_errors():
    assert dr.nwgm_sigmoid([1e4, 1e4], [1.0, 1.0], 0.5) == pytest.approx(1.0)
    assert dr.nwgm_sigmoid([-1e4], [1.0], 0.5) == pytest.approx(0.0, abs=1e-300)
    with pytest.raises(SpecError):
        dr.nwgm_sigmoid([1.0, 2.0], [1.0], 0.5)
    with pytest.raises(SpecError):
        dr.nwgm_sigmoid([1.0], [1.0], 0.0)
    with pytest.raises(SpecError):
        dr.nwgm_sigmoid(np.ones(30), np.ones(30), 0.5)


@pytest.mark.parametrize("keep", [0.3, 0.8, 1.0])
def test_dropout_penalty_by_enumeration(keep):
    """3 samples x 2 features: all 2^6 masks enumerated; expected loss = loss at w + dropout_penalty."""
    rng = np.random.default_rng(11)
    X, y, w = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal(2)
    expected = 0.0
    for flat in _masks(6):
        M = np.array(flat, dtype=float).reshape(3, 2)
        expected += _prob(flat, keep) * float(np.sum((y - (M * X / keep) @ w) ** 2))
    fit = float(np.sum((y - X @ w) ** 2))
    pen = dr.dropout_penalty(X, w, keep)
    assert expected == pytest.approx(fit + pen, rel=1e-12)
    if keep < 1:  # negative control: the penalty without its (1 - p)/p factor
        assert abs(expected - (fit + float(np.sum(w**2 * np.sum(X**2, axis=0))))) > 1e-3
    else:
        assert pen == 0.0
    # the SymPy objective of the derivation, evaluated at the first 2 x 2 block
    mean, closed, sym = dr.regression_objective(2, 2)
    args = (dr.p, *sym["X"], *sym["y"], *sym["w"])
    vals = (keep, *X[:2].ravel(), *y[:2], *w)
    assert sp.lambdify(args, mean)(*vals) == pytest.approx(
        float(np.sum((y[:2] - X[:2] @ w) ** 2)) + dr.dropout_penalty(X[:2], w, keep), rel=1e-10)


def test_dropout_penalty_errors():
    with pytest.raises(SpecError):
        dr.dropout_penalty(np.ones((3, 2)), np.ones(3), 0.5)
    with pytest.raises(SpecError):
        dr.dropout_penalty(np.ones((3, 2)), np.ones(2), 1.5)


# --------------------------------------------------------------------------------------------- variance shift
def test_variance_shift_properties():
    ex = dr.variance_shift_exprs()
    assert set(ex) >= {"train", "test", "ratio", "keep", "mean", "var"}
    assert sp.simplify(ex["test"] / ex["train"] - ex["ratio"]) == 0
    grid = [(k, m, s) for k in (0.1, 0.5, 0.9, 1.0) for m in (-2.0, 0.0, 1.5) for s in (0.1, 1.0, 4.0)]
    for k, m, s in grid:
        ratio = dr.variance_shift(k, m, s)
        assert 0 < ratio <= 1 + 1e-15
        assert ratio == pytest.approx(k * s / (s + (1 - k) * m**2), rel=1e-12)
        if k == 1.0:
            assert ratio == pytest.approx(1.0, rel=1e-15)
    assert dr.variance_shift(0.5, 0.0, 1.0) == pytest.approx(0.5, rel=1e-15)
    assert dr.variance_shift(0.5, 1.0, 0.0) == 0.0


@pytest.mark.parametrize("args", [(0.0, 0.0, 1.0), (0.5, 0.0, -1.0), (0.5, float("nan"), 1.0), (0.5, 0.0, 0.0),
                                  (1.0, 3.0, 0.0)])
def test_variance_shift_errors(args):
    with pytest.raises(SpecError):
        dr.variance_shift(*args)
