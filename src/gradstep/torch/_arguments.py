"""torch.optim's argument names for gradstep.torch optimizers, and the torch-only flags.

``normalize(keras_class, arguments, where)`` turns a constructor's keyword arguments, or a
param-group dict, into the names a param group holds:

- ``eps`` -> ``epsilon``, ``alpha`` -> ``rho`` (RMSprop), ``momentum_decay`` ->
  ``schedule_decay`` (Nadam), ``learning_rate`` -> ``lr``: the same quantity under
  torch's (or Keras 2.3's) name. Giving both forms with different values is an error.
- ``beta_1``/``beta_2`` -> ``betas`` for the optimizers that have both (Adam, Adamax,
  Nadam): the group holds the pair under torch's name only, so lr schedulers that cycle
  ``group["betas"][0]`` (``OneCycleLR``, ``CyclicLR``) change what the next step uses
  and there is one source of truth. ``KerasTorchOptimizer.keras_for`` reads it back.
- ``lr_decay`` -> ``decay`` (Adagrad: torch's name for its learning-rate decay).
- the knobs only some flavours have (``initial_accumulator_value`` of Adagrad,
  ``dampening`` of SGD, ``momentum``/``centered`` of RMSprop): kept where the flavour
  has them (they are then hyperparameters of every group); elsewhere only the value that
  means "off" is accepted, and dropped (Keras 2.2's accumulators start at zero, so
  there ``initial_accumulator_value`` may only be 0).
- ``flavour`` and ``global_clipnorm`` are settings of the whole optimizer, as
  ``clipnorm`` and ``clipvalue`` are (kept in every group and the defaults).
- ``weight_decay``, ``foreach``, ``fused``, ``maximize``, ``capturable``,
  ``differentiable``, ``decoupled_weight_decay`` (torch's Adam and NAdam have it, so
  their ``defaults`` hold it): accepted when off (``False``/``None``/0) and dropped; any
  other value raises ``ValueError`` saying what gradstep does instead.

A group that gets one of torch's names after it was made (``group["eps"] = x``,
``group["weight_decay"] = x``, as code written for torch.optim does) is refused at the
step when the alias disagrees with the group's own key or the flag is on
(``keras_hyperparameters``): the step reads only the group's own keys.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch

from ..optimizers._flavours import DEFAULT_FLAVOUR

__all__ = [
    "BETAS",
    "check_tensor_lr",
    "flavour_of",
    "group_keys",
    "group_names",
    "has_betas",
    "keras_hyperparameters",
    "name_torch_names",
    "normalize",
    "split_betas",
    "stray_names",
    "torch_names_given",
]

BETAS = "betas"
# torch (or Keras 2.3) name -> Keras 2.2 name, where both mean the same quantity
_ALIASES = {
    "eps": "epsilon",
    "alpha": "rho",
    "momentum_decay": "schedule_decay",
    "learning_rate": "lr",
    "lr_decay": "decay",
}
# aliases that only some optimizers have (torch's own optimizer of that name)
_ALIAS_OWNERS = {"lr_decay": ("Adagrad",)}
_OFF_ONLY = {
    "weight_decay": (
        "Keras 2.2's optimizers have no weight decay; add an L2 term to the loss "
        "(or use torch.optim.AdamW)"
    ),
    "foreach": "gradstep picks its own kernels; choose them with engine=",
    "fused": "gradstep's CPU steps are fused numba kernels already; use engine='fused'",
    "maximize": "gradstep minimizes; negate the loss instead",
    "capturable": "gradstep keeps its step counter on the host (param_groups)",
    "differentiable": "gradstep's step runs under torch.no_grad()",
    "decoupled_weight_decay": (
        "Keras 2.2's optimizers have no weight decay, decoupled or not (use "
        "torch.optim.AdamW)"
    ),
}


def flavour_of(value: Any) -> str:
    """A group's (or state dict group's) flavour: ``value``, or "keras22" when None
    (dicts written before flavours existed)."""
    return DEFAULT_FLAVOUR if value is None else value


def has_betas(keras: Any) -> bool:
    """Whether the optimizer's groups hold ``betas`` instead of ``beta_1``/``beta_2``
    (``keras``: a NumPy optimizer, whose ``config_keys`` depend on its flavour, or a
    class)."""
    keys = keras.config_keys
    return "beta_1" in keys and "beta_2" in keys


def group_keys(keras: Any) -> tuple[str, ...]:
    """The hyperparameter names a param group holds (``keras``: a NumPy optimizer of
    the group's flavour, or a class)."""
    keys = keras.config_keys
    if not has_betas(keras):
        return tuple(keys)
    out = [k for k in keys if k != "beta_2"]
    return tuple(BETAS if k == "beta_1" else k for k in out)


def split_betas(value: Any, where: str) -> tuple[Any, Any]:
    """``(beta_1, beta_2)`` from a ``betas`` value, or ``ValueError``."""
    if isinstance(value, torch.Tensor) and value.numel() == 2:
        value = value.tolist()
    if isinstance(value, (str, bytes, Mapping)):
        value = None
    try:
        beta_1, beta_2 = value
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}betas must be a pair (beta_1, beta_2), got {value!r}"
        ) from None
    return _scalar(beta_1), _scalar(beta_2)


