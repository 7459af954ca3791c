"""Golden trajectories of the real tf_keras legacy optimizers (tensorflow-cpu), float64.

Writes one JSON file per case to tests/golden/flavours/tf_keras/. The data, the clip
thresholds, the checks and the files are ``_cases.py``'s (shared by the four
generators); an independent numpy transcription of the update equations (see
tf_keras/NOTES.md, ``reference`` below) must agree with every case to 1e-12 relative.

Runs `tf_keras.optimizers.legacy.*` (the OptimizerV2 classes) eagerly on
tf.Variable(..., dtype=tf.float64) parameters. Every float hyperparameter that the
constructor stores as a hyper variable (learning_rate, decay, momentum, rho, beta_1,
beta_2) or converts itself (epsilon) is passed as a float64 tf.Variable: a plain Python
float would become a float32 variable (OptimizerV2.add_weight defaults to tf.float32)
and `decay` a float32-rounded constant (tf.cast of a Python float). Those left at their
default (config {} ...) are passed too, with the library's default value, so that the
"defaults" cases are the defaults in float64; framework_call shows every argument that
was passed, config only the non-default ones. Exceptions, exact
as Python floats: initial_accumulator_value (tf.compat.v1.constant_initializer with the
slot's float64 dtype; it accepts no tf.Variable), Nadam's schedule_decay (multiplied
into a float64 tensor) and clipnorm / clipvalue / global_clipnorm (converted to the
gradient's dtype by tf.clip_by_norm / tf.clip_by_value / tf.clip_by_global_norm).
Nadam's 0.96 is tf.cast(0.96, float64) in the library = 0.9599999785423279, as shipped.

Needs its own virtual environment (never the project's), for example:

    python -m venv ~/.cache/gradstep-flavours/tf_keras
    cd <repository root>
    ~/.cache/gradstep-flavours/tf_keras/bin/pip install \
        -r tests/golden/flavours/requirements-tf_keras.txt

Run from the repository root:

    ~/.cache/gradstep-flavours/tf_keras/bin/python tests/golden/flavours/generate_tf_keras.py
    # --check: also a float64 rerun (bit-identical) and a float32 one (differs)

It imports nothing from gradstep; every slot and hyper variable is asserted float64.
"""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from _cases import S2B, S3, S3B, main  # noqa: E402

VERSION = f"tf_keras {tf_keras.__version__} / tensorflow-cpu {tf.__version__}"
NADAM_DECAY_BASE = float(np.float32(0.96))  # 0.9599999785423279

# gradstep name -> tf_keras legacy constructor name: the same, but for lr
KW = {"lr": "learning_rate"}
# passed as float64 tf.Variable (see the docstring); the rest as Python values
AS_VARIABLE = {"lr", "momentum", "rho", "epsilon", "beta_1", "beta_2", "decay"}

# tf_keras legacy defaults (tf_keras/src/optimizers/legacy/*.py)
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
    "Nadam": {
        "lr": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "schedule_decay": 0.004,
    },
}

# (case name, optimizer, config in gradstep names, gradient kind, shapes): see _cases.py
# tf_keras clips by value, then by norm (per tensor), then by global norm.
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
        {"lr": 0.01, "epsilon": 1e-07},
        "small",
        S3B,
    ),
    (
        "rmsprop_momentum_epsilon_small_grads",
        "RMSprop",
        {"lr": 0.01, "momentum": 0.5, "epsilon": 1e-13},
        "small",
        S3,
    ),
    (
        "rmsprop_centered_epsilon_small_grads",
        "RMSprop",
        {"lr": 0.01, "centered": True, "epsilon": 1e-07},
        "small",
        S2B,
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
        {"lr": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-07},
        "small",
        S3B,
    ),
    (
        "adagrad_clipvalue_clipnorm",
        "Adagrad",
        {"lr": 0.1, "clipvalue": "auto", "clipnorm": "auto"},
        "normal",
        S3B,
    ),
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
        "adam_global_clipnorm",
        "Adam",
        {"lr": 0.01, "global_clipnorm": "auto"},
        "normal",
        S3,
    ),
    (
        "adam_amsgrad_clipvalue_global_clipnorm",
        "Adam",
        {
            "lr": 0.01,
            "amsgrad": True,
            "beta_2": 0.9,
            "clipvalue": "auto",
            "global_clipnorm": "auto",
        },
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
        "nadam_schedule_decay",
        "Nadam",
        {
            "lr": 0.01,
            "beta_1": 0.85,
            "beta_2": 0.99,
            "epsilon": 1e-06,
            "schedule_decay": 0.2,
        },
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
    (
        "nadam_clipnorm_clipvalue",
        "Nadam",
        {"lr": 0.01, "clipnorm": "auto", "clipvalue": "auto"},
        "normal",
        S3,
    ),
]


