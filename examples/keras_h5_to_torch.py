"""Continue a Keras 2.2 training run, saved with model.save("model.h5"), in PyTorch."""

import sys

import numpy as np
import torch

import gradstep.torch

path = sys.argv[1] if len(sys.argv) > 1 else "tests/h5/fixtures/adam_float64.h5"

# The Keras model: Dense(5, tanh, input_shape=(4,)), Dropout(0), Activation("linear"),
# Dense(3, softmax). torch.nn.Linear holds kernels transposed: transpose_kernels=True.
net = torch.nn.Sequential(
    torch.nn.Linear(4, 5),
    torch.nn.Tanh(),
    torch.nn.Linear(5, 3),
    torch.nn.Softmax(dim=-1),
).double()
params = [net[0].weight, net[0].bias, net[2].weight, net[2].bias]  # Keras's order
run = gradstep.torch.from_keras_h5(path, params, transpose_kernels=True)
optimizer = run.optimizer  # gradstep.torch.Adam: Keras's lr, betas, iterations, m, v


def categorical_crossentropy(p, y, eps=1e-7):
    """Keras 2.2.4's loss on probabilities (batch mean)."""
    p = torch.clamp(p / p.sum(-1, keepdim=True), eps, 1 - eps)
    return -(y * p.log()).sum(-1).mean()


rng = np.random.RandomState(7)  # the data the Keras run was trained on
x = torch.tensor(rng.normal(size=(32, 4)))
y = torch.tensor(np.eye(3)[rng.randint(0, 3, size=32)])
for _epoch in range(2):  # fit(x, y, batch_size=8, epochs=2, shuffle=False)
    for start in range(0, 32, 8):
        optimizer.zero_grad()
        loss = categorical_crossentropy(net(x[start : start + 8]), y[start : start + 8])
        loss.backward()
        optimizer.step()
print(type(optimizer).__name__, optimizer.state_dict()["param_groups"][0]["iterations"])
