"""Many separate tensors in one kernel call: the tables the multi-tensor kernel reads.

When parameters are not laid end to end in one buffer, one kernel call per tensor costs
~20 us each (argument typing, thread wake-ups): 20 ms a step at 1,000 tensors. Instead,
the tensors of one dtype go to one call as tables of data addresses, with their elements
cut into chunks that the threads share. Parameters and slots keep their addresses from
step to step, so their tables are kept while the same arrays come back (the optimizer
holds these arrays anyway); the gradients' table is remade when other gradient arrays
come, and the last one kept, with its arrays, until the next step.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK", "Group", "Tables", "address_table", "chunk_rows", "same_items"]

CHUNK = 1 << 14  # elements per chunk: a thread's share of work is whole chunks


@dataclass
class Group:
    """The C-contiguous tensors of one dtype: their indices in the step's lists, the
    addresses of their parameters and of each slot, and the chunk rows
    ``(tensor, start, stop)``; ``like`` is an empty array of the dtype for the kernel."""

    dtype: np.dtype
    like: np.ndarray
    indices: list[int]
    params: np.ndarray
    slots: tuple[np.ndarray, ...]
    chunks: np.ndarray
    size: int

    @classmethod
    def of(
        cls,
        dtype: np.dtype,
        indices: list[int],
        params: np.ndarray,
        slots: tuple[np.ndarray, ...],
        sizes: Sequence[int],
    ) -> Group:
        """The group of tensors with these parameter and slot address tables and
        element counts."""
        return cls(
            dtype=np.dtype(dtype),
            like=np.zeros(0, dtype),
            indices=indices,
            params=params,
            slots=slots,
            chunks=chunk_rows(sizes),
            size=sum(sizes),
        )


def _address(array: np.ndarray) -> int:
    return array.ctypes.data


def _addresses(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.fromiter(map(_address, arrays), dtype=np.int64, count=len(arrays))


def chunk_rows(sizes: Sequence[int]) -> np.ndarray:
    """The rows ``(tensor, start, stop)`` cutting tensors of these sizes every
    ``CHUNK`` elements, in order."""
    rows = [
        (t, start, min(start + CHUNK, size))
        for t, size in enumerate(sizes)
        for start in range(0, size, CHUNK)
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def address_table(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The data addresses and chunk rows of C-contiguous ``arrays``."""
    return _addresses(arrays), chunk_rows([a.size for a in arrays])


def same_items(a: Sequence[object], b: Sequence[object] | None) -> bool:
    """Whether ``b`` holds the very objects of ``a``, in order."""
    return b is not None and len(a) == len(b) and all(map(operator.is_, a, b))


class Tables:
    """The groups of the last parameters seen, and the gradient tables of the last
    gradients seen."""

    def __init__(self) -> None:
        self._params: list[np.ndarray] | None = None
        self._slots: list[tuple[np.ndarray, ...]] | None = None
        self._groups: list[Group] = []
        self._grads: list[np.ndarray] | None = None
        self._grad_tables: list[tuple[np.ndarray, list[tuple[int, np.ndarray]]]] = []

    def groups(
        self,
        params: Sequence[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
        dtypes: Sequence[np.dtype],
    ) -> list[Group]:
        """One group per dtype in ``dtypes`` of the tensors whose parameter and slots
        are C-contiguous (the others are left to the caller)."""
        if same_items(params, self._params) and same_items(slots, self._slots):
            return self._groups
        by_dtype: dict[np.dtype, list[int]] = {}
        for i, (p, s) in enumerate(zip(params, slots)):
            if (
                p.dtype in dtypes
                and p.flags.c_contiguous
                and all(x.flags.c_contiguous and x.dtype == p.dtype for x in s)
            ):
                by_dtype.setdefault(p.dtype, []).append(i)
        count = len(slots[0]) if slots else 0
        self._groups = [
            Group.of(
                dtype,
                indices,
                _addresses([params[i] for i in indices]),
                tuple(_addresses([slots[i][k] for i in indices]) for k in range(count)),
                [params[i].size for i in indices],
            )
            for dtype, indices in by_dtype.items()
        ]
        self._params, self._slots = list(params), list(slots)
        self._grads = None
        return self._groups

    def grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The address table of each group's gradients, for one step. C-contiguous
        copies are made, and kept with the tables, for the gradients that are not
        C-contiguous of the group's dtype; while the same gradient arrays come back they
        are refilled at each call, since the arrays may hold new values."""
        if same_items(grads, self._grads):
            for _, copies in self._grad_tables:
                for i, copy in copies:
                    np.copyto(copy, grads[i], casting="unsafe")
        else:
            tables = []
            for group in self._groups:
                arrays = [
                    np.ascontiguousarray(grads[i], dtype=group.dtype)
                    for i in group.indices
                ]
                copies = [
                    (i, array)
                    for i, array in zip(group.indices, arrays)
                    if array is not grads[i]
                ]
                tables.append((_addresses(arrays), copies))
            self._grads, self._grad_tables = list(grads), tables
        return [table for table, _ in self._grad_tables]
