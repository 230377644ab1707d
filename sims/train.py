"""A small deterministic MLP trainer in NumPy (float64): the lecture's heuristics in an actual training run.

Model (:class:`MLP`), for sizes (n_0, n_1, ..., n_L): hidden layers l = 1..L-1 compute
    h_l = a_{l-1} W_l^T + b_l,  u_l = BN(h_l) (optional, train: batch statistics),  z_l = phi(u_l),
    d_l = D_l z_l / keep (optional inverted dropout, ``keep`` the KEEP probability; PyTorch's p = 1 - keep),
    a_l = a_{l-1} + d_l (optional skip connection, only where n_{l-1} = n_l)  or  a_l = d_l,
and the output layer the logits s = a_{L-1} W_L^T + b_L. Objective (Keras' regularizer convention):
    J = mean_i [logsumexp(s_i) - s_{i, y_i}] + l1 sum_l |W_l|_1 + l2 sum_l |W_l|_F^2   (biases, gamma, beta unpenalized),
with dJ/ds = (softmax(s) - onehot(y)) / m and the penalty gradient l1 sign(W) + 2 l2 W. The backward pass is written
out; batch norm and dropout use the backward of :class:`sims.batchnorm.BatchNorm` and :class:`sims.dropout.Dropout`.

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

from sims.activations import kernel
from sims.batchnorm import BatchNorm
from sims.dropout import Dropout, check_keep
from sims.init import sample_weights
from theory.activations import get_activation
from theory import validate
from theory.errors import SpecError
from theory.init import get_init

__all__ = ["MLP", "SGD", "Momentum", "Adam", "OPTIMIZERS", "make_optimizer", "cross_entropy", "train",
           "gradient_check", "gradient_check_tolerance", "PERCENTILES"]

PERCENTILES = (15.0, 50.0, 85.0)  # unit-input percentiles of Ioffe & Szegedy (2015), Figure 1 (b, c)
MONITOR_ROWS = 256  # rows of the fixed monitoring batch (the first rows of the training set)
EVAL_CHUNK = 4096  # rows per eval-mode forward (eval mode is row-wise, so chunking is exact)


# ------------------------------------------------------------------ validation
MAX_LAYERS = 1000
WEIGHT_BYTES = 32  # per weight: the float64 weight, its gradient, Adam's two moments
MEMORY_LIMIT_BYTES = 8 * 2**30
FLOP_RATE = 1e10  # float64 products of small minibatches on this 2-core machine: the slow end of what it measures
MAX_SECONDS = 24 * 3600.0


# ------------------------------------------------------------------ loss
def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(mean loss, per-row losses, softmax probabilities) of softmax cross-entropy; log-sum-exp shifted by the row
    maximum, so no exp overflows: logsumexp(s) = max(s) + log sum exp(s - max(s))."""
    shift = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shift)
    total = e.sum(axis=1, keepdims=True)
    rows = np.log(total[:, 0]) - shift[np.arange(len(y)), y]
    return float(rows.mean()), rows, e / total


