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


# ------------------------------------------------------------------------------------------------ the Russian edition
#: Latin-script words a Russian text may hold: names of people, frameworks, data sets, functions and layers, and the
#: lecture's own English terms (lowercase)
NAMES = frozenset("""
al et bengio glorot xavier he kaiming lecun hinton ioffe szegedy srivastava baldi sadowski hanin nica roberts yaida
saxe krizhevsky sutskever salimans kingma ba nair klambauer maas clevert hendrycks gimpel ramachandran elfwing mishkin
matas pennington schoenholz poole ganguli lee pytorch torch keras tensorflow sympy scipy numpy matplotlib jax
neural-tangents mnist digits scikit-learn sklearn relu leaky elu selu gelu silu swish softplus tanh sigmoid softmax
dropout batch norm batchnorm adam sgd momentum rmsprop bern bernoulli jmlr icml iclr nips neurips aistats iccv arxiv
uniform normal normal:plain lecun_normal glorot_uniform he_normal plain
""".split())

_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_WORD = re.compile(r"[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'’-]*")


def russian_prose(markdown: str) -> str:
    """The prose of a Russian text that is the report's own (:func:`prose`), without the slides' words: quote lines
    (``>``), the seed's titles and phrases in «...», and headings that are slide titles."""
    s = "\n".join(line for line in markdown.splitlines() if not line.lstrip().startswith(">"))
    s = re.sub(r"«[^»\n]*»", " ", s)
    s = re.sub(r"!?\[[a-z0-9-]+\]\([^)\s]*\)", " ", s)  # an image's or a claim's identifier as link text
    s = re.sub(r"(?<![\w.])\d+(?:\.\d+)?e[-+]?\d+", " ", s)  # a number such as 9.02e-06
    return prose(s)


def english_runs(markdown: str, min_words: int = 3) -> list[str]:
    """English sentences (or pieces of them) in the prose of a Russian text: runs of ``min_words`` or more Latin-script
    words in a row (spaces and punctuation between them, no Cyrillic word or number) of which two or more are not
    :data:`NAMES`."""
    out = []
    text = russian_prose(markdown)
    for run in re.finditer(r"[A-Za-z][A-Za-z'’\-]*(?:[\s,;:.()/&]+[A-Za-z][A-Za-z'’\-]*)+", text):
        words = _LATIN_WORD.findall(run.group(0))
        if len(words) >= min_words and sum(w.lower() not in NAMES for w in words) >= 2:
            out.append(run.group(0))
    return out


def latin_share(markdown: str, names: bool = True) -> float:
    """The share of Latin-script words among the words of a Russian text's prose (:func:`russian_prose`): names such
    as Keras and ReLU count, so it is not zero; ``names=False`` counts only the Latin words that are not
    :data:`NAMES` (nor one letter, a symbol such as $p$ written without math)."""
    words = _WORD.findall(russian_prose(markdown))
    latin = [w for w in words if _LATIN_WORD.fullmatch(w)]
    if not names:
        latin = [w for w in latin if w.lower() not in NAMES and len(w) > 1]
    return len(latin) / max(len(words), 1)
