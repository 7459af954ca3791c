"""Finding and reading a four-file IDX data set (MNIST's layout) or its ``.npz`` form."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._arrays import Split, check_split
from ._download import check_sha256, sha256_of
from ._download import download as download_file
from ._errors import DatasetError
from ._idx import read_idx
from .npz import load_npz

__all__ = ["IDX_NAMES", "Found", "Layout", "find_in", "find", "read_found"]

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Found:
    """Where a data set was found: one ``npz`` file or four IDX files (key -> path)."""

    directory: Path
    npz: Path | None = None
    idx: dict[str, Path] | None = None

    def paths(self) -> list[Path]:
        """The files, in a stable order."""
        return [self.npz] if self.npz else [self.idx[key] for key in IDX_NAMES]  # type: ignore[index]

    def sha256(self) -> dict[str, str]:
        """``{file name: sha256}`` of every input file."""
        return {str(path): sha256_of(path) for path in self.paths()}


@dataclass(frozen=True)
class Layout:
    """A data set's files: its display name, an optional ``.npz`` name, where to look and
    how to check the arrays once read."""

    title: str
    npz_name: str | None
    search: Callable[[], list[Path]]
    check: Callable[[Split, str], Split]
    idx_digests: dict[str, str] = field(default_factory=dict)


def _idx_candidates(name: str) -> list[str]:
    dotted = name.replace("-idx", ".idx")  # train-images.idx3-ubyte, as often unpacked
    return [name + ".gz", name, dotted + ".gz", dotted]


def find_in(directory: Path, layout: Layout) -> Found | None:
    """The data set's files in ``directory``: the ``.npz`` first, else all four IDX
    files (gzipped or not); None if none is there, ``DatasetError`` if only some are."""
    if layout.npz_name is not None and (directory / layout.npz_name).is_file():
        return Found(directory, npz=directory / layout.npz_name)
    found: dict[str, Path] = {}
    for key, name in IDX_NAMES.items():
        for candidate in _idx_candidates(name):
            if (directory / candidate).is_file():
                found[key] = directory / candidate
                break
    if not found:
        return None
    if len(found) < len(IDX_NAMES):
        missing = [IDX_NAMES[key] for key in IDX_NAMES if key not in found]
        raise DatasetError(
            f"{directory} has only some of the {layout.title} IDX files: missing "
            f"{', '.join(missing)} (gzipped or not); put all four there"
        )
    return Found(directory, idx=found)


def find(directories: Sequence[Path], layout: Layout) -> Found | None:
    """The first of ``directories`` holding the data set, or None."""
    for directory in directories:
        if directory.is_dir():
            found = find_in(directory, layout)
            if found is not None:
                return found
    return None


def read_found(found: Found, layout: Layout) -> Split:
    """The arrays of ``found``, checked; ``DatasetError`` naming the bad file."""
    if found.npz is not None:
        return layout.check(load_npz(found.npz), str(found.npz))
    assert found.idx is not None
    arrays = {key: read_idx(path) for key, path in found.idx.items()}
    source = str(found.directory)
    return layout.check(check_split(arrays, source), source)


def download_idx(
    base_url: str,
    directory: Path,
    digests: dict[str, str],
    progress: Callable[[int, int | None], None] | None = None,
) -> Found:
    """Fetch the four gzipped IDX files from ``base_url`` into ``directory``, each kept
    only if its sha256 equals ``digests[file name]``."""
    paths = {}
    for key, name in IDX_NAMES.items():
        file_name = name + ".gz"
        target = directory / file_name
        expected = check_sha256(digests[file_name])
        if not (target.is_file() and sha256_of(target) == expected):
            download_file(base_url + file_name, target, expected, progress=progress)
        paths[key] = target
    return Found(directory, idx=paths)


def check_images(split: Split, source: str, title: str) -> Split:
    """28x28 images and labels 0..9, as MNIST and Fashion-MNIST hold."""
    for (x, y), part in zip(split, ("train", "test")):
        if x.shape[1:] != (28, 28):
            raise DatasetError(
                f"{source}: x_{part} has shape {x.shape}; {title} images are (n, 28, 28)"
            )
        if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() > 9)):
            raise DatasetError(
                f"{source}: y_{part} must hold labels 0..9, one per image"
            )
    return split


def env_path(value: str | os.PathLike[str]) -> Path:
    """``value`` with ``~`` expanded."""
    return Path(value).expanduser()
