"""Imports run downward only: the package's layers, lowest first, and no circles.

Every ``import`` statement of ``src/gradstep`` counts, at module level or inside a
function (a deferred import is still a dependency). Run it alone with
``python -m pytest tests/test_imports.py``; it reads the code, it runs none of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import from its own layer and the layers below it.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "foundation",
        [
            "gradstep.backend",
            "gradstep._registry",
            "gradstep._io",
            "gradstep._npz",
            "gradstep._yaml",
            "gradstep._seeding",
            "gradstep._progress",
            "gradstep._threading",
            "gradstep._version",
        ],
    ),
    ("rule language and engines", ["gradstep.kernels"]),
    ("optimizers", ["gradstep.optimizers"]),
    (
        "building blocks",
        [
            "gradstep.activations",
            "gradstep.initializers",
            "gradstep.regularizers",
            "gradstep.constraints",
            "gradstep.losses",
            "gradstep.metrics",
            "gradstep.callbacks",
            "gradstep.utils",
            "gradstep.datasets",
        ],
    ),
    ("layers", ["gradstep.layers"]),
    ("models", ["gradstep.models"]),
    ("front ends", ["gradstep.torch", "gradstep.jax"]),
    ("lab", ["gradstep.lab"]),
    ("command line", ["gradstep.cli", "gradstep.__main__"]),
    ("package", ["gradstep"]),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / "gradstep").rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The gradstep modules ``name`` imports (``from . import x`` names module x when
    there is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = [f"{module}.{alias.name}" for alias in node.names]
            targets = [t for t in submodules if t in MODULES]
            if len(targets) < len(submodules):  # names defined in ``module`` itself
                targets.append(module)
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("gradstep") and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int:
    best, level = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level is not None, f"{name} is in no layer of tests/test_imports.py"
    return level


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_run_downward(name):
    mine = _layer(name)
    upward = sorted(t for t in GRAPH[name] if _layer(t) > mine)
    assert not upward, (
        f"{name} ({LAYERS[mine][0]}) imports {upward} from a layer above it"
    )


def test_no_circular_imports():
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node]):
            if state.get(target) == 1:
                circles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    assert not circles, "circular imports: " + "; ".join(
        " -> ".join(c) for c in circles
    )


def test_the_graph_is_read():
    assert "gradstep.kernels.clip" in GRAPH["gradstep.kernels.reference"]
    assert "gradstep.optimizers._base" in GRAPH["gradstep.optimizers.adam"]
