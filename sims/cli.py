"""``python -m sims``: numeric commands.

    python -m sims run --activation A --init I --width N --depth L --batch B --seeds S [--bias-var V]
        [--dtype float32|float64] [--backend numpy] [--chunk C] [--seed K] [--input-correlation C0]
        [--weight-grad-norm] [--batchnorm [--bn-eps E]] [--dropout-keep P | --drop Q] --json
    python -m sims dropout-ensemble --units N (--keep P | --drop Q) [--activation A] [--T T] [--seed S] [--json]
    python -m sims batchnorm-rate --activation A --batch B --width N --depth L --seeds S [--init I] [--seed K]
        [--skip K] [--skip-bottom K] [--dtype float32|float64] --json
    python -m sims bench [--repeats R] [--backend numpy|torch] [--device cpu|cuda] [--json]
    python -m sims sweep --grid FILE.toml --out DIR [--executor local|dask] [--scheduler ADDR] [--workers N]
        [--resume] [--timeout S] [--quiet]
    python -m sims sweep-table DIR [--json]
    python -m sims sweep-bench [--repeats R] [--json]
    python -m sims kernels [--activation SPEC ...] [--dtype float32|float64] [--json]
    python -m sims train --dataset digits|mnist:DIR --depth D --width N --activation A --init I [--batchnorm]
        [--dropout-keep P | --drop Q] [--skip] [--l1 C] [--l2 C] [--optimizer sgd|momentum|adam] [--lr LR] [--batch B]
        [--epochs E] [--seed S] [--early-stopping PATIENCE] [--json]

``--drop Q`` is everywhere the DROP probability (PyTorch's nn.Dropout p, Keras' rate) and ``--keep P`` /
``--dropout-keep P`` the KEEP probability 1 - Q. Without ``--json`` the commands print for a person: no None, NaN
or Python lists (a dash where there is no value), numbers at a few significant digits.

``kernels`` prints phi and phi' of the stable numeric kernels on a grid that includes the extremes +-1000, so the
warning-free behaviour can be inspected.
"""
from __future__ import annotations

import math

import numpy as np

from sims.activations import kernel
from theory.activations import NAMES
from theory.cli import keep_probability
from theory.cli_util import ArgumentParser, Progress, dumps, fmt_number, path_arg, run
from theory import budget, validate
from theory.errors import SpecError

PROG = "sims"
GRID = (-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0)
PROGRESS_INTERVAL_S = 2.0  # counted progress (networks, epochs) in a log: a line at most every 2 s, none if quicker
DROP_HELP = ("the same dropout given by its DROP probability q in [0, 1) (PyTorch's nn.Dropout p, Keras' Dropout "
             "rate): --drop Q is --dropout-keep 1-Q")
