"""Leaks in the report's prose: what a reader should never see outside code spans and math.

:func:`prose` strips what is allowed to look technical (code spans, ``$...$`` and ``$$...$$`` math, HTML tags, link
targets); :func:`leaks` finds, in what remains, Python reprs (``['x']``, ``None``, ``True``), SymPy's plain printing
(``Sum(``, ``oo``, ``**``), identifiers with underscores (``n_in``, ``test_retrained``) and LaTeX commands outside
math. The report's tests count them per kind.
"""
from __future__ import annotations

import re

#: kind -> pattern of a leak in prose
PATTERNS = {
    "python list": r"\[['\"]",
    "None/True/False": r"\b(?:None|True|False)\b",
    "SymPy call": r"\b(?:Sum|Piecewise|Symbol|Integral|Derivative|Eq|Abs|Max|Min|exp|sqrt|log|Interval|Union|"
                  r"Subs|Rational|Function)\(",
    "oo": r"(?<![\w∞])[-+]?oo\b",
    "**": r"\*\*\s*[\w(]",
    "underscore": r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_{}^]+",
    "LaTeX outside math": r"\\[a-zA-Z]+",
}


def prose(markdown: str) -> str:
    """``markdown`` without code (fenced and inline), math (``$$...$$``, ``$...$``), HTML tags and link targets."""
    s = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    s = re.sub(r"`[^`\n]*`", " ", s)
    s = re.sub(r"\$\$.*?\$\$", " ", s, flags=re.S)
    s = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", " ", s)
    s = re.sub(r"<[^>\n]+>", " ", s)
    s = re.sub(r"\]\([^)\s]*\)", "]", s)
    s = re.sub(r"\*\*([^*\n]+)\*\*", r"\1", s)  # bold markers are not a power
    return s


def leaks(markdown: str) -> dict[str, list[str]]:
    """Every leak in the prose of ``markdown``, per kind of :data:`PATTERNS` (the matched texts, in order)."""
    text = prose(markdown)
    return {kind: [m.group(0) for m in re.finditer(p, text)] for kind, p in PATTERNS.items()}
