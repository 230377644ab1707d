"""A small deterministic MLP trainer in NumPy (float64): the lecture's heuristics in an actual training run.

The network, its loss and backward pass are in :mod:`sims.mlp` (re-exported here).

Optimizers (one ``step(params, grads)`` each, updating the arrays in place; lr constant):
    sgd:      theta -= lr g
    momentum: v = mu v - lr g,  theta += v   (classical momentum, mu = 0.9; PyTorch's v = mu v + g, theta -= lr v is
              the same sequence of iterates for a constant lr)
    adam:     m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  theta -= lr m_hat / (sqrt(v_hat) + eps),
              m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)   (Kingma & Ba 2015, Algorithm 1; b1 0.9, b2 0.999, eps 1e-8)

:func:`train` is deterministic: weights come from ``MLP(seed=...)``, the epoch shuffles and dropout masks from two
children of ``SeedSequence(seed)``; the same seeds give identical histories (floats equal) on the same machine.
:func:`gradient_check` compares the analytic gradient with central differences along random unit directions.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from sims.mlp import MLP, cross_entropy
from theory import validate
from theory.errors import SpecError

__all__ = ["MLP", "SGD", "Momentum", "Adam", "OPTIMIZERS", "make_optimizer", "cross_entropy", "train",
           "gradient_check", "gradient_check_tolerance", "PERCENTILES"]

PERCENTILES = (15.0, 50.0, 85.0)  # unit-input percentiles of Ioffe & Szegedy (2015), Figure 1 (b, c)
MONITOR_ROWS = 256  # rows of the fixed monitoring batch (the first rows of the training set)


# ------------------------------------------------------------------ limits
FLOP_RATE = 1e10  # float64 products of small minibatches on this 2-core machine: the slow end of what it measures
MAX_SECONDS = 24 * 3600.0


# ------------------------------------------------------------------ optimizers
class SGD:
    """theta -= lr g."""

    name = "sgd"

    def __init__(self, lr: float = 1e-2):
        self.lr = validate.real("learning rate", lr, 0.0, lo_open=True)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update in place: theta -= lr g for each parameter array."""
        for p, g in zip(params, grads):
            p -= self.lr * g


