"""Verified derivations: a chain of relations, each step justified in words and checked by SymPy.

A :class:`Derivation` is a list of :class:`Step` objects. A step states ``lhs REL rhs`` (``REL`` one of
``=, <=, <, >=, >``); when ``lhs`` is omitted the step continues the chain from the previous step's ``rhs``.
Unevaluated objects (``Derivative``, ``Limit``, ``Integral``, ``Sum``) may appear and are evaluated with
``doit()`` during the check, so the rendered text shows the operation while the check computes it.

How a step is checked (:meth:`Step.verify`):

* ``=``: ``simplify(doit(lhs - rhs)) == 0`` (with a second try after ``rewrite(exp)``); no numeric shortcut.
* ``<=``/``>=`` (strict analogues likewise): either SymPy's assumptions prove the difference non-negative
  (positive), or the step carries a ``witness`` W with ``simplify(bigger - smaller - W) == 0`` and W provably
  non-negative (for example a square), or a ``check`` callable that returns ``(ok, detail)``; the callable is
  for rules SymPy cannot apply by itself (a product of bounded factors) and it must itself compute.

A derivation verifies only if every step verifies; :meth:`Derivation.verify` reports the first failing step.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from theory.latex import latex
from theory.text import T, pick

_REL = {"=": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt, "!=": sp.Ne}
_TEXT_REL = {"!=": "≠"}
_LATEX_REL = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">", "!=": r"\neq"}


@dataclass
class StepResult:
    """The check of one step: its 1-based ``index``, whether it holds, and how SymPy decided (``detail``)."""

    index: int
    ok: bool
    detail: str


@dataclass
class Step:
    """One relation ``lhs rel rhs`` with its justification."""

    rhs: sp.Expr
    why: T | str  # in both languages (theory.text.T) where it has words
    rel: str = "="
    lhs: sp.Expr | None = None
    witness: sp.Expr | None = None
    check: Callable[[sp.Expr, sp.Expr], tuple[bool, str]] | None = None
    #: (symbol, replacement, words): the step holds on a sub-domain, checked after substituting a symbol that
    #: carries the assumption, e.g. ``(x, Symbol("x", positive=True), "x > 0")``.
    under: tuple[sp.Symbol, sp.Symbol, T | str] | None = None

    def __post_init__(self):
        if self.rel not in _REL:
            raise ValueError(f"unknown relation {self.rel!r}")

    def verify(self, lhs: sp.Expr) -> tuple[bool, str]:
        """(ok, detail) for ``lhs rel rhs``: ``=`` by simplify(doit(lhs - rhs)) == 0, an inequality by SymPy's
        assumptions, a witness or the step's ``check`` (module docstring); under ``under`` after its substitution."""
        rhs = self.rhs
        if self.under is not None:
            old, new, _words = self.under
            lhs, rhs = sp.sympify(lhs).subs(old, new), sp.sympify(rhs).subs(old, new)
        if self.check is not None:
            return self.check(lhs, rhs)
        if self.rel == "=":
            return _verify_equal(lhs, rhs)
        if self.rel == "!=":  # a comparison with a slide that is wrong: the difference is provably not 0
            return _verify_unequal(lhs, rhs)
        smaller, bigger = (lhs, rhs) if self.rel in ("<=", "<") else (rhs, lhs)
        return _verify_order(smaller, bigger, strict=self.rel in ("<", ">"), witness=self.witness)


def _doit(e):
    """Evaluate unevaluated operations (Derivative, Limit, Integral, sympy.stats Expectation/Variance) to a fixpoint."""
    if not isinstance(e, sp.Basic):
        return sp.sympify(e)
    from sympy import stats

    stat_ops = (stats.Expectation, stats.Variance, stats.Covariance, stats.Probability)
    for _ in range(4):  # Variance.doit() does not integrate; evaluate_integral does
        new = e.replace(lambda a: isinstance(a, stat_ops), lambda a: a.evaluate_integral()) if e.has(*stat_ops) else e
        new = new.doit()
        if new == e:
            break
        e = new
    return e


