"""The trainer's network: a multilayer perceptron in NumPy (float64) with its loss, written-out backward pass and
state, built from the engine's :class:`theory.config.NetworkConfig` (:meth:`MLP.from_config`) or from sizes.

Model (:class:`MLP`), for sizes (n_0, n_1, ..., n_L): hidden layers l = 1..L-1 compute
    h_l = a_{l-1} W_l^T + b_l,  u_l = BN(h_l) (optional, train: batch statistics),  z_l = phi(u_l),
    d_l = D_l z_l / keep (optional inverted dropout, ``keep`` the KEEP probability; PyTorch's p = 1 - keep),
    a_l = a_{l-1} + d_l (optional skip connection, only where n_{l-1} = n_l)  or  a_l = d_l,
and the output layer the logits s = a_{L-1} W_L^T + b_L. Objective (Keras' regularizer convention):
    J = mean_i [logsumexp(s_i) - s_{i, y_i}] + l1 sum_l |W_l|_1 + l2 sum_l |W_l|_F^2   (biases, gamma, beta unpenalized),
with dJ/ds = (softmax(s) - onehot(y)) / m and the penalty gradient l1 sign(W) + 2 l2 W. The backward pass is written
out; batch norm and dropout use the backward of :class:`sims.batchnorm.BatchNorm` and :class:`sims.dropout.Dropout`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sims.activations import kernel
from sims.batchnorm import BatchNorm
from sims.dropout import Dropout, check_keep
from sims.init import sample_weights
from theory.activations import get_activation
from theory import validate
from theory.errors import SpecError
from theory.init import get_init

__all__ = ["MLP", "cross_entropy", "EVAL_CHUNK", "MAX_LAYERS", "MEMORY_LIMIT_BYTES", "WEIGHT_BYTES"]

EVAL_CHUNK = 4096  # rows per eval-mode forward (eval mode is row-wise, so chunking is exact)
MAX_LAYERS = 1000
WEIGHT_BYTES = 32  # per weight: the float64 weight, its gradient, Adam's two moments
MEMORY_LIMIT_BYTES = 8 * 2**30


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