# ------------------------------------------------------------------ model
class MLP:
    """Dense network; see the module docstring for the layer equations. ``sizes`` = (inputs, hidden..., classes).

    h_l = a_(l-1) W_l^T + b_l, a_l = phi(h_l) (optionally batch norm before phi, inverted dropout after it), logits
    s = a_(L-1) W_L^T + b_L, loss softmax cross-entropy plus optional L1 / L2 penalties; float64 throughout.

    ``activation`` and ``init`` are specs of :mod:`theory.activations` / :mod:`theory.init` (any name or free form);
    weights (n_out, n_in) from :func:`sims.init.sample_weights` with fans (n_in, n_out), biases 0, drawn from
    ``numpy.random.default_rng(seed)``. ``dropout_keep`` is the KEEP probability in (0, 1] (1: no dropout).

    ``params`` is the flat list of parameter arrays, per layer ``W``, ``b`` (and ``gamma``, ``beta`` of a batch-norm
    layer); ``param_names`` names them (``W1``, ``b1``, ``gamma1``, ...); ``weight_index[l - 1]`` is the position of
    W_l. Optimizers update these arrays in place (the batch-norm layers hold the same gamma/beta arrays).
    """

    def __init__(self, sizes: Sequence[int], activation: str, init: str, *, batchnorm: bool = False,
                 dropout_keep: float = 1.0, skip: bool = False, l1: float = 0.0, l2: float = 0.0, seed: int = 0):
        sizes = list(sizes) if isinstance(sizes, (list, tuple, np.ndarray)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2 or not all(validate.is_integer(n) and n >= 1 for n in sizes):
            raise SpecError(f"sizes must be a list of >= 2 integers >= 1 (inputs, hidden..., classes), got {sizes!r}")
        self.sizes = [int(n) for n in sizes]
        self.n_weights = sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        if len(self.sizes) - 1 > MAX_LAYERS or self.n_weights * WEIGHT_BYTES > MEMORY_LIMIT_BYTES:
            raise SpecError(f"an MLP with sizes {self.sizes[:4]}{'...' if len(self.sizes) > 4 else ''} has "
                            f"{len(self.sizes) - 1} layers and {self.n_weights:,} weights; the limits are "
                            f"{MAX_LAYERS} layers and {MEMORY_LIMIT_BYTES // WEIGHT_BYTES:,} weights (float64 weights, "
                            "their gradients and Adam's two moments: 32 bytes each, at most 8 GiB)")
        self.activation = get_activation(activation)
        self.kernel = kernel(self.activation)
        self.init = get_init(init)
        self.batchnorm = bool(batchnorm)
        self.dropout_keep = check_keep(dropout_keep)
        self.skip = bool(skip)
        self.l1 = validate.real("l1", l1, 0.0)
        self.l2 = validate.real("l2", l2, 0.0)
        self.seed = validate.integer("seed", seed, 0)
        self.n_layers = len(self.sizes) - 1
        rng = np.random.default_rng(self.seed)
        self.W, self.b = [], []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            self.W.append(np.array(sample_weights(self.init, n_in, n_out, rng, np.float64), dtype=np.float64))
            self.b.append(np.zeros(n_out))
        hidden = self.sizes[1:-1]
        self.bn = [BatchNorm(n) for n in hidden] if self.batchnorm else []
        self.dropout = [Dropout(self.dropout_keep) for _ in hidden] if self.dropout_keep < 1 else []
        # a skip connection where the block maps n -> n (never on the output layer)
        self.skips = [self.skip and self.sizes[i] == self.sizes[i + 1] for i in range(len(hidden))]
        self.masks: list[np.ndarray] | None = None  # pruning masks of the weight matrices (see set_masks)
        self.params: list[np.ndarray] = []
        self.param_names: list[str] = []
        self.weight_index: list[int] = []
        for i in range(self.n_layers):
            self.weight_index.append(len(self.params))
            self.params += [self.W[i], self.b[i]]
            self.param_names += [f"W{i + 1}", f"b{i + 1}"]
            if self.batchnorm and i < len(hidden):
                self.params += [self.bn[i].gamma, self.bn[i].beta]
                self.param_names += [f"gamma{i + 1}", f"beta{i + 1}"]

    def config(self) -> dict:
        """The constructor's arguments as plain values (JSON-ready)."""
        return {"sizes": self.sizes, "activation": self.activation.name, "init": self.init.name,
                "batchnorm": self.batchnorm, "dropout_keep": self.dropout_keep, "skip": self.skip,
                "l1": self.l1, "l2": self.l2, "seed": self.seed}

    def set_masks(self, masks: Sequence[np.ndarray] | None) -> None:
        """Fix pruned connections: ``masks[l - 1]`` is a 0/1 array shaped like W_l (None: no masks). The weights
        where a mask is 0 are set to 0 now, and :func:`train` keeps them there (their gradient is zeroed before the
        optimizer step, and the weight is zeroed again after it)."""
        if masks is None:
            self.masks = None
            return
        masks = list(masks)
        if len(masks) != len(self.W):
            raise SpecError(f"masks: need one per weight matrix ({len(self.W)}), got {len(masks)}")
        out = []
        for i, (m, w) in enumerate(zip(masks, self.W)):
            m = np.asarray(m)
            if m.shape != w.shape or not np.isin(m, (0, 1)).all():
                raise SpecError(f"masks[{i}] must be a 0/1 array of shape {w.shape} (got shape {m.shape})")
            out.append(m.astype(np.float64))
        self.masks = out
        self.apply_masks()

    def apply_masks(self, grads: list[np.ndarray] | None = None) -> None:
        """Zero the masked weights (and, given ``grads``, their gradients) in place; nothing without masks."""
        if self.masks is None:
            return
        for i, m in enumerate(self.masks):
            self.W[i] *= m
            if grads is not None:
                grads[self.weight_index[i]] *= m

    # -------------------------------------------------- state (weights + running statistics)
    def state(self) -> dict:
        """A copy of everything that changes in training: the parameters and the batch-norm running statistics."""
        return {"params": [p.copy() for p in self.params],
                "bn": [(bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked) for bn in self.bn]}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state` in place (the optimizers' and the BN layers' references stay valid)."""
        for p, saved in zip(self.params, state["params"]):
            np.copyto(p, saved)
        for bn, (mean, var, count) in zip(self.bn, state["bn"]):
            bn.running_mean, bn.running_var, bn.num_batches_tracked = mean.copy(), var.copy(), count

    # -------------------------------------------------- forward / backward
    @classmethod
    def from_config(cls, config, n_classes: int, *, skip: bool = False, l1: float = 0.0, l2: float = 0.0,
                    seed: int = 0) -> "MLP":
        """The MLP of a :class:`theory.config.NetworkConfig` (the engine's network description): inputs
        ``config.widths[0]``, its hidden widths, activation, init, batch norm and dropout keep probability, then a
        softmax layer of ``n_classes``. A config with biases or input variance other than the trainer's (zero biases
        at init, standardized data) is refused rather than silently changed."""
        if config.bias_var != 0:
            raise SpecError("the trainer starts from zero biases: use a config with bias_var = 0")
        n_classes = validate.integer("n_classes", n_classes, 2)
        return cls([*config.widths, n_classes], config.activation, config.init, batchnorm=config.batchnorm,
                   dropout_keep=config.dropout_keep, skip=skip, l1=l1, l2=l2, seed=seed)

    def _check_xy(self, x, y=None):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.sizes[0] or x.shape[0] < 1:
            raise SpecError(f"x must have shape (rows >= 1, {self.sizes[0]}), got {x.shape}")
        if y is None:
            return x, None
        y = np.asarray(y)
        if y.shape != (x.shape[0],) or y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= self.sizes[-1])):
            raise SpecError(f"y must hold {x.shape[0]} integer labels in [0, {self.sizes[-1]}) (got shape {y.shape}, "
                            f"dtype {y.dtype})")
        return x, y.astype(np.intp)

    def _forward(self, x, train: bool, rng, *, keep_stats: bool = False, dropout: bool = True):
        """Logits and the cache for backward. ``keep_stats``: batch statistics without touching the running ones."""
        cache, a = [], x
        use_dropout = train and dropout and bool(self.dropout)
        if use_dropout:
            validate.generator(rng, "train-mode dropout")
        f = self.kernel.f
        for i in range(self.n_layers - 1):
            h = a @ self.W[i].T + self.b[i]
            if self.batchnorm and not np.isfinite(h).all():  # diverged: BN refuses non-finite input
                return np.full((x.shape[0], self.sizes[-1]), np.nan), None, use_dropout
            if self.batchnorm:
                bn = self.bn[i].train(train)
                saved = (bn.running_mean, bn.running_var, bn.num_batches_tracked) if keep_stats else None
                u = bn.forward(h)
                if saved is not None:
                    bn.running_mean, bn.running_var, bn.num_batches_tracked = saved
            else:
                u = h
            z = f(u)
            d = self.dropout[i].train(True).forward(z, rng) if use_dropout else z
            cache.append((a, u))
            a = a + d if self.skips[i] else d
        cache.append((a, None))
        return a @ self.W[-1].T + self.b[-1], cache, use_dropout

    def _penalty(self) -> float:
        if self.l1 == 0 and self.l2 == 0:
            return 0.0
        return float(sum(self.l1 * np.abs(w).sum() + self.l2 * np.einsum("ij,ij->", w, w) for w in self.W))

    def _loss_and_grads(self, x, y, train: bool, rng):
        logits, cache, used_dropout = self._forward(x, train, rng)
        data_loss, _, prob = cross_entropy(logits, y)
        if cache is None or not math.isfinite(data_loss):  # diverged: nothing to backpropagate
            return math.nan, [np.full_like(p, np.nan) for p in self.params], logits
        m = x.shape[0]
        ds = prob
        ds[np.arange(m), y] -= 1.0
        ds /= m
        grads: list[np.ndarray] = [None] * len(self.params)  # type: ignore[list-item]
        a_in = cache[-1][0]
        k = self.weight_index[-1]
        grads[k], grads[k + 1] = ds.T @ a_in, ds.sum(axis=0)
        da = ds @ self.W[-1]
        df = self.kernel.df
        for i in range(self.n_layers - 2, -1, -1):
            a_in, u = cache[i]
            dd = self.dropout[i].backward(da) if used_dropout else da  # same mask as the forward
            du = dd * df(u)
            k = self.weight_index[i]
            if self.batchnorm:
                dh, grads[k + 2], grads[k + 3] = self.bn[i].backward(du)
            else:
                dh = du
            grads[k], grads[k + 1] = dh.T @ a_in, dh.sum(axis=0)
            da_in = dh @ self.W[i]
            if self.skips[i]:
                da_in += da  # a_l = a_{l-1} + block(a_{l-1}): the identity path
            da = da_in
        if self.l1 or self.l2:
            for i, w in enumerate(self.W):
                k = self.weight_index[i]
                grads[k] = grads[k] + self.l1 * np.sign(w) + (2.0 * self.l2) * w
        return data_loss + self._penalty(), grads, logits

    def loss_and_grads(self, x, y, train: bool = True, rng: np.random.Generator | None = None):
        """(J, grads): the objective on (x, y) and its gradient, one array per entry of ``params``. ``train``: batch
        statistics (updating the running ones) and dropout masks drawn from ``rng``; else eval mode."""
        x, y = self._check_xy(x, y)
        loss, grads, _ = self._loss_and_grads(x, y, train, rng)
        return loss, grads

    def loss(self, x, y, train: bool = False, rng: np.random.Generator | None = None) -> float:
        """J on (x, y) by a forward pass only (train mode updates BN's running statistics, as a train step would)."""
        x, y = self._check_xy(x, y)
        logits, _, _ = self._forward(x, train, rng)
        return cross_entropy(logits, y)[0] + self._penalty()

    def logits(self, x) -> np.ndarray:
        """Eval-mode logits (running statistics, no dropout), in chunks of rows."""
        x, _ = self._check_xy(x)
        return np.concatenate([self._forward(x[s:s + EVAL_CHUNK], False, None)[0]
                               for s in range(0, x.shape[0], EVAL_CHUNK)])

    def evaluate(self, x, y) -> tuple[float, float]:
        """Eval-mode (J, accuracy) on (x, y); nan for no rows."""
        if len(y) == 0:
            return math.nan, math.nan
        x, y = self._check_xy(x, y)
        logits = self.logits(x)
        return cross_entropy(logits, y)[0] + self._penalty(), float((logits.argmax(axis=1) == y).mean())

    def unit_inputs(self, x) -> list[np.ndarray]:
        """Input of each layer's nonlinearity (u_l after BN for hidden layers; the logits for the last), with batch
        statistics of ``x`` (Ioffe & Szegedy's train-mode view), no dropout; the model's state is left untouched."""
        x, _ = self._check_xy(x)
        logits, cache, _ = self._forward(x, True, None, keep_stats=True, dropout=False)
        if cache is None:  # diverged before a batch-norm layer
            return [np.full((x.shape[0], n), np.nan) for n in self.sizes[1:]]
        return [u for _, u in cache[:-1]] + [logits]


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
