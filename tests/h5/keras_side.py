"""Helpers run under real Keras 2.2.4 (``tools/keras224``), by ``generate.py`` and by
the round-trip test: continue training a saved ``.h5`` file and report the numbers.

    tools/keras224 [--float32] tests/h5/keras_side.py continue FILE.h5 EPOCHS OUT.json
    tools/keras224 [--float32] tests/h5/keras_side.py batch SPEC.json OUT.json

``continue`` loads FILE.h5 with ``keras.models.load_model`` (a UserWarning is an error:
Keras only warns when optimizer weights do not fit), fits EPOCHS more epochs on the
fixture data (``shuffle=False``) and writes History and final weights to OUT.json.
``batch`` does it for every ``[file, epochs]`` of SPEC.json in one process and writes
``{file: result}`` (a file Keras refuses or warns about gives ``{"error": message}``).
Runs on Python 3.8.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np

BATCH = 8


def data(dtype="float64"):
    """The fixtures' training data: 32 samples, 4 features, 3 one-hot classes."""
    rng = np.random.RandomState(7)
    x = rng.normal(size=(32, 4)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.randint(0, 3, size=32)]
    return x, y


def numbers(history, model):
    """History and final weights as JSON-able lists (float64 values)."""
    return {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "weights": [
            np.asarray(w, dtype="float64").tolist() for w in model.get_weights()
        ],
    }


def continue_file(path, epochs):
    """Keras's own continuation of the run saved at ``path``."""
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("error", UserWarning)
        model = keras.models.load_model(path)
    x, y = data(keras.backend.floatx())
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)
    return numbers(history, model)


def continue_functional(path, epochs, fixture):
    """Keras's continuation of a two-input/two-output file on ``fixture``'s data."""
    import keras

    with open(fixture) as handle:
        d = {k: np.asarray(v) for k, v in json.load(handle)["data"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("error", UserWarning)
        model = keras.models.load_model(path)
    history = model.fit(
        [d["xa"], d["xb"]],
        {"cls": d["cls"], "reg": d["reg"]},
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return numbers(history, model)


def batch(spec):
    """``continue_file`` for every ``[path, epochs]`` of ``spec`` (``[path, epochs,
    fixture.json]``: ``continue_functional``)."""
    results = {}
    for entry in spec:
        path, epochs = entry[0], int(entry[1])
        try:
            if len(entry) == 3:
                results[path] = continue_functional(path, epochs, entry[2])
            else:
                results[path] = continue_file(path, epochs)
        except Exception as exc:  # reported to the test, which fails on it
            results[path] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def main():
    command = sys.argv[1]
    if command == "batch":
        with open(sys.argv[2]) as handle:
            result = batch(json.load(handle))
        out = sys.argv[3]
    else:
        assert command == "continue", command
        path, epochs, out = sys.argv[2:5]
        result = continue_file(path, int(epochs))
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
