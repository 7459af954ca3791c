"""Which threading layer numba ends up with in a fresh Python process."""

from __future__ import annotations

import os
import subprocess
import sys

_CHOICES = ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER")


def numba_layer_after(code: str) -> str:
    """``numba.threading_layer()`` after running ``code`` in a fresh interpreter, with
    no user choice of layer or OpenMP wait policy in its environment."""
    env = {k: v for k, v in os.environ.items() if k not in _CHOICES}
    script = code + "\nimport numba\nprint(numba.threading_layer())\n"
    return subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
