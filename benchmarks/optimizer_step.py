"""Optimizer step speed: gradstep's engines against the bandwidth limit and the peers.

For each optimizer (the seven Keras 2.2 ones plus AMSGrad), float32, and each workload

    a: one tensor of 2**24 parameters
    b: 1,000 tensors of 2**14 parameters
    c: an MLP/CNN-like mix of ~100 tensors, ~4M parameters in all

it times the median over the rounds of one step of each contender below: the bandwidth
kernel first, on its own, then the others interleaved (each round runs every one once,
the rounds taking the orders in turn):

    bandwidth     a numba kernel that reads and writes the same arrays as the optimizer
                  (params, grads, slots in; params, slots out) with trivial arithmetic,
                  over one flat buffer: the minimal memory traffic, the limit
    fused/flat    gradstep, engine="fused", parameters and gradients as views of one
                  buffer (``gradstep.kernels.flatten``): one kernel call per step
    fused/sep     gradstep, engine="fused", separately allocated arrays: one call each
    numpy         gradstep, engine="reference": the rule on whole NumPy arrays, with the
                  temporaries NumPy code written the usual way makes
    torch-*       torch.optim default (for-loop), foreach, fused (where torch has one)
    optax         the optax optimizer under jax.jit, params and state donated
    gradstep.jax  the gradstep.jax transformation, run the same way (``--jax``: only
                  these two and the bandwidth reference, with their own summary)

and prints ms/step, GB/s (the minimal bytes: 4 * (3 + 2 * slots) per parameter, over the
time) and ratios: bandwidth time / time, and each peer's time / gradstep fused's time.
The peers compute their own variants of each algorithm (torch's eps placement and so
on); only the memory traffic is comparable, which is the point here.

    python benchmarks/optimizer_step.py                # everything (a few minutes)
    python benchmarks/optimizer_step.py --quick        # small sizes, 3 rounds: a smoke run
    python benchmarks/optimizer_step.py --optimizers adam,sgd --workloads b --rounds 9
    python benchmarks/optimizer_step.py --jax --rounds 9   # gradstep.jax vs optax only
    python benchmarks/optimizer_step.py --jax --flavour optax  # same numerics as optax
    python benchmarks/optimizer_step.py --jax --static  # hyperparameters as constants
    python benchmarks/optimizer_step.py --latency      # first-step latency, cold and cached
    python benchmarks/optimizer_step.py --fight        # numba threads vs BLAS threads
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from _machine import describe

from gradstep import optimizers
from gradstep.kernels import flatten

# name -> (gradstep config, torch class and kwargs, whether torch has fused, optax factory)
OPTIMIZERS: dict[str, tuple[str, dict, str, dict, bool, str, dict]] = {
    "sgd": (
        "SGD",
        {"lr": 0.01, "momentum": 0.9},
        "SGD",
        {"lr": 0.01, "momentum": 0.9},
        True,
        "sgd",
        {"learning_rate": 0.01, "momentum": 0.9},
    ),
    "rmsprop": (
        "RMSprop",
        {},
        "RMSprop",
        {"lr": 0.001},
        False,
        "rmsprop",
        {"learning_rate": 0.001},
    ),
    "adagrad": (
        "Adagrad",
        {},
        "Adagrad",
        {"lr": 0.01},
        True,
        "adagrad",
        {"learning_rate": 0.01},
    ),
    "adadelta": (
        "Adadelta",
        {},
        "Adadelta",
        {"lr": 1.0},
        False,
        "adadelta",
        {"learning_rate": 1.0},
    ),
    "adam": ("Adam", {}, "Adam", {"lr": 0.001}, True, "adam", {"learning_rate": 0.001}),
    "amsgrad": (
        "Adam",
        {"amsgrad": True},
        "Adam",
        {"lr": 0.001, "amsgrad": True},
        True,
        "amsgrad",
        {"learning_rate": 0.001},
    ),
    "adamax": (
        "Adamax",
        {},
        "Adamax",
        {"lr": 0.002},
        False,
        "adamax",
        {"learning_rate": 0.002},
    ),
    "nadam": (
        "Nadam",
        {},
        "NAdam",
        {"lr": 0.002},
        False,
        "nadam",
        {"learning_rate": 0.002},
    ),
}


def workload_shapes(name: str, quick: bool) -> list[tuple[int, ...]]:
    """The tensor shapes of workload a, b or c (16x smaller with --quick)."""
    if name == "a":
        return [(1 << (20 if quick else 24),)]
    if name == "b":
        return [(1 << (10 if quick else 14),)] * 1000
    if name == "c":
        # conv stacks and an MLP head, ~100 tensors: kernels, biases, norm scales/shifts
        div = 4 if quick else 1
        shapes: list[tuple[int, ...]] = []
        channels = [3, 32, 32, 64, 64, 96, 96, 128, 128, 128, 160, 160, 192, 192]
        for cin, cout in zip(channels, channels[1:]):
            cout = max(cout // div, 1)
            shapes += [(3, 3, max(cin // div, 1), cout), (cout,), (cout,), (cout,)]
        dense = [4096, 512, 512, 256, 256, 128, 10]
        for fan_in, fan_out in zip(dense, dense[1:]):
            shapes += [(fan_in // div, fan_out // div or 1), (fan_out // div or 1,)]
        while len(shapes) < 100:
            shapes.append((64 // div,))
        return shapes
    raise ValueError(f"unknown workload {name!r}; expected a, b or c")


@dataclass
class Contender:
    name: str
    step: Callable[[], None]
    sync: Callable[[], None] = field(default=lambda: None)


def _bandwidth_kernels():
    from numba import njit, prange

    from gradstep._threading import configure_numba_threads

    configure_numba_threads()  # as gradstep's kernels run: workers sleep when idle

    options = {"parallel": True, "error_model": "numpy", "cache": True}
    half = np.float32(0.5)

    @njit(**options)
    def one(p, g, s0):
        for i in prange(p.shape[0]):
            gi = g[i]
            s0[i] = s0[i] * half + gi
            p[i] = p[i] * half + gi

    @njit(**options)
    def two(p, g, s0, s1):
        for i in prange(p.shape[0]):
            gi = g[i]
            s0[i] = s0[i] * half + gi
            s1[i] = s1[i] * half + gi
            p[i] = p[i] * half + gi

    @njit(**options)
    def three(p, g, s0, s1, s2):
        for i in prange(p.shape[0]):
            gi = g[i]
            s0[i] = s0[i] * half + gi
            s1[i] = s1[i] * half + gi
            s2[i] = s2[i] * half + gi
            p[i] = p[i] * half + gi

    return {1: one, 2: two, 3: three}


def _start(shapes, seed=0):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    grads = [(rng.standard_normal(s) * 1e-3).astype(np.float32) for s in shapes]
    return params, grads


def contenders(
    key: str,
    shapes,
    peers: bool,
    jax_only: bool = False,
    flavour: str = "",
    static: bool = False,
) -> tuple[list[Contender], int]:
    """Every contender for optimizer ``key`` on ``shapes``; and the slot count
    (``jax_only``: the bandwidth reference, optax and gradstep.jax alone; ``flavour``:
    the gradstep contenders run with ``flavour=``, e.g. "optax"; ``static``:
    gradstep.jax with ``static_hyperparams=True``)."""
    name, config, torch_name, torch_kwargs, torch_fused, optax_name, optax_kwargs = (
        OPTIMIZERS[key]
    )
    if flavour:  # every gradstep contender computes that framework's numerics
        config = {**config, "lr": optax_kwargs["learning_rate"], "flavour": flavour}
    cls = getattr(optimizers, name)
    slots = len(cls(**config, engine="reference").slot_names())
    params, grads = _start(shapes)
    out: list[Contender] = []

    total = sum(p.size for p in params)
    bw = _bandwidth_kernels()[slots]
    flat_p, flat_g = flatten(params)[0], flatten(grads)[0]
    flat_s = [np.zeros(total, np.float32) for _ in range(slots)]
    out.append(Contender("bandwidth", lambda: bw(flat_p, flat_g, *flat_s)))

    def gradstep_contender(label, engine, flat):
        p = flatten(params)[1] if flat else [x.copy() for x in params]
        g = flatten(grads)[1] if flat else [x.copy() for x in grads]
        opt = cls(**config, engine=engine)
        pairs = list(zip(g, p))
        return Contender(label, lambda: opt.apply_gradients(pairs))

    if not jax_only:
        out.append(gradstep_contender("fused/flat", "fused", True))
        out.append(gradstep_contender("fused/sep", "fused", False))
        out.append(gradstep_contender("numpy", "reference", False))
    if not peers:
        return out, slots
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and not jax_only:
        torch_cls = getattr(torch.optim, torch_name)
        variants = [
            ("torch-default", {"foreach": False}),
            ("torch-foreach", {"foreach": True}),
        ]
        if torch_fused:
            variants.append(("torch-fused", {"fused": True}))
        for label, kwargs in variants:
            tp = [torch.tensor(x).requires_grad_(True) for x in params]
            for t, gr in zip(tp, grads):
                t.grad = torch.tensor(gr)
            opt = torch_cls(tp, **torch_kwargs, **kwargs)
            out.append(Contender(label, opt.step))
    try:
        import jax
        import optax
    except ImportError:
        jax = None
    if jax is not None:
        tx = getattr(optax, optax_name)(**optax_kwargs)
        out.append(_jit_contender("optax", tx, params, grads))
        out.append(
            _jit_contender(
                "gradstep.jax", _gradstep_jax(name, config, static), params, grads
            )
        )
    return out, slots


def _gradstep_jax(name: str, config: dict, static: bool = False):
    import gradstep.jax

    identifier = {"class_name": name, "config": config}
    return gradstep.jax.get(identifier, static_hyperparams=static)


def _jit_contender(label: str, tx, params, grads) -> Contender:
    """``tx`` under jax.jit, update and apply_updates in one call, params and state
    donated (the way optax is run above)."""
    import jax
    import optax

    jp = [jax.numpy.asarray(x) for x in params]
    jg = [jax.numpy.asarray(x) for x in grads]
    state = {"params": jp, "opt": tx.init(jp)}

    def update(p, s, g):
        updates, s = tx.update(g, s, p)
        return optax.apply_updates(p, updates), s

    jitted = jax.jit(update, donate_argnums=(0, 1))

    def step():
        state["params"], state["opt"] = jitted(state["params"], state["opt"], jg)

    def sync():
        jax.block_until_ready(state["params"])

    return Contender(label, step, sync)


def measure(
    items: list[Contender], rounds: int, reps: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Median seconds per step of each contender and every round's time (for ratios
    paired within a round). The bandwidth kernel is timed first, on its own: right
    after its numba threads, an XLA computation was measured 20-70% slower, so it must
    not sit between the contenders. These run interleaved, each round in another
    order (the permutations in turn: each contender as often first as the others)."""
    for c in items:  # warm-up: compile, allocate, fault pages in
        for _ in range(2):
            c.step()
        c.sync()
    alone = [c for c in items if c.name == "bandwidth"]
    others = [c for c in items if c.name != "bandwidth"]
    times: dict[str, list[float]] = {c.name: [] for c in items}

    def timed(c: Contender) -> None:
        start = time.perf_counter()
        for _ in range(reps):
            c.step()
        c.sync()
        times[c.name].append((time.perf_counter() - start) / reps)

    for c in alone:
        for _ in range(rounds):
            timed(c)
    orders = list(itertools.permutations(others))
    random.Random(0).shuffle(orders)
    for r in range(rounds):
        for c in orders[r % len(orders)]:
            timed(c)
    return {name: statistics.median(ts) for name, ts in times.items()}, times


