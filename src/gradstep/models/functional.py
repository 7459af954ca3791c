"""``Model(inputs, outputs)``: the functional API (Keras 2.2.4's graph networks).

Layers called on tensors from ``Input()`` make a graph; ``Model`` walks it back from the
outputs (Keras's ``build_map``), orders the layers by depth as Keras does (so weights
come in Keras's order), runs the nodes forward in that order and backward in reverse,
summing the gradients of a tensor used by several layers. Each layer is called once
(no shared layers); models nest: a ``Model`` or ``Sequential`` is a layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..layers._base import LAYERS, Layer
from ..layers._input import InputLayer
from ..layers._serialization import deserialize as deserialize_layer
from ..layers._tensor import Node, Tensor
from ._network import Network

__all__ = ["Model"]


def _as_tensors(value: Any, what: str) -> list[Tensor]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"Model: {what} must not be empty")
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"Model: {what} must be tensors (from gradstep.layers.Input() or a layer "
                f"call), got {type(t).__name__}"
            )
    return items


def _graph(
    outputs: list[Tensor],
) -> tuple[list[Node], dict[int, int], dict[int, int]]:
    """Keras 2.2.4's ``build_map``: the nodes in decreasing depth, each node's depth and
    each layer's discovery index."""
    in_decreasing_depth: list[Node] = []
    finished: set[int] = set()
    in_progress: set[int] = set()
    layer_index: dict[int, int] = {}

    def visit(node: Node) -> None:
        if id(node) in in_progress:
            raise ValueError(
                f'The tensor at layer "{node.layer.name}" is part of a cycle.'
            )
        if id(node) in finished:
            return
        layer_index.setdefault(id(node.layer), len(layer_index))
        in_progress.add(id(node))
        for t in node.inputs:
            visit(t.node)
        finished.add(id(node))
        in_progress.discard(id(node))
        in_decreasing_depth.append(node)

    for t in outputs:
        visit(t.node)
    depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(in_decreasing_depth):
        d = depth.setdefault(id(node), 0)
        d = max(d, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = d
        depth[id(node)] = d
        for t in node.inputs:
            depth[id(t.node)] = max(d + 1, depth.get(id(t.node), 0))
    return in_decreasing_depth, depth, layer_index


def _node_index(t: Tensor) -> int:
    return 1 if isinstance(t.node.layer, Network) else 0


@LAYERS.register("Model")
class Model(Network):
    """A model from input tensors to output tensors:

        a = Input(shape=(32,))
        b = Dense(32)(a)
        model = Model(inputs=a, outputs=b)

    Several inputs and outputs are lists. ``seed`` seeds the model's training generator
    (dropout masks and fit's shuffling of layers without their own seed); weights were
    drawn when the layers were called (see ``gradstep.models.set_random_seed``).
    """

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if "input" in kwargs and inputs is None:
            inputs = kwargs.pop("input")
        if "output" in kwargs and outputs is None:
            outputs = kwargs.pop("output")
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument {sorted(kwargs)[0]!r}")
        if inputs is None or outputs is None:
            raise TypeError("Model needs inputs= and outputs= (tensors)")
        super().__init__(name=name, seed=seed)
        self.inputs = _as_tensors(inputs, "inputs")
        self.outputs = _as_tensors(outputs, "outputs")
        self._multi_in = isinstance(inputs, (list, tuple))
        self._multi_out = isinstance(outputs, (list, tuple))
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    "Input tensors to a Model must come from `gradstep.layers.Input`. "
                    f"Received: {t} (missing previous layer metadata)."
                )
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("Model: the same input tensor is listed twice in inputs")
        nodes, depth, layer_index = _graph(self.outputs)
        known = {id(t) for t in self.inputs}
        for node in reversed(nodes):
            if isinstance(node.layer, InputLayer):
                if id(node.outputs[0]) not in known:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor "
                        f'{node.outputs[0]} at layer "{node.layer.name}". Give it to '
                        "Model as one of the inputs."
                    )
        by_depth: dict[int, list[Layer]] = {}
        for node in nodes:
            by_depth.setdefault(depth[id(node)], []).append(node.layer)
        layers: list[Layer] = []
        for d in sorted(by_depth, reverse=True):
            layers.extend(sorted(by_depth[d], key=lambda la: layer_index[id(la)]))
        for t in self.inputs:  # inputs no output uses still belong to the model
            if t.node.layer not in layers:
                layers.insert(0, t.node.layer)
        names = [layer.name for layer in layers]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ValueError(
                f'The name "{duplicate}" is used 2 times in the model. All layer names '
                "should be unique."
            )
        self.layers = layers
        self._order = sorted(
            (n for n in nodes if not isinstance(n.layer, InputLayer)),
            key=lambda n: -depth[id(n)],
        )
        self._consumed = {id(t) for n in self._order for t in n.inputs}
        self._nodes_by_depth: dict[int, list[Node]] = {}
        for node in nodes:
            self._nodes_by_depth.setdefault(depth[id(node)], []).append(node)
        self._node_of = {id(n.layer): n for n in nodes}
        self.input_names = [t.node.layer.name for t in self.inputs]
        self.output_names = [t.node.layer.name for t in self.outputs]
        for leaf, _ in self._leaves():
            if (
                getattr(leaf, "seed", 0) is None
                and getattr(leaf, "rng", None) is not None
            ):
                leaf.rng = self._rngs.train
        self.dtype = next(
            (leaf.dtype for leaf, _ in self._leaves() if leaf.dtype), None
        )
        self._layout()

    # ---- shapes and names ------------------------------------------------------------
    def _symbolic_inputs(self) -> list[Tensor]:
        return list(self.inputs)

    def _symbolic_outputs(self) -> list[Tensor]:
        return list(self.outputs)

    def _input_shapes(self):
        return [t.node.layer.batch_input_shape for t in self.inputs]

    def _output_shapes(self):
        return [t.shape for t in self.outputs]

    @property
    def input_shape(self) -> Any:  # type: ignore[override]
        shapes = [t.shape for t in self.inputs]
        return shapes if self._multi_in or len(shapes) > 1 else shapes[0]

    @property
    def output_shape(self) -> Any:  # type: ignore[override]
        shapes = self._output_shapes()
        return shapes if self._multi_out or len(shapes) > 1 else shapes[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = self._output_shapes()
        return list(shapes) if len(shapes) > 1 else shapes[0]

    def build(self, input_shape: Any = None, rngs: Any = None) -> None:
        """A functional model is built when made; this checks nothing and returns."""

    # ---- passes ----------------------------------------------------------------------
    def _run_forward(self, xs, training):
        if len(xs) != len(self.inputs):
            raise ValueError(
                f"model {self.name} takes {len(self.inputs)} inputs, got {len(xs)}"
            )
        values = {id(t): x for t, x in zip(self.inputs, xs)}
        for node in self._order:
            args = [values[id(t)] for t in node.inputs]
            out = node.layer.forward(args if node.multi else args[0], training)
            outs = out if len(node.outputs) > 1 else [out]
            for t, o in zip(node.outputs, outs):
                values[id(t)] = o
        self._values = values
        return [values[id(t)] for t in self.outputs]

    def _output_activations(self):
        acts: list[str | None] = []
        seen: set[int] = set()
        for t in self.outputs:
            layer = t.node.layer
            act = None
            if (
                id(t) not in self._consumed
                and id(t) not in seen
                and len(t.node.outputs) == 1
            ):
                act = self._fusable_activation(layer)
            seen.add(id(t))
            acts.append(act)
        return acts

    def _unreached_layers(self) -> list[Layer]:
        compiled = self._compiled
        if compiled is None:
            return []
        reached: set[int] = set()
        stack = [self.outputs[i].node for i in compiled.trained]
        while stack:
            node = stack.pop()
            if id(node) in reached:
                continue
            reached.add(id(node))
            stack.extend(t.node for t in node.inputs)
        return [
            n.layer
            for n in self._order
            if id(n) not in reached and n.layer.trainable and n.layer.holds_weights
        ]

    def _needs_dx(self) -> dict[int, bool]:
        """Per node: whether any layer before it has weights to train."""
        upstream: dict[int, bool] = {id(t): False for t in self.inputs}
        needs: dict[int, bool] = {}
        for node in self._order:
            need = any(upstream.get(id(t), False) for t in node.inputs)
            needs[id(node)] = need
            layer = node.layer
            trains = self._trains(layer)
            for t in node.outputs:
                upstream[id(t)] = need or trains
        return needs

    def _run_backward(self, dys, need_dx, fused=()):
        grads: dict[int, np.ndarray] = {}

        def add(t: Tensor, g: np.ndarray) -> None:
            if id(t) in grads:
                grads[id(t)] = grads[id(t)] + g
            else:
                grads[id(t)] = g

        fused_nodes: set[int] = set()
        for k, (t, dy) in enumerate(zip(self.outputs, dys)):
            if dy is None:
                continue
            add(t, dy)
            if fused and fused[k]:
                fused_nodes.add(id(t.node))
        needs = None if need_dx else self._needs_dx()
        for node in reversed(self._order):
            gs = [grads.pop(id(t), None) for t in node.outputs]
            if all(g is None for g in gs):
                continue
            if len(gs) > 1:
                gs = [
                    np.zeros_like(self._values[id(t)]) if g is None else g
                    for t, g in zip(node.outputs, gs)
                ]
            want = True if needs is None else needs[id(node)]
            dx = node.layer.backward(
                gs if len(gs) > 1 else gs[0],
                want,
                activated=id(node) not in fused_nodes,
            )
            if want and dx is not None:
                for t, g in zip(node.inputs, dx if node.multi else [dx]):
                    if g is not None:
                        add(t, g)
        if not need_dx:
            return None
        return [
            grads.get(id(t), np.zeros_like(self._values[id(t)])) for t in self.inputs
        ]

    # ---- configs ---------------------------------------------------------------------
    @staticmethod
    def _ref(t: Tensor) -> list[Any]:
        """[layer name, node index, tensor index, {}] as Keras writes it: a nested
        model's call is its node 1 (node 0 is its own graph)."""
        return [t.node.layer.name, _node_index(t), t.index, {}]

    def get_config(self) -> dict[str, Any]:
        """Keras 2.2.4's functional config: layers with their inbound nodes, input and
        output layers."""
        from ..layers._serialization import serialize as serialize_layer

        nodes = {id(n.layer): n for n in self._order}
        layer_configs = []
        for layer in self.layers:
            entry = serialize_layer(layer)
            node = nodes.get(id(layer))
            inbound = [] if node is None else [[self._ref(t) for t in node.inputs]]
            layer_configs.append(
                {
                    "name": layer.name,
                    "class_name": entry["class_name"],
                    "config": entry["config"],
                    "inbound_nodes": inbound,
                }
            )
        return {
            "name": self.name,
            "layers": layer_configs,
            "input_layers": [self._ref(t)[:3] for t in self.inputs],
            "output_layers": [self._ref(t)[:3] for t in self.outputs],
        }

    @staticmethod
    def weight_shapes_of(
        config: Any, custom_objects: Mapping[str, Any] | None = None
    ) -> list[tuple[int, ...]] | None:
        """The shapes of the weights a model built from ``config`` would have, found
        without building it (nothing allocated); None when a layer cannot tell."""
        from ._shapes import weight_shapes

        return weight_shapes("Model", config, custom_objects)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        custom_objects: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> Model:
        """A new model from ``get_config()``'s output (Keras 2.2.4's layout; only
        registered classes or ``custom_objects`` are built)."""
        if not isinstance(config, Mapping) or not isinstance(
            config.get("layers"), list
        ):
            raise ValueError(
                f"Model config must be a dict with a 'layers' list: {config!r:.200}"
            )
        made: dict[str, Layer] = {}
        pending: list[tuple[Layer, list[Any]]] = []
        for entry in config["layers"]:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ValueError(f"Model config: bad layer entry {entry!r:.200}")
            layer = deserialize_layer(entry, custom_objects)
            if entry["name"] in made:
                raise ValueError(f"Model config: layer name {entry['name']!r} twice")
            made[entry["name"]] = layer
            inbound = entry.get("inbound_nodes", [])
            if not isinstance(inbound, list) or len(inbound) > 1:
                raise ValueError(
                    f"Model config: layer {entry['name']!r} must have at most one "
                    "inbound node (gradstep does not share layers)"
                )
            if inbound:
                pending.append((layer, inbound[0]))

        def tensor(ref: Any) -> Tensor | None:
            if not isinstance(ref, (list, tuple)) or len(ref) < 3:
                raise ValueError(f"Model config: bad tensor reference {ref!r:.100}")
            name, _, index = ref[0], ref[1], ref[2]
            layer = made.get(name)
            if layer is None:
                raise ValueError(f"Model config: unknown layer {name!r}")
            if not layer._nodes:
                return None
            outputs = layer._nodes[-1].outputs
            if not isinstance(index, int) or not 0 <= index < len(outputs):
                raise ValueError(f"Model config: bad tensor index in {ref!r:.100}")
            return outputs[index]

        while pending:
            progress = False
            for item in list(pending):
                layer, refs = item
                if not isinstance(refs, list) or not refs:
                    raise ValueError(f"Model config: bad inbound node for {layer.name}")
                found = [tensor(r) for r in refs]
                if any(t is None for t in found):
                    continue
                layer(found[0] if len(found) == 1 else found)
                pending.remove(item)
                progress = True
            if not progress:
                raise ValueError(
                    "Model config: the inbound nodes of "
                    f"{[la.name for la, _ in pending]} cannot be resolved"
                )
        ins = [tensor(r) for r in config.get("input_layers", [])]
        outs = [tensor(r) for r in config.get("output_layers", [])]
        if not ins or not outs or any(t is None for t in ins + outs):
            raise ValueError(
                "Model config: input_layers/output_layers are missing or bad"
            )
        return cls(
            ins if len(ins) > 1 else ins[0],
            outs if len(outs) > 1 else outs[0],
            name=config.get("name"),
            seed=seed,
        )

    def save(
        self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
    ) -> None:
        """Write architecture, weights and (``include_optimizer``) the compile settings
        and optimizer state to one file, atomically (see ``Sequential.save``). The
        compile settings of a file name one loss and a metrics list: a model compiled
        with several losses, ``loss_weights`` or ``weighted_metrics`` is saved with
        ``include_optimizer=False`` (compile it again after loading)."""
        from . import _format

        compiled = self._compiled
        if include_optimizer and compiled is not None:
            _, metrics, loss_weights, weighted = compiled.specs
            if (
                len(compiled.outputs) != 1
                or len(self.outputs) != 1
                or loss_weights is not None
                or weighted is not None
                or not isinstance(metrics, (list, tuple, type(None)))
            ):
                raise ValueError(
                    "save(): a model file records one loss and a metrics list; this "
                    "model was compiled with several outputs, loss_weights, "
                    "weighted_metrics or per-output metrics: pass "
                    "include_optimizer=False and compile again after load_model"
                )
        self._claim()
        _format.save_model(self, filepath, overwrite, include_optimizer)
