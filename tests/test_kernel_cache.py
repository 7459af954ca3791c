"""Compiled kernels are cached on disk for real: a second process loads every kernel of
the first from the cache and writes no new cache file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

# One step of each kernel form: the multi-tensor kernel (separate arrays, with
# clipnorm: its per-tensor sums of squares), the flat kernel (views of one buffer) and
# the serial and parallel variants; prints each compiled kernel's cache hits and misses.
_SCRIPT = """
import json
import numpy as np
from gradstep import optimizers
from gradstep.kernels import flatten, fused

for shapes in ([(100,), (3, 4)], [(40000,), (7,)]):
    params = [np.ones(s) for s in shapes]
    grads = [np.full(s, 0.5) for s in shapes]
    optimizers.Adam(engine="fused", clipnorm=1.0).apply_gradients(zip(grads, params))
    _, views = flatten(params)
    _, flat_grads = flatten(grads)
    optimizers.Nadam(engine="fused").apply_gradients(zip(flat_grads, views))
stats = [
    (str(key[0].__name__), len(k.stats.cache_hits), len(k.stats.cache_misses))
    for key, k in fused._kernels.items()
]
print(json.dumps(stats))
"""


def _run(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    files = sorted(p.name for p in cache_dir.rglob("*") if p.is_file())
    return json.loads(out.stdout.strip().splitlines()[-1]), files


def test_second_process_hits_the_cache_and_writes_nothing(tmp_path):
    first, files_after_first = _run(tmp_path)
    assert first and all(misses == 1 and hits == 0 for _, hits, misses in first)
    second, files_after_second = _run(tmp_path)
    assert [name for name, _, _ in second] == [name for name, _, _ in first]
    assert all(hits == 1 and misses == 0 for _, hits, misses in second), second
    assert files_after_second == files_after_first
