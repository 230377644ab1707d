"""``python -m lecture``: the main job, and the claims.

    python -m lecture [--out DIR] [--lang en|ru|both] [--fast] [--jobs N] [--quiet]
    python -m lecture claims [--json | --markdown] [--fast] [--cache DIR] [--quiet]

The main job regenerates every figure (except the timing one) into ``DIR/figures``, evaluates every claim of the
lecture (:mod:`lecture.claims`) and writes both editions of the report, English ``DIR/REPORT.md`` and Russian
``DIR/REPORT.ru.md`` (:mod:`lecture.report`), each with its HTML twin (``REPORT.html``, ``REPORT.ru.html``), their
figures (``figures/NAME.png`` and ``figures/NAME.ru.png``), and ``DIR/claims.json``. ``--lang en`` or ``ru`` writes
one edition only.
Work runs in ``--jobs`` processes (default: one per core). Results are cached under ``DIR/.cache``, keyed by the
configuration and the code version (a hash of every source file): experiment runs shared by the figures and the
claims (:mod:`sims.memo`), the claims' evidence, rendered derivations, and for each figure a stamp with the hashes
of its files, so a second run redraws nothing that is current. Every file is written to a temporary name and renamed
into place, so an interrupted run (Ctrl-C: exit status 130) leaves no half-written file. Progress goes to stderr
(a bar on a terminal, one line per finished task elsewhere, ``[12/33] train-inits 41.2 s``); ``--quiet`` turns it off.

``claims`` prints the claims with their verdicts (``--json``: a list of objects with ``id``, ``slide``, ``quote``,
``verdict``, ``evidence`` and more), computed or read from the cache folder (default ``out/.cache``, the main job's).
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from theory.cli_util import ArgumentParser, Progress, dumps, path_arg, run
from theory.errors import SpecError

PROG = "lecture"
DEFAULT_OUT = Path("out")
LANGS = ("en", "ru")


def report_names(lang: str) -> tuple[str, str]:
    """The report's Markdown and HTML file names in ``lang``: REPORT.md / REPORT.html, REPORT.ru.md / REPORT.ru.html."""
    stem = "REPORT" if lang == "en" else f"REPORT.{lang}"
    return f"{stem}.md", f"{stem}.html"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=f"python -m {PROG}",
                       description="Regenerate everything for the lecture: all figures, every claim's verdict, and "
                                   "REPORT.md (the lecture fact-checked slide by slide).")
    p.add_argument("--out", default=DEFAULT_OUT, type=path_arg, help="output folder (default: out)")
    p.add_argument("--lang", default="both", choices=["en", "ru", "both"],
                   help="language of the figures and the report (default: both editions, REPORT.md and REPORT.ru.md)")
    p.add_argument("--fast", action="store_true", help="small runs and low resolution (for tests)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (default: a bar on a terminal, one line per finished task elsewhere)")
    sub = p.add_subparsers(dest="command", metavar="{claims}")
    c = sub.add_parser("claims", help="the claims and their verdicts")
    c.add_argument("--json", action="store_true", help="a JSON list of claims (id, slide, quote, verdict, evidence...)")
    c.add_argument("--markdown", action="store_true",
                   help="the table slide -> figure -> derivation -> verdict, as Markdown (the README's)")
    c.add_argument("--fast", action="store_true", dest="claims_fast", help="small runs (for tests)")
    c.add_argument("--cache", type=path_arg, default=DEFAULT_OUT / ".cache", help="cache folder (default: out/.cache)")
    c.add_argument("--quiet", action="store_true", dest="claims_quiet",
                   help="no progress on stderr while claims are computed (default: as for the main job)")
    return p


# ------------------------------------------------------------------------------------------------ work units
def _worker_init(memo_dir: str) -> None:
    from sims import memo
    from sims.executors import ignore_sigint

    ignore_sigint()  # Ctrl-C reaches the process group: the main process alone stops the work (it kills the workers)
    memo.configure(memo_dir)


def _make_figure(name: str, fig_dir: str, lang: str, fast: bool) -> tuple[list[str], float]:
    """Draw one figure; its files and the seconds it took (for the progress line)."""
    import time

    import matplotlib

    matplotlib.use("Agg")
    from figures import common

    t0 = time.perf_counter()
    paths = [str(p) for p in common.get(name).make(Path(fig_dir), lang, fast)]
    return paths, time.perf_counter() - t0


def _timed_claims(cache_dir: str, fast: bool) -> tuple[dict, float]:
    import time

    t0 = time.perf_counter()
    result = _claims_and_derivations(cache_dir, fast)
    return result, time.perf_counter() - t0


@functools.lru_cache(maxsize=None)
def _derivation(name: str):
    """The registered derivation ``name``, built once per process: its steps are checked by SymPy once, then
    rendered in each language (a new build would check them again)."""
    from theory.derivation import get

    return get(name)