QUIET_HELP = "no progress on stderr (default: a bar on a terminal; elsewhere a line now and then on long runs)"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}", description="Numeric work on activations and random networks.",
                       epilog=f"Budget: {budget.describe()}.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("run", epilog=f"Budget: {budget.describe()}.", help="Monte Carlo of S independent random networks beside the mean-field theory",
                       description="Simulate S independent networks (each seeded from one SeedSequence) on B inputs; "
                                   "per layer the mean and standard error across networks of each statistic, with "
                                   "the theory's prediction for the same configuration.")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--init", required=True, metavar="SPEC")
    s.add_argument("--width", required=True, type=int)
    s.add_argument("--depth", required=True, type=int)
    s.add_argument("--batch", required=True, type=int, help="inputs per network (>= 2)")
    s.add_argument("--seeds", required=True, type=int, help="independent networks S (>= 2, for a standard error)")
    s.add_argument("--bias-var", type=float, default=0.0)
    s.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    s.add_argument("--backend", default="numpy", choices=["numpy", "torch"],
                   help="numpy (default) or torch (optional dependency; same statistics within Monte Carlo error)")
    s.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="torch device (with --backend torch)")
    s.add_argument("--chunk", type=int, default=None, help="rows per chunk (default: sized to 512 MiB)")
    s.add_argument("--seed", type=int, default=0, help="root seed of the SeedSequence (default 0)")
    s.add_argument("--input-correlation", type=float, default=0.5, help="correlation of inputs 0 and 1")
    s.add_argument("--weight-grad-norm", action="store_true", help="also the weight-gradient norm (3rd matmul)")
    s.add_argument("--kurtosis", action="store_true",
                   help="also the excess kurtosis of the pre-activations per layer (jackknife SE across networks), "
                        "beside the first-order finite-width theory (numpy backend)")
    s.add_argument("--input", choices=["gaussian", "fixed"], default="gaussian",
                   help="inputs N(0, 1) (default) or of equal norm |x|^2/n_0 = 1 (fixed: the fixed-input ensemble)")
    s.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    s.add_argument("--batchnorm", action="store_true",
                   help="batch norm before every activation (numpy backend; the chunk is the whole batch)")
    s.add_argument("--bn-eps", type=float, default=1e-5, help="batch norm's eps (> 0, default 1e-5)")
    rate = s.add_mutually_exclusive_group()
    rate.add_argument("--dropout-keep", type=float, default=1.0, metavar="P",
                      help="KEEP probability p in (0, 1] of inverted dropout x_l = D phi(h_l) / p on layers 1..L-1 "
                           "(PyTorch's nn.Dropout p and Keras' rate are 1 - p: use --drop for those; default 1: no "
                           "dropout; numpy backend; with --batchnorm, dropout comes after phi, before the next "
                           "layer's BN)")
    rate.add_argument("--drop", type=float, default=None, metavar="Q", help=DROP_HELP)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("batchnorm-rate", epilog=f"Budget: {budget.describe()}.", help="gradient explosion rate of a deep batch-norm network vs theory",
                       description="Per-layer growth rate lambda of E[(dL/dh_l)^2] going down a batch-norm network: "
                                   "per network an OLS fit of log grad_var_l against l, lambda = exp(-slope); the "
                                   "geometric mean over S independent networks with its standard error, beside the "
                                   "closed form of theory.batchnorm_rate (null where none).")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--batch", required=True, type=int, help="batch size B (>= 4)")
    s.add_argument("--width", required=True, type=int)
    s.add_argument("--depth", required=True, type=int)
    s.add_argument("--seeds", required=True, type=int, help="independent networks S (>= 2)")
    s.add_argument("--init", default="lecun_normal", metavar="SPEC",
                   help="weights (default lecun_normal; batch norm cancels their scale)")
    s.add_argument("--seed", type=int, default=0, help="root seed of the SeedSequence (default 0)")
    s.add_argument("--skip", type=int, default=3, help="top layers left out of the fit (default 3)")
    s.add_argument("--skip-bottom", type=int, default=1, help="bottom layers left out of the fit (default 1)")
    s.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("dropout-ensemble", epilog=f"Budget: {budget.describe()}.", help="exact dropout ensemble mean vs weight scaling vs Monte Carlo dropout",
                       description="One random network x -> phi -> dropout -> phi -> readout with N droppable units: "
                                   "the exact ensemble mean over all 2^N masks (N <= 20), the weight-scaling "
                                   "approximation, and the mean of T random masks with its standard error "
                                   "(sims.dropout.dropout_ensemble).")
    s.add_argument("--units", required=True, type=int, help="droppable units N (1..20: 2^N masks are enumerated)")
    rate = s.add_mutually_exclusive_group(required=True)
    rate.add_argument("--keep", type=float, metavar="P",
                      help="keep probability p in (0, 1] (PyTorch's p and Keras' rate are 1 - p)")
    rate.add_argument("--drop", type=float, metavar="Q",
                      help="drop probability q in [0, 1), PyTorch's nn.Dropout p = Keras' Dropout rate; "
                           "the same as --keep 1-q")
    s.add_argument("--activation", default="relu", metavar="SPEC", help="phi (default relu)")
    s.add_argument("--T", type=int, default=1000, help="Monte Carlo masks (>= 2, default 1000)")
    s.add_argument("--seed", type=int, default=0, help="root seed of the SeedSequence (default 0)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("bench", help="engine time vs the same matrix products alone (target ratio >= 0.85)")
    s.add_argument("--repeats", type=int, default=5)
    s.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    s.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="with --backend torch: the GPU configuration (width 4096, depth 50, batch 4096) on cuda")
    s.add_argument("--json", action="store_true", help="print the measurements as one JSON document")

    s = sub.add_parser("sweep", epilog=f"Budget: {budget.describe()}.", help="run a grid of configurations through an Executor into an on-disk store",
                       description="Expand the [grid] table of a TOML file (field = [values]; the product of the "
                                   "lists) into configurations and run each (sims.sweep) through a local process "
                                   "pool or a dask cluster; one result file per configuration in DIR/results.")
    s.add_argument("--grid", required=True, type=path_arg, metavar="FILE.toml", help="TOML file with a [grid] table")
    s.add_argument("--out", required=True, type=path_arg, metavar="DIR", help="the store (created if needed)")
    s.add_argument("--executor", default="local", choices=["local", "dask"],
                   help="local: a process pool, one worker per core (default); dask: dask.distributed")
    s.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="with --executor dask: the scheduler's address (default: an in-process LocalCluster)")
    s.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    s.add_argument("--resume", action="store_true",
                   help="continue a sweep in DIR: configurations with a stored result are skipped")
    s.add_argument("--timeout", type=float, default=10.0, help="seconds to reach the dask scheduler (default 10)")
    s.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (default: a bar on a terminal, a line per finished configuration "
                        "elsewhere)")
    s.add_argument("--json", action="store_true", help="print the run summary as JSON")

    s = sub.add_parser("sweep-table", help="the stored results of a sweep, one row per configuration")
    s.add_argument("dir", type=path_arg, metavar="DIR")
    s.add_argument("--json", action="store_true",
                   help="one JSON document: rows (key, config, results), missing (unfinished keys)")

    s = sub.add_parser("sweep-bench", help="sweep throughput: local pool vs one process, and dask's overhead")
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("train", epilog=f"Budget: {budget.describe()}.", help="train a small MLP (NumPy, float64) on digits or MNIST",
                       description="Train an MLP of D hidden layers of width N (then a softmax output layer) with "
                                   "sims.train: deterministic for a seed (weights, shuffles, dropout masks). Per "
                                   "epoch the train loss/accuracy (mean over the minibatches, train mode), the "
                                   "validation loss/accuracy (eval mode) and per-layer weight-gradient norms; the "
                                   "test accuracy at the end (of the best epoch's weights with --early-stopping).")
    s.add_argument("--dataset", required=True, metavar="SPEC",
                   help="digits (scikit-learn's bundled 8x8 digits) or mnist:DIR (the four IDX files in DIR); "
                        "split 70/10/20 train/val/test (MNIST: its own test set), standardized on train, split seed 0")
    s.add_argument("--depth", required=True, type=int, help="hidden layers D (>= 1)")
    s.add_argument("--width", required=True, type=int, help="units per hidden layer N (>= 1)")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--init", required=True, metavar="SPEC")
    s.add_argument("--batchnorm", action="store_true", help="batch norm after each hidden dense layer, before phi")
    rate = s.add_mutually_exclusive_group()
    rate.add_argument("--dropout-keep", type=float, default=1.0, metavar="P",
                      help="KEEP probability p in (0, 1] of inverted dropout after each hidden activation (PyTorch's "
                           "nn.Dropout p and Keras' rate are 1 - p: use --drop for those; default 1: no dropout)")
    rate.add_argument("--drop", type=float, default=None, metavar="Q", help=DROP_HELP)
    s.add_argument("--skip", action="store_true", help="skip connections a_l = a_{l-1} + block(a_{l-1}) (width->width)")
    s.add_argument("--l1", type=float, default=0.0, help="L1 penalty l1 * sum |W| on the weights (default 0)")
    s.add_argument("--l2", type=float, default=0.0, help="L2 penalty l2 * sum W^2 on the weights (default 0)")
    s.add_argument("--optimizer", default="adam", choices=["sgd", "momentum", "adam"])
    s.add_argument("--lr", type=float, default=1e-3, help="learning rate (> 0, default 1e-3)")
    s.add_argument("--batch", type=int, default=64, help="minibatch size (>= 1, default 64)")
    s.add_argument("--epochs", type=int, default=20, help="epochs (>= 1, default 20)")
    s.add_argument("--seed", type=int, default=0, help="seed of the weights, shuffles and dropout masks (default 0)")
    s.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a lower validation loss; restore the best weights")
    s.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("kernels", epilog=f"Budget: {budget.describe()}.", help="evaluate the stable numeric kernels at extreme inputs")
    s.add_argument("--activation", action="append", metavar="SPEC", help="name or expression in x (repeatable)")
    s.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    s.add_argument("--json", action="store_true")
    return p


