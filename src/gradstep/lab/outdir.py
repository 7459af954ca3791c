"""An output folder that appears complete or not at all.

Files are written into a hidden staging folder next to the target; ``commit`` renames it
into place (replacing an earlier run only when ``force`` is set), ``discard`` removes it.

Replacing an earlier run takes two renames (the old folder aside, the new one in place);
SIGINT and SIGTERM are held back around them, so an interrupt leaves either the earlier
run or the new one in place, never neither. If the process is killed outright in between,
the next run for the same folder puts the earlier run back first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from .._io import default_mode
from ._errors import LabError
from .records import RECORD_NAME

__all__ = ["OutputDir", "free_folder"]


def free_folder(base: str) -> str:
    """``base`` if nothing is there, else the first free ``base-2``, ``base-3``, ..."""
    if not Path(base).expanduser().exists():
        return base
    number = 2
    while Path(f"{base}-{number}").expanduser().exists():
        number += 1
    return f"{base}-{number}"


class OutputDir:
    """Stage a run's files and move them to ``target`` in one rename.

    Checks happen at construction, before any training: ``target`` must not exist unless
    ``force`` is set, and with ``force`` it must be an earlier gradstep run (it holds a
    ``record.json``) or empty, so ``--force`` never deletes an unrelated folder. The
    parent folder is created if needed and must be writable.
    """

    def __init__(self, target: str | os.PathLike[str], force: bool = False) -> None:
        self.target = Path(target).expanduser()
        self.force = force
        self._recover()
        if self.target.exists() or self.target.is_symlink():
            self._check_replaceable()
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.staging = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.target.name}.", suffix=".tmp", dir=parent
                )
            )
            os.chmod(self.staging, default_mode(directory=True))
        except OSError as exc:
            raise LabError(
                f"cannot write output folder {self.target}: {exc.strerror or exc}"
            ) from None
        self._done = False

    def _set_aside(self) -> list[Path]:
        pattern = f".{self.target.name}.old-*"
        parent = self.target.parent
        if not parent.is_dir():
            return []
        return sorted(p for p in parent.glob(pattern) if (p / RECORD_NAME).is_file())

    def _recover(self) -> None:
        """Undo a replacement cut short by a kill between its two renames."""
        aside = self._set_aside()
        if not aside:
            return
        if not self.target.exists() and not self.target.is_symlink():
            os.replace(aside[-1], self.target)
            print(
                f"gradstep: restored the earlier run {self.target} from {aside[-1].name}, "
                "left by an interrupted --force replacement",
                file=sys.stderr,
            )
            aside = aside[:-1]
        for leftover in aside:
            shutil.rmtree(leftover, ignore_errors=True)

    def _check_replaceable(self) -> None:
        if not self.target.is_dir() or self.target.is_symlink():
            raise LabError(
                f"{self.target} exists and is not a folder; choose another --out"
            )
        if not self.force:
            raise LabError(
                f"{self.target} already exists; pass --force to replace it or choose "
                "another --out"
            )
        if any(self.target.iterdir()) and not (self.target / RECORD_NAME).is_file():
            raise LabError(
                f"{self.target} is not empty and holds no {RECORD_NAME}, so it is not a "
                "gradstep run; refusing to replace it even with --force"
            )

    def path(self, name: str) -> Path:
        """Where to write file ``name`` now (inside the staging folder)."""
        return self.staging / name

    def commit(self) -> Path:
        """Move the staged files into place; returns the final folder."""
        if self._done:
            raise RuntimeError("this output folder was already committed or discarded")
        old = None
        try:
            with _signals_held():
                if self.target.exists():
                    self._check_replaceable()
                    old = self.target.with_name(
                        f".{self.target.name}.old-{os.getpid()}"
                    )
                    os.replace(self.target, old)
                try:
                    os.replace(self.staging, self.target)
                except BaseException:
                    if old is not None and not self.target.exists():
                        os.replace(old, self.target)
                    raise
        except OSError as exc:
            self.discard()
            raise LabError(f"cannot write output folder {self.target}: {exc}") from None
        self._done = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def discard(self) -> None:
        """Remove the staging folder and everything in it."""
        self._done = True
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()
        elif not self._done:
            self.commit()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends: their handlers are swapped for one
    that only notes them (whichever thread the OS delivers them to), and each noted
    signal is raised again, to the usual handler, afterwards. Outside the main thread,
    where handlers cannot be set, the block runs as it is."""
    pending: list[int] = []
    previous: dict[int, Any] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda n, _f: pending.append(n))
    except ValueError:  # not the main thread
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        previous.clear()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)
