"""gradstep.torch against torch's own optimizer test database.

``torch.testing._internal.common_optimizers.optim_db`` lists, per torch.optim optimizer,
the constructor kwargs torch's test suite sweeps (``optim_inputs_func``, plus the
foreach/fused/differentiable variants of ``_get_optim_inputs_including_global_cliquey_
kwargs``) and the bad inputs with the exception torch expects
(``optim_error_inputs_func``). For each optimizer gradstep.torch mirrors, every input is
one test:

1. inputs gradstep supports run 9 steps in float64 through
   ``gradstep.torch.<X>(params, flavour="torch", **kwargs)`` and ``torch.optim.<X>``,
   comparing the parameters and ``state_dict()`` (groups and state) every step;
2. inputs with a flag gradstep refuses (``weight_decay`` != 0, ``maximize``,
   ``capturable``, ``differentiable``, ``foreach``, ``fused``,
   ``decoupled_weight_decay``: README, "Names") raise ``ValueError`` naming each such
   flag, in the constructor, in a group dict and in a group edited before a step (which
   leaves everything as it was); the rest of the input then runs as in 1;
3. torch's error inputs raise torch's exception type (or a subclass) before anything
   changes, with a message naming the argument given.

Inputs torch's suite sweeps only on CUDA or MPS are included (they run on CPU here:
gradstep refuses ``capturable`` on any device, torch.optim takes the rest on CPU).
The documented differences (README.md, docs/flavours.md) are the ``DELIBERATE``
expectations below, each checked where it shows.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch's test utilities import it

import gradstep.torch as gtorch  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # whatever torch's test utilities warn at import
    common = pytest.importorskip("torch.testing._internal.common_optimizers")


# torch.optim's name -> gradstep.torch's (src/gradstep/torch/__init__.py: the registry)
GRADSTEP_NAME = {
    "Adadelta": "Adadelta",
    "Adagrad": "Adagrad",
    "Adam": "Adam",
    "Adamax": "Adamax",
    "NAdam": "Nadam",
    "RMSprop": "RMSprop",
    "SGD": "SGD",
}
# torch's flags gradstep accepts only when off (False/None/0): README, "Names"
OFF_ONLY = (
    "weight_decay",
    "foreach",
    "fused",
    "maximize",
    "capturable",
    "differentiable",
    "decoupled_weight_decay",
)
# torch's group key -> gradstep's (the same quantity under Keras's name)
GROUP_KEY = {"eps": "epsilon", "lr_decay": "decay", "momentum_decay": "schedule_decay"}
GROUP_KEY_OF = {"RMSprop": {"alpha": "rho"}}
# torch's state key -> gradstep's slot (docs/flavours.md, the slots columns)
SLOTS = {
    "Adadelta": {"square_avg": "accumulator", "acc_delta": "delta_accumulator"},
    "Adagrad": {"sum": "accumulator"},
    "Adam": {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "vhat"},
    "Adamax": {"exp_avg": "m", "exp_inf": "u"},
    "NAdam": {"exp_avg": "m", "exp_avg_sq": "v"},
    "RMSprop": {
        "square_avg": "accumulator",
        "grad_avg": "mg",
        "momentum_buffer": "momentum",
    },
    "SGD": {"momentum_buffer": "moment"},
}
# The documented differences, each asserted where it shows:
DELIBERATE = {
    # README "Names": off flags are dropped, so torch's groups hold them, gradstep's not
    "off_flags_dropped": "gradstep's groups hold no weight_decay/foreach/... (dropped)",
    # README "state[p]['step']": a 0-dim float32 tensor, the parameter's own count
    # with flavour="torch" (torch: a float tensor in the default dtype)
    "step_float32": "state[p]['step'] is float32, the parameter's count",
    # docs/flavours.md, Nadam: torch's per-parameter mu_product is gradstep's
    # per-parameter m_schedule (a float64 tensor; torch's is in the default dtype)
    "nadam_m_schedule": "torch's mu_product is state[p]['m_schedule']",
    # docs/flavours.md, SGD and "Slots": gradstep keeps SGD's moment slot with
    # momentum 0, where torch keeps no momentum_buffer
    "sgd_moment_without_momentum": "SGD's moment slot exists with momentum 0",
    # gradstep's groups also hold Keras's settings torch has not: decay (0: off),
    # clipping (None: off), the flavour, the step counter iterations
    "keras_group_keys": "decay=0, clipnorm/clipvalue/global_clipnorm=None, flavour",
    # test_errors_torch.py::test_duplicated_parameters: a parameter twice in a group
    # is a ValueError (torch warns, "this will be an error in the future", and steps
    # it twice); see the report: not (yet) written in README.md
    "duplicate_parameters_raise": "ValueError, where torch warns",
}
KERAS_ONLY_GROUP_KEYS = {
    "decay": 0.0,
    "clipnorm": None,
    "clipvalue": None,
    "global_clipnorm": None,
    "flavour": "torch",
}
SHAPES = [(4, 3), (5,), (2, 1, 3), ()]
STEPS = 9
RTOL = 1e-10
DEVICES = ("cpu", "cuda", "mps")  # torch adds some inputs on CUDA/MPS only


def make_params(shapes, dtype, seed):
    """float64 parameters with fixed random values (0-dim ones too)."""
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype)) for s in shapes
    ]


def grad_sequence(shapes, steps, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    return [
        [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
        for _ in range(steps)
    ]


def _is_on(value: Any) -> bool:
    return value is not None and (isinstance(value, torch.Tensor) or value != 0)


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        shape = "x".join(map(str, value.shape))
        return (
            f"tensor{'[' + shape + ']' if shape else ''}({value.flatten()[0].item():g})"
        )
    if isinstance(value, tuple):
        return "(" + ",".join(_short(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else f"{value}"


def _kwargs_id(kwargs: dict[str, Any]) -> str:
    return ",".join(f"{k}={_short(v)}" for k, v in kwargs.items()) or "no-kwargs"


@dataclass
class Case:
    torch_name: str
    desc: str
    kwargs: dict[str, Any]
    device: str  # the first device torch's suite sweeps it on
    dropped: str | None = None  # the flags of torch's input left out

    @property
    def name(self) -> str:
        return GRADSTEP_NAME[self.torch_name]

    @property
    def refused(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k in OFF_ONLY and _is_on(self.kwargs[k]))

    @property
    def id(self) -> str:
        desc = self.desc.replace(" & ", "&").replace(", ", ",").replace(" ", "_")
        out = f"{self.torch_name}-{desc}-{_kwargs_id(self.kwargs)}"
        if self.device != "cpu":
            out += f"@{self.device}"
        if self.dropped is not None:
            out += f"-without-{self.dropped}"
        return out


def _canonical(kwargs: dict[str, Any]) -> str:
    """What decides the numbers: the kwargs but torch's flags that are off."""
    return _kwargs_id({k: v for k, v in kwargs.items() if k not in OFF_ONLY})


