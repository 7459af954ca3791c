import jax
import jax.numpy as jnp
import optax

import gradstep.jax

params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
tx = gradstep.jax.adam(lr=1e-3, clipnorm=1.0)
state = tx.init(params)


def loss(params, x, y):
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


@jax.jit
def step(params, state, x, y):
    grads = jax.grad(loss)(params, x, y)
    updates, state = tx.update(grads, state, params)
    return optax.apply_updates(params, updates), state


x, y = jnp.ones((4, 3)), jnp.zeros((4, 2))
params, state = step(params, state, x, y)
state = gradstep.jax.set_hyperparams(state, lr=1e-4)  # no recompilation
params, state = step(params, state, x, y)
print(int(state.count), round(float(state.hyperparams["lr"]), 8))  # 2 0.0001