def _counting(args, unit: str) -> Progress:
    """Progress of a run that counts networks or epochs: a bar on a terminal; elsewhere a line every few seconds,
    only when the run is long (:class:`theory.cli_util.Progress`); nothing with ``--quiet``."""
    return Progress(0, quiet=args.quiet, unit=unit, min_interval=PROGRESS_INTERVAL_S)


def _train(args) -> int:
    from theory.activations import get_activation
    from theory.init import get_init

    get_activation(args.activation)  # unknown specs: one line, before any work
    get_init(args.init)
    p = validate.keep_probability(keep_probability(args), "--dropout-keep")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise SpecError(f"--lr must be a finite number > 0 (got {args.lr!r})")
    for flag, value in (("--depth", args.depth), ("--width", args.width), ("--batch", args.batch),
                        ("--epochs", args.epochs)):
        if value < 1:
            raise SpecError(f"{flag} must be >= 1 (got {value})")
    if args.early_stopping is not None and args.early_stopping < 1:
        raise SpecError(f"--early-stopping is a patience in epochs, >= 1 (got {args.early_stopping})")
    if args.seed < 0:
        raise SpecError(f"--seed must be >= 0 (got {args.seed})")
    for flag, value in (("--l1", args.l1), ("--l2", args.l2)):
        if not (math.isfinite(value) and value >= 0):
            raise SpecError(f"{flag} must be a finite number >= 0 (got {value!r})")
    from sims.data import load_dataset
    from sims.train import MLP, train

    data = load_dataset(args.dataset, seed=0)
    bar = _counting(args, "epochs")
    sizes = [data.n_features] + [args.width] * args.depth + [int(data.n_classes)]
    model = MLP(sizes, args.activation, args.init, batchnorm=args.batchnorm, dropout_keep=p, skip=args.skip,
                l1=args.l1, l2=args.l2, seed=args.seed)
    res = train(model, data, optimizer=args.optimizer, lr=args.lr, batch=args.batch, epochs=args.epochs,
                seed=args.seed, early_stopping=args.early_stopping, progress=bar.callback())
    bar.close()
    config = {"dataset": args.dataset, **model.config(), "depth": args.depth, "width": args.width,
              "optimizer": args.optimizer, "lr": args.lr, "batch": args.batch, "epochs": args.epochs,
              "early_stopping": args.early_stopping, "split_seed": 0, "sizes_data": data.describe()["sizes"]}
    doc = {"config": config, "history": res["history"], "test_acc": res["test_acc"], "test_loss": res["test_loss"],
           "best_epoch": res["best_epoch"], "stopped_epoch": res["stopped_epoch"], "diverged_at": res["diverged_at"],
           "seconds": res["seconds"]}
    if args.json:
        print(dumps(doc))
        return 0
    extras = (", batch norm" if args.batchnorm else "") \
        + (f", dropout keep p = {fmt_number(p)} (drop {fmt_number(1 - p)})" if p < 1 else "") \
        + (", skip" if args.skip else "") \
        + "".join(f", {flag[2:]} {fmt_number(v)}" for flag, v in (("--l1", args.l1), ("--l2", args.l2)) if v)
    print(f"{data.name}: {args.depth} x {args.width} {args.activation}, {args.init}{extras}; {args.optimizer} lr "
          f"{fmt_number(args.lr)}, batch {args.batch}, seed {args.seed}, {res['seconds']:.2f} s")
    print(f"{'epoch':>5} {'train loss':>11} {'train acc':>9} {'val loss':>10} {'val acc':>8}")
    for r in res["history"]:
        print(f"{r['epoch']:>5} {_num(r['train_loss']):>11} {_fixed(r['train_acc']):>9} "
              f"{_num(r['val_loss']):>10} {_fixed(r['val_acc']):>8}")
    if res["diverged_at"] is not None:
        print(f"diverged at step {res['diverged_at']} (non-finite loss or gradient)")
    if res["stopped_epoch"] is not None:
        print(f"early stopping at epoch {res['stopped_epoch']}; restored epoch {res['best_epoch']}")
    print(f"test accuracy {_fixed(res['test_acc'])}")
    return 0


