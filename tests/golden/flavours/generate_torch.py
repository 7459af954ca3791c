"""Golden trajectories from the real ``torch.optim`` (the gradstep "torch" flavour).

Runs each case below through the installed torch (CPU, float64 end to end: the
parameters and gradients are float64 tensors and ``torch.set_default_dtype(torch.float64)``
makes the optimizers' scalar state, ``step`` and NAdam's ``mu_product``, float64 too)
and writes one JSON file per case to ``tests/golden/flavours/torch/`` in the format of
the flavour golden files: name, flavour, optimizer, config (gradstep names), framework,
framework_version, framework_call, dtype, params, grads (before clipping) and expected
(the parameters after every step).

Per step: set ``p.grad``; ``torch.nn.utils.clip_grad_norm_(params, clipnorm)`` then
``torch.nn.utils.clip_grad_value_(params, clipvalue)`` when configured; ``opt.step()``;
then ``LambdaLR.step()`` when a time-based ``decay`` is configured (Adagrad uses its own
``lr_decay=`` instead).

Run from the repository root::

    python tests/golden/flavours/generate_torch.py            # write the files
    python tests/golden/flavours/generate_torch.py --check    # also: rerun, float32 rerun

Nothing from gradstep is imported: this is an independent reference.  Deterministic:
every case's numbers come from ``numpy.random.default_rng`` seeded by a fixed seed and
the case name.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

FLAVOUR = "torch"
OUT_DIR = Path(__file__).resolve().parent / FLAVOUR
SEED = 20240611
STEPS = 15
SHAPES = [(3,), (2, 2), (2, 3, 1)]

# (case name, optimizer, config in gradstep names, gradient kind, number of tensors)
# gradient kinds: "normal" (N(0,1) times a per-step scale), "sparse" (the same with
# about a fifth of the elements exactly 0), "small" (magnitudes 1e-8..1e-6; epsilon is
# set near |g| where it is added outside a square root and near g**2 where inside).
CASES = [
    ("sgd_default", "SGD", {}, "normal", 3),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, "normal", 3),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.04, "momentum": 0.85, "nesterov": True},
        "normal",
        3,
    ),
    (
        "sgd_dampening",
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
        "sparse",
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
    ("rmsprop_default", "RMSprop", {}, "normal", 3),
    (
        "rmsprop_no_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.8, "epsilon": 1e-6, "momentum": 0.0, "centered": False},
        "normal",
        3,
    ),
    (
        "rmsprop_centered",
        "RMSprop",
        {"lr": 0.004, "rho": 0.9, "centered": True},
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
    ("rmsprop_small_grads", "RMSprop", {"lr": 0.003, "epsilon": 1e-7}, "small", 3),
    (
        "rmsprop_centered_small_grads",
        "RMSprop",
        {"lr": 0.002, "epsilon": 1e-7, "centered": True, "momentum": 0.5},
        "small",
        2,
    ),
    (
        "rmsprop_clipnorm_clipvalue",
        "RMSprop",
        {"lr": 0.005, "momentum": 0.5, "clipnorm": "auto", "clipvalue": "auto"},
        "normal",
        3,
    ),
    ("adagrad_default", "Adagrad", {}, "sparse", 3),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-8},
        "normal",
        3,
    ),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "decay": 0.2}, "normal", 3),
    ("adagrad_small_grads", "Adagrad", {"lr": 0.01, "epsilon": 1e-7}, "small", 3),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.05, "clipnorm": "auto"}, "normal", 2),
    ("adadelta_default", "Adadelta", {}, "normal", 3),
    (
        "adadelta_lr_rho_eps",
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "epsilon": 1e-5},
        "sparse",
        3,
    ),
    ("adadelta_small_grads", "Adadelta", {"lr": 10.0, "epsilon": 1e-13}, "small", 3),
    ("adadelta_clipvalue", "Adadelta", {"lr": 2.0, "clipvalue": "auto"}, "normal", 3),
    ("adam_default", "Adam", {}, "normal", 3),
    (
        "adam_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7},
        "sparse",
        3,
    ),
    ("adam_small_grads", "Adam", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.1}, "normal", 3),
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
    (
        "adam_amsgrad_clipnorm",
        "Adam",
        {"lr": 0.01, "amsgrad": True, "clipnorm": "auto"},
        "normal",
        3,
    ),
    ("adamax_default", "Adamax", {}, "sparse", 3),
    (
        "adamax_betas_epsilon",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6},
        "normal",
        3,
    ),
    ("adamax_small_grads", "Adamax", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("adamax_clipvalue", "Adamax", {"lr": 0.01, "clipvalue": "auto"}, "normal", 3),
    ("nadam_default", "Nadam", {}, "normal", 3),
    (
        "nadam_schedule_decay",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "schedule_decay": 0.01},
        "sparse",
        3,
    ),
    ("nadam_small_grads", "Nadam", {"lr": 0.002, "epsilon": 1e-7}, "small", 3),
    ("nadam_clipnorm", "Nadam", {"lr": 0.01, "clipnorm": "auto"}, "normal", 2),
]

TORCH_CLASS = {
    "SGD": "SGD",
    "RMSprop": "RMSprop",
    "Adagrad": "Adagrad",
    "Adadelta": "Adadelta",
    "Adam": "Adam",
    "Adamax": "Adamax",
    "Nadam": "NAdam",
}
DEFAULT_BETAS = (0.9, 0.999)


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


def build(optimizer: str, config: dict, params):
    """The torch optimizer, the keyword arguments given to it, and the LambdaLR decay."""
    kw = {}
    if "lr" in config:
        kw["lr"] = config["lr"]
    if optimizer == "SGD":
        for key in ("momentum", "dampening", "nesterov"):
            if key in config:
                kw[key] = config[key]
    elif optimizer == "RMSprop":
        if "rho" in config:
            kw["alpha"] = config["rho"]
        for key in ("momentum", "centered"):
            if key in config:
                kw[key] = config[key]
    elif optimizer == "Adagrad":
        if "initial_accumulator_value" in config:
            kw["initial_accumulator_value"] = config["initial_accumulator_value"]
        if "decay" in config:
            kw["lr_decay"] = config["decay"]
    elif optimizer == "Adadelta":
        if "rho" in config:
            kw["rho"] = config["rho"]
    elif optimizer in ("Adam", "Adamax", "Nadam"):
        if "beta_1" in config or "beta_2" in config:
            kw["betas"] = (
                config.get("beta_1", DEFAULT_BETAS[0]),
                config.get("beta_2", DEFAULT_BETAS[1]),
            )
        if optimizer == "Adam" and "amsgrad" in config:
            kw["amsgrad"] = config["amsgrad"]
        if optimizer == "Nadam" and "schedule_decay" in config:
            kw["momentum_decay"] = config["schedule_decay"]
    if "epsilon" in config:
        kw["eps"] = config["epsilon"]
    opt = getattr(torch.optim, TORCH_CLASS[optimizer])(params, **kw)
    decay = config.get("decay") if optimizer != "Adagrad" else None
    return opt, kw, decay


def describe(optimizer: str, config: dict, kw: dict, decay) -> str:
    args = ", ".join(["params"] + [f"{k}={v!r}" for k, v in kw.items()])
    call = f"torch.optim.{TORCH_CLASS[optimizer]}({args})"
    before = []
    if "clipnorm" in config:
        before.append(f"clip_grad_norm_(params, {config['clipnorm']!r})")
    if "clipvalue" in config:
        before.append(f"clip_grad_value_(params, {config['clipvalue']!r})")
    if before:
        call += "; " + " then ".join(before) + " before each step"
    if decay is not None:
        call += (
            f"; LambdaLR(opt, lambda i: 1.0 / (1.0 + {decay!r} * i)) stepped after each"
            " opt.step()"
        )
    return call + "; torch.set_default_dtype(torch.float64), CPU"


def run(optimizer: str, config: dict, params0, grads, dtype=torch.float64):
    """The trajectory: the parameters (numpy float64) after every step."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        params = [torch.tensor(p, dtype=dtype, requires_grad=True) for p in params0]
        opt, kw, decay = build(optimizer, config, params)
        sched = None
        if decay is not None:
            sched = torch.optim.lr_scheduler.LambdaLR(
                opt, lambda i: 1.0 / (1.0 + decay * i)
            )
        out = []
        for step in grads:
            for p, g in zip(params, step):
                p.grad = torch.tensor(g, dtype=dtype)
            if "clipnorm" in config:
                torch.nn.utils.clip_grad_norm_(params, config["clipnorm"])
            if "clipvalue" in config:
                torch.nn.utils.clip_grad_value_(params, config["clipvalue"])
            opt.step()
            if sched is not None:
                sched.step()
            out.append([p.detach().to(torch.float64).numpy().copy() for p in params])
    finally:
        torch.set_default_dtype(previous)
    return out, kw, decay


