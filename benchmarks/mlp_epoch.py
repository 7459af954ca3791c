"""Seconds per epoch of one MLP training loop in gradstep and other frameworks.

The model: 784-512-256-10, relu, softmax cross-entropy, batch 128, Adam(lr=0.001), on
60,000 random MNIST-shaped float32 samples (labels 0-9), shuffled every epoch. Each
framework trains for ``--epochs`` epochs in this process, one after the other; the first
epoch (compilation, warm-up) is dropped and the median of the others reported, with its
ratio to gradstep's. Frameworks that are not installed are skipped.

    python benchmarks/mlp_epoch.py --epochs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

BATCH = 128
SIZES = (784, 512, 256, 10)


def _data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    return x, y


def bench_gradstep(x, y, epochs, engine=None) -> tuple[list[float], str]:
    from gradstep import optimizers
    from gradstep.layers import Dense
    from gradstep.models import Sequential, callbacks

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
    times: list[float] = []
    marks: dict[str, float] = {}
    timer = callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: marks.__setitem__("t", time.perf_counter()),
        on_epoch_end=lambda e, logs: times.append(time.perf_counter() - marks["t"]),
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    return times, opt.engine


def bench_torch(x, y, epochs) -> tuple[list[float], str]:
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
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return (
        times,
        f"torch {torch.__version__}, fused Adam, {torch.get_num_threads()} threads",
    )


def bench_jax(x, y, epochs) -> tuple[list[float], str]:
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
    state = tx.init(params)

    def loss_fn(params, xb, yb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(params, state, xs, ys, idx):
        xb, yb = jnp.take(xs, idx, axis=0), jnp.take(ys, idx, axis=0)
        grads = jax.grad(loss_fn)(params, xb, yb)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    xs, ys = jnp.asarray(x), jnp.asarray(y.astype(np.int32))
    rng = np.random.default_rng(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x)).astype(np.int32)
        for i in range(0, len(x), BATCH):
            params, state = step(params, state, xs, ys, order[i : i + BATCH])
        jax.block_until_ready(params)
        times.append(time.perf_counter() - start)
    return times, f"jax {jax.__version__}, optax {optax.__version__}, jit"


def bench_keras3(x, y, epochs) -> tuple[list[float], str]:
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
    times: list[float] = []
    marks: dict[str, float] = {}
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: marks.__setitem__("t", time.perf_counter()),
        on_epoch_end=lambda e, logs: times.append(time.perf_counter() - marks["t"]),
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    return times, f"keras {keras.__version__} on {keras.backend.backend()}"


def machine() -> str:
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip() for line in f if "model name" in line
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}; {os.cpu_count()} logical CPUs; Python {platform.python_version()}; "
        f"NumPy {numpy.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="subset of: gradstep reference torch jax keras3",
    )
    args = parser.parse_args(argv)
    x, y = _data(args.samples)
    runs: dict[str, Callable[[], tuple[list[float], str]]] = {
        "gradstep": lambda: bench_gradstep(x, y, args.epochs),
        "reference": lambda: bench_gradstep(x, y, args.epochs, "reference"),
        "torch": lambda: bench_torch(x, y, args.epochs),
        "jax": lambda: bench_jax(x, y, args.epochs),
        "keras3": lambda: bench_keras3(x, y, args.epochs),
    }
    labels = {
        "gradstep": "gradstep (engine=None)",
        "reference": "gradstep (reference engine)",
        "torch": "PyTorch loop",
        "jax": "JAX + optax",
        "keras3": "Keras 3",
    }
    print(f"machine: {machine()}")
    print(
        f"{args.samples} samples, batch {BATCH}, {args.epochs} epochs (first dropped)\n"
    )
    results: dict[str, float] = {}
    notes: dict[str, str] = {}
    for name, run in runs.items():
        if args.only is not None and name not in args.only:
            continue
        try:
            times, note = run()
        except ImportError as exc:
            if name in ("gradstep", "reference"):
                raise
            print(f"{labels[name]:28s} skipped: {exc}")
            continue
        if name == "gradstep":
            note = f"engine={note}"
        elif name == "reference":
            note = "engine=reference"
        kept = times[1:] if len(times) > 1 else times
        results[name] = statistics.median(kept)
        notes[name] = note
        print(f"{labels[name]:28s} {results[name]:7.3f} s/epoch  ({note})", flush=True)
    if not results:
        return 1
    fastest = min(results.values())
    base = results.get("gradstep")
    print(f"\n{'framework':28s} {'s/epoch':>8s} {'/gradstep':>10s} {'/fastest':>9s}")
    for name, seconds in sorted(results.items(), key=lambda item: item[1]):
        ratio = f"{seconds / base:10.2f}" if base else f"{'-':>10s}"
        print(f"{labels[name]:28s} {seconds:8.3f} {ratio} {seconds / fastest:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
