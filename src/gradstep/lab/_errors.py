"""The exception for bad lab input: the CLI prints its message as one line and exits 2."""

from __future__ import annotations

__all__ = ["LabError"]


class LabError(Exception):
    """Bad input to the lab (a name, a setting, a file, an output path); the message says
    what was wrong and what is expected."""
