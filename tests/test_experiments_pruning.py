"""Experiment h, pruning («Прореживание сети»): the exact saliency against brute force, the prune / restore rules,
masks kept through retraining, and the directions at reduced size over seeds 0..4 (each held for every one of the
five seeds when written; no seed was picked), each with a negative control. Default-size checks are marked slow.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sims.data import load_dataset
from sims.experiments import pruning as P
from sims.train import MLP, train
from theory.errors import SpecError
from same import assert_same

SEEDS = range(5)
U = np.finfo(np.float64).eps
# reduced size: 64-32-10 trained 15 epochs, one stage at 90% pruned, 3 retraining epochs (~0.3 s a seed)
SMALL = {"hidden": (32,), "epochs": 15, "retrain_epochs": 3, "fractions": (0.9,), "criteria": ("saliency", "random")}
# retraining must win back more than this at 90% pruned; the dense net trained as long must NOT gain this much
# (measured, reduced size: saliency +7.5 to +14.5 points; the dense control +1.1 to +1.4; full size: +7 to +16 and
# -0.3 to +0.6)
RECOVERY = 0.04


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


_SMALL_RUNS: dict[int, dict] = {}


def small_run(seed: int) -> dict:
    if seed not in _SMALL_RUNS:
        _SMALL_RUNS[seed] = P.run(seed=seed, **SMALL)
    return _SMALL_RUNS[seed]




# ------------------------------------------------------------------ the criterion: exact saliency
def brute_force(model: MLP, x, y) -> list[np.ndarray]:
    """The oracle, literally the slide: zero one weight, evaluate, restore; J(w := 0) - J for every weight."""
    base = model.evaluate(x, y)[0]
    out = []
    for w in model.W:
        s = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            v = w[idx]
            w[idx] = 0.0
            s[idx] = model.evaluate(x, y)[0] - base
            w[idx] = v
        out.append(s)
    return out


def rounding_budget(model: MLP, x, y) -> float:
    """Absolute error of a brute-force difference J(w := 0) - J: two evaluations, each with rounding error
    rho = 4 (L + 1) u S, S = |J| + the mean largest |logit| + 1 (the scale of the log-sum-exp cancellation), as in
    :func:`sims.train.gradient_check_tolerance`."""
    scale = abs(model.evaluate(x, y)[0]) + float(np.abs(model.logits(x)).max(axis=1).mean()) + 1.0
    return 2 * 4 * (model.n_layers + 1) * U * scale


def trained_tiny(digits, sizes, activation, **kw):
    m = MLP(sizes, activation, "he_uniform", seed=3, **kw)
    train(m, digits, epochs=2, seed=4, grad_norms=False)
    return m


@pytest.mark.parametrize("sizes, activation, kw", [
    ([64, 5, 10], "relu", {}),
    ([64, 6, 5, 10], "relu", {"l1": 1e-4, "l2": 1e-3}),
    ([64, 4, 3, 10], "tanh", {"dropout_keep": 0.8}),  # smooth units: every row changes; eval mode: no dropout
])
def test_saliency_is_the_brute_force_loss_increase(digits, sizes, activation, kw):
    m = trained_tiny(digits, sizes, activation, **kw)
    x, y = digits.x_train[:120], digits.y_train[:120]
    fast, slow = P.saliency(m, x, y), brute_force(m, x, y)
    atol = rounding_budget(m, x, y)
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f, s, rtol=1e-10, atol=atol)
    assert max(np.abs(s).max() for s in slow) > 1e4 * atol  # the check is not vacuous


def test_negative_control_linearized_saliency_fails_the_same_tolerance(digits):
    """The first-order Taylor estimate -g w of the same difference (and the saliency without the penalty change)
    must NOT pass at the tolerance the exact one passes."""
    m = trained_tiny(digits, [64, 6, 5, 10], "relu", l2=1e-3)
    x, y = digits.x_train[:120], digits.y_train[:120]
    slow = brute_force(m, x, y)
    atol = rounding_budget(m, x, y)
    _, grads = m.loss_and_grads(x, y, train=False)
    taylor = [-grads[k] * w for k, w in zip(m.weight_index, m.W)]
    assert not all(np.allclose(t, s, rtol=1e-10, atol=atol) for t, s in zip(taylor, slow))
    no_penalty = [f + m.l2 * w * w for f, w in zip(P.saliency(m, x, y), m.W)]
    assert not all(np.allclose(t, s, rtol=1e-10, atol=atol) for t, s in zip(no_penalty, slow))


def test_pruned_weights_have_zero_saliency_and_survivors_match_brute_force(digits):
    m = trained_tiny(digits, [64, 5, 10], "relu")
    rng = np.random.default_rng(0)
    P.prune(m, P.scores("random", m, None, None, rng), 150)
    x, y = digits.x_train[:100], digits.y_train[:100]
    fast, slow = P.saliency(m, x, y), brute_force(m, x, y)
    for f, s, mask in zip(fast, slow, m.masks):
        assert (f[mask == 0] == 0).all()
        np.testing.assert_allclose(f, s, rtol=1e-10, atol=rounding_budget(m, x, y))


# ------------------------------------------------------------------ removing and restoring
def test_prune_removes_the_least_significant_survivors_ties_by_position():
    m = MLP([3, 4, 2], "relu", "he_uniform", seed=0)
    sig = [np.array([[5, 1, 1], [2, 0, 7], [3, 3, 9], [1, 8, 4]], float), np.array([[0, 6, 2, 1], [5, 2, 3, 0]], float)]
    first = P.prune(m, sig, 3)
    # flat order over layers: W1 (12 entries) then W2 (8); the smallest scores 0 at W1[1,1] (flat 4),
    # W2[0,0] (flat 12), W2[1,3] (flat 19): ties broken by position
    assert list(zip(first["layers"], first["index"])) == [(0, 4), (1, 0), (1, 7)]
    second = P.prune(m, sig, 4)  # survivors only: the next are the 1s at W1 flat 1, 2, 9 and W2 flat 3
    assert list(zip(second["layers"], second["index"])) == [(0, 1), (0, 2), (0, 9), (1, 3)]
    assert P.n_pruned(m) == 7
    for w, mask in zip(m.W, m.masks):
        assert (w[mask == 0] == 0).all() and (w[mask == 1] != 0).all()


def test_restore_gives_back_exactly_the_last_removed_connections_with_their_values(digits):
    m = MLP([64, 8, 10], "relu", "he_uniform", seed=1)
    train(m, digits, epochs=2, seed=2, grad_norms=False)
    P.prune(m, P.scores("magnitude", m, None, None), 200)
    masks_a = [k.copy() for k in m.masks]
    before = [w.copy() for w in m.W]
    last = P.prune(m, P.scores("magnitude", m, None, None), 100)
    for l, i, v in zip(last["layers"], last["index"], last["values"]):
        assert before[l].flat[i] == v != 0
    train(m, digits, epochs=1, seed=3, grad_norms=False)  # the other weights move on
    retrained = [w.copy() for w in m.W]
    P.restore(m, last)
    for k, a in zip(m.masks, masks_a):
        np.testing.assert_array_equal(k, a)  # the masks of before the last removal
    back = [np.zeros(w.shape, bool) for w in m.W]
    for l, i, v in zip(last["layers"], last["index"], last["values"]):
        assert m.W[l].flat[i] == v
        back[l].flat[i] = True
    for w, r, b, a in zip(m.W, retrained, back, masks_a):
        np.testing.assert_array_equal(w[~b], r[~b])  # every other weight as it was (pruned ones still 0)
        assert (w[a == 0] == 0).all()


def test_iterative_keeps_masks_through_retraining_and_restores_on_a_drop(digits):
    m = MLP([64, 16, 10], "relu", "he_uniform", seed=5)
    train(m, digits, epochs=3, seed=6, grad_norms=False)
    cfg = {**P.CONFIG, "fractions": (0.5, 0.8), "retrain_epochs": 2}
    total = sum(w.size for w in m.W)
    dense = m.state()
    r = P.iterative(m, digits, "magnitude", cfg, [7, 8], None, (2.0, 2.0))  # every stage "drops"
    assert r["n_pruned"] == [round(0.5 * total), round(0.8 * total)]
    assert P.n_pruned(m) == round(0.8 * total)
    for w, mask, w0 in zip(m.W, m.masks, dense["params"][::2]):
        assert (w[mask == 0] == 0).all()  # exactly zero after retraining
        assert not np.array_equal(w[mask == 1], w0[mask == 1])  # the survivors were retrained
    assert r["restore"]["stage"] == 0.5 and r["restore"]["fraction"] == 0.0
    assert r["restore"]["n_restored"] == round(0.5 * total)
    assert (r["restore"]["val_acc_previous"], r["restore"]["test_acc_previous"]) == (2.0, 2.0)  # the dense net's
    assert r["restore"]["val_acc_dropped"] == r["val_acc_retrained"][0]
    m.load_state(dense)
    m.set_masks(None)
    assert P.iterative(m, digits, "magnitude", cfg, [7, 8], None, (0.0, 0.0))["restore"] is None


# ------------------------------------------------------------------ the experiment
def test_run_is_deterministic_and_json_ready():
    a = small_run(1)
    b = P.run(seed=1, **SMALL)
    assert_same(a, b)
    json.dumps(a)


def test_first_stage_of_both_arms_removes_the_same_weights():
    """The iterative arm's first stage scores the dense net, as the one-shot arm does: equal accuracies."""
    r = small_run(0)
    for c in r["criteria"].values():
        assert c["one_shot"]["val_acc"][0] == c["iterative"]["val_acc_pruned"][0]
        assert c["one_shot"]["test_acc"][0] == c["iterative"]["test_acc_pruned"][0]


