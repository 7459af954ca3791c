"""The flat layout: many arrays as views into one contiguous buffer.

When a model's parameters (and its gradients) are views of one buffer, laid out in the
same order, an engine can run a whole optimizer step as one pass over memory and compute
the global norm as one reduction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["flat_arrays", "flatten", "contiguous_span"]


def flat_arrays(
    shapes: Sequence[tuple[int, ...]], dtype: np.dtype | str = "float32"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A zero buffer and one C-contiguous view of it per shape, laid out in order."""
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    buffer = np.zeros(sum(sizes), dtype=dtype)
    views, start = [], 0
    for shape, size in zip(shapes, sizes):
        views.append(buffer[start : start + size].reshape(shape))
        start += size
    return buffer, views


def flatten(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Copy ``arrays`` into one buffer; returns it and the views that replace them.

    Use the returned views as your parameters from then on (the optimizer updates them in
    place): ``buffer, params = flatten(params)``. All arrays must share one dtype.
    """
    dtypes = {np.asarray(a).dtype for a in arrays}
    if len(dtypes) != 1:
        raise ValueError(
            f"flatten() needs arrays of one dtype, got {sorted(map(str, dtypes))}"
        )
    buffer, views = flat_arrays([np.shape(a) for a in arrays], dtypes.pop())
    for view, array in zip(views, arrays):
        view[...] = array
    return buffer, views


def contiguous_span(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The 1-D array covering ``arrays`` exactly when they are C-contiguous, of one dtype,
    and laid end to end in memory in this order; otherwise None.

    Empty arrays hold no element, so they may be anywhere (NumPy gives an empty slice the
    address of its base). The span is writeable when the arrays are.
    """
    if not arrays:
        return None
    dtype = arrays[0].dtype
    if any(a.dtype != dtype or not a.flags.c_contiguous for a in arrays):
        return None
    filled = [a for a in arrays if a.size]
    if not filled:
        return np.zeros(0, dtype)
    first = filled[0]
    address = first.__array_interface__["data"][0]
    total = 0
    for a in filled:
        if a.__array_interface__["data"][0] != address + total * dtype.itemsize:
            return None
        total += a.size
    base = first
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if not base.flags.c_contiguous or base.dtype != dtype:
        return None
    offset = (address - base.__array_interface__["data"][0]) // dtype.itemsize
    flat = base.reshape(-1)[offset : offset + total]
    if flat.size != total or (not flat.flags.writeable and first.flags.writeable):
        return None
    return flat
