"""What a steady gradstep.torch step's Python part costs after memory traffic (issue 17).

A step of workload (c) is a kernel that streams ~74 MB (SGD with momentum) and then, at
the next step, the Python part that checks parameters, gradients and slots before the
next kernel. That Python part is timed here on its own: the same 100 tensors as (c),
each 16 times smaller in every dimension (so the kernel is negligible), stepped right
after ``--sizes`` MB of other memory was rewritten, as the kernel of a real step
rewrites its workload. The step time against the traffic before it says which cache
level the Python part lives in (this VM: 2 MB of L2 per core, 32 MB of L3).

``--kernels`` also times two ways a streaming kernel could leave the caches alone,
each followed by the same small step: software prefetches with the non-temporal hint
(``prefetchnta``, distance 1 KB) and non-temporal stores (LLVM ``!nontemporal``; on
Zen the loop vectorizer refuses them at element alignment, so they are scalar
``movntss``), against the plain loop.

    python benchmarks/cache_eviction.py [--threads 2] [--rounds 31] [--kernels]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch_step
from _machine import describe


def small_step(threads: int) -> torch_step.gtorch.SGD:
    """(c)'s 100 tensors, 16 times smaller in every dimension, flatten_params, stepped
    twice (the third step is steady)."""
    shapes = [tuple(max(1, n // 16) for n in s) for s in torch_step.WORKLOADS["c"]]
    opt = torch_step.OPTIMIZERS["SGD momentum"][0](
        torch_step.make_params(shapes), flatten_params=True
    )
    opt.step()
    opt.step()
    return opt


def step_after(opt, before, rounds: int) -> float:
    """The median time in ms of ``opt.step()`` right after ``before()``."""
    times = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def streaming_kernels():
    """SGD with momentum over flat p, g, s: plain, with prefetchnta, with NT stores."""
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def prefetch_nta(typingctx, array, index):
        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            pointer = builder.gep(data, [args[1]])
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32]),
                "llvm.prefetch.p0",
            )
            # read, locality 0 (non-temporal), data cache
            builder.call(fn, [pointer, i32(0), i32(0), i32(1)])
            return context.get_dummy_value()

        return types.void(array, index), codegen

    @intrinsic
    def store_nt(typingctx, array, index, value):
        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            store = builder.store(args[2], builder.gep(data, [args[1]]))
            one = builder.module.add_metadata([ir.IntType(32)(1)])
            store.set_metadata("nontemporal", one)
            return context.get_dummy_value()

        return types.void(array, index, value), codegen

    mu, lr = np.float32(0.9), np.float32(0.01)
    options = {"parallel": True, "error_model": "numpy"}

    @njit(**options)
    def plain(p, g, s):
        for i in prange(p.shape[0]):
            v = mu * s[i] - lr * g[i]
            s[i] = v
            p[i] = p[i] + v

    @njit(**options)
    def prefetched(p, g, s):
        n = p.shape[0]
        for block in prange((n + 255) // 256):
            start = block * 256
            ahead = start + 256
            if ahead < n:
                for k in range(ahead, min(n, ahead + 256), 16):  # one per line
                    prefetch_nta(p, k)
                    prefetch_nta(g, k)
                    prefetch_nta(s, k)
            for i in range(start, min(n, start + 256)):
                v = mu * s[i] - lr * g[i]
                s[i] = v
                p[i] = p[i] + v

    @njit(**options)
    def streamed(p, g, s):
        for i in prange(p.shape[0]):
            v = mu * s[i] - lr * g[i]
            store_nt(s, i, v)
            store_nt(p, i, p[i] + v)

    return {"plain": plain, "prefetchnta": prefetched, "NT stores": streamed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--sizes", default="0,1,2,4,8,16,32,64,128")
    parser.add_argument("--kernels", action="store_true")
    args = parser.parse_args(argv)
    torch_step.set_threads(args.threads)
    print(describe("numpy", "torch", "numba"), f"; {args.threads} threads")
    opt = small_step(args.threads)
    print("| traffic before the step | step (ms) |")
    print("| ---: | ---: |")
    for mb in [float(x) for x in args.sizes.split(",")]:
        other = np.ones(int(mb * (1 << 18)) + 1, np.float32)
        ms = step_after(opt, lambda o=other: np.add(o, 1.0, out=o), args.rounds)
        print(f"| {mb:g} MB | {ms:.3f} |")
    if args.kernels:
        n = sum(int(np.prod(s)) for s in torch_step.WORKLOADS["c"])
        p, g, s = (np.full(n, x, np.float32) for x in (0.0, 1.0, 0.0))
        print("| kernel over (c)'s 3.7M elements | kernel (ms) | step after (ms) |")
        print("| --- | ---: | ---: |")
        for name, kernel in streaming_kernels().items():
            kernel(p, g, s)
            spent: list[float] = []

            def timed(k=kernel, spent=spent):
                start = time.perf_counter()
                k(p, g, s)
                spent.append(time.perf_counter() - start)

            ms = step_after(opt, timed, args.rounds)
            kernel_ms = statistics.median(spent) * 1e3
            print(f"| {name} | {kernel_ms:.2f} | {ms:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
