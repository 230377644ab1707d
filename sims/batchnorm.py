"""A numeric batch-norm layer over features (NumPy): x of shape (m, n), statistics per feature over the m rows.

Train-mode forward (Ioffe & Szegedy 2015, Algorithm 1; the lecture's slide), per feature j, means over the batch:
    mu = mean(x),  var = mean((x - mu)^2)  (biased, 1/m),  sigma = sqrt(var + eps),
    x_hat = (x - mu) / sigma,  y = gamma * x_hat + beta.
Train-mode backward of a loss l with upstream gradient dy = dl/dy (the closed form of the chain rule through mu and
var, as in the paper):
    dx = (gamma / sigma) * (dy - mean(dy) - x_hat * mean(dy * x_hat)),  dgamma = sum(dy * x_hat),  dbeta = sum(dy).
Eval mode normalizes with the running statistics instead, y = gamma * (x - r_mean) / sqrt(r_var + eps) + beta, an
affine map whose backward is dx = gamma * dy / sqrt(r_var + eps).

Running statistics, updated by every train-mode forward (b_mean = mu, b_var = var of the batch):
  * ``convention="torch"`` (``torch.nn.BatchNorm1d(momentum=...)``), momentum = weight of the NEW batch, default 0.1:
        running_mean = (1 - momentum) * running_mean + momentum * b_mean
        running_var  = (1 - momentum) * running_var  + momentum * b_var * m / (m - 1)   (unbiased; normalization
    itself uses the biased b_var). Start: running_mean = 0, running_var = 1; ``num_batches_tracked`` counts updates.
    Unlike torch, ``momentum=None`` here means the default 0.1, not torch's cumulative average.
  * ``convention="keras"`` (``keras.layers.BatchNormalization(momentum=...)``), momentum = weight of the OLD value,
    default 0.99:
        moving_mean     = momentum * moving_mean     + (1 - momentum) * b_mean
        moving_variance = momentum * moving_variance + (1 - momentum) * b_var   (biased).
    Start: moving_mean = 0, moving_variance = 1. (``moving_mean``/``moving_variance`` are aliases of the
    ``running_mean``/``running_var`` arrays.)

A single row (m = 1) in train mode: var = 0, so x_hat = 0 and y = beta whatever x is (only eps keeps sigma > 0).
torch raises there; this layer emits :class:`SingleRowBatchWarning` and proceeds. Under the torch convention the
unbiased variance (m / (m - 1)) is undefined at m = 1, so that batch updates running_mean but leaves running_var
unchanged; under the keras convention the (biased, zero) variance is blended in as usual.

Deterministic: no random numbers are drawn anywhere. All arithmetic is in ``dtype`` (float64 by default).
"""
from __future__ import annotations

import warnings

import numpy as np

from theory import validate
from theory.errors import SpecError

CONVENTIONS = {"torch": 0.1, "keras": 0.99}  # convention -> default momentum (see the module docstring)


class SingleRowBatchWarning(UserWarning):
    """A train-mode batch of one row: its variance is 0, so the output is beta whatever the input."""


