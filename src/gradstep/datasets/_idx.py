"""Reading and writing the IDX format of the MNIST files (gzipped or raw).

An IDX file is two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the data in C order and big-endian byte order
(http://yann.lecun.com/exdb/mnist/).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._errors import DatasetError

__all__ = ["read_idx", "write_idx", "MAX_BYTES"]

_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 24


MAX_BYTES = 1 << 30
"""The most data bytes an IDX file may declare (MNIST's largest file holds 47 MB)."""


def _open(path: Path) -> tuple[BinaryIO, bool]:
    try:
        handle = open(path, "rb")
        compressed = handle.read(2) == _GZIP_MAGIC
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    handle.close()
    if compressed:
        return gzip.open(path, "rb"), True  # type: ignore[return-value]
    return open(path, "rb"), False


def _read(stream: BinaryIO, count: int, path: Path, compressed: bool) -> bytes:
    """Up to ``count`` bytes; never more, so trailing data is never inflated. Read in
    chunks, so memory grows with the data actually there, not with what a header says."""
    try:
        parts, left = [], count
        while left > 0:
            chunk = stream.read(min(left, _CHUNK))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)
    except EOFError:
        raise DatasetError(
            f"{path} is a truncated gzip file; download it again"
        ) from None
    except (OSError, zlib.error) as exc:
        # gzip.BadGzipFile (an OSError) covers a failed CRC-32 or length check.
        if not compressed:
            raise DatasetError(f"cannot read {path}: {exc}") from None
        raise DatasetError(
            f"{path} is a corrupt gzip file ({exc}); download it again"
        ) from None


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """The array stored in an IDX file, gzipped (detected by content) or not, in native
    byte order. Raises ``DatasetError`` naming the file for a bad header, a declared size
    over ``max_bytes``, a truncated file or data after the declared array. Reads (and
    inflates) only as many bytes as the header declares, plus one to detect trailing
    data, so memory stays bounded whatever the file holds."""
    path = Path(path)
    stream, compressed = _open(path)
    with stream:
        raw = _read(stream, 4, path, compressed)
        if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
            raise DatasetError(
                f"{path} is not an IDX file (it does not start with the IDX magic number)"
            )
        dtype, ndim = _TYPES[raw[2]], raw[3]
        dims = _read(stream, 4 * ndim, path, compressed)
        if len(dims) < 4 * ndim:
            raise DatasetError(f"{path} is truncated: its IDX header is incomplete")
        shape = struct.unpack(f">{ndim}I", dims)
        expected = math.prod(shape) * dtype.itemsize
        if expected > max_bytes:
            raise DatasetError(
                f"{path} declares shape {shape}, {expected} bytes of data, more than the "
                f"{max_bytes} bytes an IDX data file may hold here; it is not a valid "
                "data set file"
            )
        if not compressed:
            available = os.path.getsize(path) - 4 - 4 * ndim
            if available < expected:
                raise DatasetError(
                    f"{path} is truncated: its header promises {expected} data bytes "
                    f"for shape {shape}, the file has {available}"
                )
        data = _read(stream, expected, path, compressed)
        if len(data) < expected:
            raise DatasetError(
                f"{path} is truncated: its header promises {expected} data bytes for "
                f"shape {shape}, the file has {len(data)}"
            )
        if _read(stream, 1, path, compressed):
            raise DatasetError(
                f"{path} has bytes after the data its header describes (shape "
                f"{shape}); it is not a valid IDX file"
            )
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, *, compress: bool = False
) -> None:
    """Write ``array`` as an IDX file (gzipped when ``compress``); for tests and tools."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    Path(path).write_bytes(gzip.compress(body) if compress else body)