def _collect() -> tuple[list[Case], list[Case], list[Case], list[Any]]:
    run: list[Case] = []  # every input gradstep supports, as torch gives it
    refused: list[Case] = []  # every input with a flag gradstep refuses
    numeric: list[Case] = []  # one per distinct numerics, refused inputs' rest too
    errors: list[Any] = []
    for info in common.optim_db:
        torch_name = info.optim_cls.__name__
        if torch_name not in GRADSTEP_NAME:
            continue
        seen: set[str] = set()
        for device in DEVICES:
            inputs = [
                *info.optim_inputs_func(device=device),
                *common._get_optim_inputs_including_global_cliquey_kwargs(
                    device, None, info
                ),
            ]
            for optim_input in inputs:
                assert optim_input.params is None  # kwargs only, in this torch
                case = Case(torch_name, optim_input.desc, optim_input.kwargs, device)
                key = f"{case.desc}|{_kwargs_id(case.kwargs)}"
                if key in seen:
                    continue
                seen.add(key)
                (refused if case.refused else run).append(case)
        distinct: set[str] = set()
        for case in [c for c in run + refused if c.torch_name == torch_name]:
            rest = {k: v for k, v in case.kwargs.items() if k not in OFF_ONLY}
            if _canonical(rest) in distinct:
                continue
            distinct.add(_canonical(rest))
            dropped = "+".join(k for k in case.kwargs if k in OFF_ONLY) or None
            numeric.append(Case(torch_name, case.desc, rest, case.device, dropped))
        for index, error in enumerate(
            info.optim_error_inputs_func(device="cpu", dtype=torch.float64)
        ):
            errors.append((torch_name, index, error))
    return run, refused, numeric, errors


RUN, REFUSED, NUMERIC, ERRORS = _collect()


def _error_id(item: Any) -> str:
    torch_name, index, error = item
    desc = error.optimizer_error_input.desc.replace("\\", "").replace(" ", "_")
    return f"{torch_name}-{index}-{desc}"