def check_tensor_lr(value: Any, where: str = "") -> None:
    """torch's rule: a tensor lr must have one element."""
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        raise ValueError(f"{where}Tensor lr must be 1-element")


def normalize(
    keras_class: type,
    arguments: dict[str, Any],
    where: str = "",
    betas: tuple[Any, Any] | None = None,
    keys: tuple[str, ...] | None = None,
    flavour: str | None = None,
) -> None:
    """Rewrite ``arguments`` (in place) to a group's names; ``where`` prefixes messages
    ("param group 1: "); ``betas``: the pair a lone ``beta_1`` or ``beta_2`` completes
    (the NumPy class's defaults when None); ``keys``: the hyperparameters the groups
    hold (the ``config_keys`` of an optimizer of the flavour; the class's when None);
    ``flavour``: the optimizer's. Raises ``ValueError`` before changing anything."""
    updates: dict[str, Any] = {}
    drop: list[str] = []
    name_of_class = keras_class.__name__
    flavour = flavour_of(flavour)
    if keys is None:
        keys = keras_class.config_keys
    for name in _OFF_ONLY:
        if name in arguments:
            _refuse_on(name, arguments[name], where)
            drop.append(name)
    drop.extend(_knobs(keras_class, arguments, where, flavour))
    for torch_name, keras_name in _ALIASES.items():
        if torch_name not in arguments:
            continue
        owners = _ALIAS_OWNERS.get(torch_name)
        if keras_name not in keys or (
            owners is not None and not _is_one_of(keras_class, owners)
        ):
            raise ValueError(
                f"{where}{name_of_class} has no {torch_name!r} (it would be "
                f"{keras_name!r}); its hyperparameters are {', '.join(keys)}"
            )
        value = arguments[torch_name]
        if keras_name in arguments and not _same(arguments[keras_name], value):
            raise ValueError(
                f"{where}{torch_name}={value!r} and {keras_name}="
                f"{arguments[keras_name]!r} are one setting; give one of them"
            )
        updates[keras_name] = value
        drop.append(torch_name)
    if "beta_1" in keys and "beta_2" in keys:
        pair = _betas_of(arguments, where, betas or _default_betas(keras_class))
        if pair is not None:
            updates[BETAS] = pair
        drop.extend(k for k in ("beta_1", "beta_2") if k in arguments)
    elif BETAS in arguments:
        raise ValueError(
            f"{where}{name_of_class} has no 'betas'; its hyperparameters are "
            f"{', '.join(keys)}"
        )
    for name in drop:
        arguments.pop(name, None)
    arguments.update(updates)


def _refuse_on(name: str, value: Any, where: str) -> None:
    """``ValueError`` unless the torch-only flag ``name`` is off (None/False/0)."""
    if value is not None and (isinstance(value, torch.Tensor) or value != 0):
        raise ValueError(
            f"{where}{name}={value!r} is not supported: {_OFF_ONLY[name]}; pass "
            f"{name}=None or False (or leave it out)"
        )