class Momentum:
    """Classical momentum: v = mu v - lr g, theta += v (v starts at 0)."""

    name = "momentum"

    def __init__(self, lr: float = 1e-2, momentum: float = 0.9):
        self.lr = validate.real("learning rate", lr, 0.0, lo_open=True)
        self.momentum = float(momentum)
        self.velocity: list[np.ndarray] | None = None

    def step(self, params, grads) -> None:
        """One update in place: v = mu v - lr g, theta += v."""
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1): bias-corrected moments, eps added to sqrt(v_hat) (as PyTorch)."""

    name = "adam"

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = validate.real("learning rate", lr, 0.0, lo_open=True)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def step(self, params, grads) -> None:
        """One update in place: m, v moving averages of g, g^2; theta -= lr m_hat / (sqrt(v_hat) + eps)."""
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        c1, c2 = 1.0 - self.beta1 ** self.t, 1.0 - self.beta2 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, lr: float):
    """A fresh optimizer of :data:`OPTIMIZERS` ('sgd', 'momentum', 'adam') with learning rate ``lr``."""
    if name not in OPTIMIZERS:
        raise SpecError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr)


# ------------------------------------------------------------------ training
def _weight_grad_norms(model: MLP, grads) -> list[float]:
    return [float(np.sqrt(np.einsum("ij,ij->", grads[k], grads[k]))) for k in model.weight_index]


def _check_units(model: MLP, record_units) -> list[tuple[int, int]]:
    units = []
    for item in record_units or ():
        try:
            layer, unit = item
        except (TypeError, ValueError):
            raise SpecError(f"record_units holds (layer, unit) pairs, got {item!r}") from None
        if not (validate.is_integer(layer) and 1 <= layer <= model.n_layers):
            raise SpecError(f"record_units: layer must be in 1..{model.n_layers} (got {layer!r})")
        if not (validate.is_integer(unit) and 0 <= unit < model.sizes[layer]):
            raise SpecError(f"record_units: unit of layer {layer} must be in 0..{model.sizes[layer] - 1} "
                            f"(got {unit!r})")
        units.append((int(layer), int(unit)))
    return units


def _percentiles(model: MLP, x_monitor, units) -> list[list[float]]:
    u = model.unit_inputs(x_monitor)
    return [np.percentile(u[layer - 1][:, unit], PERCENTILES).tolist() for layer, unit in units]


def _all_finite(loss: float, grads) -> bool:
    return math.isfinite(loss) and all(np.isfinite(g).all() for g in grads)


def train(model: MLP, data, *, optimizer: str = "adam", lr: float = 1e-3, batch: int = 64, epochs: int = 20,
          seed: int = 0, early_stopping: int | None = None, shuffle: bool = True, record_steps: bool = False,
          record_units: Sequence[tuple[int, int]] | None = None, grad_norms: bool = True,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Train ``model`` in place on ``data`` (x_train, y_train, x_val, y_val, x_test, y_test, as
    :func:`sims.data.load_dataset` returns) with minibatches from :func:`sims.data.batches`.

    Minimizes J = mean cross-entropy (+ penalties) by ``optimizer`` ('sgd', 'momentum', 'adam'; module docstring)
    with a constant ``lr``; deterministic for a ``seed`` (shuffles and dropout masks from SeedSequence(seed)).

    Per epoch (``history``): ``epoch``; ``train_loss`` and ``train_acc``, the means over the epoch's minibatches in
    train mode (dropout on, batch statistics; as Keras reports them); ``val_loss`` and ``val_acc`` in eval mode after
    the epoch (losses include the L1/L2 penalty); ``grad_norms``, per layer the mean over the epoch's steps of the
    Frobenius norm of dJ/dW_l. ``early_stopping`` = patience in epochs without a new minimum of ``val_loss``; the
    weights (and BN running statistics) of the best epoch are restored at the end. ``record_steps``: ``steps``, one
    record per step with ``step``, ``epoch``, ``loss``, ``grad_norms``, and ``units`` = the 15/50/85th percentiles of
    the input of each (layer, unit) of ``record_units`` (layers 1..L, units 0-based) on the fixed monitoring batch
    (the first 256 training rows, batch statistics, no dropout), measured after the step; ``units_initial`` before
    training. A 1-row minibatch is skipped with batch norm (its variance is 0). A non-finite loss or gradient stops
    training before the update (``diverged_at`` = that step; NumPy's overflow warnings are silenced in the loop, the
    divergence is reported instead). Also ``test_loss``, ``test_acc`` (eval mode, after any
    restore), ``best_epoch``, ``stopped_epoch`` (None unless stopped early), ``seconds``. Pruned connections
    (:meth:`MLP.set_masks`) stay at zero: their gradients are zeroed before each step and the weights after it.
    """
    from sims.data import batches

    opt = make_optimizer(optimizer, lr)
    batch = validate.integer("batch", batch, 1)
    if model.batchnorm and batch < 2:
        raise SpecError("batch norm normalizes over the minibatch: it needs minibatches of at least 2 rows (with one "
                        "row every normalized value is 0); use --batch 2 or more")
    epochs = validate.integer("epochs", epochs, 1)
    work = 6.0 * model.n_weights * data.x_train.shape[0] * epochs / FLOP_RATE  # forward + backward: 6 flops per weight
    if work > MAX_SECONDS:
        raise SpecError(f"this training is about {work / 3600:,.0f} hours of work ({epochs} epochs of "
                        f"{data.x_train.shape[0]:,} examples through {model.n_weights:,} weights at "
                        f"{FLOP_RATE / 1e9:g} GFLOP/s); the limit is {MAX_SECONDS / 3600:g} hours")
    seed = validate.integer("seed", seed, 0)
    if early_stopping is not None:
        early_stopping = validate.integer("early_stopping (patience in epochs)", early_stopping, 1)
        if len(data.y_val) == 0:
            raise SpecError("early stopping watches the validation loss: the data set has no validation rows")
    units = _check_units(model, record_units)
    x, y = model._check_xy(data.x_train, data.y_train)
    n = x.shape[0]
    shuffle_rng, dropout_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    x_monitor = x[:MONITOR_ROWS]
    start = time.perf_counter()
    history, steps = [], []
    result = {"units": [list(u) for u in units] or None,
              "units_initial": _percentiles(model, x_monitor, units) if units else None}
    best = (math.inf, None, None)  # (val_loss, epoch, state)
    stopped, diverged, step = None, None, 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is reported as diverged_at
        for epoch in range(1, epochs + 1):
            loss_sum, correct, seen, n_steps = 0.0, 0, 0, 0
            norm_sum = np.zeros(model.n_layers)
            for idx in batches(n, batch, shuffle_rng, shuffle=shuffle):
                if model.batchnorm and len(idx) < 2:
                    continue
                loss, grads, logits = model._loss_and_grads(x[idx], y[idx], True, dropout_rng)
                step += 1
                if not _all_finite(loss, grads):
                    diverged = step
                    break
                model.apply_masks(grads)
                opt.step(model.params, grads)
                model.apply_masks()
                loss_sum += loss * len(idx)
                correct += int((logits.argmax(axis=1) == y[idx]).sum())
                seen += len(idx)
                n_steps += 1
                norms = _weight_grad_norms(model, grads) if grad_norms or record_steps else None
                if grad_norms:
                    norm_sum += norms
                if record_steps:
                    rec = {"step": step, "epoch": epoch, "loss": loss, "grad_norms": norms}
                    if units:
                        rec["units"] = _percentiles(model, x_monitor, units)
                    steps.append(rec)
            val_loss, val_acc = model.evaluate(data.x_val, data.y_val)
            entry = {"epoch": epoch, "train_loss": loss_sum / seen if seen else math.nan,
                     "train_acc": correct / seen if seen else math.nan, "val_loss": val_loss, "val_acc": val_acc}
            if grad_norms:
                entry["grad_norms"] = (norm_sum / n_steps).tolist() if n_steps else [math.nan] * model.n_layers
            history.append(entry)
            if progress is not None:
                progress(epoch, epochs)
            if diverged is not None:
                break
            if early_stopping is not None:
                if val_loss < best[0]:
                    best = (val_loss, epoch, model.state())
                elif epoch - (best[1] or 0) >= early_stopping:
                    stopped = epoch
                    break
    if early_stopping is not None and best[2] is not None:
        model.load_state(best[2])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        test_loss, test_acc = model.evaluate(data.x_test, data.y_test)
    result.update({"history": history, "test_loss": test_loss, "test_acc": test_acc,
                   "best_epoch": best[1] if early_stopping is not None else None, "stopped_epoch": stopped,
                   "diverged_at": diverged, "steps": steps if record_steps else None,
                   "seconds": time.perf_counter() - start})
    return result


