"""Golden trajectories from the real optax (the gradstep "optax" flavour).

Runs each case below through the installed optax on jax with ``jax_enable_x64`` (float64
end to end: the parameters, gradients and every optimizer state leaf are float64) and
writes one JSON file per case to ``tests/golden/flavours/optax/``.  The data, the clip
thresholds, the checks and the files are ``_cases.py``'s (shared by the four
generators).

The optimizer is ``optax.chain(optax.clip_by_global_norm(clipnorm), optax.clip(clipvalue),
<alias>)`` with only the configured clippings (or the bare alias), the alias being
``optax.sgd``, ``rmsprop``, ``adagrad``, ``adadelta``, ``adam``, ``amsgrad`` (gradstep
``Adam`` with ``amsgrad=True``), ``adamax`` or ``nadam``; a time-based ``decay`` is
``learning_rate=lambda count: lr / (1.0 + decay * count)``.  One step, under ``jax.jit``:
``updates, state = opt.update(grads, state, params)``, then
``params = optax.apply_updates(params, updates)``.  The parameters are a list of arrays.

Run from the repository root::

    python tests/golden/flavours/generate_optax.py            # write the files
    python tests/golden/flavours/generate_optax.py --check    # also: rerun, float32 rerun

Nothing from gradstep is imported: this is an independent reference.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from _cases import S2, S3, main  # noqa: E402

# (case name, optimizer, config in gradstep names, gradient kind, shapes): see _cases.py
# optax has no default learning rate (except adadelta): the "defaults" cases give only lr.
CASES = [
    ("sgd_default", "SGD", {"lr": 0.05}, "normal", S3),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, "normal", S3),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.04, "momentum": 0.85, "nesterov": True},
        "normal",
        S3,
    ),
    (
        "sgd_momentum_decay",
        "SGD",
        {"lr": 0.06, "momentum": 0.9, "decay": 0.1},
        "normal",
        S2,
    ),
    ("sgd_clipnorm", "SGD", {"lr": 0.1, "clipnorm": "auto"}, "normal", S3),
    (
        "sgd_nesterov_clipvalue",
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "clipvalue": "auto"},
        "normal",
        S3,
    ),
    ("rmsprop_default", "RMSprop", {"lr": 0.003}, "normal", S3),
    (
        "rmsprop_rho_eps",
        "RMSprop",
        {"lr": 0.005, "rho": 0.8, "epsilon": 1e-06},
        "normal",
        S3,
    ),
    (
        "rmsprop_centered",
        "RMSprop",
        {"lr": 0.004, "rho": 0.95, "centered": True},
        "normal",
        S3,
    ),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.003, "momentum": 0.9}, "sparse", S3),
    (
        "rmsprop_centered_momentum",
        "RMSprop",
        {"lr": 0.002, "rho": 0.95, "epsilon": 1e-06, "momentum": 0.7, "centered": True},
        "normal",
        S3,
    ),
    ("rmsprop_small_grads", "RMSprop", {"lr": 0.003, "epsilon": 1e-13}, "small", S3),
    (
        "rmsprop_momentum_decay",
        "RMSprop",
        {"lr": 0.003, "momentum": 0.9, "decay": 0.2},
        "normal",
        S2,
    ),
    (
        "rmsprop_clipnorm_clipvalue",
        "RMSprop",
        {"lr": 0.005, "momentum": 0.5, "clipnorm": "auto", "clipvalue": "auto"},
        "normal",
        S3,
    ),
    ("adagrad_default", "Adagrad", {"lr": 0.1}, "sparse", S3),
    (
        "adagrad_initial_accumulator_zero",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.0},
        "sparse",
        S3,
    ),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-08},
        "normal",
        S3,
    ),
    (
        "adagrad_small_grads",
        "Adagrad",
        {"lr": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-13},
        "small",
        S3,
    ),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.05, "clipnorm": "auto"}, "normal", S2),
    ("adadelta_default", "Adadelta", {"lr": 1.0}, "normal", S3),
    (
        "adadelta_lr_rho_eps",
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "epsilon": 1e-05},
        "sparse",
        S3,
    ),
    ("adadelta_small_grads", "Adadelta", {"lr": 10.0, "epsilon": 1e-13}, "small", S3),
    ("adadelta_clipvalue", "Adadelta", {"lr": 2.0, "clipvalue": "auto"}, "normal", S3),
    ("adam_default", "Adam", {"lr": 0.001}, "normal", S3),
    (
        "adam_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-07},
        "sparse",
        S3,
    ),
    ("adam_small_grads", "Adam", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.1}, "normal", S3),
    ("adam_clipnorm", "Adam", {"lr": 0.01, "clipnorm": "auto"}, "normal", S3),
    ("adam_amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, "normal", S3),
    (
        "adam_amsgrad_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-06, "amsgrad": True},
        "sparse",
        S3,
    ),
    (
        "adam_amsgrad_small_grads",
        "Adam",
        {"lr": 0.002, "epsilon": 1e-07, "amsgrad": True},
        "small",
        S2,
    ),
    ("adamax_default", "Adamax", {"lr": 0.002}, "sparse", S3),
    (
        "adamax_betas_epsilon",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-06},
        "normal",
        S3,
    ),
    ("adamax_small_grads", "Adamax", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("adamax_clipvalue", "Adamax", {"lr": 0.01, "clipvalue": "auto"}, "normal", S3),
    ("nadam_default", "Nadam", {"lr": 0.002}, "normal", S3),
    (
        "nadam_betas_epsilon",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "epsilon": 1e-07},
        "sparse",
        S3,
    ),
    ("nadam_small_grads", "Nadam", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("nadam_clipnorm", "Nadam", {"lr": 0.01, "clipnorm": "auto"}, "normal", S2),
]

ALIAS = {
    "SGD": "sgd",
    "RMSprop": "rmsprop",
    "Adagrad": "adagrad",
    "Adadelta": "adadelta",
    "Adam": "adam",
    "Adamax": "adamax",
    "Nadam": "nadam",
}
# gradstep name -> optax keyword, per alias
KEYWORDS = {
    "sgd": {"momentum": "momentum", "nesterov": "nesterov"},
    "rmsprop": {
        "rho": "decay",
        "epsilon": "eps",
        "centered": "centered",
        "momentum": "momentum",
    },
    "adagrad": {
        "initial_accumulator_value": "initial_accumulator_value",
        "epsilon": "eps",
    },
    "adadelta": {"rho": "rho", "epsilon": "eps"},
    "adam": {"beta_1": "b1", "beta_2": "b2", "epsilon": "eps"},
}
KEYWORDS["amsgrad"] = KEYWORDS["adamax"] = KEYWORDS["nadam"] = KEYWORDS["adam"]


def build(optimizer: str, config: dict):
    """The optax transformation and a human-readable spelling of it."""
    alias = "amsgrad" if config.get("amsgrad") else ALIAS[optimizer]
    kw, shown = {}, []
    if "lr" in config:
        lr = config["lr"]
        if "decay" in config:
            decay = config["decay"]
            kw["learning_rate"] = lambda count: lr / (1.0 + decay * count)
            shown.append(
                f"learning_rate=lambda count: {lr!r} / (1.0 + {decay!r} * count)"
            )
        else:
            kw["learning_rate"] = lr
            shown.append(f"learning_rate={lr!r}")
    for key, value in config.items():
        if key in KEYWORDS[alias]:
            kw[KEYWORDS[alias][key]] = value
            shown.append(f"{KEYWORDS[alias][key]}={value!r}")
    known = set(KEYWORDS[alias]) | {"lr", "decay", "clipnorm", "clipvalue", "amsgrad"}
    if set(config) - known:
        raise SystemExit(
            f"{optimizer}: no optax keyword for {sorted(set(config) - known)}"
        )
    opt = getattr(optax, alias)(**kw)
    text = f"optax.{alias}({', '.join(shown)})"
    chain, chain_text = [], []
    if "clipnorm" in config:
        chain.append(optax.clip_by_global_norm(config["clipnorm"]))
        chain_text.append(f"optax.clip_by_global_norm({config['clipnorm']!r})")
    if "clipvalue" in config:
        chain.append(optax.clip(config["clipvalue"]))
        chain_text.append(f"optax.clip({config['clipvalue']!r})")
    if chain:
        opt = optax.chain(*chain, opt)
        text = f"optax.chain({', '.join(chain_text + [text])})"
    return opt, text


def run(optimizer: str, config: dict, params0, grads, dtype: str):
    """The trajectory (the parameters after every step) and what was run."""
    dtype = getattr(jnp, dtype)
    opt, text = build(optimizer, config)

    @jax.jit
    def step(params, state, g):
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state

    params = [jnp.asarray(p, dtype=dtype) for p in params0]
    state = opt.init(params)
    out = []
    for g in grads:
        params, state = step(params, state, [jnp.asarray(x, dtype=dtype) for x in g])
        for p in params:
            if p.dtype != dtype:
                raise SystemExit(f"{optimizer}: a parameter came back as {p.dtype}")
        out.append([np.asarray(p, dtype=np.float64).copy() for p in params])
    call = (
        f"opt = {text}; per step under jax.jit: updates, state = opt.update(grads, state,"
        " params); params = optax.apply_updates(params, updates); params a list of arrays;"
        " jax_enable_x64, CPU"
    )
    return out, call


if __name__ == "__main__":
    sys.exit(
        main(
            "optax",
            CASES,
            run,
            framework="optax",
            version=f"optax {optax.__version__} / jax {jax.__version__}"
            f" / jaxlib {version('jaxlib')}",
            clip_order=("clipnorm", "clipvalue"),
        )
    )
