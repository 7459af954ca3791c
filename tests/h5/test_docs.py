"""The README's Keras-HDF5-to-PyTorch example (examples/keras_h5_to_torch.py, shown
verbatim) runs, prints what it says and ends at Keras 2.2.4's own weights."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")
pytest.importorskip("torch")

from ._util import expected  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "keras_h5_to_torch.py"


def test_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Keras 2.2 HDF5 files\n", 1)[1].split("\n## ", 1)[0]
    assert EXAMPLE.read_text().strip() in section


def test_example_runs_and_matches_keras(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.argv", [os.fspath(EXAMPLE)])
    namespace = runpy.run_path(str(EXAMPLE), run_name="example")
    assert capsys.readouterr().out.split() == ["Adam", "16"]
    got = [p.detach().numpy() for p in namespace["params"]]
    got = [g.T if g.ndim == 2 else g for g in got]
    for g, e in zip(got, expected("adam_float64")["weights"], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
