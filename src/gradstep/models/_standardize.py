"""Inputs, targets and sample weights as lists aligned with a model's inputs and
trained outputs (Keras 2.2.4's ``_standardize_user_data``), every check done before any
training starts.

Data for several inputs (outputs) comes as a list in order or a dict by name; a single
array serves a model with one. Sample weights: one finite weight per sample (1-D);
class weights: ``{class: weight}`` for targets of one column (the class itself),
several (one-hot: the argmax) or integer labels, used where no sample weights are given.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _data

__all__ = ["inputs", "targets", "weights", "split_count"]


def _is_array_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, np.ndarray) for v in value
    )


def _as_list(value: Any, names: list[str], what: str) -> list[Any]:
    if isinstance(value, Mapping):
        for n in names:
            if n not in value:
                raise ValueError(
                    f'No data provided for "{n}". Need data for each key in: {names}'
                )
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"Error when checking model {what}: unknown key {unknown[0]!r}; expected "
                f"the keys {names}"
            )
        return [value[n] for n in names]
    if len(names) > 1 or _is_array_list(value):
        if not isinstance(value, (list, tuple)):
            raise ValueError(
                f"Error when checking model {what}: the model expects {len(names)} arrays "
                f"({names}) as a list or a dict by name, got a single "
                f"{type(value).__name__}"
            )
        if len(value) != len(names):
            raise ValueError(
                f"Error when checking model {what}: the list of Numpy arrays that you are "
                f"passing to your model is not the size the model expected. Expected to "
                f"see {len(names)} array(s), but instead got the following list of "
                f"{len(value)} arrays"
            )
        return list(value)
    return [value]


def inputs(model: Any, x: Any) -> list[np.ndarray]:
    """``x`` as the model's input arrays (builds an unbuilt Sequential from it)."""
    if x is None:
        raise ValueError("x is required: pass the input array(s)")
    if not model.layers:
        raise TypeError("The model is empty: add layers before using it")
    if not model.built:
        model._build_from(
            _data._single_array(_as_list(x, ["input"], "input")[0], "input")
        )
    names = model.input_names
    arrays = _as_list(x, names, "input")
    shapes = model._input_shapes()
    out = [
        _data.as_inputs(a, shape, model.dtype, name)
        for a, shape, name in zip(arrays, shapes, names)
    ]
    _same_length(out, "input")
    return out


def targets(model: Any, y: Any) -> list[np.ndarray]:
    """``y`` as the target arrays of the outputs that have a loss, checked for it."""
    compiled = model._check_compiled()
    if y is None:
        raise ValueError("y is required: pass the target array(s)")
    specs = compiled.outputs
    arrays = _as_list(y, [s.name for s in specs], "target")
    shapes = model._output_shapes()
    out = [
        _data.as_targets(a, s.loss, shapes[s.index], model.dtype, s.name)
        for a, s in zip(arrays, specs)
    ]
    _same_length(out, "target")
    return out


def _same_length(arrays: list[np.ndarray], what: str) -> None:
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(
            f"All {what} arrays (x) should have the same number of samples. Got array "
            f"shapes: {[a.shape for a in arrays]}"
        )


def _per_output(value: Any, names: list[str], what: str) -> list[Any]:
    """Keras's ``standardize_sample_or_class_weights``."""
    if value is None or (isinstance(value, (list, tuple, Mapping)) and len(value) == 0):
        return [None] * len(names)
    if len(names) == 1:
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return list(value)
        if isinstance(value, Mapping) and names[0] in value:
            return [value[names[0]]]
        return [value]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"Provided `{what}` was a list of {len(value)} elements, but the model "
                f"has {len(names)} outputs. You should provide one `{what}`array per "
                "model output."
            )
        return list(value)
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"Unknown entry in {what} dictionary: {unknown[0]!r}. Only expected the "
                f"following keys: {names}"
            )
        return [value.get(n) for n in names]
    raise TypeError(
        f"The model has multiple outputs, so `{what}` should be either a list or a "
        f"dict. Provided `{what}` type not understood: {value!r:.100}"
    )


def _sample_weight(sw: Any, y: np.ndarray, name: str, dtype: str) -> np.ndarray:
    try:
        array = np.asarray(sw, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"sample_weight for output {name!r} must be an array of numbers, got "
            f"{sw!r:.80}"
        ) from None
    if array.ndim != 1:
        raise ValueError(
            f"Found a sample_weight array with shape {array.shape} for output {name!r}: "
            "sample_weight must be 1-D, one weight per sample (sample_weight_mode=None)"
        )
    if len(array) != len(y):
        raise ValueError(
            f"Found a sample_weight array with shape {array.shape} for an input with "
            f"shape {y.shape}. sample_weight cannot be broadcast."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"sample_weight for output {name!r} contains NaN or infinity")
    return array.astype(dtype)


def _class_weight(cw: Any, y: np.ndarray, name: str, dtype: str) -> np.ndarray:
    if not isinstance(cw, Mapping):
        raise ValueError(
            f"class_weight for output {name!r} must be a dict {{class: weight}}, got "
            f"{cw!r:.80}"
        )
    for key, value in cw.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(
                f"class_weight for output {name!r}: the weight of class {key!r} must be "
                f"a number, got {value!r}"
            )
        if not np.isfinite(value):
            raise ValueError(
                f"class_weight for output {name!r}: the weight of class {key!r} is "
                f"{value}"
            )
    if y.ndim > 2:
        raise ValueError("`class_weight` not supported for 3+ dimensional targets.")
    if y.ndim == 2 and y.shape[1] > 1:
        classes = np.argmax(y, axis=1)
    elif y.ndim == 2:
        classes = y.reshape(y.shape[0])
    else:
        classes = y
    table: dict[Any, float] = {}
    missing = set()
    values = np.empty(len(classes), dtype=np.float64)
    for i, c in enumerate(classes.tolist()):
        if c in table:
            values[i] = table[c]
        elif c in cw:
            values[i] = table[c] = float(cw[c])
        else:
            missing.add(c)
    if missing:
        raise ValueError(
            "`class_weight` must contain all classes in the data. The classes "
            f"{missing} exist in the data but not in `class_weight`."
        )
    return values.astype(dtype)


def weights(
    model: Any, ys: list[np.ndarray], sample_weight: Any, class_weight: Any
) -> list[np.ndarray | None]:
    """One weight array (or None: all ones) per trained output."""
    compiled = model._check_compiled()
    names = [s.name for s in compiled.outputs]
    sws = _per_output(sample_weight, names, "sample_weight")
    cws = _per_output(class_weight, names, "class_weight")
    out: list[np.ndarray | None] = []
    for y, sw, cw, name in zip(ys, sws, cws, names):
        if sw is not None and cw is not None:
            warnings.warn(
                "Found both `sample_weight` and `class_weight`: `class_weight` "
                "argument will be ignored.",
                stacklevel=4,
            )
        if sw is not None:
            out.append(_sample_weight(sw, y, name, model.dtype))
        elif cw is not None:
            out.append(_class_weight(cw, y, name, model.dtype))
        else:
            out.append(None)
    return out


def split_count(arrays: list[np.ndarray]) -> int:
    """The number of samples of aligned arrays."""
    return len(arrays[0]) if arrays else 0
