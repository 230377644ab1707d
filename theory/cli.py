"""``python -m theory``: derivations and activation facts (contracts in DESIGN.md).

    python -m theory list [--json]
    python -m theory show NAME [--format text|markdown|latex|json]     exit 1 if a step fails to verify
    python -m theory activations [--activation SPEC ...] [--q Q] [--json]
    python -m theory init --init SPEC [--activation SPEC] [--n-in N] [--n-out M] [--json]
    python -m theory meanfield --activation SPEC --weight-var X --bias-var Y [--critical] [--json]
    python -m theory gains [--json]
    python -m theory predict --activation A --init I --width N --depth L [--bias-var V] [--json]
    python -m theory bench
"""
from __future__ import annotations

import math
import sys

from theory import activations as acts
from theory import derivation
from theory.cli_util import ArgumentParser, dumps, run
from theory.errors import SpecError

PROG = "theory"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}", description="Exact results: verified derivations and the activation zoo.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="list the verified derivations")
    s.add_argument("--json", action="store_true", help="print a JSON list of {name, summary}")

    s = sub.add_parser("show", help="show one derivation with every step checked by SymPy (exit 1 if one fails)")
    s.add_argument("name", help="derivation name, see `list`")
    s.add_argument("--format", default="text", choices=["text", "markdown", "latex", "json"])

    s = sub.add_parser("activations", help="facts about activations: derivative, sup|phi'|, range, Gaussian moments",
                       description="Per activation: expression, derivative, sup |phi'| and where it is attained "
                                   "(null if not attained), range, and the moments E[phi(sqrt(q) z)], "
                                   "E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2] for z ~ N(0, 1).")
    s.add_argument("--activation", action="append", metavar="SPEC",
                   help=f"a name ({', '.join(acts.NAMES)}; parameters as leaky_relu:0.1, elu:1.0) or a SymPy "
                        "expression in x such as 'x*tanh(x)'; repeatable; default: every named activation")
    s.add_argument("--q", type=float, default=1.0, help="pre-activation variance q (default 1: z ~ N(0, 1))")
    s.add_argument("--json", action="store_true", help="print one JSON document")

    s = sub.add_parser("init", help="an init scheme: weight variance, distribution, bound/std, layer gain",
                       description="Weight variance as an expression in n_in, n_out (exact, after truncation), "
                                   "the distribution and its bound or std, and with --activation the per-layer "
                                   "variance multipliers forward n_in Var(w) E[phi(z)^2] and backward "
                                   "n_out Var(w) E[phi'(z)^2] at q = 1.")
    s.add_argument("--init", required=True, metavar="SPEC",
                   help="lecun_normal lecun_uniform glorot_normal glorot_uniform he_normal he_uniform (aliases "
                        "xavier_*, kaiming_*; *_normal is Keras' truncated normal unless *_normal:plain), "
                        "orthogonal, zeros, keras_uniform, torch_default, uniform:EXPR (bound), normal:EXPR (std)")
    s.add_argument("--activation", metavar="SPEC", help="activation for the layer gain")
    s.add_argument("--n-in", type=int, default=None, help="fan-in for the numbers (default 100)")
    s.add_argument("--n-out", type=int, default=None, help="fan-out for the numbers (default: = n_in)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("meanfield", help="mean-field fixed points, chi_1, depth scales and phase (Schoenholz 2017)")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--weight-var", required=True, type=float, help="sigma_w^2 = n_in Var(w)")
    s.add_argument("--bias-var", required=True, type=float, help="sigma_b^2")
    s.add_argument("--critical", action="store_true", help="also the critical sigma_w^2 (chi_1 = 1) for this sigma_b^2")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("gains", help="derived forward/backward/critical gains beside torch's and Keras' constants")
    s.add_argument("--activation", action="append", metavar="SPEC", help="default: every named activation")
    s.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    s.add_argument("--lang", default="en", choices=["en", "ru"])
    s.add_argument("--json", action="store_true")

    sub.add_parser("bench", help="benchmark: one mean-field point, and a 100 x 100 tanh phase-diagram grid")

    s = sub.add_parser("predict", help="mean-field variance of pre-activations and gradients at every layer")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--init", required=True, metavar="SPEC")
    s.add_argument("--width", required=True, type=int, help="width of every layer (and of the input)")
    s.add_argument("--depth", required=True, type=int, help="number of layers L")
    s.add_argument("--bias-var", type=float, default=0.0, help="bias variance sigma_b^2 (default 0)")
    s.add_argument("--input-var", type=float, default=1.0, help="E[x^2] of the input coordinates (default 1)")
    s.add_argument("--dropout-keep", type=float, default=1.0, metavar="P",
                   help="inverted dropout on the hidden outputs with KEEP probability P in (0, 1] (default 1: none; "
                        "PyTorch's p and Keras' rate are 1 - P)")
    s.add_argument("--batchnorm", action="store_true", help="batch norm before every activation")
    s.add_argument("--json", action="store_true")
    return p


