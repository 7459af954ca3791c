"""The fused engine: each optimizer's rule compiled by numba into one pass over memory.

Per element, the compiled kernel reads the parameter, the gradient and the slots once,
clips the gradient (``clip.clip_element``), runs the optimizer's own ``rule`` and writes
the parameter and slots back: the minimal memory traffic of a step. When the parameters,
the gradients and every slot are each laid end to end in one buffer (``flat.py``; the
slots always are, as this engine allocates them), the whole step is one kernel call and
the clipnorm global norm one more. Otherwise the C-contiguous tensors of each
dtype still go to one call, of the multi-tensor kernel (``_multi_tensor.py``: tables of
addresses, elements cut into chunks shared by the threads); the kernel runs once per
tensor only for non-contiguous ones, through contiguous copies, and float16 (which
numba does not compute in) goes through the reference engine's NumPy code.

Results are those of ``ReferenceEngine``, bit for bit: float32 steps get float32
coefficients, so the compiled arithmetic is NumPy's (Python floats are weak scalars
there), and no fast-math flag lets the compiler reorder anything. The one exception is
clipnorm's global norm: each gradient's float64 sum of squares is summed by numba in
fixed blocks of its own elements (``squares``: the same value whatever the layout, the
grouping or the thread count) where the reference uses ``np.dot``; the two orders differ
by at most (n - 1) * 2**-53 relative for n elements, and the step is then bitwise the
reference step with that norm (tests/test_fused_engine.py checks both statements).

numba is imported on the first step, never by ``import gradstep``; kernels compile lazily
per rule and dtype and are cached on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._multi_tensor import Group, Tables, address_table, chunk_rows, same_items
from .clip import Clipping, squared_norms
from .flat import contiguous_span, flat_arrays
from .reference import ReferenceEngine

__all__ = [
    "AddressedStep",
    "FusedEngine",
    "addressed_step",
    "numba_available",
    "require_numba",
]

_COMPILED = (np.dtype(np.float32), np.dtype(np.float64))
# Below this many elements a kernel runs on the calling thread (no worker wake-ups).
SERIAL_BELOW = 1 << 15
_INSTALL_HINT = 'pip install -e ".[fast]"'
_kernels: dict[Any, Any] = {}
_lock = threading.Lock()


def numba_available() -> bool:
    """Whether numba can be imported here (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def require_numba() -> None:
    """Raise ``ImportError`` naming the extra to install when numba is missing."""
    if not numba_available():
        raise ImportError(
            "engine='fused' needs numba, which is not installed; install it with "
            f"`{_INSTALL_HINT}`, or use engine='reference' (or None for the fastest "
            "engine available)"
        )


def _numba() -> Any:
    from . import _numba_kernels

    return _numba_kernels


def _kernel(
    rule: Callable[..., Any],
    coefficients: NamedTuple,
    dtype: np.dtype,
    count: int,
    parallel: bool = True,
    multi: bool = False,
    clip: bool = True,
) -> Any:
    """The compiled kernel of ``rule`` for ``dtype`` arrays (``coefficients`` typed) and
    ``count`` slots (``multi``: its multi-tensor form; ``clip=False``: for optimizers
    that never clip), or None when numba cannot compile the rule (a custom rule calling
    functions numba lacks): the reference engine then runs it, with the same results.
    Compiling happens here, on empty arrays, so a failure never leaves a step half done.
    """
    key = (rule, type(coefficients), dtype, count, parallel, multi, clip)
    if key not in _kernels:
        kernels = _numba()
        build = kernels.multi_tensor_kernel if multi else kernels.step_kernel
        cache = kernels.cacheable(rule, type(coefficients))
        kernel = _compiled(
            build(rule, parallel, cache, clip), coefficients, count, multi
        )
        if kernel is None and cache:
            # A cache that cannot be read (written by another version, say) must not
            # stop the step: compile without it.
            kernel = _compiled(
                build(rule, parallel, False, clip), coefficients, count, multi
            )
        _kernels[key] = kernel
    return _kernels[key]


def _compiled(kernel: Any, coefficients: NamedTuple, count: int, multi: bool) -> Any:
    """``kernel`` compiled for ``coefficients``' dtype by a call on empty arrays (empty
    tables for the multi-tensor form), or None when that fails."""
    empty = np.zeros(0, type(coefficients[0]))
    one = empty.dtype.type(1)
    if multi:
        table = np.zeros(0, np.int64)
        chunks = np.zeros((0, 3), np.int64)
        args = (empty, table, table, (table,) * count, chunks, coefficients, one, one)
    else:
        args = (empty, empty, (empty,) * count, coefficients, one, one)
    try:
        with _lock:
            kernel(*args)
    except Exception:  # noqa: BLE001 - any failure: the reference code runs the rule
        return None
    return kernel


def _typed(coefficients: NamedTuple, dtype: np.dtype) -> NamedTuple:
    """The coefficients as NumPy scalars of ``dtype``: what NumPy does to Python floats
    that meet ``dtype`` arrays, so the compiled arithmetic stays in ``dtype``."""
    return type(coefficients)(*map(dtype.type, coefficients))


class _Layout:
    """The one-buffer span (or None) of the last arrays seen, so that a step over the
    same arrays (the usual case) costs one identity check per array instead of a layout
    scan. The caller keeps the arrays' layout as it was (``optimizers._checks`` checks
    shape, strides and dtype before every step)."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] | None = None
        self.span: np.ndarray | None = None
        self._table: tuple[np.ndarray, np.ndarray] | None = None

    def span_of(self, arrays: Sequence[np.ndarray]) -> np.ndarray | None:
        if same_items(arrays, self.arrays):
            return self.span
        self.span = contiguous_span(arrays)
        self.arrays = list(arrays)
        self._table = None
        return self.span

    def squares(self) -> list[float]:
        """Each array's sum of squares (``FusedEngine.squares``), from the span."""
        assert self.span is not None and self.arrays is not None
        if self._table is None:
            sizes = np.array([a.size for a in self.arrays], dtype=np.int64)
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            address = self.span.__array_interface__["data"][0]
            addresses = address + starts * self.span.dtype.itemsize
            self._table = (addresses, chunk_rows(sizes.tolist()))
        addresses, chunks = self._table
        return _tensor_squares(self.span[:0], addresses, chunks)


class FusedEngine:
    """One compiled pass over memory per step (numba); see the module docstring."""

    name = "fused"

    def __init__(self) -> None:
        require_numba()
        self._params = _Layout()
        self._grads = _Layout()
        self._slots: list[tuple[np.ndarray, ...]] | None = None
        self._slot_spans: tuple[np.ndarray | None, ...] = ()
        self._tables = Tables()

    # ---- slots ---------------------------------------------------------------------
    def allocate_slots(
        self, params: Sequence[np.ndarray], count: int
    ) -> list[tuple[np.ndarray, ...]]:
        """Zero slots, C-contiguous; each slot of all parameters laid end to end in one
        buffer (one per slot) when the parameters share a dtype."""
        dtypes = {p.dtype for p in params}
        if len(dtypes) != 1:
            return [
                tuple(np.zeros(p.shape, p.dtype) for _ in range(count)) for p in params
            ]
        dtype = dtypes.pop()
        shapes = [p.shape for p in params]
        per_slot = [flat_arrays(shapes, dtype)[1] for _ in range(count)]
        return [tuple(views[i] for views in per_slot) for i in range(len(params))]

    # ---- the step ------------------------------------------------------------------
    def step(
        self,
        rule: Callable[..., tuple[Any, ...]],
        coefficients: NamedTuple,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
        clipping: Clipping,
    ) -> None:
        """See ``Engine.step``."""
        count = len(slots[0]) if slots else 0
        clip = clipping.clips
        clipvalue = clipping.value
        flat = self._flat(params, grads, slots)
        if flat is not None:
            p, g, s = flat
            typed = _typed(coefficients, p.dtype)
            parallel = p.size >= SERIAL_BELOW
            kernel = _kernel(rule, typed, p.dtype, count, parallel, clip=clip)
            if kernel is not None:
                scale = clipping.scale(self._grads.squares)
                _run(kernel, p, g, s, typed, scale, clipvalue)
                return
        groups = self._tables.groups(params, slots, _COMPILED)
        tables = self._tables.grads(grads)
        scale = clipping.scale(lambda: self._grouped_squares(grads, groups, tables))
        done = self._multi_tensor_step(
            rule, coefficients, groups, tables, slots, scale, clipvalue, clip
        )
        if len(done) == len(params):
            return
        typed_by_dtype = {
            dtype: _typed(coefficients, dtype)
            for dtype in {p.dtype for p in params}
            if dtype in _COMPILED
        }
        for i, (p, g, s) in enumerate(zip(params, grads, slots)):
            if i in done:
                continue
            typed = typed_by_dtype.get(p.dtype)
            parallel = p.size >= SERIAL_BELOW
            kernel = (
                None
                if typed is None
                else _kernel(rule, typed, p.dtype, count, parallel, clip=clip)
            )
            if kernel is None:
                _reference_step(rule, coefficients, p, g, s, scale, clipvalue)
            else:
                _run_one(kernel, p, g, s, typed, scale, clipvalue)

    def squares(self, grads: Sequence[np.ndarray]) -> list[float]:
        """See ``Engine.squares``: for float32/float64 gradients ``sum_of_squares`` of
        each one's elements (fixed blocks from its start, so the value depends on the
        gradient alone, however it is laid out or grouped), else NumPy's."""
        result = [0.0] * len(grads)
        by_dtype: dict[np.dtype, list[int]] = {}
        others: list[int] = []
        for i, g in enumerate(grads):
            if g.dtype in _COMPILED:
                by_dtype.setdefault(g.dtype, []).append(i)
            else:
                others.append(i)
        for i, value in zip(others, squared_norms([grads[i] for i in others])):
            result[i] = value
        for dtype, indices in by_dtype.items():
            arrays = [np.ascontiguousarray(grads[i]) for i in indices]
            addresses, chunks = address_table(arrays)
            sums = _tensor_squares(np.zeros(0, dtype), addresses, chunks)
            for i, value in zip(indices, sums):
                result[i] = value
        return result

    def _grouped_squares(
        self,
        grads: Sequence[np.ndarray],
        groups: list[Group],
        tables: list[np.ndarray],
    ) -> list[float]:
        """``squares(grads)``, reading the grouped tensors through their gradient
        address ``tables`` (the step needs those anyway)."""
        result: list[float | None] = [None] * len(grads)
        for group, table in zip(groups, tables):
            sums = _tensor_squares(group.like, table, group.chunks)
            for i, value in zip(group.indices, sums):
                result[i] = value
        rest = [i for i, value in enumerate(result) if value is None]
        for i, value in zip(rest, self.squares([grads[i] for i in rest])):
            result[i] = value
        return result  # type: ignore[return-value]

    def _multi_tensor_step(
        self,
        rule: Callable[..., tuple[Any, ...]],
        coefficients: NamedTuple,
        groups: list[Group],
        tables: list[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
        scale: float,
        clipvalue: float,
        clip: bool,
    ) -> set[int]:
        """The grouped tensors, one kernel call per dtype (gradients at the addresses
        of ``tables``); the indices done."""
        done: set[int] = set()
        count = len(slots[0]) if slots else 0
        for group, addresses in zip(groups, tables):
            typed = _typed(coefficients, group.dtype)
            parallel = group.size >= SERIAL_BELOW
            kernel = _kernel(
                rule, typed, group.dtype, count, parallel, multi=True, clip=clip
            )
            if kernel is None:
                continue
            step = AddressedStep(kernel, group, clip)
            step(coefficients, addresses, scale, clipvalue)
            done.update(group.indices)
        return done

    def _flat(
        self,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]] | None:
        """The 1-D spans of params, grads and each slot when each is one buffer."""
        p = self._params.span_of(params)
        if p is None or p.dtype not in _COMPILED:
            return None
        g = self._grads.span_of(grads)
        if g is None or g.shape != p.shape or g.dtype != p.dtype:
            return None
        if not same_items(slots, self._slots):
            self._slots = list(slots)
            count = len(slots[0]) if slots else 0
            self._slot_spans = tuple(
                contiguous_span([s[k] for s in slots]) for k in range(count)
            )
        spans = self._slot_spans
        if any(s is None or s.shape != p.shape or s.dtype != p.dtype for s in spans):
            return None
        return p, g, spans


def _tensor_squares(
    like: np.ndarray, addresses: np.ndarray, chunks: np.ndarray
) -> list[float]:
    with _lock:
        sums = _numba().tensor_squares(like, addresses, chunks, len(addresses))
    return sums.tolist()


class AddressedStep:
    """The multi-tensor kernel of one rule bound to one group of tensors: each call is
    one step of every tensor of the group, with that step's coefficients and gradient
    address table (in the group's order). ``clip``: whether the kernel clips (else
    scale must be 1 and clipvalue inf)."""

    def __init__(self, kernel: Callable[..., None], group: Group, clip: bool) -> None:
        self.kernel = kernel
        self.group = group
        self.clip = clip

    def squares(self, grads: np.ndarray) -> list[float]:
        """``FusedEngine.squares`` of the gradients at these addresses."""
        return _tensor_squares(self.group.like, grads, self.group.chunks)

    def __call__(
        self,
        coefficients: NamedTuple,
        grads: np.ndarray,
        scale: float,
        clipvalue: float,
    ) -> None:
        group = self.group
        cast = group.dtype.type
        with _lock:
            self.kernel(
                group.like,
                group.params,
                grads,
                group.slots,
                group.chunks,
                _typed(coefficients, group.dtype),
                cast(scale),
                cast(clipvalue),
            )


def addressed_step(
    rule: Callable[..., Any],
    coefficients: NamedTuple,
    dtype: np.dtype,
    sizes: Sequence[int],
    params: Sequence[int],
    slots: Sequence[Sequence[int]],
    clip: bool = True,
) -> AddressedStep | None:
    """The step of ``rule`` over tensors given by data addresses, for callers that hold
    the memory themselves (gradstep.torch reads ``data_ptr()``): ``params`` has one
    address per tensor, ``slots`` one such list per slot, ``sizes`` the element counts,
    ``clip`` as for ``AddressedStep``. The caller guarantees C-contiguous tensors of
    ``dtype``, gradients the size of their parameters, and all of them alive during
    each call. None when ``dtype`` is not float32/float64 or numba cannot compile
    ``rule``."""
    dtype = np.dtype(dtype)
    if dtype not in _COMPILED:
        return None
    require_numba()
    group = Group.of(
        dtype,
        list(range(len(sizes))),
        np.asarray(params, dtype=np.int64),
        tuple(np.asarray(s, dtype=np.int64) for s in slots),
        sizes,
    )
    typed = _typed(coefficients, dtype)
    parallel = group.size >= SERIAL_BELOW
    kernel = _kernel(rule, typed, dtype, len(slots), parallel, multi=True, clip=clip)
    return None if kernel is None else AddressedStep(kernel, group, clip)


def _run(
    kernel: Callable[..., None],
    p: np.ndarray,
    g: np.ndarray,
    s: tuple[np.ndarray, ...],
    typed: NamedTuple,
    scale: float,
    clipvalue: float,
) -> None:
    cast = p.dtype.type
    with _lock:  # numba's workqueue threading layer must not be entered twice at once
        kernel(p, g, s, typed, cast(scale), cast(clipvalue))


def _run_one(
    kernel: Callable[..., None],
    p: np.ndarray,
    g: np.ndarray,
    s: tuple[np.ndarray, ...],
    typed: NamedTuple,
    scale: float,
    clipvalue: float,
) -> None:
    """One tensor: 1-D views of contiguous arrays, contiguous copies of the others
    (copied back after the kernel for parameters and slots)."""
    flat_p, flat_g = _contiguous(p), _contiguous(g)
    flat_s = tuple(_contiguous(x) for x in s)
    _run(kernel, flat_p, flat_g, flat_s, typed, scale, clipvalue)
    for target, value in zip((p, *s), (flat_p, *flat_s)):
        if not target.flags.c_contiguous:
            target[...] = value.reshape(target.shape)


def _contiguous(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1)


def _reference_step(
    rule: Callable[..., Any],
    coefficients: NamedTuple,
    p: np.ndarray,
    g: np.ndarray,
    s: tuple[np.ndarray, ...],
    scale: float,
    clipvalue: float,
) -> None:
    """One tensor through the reference engine, with the global norm's ``scale``
    applied first (``clip_element(g * scale, 1.0, v)`` is ``clip_element(g, scale, v)``
    exactly, as multiplying by 1.0 is exact)."""
    if scale != 1.0:
        g = g * scale
    ReferenceEngine().step(rule, coefficients, [p], [g], [s], Clipping(0.0, clipvalue))
