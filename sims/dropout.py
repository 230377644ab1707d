"""Dropout, numerically: the layer, exact ensembles of small networks, and three classical identities measured.

Convention: ``keep`` is the KEEP probability p in (0, 1] of the lecture, D ~ Bernoulli(p) i.i.d. per entry.
PyTorch's ``nn.Dropout(p)`` and Keras' ``Dropout(rate)`` take the DROP probability: keep = 1 - p = 1 - rate.

* :class:`Dropout` -- train: D x / p (inverted, the PyTorch/Keras layer) or D x (the original paper); eval: x
  (inverted) or p x (the slides' test-time expectation E[D x] = p x). Randomness only from an explicit
  ``numpy.random.Generator``.
* Exact ensembles (Srivastava et al. 2014): a network with n droppable units defines 2^n thinned networks; the
  ensemble mean sum_m P(m) o(m), P(m) = p^|m| (1 - p)^(n - |m|), is computed by enumeration (n <= 20) and compared
  with weight scaling (D replaced by E[D]) and with Monte Carlo dropout. Architecture (:class:`SmallNetwork`):
      x (inputs) -> h = phi(W1 x + b1) (units) -> D h / p -> phi(W2 (D h / p) + b2) (units2) -> o = readout . that.
  With ``units2 = 0`` the readout is linear right after dropout, o = readout . (D h / p); then the ensemble mean
  EQUALS weight scaling for any phi (linearity of expectation; phi acts before the mask). The second nonlinear layer
  is what makes them differ.
* Single sigmoid unit (Baldi & Sadowski 2013): with non-inverted dropout on the inputs, the normalized weighted
  geometric mean NWGM = G / (G + G') of the 2^n outputs equals sigma(p w.x) exactly, because logit(sigma(z)) = z
  is linear; the arithmetic ensemble mean does not.
* Regularization (Wager et al. 2013): for squared loss L = sum_i (y_i - sum_j w_j x_ij D_ij / p)^2,
  E[L] = plain loss + ((1 - p)/p) sum_j w_j^2 sum_i x_ij^2, measured by enumeration and by Monte Carlo.
* Variance shift (Li et al. 2019): dropout before batch norm makes the running variance learned in training
  (v + (1 - p) c^2)/p, while at test time (dropout off) the BN input has variance v; the ratio is
  p v / (v + (1 - p) c^2) < 1, c and v the mean and variance of the unit's activation.

Everything is float64 unless a layer input is float32 (the layer keeps the input's floating dtype).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.special import expit

from sims.activations import kernel
from sims.batchnorm import BatchNorm
from sims.init import sample_weights
from theory.activations import get_activation, moment_closed_forms
from theory.activations import q as q_symbol
from theory import dropout as theory_dropout
from theory import validate as check
from theory.errors import SpecError
from theory.init import get_init

MAX_ENUMERATE_UNITS = 20  # 2^20 = 1 048 576 masks: exact ensembles stay below a second
MAX_T = 10_000_000  # Monte Carlo masks in dropout_ensemble: a few seconds of work
_BLOCK = 1 << 14  # masks per block: memory stays O(block * units) however many masks there are

__all__ = [
    "MAX_ENUMERATE_UNITS", "Dropout", "check_keep", "masks", "SmallNetwork", "small_network",
    "exact_ensemble_mean", "weight_scaling", "mc_dropout_mean", "ensemble_gap", "dropout_ensemble",
    "sigmoid_unit_ensemble", "expected_dropout_loss", "dropout_loss_mc", "variance_shift_network",
]


# ------------------------------------------------------------------ validation
def check_keep(keep) -> float:
    """``keep`` as a float if it is a keep probability in (0, 1]; else :class:`SpecError` (one line):
    :func:`theory.validate.keep_probability`."""
    return check.keep_probability(keep, "keep")


def _check_enumerable(n: int, what: str = "units") -> int:
    if n > MAX_ENUMERATE_UNITS:
        raise SpecError(f"exact enumeration visits 2^n masks: n <= {MAX_ENUMERATE_UNITS} (got {what} = {n})")
    return n


def _bernoulli(rng: np.random.Generator, shape, keep: float) -> np.ndarray:
    """Boolean mask, P(True) = keep (a uniform on [0, 1) below keep; keep = 1 keeps everything)."""
    return rng.random(shape) < keep


# ------------------------------------------------------------------ the layer
class Dropout:
    """Dropout with KEEP probability ``keep`` (keep = 1 - torch p = 1 - keras rate); see the module docstring.

    Train (default): D ~ Bernoulli(keep) i.i.d. per entry, y = D x / keep (``inverted=True``) or D x; every output is
    exactly 0 or x / keep (or 0 or x). Eval: y = x (inverted) or keep x (non-inverted, the slides' test-time rule).
    ``backward(dy)`` applies the same map to dy (the layer is linear in x for a fixed mask). ``mask`` holds the last
    train-mode mask (bool, the shape of x); an eval-mode forward sets it to None. keep = 1 is the identity.
    """

    def __init__(self, keep, *, inverted: bool = True):
        self.keep = check_keep(keep)
        self.inverted = bool(inverted)
        self.training = True
        self.mask: np.ndarray | None = None
        self._cache = None  # (mode, shape, dtype) of the latest forward

    def train(self, mode: bool = True) -> "Dropout":
        """Train mode (``mode`` True: a fresh Bernoulli(keep) mask each forward) or eval mode (False); returns self."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Dropout":
        """Eval mode, ``train(False)``: y = x (inverted) or keep x, no mask; returns self."""
        return self.train(False)

    def __call__(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.forward(x, rng)

    def forward(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """y of x's shape and floating dtype (float64 for integer input); ``rng`` is required in train mode."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        if not self.training:
            self.mask = None
            self._cache = ("eval", x.shape, x.dtype)
            return self._eval_map(x)
        check.generator(rng, "train-mode dropout")
        self.mask = _bernoulli(rng, x.shape, self.keep)
        self._cache = ("train", x.shape, x.dtype)
        return self._train_map(x)

    def backward(self, dy) -> np.ndarray:
        """dL/dx for upstream dy: D dy / keep (or D dy) through the last train forward, the eval map after eval."""
        if self._cache is None:
            raise SpecError("backward called before forward: run a forward first (it draws the mask)")
        mode, shape, dtype = self._cache
        dy = np.asarray(dy, dtype=dtype)
        if dy.shape != shape:
            raise SpecError(f"dy has shape {dy.shape}, but the last forward input had shape {shape}")
        return self._train_map(dy) if mode == "train" else self._eval_map(dy)

    def _train_map(self, v: np.ndarray) -> np.ndarray:
        zero = v.dtype.type(0)
        if self.inverted:  # where, not multiply: exactly 0 or v / keep (no 0 * inf = nan, no -0.0)
            return np.where(self.mask, v / v.dtype.type(self.keep), zero)
        return np.where(self.mask, v, zero)

    def _eval_map(self, v: np.ndarray) -> np.ndarray:
        return v.copy() if self.inverted else v * v.dtype.type(self.keep)


# ------------------------------------------------------------------ exact ensembles
def _mask_block(start: int, stop: int, n: int, keep: float) -> tuple[np.ndarray, np.ndarray]:
    return theory_dropout.mask_table(n, keep, start, stop)


def _mask_blocks(n: int, keep: float, block: int = _BLOCK):
    total = 1 << n
    for start in range(0, total, block):
        yield _mask_block(start, min(start + block, total), n, keep)


def masks(n: int, keep) -> tuple[np.ndarray, np.ndarray]:
    """All 2^n dropout masks and their probabilities: (M, P), M of shape (2^n, n) with 0/1 entries (uint8; row i
    is the binary expansion of i, unit j = bit j), P(m) = keep^|m| (1 - keep)^(n - |m|), shape (2^n,), sum 1.
    ``keep`` is the keep probability; n <= MAX_ENUMERATE_UNITS (20)."""
    keep = check_keep(keep)
    n = _check_enumerable(check.integer("n", n, 0), "n")
    return _mask_block(0, 1 << n, n, keep)


@dataclass(frozen=True, eq=False)
class SmallNetwork:
    """x (inputs) -> h = phi(W1 x + b1) (units) -> dropout on h -> [phi(W2 (D h / p) + b2) (units2)] -> readout.

    ``W2 is None`` (units2 = 0): o = readout . (D h / p), linear after dropout. Otherwise o = readout . phi(W2 (D h /
    p) + b2). Shapes: W1 (units, inputs), b1 (units,), W2 (units2, units), b2 (units2,), readout (units2 or units,).
    phi is the same activation in both layers (``activation``, a spec resolved by :mod:`theory.activations`).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray | None
    b2: np.ndarray | None
    readout: np.ndarray
    activation: str

    @property
    def units(self) -> int:
        """The number of droppable hidden units (rows of W1)."""
        return self.W1.shape[0]

    @property
    def units2(self) -> int:
        """The width of the layer after dropout (rows of W2); 0 when W2 is None (linear readout)."""
        return 0 if self.W2 is None else self.W2.shape[0]

    @property
    def inputs(self) -> int:
        """The input dimension (columns of W1)."""
        return self.W1.shape[1]

    @property
    def phi(self):
        """phi, the activation's numeric kernel (:func:`sims.activations.kernel`), used in both layers."""
        return kernel(self.activation).f

    def hidden(self, x) -> np.ndarray:
        """h = phi(W1 x + b1), shape (units,): the droppable units."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.inputs,):
            raise SpecError(f"x must have shape ({self.inputs},) (got {x.shape})")
        return self.phi(self.W1 @ x + self.b1)

    def output(self, x, mask, keep):
        """o for each mask: ``mask`` of shape (..., units) (0/1 or bool; any real values are used as given, e.g.
        mask = keep for weight scaling), inverted scaling by 1/``keep`` (the keep probability). Returns shape
        mask.shape[:-1] (a float for one mask)."""
        keep = check_keep(keep)
        return self._output(self.hidden(x), np.asarray(mask), keep)

    def _output(self, h: np.ndarray, mask: np.ndarray, keep: float):
        if mask.shape[-1:] != (self.units,):
            raise SpecError(f"mask must have shape (..., {self.units}) (got {mask.shape})")
        z = (mask * h) / keep
        if self.W2 is not None:
            z = self.phi(z @ self.W2.T + self.b2)
        o = z @ self.readout
        return float(o) if o.ndim == 0 else o


def small_network(units: int, activation: str, rng: np.random.Generator, init: str = "glorot_normal",
                  inputs: int = 4, *, units2: int = 8) -> SmallNetwork:
    """A random :class:`SmallNetwork`: weights from ``init`` (via :func:`sims.init.sample_weights`, fans of each
    layer, readout fan_out = 1), biases 0 (the Keras default); ``units2 = 0`` for the readout-only network."""
    units = check.integer("units", units, 1)
    inputs = check.integer("inputs", inputs, 1)
    units2 = check.integer("units2", units2, 0)
    act = get_activation(activation).name
    check.generator(rng, "small_network")
    scheme = get_init(init)
    W1 = sample_weights(scheme, inputs, units, rng, np.float64)
    W2 = sample_weights(scheme, units, units2, rng, np.float64) if units2 else None
    last = units2 or units
    readout = sample_weights(scheme, last, 1, rng, np.float64)[0]
    return SmallNetwork(W1, np.zeros(units), W2, np.zeros(units2) if units2 else None, readout, act)


def exact_ensemble_mean(net: SmallNetwork, x, keep) -> float:
    """sum over all 2^units masks m of P(m) o(x; m): the exact mean of the dropout ensemble (units <= 20)."""
    keep = check_keep(keep)
    _check_enumerable(net.units)
    h = net.hidden(x)
    total = 0.0
    for m, prob in _mask_blocks(net.units, keep):
        total += float(prob @ net._output(h, m, keep))
    return total


def weight_scaling(net: SmallNetwork, x, keep) -> float:
    """The weight-scaling rule: D replaced by E[D] = keep. With inverted dropout D h / keep -> h, i.e. the plain
    network with no mask, whatever ``keep`` (the keep probability) is."""
    check_keep(keep)
    return net._output(net.hidden(x), np.ones(net.units), 1.0)


def _mc_outputs(net: SmallNetwork, x, keep: float, T: int, rng: np.random.Generator) -> np.ndarray:
    h = net.hidden(x)
    out = np.empty(T)
    for start in range(0, T, _BLOCK):
        stop = min(start + _BLOCK, T)
        out[start:stop] = net._output(h, _bernoulli(rng, (stop - start, net.units), keep), keep)
    return out


def mc_dropout_mean(net: SmallNetwork, x, keep, T: int, rng: np.random.Generator) -> float:
    """Monte Carlo dropout: the average of o(x; m) over T masks drawn i.i.d. Bernoulli(keep) from ``rng``; its
    error against :func:`exact_ensemble_mean` has standard deviation sd(o) / sqrt(T)."""
    keep = check_keep(keep)
    T = check.integer("T", T, 1)
    check.generator(rng, "mc_dropout_mean")
    return float(_mc_outputs(net, x, keep, T, rng).mean())


def _network_and_input(units, activation, seq: np.random.SeedSequence, init, inputs, units2):
    rng = np.random.default_rng(seq)
    net = small_network(units, activation, rng, init, inputs, units2=units2)
    return net, rng.standard_normal(net.inputs)


def ensemble_gap(units: int, keep, activation: str, *, seeds: int = 64, inputs: int = 4, rng_seed: int = 0,
                 init: str = "glorot_normal", units2: int = 8) -> dict:
    """exact ensemble mean - weight scaling over ``seeds`` independent random networks, each with its own input
    x ~ N(0, I_inputs), all from ``SeedSequence(rng_seed).spawn(seeds)``. Returns ``gap_abs_mean``, ``gap_abs_se``
    (mean and standard error across networks of |gap|), ``gap_signed_mean``, ``gap_signed_se``, ``gaps`` (the
    signed gaps, one per network) and the parameters. ``keep`` is the keep probability."""
    keep = check_keep(keep)
    units = _check_enumerable(check.integer("units", units, 1))
    seeds = check.integer("seeds", seeds, 2)
    gaps = np.empty(seeds)
    for i, seq in enumerate(np.random.SeedSequence(rng_seed).spawn(seeds)):
        net, x = _network_and_input(units, activation, seq, init, inputs, units2)
        gaps[i] = exact_ensemble_mean(net, x, keep) - weight_scaling(net, x, keep)
    absg = np.abs(gaps)
    root = math.sqrt(seeds)
    return {"units": units, "keep": keep, "activation": get_activation(activation).name, "seeds": seeds,
            "inputs": inputs, "units2": units2, "init": init, "rng_seed": rng_seed,
            "gap_abs_mean": float(absg.mean()), "gap_abs_se": float(absg.std(ddof=1) / root),
            "gap_signed_mean": float(gaps.mean()), "gap_signed_se": float(gaps.std(ddof=1) / root),
            "gaps": gaps}


def dropout_ensemble(units: int, keep, activation: str = "relu", *, T: int = 1000, seed: int = 0,
                     init: str = "glorot_normal", units2: int = 8, d_in: int = 4) -> dict:
    """One random network (x -> phi -> dropout -> phi -> readout, ``units`` droppable units, ``keep`` the keep
    probability) and one input x ~ N(0, I_d_in): the exact ensemble mean over all 2^units masks, weight scaling,
    and the Monte Carlo mean of T masks with its standard error sd/sqrt(T). Seeds: SeedSequence(seed).spawn(2),
    the first draws the network then x, the second the masks. Keys: ensemble_mean, weight_scaling, mc_mean, se,
    masks (2^units), keep, activation, units, T, seed, init, units2, d_in."""
    keep = check_keep(keep)
    units = _check_enumerable(check.integer("units", units, 1))
    T = check.integer("T", T, 2, why=" (the standard error needs two samples)")
    if T > MAX_T:
        raise SpecError(f"T must be at most {MAX_T:,} Monte Carlo masks (got {T}): the standard error shrinks as "
                        "1/sqrt(T), and 10^7 masks already give 3e-4 of the output's spread")
    seed = check.seed(seed)
    net_seq, mc_seq = np.random.SeedSequence(seed).spawn(2)
    with np.errstate(all="ignore"):  # overflow is detected below and refused, never printed as a warning
        net, x = _network_and_input(units, activation, net_seq, init, d_in, units2)
        samples = _mc_outputs(net, x, keep, T, np.random.default_rng(mc_seq))
        exact, scaled = exact_ensemble_mean(net, x, keep), weight_scaling(net, x, keep)
        mean, se = float(samples.mean()), float(samples.std(ddof=1) / math.sqrt(T))
    if not all(math.isfinite(v) for v in (exact, scaled, mean, se)):
        raise SpecError(f"the network's output overflows float64 with the activation {net.activation!r} "
                        "(a value is inf or nan): no ensemble mean to compare")
    return {"ensemble_mean": exact, "weight_scaling": scaled, "mc_mean": mean, "se": se,
            "masks": 1 << units, "keep": keep, "activation": net.activation, "units": units, "T": T,
            "seed": seed, "init": init, "units2": units2, "d_in": d_in}


# ------------------------------------------------------------------ a single sigmoid unit (Baldi & Sadowski 2013)
def sigmoid_unit_ensemble(w, x, keep, *, activation: str = "sigmoid") -> dict:
    """One unit o = phi(sum_i D_i w_i x_i), non-inverted dropout on its n inputs (n <= 20), ``keep`` the keep
    probability. Returns ``ensemble_mean`` = E[phi(z)] (exact, all 2^n masks), ``weight_scaled`` = phi(keep w.x),
    ``nwgm`` = G / (G + G'), G = prod_m phi(z_m)^P(m), G' = prod_m (1 - phi(z_m))^P(m) (in log space), ``masks``.
    For the sigmoid, NWGM = sigma(E[z]) = sigma(keep w.x) exactly. Other activations must map into [0, 1]
    (their 1 - phi is formed directly: accurate to about 1e-16 / (1 - phi))."""
    keep = check_keep(keep)
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if w.ndim != 1 or w.shape != x.shape:
        raise SpecError(f"w and x must be 1-D of the same length (got shapes {w.shape} and {x.shape})")
    n = _check_enumerable(w.size, "inputs")
    act = get_activation(activation)
    f = kernel(act).f
    m, prob = masks(n, keep)
    z = m @ (w * x)
    phi = f(z)
    if act.family == "sigmoid":  # log sigma(z) = -log(1 + e^-z), log(1 - sigma(z)) = -log(1 + e^z): no cancellation
        log_g, log_g1 = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    else:
        if np.any(phi < 0) or np.any(phi > 1):
            raise SpecError(f"the NWGM needs outputs in [0, 1]; {act.name} leaves it (range of the values here: "
                            f"[{phi.min():.3g}, {phi.max():.3g}])")
        with np.errstate(divide="ignore"):  # log 0 = -inf is the right limit: G = 0
            log_g, log_g1 = np.log(phi), np.log1p(-phi)
    live = prob > 0  # keep = 1: masks of probability 0 must not contribute 0 * (-inf) = nan
    lg, lg1 = float(prob[live] @ log_g[live]), float(prob[live] @ log_g1[live])
    # G / (G + G') = sigma(log G - log G'); nan when G = G' = 0 (phi hits both 0 and 1 on masks of the ensemble)
    nwgm = math.nan if lg == lg1 == -math.inf else float(expit(lg - lg1))
    return {"ensemble_mean": float(prob @ phi), "weight_scaled": float(f(np.array(keep * float(w @ x)))),
            "nwgm": nwgm, "masks": 1 << n, "keep": keep, "activation": act.name}


# ------------------------------------------------------------------ dropout as a penalty (Wager et al. 2013)
def _check_regression(X, y, w):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise SpecError(f"need X (n_samples, n_features), y (n_samples,), w (n_features,) (got {X.shape}, "
                        f"{y.shape}, {w.shape})")
    return X, y, w


def _losses(X, y, w, m, keep):
    """L = sum_i (y_i - sum_j w_j x_ij D_ij / keep)^2 for each mask m of shape (B, n_samples, n_features)."""
    r = y - ((m * X) / keep) @ w
    return np.einsum("bi,bi->b", r, r)


def expected_dropout_loss(X, y, w, keep) -> float:
    """E over inverted dropout masks on every x_ij (i.i.d. Bernoulli(keep), keep the keep probability) of the
    squared loss sum_i (y_i - x~_i . w)^2, by enumerating all 2^(n_samples n_features) masks
    (n_samples * n_features <= 20)."""
    keep = check_keep(keep)
    X, y, w = _check_regression(X, y, w)
    N = X.size
    if N > MAX_ENUMERATE_UNITS:
        raise SpecError(f"exact enumeration visits 2^n masks: n = n_samples * n_features <= {MAX_ENUMERATE_UNITS} "
                        f"(got {X.shape[0]} * {X.shape[1]} = {N})")
    total = 0.0
    for m, prob in _mask_blocks(N, keep):
        total += float(prob @ _losses(X, y, w, m.reshape(-1, *X.shape), keep))
    return total


def dropout_loss_mc(X, y, w, keep, T: int, rng: np.random.Generator) -> dict:
    """The same expectation by Monte Carlo over T masks from ``rng``: ``mean``, ``se`` (sd / sqrt(T)), ``T``,
    ``keep`` (the keep probability)."""
    keep = check_keep(keep)
    X, y, w = _check_regression(X, y, w)
    T = check.integer("T", T, 2, why=" (the standard error needs two samples)")
    check.generator(rng, "dropout_loss_mc")
    out = np.empty(T)
    block = max(1, _BLOCK // max(1, X.size // 16))
    for start in range(0, T, block):
        stop = min(start + block, T)
        out[start:stop] = _losses(X, y, w, _bernoulli(rng, (stop - start, *X.shape), keep), keep)
    return {"mean": float(out.mean()), "se": float(out.std(ddof=1) / math.sqrt(T)), "T": T, "keep": keep}


# ------------------------------------------------------------------ variance shift (Li et al. 2019)
def _exact_moments(act, q: np.ndarray):
    """(c, v) = mean and variance of phi(sqrt(q) Z), Z ~ N(0, 1), from the closed forms of theory.activations, or
    None where it has none."""
    forms = moment_closed_forms(act)
    if forms["mean"] is None or forms["second"] is None:
        return None
    mean = sp.lambdify(q_symbol, forms["mean"], modules=["scipy", "numpy"])
    second = sp.lambdify(q_symbol, forms["second"], modules=["scipy", "numpy"])
    c = np.broadcast_to(np.asarray(mean(q), dtype=np.float64), q.shape)
    return c.copy(), np.broadcast_to(np.asarray(second(q), dtype=np.float64), q.shape) - c * c


def variance_shift_network(keep, *, width: int = 64, batch: int = 256, steps: int = 200, seed: int = 0,
                           activation: str = "relu", init: str = "he_normal", replicas: int = 16,
                           test_samples: int = 4096) -> dict:
    """Dropout before batch norm, measured. Per replica (``SeedSequence(seed).spawn(replicas)``): a random layer
    a = phi(W x), W (width, width) from ``init``, x ~ N(0, I); train ``steps`` batches of a through inverted
    :class:`Dropout` (``keep`` = keep probability) into a torch-convention :class:`sims.batchnorm.BatchNorm`
    (momentum 0.1, unbiased batch variance in the running estimate); then test with dropout off on
    ``test_samples`` fresh inputs.

    Per unit, arrays of shape (replicas, width): ``running_var`` (train estimate), ``test_var`` (sample variance,
    ddof 1, of the BN input a at test time), ``ratio`` = test_var / running_var, ``c``, ``v`` (mean and variance of
    a given W: exact Gaussian moments at q = |w_j|^2 when theory.activations has closed forms, else the test
    sample's; ``moments`` says which), ``theory_ratio`` = keep v / (v + (1 - keep) c^2), ``jensen`` (relative
    variance of the running estimate, (m / (2 - m)) Var(s^2) / E[s^2]^2 from the batch variances s^2 seen in
    training: E[1/R] = (1 + jensen) / E[R] to second order, so E[ratio] ~ theory (1 + jensen)).
    Summaries across replicas (each replica's unit average is one independent draw): ``ratio_mean``, ``ratio_se``,
    ``theory_mean``, ``theory_se``, ``diff_mean``, ``diff_se`` (paired ratio - theory), ``jensen_bias`` (the mean of
    theory * jensen, the expected diff to second order), ``init_weight`` = 0.9^steps (weight left on the initial
    running_var = 1).
    """
    keep = check_keep(keep)
    width = check.integer("width", width, 1)
    batch = check.integer("batch", batch, 2)
    steps = check.integer("steps", steps, 1)
    replicas = check.integer("replicas", replicas, 2)
    test_samples = check.integer("test_samples", test_samples, 2)
    act = get_activation(activation)
    f = kernel(act).f
    scheme = get_init(init)
    shape = (replicas, width)
    out = {k: np.empty(shape) for k in ("running_var", "test_var", "c", "v", "jensen")}
    method = "closed form"
    for r, seq in enumerate(np.random.SeedSequence(seed).spawn(replicas)):
        rng = np.random.default_rng(seq)
        W = sample_weights(scheme, width, width, rng, np.float64)
        drop, bn = Dropout(keep), BatchNorm(width, convention="torch")
        s2 = np.empty((steps, width))
        for t in range(steps):
            u = drop(f(rng.standard_normal((batch, width)) @ W.T), rng)
            s2[t] = u.var(axis=0, ddof=1)
            bn(u)
        a = f(rng.standard_normal((test_samples, width)) @ W.T)  # test time: dropout off, BN input = a
        out["running_var"][r] = bn.running_var
        out["test_var"][r] = a.var(axis=0, ddof=1)
        mom = bn.momentum
        out["jensen"][r] = mom / (2 - mom) * s2.var(axis=0, ddof=1) / s2.mean(axis=0) ** 2
        exact = _exact_moments(act, np.einsum("ij,ij->i", W, W))
        if exact is None:
            method = "test sample"
            exact = (a.mean(axis=0), out["test_var"][r])
        out["c"][r], out["v"][r] = exact
    c, v = out["c"], out["v"]
    out["ratio"] = out["test_var"] / out["running_var"]
    out["theory_ratio"] = theory_dropout.variance_shift_function("ratio")(keep, c, v)
    root = math.sqrt(replicas)

    def mean_se(a2d):
        per = a2d.mean(axis=1)
        return float(per.mean()), float(per.std(ddof=1) / root)

    ratio_mean, ratio_se = mean_se(out["ratio"])
    theory_mean, theory_se = mean_se(out["theory_ratio"])
    diff_mean, diff_se = mean_se(out["ratio"] - out["theory_ratio"])
    return {**out, "keep": keep, "width": width, "batch": batch, "steps": steps, "seed": seed,
            "replicas": replicas, "test_samples": test_samples, "activation": act.name, "init": init,
            "moments": method, "ratio_mean": ratio_mean, "ratio_se": ratio_se, "theory_mean": theory_mean,
            "theory_se": theory_se, "diff_mean": diff_mean, "diff_se": diff_se,
            "jensen_bias": float((out["theory_ratio"] * out["jensen"]).mean()),
            "init_weight": float((1.0 - bn.momentum) ** steps)}


def ensemble_gaps(units: int, keep: float, seeds: int) -> dict:
    """Per activation (relu, linear): mean and standard error of |exact ensemble - weight scaling| and of the signed
    gap over ``seeds`` independent Glorot-uniform networks with ``units`` droppable units (:func:`ensemble_gap`,
    its default rng_seed 0), and the largest |gap|; linear networks have gap 0 up to rounding."""
    out = {}
    for act in ("relu", "linear"):
        g = ensemble_gap(units, keep, act, seeds=seeds, init="glorot_uniform")
        out[act] = {k: g[k] for k in ("gap_abs_mean", "gap_abs_se", "gap_signed_mean", "gap_signed_se")}
        out[act]["gap_abs_max"] = float(max(abs(x) for x in g["gaps"]))
    return out
