"""Shared helpers of the HDF5 tests: fixture paths, the data, the Keras runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
ROOT = HERE.parent.parent
BATCH = 8


def data(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """``keras_side.data``: the fixtures' training data (same RandomState draws)."""
    rng = np.random.RandomState(7)
    x = rng.normal(size=(32, 4)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.randint(0, 3, size=32)]
    return x, y


def expected(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def optimizer_fixtures(functional: bool = False) -> list[str]:
    """The fixtures trained with an optimizer: the Sequential ones, or the functional
    (two-input, two-output) ones."""
    return sorted(
        p.stem
        for p in FIXTURES.glob("*.json")
        if "optimizer" in expected(p.stem)
        and p.stem.startswith("functional_") == functional
    )


def keras_runner() -> str | None:
    """``tools/keras224`` when its venv is already built (tests never build it)."""
    home = Path(os.environ.get("KERAS224_HOME", Path.home() / ".cache" / "keras224"))
    marker = home / "venv" / ".complete"
    if not marker.is_file() or marker.read_text().strip() != "ok":
        return None
    if shutil.which("bash") is None:
        return None
    return str(ROOT / "tools" / "keras224")


def keras_continue(path: Path, epochs: int, out: Path, float32: bool) -> dict[str, Any]:
    """Real Keras 2.2.4's continuation of ``path`` (``keras_side.py continue``)."""
    runner = keras_runner()
    assert runner is not None
    args = [runner] + (["--float32"] if float32 else [])
    args += [str(HERE / "keras_side.py"), "continue", str(path), str(epochs), str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def keras_batch(spec: list[list[Any]], tmp: Path, float32: bool) -> dict[str, Any]:
    """Real Keras 2.2.4's continuation of each ``[file, epochs]`` (one process)."""
    runner = keras_runner()
    assert runner is not None
    spec_path, out = tmp / "spec.json", tmp / "keras_out.json"
    spec_path.write_text(json.dumps(spec))
    args = [runner] + (["--float32"] if float32 else [])
    args += [str(HERE / "keras_side.py"), "batch", str(spec_path), str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())
