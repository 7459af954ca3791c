"""Keras 2.2's merge layers: ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Concatenate``, ``Dot`` (two-dimensional inputs) and the
functions ``add``, ``concatenate``...

Each takes a list of tensors of one shape (``Concatenate``: equal but for ``axis``). The
backward pass returns one gradient array per input, never the same array twice (a
model's backward may change them in place). ``Maximum``/``Minimum`` send the gradient to
the first input holding the extreme value where several tie.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import LAYERS, Layer

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
]


class _Merge(Layer):
    """Element-wise merge of a list of inputs of one shape."""

    min_inputs = 2
    max_inputs: int | None = None

    def _check_list(self, input_shape: Any) -> list[tuple[int | None, ...]]:
        if not isinstance(input_shape, list):
            raise ValueError(
                f"A merge layer ({type(self).__name__}) should be called on a list of "
                "inputs."
            )
        if len(input_shape) < self.min_inputs or (
            self.max_inputs is not None and len(input_shape) > self.max_inputs
        ):
            want = (
                f"exactly {self.max_inputs}"
                if self.max_inputs == self.min_inputs
                else f"at least {self.min_inputs}"
            )
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on {want} inputs, got "
                f"{len(input_shape)}"
            )
        return [tuple(s) for s in input_shape]

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        first = shapes[0]
        for s in shapes[1:]:
            if s[1:] != first[1:]:
                raise ValueError(
                    f"Operands of {type(self).__name__} could not be merged: shapes "
                    f"{shapes} (gradstep merges inputs of one shape only)"
                )
        return first

    def weight_shapes(self, input_shape):
        return {}

    def build_weights(self, input_shape, rngs):
        self.compute_output_shape(input_shape)
        return {}

    def _grad_copies(self, dy: np.ndarray, n: int) -> list[np.ndarray]:
        out = [dy]
        for i in range(1, n):
            g = self.buffer(f"dx{i}", dy.shape, dy.dtype)
            np.copyto(g, dy)
            out.append(g)
        return out


@LAYERS.register("Add")
class Add(_Merge):
    """The sum of the inputs."""

    def forward(self, x, training):
        y = self.buffer("y", x[0].shape, x[0].dtype)
        np.copyto(y, x[0])
        for xi in x[1:]:
            y += xi
        self._n = len(x)
        return y

    def backward(self, dy, need_dx, activated=True):
        return self._grad_copies(dy, self._n) if need_dx else None


@LAYERS.register("Subtract")
class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    max_inputs = 2

    def forward(self, x, training):
        return np.subtract(x[0], x[1], out=self.buffer("y", x[0].shape, x[0].dtype))

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        neg = np.negative(dy, out=self.buffer("dx1", dy.shape, dy.dtype))
        return [dy, neg]


@LAYERS.register("Multiply")
class Multiply(_Merge):
    """The element-wise product of the inputs."""

    def forward(self, x, training):
        y = self.buffer("y", x[0].shape, x[0].dtype)
        np.copyto(y, x[0])
        for xi in x[1:]:
            y *= xi
        self._x = list(x)
        return y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        grads = []
        for i in range(len(self._x)):
            g = self.buffer(f"dx{i}", dy.shape, dy.dtype)
            np.copyto(g, dy)
            for j, xj in enumerate(self._x):
                if j != i:
                    g *= xj
            grads.append(g)
        return grads


@LAYERS.register("Average")
class Average(_Merge):
    """The mean of the inputs."""

    def forward(self, x, training):
        y = self.buffer("y", x[0].shape, x[0].dtype)
        np.copyto(y, x[0])
        for xi in x[1:]:
            y += xi
        y /= len(x)
        self._n = len(x)
        return y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        dy /= self._n
        return self._grad_copies(dy, self._n)


class _Extreme(_Merge):
    pick = staticmethod(np.argmax)

    def forward(self, x, training):
        stacked = np.stack(x)
        self._which = self.pick(stacked, axis=0)
        self._n = len(x)
        y = self.buffer("y", x[0].shape, x[0].dtype)
        np.copyto(y, np.take_along_axis(stacked, self._which[None], axis=0)[0])
        return y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        grads = []
        for i in range(self._n):
            g = self.buffer(f"dx{i}", dy.shape, dy.dtype)
            np.multiply(dy, self._which == i, out=g)
            grads.append(g)
        return grads


@LAYERS.register("Maximum")
class Maximum(_Extreme):
    """The element-wise maximum of the inputs."""

    pick = staticmethod(np.argmax)


@LAYERS.register("Minimum")
class Minimum(_Extreme):
    """The element-wise minimum of the inputs."""

    pick = staticmethod(np.argmin)


@LAYERS.register("Concatenate")
class Concatenate(_Merge):
    """Joins the inputs along ``axis`` (default -1; not the batch axis)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Concatenate axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def _axis(self, ndim: int) -> int:
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ValueError(
                f"Concatenate axis={self.axis} is out of range for inputs of {ndim} "
                "dimensions (the batch axis 0 cannot be joined)"
            )
        return axis

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(
                f"A `Concatenate` layer requires inputs with matching shapes except for "
                f"the concat axis. Got inputs shapes: {shapes}"
            )
        axis = self._axis(len(shapes[0]))
        for s in shapes[1:]:
            if s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]:
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except "
                    f"for the concat axis. Got inputs shapes: {shapes}"
                )
        sizes = [s[axis] for s in shapes]
        total = None if any(d is None for d in sizes) else sum(sizes)
        return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])

    def forward(self, x, training):
        axis = self._axis(x[0].ndim)
        self._splits = np.cumsum([xi.shape[axis] for xi in x])[:-1]
        self._ax = axis
        return np.concatenate(x, axis=axis)

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        return np.split(dy, self._splits, axis=self._ax)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


