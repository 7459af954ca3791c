"""The optional ``h5py`` dependency (``pip install gradstep[h5]``)."""

from __future__ import annotations

from typing import Any

__all__ = ["h5py"]


def h5py() -> Any:
    """The ``h5py`` module, or ImportError saying how to install it."""
    try:
        import h5py as module
    except ImportError:
        raise ImportError(
            "reading and writing Keras .h5 files needs h5py: pip install 'gradstep[h5]'"
        ) from None
    return module