def _q(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise SpecError(f"--q must be a positive finite variance (got {value})")
    return value


def _size(value, name: str) -> int:
    if value is not None and value <= 0:
        raise SpecError(f"{name} must be a positive integer (got {value})")
    return value


def _init(args) -> int:
    from theory.init import get_init, layer_gain, layer_gain_exprs
    import sympy as sp

    scheme = get_init(args.init)
    fan_in = _size(args.n_in, "--n-in") or 100
    fan_out = _size(args.n_out, "--n-out") or fan_in
    doc = {"init": scheme.name, "distribution": scheme.distribution, "convention": scheme.convention,
           "weight_var": sp.sstr(scheme.weight_var),
           "bound": sp.sstr(scheme.bound) if scheme.bound is not None else None,
           "std": sp.sstr(scheme.std) if scheme.std is not None else None,
           "n_in": fan_in, "n_out": fan_out,
           "values": {"weight_var": scheme.variance(fan_in, fan_out),
                      "bound": scheme.value(scheme.bound, fan_in, fan_out),
                      "std": scheme.value(scheme.std, fan_in, fan_out)}}
    if args.activation:
        act = acts.get_activation(args.activation)
        exprs = layer_gain_exprs(scheme, act)
        doc["activation"] = act.name
        doc["layer_gain"] = {**layer_gain(scheme, act, fan_in, fan_out),
                             "forward_expr": sp.sstr(exprs["forward"]), "backward_expr": sp.sstr(exprs["backward"])}
    if args.json:
        print(dumps(doc))
    else:
        print(f"{doc['init']}: {doc['distribution']} ({doc['convention']})")
        print(f"  Var(w) = {doc['weight_var']}   bound = {doc['bound']}   std = {doc['std']}")
        print(f"  at n_in = {fan_in}, n_out = {fan_out}: Var(w) = {doc['values']['weight_var']:.6g}")
        if args.activation:
            g = doc["layer_gain"]
            print(f"  with {doc['activation']} at q = 1: forward x{g['forward']:.6g} per layer "
                  f"({g['forward_expr']}), backward x{g['backward']:.6g} ({g['backward_expr']})")
    return 0


def _predict(args) -> int:
    from theory.config import NetworkConfig
    from theory.predict import predict

    cfg = NetworkConfig(activation=args.activation, init=args.init, width=args.width, depth=args.depth,
                        bias_var=args.bias_var, input_var=args.input_var, dropout_keep=args.dropout_keep,
                        batchnorm=args.batchnorm)
    result = predict(cfg)
    if args.json:
        print(dumps(result))
    else:
        print(f"{cfg.activation}, {cfg.init}, width {args.width}, depth {args.depth}, bias var {args.bias_var}")
        print(f"{'layer':>6} {'Var(h_l)':>14} {'Var(delta_l)':>14}")
        for row in result["layers"]:
            grad = "-" if row["grad_var"] is None else f"{row['grad_var']:.6g}"
            print(f"{row['layer']:>6} {row['preact_var']:>14.6g} {grad:>14}")
        if result.get("note"):
            print(result["note"])
        if result["diverged_at"] is not None:
            print(f"diverges (non-finite) at layer {result['diverged_at']}")
    return 0


def _meanfield(args) -> int:
    from theory import meanfield

    for name in ("weight_var", "bias_var"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v >= 0):
            raise SpecError(f"--{name.replace('_', '-')} must be a finite number >= 0 (got {v})")
    act = acts.get_activation(args.activation)
    doc = meanfield.analyze(act, args.weight_var, args.bias_var).to_dict()
    if args.critical:
        doc["critical_weight_var"] = meanfield.critical_weight_var(act, args.bias_var)
    if args.json:
        print(dumps(doc))
    else:
        for k, v in doc.items():
            print(f"{k:>20}: {v}")
    return 0


def _gains(args) -> int:
    from theory.gains import gains_markdown, gains_table

    rows = gains_table(args.activation)
    if args.json:
        print(dumps({"convention": "gain g: sigma_w^2 = n_in Var(w) = g^2", "activations": rows}))
    else:
        print(gains_markdown(rows, args.lang), end="")
    return 0


def _bench() -> int:
    from theory.bench import bench_meanfield_point, bench_phase_grid

    point = bench_meanfield_point()
    grid = bench_phase_grid()
    print(dumps({"meanfield_point": point, "phase_grid": grid}))
    return 0


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = _parser().parse_args(argv)
        if args.command == "list":
            items = derivation.names()
            if args.json:
                print(dumps([{"name": k, "summary": v} for k, v in items.items()]))
            else:
                width = max(map(len, items))
                for k, v in items.items():
                    print(f"{k:<{width}}  {v}")
            return 0
        if args.command == "show":
            d = derivation.get(args.name)
            print(dumps(d.to_dict()) if args.format == "json" else d.render(args.format))
            if not d.ok:
                bad = d.first_failure()
                print(f"{PROG}: derivation {d.name!r} fails to verify at step {bad.index}: {bad.detail}",
                      file=sys.stderr)
                return 1
            return 0
        if args.command == "activations":
            q = _q(args.q)
            specs = args.activation or list(acts.NAMES)
            results = [acts.describe(acts.get_activation(s), q) for s in specs]
            if args.json:
                print(dumps({"q": q, "activations": results}))
            else:
                for r in results:
                    m = r["moments"]
                    print(f"{r['name']}: phi = {r['expr']}")
                    print(f"  phi' = {r['derivative']}")
                    print(f"  sup|phi'| = {r['sup_exact'] or r['sup_abs_derivative']} "
                          f"(= {r['sup_abs_derivative']:.15g}; at {r['sup_at']}; {r['sup_note']})")
                    print(f"  range = {r['range']}")
                    print(f"  q = {q}: E[phi] = {m['mean']:.15g}, E[phi^2] = {m['second']:.15g}, "
                          f"E[phi'^2] = {m['derivative_second']:.15g}  ({r['moments_method']['second']})")
            return 0
        if args.command == "init":
            return _init(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "meanfield":
            return _meanfield(args)
        if args.command == "gains":
            return _gains(args)
        if args.command == "bench":
            return _bench()
        raise AssertionError(args.command)

    return run(PROG, body)
