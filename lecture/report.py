"""REPORT.md: the lecture walked slide by slide, every claim with its verdict, evidence, derivation and figure.

At the top an errata table (every claim refuted, imprecise or not supported, with the correction; an inconclusive
claim is not an erratum), the count of
claims per verdict, and the map slide -> figure -> derivation -> verdict. Then, per part of the lecture and per slide
(in the order of the slides), each claim: the quote, what it claims, the verdict, the evidence (numbers), the
verified derivation (rendered by :mod:`theory.derivation`, collapsed) and the regenerated figure. Nothing in the
report is typed in: the verdicts and numbers come from the rows of :func:`lecture.claims.row`.
"""
from __future__ import annotations

import re

from lecture.claims import SECTIONS, in_language
from lecture.registry import ERRATA_VERDICTS, VERDICTS
from theory.text import pick

MARK = {"confirmed": "✅", "supported": "✅", "imprecise": "⚠️", "refuted": "❌", "not-supported": "❌",
        "inconclusive": "❔"}
#: the verdicts as the report writes them (the JSON keeps the English keys)
VERDICT_WORDS = {
    "confirmed": {"en": "confirmed", "ru": "подтверждено"},
    "refuted": {"en": "refuted", "ru": "опровергнуто"},
    "imprecise": {"en": "imprecise", "ru": "неточно"},
    "supported": {"en": "supported", "ru": "подтверждается опытом"},
    "not-supported": {"en": "not-supported", "ru": "не подтверждается опытом"},
    "inconclusive": {"en": "inconclusive", "ru": "не решено"},
}


def verdict_word(verdict: str, lang: str = "en") -> str:
    """A verdict as the report writes it in ``lang`` (:data:`VERDICT_WORDS`)."""
    return VERDICT_WORDS[verdict][lang]
