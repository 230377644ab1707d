"""Experiment j, the «Предобучение» slide, both forms against training from scratch.

The slide: «Обучаем каждый нейрон на рандомной подвыборке, каждый нейрон впитает какие-то отдельные её особенности,
после скрепляем все нейроны вместе и продолжаем обучение на всей выборке. На будущее: обучаем на корпусе картинок
автокодировщик, encoder благодаря этому учится выделять наиболее важные фичи, которые позволяют эффективно сжимать
изображения. После срезаем decoder и на его месте достраиваем слои для решения нашей задачи, запускаем обычное
дообучение.» (train each neuron on a random subsample, each absorbs its own features of it; then join the neurons and
go on training on the whole set. For the future: train an autoencoder on a corpus of images, its encoder learns the
features that compress the images well; cut the decoder off, build the layers for our task in its place, fine-tune.)

The classifier is 64-H-10 (H = 32, tanh, glorot_uniform, Adam lr 1e-3, batch 32) on the standardized digits, in two
settings: ``full`` (all 1,259 training rows labelled, 20 fine-tuning epochs = 800 Adam steps) and ``few`` (only the
first 100 training rows labelled, a random subset since the split is in random order; 200 epochs = the same 800
steps, by which the training loss is 0.02-0.04 in both arms: measured, scratch on 100 labels is still improving at 100
epochs, so a shorter budget would mostly measure faster convergence). Validation (179 rows) and test (359 rows,
1 row = 0.0028 accuracy) are the same in both settings; no early stopping, the fine-tuning budget is fixed.

* ``scratch``: the classifier from ``MLP(seed=model_seed)``.
* ``units`` (form 1): hidden unit k is first trained alone, as a 64-1-10 net with its own init, on its own random
  subsample (``unit_fraction`` = 0.3 of the labelled rows, without replacement) for ``unit_epochs`` = 20 at
  ``unit_lr`` = 1e-2 (measured, one unit of seed 0 on the full set: its validation loss levels off there, 1.89 at 20
  epochs against its minimum 1.87 near 40). Joining copies each unit's incoming weights and bias into row k of the
  64-H layer exactly. The output layer (``head``): ``"average"`` puts unit k's 10 output weights, divided by H, into
  column k and the mean of the H output biases as the bias, so the joined net's logits are EXACTLY the mean of the H
  one-unit nets' logits (an ensemble average: the joined net starts from what the units learned, not from a random
  head that must first learn to read them). ``"fresh"`` keeps the scratch net's output layer (same model seed), so
  that arm differs from ``scratch`` in the first layer only. ``"average"`` is the default: measured, with a fresh
  head the pretrained units start BEHIND scratch (full labels: validation accuracy after epoch 1 lower for 4 of 5
  seeds, median -0.20): the units come out saturated (below) and a random head reads them badly.
* ``autoencoder`` (form 2): a 64-H-64 autoencoder, encoder tanh (as the classifier), linear decoder, loss the mean
  squared reconstruction error per entry, J = mean_ij (xhat_ij - x_ij)^2, trained by Adam (lr 3e-3, batch 32, 100
  epochs; lr 1e-2 was noisier and ended higher) on ALL training features (labels unused: in the ``few`` setting it
  sees 12.6x more rows than the classifier has labels, the setting pretraining is meant for). Its forward/backward
  is written out here (:class:`Autoencoder`; :func:`autoencoder_gradient_check` compares it with central
  differences). Cut the decoder, copy the encoder into the first layer of the scratch net (same model seed: the
  output layer is the scratch net's fresh one), fine-tune everything with :func:`sims.train.train`. As a check that
  the autoencoder learned to compress, its validation MSE is reported next to that of the best rank-H linear
  reconstruction (:func:`pca_mse`, PCA fitted on the training features: the optimum of a linear autoencoder).

All arms of one setting share the data split and the fine-tuning batch order (``train_seed``), so the differences
pretrained - scratch are paired. Pretraining streams (unit inits, subsamples and batch orders, the autoencoder's
init and batch order) are children of the seed's model / train seeds, independent of the scratch net's streams.
:func:`flat_fraction` (share of hidden (row, unit) pairs with phi' < 0.1) before fine-tuning shows the state the
pretraining leaves the first layer in.

Cost, in multiply-adds (deterministic): one training step on one row of a dense net costs 3 x its forward
multiply-adds sum_l n_{l-1} n_l (forward, plus a backward of about twice the forward: input and weight gradients; the
usual "6N flops per example" convention), and an epoch costs that times the rows. Pretraining cost is counted the
same way (validation passes not counted). ``scratch_equal_cost`` is the scratch net trained for the fine-tuning
epochs plus ceil(pretraining cost / cost of one fine-tuning epoch), the comparison at equal total cost (units: +7
epochs full, +6 few; autoencoder: +173 full, +2,178 few).

Measured at these defaults, seeds 0..4 (median (min..max) of the paired difference pretrained - scratch):
  * form 1, units. Early advantage, huge: before any fine-tuning the joined net is already an ensemble with validation
    accuracy 0.92 (0.88..0.94) (full) / 0.55 (0.40..0.57) (few), and after epoch 1 it leads scratch by +0.41
    (+0.26..+0.46) / +0.47 (+0.30..+0.50). After the budget it does not help: test +0.006 (-0.006..+0.014) full,
    -0.011 (-0.025..+0.011) few. The units come out saturated: 68% of the joined layer's (row, unit) pairs have
    |tanh| > 0.95 against 8% at init (one tanh unit that must separate 10 classes pushes its input to the tails).
  * form 2, autoencoder (val MSE 0.12 (0.10..0.19), PCA-32 0.10). Full labels: after epoch 1 +0.25 (+0.11..+0.32),
    test after the budget +0.006 (-0.003..+0.017), and at equal cost scratch is better for every seed, -0.008
    (-0.017..-0.003). Few labels: test +0.006 (+0.003..+0.031), final validation +0.017 (+0.011..+0.028), positive
    for every seed but small (1 to 11 test rows); at equal cost it is a wash, +0.003 (-0.006..+0.006) (scratch
    trained ~12x longer on the 100 labels catches up).
So on digits with all rows labelled neither form buys final accuracy, and at equal compute scratch is as good or
better (the slide itself files the autoencoder under «На будущее», for large unlabelled corpora). What is robust is the
early advantage of both forms, and the autoencoder's small gain when labels are few and unlabelled rows are many.
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from sims.activations import kernel
from sims.data import batches, load_dataset
from sims.experiments.common import SEEDS, blas_single_thread, check_runs, seed_list, seeds_of, spread
from sims.init import sample_weights
from sims.train import MLP, directional_derivatives, make_optimizer, train
from theory.activations import get_activation
from theory import validate
from theory.errors import SpecError
from theory.init import get_init

__all__ = ["CONFIG", "SETTINGS", "FORMS", "HEADS", "HEADLINE", "PER_ARM", "Autoencoder", "autoencoder_gradient_check",
           "train_autoencoder", "pca_mse", "pretrain_units", "join_units", "flat_fraction", "encoder_classifier",
           "training_macs", "labelled", "run", "over_seeds"]

CONFIG = {
    "hidden": 32, "activation": "tanh", "init": "glorot_uniform",
    # fine-tuning (and scratch): Adam, batch 32; epochs per setting
    "optimizer": "adam", "lr": 1e-3, "batch": 32, "epochs": 20, "few_labels": 100, "few_epochs": 200,
    # form 1: one-unit nets 64-1-10 on random subsamples of the labelled rows
    "unit_fraction": 0.3, "unit_epochs": 20, "unit_lr": 1e-2, "head": "average",
    # form 2: autoencoder 64-H-64 on all training features
    "ae_epochs": 100, "ae_lr": 3e-3, "ae_batch": 32,
    # also train the scratch net for the pretraining's cost in extra epochs (the comparison at equal total cost)
    "equal_cost": True,
}
SETTINGS = ("full", "few")
FORMS = ("units", "autoencoder")
HEADS = ("average", "fresh")


# ------------------------------------------------------------------ validation
def _config(overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(CONFIG))
    if unknown:
        raise SpecError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(CONFIG)}")
    cfg = {**CONFIG, **overrides}
    for k in ("hidden", "batch", "epochs", "few_labels", "few_epochs", "unit_epochs", "ae_batch"):
        cfg[k] = validate.integer(k, cfg[k], 1)
    cfg["ae_epochs"] = validate.integer("ae_epochs", cfg["ae_epochs"], 0)  # 0: an untrained encoder (a control)
    for k in ("lr", "unit_lr", "ae_lr"):
        cfg[k] = validate.real(k, cfg[k], 0.0, lo_open=True)
    cfg["unit_fraction"] = validate.real("unit_fraction", cfg["unit_fraction"], 0.0, 1.0, lo_open=True)
    if cfg["head"] not in HEADS:
        raise SpecError(f"head must be one of {', '.join(HEADS)} (got {cfg['head']!r})")
    if not isinstance(cfg["equal_cost"], (bool, np.bool_)):
        raise SpecError(f"equal_cost must be a bool (got {cfg['equal_cost']!r})")
    cfg["equal_cost"] = bool(cfg["equal_cost"])
    get_activation(cfg["activation"])  # SpecError for an unknown activation
    get_init(cfg["init"])
    make_optimizer(cfg["optimizer"], cfg["lr"])
    return cfg


def _child_seeds(seed: int, n: int) -> list[int]:
    """n independent integer seeds, children of SeedSequence(seed) (independent of default_rng(seed)'s stream)."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(int(seed)).spawn(n)]


# ------------------------------------------------------------------ cost
def training_macs(sizes, rows: int) -> int:
    """Multiply-adds of training a dense net of ``sizes`` on ``rows`` row-passes: 3 rows sum_l n_{l-1} n_l (forward
    plus a backward of twice the forward)."""
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2 or not all(validate.is_integer(n) and n >= 1 for n in sizes):
        raise SpecError(f"sizes must be a list of >= 2 integers >= 1 (got {sizes!r})")
    rows = validate.integer("rows", rows, 0)
    return 3 * rows * sum(int(a) * int(b) for a, b in zip(sizes[:-1], sizes[1:]))


# ------------------------------------------------------------------ autoencoder
class Autoencoder:
    """x (m, d) -> h = x W1^T + b1, z = phi(h), xhat = z W2^T + b2;  J = mean_ij (xhat_ij - x_ij)^2.

    Backward: dJ/dxhat = 2 (xhat - x) / (m d); dW2 = dxhat^T z, db2 = sum_i dxhat; dz = dxhat W2;
    dh = dz * phi'(h); dW1 = dh^T x, db1 = sum_i dh. Weights (n_out, n_in) from :func:`sims.init.sample_weights`
    of ``init`` (encoder fans (d, H), decoder (H, d)), biases 0, from ``numpy.random.default_rng(seed)``.
    ``params`` = [W1, b1, W2, b2], updated in place by the optimizers of :mod:`sims.train`. ``kernel`` (phi, phi')
    is an attribute so that a test can swap in a wrong derivative (the gradient check must then fail).
    """

    def __init__(self, n_in: int, n_hidden: int, activation: str = "tanh", init: str = "glorot_uniform", *,
                 seed: int = 0):
        self.n_in = validate.integer("n_in", n_in, 1)
        self.n_hidden = validate.integer("n_hidden", n_hidden, 1)
        self.activation = get_activation(activation)
        self.kernel = kernel(self.activation)
        scheme = get_init(init)
        rng = np.random.default_rng(validate.integer("seed", seed, 0))
        w1 = np.array(sample_weights(scheme, self.n_in, self.n_hidden, rng, np.float64), dtype=np.float64)
        w2 = np.array(sample_weights(scheme, self.n_hidden, self.n_in, rng, np.float64), dtype=np.float64)
        self.params = [w1, np.zeros(self.n_hidden), w2, np.zeros(self.n_in)]

    def _x(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_in or x.shape[0] < 1:
            raise SpecError(f"x must have shape (rows >= 1, {self.n_in}), got {x.shape}")
        return x

    def encode(self, x) -> np.ndarray:
        """z = phi(x W1^T + b1), shape (rows, n_hidden); x of shape (rows >= 1, n_in), else SpecError."""
        w1, b1, _, _ = self.params
        return self.kernel.f(self._x(x) @ w1.T + b1)

    def reconstruct(self, x) -> np.ndarray:
        """xhat = encode(x) W2^T + b2, the shape of x."""
        _, _, w2, b2 = self.params
        return self.encode(x) @ w2.T + b2

    def loss(self, x) -> float:
        """J = mean_ij (xhat_ij - x_ij)^2, a float."""
        x = self._x(x)
        r = self.reconstruct(x) - x
        return float(np.mean(r * r))

    def loss_and_grads(self, x) -> tuple[float, list[np.ndarray]]:
        """(J, [dJ/dW1, dJ/db1, dJ/dW2, dJ/db2]) by the backward pass of the class docstring, in the order of
        ``params``."""
        x = self._x(x)
        w1, b1, w2, b2 = self.params
        h = x @ w1.T + b1
        z = self.kernel.f(h)
        r = z @ w2.T + b2 - x
        dx = (2.0 / r.size) * r
        dz = dx @ w2
        dh = dz * self.kernel.df(h)
        return float(np.mean(r * r)), [dh.T @ x, dh.sum(axis=0), dx.T @ z, dx.sum(axis=0)]


def autoencoder_gradient_check(ae: Autoencoder, x, rng: np.random.Generator, *, eps: float = 1e-6,
                               n_directions: int = 5) -> dict:
    """Analytic directional derivatives g.v against central differences (J(p + eps v) - J(p - eps v)) / 2 eps along
    ``n_directions`` random unit vectors v of the whole parameter space. Returns ``analytic``, ``numeric`` and
    ``rel_error`` = |numeric - analytic| / |analytic| per direction (lists). The parameters are restored."""
    validate.generator(rng, "autoencoder_gradient_check")
    n_directions = validate.integer("n_directions", n_directions, 1)
    eps = validate.real("eps", eps, 0.0, lo_open=True)
    x = ae._x(x)
    _, grads = ae.loss_and_grads(x)
    a, n = directional_derivatives(ae.params, grads, lambda: ae.loss(x), rng, eps=eps, n_directions=n_directions)
    return {"analytic": a.tolist(), "numeric": n.tolist(), "rel_error": (np.abs(n - a) / np.abs(a)).tolist()}


def train_autoencoder(ae: Autoencoder, x, *, optimizer: str = "adam", lr: float = 1e-2, batch: int = 32,
                      epochs: int = 30, seed: int = 0, x_val=None) -> dict:
    """Minibatch training of ``ae`` in place on the rows of ``x`` (a fresh permutation each epoch from
    ``default_rng(seed)``). Returns per epoch ``train_mse`` (mean of the minibatch losses, row-weighted, before each
    step) and ``val_mse`` (on ``x_val`` after the epoch, if given), and ``val_mse_start`` (before training)."""
    x = ae._x(x)
    x_val = None if x_val is None else ae._x(x_val)
    opt = make_optimizer(optimizer, lr)
    batch = validate.integer("batch", batch, 1)
    epochs = validate.integer("epochs", epochs, 0)
    rng = np.random.default_rng(validate.integer("seed", seed, 0))
    out = {"train_mse": [], "val_mse": [], "val_mse_start": None if x_val is None else ae.loss(x_val)}
    for _ in range(epochs):
        total = 0.0
        for idx in batches(x.shape[0], batch, rng):
            loss, grads = ae.loss_and_grads(x[idx])
            if not (math.isfinite(loss) and all(np.isfinite(g).all() for g in grads)):
                raise SpecError(f"autoencoder training diverged (lr={lr})")
            opt.step(ae.params, grads)
            total += loss * len(idx)
        out["train_mse"].append(total / x.shape[0])
        if x_val is not None:
            out["val_mse"].append(ae.loss(x_val))
    return out


def pca_mse(x_fit, x_eval, rank: int) -> float:
    """Mean squared error per entry of the best rank-``rank`` linear reconstruction of ``x_eval``: project onto the
    top principal directions of ``x_fit`` (centred by its mean). The optimum of a linear autoencoder of width
    ``rank`` (Baldi & Hornik 1989), the reference for what H units can keep."""
    x_fit, x_eval = np.asarray(x_fit, dtype=np.float64), np.asarray(x_eval, dtype=np.float64)
    rank = validate.integer("rank", rank, 1)
    mean = x_fit.mean(axis=0)
    with blas_single_thread():  # a threaded SVD of this 1,259 x 64 matrix took 1.4 s on the loaded 2-core machine
        _, _, vt = np.linalg.svd(x_fit - mean, full_matrices=False)
        v = vt[:rank]
        c = x_eval - mean
        r = c - (c @ v.T) @ v
    return float(np.mean(r * r))


# ------------------------------------------------------------------ form 1: units on subsamples
def pretrain_units(data, *, model_seed: int, train_seed: int, **overrides) -> list[dict]:
    """One 64-1-10 net per hidden unit k (``hidden`` of them; settings from :data:`CONFIG` and ``overrides``), each
    with its own init seed (child k of a child of SeedSequence(model_seed)) on its own random subsample of the
    labelled rows of ``data`` (size round(unit_fraction n), at least 1, without replacement), trained by
    ``optimizer`` at ``unit_lr`` for ``unit_epochs`` with batch ``batch``. Returns per unit ``model`` and ``rows``
    (the subsample's row indices, sorted)."""
    cfg = _config(overrides)
    model_seed, train_seed = validate.integer("model_seed", model_seed, 0), validate.integer("train_seed", train_seed, 0)
    n = data.y_train.shape[0]
    m = max(1, int(round(cfg["unit_fraction"] * n)))
    h = cfg["hidden"]
    init_seeds = _child_seeds(_child_seeds(model_seed, 2)[0], h)
    order_seeds = _child_seeds(_child_seeds(train_seed, 2)[0], h)
    units = []
    for k in range(h):
        sub_seed, fit_seed = _child_seeds(order_seeds[k], 2)
        rows = np.sort(np.random.default_rng(sub_seed).choice(n, size=m, replace=False))
        sub = dataclasses.replace(data, x_train=data.x_train[rows], y_train=data.y_train[rows])
        net = MLP([data.n_features, 1, data.n_classes], cfg["activation"], cfg["init"], seed=init_seeds[k])
        r = train(net, sub, optimizer=cfg["optimizer"], lr=cfg["unit_lr"], batch=cfg["batch"],
                  epochs=cfg["unit_epochs"], seed=fit_seed, grad_norms=False)
        if r["diverged_at"] is not None:
            raise SpecError(f"unit {k} diverged at step {r['diverged_at']} (unit_lr={cfg['unit_lr']})")
        units.append({"model": net, "rows": rows})
    return units


def join_units(nets, base: MLP, head: str = "average") -> MLP:
    """Write the one-unit nets into ``base`` (64-H-10, H = len(nets)) in place and return it: row k of W1 and b1[k]
    are net k's unit exactly; ``head`` "average": column k of W2 = net k's output weights / H and b2 = the mean of the
    nets' output biases (the joined logits are the mean of the nets' logits); "fresh": base's output layer kept."""
    if head not in HEADS:
        raise SpecError(f"head must be one of {', '.join(HEADS)} (got {head!r})")
    nets = list(nets)
    if base.n_layers != 2 or base.sizes[1] != len(nets) or base.batchnorm:
        raise SpecError(f"base must be a plain one-hidden-layer net with {len(nets)} units (got sizes {base.sizes})")
    for k, net in enumerate(nets):
        if net.sizes != [base.sizes[0], 1, base.sizes[2]] or net.batchnorm:
            raise SpecError(f"unit net {k} has sizes {net.sizes}, expected a plain {[base.sizes[0], 1, base.sizes[2]]}")
        if net.activation.name != base.activation.name:
            raise SpecError(f"unit net {k} uses {net.activation.name}, the joined net {base.activation.name}")
        base.W[0][k] = net.W[0][0]
        base.b[0][k] = net.b[0][0]
    if head == "average":
        h = len(nets)
        base.W[1][...] = np.stack([net.W[1][:, 0] for net in nets], axis=1) / h
        base.b[1][...] = np.mean([net.b[1] for net in nets], axis=0)
    return base


# ------------------------------------------------------------------ form 2: encoder + fresh softmax
def encoder_classifier(ae: Autoencoder, base: MLP) -> MLP:
    """Cut the decoder: copy the encoder (W1, b1) into ``base``'s first layer in place (its output layer stays the
    fresh one) and return it."""
    if base.n_layers != 2 or base.sizes[:2] != [ae.n_in, ae.n_hidden] or base.batchnorm:
        raise SpecError(f"base must be a plain {ae.n_in}-{ae.n_hidden}-classes net (got sizes {base.sizes})")
    if base.activation.name != ae.activation.name:
        raise SpecError(f"the classifier's activation {base.activation.name} is not the encoder's "
                        f"{ae.activation.name}")
    np.copyto(base.W[0], ae.params[0])
    np.copyto(base.b[0], ae.params[1])
    return base


# ------------------------------------------------------------------ runs
def labelled(data, n_labels: int | None):
    """``data`` with only the first ``n_labels`` training rows kept (a random subset: the split is in random order);
    None keeps all."""
    if n_labels is None:
        return data
    n = data.y_train.shape[0]
    n_labels = validate.integer("n_labels", n_labels, 1, n)
    return dataclasses.replace(data, x_train=data.x_train[:n_labels], y_train=data.y_train[:n_labels])


def _sizes(data, cfg) -> list[int]:
    return [data.n_features, cfg["hidden"], data.n_classes]


def _base(data, cfg, model_seed) -> MLP:
    return MLP(_sizes(data, cfg), cfg["activation"], cfg["init"], seed=model_seed)


def _finetune(model: MLP, data, cfg, epochs: int, train_seed: int) -> dict:
    val_loss0, val_acc0 = model.evaluate(data.x_val, data.y_val)
    r = train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=epochs,
              seed=train_seed, grad_norms=False)
    if r["diverged_at"] is not None:
        raise SpecError(f"fine-tuning diverged at step {r['diverged_at']} (lr={cfg['lr']})")
    hist = r["history"]
    return {"val_acc_start": val_acc0, "val_loss_start": val_loss0,
            "val_acc": [e["val_acc"] for e in hist], "val_loss": [e["val_loss"] for e in hist],
            "train_loss": [e["train_loss"] for e in hist], "test_acc": r["test_acc"], "test_loss": r["test_loss"]}


def flat_fraction(model: MLP, x) -> float:
    """Fraction of (row, unit) pairs of the hidden layer where phi'(h) < 0.1: units that pass less than a tenth of
    the gradient (for tanh: |phi(h)| > 0.949, saturated)."""
    h = np.asarray(x, dtype=np.float64) @ model.W[0].T + model.b[0]
    return float(np.mean(model.kernel.df(h) < 0.1))


def _setting(data, cfg, forms, ae: Autoencoder | None, ae_macs: int, epochs: int, model_seed: int,
             train_seed: int) -> dict:
    n = int(data.y_train.shape[0])
    epoch_macs = training_macs(_sizes(data, cfg), n)
    scratch = _base(data, cfg, model_seed)
    arms = {"scratch": {"flat_fraction_start": flat_fraction(scratch, data.x_train),
                        **_finetune(scratch, data, cfg, epochs, train_seed)}}
    if "units" in forms:
        units = pretrain_units(data, model_seed=model_seed, train_seed=train_seed, **cfg)
        nets = [u["model"] for u in units]
        unit_rows = len(units[0]["rows"])
        unit_macs = len(nets) * training_macs([data.n_features, 1, data.n_classes], unit_rows * cfg["unit_epochs"])
        unit_val = [net.evaluate(data.x_val, data.y_val)[1] for net in nets]
        joined = join_units(nets, _base(data, cfg, model_seed), cfg["head"])
        arms["units"] = {"flat_fraction_start": flat_fraction(joined, data.x_train),
                         **_finetune(joined, data, cfg, epochs, train_seed), "pretrain_macs": unit_macs,
                         "unit_rows": unit_rows, "unit_val_acc": spread(unit_val)}
    if "autoencoder" in forms:
        net = encoder_classifier(ae, _base(data, cfg, model_seed))
        arms["autoencoder"] = {"flat_fraction_start": flat_fraction(net, data.x_train),
                               **_finetune(net, data, cfg, epochs, train_seed), "pretrain_macs": ae_macs}
    for form in forms:
        a, s = arms[form], arms["scratch"]
        a["diff_test_acc"] = a["test_acc"] - s["test_acc"]
        a["diff_val_acc_first"] = a["val_acc"][0] - s["val_acc"][0]
        a["diff_val_acc_final"] = a["val_acc"][-1] - s["val_acc"][-1]
        a["equal_cost_epochs"] = epochs + math.ceil(a["pretrain_macs"] / epoch_macs)
        a["scratch_equal_cost"] = a["diff_test_acc_equal_cost"] = None
        if cfg["equal_cost"]:
            eq = _finetune(_base(data, cfg, model_seed), data, cfg, a["equal_cost_epochs"], train_seed)
            a["scratch_equal_cost"] = {"val_acc_final": eq["val_acc"][-1], "test_acc": eq["test_acc"]}
            a["diff_test_acc_equal_cost"] = a["test_acc"] - eq["test_acc"]
    return {"n_labels": n, "epochs": epochs, "epoch_macs": epoch_macs, "arms": arms}


def _names(label: str, given, known) -> tuple:
    given = (given,) if isinstance(given, str) else tuple(given)
    if not given or any(g not in known for g in given) or len(set(given)) != len(given):
        raise SpecError(f"{label} must be distinct names among {', '.join(known)} (got {given!r})")
    return given


def run(*, seed: int = 0, settings=SETTINGS, forms=FORMS, data=None, **overrides) -> dict:
    """One seed. ``autoencoder`` (trained once, on all training features; if "autoencoder" is in ``forms``):
    ``train_mse`` per epoch, ``val_mse_start``, ``val_mse``, ``pca_val_mse`` (rank H), ``pretrain_macs``. Per setting
    in ``settings`` ("full", "few"): ``n_labels``, ``epochs``, ``epoch_macs`` and ``arms``: ``scratch`` and each form
    of ``forms`` ("units", "autoencoder"), each with ``flat_fraction_start`` (:func:`flat_fraction` before
    fine-tuning), per-epoch ``val_acc``, ``val_loss``, ``train_loss``, ``val_acc_start`` / ``val_loss_start``
    (before fine-tuning), ``test_acc``, ``test_loss``; the pretrained arms also ``pretrain_macs``,
    ``scratch_equal_cost`` (``epochs``, ``val_acc_final``, ``test_acc``) and the paired differences
    ``diff_test_acc``, ``diff_val_acc_first`` (after the first fine-tuning epoch), ``diff_val_acc_final``,
    ``diff_test_acc_equal_cost``; ``units`` also ``unit_rows`` and ``unit_val_acc`` (spread of the one-unit nets'
    validation accuracies). ``seconds``: wall time."""
    start = time.perf_counter()
    cfg = _config(overrides)
    settings = _names("settings", settings, SETTINGS)
    forms = _names("forms", forms, FORMS)
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed) if data is None else data
    out = {"seed": seed, "config": cfg, "settings": {}}
    ae, ae_macs = None, 0
    with blas_single_thread():
        if "autoencoder" in forms:
            ae_init, ae_order = _child_seeds(model_seed, 2)[1], _child_seeds(train_seed, 2)[1]
            ae = Autoencoder(data.n_features, cfg["hidden"], cfg["activation"], cfg["init"], seed=ae_init)
            hist = train_autoencoder(ae, data.x_train, optimizer=cfg["optimizer"], lr=cfg["ae_lr"],
                                     batch=cfg["ae_batch"], epochs=cfg["ae_epochs"], seed=ae_order, x_val=data.x_val)
            ae_macs = training_macs([data.n_features, cfg["hidden"], data.n_features],
                                    data.x_train.shape[0] * cfg["ae_epochs"])
            out["autoencoder"] = {"train_mse": hist["train_mse"], "val_mse_start": hist["val_mse_start"],
                                  "val_mse": hist["val_mse"][-1] if hist["val_mse"] else hist["val_mse_start"],
                                  "pca_val_mse": pca_mse(data.x_train, data.x_val, cfg["hidden"]),
                                  "pretrain_macs": ae_macs}
        for name in settings:
            n_labels, epochs = (None, cfg["epochs"]) if name == "full" else (cfg["few_labels"], cfg["few_epochs"])
            out["settings"][name] = _setting(labelled(data, n_labels), cfg, forms, ae, ae_macs, epochs, model_seed,
                                             train_seed)
    out["seconds"] = time.perf_counter() - start
    return out