def _knobs(
    keras_class: type, arguments: Mapping[str, Any], where: str, flavour: str
) -> list[str]:
    """The knobs among ``arguments`` to drop: those the flavour has not, when "off"
    (others raise ``ValueError``). The flavour's own knobs stay."""
    drop = []
    variant = keras_class.flavours.get(flavour)
    knobs = {} if variant is None else variant.knobs
    off = dict(getattr(keras_class, "knobs_off", {}))
    for name in [*off, "initial_accumulator_value"]:
        if name not in arguments or name in knobs or name in drop:
            continue
        value = arguments[name]
        if name == "initial_accumulator_value" and (
            name in off or "accumulator" in _slot_names(keras_class)
        ):
            if not _is_zero(value):
                having = _flavours_with(keras_class, name)
                raise ValueError(
                    f"{where}initial_accumulator_value={value!r} is not supported "
                    f"with flavour={flavour!r}: Keras 2.2's accumulators start at 0; "
                    "pass 0 (or leave it out)"
                    + (f", or one of flavour={', '.join(having)}" if having else "")
                )
        elif name == "initial_accumulator_value":
            raise ValueError(
                f"{where}initial_accumulator_value={value!r} is not supported: "
                f"{keras_class.__name__} has no accumulator"
            )
        elif not _same(value, off[name]) or isinstance(value, str):
            having = _flavours_with(keras_class, name)
            raise ValueError(
                f"{where}{keras_class.__name__}(flavour={flavour!r}) has no {name} "
                f"(only {name}={off[name]!r}); flavours with it: {', '.join(having)}"
            )
        drop.append(name)
    return drop


def _flavours_with(keras_class: type, name: str) -> list[str]:
    return [f for f, v in keras_class.flavours.items() if name in v.knobs]


def _is_one_of(keras_class: type, names: tuple[str, ...]) -> bool:
    return any(klass.__name__ in names for klass in keras_class.__mro__)


def keras_hyperparameters(
    keras_class: type, group: Mapping[str, Any], where: str, keys: tuple[str, ...]
) -> dict[str, Any]:
    """The NumPy class's keyword arguments from a param group (``betas`` split,
    1-element tensors read as numbers), for the hyperparameters ``keys`` (an optimizer's
    ``config_keys``); ``ValueError`` for a missing key, a multi-element tensor lr, a
    stray ``beta_1``/``beta_2`` that disagrees with ``betas``, or a stray torch name
    (``eps``, ``weight_decay``, ...) that the step would ignore."""
    hyper: dict[str, Any] = {}
    names = group_names(keys)
    for key in names:
        if key not in group:
            raise ValueError(
                f"{where}the group has no {key!r}; {keras_class.__name__} groups hold "
                f"{', '.join(names)}"
            )
        value = group[key]
        if key == BETAS:
            hyper["beta_1"], hyper["beta_2"] = split_betas(value, where)
            for name in ("beta_1", "beta_2"):
                if name in group and not _same(group[name], hyper[name]):
                    raise ValueError(
                        f"{where}{name}={group[name]!r} disagrees with betas="
                        f"{value!r}; the group holds the pair as betas: set that"
                    )
            continue
        if key == "lr":
            check_tensor_lr(value, where)
        hyper[key] = _scalar(value)
    _refuse_strays(keras_class, group, where, names)
    return hyper


def _refuse_strays(
    keras_class: type, group: Mapping[str, Any], where: str, names: tuple[str, ...]
) -> None:
    """``ValueError`` for torch's names put in a group after it was made (code
    written for torch.optim setting ``group["eps"]`` or ``group["weight_decay"]``),
    which the step would not read: an alias that disagrees with the group's own key,
    a flag that is on, a knob the flavour has not that is not off."""
    for torch_name, keras_name in _ALIASES.items():
        if torch_name not in group or keras_name not in names:
            continue
        owners = _ALIAS_OWNERS.get(torch_name)
        if owners is not None and not _is_one_of(keras_class, owners):
            continue
        if not _same(group[torch_name], group[keras_name]):
            raise ValueError(
                f"{where}{torch_name}={group[torch_name]!r} disagrees with "
                f"{keras_name}={group[keras_name]!r}; the group holds it as "
                f"{keras_name}: set that"
            )
    for name in _OFF_ONLY:
        if name in group:
            _refuse_on(name, group[name], where)
    _knobs(keras_class, group, where, flavour_of(group.get("flavour")))


