"""``TorchOptimizer``: a torch.optim optimizer training NumPy weights, zero-copy.

Keras's ``TFOptimizer`` wrapped a TensorFlow optimizer; this wraps a PyTorch one so it can
be passed wherever a gradstep optimizer goes (``model.compile(optimizer=...)``): the NumPy
weights are viewed as tensors with ``torch.from_numpy`` (no copy), gradients likewise, and
the torch optimizer updates them in place. torch is imported when a ``TorchOptimizer`` is
constructed, never by ``import gradstep``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from ._hyper import check_number
from ._native import NativeOptimizer, check_weight_count, restored_iterations

if TYPE_CHECKING:
    import torch

__all__ = ["TorchOptimizer"]

_NAMESPACES = ("torch.optim", "gradstep.torch")
_PLAIN = (bool, int, float, str, type(None))


class TorchOptimizer(NativeOptimizer):
    """A ``torch.optim`` optimizer behind gradstep's optimizer interface.

    Args:
        optimizer: a ``torch.optim.Optimizer`` subclass (built on the first
            ``apply_gradients`` or ``build`` with ``**kwargs``), or an instance. An
            instance is used as it is when its parameters are ``torch.from_numpy`` views of
            the arrays later given to ``apply_gradients`` (same memory, order and shape);
            an instance that has not stepped yet and has one param group is otherwise a
            template: its class and hyperparameters are used for the given arrays.
        clipnorm, clipvalue: Keras's gradient clipping (global norm, then values), done on
            the NumPy gradients before the torch step. None or 0: off.
        **kwargs: the torch optimizer's arguments (``lr=1e-3, weight_decay=0.01``, ...).

    ``lr`` (read and set; writes every torch param group, so LR callbacks work) and
    ``iterations`` (the number of ``apply_gradients`` calls) behave as on any gradstep
    optimizer. ``get_config`` works for classes of ``torch.optim`` and ``gradstep.torch``
    with JSON-like arguments; ``get_weights``/``set_weights`` hold ``iterations`` and then,
    per parameter in order, its torch state entries sorted by name (torch creates them at
    the first step, so ``set_weights`` needs one step first). ``state_dict`` and
    ``load_state_dict`` are the torch optimizer's. Decay is the torch optimizer's business
    (or an lr scheduler's on ``torch_optimizer``).

    Example:
        >>> import numpy as np, torch
        >>> from gradstep.optimizers import TorchOptimizer
        >>> w = np.array([1.0, -1.0])
        >>> opt = TorchOptimizer(torch.optim.SGD, lr=0.1)
        >>> opt.apply_gradients([(np.array([0.5, -2.0]), w)])
        >>> w
        array([ 0.95, -0.8 ])
    """

    def __init__(
        self,
        optimizer: Any,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        **kwargs: Any,
    ) -> None:
        import torch

        if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
            self._class = optimizer
            self._kwargs: dict[str, Any] | None = dict(kwargs)
            # built now on a placeholder, so bad arguments fail here, with torch's message
            self._template = optimizer([torch.zeros(1)], **kwargs)
            self._instance = None
        elif isinstance(optimizer, torch.optim.Optimizer):
            if kwargs:
                raise TypeError(
                    f"TorchOptimizer got an optimizer instance and keyword arguments "
                    f"{sorted(kwargs)}; pass the class with its arguments, or the instance "
                    "alone"
                )
            self._class, self._kwargs = type(optimizer), None
            self._template = self._instance = optimizer
        else:
            raise TypeError(
                "TorchOptimizer expects a torch.optim.Optimizer subclass or instance, got "
                f"{optimizer!r}"
            )
        super().__init__(clipnorm, clipvalue)
        self._torch: torch.optim.Optimizer | None = None
        self._tensors: list[torch.Tensor] = []

    # ---- the torch optimizer -------------------------------------------------------
    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer bound to the weights (None before the first step)."""
        return self._torch

    @property
    def lr(self) -> float:
        """The learning rate of the first param group; setting it sets every group's."""
        groups = self._groups()
        if "lr" not in groups[0]:
            raise AttributeError(f"{self._class.__name__} has no learning rate 'lr'")
        value = float(groups[0]["lr"])
        backend.handed_out(self, "lr", value)  # for K.set_value(opt.lr, v)
        return value

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_number("lr", value)
        for group in self._groups():
            group["lr"] = value

    def _groups(self) -> list[dict[str, Any]]:
        return (self._template if self._torch is None else self._torch).param_groups

    def _bind(self, params: list[np.ndarray]) -> None:
        import torch

        for i, p in enumerate(params):
            if any(stride < 0 for stride in p.strides):
                raise ValueError(
                    f"parameter {i} has negative strides; torch cannot view it without a "
                    "copy, pass a C-ordered array"
                )
        tensors = [torch.from_numpy(p) for p in params]
        instance = self._instance
        if instance is not None:
            own = [t for g in instance.param_groups for t in g["params"]]
            if _same_memory(own, tensors):
                self._torch, self._tensors = instance, own
                return
            if instance.state or len(instance.param_groups) != 1:
                raise ValueError(
                    "the wrapped optimizer's parameters are not views of the arrays given "
                    "(and it has state or several groups, so it cannot be rebuilt for "
                    "them); build it on [torch.from_numpy(w) for w in weights] or pass "
                    "its class and keyword arguments"
                )
        hyper = {
            k: v for k, v in self._template.param_groups[0].items() if k != "params"
        }
        if self._kwargs is not None:
            optimizer = self._class(tensors, **self._kwargs)
        else:
            optimizer = self._class(tensors, **_accepted(self._class, hyper))
        optimizer.param_groups[0].update(hyper)
        self._torch, self._tensors = optimizer, tensors

    def _unbind(self) -> None:
        """The bound torch optimizer (its groups' hyperparameters as set, ``lr``
        included) becomes the template of the next one; one with several param groups
        cannot be rebuilt for other arrays and raises."""
        assert self._torch is not None
        if len(self._torch.param_groups) != 1:
            raise ValueError(
                f"cannot rebind a wrapped {self._class.__name__} with "
                f"{len(self._torch.param_groups)} param groups to other arrays; wrap a "
                "new optimizer built on [torch.from_numpy(w) for w in weights]"
            )
        self._template, self._instance = self._torch, None
        self._torch, self._tensors = None, []

    def _framework_step(
        self, params: list[np.ndarray], grads: list[np.ndarray]
    ) -> None:
        import torch

        for tensor, g in zip(self._tensors, grads):
            if not g.flags.writeable or any(stride < 0 for stride in g.strides):
                g = g.copy()
            tensor.grad = torch.from_numpy(g)
        try:
            self._torch.step()
        finally:
            for tensor in self._tensors:
                tensor.grad = None

    # ---- configs and weights -------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """``{"optimizer": "torch.optim.AdamW", <arguments>}``; ``NotImplementedError``
        when the class is outside torch.optim/gradstep.torch or an argument is not
        JSON-like (a tensor, a callable)."""
        qualified = _qualified_name(self._class)
        if qualified is None:
            raise NotImplementedError(
                f"cannot serialize TorchOptimizer({self._class.__module__}."
                f"{self._class.__qualname__}): only classes of {' and '.join(_NAMESPACES)} "
                "can be rebuilt from a config"
            )
        if self._kwargs is not None:
            arguments = dict(self._kwargs)
            if "lr" in self._groups()[0]:
                arguments["lr"] = self.lr  # as LR callbacks left it
        else:
            groups = self._groups()
            if len(groups) != 1:
                raise NotImplementedError(
                    f"cannot serialize a wrapped {qualified} with {len(groups)} param groups"
                )
            hyper = {k: v for k, v in groups[0].items() if k != "params"}
            arguments = _accepted(self._class, hyper)
        for key, value in arguments.items():
            if not _plain(value):
                raise NotImplementedError(
                    f"cannot serialize TorchOptimizer: argument {key}={value!r} is not a "
                    "number, string, bool or None"
                )
        config: dict[str, Any] = {"optimizer": qualified}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        config.update(arguments)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TorchOptimizer:
        """Rebuild from ``get_config()``; only torch.optim and gradstep.torch classes."""
        import importlib

        import torch

        config = dict(config)
        qualified = config.pop("optimizer", None)
        module, _, name = str(qualified).rpartition(".")
        if module not in _NAMESPACES:
            raise ValueError(
                f"TorchOptimizer config names optimizer {qualified!r}; expected a class of "
                f"{' or '.join(_NAMESPACES)}"
            )
        klass = getattr(importlib.import_module(module), name, None)
        if not (isinstance(klass, type) and issubclass(klass, torch.optim.Optimizer)):
            raise ValueError(f"{qualified!r} is not a torch optimizer class")
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
        return cls(klass, **config)

    def get_weights(self) -> list[np.ndarray]:
        """``iterations`` (0-d int64), then per parameter its torch state entries sorted
        by name, as NumPy copies; empty before the first step."""
        if self._torch is None or not self._torch.state:
            return []
        weights = [np.array(self.iterations, dtype=np.int64)]
        for _, value in self._state_entries():
            weights.append(_to_numpy(value))
        return weights

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Restore ``get_weights()``'s output into a torch optimizer that has stepped."""
        import torch

        if self._torch is None or not self._torch.state:
            raise ValueError(
                "set_weights needs the torch optimizer's state, which torch creates at the "
                "first step: call apply_gradients once first (or use "
                "torch_optimizer.load_state_dict)"
            )
        entries = self._state_entries()
        arrays = check_weight_count(list(weights), len(entries) + 1)
        for (where, old), new in zip(entries, arrays[1:]):
            if tuple(np.shape(_to_numpy(old))) != new.shape:
                raise ValueError(
                    f"weight {where} has shape {new.shape}; expected "
                    f"{tuple(np.shape(_to_numpy(old)))}"
                )
        iterations = restored_iterations(arrays[0])
        self.iterations = iterations
        for ((p, key), old), new in zip(entries, arrays[1:]):
            state = self._torch.state[p]
            if isinstance(old, torch.Tensor):
                old.copy_(torch.from_numpy(np.array(new, dtype=_to_numpy(old).dtype)))
            else:
                state[key] = type(old)(new)

    def _state_entries(self) -> list[tuple[tuple[Any, str], Any]]:
        import torch

        entries = []
        for p in self._tensors:
            for key in sorted(self._torch.state.get(p, {})):
                value = self._torch.state[p][key]
                if not (
                    isinstance(value, torch.Tensor) or isinstance(value, (int, float))
                ):
                    raise NotImplementedError(
                        f"cannot express {self._class.__name__}'s state entry {key!r} "
                        f"({type(value).__name__}) as an array; use state_dict()"
                    )
                entries.append(((p, key), value))
        return entries

    def __repr__(self) -> str:
        return f"TorchOptimizer({self._class.__module__}.{self._class.__qualname__})"


def _same_memory(own: list[Any], tensors: list[Any]) -> bool:
    return len(own) == len(tensors) and all(
        a.data_ptr() == b.data_ptr()
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.stride() == b.stride()
        for a, b in zip(own, tensors)
    )


def _accepted(klass: type, hyper: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``hyper`` that ``klass``'s constructor takes as keywords."""
    parameters = inspect.signature(klass).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return dict(hyper)
    return {k: v for k, v in hyper.items() if k in parameters}


def _qualified_name(klass: type) -> str | None:
    import importlib

    for namespace in _NAMESPACES:
        module = importlib.import_module(namespace)
        if getattr(module, klass.__name__, None) is klass:
            return f"{namespace}.{klass.__name__}"
    return None


def _plain(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return all(isinstance(v, _PLAIN) for v in value)
    return isinstance(value, _PLAIN)


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy().copy()
    return np.array(value)
