"""PyYAML's safe loader, bounded: aliases may not expand a document past a node budget.

``yaml.SafeLoader`` builds only plain data, but an alias (``*name``) shares the node it
names, so nested aliases expand exponentially: a few hundred bytes become 10^8 values
once constructed (and once printed in an error message). ``bounded_loader`` composes the
document, counts the nodes it would construct with every alias expanded, and refuses it
(a ``yaml.YAMLError``) past ``max_nodes``, before constructing anything.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_NODES", "bounded_loader", "expanded_size"]

MAX_NODES = 1_000_000
"""The most values a YAML document may expand to (a large Keras model has ~10^4)."""


def expanded_size(node: Any, limit: int) -> int:
    """The number of nodes under ``node`` with aliases expanded, counted up to just past
    ``limit`` (a composed document is a DAG, so each shared node is sized once)."""
    sizes: dict[int, int] = {}
    order, stack = [], [node]
    while stack:  # iterative post-order, so deep nesting needs no recursion
        current = stack.pop()
        if id(current) in sizes:
            continue
        sizes[id(current)] = 0
        order.append(current)
        stack.extend(_children(current))
    for current in reversed(order):
        total = 1 + sum(sizes[id(child)] for child in _children(current))
        sizes[id(current)] = min(total, limit + 1)
    return sizes[id(node)]


def _children(node: Any) -> list[Any]:
    if node.id == "mapping":  # (key, value) pairs
        return [part for pair in node.value for part in pair]
    if node.id == "sequence":
        return list(node.value)
    return []  # a scalar


def bounded_loader(yaml: Any, base: type | None = None, max_nodes: int = MAX_NODES):
    """A subclass of ``base`` (``yaml.SafeLoader``) whose documents may expand to at
    most ``max_nodes`` nodes."""

    class BoundedLoader(base or yaml.SafeLoader):  # type: ignore[misc, valid-type]
        def get_single_node(self) -> Any:
            node = super().get_single_node()
            if node is not None and expanded_size(node, max_nodes) > max_nodes:
                raise yaml.YAMLError(
                    f"its aliases (*name) expand it to more than {max_nodes} values; "
                    "refused"
                )
            return node

    return BoundedLoader
