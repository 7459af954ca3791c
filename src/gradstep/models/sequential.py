"""``Sequential``: a linear stack of layers with Keras 2.2's model API.

Weights and gradients live in two flat buffers of one dtype with the same layout (layer
order, then each layer's weights in order), so the optimizer gets every (gradient,
weight) pair of a batch in ONE ``apply_gradients`` call, with the same weight arrays at
every step: clipnorm is global across the model, and an engine can update the whole
model in one pass over memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import backend, losses
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._seeding import check_seed, new_seed_sequence
from ..kernels.flat import flat_arrays
from ..layers._base import Layer, Rngs, unique_name
from ..layers._serialization import deserialize as deserialize_layer
from ..layers._serialization import serialize as serialize_layer
from . import _format, _training

__all__ = ["Sequential"]

_NOT_COMPILED = (
    "You must compile a model before training/testing. Use "
    "`model.compile(optimizer, loss)`."
)


class Sequential:
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
        self.name = name or unique_name("sequential")
        self.layers: list[Layer] = []
        init_seq, train_seq = new_seed_sequence(check_seed(seed)).spawn(2)
        self._rngs = Rngs(
            np.random.default_rng(init_seq), np.random.default_rng(train_seq)
        )
        self.optimizer: Any = None
        self.loss: losses.Loss | None = None
        self._metric_specs: list[Any] = []
        self._metrics: list[tuple[str, Any]] | None = None
        self.stop_training = False
        self.history: Any = None
        self._params: list[np.ndarray] = []
        self._grads: list[np.ndarray] = []
        self._version = 0
        self._compiled_version: int | None = None
        for layer in layers or []:
            self.add(layer)

    # ---- structure -----------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append ``layer``; builds it now when the input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"The added layer must be an instance of class Layer. Found: {layer!r}"
            )
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f'"{layer.name}" is already the name of a layer in this model.'
            )
        if layer.built:
            raise ValueError(
                f"layer {layer.name} already belongs to a model; make a new one"
            )
        if not self.layers and layer.batch_input_shape is not None:
            layer.build(layer.batch_input_shape, self._rngs)
        elif self.layers and self.layers[-1].built:
            layer.build(self.layers[-1].output_shape, self._rngs)
        self.layers.append(layer)
        self._version += 1
        if layer.built:
            self._layout()

    def pop(self) -> None:
        """Remove the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self.layers.pop()
        self._version += 1
        self._layout()

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
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

    def _layout(self) -> None:
        """Move every weight into one flat buffer and give each a gradient view in a
        second buffer of the same layout."""
        if not self.built:
            return
        shapes = [w.shape for layer in self.layers for w in layer.weights]
        dtypes = {layer.dtype for layer in self.layers if layer.weights}
        if len(dtypes) > 1:
            raise ValueError(
                f"all layers of a model must have one dtype, got {sorted(dtypes)}"
            )
        dtype = dtypes.pop() if dtypes else (self.layers[0].dtype or backend.floatx())
        _, params = flat_arrays(shapes, dtype)
        _, grads = flat_arrays(shapes, dtype)
        start = 0
        for layer in self.layers:
            n = len(layer.weights)
            layer.bind(params[start : start + n], grads[start : start + n])
            start += n
        self._params, self._grads = params, grads
        self.dtype = dtype

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        return self.layers[0].input_shape if self.built else None

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return self.layers[-1].output_shape if self.built else None

    # ---- weights -------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array (views of the model's buffer; do not keep across add)."""
        return list(self._params)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers if layer.trainable for w in layer.weights]

    def _trainable_pairs(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        grads = [g for layer in self.layers if layer.trainable for g in layer.grads]
        return grads, self.trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, layer by layer (kernel before bias)."""
        return [w.copy() for w in self._params]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign ``get_weights()``-shaped arrays; every shape is checked first."""
        weights = list(weights)
        if len(weights) != len(self._params):
            raise ValueError(
                f"You called `set_weights(weights)` on model {self.name} with a weight list "
                f"of length {len(weights)}, but the model was expecting "
                f"{len(self._params)} weights."
            )
        arrays = []
        for i, (w, new) in enumerate(zip(self._params, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(
                    f"Layer weight shape {w.shape} not compatible with provided weight "
                    f"shape {new.shape} (weight {i})"
                )
            if not np.issubdtype(new.dtype, np.number):
                raise ValueError(f"weight {i} has non-numeric dtype {new.dtype}")
            arrays.append(new)
        for w, new in zip(self._params, arrays):
            np.copyto(w, new, casting="unsafe")

    def count_params(self) -> int:
        """The number of weights (scalars) in the model."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on {self.name}, but the model has not "
                "been built. Call build(input_shape) or fit first."
            )
        return int(sum(w.size for w in self._params))

    # ---- compile -------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any,
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        loss_weights: Any = None,
        sample_weight_mode: Any = None,
        weighted_metrics: Any = None,
        target_tensors: Any = None,
    ) -> None:
        """Set the optimizer (instance, name, config dict, or any object with
        ``apply_gradients`` such as a wrapped native optimizer), the loss (name or
        ``Loss``) and metrics ('accuracy', metric or loss names, or callables)."""
        for key, value in (
            ("loss_weights", loss_weights),
            ("sample_weight_mode", sample_weight_mode),
            ("weighted_metrics", weighted_metrics),
            ("target_tensors", target_tensors),
        ):
            if value is not None:
                raise ValueError(
                    f"compile(): {key} is not supported by gradstep; pass None"
                )
        if loss is None:
            raise ValueError(
                "compile() needs a loss, e.g. loss='categorical_crossentropy'; known "
                f"losses: {', '.join(losses.names())}"
            )
        if isinstance(loss, (list, dict)):
            raise ValueError(
                "a Sequential model has one output: pass one loss, not a list"
            )
        new_loss = losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, dict)) or not isinstance(metrics, Sequence):
            raise TypeError(
                "Type of `metrics` argument not understood. Expected a list, got "
                f"{type(metrics).__name__}"
            )
        for metric in metrics:
            if not (
                isinstance(metric, str)
                and metric in ("acc", "accuracy", "ce", "crossentropy")
            ):
                metrics_module.get(metric)
        new_optimizer = self._resolve_optimizer(optimizer)
        self.optimizer, self.loss = new_optimizer, new_loss
        self._metric_specs, self._metrics = list(metrics), None
        self._compiled_version = self._version

    @staticmethod
    def _resolve_optimizer(optimizer: Any) -> Any:
        if not isinstance(optimizer, optimizers_module.Optimizer) and hasattr(
            optimizer, "apply_gradients"
        ):
            return optimizer
        return optimizers_module.get(optimizer)

    @property
    def metrics_names(self) -> list[str]:
        """'loss' then the metric names, as in the History and evaluate's list."""
        if self.loss is None:
            return []
        return ["loss", *(name for name, _ in self._resolved_metrics())]

    def _resolved_metrics(self) -> list[tuple[str, Any]]:
        if self._metrics is None:
            shape = self.output_shape or (None, None)
            self._metrics = [
                metrics_module.resolve(m, self.loss, shape) for m in self._metric_specs
            ]
        return self._metrics

    def _check_compiled(self) -> None:
        if self.loss is None or self.optimizer is None:
            raise RuntimeError(_NOT_COMPILED)
        if self._compiled_version != self._version:
            raise RuntimeError(
                "The model's layers changed after compile(); call compile() again"
            )

    # ---- one batch -----------------------------------------------------------------
    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def _outputs(self, y: np.ndarray, p: np.ndarray) -> tuple[list[float], np.ndarray]:
        score = self.loss.score(y, p)
        penalty = sum(layer.penalty() for layer in self.layers)
        values = [float(np.mean(score)) + penalty]
        for _, fn in self._resolved_metrics():
            values.append(float(np.mean(fn(y, p))))
        return values, score

    def _backward(self, y: np.ndarray, p: np.ndarray, count: int) -> None:
        last = self.layers[-1]
        fused = (
            self.loss.fused_activation is not None
            and getattr(getattr(last, "activation", None), "name", None)
            == self.loss.fused_activation
        )
        grad = self.loss.fused_gradient(y, p) if fused else self.loss.gradient(y, p)
        dy = np.asarray(grad, dtype=p.dtype)
        if not dy.flags.writeable or dy is p or dy.base is not None:
            dy = dy.copy()
        dy *= p.dtype.type(1.0 / count) if count != 1 else 1
        first = next(
            (
                i
                for i, layer in enumerate(self.layers)
                if layer.trainable and layer.weights
            ),
            len(self.layers),
        )
        for i in range(len(self.layers) - 1, first - 1, -1):
            dy = self.layers[i].backward(
                dy,
                i > first,
                activated=not (fused and i == len(self.layers) - 1),
            )

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> list[float]:
        p = self._forward(x, training=True)
        values, score = self._outputs(y, p)
        self._backward(y, p, score.size)
        grads, params = self._trainable_pairs()
        if params:
            self.optimizer.apply_gradients(zip(grads, params))
        return values

    def _test_step(self, x: np.ndarray, y: np.ndarray) -> list[float]:
        return self._outputs(y, self._forward(x, training=False))[0]

    # ---- public training API (loops in _training) -----------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: Any = None,
        validation_steps: Any = None,
    ) -> Any:
        """Train for ``epochs`` epochs (Keras 2.2.4's fit loop); returns a ``History``.

        Shuffling draws a fresh permutation each epoch from the model's training
        generator (see ``seed``); ``shuffle='batch'`` shuffles whole batches;
        ``shuffle=False`` keeps the order. The validation split takes the last samples,
        before shuffling.
        """
        for key, value in (
            ("class_weight", class_weight),
            ("sample_weight", sample_weight),
            ("steps_per_epoch", steps_per_epoch),
            ("validation_steps", validation_steps),
        ):
            if value is not None:
                raise ValueError(
                    f"fit(): {key} is not supported by gradstep; pass None"
                )
        return _training.fit(
            self,
            x,
            y,
            batch_size,
            epochs,
            verbose,
            callbacks,
            validation_split,
            validation_data,
            shuffle,
            initial_epoch,
        )

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int = 1,
        sample_weight: Any = None,
        steps: Any = None,
    ) -> Any:
        """The loss (and metrics) on ``x, y``: a float, or a list when there are metrics."""
        if sample_weight is not None or steps is not None:
            raise ValueError("evaluate(): sample_weight and steps are not supported")
        return _training.evaluate(self, x, y, batch_size, verbose)

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int = 0, steps: Any = None
    ) -> np.ndarray:
        """The model's outputs for ``x`` (inference mode: no dropout)."""
        if steps is not None:
            raise ValueError("predict(): steps is not supported; pass None")
        return _training.predict(self, x, batch_size, verbose)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
    ) -> Any:
        """One optimizer step on one batch; the loss (and metrics) before the step."""
        if sample_weight is not None or class_weight is not None:
            raise ValueError("train_on_batch(): sample/class weights are not supported")
        x, y = _training.prepare(self, x, y)
        return _training.unwrap(self._train_step(x, y))

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        """The loss (and metrics) on one batch, without training."""
        if sample_weight is not None:
            raise ValueError("test_on_batch(): sample_weight is not supported")
        x, y = _training.prepare(self, x, y)
        return _training.unwrap(self._test_step(x, y))

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """The outputs for one batch."""
        return self.predict(x, batch_size=max(len(np.asarray(x)), 1))

    # ---- description, configs, saving ------------------------------------------------
    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
    ) -> None:
        """Print the layers, output shapes and parameter counts as Keras does."""
        from ._summary import print_summary

        print_summary(self, line_length, positions, print_fn)

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
        if isinstance(config, list):  # Keras 2.2.0-2.2.2 wrote a bare list
            config = {"layers": config}
        if not isinstance(config, Mapping) or not isinstance(
            config.get("layers"), list
        ):
            raise ValueError(
                f"Sequential config must be a dict with a 'layers' list: {config!r:.200}"
            )
        layers = [deserialize_layer(c, custom_objects) for c in config["layers"]]
        if not layers:
            return []
        shape = layers[0].batch_input_shape
        if shape is None and config.get("build_input_shape") is not None:
            shape = (None, *tuple(config["build_input_shape"])[1:])
        if shape is None:
            return None
        shapes: list[tuple[int, ...]] = []
        for layer in layers:
            declared = layer.weight_shapes(shape)
            if declared is None:
                return None
            shapes.extend(declared.values())
            shape = layer.compute_output_shape(shape)
        return shapes

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

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON: {'class_name': 'Sequential', 'config': ...}."""
        import json

        return json.dumps(
            {
                "class_name": "Sequential",
                "config": self.get_config(),
                "backend": "numpy",
            },
            **kwargs,
        )

    def save(
        self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
    ) -> None:
        """Write architecture, weights, optimizer config and state, and the training
        generator's state to one .npz file (arrays + JSON, no pickle), atomically."""
        _format.save_model(self, filepath, overwrite, include_optimizer)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write only the weights (one .npz file, atomically)."""
        _format.save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Read weights written by ``save_weights`` or ``save``; the file is checked
        completely before any weight changes."""
        _format.load_weights(self, filepath)

    def __repr__(self) -> str:
        return f"<Sequential {self.name}: {len(self.layers)} layers>"
