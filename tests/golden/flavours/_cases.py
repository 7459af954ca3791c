"""What the four flavour generators share: the data, the clip thresholds, the checks,
the JSON files and the command line.  NumPy and the standard library only, so that it
imports in every generator's environment (the project's, and the Keras 3 and tf_keras
ones); each ``generate_<flavour>.py`` imports it from its own folder (a script's folder
is the first entry of ``sys.path``).

A generator gives :func:`main` its ``CASES`` and a ``run`` function:

* a case is ``(name, optimizer, config, kind, shapes)``: ``config`` holds gradstep's
  names, with ``"auto"`` for a clip threshold to be picked from the data; ``kind`` is
  ``"normal"`` (N(0, 1) times a per-step scale of 0.3..3.3), ``"sparse"`` (the same with
  about a fifth of the elements exactly 0) or ``"small"`` (magnitudes 1e-8..1e-6: epsilon
  is set near |g| where it is added outside a square root, near g**2 where inside);
  ``shapes`` one of the shape sets below;
* ``run(optimizer, config, params, grads, dtype)`` runs one case in the framework, with
  ``dtype`` ``"float64"`` or ``"float32"``, and returns the parameters after every step
  (a list of lists of float64 NumPy arrays) and ``framework_call`` (what was run).

Deterministic: a case's numbers come from ``numpy.random.default_rng`` seeded by a fixed
seed and the case's name, so cases of the same name have the same data in every flavour
(unless one needed a second draw: see :data:`ATTEMPTS`).
"""

from __future__ import annotations

import argparse
import json
import os
import zlib
from pathlib import Path

import numpy as np

SEED = 20240611
STEPS = 15
SMALLEST = 1e-3  # every expected |parameter element| is at least this
ATTEMPTS = 20  # draws of a case's data until SMALLEST holds (the first almost always)
HERE = Path(__file__).resolve().parent

# the shape sets (parameter tensors) of the cases
S3 = ((3,), (2, 2), (2, 3, 1))
S3B = ((2, 3, 1), (3,), (2, 2))
S2 = ((3,), (2, 3, 1))
S2B = ((2, 2), (3,))

CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")


def make_data(name: str, kind: str, shapes, attempt: int = 0):
    """Starting parameters and ``STEPS`` steps of gradients for one case (float64)."""
    seed = [SEED, zlib.crc32(name.encode())] + ([attempt] if attempt else [])
    rng = np.random.default_rng(seed)
    params = [rng.choice([-1.0, 1.0], s) * rng.uniform(0.5, 2.0, s) for s in shapes]
    grads = []
    for _ in range(STEPS):
        if kind == "small":
            step = [
                rng.choice([-1.0, 1.0], s) * 10.0 ** rng.uniform(-8.0, -6.0, s)
                for s in shapes
            ]
        elif kind in ("normal", "sparse"):
            scale = float(np.exp(rng.uniform(-1.2, 1.2)))
            step = [scale * rng.standard_normal(s) for s in shapes]
            if kind == "sparse":
                step = [np.where(rng.uniform(size=g.shape) < 0.2, 0.0, g) for g in step]
        else:
            raise ValueError(f"{name}: unknown gradient kind {kind!r}")
        grads.append(step)
    return params, grads


def three_digits(x: float) -> float:
    return float(f"{x:.3g}")


def _norms(step, per_tensor: bool) -> list[float]:
    squares = [float(np.sum(g * g)) for g in step]
    return (
        [float(np.sqrt(s)) for s in squares] if per_tensor else [np.sqrt(sum(squares))]
    )


def _clip(step, key: str, c: float, per_tensor: bool):
    if key == "clipvalue":
        return [np.clip(g, -c, c) for g in step]
    norms = _norms(step, per_tensor)
    factors = norms if per_tensor else norms * len(step)
    return [g * min(1.0, c / n) if n > 0 else g for g, n in zip(step, factors)]


def resolve_clipping(config: dict, grads, order, per_tensor_clipnorm: bool):
    """Replace the ``"auto"`` clip thresholds by numbers that clip some steps (tensors,
    elements) and not others: the median norm, the 75th percentile of |g|, each picked
    on the gradients as the clippings before it (in the framework's ``order``) leave
    them.  Returns the config and what each clipping clips, as text."""
    config = dict(config)
    unknown = [k for k in CLIP_KEYS if k in config and k not in order]
    if unknown:
        raise SystemExit(f"this framework has no {unknown}")
    steps, stats = grads, []
    for key in order:
        if key not in config:
            continue
        per_tensor = key == "clipnorm" and per_tensor_clipnorm
        if key == "clipvalue":
            sizes = np.concatenate([np.abs(g).ravel() for step in steps for g in step])
            pick, unit = float(np.quantile(sizes, 0.75)), "elements"
        else:
            sizes = np.array([n for step in steps for n in _norms(step, per_tensor)])
            pick = float(np.median(sizes))
            unit = "tensor-steps" if per_tensor else "steps"
        if config[key] == "auto":
            config[key] = three_digits(pick)
        clipped = int(np.sum(sizes > config[key]))
        if not 0 < clipped < sizes.size:
            raise SystemExit(f"{key} {config[key]} clips {clipped}/{sizes.size} {unit}")
        stats.append(f"{key} {config[key]!r} clips {clipped}/{sizes.size} {unit}")
        steps = [_clip(step, key, config[key], per_tensor) for step in steps]
    return config, stats


