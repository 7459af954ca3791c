"""Reading named arrays from a ``.npz`` archive with bounded memory and one error type.

Every member is checked before anything is inflated or allocated: it must be a ``.npy``
member whose header parses, whose dtype holds no Python objects and whose declared size
fits both the member's uncompressed size in the zip directory and ``max_bytes``. Any
exception a damaged archive can raise (zip, zlib, LZMA, bzip2, tokenize, header syntax,
unknown compression) becomes the caller's error class with the file's name.
"""

from __future__ import annotations

import bz2  # noqa: F401 - imported so zipfile's bzip2 members fail inside the guard
import lzma
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

__all__ = ["read_npz_arrays", "DAMAGED", "ZIP_MAGIC", "MAX_BYTES"]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MAX_BYTES = 1 << 31
"""The most bytes all members of an archive may declare together."""

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
"""What reading a damaged archive can raise; ``OSError`` is handled separately."""


def _read_member(
    archive: zipfile.ZipFile, key: str, path: Path, budget: int, error: type[Exception]
) -> np.ndarray:
    name = f"{key}.npy"
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise error(f"{path} has no array {key!r}") from None
    if info.file_size > budget:
        raise error(
            f"{path}: array {key!r} is {info.file_size} bytes uncompressed, more than "
            f"the {budget} bytes left for this file"
        )
    with archive.open(info) as member:
        version = npformat.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(member)
        else:
            raise error(f"{path}: array {key!r} has unknown .npy version {version}")
        if dtype.hasobject:
            raise error(
                f"{path}: array {key!r} holds Python objects, which cannot be read "
                "without pickle (refused)"
            )
        declared = math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise error(
                f"{path}: array {key!r} declares shape {shape} ({declared} bytes) but its "
                f"member holds only {info.file_size} bytes; the file is damaged"
            )
        data = member.read(declared + 1)
    if len(data) != declared:
        raise error(
            f"{path}: array {key!r} has {len(data)} data bytes, its header declares "
            f"{declared}; the file is damaged"
        )
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()


def read_npz_arrays(
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
    path = Path(path)
    keys = list(keys)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head[:4] not in ZIP_MAGIC:
                kind = (
                    "a .npy array" if head.startswith(b"\x93NUM") else "not a zip file"
                )
                raise error(f"{path} is not {what}: it is {kind}")
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                names = archive.namelist()
                missing = [key for key in keys if f"{key}.npy" not in names]
                if missing:
                    found = sorted(n[:-4] for n in names if n.endswith(".npy"))
                    raise error(
                        f"{path} lacks {', '.join(missing)}; it needs the arrays "
                        f"{', '.join(keys)} (it has {', '.join(found) or 'none'})"
                    )
                arrays: dict[str, np.ndarray] = {}
                budget = max_bytes
                for key in keys:
                    arrays[key] = _read_member(archive, key, path, budget, error)
                    budget -= arrays[key].nbytes
                return arrays
    except error:
        raise
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise error(f"{path} does not exist") from None
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    except DAMAGED as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise error(f"{path} is truncated or corrupt ({detail})") from None
