"""Every optimizer's host-side coefficients can be traced: they are computed with the
rule language alone (operators, ``**`` and ``elementwise``'s functions), never with the
``math`` module or ``float()`` of a counter, so a tracing front end (JAX under ``jit``)
runs the very functions the NumPy engines run.

The check traces each optimizer's ``coefficients`` and ``next_scalars`` with stand-ins
for traced values: numbers that record arithmetic but refuse to become Python floats,
ints or bools, as a JAX tracer does, and compares the result with the plain values.
"""

from __future__ import annotations

import json
import math
import operator
import types

import pytest

from gradstep import optimizers
from gradstep.kernels.elementwise import rebind

from ._golden import flavour_files, load_case
from .cases import all_configs, config_ids


def _flavour_configs():
    """Every configuration of the frameworks' golden files, one per distinct config."""
    seen = {}
    for path in flavour_files():
        case = load_case(path)
        config = {"lr": 0.01, **case["config"]}
        seen.setdefault(
            json.dumps([case["optimizer"], config], sort_keys=True),
            (case["optimizer"].lower(), config),
        )
    return list(seen.values())


CONFIGS = all_configs() + _flavour_configs()


class Traced:
    """A number a tracer would hold: arithmetic works, conversion does not."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def _op(op, swap=False):  # noqa: N805 - builds the methods below
        def method(self, other):
            a = self.value
            b = other.value if isinstance(other, Traced) else other
            if isinstance(b, bool) or not isinstance(b, (int, float)):
                return NotImplemented
            return Traced(op(b, a) if swap else op(a, b))

        return method

    __add__, __radd__ = _op(operator.add), _op(operator.add, True)
    __sub__, __rsub__ = _op(operator.sub), _op(operator.sub, True)
    __mul__, __rmul__ = _op(operator.mul), _op(operator.mul, True)
    __truediv__, __rtruediv__ = _op(operator.truediv), _op(operator.truediv, True)
    __pow__, __rpow__ = _op(operator.pow), _op(operator.pow, True)

    def __neg__(self):
        return Traced(-self.value)

    def _refuse(self, *args):
        raise TypeError("a traced value cannot be converted to a Python number")

    __float__ = __int__ = __index__ = __bool__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse


def _sqrt(x):
    return Traced(math.sqrt(x.value)) if isinstance(x, Traced) else math.sqrt(x)


def _minimum(a, b):
    low = min(_plain(a), _plain(b))
    return Traced(low) if isinstance(a, Traced) or isinstance(b, Traced) else low


def _plain(value):
    return value.value if isinstance(value, Traced) else value


@pytest.mark.parametrize("name,config", CONFIGS, ids=config_ids(CONFIGS))
def test_coefficients_trace(name, config):
    opt = optimizers.get({"class_name": name, "config": config})
    t, lr = 3, 0.01
    scalars = {k: 0.7 for k in opt.scalar_state}
    want = opt.coefficients(t, lr, scalars)
    want_next = opt.next_scalars(t, scalars)

    hyper = {key: Traced(getattr(opt, key)) for key in opt.config_keys}
    hyper = {
        k: (getattr(opt, k) if isinstance(getattr(opt, k), bool) else v)
        for k, v in hyper.items()
    }
    traced_self = types.SimpleNamespace(**hyper, **opt.fixed_hyperparameters())
    coefficients_fn, next_scalars_fn = opt.step_functions()
    coefficients = rebind(coefficients_fn, sqrt=_sqrt, minimum=_minimum)
    next_scalars = rebind(next_scalars_fn, sqrt=_sqrt, minimum=_minimum)
    traced_scalars = {k: Traced(v) for k, v in scalars.items()}
    got = coefficients(traced_self, Traced(t), Traced(lr), traced_scalars)
    got_next = next_scalars(traced_self, Traced(t), traced_scalars)

    assert type(got) is type(want)
    for field, a, b in zip(want._fields, map(_plain, got), want):
        assert a == pytest.approx(b, rel=1e-15), field
    assert {k: _plain(v) for k, v in got_next.items()} == pytest.approx(want_next)


def test_the_stand_in_refuses_what_a_tracer_refuses():
    with pytest.raises(TypeError):
        math.sqrt(Traced(2.0))
    with pytest.raises(TypeError):
        float(Traced(2.0))
