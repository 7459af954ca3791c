"""Optimizer specs, option values and config files: accepted forms and error messages."""

from __future__ import annotations

import json

import pytest

from gradstep import optimizers
from gradstep.lab._errors import LabError
from gradstep.lab.options import load_config, to_float, to_int, to_int_list, to_pair
from gradstep.lab.specs import default_specs, resolve_specs, split_specs


def test_spec_settings_reach_the_optimizer():
    (spec,) = resolve_specs(["adam:lr=3e-4,beta_1=0.8,amsgrad=true,clipnorm=1"])
    opt = spec.build()
    assert isinstance(opt, optimizers.Adam)
    config = opt.get_config()
    assert (
        config["lr"] == 3e-4 and config["beta_1"] == 0.8 and config["amsgrad"] is True
    )
    assert config["clipnorm"] == 1
    assert spec.label == "adam(lr=0.0003,beta_1=0.8,amsgrad=True,clipnorm=1)"
    assert spec.serialized() == {"class_name": "Adam", "config": config}


def test_several_specs_in_one_argument():
    assert split_specs("rmsprop, adam:lr=1e-3,beta_1=0.8 ,adamax") == [
        "rmsprop",
        "adam:lr=1e-3,beta_1=0.8",
        "adamax",
    ]
    specs = resolve_specs(
        ["rmsprop,adam:lr=1e-3,beta_1=0.8,adamax", "SGD:momentum=0.9"]
    )
    assert [s.label for s in specs] == [
        "rmsprop",
        "adam(lr=0.001,beta_1=0.8)",
        "adamax",
        "sgd(momentum=0.9)",
    ]


def test_mapping_entries_from_config_files():
    specs = resolve_specs(
        [
            {
                "name": "sgd",
                "lr": 0.1,
                "nesterov": True,
                "momentum": 0.9,
                "label": "nag",
            },
            {"class_name": "Adam", "config": {"lr": 0.01}},
        ]
    )
    assert [s.label for s in specs] == ["nag", "adam(lr=0.01)"]
    assert specs[0].build().get_config()["nesterov"] is True


def test_defaults_are_every_registered_optimizer():
    assert [s.label for s in default_specs()] == optimizers.registered_names()
    assert all(s.settings == {} for s in default_specs())


@pytest.mark.parametrize(
    ("item", "pattern"),
    [
        (
            "adamw",
            "unknown optimizer 'adamw'; known optimizers: adadelta, adagrad, adam, "
            "adamax, nadam, rmsprop, sgd",
        ),
        (
            "adam:lr=-1",
            "optimizer 'adam': bad setting 'lr': lr must be a finite number >= 0",
        ),
        ("adam:beta_1=1.5", r"bad setting 'beta_1': beta_1 must be in \[0, 1\)"),
        (
            "adam:foo=1",
            "optimizer 'adam': unknown setting 'foo'; Adam accepts lr, beta_1",
        ),
        ("adam:lr=fast", "setting 'lr' has value 'fast', which is not a number"),
        ("adam:lr", "malformed setting 'lr'; expected key=value"),
        ("adam:lr=", "malformed setting 'lr='"),
        ("adam:lr=1,lr=2", "setting 'lr' is given twice"),
        ("adam:lr=inf", "setting 'lr' must be a finite number"),
        ("lr=3,adam", "setting 'lr=3' comes before any optimizer name"),
        ("sgd:nesterov=2", "bad setting 'nesterov': nesterov must be True or False"),
        ("adam,adam", "optimizer 'adam' is listed twice"),
        ({"lr": 1}, "has no 'name'"),
        (3, "must be a string or a mapping"),
    ],
)
def test_spec_errors_name_the_key_and_reason(item, pattern):
    with pytest.raises(LabError, match=pattern):
        resolve_specs([item])


def test_option_values():
    assert to_int("epochs", "3") == 3
    assert to_int_list("seeds", "0, 1,2") == [0, 1, 2]
    assert to_int_list("seeds", [4, 5]) == [4, 5]
    assert to_pair("start", "-1.5,2") == (-1.5, 2.0)
    assert to_float("dropout", "0.25", 0, 1, open_high=True) == 0.25
    with pytest.raises(LabError, match="--epochs must be an integer >= 1, got 0"):
        to_int("epochs", 0)
    with pytest.raises(LabError, match="--epochs must be an integer >= 1, got 2.5"):
        to_int("epochs", 2.5)
    with pytest.raises(
        LabError, match=r"--dropout must be a number in \[0, 1\), got 1"
    ):
        to_float("dropout", 1, 0, 1, open_high=True)
    with pytest.raises(LabError, match="--start must be two numbers X,Y"):
        to_pair("start", "1")
    with pytest.raises(LabError, match="--seeds must be an integer >= 0, got 'a'"):
        to_int_list("seeds", "0,a")


def test_config_files(tmp_path):
    allowed = {"epochs": 1, "batch_size": 1, "optimizers": 1}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 2, "batch-size": 8, "optimizers": ["adam"]}))
    assert load_config(path, allowed) == {
        "epochs": 2,
        "batch_size": 8,
        "optimizers": ["adam"],
    }
    yaml = pytest.importorskip("yaml")
    ypath = tmp_path / "c.yaml"
    ypath.write_text(
        yaml.safe_dump({"epochs": 3, "optimizers": [{"name": "sgd", "lr": 0.1}]})
    )
    assert load_config(ypath, allowed)["optimizers"] == [{"name": "sgd", "lr": 0.1}]
    path.write_text(json.dumps({"epoch": 2}))
    with pytest.raises(
        LabError, match="unknown option 'epoch'; known options: batch_size"
    ):
        load_config(path, allowed)
    path.write_text("{not json")
    with pytest.raises(LabError, match="is not valid JSON"):
        load_config(path, allowed)
    path.write_text("[1, 2]")
    with pytest.raises(LabError, match="must hold a mapping"):
        load_config(path, allowed)
    with pytest.raises(LabError, match="cannot read config file"):
        load_config(tmp_path / "none.json", allowed)


def test_yaml_without_pyyaml_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_yaml(name, *args, **kwargs):
        if name == "yaml":
            raise ImportError("no yaml")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    (tmp_path / "c.yml").write_text("epochs: 2\n")
    with pytest.raises(LabError, match=r'needs PyYAML \(pip install -e "\.\[lab\]"'):
        load_config(tmp_path / "c.yml", {"epochs": 1})
