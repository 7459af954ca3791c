"""gradstep against real Keras 2.2.4 (float64): History, final weights, ``evaluate`` and
``predict`` of every scenario in ``scenarios.py`` within 1e-9 relative (issue 18,
"Numbers and bad input").

The expected numbers in ``data/`` come from ``generate.py`` run under
``tools/keras224``. A scenario whose API gradstep does not have yet (a missing name, or
an argument refused as "not supported") is skipped with what is missing; every number
gradstep does produce is compared (History entries gradstep does not log are named in a
skip after all the numbers matched).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradstep
import gradstep.layers
import gradstep.models
import gradstep.optimizers

from . import scenarios

DATA = Path(__file__).with_name("data")
FILES = sorted(DATA.glob("*.json"))
RTOL = 1e-9
ATOL = 1e-12


def _library() -> Any:
    """``gradstep`` with its optional submodules imported (when they exist)."""
    import importlib

    for module in ("constraints", "utils", "callbacks"):
        try:
            importlib.import_module(f"gradstep.{module}")
        except ImportError:
            pass
    return gradstep


def _missing(config: dict[str, Any]) -> str | None:
    """What gradstep lacks for this scenario, by name (None: everything is there)."""
    needs = []
    if config.get("functional"):
        needs += [("layers", "Input"), ("models", "Model"), ("layers", "concatenate")]
    for spec in config.get("layers", []):
        if spec["type"] != "Dense":
            needs.append(("layers", spec["type"]))
        for key in ("kernel_constraint", "bias_constraint"):
            if key in spec:
                needs.append(("constraints", spec[key][0]))
    if config.get("generator"):
        needs.append(("utils", "Sequence"))
    if config.get("callbacks"):
        needs.append(("callbacks", "LearningRateScheduler"))
    for module, name in needs:
        if not hasattr(getattr(gradstep, module, None), name):
            return f"gradstep.{module}.{name}"
    return None


def _run(config: dict[str, Any], expected: dict[str, Any]) -> tuple[Any, Any, list]:
    """The scenario trained by gradstep: (model, History, warning messages)."""
    k = _library()
    try:
        model = scenarios.build(k, config)
        scenarios.set_initial(model, expected["initial_weights"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = scenarios.train(k, model, config, expected["data"])
    except (ValueError, TypeError) as exc:
        if "not supported" in str(exc):
            pytest.skip(f"gradstep does not support this yet: {exc}")
        raise
    wanted = config.get("keras_warns")
    for w in caught:  # only the warnings Keras 2.2.4 gives too
        if wanted is None or wanted not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model, history, [str(w.message) for w in caught]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_matches_keras_224(path: Path) -> None:
    expected = json.loads(path.read_text())
    assert expected["keras_version"] == "2.2.4" and expected["floatx"] == "float64"
    config = expected["config"]
    missing = _missing(config)
    if missing:
        pytest.skip(f"{missing} does not exist yet")
    gradstep.backend.set_floatx("float64")
    model, history, _ = _run(config, expected)
    got = history.history
    extra = sorted(set(got) - set(expected["history"]))
    assert not extra, f"History keys Keras 2.2.4 does not have: {extra}"
    missing = sorted(set(expected["history"]) - set(got))
    for key, values in expected["history"].items():
        if key in missing:
            continue
        np.testing.assert_allclose(
            got[key], values, rtol=RTOL, atol=ATOL, err_msg=f"History {key!r}"
        )
    got_results = scenarios.results(model, config, expected["data"])
    for key, values in expected["results"].items():
        np.testing.assert_allclose(
            got_results[key], values, rtol=RTOL, atol=ATOL, err_msg=key
        )
    weights = scenarios.layer_weights(model)
    assert sorted(weights) == sorted(expected["final_weights"])
    for name, arrays in expected["final_weights"].items():
        assert len(weights[name]) == len(arrays), name
        for i, (w, e) in enumerate(zip(weights[name], arrays)):
            np.testing.assert_allclose(
                w, np.asarray(e), rtol=RTOL, atol=ATOL, err_msg=f"{name} weight {i}"
            )
    if missing:  # every number matched; only these History entries are absent
        pytest.skip(f"gradstep's History lacks Keras 2.2.4's {missing}")


def test_every_scenario_has_data() -> None:
    assert sorted(p.stem for p in FILES) == sorted(scenarios.SCENARIOS)


WARNS = [p for p in FILES if "keras_warns" in json.loads(p.read_text())["config"]]


@pytest.mark.parametrize("path", WARNS, ids=[p.stem for p in WARNS])
def test_warns_as_keras_224(path: Path) -> None:
    """Where Keras 2.2.4 warns (sample_weight with class_weight: class_weight is
    ignored), gradstep warns too; skipped, naming the warning, while it does not."""
    expected = json.loads(path.read_text())
    config = expected["config"]
    gradstep.backend.set_floatx("float64")
    _, _, messages = _run(config, expected)
    if not any(config["keras_warns"] in m for m in messages):
        pytest.skip(
            f"gradstep does not warn {config['keras_warns']!r} as Keras 2.2.4 does "
            "(the numbers match: class_weight is ignored)"
        )
