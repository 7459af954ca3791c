"""``gradstep h5 info FILE`` and ``gradstep h5 convert FILE OUT``: Keras 2.2 HDF5 files.

``info`` prints a file's model summary, its training config, the optimizer with its
config and the names, shapes and dtypes of its state (``gradstep.models.h5.describe``).
``convert`` rewrites a model file as the other format: ``.h5``/``.hdf5`` (Keras 2.2.4's
layout) or gradstep's ``.npz`` (either way round). Needs h5py (``gradstep[h5]``).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_parser", "run"]

EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``h5`` command (with ``info`` and ``convert``) to ``sub``."""
    p = sub.add_parser(
        "h5",
        allow_abbrev=False,
        help="inspect and convert Keras 2.2 HDF5 model files",
        description="Inspect a Keras 2.2 .h5 model file, or convert it to gradstep's "
        ".npz format and back.",
    )
    actions = p.add_subparsers(dest="h5_command", metavar="ACTION")
    actions.required = True
    info = actions.add_parser(
        "info", help="model summary, training config, optimizer and its state shapes"
    )
    info.add_argument("file", metavar="FILE", help="a Keras 2.2 .h5 model file")
    convert = actions.add_parser(
        "convert", help="rewrite a model file as .h5 (Keras 2.2.4) or .npz (gradstep)"
    )
    convert.add_argument("file", metavar="FILE", help="a .h5 or gradstep .npz file")
    convert.add_argument(
        "out", metavar="OUT", help="the new file: .h5/.hdf5, or any other name for .npz"
    )
    convert.add_argument(
        "--force", action="store_true", help="overwrite an existing OUT"
    )
    p.set_defaults(command="h5")


def run(args: argparse.Namespace, command: str) -> int:
    """Run ``gradstep h5 ...``; a bad file is one line on stderr and exit status 2."""
    try:
        from ..models.h5 import convert, describe

        if args.h5_command == "info":
            sys.stdout.write(describe(args.file))
        else:
            _check_out(args.out, args.force)
            convert(args.file, args.out, overwrite=True)
            print(f"wrote {args.out}")
    except (ValueError, ImportError, FileExistsError) as exc:
        print(f"gradstep: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _check_out(out: str, force: bool) -> None:
    """``ValueError`` naming ``out`` unless a file can be written there, before reading
    anything (not a folder, its folder existing, not there already unless ``force``)."""
    if os.path.isdir(out):
        raise ValueError(f"{out} is a folder; OUT names the file to write")
    if os.path.exists(out) and not force:
        raise ValueError(f"{out} already exists; pass --force to overwrite it")
    parent = os.path.dirname(out) or "."
    if not os.path.isdir(parent):
        raise ValueError(f"cannot write {out}: folder {parent} does not exist")
