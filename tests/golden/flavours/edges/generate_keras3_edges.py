"""Edge cases of the real Keras 3 (jax backend, float64) for tests/test_flavour_edges.py:
what Keras 3 does with hyperparameters assigned after construction. Written to
``data/`` (not beside the flavours' cases: those are rebuilt from their config alone).

Keras 3 accepts only one of clipnorm, clipvalue, global_clipnorm in its constructor,
but they are plain attributes: ``opt.clipvalue = v`` on an optimizer built with
``clipnorm`` is accepted, and ``_clip_gradients`` then applies clipnorm alone (its
``if clipnorm ... elif global_clipnorm ... elif clipvalue``), while ``get_config()`` of
that optimizer no longer rebuilds (``from_config`` raises). gradstep refuses such an
assignment (the constructor's check), so its optimizer steps as Keras 3's first key
alone does; the file records Keras 3's trajectory with the extra keys assigned.

A momentum (SGD, RMSprop) that was 0 when Keras 3 built its slots and is then assigned
> 0 crashes Keras 3's next step (no momentum slot); the file records the error, and
gradstep refuses the assignment.

Run from the repository root, in the Keras 3 environment (see ../README.md):

    ~/.cache/gradstep-flavours/keras3/bin/python \
        tests/golden/flavours/edges/generate_keras3_edges.py
"""

import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent))
from _cases import S3, make_data, max_rel, write_json  # noqa: E402

keras.config.set_floatx("float64")

# (name, optimizer, constructor config in gradstep names, assigned afterwards)
CASES = [
    (
        "keras3_clipnorm_then_clipvalue_assigned",
        "SGD",
        {"lr": 0.05, "momentum": 0.5, "clipnorm": 1.2},
        {"clipvalue": 0.4},
    ),
    (
        "keras3_global_clipnorm_then_clipvalue_assigned",
        "Adam",
        {"lr": 0.02, "global_clipnorm": 1.5},
        {"clipvalue": 0.3},
    ),
]

# (name, optimizer, constructor config, assigned after the first step): Keras 3 fails
CRASHES = [
    (
        "keras3_sgd_momentum_assigned_after_build",
        "SGD",
        {"lr": 0.05},
        {"momentum": 0.9},
    ),
    (
        "keras3_rmsprop_momentum_assigned_after_build",
        "RMSprop",
        {"lr": 0.01},
        {"momentum": 0.5},
    ),
]


def run(opt_name, config, assigned, params, grads):
    variables = [keras.Variable(np.asarray(p)) for p in params]
    kwargs = {("learning_rate" if k == "lr" else k): v for k, v in config.items()}
    opt = getattr(keras.optimizers, opt_name)(**kwargs)
    for key, value in assigned.items():
        setattr(opt, key, value)
    out = []
    for step in grads:
        opt.apply_gradients(zip([jax.numpy.asarray(g) for g in step], variables))
        out.append([np.array(v.numpy(), dtype=np.float64) for v in variables])
    for v in opt.variables:
        assert "iteration" in v.path or str(v.dtype) == "float64", v.path
    try:
        type(opt).from_config(opt.get_config())
        rebuilds = True
    except ValueError:
        rebuilds = False
    call = (
        f"opt = keras.optimizers.{opt_name}("
        + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        + "); "
        + "; ".join(f"opt.{k} = {v!r}" for k, v in assigned.items())
        + "; opt.apply_gradients(zip(grads, variables)) per step"
    )
    return out, call, rebuilds


def crash(opt_name, config, assigned, params, grads):
    """The error of Keras 3's second step, after ``assigned`` (one step built it)."""
    variables = [keras.Variable(np.asarray(p)) for p in params]
    kwargs = {("learning_rate" if k == "lr" else k): v for k, v in config.items()}
    opt = getattr(keras.optimizers, opt_name)(**kwargs)
    opt.apply_gradients(zip([jax.numpy.asarray(g) for g in grads[0]], variables))
    for key, value in assigned.items():
        setattr(opt, key, value)
    try:
        opt.apply_gradients(zip([jax.numpy.asarray(g) for g in grads[1]], variables))
    except Exception as error:  # noqa: BLE001 - what Keras 3 raises is the record
        return f"{type(error).__name__}: {error}"
    raise SystemExit(f"{opt_name}: Keras 3 stepped after {assigned}")


def main():
    version = f"keras {keras.__version__} / jax {jax.__version__} (backend jax, x64)"
    DATA.mkdir(exist_ok=True)
    for name, opt_name, config, assigned in CRASHES:
        params, grads = make_data(name, "normal", S3)
        error = crash(opt_name, config, assigned, params, grads)
        record = {
            "name": name,
            "flavour": "keras3",
            "optimizer": opt_name,
            "config": config,
            "assigned_after_first_step": assigned,
            "framework": "keras",
            "framework_version": version,
            "framework_error": error,
        }
        write_json(DATA / f"{name}.json", record)
        print(f"{name}: Keras 3 raises {error}")
    for name, opt_name, config, assigned in CASES:
        params, grads = make_data(name, "normal", S3)
        expected, call, rebuilds = run(opt_name, config, assigned, params, grads)
        again, _, _ = run(opt_name, config, assigned, params, grads)
        assert max_rel(again, expected) == 0.0
        first_only, _, _ = run(opt_name, config, {}, params, grads)
        assert max_rel(first_only, expected) == 0.0, "Keras 3 applied the second key"
        record = {
            "name": name,
            "flavour": "keras3",
            "optimizer": opt_name,
            "config": config,
            "assigned": assigned,
            "config_rebuilds": rebuilds,
            "framework": "keras",
            "framework_version": version,
            "framework_call": call,
            "dtype": "float64",
            "params": [p.tolist() for p in params],
            "grads": [[g.tolist() for g in step] for step in grads],
            "expected": [[e.tolist() for e in step] for step in expected],
        }
        write_json(DATA / f"{name}.json", record)
        print(f"{name}: wrote; get_config rebuilds in Keras 3: {rebuilds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
