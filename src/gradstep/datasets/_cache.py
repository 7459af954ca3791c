"""Where gradstep keeps downloaded data, and where Keras keeps it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "keras_datasets_dir"]


def cache_dir() -> Path:
    """gradstep's dataset cache: ``$GRADSTEP_CACHE_DIR`` if set, else
    ``$XDG_CACHE_HOME/gradstep/datasets`` or ``~/.cache/gradstep/datasets``
    (``%LOCALAPPDATA%\\gradstep\\datasets`` on Windows). Not created here."""
    configured = os.environ.get("GRADSTEP_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "gradstep" / "datasets"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "gradstep" / "datasets"


def keras_datasets_dir() -> Path:
    """Keras's download folder, ``~/.keras/datasets`` (``$KERAS_HOME/datasets``)."""
    keras_home = os.environ.get("KERAS_HOME")
    if keras_home:
        return Path(keras_home).expanduser() / "datasets"
    return Path.home() / ".keras" / "datasets"