@pytest.mark.parametrize("seed", SEEDS)
def test_retraining_recovers_what_pruning_90_percent_lost(seed):
    """Slide: «После прореживания снова запускаем backprop». At 90% pruned by the exact saliency, 3 epochs of
    retraining win back more than RECOVERY in test accuracy; the pruned net is below the dense one."""
    r = small_run(seed)
    h = P.at_fraction(r, 0.9)["saliency"]
    assert h["test_retrained"] - h["test_one_shot"] > RECOVERY
    assert h["val_retrained"] - h["val_pruned"] > RECOVERY
    assert h["test_one_shot"] < r["dense"]["test_acc"] - RECOVERY


@pytest.mark.parametrize("seed", SEEDS)
def test_negative_control_the_dense_net_trained_as_long_gains_less(seed):
    """The same gain for the unpruned net given the same extra epochs must stay below RECOVERY: the recovery above
    is not just more training."""
    r = small_run(seed)
    assert r["continued"]["test_acc"][0] - r["dense"]["test_acc"] < RECOVERY
    assert r["continued"]["val_acc"][0] - r["dense"]["val_acc"] < RECOVERY


@pytest.mark.parametrize("seed", SEEDS)
def test_saliency_beats_random_pruning(seed):
    """Pruning 90% of the weights at random leaves a near-chance net; by the exact saliency it does not."""
    h = P.at_fraction(small_run(seed), 0.9)
    assert h["saliency"]["test_one_shot"] > h["random"]["test_one_shot"] + 0.3
    assert h["random"]["test_one_shot"] < 0.3


