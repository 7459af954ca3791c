"""Golden trajectories of the real Keras 3 optimizers (jax backend), float64.

Writes tests/golden/flavours/keras3/<optimizer>_<case>.json (format: one JSON object per
case with name, flavour, optimizer, config (gradstep names), framework, framework_version,
framework_call, dtype, params, grads, expected).

Needs its own virtual environment (never the project's), for example:

    python -m venv ~/.cache/gradstep-flavours/keras3
    cd <repository root>
    ~/.cache/gradstep-flavours/keras3/bin/pip install \
        -r tests/golden/flavours/requirements-keras3.txt

Run from the repository root:

    ~/.cache/gradstep-flavours/keras3/bin/python tests/golden/flavours/generate_keras3.py

It imports nothing from gradstep. Before writing, every case is checked:
- the optimizer's variables really are float64;
- a second float64 run gives bit-identical numbers;
- a float32 run differs (by ~1e-7 relative, not 0), so the trajectory is float64;
- an independent numpy transcription of the update equations (see keras3/NOTES.md)
  agrees to 1e-12 relative.
Prints a one-line summary.
"""

import json
import math
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.config.set_floatx("float64")

FLAVOUR = "keras3"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), FLAVOUR)
STEPS = 15
SEED = 20240611
VERSION = f"keras {keras.__version__} / jax {jax.__version__} (backend jax, x64)"

# gradstep name -> Keras 3 constructor name
KW = {
    "lr": "learning_rate",
    "momentum": "momentum",
    "nesterov": "nesterov",
    "rho": "rho",
    "epsilon": "epsilon",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "amsgrad": "amsgrad",
    "centered": "centered",
    "initial_accumulator_value": "initial_accumulator_value",
    "clipnorm": "clipnorm",
    "clipvalue": "clipvalue",
    "global_clipnorm": "global_clipnorm",
}

# Keras 3 defaults (keras/src/optimizers/*.py), used by the numpy reference.
DEFAULTS = {
    "SGD": {"lr": 0.01, "momentum": 0.0, "nesterov": False},
    "RMSprop": {
        "lr": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    },
    "Adagrad": {"lr": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adadelta": {"lr": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "Adam": {
        "lr": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    "Adamax": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Nadam": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}

SHAPE_SETS = [
    [(3,), (2, 2), (2, 3, 1)],
    [(2, 2), (3,)],
    [(2, 3, 1), (3,), (2, 2)],
]

# (case name, optimizer, config in gradstep names, gradient kind, shape set)
# gradient kinds: "normal" (per-step scale 0.2..3), "small" (elements 1e-8..1e-6),
# "clip" (like normal; the clip threshold is picked from the data so that it straddles).
CASES = [
    ("sgd_default", "SGD", {}, "normal", 0),
    ("sgd_momentum", "SGD", {"lr": 0.01, "momentum": 0.9}, "normal", 1),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.02, "momentum": 0.85, "nesterov": True},
        "normal",
        2,
    ),
    (
        "sgd_momentum_decay",
        "SGD",
        {"lr": 0.02, "momentum": 0.8, "decay": 0.1},
        "normal",
        0,
    ),
    ("sgd_clipnorm", "SGD", {"lr": 0.05, "clipnorm": None}, "clip", 1),
    ("rmsprop_default", "RMSprop", {}, "normal", 0),
    ("rmsprop_lr_rho", "RMSprop", {"lr": 0.01, "rho": 0.8}, "normal", 1),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}, "normal", 2),
    (
        "rmsprop_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.85, "momentum": 0.7},
        "normal",
        0,
    ),
    (
        "rmsprop_centered_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.9, "momentum": 0.6, "centered": True, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "rmsprop_epsilon_small_grads",
        "RMSprop",
        {"lr": 0.01, "epsilon": 1e-13},
        "small",
        2,
    ),
    (
        "rmsprop_clipvalue",
        "RMSprop",
        {"lr": 0.01, "clipvalue": None},
        "clip",
        0,
    ),
    ("adagrad_default", "Adagrad", {}, "normal", 0),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.05, "initial_accumulator_value": 0.5, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "adagrad_epsilon_small_grads",
        "Adagrad",
        {"lr": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-12},
        "small",
        2,
    ),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.1, "clipnorm": None}, "clip", 2),
    ("adadelta_default", "Adadelta", {}, "normal", 0),
    (
        "adadelta_lr_rho",
        "Adadelta",
        {"lr": 1.0, "rho": 0.9, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "adadelta_epsilon_small_grads",
        "Adadelta",
        {"lr": 1.0, "epsilon": 1e-13},
        "small",
        2,
    ),
    ("adam_default", "Adam", {}, "normal", 0),
    (
        "adam_betas",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "adam_amsgrad",
        "Adam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.95, "amsgrad": True},
        "normal",
        2,
    ),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.05}, "normal", 0),
    (
        "adam_epsilon_small_grads",
        "Adam",
        {"lr": 0.01, "epsilon": 1e-7},
        "small",
        1,
    ),
    (
        "adam_amsgrad_global_clipnorm",
        "Adam",
        {"lr": 0.01, "amsgrad": True, "beta_2": 0.9, "global_clipnorm": None},
        "clip",
        2,
    ),
    ("adamax_default", "Adamax", {}, "normal", 0),
    (
        "adamax_betas",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "adamax_epsilon_small_grads",
        "Adamax",
        {"lr": 0.01, "epsilon": 1e-7},
        "small",
        2,
    ),
    ("nadam_default", "Nadam", {}, "normal", 0),
    (
        "nadam_betas",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "epsilon": 1e-6},
        "normal",
        1,
    ),
    (
        "nadam_epsilon_small_grads",
        "Nadam",
        {"lr": 0.01, "epsilon": 1e-7},
        "small",
        2,
    ),
]


