"""Safe arithmetic expressions in x and y, with symbolic gradients; no ``eval``.

``parse("(1 - x)**2 + 100*(y - x**2)**2")`` walks Python's AST and accepts only numbers,
the names ``x``, ``y``, ``pi``, ``e``, the operators ``+ - * / **``, unary minus/plus and
calls of a fixed list of NumPy functions with one argument. Anything else (attributes,
subscripts, other names, keywords, lambdas, comparisons) raises ``ExpressionError``. The
result is a small tree of ``Node`` objects that evaluates on NumPy arrays and
differentiates itself (``node.diff("x")``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ExpressionError", "Node", "parse", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 1000
MAX_DEPTH = 60  # keeps the derivative trees well inside Python's recursion limit
VARIABLES = ("x", "y")
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}


class ExpressionError(ValueError):
    """An expression uses something outside the allowed grammar, or does not parse."""


class Node:
    """An expression tree node: ``evaluate(env)`` on arrays, ``diff(var)`` symbolically."""

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def diff(self, var: str) -> Node:
        raise NotImplementedError


@dataclass(frozen=True)
class Num(Node):
    value: float

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        return np.float64(self.value)

    def diff(self, var: str) -> Node:
        return ZERO

    def __str__(self) -> str:
        return repr(self.value)


ZERO, ONE = Num(0.0), Num(1.0)


@dataclass(frozen=True)
class Var(Node):
    name: str

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        return env[self.name]

    def diff(self, var: str) -> Node:
        return ONE if var == self.name else ZERO

    def __str__(self) -> str:
        return self.name


def _is(node: Node, value: float) -> bool:
    return isinstance(node, Num) and node.value == value


def _both(a: Node, b: Node) -> bool:
    return isinstance(a, Num) and isinstance(b, Num)


def add(a: Node, b: Node) -> Node:
    if _both(a, b):
        return Num(a.value + b.value)  # type: ignore[attr-defined]
    if _is(a, 0.0):
        return b
    if _is(b, 0.0):
        return a
    return Bin("+", a, b)


def sub(a: Node, b: Node) -> Node:
    if _both(a, b):
        return Num(a.value - b.value)  # type: ignore[attr-defined]
    if _is(b, 0.0):
        return a
    if _is(a, 0.0):
        return Neg(b)
    return Bin("-", a, b)


def mul(a: Node, b: Node) -> Node:
    if _both(a, b):
        return Num(a.value * b.value)  # type: ignore[attr-defined]
    if _is(a, 0.0) or _is(b, 0.0):
        return ZERO
    if _is(a, 1.0):
        return b
    if _is(b, 1.0):
        return a
    return Bin("*", a, b)


def div(a: Node, b: Node) -> Node:
    if _is(a, 0.0):
        return ZERO
    if _is(b, 1.0):
        return a
    return Bin("/", a, b)


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}


@dataclass(frozen=True)
class Bin(Node):
    op: str
    left: Node
    right: Node

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        return _BINARY[self.op](self.left.evaluate(env), self.right.evaluate(env))

    def diff(self, var: str) -> Node:
        a, b = self.left, self.right
        da, db = a.diff(var), b.diff(var)
        if self.op == "+":
            return add(da, db)
        if self.op == "-":
            return sub(da, db)
        if self.op == "*":
            return add(mul(da, b), mul(a, db))
        if self.op == "/":
            return div(sub(mul(da, b), mul(a, db)), Bin("**", b, Num(2.0)))
        # d(a**b) = b * a**(b-1) * da + a**b * log(a) * db; the log term only when b varies
        power_rule = mul(mul(b, Bin("**", a, sub(b, ONE))), da)
        if _is(db, 0.0):
            return power_rule
        return add(power_rule, mul(mul(self, Call("log", a)), db))

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        return np.negative(self.operand.evaluate(env))

    def diff(self, var: str) -> Node:
        inner = self.operand.diff(var)
        return ZERO if _is(inner, 0.0) else Neg(inner)

    def __str__(self) -> str:
        return f"(-{self.operand})"


def _derivative(name: str, u: Node) -> Node:
    """d f(u) / du for each allowed function."""
    if name == "sin":
        return Call("cos", u)
    if name == "cos":
        return Neg(Call("sin", u))
    if name == "tan":
        return div(ONE, Bin("**", Call("cos", u), Num(2.0)))
    if name == "exp":
        return Call("exp", u)
    if name == "log":
        return div(ONE, u)
    if name == "sqrt":
        return div(Num(0.5), Call("sqrt", u))
    if name == "abs":
        return Call("sign", u)
    if name == "sign":
        return ZERO
    if name == "tanh":
        return sub(ONE, Bin("**", Call("tanh", u), Num(2.0)))
    if name == "sinh":
        return Call("cosh", u)
    if name == "cosh":
        return Call("sinh", u)
    if name == "arctan":
        return div(ONE, add(ONE, Bin("**", u, Num(2.0))))
    if name == "log1p":
        return div(ONE, add(ONE, u))
    raise AssertionError(name)


FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "arctan": np.arctan,
}


@dataclass(frozen=True)
class Call(Node):
    func: str
    arg: Node

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        return FUNCTIONS[self.func](self.arg.evaluate(env))

    def diff(self, var: str) -> Node:
        return mul(_derivative(self.func, self.arg), self.arg.diff(var))

    def __str__(self) -> str:
        return f"{self.func}({self.arg})"


_AST_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _convert(node: ast.AST, text: str, depth: int = 0) -> Node:
    if depth > MAX_DEPTH:
        raise ExpressionError(
            f"{_short(text)} is nested more than {MAX_DEPTH} levels deep"
        )
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(
                f"{value!r} is not allowed in {_short(text)}: only numbers"
            )
        return Num(float(value))
    if isinstance(node, ast.Name):
        if node.id in VARIABLES:
            return Var(node.id)
        if node.id in CONSTANTS:
            return Num(CONSTANTS[node.id])
        raise ExpressionError(
            f"unknown name {node.id!r} in {_short(text)}: use x, y, pi, e, numbers and "
            f"{', '.join(FUNCTIONS)}"
        )
    if isinstance(node, ast.BinOp) and type(node.op) in _AST_BINARY:
        return Bin(
            _AST_BINARY[type(node.op)],
            _convert(node.left, text, depth + 1),
            _convert(node.right, text, depth + 1),
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _convert(node.operand, text, depth + 1)
        return Neg(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"calls are limited to {', '.join(FUNCTIONS)} in {_short(text)}"
            )
        if (
            node.keywords
            or len(node.args) != 1
            or isinstance(node.args[0], ast.Starred)
        ):
            raise ExpressionError(
                f"{name}() takes exactly one plain argument in {_short(text)}"
            )
        return Call(name, _convert(node.args[0], text, depth + 1))
    what = type(node).__name__
    if isinstance(node, ast.BinOp):
        what = type(node.op).__name__
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise ExpressionError(
            f"^ is not a power in {_short(text)}: use ** for powers (x**2, not x^2)"
        )
    raise ExpressionError(
        f"{what} is not allowed in {_short(text)}: use numbers, x, y, + - * / ** and "
        f"{', '.join(FUNCTIONS)}"
    )


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse(text: str) -> Node:
    """The expression tree of ``text``, or ``ExpressionError`` saying what is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{_short(text)} does not parse: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"{_short(text)} is nested too deeply") from None
    try:
        return _convert(tree.body, text)
    except RecursionError:
        raise ExpressionError(f"{_short(text)} is nested too deeply") from None
