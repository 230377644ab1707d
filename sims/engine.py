"""Monte Carlo engine: S independent random networks of a :class:`theory.config.NetworkConfig` on B inputs.

Network s draws everything (weights, biases, inputs, output gradient) from its own Generator, spawned from one
``SeedSequence(seed)``, so networks are independent and a run is reproducible bit for bit.

Forward: h_1 = x W_1^T + b_1, h_l = phi(h_(l-1)) W_l^T + b_l. Backward from a random output gradient
dL/dh_L ~ N(0, 1): delta_(l-1) = (delta_l W_l) * phi'(h_(l-1)) (the convention of :mod:`theory.predict`).

Per layer and per network: pre-activation mean and second moment E[h^2] (``preact_var``; the variance that the
theory's q_l predicts, since weights and biases have mean zero), post-activation mean and second moment, the
fraction of dead units (never positive over the batch), the cosine correlation of the representations of inputs
0 and 1 (input 1 = c0 x_0 + sqrt(1 - c0^2) x_1', the mean-field c_l), E[delta^2] (``grad_var``), and on request the
Frobenius norm of the weight gradient sum_b delta_l^T x_(l-1) (a third matrix product per layer). Every statistic
is reported as mean and standard error across the S networks (units of one network share inputs and are not
independent; networks are).

Memory: the batch is processed in chunks of C rows, and nothing is allocated per batch row outside a chunk (the
inputs and the output gradient are drawn per chunk from row-block streams). Peak memory is at most about
C * (2L + 8) * max(n) * itemsize (each layer's pre- and post-activations of the chunk, kept for the backward pass,
plus inputs, deltas and scratch) plus one network's weights, sum_l n_l n_(l-1) * itemsize (twice with
weight-gradient norms), plus transient sampling scratch of 40 bytes per entry of the largest weight matrix
(:func:`plan_chunk`). C is chosen so that the first term stays under ``CHUNK_BYTES`` (512 MiB); a run whose
estimated peak exceeds ``MEMORY_LIMIT_BYTES`` (8 GiB) is refused. Buffers are reused between networks and runs;
after a run only that run's buffers stay allocated. Statistics are sums over rows, so they do not depend on C
beyond float rounding; a network that diverges in chunk k averages its earlier layers over the rows they saw.

Divergence: the first layer at which a network's sums are non-finite (overflow past the dtype's range, or nan) is
recorded; that network stops there, its later statistics are nan, and the run goes on. ``diverged_at`` is the
earliest such layer over the networks; statistics of layers at or after it are nan (null in JSON), never a mean
over the survivors, which would be biased. No RuntimeWarning escapes (floating-point errors are silenced inside and
detected from the sums).

Batch norm (``config.batchnorm``; the layer of :mod:`theory.config`: h_l = W_l x_(l-1) + b_l, u_l = (h_l -
mean_B) / sqrt(var_B + eps) per unit over the batch rows, x_l = phi(u_l)) runs through the same pipeline
(:mod:`sims.pipeline`) with the batch-norm step on. BN couples the rows, so the chunk is the whole batch
(an explicit smaller chunk is refused; the memory estimate and limit are those above with C = B). There
``preact_*``, ``dead_fraction`` and ``correlation`` are of u_l (BN's output, the input of phi), ``post_*`` of x_l,
and ``grad_var`` = E[(dL/dh_l)^2] of the pre-BN h_l, back-propagated through BN
(dL/dh = (du - mean_B du - u mean_B(du u)) / sqrt(var_B + eps), du = dL/du) from a random output gradient
dL/dx_L ~ N(0, 1) drawn from the same row-block streams as above (reproducible); the weight-gradient norm is that
of dL/dW_l = (dL/dh_l)^T x_(l-1). Seed s draws the same weights, inputs and output gradient with or without BN.
Divergence: as above (a non-finite u_l, x_l or dL/dh_l); the batch moments are float64, so a float32 h of any
finite size normalizes, and a float64 variance past the range is recomputed from h scaled by its largest value.

Dropout (``config.dropout_keep`` = p < 1, the KEEP probability; :mod:`theory.config`): inverted dropout on the outputs
of layers 1..L-1, x_l = D_l * phi(h_l) / p, in the same pipeline (after phi, so with batch norm the next layer's BN sees
the dropped-out signal); p = 1 runs the path above unchanged. The mask of layer l, rows [r, r + 64), comes from the stream SeedSequence([key, l, r // 64]) (a third key
after the input and output-gradient keys: seed s draws the same weights, inputs and output gradient with and without
dropout), as float32 uniforms U with D = (U < p), so P(D = 1) = p within 2^-24 and the masks, like the inputs, do not
depend on the chunk. The backward pass uses the same mask: delta_(l-1) = (delta_l W_l) * (D_(l-1) / p) * phi'(h_(l-1));
the forward pass stores the product (D/p) phi'(h) per hidden layer (one more array per hidden layer: memory
C * (3L + 7) * max(n) * itemsize, plus one byte per entry for the mask and a 64-row block of uniforms). Statistics: the
pre-activation ones (``preact_*``, ``dead_fraction``, ``correlation``) are of h_l (of u_l with BN), which sees the
dropped-out x_(l-1); ``post_*`` are of the dropped-out x_l at layers 1..L-1 and of phi(h_L) at layer L (not dropped);
``grad_var`` is E[(dL/dh_l)^2] through the masks. Chunk invariance and divergence are as above (a non-finite x_l, which
phi / p can reach before phi does, is a divergence at layer l).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from sims import pipeline, statistics
from sims.activations import kernel
from sims.statistics import STATS  # noqa: F401 - the statistics' names, part of this module's interface
from sims.streams import GRAD_BLOCK
from sims.workspace import CHUNK_BYTES, MEMORY_LIMIT_BYTES, WORKSPACE, Workspace  # noqa: F401 - re-exported
from theory import validate as check
from theory.config import NetworkConfig
from theory.errors import SpecError



#: The engine's time model, for refusing runs before they start (not a promise of speed): matrix products at
#: FLOP_RATE (float32 on this 2-core machine measures 100-190 GFLOP/s; the slower end is taken), plus a fixed Python
#: cost per layer, chunk and network. A run estimated above MAX_SECONDS is refused.
FLOP_RATE = 1e11
LAYER_OVERHEAD_S = 5e-5
MAX_SECONDS = 24 * 3600.0


def estimate_seconds(config: NetworkConfig, batch: int, seeds: int, chunk: int, weight_grad_norm: bool = False) -> float:
    """The time model's estimate of a run: 2 n_(l-1) n_l flops per row and layer for each matrix product (forward,
    backward, and the weight gradient on request), n_(l-1) n_l weights drawn per layer at about 10 flops each, and
    LAYER_OVERHEAD_S per layer, chunk and network."""
    pairs = sum(a * b for a, b in zip(config.widths[:-1], config.widths[1:]))
    products = 3 if weight_grad_norm else 2
    flops = seeds * (2.0 * pairs * batch * products + 10.0 * pairs)
    chunks = -(-batch // max(chunk, 1))
    return flops / FLOP_RATE + seeds * chunks * config.depth * LAYER_OVERHEAD_S


ROW_ARRAYS_EXTRA = 8  # per chunk besides the 2L stored layers: input, output gradient, 2 deltas, 1 scratch, and
# room for an activation kernel's temporaries and a float64 re-summation


def plan_chunk(config: NetworkConfig, batch: int, itemsize: int, chunk: int | None = None) -> tuple[int, int]:
    """(rows per chunk, estimated peak bytes): chunk * (2L + 8) * max(n) * itemsize for the chunk's arrays, plus
    one network's weights, plus 40 bytes per entry of the largest weight matrix for transient sampling scratch
    (an orthogonal init's float64 QR: 29 bytes per entry measured at 256 x 256). Nothing grows with the batch:
    inputs and output gradients are drawn per chunk. With dropout, per row (L - 1) * max(n) * itemsize + max(n) more
    (the stored (D/p) phi' arrays and the boolean mask) and a 64-row block of float32 uniforms."""
    widest = max(config.widths)
    per_row = (2 * config.depth + ROW_ARRAYS_EXTRA) * widest * itemsize
    fixed = 0
    if config.dropout_keep < 1:  # L - 1 stored (D/p) phi'(h) arrays, a boolean mask, a block of float32 uniforms
        per_row += (config.depth - 1) * widest * itemsize + widest
        fixed = GRAD_BLOCK * widest * 4
    if chunk is None:
        chunk = max(2, min(batch, CHUNK_BYTES // per_row))
    chunk = min(chunk, batch)
    sizes = [a * b for a, b in zip(config.widths[:-1], config.widths[1:])]
    return chunk, chunk * per_row + sum(sizes) * itemsize + 40 * max(sizes) + fixed


def validate(batch: int, seeds: int, dtype: str, chunk: int | None) -> None:
    """SpecError (one line) unless batch >= 2 (two inputs for the correlation), seeds >= 2 (a standard error across
    networks), dtype float32 / float64 and chunk None or >= 2."""
    if not isinstance(batch, int) or batch < 2:
        raise SpecError(f"batch must be an integer >= 2 (got {batch!r}): the two-input correlation needs 2 rows")
    if not isinstance(seeds, int) or seeds < 2:
        raise SpecError(f"seeds must be an integer >= 2 (got {seeds!r}): no standard error from one network")
    if dtype not in ("float32", "float64"):
        raise SpecError(f"dtype must be float32 or float64 (got {dtype!r})")
    if chunk is not None and (not isinstance(chunk, int) or chunk < 2):
        raise SpecError(f"chunk must be an integer >= 2 (got {chunk!r})")


def bn_trace(config: NetworkConfig, batch: int, rng: np.random.Generator, *, dtype: str = "float64",
             input_correlation: float = 0.5, inputs: np.ndarray | None = None) -> dict:
    """The tensors of one batch-norm network drawn from ``rng`` (float64 copies, for tests and inspection): ``W``,
    ``b`` (None without bias), ``inputs``, ``output_grad`` (dL/dx_L) and per layer ``h``, ``u``, ``x``, ``sigma``,
    ``dh`` (dL/dh_l), plus ``stats`` (what :func:`simulate` reports for this network). With
    ``rng = np.random.default_rng(SeedSequence(seed).spawn(S)[s])`` it is network s of ``simulate(..., seed=seed)``."""
    if not config.batchnorm:
        raise SpecError("bn_trace needs a batch-norm config (batchnorm=True)")
    validate(batch, 2, dtype, None)
    trace: dict = {}
    stats, div = pipeline.network(config, kernel(config.act), config.scheme, rng, batch, batch, dtype, input_correlation,
                                  False, None if inputs is None else np.asarray(inputs), Workspace(), trace=trace)
    trace["stats"], trace["diverged_at"] = stats, div
    return trace


def dropout_trace(config: NetworkConfig, batch: int, rng: np.random.Generator, *, dtype: str = "float64",
                  input_correlation: float = 0.5, inputs: np.ndarray | None = None) -> dict:
    """The tensors of one dropout network drawn from ``rng`` (float64 copies, for tests and inspection; the whole batch
    in one chunk): ``W``, ``b``, ``inputs``, ``output_grad`` and per layer ``h`` (u with batch norm), ``phi``
    (phi(h), before dropout), ``mask`` (D as 0.0 / 1.0; None at layer L, not dropped), ``x`` (the layer's output,
    D * phi(h) / p), ``dh`` (dL/dh_l), plus ``stats`` and ``diverged_at``. With
    ``rng = np.random.default_rng(SeedSequence(seed).spawn(S)[s])`` it is network s of ``simulate(..., seed=seed)``.
    A batch-norm config gives :func:`bn_trace`'s tensors with ``mask`` and ``phi`` added."""
    if not config.dropout_keep < 1:
        raise SpecError("dropout_trace needs a dropout config (dropout_keep < 1)")
    if config.batchnorm:
        return bn_trace(config, batch, rng, dtype=dtype, input_correlation=input_correlation, inputs=inputs)
    validate(batch, 2, dtype, None)
    trace: dict = {}
    stats, div = pipeline.network(config, kernel(config.act), config.scheme, rng, batch, batch, dtype,
                                  input_correlation, False, None if inputs is None else np.asarray(inputs),
                                  Workspace(), trace=trace)
    trace["stats"], trace["diverged_at"] = stats, div
    return trace


class Simulation(dict):
    """What :func:`simulate` returns: a plain dict (``summary``, ``per_network``, ``diverged_at``, ``samples``,
    ``diverged_networks``, ``seconds``, ``chunk``, ``peak_bytes_estimate``) that Jupyter shows as the per-layer table
    of Var(h_l) = E[h_l^2] and Var(delta_l) = E[delta_l^2], mean ± standard error across the S networks."""

    def _repr_markdown_(self) -> str:
        """Jupyter: one row per layer, Var(h_l) and Var(delta_l) as mean ± s.e.; "—" where a layer diverged."""
        summary = self.get("summary") or {}
        networks = len(self.get("per_network") or ())
        head = f"**Monte Carlo**: {networks} independent networks, mean ± standard error across them"
        if self.get("diverged_at") is not None:
            head += (f"; {self.get('diverged_networks', 0)} diverged, the first at layer {self['diverged_at']} "
                     "(undefined statistics: —)")
        out = [head, "", "| layer | $\\mathrm{Var}(h_l)$ | $\\mathrm{Var}(\\delta_l)$ |", "| ---: | ---: | ---: |"]
        pre, grad = summary.get("preact_var"), summary.get("grad_var")
        depth = len(pre[0]) if pre is not None else 0
        for l in range(depth):
            cells = [self._cell(*stat, l) if stat is not None else "—" for stat in (pre, grad)]
            out.append(f"| {l + 1} | {cells[0]} | {cells[1]} |")
        return "\n".join(out)

    @staticmethod
    def _cell(mean, se, l: int) -> str:
        """'m ± s' (4 and 2 significant digits; 0 below 1e-15), '—' where the mean is not finite (diverged)."""
        m, s = float(mean[l]), float(se[l])
        if not math.isfinite(m):
            return "—"
        text = "0" if abs(m) < 1e-15 else f"{m:.4g}"
        if math.isfinite(s):
            text += " ± " + ("0" if abs(s) < 1e-15 else f"{s:.2g}")
        return text


def simulate(config: NetworkConfig, batch: int, seeds: int, *, dtype: str = "float32", seed: int = 0,
             chunk: int | None = None, input_correlation: float = 0.5, weight_grad_norm: bool = False,
             inputs: np.ndarray | None = None, progress: Callable[[int, int], None] | None = None,
             samples_per_layer: int = 0, backend: str = "numpy", device: str = "cpu", kurtosis: bool = False,
             input: str = "gaussian") -> dict:
    """Run ``seeds`` independent networks on ``batch`` inputs; per-layer means and standard errors.

    Per layer l and statistic (``result["summary"][name]`` = (mean, se) arrays over layers): the mean over the S
    networks and its standard error std / sqrt(S), networks independent (each from its own SeedSequence child);
    ``preact_var`` = E[h_l^2] is what the mean-field q_l predicts, ``grad_var`` = E[delta_l^2] from a random output
    gradient dL/dh_L ~ N(0, 1) (module docstring). Returns a :class:`Simulation` (a dict; Jupyter shows the table).

    ``samples_per_layer`` > 0 (on request: histograms and quantiles) keeps, per network and layer, that many
    post-activation values and back-propagated deltas from the first rows of the batch, in
    ``result["samples"]["post"|"grad"][layer]`` (concatenated over networks).

    ``kurtosis``: also ``preact_excess_kurtosis`` per layer (pooled over the networks, jackknife standard error:
    :func:`sims.statistics.pooled_kurtosis`); ``input``: ``gaussian`` (default) or ``fixed`` (every input of norm
    |x|^2 / n_0 = input_var), the ensembles of :mod:`theory.fluctuations`.
    """
    validate(batch, seeds, dtype, chunk)
    seed = check.seed(seed)
    if not (-1.0 <= input_correlation <= 1.0):
        raise SpecError(f"input correlation must be in [-1, 1] (got {input_correlation})")
    if inputs is not None:
        inputs = np.asarray(inputs)
        if inputs.ndim != 2 or inputs.shape != (batch, config.widths[0]):
            raise SpecError(f"inputs must have shape (batch, n_0) = ({batch}, {config.widths[0]}), got {inputs.shape}")
    if backend not in ("numpy", "torch"):
        raise SpecError(f"backend must be numpy or torch (got {backend!r})")
    if input not in ("gaussian", "fixed"):
        raise SpecError(f"input must be gaussian or fixed (got {input!r})")
    if (kurtosis or input != "gaussian") and backend != "numpy":
        raise SpecError("--kurtosis and --input fixed: numpy backend only")
    if input != "gaussian" and inputs is not None:
        raise SpecError("--input fixed draws its own inputs: do not pass inputs too")
    if config.dropout_keep < 1 and backend != "numpy":
        raise SpecError("dropout: numpy backend only (the torch backend does not implement it)")
    if config.batchnorm:
        if backend != "numpy":
            raise SpecError("batch norm: numpy backend only")
        if chunk is not None and chunk < batch:
            raise SpecError(f"batch norm normalizes over the whole batch, so the chunk must hold all {batch} rows "
                            f"(got chunk {chunk}; leave it out)")
        chunk = batch
    itemsize = np.dtype(dtype).itemsize
    if backend == "torch":
        from sims import torch_backend
        if weight_grad_norm or samples_per_layer or inputs is not None:
            raise SpecError("the torch backend computes the default statistics only")
        dev = torch_backend.device_of(device)
        chunk, peak, limit = torch_backend.plan(config, batch, itemsize, dev, chunk)
    else:
        if device != "cpu":
            raise SpecError("--device cuda needs --backend torch")
        chunk, peak = plan_chunk(config, batch, itemsize, chunk)
        limit = MEMORY_LIMIT_BYTES
    if weight_grad_norm:
        peak += sum(a * b for a, b in zip(config.widths[:-1], config.widths[1:])) * itemsize
    if peak > limit:
        raise SpecError(f"this run needs about {peak / 2**30:.1f} GiB; the limit is {limit / 2**30:.1f} GiB "
                        "(lower the width, depth or --chunk)")
    seconds_needed = estimate_seconds(config, batch, seeds, chunk, weight_grad_norm)
    if seconds_needed > MAX_SECONDS:
        raise SpecError(f"this run is about {seconds_needed / 3600:,.0f} hours of work by the engine's time model "
                        f"({FLOP_RATE / 1e9:g} GFLOP/s for the products, {LAYER_OVERHEAD_S * 1e6:g} us per layer and "
                        f"chunk); the limit is {MAX_SECONDS / 3600:g} hours: lower the seeds, batch, width or depth")
    kern = kernel(config.act)
    scheme = config.scheme
    children = np.random.SeedSequence(seed).spawn(seeds)
    per_net, diverged = [], []
    workspace = WORKSPACE  # kept between runs: re-touching fresh 8 MB buffers costs page faults every call
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for s, child in enumerate(children):
            if backend == "torch":
                stats, div = torch_backend.network(config, config.act, scheme, child, batch, chunk, dtype,
                                                   input_correlation, dev)
                per_net.append(stats)
                diverged.append(div)
                if progress is not None:
                    progress(s + 1, seeds)
                continue
            stats, div = pipeline.network(config, kern, scheme, np.random.default_rng(child), batch, chunk, dtype,
                                          input_correlation, weight_grad_norm, inputs, workspace, samples_per_layer,
                                          fourth=kurtosis, fixed_input=input == "fixed")
            per_net.append(stats)
            diverged.append(div)
            if progress is not None:
                progress(s + 1, seeds)
    seconds = time.perf_counter() - t0
    workspace.release_unused()
    samples = None
    if samples_per_layer:
        samples = {kind: [np.concatenate([p["samples"][kind][l] for p in per_net if p["samples"][kind][l] is not None])
                          if any(p["samples"][kind][l] is not None for p in per_net) else np.empty(0)
                          for l in range(config.depth)] for kind in ("post", "grad")}
        for p in per_net:
            del p["samples"]
    summary = statistics.summarize(per_net, diverged, seeds)
    first = min((d for d in diverged if d is not None), default=None)
    return Simulation({"summary": summary, "per_network": per_net, "diverged_at": first, "samples": samples,
                       "diverged_networks": sum(d is not None for d in diverged), "seconds": seconds, "chunk": chunk,
                       "peak_bytes_estimate": peak})


def run_json(config: NetworkConfig, batch: int, seeds: int, **kwargs) -> dict:
    """The ``sims run --json`` document (DESIGN.md): config, layers with MC and theory, diverged_at, seconds."""
    from theory.predict import predict

    theory = predict(config)["layers"]  # first: a user's expression is analysed before the long work
    finite = None
    if kwargs.get("kurtosis"):  # the first order in 1/width beside the measurement, where it applies
        from theory.fluctuations import for_config

        try:
            finite = for_config(config, kwargs.get("input", "gaussian"))
        except SpecError:
            finite = [{"preact_var_finite": None, "preact_excess_kurtosis": None}] * config.depth
    bound = None
    if kwargs.get("kurtosis"):  # where the exact law applies: can this many networks measure a fourth moment?
        from theory.finite_width import fourth_moment_se_bound
        from theory.fluctuations import exact_law_applies

        if exact_law_applies(config):
            bound = fourth_moment_se_bound(config.widths, seeds)
    res = simulate(config, batch, seeds, **kwargs)
    layers = []
    for l in range(config.depth):
        row = {"layer": l + 1}
        for k, (mean, se) in res["summary"].items():
            row[k] = {"mean": float(mean[l]), "se": float(se[l])}
        row["theory_preact_var"] = theory[l]["preact_var"]
        row["theory_grad_var"] = theory[l]["grad_var"]
        if finite is not None:
            row["theory_preact_var_finite"] = finite[l]["preact_var_finite"]
            row["theory_preact_excess_kurtosis"] = finite[l]["preact_excess_kurtosis"]
        if bound is not None:
            row["fourth_moment_se_bound"] = bound[l]
        layers.append(row)
    return {"config": config.to_dict(),
            "run": {"batch": batch, "seeds": seeds, "dtype": kwargs.get("dtype", "float32"),
                    "seed": kwargs.get("seed", 0), "chunk": res["chunk"],
                    "input_correlation": kwargs.get("input_correlation", 0.5),
                    "input": kwargs.get("input", "gaussian")},
            "layers": layers, "diverged_at": res["diverged_at"], "diverged_networks": res["diverged_networks"],
            "seconds": res["seconds"], **({} if bound is None else {"too_few_networks_from": _too_few(bound)})}


def _too_few(bound: list[float]) -> int | None:
    """The first layer (1-based) whose bound on the relative SE of E h^4 exceeds the threshold, or None."""
    from theory.finite_width import FOURTH_MOMENT_RELIABLE

    return next((l + 1 for l, b in enumerate(bound) if b > FOURTH_MOMENT_RELIABLE), None)
