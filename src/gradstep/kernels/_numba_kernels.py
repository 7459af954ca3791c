"""The numba side of the fused engine: one compiled pass over memory per optimizer rule.

Importing this module imports numba; only ``fused.py`` does, on its first step. The
kernels call the optimizers' own rule functions and ``clip.clip_element``: numba compiles
them as they are (``sqrt``, ``maximum`` and ``minimum`` are NumPy's, which numba supports
on scalars with NumPy's NaN propagation), so no optimizer's math is written twice.

Two forms: ``step_kernel`` over 1-D arrays (one buffer per operand), and
``multi_tensor_kernel`` over many tensors given by tables of data addresses; its inner
loop is a separate compiled function taking arrays, where LLVM vectorizes it (with
runtime overlap checks) as it does ``step_kernel``'s loop.

Compiled kernels are cached on disk (``cache=True``). A kernel is a closure over its
rule; numba keys a closure's cache entry on a hash of the captured values, and a rule is
captured by reference (module and name), so the captured ``digest`` of the rule's and the
clip function's code makes an edited rule compile afresh instead of loading a stale
kernel (numba does not track changes in called functions on its own).
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import carray, njit, prange
from numba.core import types
from numba.core.errors import NumbaError
from numba.extending import intrinsic, overload, register_jitable

from .._threading import configure_numba_threads
from ._multi_tensor import CHUNK
from .clip import clip_element

__all__ = [
    "CompileError",
    "cacheable",
    "multi_tensor_kernel",
    "step_kernel",
    "sum_of_squares",
    "tensor_squares",
]

configure_numba_threads()
register_jitable(clip_element)


@register_jitable
def unclipped(g, scale, clipvalue):
    """The gradient as it is: what ``clip_element(g, 1.0, inf)`` gives, bit for bit
    (the reference engine skips clipping then too), without its per-element work."""
    return g


_OPTIONS = {"parallel": True, "error_model": "numpy", "nogil": True}
_LANES = 8  # independent float64 accumulators per block: vectorizable without fastmath
# Elements per block of the norm (the multi-tensor chunk): fixed, so the sum never
# depends on the thread count.
_BLOCK = CHUNK


def _load(arrays, i):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError


def _store(arrays, i, values):  # pragma: no cover - replaced by the overload
    raise NotImplementedError


@overload(_load, inline="always")
def _load_overload(arrays, i):
    """``(arrays[0][i], arrays[1][i], ...)`` for a tuple of any length."""
    if not isinstance(arrays, types.BaseTuple):
        return None
    if len(arrays) == 0:
        return lambda arrays, i: ()
    return lambda arrays, i: (arrays[0][i],) + _load(arrays[1:], i)


@overload(_store, inline="always")
def _store_overload(arrays, i, values):
    """``arrays[k][i] = values[k]`` for every k."""
    if not isinstance(arrays, types.BaseTuple):
        return None
    if len(arrays) == 0:
        return lambda arrays, i, values: None

    def store(arrays, i, values):
        arrays[0][i] = values[0]
        _store(arrays[1:], i, values[1:])

    return store


@intrinsic
def _pointer(typingctx, address, like):
    """The int64 ``address`` as a pointer to elements of ``like``'s dtype."""
    if not isinstance(address, types.Integer) or not isinstance(like, types.Array):
        return None
    result = types.CPointer(like.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(result))

    return result(address, like), codegen


def _views(addresses, t, n, like):  # pragma: no cover - replaced by the overload
    raise NotImplementedError


@overload(_views, inline="always")
def _views_overload(addresses, t, n, like):
    """``(carray(addresses[0][t], n), carray(addresses[1][t], n), ...)``."""
    if not isinstance(addresses, types.BaseTuple):
        return None
    if len(addresses) == 0:
        return lambda addresses, t, n, like: ()

    def views(addresses, t, n, like):
        head = carray(_pointer(addresses[0][t], like), n)
        return (head,) + _views(addresses[1:], t, n, like)

    return views


def _slices(arrays, start):  # pragma: no cover - replaced by the overload
    raise NotImplementedError


