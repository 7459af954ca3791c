"""What a ``gradstep h5 info``/``convert`` command needs: ``describe`` and ``convert``.

``describe(path)`` is a text report of a Keras 2.2 .h5 file (versions, model summary,
training config, optimizer and the names, shapes and dtypes of its state, and what
Keras 2.2.4 does not save for that optimizer); ``convert(source, target)`` rewrites a
model file as the other format (.h5 <-> gradstep .npz), through ``load_model``.
"""

from __future__ import annotations

import os
from typing import Any

from ._dispatch import is_h5_path
from ._load import load_model
from ._read import read_model_file
from ._write import save_model

__all__ = ["describe", "convert"]

_NOT_SAVED = {
    "RMSprop": "iterations (learning-rate decay restarts from 0 on reload)",
    "Adagrad": "iterations (learning-rate decay restarts from 0 on reload)",
    "Adadelta": "iterations (learning-rate decay restarts from 0 on reload)",
    "Nadam": "m_schedule (back to 1 on reload)",
}


def describe(path: Any) -> str:
    """A text report of the Keras .h5 model file at ``path`` (see the module)."""
    name = os.fspath(path)
    keras_file = read_model_file(name)
    lines = [
        f"file: {name}",
        f"keras_version: {keras_file.keras_version}  backend: {keras_file.backend}",
    ]
    model = load_model(name, compile=False)
    lines.append(f"model: {type(model).__name__} {model.name}")
    model.summary(print_fn=lines.append)
    training = keras_file.training_config
    if training is None:
        lines.append("no training config (saved without optimizer)")
        return "\n".join(lines) + "\n"
    optimizer = training.get("optimizer_config", {})
    kind = optimizer.get("class_name")
    lines.append(
        f"loss: {training.get('loss')!r}  metrics: {training.get('metrics')!r}"
    )
    if training.get("loss_weights") is not None:
        lines.append(f"loss_weights: {training['loss_weights']!r}")
    lines.append(f"optimizer: {kind} {optimizer.get('config')!r}")
    weights = keras_file.optimizer_weights or []
    lines.append(f"optimizer state: {len(weights)} arrays")
    for weight_name, value in weights:
        lines.append(f"  {weight_name}: shape {value.shape} {value.dtype}")
    if kind in _NOT_SAVED:
        lines.append(f"not saved by Keras 2.2.4: {_NOT_SAVED[kind]}")
    return "\n".join(lines) + "\n"


def convert(source: Any, target: Any, overwrite: bool = False) -> None:
    """Rewrite the model file ``source`` as ``target``: Keras .h5 when ``target`` ends
    in .h5/.hdf5, else gradstep .npz (either way round). What one format does not hold
    is what Keras 2.2.4's reload would reset (see ``gradstep.models.h5``)."""
    from ..saving import load_model as load_any

    model = load_any(source)
    if is_h5_path(target):
        save_model(model, target, overwrite=overwrite)
    else:
        model.save(target, overwrite=overwrite)