# ------------------------------------------------------ the real tf_keras legacy


def build_optimizer(opt_name, config, dtype):
    # Float hyperparameters left at their defaults are passed too, with the default
    # value, as float64 variables (as Python floats they would be float32 variables).
    full = dict(config)
    for k, v in DEFAULTS[opt_name].items():
        if k in AS_VARIABLE and k not in full:
            full[k] = v
    kwargs = {}
    shown = []
    for k, v in full.items():
        if k in AS_VARIABLE:
            kwargs[KW.get(k, k)] = tf.Variable(v, dtype=dtype)
            shown.append(f"{KW.get(k, k)}=tf.Variable({v!r}, dtype=tf.{dtype})")
        else:
            kwargs[KW.get(k, k)] = v
            shown.append(f"{KW.get(k, k)}={v!r}")
    cls = getattr(tf_keras.optimizers.legacy, opt_name)
    call = f"tf_keras.optimizers.legacy.{opt_name}({', '.join(shown)})"
    return cls(**kwargs), call


def run(opt_name, config, params, grads, dtype):
    """The trajectory (the parameters after every step) and what was run."""
    variables = [
        tf.Variable(np.asarray(p, dtype=dtype), dtype=dtype, name=f"p{i}")
        for i, p in enumerate(params)
    ]
    opt, call = build_optimizer(opt_name, config, dtype)
    out = []
    for step in grads:
        gs = [tf.constant(np.asarray(g, dtype=dtype)) for g in step]
        opt.apply_gradients(zip(gs, variables))
        out.append([np.array(v.numpy(), dtype=np.float64) for v in variables])
    for w in opt.weights:
        if w.dtype == tf.int64:  # the iteration counter
            continue
        assert w.dtype.name == dtype, (opt_name, w.name, w.dtype)
    for name, value in opt._hyper.items():
        # the "decay" hyper variable is never read: _decayed_lr and Nadam use the
        # Python-side opt._initial_decay
        if name == "decay" and "decay" not in config:
            continue
        if isinstance(value, tf.Variable):
            assert value.dtype.name == dtype, (opt_name, name, value.dtype)
    for v in variables:
        assert v.dtype.name == dtype
    return out, call + (
        "; eager opt.apply_gradients(zip(grads, variables)) on tf.float64 tf.Variables"
    )


# --------------------------------------------- independent numpy transcription


