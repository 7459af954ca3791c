"""Writes ``<case>.json`` beside this file: real Keras 2.2.4's numbers for ``cases.py``.

Run under the Keras 2.2.4 runner, float64 (not run by CI; its outputs are committed)::

    tools/keras224 tests/keras224/edges/generate.py [case ...]
"""

from __future__ import annotations

import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
import keras  # noqa: E402
import keras.layers  # noqa: E402
import keras.models  # noqa: E402
import keras.optimizers  # noqa: E402
from keras import backend as K  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    assert K.floatx() == "float64", "run with tools/keras224 (float64)"
    names = sys.argv[1:] or sorted(cases.CASES)
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = cases.CASES[name](keras)
        result.update(name=name, keras_version=keras.__version__, floatx=K.floatx())
        path = os.path.join(HERE, name + ".json")
        with open(path + ".tmp", "w") as handle:
            json.dump(result, handle, sort_keys=True)
        os.replace(path + ".tmp", path)
        print(name)


if __name__ == "__main__":
    main()
