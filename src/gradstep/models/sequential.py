"""``Sequential``: a linear stack of layers with Keras 2.2's model API (the shared
machinery is ``_network.Network``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..layers._base import LAYERS, Layer
from ..layers._serialization import deserialize as deserialize_layer
from ..layers._serialization import serialize as serialize_layer
from . import _format
from ._network import Network

__all__ = ["Sequential"]


@LAYERS.register("Sequential")
class Sequential(Network):
    """A linear stack of layers: ``Sequential([Dense(64, input_shape=(10,)), ...])`` or
    ``model.add(layer)``.

    Args:
        layers: layers to add, in order.
        name: the model's name (default 'sequential_1', ...).
        seed: seeds the model's random generators (weight initialization of layers
            without their own seed, dropout masks, ``fit``'s shuffling). None draws them
            from ``gradstep.models.set_random_seed``'s source, or from the operating
            system when no seed was set. The training generator's state is saved by
            ``save``, so a resumed run shuffles as an uninterrupted one would.
    """

    def __init__(
        self,
        layers: Iterable[Layer] | None = None,
        name: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(name=name, seed=seed)
        self.layers: list[Layer] = []
        self._graph_input: Any = None
        for layer in layers or []:
            self.add(layer)

    # ---- structure -------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append ``layer``; builds it now when the input shape is known. A functional
        ``Model`` or another ``Sequential`` may be added as a layer."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"The added layer must be an instance of class Layer. Found: {layer!r}"
            )
        from ..layers._input import InputLayer

        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("an InputLayer can only be the first layer added")
            self._input_layer_shape = layer.batch_input_shape
            return
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f'"{layer.name}" is already the name of a layer in this model.'
            )
        if layer.built and not isinstance(layer, Network):
            raise ValueError(
                f"layer {layer.name} already belongs to a model; make a new one"
            )
        if isinstance(layer, Network) and not layer.built:
            raise ValueError(f"model {layer.name} must be built before it is added")
        shape = getattr(self, "_input_layer_shape", None)
        if not self.layers and (layer.batch_input_shape is not None or shape):
            if not layer.built:
                layer.build(shape or layer.batch_input_shape, self._rngs)
        elif self.layers and self.layers[-1].built:
            if not layer.built:
                layer.build(self.layers[-1].output_shape, self._rngs)
        self.layers.append(layer)
        self._version += 1
        if self.built:
            self._layout()

    def pop(self) -> None:
        """Remove the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self.layers.pop()
        self._version += 1
        self._layout()

    def build(self, input_shape: Sequence[int | None] | None = None, rngs: Any = None):
        """Build every layer for inputs of ``input_shape`` (batch axis first)."""
        if not self.layers:
            raise TypeError(
                "Sequential model cannot be built: model is empty. Add some layers first."
            )
        if self.built:
            return
        shape = self.layers[0].batch_input_shape
        if shape is None:
            if input_shape is None:
                raise ValueError(
                    "This model has not yet been built: pass input_shape (or input_dim) to "
                    "the first layer, or call fit/predict, or build(input_shape)."
                )
            shape = (None, *tuple(input_shape)[1:])
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, self._rngs)
            shape = layer.output_shape
        self._layout()

    def _build_from(self, array: np.ndarray) -> None:
        self.build((None, *array.shape[1:]))
        self._recompile_for_build()

    @property
    def input_names(self) -> list[str]:  # type: ignore[override]
        return [f"{self.layers[0].name}_input"] if self.layers else ["input"]

    @property
    def output_names(self) -> list[str]:  # type: ignore[override]
        return [self.layers[-1].name] if self.layers else []

    def _symbolic(self) -> tuple[Any, Any]:
        """Keras 2.2.4's graph of the model, made when first asked for (``input``,
        ``output``): an Input named as Keras names it, then each layer called in turn
        on the previous output, so that ``layer.input``/``layer.output`` exist too."""
        from ..layers._input import Input

        if not self.built:
            raise AttributeError(
                f"Sequential model {self.name} is not built yet, so it has no input or "
                "output tensor: give the first layer an input_shape, or build it"
            )
        if self._graph_input is None:
            self._graph_input = Input(
                batch_shape=self._input_shapes()[0],
                name=self.input_names[0],
                dtype=self.dtype,
            )
        tensor = self._graph_input
        for layer in self.layers:
            node = layer._nodes[0] if layer._nodes else None
            if node is not None and not node.multi and node.inputs == [tensor]:
                tensor = node.outputs[0]
            else:  # a layer added since, or one called elsewhere (which raises)
                tensor = layer(tensor)
        return self._graph_input, tensor

    def _symbolic_inputs(self):
        return [self._symbolic()[0]]

    def _symbolic_outputs(self):
        return [self._symbolic()[1]]

    @property
    def inputs(self) -> list[Any]:
        """``[model.input]``, as Keras's."""
        return self._symbolic_inputs()

    @property
    def outputs(self) -> list[Any]:
        """``[model.output]``, as Keras's."""
        return self._symbolic_outputs()

    def _input_shapes(self):
        first = self.layers[0]
        return [first.batch_input_shape or first.input_shape]

    def _output_shapes(self):
        return [self.layers[-1].output_shape]

    # ---- passes ----------------------------------------------------------------------
    def _run_forward(self, xs, training):
        x = xs[0]
        for layer in self.layers:
            x = layer.forward(x, training)
        return [x]

    def _output_activations(self):
        return [self._fusable_activation(self.layers[-1])]

    def _run_backward(self, dys, need_dx, fused=()):
        dy = dys[0]
        if dy is None:
            return None
        last = len(self.layers) - 1
        first = 0
        if not need_dx:
            first = next(
                (i for i, layer in enumerate(self.layers) if self._trains(layer)),
                len(self.layers),
            )
        for i in range(last, first - 1, -1):
            dy = self.layers[i].backward(
                dy,
                need_dx or i > first,
                activated=not (bool(fused) and fused[0] and i == last),
            )
        return [dy] if need_dx else None

    # ---- Sequential's prediction helpers (Keras 2.2.4) ---------------------------------
    def predict_proba(
        self, x: Any, batch_size: int = 32, verbose: int = 0
    ) -> np.ndarray:
        """``predict``, warning when the outputs are not in [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn(
                "Network returning invalid probability values. The last layer might not "
                "normalize predictions into probabilities (like softmax or sigmoid "
                "would).",
                stacklevel=2,
            )
        return preds

    def predict_classes(
        self, x: Any, batch_size: int = 32, verbose: int = 0
    ) -> np.ndarray:
        """The argmax of the outputs, or (output > 0.5) as int32 for one output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # ---- configs and saving ----------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """{'name': ..., 'layers': [...]} (Keras 2.2.4), plus the built input shape."""
        config: dict[str, Any] = {
            "name": self.name,
            "layers": [serialize_layer(layer) for layer in self.layers],
        }
        if self.built and self.layers[0].batch_input_shape is None:
            config["build_input_shape"] = list(self.input_shape)
        return config

    @staticmethod
    def weight_shapes_of(
        config: Any, custom_objects: Mapping[str, Any] | None = None
    ) -> list[tuple[int, ...]] | None:
        """The shapes of the weights a model built from ``config`` would have, found
        without building it (nothing allocated); None when a layer cannot tell, or the
        config does not say its input shape."""
        from ._shapes import weight_shapes

        return weight_shapes("Sequential", config, custom_objects)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        custom_objects: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> Sequential:
        """A new model from ``get_config()``'s output (registered layers only)."""
        if isinstance(config, list):  # Keras 2.2.0-2.2.2 wrote a bare list
            config = {"layers": config}
        if not isinstance(config, Mapping) or not isinstance(
            config.get("layers"), list
        ):
            raise ValueError(
                f"Sequential config must be a dict with a 'layers' list: {config!r}"
            )
        model = cls(name=config.get("name"), seed=seed)
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config, custom_objects))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def save(
        self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
    ) -> None:
        """Write architecture, weights, optimizer config and state, and the training
        generator's state to one .npz file (arrays + JSON, no pickle), atomically."""
        self._claim()
        _format.save_model(self, filepath, overwrite, include_optimizer)