@overload(_slices, inline="always")
def _slices_overload(arrays, start):
    """``(arrays[0][start:], arrays[1][start:], ...)``."""
    if not isinstance(arrays, types.BaseTuple):
        return None
    if len(arrays) == 0:
        return lambda arrays, start: ()
    return lambda arrays, start: (arrays[0][start:],) + _slices(arrays[1:], start)


# The multi-tensor kernels' inner loops by digest: one compiled function per rule and
# variant in a process (it compiles per dtype), so each has its own stable identity.
_INNER_LOOPS: dict[str, Any] = {}


def _stable_identity(dispatcher: Any, name: str) -> None:
    """Give a compiled function captured by a cached kernel the same identity in every
    process. numba keys a closure's disk-cache entry on the pickled values it captures,
    and pickles a compiled function with a random per-process id (``_uuid``), so a
    kernel capturing one would miss the cache in every new process and add an entry.
    ``name`` must be unique to the function's code and options (the caller's digest)."""
    dispatcher._set_uuid(name)


def _digest(*functions: Callable[..., Any]) -> str:
    code = b"".join(marshal.dumps(f.__code__) for f in functions)
    return hashlib.sha256(code).hexdigest()


def cacheable(*objects: Any) -> bool:
    """True for gradstep's own module-level functions and classes. Every rule's kernel
    shares one cache index (one closure), and numba unpickles the whole index to load
    any entry, so an entry naming a class that another process cannot import (a custom
    optimizer in a script or a test module) would break loading for every rule: other
    rules compile afresh in each process instead (a few seconds, once)."""
    import sys

    for obj in objects:
        name = getattr(obj, "__module__", None) or ""
        module = sys.modules.get(name)
        if (
            not name.startswith("gradstep.")
            or getattr(module, "__spec__", None) is None
        ):
            return False
        if getattr(module, getattr(obj, "__qualname__", "<"), None) is not obj:
            return False
    return True


def _variant(
    rule: Callable[..., Any], form: str, parallel: bool, clip: bool
) -> tuple[str, Callable[..., Any]]:
    """The digest that keys a kernel's disk cache (numba keys a closure's entry on its
    code and captured values, not on its options, so the variant is part of it), and
    the gradient function the kernel applies (``clip_element``, or ``unclipped`` for
    steps that never clip)."""
    digest = _digest(rule, clip_element)
    threads = "parallel" if parallel else "serial"
    clipping = "clip" if clip else "noclip"
    return f"{digest}-{form}-{threads}-{clipping}", clip_element if clip else unclipped


def step_kernel(
    rule: Callable[..., tuple[Any, ...]],
    parallel: bool = True,
    cache: bool = False,
    clip: bool = True,
) -> Callable[..., None]:
    """The compiled step of ``rule`` over 1-D arrays (numba compiles it per dtype)::

        kernel(params, grads, slots, coefficients, scale, clipvalue)

    ``slots`` is a tuple of arrays like ``params``; every element i becomes
    ``rule(params[i], clip_element(grads[i], scale, clipvalue), *slots[:][i], c)``.
    ``parallel=False`` gives the same loop on the calling thread, for small arrays: waking
    worker threads costs more than it saves there, and much more on a busy machine.
    ``clip=False`` leaves out ``clip_element`` (scale 1 and no clipvalue: the same
    results). ``cache=True`` (on disk) only where ``cacheable(rule, coefficient class)``.
    """
    if cache:
        register_jitable(rule)
    digest, gradient = _variant(rule, "flat", parallel, clip)
    compiled_rule = rule if cache else njit(rule)

    @njit(cache=cache, **{**_OPTIONS, "parallel": parallel})
    def kernel(params, grads, slots, coefficients, scale, clipvalue):
        digest  # noqa: B018 - captured only to key the disk cache on the rule's code
        for i in prange(params.shape[0]):
            g = gradient(grads[i], scale, clipvalue)
            new = compiled_rule(params[i], g, *_load(slots, i), coefficients)
            params[i] = new[0]
            _store(slots, i, new[1:])

    return kernel