def _is_zero(diff: sp.Expr) -> bool:
    if diff == 0:
        return True
    # exact rewritings, cheapest first: a polynomial or rational identity is settled before simplify's heuristics
    for attempt in (lambda e: sp.expand(e), lambda e: sp.cancel(sp.together(e)), lambda e: sp.simplify(e), lambda e: sp.simplify(e.rewrite(sp.exp)),
                    lambda e: sp.simplify(sp.expand(e.rewrite(sp.exp)))):
        try:
            if attempt(diff) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            continue
    return False


def _verify_equal(lhs, rhs) -> tuple[bool, str]:
    a, b = _doit(lhs), _doit(rhs)
    if isinstance(a, sp.Basic) and (a.has(sp.Piecewise) or b.has(sp.Piecewise)):
        diff = sp.piecewise_fold(a - b)
        if isinstance(diff, sp.Piecewise):
            ok = all(_is_zero(piece) for piece, _cond in diff.args)
            return ok, "each piece of lhs - rhs simplifies to 0" if ok else f"lhs - rhs = {sp.simplify(diff)}"
    ok = _is_zero(a - b)
    return ok, "lhs - rhs simplifies to 0" if ok else f"lhs - rhs = {sp.simplify(a - b)} is not 0"


def _verify_unequal(lhs, rhs) -> tuple[bool, str]:
    diff = sp.simplify(_doit(lhs) - _doit(rhs))
    if diff.is_zero is False:
        return True, f"lhs - rhs = {diff} is not 0 by SymPy's assumptions"
    return False, f"lhs - rhs = {diff} is not provably non-zero"


def _verify_order(smaller, bigger, *, strict: bool, witness) -> tuple[bool, str]:
    gap = sp.simplify(_doit(bigger) - _doit(smaller))
    proven = gap.is_positive if strict else gap.is_nonnegative
    if proven:
        return True, f"bigger - smaller = {gap} is {'positive' if strict else 'non-negative'} by SymPy's assumptions"
    if witness is not None:
        if not _is_zero(gap - witness):
            return False, f"witness {witness} does not equal the gap {gap}"
        sign = witness.is_positive if strict else witness.is_nonnegative
        if sign:
            return True, f"bigger - smaller = {witness}, {'positive' if strict else 'non-negative'}"
        return False, f"witness {witness} is not provably {'positive' if strict else 'non-negative'}"
    return False, f"cannot prove {gap} {'> 0' if strict else '>= 0'}"


