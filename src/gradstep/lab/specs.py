"""Optimizer choices from the command line or a config file: ``"adam:lr=3e-4,beta_1=0.8"``.

A spec is a registered optimizer name, optionally followed by ``:`` and comma-separated
``key=value`` settings (numbers, ``true``/``false``, ``none``). Several specs may share
one argument: ``"rmsprop,adam:lr=3e-4,beta_1=0.8,adamax"`` (a comma-separated item with
``=`` and no ``:`` belongs to the optimizer before it). Every spec is checked by building
the optimizer, so a bad key or value fails before any training, naming the key.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import optimizers
from ..optimizers import Optimizer
from ._errors import LabError
from .schedules import Schedule, parse_schedule

__all__ = [
    "OptimizerSpec",
    "parse_spec",
    "split_specs",
    "spec_from_mapping",
    "resolve_specs",
]

_EXTRA_KEYS = ("clipnorm", "clipvalue", "learning_rate")


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer to compare: display ``label``, registry ``name`` and settings."""

    label: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    schedule: Schedule | None = None

    def build(self, engine: str | None = None) -> Optimizer:
        """A fresh optimizer (checked already by ``make_spec``); ``engine`` as the
        optimizers take it (None: the fastest available; never changes results)."""
        return _optimizer_class(self.name)(**self.settings, engine=engine)

    def serialized(self) -> dict[str, Any]:
        """``{'class_name', 'config'}`` of the optimizer, as Keras serializes it."""
        return optimizers.serialize(self.build())


def known_names() -> list[str]:
    """Registered optimizer names, sorted."""
    return optimizers.registered_names()


def _optimizer_class(name: str) -> type[Optimizer]:
    from ..optimizers._registry import lookup

    cls = lookup(name)
    if cls is None:
        raise LabError(
            f"unknown optimizer {name!r}; known optimizers: {', '.join(known_names())}"
        )
    return cls


def accepted_keys(cls: type[Optimizer]) -> list[str]:
    """The keyword arguments an optimizer class takes (its signature plus the clip keys)."""
    params = inspect.signature(cls.__init__).parameters
    keys = [
        p.name
        for p in params.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    return keys + [k for k in _EXTRA_KEYS if k not in keys]


def check_number(name: str, key: str, value: Any) -> Any:
    """``value`` unless it is a number no float can hold (``10**400``) or not finite;
    ``LabError`` naming the optimizer and the setting then."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        shown = (
            str(value)
            if len(str(value)) < 30
            else f"{str(value)[:12]}...(a huge number)"
        )
        raise LabError(
            f"optimizer {name!r}: setting {key!r} must be a finite number that fits in a "
            f"float, got {shown}"
        )
    return value


def parse_value(name: str, key: str, text: str) -> Any:
    """A setting's value: a number, a boolean or None; ``LabError`` otherwise."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        number = int(lowered)
    except ValueError:
        try:
            number = float(lowered)
        except ValueError:
            raise LabError(
                f"optimizer {name!r}: setting {key!r} has value {text!r}, which is not a "
                "number, true/false or none"
            ) from None
    return check_number(name, key, number)


def make_spec(
    name: str, settings: Mapping[str, Any], label: str | None = None
) -> OptimizerSpec:
    """Check ``name`` and ``settings`` by building the optimizer; ``LabError`` naming the
    offending key and the reason."""
    if not isinstance(name, str) or not name.strip():
        raise LabError(f"an optimizer name must be a non-empty string, got {name!r}")
    name = name.strip()
    cls = _optimizer_class(name)
    allowed = accepted_keys(cls)
    settings = dict(settings)
    schedule = settings.pop("schedule", None)
    if schedule is not None and not isinstance(schedule, Schedule):
        if not isinstance(schedule, str):
            raise LabError(
                f"optimizer {name!r}: setting 'schedule' must be text such as "
                f"'exponential(0.98)', got {schedule!r}"
            )
        schedule = parse_schedule(schedule)
    for key, value in settings.items():
        check_number(name, key, value)
    for key in settings:
        if key not in allowed:
            raise LabError(
                f"optimizer {name!r}: unknown setting {key!r}; {cls.__name__} accepts "
                f"{', '.join(allowed)}"
            )
    try:
        cls(**settings)
    except (ValueError, TypeError) as exc:
        bad = next((k for k in settings if str(exc).startswith(k)), None)
        where = f"setting {bad!r}" if bad else "settings"
        raise LabError(f"optimizer {name!r}: bad {where}: {exc}") from None
    if label is None:
        shown = ",".join(f"{k}={_show(v)}" for k, v in settings.items())
        label = f"{name.lower()}({shown})" if shown else name.lower()
        if schedule is not None:
            label += f" {schedule.text()}"
    return OptimizerSpec(
        label=label, name=name.lower(), settings=settings, schedule=schedule
    )


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def parse_spec(text: str) -> OptimizerSpec:
    """One spec such as ``"adam"`` or ``"adam:lr=3e-4,amsgrad=true"``."""
    name, _, rest = text.partition(":")
    settings: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in split_top(rest))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise LabError(
                f"optimizer {name.strip()!r}: malformed setting {item!r}; expected "
                "key=value, e.g. adam:lr=3e-4,beta_1=0.8"
            )
        if key in settings:
            raise LabError(
                f"optimizer {name.strip()!r}: setting {key!r} is given twice"
            )
        if key == "schedule":
            settings[key] = parse_schedule(value)
        else:
            settings[key] = parse_value(name.strip(), key, value)
    return make_spec(name, settings)


