"""NumPy views of torch tensors for the NumPy engines, kept across steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._distributed import is_dtensor

__all__ = ["numpy_view", "shares_storage"]


def shares_storage(t: torch.Tensor, buffer: torch.Tensor) -> bool:
    return t.untyped_storage().data_ptr() == buffer.untyped_storage().data_ptr()


def numpy_view(t: torch.Tensor, old: dict[Any, Any], new: dict[Any, Any]) -> np.ndarray:
    """A NumPy view of ``t``'s local data, cached across steps while ``t`` keeps its
    storage, shape and dtype (gradients are never cached: they change every step).

    Contiguous tensors are viewed through one NumPy array per storage, so tensors laid end
    to end in one storage (flat state, flattened parameters) give arrays that
    ``contiguous_span`` joins into one: the fused engine then makes one kernel call."""
    if is_dtensor(t):
        return t.to_local().detach().numpy()
    key = id(t)
    entry = old.get(key)
    pointer = t.data_ptr()
    if (
        entry is None
        or entry[0] is not t
        or entry[1] != pointer
        or entry[2] is not t.dtype
        or entry[3].shape != t.shape
    ):
        entry = (t, pointer, t.dtype, _storage_view(t, old, new))
    new[key] = entry
    return entry[3]


def _storage_view(
    t: torch.Tensor, old: dict[Any, Any], new: dict[Any, Any]
) -> np.ndarray:
    if not t.is_contiguous() or t.numel() == 0:
        return t.detach().numpy()
    storage = t.untyped_storage()
    key = ("storage", storage.data_ptr(), t.dtype)
    entry = new.get(key) or old.get(key)
    if entry is None or entry[1] != storage.nbytes():
        whole = torch.empty(0, dtype=t.dtype)
        whole.set_(storage, 0, (storage.nbytes() // t.element_size(),))
        entry = (whole, storage.nbytes(), whole.numpy())
    new[key] = entry
    start = t.storage_offset()
    return entry[2][start : start + t.numel()].reshape(t.shape)
