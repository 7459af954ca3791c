"""Loading the golden trajectories of tests/golden (see its README for their provenance)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def golden_files() -> list[Path]:
    """Every golden case, sorted by name."""
    return sorted(GOLDEN_DIR.glob("*.json"))


def load_case(path: Path) -> dict:
    """One case with its arrays as float64 NumPy arrays."""
    case = json.loads(path.read_text())
    case["params"] = [np.array(p, dtype=np.float64) for p in case["params"]]
    case["grads"] = [
        [np.array(g, dtype=np.float64) for g in step] for step in case["grads"]
    ]
    case["expected"] = [
        [np.array(e, dtype=np.float64) for e in step] for step in case["expected"]
    ]
    return case