# ----------------------------------------------------------------------------- data


def make_data(rng, shapes, kind):
    params = []
    for shape in shapes:
        mag = rng.uniform(0.5, 2.0, size=shape)
        sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
        params.append(mag * sign)
    grads = []
    for _ in range(STEPS):
        step = []
        if kind == "small":
            for shape in shapes:
                mag = 10.0 ** rng.uniform(-8.0, -6.0, size=shape)
                sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
                step.append(mag * sign)
        else:
            scale = math.exp(rng.uniform(math.log(0.2), math.log(3.0)))
            for shape in shapes:
                step.append(rng.normal(size=shape) * scale)
        grads.append(step)
    return params, grads


def round2(x):
    """Round to 2 significant digits (a readable threshold)."""
    e = math.floor(math.log10(abs(x)))
    return round(x, 1 - e)


def pick_clip_threshold(key, grads):
    """A threshold that clips some steps/elements and not others."""
    if key == "clipnorm":
        norms = [float(np.sqrt(np.sum(g * g))) for step in grads for g in step]
        return round2(float(np.median(norms)))
    if key == "global_clipnorm":
        norms = [
            float(np.sqrt(sum(float(np.sum(g * g)) for g in step))) for step in grads
        ]
        return round2(float(np.median(norms)))
    if key == "clipvalue":
        vals = np.concatenate([np.abs(g).ravel() for step in grads for g in step])
        return round2(float(np.quantile(vals, 0.7)))
    raise KeyError(key)


def clip_stats(config, grads):
    """How many tensors/steps/elements the configured clipping touches."""
    out = {}
    if config.get("clipnorm") is not None:
        c = config["clipnorm"]
        norms = [float(np.sqrt(np.sum(g * g))) for step in grads for g in step]
        out["clipnorm_tensors_clipped"] = sum(n > c for n in norms)
        out["tensors"] = len(norms)
    if config.get("global_clipnorm") is not None:
        c = config["global_clipnorm"]
        norms = [
            float(np.sqrt(sum(float(np.sum(g * g)) for g in step))) for step in grads
        ]
        out["global_clipnorm_steps_clipped"] = sum(n > c for n in norms)
    if config.get("clipvalue") is not None:
        c = config["clipvalue"]
        vals = np.concatenate([np.abs(g).ravel() for step in grads for g in step])
        out["clipvalue_elements_clipped"] = int(np.sum(vals > c))
        out["elements"] = int(vals.size)
    return out


# ------------------------------------------------------------------ the real Keras 3


