"""Golden trajectories from the real optax (the gradstep "optax" flavour).

Runs each case below through the installed optax on jax with ``jax_enable_x64`` (float64
end to end: the parameters, gradients and every optimizer state leaf are float64) and
writes one JSON file per case to ``tests/golden/flavours/optax/`` in the format of the
flavour golden files: name, flavour, optimizer, config (gradstep names), framework,
framework_version, framework_call, dtype, params, grads (before clipping) and expected
(the parameters after every step).

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

Nothing from gradstep is imported: this is an independent reference.  Deterministic:
every case's numbers come from ``numpy.random.default_rng`` seeded by a fixed seed and
the case name (the same data as the torch flavour's case of the same name).
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

FLAVOUR = "optax"
OUT_DIR = Path(__file__).resolve().parent / FLAVOUR
SEED = 20240611
STEPS = 15
SHAPES = [(3,), (2, 2), (2, 3, 1)]

# (case name, optimizer, config in gradstep names, gradient kind, number of tensors)
# gradient kinds: "normal" (N(0,1) times a per-step scale), "sparse" (the same with
# about a fifth of the elements exactly 0), "small" (magnitudes 1e-8..1e-6; epsilon is
# set near |g| where it is added outside a square root and near g**2 where inside).
# optax has no default learning rate (except adadelta): the "defaults" cases give only lr.
CASES = [
    ("sgd_default", "SGD", {"lr": 0.05}, "normal", 3),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, "normal", 3),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.04, "momentum": 0.85, "nesterov": True},
        "normal",
        3,
    ),
    (
        "sgd_momentum_decay",
        "SGD",
        {"lr": 0.06, "momentum": 0.9, "decay": 0.1},
        "normal",
        2,
    ),
    ("sgd_clipnorm", "SGD", {"lr": 0.1, "clipnorm": "auto"}, "normal", 3),
    (
        "sgd_nesterov_clipvalue",
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "clipvalue": "auto"},
        "normal",
        3,
    ),
    ("rmsprop_default", "RMSprop", {"lr": 0.003}, "normal", 3),
    (
        "rmsprop_rho_eps",
        "RMSprop",
        {"lr": 0.005, "rho": 0.8, "epsilon": 1e-6},
        "normal",
        3,
    ),
    (
        "rmsprop_centered",
        "RMSprop",
        {"lr": 0.004, "rho": 0.95, "centered": True},
        "normal",
        3,
    ),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.003, "momentum": 0.9}, "sparse", 3),
    (
        "rmsprop_centered_momentum",
        "RMSprop",
        {"lr": 0.002, "rho": 0.95, "epsilon": 1e-6, "momentum": 0.7, "centered": True},
        "normal",
        3,
    ),
    ("rmsprop_small_grads", "RMSprop", {"lr": 0.003, "epsilon": 1e-13}, "small", 3),
    (
        "rmsprop_momentum_decay",
        "RMSprop",
        {"lr": 0.003, "momentum": 0.9, "decay": 0.2},
        "normal",
        2,
    ),
    (
        "rmsprop_clipnorm_clipvalue",
        "RMSprop",
        {"lr": 0.005, "momentum": 0.5, "clipnorm": "auto", "clipvalue": "auto"},
        "normal",
        3,
    ),
    ("adagrad_default", "Adagrad", {"lr": 0.1}, "sparse", 3),
    (
        "adagrad_initial_accumulator_zero",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.0},
        "sparse",
        3,
    ),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-8},
        "normal",
        3,
    ),
    (
        "adagrad_small_grads",
        "Adagrad",
        {"lr": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-13},
        "small",
        3,
    ),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.05, "clipnorm": "auto"}, "normal", 2),
    ("adadelta_default", "Adadelta", {"lr": 1.0}, "normal", 3),
    (
        "adadelta_lr_rho_eps",
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "epsilon": 1e-5},
        "sparse",
        3,
    ),
    ("adadelta_small_grads", "Adadelta", {"lr": 10.0, "epsilon": 1e-13}, "small", 3),
    ("adadelta_clipvalue", "Adadelta", {"lr": 2.0, "clipvalue": "auto"}, "normal", 3),
    ("adam_default", "Adam", {"lr": 0.001}, "normal", 3),
    (
        "adam_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7},
        "sparse",
        3,
    ),
    ("adam_small_grads", "Adam", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.1}, "normal", 3),
    ("adam_clipnorm", "Adam", {"lr": 0.01, "clipnorm": "auto"}, "normal", 3),
    ("adam_amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, "normal", 3),
    (
        "adam_amsgrad_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6, "amsgrad": True},
        "sparse",
        3,
    ),
    (
        "adam_amsgrad_small_grads",
        "Adam",
        {"lr": 0.002, "epsilon": 1e-7, "amsgrad": True},
        "small",
        2,
    ),
    ("adamax_default", "Adamax", {"lr": 0.002}, "sparse", 3),
    (
        "adamax_betas_epsilon",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6},
        "normal",
        3,
    ),
    ("adamax_small_grads", "Adamax", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("adamax_clipvalue", "Adamax", {"lr": 0.01, "clipvalue": "auto"}, "normal", 3),
    ("nadam_default", "Nadam", {"lr": 0.002}, "normal", 3),
    (
        "nadam_betas_epsilon",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "epsilon": 1e-7},
        "sparse",
        3,
    ),
    ("nadam_small_grads", "Nadam", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("nadam_clipnorm", "Nadam", {"lr": 0.01, "clipnorm": "auto"}, "normal", 2),
]

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


def make_data(name: str, kind: str, n_tensors: int):
    """Starting parameters and 15 steps of gradients for one case (float64 numpy)."""
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    shapes = SHAPES[:n_tensors] if n_tensors == 3 else [SHAPES[0], SHAPES[2]]
    params = [rng.choice([-1.0, 1.0], s) * rng.uniform(0.5, 2.0, s) for s in shapes]
    grads = []
    for _ in range(STEPS):
        if kind == "small":
            step = [
                rng.choice([-1.0, 1.0], s) * 10.0 ** rng.uniform(-8.0, -6.0, s)
                for s in shapes
            ]
        else:
            scale = float(np.exp(rng.uniform(-1.2, 1.2)))
            step = [scale * rng.standard_normal(s) for s in shapes]
            if kind == "sparse":
                step = [
                    np.where(rng.uniform(size=s) < 0.2, 0.0, g)
                    for g, s in zip(step, shapes)
                ]
        grads.append(step)
    return params, grads


def _three_digits(x: float) -> float:
    return float(f"{x:.3g}")


def resolve_clipping(config: dict, grads) -> dict:
    """Replace "auto" clip thresholds by numbers that clip some steps / elements only."""
    config = dict(config)
    norms = [np.sqrt(sum(float(np.sum(g * g)) for g in step)) for step in grads]
    if config.get("clipnorm") == "auto":
        config["clipnorm"] = _three_digits(float(np.median(norms)))
    if config.get("clipvalue") == "auto":
        steps = grads
        if "clipnorm" in config:
            c = config["clipnorm"]
            steps = [
                [g * min(1.0, c / n) for g in step] for step, n in zip(grads, norms)
            ]
        flat = np.concatenate([np.abs(g).ravel() for step in steps for g in step])
        config["clipvalue"] = _three_digits(float(np.quantile(flat, 0.75)))
    return config


def build(optimizer: str, config: dict):
    """The optax transformation and a human-readable spelling of it."""
    alias = {
        "SGD": "sgd",
        "RMSprop": "rmsprop",
        "Adagrad": "adagrad",
        "Adadelta": "adadelta",
        "Adam": "amsgrad" if config.get("amsgrad") else "adam",
        "Adamax": "adamax",
        "Nadam": "nadam",
    }[optimizer]
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


def describe(text: str) -> str:
    return (
        f"opt = {text}; per step under jax.jit: updates, state = opt.update(grads, state,"
        " params); params = optax.apply_updates(params, updates); params a list of arrays;"
        " jax_enable_x64, CPU"
    )


def run(optimizer: str, config: dict, params0, grads, dtype=jnp.float64):
    """The trajectory: the parameters (numpy float64) after every step."""
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
    return out, text


def write_case(name: str, optimizer: str, config: dict, kind: str, n_tensors: int):
    params0, grads = make_data(name, kind, n_tensors)
    config = resolve_clipping(config, grads)
    expected, text = run(optimizer, config, params0, grads)
    smallest = min(float(np.min(np.abs(p))) for step in expected for p in step)
    if smallest < 1e-3:
        raise SystemExit(f"{name}: a parameter element fell to {smallest:.3g} (< 1e-3)")
    record = {
        "name": name,
        "flavour": FLAVOUR,
        "optimizer": optimizer,
        "config": config,
        "framework": "optax",
        "framework_version": f"optax {optax.__version__} / jax {jax.__version__}"
        f" / jaxlib {version('jaxlib')}",
        "framework_call": describe(text),
        "dtype": "float64",
        "params": [p.tolist() for p in params0],
        "grads": [[g.tolist() for g in step] for step in grads],
        "expected": [[p.tolist() for p in step] for step in expected],
    }
    body = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in record.items())
    path = OUT_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text("{\n" + body + "\n}\n")
    os.replace(tmp, path)
    return config, params0, grads, expected


def check(results) -> None:
    """Reruns: the same numbers twice; float32 differs at the float32 level, not 0."""
    worst32 = 0.0
    for name, optimizer, config, params0, grads, expected in results:
        again, _ = run(optimizer, config, params0, grads)
        if any(
            not np.array_equal(a, b)
            for sa, sb in zip(again, expected)
            for a, b in zip(sa, sb)
        ):
            raise SystemExit(f"{name}: a rerun gave different numbers")
        if name.endswith("_default"):
            low, _ = run(optimizer, config, params0, grads, dtype=jnp.float32)
            rel = max(
                float(np.max(np.abs(a - b) / np.abs(b)))
                for sa, sb in zip(low, expected)
                for a, b in zip(sa, sb)
            )
            if rel == 0.0:
                raise SystemExit(f"{name}: the float32 rerun equals the float64 one")
            worst32 = max(worst32, rel)
            print(f"  check {name}: float32 rerun differs by {rel:.2e} relative")
    print(f"check: reruns identical; float32 reruns differ by up to {worst32:.2e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="rerun every case, and in float32"
    )
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    results = []
    for name, optimizer, config, kind, n_tensors in CASES:
        config, params0, grads, expected = write_case(
            name, optimizer, config, kind, n_tensors
        )
        results.append((name, optimizer, config, params0, grads, expected))
    if args.check:
        check(results)
    versions = f"optax {optax.__version__} / jax {jax.__version__}"
    print(f"{versions}: wrote {len(CASES)} cases to {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
