"""What XLA compiles gradstep.jax's steps into: every rule's ``a / sqrt(b)`` stays a
square root and a division (``_ops.kept_sqrt``), for every optimizer in every flavour
and configuration of the golden cases, where XLA on its own rewrites it as
``a * rsqrt(b)`` (other rounding than the NumPy engines', and ~7x slower on XLA:CPU:
benchmarks/RESULTS.md, section 4, run 5)."""

from __future__ import annotations

import re

import pytest

from .._golden import flavour_files, load_case
from ..cases import all_configs
from ._util import jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")


def _configs() -> list[tuple[str, dict]]:
    seen, out = set(), []
    pairs = [(c["optimizer"], c["config"]) for c in map(load_case, flavour_files())]
    for name, config in [*all_configs(), *pairs]:
        key = (name, repr(sorted(config.items())))
        if key not in seen:
            seen.add(key)
            out.append((name, config))
    return out


CONFIGS = _configs()


def _compiled(tx, dtype=jnp.float32) -> str:
    params = [jnp.linspace(-1.0, 1.0, 64, dtype=dtype)]
    state = tx.init(params)
    grads = [jnp.full(64, 0.5, dtype)]
    step = jitted_step(tx)
    return step.lower(params, state, grads).compile().as_text()


def _ops(text: str, op: str, dtype: str = "f32") -> int:
    return len(re.findall(rf"= {dtype}\[64\]\S* {op}\(", text))


@pytest.mark.parametrize(
    "name,config",
    CONFIGS,
    ids=[f"{n}-{c.get('flavour', 'keras22')}-{i}" for i, (n, c) in enumerate(CONFIGS)],
)
def test_no_reciprocal_square_root(name, config):
    text = _compiled(gjax.get({"class_name": name, "config": config}))
    assert _ops(text, "rsqrt") == 0, text


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_adadelta_keeps_both_square_roots(dtype):
    with x64():
        tx = gjax.adadelta(lr=1.0)
        text = _compiled(tx, {"f32": jnp.float32, "f64": jnp.float64}[dtype])
    assert _ops(text, "rsqrt", dtype) == 0, text
    assert _ops(text, "sqrt", dtype) == 2 and _ops(text, "divide", dtype) == 1, text


def test_xla_rewrites_a_bare_quotient_by_a_square_root():
    """The rewrite kept_sqrt prevents: if this fails, XLA stopped making it, and
    kept_sqrt's extra multiply can go."""
    f = jax.jit(lambda a, b: a / jnp.sqrt(b))
    x = jnp.ones(64, jnp.float32)
    assert _ops(f.lower(x, x).compile().as_text(), "rsqrt") == 1
