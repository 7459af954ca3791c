"""``gradstep trajectories`` (PNG, GIF, records) and redrawing it with ``gradstep plot``."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep.lab.functions import BUILTIN
from gradstep.lab.records import read_record
from gradstep.lab.specs import make_spec
from gradstep.lab.trajectories import run_path

from ._cli import assert_one_line_error, has_colour, leftovers, png_pixels, run

pytest.importorskip("matplotlib")

ARGS = ("-f", "quadratic,saddle", "-o", "sgd,adam:lr=0.05", "--steps", "150")


def test_writes_png_gif_paths_and_record(tmp_path, capsys):
    out = tmp_path / "traj"
    status, stdout, err = run(
        capsys, "trajectories", *ARGS, "--animate", "--frames", "6", "--out", out
    )
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "paths.npz",
        "record.json",
        "trajectories.gif",
        "trajectories.png",
    ]
    pixels = png_pixels(out / "trajectories.png")
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10
    from matplotlib import colormaps

    for i in range(2):
        assert has_colour(pixels, colormaps["tab10"](i))

    from PIL import Image

    with Image.open(out / "trajectories.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 6
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(5)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the paths grow

    record = read_record(out / "record.json")
    assert [f["name"] for f in record["functions"]] == ["quadratic", "saddle"]
    assert [o["label"] for o in record["optimizers"]] == ["sgd", "adam(lr=0.05)"]
    with np.load(out / "paths.npz", allow_pickle=False) as saved:
        for i, name in enumerate(["quadratic", "saddle"]):
            for j, spec in enumerate(
                [make_spec("sgd", {}), make_spec("adam", {"lr": 0.05})]
            ):
                expected = run_path(BUILTIN[name], spec, 150, 0.01)
                np.testing.assert_array_equal(saved[f"p{i}_{j}"], expected.points)
                result = record["results"][i][j]
                assert result["reached_at"] == expected.reached_at
                assert result["final_point"] == expected.points[-1].tolist()
    assert "quadratic: 0.5*x**2 + 50*y**2" in stdout


def test_plot_redraws_trajectories_identically(tmp_path, capsys):
    out = tmp_path / "traj"
    assert run(capsys, "trajectories", *ARGS, "--out", out)[0] == 0
    original = (out / "trajectories.png").read_bytes()
    (out / "trajectories.png").unlink()
    status, _, err = run(capsys, "plot", out, "--animate")
    assert status == 0, err
    assert (out / "trajectories.png").read_bytes() == original
    assert (out / "trajectories.gif").stat().st_size > 0


def test_user_expression_and_global_lr(tmp_path, capsys):
    out = tmp_path / "expr"
    status, stdout, err = run(
        capsys,
        "trajectories",
        "--expr",
        "(x - 1)**2 + 2*(y + 0.5)**2",
        "--start=-1,1",
        "--minimum",
        "1,-0.5",
        "-o",
        "adam,sgd:lr=0.1",
        "--lr",
        "0.05",
        "--steps",
        "400",
        "--out",
        out,
    )
    assert status == 0, err
    record = read_record(out / "record.json")
    assert [f["name"] for f in record["functions"]] == ["expr"]
    configs = [o["config"]["lr"] for o in record["optimizers"]]
    assert configs == [0.05, 0.1]  # --lr fills in only where the spec sets none
    assert all(r["reached_at"] is not None for r in record["results"][0])


def test_trajectory_errors(tmp_path, capsys):
    out = tmp_path / "t"
    cases = [
        (
            ["--expr", "__import__('os')", "--start", "0,0"],
            ["--expr: calls are limited to"],
        ),
        (["--expr", "x**2"], ["--expr needs --start X,Y"]),
        (["--start", "0,0"], ["--start applies to --expr only"]),
        (["-f", "ackley"], ["unknown function 'ackley'", "rosenbrock, beale"]),
        (["-o", "adam:lr=oops"], ["setting 'lr' has value 'oops'"]),
        (["--steps", "-5"], ["--steps must be an integer >= 1, got -5"]),
        (["--steps", "0"], ["--steps must be an integer >= 1"]),
    ]
    for argv, fragments in cases:
        status, _, err = run(capsys, "trajectories", *argv, "--out", out)
        assert_one_line_error(status, err, *fragments)
        assert not out.exists()
    assert leftovers(tmp_path) == []


def test_every_optimizer_is_visible_in_the_default_figure_and_keeps_its_gif_colour(
    tmp_path, capsys
):
    out = tmp_path / "traj"
    status, _, err = run(
        capsys,
        "trajectories",
        "-f",
        "quadratic",
        "--steps",
        "200",
        "--animate",
        "--frames",
        "5",
        "--out",
        out,
    )
    assert status == 0, err
    from matplotlib import colormaps
    from PIL import Image, ImageSequence

    pixels = png_pixels(out / "trajectories.png")
    count = len(read_record(out / "record.json")["results"][0])
    assert count >= 7
    for i in range(count):  # all seven optimizers' colours are drawn, none hidden
        assert has_colour(pixels, colormaps["tab10"](i), tolerance=3), i
    with Image.open(out / "trajectories.gif") as gif:
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(gif)]
    last = np.asarray(frames[-1])
    for i in range(count):  # the palette no longer collapses: each colour survives
        assert has_colour(last, colormaps["tab10"](i), tolerance=12), i


def test_schedules_are_refused_by_trajectories(tmp_path, capsys):
    status, _, err = run(
        capsys,
        "trajectories",
        "-o",
        "sgd:schedule=step(0.5,1)",
        "-f",
        "quadratic",
        "--out",
        tmp_path / "t",
    )
    assert_one_line_error(status, err, "schedules are per epoch")
