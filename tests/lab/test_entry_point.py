"""The ``gradstep`` command's entry point: a Ctrl-C at any moment, also while the
package is still being imported, exits 130 without a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

# What the installed ``gradstep`` script runs (see [project.scripts] in pyproject.toml).
_SCRIPT = (
    "import sys; from _gradstep_cli import main; sys.argv[0] = 'gradstep'; "
    "sys.exit(main())"
)


def _default_signals() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_ctrl_c_while_starting_exits_130_without_a_traceback(tmp_path, delay):
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, "compare", "--epochs", "300", "-o", "sgd"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # -SIGINT: the signal came before Python had set up its handlers (no output at all)
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err


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
