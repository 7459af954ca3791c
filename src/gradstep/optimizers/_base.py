"""The optimizer base class: everything the seven algorithms share.

An algorithm supplies its hyperparameters, the names of its per-parameter slots, the
host-side scalar ``coefficients`` of a step and one per-element ``rule``; this class owns the
iteration counter, learning-rate decay, clipping, validation, applying a step through an
engine, configs and weights.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .. import backend
from ..kernels import Engine, select_engine
from ..kernels._multi_tensor import same_items
from ._hyper import Hyperparameter, check_clip, check_number

__all__ = ["Optimizer", "default", "keras_decayed_lr"]

_NONE_GRADIENT = (
    "An operation has `None` for gradient. Please make sure that all of your ops have a "
    "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
    "K.round, K.eval."
)
_OPTIONAL_KEYWORDS = ("learning_rate", "clipnorm", "clipvalue", "engine")
_dtype = operator.attrgetter("dtype")
_shape = operator.attrgetter("shape")
_writeable = operator.attrgetter("flags.writeable")


def _same_arrays(
    pairs: list[Any], grads: list[np.ndarray], params: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """``(grads, params)`` when ``pairs`` holds exactly the arrays of the last step, in
    order (the usual training loop, already checked then), else None."""
    if len(pairs) != len(params) or set(map(len, pairs)) != {2}:
        return None
    new_grads, new_params = zip(*pairs)
    if same_items(new_params, params) and same_items(new_grads, grads):
        return grads, params
    return None


def _usual_pairs(
    pairs: list[Any],
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The gradients and parameters of the usual pairs, checked in bulk (the per-pair
    cost matters at 1,000 tensors): 2-tuples of ndarrays, float parameters that can be
    written, gradients of the same dtype and shape. None when anything else is there;
    the pair-by-pair check then finds it and says which pair."""
    if set(map(type, pairs)) != {tuple} or set(map(len, pairs)) != {2}:
        return None
    grads, params = map(list, zip(*pairs))
    if set(map(type, grads)) != {np.ndarray} or set(map(type, params)) != {np.ndarray}:
        return None
    dtypes = list(map(_dtype, params))
    if (
        dtypes != list(map(_dtype, grads))
        or any(d.kind != "f" for d in set(dtypes))
        or list(map(_shape, params)) != list(map(_shape, grads))
        or not all(map(_writeable, params))
    ):
        return None
    return grads, params


class default(float):  # noqa: N801 - reads as a marker in signatures: lr=default(0.01)
    """A float that marks a default argument, so ``lr`` and ``learning_rate`` can be told
    apart from an explicit ``lr`` of the same value."""


