"""Gradient clipping outside the engines: the per-tensor clipping of tf.keras and Keras 3
before a step, and the pieces of Keras 2.2's global clipnorm the step takes from torch
(sums of squares of the tensors no NumPy engine sees, gradients scaled by the norm's
factor)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..kernels.clip import PerTensorClipping, tensor_norm_factor
from ..kernels.flat import contiguous_span
from . import _state
from ._distributed import is_dtensor, local_tensor
from ._ops import torch_clip_element

__all__ = ["preclip_gradients", "scaled_gradients", "sum_of_squares"]


def preclip_gradients(
    groups: list[dict[str, Any]], preclipping: PerTensorClipping
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Replace every ``p.grad`` of ``groups`` with a clipped copy (tf.keras, Keras 3:
    each tensor clipped on its own before the step: values, then its L2 norm); returns
    the (parameter, original gradient) pairs to put back after the step. The original
    gradient tensors are not modified. The norm is accumulated in float64 as the NumPy
    engines do, the clipping done in the gradient's dtype (float32 for 16-bit ones,
    then rounded back)."""
    swapped: list[tuple[torch.Tensor, torch.Tensor]] = []
    seen: set[int] = set()
    try:
        for group in groups:
            for p in group["params"]:
                g = p.grad
                if g is None or id(p) in seen or g.is_sparse:
                    continue  # sparse: the step raises its own error
                seen.add(id(p))
                grad = g.detach()
                compute = _state.state_dtype(grad)
                work = grad.to(compute) if compute != grad.dtype else grad
                clipped = preclipping.apply(
                    [work],
                    _tensor_norm,
                    lambda t, v: torch_clip_element(t, 1.0, v),
                    _tensor_norm_factor,
                )[0]
                if clipped is work:  # nothing to do: a copy all the same
                    clipped = work.clone()
                swapped.append((p, g))
                p.grad = clipped.to(g.dtype)
    except BaseException:
        for p, g in swapped:
            p.grad = g
        raise
    return swapped


def _tensor_norm(g: torch.Tensor) -> float:
    """The L2 norm of a whole gradient (a DTensor's too), summed in float64."""
    if is_dtensor(g):
        g = g.full_tensor()
    flat = g.reshape(-1).to(torch.float64)
    return math.sqrt(float(torch.dot(flat, flat).item()))


def _tensor_norm_factor(norm: float, clipnorm: float) -> float:
    """``tensor_norm_factor`` as a Python float (the tensors multiplied by it)."""
    return float(tensor_norm_factor(norm, clipnorm))


def scaled_gradients(grads: list[np.ndarray], scale: float) -> list[np.ndarray]:
    """``g * scale`` for every gradient (new arrays: the gradients are not modified),
    keeping gradients that form one buffer in one buffer."""
    span = contiguous_span(grads)
    if span is None:
        return [g * scale for g in grads]
    flat = span * scale
    scaled, start = [], 0
    for g in grads:
        scaled.append(flat[start : start + g.size].reshape(g.shape))
        start += g.size
    return scaled


def sum_of_squares(g: torch.Tensor) -> float:
    """The float64 sum of squares of a gradient's local part, with torch operations
    (for the tensors no NumPy engine sees); ``RuntimeError`` for a gradient on the
    "meta" device, which holds no values to take the norm of."""
    local = local_tensor(g)
    if local.device.type == "meta":
        raise RuntimeError(
            "clipnorm needs the gradients' values, and a gradient on the 'meta' device "
            "has none; move the parameters to a real device (e.g. module.to_empty()) "
            "or step without clipnorm"
        )
    flat = local.detach().reshape(-1).to(torch.float64)
    return float(torch.dot(flat, flat).item())
