"""``python -m figures``: list the registered figures or regenerate them.

    python -m figures list [--json]
    python -m figures [--only NAME ...] [--out DIR] [--lang en|ru] [--fast] [--quiet]

Files go to ``DIR/<name>.png`` and ``DIR/<name>.pdf`` (``<name>.ru.png`` / ``.ru.pdf`` with ``--lang ru``);
the written paths are printed one per line. Progress goes to stderr (:class:`theory.cli_util.Progress`): a bar on a
terminal, one line per finished figure elsewhere; ``--quiet`` prints neither paths nor progress. A bad argument (unknown
figure, language, an output folder that cannot be created or written) gives one line on stderr and exit status 2.
"""
from __future__ import annotations

import os
import sys

import matplotlib

matplotlib.use("Agg")  # the figure code never uses pyplot; this keeps any pyplot import off a GUI backend

from figures import common  # noqa: E402
from theory.cli_util import ArgumentParser, Progress, dumps, path_arg, run  # noqa: E402

PROG = "python -m figures"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Regenerate the lecture's figures (PNG and PDF), or list them.")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (see 'list')")
    p.add_argument("--out", type=path_arg, default=common.DEFAULT_OUT, metavar="DIR",
                   help=f"output folder (default {common.DEFAULT_OUT})")
    p.add_argument("--lang", choices=common.LANGS, default="en",
                   help="language of titles, labels and legends; ru adds the suffix .ru to the file names")
    p.add_argument("--fast", action="store_true", help="fewer grid points and lower dpi (for tests)")
    p.add_argument("--quiet", action="store_true",
                   help="print neither the written paths nor progress (default: progress on stderr, a bar on a "
                        "terminal and one line per finished figure elsewhere)")
    sub = p.add_subparsers(dest="command", metavar="{list}")
    ls = sub.add_parser("list", help="names and one-line descriptions of the figures")
    ls.add_argument("--json", action="store_true", help="one JSON list of {name, group, description}")
    return p


def _list(as_json: bool) -> int:
    entries = common.entries().values()
    if as_json:
        print(dumps([{"name": e.name, "group": e.group, "description": e.description, "timing": e.timing}
                     for e in entries]))
    else:
        width = max((len(e.name) for e in entries), default=0)
        for e in entries:
            print(f"{e.name:<{width}}  {e.description}" + ("  [timing: only with --only]" if e.timing else ""))
    return 0


def default_names() -> list[str]:
    """Every figure except the timing ones (wall-clock measurements, not byte-reproducible: drawn only when named)."""
    return [n for n, e in common.entries().items() if not e.timing]


def _generate(args) -> int:
    names = list(dict.fromkeys(args.only)) if args.only else default_names()
    chosen = [common.get(n) for n in names]  # all names checked before anything is drawn
    out = common.prepare_out_dir(args.out)
    bar = Progress(len(chosen), quiet=args.quiet)
    for entry in chosen:
        bar.running(entry.name)
        try:
            paths = entry.make(out, args.lang, args.fast)
        except OSError as exc:
            bar.close()
            print(f"{PROG}: error: writing {entry.name}: {exc}", file=sys.stderr)
            return 1
        if not args.quiet:
            bar.clear_line()  # so the paths do not print over the bar
            for path in paths:
                print(path, flush=True)
        bar.finished(entry.name)
    bar.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m figures`` (``argv`` None: ``sys.argv``); returns the exit status: 0, 1 when a file
    cannot be written or stdout is closed, 2 for a bad argument, 130 on Ctrl-C."""
    def body() -> int:
        args = _parser().parse_args(argv)
        try:
            return _list(args.json) if args.command == "list" else _generate(args)
        except BrokenPipeError:  # `python -m figures list | head`: the reader left; no traceback
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
            os.close(devnull)
            return 1
    return run(PROG, body)
