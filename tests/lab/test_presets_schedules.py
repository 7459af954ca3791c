"""The tutorial preset, learning-rate schedules, --tune lr, and Keras-style load_data()."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gradstep.datasets import DatasetError, fashion_mnist, mnist
from gradstep.lab._errors import LabError
from gradstep.lab.preset import load_preset, preset_names
from gradstep.lab.records import read_csv, read_record
from gradstep.lab.schedules import parse_schedule
from gradstep.lab.specs import resolve_specs

from ._cli import assert_one_line_error, run
from ._fake import fake_mnist, write_idx_set, write_npz

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def test_tutorial_preset_is_the_tutorials_experiment():
    from gradstep.cli._parser import COMPARE_DEFAULTS

    assert "tutorial" in preset_names()
    options = load_preset("tutorial", COMPARE_DEFAULTS)
    assert options["hidden"] == [50] and options["activation"] == "relu"
    assert options["kernel_initializer"] == "he_normal"
    assert options["batch_size"] == 6000 and options["epochs"] == 100
    specs = resolve_specs(options["optimizers"])
    assert [s.name for s in specs] == ["sgd", "sgd", "rmsprop", "adam", "adamax"]
    assert all(s.settings["lr"] == 0.01 for s in specs)
    assert (
        specs[1].schedule is not None
        and specs[1].schedule.text() == "exponential(0.98)"
    )


def test_unknown_preset_lists_the_known_ones(capsys):
    status, _, err = run(capsys, "compare", "--preset", "nope", "-q")
    assert_one_line_error(status, err, "unknown preset 'nope'", "tutorial")


def test_command_line_overrides_the_preset(tmp_path, capsys):
    write_idx_set(tmp_path / "fm", fake_mnist(n_train=120, n_test=30), compress=True)
    status, _, err = run(
        capsys,
        "compare",
        "--preset",
        "tutorial",
        "--dataset",
        "fashion-mnist",
        "--data-dir",
        tmp_path / "fm",
        "--epochs",
        "3",
        "--batch-size",
        "40",
        "-o",
        "adam:lr=0.01,sgd:lr=0.01,schedule=step(0.5,1)",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert status == 0, err
    record = read_record(tmp_path / "r" / "record.json")
    assert record["preset"] == "tutorial"
    assert record["training"]["epochs"] == 3 and record["training"]["batch_size"] == 40
    assert record["model"]["hidden"] == [50]  # from the preset
    assert record["model"]["kernel_initializer"] == "he_normal"
    # Fake files are not Fashion-MNIST's, but the name asked for is the one recorded.
    assert record["dataset"]["name"] == "fashion-mnist"
    assert len(record["dataset"]["sha256"]) == 4
    rows = read_csv(tmp_path / "r" / "metrics.csv")
    sgd = [r.lr for r in rows if r.optimizer.startswith("sgd")]
    assert sgd == [0.01, 0.005, 0.0025]  # step(0.5, 1) through LearningRateScheduler
    adam = [r.lr for r in rows if r.optimizer.startswith("adam")]
    assert adam == pytest.approx([0.01] * 3)
    assert [o["schedule"] for o in record["optimizers"]] == [None, "step(0.5, 1)"]
    warm = record["training"]["warmup_seconds"]
    assert set(warm) == {r.optimizer for r in rows} and all(
        v > 0 for v in warm.values()
    )


@pytest.mark.parametrize(
    "text, rates",
    [
        ("exponential(0.5)", [1.0, 0.5, 0.25]),
        ("step(0.1, 2)", [1.0, 1.0, 0.1]),
        ("cosine(2)", [1.0, 0.5, 0.0]),
        ("inverse_time(1)", [1.0, 0.5, 1 / 3]),
    ],
)
def test_schedules(text, rates):
    schedule = parse_schedule(text)
    assert [schedule.rate(e, 1.0) for e in range(3)] == pytest.approx(rates, abs=1e-15)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("linear(1)", "is not one of exponential(rate), step(factor, every)"),
        ("step(0.5)", "step takes 2 argument(s)"),
        ("exponential(2)", "rate must be in (0, 1]"),
        ("exponential(x)", "must be numbers"),
        ("step(0.5, 1.5)", "every must be a whole number"),
    ],
)
def test_schedule_errors(text, fragment):
    with pytest.raises(LabError) as info:
        parse_schedule(text)
    assert fragment in str(info.value)


def test_fashion_mnist_files_given_as_mnist_are_named_truthfully(
    tmp_path, capsys, monkeypatch
):
    paths = write_idx_set(tmp_path / "d", fake_mnist(), compress=True)
    from gradstep.datasets import _download

    real = {p.name: _download.sha256_of(p) for p in paths.values()}
    monkeypatch.setattr(fashion_mnist, "SHA256", real)
    status, _, err = run(
        capsys,
        "compare",
        "--dataset",
        "mnist",
        "--data-dir",
        tmp_path / "d",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "-o",
        "sgd",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert status == 0, err
    data = read_record(tmp_path / "r" / "record.json")["dataset"]
    assert data["name"] == "fashion-mnist" and "Fashion-MNIST" in data["note"]


def test_tune_lr_picks_from_the_grid_on_held_out_training_data(tmp_path, capsys):
    status, out, err = run(
        capsys,
        "compare",
        "-o",
        "sgd:lr=0.01,adam:lr=0.001",
        "--tune",
        "lr",
        "--tune-epochs",
        "2",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--limit-train",
        "600",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert status == 0, err
    record = read_record(tmp_path / "r" / "record.json")
    tuning = record["tuning"]
    assert tuning["held_out_samples"] == 100 and tuning["train_samples"] == 500
    assert tuning["budget_epochs"] == 2 * 5 * 2
    sgd = tuning["optimizers"]["sgd(lr=0.01)"]
    assert [t["lr"] for t in sgd["trials"]] == [0.001, 0.00316, 0.01, 0.0316, 0.1]
    best = min(sgd["trials"], key=lambda t: t["held_out_loss"])
    assert sgd["chosen_lr"] == best["lr"]
    labels = [item["optimizer"] for item in record["summary"]]
    assert labels[0] == f"sgd(lr=0.01), lr={best['lr']:g}"
    assert record["optimizers"][0]["config"]["lr"] == pytest.approx(best["lr"])


def test_keras_style_mnist_load_data(tmp_path, monkeypatch):
    arrays = fake_mnist()
    keras_dir = tmp_path / "home" / ".keras" / "datasets"
    write_npz(keras_dir, arrays)
    (x, y), (xt, yt) = mnist.load_data()
    np.testing.assert_array_equal(x, arrays["x_train"])
    assert x.dtype == np.uint8 and y.dtype == np.uint8 and xt.shape == (20, 28, 28)
    (x2, _), _ = mnist.load_data(str(keras_dir / "mnist.npz"))
    np.testing.assert_array_equal(x2, x)
    (x3, _), _ = mnist.load_data(keras_dir)  # a folder
    np.testing.assert_array_equal(x3, x)


def test_keras_style_loaders_offline_and_absent_say_which_file_to_put_where():
    with pytest.raises(DatasetError, match=r"MNIST not found: put Keras's mnist.npz"):
        mnist.load_data()
    with pytest.raises(DatasetError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert ".keras/datasets/fashion-mnist" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_keras_style_fashion_mnist_from_keras_cache(tmp_path):
    arrays = fake_mnist()
    write_idx_set(
        tmp_path / "home" / ".keras" / "datasets" / "fashion-mnist", arrays, True
    )
    (x, y), (xt, yt) = fashion_mnist.load_data()
    np.testing.assert_array_equal(y, arrays["y_train"])
    assert x.dtype == np.uint8 and x.shape == (60, 28, 28) and yt.shape == (20,)
    (x2, _), _ = fashion_mnist.load_data(
        tmp_path / "home" / ".keras" / "datasets" / "fashion-mnist"
    )
    np.testing.assert_array_equal(x2, x)


def test_record_json_is_standard_json(tmp_path, capsys):
    status, _, err = run(
        capsys,
        "compare",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "-o",
        "sgd",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert status == 0, err
    text = (tmp_path / "r" / "record.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
    rows = read_csv(tmp_path / "r" / "metrics.csv")
    assert all(math.isfinite(r.lr) for r in rows)
