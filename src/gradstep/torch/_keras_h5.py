"""From a Keras 2.2 HDF5 file to PyTorch: ``from_keras_h5``.

The file is read by ``gradstep.models.h5.load_model`` (so exactly what Keras 2.2.4's
own ``load_model`` restores: RMSprop/Adagrad/Adadelta restart their iteration counter,
Nadam its ``m_schedule``), and its optimizer becomes the ``gradstep.torch`` optimizer of
the same class, hyperparameters, clipping, iteration counter and slots, for torch
parameters in the order of the model's trainable weights. Continuing the run in PyTorch
then computes what Keras 2.2.4 computes (the rules are element-wise and clipnorm's norm
is global, so transposing a kernel and its slots together changes nothing).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, NamedTuple

import torch

from ._optimizer import KerasTorchOptimizer, torch_optimizer

__all__ = ["KerasRun", "from_keras_h5"]


class KerasRun(NamedTuple):
    """``from_keras_h5``'s result."""

    optimizer: KerasTorchOptimizer
    """The gradstep.torch optimizer holding the file's optimizer state."""
    params: list[torch.Tensor]
    """The parameters it updates (the given ones, or new ones)."""
    weights: list[torch.Tensor]
    """The file's trainable weights as tensors (transposed kernels when asked)."""
    model: Any
    """The gradstep NumPy model read from the file (``gradstep.models.Sequential``)."""


def _tensor(array: Any, transpose: bool) -> torch.Tensor:
    tensor = torch.tensor(array)
    return tensor.T.contiguous() if transpose and tensor.ndim == 2 else tensor


def _checked_params(
    path: str, params: Iterable[Any] | None, weights: list[torch.Tensor]
) -> list[torch.Tensor]:
    if params is None:
        return [torch.nn.Parameter(w.clone()) for w in weights]
    params = list(params)
    if len(params) != len(weights):
        raise ValueError(
            f"{path}: the model has {len(weights)} trainable weights, {len(params)} "
            "parameters were given (pass them in the model's weight order, e.g. "
            "kernel then bias of each Dense layer)"
        )
    for i, (p, w) in enumerate(zip(params, weights)):
        if not isinstance(p, torch.Tensor) or tuple(p.shape) != tuple(w.shape):
            shape = tuple(p.shape) if isinstance(p, torch.Tensor) else type(p).__name__
            raise ValueError(
                f"{path}: parameter {i} has shape {shape}, the file's weight {i} has "
                f"{tuple(w.shape)}"
                + (
                    "; torch.nn.Linear holds kernels transposed: pass "
                    "transpose_kernels=True"
                    if w.ndim == 2 and shape == tuple(w.shape[::-1])
                    else ""
                )
            )
    return params


def _copy_weights(params: list[torch.Tensor], weights: list[torch.Tensor]) -> None:
    """The file's weights into ``params``: the last thing done, once the optimizer
    accepted the parameters and the file's state (an error leaves them as given)."""
    with torch.no_grad():
        for p, w in zip(params, weights):
            p.copy_(w)


def from_keras_h5(
    path: Any,
    params: Iterable[torch.Tensor] | None = None,
    *,
    transpose_kernels: bool = False,
    copy_weights: bool = True,
    custom_objects: Any = None,
) -> KerasRun:
    """The optimizer state (and weights) of a Keras 2.2 ``.h5`` model file for PyTorch.

    Args:
        path: a file written by Keras 2.2's (or gradstep's) ``model.save``.
        params: torch parameters in the order of the model's trainable weights (None:
            new Parameters holding the file's weights).
        transpose_kernels: 2-D weights go to PyTorch transposed, as ``torch.nn.Linear``
            holds them (out_features, in_features); their optimizer slots too.
        copy_weights: copy the file's weights into ``params``.
        custom_objects: as for ``gradstep.models.load_model``.

    Returns:
        ``KerasRun(optimizer, params, weights, model)``.

    Raises:
        ValueError naming the file: no optimizer in the file, parameters not matching;
        the optimizer's own errors (e.g. ``TypeError`` for a non-float parameter). Any
        error leaves ``params`` unchanged: the weights are copied last.
    """
    from ..models.h5 import load_model  # deferred: importing gradstep.torch stays light

    name = os.fspath(path)
    model = load_model(name, custom_objects=custom_objects)
    numpy_optimizer = model.optimizer
    if numpy_optimizer is None:
        raise ValueError(f"{name}: the file holds no optimizer (no training_config)")
    weights = [_tensor(w, transpose_kernels) for w in model.trainable_weights]
    given = params is not None
    params = _checked_params(name, params, weights)
    cls = torch_optimizer(type(numpy_optimizer))
    optimizer = cls(params, **numpy_optimizer.get_config())
    state = numpy_optimizer.weight_layout().unpack(numpy_optimizer.get_weights())
    if state is not None:
        state_dict = optimizer.state_dict()
        group = state_dict["param_groups"][0]
        group["iterations"] = state.iterations
        group.update(state.scalars)
        slot_names = numpy_optimizer.slot_names()
        count = len(params)
        state_dict["state"] = {
            i: {
                slot: _tensor(state.slots[k * count + i], transpose_kernels).to(
                    params[i].dtype
                )
                for k, slot in enumerate(slot_names)
            }
            for i in range(count)
        }
        optimizer.load_state_dict(state_dict)
    if given and copy_weights:
        _copy_weights(params, weights)
    return KerasRun(optimizer, params, weights, model)
