"""Reading a Keras 2.2 HDF5 file into plain Python values, everything checked.

``read_model_file`` and ``read_weights_file`` return a ``KerasFile``: the root
attributes (``keras_version``, ``backend``, the JSON ``model_config`` and
``training_config``), each layer's weights in file order (``layer_names`` and every
layer's ``weight_names`` attribute, as Keras 2.2.4 reads them) and the optimizer
weights in ``optimizer_weights``'s ``weight_names`` order. Dataset names do not matter
(Theano files say ``dense_1/kernel``, TensorFlow files ``dense_1/kernel:0``). Nothing
in the file is executed, and arrays are read only once they are known to be plain,
uncompressed numbers that fit in the file. Every problem is a ``ValueError`` naming the
file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._h5py import h5py

__all__ = ["KerasFile", "read_model_file", "read_weights_file"]

_MODEL_ATTRS = {"keras_version", "backend", "model_config", "training_config"}
_MODEL_MEMBERS = {"model_weights", "optimizer_weights"}
_WEIGHT_ATTRS = {"keras_version", "backend", "layer_names"}
_REAL = "biuf"


@dataclass
class KerasFile:
    """What a Keras 2.2 .h5 file holds (see the module docstring)."""

    path: str
    keras_version: str | None
    backend: str | None
    model_config: dict[str, Any] | None = None
    training_config: dict[str, Any] | None = None
    layers: list[tuple[str, list[tuple[str, np.ndarray]]]] = field(default_factory=list)
    optimizer_weights: list[tuple[str, np.ndarray]] | None = None


def _text(path: str, value: Any, what: str) -> str:
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: attribute {what} is not UTF-8 text") from None
    if isinstance(value, str):
        return value
    raise ValueError(f"{path}: attribute {what} is not text ({type(value).__name__})")


def _json(path: str, attrs: Any, name: str) -> Any:
    if name not in attrs:
        return None
    text = _text(path, attrs[name], name)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{path}: {name} is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {name} is not valid JSON: {exc}") from None


def _names(path: str, group: Any, name: str) -> list[str]:
    """A list-of-names attribute, also in Keras's chunked form (``name0``, ``name1``...,
    used when it exceeds HDF5's 64 KiB attribute limit)."""
    where = f"{group.name} attribute {name}"
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in group.attrs:
            chunks.append(group.attrs[f"{name}{i}"])
            i += 1
        if not chunks:
            raise ValueError(f"{path}: {group.name} has no {name} attribute")
    names: list[str] = []
    for chunk in chunks:
        array = np.asarray(chunk)
        if array.size == 0:
            continue
        if array.ndim != 1 or array.dtype.kind not in "SUO":
            raise ValueError(f"{path}: {where} is not a list of names")
        names += [_text(path, item, where) for item in array]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: {where} names one entry twice")
    return names


def _member(path: str, group: Any, name: str) -> Any:
    """``group[name]``, refusing links out of the file (an external link would make
    h5py open another file)."""
    try:
        link = group.get(name, getlink=True)
    except (KeyError, ValueError):
        link = None
    if link is None:
        raise ValueError(f"{path}: {group.name} has no member {name!r}")
    if isinstance(link, h5py().ExternalLink):
        raise ValueError(
            f"{path}: {group.name}/{name} is an external link to {link.filename!r}; "
            "a Keras file holds its data itself"
        )
    try:
        return group[name]
    except (KeyError, ValueError, OSError):
        raise ValueError(f"{path}: {group.name}/{name} cannot be read") from None


def _array(
    path: str, group: Any, name: str, kinds: str, budget: list[int]
) -> np.ndarray:
    dataset = _member(path, group, name)
    h5 = h5py()
    where = f"{path}: dataset {dataset.name}"
    if not isinstance(dataset, h5.Dataset):
        raise ValueError(f"{where} is not a dataset")
    if dataset.dtype.kind not in kinds or dataset.dtype.names is not None:
        raise ValueError(
            f"{where} has dtype {dataset.dtype}; expected "
            + ("floats" if kinds == "f" else "real numbers")
        )
    if dataset.is_virtual or dataset.external or dataset.chunks is not None:
        raise ValueError(
            f"{where} is chunked, compressed, virtual or external; Keras writes plain "
            "contiguous datasets"
        )
    budget[0] -= dataset.size * dataset.dtype.itemsize
    if budget[0] < 0:
        raise ValueError(
            f"{where}: the datasets declare more bytes than the file holds"
        )
    try:
        value = np.array(dataset[()])
    except (OSError, RuntimeError) as exc:
        raise ValueError(
            f"{where} cannot be read (truncated or damaged): {exc}"
        ) from None
    # HDF5 stores either byte order (a big-endian machine's file, or h5py given '>f8'
    # arrays); the model only knows native dtypes.
    return value.astype(value.dtype.newbyteorder("="), copy=False)


