"""get_config / from_config, get / serialize / deserialize, the registry and aliases."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.optimizers import _registry

from .cases import CASES

BUILTIN = sorted(CASES)


@pytest.mark.parametrize("name", BUILTIN)
def test_default_config_keys_order_and_values(name):
    config = optimizers.get(name).get_config()
    assert list(config) == list(CASES[name].defaults)
    assert config == CASES[name].defaults


def test_config_holds_values_given_and_clip_keys_first():
    config = optimizers.SGD(
        clipnorm=1, clipvalue=0.5, nesterov=1, momentum=1
    ).get_config()
    assert config == {
        "clipnorm": 1,
        "clipvalue": 0.5,
        "lr": 0.01,
        "momentum": 1.0,
        "decay": 0.0,
        "nesterov": 1,
    }
    assert list(config)[:2] == ["clipnorm", "clipvalue"]


def test_config_shows_current_lr():
    opt = optimizers.Adam()
    opt.lr = 0.5
    assert opt.get_config()["lr"] == 0.5


def test_engine_never_in_config():
    assert "engine" not in optimizers.Adam(engine="reference").get_config()


def test_learning_rate_alias():
    assert optimizers.Adam(learning_rate=0.3).lr == 0.3
    assert optimizers.Adam(lr=0.3, learning_rate=0.3).lr == 0.3
    with pytest.raises(ValueError, match="lr and learning_rate"):
        optimizers.Adam(lr=0.3, learning_rate=0.2)
    with pytest.raises(ValueError, match="lr and learning_rate"):
        optimizers.Adam(lr=0.001, learning_rate=0.2)


@pytest.mark.parametrize("name", BUILTIN)
def test_config_round_trip_gives_same_trajectory(name):
    rng = np.random.default_rng(1)
    opt = optimizers.get(name)
    opt.lr = 0.05
    twin = optimizers.deserialize(optimizers.serialize(opt))
    assert twin.get_config() == opt.get_config() and twin is not opt
    a, b = rng.normal(size=(3, 4)), None
    b = a.copy()
    for _ in range(5):
        g = rng.normal(size=a.shape)
        opt.apply_gradients([(g, a)])
        twin.apply_gradients([(g, b)])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "spelling",
    ["sgd", "SGD", "Sgd", "RMSprop", "RMSProp", "ADAM", "nAdAm", "Adadelta", "adamax"],
)
def test_get_by_name_is_case_insensitive_and_fresh(spelling):
    first, second = optimizers.get(spelling), optimizers.get(spelling)
    assert first is not second
    assert type(first).__name__.lower() == spelling.lower()


def test_get_instance_is_returned_unchanged():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt


def test_get_dict_and_deserialize_do_not_mutate():
    config = {"class_name": "Adam", "config": {"lr": 0.1}}
    opt = optimizers.get(config)
    assert config == {"class_name": "Adam", "config": {"lr": 0.1}}
    assert isinstance(opt, optimizers.Adam) and opt.lr == 0.1


@pytest.mark.parametrize("name", ["rms_prop", "Adamw", "ftrl", "Optimizer"])
def test_unknown_names_list_the_known_ones(name):
    with pytest.raises(
        ValueError, match=f"Unknown optimizer: {name}. Known optimizers: .*adam"
    ):
        optimizers.get(name)


@pytest.mark.parametrize("identifier", [None, 5, 1.5, ["adam"]])
def test_uninterpretable_identifiers(identifier):
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(identifier)


def test_deserialize_format_errors():
    with pytest.raises(ValueError, match="class_name"):
        optimizers.deserialize({"config": {}})
    with pytest.raises(ValueError, match="Improper config format"):
        optimizers.deserialize({"class_name": "adam"})
    with pytest.raises(ValueError, match="'config' must be a dict"):
        optimizers.deserialize({"class_name": "adam", "config": "lr=1"})
    with pytest.raises(
        TypeError, match="Unexpected keyword argument passed to optimizer: foo"
    ):
        optimizers.deserialize({"class_name": "adam", "config": {"foo": 1}})


def test_custom_objects_take_precedence_and_nothing_else_is_built():
    class MyAdam(optimizers.Adam):
        pass

    opt = optimizers.deserialize({"class_name": "Adam", "config": {}}, {"Adam": MyAdam})
    assert type(opt) is MyAdam
    with pytest.raises(ValueError, match="Unknown optimizer: os.system"):
        optimizers.deserialize({"class_name": "os.system", "config": {}})
    with pytest.raises(TypeError, match="not an Optimizer subclass"):
        optimizers.deserialize({"class_name": "evil", "config": {}}, {"evil": dict})


def test_lower_case_aliases_are_the_classes():
    for name in BUILTIN:
        cls = getattr(optimizers, name)
        assert cls is _registry.lookup(name)
        assert cls.__name__.lower() == name


def test_registering_a_taken_name_with_another_class_fails():
    with pytest.raises(ValueError, match="already registered as 'adam'"):
        optimizers.register("adam")(type("Other", (optimizers.Optimizer,), {}))
