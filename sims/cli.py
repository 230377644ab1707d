"""``python -m sims``: numeric commands.

    python -m sims kernels [--activation SPEC ...] [--dtype float32|float64] [--json]

prints phi and phi' of the stable numeric kernels on a grid that includes the extremes +-1000, so the
warning-free behaviour can be inspected. The Monte Carlo engine (``sims run``, ``sims bench``) comes with its issue.
"""
from __future__ import annotations

import numpy as np

from sims.activations import kernel
from theory.activations import NAMES
from theory.cli_util import ArgumentParser, dumps, run

PROG = "sims"
GRID = (-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0)


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}", description="Numeric work on activations and random networks.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("kernels", help="evaluate the stable numeric kernels at extreme inputs")
    s.add_argument("--activation", action="append", metavar="SPEC", help="name or expression in x (repeatable)")
    s.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    s.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = _parser().parse_args(argv)
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
                    print(f"  x = {xv:>8g}   phi = {fv:>12.6g}   phi' = {dv:>12.6g}")
        return 0

    return run(PROG, body)