HEADLINE = ("diff_test_acc", "diff_val_acc_first", "diff_val_acc_final", "diff_test_acc_equal_cost")
PER_ARM = ("test_acc", "val_acc_start", "flat_fraction_start")


def over_seeds(seeds=range(SEEDS), **kw) -> dict:
    """Per setting: ``scratch`` and each form with the keys of :data:`PER_ARM`, the forms also the paired differences
    of :data:`HEADLINE` (pretrained - scratch; ``diff_test_acc`` is the headline effect; ``diff_test_acc_equal_cost``
    only with ``equal_cost``), each a :func:`spread` (median, min, max, values) over ``seeds``; also the
    autoencoder's ``val_mse`` and ``pca_val_mse``. ``kw`` goes to :func:`run`."""
    seeds = seed_list(seeds)
    return summarize([run(seed=s, **kw) for s in seeds])


def summarize(runs: list) -> dict:
    """The :func:`over_seeds` summary of :func:`run` results already computed (one per seed)."""
    check_runs(runs)
    seeds = [r["seed"] for r in runs]
    out = {"seeds": seeds, "config": runs[0]["config"], "settings": {}}
    if "autoencoder" in runs[0]:
        out["autoencoder"] = {k: spread([r["autoencoder"][k] for r in runs]) for k in ("val_mse", "pca_val_mse")}
    for name in runs[0]["settings"]:
        arms = [r["settings"][name]["arms"] for r in runs]
        row = {"scratch": {k: spread([a["scratch"][k] for a in arms]) for k in PER_ARM}}
        for form in (f for f in FORMS if f in arms[0]):
            keys = PER_ARM + tuple(k for k in HEADLINE if arms[0][form][k] is not None)
            row[form] = {k: spread([a[form][k] for a in arms]) for k in keys}
        out["settings"][name] = row
    return out
