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
which sets the speed, is the same. ``DeepSpeedCPUAdam`` (AVX-512 C++, Adam) joins where
deepspeed is installed (it builds with g++ on first use).

``bandwidth`` (CPU) is the limit: one numba kernel (``optimizer_step.py``'s) that reads
the parameters, gradients and slots and writes the parameters and slots of the whole
workload laid end to end in one buffer, with trivial arithmetic; its column
``bandwidth / gradstep.torch`` (<= 1) says how close gradstep.torch is to it.

``--threads N`` runs every contender on N threads (torch's and numba's pools); ``--busy``
times everything a second time with another process spinning on one core (the busy
neighbour) and prints busy / quiet per contender.

    python benchmarks/torch_step.py [--rounds 7] [--steps 3] [--workloads a,b,c]
                                    [--threads N] [--busy] [--only gradstep,torch fused]
                                    [--device cuda] [--flavour torch]

``--flavour torch`` runs gradstep.torch with torch.optim's numerics (``flavour="torch"``),
so both sides compute the same numbers.

``--device cuda`` times the same variants on a GPU (gradstep.torch runs its rule with
torch operations there; ``flatten_params`` only changes CPU tensors), synchronizing
before and after each timed round.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
from _machine import describe
from optimizer_step import paired_ratio

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
    "Adamax": (
        lambda p, **kw: gtorch.Adamax(p, **kw),
        {
            "default": lambda p: torch.optim.Adamax(p, foreach=False),
            "foreach": lambda p: torch.optim.Adamax(p, foreach=True),
        },
    ),
    "Adadelta": (
        lambda p, **kw: gtorch.Adadelta(p, **kw),
        {
            "default": lambda p: torch.optim.Adadelta(p, foreach=False),
            "foreach": lambda p: torch.optim.Adadelta(p, foreach=True),
        },
    ),
}


class _Bandwidth:
    """The bandwidth limit as a contender: ``optimizer_step.py``'s numba kernel over the
    workload's parameters, gradients and the optimizer's slots, each one flat buffer."""

    def __init__(self, params: list[torch.Tensor], slots: int) -> None:
        from optimizer_step import _bandwidth_kernels

        self.kernel = _bandwidth_kernels()[slots]
        self.p = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
        self.g = torch.cat([p.grad.reshape(-1) for p in params]).numpy()
        self.s = [np.zeros_like(self.p) for _ in range(slots)]

    def step(self) -> None:
        self.kernel(self.p, self.g, *self.s)


def _deepspeed_adam() -> Callable | None:
    """``DeepSpeedCPUAdam`` (lr 1e-3, no weight decay) where deepspeed is installed."""
    try:
        from deepspeed.ops.adam import DeepSpeedCPUAdam
    except Exception:  # not installed, or its extension cannot build here
        return None
    return lambda p: DeepSpeedCPUAdam(p, lr=1e-3, weight_decay=0.0, adamw_mode=False)


@contextlib.contextmanager
def busy_neighbour() -> Iterator[None]:
    """Another process spinning on one core while the block runs."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it take its core
        yield
    finally:
        spinner.kill()
        spinner.wait()


def set_threads(n: int) -> None:
    """``n`` threads for torch and numba (gradstep's kernels run on numba's pool)."""
    torch.set_num_threads(n)
    import numba

    from gradstep._threading import configure_numba_threads

    configure_numba_threads()
    numba.set_num_threads(n)


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
    flavour: str = "",
) -> dict[str, list[float]]:
    """Each variant's ms/step in every round."""
    ours, theirs = OPTIMIZERS[name]
    if flavour:
        base = ours

        def ours(p, **kw):
            return base(p, flavour=flavour, **kw)

    shapes = WORKLOADS[workload]
    variants = {
        "gradstep.torch": ours,
        "gradstep.torch flatten_params": lambda p: ours(p, flatten_params=True),
        **{f"torch {k}": v for k, v in theirs.items()},
    }
    deepspeed = _deepspeed_adam() if name == "Adam" and device == "cpu" else None
    if deepspeed is not None:
        variants["DeepSpeedCPUAdam"] = deepspeed
    if device == "cpu":
        slots = len(
            ours([torch.zeros(1)])
            .keras_class(flavour=flavour or None, lr=0.01)
            .slot_names()
        )
        variants["bandwidth"] = lambda p: _Bandwidth(p, slots)
    if only:
        prefixes = [o.strip() for o in only.split(",") if o.strip()]
        variants = {
            k: v
            for k, v in variants.items()
            if k == "bandwidth" or any(k.startswith(o) for o in prefixes)
        }
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
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
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
        help="time only the variants whose label starts with one of these "
        "(comma-separated: 'torch', 'gradstep.torch', 'torch fused', "
        "'DeepSpeedCPUAdam'; the bandwidth kernel is always timed on CPU)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per contender (0: as is)"
    )
    parser.add_argument(
        "--flavour",
        default="",
        help="gradstep.torch runs with flavour= this (e.g. torch: torch.optim's numerics)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="also time everything with a process spinning on one core",
    )
    args = parser.parse_args(argv)
    if args.threads < 0:
        parser.error("--threads must be >= 1 (or 0: leave the pools as they are)")
    if args.threads:
        set_threads(args.threads)
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
    print("# bw = bandwidth kernel time / variant time (<= 1; 1: at the memory limit)")
    print("# bw paired = the median of that ratio within each round")
    if args.busy:
        print("# busy = time with a process spinning on one core / quiet time")
    print()
    busy_header = " busy |" if args.busy else ""
    print(
        f"| optimizer | workload | variant | ms/step | ratio | bw | bw paired |"
        f"{busy_header}"
    )
    print(
        f"| --- | --- | --- | ---: | ---: | ---: | ---: |"
        f"{' ---: |' if args.busy else ''}"
    )
    for workload in args.workloads.split(","):
        for name in names:
            run = (
                name,
                workload,
                args.rounds,
                args.steps,
                args.only,
                args.device,
                args.flavour,
            )
            times = bench(*run)
            quiet = medians(times)
            loaded = {}
            if args.busy:
                with busy_neighbour():
                    loaded = medians(bench(*run))
            ours = quiet.get("gradstep.torch", float("nan"))
            limit = quiet.get("bandwidth", float("nan"))
            for label, ms in quiet.items():
                busy = f" {loaded[label] / ms:.2f} |" if args.busy else ""
                bw_paired = (
                    paired_ratio(times, "bandwidth", label)
                    if "bandwidth" in times
                    else float("nan")  # no bandwidth kernel on CUDA
                )
                print(
                    f"| {name} | {WORKLOAD_NAMES[workload]} | {label} | {ms:.2f} | "
                    f"{ms / ours:.2f} | {limit / ms:.2f} | {bw_paired:.2f} |{busy}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
