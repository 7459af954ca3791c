"""The checks of a step's (gradient, parameter) pairs, shared by every NumPy optimizer and
by the wrapper of framework optimizers (``native.TorchOptimizer``).

``Binding`` holds the parameters an optimizer was built for and checks each step's pairs
against them before anything changes: ``None`` gradients, shapes, dtypes, read-only or
repeated parameters, other arrays than at the first step; gradients that share memory
with a parameter are copied (``detach_aliased``). The usual training loop, the
same arrays as the last step, costs one identity check per array.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..kernels._multi_tensor import same_items

__all__ = [
    "Binding",
    "check_distinct",
    "check_grad",
    "check_no_overlap",
    "check_param",
    "detach_aliased",
    "plain_views",
]

_NONE_GRADIENT = (
    "An operation has `None` for gradient. Please make sure that all of your ops have a "
    "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
    "K.round, K.eval."
)
_dtype = operator.attrgetter("dtype")
_shape = operator.attrgetter("shape")
_writeable = operator.attrgetter("flags.writeable")


def check_param(i: int, param: Any) -> np.ndarray:
    """Parameter ``i`` as it must be: a writeable floating-point NumPy array."""
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
        raise ValueError(f"parameter {i} is read-only; the step updates it in place")
    return param


def check_grad(i: int, grad: Any, param: np.ndarray) -> np.ndarray:
    """Gradient ``i`` as an array of its parameter's shape and dtype."""
    if grad is None:
        raise ValueError(f"gradient {i}: {_NONE_GRADIENT}")
    if not isinstance(grad, np.ndarray):
        grad = np.asarray(grad)
    elif type(grad) is not np.ndarray:
        grad = grad.view(np.ndarray)
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


def check_distinct(params: Sequence[np.ndarray]) -> None:
    """Each parameter may appear once."""
    seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if id(p) in seen:
            raise ValueError(
                f"parameter {i} is the same array as parameter {seen[id(p)]}; each "
                "parameter may appear once per step"
            )
        seen[id(p)] = i


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


