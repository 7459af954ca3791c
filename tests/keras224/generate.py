"""Writes ``data/<scenario>.json``: real Keras 2.2.4's numbers for ``scenarios.py``.

Run under the Keras 2.2.4 runner, float64 (not run by CI; its outputs are committed)::

    tools/keras224 tests/keras224/generate.py

Each file holds the scenario's config, its data, the initial weights (by layer name),
``fit``'s History and the final weights. JSON floats round-trip float64 exactly.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import scenarios  # noqa: E402
from keras import backend as K  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _floats(values):
    return [float(v) for v in values]


def run(name, config, seed):
    data = scenarios.make_data(seed)
    model = scenarios.build(keras, config)
    initial = scenarios.initial_weights(model, seed + 1000)
    scenarios.set_initial(model, initial)
    history = scenarios.train(keras, model, config, data)
    final = scenarios.layer_weights(model)
    after = scenarios.results(model, config, data)
    return {
        "name": name,
        "keras_version": keras.__version__,
        "backend": K.backend(),
        "floatx": K.floatx(),
        "config": config,
        "data": data,
        "initial_weights": initial,
        "history": {key: _floats(v) for key, v in history.history.items()},
        "results": after,
        "final_weights": {
            layer: [np.asarray(w).tolist() for w in ws] for layer, ws in final.items()
        },
    }


def main():
    assert K.floatx() == "float64", "run with tools/keras224 (float64)"
    out = os.path.join(HERE, "data")
    os.makedirs(out, exist_ok=True)
    names = sys.argv[1:] or list(scenarios.SCENARIOS)
    for name in sorted(scenarios.SCENARIOS):
        if name not in names:
            continue
        seed = zlib.crc32(name.encode()) % 10000  # stable per scenario
        result = run(name, scenarios.SCENARIOS[name], seed)
        path = os.path.join(out, name + ".json")
        with open(path + ".tmp", "w") as handle:
            json.dump(result, handle, sort_keys=True)
        os.replace(path + ".tmp", path)
        print(name, result["history"])


if __name__ == "__main__":
    main()