def _run(args) -> int:
    from sims.engine import run_json
    from theory.config import NetworkConfig

    cfg = NetworkConfig(activation=args.activation, init=args.init, width=args.width, depth=args.depth,
                        bias_var=args.bias_var, batchnorm=args.batchnorm, bn_eps=args.bn_eps,
                        dropout_keep=keep_probability(args))
    bar = _counting(args, "networks")
    doc = run_json(cfg, args.batch, args.seeds, dtype=args.dtype, seed=args.seed, chunk=args.chunk,
                   input_correlation=args.input_correlation, weight_grad_norm=args.weight_grad_norm,
                   progress=bar.callback(), backend=args.backend, device=args.device, kurtosis=args.kurtosis,
                   input=args.input)
    bar.close()
    if args.json:
        print(dumps(doc))
        return 0
    bn = f", batch norm (eps {fmt_number(args.bn_eps)}): Var(h) is of BN's output" if args.batchnorm else ""
    if cfg.dropout_keep < 1:
        where = f"on layers 1..{args.depth - 1}" if args.depth > 1 else "(no hidden layer to drop at depth 1)"
        bn += (f", dropout keep p = {fmt_number(cfg.dropout_keep)} (drop {fmt_number(1 - cfg.dropout_keep)}) "
               f"{where}")
    if args.bias_var:
        bn = f", bias var {fmt_number(args.bias_var)}" + bn
    print(f"{args.activation}, {args.init}: width {args.width}, depth {args.depth}, batch {args.batch}, "
          f"{args.seeds} networks, {args.dtype}{bn}, {doc['seconds']:.2f} s")
    print(format_run_table(doc["layers"]))
    if args.kurtosis:
        print(format_kurtosis_table(doc["layers"]))
        if doc.get("too_few_networks_from") is not None:
            from theory.finite_width import FOURTH_MOMENT_RELIABLE

            l = doc["too_few_networks_from"]
            print(f"from layer {l}: {args.seeds} networks are too few for a fourth moment (the exact ReLU law, one "
                  f"fixed input, bounds the relative SE of E[h^4] by "
                  f"{fmt_number(doc['layers'][l - 1]['fourth_moment_se_bound'], 2)} > "
                  f"{fmt_number(FOURTH_MOMENT_RELIABLE)}): the kurtosis there falls short and its SE understates the "
                  "error; use more networks, or a wider or shallower network")
    if doc["diverged_at"] is not None:
        print(f"diverged at layer {doc['diverged_at']} ({doc['diverged_networks']} of {args.seeds} networks): "
              "no value (—) from there on")
    return 0