def reference(opt_name, config, params, grads):
    c = dict(DEFAULTS[opt_name])
    c.update(config)
    lr0 = c["lr"]
    decay = c.get("decay", 0.0)
    ps = [np.array(p, dtype=np.float64) for p in params]
    z = [np.zeros_like(p) for p in ps]
    st = {k: [x.copy() for x in z] for k in ("m", "v", "a", "vh")}
    if opt_name == "Adagrad":
        st["v"] = [np.full_like(p, c["initial_accumulator_value"]) for p in ps]
    m_cache = 1.0
    out = []
    for i, step in enumerate(grads):
        gs = [np.array(g, dtype=np.float64) for g in step]
        # OptimizerV2._transform_gradients: clipvalue, then clipnorm, then global
        if c.get("clipvalue") is not None:
            cv = c["clipvalue"]
            gs = [np.clip(g, -cv, cv) for g in gs]
        if c.get("clipnorm") is not None:
            cn = c["clipnorm"]
            gs = [g * cn / max(math.sqrt(float(np.sum(g * g))), cn) for g in gs]
        if c.get("global_clipnorm") is not None:
            cn = c["global_clipnorm"]
            gn = math.sqrt(sum(float(np.sum(g * g)) for g in gs))
            gs = [g * (cn * min(1.0 / gn, 1.0 / cn)) for g in gs]
        lr = lr0 / (1.0 + decay * i) if decay else lr0  # OptimizerV2._decayed_lr
        t = i + 1
        eps = c.get("epsilon")
        if opt_name == "Nadam":
            sd = c["schedule_decay"]
            m_t = c["beta_1"] * (1.0 - 0.5 * NADAM_DECAY_BASE ** (sd * t))
            m_t_1 = c["beta_1"] * (1.0 - 0.5 * NADAM_DECAY_BASE ** (sd * (t + 1)))
            m_schedule_new = m_cache * m_t
            m_schedule_next = m_schedule_new * m_t_1
            m_cache = m_schedule_new
            lr = lr0  # Nadam's lr is never decayed (its `decay` is the schedule)
        for j, g in enumerate(gs):
            p, m, v = ps[j], st["m"][j], st["v"][j]
            if opt_name == "SGD":
                mom = c["momentum"]
                if mom > 0:  # ResourceApplyKerasMomentum
                    m[...] = m * mom - g * lr
                    if c["nesterov"]:
                        p += m * mom - g * lr
                    else:
                        p += m
                else:  # ResourceApplyGradientDescent
                    p -= lr * g
            elif opt_name == "RMSprop":
                rho = c["rho"]
                v[...] = rho * v + (1 - rho) * g * g
                if c["centered"]:
                    a = st["a"][j]
                    a[...] = rho * a + (1 - rho) * g
                    den = v - a * a
                else:
                    den = v
                if c["momentum"] > 0:  # ResourceApply(Centered)RMSProp: eps inside
                    m[...] = c["momentum"] * m + lr * g / np.sqrt(den + eps)
                    p -= m
                else:  # python path: eps outside the sqrt
                    p -= lr * g / (np.sqrt(den) + eps)
            elif opt_name == "Adagrad":  # ResourceApplyAdagradV2
                v += g * g
                p -= lr * g / (np.sqrt(v) + eps)
            elif opt_name == "Adadelta":  # ResourceApplyAdadelta
                rho = c["rho"]
                v[...] = rho * v + (1 - rho) * g * g
                update = np.sqrt(m + eps) / np.sqrt(v + eps) * g
                m[...] = rho * m + (1 - rho) * update * update
                p -= lr * update
            elif opt_name == "Adam":  # ResourceApplyAdam / AdamWithAmsgrad
                b1, b2 = c["beta_1"], c["beta_2"]
                alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                vv = v
                if c["amsgrad"]:
                    vh = st["vh"][j]
                    vh[...] = np.maximum(vh, v)
                    vv = vh
                p -= alpha * m / (np.sqrt(vv) + eps)
            elif opt_name == "Adamax":  # ResourceApplyAdaMax
                b1, b2 = c["beta_1"], c["beta_2"]
                m += (g - m) * (1 - b1)
                v[...] = np.maximum(b2 * v, np.abs(g))
                p -= lr / (1 - b1**t) * (m / (v + eps))
            elif opt_name == "Nadam":
                b1, b2 = c["beta_1"], c["beta_2"]
                g_prime = g / (1.0 - m_schedule_new)
                m[...] = b1 * m + (1 - b1) * g
                m_prime = m / (1.0 - m_schedule_next)
                v[...] = b2 * v + (1 - b2) * g * g
                v_prime = v / (1.0 - b2**t)
                m_bar = (1.0 - m_t) * g_prime + m_t_1 * m_prime
                p -= lr * m_bar / (np.sqrt(v_prime) + eps)
            else:
                raise KeyError(opt_name)
        out.append([p.copy() for p in ps])
    return out


if __name__ == "__main__":
    tf.random.set_seed(0)
    sys.exit(
        main(
            "tf_keras",
            CASES,
            run,
            framework="tf_keras",
            version=VERSION,
            clip_order=("clipvalue", "clipnorm", "global_clipnorm"),
            per_tensor_clipnorm=True,
            reference=reference,
        )
    )
