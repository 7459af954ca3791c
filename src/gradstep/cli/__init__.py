"""The ``gradstep`` command line: ``main(argv) -> int``, callable in-process.

Subcommands: ``compare`` (train one model per optimizer and compare), ``trajectories``
(optimizer paths on 2-D functions) and ``plot`` (redraw a run's figures). Bad input gives
one line on stderr and exit status 2; nothing half-written is left behind.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence

from ..datasets import DatasetError
from ..lab._errors import LabError
from ..lab.expr import ExpressionError

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


def _fail(message: str, status: int) -> int:
    print(f"gradstep: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gradstep`` command with ``argv`` (default ``sys.argv[1:]``); return the
    exit status instead of exiting. Set ``GRADSTEP_DEBUG=1`` to see tracebacks of
    unexpected errors."""
    from ._parser import build_parser

    args_list = list(sys.argv[1:] if argv is None else argv)
    command = "gradstep " + shlex.join(args_list)
    try:
        try:
            args = build_parser().parse_args(args_list)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
        if args.command == "compare":
            from .compare import run
        elif args.command == "trajectories":
            from .trajectories import run
        else:
            from .plot import run
        return run(args, command)
    except (LabError, DatasetError, ExpressionError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:
        # The reader of our output went away (``gradstep compare | head``): stop quietly,
        # and point stdout at devnull so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return _fail("interrupted; no output was written", EXIT_INTERRUPTED)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", EXIT_FAILURE)
    except Exception as exc:  # noqa: BLE001 - the command never shows a traceback
        if os.environ.get("GRADSTEP_DEBUG"):
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (set GRADSTEP_DEBUG=1 to see the "
            "traceback, and please report it)",
            EXIT_FAILURE,
        )
