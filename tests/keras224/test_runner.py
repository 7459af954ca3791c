"""``tools/keras224`` (the project's Keras 2.2.4 runner) is a valid, self-contained bash
script; when its venv is built, it really runs Keras 2.2.4 with the asked floatx."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "tools" / "keras224"


def test_runner_is_bash_and_self_contained() -> None:
    assert os.access(RUNNER, os.X_OK)
    text = RUNNER.read_text()
    outside = "/".join(("..", "shared"))  # a folder a fresh clone does not have
    assert outside not in text and "keras==2.2.4" in text and "h5py==2.10.0" in text
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(RUNNER)], check=True)


def _built() -> bool:
    home = Path(os.environ.get("KERAS224_HOME", Path.home() / ".cache" / "keras224"))
    marker = home / "venv" / ".complete"
    return marker.is_file() and marker.read_text().strip() == "ok"


@pytest.mark.skipif(not _built(), reason="the Keras 2.2.4 venv is not built")
@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_runner_runs_keras_224(floatx: str) -> None:
    args = [str(RUNNER)] + (["--float32"] if floatx == "float32" else [])
    code = (
        "import keras; from keras import backend as K; "
        "print(keras.__version__, K.backend(), K.floatx())"
    )
    out = subprocess.run(
        [*args, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split() == ["2.2.4", "theano", floatx]
