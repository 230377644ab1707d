"""Safe parsing of user-typed SymPy expressions.

The text is parsed with :func:`ast.parse` (which only builds a syntax tree and never runs code) and the tree is
walked against a whitelist; the SymPy expression is built node by node from that whitelist. Nothing is passed to
``eval``, ``exec``, ``sympify`` or ``parse_expr``, so attribute access, dunder names, lambdas, subscripts,
comprehensions, keyword arguments and any name not listed below are rejected before anything is built.

Limits: at most :data:`MAX_LENGTH` characters, :data:`MAX_NODES` syntax nodes, nesting depth :data:`MAX_DEPTH`,
integer literals of at most :data:`MAX_DIGITS` digits, and constant exponents of magnitude at most
:data:`MAX_EXPONENT` (so ``9**9**9`` is refused instead of computed).
"""
from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping

import sympy as sp

from theory import functions
from theory.errors import SpecError

MAX_LENGTH = 500
MAX_NODES = 300
MAX_DEPTH = 30
MAX_DIGITS = 30
MAX_EXPONENT = 1000


#: Functions a user expression may call, with their arity (None: any number >= 1).
FUNCTIONS: dict[str, tuple[Callable, int | None]] = {
    "exp": (sp.exp, 1), "log": (sp.log, 1), "sqrt": (sp.sqrt, 1),
    "sin": (sp.sin, 1), "cos": (sp.cos, 1), "tan": (sp.tan, 1), "atan": (sp.atan, 1),
    "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "tanh": (sp.tanh, 1), "asinh": (sp.asinh, 1),
    "erf": (sp.erf, 1), "erfc": (sp.erfc, 1), "abs": (sp.Abs, 1), "Abs": (sp.Abs, 1),
    "sign": (sp.sign, 1), "Heaviside": (sp.Heaviside, 1),
    "max": (sp.Max, None), "Max": (sp.Max, None), "min": (sp.Min, None), "Min": (sp.Min, None),
    "sigmoid": (functions.sigmoid, 1), "softplus": (functions.softplus, 1), "relu": (functions.relu, 1),
    "Phi": (functions.Phi, 1),
}

#: Constants a user expression may name.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

_BINOPS = {ast.Add: sp.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sp.Mul,
           ast.Div: lambda a, b: a / b, ast.Pow: None}
_UNARY = {ast.UAdd: lambda a: a, ast.USub: lambda a: -a}