def _claims_and_derivations(cache_dir: str, fast: bool, progress: Progress | None = None) -> dict:
    """Every claim's row, and the rendered derivations the rows and the slides' notes name (both cached by code
    version). ``progress`` gets one report per claim evaluated (none when the rows come from the cache)."""
    from lecture import claims as C
    from lecture.registry import Evidence

    evidence = Evidence(Path(cache_dir), fast=fast)

    def report(done: int, total: int, claim_id: str) -> None:
        if progress is not None:
            progress.total = total
            progress.finished(claim_id, done=done)

    def rows():
        return [C.row(c, o) for c, o in C.evaluate_all(evidence, progress=report)]
    result = evidence.get("claims", rows, check=C.rows_problem)

    def render(name, lang):
        return _derivation(name).render("markdown", lang)

    def text(value):
        return None if isinstance(value, str) and value.strip() else "is not a rendered derivation"
    from lecture.notes import DERIVATIONS as NOTE_DERIVATIONS

    names = sorted({r["derivation"] for r in result if r.get("derivation")}
                   | {n for linked in NOTE_DERIVATIONS.values() for n in linked})
    return {"rows": result,
            "derivations": {lang: {n: evidence.get("derivation", render, check=text, name=n, lang=lang) for n in names}
                            for lang in LANGS}}


def report_page(report: str, lang: str) -> str:
    """REPORT.html from the report's Markdown (:func:`lecture.html.render_html`); RuntimeError (a bug, not bad
    input) when a formula has no MathML."""
    from lecture.html import render_html
    from lecture.registry import VERDICTS
    from lecture.report import report_title, verdict_word

    page, errors = render_html(report, lang=lang, title=report_title(lang),
                               verdicts=[(v, verdict_word(v, lang)) for v in VERDICTS])
    if errors:
        raise RuntimeError(f"{len(errors)} formulas of the report have no MathML: {'; '.join(errors[:3])}")
    return page


def _full_rows(cache: Path) -> list[dict] | None:
    """The claims' rows of a full (not ``--fast``) run of this code version cached under ``cache``, or None."""
    from lecture import claims as C
    from lecture.registry import Evidence

    return Evidence(cache, fast=False).cached("claims", check=C.rows_problem)


# ------------------------------------------------------------------------------------------------ figure stamps
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp_path(cache: Path, name: str, lang: str, fast: bool) -> Path:
    return cache / "figures" / f"{name}.{lang}.{'fast' if fast else 'full'}.json"


def _stamp_key(name: str, lang: str, fast: bool) -> str:
    return f"figure {name} {lang} {'fast' if fast else 'full'}"


def _stamp_problem(value) -> str | None:
    if not (isinstance(value, dict) and set(value) == {"code", "files"} and isinstance(value["code"], str)
            and isinstance(value["files"], dict)
            and all(isinstance(f, str) and isinstance(h, str) for f, h in value["files"].items())):
        return "is not a figure stamp (code, files)"
    return None


def _fresh(cache: Path, name: str, lang: str, fast: bool, code: str) -> bool:
    """Whether the figure's files are current: a checked stamp entry of this code version whose files all exist with
    the recorded hashes. A damaged stamp is a notice (then the figure is drawn again)."""
    from theory.files import notice, read_entry

    p = _stamp_path(cache, name, lang, fast)
    entry = read_entry(p, _stamp_key(name, lang, fast))
    problem = entry.problem or (_stamp_problem(entry.value) if entry.ok else None)
    if problem:
        notice(f"figure stamp {p} {problem}: the figure is drawn again")
        return False
    if not entry.ok:
        return False
    stamp = entry.value
    return stamp["code"] == code and all(Path(f).is_file() and _sha(Path(f)) == h for f, h in stamp["files"].items())


def _write_stamp(cache: Path, name: str, lang: str, fast: bool, code: str, files: list[str]) -> None:
    from theory.files import write_entry

    write_entry(_stamp_path(cache, name, lang, fast), _stamp_key(name, lang, fast),
                {"code": code, "files": {f: _sha(Path(f)) for f in sorted(files)}})


# ------------------------------------------------------------------------------------------------ the main job
def _jobs(n: int | None) -> int:
    if n is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    from theory import validate

    return validate.processes(n, "--jobs")


