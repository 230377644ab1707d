"""``python -m theory``: derivations and activation facts (contracts in DESIGN.md).

    python -m theory list [--json]
    python -m theory show NAME [--format text|markdown|latex|json]     exit 1 if a step fails to verify
    python -m theory activations [--activation SPEC ...] [--q Q] [--json]
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
    return p


def _q(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise SpecError(f"--q must be a positive finite variance (got {value})")
    return value


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
        raise AssertionError(args.command)

    return run(PROG, body)