@LAYERS.register("Dot")
class Dot(_Merge):
    """The dot product of two inputs of shape (N, d) along their last axis, (N, 1);
    ``normalize=True`` takes the cosine (each input L2-normalized first, as Keras).
    Only inputs of two dimensions (``axes`` 1 or -1) are supported."""

    max_inputs = 2

    def __init__(self, axes: Any = -1, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pair = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(pair) != 2 or any(a not in (1, -1) for a in pair):
            raise ValueError(
                f"Dot supports inputs of two dimensions with axes 1 or -1, got axes={axes!r}"
            )
        self.axes = axes if isinstance(axes, int) else list(axes)
        self.normalize = bool(normalize)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        if any(len(s) != 2 for s in shapes) or shapes[0][1] != shapes[1][1]:
            raise ValueError(
                f"Dot supports two inputs of shape (batch, d) with the same d, got {shapes}"
            )
        return (shapes[0][0], 1)

    def forward(self, x, training):
        a, b = x
        if self.normalize:
            self._na = np.sqrt(np.maximum(np.sum(a * a, axis=1, keepdims=True), 1e-12))
            self._nb = np.sqrt(np.maximum(np.sum(b * b, axis=1, keepdims=True), 1e-12))
            a, b = a / self._na, b / self._nb
        self._a, self._b = a, b
        return np.sum(a * b, axis=1, keepdims=True)

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        da, db = dy * self._b, dy * self._a
        if self.normalize:  # through x / max(|x|, 1e-6): the norm counts where > 1e-6
            for g, u, n in ((da, self._a, self._na), (db, self._b, self._nb)):
                g -= (n > 1e-6) * np.sum(g * u, axis=1, keepdims=True) * u
                g /= n
        return [da, db]

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def _merge(cls: type, inputs: Any, kwargs: dict[str, Any]) -> Any:
    return cls(**kwargs)(inputs)


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """``Add()(inputs)``."""
    return _merge(Add, inputs, kwargs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """``Subtract()(inputs)``."""
    return _merge(Subtract, inputs, kwargs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """``Multiply()(inputs)``."""
    return _merge(Multiply, inputs, kwargs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """``Average()(inputs)``."""
    return _merge(Average, inputs, kwargs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """``Maximum()(inputs)``."""
    return _merge(Maximum, inputs, kwargs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """``Minimum()(inputs)``."""
    return _merge(Minimum, inputs, kwargs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis)(inputs)``."""
    return _merge(Concatenate, inputs, {"axis": axis, **kwargs})


def dot(inputs: list[Any], axes: Any, normalize: bool = False, **kwargs: Any) -> Any:
    """``Dot(axes, normalize)(inputs)``."""
    return _merge(Dot, inputs, {"axes": axes, "normalize": normalize, **kwargs})