def test_bad_arguments(digits):
    m = MLP([64, 4, 10], "relu", "he_uniform", seed=0)
    x, y = digits.x_train[:10], digits.y_train[:10]
    for bad in ({"criteria": ("foo",)}, {"criteria": ()}, {"criteria": ("saliency", "saliency")},
                {"fractions": (0.9, 0.5)}, {"fractions": (1.0,)}, {"fractions": ()}, {"fractions": (0.0,)},
                {"threshold": -0.1}, {"threshold": True}, {"retrain_epochs": 0}, {"retrain_epochs": 1.5},
                {"bogus": 1}):
        with pytest.raises(SpecError):
            P.run(seed=0, **bad)
    with pytest.raises(SpecError):
        P.run(seed=-1)
    with pytest.raises(SpecError):
        P.scores("foo", m, x, y)
    with pytest.raises(SpecError):
        P.scores("random", m, x, y)  # no Generator
    for n in (-1, True, 1.0, m.W[0].size + m.W[1].size + 1):
        with pytest.raises(SpecError):
            P.prune(m, P.scores("magnitude", m, x, y), n)
    with pytest.raises(SpecError):
        P.prune(m, [np.zeros(3)], 1)
    with pytest.raises(SpecError):
        P.prune(m, [np.full(w.shape, math.nan) for w in m.W], 1)
    for model in (MLP([64, 4, 10], "relu", "he_uniform", batchnorm=True),
                  MLP([64, 64, 10], "relu", "he_uniform", skip=True), "not a model"):
        with pytest.raises(SpecError):
            P.saliency(model, x, y)
    with pytest.raises(SpecError):
        P.saliency(m, x[:, :5], y)
    with pytest.raises(SpecError):
        P.at_fraction(small_run(0), 0.5)
    with pytest.raises(SpecError):
        P.over_seeds([])