def format_run_table(layers: list[dict]) -> str:
    """The per-layer table of ``sims run`` (mean ± standard error over the networks beside the theory); a dash where
    there is no value (the theory has none, or the networks diverged)."""
    head = ("layer", "Var(h) MC", "± SE", "theory", "Var(d) MC", "± SE", "theory")
    widths = (5, 12, 9, 12, 12, 9, 12)
    rows = [head] + [(str(r["layer"]), _num(r["preact_var"]["mean"]), _num(r["preact_var"]["se"], 2),
                      _num(r["theory_preact_var"]), _num(r["grad_var"]["mean"]), _num(r["grad_var"]["se"], 2),
                      _num(r["theory_grad_var"])) for r in layers]
    lines = [" ".join(f"{c:>{w}}" for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def format_kurtosis_table(layers: list[dict]) -> str:
    """``sims run --kurtosis``: per layer the excess kurtosis (mean ± SE over the networks) beside the first-order
    finite-width theory, and the finite-width mean variance (a dash where the theory does not apply)."""
    head = ("layer", "kurt MC", "± SE", "theory 1/n", "Var(h) 1/n")
    widths = (5, 12, 9, 12, 12)
    rows = [head] + [(str(r["layer"]), _num(r["preact_excess_kurtosis"]["mean"]),
                      _num(r["preact_excess_kurtosis"]["se"], 2), _num(r.get("theory_preact_excess_kurtosis")),
                      _num(r.get("theory_preact_var_finite"))) for r in layers]
    return "\n".join(" ".join(f"{c:>{w}}" for c, w in zip(row, widths)) for row in rows)


def _num(v, digits: int = 5) -> str:
    """A number for the text tables at ``digits`` significant digits; a dash where there is none (None, NaN)."""
    return fmt_number(v, digits, nan="—")


def _fixed(v, decimals: int = 4) -> str:
    """An accuracy (a fraction) at fixed ``decimals``; a dash where there is none."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.{decimals}f}"


def _batchnorm_rate(args) -> int:
    from sims.bnrate import measure_rate

    doc = measure_rate(args.activation, args.batch, args.width, args.depth, args.seeds, init=args.init,
                       seed=args.seed, skip=args.skip, skip_bottom=args.skip_bottom, dtype=args.dtype)
    if args.json:
        print(dumps(doc))
        return 0
    first, last = doc["fit_layers"]
    theory = doc["theory_rate"]
    print(f"batch norm, {args.activation}, {args.init}: batch {args.batch}, width {args.width}, depth {args.depth}, "
          f"{args.seeds} networks, {args.dtype}, {doc['seconds']:.2f} s")
    print(f"per-layer growth of E[(dL/dh_l)^2] going down (OLS of log over layers {first}..{last}):")
    print(f"  measured {_num(doc['measured_rate'], 6)} ± {_num(doc['se'], 2)} (SE across networks)")
    print(f"  theory   {_num(theory, 6)}" if theory is not None
          else f"  theory   none (no closed form for {args.activation})")
    if theory is not None and doc["se"] is not None and math.isfinite(doc["se"]) and doc["se"] > 0:
        print(f"  z = {(doc['measured_rate'] - theory) / doc['se']:+.2f}")
    return 0


def _keep_from(args) -> float:
    """The keep probability from --keep P or --drop Q (= 1 - P), each checked against its own range."""
    if args.drop is not None:
        return 1.0 - validate.drop_probability(args.drop, "--drop")
    return validate.keep_probability(args.keep, "--keep")


def _dropout_ensemble(args) -> int:
    from theory.activations import get_activation

    keep = _keep_from(args)
    get_activation(args.activation)  # an unknown activation: one line, before any work
    from sims.dropout import dropout_ensemble  # lazily: only this command needs it

    doc = dropout_ensemble(args.units, keep, activation=args.activation, T=args.T, seed=args.seed)
    if args.json:
        print(dumps(doc))
        return 0
    scale = max((abs(v) for v in (doc["ensemble_mean"], doc["weight_scaling"], doc["mc_mean"]) if math.isfinite(v)),
                default=1.0)
    diff = fmt_number(doc["weight_scaling"] - doc["ensemble_mean"], 3, scale=scale)
    print(f"dropout ensemble: {doc['units']} units ({doc['masks']} masks), keep p = {fmt_number(doc['keep'])} "
          f"(drop {fmt_number(1 - doc['keep'])}), {doc['activation']}")
    labels = ("exact ensemble mean", "weight scaling", f"MC mean of {args.T} masks")
    w = max(map(len, labels))
    print(f"  {labels[0]:<{w}}  {fmt_number(doc['ensemble_mean'], 8, scale=scale)}")
    print(f"  {labels[1]:<{w}}  {fmt_number(doc['weight_scaling'], 8, scale=scale)}   (minus exact: "
          f"{'+' if diff[0].isdigit() and diff != '0' else ''}{diff})")
    print(f"  {labels[2]:<{w}}  {fmt_number(doc['mc_mean'], 8, scale=scale)} ± {fmt_number(doc['se'], 2)} (SE)")
    return 0


MAX_REPEATS = 100  # a median of 100 is as settled as a benchmark gets; each repeat reruns every configuration


def _repeats(n) -> int:
    from theory import validate

    try:
        return validate.integer("--repeats", n, 1, MAX_REPEATS)
    except SpecError:
        raise SpecError(f"--repeats must be an integer from 1 to {MAX_REPEATS} (got {n}): each repeat runs every "
                        "benchmark configuration again, and the median settles long before") from None


def _bench(args) -> int:
    from sims.bench import CONFIGS, bench_torch, environment, format_bench, run_all

    _repeats(args.repeats)
    if args.backend == "torch":
        config = None if args.device == "cuda" else CONFIGS[0]
        doc = {"target_ratio": 0.9, "environment": environment(),
               "results": [bench_torch(args.device, args.repeats, config=config)]}
    else:
        doc = {"target_ratio": 0.85, "environment": environment(), "results": run_all(args.repeats)}
    print(dumps(doc) if args.json else format_bench(doc))
    return 0


def format_sweep_table(doc: dict) -> str:
    """``sweep-table`` without ``--json``: per stored configuration its key, the fields that vary across rows
    (``field=value``) and a few results; a dash where a result has no value."""
    from sims.sweep import FIELDS

    rows = doc["rows"]
    if not rows:
        return f"no finished configurations ({len(doc['missing'])} missing)"

    def value(v) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, (int, float)) or v is None:
            return fmt_number(v, 6) if not isinstance(v, int) else str(v)
        return str(v)
    varying = [k for k in FIELDS if len({repr(r["config"].get(k)) for r in rows}) > 1]
    heads = [" ".join(f"{k}={value(r['config'].get(k))}" for k in varying) or "(single configuration)" for r in rows]
    width = max(map(len, heads))
    lines = []
    for r, head in zip(rows, heads):
        cfg, res = r["config"], r["results"]
        if cfg["task"] == "moments":
            q, c = res["layers"]["preact_var"]["mean"][-1], res["layers"]["correlation"]["mean"][-1]
            tail = f"last layer: Var(h) {_num(q, 4)}, corr {_num(c, 4)}"
            if res.get("diverged_at") is not None:
                tail += f", diverged at layer {res['diverged_at']}"
        else:
            tail = f"Var(log|x_L|^2) {_num(res['var'], 4)}"
            if res.get("var_se") is not None:
                tail += f" ± {_num(res['var_se'], 4)}"
            tail += f", dead networks {res['dead']} of {cfg.get('seeds', '?')}"
        lines.append(f"{r['key']}  {head:<{width}}  {tail}")
    if doc["missing"]:
        lines.append(f"({len(doc['missing'])} configurations not finished)")
    return "\n".join(lines)


def _sweep_commands(args) -> int:
    from sims import sweep as S

    if args.command == "sweep-bench":
        from sims.sweep_bench import run_bench

        _repeats(args.repeats)
        doc = run_bench(args.repeats)
        print(dumps(doc) if args.json else S.format_bench(doc))
        return 0
    if args.command == "sweep-table":
        doc = S.table_rows(args.dir)
        if args.json:
            print(dumps(doc))
        else:
            print(format_sweep_table(doc))
        return 0
    if args.timeout <= 0 or not math.isfinite(args.timeout):
        raise SpecError(f"--timeout must be a positive number of seconds (got {args.timeout})")
    if args.scheduler is not None and args.executor != "dask":
        raise SpecError("--scheduler needs --executor dask")
    grid = S.read_grid(args.grid)
    configs = S.expand(grid)  # every configuration checked before anything runs
    bar = Progress(len(configs), quiet=args.quiet, unit="configurations")
    res = S.sweep(grid, args.out, executor=args.executor, scheduler=args.scheduler, workers=args.workers,
                  resume=args.resume, timeout=args.timeout, progress=bar.callback())
    bar.close()
    if args.json:
        print(dumps(res))
    else:
        print(f"{res['configurations']} configurations: {res['ran']} ran, {res['skipped']} already finished, "
              f"{res['retried']} resubmitted after a lost worker, {len(res['failed'])} failed")
        for key, why in res["failed"].items():
            print(f"  failed {key}: {why}")
    return 1 if res["failed"] else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sims`` (``argv`` None: ``sys.argv``); returns the exit status: 0, 1 when a sweep
    configuration failed, 2 for a bad argument, 130 on Ctrl-C."""
    def body() -> int:
        args = _parser().parse_args(argv)
        if args.command == "run":
            return _run(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "batchnorm-rate":
            return _batchnorm_rate(args)
        if args.command == "dropout-ensemble":
            return _dropout_ensemble(args)
        if args.command == "train":
            return _train(args)
        if args.command in ("sweep", "sweep-table", "sweep-bench"):
            return _sweep_commands(args)
        grid = np.array(GRID, dtype=args.dtype)
        rows = []
        for spec in args.activation or NAMES:
            k = kernel(spec)
            rows.append({"name": k.activation.name, "stable": k.stable, "x": grid, "f": k.f(grid), "df": k.df(grid)})
        if args.json:
            print(dumps({"dtype": args.dtype, "kernels": rows}))
        else:
            for r in rows:
                print(f"{r['name']} ({'stable kernel' if r['stable'] else 'lambdified SymPy'}):")
                for xv, fv, dv in zip(r["x"], r["f"], r["df"]):
                    # scale 0: the values at the extremes are shown as computed, tiny ones included
                    print(f"  x = {fmt_number(xv):>8}   phi = {fmt_number(fv, scale=0):>12}   "
                          f"phi' = {fmt_number(dv, scale=0):>12}")
        return 0

    return run(PROG, body)