class BatchNorm:
    """Batch normalization over the n features of an (m, n) input; see the module docstring for the formulas.

    ``gamma`` (ones) and ``beta`` (zeros) are public arrays of shape (n,); ``training`` (True after construction)
    selects batch statistics (train) or running statistics (eval), switched by :meth:`train` / :meth:`eval`.
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float | None = None,
                 convention: str = "torch", dtype=np.float64):
        num_features = validate.integer("num_features", num_features, 1)
        if convention not in CONVENTIONS:
            raise SpecError(f"unknown convention {convention!r}: use one of {', '.join(map(repr, CONVENTIONS))}")
        eps = validate.real("eps", eps, 0.0, lo_open=True)
        if momentum is None:
            momentum = CONVENTIONS[convention]
        momentum = validate.real("momentum", momentum, 0.0, 1.0)
        try:
            dt = np.dtype(dtype)
        except TypeError as exc:
            raise SpecError(f"dtype must be a floating-point dtype (got {dtype!r})") from exc
        if dt.kind != "f":
            raise SpecError(f"dtype must be a floating-point dtype (got {dtype!r})")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.convention = convention
        self.dtype = dt
        self.gamma = np.ones(self.num_features, dtype=dt)
        self.beta = np.zeros(self.num_features, dtype=dt)
        self.running_mean = np.zeros(self.num_features, dtype=dt)
        self.running_var = np.ones(self.num_features, dtype=dt)
        self.num_batches_tracked = 0
        self.training = True
        self._cache = None  # what backward needs, from the latest forward

    # keras names for the same arrays
    @property
    def moving_mean(self) -> np.ndarray:
        """Keras' name for :attr:`running_mean` (the same array)."""
        return self.running_mean

    @property
    def moving_variance(self) -> np.ndarray:
        """Keras' name for :attr:`running_var` (the same array)."""
        return self.running_var

    def train(self, mode: bool = True) -> "BatchNorm":
        """Train mode (``mode`` True: batch statistics, running ones updated) or eval mode (False); returns self, as
        torch's."""
        self.training = bool(mode)
        return self

    def eval(self) -> "BatchNorm":
        """Eval mode, ``train(False)``: normalize with the running statistics; returns self."""
        return self.train(False)

    def __call__(self, x) -> np.ndarray:
        return self.forward(x)

    def forward(self, x) -> np.ndarray:
        """y of the same shape as x; in train mode also updates the running statistics and caches for backward."""
        x = self._check_input(x)
        gamma, beta = self._params()
        m = x.shape[0]
        if not self.training:
            inv_std = 1.0 / np.sqrt(self.running_var + self.dtype.type(self.eps))
            x_hat = (x - self.running_mean) * inv_std
            self._cache = ("eval", x.shape, x_hat, inv_std)
            return gamma * x_hat + beta
        if m == 1:
            warnings.warn("batch of a single row in train mode: the batch variance is 0 and only eps remains, so "
                          "x_hat = 0 and the output is beta whatever x is", SingleRowBatchWarning, stacklevel=2)
        mu = x.mean(axis=0)
        d = x - mu
        sq_sum = np.einsum("ij,ij->j", d, d) if m > 1 else np.zeros_like(mu)
        var = sq_sum / self.dtype.type(m)
        inv_std = 1.0 / np.sqrt(var + self.dtype.type(self.eps))
        x_hat = d * inv_std
        self._update_running(mu, var, sq_sum, m)
        self._cache = ("train", x.shape, x_hat, inv_std)
        return gamma * x_hat + beta

    def _update_running(self, mu, var, sq_sum, m) -> None:
        mom = self.dtype.type(self.momentum)
        one = self.dtype.type(1)
        if self.convention == "torch":
            self.running_mean = (one - mom) * self.running_mean + mom * mu
            if m > 1:  # unbiased variance sum((x - mu)^2) / (m - 1); undefined at m = 1: keep the old value
                self.running_var = (one - mom) * self.running_var + mom * (sq_sum / self.dtype.type(m - 1))
        else:
            self.running_mean = mom * self.running_mean + (one - mom) * mu
            self.running_var = mom * self.running_var + (one - mom) * var
        self.num_batches_tracked += 1

    def backward(self, dy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dx, dgamma, dbeta) for upstream gradient dy, through the latest forward (train or eval)."""
        if self._cache is None:
            raise SpecError("backward called before forward: run a train-mode forward first")
        mode, shape, x_hat, inv_std = self._cache
        dy = np.asarray(dy, dtype=self.dtype)
        if dy.shape != shape:
            raise SpecError(f"dy has shape {dy.shape}, but the cached forward input has shape {shape}")
        if not np.isfinite(dy).all():
            raise SpecError("dy contains non-finite values (nan or inf)")
        gamma, _ = self._params()
        dbeta = dy.sum(axis=0)
        dgamma = np.einsum("ij,ij->j", dy, x_hat)
        if mode == "eval":
            return gamma * inv_std * dy, dgamma, dbeta
        m = self.dtype.type(shape[0])
        dx = (gamma * inv_std) * (dy - dbeta / m - x_hat * (dgamma / m))
        return dx, dgamma, dbeta

    def _check_input(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2:
            raise SpecError(f"x must be 2-D (batch rows, features), got {x.ndim}-D with shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise SpecError(f"x has {x.shape[1]} features, but the layer has num_features={self.num_features}")
        if x.shape[0] < 1:
            raise SpecError("x has no rows: a batch needs at least one")
        if not np.isfinite(x).all():
            raise SpecError("x contains non-finite values (nan or inf)")
        return x

    def _params(self) -> tuple[np.ndarray, np.ndarray]:
        gamma = np.asarray(self.gamma, dtype=self.dtype)
        beta = np.asarray(self.beta, dtype=self.dtype)
        if gamma.shape != (self.num_features,) or beta.shape != (self.num_features,):
            raise SpecError(f"gamma and beta must have shape ({self.num_features},) "
                            f"(got {gamma.shape} and {beta.shape})")
        return gamma, beta


# ------------------------------------------------------------------ the engine's batch-norm kernels
# Train-mode batch norm without gamma and beta, in place, for the Monte Carlo pipeline (sims.pipeline): the moments
# in float64, so a float32 layer of any finite size normalizes.
def bn_forward(h: np.ndarray, eps: float) -> np.ndarray:
    """Batch norm of one layer, in place: h (rows: the batch, columns: units) becomes u = (h - mean) / sigma with
    sigma = sqrt(var + eps), mean and biased variance per unit over the rows; returns sigma (float64, per unit).

    The moments are float64 (two passes: mean, then the centred squares), so a float32 h of any finite size
    normalizes; where a float64 variance overflows (|h| > ~1e154) it is recomputed from h / max|h|. A non-finite
    h gives a non-finite u: that is the divergence signal."""
    rows = h.shape[0]
    c = h if h.dtype == np.float64 else h.astype(np.float64)
    np.subtract(c, c.mean(axis=0), out=c)
    sigma = np.sqrt(np.einsum("ij,ij->j", c, c) / rows + eps)
    if not np.isfinite(sigma).all() and np.isfinite(c).all():  # squares past the range, values not
        scale = np.abs(c).max(axis=0)
        scale[scale == 0] = 1.0
        r = c / scale
        sigma = scale * np.sqrt(np.einsum("ij,ij->j", r, r) / rows + eps / scale**2)
    np.divide(c, sigma, out=c)
    if c is not h:
        h[...] = c
    return sigma


def bn_backward(du: np.ndarray, u: np.ndarray, sigma: np.ndarray, tmp: np.ndarray) -> None:
    """dL/du -> dL/dh through :func:`bn_forward`, in place in ``du``: dh = (du - mean(du) - u mean(du u)) / sigma,
    means per unit over the rows, u the normalized value (eps included, so this is the exact gradient of
    u = (h - mean) / sqrt(var + eps)). ``tmp`` is scratch of du's shape; the two means are float64 sums."""
    dt = du.dtype
    m1 = du.mean(axis=0, dtype=np.float64)
    np.multiply(du, u, out=tmp)
    m2 = tmp.mean(axis=0, dtype=np.float64)
    np.multiply(u, m2.astype(dt), out=tmp)
    du -= m1.astype(dt)
    du -= tmp
    du /= sigma.astype(dt)