def write_case(name: str, optimizer: str, config: dict, kind: str, n_tensors: int):
    params0, grads = make_data(name, kind, n_tensors)
    config = resolve_clipping(config, grads)
    expected, kw, decay = run(optimizer, config, params0, grads)
    smallest = min(float(np.min(np.abs(p))) for step in expected for p in step)
    if smallest < 1e-3:
        raise SystemExit(f"{name}: a parameter element fell to {smallest:.3g} (< 1e-3)")
    record = {
        "name": name,
        "flavour": FLAVOUR,
        "optimizer": optimizer,
        "config": config,
        "framework": "torch",
        "framework_version": f"torch {torch.__version__}",
        "framework_call": describe(optimizer, config, kw, decay),
        "dtype": "float64",
        "params": [p.tolist() for p in params0],
        "grads": [[g.tolist() for g in step] for step in grads],
        "expected": [[p.tolist() for p in step] for step in expected],
    }
    text = "{\n" + ",\n".join(
        f"{json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()
    )
    path = OUT_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n}\n")
    os.replace(tmp, path)
    return config, params0, grads, expected


def check(results) -> None:
    """Reruns: the same numbers twice; float32 differs at the float32 level, not 0."""
    worst32 = 0.0
    for name, optimizer, config, params0, grads, expected in results:
        again, _, _ = run(optimizer, config, params0, grads)
        if any(
            not np.array_equal(a, b)
            for sa, sb in zip(again, expected)
            for a, b in zip(sa, sb)
        ):
            raise SystemExit(f"{name}: a rerun gave different numbers")
        if name.endswith("_default"):
            low, _, _ = run(optimizer, config, params0, grads, dtype=torch.float32)
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
    print(f"torch {torch.__version__}: wrote {len(CASES)} cases to {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
