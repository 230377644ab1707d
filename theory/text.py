"""Texts in two languages: the report's prose (claims, evidence, derivation steps) is data in English and Russian.

A :class:`T` holds one text in both languages, written side by side where the text is made (a claim, a check, a
derivation step), so that neither edition is a translation done later. A plain ``str`` is a text that reads the same
in both (a formula, a code span, a name). Texts concatenate with ``+`` (a ``str`` joins both languages); :func:`pick`
gives one language of either.

    >>> t = T("the mean", "среднее") + " $\\mu$"
    >>> pick(t, "ru")
    'среднее $\\mu$'
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LANGS = ("en", "ru")


@dataclass(frozen=True)
class T:
    """One text in English (``en``) and Russian (``ru``). ``str(t)`` is the English text (the JSON contracts' language);
    a report in another language reads :func:`pick`."""

    en: str
    ru: str

    def __post_init__(self):
        if not isinstance(self.en, str) or not isinstance(self.ru, str):
            raise TypeError("both languages of a text are strings (nest with pick(), not T inside T)")

    def __str__(self) -> str:
        return self.en

    def __add__(self, other: "T | str") -> "T":
        return T(self.en + pick(other, "en"), self.ru + pick(other, "ru"))

    def __radd__(self, other: "T | str") -> "T":
        return T(pick(other, "en") + self.en, pick(other, "ru") + self.ru)

    def __bool__(self) -> bool:
        return bool(self.en or self.ru)

    def map(self, fn) -> "T":
        """``fn`` applied to each language's text."""
        return T(fn(self.en), fn(self.ru))

    def join(self, items: Iterable["T | str"]) -> "T":
        """The items joined by this text as separator, language by language."""
        items = list(items)
        return T(self.en.join(pick(i, "en") for i in items), self.ru.join(pick(i, "ru") for i in items))


def pick(text, lang: str):
    """``text`` in ``lang``: a :class:`T`'s language; a ``str`` (or None) as it is; a list or tuple item by item."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    if isinstance(text, T):
        return getattr(text, lang)
    if isinstance(text, (list, tuple)):
        return type(text)(pick(t, lang) for t in text)
    return text


def both(text) -> dict:
    """``{"en": ..., "ru": ...}`` of a text (a ``str`` reads the same in both)."""
    return {lang: pick(text, lang) for lang in LANGS}


#: the conjunctions of :func:`join_words`
CONJ = {"and": T("and", "и"), "or": T("or", "или")}


def join_words(items: Iterable["T | str"], conj: str = "and") -> T:
    """Items in prose in both languages: ``a``, ``a and b``, ``a, b and c`` / ``a, b и c`` (``conj``: and, or)."""
    items = list(items)
    word = CONJ[conj]
    if len(items) < 2:
        return T("", "").join(items)
    return T(", ", ", ").join(items[:-1]) + T(f" {word.en} ", f" {word.ru} ") + items[-1]


def plural_ru(n, one: str, few: str, many: str) -> str:
    """The Russian noun form that agrees with the number ``n``: 1, 21, 31 ... ``one`` (сеть); 2-4, 22-24 ... ``few``
    (сети); 0, 5-20, 25-30 ... ``many`` (сетей); a fraction takes ``few`` (2,5 сети)."""
    x = float(n)
    if x != int(x):
        return few
    k = abs(int(x))
    if k % 10 == 1 and k % 100 != 11:
        return one
    if 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
        return few
    return many