@dataclass
class Derivation:
    """A named chain of verified steps. ``assumptions`` lists, in words, what the whole derivation assumes."""

    name: str
    title: T | str
    steps: list[Step]
    assumptions: list[T | str] = field(default_factory=list)
    references: list[T | str] = field(default_factory=list)
    _results: list[StepResult] | None = field(default=None, init=False, repr=False)

    def _pairs(self):
        prev = None
        for i, step in enumerate(self.steps):
            lhs = step.lhs if step.lhs is not None else prev
            if lhs is None:
                raise ValueError(f"{self.name}: step {i + 1} has no left-hand side to continue from")
            yield i, lhs, step
            prev = step.rhs

    def verify(self) -> list[StepResult]:
        """Check every step; cached. Each result says whether the step holds and how it was checked."""
        if self._results is None:
            results = []
            for i, lhs, step in self._pairs():
                try:
                    ok, detail = step.verify(lhs)
                except Exception as exc:  # a SymPy failure is a failed check, reported with its step
                    ok, detail = False, f"check raised {type(exc).__name__}: {exc}"
                results.append(StepResult(i + 1, bool(ok), detail))
            self._results = results
        return self._results

    @property
    def ok(self) -> bool:
        """True when every step verifies (each checked by SymPy, :meth:`verify`)."""
        return all(r.ok for r in self.verify())

    def first_failure(self) -> StepResult | None:
        """The first step that does not verify, or None."""
        return next((r for r in self.verify() if not r.ok), None)

    # ---------------------------------------------------------------- rendering
    def render(self, fmt: str = "text", lang: str = "en") -> str:
        """The derivation with each step's check: ``text``, ``markdown`` (a table, LaTeX in $...$) or ``latex``
        (an align* environment); its words in ``lang`` (en, ru)."""
        pick("", lang)  # an unknown language fails here
        if fmt == "text":
            return self._render_text(lang)
        if fmt == "markdown":
            return self._render_markdown(lang)
        if fmt == "latex":
            return self._render_latex(lang)
        raise ValueError(f"unknown format {fmt!r} (text, markdown, latex)")

    def _rows(self):
        results = self.verify()
        for (i, lhs, step), res in zip(self._pairs(), results):
            yield i, lhs, step, res

    def _render_text(self, lang: str = "en") -> str:
        w = _WORDS[lang]
        out = [f"{plain(pick(self.title, lang))}  [{self.name}]"]
        out += [f"  {w['assuming']}: {plain(pick(a, lang))}" for a in self.assumptions]
        for i, lhs, step, res in self._rows():
            mark = "ok" if res.ok else "FAILED"
            head = f"  {i + 1}. " + (f"{sp.sstr(lhs)} " if step.lhs is not None or i == 0 else "    ")
            cond = f"   ({w['for']} {plain(pick(step.under[2], lang))})" if step.under else ""
            out.append(f"{head}{_TEXT_REL.get(step.rel, step.rel)} {sp.sstr(step.rhs)}{cond}")
            out.append(f"       {w['because']} {plain(pick(step.why, lang))}  [{mark}: {res.detail}]")
        out.append(w["verified_text"] if self.ok else w["failed_text"].format(self.first_failure().index))
        out += [f"  ref: {plain(pick(r, lang))}" for r in self.references]
        return "\n".join(out)

    def _render_markdown(self, lang: str = "en") -> str:
        w = _WORDS[lang]
        out = [f"### {pick(self.title, lang)} (`{self.name}`)", ""]
        if self.assumptions:
            out += [f"{w['assumptions']}:", *[f"- {pick(a, lang)}" for a in self.assumptions], ""]
        out += [f"| # | {w['step']} | {w['justification']} | {w['check']} |", "| --- | --- | --- | --- |"]
        for i, lhs, step, res in self._rows():
            left = latex(lhs) + " " if (step.lhs is not None or i == 0) else ""
            cond = (f" \\quad {_math_text(w['for'] + ' ' + pick(step.under[2], lang))}" if step.under else "")
            cell = f"${left}{_LATEX_REL[step.rel]} {latex(step.rhs)}{cond}$".replace("|", "\\vert ")  # a table cell
            out.append(f"| {i + 1} | {cell} | {pick(step.why, lang)} | {'✓' if res.ok else '✗ ' + res.detail} |")
        out += ["", w["verified"] if self.ok else w["failed"].format(self.first_failure().index)]
        if self.references:
            out += ["", *[f"- {pick(r, lang)}" for r in self.references]]
        return "\n".join(out)

    def _render_latex(self, lang: str = "en") -> str:
        w = _WORDS[lang]
        out = [f"% {pick(self.title, lang)} ({self.name})", r"\begin{align*}"]
        rows = []
        for i, lhs, step, res in self._rows():
            left = latex(lhs) if (step.lhs is not None or i == 0) else ""
            tag = "" if res.ok else r" \quad \text{(FAILS)}"
            if step.under:
                tag = f" \\quad {_math_text(w['for'] + ' ' + pick(step.under[2], lang))}" + tag
            rows.append(f"{left} &{_LATEX_REL[step.rel]} {latex(step.rhs)} "
                        f"&& \\text{{{_latex_text(pick(step.why, lang))}}}{tag}")
        out.append(" \\\\\n".join(rows))
        out.append(r"\end{align*}")
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        """Jupyter: the Markdown rendering, one table row per step with its check."""
        return self._render_markdown()

    def _repr_latex_(self) -> str:
        return "$$" + self._render_latex().split("\n", 1)[1].replace("align*", "aligned") + "$$"

    def to_dict(self, lang: str = "en") -> dict:
        """The ``theory show --format json`` document: name, title, verified, assumptions, steps, references (words in
        ``lang``)."""
        return {"name": self.name, "title": pick(self.title, lang), "verified": self.ok,
                "assumptions": [pick(a, lang) for a in self.assumptions],
                "steps": [{"index": r.index, "lhs": sp.sstr(lhs), "rel": step.rel, "rhs": sp.sstr(step.rhs),
                           "why": pick(step.why, lang), "ok": r.ok, "detail": r.detail}
                          for (_, lhs, step), r in zip(self._pairs(), self.verify())],
                "references": [pick(r, lang) for r in self.references]}