def main_job(out: Path, lang: str = "both", fast: bool = False, jobs: int | None = None, quiet: bool = False,
             names: list[str] | None = None) -> dict:
    """Figures, claims and the report under ``out``, in both languages (``lang`` "both": REPORT.md, REPORT.ru.md and
    their HTML twins) or one (en, ru); returns what was done (``drawn``: "NAME" for an English figure, "NAME.ru" for a
    Russian one; ``current``; ``claims``; ``report``: the first edition's path; ``reports``: every file written).
    ``names``: only these figures (default: every figure but the timing ones). Progress on stderr unless ``quiet``
    (:class:`theory.cli_util.Progress`)."""
    from figures import common
    from figures.cli import default_names
    from lecture.claims import counts
    from lecture.report import render
    from theory.files import atomic_write_text, notice, remove_stale, writable_folder
    from sims import memo

    jobs = _jobs(jobs)
    out = writable_folder(out, "output folder")  # every path checked before any work
    fig_dir = common.prepare_out_dir(out / "figures")
    cache = writable_folder(out / ".cache", "cache folder")
    memo_dir = writable_folder(cache / "memo", "cache folder")
    for sub in ("evidence", "figures"):  # every cache folder: a file in the way is found now, not after the work
        writable_folder(cache / sub, "cache folder")
    langs = LANGS if lang == "both" else (lang,)
    for target in [out / "claims.json"] + [out / n for lg in langs for n in report_names(lg)]:
        if target.exists() and not target.is_file():
            raise SpecError(f"{str(target)!r} is in the way: it exists and is not a file")
    for stale in remove_stale(out):  # left by a writer that died (SIGKILL): never trusted, never kept
        notice(f"removed {stale}, a temporary file of a process that no longer runs")
    code = memo.code_version()
    names = default_names() if names is None else [common.get(n).name for n in names]
    todo = [(n, lg) for lg in langs for n in names if not _fresh(cache, n, lg, fast, code)]

    def task(n: str, lg: str) -> str:
        return n if lg == "en" else f"{n}.{lg}"
    bar = Progress(len(todo) + 1, quiet=quiet)
    claims_result = None
    if jobs == 1:
        previous = memo.folder()
        memo.configure(memo_dir)
        try:
            for n, lg in todo:
                bar.running(task(n, lg))
                paths, seconds = _make_figure(n, str(fig_dir), lg, fast)
                _write_stamp(cache, n, lg, fast, code, paths)
                bar.finished(task(n, lg), seconds)
            bar.running("claims")
            claims_result, seconds = _timed_claims(str(cache), fast)
            bar.finished("claims", seconds)
        finally:
            memo.configure(previous)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ex = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_init, initargs=(str(memo_dir),))
        try:
            futures = {ex.submit(_make_figure, n, str(fig_dir), lg, fast): (n, lg) for n, lg in todo}
            futures[ex.submit(_timed_claims, str(cache), fast)] = None  # last: reads the figures' runs
            bar.running(f"{len(todo)} figures and the claims in {jobs} processes")
            for fut in as_completed(futures):
                key = futures[fut]
                result, seconds = fut.result()
                if key is None:
                    claims_result = result
                else:
                    _write_stamp(cache, *key, fast, code, result)
                bar.finished(task(*key) if key else "claims", seconds)
        except BaseException:  # Ctrl-C or an error: abandon running tasks at once; finished figures are kept
            from sims.executors import stop_pool
            from theory.files import remove_stale

            stop_pool(ex)
            remove_stale(out)  # the temporary files of the workers just stopped
            raise
        ex.shutdown()
    rows = claims_result["rows"]
    written = []
    full_rows = _full_rows(cache) if fast else None
    for lg in langs:
        suffix = ".png" if lg == "en" else f".{lg}.png"
        drawn = {p.name[:-len(suffix)] for p in fig_dir.glob(f"*{suffix}")
                 if lg != "en" or p.name.count(".") == 1}
        report = render(rows, derivations=claims_result["derivations"][lg], lang=lg, code=code,
                        figures={n for n in names if n in drawn},
                        fast=({"full_rows": full_rows} if fast else None))
        md, html = report_names(lg)
        atomic_write_text(out / md, report)
        atomic_write_text(out / html, report_page(report, lg))
        written += [str(out / md), str(out / html)]
    atomic_write_text(out / "claims.json", dumps(rows) + "\n")
    bar.close()
    return {"drawn": [task(n, lg) for n, lg in todo],
            "current": [task(n, lg) for lg in langs for n in names if (n, lg) not in todo], "claims": counts(rows),
            "report": written[0], "reports": written}


def _claims_command(args) -> int:
    from lecture.claims import counts

    from theory.files import writable_folder

    writable_folder(args.cache / "evidence", "cache folder")  # before any work
    bar = Progress(0, quiet=args.claims_quiet, unit="claim")
    res = _claims_and_derivations(str(args.cache), args.claims_fast, progress=bar)
    bar.close()
    rows = res["rows"]
    if args.json:
        print(dumps(rows))
        return 0
    if args.markdown:
        from lecture.report import claims_table

        print(claims_table(rows))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['verdict']:<13}  «{r['slide']}»")
    print("; ".join(f"{v} {n}" for v, n in counts(rows).items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lecture`` (``argv`` None: ``sys.argv``): the main job or ``claims``; returns the exit
    status: 0, 2 for a bad argument, 130 on Ctrl-C."""
    def body() -> int:
        args = _parser().parse_args(argv)
        if args.command == "claims":
            return _claims_command(args)
        res = main_job(args.out, args.lang, args.fast, args.jobs, args.quiet)
        print("\n".join(res["reports"]))
        print("claims: " + ", ".join(f"{v} {n}" for v, n in res["claims"].items()))
        return 0

    return run(PROG, body)
