"""Loading the golden trajectories of tests/golden (see its README for their provenance)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def golden_files() -> list[Path]:
    """Every golden case, sorted by name."""
    return sorted(GOLDEN_DIR.glob("*.json"))


FLAVOUR_DIR = GOLDEN_DIR / "flavours"


def flavour_files(flavour: str | None = None) -> list[Path]:
    """Every flavour's golden case (tests/golden/flavours/<flavour>/*.json), sorted."""
    pattern = f"{flavour}/*.json" if flavour else "*/*.json"
    return sorted(FLAVOUR_DIR.glob(pattern))


def case_id(path: Path) -> str:
    """``torch/adam_amsgrad`` for a flavour's file, ``adam_amsgrad`` for Keras's."""
    return f"{path.parent.name}/{path.stem}" if path.parent != GOLDEN_DIR else path.stem


def load_case(path: Path) -> dict:
    """One case with its arrays as float64 NumPy arrays; a flavour's case has the
    flavour in its ``config`` too, ready for the optimizer's constructor."""
    case = json.loads(path.read_text())
    if "flavour" in case:
        case["config"] = {"flavour": case["flavour"], **case["config"]}
    case["params"] = [np.array(p, dtype=np.float64) for p in case["params"]]
    case["grads"] = [
        [np.array(g, dtype=np.float64) for g in step] for step in case["grads"]
    ]
    case["expected"] = [
        [np.array(e, dtype=np.float64) for e in step] for step in case["expected"]
    ]
    return case
