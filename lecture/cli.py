"""``python -m lecture``: the main job.

Until the claims registry and REPORT.md exist (a later issue), the main job regenerates every figure that exists:

    python -m lecture [--out DIR] [--lang en|ru] [--fast] [--[no-]progress]

writes the figures under ``DIR/figures`` (default ``out/figures``).
"""
from __future__ import annotations

from argparse import BooleanOptionalAction
from pathlib import Path

from theory.cli_util import ArgumentParser, run

PROG = "lecture"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}",
                       description="Regenerate everything for the lecture: for now, all figures (PNG and PDF).")
    p.add_argument("--out", default="out", type=Path, help="output folder (default: out); figures go to OUT/figures")
    p.add_argument("--lang", default="en", choices=["en", "ru"], help="language of the figures' labels")
    p.add_argument("--fast", action="store_true", help="lower resolution, for tests")
    p.add_argument("--progress", action=BooleanOptionalAction, default=None,
                   help="a progress bar on stderr (default: only when stderr is a terminal)")
    return p


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = _parser().parse_args(argv)
        from figures.cli import main as figures_main

        fig_args = ["--out", str(args.out / "figures"), "--lang", args.lang] + (["--fast"] if args.fast else [])
        if args.progress is not None:
            fig_args.append("--progress" if args.progress else "--no-progress")
        return figures_main(fig_args)

    return run(PROG, body)
