"""Loading the golden trajectories of ../shared/golden (or $GRADSTEP_GOLDEN_DIR)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def golden_dir() -> Path:
    configured = os.environ.get("GRADSTEP_GOLDEN_DIR")
    if configured:
        return Path(configured)
    for candidate in (
        ROOT.parent / "shared" / "golden",
        ROOT / "tests" / "data" / "golden",
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "golden trajectories not found: expected ../shared/golden beside the checkout, "
        "tests/data/golden, or GRADSTEP_GOLDEN_DIR"
    )


def golden_files() -> list[Path]:
    return sorted(golden_dir().glob("*.json"))


def load_case(path: Path) -> dict:
    case = json.loads(path.read_text())
    case["params"] = [np.array(p, dtype=np.float64) for p in case["params"]]
    case["grads"] = [
        [np.array(g, dtype=np.float64) for g in step] for step in case["grads"]
    ]
    case["expected"] = [
        [np.array(e, dtype=np.float64) for e in step] for step in case["expected"]
    ]
    return case
