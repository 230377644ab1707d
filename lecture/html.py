"""REPORT.html: the report as one page that works offline.

The Markdown of :mod:`lecture.report` is rendered by markdown-it-py (CommonMark, tables, raw HTML for the anchors
and the collapsible derivations), its ``$...$`` and ``$$...$$`` math by the dollarmath plugin, and every formula is
converted to MathML by latex2mathml: browsers draw MathML natively, so no script and no network are needed. The page
adds a table of contents (the parts and slides), a filter by verdict (claims are ``<div class="claim"
data-verdict=...>`` blocks), and keeps the figures as relative links (``figures/NAME.png`` beside the page).

A formula latex2mathml cannot convert is kept as code and counted in ``math_errors`` (a test requires none).
"""
from __future__ import annotations

import html
import re

VERDICT_LABELS = {
    "en": {"title": "Show verdicts", "contents": "Contents"},
    "ru": {"title": "Показать вердикты", "contents": "Содержание"},
}

#: the report's verdict marks -> (a character every font has, its CSS class)
MARKS = {"✅": ("✓", "good"), "❌": ("✗", "bad"), "⚠️": ("⚠", "warn"), "❔": ("?", "open")}

CSS = """
.mark { font-weight: bold; } .mark.good { color: #1e7b34; } .mark.bad { color: #b3261e; }
.mark.warn { color: #a15c00; } .mark.open { color: #555; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1b1b; }
main { max-width: 66rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
nav.toc { position: fixed; top: 0; left: 0; width: 17rem; height: 100vh; overflow-y: auto; font-size: 13px;
          padding: 1rem; box-sizing: border-box; border-right: 1px solid #ddd; background: #fafafa; }
nav.toc ul { list-style: none; padding-left: 0.8rem; margin: 0.2rem 0; }
@media (min-width: 80rem) { main { margin-left: 19rem; } }
@media (max-width: 80rem) { nav.toc { position: static; width: auto; height: auto; border: 0; } }
.filter { position: sticky; top: 0; background: #fff; padding: 0.4rem 0; border-bottom: 1px solid #eee; z-index: 2; }
.filter label { margin-right: 0.8rem; white-space: nowrap; }
table { border-collapse: collapse; margin: 0.6rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; }
td code { overflow-wrap: anywhere; }
blockquote { border-left: 4px solid #c8d3e0; margin: 0.6rem 0; padding: 0.1rem 0.9rem; color: #333;
             overflow-x: auto; }
img { max-width: 100%; height: auto; }
details { border: 1px solid #ddd; border-radius: 4px; padding: 0.3rem 0.7rem; margin: 0.5rem 0; overflow-x: auto; }
summary { cursor: pointer; }
.claim { border-top: 1px solid #eee; padding-top: 0.4rem; }
math[display="block"] { overflow-x: auto; max-width: 100%; }
.long-math { display: inline-block; max-width: 24rem; overflow-x: auto; overflow-y: hidden;
             vertical-align: middle; }
code { background: #f3f3f3; padding: 0 0.2rem; border-radius: 3px; }
"""

#: inline formulas whose LaTeX is longer than this many characters (a derivation step written out over all masks, a
#: Jacobian) scroll in a box at most 24rem wide: MathML does not break lines, and such a formula would otherwise widen
#: its table until the justification column leaves the screen
LONG_INLINE = 60

SCRIPT = """
document.querySelectorAll('.filter input').forEach(function (box) {
  box.addEventListener('change', function () {
    document.querySelectorAll('.claim[data-verdict="' + box.value + '"]').forEach(function (el) {
      el.style.display = box.checked ? '' : 'none';
    });
  });
});
"""


def _markdown_it():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    errors: list[str] = []

    def math(content: str, display: bool) -> str:
        from latex2mathml.converter import convert

        try:
            out = convert(content.strip(), display="block" if display else "inline")
            if not display and len(content) > LONG_INLINE:  # a scroll box of its own, so its table cell stays narrow
                out = f'<span class="long-math">{out}</span>'
            return out
        except Exception as exc:  # noqa: BLE001 - any converter failure is reported, never a crash
            errors.append(f"{content.strip()[:80]} ({type(exc).__name__})")
            return f"<code class=\"math-error\">{html.escape(content)}</code>"
    md = (MarkdownIt("commonmark", {"html": True}).enable("table")
          .use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True,
               renderer=lambda content, options: math(content, options.get("display_mode", False)))
          .use(anchors_plugin, min_level=2, max_level=3, permalink=False))
    return md, errors


def render_html(markdown: str, *, lang: str = "en", title: str = "Report", verdicts=()) -> tuple[str, list[str]]:
    """The page for the report's ``markdown``: (HTML, the formulas MathML could not be made for). ``verdicts``: the
    verdicts offered by the filter, in order: a key (``data-verdict`` of the claims) or (key, label in ``lang``)."""
    md, errors = _markdown_it()
    body = md.render(markdown)
    for mark, (char, kind) in MARKS.items():  # the verdict marks in any font (headless browsers lack emoji)
        body = body.replace(mark, f'<span class="mark {kind}">{char}</span>')
    toc = _toc(body)
    labels = VERDICT_LABELS.get(lang, VERDICT_LABELS["en"])
    pairs = [(v, v) if isinstance(v, str) else tuple(v) for v in verdicts]
    boxes = "".join(f'<label><input type="checkbox" value="{html.escape(v)}" checked> {html.escape(label)}</label>'
                    for v, label in pairs)
    page = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'<nav class="toc"><strong>{labels["contents"]}</strong>{toc}</nav>\n<main>\n'
            + (f'<div class="filter">{labels["title"]}: {boxes}</div>\n' if boxes else "")
            + f"{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")
    return page, errors


def _toc(body: str) -> str:
    """A nested list of the page's h2 and h3 headings (their ids come from the anchors plugin)."""
    items: list[tuple[int, str, str]] = []
    for m in re.finditer(r'<h([23]) id="([^"]+)">(.*?)</h\1>', body, flags=re.S):
        text = re.sub(r"<[^>]+>", "", m.group(3))
        items.append((int(m.group(1)), m.group(2), text))
    out, open_sub = ["<ul>"], False
    for level, anchor, text in items:
        if level == 3 and not open_sub:
            out.append("<ul>")
            open_sub = True
        elif level == 2 and open_sub:
            out.append("</ul>")
            open_sub = False
        out.append(f'<li><a href="#{anchor}">{text}</a></li>')
    if open_sub:
        out.append("</ul>")
    out.append("</ul>")
    return "".join(out)