def test_the_database_is_covered():
    """Every optimizer gradstep mirrors has inputs of each kind (torch renamed or
    emptied nothing under our feet), and the ids are unique."""
    for torch_name in GRADSTEP_NAME:
        assert any(c.torch_name == torch_name for c in RUN), torch_name
        assert any(c.torch_name == torch_name for c in REFUSED), torch_name
        assert any(e[0] == torch_name for e in ERRORS), torch_name
    for cases in (RUN, REFUSED, NUMERIC):
        ids = [c.id for c in cases]
        assert len(ids) == len(set(ids))
    # the tensor lr inputs of torch's suite are among the runs
    assert any(isinstance(c.kwargs.get("lr"), torch.Tensor) for c in RUN)
    assert {k for c in REFUSED for k in c.refused} == set(OFF_ONLY)


# ---- 1. the inputs gradstep supports: the same numbers and state as torch.optim ------
def _lr_of(kwargs: dict[str, Any], reference_cls: type) -> Any:
    return kwargs.get("lr", reference_cls([torch.zeros(1)]).defaults["lr"])


def _groups(params, kwargs, layout, reference_cls):
    """The constructor's params and kwargs for a layout."""
    if layout == "one-group":
        return params, kwargs
    if layout == "two-groups":  # the second group with half the learning rate
        lr = _lr_of(kwargs, reference_cls)
        half = torch.tensor(lr.item() / 2) if isinstance(lr, torch.Tensor) else lr / 2
        return [{"params": params[:2]}, {"params": params[2:], "lr": half}], kwargs
    assert layout == "kwargs-in-group-0"  # torch's names in a group dict
    return [{"params": params[:2], **kwargs}, {"params": params[2:]}], {}


def _close(actual, expected, what):
    assert isinstance(actual, torch.Tensor), what
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, what
    error = (actual - expected).abs()
    worst = (error / expected.abs()).nan_to_num(0.0, posinf=float("inf"))
    assert bool((error <= RTOL * expected.abs()).all()), (
        f"{what}: worst relative error {worst.max().item():.3g}, "
        f"ours {actual.flatten()[:4].tolist()}, torch's {expected.flatten()[:4].tolist()}"
    )


def _same_value(actual, expected, what):
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), what
        for a, e in zip(actual, expected):
            _same_value(a, e, what)
        return
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), what  # kept as given, as torch does
        assert torch.equal(actual, expected), what
        return
    # numbers compare by value (torch keeps momentum=0 as given, gradstep 0.0)
    assert actual == expected, (what, actual, expected)
    assert isinstance(actual, bool) == isinstance(expected, bool), what


def _compare(torch_name, opt, reference, ours, theirs, step):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _close(a.detach(), b.detach(), f"step {step}: parameter {i}")
    mine, torch_dict = opt.state_dict(), reference.state_dict()
    group_key = {**GROUP_KEY, **GROUP_KEY_OF.get(torch_name, {})}
    assert len(mine["param_groups"]) == len(torch_dict["param_groups"])
    for g, (group, expected) in enumerate(
        zip(mine["param_groups"], torch_dict["param_groups"])
    ):
        where = f"step {step}: group {g}"
        assert group["params"] == expected["params"], where
        for key, value in expected.items():
            if key == "params":
                continue
            if key in OFF_ONLY:  # DELIBERATE["off_flags_dropped"]
                assert not _is_on(value) and key not in group, (where, key)
                continue
            _same_value(group[group_key.get(key, key)], value, f"{where}: {key}")
        for (
            key,
            value,
        ) in KERAS_ONLY_GROUP_KEYS.items():  # DELIBERATE["keras_group_keys"]
            if key == "decay" and torch_name == "Adagrad":
                continue  # torch's lr_decay, compared above
            if key == "decay" and torch_name == "NAdam":
                assert key not in group, where  # Nadam has no decay (docs/flavours.md)
                continue
            assert group[key] == value, (where, key)
        assert group["iterations"] == step, where
        for index in group["params"]:
            state = mine["state"][index]
            torch_state = torch_dict["state"].get(index, {})  # SGD without momentum
            slot_of = SLOTS[torch_name]
            for key, value in torch_state.items():
                what = f"{where}: parameter {index}: {key}"
                if key == "step":  # DELIBERATE["step_float32"]
                    assert state["step"].dtype == torch.float32, what
                    assert state["step"].item() == value.item() == step, what
                elif key == "mu_product":  # DELIBERATE["nadam_m_schedule"]
                    assert value.dtype == torch.float64, what
                    assert state["m_schedule"].dtype == torch.float64, what
                    ratio = state["m_schedule"].item() / value.item()
                    assert abs(ratio - 1) <= RTOL, what
                else:
                    _close(state[slot_of[key]], value, what)
            mapped = {slot_of[k] for k in torch_state if k in slot_of}
            if "mu_product" in torch_state:
                mapped.add("m_schedule")
            extra = set(state) - {"step"} - mapped
            if torch_name == "SGD" and "momentum_buffer" not in torch_state:
                # DELIBERATE["sgd_moment_without_momentum"]
                assert group["momentum"] == 0, where
                assert extra == {"moment"}, where
            else:
                assert not extra, (where, extra)


