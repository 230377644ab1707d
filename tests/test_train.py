"""sims.train: gradients vs central differences (and vs torch autograd), optimizers vs their update formulas,
determinism, learning on digits, early stopping, and the `python -m sims train` contract."""
import json
import math
from functools import lru_cache

import numpy as np
import pytest
from optional import torch_or_skip

from sims.cli import main as sims_main
from sims.data import Dataset, load_dataset
from sims.train import MLP, SGD, Adam, Momentum, gradient_check, gradient_check_tolerance, train
from theory.errors import SpecError


@lru_cache(maxsize=1)
def digits():
    return load_dataset("digits")


def _xy(rows=16):
    d = digits()
    return d.x_train[:rows], d.y_train[:rows]


# ------------------------------------------------------------------ gradient checks
# Tolerance (sims.train.gradient_check_tolerance): |D(eps) - g.v| <= eps^2 S + 4 (L + 1) u S / eps with S the loss
# scale; at eps = 1e-6 this is ~2e-8 against directional derivatives of 1e-4..1e-1 (rtol ~1e-6, as STYLE.md asks).
FEATURES = {"plain": {}, "l1_l2": {"l1": 1e-3, "l2": 1e-3}, "batchnorm": {"batchnorm": True},
            "dropout": {"dropout_keep": 0.8}, "skip": {"skip": True},
            "all": {"batchnorm": True, "dropout_keep": 0.7, "skip": True, "l1": 1e-3, "l2": 1e-2}}
INIT = {"relu": "he_uniform", "tanh": "glorot_normal", "sigmoid": "glorot_uniform", "elu": "he_normal"}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu"])
@pytest.mark.parametrize("feature", list(FEATURES))
def test_gradient_matches_central_differences(activation, feature):
    model = MLP([64, 20, 20, 10], activation, INIT[activation], seed=3, **FEATURES[feature])
    x, y = _xy()
    res = gradient_check(model, x, y, eps=1e-6, n_directions=5, rng=np.random.default_rng(7))
    assert res["ok"], (res["error"], res["tolerance"])
    # the check has power: every directional derivative is far above the tolerance
    assert np.abs(res["analytic"]).min() > 1e3 * res["tolerance"]


def test_gradient_check_restores_the_model():
    model = MLP([64, 12, 12, 10], "tanh", "glorot_uniform", batchnorm=True, dropout_keep=0.8, seed=1)
    before = model.state()
    gradient_check(model, *_xy(), rng=np.random.default_rng(0))
    after = model.state()
    for a, b in zip(before["params"] + [s for t in before["bn"] for s in t[:2]],
                    after["params"] + [s for t in after["bn"] for s in t[:2]]):
        assert np.array_equal(a, b)


def test_negative_control_wrong_derivative_fails():
    """phi' off by 1 % (a plausible bug) must fail the same check at the same tolerance."""
    model = MLP([64, 20, 20, 10], "tanh", "glorot_normal", seed=3)
    good = model.kernel
    model.kernel = type(good)(good.activation, good.f, lambda v: 1.01 * good.df(v), good.stable)
    res = gradient_check(model, *_xy(), rng=np.random.default_rng(7))
    assert not res["ok"] and res["max_ratio"] > 100


def test_negative_control_batchnorm_without_the_statistics_path_fails(monkeypatch):
    """Backpropagating through BN as if mu and sigma were constants (the eval-mode map) must be caught."""
    from sims.batchnorm import BatchNorm

    model = MLP([64, 20, 20, 10], "relu", "he_uniform", batchnorm=True, seed=3)
    original = BatchNorm.backward

    def no_statistics(self, dy):
        dx, dgamma, dbeta = original(self, dy)
        _, _, _, inv_std = self._cache
        return self.gamma * inv_std * dy, dgamma, dbeta

    monkeypatch.setattr(BatchNorm, "backward", no_statistics)
    assert not gradient_check(model, *_xy(), rng=np.random.default_rng(7))["ok"]


def test_negative_control_fresh_dropout_masks_fail():
    """Why the mask is fixed: a central difference over two different masks is not a derivative at all."""
    model = MLP([64, 20, 20, 10], "relu", "he_uniform", dropout_keep=0.8, seed=3)
    x, y = _xy()
    seeds = np.random.SeedSequence(5).spawn(3)
    _, grads = model.loss_and_grads(x, y, rng=np.random.default_rng(seeds[0]))
    v = [np.random.default_rng(1).standard_normal(p.shape) for p in model.params]
    norm = math.sqrt(sum(float(np.vdot(d, d)) for d in v))
    analytic = sum(float(np.vdot(g, d)) for g, d in zip(grads, v)) / norm
    eps = 1e-6
    state = model.state()
    values = []
    for sign, s in ((1, seeds[1]), (-1, seeds[2])):
        for p, p0, d in zip(model.params, state["params"], v):
            np.copyto(p, p0 + sign * eps * d / norm)
        values.append(model.loss(x, y, train=True, rng=np.random.default_rng(s)))
    model.load_state(state)
    numeric = (values[0] - values[1]) / (2 * eps)
    assert abs(numeric - analytic) > 1e3 * gradient_check_tolerance(3.0, eps, model.n_layers)


