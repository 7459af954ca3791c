"""Helpers shared by the subcommands: merging options, versions for the record."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Mapping
from typing import Any

from ..lab.options import load_config

__all__ = ["merged_options", "versions"]


def merged_options(
    args: argparse.Namespace, defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """Built-in defaults, then the ``--preset``, then the ``--config`` file, then options
    given on the command line (only those present in ``args``)."""
    options = dict(defaults)
    preset = getattr(args, "preset", None)
    if preset:
        from ..lab.preset import load_preset

        options.update(load_preset(preset, defaults))
    config_path = getattr(args, "config", None)
    if config_path:
        options.update(load_config(config_path, defaults))
    for key in defaults:
        if hasattr(args, key):
            options[key] = getattr(args, key)
    return options


def versions(*packages: str) -> dict[str, str]:
    """Versions of Python, the platform, gradstep, NumPy and the installed ``packages``
    (distribution names, e.g. "scikit-learn"); packages not installed are left out."""
    from importlib import metadata

    import numpy

    from .._version import __version__

    found = {
        "gradstep": __version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found