WORDS = {
    "title": {"en": "The lecture, fact-checked", "ru": "Лекция, проверенная вычислением"},
    "intro": {"en": "«{lecture}»: every checkable statement of the slides, decided by computation (SymPy derivations "
                    "from `theory/`, Monte Carlo and training experiments from `sims/`). Regenerate with "
                    "`python -m lecture --out DIR`; code version `{code}`.",
              "ru": "«{lecture}»: каждое проверяемое утверждение слайдов, решённое вычислением (выводы SymPy из "
                    "`theory/`, Монте-Карло и обучающие эксперименты из `sims/`). Пересобрать: "
                    "`python -m lecture --out DIR`; версия кода `{code}`."},
    "counts": {"en": "Claims per verdict", "ru": "Утверждений по вердиктам"},
    "errata": {"en": "Errata", "ru": "Список исправлений"},
    "errata_intro": {"en": "Every claim the computation refutes, bears out only under a condition, or contradicts "
                           "(refuted, imprecise, not-supported), with the correction computed by the check. An "
                           "inconclusive claim is not an erratum: the data could not decide it.",
                     "ru": "Все утверждения, которые вычисление опровергло, подтвердило лишь при условии или которые "
                           "опыт не подтвердил («опровергнуто», «неточно», «не подтверждается опытом»), с исправлением, "
                           "вычисленным проверкой. Результат «не решено» не ошибка слайда: данных не хватило для "
                           "решения."},
    "map": {"en": "Slide → figure → derivation → verdict", "ru": "Слайд → рисунок → вывод → вердикт"},
    "slide": {"en": "slide", "ru": "слайд"},
    "says": {"en": "the slide says", "ru": "на слайде"},
    "verdict": {"en": "verdict", "ru": "вердикт"},
    "Verdict": {"en": "Verdict", "ru": "Вердикт"},
    "correction": {"en": "correction", "ru": "исправление"},
    "figure": {"en": "figure", "ru": "рисунок"},
    "derivation": {"en": "derivation", "ru": "вывод"},
    "claim": {"en": "Claim", "ru": "Утверждение"},
    "evidence": {"en": "Evidence", "ru": "Что показало вычисление"},
    "condition": {"en": "Holds when", "ru": "Верно, если"},
    "show": {"en": "the derivation, each step checked by SymPy", "ru": "вывод, каждый шаг проверен SymPy"},
    "none": {"en": "none", "ru": "нет"},
    "not_claims": {"en": "Not graded", "ru": "Без оценки"},
    "not_claims_intro": {"en": "Statements of the slides that are not checkable claims, with the reason.",
                         "ru": "Фразы слайдов, которые не являются проверяемыми утверждениями, с причиной."},
    "reason": {"en": "reason", "ru": "причина"},
    "Derivation": {"en": "Derivation", "ru": "Вывод"},
    "derivations": {"en": "Derivations", "ru": "Выводы"},
    "derivations_intro": {"en": "Each derivation once; the claims above link here. Every step is checked by SymPy.",
                          "ru": "Каждый вывод один раз; утверждения выше ссылаются сюда. Каждый шаг проверен SymPy."},
    "fast": {"en": "**A `--fast` report.** Its verdicts come from {seeds} seeds instead of {full} and from shorter "
                   "runs and smaller sizes: a fast verdict may differ from the full one. Run `python -m lecture "
                   "--out DIR` without `--fast` for the report.",
             "ru": "**Отчёт `--fast`.** Его вердикты получены на {seeds} зернах вместо {full}, на коротких прогонах и "
                   "малых размерах: быстрый вердикт может отличаться от полного. Полный отчёт: `python -m lecture "
                   "--out DIR` без `--fast`."},
    "fast_none": {"en": "No full run of this code version is cached in this folder, so the differences are not known.",
                  "ru": "Полного прогона этой версии кода в этой папке нет, поэтому различия неизвестны."},
    "fast_same": {"en": "Every verdict equals that of the full run cached in this folder.",
                  "ru": "Все вердикты совпадают с полным прогоном из этой папки."},
    "fast_diff": {"en": "{n} of {total} verdicts differ from the full run cached in this folder: {list}.",
                  "ru": "{n} из {total} вердиктов отличаются от полного прогона из этой папки: {list}."},
    "fast_item": {"en": "`{id}` {fast} here, {full} in full", "ru": "`{id}` здесь {fast}, в полном {full}"},
}


def report_title(lang: str = "en") -> str:
    """The report's title in ``lang``."""
    return _w("title", lang)


def _w(key: str, lang: str, **fmt) -> str:
    return WORDS[key][lang].format(**fmt)


def quote_markdown(quote: str, *, inline: bool = False) -> str:
    """A slide quote as Markdown whose formulas render: text with its own ``$...$`` (or code) is kept; a bare LaTeX
    formula (the slides' display lines, quoted without their delimiters) becomes math: an aligned block where it has
    alignment marks ``&``, a display block where it is long or has line breaks, inline math otherwise. ``inline``
    (a table cell): always inline math, since a display block cannot sit in a table."""
    q = " ".join(quote.split())
    blocks = re.fullmatch(r"(?:\$\$[^$]+\$\$\s*){2,}", q)
    if blocks:  # display formulas side by side: one block, a line each
        q = "$$\\begin{aligned} " + " \\\\ ".join(re.findall(r"\$\$([^$]+)\$\$", q)) + " \\end{aligned}$$"
    if "`" in q or "$" in q:
        return q.replace("$$", "$") if inline else q
    if not re.search(r"\\[a-zA-Z]+|[_^=]", q):
        return q
    body = q
    if "&" in q and "\\begin{cases}" not in q:
        body = f"\\begin{{aligned}} {q} \\end{{aligned}}"
    if inline:
        return f"${body}$"
    return f"$${body}$$" if body != q or "\\\\" in q or len(q) > 60 else f"${q}$"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _figure_file(name: str, lang: str) -> str:
    return f"figures/{name}{'' if lang == 'en' else '.' + lang}.png"


