"""``python -m theory``: derivations and activation facts (contracts in DESIGN.md).

    python -m theory list [--json]
    python -m theory show NAME [--format text|markdown|latex|json] [--lang en|ru]   exit 1 if a step fails
    python -m theory activations [--activation SPEC ...] [--q Q] [--json]
    python -m theory init --init SPEC [--activation SPEC] [--n-in N] [--n-out M] [--json]
    python -m theory meanfield --activation SPEC --weight-var X --bias-var Y [--critical] [--json]
    python -m theory gains [--json]
    python -m theory predict --activation A --init I --width N --depth L [--bias-var V] [--finite-width [--input fixed]]
        [--dropout-keep P | --drop Q] [--batchnorm] [--json]
    python -m theory bench [--json]

Without ``--json`` every command prints for a person: numbers at a sensible precision (float noise below 1e-15 of the
quantity's scale as 0), infinity as ∞, sets as intervals, (0, 1) or [0, ∞), and no empty or None field.
"""
from __future__ import annotations

import math
import re
import sys

from theory import activations as acts
from theory import derivation
from theory.cli_util import ArgumentParser, dumps, fmt_number, run
from theory import budget
from theory import validate
from theory.errors import SpecError

PROG = "theory"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}", description="Exact results: verified derivations and the activation zoo.",
                       epilog=f"Budget: {budget.describe()}.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="list the verified derivations")
    s.add_argument("--json", action="store_true", help="print a JSON list of {name, summary}")

    s = sub.add_parser("show", help="show one derivation with every step checked by SymPy (exit 1 if one fails)")
    s.add_argument("name", help="derivation name, see `list`")
    s.add_argument("--format", default="text", choices=["text", "markdown", "latex", "json"])
    s.add_argument("--lang", default="en", choices=["en", "ru"], help="language of the words (default: en)")

    s = sub.add_parser("activations", epilog=f"Budget: {budget.describe()}.", help="facts about activations: derivative, sup|phi'|, range, Gaussian moments",
                       description="Per activation: expression, derivative, sup |phi'| and where it is attained "
                                   "(null if not attained), range, and the moments E[phi(sqrt(q) z)], "
                                   "E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2] for z ~ N(0, 1).")
    s.add_argument("--activation", action="append", metavar="SPEC",
                   help=f"a name ({', '.join(acts.NAMES)}; parameters as leaky_relu:0.1, elu:1.0) or a SymPy "
                        "expression in x such as 'x*tanh(x)'; repeatable; default: every named activation")
    s.add_argument("--q", type=float, default=1.0, help="pre-activation variance q (default 1: z ~ N(0, 1))")
    s.add_argument("--json", action="store_true", help="print one JSON document")

    s = sub.add_parser("init", epilog=f"Budget: {budget.describe()}.", help="an init scheme: weight variance, distribution, bound/std, layer gain",
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

    s = sub.add_parser("meanfield", epilog=f"Budget: {budget.describe()}.", help="mean-field fixed points, chi_1, depth scales and phase (Schoenholz 2017)")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--weight-var", required=True, type=float, help="sigma_w^2 = n_in Var(w)")
    s.add_argument("--bias-var", required=True, type=float, help="sigma_b^2")
    s.add_argument("--critical", action="store_true", help="also the critical sigma_w^2 (chi_1 = 1) for this sigma_b^2")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("gains", epilog=f"Budget: {budget.describe()}.", help="derived forward/backward/critical gains beside torch's and Keras' constants")
    s.add_argument("--activation", action="append", metavar="SPEC", help="default: every named activation")
    s.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    s.add_argument("--lang", default="en", choices=["en", "ru"])
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("bench", help="benchmark: one mean-field point, and a 100 x 100 tanh phase-diagram grid")
    s.add_argument("--json", action="store_true", help="print the measurements as one JSON document")

    s = sub.add_parser("predict", epilog=f"Budget: {budget.describe()}.", help="mean-field variance of pre-activations and gradients at every layer")
    s.add_argument("--activation", required=True, metavar="SPEC")
    s.add_argument("--init", required=True, metavar="SPEC")
    s.add_argument("--width", required=True, type=int, help="width of every layer (and of the input)")
    s.add_argument("--depth", required=True, type=int, help="number of layers L")
    s.add_argument("--bias-var", type=float, default=0.0, help="bias variance sigma_b^2 (default 0)")
    s.add_argument("--input-var", type=float, default=1.0, help="E[x^2] of the input coordinates (default 1)")
    rate = s.add_mutually_exclusive_group()
    rate.add_argument("--dropout-keep", type=float, default=1.0, metavar="P",
                      help="inverted dropout on the hidden outputs with KEEP probability P in (0, 1] (default 1: none; "
                           "PyTorch's p and Keras' rate are 1 - P: use --drop for those)")
    rate.add_argument("--drop", type=float, default=None, metavar="Q",
                      help="the same dropout given by its DROP probability Q in [0, 1) (PyTorch's nn.Dropout p, "
                           "Keras' Dropout rate): --drop Q is --dropout-keep 1-Q")
    s.add_argument("--batchnorm", action="store_true", help="batch norm before every activation")
    s.add_argument("--json", action="store_true")
    s.add_argument("--finite-width", action="store_true",
                   help="add the first order in 1/width per layer: preact_var_finite (K + K1/n) and "
                        "preact_excess_kurtosis (3V/(nK^2), plus the weights' own kurtosis); iid weights only")
    s.add_argument("--input", choices=["gaussian", "fixed"], default="gaussian",
                   help="input ensemble of --finite-width: gaussian x ~ N(0, input var) (default, as sims run) or "
                        "fixed (|x|^2/n_0 = input var)")
    return p


def _q(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise SpecError(f"--q must be a positive finite variance (got {value})")
    return value


def _size(value, name: str) -> int:
    if value is not None and value <= 0:
        raise SpecError(f"{name} must be a positive integer (got {value})")
    return value


def keep_probability(args) -> float:
    """The KEEP probability of ``--dropout-keep P`` or ``--drop Q`` (= ``--dropout-keep 1-Q``; the two are mutually
    exclusive). ``--drop`` is checked here against its own range; the keep side where the config is built."""
    q = getattr(args, "drop", None)
    if q is None:
        return args.dropout_keep
    return 1.0 - validate.drop_probability(q, "--drop")


# ------------------------------------------------------------------------------------- text output (not --json)
_OO = re.compile(r"(?<![A-Za-z0-9_])oo(?![A-Za-z0-9_])")


def human(text: str) -> str:
    """SymPy's spelling of infinity in a text for a person: a standalone ``oo`` becomes ``∞`` (``-oo``: ``-∞``)."""
    return _OO.sub("∞", text)


def fmt_real(value, digits: int = 6, exact: bool = True) -> str:
    """A real number from SymPy as a person writes it: ∞ / -∞, integers and fractions exactly (``1/4``), floats at
    ``digits`` significant digits; another exact number (``sqrt(2)``) as ``sqrt(2) ≈ 1.41421`` when ``exact`` and
    short, else by its value."""
    import sympy as sp

    e = sp.sympify(value)
    if e == sp.oo:
        return "∞"
    if e == -sp.oo:
        return "-∞"
    if e.is_Rational:
        return sp.sstr(e)
    try:
        num = fmt_number(float(e), digits)
    except (TypeError, ValueError):  # not a number (a symbol left over): its expression
        return human(sp.sstr(e))
    if e.is_Float or not exact:
        return num
    text = sp.sstr(e)
    return f"{text} ≈ {num}" if len(text) <= 16 else num


def fmt_set(s, digits: int = 6, max_points: int = 6) -> str:
    """A SymPy set as a person writes it: ``(0, 1)``, ``[0, ∞)``, ``(-∞, 0) ∪ (0, ∞)``, ``{-1, 1}``, ``∅``
    (open or closed ends from ``left_open`` / ``right_open``; an infinite end is always open)."""
    import sympy as sp

    if s is None:
        return "—"
    if s == sp.S.EmptySet:
        return "∅"
    if isinstance(s, sp.Interval):
        left = "(" if s.left_open or s.start == -sp.oo else "["
        right = ")" if s.right_open or s.end == sp.oo else "]"
        return f"{left}{fmt_real(s.start, digits, exact=False)}, {fmt_real(s.end, digits, exact=False)}{right}"
    if isinstance(s, sp.Union):
        return " ∪ ".join(fmt_set(a, digits, max_points) for a in s.args)
    if isinstance(s, sp.FiniteSet):
        pts = sorted(s.args, key=lambda a: float(a) if a.is_real else 0.0)
        words = [fmt_real(a, digits, exact=False) for a in pts]
        if len(words) > max_points:
            return "{" + ", ".join(words[:3]) + ", …, " + words[-1] + "}"
        return "{" + ", ".join(words) + "}"
    return human(sp.sstr(s))


def fmt_where(where, digits: int = 6) -> str:
    """Where a supremum is attained: ``attained at x = 0``, ``attained at x ∈ {-1.2, 1.2}``, ``attained on (0, ∞)``,
    or ``not attained`` (``where`` None)."""
    import sympy as sp

    if where is None or where == sp.S.EmptySet:
        return "not attained"
    if isinstance(where, sp.FiniteSet):
        if len(where) == 1:
            return f"attained at x = {fmt_real(next(iter(where)), digits)}"
        return f"attained at {len(where)} points, x ∈ {fmt_set(where, digits)}"
    return f"attained on {fmt_set(where, digits)}"


def fmt_expr(expr) -> str:
    """A SymPy expression for a person: a top-level Piecewise as ``exp(x) if x < 0; 1 otherwise``, ∞ for oo."""
    import sympy as sp

    if isinstance(expr, sp.Piecewise):
        parts = [f"{sp.sstr(e)} otherwise" if c == sp.true else f"{sp.sstr(e)} if {sp.sstr(c)}" for e, c in expr.args]
        return human("; ".join(parts))
    return human(sp.sstr(expr))


def _activation_text(act, r: dict) -> list[str]:
    """The text lines of one activation of ``theory activations`` (``r``: :func:`theory.activations.describe`)."""
    sup = acts.sup_abs_derivative(act)
    rng, _ = acts.value_range(act)
    m = r["moments"]
    lines = [f"{r['name']}: phi(x) = {fmt_expr(act.expr)}", f"  phi'(x) = {fmt_expr(acts.derivative(act))}"]
    num = fmt_number(r["sup_abs_derivative"])
    if r["sup_exact"] is not None:
        exact = human(r["sup_exact"])
        value = num if exact == num else f"{exact} = {num}"
        how = "exact, SymPy"
    else:
        value = f"≈ {num}"
        how = "numeric: mpmath root of phi'' at 30 digits, |error| < 1e-12"
    sep = " " if value.startswith("≈") else " = "
    lines.append(f"  sup|phi'|{sep}{value}, {fmt_where(sup.where_set())} ({how})")
    note = "" if r["range_note"].startswith("exact") else "  (endpoints numeric, |error| < 1e-12)"
    lines.append(f"  range {fmt_set(rng)}{note}")
    second = m["second"]
    scale = math.sqrt(second) if isinstance(second, float) and math.isfinite(second) and second > 0 else 1.0
    methods = list(dict.fromkeys(r["moments_method"][k] for k in acts.MOMENT_KEYS if k in r["moments_method"]))
    lines.append(f"  at q = {fmt_number(r['q'])}: E[phi] = {fmt_number(m['mean'], scale=scale)}, "
                 f"E[phi^2] = {fmt_number(second)}, E[phi'^2] = {fmt_number(m['derivative_second'])}"
                 f"  ({', '.join(methods)})")
    return lines


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
        return 0
    print(f"{doc['init']}: {doc['distribution']} ({doc['convention']})")
    spread = [f"{k} = {human(doc[k])}" for k in ("bound", "std") if doc[k] is not None]  # the one that applies
    print("  " + ", ".join([f"Var(w) = {human(doc['weight_var'])}"] + spread))
    values = [f"{label} = {fmt_number(doc['values'][k])}"
              for k, label in (("weight_var", "Var(w)"), ("bound", "bound"), ("std", "std"))
              if doc["values"][k] is not None]
    print(f"  at n_in = {fan_in}, n_out = {fan_out}: " + ", ".join(values))
    if args.activation:
        g = doc["layer_gain"]

        def general(expr) -> str:  # the multiplier as a function of n_in, n_out; nothing when it is a constant
            if not expr.free_symbols:
                return ""
            short = expr.xreplace({a: sp.Float(float(fmt_number(a))) for a in expr.atoms(sp.Float)})
            return f" ({human(sp.sstr(short, full_prec=False))} in general)"
        print(f"  with {doc['activation']} at q = 1: Var(h) x {fmt_number(g['forward'])} per layer forward"
              f"{general(exprs['forward'])}, Var(delta) x {fmt_number(g['backward'])} per layer backward"
              f"{general(exprs['backward'])}")
    return 0


def _predict(args) -> int:
    from theory.config import NetworkConfig
    from theory.predict import predict

    keep = keep_probability(args)
    cfg = NetworkConfig(activation=args.activation, init=args.init, width=args.width, depth=args.depth,
                        bias_var=args.bias_var, input_var=args.input_var, dropout_keep=keep,
                        batchnorm=args.batchnorm)
    result = predict(cfg)
    if args.finite_width:
        from theory import fluctuations as fl

        rows = fl.for_config(cfg, args.input)
        exact = fl.relu_exact_kurtosis(cfg.widths, args.input) if fl.exact_law_applies(cfg) else None
        for k, (row, fw) in enumerate(zip(result["layers"], rows)):
            row["preact_var_finite"] = fw["preact_var_finite"]
            row["preact_excess_kurtosis"] = fw["preact_excess_kurtosis"]
            if exact is not None:
                row["preact_excess_kurtosis_exact"] = exact[k]
        result["finite_width"] = {"input": args.input, "kurtosis_limit": fl.KURTOSIS_LIMIT,
                                  "first_unreliable_layer": fl.first_unreliable_layer(rows),
                                  "first_undefined_layer": fl.first_undefined_layer(rows),
                                  "exact_law": exact is not None}
    elif args.input != "gaussian":
        raise SpecError("--input selects the ensemble of --finite-width: give --finite-width too")
    if args.json:
        print(dumps(result))
        return 0
    print(_predict_header(args, cfg))
    extra = args.finite_width
    exact = extra and result["finite_width"]["exact_law"]
    print(f"{'layer':>6} {'Var(h_l)':>14} {'Var(delta_l)':>14}"
          + (f" {'Var(h_l), 1/n':>14} {'excess kurt.':>14}" if extra else "")
          + (f" {'kurt., exact':>14}" if exact else ""))
    for row in result["layers"]:
        # after a divergence the values are NaN: a dash, explained by the line below the table
        print(f"{row['layer']:>6} {fmt_number(row['preact_var'], nan='—'):>14} "
              f"{fmt_number(row['grad_var'], nan='—'):>14}"
              + (f" {fmt_number(row['preact_var_finite'], nan='—'):>14} "
                 f"{fmt_number(row['preact_excess_kurtosis'], nan='—'):>14}" if extra else "")
              + (f" {fmt_number(row['preact_excess_kurtosis_exact'], nan='—'):>14}" if exact else ""))
    if result.get("note"):
        print(human(result["note"]))
    if extra:
        for line in _finite_width_lines(result["finite_width"]):
            print(line)
    if result["diverged_at"] is not None and result.get("not_computed_from") is None:
        print(f"diverges (non-finite) at layer {result['diverged_at']}")
    return 0


def _finite_width_lines(fw: dict) -> list[str]:
    """What the first-order columns of ``predict --finite-width`` mean and where they stop holding."""
    lines = [f"first order in 1/width ({fw['input']} inputs): Var(h_l) = K + K1/n, excess kurtosis 3V/(nK^2)"]
    if fw["exact_law"]:
        lines.append("kurt., exact: ReLU's exact law at these widths (Gaussian weights, no bias; theory.finite_width)")
    if fw["first_unreliable_layer"] is not None:
        lines.append(f"from layer {fw['first_unreliable_layer']} on the first-order excess kurtosis exceeds "
                     f"{fw['kurtosis_limit']:g}: depth/width is not small there and the neglected terms are not "
                     "(ReLU: the first order is about 8 % low at 0.5)")
    if fw["first_undefined_layer"] is not None:
        lines.append(f"no first-order value from layer {fw['first_undefined_layer']} on (—): the kernel K leaves "
                     "float64's range for K^2, or the activation's Gaussian moments below it are not finite or have "
                     "mass beyond 9 standard deviations")
    return lines


def _predict_header(args, cfg) -> str:
    parts = [f"{cfg.activation}, {cfg.init}, width {args.width}, depth {args.depth}",
             f"bias var {fmt_number(args.bias_var)}"]
    if args.input_var != 1:
        parts.append(f"input var {fmt_number(args.input_var)}")
    if cfg.dropout_keep < 1:
        parts.append(f"dropout keep p = {fmt_number(cfg.dropout_keep)} (drop {fmt_number(1 - cfg.dropout_keep)})")
    if cfg.batchnorm:
        parts.append("batch norm")
    return ", ".join(parts)


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
        return 0
    for k, v in doc.items():
        if v is None and k == "critical_weight_var":
            v = "none (no sigma_w^2 with chi_1 = 1 at a fixed point)"
        elif isinstance(v, str):
            if not v.strip():
                continue  # an empty note: no line
            v = human(v)
        else:
            v = fmt_number(v)
        print(f"{k:>20}: {v}")
    return 0


def _gains(args) -> int:
    from theory.gains import gains_markdown, gains_table

    rows = gains_table(args.activation)
    if args.json:
        print(dumps({"convention": "gain g: sigma_w^2 = n_in Var(w) = g^2", "activations": rows}))
    else:
        print(human(gains_markdown(rows, args.lang)), end="")
    return 0


def _bench(args) -> int:
    from theory.bench import bench_meanfield_point, bench_phase_grid, format_bench

    point = bench_meanfield_point()
    grid = bench_phase_grid()
    doc = {"meanfield_point": point, "phase_grid": grid}
    print(dumps(doc) if args.json else format_bench(doc))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m theory`` (``argv`` None: ``sys.argv``); returns the exit status: 0, 1 when the
    derivation named by ``show`` fails to verify, 2 for a bad argument, 130 on Ctrl-C."""
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
            if args.format == "json":
                print(dumps(d.to_dict(args.lang)))
            else:
                text = d.render(args.format, args.lang)
                print(human(text) if args.format == "text" else text)
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
                for spec, r in zip(specs, results):
                    print("\n".join(_activation_text(acts.get_activation(spec), r)))
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
            return _bench(args)
        raise AssertionError(args.command)

    return run(PROG, body)
