"""What a new user runs into: a second run of README's first command, the fused engine
without numba, Ctrl-C and SIGTERM, an interrupted --force replacement."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from gradstep.lab import outdir as outdir_module
from gradstep.lab.outdir import OutputDir

from ._cli import assert_one_line_error, leftovers, run

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TINY = ("--epochs", "1", "--hidden", "8", "-o", "sgd", "-q")


def test_running_the_default_command_twice_makes_a_new_numbered_folder(capsys):
    status, out, err = run(capsys, "compare", *TINY)
    assert status == 0, err
    assert "wrote gradstep-runs/compare-digits/" in out
    status, out, err = run(capsys, "compare", *TINY)
    assert status == 0, err
    assert "wrote gradstep-runs/compare-digits-2/" in out
    status, out, err = run(capsys, "compare", *TINY)
    assert "wrote gradstep-runs/compare-digits-3/" in out


def test_an_explicit_out_still_needs_force(tmp_path, capsys):
    assert run(capsys, "compare", *TINY, "--out", tmp_path / "r")[0] == 0
    status, _, err = run(capsys, "compare", *TINY, "--out", tmp_path / "r")
    assert_one_line_error(status, err, "already exists; pass --force")


def test_fused_engine_without_numba_is_a_usage_error_with_the_install_hint(
    capsys, monkeypatch
):
    import gradstep.kernels

    monkeypatch.setattr(gradstep.kernels, "numba_available", lambda: False)
    status, _, err = run(capsys, "compare", *TINY, "--engine", "fused")
    assert_one_line_error(status, err, "needs numba", 'pip install -e ".[fast]"')
    assert "please report" not in err


def test_ctrl_c_at_any_moment_exits_130_without_traceback(
    tmp_path, capsys, monkeypatch
):
    from gradstep.lab import compare

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "_warm_up", interrupted)
    status, _, err = run(capsys, "compare", *TINY, "--out", tmp_path / "r")
    assert status == 130
    assert "Traceback" not in err and "interrupted" in err
    assert not (tmp_path / "r").exists() and leftovers(tmp_path) == []


def _replaced_run(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "record.json").write_text('{"old": true}')
    return target


def test_force_replacement_interrupted_between_the_renames_keeps_one_run(
    tmp_path, monkeypatch
):
    target = _replaced_run(tmp_path)
    out = OutputDir(target, force=True)
    (out.path("record.json")).write_text('{"new": true}')
    real_replace = os.replace
    calls = []

    def replace_then_interrupt(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the second rename: the new run into place
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(outdir_module.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        out.commit()
    monkeypatch.setattr(outdir_module.os, "replace", real_replace)
    out.discard()
    assert json.loads((target / "record.json").read_text()) == {"old": True}
    assert leftovers(tmp_path) == []


def test_a_run_killed_between_the_renames_is_restored_next_time(tmp_path, capsys):
    target = _replaced_run(tmp_path)
    os.replace(target, tmp_path / ".run.old-12345")  # as if killed right here
    OutputDir(target, force=True).discard()
    assert json.loads((target / "record.json").read_text()) == {"old": True}
    assert "restored the earlier run" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_signals_are_held_during_the_renames(tmp_path):
    target = _replaced_run(tmp_path)
    out = OutputDir(target, force=True)
    (out.path("record.json")).write_text('{"new": true}')
    received = []
    previous = signal.signal(signal.SIGTERM, lambda *a: received.append(1))
    try:
        with outdir_module._signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            assert received == []
        time.sleep(0.05)
        assert received == [1]
    finally:
        signal.signal(signal.SIGTERM, previous)
    out.commit()
    assert json.loads((target / "record.json").read_text()) == {"new": True}


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_training_cleans_up_the_staging_folder(tmp_path, sig, status):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("GRADSTEP_DEBUG", None)
    args = [
        sys.executable,
        "-m",
        "gradstep",
        "compare",
        "--epochs",
        "500",
        "-o",
        "sgd",
        "--out",
        str(tmp_path / "r"),
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".r.") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)  # training now
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()
    assert leftovers(tmp_path) == []


def test_trajectories_twice_makes_a_new_numbered_folder(capsys):
    args = ("trajectories", "-f", "quadratic", "-o", "sgd", "--steps", "5")
    status, out, err = run(capsys, *args)
    assert status == 0 and "wrote gradstep-runs/trajectories/" in out, err
    status, out, err = run(capsys, *args)
    assert status == 0 and "wrote gradstep-runs/trajectories-2/" in out, err
