"""Which paths are Keras HDF5 files, and the functions that handle them.

``gradstep.models._format`` and ``saving`` send .h5 paths here without importing the
HDF5 code itself (which builds models, so importing it from there would make a
circle): ``gradstep.models.h5`` fills ``HANDLERS`` when it is imported, which Python
does before this module can be used (it is a submodule of that package).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["SUFFIXES", "HANDLERS", "handler", "is_h5_path", "is_h5_file"]

SUFFIXES = (".h5", ".hdf5")
HANDLERS: dict[str, Callable[..., Any]] = {}
_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def handler(name: str) -> Callable[..., Any]:
    """The registered function ``name`` (load_model, load_weights, save_model,
    save_weights)."""
    return HANDLERS[name]


def is_h5_path(filepath: Any) -> bool:
    """Whether ``filepath`` names a Keras HDF5 file by its suffix (.h5, .hdf5)."""
    try:
        name = os.fspath(filepath)
    except TypeError:
        return False
    return isinstance(name, str) and name.lower().endswith(SUFFIXES)


def is_h5_file(filepath: Any) -> bool:
    """Whether ``filepath`` is to be read as HDF5: its suffix is .h5/.hdf5, or it
    starts with the HDF5 signature (Keras files are also named .keras, .model...)."""
    if is_h5_path(filepath):
        return True
    try:
        with open(filepath, "rb") as handle:
            return handle.read(len(_SIGNATURE)) == _SIGNATURE
    except (OSError, TypeError, ValueError):
        return False
