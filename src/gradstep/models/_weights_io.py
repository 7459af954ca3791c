"""``load_weights(by_name=, skip_mismatch=)``: weights from a gradstep file into a
model, by order (``_format``) or by layer name (Keras 2.2.4's
``load_weights_from_hdf5_group_by_name``). Everything is checked before any weight
changes. Keras HDF5 files go to ``gradstep.models.h5``."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from . import _format
from .h5._dispatch import is_h5_file

__all__ = ["load_weights"]


def load_weights(model: Any, filepath: Any, by_name: bool, skip_mismatch: bool) -> None:
    if not model.built:
        raise ValueError("build the model before loading weights into it")
    if not by_name or is_h5_file(filepath):
        _format.load_weights(model, filepath, by_name, skip_mismatch)
        return
    path = os.fspath(filepath)
    header, arrays = _format.read(path)
    entries = header.get("weights")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: header has no weight list")
    saved: dict[str, list[np.ndarray]] = {}
    for i, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" not in name:
            raise ValueError(f"{path}: weight entry {i} has no layer/weight name")
        saved.setdefault(name.split("/", 1)[0], []).append(arrays[f"weight_{i:04d}"])
    plan = []
    for k, layer in enumerate(model.layers):
        weights = layer.weights
        if not weights or layer.name not in saved:
            continue
        values = saved[layer.name]
        if len(values) != len(weights):
            message = (
                f'Layer #{k} (named "{layer.name}") expects {len(weights)} weight(s), but '
                f"the saved weights have {len(values)} element(s)."
            )
            if skip_mismatch:
                warnings.warn(
                    f"Skipping loading of weights for layer {layer.name}: " + message,
                    stacklevel=3,
                )
                continue
            raise ValueError(f"{path}: {message}")
        bad = next(
            (j for j, (w, v) in enumerate(zip(weights, values)) if w.shape != v.shape),
            None,
        )
        if bad is not None:
            message = (
                f'Layer #{k} (named "{layer.name}"), weight {bad} has shape '
                f"{weights[bad].shape}, but the saved weight has shape "
                f"{values[bad].shape}."
            )
            if skip_mismatch:
                warnings.warn(
                    f"Skipping loading of weights for layer {layer.name}: " + message,
                    stacklevel=3,
                )
                continue
            raise ValueError(f"{path}: {message}")
        plan.append((weights, values))
    for weights, values in plan:
        for w, v in zip(weights, values):
            np.copyto(w, v, casting="unsafe")