def _layers(path: str, group: Any, budget: list[int]):
    out = []
    for name in _names(path, group, "layer_names"):
        layer = _member(path, group, name)
        if not isinstance(layer, h5py().Group):
            raise ValueError(f"{path}: layer {name!r} is not a group")
        weights = [
            (w, _array(path, layer, w, "f", budget))
            for w in _names(path, layer, "weight_names")
        ]
        out.append((name, weights))
    return out


def _open(path: str) -> Any:
    h5 = h5py()
    if not os.path.isfile(path):
        what = "is not a file" if os.path.exists(path) else "no such file"
        raise ValueError(f"{path}: {what}")
    try:
        if not h5.is_hdf5(path):
            raise ValueError(f"{path} is not an HDF5 file (not a Keras .h5 file)")
        return h5.File(path, "r")
    except OSError as exc:
        raise ValueError(
            f"{path}: cannot read it as HDF5 (truncated?): {exc}"
        ) from None


def _common(path: str, f: Any) -> KerasFile:
    version = f.attrs.get("keras_version")
    backend = f.attrs.get("backend")
    return KerasFile(
        path=path,
        keras_version=None
        if version is None
        else _text(path, version, "keras_version"),
        backend=None if backend is None else _text(path, backend, "backend"),
    )


def _unknown(path: str, names: Any, known: set[str], what: str) -> None:
    chunked = {"layer_names"} & known  # Keras splits long ones: layer_names0, ...
    extra = sorted(
        n for n in set(names) - known if re.sub(r"\d+$", "", n) not in chunked
    )
    if extra:
        raise ValueError(
            f"{path}: unknown {what} {extra[0]!r}; a Keras 2.2 file has only "
            f"{', '.join(sorted(known))}"
        )


def read_model_file(path: str) -> KerasFile:
    """A model file written by ``keras.models.save_model`` (see the module docstring)."""
    with _open(path) as f:
        try:
            return _read_model(path, f)
        except (OSError, RuntimeError, KeyError) as exc:
            raise ValueError(f"{path}: damaged HDF5 file: {exc}") from None


def _read_model(path: str, f: Any) -> KerasFile:
    if "model_config" not in f.attrs or "model_weights" not in f:
        raise ValueError(
            f"{path}: no model_config or model_weights: not a Keras model file "
            "(a weights-only file is read with model.load_weights)"
        )
    _unknown(path, f.attrs.keys(), _MODEL_ATTRS, "root attribute")
    _unknown(path, f.keys(), _MODEL_MEMBERS, "root member")
    out = _common(path, f)
    out.model_config = _json(path, f.attrs, "model_config")
    out.training_config = _json(path, f.attrs, "training_config")
    budget = [os.path.getsize(path)]
    out.layers = _layers(path, f["model_weights"], budget)
    if "optimizer_weights" in f:
        group = f["optimizer_weights"]
        out.optimizer_weights = [
            (name, _array(path, group, name, _REAL, budget))
            for name in _names(path, group, "weight_names")
        ]
    return out


def read_weights_file(path: str) -> KerasFile:
    """A weights-only file (``model.save_weights``) or a model file's weights."""
    with _open(path) as f:
        try:
            group = f["model_weights"] if "model_weights" in f else f
            _unknown(path, group.attrs.keys(), _WEIGHT_ATTRS, "weights attribute")
            out = _common(path, group)
            out.layers = _layers(path, group, [os.path.getsize(path)])
            return out
        except (OSError, RuntimeError, KeyError) as exc:
            raise ValueError(f"{path}: damaged HDF5 file: {exc}") from None