def statistics_used(rows: int = 8, features: int = 3, seed: int = 0) -> dict:
    """Which statistics normalize in each mode of :class:`BatchNorm` (torch convention), measured: after one
    train-mode step (so the running averages are not at their initial values), the output of a batch is recomputed
    with the running averages replaced by other values. ``{"train": ..., "eval": ...}``, each with
    ``depends_on_running`` (the output changes with the running averages) and ``is_batch_standardized`` (the output
    equals (x - batch mean) / sqrt(batch variance + eps), the current batch's own statistics)."""
    rng = np.random.default_rng(validate.seed(seed))
    x = rng.standard_normal((rows, features)) * 2.0 + 1.0
    bn = BatchNorm(features)
    bn.forward(rng.standard_normal((rows, features)))  # one step: running averages move off (0, 1)
    own = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + bn.eps)
    out = {}
    for mode in ("train", "eval"):
        bn.train(mode == "train")
        saved = bn.running_mean.copy(), bn.running_var.copy()
        first = bn.forward(x)
        bn.running_mean, bn.running_var = saved[0] + 3.0, saved[1] * 5.0
        second = bn.forward(x)
        bn.running_mean, bn.running_var = saved
        out[mode] = {"depends_on_running": not np.array_equal(first, second),
                     "is_batch_standardized": bool(np.allclose(first, own, rtol=1e-12, atol=1e-12))}
    return out
