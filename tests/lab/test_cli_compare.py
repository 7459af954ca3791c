"""``gradstep compare`` and ``gradstep plot`` in-process, on tiny settings."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.lab.records import read_csv, read_record, write_json

from ._cli import assert_one_line_error, has_colour, leftovers, png_pixels, run
from ._fake import fake_mnist, write_idx_set, write_npz
from ._server import serve

models = pytest.importorskip("gradstep.models")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TINY = ("--limit-train", "240", "--limit-test", "90", "--hidden", "16", "-q")


@pytest.fixture
def fit_calls(monkeypatch):
    """Every ``Sequential.fit`` call of the run: inputs, weights before, History."""
    calls = []
    original = models.Sequential.fit

    def spy(self, x, y, **kwargs):
        if "initial_epoch" not in kwargs:  # an optimizer's untimed warm-up batch
            return original(self, x, y, **kwargs)
        before = [w.copy() for w in self.get_weights()]
        history = original(self, x, y, **kwargs)
        calls.append(
            {
                "model": id(self),
                "x": np.array(x),
                "y": np.array(y),
                "kwargs": kwargs,
                "weights_before": before,
                "history": {k: list(v) for k, v in history.history.items()},
            }
        )
        return history

    monkeypatch.setattr(models.Sequential, "fit", spy)
    return calls


def test_tiny_run_writes_figure_csv_record_and_report(tmp_path, capsys, fit_calls):
    out = tmp_path / "runs" / "tiny"
    status, stdout, err = run(
        capsys,
        "compare",
        "-o",
        "sgd,adam:lr=0.01",
        "--epochs",
        "1",
        "--out",
        out,
        *TINY,
    )
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.png",
        "metrics.csv",
        "record.json",
        "report.md",
    ]
    assert leftovers(out.parent) == []

    # The figure: not one flat colour, and each optimizer's colour is drawn.
    pixels = png_pixels(out / "compare.png")
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10
    from matplotlib import colormaps

    for i in range(2):
        assert has_colour(pixels, colormaps["tab10"](i))

    # The CSV holds exactly the numbers the models' History objects returned.
    rows = read_csv(out / "metrics.csv")
    assert [(r.optimizer, r.seed, r.epoch) for r in rows] == [
        ("sgd", 0, 1),
        ("adam(lr=0.01)", 0, 1),
    ]
    assert len(fit_calls) == 2
    for row, call in zip(rows, fit_calls):
        history = call["history"]
        assert row.loss == history["loss"][0]
        assert row.acc == history["acc"][0]
        assert row.val_loss == history["val_loss"][0]
        assert row.val_acc == history["val_acc"][0]
        assert row.seconds > 0

    # The JSON record round-trips and rebuilds the very optimizers that ran.
    text = (out / "record.json").read_text()
    record = read_record(out / "record.json")
    write_json(
        tmp_path / "again.json",
        {k: v for k, v in record.items() if k not in ("format", "version")},
    )
    assert (tmp_path / "again.json").read_text() == text
    assert [o["label"] for o in record["optimizers"]] == ["sgd", "adam(lr=0.01)"]
    for entry, expected in zip(
        record["optimizers"], (optimizers.SGD(), optimizers.Adam(lr=0.01))
    ):
        rebuilt = optimizers.deserialize(
            {"class_name": entry["class_name"], "config": entry["config"]}
        )
        assert type(rebuilt) is type(expected)
        assert rebuilt.get_config() == expected.get_config() == entry["config"]
    assert record["training"]["seeds"] == [0]
    assert record["dataset"]["train_samples"] == 240
    assert record["dataset"]["test_samples"] == 90
    assert record["model"]["hidden"] == [16]
    assert {"gradstep", "numpy", "python"} <= set(record["versions"])
    assert record["command"].startswith("gradstep compare -o sgd,adam:lr=0.01")
    for item, row in zip(record["summary"], rows):
        assert item["final"]["val_acc"]["mean"] == row.val_acc

    report = (out / "report.md").read_text()
    assert "](compare.png)" in report
    assert "| adam(lr=0.01) |" in report
    assert "adam(lr=0.01)" in stdout and "epochs to 95% test acc" in stdout


def test_every_optimizer_gets_the_same_start_and_the_same_batches(
    tmp_path, capsys, fit_calls
):
    status, _, err = run(
        capsys,
        "compare",
        "-o",
        "sgd",
        "-o",
        "adam:lr=0.01",
        "--epochs",
        "2",
        "--seeds",
        "0,1",
        "--out",
        tmp_path / "run",
        *TINY,
    )
    assert status == 0, err
    assert len(fit_calls) == 2 * 2 * 2  # seeds x optimizers x epochs, one epoch per fit
    by_seed = {0: fit_calls[:4], 1: fit_calls[4:]}
    for calls in by_seed.values():
        sgd, adam = calls[0::2], calls[1::2]  # epochs are interleaved
        assert sgd[0]["model"] != adam[0]["model"]
        for a, b in zip(sgd[0]["weights_before"], adam[0]["weights_before"]):
            np.testing.assert_array_equal(a, b)
        for epoch in range(2):
            np.testing.assert_array_equal(sgd[epoch]["x"], adam[epoch]["x"])
            np.testing.assert_array_equal(sgd[epoch]["y"], adam[epoch]["y"])
            assert sgd[epoch]["kwargs"]["shuffle"] is False
            assert sgd[epoch]["kwargs"]["initial_epoch"] == epoch
            assert sgd[epoch]["kwargs"]["epochs"] == epoch + 1  # one epoch per fit
        assert not np.array_equal(sgd[0]["x"], sgd[1]["x"])  # reshuffled each epoch
    # Other seeds: other initial weights and other orders, but the same samples.
    assert not np.array_equal(by_seed[0][0]["x"], by_seed[1][0]["x"])
    assert not np.array_equal(
        by_seed[0][0]["weights_before"][0], by_seed[1][0]["weights_before"][0]
    )
    np.testing.assert_array_equal(
        np.sort(by_seed[0][0]["x"], axis=0), np.sort(by_seed[1][0]["x"], axis=0)
    )
    record = read_record(tmp_path / "run" / "record.json")
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    finals = [r.val_acc for r in rows if r.optimizer == "sgd" and r.epoch == 2]
    stats = record["summary"][0]["final"]["val_acc"]
    assert stats["mean"] == pytest.approx(np.mean(finals), rel=1e-15)
    assert stats["std"] == pytest.approx(np.std(finals), rel=1e-12, abs=1e-15)


def test_plot_redraws_the_same_figure_without_training(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert (
        run(
            capsys,
            "compare",
            "-o",
            "rmsprop,adam",
            "--epochs",
            "2",
            "--out",
            out,
            *TINY,
        )[0]
        == 0
    )
    original = (out / "compare.png").read_bytes()
    (out / "compare.png").unlink()

    def no_training(*args, **kwargs):
        raise AssertionError("plot must not train")

    monkeypatch.setattr(models.Sequential, "fit", no_training)
    status, stdout, err = run(capsys, "plot", out)
    assert status == 0, err
    assert (out / "compare.png").read_bytes() == original
    status, _, err = run(capsys, "plot", out, "--output", tmp_path / "fig.svg")
    assert status == 0, err
    assert (tmp_path / "fig.svg").read_text().lstrip().startswith("<?xml")
    status, _, err = run(capsys, "plot", out, "--output", tmp_path / "fig.svg")
    assert_one_line_error(status, err, "fig.svg already exists; pass --force")
    status, _, err = run(capsys, "plot", tmp_path / "nowhere")
    assert_one_line_error(status, err, "is not a folder")


def test_config_file_and_command_line_precedence(tmp_path, capsys):
    config = tmp_path / "lab.json"
    config.write_text(
        json.dumps(
            {
                "optimizers": [
                    {"name": "sgd", "lr": 0.05, "label": "fast-sgd"},
                    "adamax",
                ],
                "epochs": 3,
                "hidden": [8],
                "limit-train": 120,
                "limit_test": 60,
                "quiet": True,
            }
        )
    )
    status, _, err = run(
        capsys,
        "compare",
        "--config",
        config,
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
    )
    assert status == 0, err
    record = read_record(tmp_path / "run" / "record.json")
    assert [o["label"] for o in record["optimizers"]] == ["fast-sgd", "adamax"]
    assert record["optimizers"][0]["config"]["lr"] == 0.05
    assert record["training"]["epochs"] == 1  # the command line wins
    assert record["model"]["hidden"] == [8]
    assert record["dataset"]["train_samples"] == 120


def test_user_npz_dataset(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    np.savez(
        tmp_path / "mine.npz",
        x_train=x[:60],
        y_train=y[:60],
        x_test=x[60:],
        y_test=y[60:],
    )
    status, _, err = run(
        capsys,
        "compare",
        "--dataset",
        tmp_path / "mine.npz",
        "-o",
        "adam",
        "--epochs",
        "1",
        "--hidden",
        "4",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert status == 0, err
    record = read_record(tmp_path / "r" / "record.json")
    assert record["dataset"]["features"] == 5 and record["dataset"]["classes"] == 2
    assert list(record["dataset"]["sha256"].values()) == [
        hashlib.sha256((tmp_path / "mine.npz").read_bytes()).hexdigest()
    ]


def test_tutorial_experiment_on_fake_mnist_idx_files(tmp_path, capsys):
    """RMSprop vs Adam vs Adamax, the Keras mnist_mlp network (784-512-512-10, dropout
    0.2, batch 128), on small generated MNIST files in the IDX format."""
    data = tmp_path / "mnist"
    write_idx_set(data, fake_mnist(n_train=256, n_test=64), compress=True)
    status, stdout, err = run(
        capsys,
        "compare",
        "--dataset",
        "mnist",
        "--data-dir",
        data,
        "-o",
        "rmsprop,adam,adamax",
        "--hidden",
        "512,512",
        "--dropout",
        "0.2",
        "--batch-size",
        "128",
        "--epochs",
        "2",
        "--target-acc",
        "0.98",
        "-q",
        "--out",
        tmp_path / "tutorial",
    )
    assert status == 0, err
    record = read_record(tmp_path / "tutorial" / "record.json")
    assert record["model"]["input_dim"] == 784 and record["model"]["hidden"] == [
        512,
        512,
    ]
    assert record["model"]["dropout"] == 0.2
    assert record["dataset"]["train_samples"] == 256
    assert record["dataset"]["source"] == [
        str(data / name)
        for name in (
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        )
    ]
    assert [o["class_name"] for o in record["optimizers"]] == [
        "RMSprop",
        "Adam",
        "Adamax",
    ]
    rows = read_csv(tmp_path / "tutorial" / "metrics.csv")
    assert len(rows) == 6 and all(np.isfinite(r.loss) for r in rows)


def test_download_flag_fetches_verified_mnist(tmp_path, capsys):
    served = write_npz(tmp_path / "srv", fake_mnist(n_train=64, n_test=16), "m.npz")
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    with serve(tmp_path / "srv") as url:
        status, _, err = run(
            capsys,
            "compare",
            "--dataset",
            "mnist",
            "--download",
            "--download-url",
            url + "m.npz",
            "--sha256",
            digest,
            "-o",
            "adam",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "-q",
            "--out",
            tmp_path / "r",
        )
        assert status == 0, err
        assert (tmp_path / "cache" / "mnist.npz").read_bytes() == served.read_bytes()
        status, _, err = run(
            capsys,
            "compare",
            "--dataset",
            "mnist",
            "--download",
            "--data-dir",
            tmp_path / "elsewhere",
            "--download-url",
            url + "m.npz",
            "--sha256",
            "0" * 64,
            "-o",
            "adam",
            "-q",
            "--out",
            tmp_path / "r2",
        )
    assert_one_line_error(status, err, f"sha256 mismatch for {url}m.npz", "discarded")
    assert not (tmp_path / "r2").exists()
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            ["-o", "adamw"],
            [
                "unknown optimizer 'adamw'",
                "known optimizers: adadelta, "
                "adagrad, adam, adamax, nadam, rmsprop, sgd",
            ],
        ),
        (["-o", "adam:lr=-0.1"], ["optimizer 'adam': bad setting 'lr'", ">= 0"]),
        (["-o", "adam:betta=0.9"], ["unknown setting 'betta'", "beta_1"]),
        (["-o", "adam:lr=big"], ["setting 'lr' has value 'big'"]),
        (
            ["--dataset", "cifar"],
            ["unknown dataset 'cifar'", "known datasets: digits, mnist"],
        ),
        (
            ["--dataset", "mnist"],
            [
                "MNIST not found",
                "train-images-idx3-ubyte.gz",
                ".keras/datasets",
                "--download",
            ],
        ),
        (
            ["--dataset", "mnist", "--data-dir", "DATA"],
            ["MNIST not found", "mnist.npz", "t10k-labels-idx1-ubyte.gz"],
        ),
        (["--epochs", "0"], ["--epochs must be an integer >= 1, got 0"]),
        (["--seeds", "1,1"], ["--seeds lists a seed twice"]),
        (["--dropout", "1"], ["--dropout must be a number in [0, 1)"]),
        (["--activation", "swish"], ["--activation", "swish"]),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
        (["--epoch", "2"], ["unrecognized arguments: --epoch"]),
        (["--config", "NONE.json"], ["cannot read config file"]),
        (["--download"], ["applies to --dataset mnist and fashion-mnist"]),
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, capsys, argv, fragments):
    argv = [a.replace("DATA", str(tmp_path / "data")) for a in argv]
    fragments = [f.replace("DATA", str(tmp_path / "data")) for f in fragments]
    out = tmp_path / "out"
    status, _, err = run(capsys, "compare", *argv, "--out", out, *TINY)
    assert_one_line_error(status, err, *fragments)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_output_folder_rules(tmp_path, capsys):
    out = tmp_path / "run"
    args = ("compare", "-o", "sgd", "--epochs", "1", *TINY)
    assert run(capsys, *args, "--out", out)[0] == 0
    first = (out / "metrics.csv").read_text()
    status, _, err = run(capsys, *args, "--out", out)
    assert_one_line_error(status, err, "already exists; pass --force")
    assert (out / "metrics.csv").read_text() == first
    assert run(capsys, *args, "--out", out, "--force", "--seeds", "5")[0] == 0
    assert ",5,1," in (out / "metrics.csv").read_text()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    status, _, err = run(capsys, *args, "--out", tmp_path / "notes", "--force")
    assert_one_line_error(status, err, "not a gradstep run")
    (tmp_path / "blocker").write_text("a file")
    status, _, err = run(capsys, *args, "--out", tmp_path / "blocker" / "run")
    assert_one_line_error(status, err, "cannot write output folder")
    assert leftovers(tmp_path) == []


def test_failure_while_writing_leaves_no_half_written_folder(
    tmp_path, capsys, monkeypatch
):
    from gradstep.cli import compare as compare_command

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "compare.png")

    monkeypatch.setattr(compare_command, "save_figure", broken)
    status, _, err = run(
        capsys,
        "compare",
        "-o",
        "sgd",
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
        *TINY,
    )
    assert status == 1
    assert err.strip() == "gradstep: error: compare.png: No space left on device"
    assert not (tmp_path / "run").exists()
    assert leftovers(tmp_path) == []


def test_python_dash_m_entry_point(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "gradstep", "compare", "-o", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("gradstep: error: unknown optimizer 'nope'")
    assert "Traceback" not in result.stderr


def test_the_same_optimizer_twice_gives_identical_numbers_even_with_dropout(
    tmp_path, capsys
):
    # Same start, same batches, same dropout masks: two labels of one Adam must agree.
    status, _, err = run(
        capsys,
        "compare",
        "-o",
        "adam",
        "-o",
        "adam:beta_1=0.9",
        "--dropout",
        "0.3",
        "--epochs",
        "2",
        "--out",
        tmp_path / "r",
        *TINY,
    )
    assert status == 0, err
    rows = read_csv(tmp_path / "r" / "metrics.csv")
    first = [
        (r.loss, r.acc, r.val_loss, r.val_acc) for r in rows if r.optimizer == "adam"
    ]
    second = [
        (r.loss, r.acc, r.val_loss, r.val_acc) for r in rows if r.optimizer != "adam"
    ]
    assert len(first) == 2 and first == second
