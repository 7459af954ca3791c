"""The ``gradstep`` argument parser: subcommands compare, trajectories, plot.

Options of compare and trajectories default to "not given" (``argparse.SUPPRESS``) so a
config file's values can sit between the built-in defaults and the command line.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from ..lab._errors import LabError

__all__ = ["build_parser", "COMPARE_DEFAULTS", "TRAJECTORY_DEFAULTS"]

SUPPRESS = argparse.SUPPRESS

COMPARE_DEFAULTS: dict[str, object] = {
    "optimizers": None,  # None: every registered optimizer with Keras's defaults
    "dataset": "digits",
    "data_dir": None,
    "download": False,
    "download_url": None,
    "sha256": None,
    "epochs": 20,
    "batch_size": 32,
    "hidden": [64],
    "activation": "relu",
    "kernel_initializer": "glorot_uniform",
    "dropout": 0.0,
    "seeds": [0],
    "target_acc": 0.95,
    "limit_train": None,
    "limit_test": None,
    "dtype": "float32",
    "engine": "reference",
    "tune": None,  # "lr": pick each optimizer's lr on held-out training data first
    "tune_epochs": None,  # None: min(epochs, 10)
    "out": None,  # None: gradstep-runs/compare-<dataset>, numbered if it exists
    "force": False,
    "quiet": False,
}

TRAJECTORY_DEFAULTS: dict[str, object] = {
    "optimizers": None,
    "functions": None,  # None: every built-in function (or only --expr when given)
    "expr": None,
    "start": None,
    "xlim": None,
    "ylim": None,
    "minimum": None,
    "lr": None,
    "steps": 1000,
    "tol": 0.01,
    "animate": False,
    "frames": 60,
    "out": "gradstep-runs/trajectories",
    "force": False,
}


class _Parser(argparse.ArgumentParser):
    """Reports errors as ``LabError`` (one line, no usage dump, no ``sys.exit``)."""

    def error(self, message: str) -> NoReturn:
        raise LabError(f"{message} (see {self.prog} --help)")


def _optimizer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--optimizer",
        dest="optimizers",
        action="append",
        default=SUPPRESS,
        metavar="SPEC",
        help='optimizer and settings, e.g. "adam:lr=3e-4,beta_1=0.8"; repeat the option or '
        'separate optimizers by commas ("rmsprop,adam,adamax"); a learning-rate '
        'schedule per optimizer: "sgd:lr=0.1,schedule=step(0.5,10)" (exponential(rate), '
        "step(factor, every), cosine(epochs), inverse_time(decay)). Default: all "
        "registered optimizers with their Keras 2.2 defaults",
    )


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        allow_abbrev=False,
        help="train the same model with several optimizers and compare them",
        description="Train the same MLP with several optimizers from the same initial "
        "weights on the same batches; print a table and write a figure, CSV, JSON record "
        "and Markdown report to --out.",
    )
    _optimizer_option(p)
    add = p.add_argument
    add(
        "--preset",
        metavar="NAME",
        help="start from a shipped set of options: tutorial (the optimizer tutorial's "
        "784-50-10 network, batch 6000, 100 epochs, lr 0.01, five optimizers); "
        "--config and command-line options override it",
    )
    add(
        "--dataset",
        default=SUPPRESS,
        help="digits (default), mnist, fashion-mnist, or a .npz file "
        "with x_train, y_train, x_test, y_test",
    )
    add(
        "--data-dir",
        default=SUPPRESS,
        metavar="DIR",
        help="folder holding mnist.npz or the four IDX files (default for mnist: "
        "~/.keras/datasets, then gradstep's cache; for fashion-mnist: "
        "~/.keras/datasets/fashion-mnist, /usr/share/datasets/fashion-mnist, the cache)",
    )
    add(
        "--download",
        action="store_true",
        default=SUPPRESS,
        help="fetch the data set if it is not found, verifying its sha256",
    )
    add(
        "--download-url",
        default=SUPPRESS,
        metavar="URL",
        help="where --download fetches mnist.npz from (then --sha256 is required)",
    )
    add(
        "--sha256", default=SUPPRESS, metavar="HEX", help="expected sha256 of mnist.npz"
    )
    add("--epochs", default=SUPPRESS, help="epochs per optimizer (default 20)")
    add("--batch-size", default=SUPPRESS, help="samples per batch (default 32)")
    add(
        "--hidden",
        default=SUPPRESS,
        metavar="N,N",
        help="hidden layer sizes (default 64); 0 or empty for none",
    )
    add("--activation", default=SUPPRESS, help="hidden activation (default relu)")
    add(
        "--kernel-initializer",
        default=SUPPRESS,
        metavar="NAME",
        help="initializer of every Dense kernel (default glorot_uniform; biases are zero)",
    )
    add(
        "--dropout",
        default=SUPPRESS,
        help="dropout rate after each hidden layer (default 0)",
    )
    add(
        "--seeds",
        default=SUPPRESS,
        metavar="S,S",
        help="seeds to repeat the comparison with; mean and spread are reported (default 0)",
    )
    add(
        "--target-acc",
        default=SUPPRESS,
        help="test accuracy whose first epoch is reported (default 0.95)",
    )
    add(
        "--limit-train",
        default=SUPPRESS,
        metavar="N",
        help="use only the first N training samples",
    )
    add(
        "--limit-test",
        default=SUPPRESS,
        metavar="N",
        help="use only the first N test samples",
    )
    add(
        "--dtype",
        default=SUPPRESS,
        choices=("float32", "float64"),
        help="float type of data and weights (default float32)",
    )
    add(
        "--engine",
        default=SUPPRESS,
        choices=("reference", "fused", "auto"),
        help="engine that runs every optimizer's steps (default reference: nothing to "
        "compile); the results are the same with every engine, only speed differs",
    )
    add(
        "--tune",
        default=SUPPRESS,
        choices=("lr",),
        help="first pick each optimizer's learning rate from a log-spaced grid on "
        "held-out training data, then compare with the chosen rates",
    )
    add(
        "--tune-epochs",
        default=SUPPRESS,
        metavar="N",
        help="epochs per --tune trial (default: --epochs, at most 10)",
    )
    add(
        "--out",
        default=SUPPRESS,
        metavar="DIR",
        help="output folder (default gradstep-runs/compare-DATASET, or -2, -3, ... "
        "when that exists)",
    )
    add(
        "--force",
        action="store_true",
        default=SUPPRESS,
        help="replace an existing output folder of an earlier run",
    )
    add("-q", "--quiet", action="store_true", default=SUPPRESS, help="no progress bar")
    add(
        "--config",
        metavar="FILE",
        help="JSON or YAML file of these options (names with "
        "dashes or underscores); command-line options take precedence",
    )
    p.set_defaults(command="compare")


def _add_trajectories(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trajectories",
        allow_abbrev=False,
        help="draw optimizer paths on 2-D test functions",
        description="Run each optimizer from the same start on 2-D test functions and "
        "draw the paths over the contours; the legend gives the steps to the minimum. "
        "Negative numbers need '=': --start=-1.5,2",
    )
    _optimizer_option(p)
    add = p.add_argument
    add(
        "-f",
        "--function",
        dest="functions",
        action="append",
        default=SUPPRESS,
        metavar="NAME",
        help="rosenbrock, beale, saddle, quadratic, rastrigin, himmelblau (repeat or "
        "separate by "
        "commas; default: all, or only --expr when given)",
    )
    add(
        "--expr",
        default=SUPPRESS,
        help="your own function of x and y, e.g. "
        '"x**2 + 3*sin(y)**2" (numbers, x, y, pi, e, + - * / ** and numpy functions '
        "sin cos tan exp log log1p sqrt abs sign tanh sinh cosh arctan)",
    )
    add("--start", default=SUPPRESS, metavar="X,Y", help="start for --expr (required)")
    add("--xlim", default=SUPPRESS, metavar="LO,HI", help="x range for --expr's plot")
    add("--ylim", default=SUPPRESS, metavar="LO,HI", help="y range for --expr's plot")
    add(
        "--minimum",
        default=SUPPRESS,
        metavar="X,Y",
        help="--expr's minimizer, to count steps to it",
    )
    add(
        "--lr",
        default=SUPPRESS,
        help="learning rate for every optimizer whose spec does "
        "not set lr (default: each optimizer's Keras default)",
    )
    add("--steps", default=SUPPRESS, help="steps per optimizer (default 1000)")
    add(
        "--tol",
        default=SUPPRESS,
        help="distance to the minimum that counts as reached (default 0.01)",
    )
    add(
        "--animate",
        action="store_true",
        default=SUPPRESS,
        help="also write an animated GIF",
    )
    add("--frames", default=SUPPRESS, help="frames of the GIF (default 60)")
    add(
        "--out",
        default=SUPPRESS,
        metavar="DIR",
        help="output folder (default gradstep-runs/trajectories)",
    )
    add(
        "--force",
        action="store_true",
        default=SUPPRESS,
        help="replace an existing output folder of an earlier run",
    )
    add("--config", metavar="FILE", help="JSON or YAML file of these options")
    p.set_defaults(command="trajectories")


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        allow_abbrev=False,
        help="redraw the figures of a finished run from its records",
        description="Redraw a run's figure from record.json and metrics.csv (compare) or "
        "paths.npz (trajectories), without training again.",
    )
    p.add_argument(
        "run_dir", metavar="RUN_DIR", help="folder written by compare or trajectories"
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the figure here (.png, .svg or "
        ".pdf) instead of replacing the one in RUN_DIR",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite an existing --output"
    )
    p.add_argument(
        "--animate", action="store_true", help="trajectories runs: also redraw the GIF"
    )
    p.set_defaults(command="plot")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``gradstep``; ``error`` raises ``LabError``."""
    from .._version import __version__
    from .h5 import add_parser as add_h5

    parser = _Parser(
        prog="gradstep",
        allow_abbrev=False,
        description="The Keras 2.2 optimizers, exact: compare them on data and on 2-D "
        "test functions.",
    )
    parser.add_argument(
        "--version", action="version", version=f"gradstep {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_compare(sub)
    _add_trajectories(sub)
    _add_plot(sub)
    add_h5(sub)
    return parser
