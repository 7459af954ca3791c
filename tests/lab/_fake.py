"""Small generated stand-ins for MNIST files, in every format the loader reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradstep.datasets import write_idx
from gradstep.datasets.mnist import IDX_NAMES


def fake_mnist(
    n_train: int = 60, n_test: int = 20, seed: int = 0
) -> dict[str, np.ndarray]:
    """uint8 images (n, 28, 28) whose brightest column band encodes the label 0..9."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, :, 2 * label + 4 : 2 * label + 7] = 250
        arrays[f"x_{part}"], arrays[f"y_{part}"] = images, labels
    return arrays


def write_npz(
    directory: Path, arrays: dict[str, np.ndarray], name: str = "mnist.npz"
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    np.savez(path, **arrays)
    return path


def write_idx_set(
    directory: Path, arrays: dict[str, np.ndarray], compress: bool
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, name in IDX_NAMES.items():
        path = directory / (name + (".gz" if compress else ""))
        write_idx(path, arrays[key], compress=compress)
        paths[key] = path
    return paths