def max_rel(a, b) -> float:
    """The largest relative difference of two trajectories (``b`` the reference)."""
    return max(
        float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)))
        for sa, sb in zip(a, b)
        for x, y in zip(sa, sb)
    )


def write_json(path: Path, record: dict) -> None:
    """One key a line, floats as ``repr`` (exact round trip), written atomically."""
    body = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in record.items())
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text("{\n" + body + "\n}\n")
    os.replace(tmp, path)


def _tolist(step) -> list:
    return [np.asarray(a, dtype=np.float64).tolist() for a in step]


def generate_case(case, run, clip_order, per_tensor_clipnorm):
    """Data, thresholds and the float64 trajectory of one case (redrawn until every
    expected element is at least SMALLEST in magnitude)."""
    name, optimizer, config, kind, shapes = case
    for attempt in range(ATTEMPTS):
        params, grads = make_data(name, kind, shapes, attempt)
        resolved, stats = resolve_clipping(
            config, grads, clip_order, per_tensor_clipnorm
        )
        expected, call = run(optimizer, resolved, params, grads, "float64")
        if min(float(np.min(np.abs(p))) for s in expected for p in s) >= SMALLEST:
            if attempt:
                stats.append(f"data of draw {attempt + 1} (seed [..., {attempt}])")
            return resolved, params, grads, expected, call, stats
    raise SystemExit(f"{name}: no data with every |expected| >= {SMALLEST}")


def check_case(case, run, config, params, grads, expected) -> float:
    """A float64 rerun is bit-identical; a float32 one differs (at float32's level, not
    0), so the trajectory is float64.  Returns that float32 difference."""
    name, optimizer = case[0], case[1]
    again, _ = run(optimizer, config, params, grads, "float64")
    if max_rel(again, expected) != 0.0:
        raise SystemExit(f"{name}: a float64 rerun gave different numbers")
    low, _ = run(optimizer, config, params, grads, "float32")
    rel = max_rel(low, expected)
    if not 1e-9 < rel < 1e-3:
        raise SystemExit(f"{name}: the float32 rerun differs by {rel:.2e} relative")
    return rel


def main(
    flavour: str,
    cases,
    run,
    *,
    framework: str,
    version: str,
    clip_order=("clipnorm", "clipvalue"),
    per_tensor_clipnorm: bool = False,
    reference=None,
    argv=None,
) -> int:
    """Write ``<flavour>/<name>.json`` for every case; ``--check`` also reruns each one
    (float64, float32); ``reference(optimizer, config, params, grads)``, where given, is
    an independent transcription that must agree to 1e-12 relative."""
    parser = argparse.ArgumentParser(
        description=f"Golden trajectories of the {flavour} flavour."
    )
    parser.add_argument(
        "--check", action="store_true", help="rerun every case, in float64 and float32"
    )
    args = parser.parse_args(argv)
    out_dir = HERE / flavour
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [case[0] for case in cases]
    if len(set(names)) != len(names):
        raise SystemExit("two cases of the same name")
    worst_ref, rel32 = 0.0, []
    for case in cases:
        name, optimizer = case[0], case[1]
        config, params, grads, expected, call, stats = generate_case(
            case, run, clip_order, per_tensor_clipnorm
        )
        if reference is not None:
            dref = max_rel(expected, reference(optimizer, config, params, grads))
            if not dref < 1e-12:
                raise SystemExit(f"{name}: the numpy reference differs by {dref:.2e}")
            worst_ref = max(worst_ref, dref)
        if args.check:
            rel32.append(check_case(case, run, config, params, grads, expected))
        record = {
            "name": name,
            "flavour": flavour,
            "optimizer": optimizer,
            "config": config,
            "framework": framework,
            "framework_version": version,
            "framework_call": call,
            "dtype": "float64",
            "params": _tolist(params),
            "grads": [_tolist(step) for step in grads],
            "expected": [_tolist(step) for step in expected],
        }
        write_json(out_dir / f"{name}.json", record)
        if stats:
            print(f"  {name}: {'; '.join(stats)}")
    summary = f"{flavour} ({version}): wrote {len(cases)} cases to {out_dir}"
    if reference is not None:
        summary += f"; the numpy reference agrees to {worst_ref:.1e} relative"
    if rel32:
        summary += (
            "; float64 reruns bit-identical, float32 reruns differ by"
            f" {min(rel32):.1e} to {max(rel32):.1e} relative"
        )
    print(summary)
    return 0
