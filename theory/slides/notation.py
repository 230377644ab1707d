"""Notation of the slides' formulas, read from their LaTeX as written: which role an index letter plays, the upper
ends of index ranges, and whether a name is defined before or after the activation.

These are reading aids for notation claims (one letter for two things, ranges that disagree, one name for two
quantities). They parse only the few LaTeX forms the slides use (``\\sum_{i=1}^{n}``, ``v_1, \\dots, v_k``,
``h_{i-1}``, ``x_i^T``, ``name = f(...)``); anything else is reported as not found, never guessed.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

def _subscripts(formula: str) -> list[tuple[str, str]]:
    """(symbol, subscript) pairs: ``h_i`` -> ("h", "i"), ``h_{i-1}`` -> ("h", "i-1"), ``x_i^T`` -> ("x", "i")."""
    out = []
    for m in re.finditer(r"(\\?[A-Za-z]+)_(?:\{([^{}]+)\}|(\w))", formula):
        out.append((m.group(1), (m.group(2) or m.group(3)).replace(" ", "")))
    return out


def index_roles(formulas: Sequence[str], letter: str) -> dict[str, list[str]]:
    """The roles the index ``letter`` plays in ``formulas`` (LaTeX): ``bound``, the sums it runs over
    (``\\sum_{i=1}^{n}``); ``shifted``, the symbols it indexes with an offset (``h_{i-1}``: one step back, as in a
    recursion over layers); ``free``, the symbols it indexes plainly (``h_i``, ``x_i``). A letter with more than one
    kind of role names two different things."""
    roles: dict[str, list[str]] = {"bound": [], "shifted": [], "free": []}
    for formula in formulas:
        roles["bound"] += [m.group(0) for m in re.finditer(
            r"\\sum_\{" + letter + r"=[^}]*\}(?:\^\{(?:[^{}]|\{[^{}]*\})*\}|\^\w)?", formula)]
        for symbol, sub in _subscripts(formula):
            if symbol == "\\sum":
                continue
            if re.fullmatch(letter + r"[+-]\d+", sub):
                roles["shifted"].append(f"{symbol}_{{{sub}}}")
            elif sub == letter:
                roles["free"].append(f"{symbol}_{sub}")
    return {k: list(dict.fromkeys(v)) for k, v in roles.items()}


def clashes(roles: dict[str, list[str]]) -> list[str]:
    """Why an index letter names two things, from its :func:`index_roles`: a summation variable (over a unit's
    inputs) that also steps back one place (``h_{i-1}``: the previous layer). Empty when it does not."""
    if roles["bound"] and roles["shifted"]:
        return [f"it runs the sum {', '.join(roles['bound'])} and also steps back in {', '.join(roles['shifted'])}"]
    return []


def summed_with(formula: str, symbol: str) -> list[str]:
    """The symbols that share ``symbol``'s index inside a sum of ``formula`` (``\\sum_{i=1}^{n} w_i x_i``, symbol
    "x" -> ["w"]): what each term pairs ``symbol`` with."""
    out: list[str] = []
    for m in re.finditer(r"\\sum_\{(\w)=[^}]*\}(?:\^\{(?:[^{}]|\{[^{}]*\})*\}|\^\w)?\s*([^=]+)", formula):
        letter, body = m.group(1), m.group(2)
        subs = _subscripts(body)
        if (symbol, letter) in subs:
            out += [s for s, sub in subs if sub == letter and s != symbol]
    return list(dict.fromkeys(out))


def range_ends(text: str) -> dict[str, str]:
    """The upper ends of the index ranges written in ``text`` (LaTeX): ``\\sum_{i=1}^{n_{in}}`` -> {"sum": "n_{in}"}
    and ``w_1, \\dots, w_k`` -> {"w": "k"}; a symbol listed twice keeps its first end."""
    ends: dict[str, str] = {}
    for m in re.finditer(r"\\sum_\{\w=1\}\^(?:\{((?:[^{}]|\{[^{}]*\})+)\}|(\w))", text):
        ends.setdefault("sum", (m.group(1) or m.group(2)).replace(" ", ""))
    for m in re.finditer(r"(\\?[A-Za-z]+)_1,\s*\\dots,\s*\1_(?:\{([^{}]+)\}|(\w))", text):
        ends.setdefault(m.group(1), (m.group(2) or m.group(3)).replace(" ", ""))
    return ends


def definition_stage(formula: str, name: str) -> str | None:
    """Where ``name`` sits in a network layer by its definition in ``formula``: ``after the activation`` for
    ``name = f(...)`` (any one-letter function applied to the whole right side), ``before the activation`` for an
    affine right side (a sum of weights times inputs, ``w_0 + \\sum ...`` or ``X W + b``), None when ``name`` is not
    defined there."""
    m = re.search(r"(?<![\w\\])" + re.escape(name) + r"(?:_\{?\w+\}?)?\s*=\s*(.+)", formula)
    if not m:
        return None
    right = m.group(1).strip()
    if re.fullmatch(r"[a-zA-Z]\s*\((.*)\)\s*", right):
        return "after the activation"
    if re.search(r"\\sum|\\cdot|[A-Za-z]\s*[A-Z]|\+", right):
        return "before the activation"
    return None


def transposed(formula: str) -> list[tuple[str, str]]:
    """(symbol, index) of the indexed symbols written transposed (``x_i^T`` -> ("x", "i")): row vectors, such as
    row i of a data matrix X, turned into columns."""
    return [(m.group(1), m.group(2) or m.group(3)) for m in re.finditer(r"([A-Za-z])_(?:\{(\w+)\}|(\w))\^T", formula)]


def indices_of(formula: str, symbol: str) -> list[str]:
    """The subscripts ``symbol`` carries in ``formula`` (``D_i`` -> ["i"], ``D_{ij}`` -> ["ij"]), in order."""
    return list(dict.fromkeys(sub for s, sub in _subscripts(formula) if s == symbol))
