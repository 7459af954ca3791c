"""The ``gradstep`` command line: ``main(argv) -> int``, callable in-process.

Subcommands: ``compare`` (train one model per optimizer and compare), ``trajectories``
(optimizer paths on 2-D functions), ``plot`` (redraw a run's figures) and ``h5``
(inspect and convert Keras 2.2 HDF5 model files). Bad input gives
one line on stderr and exit status 2; Ctrl-C exits 130 and SIGTERM 143, without a
traceback; nothing half-written is left behind.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Iterator, Sequence

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _fail(message: str, status: int) -> int:
    print(f"gradstep: error: {' '.join(message.split())}", file=sys.stderr)
    return status


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the same clean-up as for Ctrl-C runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """SIGTERM raises ``Terminated`` while the command runs (main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread, or no SIGTERM here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gradstep`` command with ``argv`` (default ``sys.argv[1:]``); return the
    exit status instead of exiting: 0 success, 1 a failure that is not the input's fault
    (disk full, permission denied, a bug), 2 bad input (options, files, data), 130 Ctrl-C,
    143 SIGTERM. Set ``GRADSTEP_DEBUG=1`` to see tracebacks of unexpected errors."""
    try:
        with _sigterm_as_exception():
            return _main(argv)
    except Terminated:
        return _fail(
            "terminated; an unfinished run leaves no output behind", EXIT_TERMINATED
        )
    except KeyboardInterrupt:
        return _fail(
            "interrupted; an unfinished run leaves no output behind", EXIT_INTERRUPTED
        )


def _main(argv: Sequence[str] | None) -> int:
    from ..datasets import DatasetError
    from ..lab._errors import LabError
    from ..lab.expr import ExpressionError
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
        elif args.command == "h5":
            from .h5 import run
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
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", EXIT_FAILURE)
    except MemoryError:
        return _fail(
            "out of memory; try --limit-train or a smaller model", EXIT_FAILURE
        )
    except Exception as exc:  # noqa: BLE001 - the command never shows a traceback
        if os.environ.get("GRADSTEP_DEBUG"):
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (set GRADSTEP_DEBUG=1 to see the "
            "traceback, and please report it)",
            EXIT_FAILURE,
        )
