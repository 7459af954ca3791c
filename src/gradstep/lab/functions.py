"""Two-dimensional test functions for optimizer trajectories, written as expressions.

Each function is an expression in x and y (see ``gradstep.lab.expr``), so its gradient is
derived symbolically from the same text that is drawn: no hand-written second formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._errors import LabError
from .expr import ExpressionError, Node, parse

__all__ = ["TestFunction", "BUILTIN", "get_function", "user_function"]


@dataclass(frozen=True)
class TestFunction:
    """A function of (x, y) to minimize, with where to start and what to draw.

    ``minima``: the known minimizers (steps are counted until the path comes within
    ``tol`` of one). ``escape_level``: for functions without a minimum (the saddle),
    steps are counted until f falls to this level instead.
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    expression: str
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    escape_level: float | None = None
    tree: Node = field(init=False, repr=False, compare=False)
    grad_trees: tuple[Node, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree = parse(self.expression)
        object.__setattr__(self, "tree", tree)
        object.__setattr__(self, "grad_trees", (tree.diff("x"), tree.diff("y")))

    def value(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """f(x, y), elementwise on arrays (float64)."""
        env = {
            "x": np.asarray(x, dtype=np.float64),
            "y": np.asarray(y, dtype=np.float64),
        }
        return np.broadcast_to(
            self.tree.evaluate(env), np.broadcast(*env.values()).shape
        )

    def gradient(self, point: np.ndarray) -> np.ndarray:
        """(df/dx, df/dy) at ``point`` (shape (2,)), float64."""
        env = {"x": np.float64(point[0]), "y": np.float64(point[1])}
        gx, gy = (tree.evaluate(env) for tree in self.grad_trees)
        return np.array([gx, gy], dtype=np.float64)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description, enough to rebuild the function."""
        return {
            "name": self.name,
            "expression": self.expression,
            "start": list(self.start),
            "xlim": list(self.xlim),
            "ylim": list(self.ylim),
            "minima": [list(m) for m in self.minima],
            "escape_level": self.escape_level,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TestFunction:
        """Inverse of ``to_dict``."""
        return cls(
            name=str(data["name"]),
            expression=str(data["expression"]),
            start=_pair(data["start"]),
            xlim=_pair(data["xlim"]),
            ylim=_pair(data["ylim"]),
            minima=tuple(_pair(m) for m in data.get("minima", ())),
            escape_level=data.get("escape_level"),
        )


def _pair(values: object) -> tuple[float, float]:
    a, b = values  # type: ignore[misc]
    return (float(a), float(b))


BUILTIN: dict[str, TestFunction] = {
    f.name: f
    for f in (
        TestFunction(
            "rosenbrock",
            "(1 - x)**2 + 100*(y - x**2)**2",
            start=(-1.2, 1.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0),
            minima=((1.0, 1.0),),
        ),
        TestFunction(
            "beale",
            "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
            start=(1.0, 1.4),
            xlim=(-0.5, 4.0),
            ylim=(-1.5, 2.0),
            minima=((3.0, 0.5),),
        ),
        TestFunction(
            "saddle",
            "x**2 - y**2",
            start=(-1.5, 0.001),
            xlim=(-2.0, 2.0),
            ylim=(-2.0, 2.0),
            escape_level=-1.0,
        ),
        TestFunction(
            "rastrigin",
            "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
            start=(-2.3, 1.8),
            xlim=(-3.0, 3.0),
            ylim=(-3.0, 3.0),
            minima=((0.0, 0.0),),
        ),
        TestFunction(
            "himmelblau",
            "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
            start=(0.0, 0.0),
            xlim=(-5.0, 5.0),
            ylim=(-5.0, 5.0),
            minima=(
                (3.0, 2.0),
                (-2.805118, 3.131312),
                (-3.779310, -3.283186),
                (3.584428, -1.848126),
            ),
        ),
        TestFunction(
            "quadratic",
            "0.5*x**2 + 50*y**2",
            start=(-3.5, 1.0),
            xlim=(-4.0, 4.0),
            ylim=(-1.5, 1.5),
            minima=((0.0, 0.0),),
        ),
    )
}


def get_function(name: str) -> TestFunction:
    """A built-in test function by name; ``LabError`` listing the known ones."""
    try:
        return BUILTIN[name.lower()]
    except KeyError:
        raise LabError(
            f"unknown function {name!r}; known functions: {', '.join(BUILTIN)} "
            "(or give your own with --expr)"
        ) from None


def _window(start: float, minimum: float | None) -> tuple[float, float]:
    """start +- 2, widened to hold ``minimum`` with a quarter of the span to spare."""
    low, high = start - 2.0, start + 2.0
    if minimum is not None:
        low, high = min(low, minimum), max(high, minimum)
        margin = (
            (high - low) * 0.25 if minimum < start - 2 or minimum > start + 2 else 0
        )
        low, high = low - margin, high + margin
    return (low, high)


def user_function(
    expression: str,
    start: tuple[float, float],
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    minimum: tuple[float, float] | None = None,
) -> TestFunction:
    """A test function from the user's expression. Limits default to a window around
    the start that also holds ``minimum`` when given (with a margin)."""
    for what, pair in (
        ("start", start),
        ("xlim", xlim),
        ("ylim", ylim),
        ("minimum", minimum),
    ):
        if pair is not None and not all(math.isfinite(v) for v in pair):
            raise LabError(f"--{what} must be two finite numbers, got {pair}")
    for what, pair in (("xlim", xlim), ("ylim", ylim)):
        if pair is not None and not pair[0] < pair[1]:
            raise LabError(f"--{what} must be LOW,HIGH with LOW < HIGH, got {pair}")
    try:
        return TestFunction(
            "expr",
            expression,
            start=start,
            xlim=xlim or _window(start[0], minimum[0] if minimum else None),
            ylim=ylim or _window(start[1], minimum[1] if minimum else None),
            minima=(minimum,) if minimum is not None else (),
        )
    except ExpressionError as exc:
        raise LabError(f"--expr: {exc}") from None
