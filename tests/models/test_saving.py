"""save/load_model: round trips, bitwise resume in a fresh process, damaged files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.layers import Dense, Dropout
from gradstep.models import Sequential, load_model

RNG = np.random.default_rng(3)
X = RNG.normal(size=(50, 6)).astype("float32")
Y = RNG.integers(0, 4, 50)


def _model(seed=21, optimizer="adam"):
    model = Sequential(
        [
            Dense(16, activation="relu", input_shape=(6,)),
            Dropout(0.25),
            Dense(16, activation="tanh"),
            Dropout(0.1, seed=5),
            Dense(4, activation="softmax"),
        ],
        seed=seed,
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["acc"])
    return model


def test_round_trip_keeps_everything(tmp_path):
    model = _model(optimizer=optimizers.Nadam(lr=0.003, clipnorm=1.0))
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    assert loaded.get_config() == model.get_config()
    assert all(
        np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights())
    )
    assert optimizers.serialize(loaded.optimizer) == optimizers.serialize(
        model.optimizer
    )
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        assert np.array_equal(a, b)
    assert loaded.metrics_names == ["loss", "acc"]
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)
    with zipfile.ZipFile(path) as z:  # arrays and JSON only: loadable without pickle
        assert all(name.endswith(".npy") for name in z.namelist())
    assert not list(tmp_path.glob(".tmp-*"))


_RESUME = textwrap.dedent("""
    import sys
    import numpy as np
    from gradstep.models import load_model
    model = load_model(sys.argv[1])
    data = np.load(sys.argv[2])
    history = model.fit(data["x"], data["y"], batch_size=8, epochs=5, initial_epoch=2,
                        verbose=0)
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    arrays.update({f"o{i}": w for i, w in enumerate(model.optimizer.get_weights())})
    arrays["loss"] = np.array(history.history["loss"])
    np.savez(sys.argv[3], **arrays)
""")


def test_resume_in_a_fresh_process_is_bitwise_identical(tmp_path):
    straight = _model()
    full = straight.fit(X, Y, batch_size=8, epochs=5, verbose=0).history["loss"]
    resumed = _model()
    resumed.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    resumed.save(tmp_path / "half.npz")
    np.savez(tmp_path / "data.npz", x=X, y=Y)
    subprocess.run(
        [
            sys.executable,
            "-c",
            _RESUME,
            str(tmp_path / "half.npz"),
            str(tmp_path / "data.npz"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
        timeout=120,
    )
    out = np.load(tmp_path / "out.npz")
    for i, w in enumerate(straight.get_weights()):
        assert np.array_equal(out[f"w{i}"], w), f"weight {i} differs"
    for i, w in enumerate(straight.optimizer.get_weights()):
        assert np.array_equal(out[f"o{i}"], w), f"optimizer weight {i} differs"
    assert out["loss"].tolist() == full[2:]


def test_save_weights_and_load_weights(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "w.npz")
    other = _model(seed=99)
    other.load_weights(tmp_path / "w.npz")
    assert all(
        np.array_equal(a, b) for a, b in zip(other.get_weights(), model.get_weights())
    )


def _damaged(tmp_path, how):
    path = tmp_path / "m.npz"
    _model().save(path)
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupt":
        blob = bytearray(data)
        blob[len(blob) // 3] ^= 0xFF
        path.write_bytes(bytes(blob))
    elif how == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif how == "plain_npz":
        np.savez(path, a=np.zeros(3))
    return path


@pytest.mark.parametrize("how", ["truncated", "corrupt", "garbage", "plain_npz"])
def test_damaged_files_raise_and_leave_the_model_unchanged(tmp_path, how):
    path = _damaged(tmp_path, how)
    with pytest.raises(ValueError, match="m.npz"):
        load_model(path)
    model = _model(seed=7)
    before = model.get_weights()
    with pytest.raises(ValueError, match="m.npz"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_mismatched_architecture_leaves_the_model_unchanged(tmp_path):
    _model().save(tmp_path / "m.npz")
    other = Sequential(
        [Dense(16, activation="relu", input_shape=(6,)), Dense(5)], seed=0
    )
    before = other.get_weights()
    with pytest.raises(ValueError, match="holds 6 weights but the model has 4"):
        other.load_weights(tmp_path / "m.npz")
    wider = Sequential([Dense(17, input_shape=(6,)), Dense(16), Dense(4)], seed=0)
    with pytest.raises(ValueError, match="shape"):
        wider.load_weights(tmp_path / "m.npz")
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))


def test_unknown_classes_are_never_built(tmp_path):
    import json

    path = tmp_path / "m.npz"
    _model().save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__gradstep__"]))
    header["model_config"]["config"]["layers"][1]["class_name"] = "os.system"
    arrays["__gradstep__"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    with pytest.raises(
        ValueError, match="Unknown layer: 'os.system'. Known layers: Activation"
    ):
        load_model(path)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    model = _model()
    model.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before and not list(tmp_path.glob(".tmp-*"))
    monkeypatch.undo()
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)


def test_native_optimizer_needs_include_optimizer_false(tmp_path):
    class Native:
        lr, iterations = 0.1, 0

        def apply_gradients(self, pairs):
            for g, p in pairs:
                p -= self.lr * g

    model = _model(optimizer=Native())
    model.fit(X, Y, verbose=0, epochs=1)
    with pytest.raises(ValueError, match="include_optimizer=False"):
        model.save(tmp_path / "m.npz")
    model.save(tmp_path / "m.npz", include_optimizer=False)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.optimizer is None
    assert all(
        np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights())
    )