@pytest.mark.crosscheck
def test_gradient_matches_torch_autograd():
    """An independent oracle: the same network (BN, fixed dropout mask, skip, L1 + L2) in float64 torch autograd."""
    torch = torch_or_skip()
    F = torch.nn.functional
    model = MLP([64, 16, 16, 10], "elu", "he_normal", batchnorm=True, dropout_keep=0.75, skip=True, l1=1e-3,
                l2=1e-2, seed=2)
    for bn in model.bn:  # non-trivial gamma, beta
        bn.gamma += np.linspace(-0.3, 0.3, bn.num_features)
        bn.beta += np.linspace(0.2, -0.1, bn.num_features)
    x, y = _xy(24)
    loss, grads = model.loss_and_grads(x, y, rng=np.random.default_rng(0))
    masks = [torch.tensor(d.mask) for d in model.dropout]
    P = [torch.tensor(p, requires_grad=True) for p in model.params]
    a = torch.tensor(x)
    k = 0
    for i in range(model.n_layers - 1):
        W, b, gamma, beta = P[k:k + 4]
        k += 4
        h = a @ W.T + b
        u = F.batch_norm(h, None, None, gamma, beta, training=True, eps=1e-5)
        d = torch.where(masks[i], F.elu(u) / 0.75, torch.zeros_like(u))
        a = a + d if model.skips[i] else d
    logits = a @ P[k].T + P[k + 1]
    Ws = [P[j] for j in model.weight_index]
    J = F.cross_entropy(logits, torch.tensor(y)) + sum(1e-3 * w.abs().sum() + 1e-2 * (w * w).sum() for w in Ws)
    J.backward()
    assert model.skips == [False, True]
    assert loss == pytest.approx(J.item(), rel=1e-12)
    for name, g, p in zip(model.param_names, grads, P):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


