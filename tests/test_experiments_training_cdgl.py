"""Experiments c (vanishing / exploding gradients), d (zero / constant init), g (early stopping and size),
l (shuffling) at reduced sizes.

Each direction asserted here held for every one of the seeds 0..4 at the reduced size when it was written (they are
not tuned seeds: all five are asserted). Tolerances against mean-field theory are a budget for finite width (64)
and for averaging over the first epoch's steps; each comes with a negative control that must fail at the same
tolerance. The longer, default-size checks are marked slow.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from sims.experiments import early_stopping as E
from sims.experiments import gradients as G
from sims.experiments import shuffling as H
from sims.experiments import symmetry as S
from theory.errors import SpecError
from same import assert_same

SEEDS = range(5)
OVERSCALED = "normal:2/sqrt(n_in)"
# measured within 5% at width 64 (depth 6, epoch 1, both inits, 5 seeds); the two theories differ by 40%
FACTOR_RTOL = 0.10




# ------------------------------------------------------------------ determinism
def test_experiments_are_deterministic():
    assert_same(G.vanishing(3, seed=1, epochs=2), G.vanishing(3, seed=1, epochs=2))
    assert_same(G.exploding(OVERSCALED, seed=1, epochs=1, depth=3), G.exploding(OVERSCALED, seed=1, epochs=1, depth=3))
    assert_same(S.run(seed=1, epochs=1, hidden=(8, 8)), S.run(seed=1, epochs=1, hidden=(8, 8)))
    kw = {"curves_kw": {"hidden": (16,), "epochs": 3, "patience": 1}, "sizes_kw": {"epochs": 1}, "widths": (8,)}
    assert_same(E.run(seed=1, **kw), E.run(seed=1, **kw))
    assert_same(H.run(seed=1, epochs=1, batchnorm=(True,)), H.run(seed=1, epochs=1, batchnorm=(True,)))


def test_seeds_are_independent_children():
    assert len(set(G.seeds_of(0))) == 3
    assert G.seeds_of(0) != G.seeds_of(1)
    with pytest.raises(SpecError):
        G.seeds_of(-1)


# ------------------------------------------------------------------ c: vanishing
@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_first_layers_get_orders_of_magnitude_smaller_gradients(seed):
    """6 hidden sigmoid layers, glorot: |dJ/dW_7| / |dJ/dW_1| in epoch 1 was 1.9e3 to 2.4e3 over seeds 0..4."""
    r = G.vanishing(6, seed=seed, epochs=1)
    assert r["ratio_first"] > 100
    g = r["grad_norms"][0]
    assert np.all(np.diff(g[1:]) > 0)  # hidden-to-hidden layers: monotone towards the output


@pytest.mark.parametrize("seed", SEEDS)
def test_negative_control_relu_he_has_no_vanishing(seed):
    """The same check on a relu/He net of the same depth must fail (ratio about 2, not 100)."""
    r = G.vanishing(6, seed=seed, epochs=1, activation="relu", init="he_uniform", lr=0.05)
    assert r["ratio_first"] < 10
    assert r["factor_theory"] == pytest.approx(1.0, rel=1e-6)  # chi_1 = sigma_w^2 / 2 = 1


@pytest.mark.parametrize("seed", SEEDS)
def test_per_layer_decay_is_sqrt_chi1_of_its_own_init(seed):
    """Mean-field: the gradient shrinks by sqrt(chi_1) per layer, 0.236 for glorot (sigma_w^2 = 1) and 0.141 for the
    slide's U[-1/sqrt(n_in), 1/sqrt(n_in)] (sigma_w^2 = 1/3). Each measurement must match its own init's theory and
    (negative control) not the other's."""
    good = G.vanishing(6, seed=seed, epochs=1)
    bad = G.vanishing(6, seed=seed, epochs=1, init="uniform:1/sqrt(n_in)")
    assert good["factor"] == pytest.approx(good["factor_theory"], rel=FACTOR_RTOL)
    assert bad["factor"] == pytest.approx(bad["factor_theory"], rel=FACTOR_RTOL)
    assert good["factor"] != pytest.approx(bad["factor_theory"], rel=FACTOR_RTOL)
    assert bad["factor"] != pytest.approx(good["factor_theory"], rel=FACTOR_RTOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_sits_on_a_plateau_a_shallow_one_does_not(seed):
    """Epochs until the training loss is 10% below ln 10: 2 for 2 hidden layers, never within 6 for 6 (nor within
    30: the slow summary test)."""
    shallow = G.vanishing(2, seed=seed, epochs=3)
    deep = G.vanishing(6, seed=seed, epochs=6)
    assert shallow["plateau"] is not None and shallow["plateau"] <= 3
    assert deep["plateau"] is None
    assert min(deep["train_loss"]) > 0.99 * math.log(10)  # not just above the threshold: barely below chance


def test_plateau_and_factor_helpers():
    assert G.plateau_epochs([2.4, 2.2, 2.0, 1.0], 10) == 3  # first below 0.9 ln 10 = 2.072
    assert G.plateau_epochs([2.4, 2.3], 10) is None
    assert G.per_layer_factor([1.0, 2.0, 4.0, 8.0], range(1, 5)) == pytest.approx(2.0, rel=1e-12)
    assert G.per_layer_factor([1.0, 2.0], [1]) is None
    assert G.sigma_w2("glorot_uniform", 64) == pytest.approx(1.0, rel=1e-12)
    assert G.sigma_w2(OVERSCALED, 64) == pytest.approx(4.0, rel=1e-12)


# ------------------------------------------------------------------ c: exploding
@pytest.mark.parametrize("seed", SEEDS)
def test_overscaled_relu_explodes_he_does_not(seed):
    """Var(w) = 4/n_in, 10 hidden relu layers: |delta_l| grows by sqrt(chi_1) = sqrt(2) per layer towards the input
    (He: 1), the initial loss is > 10x He's, and SGD at lr 0.05 diverges within the first epoch (He does not). The
    weight gradients do not grow towards the input (|dW_1| < |dW_L|): the forward activations grow the other way."""
    r = G.run_exploding(seed=seed, epochs=1)["runs"]
    he, over = r["he_uniform"], r[OVERSCALED]
    assert over["delta_factor"] == pytest.approx(math.sqrt(2), rel=FACTOR_RTOL)
    assert he["delta_factor"] == pytest.approx(1.0, rel=FACTOR_RTOL)
    assert he["delta_factor"] != pytest.approx(math.sqrt(2), rel=FACTOR_RTOL)  # the check tells them apart
    assert over["delta_norms"][0] > 10 * over["delta_norms"][-2]
    assert over["initial_loss"] > 10 * he["initial_loss"]
    assert over["diverged_at"] is not None and he["diverged_at"] is None
    assert over["weight_grad_norms"][0] < over["weight_grad_norms"][-1]
    assert min(np.divide(over["weight_grad_norms"], he["weight_grad_norms"])) > 5


def test_delta_norms_are_the_per_row_error_signal():
    """The bias gradient of a one-row batch is that row's dJ/dh_l: check the last layer against softmax - onehot."""
    from sims.data import load_dataset
    from sims.train import MLP, cross_entropy

    d = load_dataset("digits", seed=0)
    m = MLP([64, 16, 10], "relu", "he_uniform", seed=0)
    x, y = d.x_train[:8], d.y_train[:8]
    rows = []
    for i in range(8):
        _, _, p = cross_entropy(m.logits(x[i:i + 1]), y[i:i + 1])
        p[0, y[i]] -= 1
        rows.append(np.linalg.norm(p))
    assert G.delta_norms(m, x, y)[-1] == pytest.approx(math.sqrt(np.mean(np.square(rows))), rel=1e-12)


# ------------------------------------------------------------------ d: symmetry
ROUNDING = 1e-12  # relative: BLAS may order the sums of identical rows differently (observed: exactly 0 or ~1e-16)


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_and_constant_init_units_stay_identical_he_units_do_not(seed):
    r = S.run(seed=seed, epochs=3)["runs"]
    for init in ("zeros", "constant:0.1"):
        assert r[init]["max_relative"] <= ROUNDING, init
        assert max(r[init]["weight_change"]) > 0.01, init  # they did train: symmetric, not frozen
    assert r["he_uniform"]["max_relative"] > 0.1  # negative control: the same check fails for a random init
    assert r["he_uniform"]["distinct"] == [32, 32]
    assert r["he_uniform"]["test_acc"] > max(r["zeros"]["test_acc"], r["constant:0.1"]["test_acc"]) + 0.3


def test_symmetry_check_sees_a_one_unit_perturbation():
    """Negative control for unit_differences: break one weight by 1e-6 and the check must report it."""
    m = S.make_model([64, 8, 8, 10], "sigmoid", "constant:0.1", seed=0)
    assert [d["distinct"] for d in S.unit_differences(m)] == [1, 1]
    m.W[0][3, 5] += 1e-6
    diffs = S.unit_differences(m)
    assert diffs[0]["distinct"] == 2 and diffs[0]["max_diff"] == pytest.approx(1e-6, rel=1e-6)
    assert diffs[1]["max_diff"] == 0
    with pytest.raises(SpecError):
        S.make_model([64, 8, 10], "sigmoid", "constant:x", seed=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_zero_init_is_exactly_frozen(seed):
    """relu(0) = 0 and relu'(0) = 0: every weight gradient is exactly 0 (no rounding involved), the weights stay
    exactly 0, and the net predicts the one class argmax b_L for every input."""
    f = S.frozen(seed=seed, epochs=2)
    assert f["max_abs_grad"] == 0.0 and f["max_abs_weight"] == 0.0 and f["hidden_bias_max"] == 0.0
    assert f["output_bias_norm"] > 0
    assert f["test_acc"] == f["constant_class_acc"]


# ------------------------------------------------------------------ g: early stopping
def test_early_stopping_is_the_patience_rule_on_the_full_curve():
    """Same seeds: the early-stopped history is a prefix of the full one (floats equal), the best epoch is the
    first minimum of the validation loss up to the stop, and the stop comes `patience` epochs after it."""
    c = E.curves(seed=0, hidden=(128,), lr=1e-2, epochs=40, patience=3)  # stops at 20 (best 17)
    assert c["stopped_epoch"] is not None
    n = c["stopped_epoch"]
    for k, v in c["stopped_history"].items():
        assert v == c["history"][k][:n], k
    vl = c["history"]["val_loss"][:n]
    assert c["best_epoch"] == int(np.argmin(vl)) + 1
    assert n == c["best_epoch"] + 3
    assert all(v >= vl[c["best_epoch"] - 1] for v in vl[c["best_epoch"]:])


def test_small_data_keeps_only_the_first_rows():
    d = E.small_data(0, n_train=50)
    assert d.x_train.shape == (50, 64) and d.y_val.shape[0] > 500
    with pytest.raises(SpecError):
        E.small_data(0, n_train=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_overparameterized_net_overfits_the_small_set(seed):
    """Defaults (256-256 on 200 digits, 150 epochs): training accuracy 1, a train-val gap, the validation loss above
    its minimum at the end, and early stopping at best + patience."""
    c = E.curves(seed=seed)
    assert c["history"]["train_acc"][-1] == 1.0
    assert c["gap_final"] > 0.03
    assert c["val_loss_final"] > c["val_loss_min"]
    assert c["stopped_epoch"] == c["best_epoch"] + c["patience"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_wider_nets_do_not_overfit_more_here(seed):
    """One hidden layer, 200 digits, 100 epochs: the widest net validates better than the narrowest and its
    train-val gap is smaller (the naive 'bigger overfits more' does not hold on this problem)."""
    rows = E.sizes((8, 512), seed=seed)["rows"]
    assert rows[512]["train_acc"] == 1.0
    assert rows[512]["val_acc"] > rows[8]["val_acc"]
    assert rows[512]["gap"] < rows[8]["gap"]


# ------------------------------------------------------------------ l: shuffling
@pytest.mark.parametrize("seed", SEEDS)
def test_class_sorted_without_shuffling_is_worse(seed):
    r = H.run(seed=seed, epochs=2)["runs"]
    # no batch norm: the first epoch ends on class 9 and the net is biased to it; the loss jumps at class boundaries
    assert r["sorted"]["val_acc"][0] < r["reshuffled"]["val_acc"][0] - 0.3
    assert r["sorted"]["step_std"][-1] > 2 * r["reshuffled"]["step_std"][-1]
    # batch norm on one-class batches removes the class: near chance after two epochs
    assert r["sorted+bn"]["val_acc"][-1] < r["reshuffled+bn"]["val_acc"][-1] - 0.3
    assert r["sorted+bn"]["step_std"][-1] > 2 * r["reshuffled+bn"]["step_std"][-1]
    # negative control: a random order fixed once is not worse by the same margins
    assert r["shuffled_once"]["val_acc"][0] > r["reshuffled"]["val_acc"][0] - 0.3
    assert r["shuffled_once+bn"]["val_acc"][-1] > r["reshuffled+bn"]["val_acc"][-1] - 0.3
    assert r["shuffled_once"]["step_std"][-1] < 2 * r["reshuffled"]["step_std"][-1]


def test_sorted_batches_come_in_class_order():
    r = H.train_order("sorted", batchnorm=False, seed=0, epochs=1)
    assert r["last_epoch_classes"] == sorted(r["last_epoch_classes"])
    assert set(r["last_epoch_classes"]) == set(range(10))
    assert H.train_order("reshuffled", batchnorm=False, seed=0, epochs=1)["last_epoch_classes"] is None
    with pytest.raises(SpecError):
        H.train_order("random", batchnorm=False)


@pytest.mark.slow
def test_over_seeds_summaries_at_defaults():
    """The headline numbers at the default sizes, over the default seeds (sims.experiments.common.SEEDS)."""
    from sims.experiments.common import SEEDS as DEFAULT_SEEDS

    g = G.over_seeds()
    assert g["vanishing"][10]["ratio_first"]["min"] > 1e5
    assert g["vanishing"][10]["plateau"]["never"] == DEFAULT_SEEDS and g["vanishing"][2]["plateau"]["max"] <= 3
    assert g["exploding"][OVERSCALED]["diverged_at"]["never"] == 0
    assert g["exploding"]["he_uniform"]["diverged_at"]["never"] == DEFAULT_SEEDS
    s = S.over_seeds()
    assert s["runs"]["zeros"]["max_distinct"] == 1 or s["runs"]["zeros"]["max_relative"]["max"] <= ROUNDING
    assert s["runs"]["he_uniform"]["test_acc"]["min"] > s["runs"]["zeros"]["test_acc"]["max"] + 0.3
    h = H.over_seeds()
    assert h["runs"]["sorted+bn"]["val_acc_final"]["max"] < h["runs"]["reshuffled+bn"]["val_acc_final"]["min"] - 0.3
