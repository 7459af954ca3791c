"""Learning-rate schedules for the lab, per optimizer: ``schedule=exponential(0.98)``.

Each schedule gives the learning rate of epoch ``e`` (counted from 0) from the
optimizer's initial rate ``lr0``; the lab applies it through the model's
``LearningRateScheduler`` callback at the start of every epoch:

- ``exponential(rate)``: ``lr0 * rate**e`` (0 < rate <= 1),
- ``step(factor, every)``: ``lr0 * factor**floor(e / every)`` (0 < factor <= 1),
- ``cosine(epochs)``: ``lr0 * (1 + cos(pi * min(e, epochs) / epochs)) / 2``,
- ``inverse_time(decay)``: ``lr0 / (1 + decay * e)``, Keras's ``decay`` formula per
  epoch (Keras's own ``decay=`` argument applies it per step; pass it to the optimizer
  for that).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ._errors import LabError

__all__ = ["Schedule", "parse_schedule", "SCHEDULES"]

SCHEDULES = {
    "exponential": ("rate",),
    "step": ("factor", "every"),
    "cosine": ("epochs",),
    "inverse_time": ("decay",),
}
_FORM = re.compile(r"^\s*([a-z_]+)\s*\((.*)\)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: its kind and arguments (see the module docstring)."""

    kind: str
    args: tuple[float, ...]

    def rate(self, epoch: int, lr0: float) -> float:
        """The learning rate of ``epoch`` (0-based) for initial rate ``lr0``."""
        if self.kind == "exponential":
            return lr0 * self.args[0] ** epoch
        if self.kind == "step":
            factor, every = self.args
            return lr0 * factor ** (epoch // int(every))
        if self.kind == "cosine":
            span = self.args[0]
            return lr0 * (1.0 + math.cos(math.pi * min(epoch, span) / span)) / 2.0
        return lr0 / (1.0 + self.args[0] * epoch)

    def text(self) -> str:
        """The form it was given in, normalized: ``step(0.5, 10)``."""
        shown = ", ".join(f"{a:g}" for a in self.args)
        return f"{self.kind}({shown})"


def _check(kind: str, args: tuple[float, ...], text: str) -> None:
    bad = f"schedule {text!r}: "
    if kind in ("exponential", "step") and not 0.0 < args[0] <= 1.0:
        raise LabError(bad + f"the {SCHEDULES[kind][0]} must be in (0, 1]")
    if kind == "step" and (args[1] < 1 or args[1] != int(args[1])):
        raise LabError(bad + "every must be a whole number of epochs >= 1")
    if kind == "cosine" and args[0] <= 0:
        raise LabError(bad + "epochs must be > 0")
    if kind == "inverse_time" and args[0] < 0:
        raise LabError(bad + "decay must be >= 0")


def parse_schedule(text: str) -> Schedule:
    """``"exponential(0.98)"``, ``"step(0.5, 10)"``, ``"cosine(100)"``,
    ``"inverse_time(0.01)"``; ``LabError`` saying the accepted forms otherwise."""
    accepted = ", ".join(f"{k}({', '.join(v)})" for k, v in SCHEDULES.items())
    match = _FORM.match(text) if isinstance(text, str) else None
    kind = match.group(1).lower() if match else ""
    if kind not in SCHEDULES:
        raise LabError(f"schedule {text!r} is not one of {accepted}")
    parts = [p.strip() for p in match.group(2).split(",") if p.strip()]  # type: ignore[union-attr]
    names = SCHEDULES[kind]
    if len(parts) != len(names):
        raise LabError(
            f"schedule {text!r}: {kind} takes {len(names)} argument(s), "
            f"{kind}({', '.join(names)})"
        )
    try:
        args = tuple(float(p) for p in parts)
    except (ValueError, OverflowError):
        raise LabError(f"schedule {text!r}: its arguments must be numbers") from None
    if not all(math.isfinite(a) for a in args):
        raise LabError(f"schedule {text!r}: its arguments must be finite")
    _check(kind, args, text)
    return Schedule(kind, args)