# ------------------------------------------------------------------ gradient check
def gradient_check_tolerance(loss_scale: float, eps: float, n_layers: int) -> float:
    """Bound on |central difference - analytic| along a unit direction v:
        |D(eps) - g.v| <= eps^2 / 6 |J'''[v, v, v]| + rho / eps,
    rho the rounding error of one evaluation of J. With S = loss_scale (|J| plus the logit magnitude, whose
    log-sum-exp cancellation sets the absolute error), take |J'''| <= 6 S (derivatives of log-sum-exp are bounded,
    the network's Jacobian O(1) at these inits) and rho = 4 (n_layers + 1) u S (a few units of roundoff per layer,
    matrix products summing random-sign terms). At eps = 1e-6, S ~ 3 and 3 layers: ~1e-8, i.e. rtol ~ 1e-6 of a
    typical directional derivative."""
    u = np.finfo(np.float64).eps
    return eps**2 * loss_scale + 4 * (n_layers + 1) * u * loss_scale / eps


def directional_derivatives(params: list, grads: list, loss: Callable[[], float], rng: np.random.Generator, *,
                            eps: float, n_directions: int) -> tuple[np.ndarray, np.ndarray]:
    """(analytic g.v, central differences (J(p + eps v) - J(p - eps v)) / 2 eps) along ``n_directions`` random unit
    vectors v of the whole parameter space, drawn from ``rng``; ``loss()`` evaluates J at the current ``params``
    (arrays changed in place, restored afterwards). The one directional gradient check of the package (the trainer's
    :func:`gradient_check`, the autoencoder's)."""
    saved = [p.copy() for p in params]
    analytic, numeric = [], []
    try:
        for _ in range(n_directions):
            v = [rng.standard_normal(p.shape) for p in params]
            norm = math.sqrt(sum(float(np.vdot(d, d)) for d in v))
            v = [d / norm for d in v]
            analytic.append(sum(float(np.vdot(g, d)) for g, d in zip(grads, v)))
            values = []
            for sign in (1.0, -1.0):
                for p, p0, d in zip(params, saved, v):
                    np.copyto(p, p0 + sign * eps * d)
                values.append(loss())
            numeric.append((values[0] - values[1]) / (2 * eps))
    finally:
        for p, p0 in zip(params, saved):
            np.copyto(p, p0)
    return np.array(analytic), np.array(numeric)


def gradient_check(model: MLP, x, y, eps: float = 1e-6, n_directions: int = 5,
                   rng: np.random.Generator | None = None, *, train: bool = True) -> dict:
    """Analytic directional derivatives g.v against central differences (J(theta + eps v) - J(theta - eps v)) / 2 eps
    along ``n_directions`` random unit vectors v of the whole parameter space (drawn from ``rng``).

    Train mode (default) uses batch statistics and ONE dropout mask: every evaluation gets a fresh Generator from the
    same seed, so the two evaluations of a difference (and the analytic pass) see the same mask. The model's state
    (parameters, running statistics) is restored afterwards. Returns ``analytic``, ``numeric``, ``error`` (absolute,
    per direction), ``tolerance`` (:func:`gradient_check_tolerance`), ``max_ratio`` = max error / tolerance, ``ok``.
    """
    validate.generator(rng, "gradient_check")
    n_directions = validate.integer("n_directions", n_directions, 1)
    x, y = model._check_xy(x, y)
    saved = model.state()
    mask_seed = int(rng.integers(2**63))

    def evaluate(with_grads: bool):
        r = np.random.default_rng(mask_seed)
        if with_grads:
            return model._loss_and_grads(x, y, train, r)
        logits, _, _ = model._forward(x, train, r)
        return cross_entropy(logits, y)[0] + model._penalty()

    try:
        loss, grads, logits = evaluate(True)
        analytic, numeric = directional_derivatives(model.params, grads, lambda: evaluate(False), rng, eps=eps,
                                                    n_directions=n_directions)
    finally:
        model.load_state(saved)
    scale = abs(loss) + float(np.abs(logits).max(axis=1).mean()) + 1.0
    tol = gradient_check_tolerance(scale, eps, model.n_layers)
    error = np.abs(numeric - analytic)
    return {"analytic": analytic, "numeric": numeric, "error": error, "tolerance": tol,
            "max_ratio": float(error.max() / tol), "ok": bool((error <= tol).all()), "loss": loss}
