"""An output folder that appears complete or not at all.

Files are written into a hidden staging folder next to the target; ``commit`` renames it
into place (replacing an earlier run only when ``force`` is set), ``discard`` removes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from .._io import default_mode
from ._errors import LabError
from .records import RECORD_NAME

__all__ = ["OutputDir"]


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
            if self.target.exists():
                self._check_replaceable()
                old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
                os.replace(self.target, old)
            os.replace(self.staging, self.target)
        except OSError as exc:
            if old is not None and not self.target.exists():
                os.replace(old, self.target)
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