def fast_banner(rows: list[dict], full_rows: list[dict] | None, lang: str = "en") -> str:
    """The banner of a ``--fast`` report: what fast means, and which verdicts differ from ``full_rows`` (the rows of a
    full run of the same code, when cached; None: unknown)."""
    from sims.experiments.common import FAST_SEEDS, SEEDS

    text = _w("fast", lang, seeds=FAST_SEEDS, full=SEEDS)
    if full_rows is None:
        return f"{text} {_w('fast_none', lang)}"
    full = {r["id"]: r["verdict"] for r in full_rows}
    diff = [r for r in rows if full.get(r["id"]) != r["verdict"]]
    if not diff:
        return f"{text} {_w('fast_same', lang)}"
    items = "; ".join(_w("fast_item", lang, id=r["id"], fast=verdict_word(r["verdict"], lang),
                         full=verdict_word(full[r["id"]], lang) if r["id"] in full else "—") for r in diff)
    return f"{text} {_w('fast_diff', lang, n=len(diff), total=len(rows), list=items)}"


def render(rows: list[dict], *, derivations: dict[str, str], lang: str = "en", code: str = "",
           figures: set[str] | None = None, fast: dict | None = None,
           lecture: str = "Нейронки для экономистов и вообще: эвристики для обучения сетей") -> str:
    """The report's Markdown. ``rows``: :func:`lecture.claims.row` per claim in slide order; ``derivations``: name ->
    rendered Markdown; ``figures``: the figure names that exist under ``figures/`` (others are not linked); ``fast``:
    for a ``--fast`` report, ``{"full_rows": rows of a cached full run or None}`` (a banner at the top)."""
    figures = figures or set()
    rows = [in_language(r, lang) for r in rows]
    out = [f"# {_w('title', lang)}", ""]
    if fast is not None:
        out += [f"> {fast_banner(rows, fast.get('full_rows'), lang)}", ""]
    out += [_w("intro", lang, lecture=lecture, code=code), ""]
    out += [counts_line(rows, lang), ""]
    # errata
    out += [f"## {_w('errata', lang)}", "", _w("errata_intro", lang), "",
            f"| {_w('slide', lang)} | {_w('says', lang)} | {_w('verdict', lang)} | {_w('correction', lang)} |",
            "| --- | --- | --- | --- |"]
    for r in rows:
        if r["verdict"] in ERRATA_VERDICTS:
            cond = f" ({_w('condition', lang).lower()}: {r['condition']})" if r.get("condition") else ""
            out.append(f"| «{_cell(r['slide'])}» | {_cell(quote_markdown(r['quote'], inline=True))} | "
                       f"{MARK[r['verdict']]} {verdict_word(r['verdict'], lang)} | "
                       f"{_cell(r['correction'])}{_cell(cond)} |")
    out.append("")
    skipped = not_claims_table(lang, lead=False)
    if skipped:
        from lecture.captions import EXTRA, NOT_GRADED

        out += [f"## {_w('not_claims', lang)}", ""] + skipped + [""]
        for name, place in EXTRA.items():
            if place == NOT_GRADED and name in figures:
                out += figure_block(name, lang)
    # the map
    out += [f"## {_w('map', lang)}", "",
            f"| {_w('slide', lang)} | {_w('claim', lang).lower()} | {_w('figure', lang)} | {_w('derivation', lang)} "
            f"| {_w('verdict', lang)} |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        fig = f"[`{r['figure']}`]({_figure_file(r['figure'], lang)})" if r.get("figure") in figures else "—"
        der = f"`{r['derivation']}`" if r.get("derivation") else "—"
        out.append(f"| «{_cell(r['slide'])}» | [{r['id']}](#{r['id']}) | {fig} | {der} | "
                   f"{MARK[r['verdict']]} {verdict_word(r['verdict'], lang)} |")
    out.append("")
    # per part of the lecture, per slide, in the seed's order
    titles = {key: title for key, _prefix, title in SECTIONS}
    used: list[str] = []  # derivations in order of first use
    from lecture.notes import DERIVATIONS as NOTE_DERIVATIONS, notes

    slide_notes = notes()
    for key, slides in outline(rows):
        out += [f"## {titles[key][lang]}", ""]
        for slide, slide_rows in slides:
            out += [f"### «{slide}»", ""]
            for r in slide_rows:
                out += [f'<div class="claim" data-verdict="{r["verdict"]}">', "", f'<a id="{r["id"]}"></a>', "",
                        f"> {quote_markdown(r['quote'])}", "",
                        f"**{_w('claim', lang)}** (`{r['id']}`). {r['statement']}", "",
                        f"**{_w('Verdict', lang)}: {MARK[r['verdict']]} {verdict_word(r['verdict'], lang)}**"
                        + (f". {_w('condition', lang)}: {r['condition']}" if r.get("condition") else "")
                        + (f". {_w('correction', lang).capitalize()}: {r['correction']}" if r.get("correction")
                           else ""),
                        "", f"**{_w('evidence', lang)}.** {r['evidence']}", ""]
                name = r.get("derivation")
                if name and name in derivations:
                    if name not in used:
                        used.append(name)
                    out += [f"**{_w('Derivation', lang)}:** [{derivation_title(derivations[name], name)}]"
                            f"(#{derivation_anchor(name)})", ""]
                out += ["</div>", ""]
            if slide in slide_notes:  # what the package adds to the slide (not an erratum)
                out += [pick(slide_notes[slide], lang), ""]
                linked = [n for n in NOTE_DERIVATIONS.get(slide, ()) if n in derivations]
                used += [n for n in linked if n not in used]
                if linked:
                    out += [f"**{_w('Derivation', lang)}:** " + ", ".join(
                        f"[{derivation_title(derivations[n], n)}](#{derivation_anchor(n)})" for n in linked), ""]
            for name in slide_figures(slide, slide_rows, figures):  # each figure once per slide, after its claims
                out += figure_block(name, lang)
    if used:
        from theory.derivation import plain  # a summary is raw HTML: its title in plain characters, not math

        out += [f"## {_w('derivations', lang)}", "", _w("derivations_intro", lang), ""]
        for name in used:
            body = derivations[name].strip().splitlines()
            if body and body[0].startswith("#"):
                body = body[1:]
            out += [f'<a id="{derivation_anchor(name)}"></a>', "", "<details>",
                    f"<summary><b>{_subscripts(plain(derivation_title(derivations[name], name)))}</b> "
                    f"(<code>{name}</code>): "
                    f"{_w('show', lang)}</summary>", "", "\n".join(body).strip(), "", "</details>", ""]
    text = "\n".join(out).rstrip() + "\n"
    if lang != "ru":
        return text
    quotes = [q for r in rows for q in (quote_markdown(r["quote"]), _cell(quote_markdown(r["quote"], inline=True)))]
    return decimal_commas(text, keep=quotes + [_cell(n.quote) for n in _not_claims()])


def slide_figures(slide: str, rows: list[dict], figures: set[str]) -> list[str]:
    """The figures shown on a slide: those its claims name, then those placed there though no claim names them
    (:data:`lecture.captions.EXTRA`), each once, if drawn (in ``figures``)."""
    from lecture.captions import EXTRA

    names = [r["figure"] for r in rows if r.get("figure")] + [f for f, place in EXTRA.items() if place == slide]
    return [n for n in dict.fromkeys(names) if n in figures]


def figure_block(name: str, lang: str) -> list[str]:
    """A figure's Markdown: the image and its one-line caption (:data:`lecture.captions.CAPTIONS`)."""
    from lecture.captions import CAPTIONS

    return [f"![{name}]({_figure_file(name, lang)})", "", f"*{_w('figure', lang).capitalize()} `{name}`. "
            f"{CAPTIONS[name][lang]}*", ""]


_SUB = str.maketrans("0123456789aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")


def _subscripts(text: str) -> str:
    """Plain text with ``x_i``-style subscripts of one character (or a braced run of them) as Unicode subscripts
    (``w_0`` -> w₀), for places where math does not render (an HTML ``<summary>``)."""
    def sub(m):
        s = m.group(1) or m.group(2)
        return s.translate(_SUB) if all(c in "0123456789aehijklmnoprstuvx" for c in s) else m.group(0)
    return re.sub(r"_(?:\{(\w+)\}|(\w))", sub, text)


def derivation_anchor(name: str) -> str:
    """The anchor of derivation ``name`` in the report's Derivations part."""
    return f"derivation-{name}"


def derivation_title(rendered: str, name: str) -> str:
    """The title of a rendered derivation (its first heading, without the trailing name), else its name."""
    first = rendered.strip().splitlines()[0] if rendered.strip() else ""
    if first.startswith("#"):
        return first.lstrip("#").strip().removesuffix(f"(`{name}`)").strip()
    return name


def outline(rows: list[dict]) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """The report's outline, in the seed's order: [(part key, [(slide title, rows)])]. A claim sits at the first slide
    of its title that holds its quote (:func:`lecture.registry.slide_index`); a part holds the slides that fall in it
    (:data:`lecture.claims.SECTION_STARTS`); a title repeated within a part (the lecture returns to a slide, or
    reveals it in steps) is one entry, at its first place."""
    from lecture.claims import SECTION_STARTS
    from lecture.registry import slide_index, slides

    titles = [t for t, _ in slides()]
    starts = sorted((titles.index(SECTION_STARTS[key]), key) for key, _, _ in SECTIONS)

    def part(i: int) -> str:
        return ([k for s, k in starts if s <= i] or [starts[0][1]])[-1]
    placed = sorted(((slide_index(r["slide"], r["quote"]), k, r) for k, r in enumerate(rows)), key=lambda t: t[:2])
    out: list[tuple[str, list[tuple[str, list[dict]]]]] = []
    for i, _, r in placed:
        key = part(i)
        if not out or out[-1][0] != key:
            out.append((key, []))
        group = next((g for g in out[-1][1] if g[0] == r["slide"]), None)
        if group is None:
            out[-1][1].append((r["slide"], [r]))
        else:
            group[1].append(r)
    return out


def counts_line(rows: list[dict], lang: str = "en") -> str:
    """``**Claims per verdict** (N): ✅ confirmed k, ...``, counted from the rows (the report's and README's line)."""
    cnt = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    return f"**{_w('counts', lang)}** ({len(rows)}): " + ", ".join(f"{MARK[v]} {verdict_word(v, lang)} {cnt[v]}" for v in VERDICTS)


def _not_claims():
    from lecture.claims import not_claims

    return not_claims()


def not_claims_table(lang: str = "en", *, lead: bool = True) -> list[str]:
    """The statements left ungraded (:func:`lecture.claims.not_claims`) as Markdown lines: an intro (led by a bold
    "Not graded." with ``lead``, for a place without a heading), then the table slide, quote, reason."""
    from lecture.claims import not_claims

    skipped = not_claims()
    if not skipped:
        return []
    intro = (f"**{_w('not_claims', lang)}.** " if lead else "") + _w("not_claims_intro", lang)
    return ([intro, "",
             f"| {_w('slide', lang)} | {_w('says', lang)} | {_w('reason', lang)} |", "| --- | --- | --- |"]
            + [f"| «{_cell(n.slide)}» | {_cell(n.quote)} | {_cell(pick(n.reason, lang))} |" for n in skipped])


def claims_table(rows: list[dict], lang: str = "en") -> str:
    """The README's block: the counts per verdict, then slide -> figure -> derivation -> verdict, one row per claim
    (figures named, not linked), then the statements left ungraded with their reasons."""
    rows = [in_language(r, lang) for r in rows]
    out = [counts_line(rows, lang), "",
           f"| {_w('slide', lang)} | {_w('claim', lang).lower()} | {_w('figure', lang)} | {_w('derivation', lang)} "
           f"| {_w('verdict', lang)} |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append(f"| «{_cell(r['slide'])}» | {_cell(r['statement'])} | "
                   f"{'`' + r['figure'] + '`' if r.get('figure') else '—'} | "
                   f"{'`' + r['derivation'] + '`' if r.get('derivation') else '—'} | {MARK[r['verdict']]} {verdict_word(r['verdict'], lang)} |")
    skipped = not_claims_table(lang)
    return "\n".join(out + ([""] + skipped if skipped else []))


#: the parts of Markdown that are not prose: code spans and blocks, HTML tags, link targets, and math
_NOT_PROSE = re.compile(r"(```.*?```|`[^`\n]+`|<[^>\n]+>|\]\([^)\s]+\))", re.S)
_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+\$)", re.S)
_DECIMAL = re.compile(r"(?<![\w.])([−-]?\d+)\.(\d+)(?![\w.]*\.\d)")


