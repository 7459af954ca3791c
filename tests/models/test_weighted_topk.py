"""A weighted metric that Keras averages over the batch itself (top-k accuracy) is
broadcast against the sample weights as Keras 2.2.4 does: mean(score * w) / mean(w != 0)
(real Keras 2.2.4 gives 2.0 for this example: a score of 1 with weights 0, 1, 2, 3)."""

from __future__ import annotations

import numpy as np

from gradstep import metrics
from gradstep.layers import Dense
from gradstep.models import Sequential


def test_weighted_top_k_accuracy_follows_keras():
    model = Sequential([Dense(5, input_shape=(3,), activation="softmax")], seed=0)
    model.compile(
        "sgd",
        "categorical_crossentropy",
        weighted_metrics=[metrics.top_k_categorical_accuracy],
    )
    y = np.eye(5)[np.arange(8) % 5]
    weights = np.array([0, 1, 2, 3, 0, 1, 2, 3.0])
    history = model.fit(np.ones((8, 3)), y, sample_weight=weights, verbose=0)
    assert history.history["weighted_top_k_categorical_accuracy"] == [2.0]
