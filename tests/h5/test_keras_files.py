"""Keras 2.2.4 HDF5 files continue in gradstep exactly as in Keras 2.2.4 (issue 14).

Each fixture was trained by real Keras 2.2.4 and saved; its JSON holds Keras's own
continuation after ``keras.models.load_model`` (``generate.py``). gradstep's
continuation must match History and weights within 1e-9 relative in float64, 1e-5 in
float32, also after gradstep writes the file again, and for TensorFlow-style names.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from gradstep.models import Sequential, load_model  # noqa: E402
from gradstep.models.h5 import read_model_file  # noqa: E402

from ._util import BATCH, FIXTURES, data, expected, optimizer_fixtures  # noqa: E402

NAMES = optimizer_fixtures()


def tolerance(name: str) -> dict[str, float]:
    if name.endswith("float32"):
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-9, "atol": 1e-12}


def check_continuation(model, name: str) -> None:
    want = expected(name)
    x, y = data(want["floatx"])
    history = model.fit(
        x, y, batch_size=BATCH, epochs=want["epochs"], shuffle=False, verbose=0
    )
    assert sorted(history.history) == sorted(want["history"])
    for key, values in want["history"].items():
        np.testing.assert_allclose(
            history.history[key], values, err_msg=key, **tolerance(name)
        )
    for i, (w, e) in enumerate(zip(model.get_weights(), want["weights"], strict=True)):
        np.testing.assert_allclose(w, e, err_msg=f"weight {i}", **tolerance(name))


@pytest.mark.parametrize("name", NAMES)
def test_continues_like_keras(name: str) -> None:
    model = load_model(FIXTURES / f"{name}.h5")
    assert str(model.dtype) == expected(name)["floatx"]
    assert type(model.optimizer).__name__ == expected(name)["optimizer"]
    check_continuation(model, name)


@pytest.mark.parametrize("name", NAMES)
def test_gradstep_rewrite_continues_like_keras(name: str, tmp_path) -> None:
    """load -> save .h5 -> load: the same continuation (nothing lost or added)."""
    path = tmp_path / "again.h5"
    load_model(FIXTURES / f"{name}.h5").save(path)
    original = read_model_file(str(FIXTURES / f"{name}.h5"))
    again = read_model_file(str(path))
    assert [w.shape for _, w in again.optimizer_weights] == [
        w.shape for _, w in original.optimizer_weights
    ]
    assert [w.dtype for _, w in again.optimizer_weights] == [
        w.dtype for _, w in original.optimizer_weights
    ]
    assert (
        again.training_config["optimizer_config"]
        == (original.training_config["optimizer_config"])
    )
    check_continuation(load_model(path), name)


def test_what_keras_drops_is_dropped() -> None:
    """RMSprop/Adagrad/Adadelta files hold no iterations (decay restarts), Nadam files
    no m_schedule (back to 1), Adam without amsgrad holds (1,) vhat placeholders."""
    for name in ("rmsprop_float64", "adagrad_float64", "adadelta_float64"):
        model = load_model(FIXTURES / f"{name}.h5")
        assert model.optimizer.iterations == 0, name
    nadam = load_model(FIXTURES / "nadam_float64.h5").optimizer
    assert nadam.iterations == 8 and nadam._scalars["m_schedule"] == 1.0
    adam = read_model_file(str(FIXTURES / "adam_float64.h5"))
    assert [w.shape for _, w in adam.optimizer_weights[-4:]] == [(1,)] * 4


def test_float32_config_holds_rounded_values() -> None:
    model = load_model(FIXTURES / "adam_float32.h5")
    assert model.optimizer.lr == float(np.float32(0.01))
    assert np.dtype(model.dtype) == np.float32


def test_compile_false() -> None:
    model = load_model(FIXTURES / "adam_float64.h5", compile=False)
    assert model.optimizer is None
    assert isinstance(model, Sequential)
    want = read_model_file(str(FIXTURES / "adam_float64.h5"))
    arrays = [w for _, ws in want.layers for _, w in ws]
    for got, saved in zip(model.get_weights(), arrays, strict=True):
        np.testing.assert_array_equal(got, saved)


def test_no_optimizer_file() -> None:
    model = load_model(FIXTURES / "no_optimizer_float64.h5")
    assert model.optimizer is None


def _tensorflow_names(src, dst) -> None:
    """A copy of a Theano file with the names TensorFlow-backend Keras 2.2.4 writes:
    ``dense_1/kernel:0``, ``Adam/iterations:0``, ``training/Adam/Variable:0``. (TF 1.x
    does not install on this Python, so the TF layout is synthesized by renaming.)"""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        f.attrs["backend"] = np.bytes_("tensorflow")
        f["model_weights"].attrs["backend"] = np.bytes_("tensorflow")
        for layer in f["model_weights"].values():
            names = [n.decode() for n in layer.attrs["weight_names"]]
            for n in names:
                layer.move(n, n + ":0")
            if names:
                layer.attrs["weight_names"] = np.array(
                    [(n + ":0").encode() for n in names]
                )
        group = f["optimizer_weights"]
        names = [n.decode() for n in group.attrs["weight_names"]]
        new = []
        for i, n in enumerate(names):
            target = (
                n + ":0"
                if n.endswith("iterations")
                else (
                    "training/Adam/Variable:0"
                    if i == 1
                    else f"training/Adam/Variable_{i - 1}:0"
                )
            )
            group.move(n, target)
            new.append(target.encode())
        group.attrs["weight_names"] = np.array(new)


def test_tensorflow_style_names(tmp_path) -> None:
    path = tmp_path / "tf.h5"
    _tensorflow_names(FIXTURES / "adam_float64.h5", path)
    assert read_model_file(str(path)).backend == "tensorflow"
    check_continuation(load_model(path), "adam_float64")


def test_hdf5_content_with_another_suffix(tmp_path) -> None:
    path = tmp_path / "model.keras"
    shutil.copy(FIXTURES / "adam_float64.h5", path)
    check_continuation(load_model(path), "adam_float64")


@pytest.mark.parametrize("suffix", [".hdf5", ".H5"])
def test_suffixes(tmp_path, suffix) -> None:
    path = tmp_path / f"model{suffix}"
    load_model(FIXTURES / "adam_float64.h5").save(path)
    assert h5py.is_hdf5(path)
    check_continuation(load_model(path), "adam_float64")


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adadelta", "Nadam"])
def test_a_flavoured_optimizer_keeps_all_its_state_in_h5(name, tmp_path):
    """Keras 2.2.4's layout leaves iterations (decay) or Nadam's m_schedule out; a
    flavoured optimizer's file (which Keras 2.2.4 cannot read) keeps them: saved,
    loaded and continued equals continued straight."""
    from gradstep import layers, optimizers

    x = np.random.default_rng(0).standard_normal((8, 3))
    y = np.random.default_rng(1).standard_normal((8, 2))
    extra = {} if name == "Nadam" else {"decay": 0.1}
    model = Sequential([layers.Dense(2, input_dim=3)], seed=0)
    model.compile(getattr(optimizers, name)(flavour="torch", **extra), "mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    again = load_model(tmp_path / "m.h5")
    for a, b in zip(again.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    for m in (model, again):
        m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
