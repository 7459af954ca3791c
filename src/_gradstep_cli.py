"""The ``gradstep`` command's entry point, outside the package so that it runs before
``import gradstep``: a Ctrl-C or SIGTERM while the package and its dependencies are
still being imported exits quietly (130, 143) instead of printing a traceback. From
``gradstep.cli.main`` on, the command handles both signals itself."""

from __future__ import annotations

import signal
import sys


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    """Run ``gradstep.cli.main`` with quiet exits on signals during the imports."""
    previous = {
        sig: signal.signal(sig, _exit_quietly)
        for sig in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(sig) is not signal.SIG_IGN  # the caller's choice stays
    }
    from gradstep.cli import main as cli_main

    try:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        return cli_main()
    except KeyboardInterrupt:  # before cli_main's own handling was in place
        return 130


if __name__ == "__main__":
    sys.exit(main())
