"""``gradstep h5 info`` / ``gradstep h5 convert`` (``gradstep.cli.h5``)."""

from __future__ import annotations

import argparse

import pytest

pytest.importorskip("h5py")

from gradstep.cli import h5 as h5_cli  # noqa: E402
from gradstep.models import load_model  # noqa: E402

from ._util import FIXTURES  # noqa: E402
from .test_keras_files import check_continuation  # noqa: E402


def _run(argv: list[str]) -> int:
    """The command as ``gradstep`` runs it when wired, else through its own parser."""
    from gradstep.cli import main
    from gradstep.cli._parser import build_parser

    sub = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    if "h5" in sub.choices:
        return main(["h5", *argv])
    parser = argparse.ArgumentParser(prog="gradstep")
    h5_cli.add_parser(parser.add_subparsers(dest="command"))
    return h5_cli.run(parser.parse_args(["h5", *argv]), "gradstep h5")


def test_info(capsys) -> None:
    assert _run(["info", str(FIXTURES / "adam_float64.h5")]) == 0
    out = capsys.readouterr().out
    assert "Adam" in out and "Total params: 43" in out and "Adam/iterations" in out


def test_convert_and_back(tmp_path, capsys) -> None:
    npz, h5 = tmp_path / "m.npz", tmp_path / "m.h5"
    assert _run(["convert", str(FIXTURES / "adamax_float64.h5"), str(npz)]) == 0
    assert _run(["convert", str(npz), str(h5)]) == 0
    check_continuation(load_model(h5), "adamax_float64")
    assert _run(["convert", str(npz), str(h5)]) == 2
    assert "--force" in capsys.readouterr().err
    assert _run(["convert", "--force", str(npz), str(h5)]) == 0


def test_bad_file(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"nothing")
    assert _run(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "not an HDF5 file" in err
