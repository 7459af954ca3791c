"""Running ``gradstep`` in-process and inspecting what it wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradstep.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``main(argv)``; returns (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    """Exit status 2 and a single ``gradstep: error:`` line holding every fragment."""
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradstep: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def png_pixels(path: Path) -> np.ndarray:
    """The RGB pixels of a PNG, via Pillow (installed with matplotlib)."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def has_colour(pixels: np.ndarray, rgba: tuple[float, ...], tolerance: int = 2) -> bool:
    """Whether some pixel has the colour ``rgba`` (matplotlib floats in [0, 1])."""
    target = np.round(np.asarray(rgba[:3]) * 255).astype(int)
    return bool(
        np.any(np.all(np.abs(pixels.astype(int) - target) <= tolerance, axis=-1))
    )


def leftovers(parent: Path) -> list[str]:
    """Hidden staging or temporary entries left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))