def build_optimizer(opt_name, config):
    kwargs = {}
    for k, v in config.items():
        if k == "decay":
            continue
        kwargs[KW[k]] = v
    lr = config.get("lr", DEFAULTS[opt_name]["lr"])
    call_kwargs = dict(kwargs)
    if "decay" in config:
        kwargs["learning_rate"] = keras.optimizers.schedules.InverseTimeDecay(
            lr, decay_steps=1, decay_rate=config["decay"]
        )
        call_kwargs["learning_rate"] = (
            f"keras.optimizers.schedules.InverseTimeDecay({lr!r}, decay_steps=1, "
            f"decay_rate={config['decay']!r})"
        )
    cls = getattr(keras.optimizers, opt_name)
    args = ", ".join(
        f"{k}={v}" if isinstance(v, str) else f"{k}={v!r}"
        for k, v in call_kwargs.items()
    )
    call = f"keras.optimizers.{opt_name}({args})"
    return cls(**kwargs), call


def run_keras(opt_name, config, params, grads, dtype):
    keras.config.set_floatx(dtype)
    try:
        variables = [
            keras.Variable(np.asarray(p, dtype=dtype), dtype=dtype, name=f"p{i}")
            for i, p in enumerate(params)
        ]
        opt, call = build_optimizer(opt_name, config)
        out = []
        for step in grads:
            gs = [jax.numpy.asarray(np.asarray(g, dtype=dtype)) for g in step]
            opt.apply_gradients(zip(gs, variables))
            out.append([np.array(v.numpy(), dtype=np.float64) for v in variables])
        for v in opt.variables:
            if "iteration" in v.path:
                continue
            assert str(v.dtype) == dtype, (opt_name, v.path, v.dtype)
        for v in variables:
            assert str(v.dtype) == dtype, (v.path, v.dtype)
        return out, call
    finally:
        keras.config.set_floatx("float64")


# --------------------------------------------- independent numpy transcription


def reference(opt_name, config, params, grads):
    c = dict(DEFAULTS[opt_name])
    c.update(config)
    lr0 = c["lr"]
    decay = c.get("decay", 0.0)
    ps = [np.array(p, dtype=np.float64) for p in params]
    z = [np.zeros_like(p) for p in ps]
    st = {
        "m": [x.copy() for x in z],
        "v": [x.copy() for x in z],
        "a": [x.copy() for x in z],
        "vh": [x.copy() for x in z],
    }
    if opt_name == "Adagrad":
        st["v"] = [np.full_like(p, c["initial_accumulator_value"]) for p in ps]
    u_product = 1.0
    out = []
    for i, step in enumerate(grads):
        gs = [np.array(g, dtype=np.float64) for g in step]
        # Keras 3 base_optimizer._clip_gradients: only one of the three can be set
        if c.get("clipnorm"):
            cn = c["clipnorm"]
            gs = [g * cn / max(math.sqrt(float(np.sum(g * g))), cn) for g in gs]
        elif c.get("global_clipnorm"):
            cn = c["global_clipnorm"]
            gn = math.sqrt(sum(float(np.sum(g * g)) for g in gs))
            gs = [g * (cn * min(1.0 / gn, 1.0 / cn)) for g in gs]
        elif c.get("clipvalue"):
            cv = c["clipvalue"]
            gs = [np.clip(g, -cv, cv) for g in gs]
        lr = lr0 / (1.0 + decay * i) if decay else lr0
        t = i + 1
        eps = c.get("epsilon")
        if opt_name == "Nadam":
            u_product = u_product * c["beta_1"] * (1.0 - 0.5 * 0.96**t)
        for j, g in enumerate(gs):
            p, m, v = ps[j], st["m"][j], st["v"][j]
            if opt_name == "SGD":
                mom = c["momentum"]
                if mom != 0:
                    m[...] = m * mom - g * lr
                    if c["nesterov"]:
                        p += m * mom - g * lr
                    else:
                        p += m
                else:
                    p -= g * lr
            elif opt_name == "RMSprop":
                rho = c["rho"]
                v[...] = rho * v + (1 - rho) * g * g
                if c["centered"]:
                    a = st["a"][j]
                    a[...] = rho * a + (1 - rho) * g
                    den = v - a * a + eps
                else:
                    den = v + eps
                inc = lr * g / np.sqrt(den)
                if c["momentum"] > 0:
                    m[...] = c["momentum"] * m + inc
                    p -= m
                else:
                    p -= inc
            elif opt_name == "Adagrad":
                v += g * g
                p -= lr * g / np.sqrt(v + eps)
            elif opt_name == "Adadelta":
                rho = c["rho"]
                v[...] = rho * v + (1 - rho) * g * g
                delta = -(np.sqrt(m + eps) * g) / np.sqrt(v + eps)
                m[...] = rho * m + (1 - rho) * delta * delta
                p += lr * delta
            elif opt_name == "Adam":
                b1, b2 = c["beta_1"], c["beta_2"]
                alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                vv = v
                if c["amsgrad"]:
                    vh = st["vh"][j]
                    vh[...] = np.maximum(vh, v)
                    vv = vh
                p -= m * alpha / (np.sqrt(vv) + eps)
            elif opt_name == "Adamax":
                b1, b2 = c["beta_1"], c["beta_2"]
                m += (g - m) * (1 - b1)
                v[...] = np.maximum(b2 * v, np.abs(g))
                p -= lr * m / ((1 - b1**t) * (v + eps))
            elif opt_name == "Nadam":
                b1, b2 = c["beta_1"], c["beta_2"]
                u_t = b1 * (1.0 - 0.5 * 0.96**t)
                u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
                u_product_t_1 = u_product * u_t_1
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (
                    1 - u_product
                )
                v_hat = v / (1 - b2**t)
                p -= m_hat * lr / (np.sqrt(v_hat) + eps)
            else:
                raise KeyError(opt_name)
        out.append([p.copy() for p in ps])
    return out


