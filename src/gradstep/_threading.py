"""Keep numba's worker threads from fighting NumPy's BLAS threads for the cores.

After a parallel kernel, OpenMP's workers busy-wait for the next one (GNU libgomp spins
for a while by default). On a machine with few cores those spinning threads take the
cores from the BLAS threads of the matrix products between two optimizer steps, and from
other processes: a training loop runs several times slower. ``OMP_WAIT_POLICY=PASSIVE``
makes the workers sleep at once; libgomp reads it when it is loaded, which numba does on
its first parallel call. So before numba's first parallel call gradstep sets it (unless
the user chose a policy), loads numba's threading layer, and puts the environment back
as it was, so nothing else in the process, nor child processes, sees the change.

When libgomp is already loaded by then (``import torch`` does it), it has read its
settings and the policy can no longer be asked for: numba's OpenMP layer would spin (an
MLP epoch measured 3x slower). gradstep then prefers numba's ``workqueue`` layer, whose
workers sleep between calls (TBB, where installed, stays first). The exception is
``gradstep.torch`` (``share_openmp_with_torch``): there the kernels run between torch's
own parallel operations, and numba's OpenMP layer then runs them on the same libgomp
workers as torch instead of starting two more threads that fight those (measured:
gradstep.torch steps 1.2-1.5x faster than with workqueue).

numba keeps its own choice of layer otherwise (TBB, else OpenMP, else workqueue); the
user's ``NUMBA_THREADING_LAYER`` and ``OMP_WAIT_POLICY`` are respected. Measured:
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import threading

__all__ = ["configure_numba_threads", "openmp_loaded", "share_openmp_with_torch"]

_done = False
_share_openmp = False
_lock = threading.Lock()
_POLICY = "OMP_WAIT_POLICY"


def openmp_loaded() -> bool:
    """Whether a GNU OpenMP runtime is mapped into this process (Linux; else False)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return any("libgomp" in line for line in maps)
    except OSError:
        return False


def share_openmp_with_torch() -> None:
    """Keep numba's OpenMP layer even when libgomp was loaded first (by torch)."""
    global _share_openmp
    _share_openmp = True


def configure_numba_threads() -> None:
    """Start numba's threading layer with passive waiting; once per process."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        from numba import config
        from numba.np.ufunc import parallel

        previous = os.environ.get(_POLICY)
        if previous is None:
            if (
                config.THREADING_LAYER == "default"
                and not _share_openmp
                and openmp_loaded()
            ):
                config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]
            os.environ[_POLICY] = "PASSIVE"
        try:
            parallel._launch_threads()
        finally:
            if previous is None:
                os.environ.pop(_POLICY, None)
