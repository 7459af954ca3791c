"""Reading ``.npz`` archives with bounded memory, no pickle and one error type.

``NpzArchive`` lists an archive's members from its zip directory and parses a member's
``.npy`` header without inflating its data; ``read`` allocates only what the header
declares, after checking it against the member's size in the zip directory and the
caller's budget, reads exactly that many bytes and verifies the member's CRC. Every
exception a damaged file can raise (zip, zlib, LZMA, bzip2, unknown compression,
encryption, tokenize and syntax errors of a damaged header...) becomes the caller's
error class, with the file's name.
"""

from __future__ import annotations

import bz2  # noqa: F401 - zipfile's bzip2 members then fail inside the guard
import lzma
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib import format as npformat

__all__ = ["DAMAGED", "MAX_BYTES", "Member", "NpzArchive", "read_arrays"]

DAMAGED: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    SyntaxError,
    tokenize.TokenError,
    UnicodeDecodeError,
    struct.error,
    RecursionError,
    MemoryError,
)
"""What reading a damaged archive can raise (``OSError`` is reported apart)."""

_MAX_HEADER = 1 << 16  # bytes of a .npy header (NumPy writes ~128)
MAX_BYTES = 1 << 31
"""The most bytes ``read_arrays`` lets the members of one archive declare together."""


@dataclass(frozen=True)
class Member:
    """A ``.npy`` member as its headers declare it."""

    key: str  # the member's name without ".npy"
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    stored: bool  # not compressed: its bytes are in the file as they are

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class NpzArchive:
    """An open ``.npz`` file (use ``NpzArchive.open``)."""

    def __init__(
        self, path: str, archive: zipfile.ZipFile, error: type[Exception]
    ) -> None:
        self.path = path
        self._archive = archive
        self._error = error
        self.size = os.path.getsize(path)

    @classmethod
    @contextmanager
    def open(
        cls, path: str | os.PathLike[str], error: type[Exception], what: str
    ) -> Iterator[NpzArchive]:
        """The archive at ``path``; ``error`` naming the file when it is missing,
        unreadable, not a zip archive (``what`` names what it should be) or damaged,
        also while the caller reads it."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as handle:
                head = handle.read(4)
                if head not in (b"PK\x03\x04", b"PK\x05\x06"):
                    kind = (
                        "a .npy array"
                        if head.startswith(b"\x93NUM")
                        else "not a zip file"
                    )
                    raise error(f"{path} is not {what}: it is {kind}")
                handle.seek(0)
                with zipfile.ZipFile(handle) as archive:
                    yield cls(path, archive, error)
        except error:
            raise
        except FileNotFoundError:
            raise error(f"{path} does not exist") from None
        except OSError as exc:
            raise error(f"cannot read {path}: {exc.strerror or exc}") from None
        except DAMAGED as exc:
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise error(f"{path} is truncated or corrupt ({detail})") from None

    def keys(self) -> list[str]:
        """The names of the members, as they are in the zip directory."""
        return self._archive.namelist()

    def member(self, key: str) -> Member:
        """The header of member ``key`` (its data is not read)."""
        info = self._info(key)
        with self._archive.open(info) as stream:
            shape, fortran, dtype = self._npy_header(key, stream)
        return Member(
            key, shape, dtype, fortran, info.compress_type == zipfile.ZIP_STORED
        )

    def read(self, key: str, budget: int) -> np.ndarray:
        """The array of member ``key``, allocating at most ``budget`` bytes; its whole
        member is read, so a wrong CRC or trailing bytes raise here."""
        info = self._info(key)
        with self._archive.open(info) as stream:
            shape, fortran, dtype = self._npy_header(key, stream)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > budget or nbytes > info.file_size:
                raise self._error(
                    f"{self.path}: array {key!r} declares shape {shape} ({nbytes} "
                    f"bytes) but {min(budget, info.file_size)} bytes are the most it "
                    "may hold here; the file is damaged or not what it claims"
                )
            data = stream.read(nbytes)
            if len(data) != nbytes or stream.read(1):
                raise self._error(
                    f"{self.path}: array {key!r} holds another number of bytes than its "
                    f"header declares ({nbytes}); the file is damaged"
                )
        order = "F" if fortran else "C"
        return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()

    def _info(self, key: str) -> zipfile.ZipInfo:
        try:
            return self._archive.getinfo(f"{key}.npy")
        except KeyError:
            raise self._error(f"{self.path} has no array {key!r}") from None

    def _npy_header(self, key: str, stream: Any) -> tuple[Any, bool, np.dtype]:
        version = npformat.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(
                stream, max_header_size=_MAX_HEADER
            )
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(
                stream, max_header_size=_MAX_HEADER
            )
        else:
            raise self._error(
                f"{self.path}: array {key!r} has an unknown .npy version {version}"
            )
        if dtype.hasobject:
            raise self._error(
                f"{self.path}: array {key!r} holds Python objects, which cannot be read "
                "without pickle (refused)"
            )
        self._check_shape(key, shape)
        return tuple(shape), bool(fortran), dtype

    def _check_shape(self, key: str, shape: Any) -> None:
        """Every dimension a non-negative int: a negative one would make the declared
        size negative, pass every budget and read (inflate) the whole member."""
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise self._error(
                f"{self.path}: array {key!r} declares the shape {tuple(shape)!r}; a "
                "shape holds integers >= 0, so the file is damaged"
            )


def read_arrays(
    path: str | os.PathLike[str],
    keys: Iterable[str],
    error: type[Exception],
    *,
    what: str = "a .npz archive",
    max_bytes: int = MAX_BYTES,
) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of the archive at ``path``; ``error`` (one line naming the
    file) for a missing, unreadable, non-zip or damaged file, a missing key, or members
    declaring more than ``max_bytes`` in total. Never unpickles."""
    keys = list(keys)
    with NpzArchive.open(path, error, what) as archive:
        names = archive.keys()
        missing = [key for key in keys if f"{key}.npy" not in names]
        if missing:
            found = sorted(n[:-4] for n in names if n.endswith(".npy"))
            raise error(
                f"{archive.path} lacks {', '.join(missing)}; it needs the arrays "
                f"{', '.join(keys)} (it has {', '.join(found) or 'none'})"
            )
        arrays: dict[str, np.ndarray] = {}
        budget = max_bytes
        for key in keys:
            arrays[key] = archive.read(key, budget)
            budget -= arrays[key].nbytes
        return arrays
