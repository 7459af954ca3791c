"""Golden trajectories of the real Keras 3 optimizers (jax backend), float64.

Runs each case below through the installed Keras 3 (``jax_enable_x64``, floatx float64)
and writes one JSON file per case to ``tests/golden/flavours/keras3/``.  The data, the
clip thresholds, the checks and the files are ``_cases.py``'s (shared by the four
generators); an independent numpy transcription of the update equations (see
keras3/NOTES.md, ``reference`` below) must agree with every case to 1e-12 relative.

Needs its own virtual environment (never the project's), for example:

    python -m venv ~/.cache/gradstep-flavours/keras3
    cd <repository root>
    ~/.cache/gradstep-flavours/keras3/bin/pip install \
        -r tests/golden/flavours/requirements-keras3.txt

Run from the repository root:

    ~/.cache/gradstep-flavours/keras3/bin/python tests/golden/flavours/generate_keras3.py
    # --check: also a float64 rerun (bit-identical) and a float32 one (differs)

It imports nothing from gradstep; every optimizer variable is asserted float64.
"""

import math
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _cases import S2B, S3, S3B, main  # noqa: E402

keras.config.set_floatx("float64")

VERSION = f"keras {keras.__version__} / jax {jax.__version__} (backend jax, x64)"

# gradstep name -> Keras 3 constructor name: the same, but for lr
KW = {"lr": "learning_rate"}

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

# (case name, optimizer, config in gradstep names, gradient kind, shapes): see _cases.py
# Keras 3 allows one of clipnorm (per tensor), global_clipnorm, clipvalue at a time.
CASES = [
    ("sgd_default", "SGD", {}, "normal", S3),
    ("sgd_momentum", "SGD", {"lr": 0.01, "momentum": 0.9}, "normal", S2B),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.02, "momentum": 0.85, "nesterov": True},
        "normal",
        S3B,
    ),
    (
        "sgd_momentum_decay",
        "SGD",
        {"lr": 0.02, "momentum": 0.8, "decay": 0.1},
        "normal",
        S3,
    ),
    ("sgd_clipnorm", "SGD", {"lr": 0.05, "clipnorm": "auto"}, "normal", S2B),
    ("rmsprop_default", "RMSprop", {}, "normal", S3),
    ("rmsprop_lr_rho", "RMSprop", {"lr": 0.01, "rho": 0.8}, "normal", S2B),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}, "normal", S3B),
    (
        "rmsprop_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.85, "momentum": 0.7},
        "normal",
        S3,
    ),
    (
        "rmsprop_centered_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.9, "momentum": 0.6, "centered": True, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "rmsprop_epsilon_small_grads",
        "RMSprop",
        {"lr": 0.01, "epsilon": 1e-13},
        "small",
        S3B,
    ),
    ("rmsprop_clipvalue", "RMSprop", {"lr": 0.01, "clipvalue": "auto"}, "normal", S3),
    ("adagrad_default", "Adagrad", {}, "normal", S3),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.05, "initial_accumulator_value": 0.5, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "adagrad_epsilon_small_grads",
        "Adagrad",
        {"lr": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-12},
        "small",
        S3B,
    ),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.1, "clipnorm": "auto"}, "normal", S3B),
    ("adadelta_default", "Adadelta", {}, "normal", S3),
    (
        "adadelta_lr_rho",
        "Adadelta",
        {"lr": 1.0, "rho": 0.9, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "adadelta_epsilon_small_grads",
        "Adadelta",
        {"lr": 1.0, "epsilon": 1e-13},
        "small",
        S3B,
    ),
    ("adam_default", "Adam", {}, "normal", S3),
    (
        "adam_betas",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "adam_amsgrad",
        "Adam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.95, "amsgrad": True},
        "normal",
        S3B,
    ),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.05}, "normal", S3),
    ("adam_epsilon_small_grads", "Adam", {"lr": 0.01, "epsilon": 1e-07}, "small", S2B),
    (
        "adam_amsgrad_global_clipnorm",
        "Adam",
        {"lr": 0.01, "amsgrad": True, "beta_2": 0.9, "global_clipnorm": "auto"},
        "normal",
        S3B,
    ),
    ("adamax_default", "Adamax", {}, "normal", S3),
    (
        "adamax_betas",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "adamax_epsilon_small_grads",
        "Adamax",
        {"lr": 0.01, "epsilon": 1e-07},
        "small",
        S3B,
    ),
    ("nadam_default", "Nadam", {}, "normal", S3),
    (
        "nadam_betas",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "epsilon": 1e-06},
        "normal",
        S2B,
    ),
    (
        "nadam_epsilon_small_grads",
        "Nadam",
        {"lr": 0.01, "epsilon": 1e-07},
        "small",
        S3B,
    ),
]


# ------------------------------------------------------------------ the real Keras 3


def build_optimizer(opt_name, config):
    kwargs = {}
    for k, v in config.items():
        if k == "decay":
            continue
        kwargs[KW.get(k, k)] = v
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


def run(opt_name, config, params, grads, dtype):
    """The trajectory (the parameters after every step) and what was run."""
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
        if "decay" in config:
            call += " (decay: learning rate lr / (1 + decay * iterations))"
        return out, call + "; opt.apply_gradients(zip(grads, variables))"
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


if __name__ == "__main__":
    sys.exit(
        main(
            "keras3",
            CASES,
            run,
            framework="keras",
            version=VERSION,
            clip_order=("clipnorm", "global_clipnorm", "clipvalue"),
            per_tensor_clipnorm=True,
            reference=reference,
        )
    )