#: the words a rendered derivation adds, per language
_WORDS = {
    "en": {"assuming": "assuming", "for": "for", "because": "because", "assumptions": "Assumptions", "step": "step",
           "justification": "justification", "check": "check", "verified": "**Verified.**",
           "failed": "**Not verified: step {} fails.**", "verified_text": "verified: all steps hold",
           "failed_text": "NOT VERIFIED: step {} fails"},
    "ru": {"assuming": "предполагая", "for": "при", "because": "так как", "assumptions": "Предположения",
           "step": "шаг", "justification": "обоснование", "check": "проверка", "verified": "**Проверено.**",
           "failed": "**Не проверено: шаг {} не выполняется.**", "verified_text": "проверено: все шаги верны",
           "failed_text": "НЕ ПРОВЕРЕНО: шаг {} не выполняется"},
}


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
                  "|": r"\textbar{}", "<": r"\textless{}", ">": r"\textgreater{}"}

#: a text's inline math ``$...$`` and code spans ```...```, the parts that are not plain prose
_SPANS = re.compile(r"(\$[^$\n]+\$|`[^`\n]+`)")


def _escape(s: str) -> str:
    return "".join(_LATEX_ESCAPES.get(c, c) for c in s)


def _latex_text(s: str) -> str:
    r"""A text (Markdown prose with inline math ``$...$`` and code spans) for use inside \text{...}: the prose
    escaped, the math kept (``$...$`` inside \text{} is math again, in LaTeX and MathJax), code as
    ``$\texttt{...}$``."""
    out = []
    for i, part in enumerate(_SPANS.split(s)):
        if i % 2 == 0:
            out.append(_escape(part))
        elif part.startswith("$"):
            out.append(part)
        else:
            out.append(r"$\texttt{" + _escape(part[1:-1]) + "}$")
    return "".join(out)


def _math_text(s: str) -> str:
    r"""A text for use in math mode: the prose in \text{...}, the inline math as math, code in \texttt{...}."""
    out = []
    for i, part in enumerate(_SPANS.split(s)):
        if i % 2 == 0:
            out.append(r"\text{" + _escape(part) + "}" if part else "")
        elif part.startswith("$"):
            out.append(part[1:-1])
        else:
            out.append(r"\texttt{" + _escape(part[1:-1]) + "}")
    return "".join(out)


# ------------------------------------------------------------ texts in the terminal
_TEX_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "eta": "η",
    "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ", "partial": "∂", "nabla": "∇",
    "infty": "∞", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "sim": "~", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "iff": "⇔",
    "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…", "times": "×", "pm": "±", "mp": "∓", "in": "∈",
    "notin": "∉", "perp": "⊥", "propto": "∝", "sum": "Σ", "prod": "Π", "int": "∫", "cup": "∪", "cap": "∩",
    "mid": "|", "vert": "|", "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖",
    "langle": "⟨", "rangle": "⟩", "top": "T", "prime": "'", "circ": "∘", "star": "*", "ast": "*",
    "odot": "⊙", "emptyset": "∅", "forall": "∀", "exists": "∃", "quad": "  ", "qquad": "  ",
    ",": " ", ";": " ", ":": " ",
    "!": "", " ": " ", "{": "{", "}": "}", "_": "_", "%": "%", "&": "&", "#": "#", "$": "$",
    "left": "", "right": "", "big": "", "Big": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "",
    "limits": "", "displaystyle": "",
}
_TEX_FONTS = {"mathrm", "operatorname", "text", "mathit", "mathbf", "mathsf", "mathtt", "texttt", "textrm",
              "mathcal", "mathbb", "boldsymbol", "textit", "textbf"}
_TEX_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304", "tilde": "\u0303",
                "widetilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}


