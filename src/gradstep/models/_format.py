"""The gradstep model file: one .npz file of arrays plus a JSON header, no pickle.

A model file holds ``__gradstep__`` (JSON: format version, the model config, the weight
names and shapes, the training config with the optimizer's ``serialize`` output, and the
random generators' states), ``weight_NNNN`` arrays and ``optimizer_weight_NNNN`` arrays
(``optimizer.get_weights()``). Files are written atomically (``gradstep._io``), so a
crash never leaves half a file. Reading checks everything (zip CRCs, JSON, names, counts,
shapes, dtypes) before any model is changed; any problem raises ``ValueError`` naming the
file and the problem.

This module knows the format and reads and writes the weights of any model with
``layers``; building a model from a file is ``saving.load_model``'s job.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import optimizers as optimizers_module
from .._io import atomic_file
from .._npz import NpzArchive
from .._seeding import generator_state
from .h5._dispatch import handler, is_h5_file, is_h5_path

__all__ = [
    "HEADER",
    "read",
    "save_model",
    "save_weights",
    "load_weights",
    "checked_weights",
]

_FORMAT = "gradstep.model"
_VERSION = 1
HEADER = "__gradstep__"


def _write(path: str, arrays: Mapping[str, np.ndarray], overwrite: bool) -> None:
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    with atomic_file(os.path.abspath(path), suffix=".npz") as handle:
        np.savez(handle, **arrays)


def _header_array(header: dict[str, Any]) -> np.ndarray:
    return np.array(json.dumps(header, sort_keys=True))


def _weight_entries(model: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    entries, arrays = [], {}
    for layer in model.layers:
        for name, w in zip(layer.weight_names, layer.weights):
            key = f"weight_{len(entries):04d}"
            entries.append(
                {
                    "name": f"{layer.name}/{name}",
                    "shape": list(w.shape),
                    "dtype": str(w.dtype),
                }
            )
            arrays[key] = w.copy()
    return entries, arrays


def _rng_states(model: Any) -> dict[str, Any]:
    layers = {}
    for layer in model.layers:
        rng = getattr(layer, "rng", None)
        if rng is not None and rng is not model._rngs.train:
            layers[layer.name] = generator_state(rng)
    return {
        "init": generator_state(model._rngs.init),
        "train": generator_state(model._rngs.train),
        "layers": layers,
    }


def save_model(
    model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
) -> None:
    """Write ``model`` (see the module docstring); a .h5/.hdf5 path gets Keras 2.2.4's
    HDF5 layout instead (``gradstep.models.h5``)."""
    if is_h5_path(filepath):
        return handler("save_model")(model, filepath, overwrite, include_optimizer)
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError(
            "cannot save a model that is not built: give the first layer an "
            "input_shape, or call build/fit first"
        )
    entries, arrays = _weight_entries(model)
    header: dict[str, Any] = {
        "format": _FORMAT,
        "format_version": _VERSION,
        "model_config": {
            "class_name": "Model" if type(model).__name__ == "Model" else "Sequential",
            "config": model.get_config(),
        },
        "weights": entries,
        "rng": _rng_states(model),
        "training_config": None,
        "optimizer_weights": 0,
    }
    if include_optimizer and model.optimizer is not None:
        if not isinstance(model.optimizer, optimizers_module.Optimizer):
            raise ValueError(
                f"cannot save an optimizer of type {type(model.optimizer).__name__}: only "
                "gradstep optimizers have a config and state to save; pass "
                "include_optimizer=False"
            )
        opt_weights = model.optimizer.get_weights()
        header["training_config"] = {
            "loss": model.loss.name,
            "metrics": [
                m if isinstance(m, str) else m.__name__ for m in model._metric_specs
            ],
            "optimizer_config": optimizers_module.serialize(model.optimizer),
        }
        header["optimizer_weights"] = len(opt_weights)
        for i, w in enumerate(opt_weights):
            arrays[f"optimizer_weight_{i:04d}"] = np.asarray(w)
    arrays[HEADER] = _header_array(header)
    _write(path, arrays, overwrite)


_MEMBER = re.compile(r"(__gradstep__|weight_\d{4}|optimizer_weight_\d{4})\.npy")
_WHAT = "a gradstep model file (.npz)"
_REAL_KINDS = "biuf"


def read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and every array of a model file, everything checked before anything
    is allocated: only the members the header declares (nothing else is inflated),
    stored uncompressed (as gradstep writes them, so the data bytes are in the file),
    float weights of the declared shapes, real-valued optimizer weights. Memory used is
    bounded by the file's size."""
    with NpzArchive.open(path, ValueError, _WHAT) as archive:
        names = archive.keys()
        unknown = [n for n in names if not _MEMBER.fullmatch(n)]
        if unknown:
            raise ValueError(
                f"{path}: unknown member {unknown[0]!r} (not read); {_WHAT} holds only "
                f"{HEADER}, weight_NNNN and optimizer_weight_NNNN arrays"
            )
        if f"{HEADER}.npy" not in names:
            raise ValueError(f"{path} is not {_WHAT}: no {HEADER} header")
        header = _read_header(path, archive)
        shapes = _declared_shapes(path, header)
        count = header.get("optimizer_weights", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{path}: malformed optimizer_weights count {count!r}")
        if len(shapes) + count + 1 != len(names):
            raise ValueError(
                f"{path}: the header declares {len(shapes)} weight and {count} optimizer "
                f"arrays, the file holds {len(names) - 1} arrays"
            )
        keys = [f"weight_{i:04d}" for i in range(len(shapes))]
        opt_keys = [f"optimizer_weight_{i:04d}" for i in range(count)]
        expected = {f"{k}.npy" for k in (HEADER, *keys, *opt_keys)}
        if set(names) != expected or len(names) != len(expected):
            missing = sorted(expected - set(names))
            raise ValueError(
                f"{path}: the header declares {len(keys)} weight and {count} optimizer "
                "arrays, the file holds "
                + (f"no {missing[0]}" if missing else "some twice")
            )
        members = {key: archive.member(key) for key in (*keys, *opt_keys)}
        for key, member in members.items():
            if not member.stored:
                raise ValueError(
                    f"{path}: array {key!r} is compressed; gradstep model files are "
                    "written uncompressed (np.savez), so this one was not written by "
                    "gradstep or was altered"
                )
        for key, shape in zip(keys, shapes):
            member = members[key]
            if member.dtype.kind != "f":
                raise ValueError(
                    f"{path}: weight array {key!r} has dtype {member.dtype}; model "
                    "weights must be floats"
                )
            if member.shape != shape:
                raise ValueError(
                    f"{path}: weight array {key!r} has shape {member.shape}, the header "
                    f"declares {shape}"
                )
        for key in opt_keys:
            if members[key].dtype.kind not in _REAL_KINDS:
                raise ValueError(
                    f"{path}: optimizer array {key!r} has dtype {members[key].dtype}; "
                    "expected real numbers"
                )
        declared = sum(m.nbytes for m in members.values())
        if declared > archive.size:
            raise ValueError(
                f"{path}: its arrays declare {declared} bytes, more than the file's "
                f"{archive.size}; the file is damaged or not what it claims"
            )
        arrays = {key: archive.read(key, m.nbytes) for key, m in members.items()}
    return header, arrays


def _read_header(path: str, archive: NpzArchive) -> dict[str, Any]:
    member = archive.member(HEADER)
    if member.shape != () or member.dtype.kind != "U":
        raise ValueError(f"{path}: the {HEADER} header is not a JSON string")
    text = str(archive.read(HEADER, archive.size))
    try:
        header = json.loads(text)
    except RecursionError:
        raise ValueError(f"{path}: the header is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{path}: the header is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(
            f"{path} is not {_WHAT} (format {header.get('format')!r})"
            if isinstance(header, dict)
            else f"{path}: malformed header"
        )
    if header.get("format_version") != _VERSION:
        raise ValueError(
            f"{path}: unsupported format_version {header.get('format_version')!r}; "
            f"this gradstep reads version {_VERSION}"
        )
    return header


def _declared_shapes(path: str, header: dict[str, Any]) -> list[tuple[int, ...]]:
    entries = header.get("weights")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: header has no weight list")
    shapes = []
    for i, entry in enumerate(entries):
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise ValueError(
                f"{path}: weight entry {i} has no valid shape: {entry!r:.80}"
            )
        shapes.append(tuple(shape))
    return shapes


def checked_weights(
    path: str, header: dict, arrays: dict, model: Any
) -> list[np.ndarray]:
    entries = header.get("weights")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: header has no weight list")
    expected = [
        (f"{layer.name}/{name}", w)
        for layer in model.layers
        for name, w in zip(layer.weight_names, layer.weights)
    ]
    if len(entries) != len(expected):
        raise ValueError(
            f"{path} holds {len(entries)} weights but the model has {len(expected)}; the "
            "file was saved from a different architecture"
        )
    values = []
    for i, (entry, (name, w)) in enumerate(zip(entries, expected)):
        key = f"weight_{i:04d}"
        if key not in arrays:
            raise ValueError(f"{path}: weight array {key} ({name}) is missing")
        value = arrays[key]
        # Matched by order, as Keras's load_weights(by_name=False): names may differ.
        if value.shape != w.shape:
            raise ValueError(
                f"{path}: weight {i} ({_entry_name(entry)}) "
                f"has shape {value.shape}, but the model expects {name} with shape {w.shape}"
            )
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(
                f"{path}: weight {name} has dtype {value.dtype}, expected floats"
            )
        values.append(value)
    return values


def _entry_name(entry: Any) -> str:
    return str(entry.get("name")) if isinstance(entry, dict) else repr(entry)


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Write only the weights and their names (``load_weights`` reads them back); a
    .h5/.hdf5 path gets Keras 2.2.4's weights-only HDF5 layout."""
    if is_h5_path(filepath):
        return handler("save_weights")(model, filepath, overwrite)
    if not model.built:
        raise ValueError("cannot save the weights of a model that is not built")
    entries, arrays = _weight_entries(model)
    arrays[HEADER] = _header_array(
        {"format": _FORMAT, "format_version": _VERSION, "weights": entries}
    )
    _write(os.fspath(filepath), arrays, overwrite)


def load_weights(
    model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False
) -> None:
    """Read weights from a ``save`` or ``save_weights`` file into ``model``; the model is
    unchanged when anything is wrong. Keras HDF5 files (by suffix or content) are read
    by ``gradstep.models.h5.load_weights`` (``by_name``/``skip_mismatch`` as Keras)."""
    if is_h5_file(filepath):
        return handler("load_weights")(model, filepath, by_name, skip_mismatch)
    if by_name or skip_mismatch:
        raise ValueError(
            "load_weights(by_name=True/skip_mismatch=True) is supported for Keras .h5 "
            "files only; gradstep .npz files are matched by order"
        )
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError("build the model before loading weights into it")
    header, arrays = read(path)
    values = checked_weights(path, header, arrays, model)
    model.set_weights(values)
