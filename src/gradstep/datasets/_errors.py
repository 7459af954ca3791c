"""The one exception the dataset loaders raise for missing, corrupt or malformed data."""

from __future__ import annotations

__all__ = ["DatasetError"]


class DatasetError(Exception):
    """A data file is missing, corrupt, truncated or has the wrong contents; the message
    says which file and what was expected."""