# ------------------------------------------------------------------ optimizers
A = np.array([[3.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -2.0])


def _quadratic_grad(theta):
    """f(theta) = theta^T A theta / 2 - B . theta, grad = A theta - B."""
    return A @ theta - B


def _run(opt, steps=4):
    theta = np.array([2.0, -1.0])
    path = []
    for _ in range(steps):
        opt.step([theta], [_quadratic_grad(theta)])
        path.append(theta.copy())
    return np.array(path)


def test_sgd_step_formula():
    lr, theta, path = 0.1, np.array([2.0, -1.0]), []
    for _ in range(4):
        theta = theta - lr * _quadratic_grad(theta)
        path.append(theta)
    np.testing.assert_allclose(_run(SGD(lr)), path, rtol=1e-15)


def test_momentum_step_formula():
    lr, mu, theta, v, path = 0.1, 0.9, np.array([2.0, -1.0]), np.zeros(2), []
    for _ in range(4):
        v = mu * v - lr * _quadratic_grad(theta)
        theta = theta + v
        path.append(theta)
    np.testing.assert_allclose(_run(Momentum(lr)), path, rtol=1e-14)


def test_adam_step_formula():
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    theta, m, v, path = np.array([2.0, -1.0]), np.zeros(2), np.zeros(2), []
    for t in range(1, 5):
        g = _quadratic_grad(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        path.append(theta)
    np.testing.assert_allclose(_run(Adam(lr)), path, rtol=1e-14)
    # first step of Adam moves every coordinate by lr (m_hat / sqrt(v_hat) = sign g, up to eps)
    np.testing.assert_allclose(np.abs(path[0] - [2.0, -1.0]), lr, rtol=1e-6)


@pytest.mark.crosscheck
@pytest.mark.parametrize("ours, theirs", [("sgd", "SGD"), ("momentum", "SGD_momentum"), ("adam", "Adam")])
def test_optimizers_match_torch(ours, theirs):
    torch = torch_or_skip()
    lr = 0.05
    t = torch.tensor([2.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = {"SGD": lambda: torch.optim.SGD([t], lr=lr), "SGD_momentum": lambda: torch.optim.SGD([t], lr=lr, momentum=0.9),
           "Adam": lambda: torch.optim.Adam([t], lr=lr, betas=(0.9, 0.999), eps=1e-8)}[theirs]()
    path = []
    for _ in range(4):
        opt.zero_grad()
        t.grad = torch.tensor(_quadratic_grad(t.detach().numpy()))
        opt.step()
        path.append(t.detach().numpy().copy())
    mine = _run({"sgd": SGD, "momentum": Momentum, "adam": Adam}[ours](lr))
    np.testing.assert_allclose(mine, path, rtol=1e-13)


# ------------------------------------------------------------------ training runs
def _small(seed=0, **kw):
    return MLP([64, 32, 32, 10], "relu", "he_uniform", seed=seed, **kw)


def test_same_seed_same_history_different_seed_differs():
    kw = {"batchnorm": True, "dropout_keep": 0.8}
    runs = [train(_small(seed=s, **kw), digits(), lr=1e-2, epochs=2, seed=s, record_steps=True,
                  record_units=[(1, 0), (3, 2)]) for s in (0, 0, 1)]
    for r in runs:
        r.pop("seconds")
    assert runs[0] == runs[1]  # floats equal, every step
    assert runs[0]["history"] != runs[2]["history"]
    assert len(runs[0]["steps"]) == 2 * math.ceil(len(digits().y_train) / 64)
    assert len(runs[0]["steps"][0]["units"]) == 2 and len(runs[0]["steps"][0]["grad_norms"]) == 3


def test_training_learns_digits():
    """Digits are almost linearly separable (a linear classifier reaches ~0.96), so 5 epochs of a small net should
    give val_acc near 0.95; 0.8 lies ~9 standard errors below that (SE of an accuracy near 0.95 on 179 validation
    images: sqrt(0.95 * 0.05 / 179) = 0.016) and far above chance 0.1, where a wrong gradient sign would leave it."""
    res = train(_small(), digits(), lr=1e-2, epochs=5)
    h = res["history"]
    assert h[-1]["train_loss"] < 0.5 * h[0]["train_loss"]
    assert h[-1]["val_loss"] < h[0]["val_loss"] < math.log(10)
    assert h[-1]["val_acc"] > 0.8 and res["test_acc"] > 0.8
    assert all(len(e["grad_norms"]) == 3 and min(e["grad_norms"]) > 0 for e in h)


def _overfit_data():
    """Random labels on Gaussian inputs: nothing to generalize, so the validation loss rises as soon as the net
    memorizes its 40 training rows."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((440, 20))
    y = rng.integers(0, 4, 440)
    return Dataset(x[:40], y[:40], x[40:240], y[40:240], x[240:], y[240:], n_classes=4, name="noise")


def test_early_stopping_stops_and_restores_the_best_weights():
    data = _overfit_data()

    def model():
        return MLP([20, 64, 64, 4], "tanh", "glorot_uniform", seed=0)

    m = model()
    res = train(m, data, lr=1e-2, batch=8, epochs=100, early_stopping=3)
    h, best = res["history"], res["best_epoch"]
    assert res["stopped_epoch"] == len(h) == best + 3 < 100
    val = [e["val_loss"] for e in h]
    assert val[best - 1] == min(val) and val[-1] > val[best - 1]
    # the restored weights are exactly those after `best` epochs of the same run (deterministic)
    m_best = model()
    plain = train(m_best, data, lr=1e-2, batch=8, epochs=best)
    for a, b in zip(m.params, m_best.params):
        assert np.array_equal(a, b)
    assert res["test_acc"] == plain["test_acc"]
    assert m.evaluate(data.x_val, data.y_val)[0] == val[best - 1]


def test_unit_percentiles_leave_training_unchanged():
    kw = {"batchnorm": True}
    a = train(_small(**kw), digits(), epochs=1, record_steps=True, record_units=[(2, 5)])
    b = train(_small(**kw), digits(), epochs=1)
    assert a["history"] == b["history"]
    p = np.array([s["units"][0] for s in a["steps"]])
    assert (p[:, 0] <= p[:, 1]).all() and (p[:, 1] <= p[:, 2]).all()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_masked_weights_stay_zero_and_the_rest_trains(optimizer):
    m = _small()
    rng = np.random.default_rng(5)
    masks = [(rng.random(w.shape) < 0.5).astype(float) for w in m.W]
    m.set_masks(masks)
    before = [w.copy() for w in m.W]
    train(m, digits(), optimizer=optimizer, lr=1e-2, epochs=1)
    for w, w0, mk in zip(m.W, before, masks):
        assert (w[mk == 0] == 0).all()
        assert (w[mk == 1] != w0[mk == 1]).mean() > 0.5  # the kept weights moved
    # negative control: without masks the same zeros do not stay zero
    m2 = _small()
    for w, mk in zip(m2.W, masks):
        w *= mk
    train(m2, digits(), optimizer=optimizer, lr=1e-2, epochs=1)
    assert all((w[mk == 0] != 0).mean() > 0.5 for w, mk in zip(m2.W, masks))
    with pytest.raises(SpecError, match="masks"):
        m.set_masks(masks[:1])
    with pytest.raises(SpecError, match="0/1"):
        m.set_masks([mk * 2 for mk in masks])


def test_bad_arguments_raise_spec_error():
    with pytest.raises(SpecError, match="KEEP"):
        MLP([4, 3, 2], "relu", "he_uniform", dropout_keep=0.0)
    with pytest.raises(SpecError, match="unknown activation"):
        MLP([4, 3, 2], "rellu", "he_uniform")
    with pytest.raises(SpecError, match="unknown optimizer"):
        train(_small(), digits(), optimizer="rmsprop")
    with pytest.raises(SpecError, match="Generator"):
        _small(dropout_keep=0.5).loss_and_grads(*_xy())


# ------------------------------------------------------------------ CLI
BASE = ["train", "--dataset", "digits", "--depth", "1", "--width", "16", "--activation", "tanh", "--init",
        "glorot_uniform", "--epochs", "2"]


def test_cli_json_contract(capsys):
    assert sims_main(BASE + ["--batchnorm", "--dropout-keep", "0.9", "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert err == "" and {"config", "history", "test_acc"} <= set(doc)
    assert len(doc["history"]) == 2 and 0 <= doc["test_acc"] <= 1
    assert {"epoch", "train_loss", "val_loss", "val_acc"} <= set(doc["history"][0])
    assert doc["config"]["optimizer"] == "adam" and doc["config"]["lr"] == 1e-3 and doc["config"]["batch"] == 64
    assert doc["config"]["dropout_keep"] == 0.9 and doc["config"]["sizes"] == [64, 16, 10]


def test_cli_early_stopping_fields(capsys):
    assert sims_main(BASE + ["--early-stopping", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["best_epoch"] in (1, 2)


@pytest.mark.parametrize("argv, needle", [
    (["--activation", "rellu"], "did you mean 'relu'"), (["--init", "he_unifrom"], "did you mean"),
    (["--dropout-keep", "0"], "keep probability"), (["--dropout-keep", "1.5"], "keep probability"),
    (["--lr", "0"], "--lr"), (["--lr", "nan"], "--lr"), (["--batch", "0"], "--batch"), (["--epochs", "0"], "--epochs"),
    (["--width", "0"], "--width"), (["--depth", "0"], "--depth"), (["--dataset", "mnist:/nonexistent/dir"], "mnist"),
    (["--dataset", "cifar"], "unknown data set"), (["--optimizer", "rmsprop"], "invalid choice"),
])
def test_cli_bad_input(argv, needle, capsys):
    base = dict(zip(BASE[1::2], BASE[2::2]))
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    assert sims_main(["train"] + [x for kv in base.items() for x in kv] + ["--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and needle in captured.err, captured.err


@pytest.mark.parametrize("batchnorm", [False, True])
def test_divergence_is_reported_not_raised(batchnorm, capsys):
    argv = ["train", "--dataset", "digits", "--depth", "3", "--width", "64", "--activation", "relu", "--init",
            "he_uniform", "--optimizer", "sgd", "--lr", "1e300", "--epochs", "3", "--json"]
    assert sims_main(argv + (["--batchnorm"] if batchnorm else [])) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert isinstance(doc["diverged_at"], int) and "NaN" not in out and "Infinity" not in out


def test_an_mlp_from_a_network_config_is_the_same_network():
    """MLP.from_config maps the engine's config onto the trainer: the same sizes, activation, init, batch norm and
    dropout, and bit-identical weights to the MLP built by hand; a config with biases is refused."""
    from theory.config import NetworkConfig

    cfg = NetworkConfig("tanh", "glorot_uniform", width=(16, 12), depth=2, input_dim=8, batchnorm=True,
                        dropout_keep=0.8)
    a = MLP.from_config(cfg, 3, seed=4)
    b = MLP([8, 16, 12, 3], "tanh", "glorot_uniform", batchnorm=True, dropout_keep=0.8, seed=4)
    assert a.sizes == b.sizes == [8, 16, 12, 3] and a.batchnorm and a.dropout_keep == 0.8
    assert all(np.array_equal(x, y) for x, y in zip(a.params, b.params))
    assert not all(np.array_equal(x, y) for x, y in zip(a.params, MLP.from_config(cfg, 3, seed=5).params))
    with pytest.raises(SpecError, match="bias"):
        MLP.from_config(NetworkConfig("tanh", "glorot_uniform", width=4, depth=2, bias_var=0.1), 3)