def split_top(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses: ``"a,s=step(0.5,10)"`` gives
    ``["a", "s=step(0.5,10)"]``."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (char == "(") - (char == ")")
        current.append(char)
    parts.append("".join(current))
    return parts


def split_specs(text: str) -> list[str]:
    """Split ``"rmsprop,adam:lr=1e-3,beta_1=0.8,adamax"`` into one string per optimizer."""
    specs: list[str] = []
    for item in (part.strip() for part in split_top(text)):
        if not item:
            continue
        if "=" in item and ":" not in item:
            if not specs:
                raise LabError(f"setting {item!r} comes before any optimizer name")
            specs[-1] += ("," if not specs[-1].endswith(":") else "") + item
        else:
            specs.append(item)
    if not specs:
        raise LabError(f"no optimizer named in {text!r}")
    return specs


def spec_from_mapping(entry: Mapping[str, Any]) -> OptimizerSpec:
    """A config-file entry: ``{"name": "adam", "lr": 3e-4}`` (optional ``"label"``) or
    Keras's serialized form ``{"class_name": "Adam", "config": {...}}``."""
    data = dict(entry)
    label = data.pop("label", None)
    if label is not None and not isinstance(label, str):
        raise LabError(f"optimizer label must be a string, got {label!r}")
    if "class_name" in data:
        name = data.pop("class_name")
        config = data.pop("config", {})
        if data or not isinstance(config, Mapping) or not isinstance(name, str):
            raise LabError(
                f"optimizer entry {dict(entry)!r}: expected a class_name string and a "
                "config dict only"
            )
        return make_spec(name, config, label)
    if "name" not in data:
        raise LabError(
            f"optimizer entry {dict(entry)!r} has no 'name' (or 'class_name'); "
            'e.g. {"name": "adam", "lr": 0.0003}'
        )
    name = data.pop("name")
    return make_spec(name, data, label)


def resolve_specs(items: Iterable[Any]) -> list[OptimizerSpec]:
    """Specs from strings (possibly several per string) and mappings; labels must differ."""
    specs: list[OptimizerSpec] = []
    for item in items:
        if isinstance(item, str):
            specs.extend(parse_spec(text) for text in split_specs(item))
        elif isinstance(item, Mapping):
            specs.append(spec_from_mapping(item))
        else:
            raise LabError(f"an optimizer must be a string or a mapping, got {item!r}")
    seen: set[str] = set()
    for spec in specs:
        if spec.label in seen:
            raise LabError(
                f"optimizer {spec.label!r} is listed twice; give each a label"
            )
        seen.add(spec.label)
    return specs


def default_specs() -> list[OptimizerSpec]:
    """Every registered optimizer with its Keras 2.2 defaults."""
    return [make_spec(name, {}) for name in known_names()]
