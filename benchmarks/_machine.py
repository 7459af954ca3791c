"""What the benchmarks print about the machine they ran on."""

from __future__ import annotations

import importlib
import os
import platform


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe(*modules: str) -> str:
    """The CPU, core count, Python and the versions of ``modules`` that import."""
    versions = []
    for name in modules:
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except ImportError:
            versions.append(f"{name} not installed")
    return (
        f"{cpu_model()}, {os.cpu_count()} logical CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}; " + ", ".join(versions)
    )