def stray_names(keras_class: type) -> tuple[str, ...]:
    """The names that ``keras_hyperparameters`` checks in a group of
    ``keras_class`` besides its own keys: torch's aliases and torch-only flags, and
    the knobs of other flavours (``group["momentum"] = 0.9`` on an RMSprop whose
    flavour has none)."""
    knobs = tuple(getattr(keras_class, "knobs_off", {}))
    return (*_ALIASES, *_OFF_ONLY, *knobs, "initial_accumulator_value")


def group_names(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The group keys of an optimizer's ``config_keys``: ``beta_1``/``beta_2`` as one
    ``betas``."""
    if "beta_1" not in keys or "beta_2" not in keys:
        return tuple(keys)
    return tuple(BETAS if k == "beta_1" else k for k in keys if k != "beta_2")


def _default_betas(keras_class: type) -> tuple[Any, Any]:
    parameters = inspect.signature(keras_class.__init__).parameters
    return (parameters["beta_1"].default, parameters["beta_2"].default)


def _betas_of(
    arguments: Mapping[str, Any], where: str, fallback: tuple[Any, Any]
) -> tuple[Any, Any] | None:
    """The ``betas`` pair given by ``betas`` and/or ``beta_1``/``beta_2`` (None when
    neither is given; ``fallback`` completes a lone one); both forms must agree."""
    given = {k: arguments[k] for k in ("beta_1", "beta_2") if k in arguments}
    if BETAS not in arguments:
        if not given:
            return None
        return (given.get("beta_1", fallback[0]), given.get("beta_2", fallback[1]))
    value = arguments[BETAS]
    tensors = _tensor_pair(value)
    if tensors is not None and len(set(tensors)) == 2:
        raise ValueError(
            f"{where}betas must be either both floats or both Tensors (as torch "
            f"requires), got {value!r}"
        )
    pair = split_betas(value, where)
    for index, name in enumerate(("beta_1", "beta_2")):
        if name in given and not _same(given[name], pair[index]):
            raise ValueError(
                f"{where}betas={arguments[BETAS]!r} and {name}={given[name]!r} are one "
                "setting; give one of them"
            )
    if tensors == (True, True):
        for index, beta in enumerate(value):
            if beta.numel() != 1:
                raise ValueError(
                    f"{where}Tensor betas[{index}] must be 1-element, got shape "
                    f"{tuple(beta.shape)}"
                )
        return tuple(value)  # kept as given, as torch does: read at every step
    return pair


def _tensor_pair(value: Any) -> tuple[bool, bool] | None:
    """For a ``betas`` pair given as a tuple or list: which of the two are tensors."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(isinstance(v, torch.Tensor) for v in value)  # type: ignore[return-value]
    return None


def torch_names_given(arguments: Mapping[str, Any]) -> dict[str, str]:
    """The hyperparameters ``arguments`` gives under torch's names: {the name the
    group holds: how it was given ("lr_decay=-0.5")}, for ``name_torch_names``."""
    out = {}
    for torch_name, keras_name in _ALIASES.items():
        if torch_name in arguments:
            out[keras_name] = f"{torch_name}={arguments[torch_name]!r}"
    if BETAS in arguments:
        out["beta_1"] = out["beta_2"] = f"{BETAS}={arguments[BETAS]!r}"
    return out


def name_torch_names(
    error: ValueError, given: Mapping[str, str], where: str = ""
) -> ValueError | None:
    """``error`` (a validation error of the NumPy class, naming its own name:
    "decay must be ...") reworded to name the torch name the value was given under
    ("lr_decay=-0.5 (gradstep's decay): decay must be ..."); None when it is about
    none of ``given``."""
    message = str(error)
    body = message[len(where) :] if message.startswith(where) else message
    for keras_name, how in given.items():
        if body.startswith(f"{keras_name} "):
            return type(error)(f"{where}{how} (gradstep's {keras_name}): {body}")
    return None


def _slot_names(keras_class: type) -> tuple[str, ...]:
    return keras_class(engine="reference").slot_names()


def _scalar(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def _is_zero(value: Any) -> bool:
    value = _scalar(value)
    return not isinstance(value, (bool, str)) and _same(value, 0.0)


def _same(a: Any, b: Any) -> bool:
    a, b = _scalar(a), _scalar(b)
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):
        return False
