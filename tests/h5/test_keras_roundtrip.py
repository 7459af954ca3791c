"""Files gradstep writes load in real Keras 2.2.4 with no warning and continue to the
numbers gradstep gets from the same file (issue 14, "the reverse").

Needs the Keras 2.2.4 venv of ``tools/keras224`` (built once by running it); skipped
cleanly without it. Every optimizer fixture is loaded, trained one more epoch in gradstep
(so the state is gradstep's), saved as .h5, then continued two epochs by gradstep and by
Keras; plus models built and trained from scratch in gradstep.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("h5py")

from gradstep import optimizers  # noqa: E402
from gradstep.layers import Dense  # noqa: E402
from gradstep.models import Sequential, load_model  # noqa: E402

from ._util import (  # noqa: E402
    BATCH,
    FIXTURES,
    data,
    keras_batch,
    keras_runner,
    optimizer_fixtures,
)

pytestmark = pytest.mark.skipif(
    keras_runner() is None,
    reason="the Keras 2.2.4 venv is not built (run tools/keras224 once to build it)",
)
EPOCHS = 2


def _fresh(optimizer):
    model = Sequential(
        [
            Dense(6, activation="relu", input_shape=(4,), name="hidden"),
            Dense(3, activation="softmax", name="probs"),
        ],
        seed=3,
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["acc"])
    return model


def _written(tmp_path, dtype):
    """(path, model) pairs: gradstep-trained models saved by gradstep."""
    x, y = data(dtype)
    out = []
    names = [n for n in optimizer_fixtures() if n.endswith(dtype)]
    for name in names:
        model = load_model(FIXTURES / f"{name}.h5")
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        out.append((tmp_path / f"{name}.h5", model))
    if dtype == "float64":
        for opt in (
            optimizers.Nadam(lr=0.01),
            optimizers.RMSprop(lr=0.01, decay=0.1),
            optimizers.Adam(lr=0.01, amsgrad=True, clipnorm=0.5),
        ):
            from gradstep import backend

            backend.set_floatx("float64")
            model = _fresh(opt)
            model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
            out.append((tmp_path / f"fresh_{type(opt).__name__}.h5", model))
    for path, model in out:
        model.save(path)
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_keras_continues_gradstep_files(tmp_path, dtype) -> None:
    written = _written(tmp_path, dtype)
    keras = keras_batch(
        [[str(p), EPOCHS] for p, _ in written], tmp_path, dtype == "float32"
    )
    tol = (
        {"rtol": 1e-9, "atol": 1e-12}
        if dtype == "float64"
        else {"rtol": 1e-5, "atol": 1e-6}
    )
    x, y = data(dtype)
    for path, _ in written:
        want = keras[str(path)]
        assert "error" not in want, f"{path.name}: {want.get('error')}"
        model = load_model(path)
        got = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        assert sorted(got.history) == sorted(want["history"]), path.name
        for key, values in want["history"].items():
            np.testing.assert_allclose(
                got.history[key], values, err_msg=f"{path.name} {key}", **tol
            )
        for i, (w, e) in enumerate(
            zip(model.get_weights(), want["weights"], strict=True)
        ):
            np.testing.assert_allclose(w, e, err_msg=f"{path.name} weight {i}", **tol)
