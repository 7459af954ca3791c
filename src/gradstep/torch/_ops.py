"""The optimizers' rules and the clipping element, run with torch tensor operations.

``elementwise.rebind`` gives the same code objects with ``sqrt``, ``maximum`` and
``minimum`` bound to torch versions; nothing of the math is written here. ``maximum`` and
``minimum`` also accept a Python number on either side (``clip_element`` compares a tensor
with the float ``clipvalue``), which ``torch.maximum`` alone does not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from ..kernels.clip import clip_element
from ..kernels.elementwise import rebind

__all__ = ["torch_rule", "torch_clip_element", "maximum", "minimum"]


def maximum(a: Any, b: Any) -> Any:
    """Element-wise maximum of tensors and/or Python numbers (NaN propagates)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return torch.maximum(a, b)
    if isinstance(a, torch.Tensor):
        return torch.clamp(a, min=b)
    if isinstance(b, torch.Tensor):
        return torch.clamp(b, min=a)
    return max(a, b)


def minimum(a: Any, b: Any) -> Any:
    """Element-wise minimum of tensors and/or Python numbers (NaN propagates)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return torch.minimum(a, b)
    if isinstance(a, torch.Tensor):
        return torch.clamp(a, max=b)
    if isinstance(b, torch.Tensor):
        return torch.clamp(b, max=a)
    return min(a, b)


_FUNCTIONS = {"sqrt": torch.sqrt, "maximum": maximum, "minimum": minimum}


@functools.cache
def torch_rule(rule: Callable[..., tuple[Any, ...]]) -> Callable[..., tuple[Any, ...]]:
    """``rule`` with its element-wise functions bound to torch's (cached per rule)."""
    return rebind(rule, **_FUNCTIONS)


torch_clip_element = rebind(clip_element, maximum=maximum, minimum=minimum)
