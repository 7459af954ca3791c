"""Presets: named sets of ``gradstep compare`` options shipped as data files.

A preset is a JSON file in ``gradstep/lab/presets/`` (``tutorial.json``) holding a
``description`` and an ``options`` mapping with the same names a ``--config`` file uses.
Options from a ``--config`` file and the command line override a preset's values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from ._errors import LabError

__all__ = ["preset_names", "load_preset"]

MAX_BYTES = 1 << 20


def preset_names() -> list[str]:
    """The presets shipped with gradstep, sorted."""
    folder = resources.files("gradstep.lab") / "presets"
    return sorted(
        entry.name[: -len(".json")]
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def load_preset(name: str, allowed: Iterable[str]) -> dict[str, Any]:
    """The options of preset ``name``; ``LabError`` for an unknown name or an option that
    ``allowed`` does not list."""
    names = preset_names()
    if name not in names:
        raise LabError(f"unknown preset {name!r}; presets: {', '.join(names)}")
    entry = resources.files("gradstep.lab") / "presets" / f"{name}.json"
    where = f"preset {name} ({entry})"
    try:
        text = entry.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError, RecursionError) as exc:
        raise LabError(f"{where} cannot be read: {exc}") from None
    options = data.get("options") if isinstance(data, dict) else None
    if not isinstance(options, dict):
        raise LabError(f"{where} must hold an 'options' mapping")
    allowed = set(allowed)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise LabError(f"{where}: unknown options {', '.join(unknown)}")
    return dict(options)