def keras_decayed_lr(
    lr: float, decay: float, iterations: int, initial_decay: float
) -> float:
    """Keras 2.2's time-based decay: lr * (1 / (1 + decay * iterations)), ``iterations``
    counted before the step, applied only when the constructor's decay was > 0."""
    if initial_decay > 0:
        return lr * (1.0 / (1.0 + decay * float(iterations)))
    return lr


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class Optimizer:
    """Base class of every gradstep optimizer; subclass it to write a new one.

    A subclass defines, besides its ``__init__``:

    - ``config_keys``: the hyperparameter names ``get_config`` returns, in order;
    - ``slot_names()``: the names of the arrays kept per parameter (zeros at the start);
    - ``coefficients(t, lr, scalars)``: a NamedTuple of Python floats for step ``t``
      (1 on the first step), given the decayed learning rate ``lr``;
    - ``rule``: a function ``rule(p, g, *slots, c) -> (p_new, *slots_new)`` using only
      operators, ``abs`` and ``sqrt``/``maximum``/``minimum`` imported from
      ``gradstep.optimizers.elementwise``, so every engine can run it;
    - optionally ``scalar_state`` and ``next_scalars`` for host-side scalars kept across
      steps (Nadam's ``m_schedule``).

    ``apply_gradients(zip(grads, params))`` makes one step over all parameters together and
    updates the NumPy arrays in place. Hyperparameters are validated when set, also between
    steps (``opt.lr = 0.01``). Keyword arguments every optimizer accepts: ``clipnorm``,
    ``clipvalue`` (None or 0: off), ``learning_rate`` (alias of ``lr``) and ``engine``
    ("reference", "fused" or None for the fastest available; never changes results).

    Non-finite gradients are not checked: as in Keras they propagate into the parameters.
    """

    config_keys: ClassVar[tuple[str, ...]] = ("lr",)
    scalar_state: ClassVar[Mapping[str, float]] = {}
    keras224_omits: ClassVar[tuple[str, ...]] = ()
    has_decay: ClassVar[bool] = True
    # The gradient arrays of the last step: the same arrays again need no new checks.
    _last_grads: list[np.ndarray] | None = None

    lr = Hyperparameter()
    decay = Hyperparameter()

    def __init__(self, lr: float, decay: float = _UNSET, **kwargs: Any) -> None:
        unknown = [key for key in kwargs if key not in _OPTIONAL_KEYWORDS]
        if unknown:
            raise TypeError(
                f"Unexpected keyword argument passed to optimizer: {unknown[0]}. "
                f"{type(self).__name__} accepts {', '.join(self._accepted_keywords())}"
            )
        if decay is not _UNSET and not self.has_decay:
            raise TypeError(
                "Unexpected keyword argument passed to optimizer: decay. "
                f"{type(self).__name__} has no learning-rate decay"
            )
        if "learning_rate" in kwargs:
            alias = kwargs["learning_rate"]
            if not isinstance(lr, default) and lr != alias:
                raise ValueError(
                    f"lr and learning_rate are two names for one value; got lr={lr!r} "
                    f"and learning_rate={alias!r}: pass one of them"
                )
            lr = alias
        self.lr = lr
        self.decay = 0.0 if decay is _UNSET else decay
        self.initial_decay = self.decay
        self.clipnorm = check_clip("clipnorm", kwargs.get("clipnorm"))
        self.clipvalue = check_clip("clipvalue", kwargs.get("clipvalue"))
        self._engine: Engine = select_engine(kwargs.get("engine"))
        self.iterations = 0
        self._scalars: dict[str, float] = dict(self.scalar_state)
        self._params: list[np.ndarray] | None = None
        self._slots: list[tuple[np.ndarray, ...]] = []

    # ---- what an algorithm defines -------------------------------------------------
    rule: Callable[..., tuple[Any, ...]]

    def slot_names(self) -> tuple[str, ...]:
        """Names of the per-parameter arrays, in the order the rule takes them."""
        raise NotImplementedError(f"{type(self).__name__} does not define slot_names()")

    def coefficients(
        self, t: int, lr: float, scalars: Mapping[str, float]
    ) -> NamedTuple:
        """The Python-float coefficients of step ``t`` handed to the rule."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define coefficients()"
        )

    def next_scalars(self, t: int, scalars: Mapping[str, float]) -> dict[str, float]:
        """The host-side scalars after step ``t`` (default: unchanged)."""
        return dict(scalars)

    def legacy_slot_names(self) -> tuple[str, ...]:
        """Slots that appear in weight lists as one (1,)-shaped dummy per parameter but are
        never used (Adam's ``vhat`` without AMSGrad, kept for Keras's layout)."""
        return ()

    # ---- helpers for algorithms ----------------------------------------------------
    @staticmethod
    def resolve_epsilon(epsilon: float | None) -> float:
        """``None`` means ``backend.epsilon()`` now; otherwise a finite number >= 0."""
        if epsilon is None:
            return backend.epsilon()
        return check_number("epsilon", epsilon)

    # ---- the step ------------------------------------------------------------------
    @property
    def engine(self) -> str:
        """The name of the engine that runs this optimizer's steps."""
        return self._engine.name

    def decayed_lr(self) -> float:
        """The learning rate of the next step: lr * (1 / (1 + decay * iterations)), with the
        counter before the step, when the optimizer was built with decay > 0 (Keras 2.2)."""
        return keras_decayed_lr(
            self.lr, self.decay, self.iterations, self.initial_decay
        )

    def build(self, params: Sequence[np.ndarray]) -> None:
        """Create the zero slots for ``params`` now (``apply_gradients`` does it on its
        first call); needed before ``set_weights`` on a fresh optimizer."""
        params = [self._check_param(i, p) for i, p in enumerate(params)]
        if not params:
            raise ValueError("build() got no parameters")
        self._check_distinct(params)
        if self._params is not None:
            self._check_same_params(params)
            return
        self._bind(params)

    def _bind(self, params: list[np.ndarray]) -> None:
        self._slots = self._engine.allocate_slots(params, len(self.slot_names()))
        self._params = params

    def apply_gradients(
        self, grads_and_params: Iterable[tuple[Any, np.ndarray]]
    ) -> None:
        """One optimizer step over every (gradient, parameter) pair, in place.

        Raises before anything changes when a pair is malformed: a ``None`` gradient, a
        shape mismatch, a parameter that is not a writeable floating-point NumPy array, or
        parameters that differ from those of the first call.
        """
        grads, params = self._check_pairs(grads_and_params)
        if self._params is None:
            slots = self._engine.allocate_slots(params, len(self.slot_names()))
        else:
            self._check_same_params(params)
            slots = self._slots
        t = self.iterations + 1
        coefficients = self.coefficients(t, self.decayed_lr(), self._scalars)
        scalars = self.next_scalars(t, self._scalars)
        clipvalue = math.inf if not self.clipvalue else float(self.clipvalue)
        clipnorm = float(self.clipnorm) if self.clipnorm else 0.0
        self._engine.step(
            self.rule, coefficients, params, grads, slots, clipnorm, clipvalue
        )
        self._params, self._slots, self._last_grads = params, slots, grads
        self.iterations = t
        self._scalars = scalars

    # ---- checks --------------------------------------------------------------------
    def _check_pairs(
        self, grads_and_params: Iterable[tuple[Any, np.ndarray]]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        try:
            pairs = list(grads_and_params)
        except TypeError:
            raise TypeError(
                "apply_gradients expects an iterable of (gradient, parameter) pairs, "
                f"got {type(grads_and_params).__name__}"
            ) from None
        if not pairs:
            raise ValueError("apply_gradients got no (gradient, parameter) pairs")
        if self._params is not None and self._last_grads is not None:
            same = _same_arrays(pairs, self._last_grads, self._params)
            if same is not None:
                return same
        checked = _usual_pairs(pairs)
        if checked is None:
            checked = self._check_each_pair(pairs)
        if self._params is None:
            self._check_distinct(checked[1])
        return checked

    def _check_each_pair(
        self, pairs: list[Any]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        grads, params = [], []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(
                    f"apply_gradients expects (gradient, parameter) pairs; item {i} is "
                    f"{type(pair).__name__}"
                )
            grad, param = pair
            param = self._check_param(i, param)
            grads.append(self._check_grad(i, grad, param))
            params.append(param)
        return grads, params

    @staticmethod
    def _check_param(i: int, param: Any) -> np.ndarray:
        if not isinstance(param, np.ndarray):
            raise TypeError(
                f"parameter {i} must be a NumPy array, got {type(param).__name__}"
            )
        if param.dtype.kind != "f":
            raise TypeError(
                f"parameter {i} has dtype {param.dtype}; parameters must be floating "
                "point (float16, float32 or float64)"
            )
        if not param.flags.writeable:
            raise ValueError(
                f"parameter {i} is read-only; the step updates it in place"
            )
        return param

    @staticmethod
    def _check_grad(i: int, grad: Any, param: np.ndarray) -> np.ndarray:
        if grad is None:
            raise ValueError(f"gradient {i}: {_NONE_GRADIENT}")
        if not isinstance(grad, np.ndarray):
            grad = np.asarray(grad)
        if grad.dtype.kind not in "fiu":
            raise TypeError(
                f"gradient {i} has dtype {grad.dtype}; expected numbers like its parameter"
            )
        if grad.shape != param.shape:
            raise ValueError(
                f"gradient {i} has shape {grad.shape} but its parameter has shape "
                f"{param.shape}; they must match"
            )
        return grad if grad.dtype == param.dtype else grad.astype(param.dtype)

    @staticmethod
    def _check_distinct(params: list[np.ndarray]) -> None:
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"parameter {i} is the same array as parameter {seen[id(p)]}; each "
                    "parameter may appear once per step"
                )
            seen[id(p)] = i

    def _check_same_params(self, params: list[np.ndarray]) -> None:
        assert self._params is not None
        if params is self._params or same_items(params, self._params):
            return
        if len(params) != len(self._params):
            self._check_distinct(params)
            raise ValueError(
                f"this optimizer was built for {len(self._params)} parameters and got "
                f"{len(params)}; use one optimizer per set of parameters"
            )
        for i, (new, old) in enumerate(zip(params, self._params)):
            if new is not old:
                self._check_distinct(params)
                raise ValueError(
                    f"parameter {i} is not the array this optimizer was built for "
                    f"(shape {old.shape}, dtype {old.dtype}); pass the same arrays, in the "
                    "same order, at every step"
                )

    # ---- configs -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters with Keras 2.2 names; ``clipnorm``/``clipvalue`` only when set."""
        config: dict[str, Any] = {}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        for key in self.config_keys:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        """Build an optimizer from ``get_config()``'s output."""
        return cls(**config)

    # ---- weights -------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """The complete state as arrays, in Keras 2.3's layout: ``iterations`` (0-d int64),
        the host scalars (Nadam's ``m_schedule``), then each slot for every parameter.
        Empty before the first step or ``build``, as in Keras."""
        if self._params is None:
            return []
        weights = [np.array(self.iterations, dtype=np.int64)]
        weights += [
            np.array(self._scalars[k], dtype=np.float64) for k in self.scalar_state
        ]
        for k in range(len(self.slot_names())):
            weights += [slots[k].copy() for slots in self._slots]
        for _ in self.legacy_slot_names():
            weights += [np.zeros((1,), dtype=p.dtype) for p in self._params]
        return weights

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Restore ``get_weights()``'s output, or Keras 2.2.4's shorter lists (without
        ``iterations`` for RMSprop/Adagrad/Adadelta, without ``m_schedule`` for Nadam).
        Every length, shape and value is checked before anything is assigned."""
        names, shapes = self._weight_layout()
        weights = list(weights)
        if len(weights) != len(names):
            short = [n for n in names if n.split("[")[0] not in self.keras224_omits]
            if self.keras224_omits and len(weights) == len(short):
                weights = self._fill_omitted(names, weights)
            else:
                raise ValueError(
                    f"Length of the specified weight list ({len(weights)}) does not match "
                    f"the number of weights of the optimizer ({len(names)})"
                    + ("" if self._params else "; it has none before build() or a step")
                )
        arrays = []
        for name, shape, value in zip(names, shapes, weights):
            if not hasattr(value, "shape"):
                raise ValueError(
                    f"optimizer weight {name} must be an array, got {type(value).__name__}"
                )
            value = np.asarray(value)
            if value.shape != shape:
                raise ValueError(
                    f"Optimizer weight shape {shape} not compatible with provided weight "
                    f"shape {value.shape} (weight {name})"
                )
            if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
                raise ValueError(
                    f"optimizer weight {name} has non-numeric dtype {value.dtype}"
                )
            arrays.append(value)
        iterations = arrays[0]
        if not (
            np.isfinite(iterations)
            and iterations >= 0
            and iterations == np.floor(iterations)
        ):
            raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
        scalar_count = len(self.scalar_state)
        for name, value in zip(
            names[1 : 1 + scalar_count], arrays[1 : 1 + scalar_count]
        ):
            if not np.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        self.iterations = int(iterations)
        self._scalars = {
            k: float(v) for k, v in zip(self.scalar_state, arrays[1 : 1 + scalar_count])
        }
        slot_values = arrays[1 + scalar_count :]
        n = len(self._slots)
        for k in range(len(self.slot_names())):
            for i, slots in enumerate(self._slots):
                np.copyto(slots[k], slot_values[k * n + i], casting="unsafe")

    def _weight_layout(self) -> tuple[list[str], list[tuple[int, ...]]]:
        if self._params is None:
            return [], []
        names = ["iterations"] + list(self.scalar_state)
        shapes: list[tuple[int, ...]] = [()] * len(names)
        for slot in self.slot_names():
            names += [f"{slot}[{i}]" for i in range(len(self._params))]
            shapes += [p.shape for p in self._params]
        for slot in self.legacy_slot_names():
            names += [f"{slot}[{i}]" for i in range(len(self._params))]
            shapes += [(1,)] * len(self._params)
        return names, shapes

    def _fill_omitted(self, names: list[str], weights: list[Any]) -> list[Any]:
        start = {"iterations": np.array(0, dtype=np.int64)}
        start.update({k: np.array(v) for k, v in self.scalar_state.items()})
        given = iter(weights)
        return [start[n] if n in self.keras224_omits else next(given) for n in names]

    # ---- misc ----------------------------------------------------------------------
    @classmethod
    def _accepted_keywords(cls) -> list[str]:
        import inspect

        own = [
            name
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        return own + list(_OPTIONAL_KEYWORDS)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
