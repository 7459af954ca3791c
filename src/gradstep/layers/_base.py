"""The layer base class: naming, shapes, weights as views, configs, buffers.

A layer's forward and backward passes are NumPy code. Weights and their gradients are
views into two flat buffers owned by the model (same layout), so one optimizer call
updates the whole model; ``backward`` writes gradients into those views in place and
never updates weights itself (so clipping stays global, as in Keras).
Buffers for activations are kept per shape and reused from batch to batch: the arrays
a layer returns are overwritten by its next call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from .._registry import Registry
from .._seeding import new_seed_sequence

__all__ = ["Layer", "Rngs", "LAYERS", "unique_name", "call_rngs"]

LAYERS = Registry("layer")
_UIDS: dict[str, int] = {}
_BASE_KEYWORDS = ("name", "trainable", "input_shape", "batch_input_shape", "dtype")


def unique_name(prefix: str) -> str:
    """'dense_1', 'dense_2', ...: Keras's automatic layer names."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return f"{prefix}_{_UIDS[prefix]}"


def _snake(name: str) -> str:
    """Keras 2.2.4's ``_to_snake_case``: 'LeakyReLU' -> 'leaky_re_lu', 'ELU' -> 'elu'."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if snake[0] != "_" else "private" + snake


class Rngs(NamedTuple):
    """The generators a layer may draw from: ``init`` for initial weights, ``train``
    for training-time noise (dropout)."""

    init: np.random.Generator
    train: np.random.Generator


def call_rngs() -> Rngs:
    """Generators for a layer built by a call on a tensor (the functional API): children
    of ``gradstep.models.set_random_seed``'s source, else fresh entropy. A model made
    from such layers points their training-noise generators at its own."""
    init, train = new_seed_sequence(None).spawn(2)
    return Rngs(np.random.default_rng(init), np.random.default_rng(train))


class Layer:
    """Base class of all layers.

    Subclasses implement ``build_weights`` (return ``{name: initial array}``) and
    ``weight_shapes`` (the shapes it will return, known without allocating anything:
    ``load_model`` checks a file's arrays against them before building the model),
    ``compute_output_shape``, ``forward`` and ``backward``, and extend ``get_config``.

    Weights named in ``non_trainable_names`` are never given to the optimizer (the
    moving statistics of BatchNormalization); ``trainable = False`` freezes them all
    (takes effect at the next ``compile``, as in Keras). ``constraints`` maps weight
    names to Keras constraints, applied after each optimizer step. A layer whose
    ``forward`` depends on ``training`` sets ``uses_learning_phase``.
    """

    non_trainable_names: tuple[str, ...] = ()
    uses_learning_phase = False

    def __init__(self, **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in _BASE_KEYWORDS]
        if unknown:
            raise TypeError(f"Keyword argument not understood: {unknown[0]!r}")
        name = kwargs.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"layer name must be a non-empty string, got {name!r}")
        self.name: str = name or unique_name(_snake(type(self).__name__))
        self.trainable: bool = bool(kwargs.get("trainable", True))
        shape = kwargs.get("batch_input_shape")
        if shape is None and kwargs.get("input_shape") is not None:
            shape = (None, *_as_shape(kwargs["input_shape"], "input_shape"))
        self.batch_input_shape: tuple[int | None, ...] | None = (
            None
            if shape is None
            else (None, *_as_shape(tuple(shape)[1:], "batch_input_shape"))
        )
        dtype = kwargs.get("dtype")
        self.dtype: str | None = None if dtype is None else str(np.dtype(dtype))
        self.built = False
        self.input_shape: tuple[int | None, ...] | None = None
        self.output_shape: tuple[int | None, ...] | None = None
        self.weight_names: list[str] = []
        self.weights: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self._buffers: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
        self.constraints: dict[str, Any] = {}
        self._nodes: list[Any] = []

    # ---- the functional API ----------------------------------------------------------
    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Call the layer on a symbolic tensor (or a list of them, for merge layers): the
        functional API. Builds the layer on its first call; returns the output tensor."""
        from ._tensor import Node, Tensor

        if kwargs:
            raise TypeError(
                f"layer {self.name}: call arguments {sorted(kwargs)} are not supported; "
                "pass only the input tensor(s)"
            )
        multi = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if multi else [inputs]
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"layer {self.name} was called on {type(t).__name__}; layers are "
                    "called on tensors from gradstep.layers.Input() or other layers "
                    "(to compute on arrays, build a Model and use predict)"
                )
        if not tensors:
            raise ValueError(f"layer {self.name} was called on an empty list")
        shape: Any = [t.shape for t in tensors] if multi else tensors[0].shape
        if self._nodes:
            raise ValueError(
                f"layer {self.name} was already called on a tensor; gradstep does not "
                "share a layer between several calls: make a new layer"
            )
        if not self.built:
            self.build(shape, call_rngs())
        elif _norm_shape(self.input_shape) != _norm_shape(shape):
            raise ValueError(
                f"layer {self.name} was built for inputs of shape {self.input_shape}, "
                f"called on {shape}"
            )
        node = Node(self, tensors, multi)
        out_shape = self.compute_output_shape(self.input_shape)
        if isinstance(out_shape, list):
            node.outputs = [Tensor(s, node, i) for i, s in enumerate(out_shape)]
        else:
            node.outputs = [Tensor(out_shape, node, 0)]
        self._nodes.append(node)
        output = node.outputs if isinstance(out_shape, list) else node.outputs[0]
        self.input, self.output = inputs, output  # a model keeps its own (see Network)
        return output

    # ---- building ------------------------------------------------------------------
    def build(self, input_shape: tuple[int | None, ...], rngs: Rngs) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, None)."""
        self.dtype = self.dtype or backend.floatx()
        self.input_shape = _norm_shape(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        initial = self.build_weights(self.input_shape, rngs)
        declared = self.weight_shapes(self.input_shape)
        built = {name: np.shape(value) for name, value in initial.items()}
        if declared is not None and built != declared:
            raise ValueError(
                f"layer {self.name}: build_weights made weights {built} but "
                f"weight_shapes declares {declared}"
            )
        self.weight_names = list(initial)
        self.weights = [np.asarray(v, dtype=self.dtype) for v in initial.values()]
        self.grads = [np.zeros_like(w) for w in self.weights]
        self._bind_attributes()
        self.built = True

    def build_weights(
        self, input_shape: tuple[int | None, ...], rngs: Rngs
    ) -> dict[str, np.ndarray]:
        return {}

    def weight_shapes(
        self, input_shape: tuple[int | None, ...]
    ) -> dict[str, tuple[int, ...]] | None:
        """The shapes of the weights ``build_weights`` makes for ``input_shape``, in
        order, without making them; None when a layer does not say (one that defines
        ``build_weights`` only)."""
        if type(self).build_weights is Layer.build_weights:
            return {}
        return None

    def compute_output_shape(
        self, input_shape: tuple[int | None, ...]
    ) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def bind(self, weights: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Move the weights into ``weights`` (views of the model's buffer; values are
        copied) and use ``grads`` as the gradient arrays from now on."""
        for view, value in zip(weights, self.weights):
            np.copyto(view, value)
        self.weights, self.grads = list(weights), list(grads)
        self._bind_attributes()

    def _bind_attributes(self) -> None:
        for name, w, g in zip(self.weight_names, self.weights, self.grads):
            setattr(self, name, w)
            setattr(self, f"{name}_grad", g)

    # ---- passes --------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """The output for ``x``; remembers what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_dx: bool, activated: bool = True) -> Any:
        """Write the weight gradients for the last ``forward`` given dL/dy (``dy`` may be
        overwritten) and return dL/dx when ``need_dx``. ``activated=False``: ``dy`` is
        already the gradient before the layer's activation (fused softmax loss)."""
        raise NotImplementedError

    def buffer(self, key: str, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        """A reusable uninitialized array for ``key`` and ``shape``."""
        found = self._buffers.get((key, shape))
        if found is None or (dtype is not None and found.dtype != dtype):
            found = np.empty(shape, dtype=dtype or self.dtype)
            self._buffers[(key, shape)] = found
        return found

    def release_buffers(self) -> None:
        """Forget the reusable arrays (they are made again when needed)."""
        self._buffers.clear()

    # ---- weights and penalties -----------------------------------------------------
    def penalty(self) -> float:
        """Regularization added to the loss (0 when the layer has none)."""
        return 0.0

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign arrays shaped like ``get_weights()``; every shape is checked first."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight '
                f"list of length {len(weights)}, but the layer was expecting "
                f"{len(self.weights)} weights."
            )
        arrays = [np.asarray(v) for v in weights]
        for name, w, new in zip(self.weight_names, self.weights, arrays):
            if new.shape != w.shape or not np.issubdtype(new.dtype, np.number):
                raise ValueError(
                    f"Layer weight shape {w.shape} not compatible with provided weight "
                    f"shape {new.shape} ({self.name}/{name})"
                )
        for w, new in zip(self.weights, arrays):
            np.copyto(w, new, casting="unsafe")

    @property
    def holds_weights(self) -> bool:
        """Whether the layer has weights."""
        return bool(self.weight_names)

    @property
    def trainable_weight_names(self) -> list[str]:
        """The weights the optimizer updates (none when ``trainable`` is False)."""
        if not self.trainable:
            return []
        return [n for n in self.weight_names if n not in self.non_trainable_names]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        names = set(self.trainable_weight_names)
        return [w for n, w in zip(self.weight_names, self.weights) if n in names]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        names = set(self.trainable_weight_names)
        return [w for n, w in zip(self.weight_names, self.weights) if n not in names]

    @property
    def losses(self) -> list[float]:
        """The regularization penalties (weights, and activity of the last forward)."""
        value = self.penalty()
        return [value] if value else []

    # ---- configs -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Layer:
        try:
            return cls(**dict(config))
        except TypeError as exc:
            raise ValueError(
                f"Bad {cls.__name__} config {dict(config)!r}: {exc}"
            ) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _norm_shape(shape: Any) -> Any:
    """A shape as a tuple, or a list of tuples for layers taking several inputs."""
    if isinstance(shape, list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _as_shape(shape: Any, what: str) -> tuple[int | None, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(
            f"{what} must be a tuple of positive ints, got {shape!r}"
        ) from None
    for d in dims:
        if d is not None and (
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0
        ):
            raise ValueError(f"{what} must be a tuple of positive ints, got {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)
