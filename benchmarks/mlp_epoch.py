"""Seconds per epoch of one MLP training loop in gradstep and other frameworks.

The model: 784-512-256-10, relu, softmax cross-entropy, batch 128, Adam(lr=0.001), on
60,000 random MNIST-shaped float32 samples (labels 0-9), shuffled every epoch. All
frameworks train side by side, each in a process of its own, interleaved epoch by epoch
(after one warm-up epoch each), so that they meet the same load on a shared machine; the
median seconds per epoch is reported with its ratios. Frameworks that are not installed
are skipped.

    python benchmarks/mlp_epoch.py --epochs 9
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from _machine import describe

BATCH = 128
SIZES = (784, 512, 256, 10)


def _data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    return x, y


def bench_gradstep(x, y, engine=None) -> tuple[Callable[[], None], str]:
    from gradstep import optimizers
    from gradstep.layers import Dense
    from gradstep.models import Sequential

    model = Sequential(
        [
            Dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
            Dense(SIZES[2], activation="relu"),
            Dense(SIZES[3], activation="softmax"),
        ],
        seed=0,
    )
    opt = optimizers.Adam(engine=engine)
    model.compile(opt, "sparse_categorical_crossentropy")

    def epoch() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    return epoch, f"engine={opt.engine}"


def bench_torch(x, y) -> tuple[Callable[[], None], str]:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]),
        torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch() -> None:
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return epoch, (
        f"torch {torch.__version__}, fused Adam, {torch.get_num_threads()} threads"
    )


def bench_jax(x, y) -> tuple[Callable[[], None], str]:
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        key, sub = jax.random.split(key)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit)
        params.append((w, jnp.zeros(fan_out, jnp.float32)))
    tx = optax.adam(1e-3, eps=1e-7)
    state = {"params": params, "opt": tx.init(params)}

    def loss_fn(params, xb, yb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(params, opt_state, xs, ys, idx):
        xb, yb = jnp.take(xs, idx, axis=0), jnp.take(ys, idx, axis=0)
        grads = jax.grad(loss_fn)(params, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    xs, ys = jnp.asarray(x), jnp.asarray(y.astype(np.int32))
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = rng.permutation(len(x)).astype(np.int32)
        p, s = state["params"], state["opt"]
        for i in range(0, len(x), BATCH):
            p, s = step(p, s, xs, ys, order[i : i + BATCH])
        jax.block_until_ready(p)
        state["params"], state["opt"] = p, s

    return epoch, f"jax {jax.__version__}, optax {optax.__version__}, jit"


def bench_keras3(x, y) -> tuple[Callable[[], None], str]:
    import keras

    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError("Keras 3 is not installed")
    model = keras.Sequential(
        [
            keras.Input((SIZES[0],)),
            keras.layers.Dense(SIZES[1], activation="relu"),
            keras.layers.Dense(SIZES[2], activation="relu"),
            keras.layers.Dense(SIZES[3], activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")

    def epoch() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    return epoch, f"keras {keras.__version__} on {keras.backend.backend()}"


def bench_reference(x, y) -> tuple[Callable[[], None], str]:
    return bench_gradstep(x, y, "reference")


BENCHES: dict[str, Callable[..., tuple[Callable[[], None], str]]] = {
    "gradstep": bench_gradstep,
    "reference": bench_reference,
    "torch": bench_torch,
    "jax": bench_jax,
    "keras3": bench_keras3,
}
LABELS = {
    "gradstep": "gradstep (engine=None)",
    "reference": "gradstep (reference engine)",
    "torch": "PyTorch loop",
    "jax": "JAX + optax",
    "keras3": "Keras 3",
}


def _worker(name: str, samples: int, conn: Connection) -> None:
    """One framework in its own process: build, one warm-up epoch, then one timed
    epoch per request until told to stop."""
    x, y = _data(samples)
    try:
        epoch, note = BENCHES[name](x, y)
    except ImportError as exc:
        conn.send(("skipped", str(exc)))
        return
    epoch()
    conn.send(("ready", note))
    while conn.recv():
        start = time.perf_counter()
        epoch()
        conn.send(time.perf_counter() - start)


def interleaved(
    names: list[str], samples: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Seconds of each framework's epochs. Each framework runs in a process of its own
    (no thread pools or runtime settings shared between them), one at a time, one epoch
    of each per round in a shuffled order, so every framework meets the same machine
    load."""
    context = multiprocessing.get_context("spawn")
    workers: dict[str, tuple[Any, Connection]] = {}
    notes: dict[str, str] = {}
    for name in names:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(name, samples, theirs))
        process.start()
        theirs.close()  # so that a worker that dies ends recv() with EOFError
        status, note = ours.recv()
        if status == "skipped":
            print(f"{LABELS[name]:28s} skipped: {note}", flush=True)
            process.join()
            continue
        workers[name], notes[name] = (process, ours), note
    order = list(workers)
    times: dict[str, list[float]] = {name: [] for name in order}
    try:
        for r in range(rounds):
            for name in random.Random(r).sample(order, len(order)):
                conn = workers[name][1]
                conn.send(True)
                times[name].append(conn.recv())
    finally:
        for process, conn in workers.values():
            conn.send(False)
            process.join()
    return times, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs each")
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="subset of: gradstep reference torch jax keras3",
    )
    args = parser.parse_args(argv)
    names = [n for n in BENCHES if args.only is None or n in args.only]
    print(f"machine: {describe('numpy')}")
    print(
        f"{args.samples} samples, batch {BATCH}, {args.epochs} timed epochs each, "
        "interleaved, one process per framework (one warm-up epoch each not counted)\n",
        flush=True,
    )
    times, notes = interleaved(names, args.samples, args.epochs)
    if not times:
        return 1
    results = {name: statistics.median(ts) for name, ts in times.items()}
    fastest = min(results.values())
    base = results.get("gradstep")
    print(
        f"{'framework':28s} {'s/epoch':>8s} {'min':>7s} {'max':>7s} "
        f"{'/gradstep':>10s} {'/fastest':>9s}  notes"
    )
    for name, seconds in sorted(results.items(), key=lambda item: item[1]):
        ratio = f"{seconds / base:10.2f}" if base else f"{'-':>10s}"
        print(
            f"{LABELS[name]:28s} {seconds:8.3f} {min(times[name]):7.3f} "
            f"{max(times[name]):7.3f} {ratio} {seconds / fastest:9.2f}  {notes[name]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