def multi_tensor_kernel(
    rule: Callable[..., tuple[Any, ...]],
    parallel: bool = True,
    cache: bool = False,
    clip: bool = True,
) -> Callable[..., None]:
    """The compiled step of ``rule`` over many C-contiguous tensors of one dtype, in one
    call (the multi-tensor form of ``step_kernel``)::

        kernel(like, params, grads, slots, chunks, coefficients, scale, clipvalue)

    ``params`` and ``grads`` are int64 arrays of the tensors' data addresses, ``slots``
    a tuple of such arrays (one per slot), ``like`` an empty array of their dtype, and
    each row ``(tensor, start, stop)`` of ``chunks`` a range of one tensor's elements:
    the rows are spread over the threads. The caller keeps the arrays alive.
    """
    if cache:
        register_jitable(rule)
    digest, gradient = _variant(rule, "multi", parallel, clip)
    compiled_rule = rule if cache else njit(rule)

    run = _INNER_LOOPS.get(digest) if cache else None
    if run is None:

        @njit(cache=cache, **{**_OPTIONS, "parallel": False})
        def run(p, g, s, coefficients, scale, clipvalue):
            digest  # noqa: B018 - captured only to key the disk cache on the rule's code
            for i in range(p.shape[0]):
                new = compiled_rule(
                    p[i], gradient(g[i], scale, clipvalue), *_load(s, i), coefficients
                )
                p[i] = new[0]
                _store(s, i, new[1:])

        if cache:
            _stable_identity(run, f"gradstep-{digest}-run")
            _INNER_LOOPS[digest] = run

    @njit(cache=cache, **{**_OPTIONS, "parallel": parallel})
    def kernel(like, params, grads, slots, chunks, coefficients, scale, clipvalue):
        digest  # noqa: B018 - captured only to key the disk cache on the rule's code
        for c in prange(chunks.shape[0]):
            t, start, stop = chunks[c, 0], chunks[c, 1], chunks[c, 2]
            p = carray(_pointer(params[t], like), stop)[start:]
            g = carray(_pointer(grads[t], like), stop)[start:]
            s = _slices(_views(slots, t, stop, like), start)
            run(p, g, s, coefficients, scale, clipvalue)

    return kernel


@njit(cache=True, error_model="numpy", nogil=True)
def _block_squares(values):
    """The sum of ``float64(x)**2`` over one block: ``_LANES`` interleaved float64
    accumulators over whole groups of lanes, then the tail and the lanes in order."""
    n = values.shape[0]
    lanes = np.zeros(_LANES, dtype=np.float64)
    whole = n // _LANES * _LANES
    for j in range(0, whole, _LANES):
        for k in range(_LANES):
            x = np.float64(values[j + k])
            lanes[k] += x * x
    total = 0.0
    for j in range(whole, n):
        x = np.float64(values[j])
        total += x * x
    for k in range(_LANES):
        total += lanes[k]
    return total


@njit(cache=True, **_OPTIONS)
def sum_of_squares(values):
    """The sum of ``float64(x)**2`` over a 1-D array: blocks of ``_BLOCK`` elements from
    its start (``_block_squares``), then the block sums in order. The order is fixed by
    the length alone, so the result is the same for any thread count."""
    n = values.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    partial = np.zeros(blocks, dtype=np.float64)
    for b in prange(blocks):
        start = b * _BLOCK
        partial[b] = _block_squares(values[start : min(start + _BLOCK, n)])
    total = 0.0
    for b in range(blocks):
        total += partial[b]
    return total


@njit(cache=True, **_OPTIONS)
def tensor_squares(like, addresses, chunks, count):
    """``sum_of_squares`` of each of ``count`` C-contiguous tensors given by data
    addresses, in one call: ``chunks`` are the multi-tensor kernel's rows
    ``(tensor, start, stop)``, in order and cut every ``CHUNK`` elements of each tensor,
    so each tensor's blocks and their order are ``sum_of_squares``'s."""
    partial = np.zeros(chunks.shape[0], dtype=np.float64)
    for c in prange(chunks.shape[0]):
        t, start, stop = chunks[c, 0], chunks[c, 1], chunks[c, 2]
        partial[c] = _block_squares(carray(_pointer(addresses[t], like), stop)[start:])
    sums = np.zeros(count, dtype=np.float64)
    for c in range(chunks.shape[0]):
        sums[chunks[c, 0]] += partial[c]
    return sums


CompileError = NumbaError