def _each_pair(pairs: list[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    grads, params = [], []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                f"apply_gradients expects (gradient, parameter) pairs; item {i} is "
                f"{type(pair).__name__}"
            )
        grad, param = pair
        param = check_param(i, param)
        grads.append(check_grad(i, grad, param))
        params.append(param)
    return grads, params


def _plain(array: np.ndarray) -> np.ndarray:
    return array if type(array) is np.ndarray else array.view(np.ndarray)


def plain_views(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The arrays themselves, or plain ndarray views of ndarray subclasses (a
    ``matrix``, a masked array, a ``memmap``): the engines compute element by element
    on plain arrays, whatever ``*`` means for the subclass (a masked array's mask is
    not consulted: every element is stepped)."""
    return list(map(_plain, arrays))


def _bounds(array: np.ndarray) -> tuple[int, int]:
    return np.lib.array_utils.byte_bounds(array)


def _sharing_pairs(
    arrays: Sequence[np.ndarray], wanted: Callable[[int, int], bool]
) -> Iterator[tuple[int, int]]:
    """The index pairs ``(i, j)``, ``i < j``, of ``arrays`` that share memory and that
    ``wanted(i, j)`` asks about. Arrays are sorted by their first byte, so only arrays
    whose byte ranges overlap are compared element by element (``np.shares_memory``);
    views laid end to end cost nothing."""
    spans = sorted(
        (_bounds(a) + (i,) for i, a in enumerate(arrays) if a.size),
        key=lambda span: span[0],
    )
    open_spans: list[tuple[int, int, int]] = []
    for low, high, i in spans:
        open_spans = [span for span in open_spans if span[1] > low]
        for _, _, j in open_spans:
            first, second = sorted((i, j))
            if wanted(first, second) and np.shares_memory(arrays[i], arrays[j]):
                yield first, second
        open_spans.append((low, high, i))


def check_no_overlap(params: Sequence[np.ndarray]) -> None:
    """No two parameters share memory (``p`` and ``p[...]``, overlapping slices of one
    buffer): each would be stepped twice."""
    for first, second in _sharing_pairs(params, lambda i, j: True):
        raise ValueError(
            f"parameters {first} and {second} share memory (views of the same "
            "array that overlap); each element may belong to one parameter "
            "only, or it would be updated twice per step"
        )


def _same_elements(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are the same elements of memory in the same order."""
    return (
        a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _owner_key(array: np.ndarray) -> int | None:
    """The id of the ndarray that owns ``array``'s memory, or None when no ndarray owns
    it (a buffer from elsewhere: ``np.frombuffer``, a memmap's mmap), so that arrays of
    different keys, None apart, cannot share memory."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array) if array.base is None else None


def detach_aliased(
    grads: Sequence[np.ndarray], params: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """``grads``, with copies in place of those that share memory with a parameter
    (``grads[1]`` a view of ``params[0]``, or of ``params[1]`` shifted): a step reads
    every gradient as it was before the step, whichever order an engine writes the
    parameters in. A gradient that is element for element its own parameter is read
    before that element is written by every engine, and is kept. Only the arrays whose
    memory has one owner (``_owner_key``) are compared, so gradients of their own cost
    a walk up their ``base`` each."""
    param_keys = list(map(_owner_key, params))
    owners = set(param_keys)
    suspects = [k for k, g in enumerate(grads) if _owner_key(g) in owners]
    if not suspects:
        return list(grads)
    keys = {_owner_key(grads[k]) for k in suspects}
    near = [i for i, key in enumerate(param_keys) if key in keys]
    arrays = [params[i] for i in near] + [grads[k] for k in suspects]
    n = len(near)

    def mixed(i: int, j: int) -> bool:
        if not i < n <= j:
            return False  # two parameters (checked at binding) or two gradients
        p, k = near[i], suspects[j - n]
        return not (p == k and _same_elements(params[p], grads[k]))

    aliased = {suspects[j - n] for _, j in _sharing_pairs(arrays, mixed)}
    return [g.copy() if k in aliased else g for k, g in enumerate(grads)]


# What a step relies on and a caller can change in place between two steps.
_param_facts = operator.attrgetter("shape", "strides", "dtype", "flags.writeable")
_grad_facts = operator.attrgetter("shape", "strides", "dtype")


class Binding:
    """The parameters an optimizer is bound to (None before its first step or
    ``build``), and the gradients of its last step.

    ``pairs`` returns what the engines work on: the parameters as given (plain views of
    ndarray subclasses) and the gradients as plain arrays of their parameter's dtype.
    The usual training loop (the very arrays of the last step again) costs one identity
    check and a look at each array's shape, strides, dtype and writeable flag: what can
    change in place between two steps (the data pointer cannot: NumPy refuses to
    resize an array the optimizer holds a reference to).
    """

    def __init__(self, remember_grads: bool = True) -> None:
        self.params: list[np.ndarray] | None = None  # as the caller gives them
        self.arrays: list[np.ndarray] | None = None  # what the engines update
        self.last_grads: list[np.ndarray] | None = None  # as the caller gave them
        self._remember_grads = remember_grads
        self._param_facts: list[tuple[Any, ...]] = []
        self._grad_facts: list[tuple[Any, ...]] = []
        self._checked_grads: list[np.ndarray] = []

    def pairs(
        self, grads_and_params: Iterable[tuple[Any, np.ndarray]]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The checked gradients and parameters of one step's pairs (also checked
        against the bound parameters), as the engines take them."""
        try:
            pairs = list(grads_and_params)
        except TypeError:
            raise TypeError(
                "apply_gradients expects an iterable of (gradient, parameter) pairs, "
                f"got {type(grads_and_params).__name__}"
            ) from None
        if not pairs:
            raise ValueError("apply_gradients got no (gradient, parameter) pairs")
        if self.params is not None and self.last_grads is not None:
            same = self._same_arrays(pairs)
            if same is not None:
                return same
        checked = _usual_pairs(pairs)
        if checked is None:
            checked = _each_pair(pairs)
        grads, params = checked
        grads = detach_aliased(grads, params)
        if self.params is None:
            check_distinct(params)
            check_no_overlap(params)
            arrays = plain_views(params)
        else:
            self.check_same(params)
            assert self.arrays is not None
            arrays = self.arrays
        self._pending = params, grads
        return plain_views(grads), arrays

    def _same_arrays(
        self, pairs: list[Any]
    ) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
        """The last step's result when ``pairs`` holds exactly the arrays of the last
        step, in order, unchanged in shape, strides, dtype and writeability; else None
        (the full checks then run, and raise if something is wrong)."""
        assert self.params is not None and self.last_grads is not None
        if len(pairs) != len(self.params) or set(map(len, pairs)) != {2}:
            return None
        new_grads, new_params = zip(*pairs)
        if (
            same_items(new_params, self.params)
            and same_items(new_grads, self.last_grads)
            and list(map(_param_facts, new_params)) == self._param_facts
            and list(map(_grad_facts, new_grads)) == self._grad_facts
        ):
            assert self.arrays is not None
            self._pending = self.params, self.last_grads
            return self._checked_grads, self.arrays
        return None

    def bind(self, params: list[np.ndarray]) -> list[np.ndarray]:
        """Bind to checked ``params`` (``build``); the arrays the engines update."""
        self.params, self.last_grads = params, None
        self.arrays = plain_views(params)
        self._param_facts = list(map(_param_facts, params))
        return self.arrays

    def stepped(self, grads: list[np.ndarray]) -> None:
        """Record the step whose pairs ``pairs`` returned (binds on the first one);
        ``grads`` are the checked gradients it returned."""
        params, given = self._pending
        if self.params is None:
            self.bind(params)
        if self._remember_grads and given is not self.last_grads:
            self.last_grads = given
            self._grad_facts = list(map(_grad_facts, given))
            self._checked_grads = grads

    def build(self, params: Iterable[Any]) -> list[np.ndarray] | None:
        """The checked ``params``, to ``bind`` to, or None when they are the bound ones
        already."""
        params = [check_param(i, p) for i, p in enumerate(params)]
        if not params:
            raise ValueError("build() got no parameters")
        check_distinct(params)
        if self.params is not None:
            self.check_same(params)
            return None
        check_no_overlap(params)
        return params

    def check_same(self, params: list[np.ndarray]) -> None:
        """``params`` must be the bound arrays, in order, with the shape, strides and
        dtype they had then (the slots were made for them) and writeable."""
        bound = self.params
        assert bound is not None
        if params is bound or same_items(params, bound):
            if list(map(_param_facts, params)) != self._param_facts:
                self._changed(params)
            return
        if len(params) != len(bound):
            check_distinct(params)
            raise ValueError(
                f"this optimizer was built for {len(bound)} parameters and got "
                f"{len(params)}; use one optimizer per set of parameters"
            )
        for i, (new, old) in enumerate(zip(params, bound)):
            if new is not old:
                check_distinct(params)
                raise ValueError(
                    f"parameter {i} is not the array this optimizer was built for "
                    f"(shape {old.shape}, dtype {old.dtype}); pass the same arrays, in the "
                    "same order, at every step"
                )

    def _changed(self, params: list[np.ndarray]) -> None:
        for i, (p, facts) in enumerate(zip(params, self._param_facts)):
            check_param(i, p)
            if _param_facts(p) != facts:
                shape, strides, dtype, _ = facts
                raise ValueError(
                    f"parameter {i} changed in place since the optimizer was built: "
                    f"shape {p.shape}, strides {p.strides}, dtype {p.dtype}, was "
                    f"{shape}, {strides}, {dtype} (its slots were made for that); "
                    "keep each parameter's shape and dtype, or make a new optimizer"
                )
