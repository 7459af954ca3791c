"""Fetch a file over HTTP(S) and keep it only if its sha256 matches."""

from __future__ import annotations

import contextlib
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_file
from ._errors import DatasetError

__all__ = ["download", "sha256_of"]

_CHUNK = 1 << 16


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(value: str) -> str:
    """``value`` as 64 lower-case hex digits, or ``DatasetError``."""
    text = value.strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise DatasetError(f"a sha256 must be 64 hexadecimal digits, got {value!r}")
    return text


def download(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str,
    *,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest``, verify its sha256 and only then move it into place.

    The bytes go to a temporary file next to ``dest``; on a network error or a checksum
    mismatch it is deleted and ``DatasetError`` says why, so ``dest`` is never a partial or
    unverified file. ``progress(done_bytes, total_bytes_or_None)`` is called per chunk.
    """
    expected = check_sha256(sha256)
    dest = Path(dest)
    if not url.lower().startswith(("http://", "https://")):
        raise DatasetError(
            f"download URL must start with http:// or https://, got {url!r}"
        )
    with contextlib.ExitStack() as stack:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(atomic_file(dest, suffix=".part"))
        except OSError as exc:
            raise DatasetError(
                f"cannot write to {dest.parent}: {exc.strerror or exc}"
            ) from None
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except urllib.error.HTTPError as exc:
            raise DatasetError(
                f"download of {url} failed: HTTP {exc.code} {exc.reason}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DatasetError(f"download of {url} failed: {reason}") from None
        if total is not None and done != total:
            raise DatasetError(
                f"download of {url} was cut short: got {done} of {total} bytes"
            )
        actual = digest.hexdigest()
        if actual != expected:
            raise DatasetError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}; "
                "the file was discarded"
            )
    return dest