# ------------------------------------------------------------------ full size (slow)
@pytest.fixture(scope="module")
def full_runs():
    return [P.run(seed=s) for s in SEEDS]


@pytest.mark.slow
def test_full_size_directions_every_seed(full_runs):
    for r in full_runs:
        h = P.at_fraction(r, 0.9)
        sal, mag, rnd = h["saliency"], h["magnitude"], h["random"]
        # retraining recovers most of the loss; the dense net trained as long gains far less (negative control)
        assert sal["test_retrained"] - sal["test_one_shot"] > RECOVERY
        assert sal["test_continued"] - r["dense"]["test_acc"] < RECOVERY
        # the slide's criterion beats magnitude pruning without retraining (one-shot: by 17 to 29 points measured;
        # after the iterative stage and after retraining the lead is smaller, 0 to 21 and 0.3 to 7 points: reported,
        # not asserted)
        for key in ("val_one_shot", "test_one_shot"):
            assert sal[key] > mag[key] + 0.1, key
            assert not rnd[key] > mag[key] + 0.1, key  # the same assertion fails for random scores
        c = r["criteria"]
        assert c["saliency"]["largest_within"]["retrained"] >= c["magnitude"]["largest_within"]["retrained"]
        assert c["saliency"]["largest_within"]["retrained"] >= 0.7
        # the restore rule fires at the first stage that drops, and steps back one stage
        rest = c["saliency"]["iterative"]["restore"]
        k = r["fractions"].index(rest["stage"])
        assert rest["val_acc_dropped"] < r["dense"]["val_acc"] - r["threshold"]
        assert all(v >= r["dense"]["val_acc"] - r["threshold"]
                   for v in c["saliency"]["iterative"]["val_acc_retrained"][:k])
        assert rest["fraction"] == pytest.approx(r["fractions"][k - 1] if k else 0.0, abs=0.5 / r["n_weights"])
        # putting the batch back into the retrained net is worse than the net from before its removal
        assert rest["val_acc"] < rest["val_acc_previous"] and rest["test_acc"] < rest["test_acc_previous"]


@pytest.mark.slow
def test_full_size_saliency_equals_brute_force_on_a_sample():
    """The fast saliency of the default 64-100-10 net on all training rows against brute force on 60 weights."""
    r = np.random.default_rng(0)
    d = load_dataset("digits", seed=0, val_fraction=0.2)
    m = MLP([64, 100, 10], "relu", "he_uniform", seed=0)
    train(m, d, epochs=10, seed=0, grad_norms=False)
    fast = P.saliency(m, d.x_train, d.y_train)
    base = m.evaluate(d.x_train, d.y_train)[0]
    atol = rounding_budget(m, d.x_train, d.y_train)
    for layer in (0, 1):
        w = m.W[layer]
        for flat in r.choice(w.size, 30, replace=False):
            v = w.flat[flat]
            w.flat[flat] = 0.0
            brute = m.evaluate(d.x_train, d.y_train)[0] - base
            w.flat[flat] = v
            assert fast[layer].flat[flat] == pytest.approx(brute, rel=1e-10, abs=atol)
