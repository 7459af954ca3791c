"""The model base shared by ``Sequential`` and ``Model``: weights in flat buffers,
compile, one batch forward and backward, the Keras 2.2 training API.

Weights and gradients live in two buffers of one dtype with the same layout: the weights
the optimizer trains first (one contiguous block, so an engine updates them in one pass
and clipnorm is global), then the others (BatchNormalization's moving statistics, frozen
layers). ``compile`` lays them out anew (trainability counts from then on, as in Keras)
and hands the optimizer the trainable block in ONE ``apply_gradients`` call per batch.
A model shares its layers with any model nested in it or built from the same tensors:
whichever model runs takes the layers' weights into its own buffers first (values
copied; each model keeps its buffers, so its optimizer stays bound to them).

A subclass defines ``layers``, ``input_names``/``output_names``, ``_input_shapes()``,
``_output_shapes()``, ``_run_forward(xs, training)`` and ``_run_backward(dys, need_dx,
fused)``, ``_output_activations()``, ``_build_from(array)`` and the configs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import backend
from .. import optimizers as optimizers_module
from .._seeding import check_seed, new_seed_sequence
from ..kernels.flat import flat_arrays
from ..layers._base import Layer, Rngs, _snake, unique_name
from ..optimizers._native import NativeOptimizer
from . import _engine
from ._api import ModelAPI

__all__ = ["Network"]

# optimizers that compile rebinds to the model's weights when bound to others
_REBINDABLE = (optimizers_module.Optimizer, NativeOptimizer)

_NOT_COMPILED = (
    "You must compile a model before training/testing. Use "
    "`model.compile(optimizer, loss)`."
)


class Network(ModelAPI, Layer):
    """Base class of ``Sequential`` and ``Model`` (itself a layer: models nest); the
    public fit/evaluate/predict methods are ``ModelAPI``'s."""

    config_takes_custom_objects = True

    def __init__(self, name: str | None = None, seed: int | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"model name must be a non-empty string, got {name!r}")
        self.name = name or unique_name(_snake(type(self).__name__))
        self.trainable = True
        self.dtype: str | None = None
        self.batch_input_shape = None
        self._buffers = {}
        self.constraints = {}
        self._nodes = []
        init_seq, train_seq = new_seed_sequence(check_seed(seed)).spawn(2)
        self._rngs = Rngs(
            np.random.default_rng(init_seq), np.random.default_rng(train_seq)
        )
        self.optimizer: Any = None
        self._compiled: _engine.Compiled | None = None
        self.stop_training = False
        self.history: Any = None
        self._views: list[tuple[Layer, list[np.ndarray], list[np.ndarray]]] = []
        self._params: list[np.ndarray] = []
        self._train_params: list[np.ndarray] = []
        self._train_grads: list[np.ndarray] = []
        self._train_constraints: list[Any] = []
        self._update_flags: list[tuple[Layer, bool]] = []
        self._version = 0
        self._compiled_version: int | None = None

    # ---- what a subclass defines -------------------------------------------------------
    layers: list[Layer]
    input_names: list[str]
    output_names: list[str]

    def _input_shapes(self) -> list[tuple[int | None, ...]]:
        raise NotImplementedError

    def _output_shapes(self) -> list[tuple[int | None, ...]]:
        raise NotImplementedError

    def _run_forward(self, xs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        raise NotImplementedError

    def _run_backward(
        self, dys: list[np.ndarray | None], need_dx: bool, fused: Sequence[bool] = ()
    ) -> list[np.ndarray] | None:
        raise NotImplementedError

    def _symbolic_inputs(self) -> list[Any]:
        """The model's own input tensors (``input``)."""
        raise NotImplementedError

    def _symbolic_outputs(self) -> list[Any]:
        """The model's own output tensors (``output``)."""
        raise NotImplementedError

    # ---- Keras's model.input and model.output ------------------------------------------
    @property  # type: ignore[override]
    def input(self) -> Any:
        """The input tensor (a list for several), as Keras's ``model.input``, for
        ``Model(model.input, model.get_layer(name).output)``. A model called as a layer
        keeps its own tensors here, as Keras's (its node 0)."""
        tensors = self._symbolic_inputs()
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @input.setter
    def input(self, value: Any) -> None:  # Layer.__call__: the call's are in its node
        pass

    @property  # type: ignore[override]
    def output(self) -> Any:
        """The output tensor (a list for several), as Keras's ``model.output``."""
        tensors = self._symbolic_outputs()
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @output.setter
    def output(self, value: Any) -> None:
        pass

    @staticmethod
    def _trains(layer: Layer) -> bool:
        """Whether the model computing gradients now trains a weight of ``layer`` (or of
        a layer inside it), as its ``compile`` fixed it: Keras 2.2.4 keeps training the
        weights collected at compile when ``trainable`` changes after it. The backward
        passes skip what feeds only layers for which this is False."""
        if isinstance(layer, Network):
            return any(Network._trains(leaf) for leaf, _ in layer._leaves())
        return layer.holds_weights and getattr(layer, "grads_wanted", layer.trainable)

    @staticmethod
    def _fusable_activation(layer: Layer) -> str | None:
        """The activation name of ``layer`` when its backward can start from the
        gradient before its activation (a plain layer with no activity regularizer)."""
        if isinstance(layer, Network) or getattr(layer, "activity_regularizer", None):
            return None
        return getattr(getattr(layer, "activation", None), "name", None)

    def _output_activations(self) -> list[str | None]:
        """Per output: the activation name of the layer producing it when that layer
        can take the loss gradient before its activation (the fused softmax/sigmoid
        crossentropy), else None."""
        return [None] * len(self.output_names)

    # ---- a Layer's attributes --------------------------------------------------------
    @property
    def built(self) -> bool:  # type: ignore[override]
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @built.setter
    def built(self, value: bool) -> None:
        pass

    @property
    def uses_learning_phase(self) -> bool:  # type: ignore[override]
        return any(leaf.uses_learning_phase for leaf, _ in self._leaves())

    @property
    def input_shape(self) -> Any:  # type: ignore[override]
        if not self.built:
            return None
        shapes = self._input_shapes()
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:  # type: ignore[override]
        if not self.built:
            return None
        shapes = self._output_shapes()
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = self._output_shapes()
        return shapes[0] if len(shapes) == 1 else list(shapes)

    @property
    def weight_names(self) -> list[str]:  # type: ignore[override]
        return [
            f"{leaf.name}/{n}" for leaf, _ in self._leaves() for n in leaf.weight_names
        ]

    @property
    def grads(self) -> list[np.ndarray]:  # type: ignore[override]
        return [g for leaf, _ in self._leaves() for g in leaf.grads]

    def forward(self, x: Any, training: bool) -> Any:
        outs = self._run_forward(x if isinstance(x, list) else [x], training)
        return outs[0] if len(outs) == 1 else outs

    def backward(self, dy: Any, need_dx: bool, activated: bool = True) -> Any:
        dxs = self._run_backward(dy if isinstance(dy, list) else [dy], need_dx)
        if not need_dx or dxs is None:
            return None
        return dxs[0] if len(dxs) == 1 else dxs

    def penalty(self) -> float:
        return sum(leaf.penalty() for leaf, _ in self._leaves())

    @property
    def losses(self) -> list[float]:  # type: ignore[override]
        """The regularization penalties of every layer (weights, and activity of the
        last forward pass), as floats."""
        return [v for leaf, _ in self._leaves() for v in leaf.losses]

    @property
    def holds_weights(self) -> bool:
        """Whether any layer inside has weights (without taking them into this model's
        buffers, as ``weights`` does)."""
        return any(leaf.weight_names for leaf, _ in self._leaves())

    # ---- layers and their weights ----------------------------------------------------
    def _leaves(self) -> list[tuple[Layer, bool]]:
        """Every layer holding weights or state, nested models expanded, in order, with
        whether it trains (its own flag and every enclosing model's)."""
        out: list[tuple[Layer, bool]] = []
        for layer in self.layers:
            if isinstance(layer, Network):
                out.extend(
                    (leaf, t and self.trainable and layer.trainable)
                    for leaf, t in layer._leaves()
                )
            else:
                out.append((layer, self.trainable and layer.trainable))
        seen: set[int] = set()
        for leaf, _ in out:
            if id(leaf) in seen:
                raise ValueError(
                    f"layer {leaf.name} appears twice in model {self.name}; gradstep does "
                    "not share layers"
                )
            seen.add(id(leaf))
        return out

    def _layout(self) -> None:
        """New buffers: the trainable weights first (contiguous), then the others; each
        layer's weights and gradients become views of them (values copied)."""
        if not self.built:
            return
        leaves = self._leaves()
        dtypes = {leaf.dtype for leaf, _ in leaves if leaf.weights}
        if len(dtypes) > 1:
            raise ValueError(
                f"all layers of a model must have one dtype, got {sorted(dtypes)}"
            )
        first = next((leaf.dtype for leaf, _ in leaves if leaf.dtype), None)
        dtype = dtypes.pop() if dtypes else (first or backend.floatx())
        entries = []
        self._update_flags = [(leaf, trains) for leaf, trains in leaves]
        for leaf, trains in leaves:
            names = set(leaf.trainable_weight_names) if trains else set()
            for k, name in enumerate(leaf.weight_names):
                entries.append((leaf, k, name in names))
        order = [e for e in entries if e[2]] + [e for e in entries if not e[2]]
        shapes = [leaf.weights[k].shape for leaf, k, _ in order]
        _, params = flat_arrays(shapes, dtype)
        _, grads = flat_arrays(shapes, dtype)
        slot = {(id(leaf), k): i for i, (leaf, k, _) in enumerate(order)}
        self._views = []
        for leaf, _ in leaves:
            idx = [slot[(id(leaf), k)] for k in range(len(leaf.weights))]
            wv, gv = [params[i] for i in idx], [grads[i] for i in idx]
            leaf.bind(wv, gv)
            self._views.append((leaf, wv, gv))
        n_train = sum(1 for e in order if e[2])
        self._params = [params[slot[(id(leaf), k)]] for leaf, k, _ in entries]
        self._train_params, self._train_grads = params[:n_train], grads[:n_train]
        self._train_constraints = [
            leaf.constraints.get(leaf.weight_names[k]) for leaf, k, _ in order[:n_train]
        ]
        self.dtype = dtype

    def _claim(self) -> None:
        """Take the layers' weights back into this model's buffers when another model
        sharing them ran since (values copied; no-op otherwise)."""
        for leaf, wv, gv in self._views:
            if leaf.weights and leaf.weights[0] is not wv[0]:
                leaf.bind(wv, gv)

    @property
    def weights(self) -> list[np.ndarray]:  # type: ignore[override]
        """Every weight, layer by layer, as ``get_weights`` orders them (views of the
        model's buffer; do not keep them across add/compile)."""
        self._claim()
        return [w for leaf, _ in self._leaves() for w in leaf.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:  # type: ignore[override]
        self._claim()
        return [w for leaf, t in self._leaves() if t for w in leaf.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:  # type: ignore[override]
        self._claim()
        out = []
        for leaf, t in self._leaves():
            out += leaf.non_trainable_weights if t else leaf.weights
        return out

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, layer by layer (each layer's in its order)."""
        self._claim()
        return [w.copy() for leaf, _ in self._leaves() for w in leaf.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign ``get_weights()``-shaped arrays; every shape is checked first."""
        self._claim()
        targets = [w for leaf, _ in self._leaves() for w in leaf.weights]
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(
                f"You called `set_weights(weights)` on model {self.name} with a weight list "
                f"of length {len(weights)}, but the model was expecting {len(targets)} "
                "weights."
            )
        arrays = []
        for i, (w, new) in enumerate(zip(targets, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(
                    f"Layer weight shape {w.shape} not compatible with provided weight "
                    f"shape {new.shape} (weight {i})"
                )
            if not np.issubdtype(new.dtype, np.number):
                raise ValueError(f"weight {i} has non-numeric dtype {new.dtype}")
            arrays.append(new)
        for w, new in zip(targets, arrays):
            np.copyto(w, new, casting="unsafe")

    def count_params(self) -> int:
        """The number of weights (scalars) in the model."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on {self.name}, but the model has not "
                "been built. Call build(input_shape) or fit first."
            )
        return int(sum(leaf.count_params() for leaf, _ in self._leaves()))

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of ``layers``."""
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise ValueError(f"get_layer: index must be an integer, got {index!r}")
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}")

    # ---- compile -----------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any,
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        sample_weight_mode: Any = None,
        weighted_metrics: Any = None,
        target_tensors: Any = None,
        **kwargs: Any,
    ) -> None:
        """Set the optimizer (instance, name, config dict, or any object with
        ``apply_gradients``), the loss (a name or ``Loss``; a list or dict by output name
        for several outputs), ``loss_weights`` (list or dict), ``metrics`` and
        ``weighted_metrics`` (a list for every output, or a dict by output name).

        A gradstep optimizer already bound to weights is rebound (``rebind()``: fresh
        slots, its iteration counter carries on), as Keras 2.2.4 does when it compiles
        an optimizer into a model; so is a wrapped native one (``TorchOptimizer``,
        ``OptaxOptimizer``: a fresh framework state, lr and counter carried on).
        Trainability (``layer.trainable``) is read now."""
        if kwargs:
            raise TypeError(
                f"compile(): unexpected keyword argument {sorted(kwargs)[0]!r}"
            )
        if sample_weight_mode is not None:
            raise ValueError(
                "compile(): sample_weight_mode must be None (per-sample weights); "
                f"'temporal' and others are not supported, got {sample_weight_mode!r}"
            )
        if target_tensors is not None:
            raise ValueError("compile(): target_tensors is not supported; pass None")
        if metrics is not None and not isinstance(metrics, (list, tuple, Mapping)):
            raise TypeError(
                "Type of `metrics` argument not understood. Expected a list or "
                f"dictionary, found: {type(metrics).__name__}"
            )
        if not self.built:
            shapes = [(None,)] * len(self.output_names or ["output"])
        else:
            shapes = self._output_shapes()
        names = self.output_names if self.built else [self._last_name()]
        compiled = _engine.Compiled(
            names, shapes, loss, metrics, loss_weights, weighted_metrics
        )
        new_optimizer = self._resolve_optimizer(optimizer)
        if isinstance(new_optimizer, _REBINDABLE) and new_optimizer.built:
            new_optimizer.rebind()
        self.optimizer, self._compiled = new_optimizer, compiled
        self._compiled_version = self._version
        if self.built:
            self._layout()

    def _last_name(self) -> str:
        return self.layers[-1].name if self.layers else "output"

    @staticmethod
    def _resolve_optimizer(optimizer: Any) -> Any:
        if not isinstance(optimizer, optimizers_module.Optimizer) and hasattr(
            optimizer, "apply_gradients"
        ):
            return optimizer
        return optimizers_module.get(optimizer)

    @property
    def loss(self) -> Any:
        """The compiled loss: one ``Loss``, or the list per output (None before)."""
        if self._compiled is None:
            return None
        found = [o.loss for o in self._compiled.outputs]
        return found[0] if len(found) == 1 and not self._compiled.several else found

    @property
    def loss_functions(self) -> list[Any]:
        return (
            [] if self._compiled is None else [o.loss for o in self._compiled.outputs]
        )

    @property
    def metrics_names(self) -> list[str]:
        """'loss', the per-output losses, then the metrics, as in History and evaluate."""
        if self._compiled is None:
            return []
        return list(self._compiled.metrics_names)

    @property
    def _metric_specs(self) -> list[Any]:
        """The ``metrics`` list given to compile (what a saved file records)."""
        if self._compiled is None:
            return []
        metrics = self._compiled.specs[1]
        return list(metrics) if isinstance(metrics, (list, tuple)) else []

    def _trainable_pairs(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The gradients and weights the optimizer gets, as fixed at compile."""
        self._claim()
        return list(self._train_grads), list(self._train_params)

    def _unreached_layers(self) -> list[Layer]:
        """Layers with weights to train that no loss depends on (default: none)."""
        return []

    def _check_trainable(self) -> None:
        """Before training: an optimizer rebound to another model since compile, and
        weights no loss depends on (Keras 2.2.4 refuses them: no gradient), are refused
        before anything changes."""
        bound = getattr(getattr(self.optimizer, "_binding", None), "params", None)
        if (
            isinstance(self.optimizer, optimizers_module.Optimizer)
            and bound is not None
        ):
            same = len(bound) == len(self._train_params) and all(
                a is b for a, b in zip(bound, self._train_params)
            )
            if not same:
                raise ValueError(
                    f"the optimizer of model {self.name} was compiled into another model "
                    "since (compile rebinds it: fresh slots for that model's weights); "
                    "compile this model again to train it, or give each model its own "
                    "optimizer (Keras keeps one set of slots per model)"
                )
        unreached = self._unreached_layers()
        if unreached:
            names = ", ".join(layer.name for layer in unreached)
            raise ValueError(
                f"the weights of layer(s) {names} do not affect any loss (they feed only "
                "outputs compiled without a loss); Keras 2.2.4 cannot train such a model "
                "either: give those outputs a loss or set the layers' trainable = False "
                "and compile again"
            )

    def _build_from(self, array: np.ndarray) -> None:
        raise ValueError(f"model {self.name} is not built")

    def _check_compiled(self) -> _engine.Compiled:
        if self._compiled is None or self.optimizer is None:
            raise RuntimeError(_NOT_COMPILED)
        if self._compiled_version != self._version:
            raise RuntimeError(
                "The model's layers changed after compile(); call compile() again"
            )
        return self._compiled

    def _recompile_for_build(self) -> None:
        """Called once an uncompiled-shape model gets built (Sequential without an
        input shape): resolve the metrics for the real output shapes."""
        if self._compiled is not None:
            loss, metrics, loss_weights, weighted = self._compiled.specs
            self._compiled = _engine.Compiled(
                self.output_names,
                self._output_shapes(),
                loss,
                metrics,
                loss_weights,
                weighted,
            )
            self._compiled_version = self._version
            self._layout()

    # ---- one batch ---------------------------------------------------------------------
    def _compute_gradients(
        self,
        xs: list[np.ndarray],
        ys: list[np.ndarray],
        sws: list[np.ndarray | None],
    ) -> list[float]:
        """Forward (training mode), loss and backward of one batch: the values named by
        ``metrics_names``; the trainable weights' gradients are left in their buffers."""
        compiled = self._compiled
        self._claim()  # a model sharing these layers may have run (even in a callback)
        for leaf, trains in self._update_flags:  # as fixed at compile:
            leaf.updates_enabled = trains  # BatchNormalization's moving stats
            leaf.grads_wanted = trains  # the weights the optimizer gets (see _trains)
        ps = self._run_forward(xs, training=True)
        acts = self._output_activations()
        fused = [False] * len(ps)
        for spec in compiled.outputs:
            act = acts[spec.index]
            fused[spec.index] = act is not None and act == spec.loss.fused_activation
        values, dys = compiled.evaluate(ys, ps, sws, self.penalty(), True, fused)
        self._run_backward(dys, False, fused)
        return values

    def _batch_loss(
        self,
        xs: list[np.ndarray],
        ys: list[np.ndarray],
        sws: list[np.ndarray | None],
        training: bool = True,
    ) -> float:
        """The training loss of one batch (forward only)."""
        self._claim()
        ps = self._run_forward(xs, training=training)
        return self._compiled.evaluate(ys, ps, sws, self.penalty(), False)[0][0]

    def _train_step(
        self,
        xs: list[np.ndarray],
        ys: list[np.ndarray],
        sws: list[np.ndarray | None],
    ) -> list[float]:
        values = self._compute_gradients(xs, ys, sws)
        if self._train_params:
            pairs = zip(self._train_grads, self._train_params)
            if any(c is not None for c in self._train_constraints):
                self.optimizer.apply_gradients(
                    pairs, constraints=self._train_constraints
                )
            else:
                self.optimizer.apply_gradients(pairs)
        return values

    def _test_step(
        self,
        xs: list[np.ndarray],
        ys: list[np.ndarray],
        sws: list[np.ndarray | None],
    ) -> list[float]:
        self._claim()
        ps = self._run_forward(xs, training=False)
        return self._compiled.evaluate(ys, ps, sws, self.penalty(), False)[0]

    def _predict_step(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        self._claim()
        return self._run_forward(xs, training=False)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {len(self.layers)} layers>"
