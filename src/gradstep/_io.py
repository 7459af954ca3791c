"""Atomic file writes: every file gradstep writes goes through ``atomic_file``.

The bytes go to a temporary file in the target's folder, which is flushed, synced and
then renamed over the target (``os.replace``), so a crash, a full disk or an interrupt
never leaves half a file; on any error the temporary file is removed and the target is
as it was. The file gets the permissions a plain ``open`` would give under the umask
(``mkstemp`` alone would make it 0600).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_file", "default_mode", "write_bytes_atomic", "write_text_atomic"]


def default_mode(directory: bool = False) -> int:
    """The permissions a plain ``open``/``mkdir`` would give under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


@contextmanager
def atomic_file(
    path: str | os.PathLike[str], suffix: str = ".tmp"
) -> Iterator[BinaryIO]:
    """A binary file to write; on a clean exit it replaces ``path``, on an exception
    it is removed (and the exception goes on)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), default_mode())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_file(path) as handle:
        handle.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """``write_bytes_atomic`` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))
