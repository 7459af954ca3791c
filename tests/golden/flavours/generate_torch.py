"""Golden trajectories from the real ``torch.optim`` (the gradstep "torch" flavour).

Runs each case below through the installed torch (CPU, float64 end to end: the
parameters and gradients are float64 tensors and ``torch.set_default_dtype(torch.float64)``
makes the optimizers' scalar state, ``step`` and NAdam's ``mu_product``, float64 too)
and writes one JSON file per case to ``tests/golden/flavours/torch/``.  The data, the
clip thresholds, the checks and the files are ``_cases.py``'s (shared by the four
generators).

Per step: set ``p.grad``; ``torch.nn.utils.clip_grad_norm_(params, clipnorm)`` then
``torch.nn.utils.clip_grad_value_(params, clipvalue)`` when configured; ``opt.step()``;
then ``LambdaLR.step()`` when a time-based ``decay`` is configured (Adagrad uses its own
``lr_decay=`` instead).

Run from the repository root::

    python tests/golden/flavours/generate_torch.py            # write the files
    python tests/golden/flavours/generate_torch.py --check    # also: rerun, float32 rerun

Nothing from gradstep is imported: this is an independent reference.
"""

from __future__ import annotations

import sys

import torch
from _cases import S2, S3, main

# (case name, optimizer, config in gradstep names, gradient kind, shapes): see _cases.py
CASES = [
    ("sgd_default", "SGD", {}, "normal", S3),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, "normal", S3),
    (
        "sgd_nesterov",
        "SGD",
        {"lr": 0.04, "momentum": 0.85, "nesterov": True},
        "normal",
        S3,
    ),
    (
        "sgd_dampening",
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
        "sparse",
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
    ("rmsprop_default", "RMSprop", {}, "normal", S3),
    (
        "rmsprop_no_momentum",
        "RMSprop",
        {"lr": 0.005, "rho": 0.8, "epsilon": 1e-06, "momentum": 0.0, "centered": False},
        "normal",
        S3,
    ),
    (
        "rmsprop_centered",
        "RMSprop",
        {"lr": 0.004, "rho": 0.9, "centered": True},
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
    ("rmsprop_small_grads", "RMSprop", {"lr": 0.003, "epsilon": 1e-07}, "small", S3),
    (
        "rmsprop_centered_small_grads",
        "RMSprop",
        {"lr": 0.002, "epsilon": 1e-07, "centered": True, "momentum": 0.5},
        "small",
        S2,
    ),
    (
        "rmsprop_clipnorm_clipvalue",
        "RMSprop",
        {"lr": 0.005, "momentum": 0.5, "clipnorm": "auto", "clipvalue": "auto"},
        "normal",
        S3,
    ),
    ("adagrad_default", "Adagrad", {}, "sparse", S3),
    (
        "adagrad_initial_accumulator",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-08},
        "normal",
        S3,
    ),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "decay": 0.2}, "normal", S3),
    ("adagrad_small_grads", "Adagrad", {"lr": 0.01, "epsilon": 1e-07}, "small", S3),
    ("adagrad_clipnorm", "Adagrad", {"lr": 0.05, "clipnorm": "auto"}, "normal", S2),
    ("adadelta_default", "Adadelta", {}, "normal", S3),
    (
        "adadelta_lr_rho_eps",
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "epsilon": 1e-05},
        "sparse",
        S3,
    ),
    ("adadelta_small_grads", "Adadelta", {"lr": 10.0, "epsilon": 1e-13}, "small", S3),
    ("adadelta_clipvalue", "Adadelta", {"lr": 2.0, "clipvalue": "auto"}, "normal", S3),
    ("adam_default", "Adam", {}, "normal", S3),
    (
        "adam_betas_epsilon",
        "Adam",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-07},
        "sparse",
        S3,
    ),
    ("adam_small_grads", "Adam", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("adam_decay", "Adam", {"lr": 0.02, "decay": 0.1}, "normal", S3),
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
    (
        "adam_amsgrad_clipnorm",
        "Adam",
        {"lr": 0.01, "amsgrad": True, "clipnorm": "auto"},
        "normal",
        S3,
    ),
    ("adamax_default", "Adamax", {}, "sparse", S3),
    (
        "adamax_betas_epsilon",
        "Adamax",
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-06},
        "normal",
        S3,
    ),
    ("adamax_small_grads", "Adamax", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("adamax_clipvalue", "Adamax", {"lr": 0.01, "clipvalue": "auto"}, "normal", S3),
    ("nadam_default", "Nadam", {}, "normal", S3),
    (
        "nadam_schedule_decay",
        "Nadam",
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "schedule_decay": 0.01},
        "sparse",
        S3,
    ),
    ("nadam_small_grads", "Nadam", {"lr": 0.002, "epsilon": 1e-07}, "small", S3),
    ("nadam_clipnorm", "Nadam", {"lr": 0.01, "clipnorm": "auto"}, "normal", S2),
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
# gradstep name -> torch keyword, per optimizer (betas, torch's decay: below)
KEYWORDS = {
    "SGD": {"momentum": "momentum", "dampening": "dampening", "nesterov": "nesterov"},
    "RMSprop": {"rho": "alpha", "momentum": "momentum", "centered": "centered"},
    "Adagrad": {"initial_accumulator_value": "initial_accumulator_value"},
    "Adadelta": {"rho": "rho"},
    "Adam": {"amsgrad": "amsgrad"},
    "Adamax": {},
    "Nadam": {"schedule_decay": "momentum_decay"},
}
DEFAULT_BETAS = (0.9, 0.999)


def build(optimizer: str, config: dict, params):
    """The torch optimizer, the keyword arguments given to it, and the LambdaLR decay."""
    kw = {"lr": config["lr"]} if "lr" in config else {}
    for key, value in config.items():
        if key in KEYWORDS[optimizer]:
            kw[KEYWORDS[optimizer][key]] = value
    if "beta_1" in config or "beta_2" in config:
        kw["betas"] = (
            config.get("beta_1", DEFAULT_BETAS[0]),
            config.get("beta_2", DEFAULT_BETAS[1]),
        )
    if optimizer == "Adagrad" and "decay" in config:
        kw["lr_decay"] = config["decay"]
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


def run(optimizer: str, config: dict, params0, grads, dtype: str):
    """The trajectory (the parameters after every step) and what was run."""
    dtype = getattr(torch, dtype)
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
            for p in params:
                if p.dtype != dtype:
                    raise SystemExit(f"{optimizer}: a parameter came back as {p.dtype}")
            out.append([p.detach().to(torch.float64).numpy().copy() for p in params])
    finally:
        torch.set_default_dtype(previous)
    return out, describe(optimizer, config, kw, decay)


if __name__ == "__main__":
    sys.exit(
        main(
            "torch",
            CASES,
            run,
            framework="torch",
            version=f"torch {torch.__version__}",
            clip_order=("clipnorm", "clipvalue"),
        )
    )
