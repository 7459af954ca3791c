"""Option values from the command line (strings) or a config file (JSON/YAML values),
checked by one set of functions so both sources give the same errors."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._yaml import bounded_loader
from ._errors import LabError

__all__ = [
    "load_config",
    "to_int",
    "to_float",
    "to_int_list",
    "to_pair",
    "to_bool",
    "to_str",
]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


MAX_CONFIG_BYTES = 1 << 20
"""The largest config file read."""

MAX_CONFIG_NODES = 100_000
"""The most values a YAML config file may expand to through its aliases."""

MAX_INT = 2**53
"""The largest integer an option takes (any count beyond it is a typo or an attack)."""


def to_int(name: str, value: Any, low: int = 1) -> int:
    """An integer in [``low``, 2**53], from an int or its text."""
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise LabError(
            f"{_flag(name)} must be an integer >= {low}, got {value!r}"
        ) from None
    if number < low:
        raise LabError(f"{_flag(name)} must be an integer >= {low}, got {number}")
    if number > MAX_INT:
        raise LabError(
            f"{_flag(name)} must be an integer <= 2**53, got a {len(str(number))}-digit "
            "number"
        )
    return number


def to_float(
    name: str, value: Any, low: float, high: float, *, open_high: bool = False
) -> float:
    """A finite float in [low, high] (or [low, high) when ``open_high``)."""
    interval = f"[{low:g}, {high:g}{')' if open_high else ']'}"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except OverflowError:
        raise LabError(
            f"{_flag(name)} must be a number in {interval}, got an integer too large "
            "for a float"
        ) from None
    except (TypeError, ValueError):
        raise LabError(
            f"{_flag(name)} must be a number in {interval}, got {value!r}"
        ) from None
    if (
        not math.isfinite(number)
        or number < low
        or number > high
        or (open_high and number == high)
    ):
        raise LabError(f"{_flag(name)} must be a number in {interval}, got {value!r}")
    return number


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def to_int_list(
    name: str, value: Any, low: int = 0, allow_empty: bool = False
) -> list[int]:
    """Integers from ``"0,1,2"``, a list or one number."""
    items = [to_int(name, item, low) for item in _items(value)]
    if not items and not allow_empty:
        raise LabError(f"{_flag(name)} needs at least one integer, got {value!r}")
    return items


def to_pair(name: str, value: Any) -> tuple[float, float]:
    """Two finite floats from ``"X,Y"`` or a two-item list."""
    items = _items(value)
    try:
        pair = tuple(float(item) for item in items)
    except (TypeError, ValueError, OverflowError):
        pair = ()
    if len(pair) != 2 or not all(math.isfinite(v) for v in pair):
        raise LabError(f"{_flag(name)} must be two numbers X,Y, got {value!r}")
    return pair  # type: ignore[return-value]


def to_bool(name: str, value: Any) -> bool:
    """A config file's true/false."""
    if isinstance(value, bool):
        return value
    raise LabError(f"{name} in the config file must be true or false, got {value!r}")


def to_str(name: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise LabError(f"{_flag(name)} must be a non-empty string, got {value!r}")
    return str(value)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; ``ValueError`` for a key given twice (JSON would
    silently keep the last)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} appears twice")
        data[key] = value
    return data


def _config_loader(yaml: Any) -> type:
    """PyYAML's safe loader, refusing a mapping key given twice (``ValueError``) and
    documents whose aliases (``*name``) expand past ``MAX_CONFIG_NODES`` values."""

    class Loader(bounded_loader(yaml, max_nodes=MAX_CONFIG_NODES)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            keys = [
                self.construct_object(k, deep=True)
                for k, _ in node.value
                if k.tag != "tag:yaml.org,2002:merge"  # "<<" may be overridden
            ]
            for i, key in enumerate(keys):
                try:
                    twice = key in keys[:i]
                except TypeError:  # an unhashable key: SafeLoader reports it
                    twice = False
                if twice:
                    raise ValueError(f"the key {key!r} appears twice")
            return super().construct_mapping(node, deep=deep)

    return Loader


def load_config(path: str | os.PathLike[str], allowed: Iterable[str]) -> dict[str, Any]:
    """A JSON or YAML (``.yaml``/``.yml``, needs PyYAML) mapping of option names (dashes or
    underscores) to values; ``LabError`` for unreadable files or unknown keys."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
            raise LabError(
                f"config file {path} is larger than {MAX_CONFIG_BYTES} bytes; a config "
                "file holds a few options"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabError(
            f"cannot read config file {path}: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError:
        raise LabError(f"config file {path} is not UTF-8 text") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise LabError(
                f"config file {path} is YAML, which needs PyYAML "
                '(pip install -e ".[lab]" from a clone of gradstep, or pip install '
                "pyyaml); or write it as JSON"
            ) from None
        try:
            data = yaml.load(text, Loader=_config_loader(yaml))  # noqa: S506 - safe
        except (yaml.YAMLError, ValueError, RecursionError, MemoryError) as exc:
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise LabError(f"config file {path} is not valid YAML: {detail}") from None
    else:
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError, MemoryError) as exc:
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise LabError(f"config file {path} is not valid JSON: {detail}") from None
    if not isinstance(data, Mapping):
        raise LabError(
            f"config file {path} must hold a mapping of option names to values"
        )
    allowed = sorted(allowed)
    config = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in allowed:
            raise LabError(
                f"config file {path}: unknown option {key!r}; known options: "
                f"{', '.join(allowed)}"
            )
        if name in config:
            raise LabError(
                f"config file {path} sets the option {name!r} twice (with dashes and "
                "with underscores); keep one"
            )
        config[name] = value
    return config