# ----------------------------------------------------------------------------- main


def max_rel(a, b):
    worst = 0.0
    for sa, sb in zip(a, b):
        for x, y in zip(sa, sb):
            d = np.abs(np.asarray(x) - np.asarray(y)) / np.maximum(np.abs(y), 1e-300)
            worst = max(worst, float(np.max(d)))
    return worst


def tolist(arrs):
    return [np.asarray(a, dtype=np.float64).tolist() for a in arrs]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(SEED)
    worst_ref = 0.0
    min_f32 = math.inf
    written = 0
    for name, opt_name, config, kind, shape_set in CASES:
        shapes = SHAPE_SETS[shape_set]
        config = dict(config)
        for attempt in range(50):
            params, grads = make_data(rng, shapes, kind)
            for key in ("clipnorm", "clipvalue", "global_clipnorm"):
                if key in config and (config[key] is None or attempt):
                    config[key] = pick_clip_threshold(key, grads)
            ref = reference(opt_name, config, params, grads)
            if min(float(np.min(np.abs(p))) for s in ref for p in s) >= 1e-3:
                break
        else:
            raise RuntimeError(f"{name}: no data with |params| >= 1e-3")
        expected, call = run_keras(opt_name, config, params, grads, "float64")
        again, _ = run_keras(opt_name, config, params, grads, "float64")
        for sa, sb in zip(expected, again):
            for x, y in zip(sa, sb):
                assert np.array_equal(x, y), f"{name}: not deterministic"
        f32, _ = run_keras(opt_name, config, params, grads, "float32")
        d32 = max_rel(f32, expected)
        assert 1e-9 < d32 < 1e-3, f"{name}: float32 run differs by {d32}"
        min_f32 = min(min_f32, d32)
        dref = max_rel(expected, ref)
        assert dref < 1e-12, f"{name}: numpy reference differs by {dref}"
        worst_ref = max(worst_ref, dref)
        stats = clip_stats(config, grads)
        if stats:
            print(f"  {name}: {config} {stats}", file=sys.stderr)
        if "decay" in config:
            call += " (decay: learning rate lr / (1 + decay * iterations))"
        doc = {
            "name": name,
            "flavour": FLAVOUR,
            "optimizer": opt_name,
            "config": config,
            "framework": "keras",
            "framework_version": VERSION,
            "framework_call": call + "; opt.apply_gradients(zip(grads, variables))",
            "dtype": "float64",
            "params": tolist(params),
            "grads": [tolist(s) for s in grads],
            "expected": [tolist(s) for s in expected],
        }
        with open(os.path.join(OUT_DIR, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        written += 1
    print(
        f"keras3: wrote {written} cases to {OUT_DIR} ({VERSION}); "
        f"max rel diff vs numpy reference {worst_ref:.1e}; "
        f"float32 runs differ by >= {min_f32:.1e}; reruns bit-identical"
    )


if __name__ == "__main__":
    main()