#: the words the package writes inside math (``\text{...}``: SymPy's Piecewise, the checks' labels) in the Russian
#: edition; the slides' own words in their formulas are quotes and stay as the slide writes them (a test checks that no
#: word here occurs in the seed's formulas)
MATH_WORDS_RU = {"for": "при", "otherwise": "иначе", "off": "откл", "on": "вкл", "keep": "сохр", "mask": "маска",
                 "masks": "маски", "ensemble": "ансамбль", "weight scaling": "масштабирование весов",
                 "gap": "разрыв", "ratio": "отношение", "spread ratio": "отношение разбросов",
                 "batch value": "значение по батчу", "running value": "скользящее значение", "prev": "пред",
                 "running": "скользящее", "batch": "батч"}


def russian_math_words(tex: str) -> str:
    """The words of :data:`MATH_WORDS_RU` inside ``\text{...}`` of a formula, in Russian."""
    return re.sub(r"\\text\{(\s*)([^{}]*?)(\s*)\}",
                  lambda m: f"\\text{{{m.group(1)}{MATH_WORDS_RU.get(m.group(2), m.group(2))}{m.group(3)}}}", tex)


def decimal_commas(markdown: str, keep=()) -> str:
    """Russian numbers in a report: a decimal comma in prose (0,25) and in math (0{,}25, which TeX sets without a
    space); in prose a list or interval of such numbers is separated by semicolons ([0,1; 0,2]). Code spans, HTML
    tags and link targets are left as they are; a dotted version number (2.13.0) is not a decimal. The words the
    package writes inside math become Russian too (:func:`russian_math_words`). ``keep``: texts left exactly as they
    are wherever they occur (the slides' quotes: a quote is the slide's own words, its decimal point included)."""
    def numbers(text: str, comma: str) -> str:
        text = _DECIMAL.sub(lambda m: f"{m.group(1)}{comma}{m.group(2)}", text)
        if comma == ",":
            text = re.sub(r"(\d,\d+), (?=[−-]?\d)", r"\1; ", text)
            text = re.sub(r"(?<=[\[(])([−-]?\d+), (?=[−-]?\d+,\d)", r"\1; ", text)
        return text

    def prose(part: str) -> str:
        return "".join(numbers(russian_math_words(p), "{,}") if _MATH.fullmatch(p) else numbers(p, ",")
                       for p in _MATH.split(part))
    kept = sorted({k for k in keep if k}, key=len, reverse=True)
    pieces = re.split("(" + "|".join(map(re.escape, kept)) + ")", markdown) if kept else [markdown]
    return "".join(piece if k % 2 else "".join(p if _NOT_PROSE.fullmatch(p) else prose(p)
                                              for p in _NOT_PROSE.split(piece))
                   for k, piece in enumerate(pieces))