def _float64(kwargs: dict[str, Any]) -> dict[str, Any]:
    """torch's kwargs for a float64 run: its tensors (lr, betas) as float64 tensors of
    the same shape; the float32 tensor lr is tested on its own below."""

    def cast(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return value.to(torch.float64)
        if isinstance(value, tuple):
            return tuple(cast(v) for v in value)
        return value

    return {k: cast(v) for k, v in kwargs.items()}


def _group_initial_accumulator(case: Case, layout: str) -> bool:
    """torch.optim.Adagrad starts every accumulator at the constructor's
    initial_accumulator_value and ignores a group's own: gradstep refuses that group
    (a value the step would not use) instead of starting there."""
    value = case.kwargs.get("initial_accumulator_value", 0)
    return case.torch_name == "Adagrad" and layout == "kwargs-in-group-0" and value != 0


def _run_case(
    case: Case, layout: str, engine: str | None, kwargs: dict | None = None
) -> None:
    reference_cls = getattr(torch.optim, case.torch_name)
    ours = make_params(SHAPES, torch.float64, seed=11)
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    kwargs = _float64(case.kwargs) if kwargs is None else kwargs
    kwargs_ours, kwargs_theirs = copy.deepcopy(kwargs), copy.deepcopy(kwargs)
    params_ours, kw_ours = _groups(ours, kwargs_ours, layout, reference_cls)
    params_theirs, kw_theirs = _groups(theirs, kwargs_theirs, layout, reference_cls)
    reference = reference_cls(params_theirs, **kw_theirs)
    if _group_initial_accumulator(case, layout):
        # torch's group 0 holds the value, its accumulators start at the default 0
        assert reference.param_groups[0]["initial_accumulator_value"] != 0
        assert not reference.state[theirs[0]]["sum"].any()
        with pytest.raises(
            ValueError, match="param group 0: initial_accumulator_value="
        ):
            getattr(gtorch, case.name)(
                params_ours, flavour="torch", engine=engine, **kw_ours
            )
        return
    opt = getattr(gtorch, case.name)(
        params_ours, flavour="torch", engine=engine, **kw_ours
    )
    for step, grads in enumerate(grad_sequence(SHAPES, STEPS, torch.float64, 12), 1):
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        reference.step()
        _compare(case.torch_name, opt, reference, ours, theirs, step)


@pytest.mark.usefixtures("float64_default")
@pytest.mark.parametrize("case", RUN, ids=lambda c: c.id)
def test_supported_input_matches_torch_optim(case):
    _run_case(case, "one-group", None)


@pytest.mark.usefixtures("float64_default")
@pytest.mark.parametrize("engine", [None, "torch"])
@pytest.mark.parametrize("layout", ["one-group", "two-groups", "kwargs-in-group-0"])
@pytest.mark.parametrize("case", NUMERIC, ids=lambda c: c.id)
def test_distinct_numerics_match_torch_optim(case, layout, engine):
    """One test per distinct numerics of torch's inputs (the flags that are off left
    out; a refused input's other kwargs too), in groups and through both engines."""
    _run_case(case, layout, engine)


@pytest.mark.usefixtures("float64_default")
@pytest.mark.parametrize("case", NUMERIC, ids=lambda c: c.id)
def test_a_torch_optim_checkpoint_of_every_input_resumes(case):
    """torch.optim's state dict after some steps, loaded into a new gradstep.torch
    optimizer of flavour="torch" built with the same input: the steps after it equal
    torch.optim's (README, "A torch.optim checkpoint resumes")."""
    reference_cls = getattr(torch.optim, case.torch_name)
    theirs = make_params(SHAPES, torch.float64, seed=11)
    ours = [torch.nn.Parameter(p.detach().clone()) for p in theirs]
    kwargs = _float64(case.kwargs)
    reference = reference_cls(theirs, **copy.deepcopy(kwargs))
    sequence = grad_sequence(SHAPES, STEPS, torch.float64, 12)
    half = STEPS // 2
    for grads in sequence[:half]:
        for q, g in zip(theirs, grads):
            q.grad = g.clone()
        reference.step()
    for p, q in zip(ours, theirs):
        p.data.copy_(q.detach())
    opt = getattr(gtorch, case.name)(ours, flavour="torch", **copy.deepcopy(kwargs))
    opt.load_state_dict(copy.deepcopy(reference.state_dict()))
    for step, grads in enumerate(sequence[half:], half + 1):
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        reference.step()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _close(a.detach(), b.detach(), f"step {step}: parameter {i}")


# torch computes these optimizers' lr / bias_correction as a float32 tensor op
FLOAT32_ROUNDED = ("Adam", "Adamax", "NAdam")
FLOAT32_TENSOR_LR = [
    pytest.param(
        c,
        id=c.id,
        marks=pytest.mark.xfail(
            c.torch_name in FLOAT32_ROUNDED,
            reason="torch rounds lr / bias_correction to float32 (not reproduced)",
            strict=True,
        ),
    )
    for c in NUMERIC
    if isinstance(c.kwargs.get("lr"), torch.Tensor)
]


@pytest.mark.usefixtures("float64_default")
@pytest.mark.parametrize("case", FLOAT32_TENSOR_LR)
def test_float32_tensor_lr_as_torch_gives_it(case):
    """torch's tensor lr inputs as the suite makes them: float32 0-dim tensors, here
    with float64 parameters. NOT FIXED (see the report): torch computes Adam's,
    Adamax's and NAdam's ``lr / bias_correction`` as a float32 tensor op, so its step
    size is rounded to float32 (a relative difference of about 1e-9); gradstep reads
    the tensor's value and computes in float64 (strict xfail: passes once it is
    reproduced). SGD, Adagrad, RMSprop and Adadelta agree to 1e-10."""
    assert case.kwargs["lr"].dtype == torch.float32
    _run_case(case, "one-group", None, kwargs=copy.deepcopy(case.kwargs))


# ---- 2. the inputs with a flag gradstep refuses -----------------------------------
@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_refused_input_names_the_flag(case):
    cls = getattr(gtorch, case.name)
    params = make_params(SHAPES, torch.float64, seed=13)
    before = [p.detach().clone() for p in params]
    for flag in case.refused:  # each refused flag on its own, the input's others kept
        kwargs = {
            k: v for k, v in case.kwargs.items() if k not in case.refused or k == flag
        }
        with pytest.raises(ValueError, match=rf"\b{flag}=") as constructor:
            cls(params, flavour="torch", **copy.deepcopy(kwargs))
        assert "not supported" in str(constructor.value)
        with pytest.raises(ValueError, match=rf"param group 0: {flag}="):
            cls([{"params": params, **copy.deepcopy(kwargs)}], flavour="torch")
        # put into a group after construction (code written for torch.optim): the
        # step refuses it before changing anything
        rest = {k: v for k, v in kwargs.items() if k != flag}
        opt = cls(params, flavour="torch", **copy.deepcopy(rest))
        for p in params:
            p.grad = torch.ones_like(p)
        opt.param_groups[0][flag] = kwargs[flag]
        with pytest.raises(ValueError, match=rf"\b{flag}="):
            opt.step()
        assert opt.param_groups[0]["iterations"] == 0
        assert not opt.state
        for p in params:
            p.grad = None
    with pytest.raises(ValueError, match="|".join(rf"\b{f}=" for f in case.refused)):
        cls(params, flavour="torch", **copy.deepcopy(case.kwargs))
    for p, b in zip(params, before):
        assert torch.equal(p.detach(), b)


# ---- 3. torch's error inputs ------------------------------------------------------
# error inputs whose regex is about params (the same checks as torch's, gradstep's
# messages match it); the others name the argument given (the kwargs but a float lr)
def _culprits(kwargs: dict[str, Any]) -> list[str]:
    return [
        k
        for k, v in kwargs.items()
        if not (k == "lr" and not isinstance(v, torch.Tensor))
    ]


def _fresh(params: Any) -> Any:
    """The error input's params for one optimizer (None: two fresh parameters)."""
    if params is None:
        return make_params([(2, 3), (3,)], torch.float64, seed=14)
    return params


def _snapshot(params: Any) -> list[torch.Tensor]:
    tensors = []
    items = params if isinstance(params, (list, tuple)) else [params]
    for item in items:
        if isinstance(item, dict):
            tensors.extend(_snapshot(item["params"]))
        elif isinstance(item, tuple):  # (name, parameter)
            tensors.append(item[1])
        else:
            tensors.append(item)
    return tensors


@pytest.mark.parametrize("item", ERRORS, ids=_error_id)
def test_error_input_raises_torchs_exception(item):
    torch_name, _, error = item
    optim_input = error.optimizer_error_input
    assert error.error_on == common.OptimizerErrorEnum.CONSTRUCTION_ERROR
    cls = getattr(gtorch, GRADSTEP_NAME[torch_name])
    reference_cls = getattr(torch.optim, torch_name)
    params = _fresh(optim_input.params)
    tensors = _snapshot(params)
    before = [t.detach().clone() for t in tensors]
    kwargs = optim_input.kwargs
    # torch's own expectation, with these params (the harness is right)
    if issubclass(error.error_type, Warning):
        with pytest.warns(error.error_type, match=error.error_regex):
            reference_cls(copy.copy(params), **copy.deepcopy(kwargs))
    else:
        with pytest.raises(error.error_type, match=error.error_regex):
            reference_cls(copy.copy(params), **copy.deepcopy(kwargs))
    if issubclass(error.error_type, Warning):
        # DELIBERATE["duplicate_parameters_raise"]
        assert "duplicate parameters" in optim_input.desc
        with pytest.raises(ValueError, match="is the same tensor as parameter"):
            cls(copy.copy(params), flavour="torch", **copy.deepcopy(kwargs))
    else:
        with pytest.raises(error.error_type) as raised:
            cls(copy.copy(params), flavour="torch", **copy.deepcopy(kwargs))
        message = str(raised.value)
        culprits = _culprits(kwargs)
        if culprits:
            assert any(rf"{k}=" in message or f"{k} " in message for k in culprits), (
                culprits,
                message,
            )
        else:  # about the params: torch's own message
            assert raised.match(error.error_regex)
    for t, b in zip(tensors, before):
        assert torch.equal(t.detach(), b) and t.grad is None


@pytest.mark.parametrize(
    "item",
    [e for e in ERRORS if e[2].optimizer_error_input.params is None],
    ids=_error_id,
)
def test_error_input_as_a_new_group_changes_nothing(item):
    """The same bad kwargs in ``add_param_group`` of a stepped optimizer: the error is
    raised before anything is added or changed (torch checks only its constructor)."""
    torch_name, _, error = item
    cls = getattr(gtorch, GRADSTEP_NAME[torch_name])
    params = make_params([(2, 3)], torch.float64, seed=15)
    opt = cls(params, flavour="torch")
    params[0].grad = torch.ones_like(params[0])
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    extra = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    kwargs = copy.deepcopy(error.optimizer_error_input.kwargs)
    with pytest.raises(error.error_type) as raised:
        opt.add_param_group({"params": [extra], **kwargs})
    message = str(raised.value)
    assert message.startswith("param group 1: ")
    assert any(rf"{k}=" in message or f"{k} " in message for k in _culprits(kwargs))
    assert len(opt.param_groups) == 1 and extra not in opt.state
    after = opt.state_dict()
    assert after["param_groups"] == saved["param_groups"]
    for index, state in saved["state"].items():
        for key, value in state.items():
            assert torch.equal(after["state"][index][key], value)


@pytest.mark.parametrize("torch_name", sorted(GRADSTEP_NAME))
def test_the_torch_flavour_names_torchs_state_keys(torch_name):
    """What loading a torch.optim checkpoint renames (the torch variant's
    ``state_names``) is this file's table of torch's state keys, which the comparisons
    above check against torch's own state."""
    cls = getattr(gtorch, GRADSTEP_NAME[torch_name]).keras_class
    expected = {ours: theirs for theirs, ours in SLOTS[torch_name].items()}
    if torch_name == "NAdam":
        expected["m_schedule"] = "mu_product"  # DELIBERATE["nadam_m_schedule"]
    assert dict(cls.flavours["torch"].state_names) == expected
    torch_keys = inspect.signature(getattr(torch.optim, torch_name)).parameters
    renamed = {**GROUP_KEY, **GROUP_KEY_OF.get(torch_name, {})}
    group_names = {
        ours: theirs for theirs, ours in renamed.items() if theirs in torch_keys
    }
    assert dict(cls.flavours["torch"].group_names) == group_names