def paired_ratio(times: dict[str, list[float]], peer: str, ours: str) -> float:
    """The median over rounds of peer time / our time in the same round: the two ran
    next to each other, so a slow stretch of the machine moves both."""
    return statistics.median(a / b for a, b in zip(times[peer], times[ours]))


def run_table(args) -> None:
    rows = []
    for workload in args.workloads:
        shapes = workload_shapes(workload, args.quick)
        total = sum(int(np.prod(s)) for s in shapes)
        reps = {"a": 2, "b": 2, "c": 5}[workload]
        for key in args.optimizers:
            items, slots = contenders(
                key, shapes, not args.no_peers, args.jax, args.flavour, args.static
            )
            medians, times = measure(items, args.rounds, reps)
            nbytes = 4 * (3 + 2 * slots) * total
            paired = (
                paired_ratio(times, "optax", "gradstep.jax")
                if "gradstep.jax" in medians and "optax" in medians
                else None
            )
            rows.append((workload, key, len(shapes), total, nbytes, medians, paired))
            _print_block(rows[-1])
            del items
    if not args.jax:
        _print_summary(rows)
    _print_jax_summary(rows)


def _print_block(row) -> None:
    workload, key, count, total, nbytes, medians, _ = row
    print(
        f"\n== workload {workload} ({count} tensors, {total:,} params), {key}, "
        f"{nbytes / total:.0f} B/param"
    )
    bw = medians["bandwidth"]
    ours = medians.get("fused/flat", medians.get("gradstep.jax", bw))
    print(
        f"{'contender':15s} {'ms/step':>9s} {'GB/s':>7s} {'bw/t':>6s} {'t/fused':>8s}"
    )
    for name, t in medians.items():
        print(
            f"{name:15s} {t * 1e3:9.3f} {nbytes / t / 1e9:7.1f} {bw / t:6.2f} "
            f"{t / ours:8.2f}"
        )
    sys.stdout.flush()