def _fail(message: str) -> SpecError:
    return SpecError(message)


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_expression(text: str, symbols: Mapping[str, sp.Symbol], *, what: str = "expression") -> sp.Expr:
    """Parse ``text`` into a SymPy expression in the given ``symbols`` without evaluating Python.

    Raises :class:`SpecError` with a one-line message on anything outside the whitelist.
    """
    if not isinstance(text, str):
        raise _fail(f"{what} must be a string")
    if len(text) > MAX_LENGTH:
        raise _fail(f"{what} is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise _fail(f"{what} is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _fail(f"{what} {text!r} is not a valid expression: {exc.msg}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise _fail(f"{what} has {count} syntax nodes; the limit is {MAX_NODES}")
    builder = _Builder(symbols, what)
    expr = builder.build(tree.body, 0)
    if not isinstance(expr, sp.Expr):
        raise _fail(f"{what} {_short(text)} is not an arithmetic expression")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _fail(f"{what} {_short(text)} is undefined or infinite (it simplifies to {_short(sp.sstr(expr))})")
    return expr


def _short(text: str, limit: int = 60) -> str:
    text = str(text)
    return repr(text) if len(text) <= limit else repr(text[:limit] + "...")


class _Builder:
    def __init__(self, symbols: Mapping[str, sp.Symbol], what: str):
        self.symbols = dict(symbols)
        self.what = what

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        try:
            return self._build(node, depth)
        except SpecError:
            raise
        except (TypeError, ValueError, AttributeError, OverflowError, ZeroDivisionError, RecursionError) as exc:
            # SymPy refusing to build a node (Max of a non-real, 0**-1 comparisons ...) is bad input, not a crash
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _fail(f"{self.what}: cannot build {_short(ast.unparse(node))}: {_short(message, 80)}") from None

    def _build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise _fail(f"{self.what} is nested deeper than {MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.build(node.operand, d))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.build(node.left, d)
            right = self.build(node.right, d)
            if isinstance(node.op, ast.Pow):
                return self._power(left, right)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            return self._call(node, d)
        raise _fail(f"{self.what}: {_describe(node)} is not allowed "
                    f"(only numbers, {', '.join(sorted(self.symbols))}, + - * / **, and whitelisted functions)")

    def _constant(self, value) -> sp.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(f"{self.what}: literal {value!r} is not allowed (numbers only)")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_DIGITS:
                raise _fail(f"{self.what}: integer literal longer than {MAX_DIGITS} digits")
            return sp.Integer(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail(f"{self.what}: non-finite literal")
        # repr() is the shortest decimal that round-trips, so 0.1 becomes exactly 1/10.
        return sp.Rational(repr(value))

    def _name(self, name: str) -> sp.Expr:
        if name.startswith("_"):
            raise _fail(f"{self.what}: name {name!r} is not allowed")
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise _fail(f"{self.what}: function {name!r} must be called, as in {name}(...)")
        allowed = sorted(self.symbols)
        raise _fail(f"{self.what}: unknown name {name!r}{_suggest(name, [*self.symbols, *CONSTANTS, *FUNCTIONS])}; "
                    f"the only variable{'s' if len(allowed) > 1 else ''} allowed: {', '.join(allowed)}")

    def _power(self, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if exponent.is_number:
            value = complex(sp.N(exponent, 15)) if exponent.is_finite else None
            if value is None or not abs(value) <= MAX_EXPONENT:
                raise _fail(f"{self.what}: constant exponent {_short(sp.sstr(exponent))} is not finite or exceeds "
                            f"the limit {MAX_EXPONENT}")
        if base.is_number and exponent.is_number and base != 0:
            # a**b with both constant: keep it exact but refuse results with more than 10,000 digits
            magnitude = sp.N(sp.log(abs(base)) * abs(exponent), 15)
            if not (magnitude.is_extended_real and magnitude.is_finite) or magnitude > 10_000:
                raise _fail(f"{self.what}: constant power {_short(sp.sstr(base))}**{_short(sp.sstr(exponent))} "
                            "is too large")
        return sp.Pow(base, exponent)

    def _call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise _fail(f"{self.what}: only direct calls of whitelisted functions are allowed "
                        f"({_describe(node.func)} found)")
        name = node.func.id
        if name not in FUNCTIONS:
            raise _fail(f"{self.what}: unknown function {name!r}{_suggest(name, FUNCTIONS)}; "
                        f"allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _fail(f"{self.what}: keyword or starred arguments are not allowed in {name}(...)")
        fn, arity = FUNCTIONS[name]
        if arity is not None and len(node.args) != arity:
            raise _fail(f"{self.what}: {name} takes {arity} argument{'s' if arity > 1 else ''}, "
                        f"got {len(node.args)}")
        if arity is None and not node.args:
            raise _fail(f"{self.what}: {name} needs at least one argument")
        return fn(*(self.build(a, depth) for a in node.args))


def _describe(node: ast.AST) -> str:
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "subscripting", ast.Lambda: "lambda",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.Compare: "comparison", ast.BoolOp: "a boolean operator",
             ast.IfExp: "a conditional expression", ast.NamedExpr: "assignment", ast.JoinedStr: "an f-string",
             ast.Tuple: "a tuple", ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set", ast.Await: "await",
             ast.Yield: "yield", ast.Starred: "starred expression", ast.Slice: "a slice"}
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    if isinstance(node, ast.BinOp):
        return f"operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"operator {type(node.op).__name__}"
    return type(node).__name__
