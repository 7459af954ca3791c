"""The ``gradstep`` command's entry point: a Ctrl-C at any moment once its handlers are
in place (the first thing it does), also while the package is still being imported,
exits 130 without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

# What the installed ``gradstep`` script runs (see [project.scripts] in pyproject.toml),
# writing ``marker`` once the entry point has installed its handlers.
_MARKED_SCRIPT = """
import signal, sys
import _gradstep_cli
install = signal.signal
def signal_and_mark(sig, handler):
    previous = install(sig, handler)
    if handler is _gradstep_cli._exit_quietly and sig == signal.SIGTERM:
        open({marker!r}, "w").close()
    return previous
signal.signal = signal_and_mark
sys.argv[0] = "gradstep"
sys.exit(_gradstep_cli.main())
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_ctrl_c_while_starting_exits_130_without_a_traceback(tmp_path, delay):
    # posix_spawn with SIGINT reset to its default: a background job of a
    # non-interactive shell (CI) starts with SIGINT ignored, and a fork would warn
    # once JAX's threads run in this process.
    err = tmp_path / "stderr"
    # a data set of its own: no scikit-learn import (digits) that an interrupt could
    # turn into an ImportError
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "data.npz",
        x_train=rng.random((600, 64), dtype=np.float32),
        y_train=rng.integers(0, 10, 600),
        x_test=rng.random((100, 64), dtype=np.float32),
        y_test=rng.integers(0, 10, 100),
    )
    args = ["compare", "--dataset", str(tmp_path / "data.npz"), "--epochs", "3000"]
    args += ["-o", "sgd", "--out", str(tmp_path / "r")]
    # the delays count from the moment the entry point's handlers are in place: an
    # interrupt before, while CPython itself starts (site.py and its .pth files), is
    # CPython's (a traceback, or a fatal error), before any of the command's code
    started = tmp_path / "started"
    script = _MARKED_SCRIPT.format(marker=str(started))
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", script, *args],
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, str(err), os.O_WRONLY | os.O_CREAT, 0o644),
        ],
        setsigdef=[signal.SIGINT],
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the interpreter did not start"
        time.sleep(0.001)
    time.sleep(delay)
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        assert time.monotonic() < deadline, "the command did not stop on Ctrl-C"
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    text = err.read_text()
    assert code == 130, text
    assert "Traceback" not in text


def test_an_ignored_sigint_stays_ignored(tmp_path):
    code = (
        "import signal, sys, gradstep.cli\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "gradstep.cli.main = lambda: print(signal.getsignal(signal.SIGINT)) or 0\n"
        "from _gradstep_cli import main\n"
        "sys.exit(main())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(signal.SIG_IGN)