def _print_summary(rows) -> None:
    print(
        "\n== summary: gradstep fused/flat; bw = bandwidth time / fused time (>= 0.9);"
        " x peer = peer time / fused time"
    )
    head = [
        "wl",
        "optimizer",
        "fused ms",
        "GB/s",
        "bw",
        "x torch-fused",
        "x torch-best",
        "x optax",
        "x numpy",
    ]
    print(" | ".join(head))
    for workload, key, _, _, nbytes, m, _ in rows:
        ours = m["fused/flat"]
        torch_times = [
            m[k] for k in ("torch-default", "torch-foreach", "torch-fused") if k in m
        ]
        cells = [
            workload,
            key,
            f"{ours * 1e3:.2f}",
            f"{nbytes / ours / 1e9:.1f}",
            f"{m['bandwidth'] / ours:.2f}",
            f"{m['torch-fused'] / ours:.2f}" if "torch-fused" in m else "-",
            f"{min(torch_times) / ours:.2f}" if torch_times else "-",
            f"{m['optax'] / ours:.2f}" if "optax" in m else "-",
            f"{m['numpy'] / ours:.2f}",
        ]
        print(" | ".join(cells))


def _print_jax_summary(rows) -> None:
    rows = [row for row in rows if row[6] is not None]
    if not rows:
        return
    print(
        "\n== gradstep.jax vs optax, both under jax.jit with donated params and state;"
        " x optax = optax time / gradstep.jax time (>= 1.0: gradstep.jax as fast), of"
        " the medians and (paired) the median of the ratios within each round;"
        " bw = bandwidth time / time"
    )
    head = ["wl", "optimizer", "jax ms", "optax ms", "x optax", "x optax paired"]
    print(" | ".join([*head, "bw jax", "bw optax"]))
    ratios = []
    for workload, key, _, _, _, m, paired in rows:
        ours, theirs, bw = m["gradstep.jax"], m["optax"], m["bandwidth"]
        ratios.append(paired)
        cells = [
            workload,
            key,
            f"{ours * 1e3:.2f}",
            f"{theirs * 1e3:.2f}",
            f"{theirs / ours:.2f}",
            f"{paired:.2f}",
            f"{bw / ours:.2f}",
            f"{bw / theirs:.2f}",
        ]
        print(" | ".join(cells))
    geomean = float(np.exp(np.mean(np.log(ratios))))
    print(
        f"geometric mean of the paired ratios {geomean:.3f} "
        f"({min(ratios):.2f}-{max(ratios):.2f}, {sum(r >= 1 for r in ratios)} of "
        f"{len(ratios)} >= 1.0)"
    )


