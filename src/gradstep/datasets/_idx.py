"""Reading and writing the IDX format of the MNIST files (gzipped or raw).

An IDX file is two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the data in C order and big-endian byte order
(http://yann.lecun.com/exdb/mnist/).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ._errors import DatasetError

__all__ = ["read_idx", "write_idx"]

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


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DatasetError(
            f"{path} is a truncated gzip file; download it again"
        ) from None
    except (OSError, zlib.error) as exc:
        # gzip.BadGzipFile (an OSError) covers a failed CRC-32 or length check.
        raise DatasetError(
            f"{path} is a corrupt gzip file ({exc}); download it again"
        ) from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array stored in an IDX file, gzipped (detected by content) or not, in native
    byte order. Raises ``DatasetError`` for a bad header, a truncated or overlong file."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise DatasetError(
            f"{path} is not an IDX file (it does not start with the IDX magic number)"
        )
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is truncated: its IDX header is incomplete")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise DatasetError(
            f"{path} is truncated: its header promises {expected} data bytes for shape "
            f"{shape}, the file has {found}"
        )
    if found > expected:
        raise DatasetError(
            f"{path} has {found - expected} bytes after the data its header describes "
            f"(shape {shape}); it is not a valid IDX file"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


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
