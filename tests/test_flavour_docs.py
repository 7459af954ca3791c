"""docs/flavours.md agrees with the code: one table per optimizer with a row per flavour,
whose rule, defaults and slots cells are what the optimizer of that flavour has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gradstep.optimizers._flavours import FLAVOURS
from gradstep.optimizers._registry import builtin_classes

DOC = Path(__file__).resolve().parent.parent / "docs" / "flavours.md"
CLASSES = builtin_classes()
CASES = [(name, flavour) for name in sorted(CLASSES) for flavour in FLAVOURS]
LR = 0.5  # given where the flavour has no default lr (optax)


def table_after(heading: str) -> dict[str, dict[str, str]]:
    """The first table after the line ``heading``: first cell -> {column: cell}."""
    lines = DOC.read_text().splitlines()
    assert heading in lines, f"docs/flavours.md has no section {heading!r}"
    rows = []
    for line in lines[lines.index(heading) + 1 :]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    header, body = rows[0], rows[2:]
    return {row[0].strip("`"): dict(zip(header, row)) for row in body}


def row(name: str, flavour: str) -> dict[str, str]:
    table = table_after(f"### {CLASSES[name].__name__}")
    assert flavour in table, f"the {name} table has no row for flavour {flavour!r}"
    return table[flavour]


def settings(text: str) -> dict[str, object]:
    """``"lr=0.001, amsgrad=False"`` as a dict of Python values."""
    pairs = (item.split("=") for item in text.split(","))
    return {k.strip(): ast.literal_eval(v.strip()) for k, v in pairs}


def build(name: str, flavour: str, **kwargs):
    cls = CLASSES[name]
    try:
        return cls(flavour=flavour, **kwargs)
    except TypeError:  # no default lr: the doc must say "required" (test_defaults)
        return cls(flavour=flavour, lr=LR, **kwargs)


@pytest.mark.parametrize("name, flavour", CASES)
def test_defaults(name, flavour):
    stated = row(name, flavour)["defaults"].strip("`").replace("required", "None")
    expected = settings(stated)
    if expected["lr"] is None:
        with pytest.raises(TypeError, match="needs lr"):
            CLASSES[name](flavour=flavour)
        expected["lr"] = LR
    config = build(name, flavour).get_config()
    for key in ("flavour", "decay"):
        config.pop(key, None)
    assert expected == config


@pytest.mark.parametrize("name, flavour", CASES)
def test_rules(name, flavour):
    """The first rule is the default flags'; ``flags: `rule``` lines the others'."""
    first, *others = row(name, flavour)["rule"].split("<br>")
    assert build(name, flavour).rule.__name__ == first.strip("`")
    for line in others:
        flags, rule = line.split(":")
        opt = build(name, flavour, **settings(flags))
        assert opt.rule.__name__ == rule.strip(" `"), line


@pytest.mark.parametrize("name, flavour", CASES)
def test_slots(name, flavour):
    stated = re.findall(r"`(\w+)`=([\d.e+-]+)", row(name, flavour)["slots (start)"])
    opt = build(name, flavour)
    actual = list(zip(opt.slot_names(), opt.slot_starts()))
    assert [(slot, float(start)) for slot, start in stated] == actual


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_clipping_row(flavour):
    assert flavour in table_after("## Clipping"), f"no clipping row for {flavour!r}"


@pytest.mark.parametrize(
    "flavour, heading, theirs_column",
    [
        ("torch", "### Coming from torch.optim", "torch.optim's state"),
        ("optax", "### Coming from optax", "optax's state"),
    ],
)
def test_state_names_tables(flavour, heading, theirs_column):
    """The tables of the frameworks' state fields are each variant's ``state_names``
    (and ``negated_state``), optimizer by optimizer."""
    table = table_after(heading)
    torch_names = {"nadam": "NAdam"}
    for name, cls in CLASSES.items():
        key = torch_names.get(name, cls.__name__) if flavour == "torch" else name
        shown = table[key]
        variant = cls.flavours[flavour]
        theirs = [c.strip("` ") for c in shown[theirs_column].split(",")]
        ours = [c.strip("` ") for c in shown["gradstep's"].split(",")]
        negated = {o for o, t in zip(ours, theirs) if t.endswith("(negated)")}
        theirs = [t.removesuffix("(negated)").strip("` ") for t in theirs]
        assert dict(zip(ours, theirs, strict=True)) == dict(variant.state_names), name
        assert negated == set(variant.negated_state), name
