"""Writes the Keras 2.2.4 functional-model fixtures of ``test_keras_configs.py``.

Run under the real Keras 2.2.4 (float64)::

    tools/keras224 tests/models/data/make_keras_functional.py

A nested Sequential, merges, Dropout, constraints, an activity regularizer and advanced
activations; the architecture as Keras's to_json and to_yaml, the weights and the
predictions for two fixed inputs.
"""

import os

import keras as k
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
L = k.layers
a = L.Input(shape=(4,), name="a")
b = L.Input(shape=(4,), name="b")
inner = k.models.Sequential(
    [L.Dense(4, input_shape=(4,), activation="tanh"), L.BatchNormalization()],
    name="inner",
)
ia = inner(a)
c = L.concatenate([L.add([ia, b]), L.maximum([ia, b])])
o1 = L.Dense(
    3,
    activation="softmax",
    name="o1",
    kernel_constraint=k.constraints.max_norm(2),
    activity_regularizer=k.regularizers.l2(0.01),
)(L.Dropout(0.2)(c))
o2 = L.Dense(2, name="o2")(L.Flatten()(L.RepeatVector(2)(L.PReLU()(L.LeakyReLU()(o1)))))
m = k.models.Model([a, b], [o1, o2])
rng = np.random.RandomState(3)
m.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in m.get_weights()])
x = [np.linspace(-1, 1, 8).reshape(2, 4), np.linspace(1, -1, 8).reshape(2, 4)]
p = m.predict(x)
with open(os.path.join(HERE, "keras224_functional.json"), "w") as f:
    f.write(m.to_json())
with open(os.path.join(HERE, "keras224_functional.yaml"), "w") as f:
    f.write(m.to_yaml())
np.savez(
    os.path.join(HERE, "keras224_functional.npz"),
    *m.get_weights(),
    pred0=p[0],
    pred1=p[1],
)
