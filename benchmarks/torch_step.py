"""gradstep.torch against torch.optim on CPU: one optimizer step, float32.

Workloads (those of the fused-engine issue): (a) one tensor of 16M elements, (b) 1,000
tensors of 16K, (c) an MLP-like mix of 100 tensors (50 weight matrices and their biases)
totalling ~3.7M. Both gradstep.torch layouts are timed: the default (state flat per
group; after the first step, one multi-tensor kernel call reading each gradient's
address) and ``flatten_params=True`` (parameters in one buffer too). For each optimizer,
every variant trains its own copy of the parameters; the variants are timed
interleaved, ``--rounds`` rounds of ``--steps`` steps each, and the median ms/step is
printed with its ratio to gradstep.torch (> 1: gradstep.torch faster).

torch.optim variants: the default (single-tensor loop on CPU), ``foreach=True`` and
``fused=True`` where torch has a fused CPU kernel (Adam, SGD, Adagrad). Their equations
differ slightly from Keras's (epsilon placement, momentum form) but the memory traffic,
which sets the speed, is the same.

    python benchmarks/torch_step.py [--rounds 7] [--steps 3] [--workloads a,b,c]
                                    [--device cuda]

``--device cuda`` times the same variants on a GPU (gradstep.torch runs its rule with
torch operations there; ``flatten_params`` only changes CPU tensors), synchronizing
before and after each timed round.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import torch
from _machine import describe

import gradstep.torch as gtorch

M = 1 << 20

WORKLOADS: dict[str, list[tuple[int, ...]]] = {
    "a": [(16 * M,)],
    "b": [(16 * 1024,)] * 1000,
    "c": [
        shape
        for i in range(50)
        for widths in [(128, 256, 384, 320)]
        for shape in [(widths[i % 4], widths[(i + 1) % 4]), (widths[(i + 1) % 4],)]
    ],
}
WORKLOAD_NAMES = {
    "a": "(a) 1 x 16M",
    "b": "(b) 1000 x 16K",
    "c": "(c) 100 tensors, MLP mix",
}

# name -> (gradstep.torch factory, {variant: torch.optim factory})
OPTIMIZERS: dict[str, tuple[Callable, dict[str, Callable]]] = {
    "Adam": (
        lambda p, **kw: gtorch.Adam(p, lr=1e-3, **kw),
        {
            "default": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=False),
            "foreach": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True),
            "fused": lambda p: torch.optim.Adam(p, lr=1e-3, fused=True),
        },
    ),
    "SGD momentum": (
        lambda p, **kw: gtorch.SGD(p, lr=1e-2, momentum=0.9, **kw),
        {
            "default": lambda p: torch.optim.SGD(
                p, lr=1e-2, momentum=0.9, foreach=False
            ),
            "foreach": lambda p: torch.optim.SGD(
                p, lr=1e-2, momentum=0.9, foreach=True
            ),
            "fused": lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9, fused=True),
        },
    ),
    "Adagrad": (
        lambda p, **kw: gtorch.Adagrad(p, lr=1e-2, **kw),
        {
            "default": lambda p: torch.optim.Adagrad(p, lr=1e-2, foreach=False),
            "foreach": lambda p: torch.optim.Adagrad(p, lr=1e-2, foreach=True),
            "fused": lambda p: torch.optim.Adagrad(p, lr=1e-2, fused=True),
        },
    ),
    "RMSprop": (
        lambda p, **kw: gtorch.RMSprop(p, lr=1e-3, **kw),
        {
            "default": lambda p: torch.optim.RMSprop(p, lr=1e-3, foreach=False),
            "foreach": lambda p: torch.optim.RMSprop(p, lr=1e-3, foreach=True),
        },
    ),
    "Nadam": (
        lambda p, **kw: gtorch.Nadam(p, **kw),
        {
            "default": lambda p: torch.optim.NAdam(p, foreach=False),
            "foreach": lambda p: torch.optim.NAdam(p, foreach=True),
        },
    ),
}


def make_params(
    shapes: list[tuple[int, ...]], device: str = "cpu"
) -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(0)
    params = []
    for shape in shapes:
        p = torch.nn.Parameter(torch.randn(*shape, generator=gen).to(device))
        p.grad = (torch.randn(*shape, generator=gen) * 1e-3).to(device)
        params.append(p)
    return params


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_steps(opt: torch.optim.Optimizer, steps: int, device: str = "cpu") -> float:
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    _synchronize(device)
    return (time.perf_counter() - start) / steps * 1e3


def bench(
    name: str,
    workload: str,
    rounds: int,
    steps: int,
    only: str = "",
    device: str = "cpu",
) -> dict[str, float]:
    ours, theirs = OPTIMIZERS[name]
    shapes = WORKLOADS[workload]
    variants = {
        "gradstep.torch": ours,
        "gradstep.torch flatten_params": lambda p: ours(p, flatten_params=True),
        **{f"torch {k}": v for k, v in theirs.items()},
    }
    if only:
        variants = {k: v for k, v in variants.items() if k.startswith(only)}
    opts = {}
    for label, factory in variants.items():
        opts[label] = factory(make_params(shapes, device))
        opts[label].step()  # state allocation, kernel compilation
    times: dict[str, list[float]] = {label: [] for label in opts}
    for r in range(rounds):
        # a new order each round: no variant always runs right after the same other
        # (torch's OpenMP workers spin for a while after its kernels)
        for label in random.Random(r).sample(list(opts), len(opts)):
            opt = opts[label]
            times[label].append(time_steps(opt, steps, device))
    return {label: statistics.median(values) for label, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--workloads", default="a,b,c")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument(
        "--device", default="cpu", help="cpu (default) or cuda, where one is available"
    )
    parser.add_argument(
        "--only",
        default="",
        help="time only the variants whose label starts with this ('torch' or "
        "'gradstep'), e.g. to see torch.optim without numba's threads in the process",
    )
    args = parser.parse_args(argv)
    by_word = {name.split()[0].lower(): name for name in OPTIMIZERS}
    wanted = [w.strip() for w in args.optimizers.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in OPTIMIZERS and w.lower() not in by_word]
    if unknown:
        parser.error(
            f"unknown optimizers {unknown}; expected some of {list(OPTIMIZERS)}"
        )
    names = [w if w in OPTIMIZERS else by_word[w.lower()] for w in wanted]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device here")
    print(
        f"# {describe('torch', 'numpy', 'numba')}, {torch.get_num_threads()} torch "
        f"threads, gradstep engine {gtorch.Adam([torch.zeros(1)]).engine}"
    )
    if args.device != "cpu":
        print(f"# device {args.device}: {torch.cuda.get_device_name(args.device)}")
    print(
        f"# median of {args.rounds} interleaved rounds of {args.steps} steps; ms/step"
    )
    print(
        "# ratio = variant time / gradstep.torch time (> 1: gradstep.torch is faster)"
    )
    print()
    print("| optimizer | workload | variant | ms/step | ratio |")
    print("| --- | --- | --- | ---: | ---: |")
    for workload in args.workloads.split(","):
        for name in names:
            medians = bench(
                name, workload, args.rounds, args.steps, args.only, args.device
            )
            ours = medians.get("gradstep.torch", float("nan"))
            for label, ms in medians.items():
                print(
                    f"| {name} | {WORKLOAD_NAMES[workload]} | {label} | {ms:.2f} | "
                    f"{ms / ours:.2f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