class _TexPlain:
    r"""LaTeX math to a line a terminal shows: Greek letters and relations as Unicode, ``\frac{a}{b}`` as a/b,
    ``n_{in}`` as n_in, ``e^{-x}`` as e^(-x), fonts and sizing dropped."""

    def __init__(self, tex: str):
        self.s, self.i = tex, 0

    def _group(self) -> str:
        """The next argument: a braced group (converted) or one token."""
        s = self.s
        while self.i < len(s) and s[self.i] == " ":
            self.i += 1
        if self.i >= len(s):
            return ""
        if s[self.i] == "{":
            depth, j = 0, self.i
            while j < len(s):
                depth += {"{": 1, "}": -1}.get(s[j], 0)
                if depth == 0:
                    break
                j += 1
            inner, self.i = s[self.i + 1:j], j + 1
            return _TexPlain(inner).run()
        return self._token()

    def _token(self) -> str:
        s = self.s
        c = s[self.i]
        if c != "\\":
            self.i += 1
            return c
        j = self.i + 1
        if j < len(s) and not s[j].isalpha():
            self.i = j + 1
            return _TEX_SYMBOLS.get(s[j], s[j])
        while j < len(s) and s[j].isalpha():
            j += 1
        cmd, self.i = s[self.i + 1:j], j
        if cmd in ("frac", "dfrac", "tfrac"):
            a, b = self._group(), self._group()
            frac = f"{_paren(a)}/{_paren(b)}"
            follows = self.s[self.i:self.i + 1]
            return frac if not follows or follows in " )]},.;:=+-/<>|" else f"({frac})"
        if cmd == "binom":
            n, k = self._group(), self._group()
            return f"C({n}, {k})"
        if cmd == "sqrt":
            a = self._group()
            return f"√{_paren(a)}"
        if cmd in _TEX_FONTS:
            return self._group()
        if cmd in _TEX_ACCENTS:
            a = self._group()
            return a + _TEX_ACCENTS[cmd] if len(a) == 1 else f"{cmd}({a})"
        return _TEX_SYMBOLS.get(cmd, cmd)

    def run(self) -> str:
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in "_^":
                self.i += 1
                arg = self._group()
                out.append(c + (arg if re.fullmatch(r"[\w'*∞]+|-?\d+", arg) else f"({arg})"))
            elif c == "{":
                out.append(self._group())
            elif c == "}":
                self.i += 1
            else:
                out.append(self._token())
        return "".join(out)


def _paren(a: str) -> str:
    return a if re.fullmatch(r"[\w.'∞^]+|\(.*\)", a) else f"({a})"


def plain(s: str) -> str:
    r"""A text for the terminal (``render("text")``): its inline math ``$...$`` as plain characters
    (``$\sigma'(x) \le \frac{1}{4}$`` -> ``σ'(x) ≤ 1/4``), code spans without their backticks."""
    out = []
    for i, part in enumerate(_SPANS.split(s)):
        if i % 2 == 0:
            out.append(part)
        elif part.startswith("$"):
            out.append(_TexPlain(part[1:-1]).run())
        else:
            out.append(part[1:-1])
    return "".join(out)


# -------------------------------------------------------------------- registry
_REGISTRY: dict[str, tuple[str, Callable[[], Derivation]]] = {}
_MODULES = ("theory.activations", "theory.variance", "theory.init", "theory.finite_width", "theory.fluctuations",
            "theory.batchnorm",
            "theory.batchnorm_rate", "theory.dropout",
            "theory.optimization")  # later issues append theirs


def derivation(name: str, summary: str):
    """Register a zero-argument builder of a :class:`Derivation` under ``name``."""
    def deco(fn: Callable[[], Derivation]):
        if name in _REGISTRY:
            raise ValueError(f"derivation {name!r} registered twice")
        _REGISTRY[name] = (summary, fn)
        return fn
    return deco


def _load() -> None:
    import importlib
    for mod in _MODULES:
        importlib.import_module(mod)


def names() -> dict[str, str]:
    """Name -> one-line summary of every registered derivation."""
    _load()
    return {k: v[0] for k, v in sorted(_REGISTRY.items())}


def get(name: str) -> Derivation:
    """The derivation registered as ``name`` (:func:`names` lists them), built afresh; its steps are checked by
    SymPy on first use (``.ok``, :meth:`Derivation.verify`). SpecError with the closest name for an unknown one."""
    _load()
    if name not in _REGISTRY:
        import difflib
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        from theory.errors import SpecError
        raise SpecError(f"unknown derivation {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                        + "; see `python -m theory list`")
    return _REGISTRY[name][1]()