# ---- first-step latency ----------------------------------------------------------------
_LATENCY = """
import time
start = time.perf_counter()
import numpy as np
from gradstep import optimizers
params = [np.ones(s, np.float32) for s in SHAPES]
opt = optimizers.get(CONFIG)
opt.apply_gradients([(p * 0.5, p) for p in params])
first = time.perf_counter() - start
t = time.perf_counter()
opt.apply_gradients([(p * 0.5, p) for p in params])
print(first, time.perf_counter() - t)
"""
# one array: the flat kernel; two separate arrays: the multi-tensor kernel
_LATENCY_LAYOUTS = {"1 array": [(1000,)], "2 arrays": [(1000,), (10, 10)]}


def run_latency(args) -> None:
    print(
        "first-step latency (fresh process: import gradstep, build, first step), "
        "float32; cold: empty numba cache, cached: a second process"
    )
    for layout, shapes in _LATENCY_LAYOUTS.items():
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            for key in args.optimizers:
                name, config = OPTIMIZERS[key][:2]
                full = {"class_name": name, "config": {**config, "engine": "fused"}}
                code = _LATENCY.replace("SHAPES", repr(shapes)).replace(
                    "CONFIG", repr(full)
                )
                results = []
                for label in ("cold", "cached"):
                    out = subprocess.run(
                        [sys.executable, "-c", code],
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout.split()
                    results.append((label, float(out[0]), float(out[1])))
                print(
                    f"{layout:8s} {key:9s} "
                    + "  ".join(
                        f"{label}: first {first:5.2f} s (then {second * 1e6:.0f} us)"
                        for label, first, second in results
                    )
                )


# ---- numba threads vs BLAS threads ---------------------------------------------------
_FIGHT = """
import ctypes, ctypes.util, os, sys, time, numpy as np
if os.environ.get("FIGHT_LOAD_GOMP_FIRST"):  # as ``import torch`` does
    ctypes.CDLL(ctypes.util.find_library("gomp"))
from gradstep import optimizers
from gradstep.kernels import flat_arrays
engine = sys.argv[1]
rng = np.random.default_rng(0)
shapes = [(784, 1024), (1024,), (1024, 1024), (1024,), (1024, 10), (10,)]
pbuf, params = flat_arrays(shapes); pbuf[:] = rng.standard_normal(pbuf.size) * 0.01
gbuf, grads = flat_arrays(shapes)
opt = optimizers.Adam(engine=engine if engine != "none" else "reference")
X = rng.standard_normal((512, 784)).astype(np.float32)
def steps(n):
    for _ in range(n):
        h = np.maximum(X @ params[0] + params[1], 0)
        h2 = np.maximum(h @ params[2] + params[3], 0)
        d = (h2 @ params[4] + params[5]) * 0.01
        grads[4][...] = h2.T @ d; grads[5][...] = d.sum(0)
        dh2 = (d @ params[4].T) * (h2 > 0)
        grads[2][...] = h.T @ dh2; grads[3][...] = dh2.sum(0)
        dh = (dh2 @ params[2].T) * (h > 0)
        grads[0][...] = X.T @ dh; grads[1][...] = dh.sum(0)
        if engine != "none":
            opt.apply_gradients(zip(grads, params))
steps(2)
t = time.perf_counter(); steps(20); print(time.perf_counter() - t)
"""


def run_fight(args) -> None:
    """An MLP-like loop (matmuls on NumPy's BLAS threads, then an Adam step), 20 steps,
    in fresh processes, interleaved; median over rounds."""
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    setups = {
        "matmuls only, no step": ("none", {}),
        "reference engine": ("reference", {}),
        "fused, gradstep's setup (passive OpenMP wait)": ("fused", {}),
        "fused, OMP_WAIT_POLICY=ACTIVE (numba's default spin)": (
            "fused",
            {"OMP_WAIT_POLICY": "ACTIVE"},
        ),
        "fused, NUMBA_THREADING_LAYER=workqueue": (
            "fused",
            {"NUMBA_THREADING_LAYER": "workqueue"},
        ),
        "fused, libgomp loaded first (gradstep picks workqueue)": (
            "fused",
            {"FIGHT_LOAD_GOMP_FIRST": "1"},
        ),
        "fused, libgomp loaded first, OpenMP layer forced": (
            "fused",
            {"FIGHT_LOAD_GOMP_FIRST": "1", "NUMBA_THREADING_LAYER": "omp"},
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in setups}
    for _ in range(args.rounds):
        for label, (engine, extra) in setups.items():
            out = subprocess.run(
                [sys.executable, "-c", _FIGHT, engine],
                env={**base, **extra},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            times[label].append(float(out))
    print("MLP-like loop, 20 steps (matmuls + Adam step on 1.9M float32 params):")
    for label, ts in times.items():
        print(
            f"  {label:55s} median {statistics.median(ts) * 1e3:7.0f} ms  "
            f"min {min(ts) * 1e3:7.0f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 rounds")
    parser.add_argument(
        "--optimizers",
        default=",".join(OPTIMIZERS),
        help=f"comma-separated, from {','.join(OPTIMIZERS)}",
    )
    parser.add_argument("--workloads", default="a,b,c", help="comma-separated: a, b, c")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 7)")
    parser.add_argument("--no-peers", action="store_true", help="skip torch and optax")
    parser.add_argument(
        "--latency", action="store_true", help="first-step latency only"
    )
    parser.add_argument(
        "--jax",
        action="store_true",
        help="gradstep.jax against optax (and the bandwidth reference) only",
    )
    parser.add_argument("--fight", action="store_true", help="thread-fight loop only")
    parser.add_argument(
        "--flavour",
        default="",
        help="run the gradstep contenders with flavour= this (e.g. optax, with --jax)",
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="gradstep.jax with static_hyperparams=True (constants, as plain optax)",
    )
    args = parser.parse_args(argv)
    args.optimizers = [
        k.strip().lower() for k in args.optimizers.split(",") if k.strip()
    ]
    unknown = [k for k in args.optimizers if k not in OPTIMIZERS]
    if unknown:
        parser.error(
            f"unknown optimizers {unknown}; expected some of {list(OPTIMIZERS)}"
        )
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if any(w not in "abc" or len(w) != 1 for w in args.workloads):
        parser.error("--workloads takes a comma-separated subset of a,b,c")
    args.rounds = args.rounds or (3 if args.quick else 7)
    print(describe("gradstep", "numpy", "numba", "torch", "jax", "optax"))
    if args.latency:
        run_latency(args)
    elif args.fight:
        run_fight(args)
    else:
        run_table(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
