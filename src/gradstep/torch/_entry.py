"""How ``step()`` is entered: torch's wrapping only when something needs it.

torch wraps every optimizer's ``step`` (``Optimizer.profile_hook_step``) in a profiler
record (``Optimizer.step#Adam.step``) and the loops over the step pre- and post-hooks,
and gradstep's step runs under ``torch.no_grad()`` and ``torch._disable_dynamo`` (one
opaque call for ``torch.compile``). Those layers cost a few microseconds when the caches
are warm, and 0.2-0.4 ms right after a kernel has streamed the parameters through them
(each layer is code and objects to fetch again: the record alone is a call through
``torch.ops`` both ways). A step that has no hook to call, no profiler to record for and
no ``torch.compile`` around it needs none of them, and goes straight to the step, with
gradients off; any other goes through every layer as before, so hooks, profiler traces
and compiled training steps see exactly torch's behaviour.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch.optim import optimizer as _torch_optimizer

__all__ = ["hook_step", "plain_call", "without_grad"]

_R = TypeVar("_R")

_profiler_enabled = torch._C._autograd._profiler_enabled
_compiling = torch.compiler.is_compiling
try:
    from torch._C._dynamo.eval_frame import get_eval_frame_callback
except ImportError:  # a torch without it: always take the wrapped call

    def get_eval_frame_callback() -> object:
        return True


_GLOBAL_PRE = getattr(_torch_optimizer, "_global_optimizer_pre_hooks", None)
_GLOBAL_POST = getattr(_torch_optimizer, "_global_optimizer_post_hooks", None)
_HOOK_REGISTRIES_KNOWN = _GLOBAL_PRE is not None and _GLOBAL_POST is not None


def plain_call(optimizer: torch.optim.Optimizer) -> bool:
    """Whether a step of ``optimizer`` needs none of the wrapping: not being traced or
    run by ``torch.compile`` (checked first: under tracing it is a constant), no
    profiler recording, no step hook of the optimizer's or global ones."""
    return not (
        _compiling()
        or get_eval_frame_callback() is not None
        or _profiler_enabled()
        or not _HOOK_REGISTRIES_KNOWN
        or _GLOBAL_PRE
        or _GLOBAL_POST
        or optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
    )


def without_grad(fn: Callable[..., _R], *args: Any) -> _R:
    """``fn(*args)`` with gradients off, as under ``torch.no_grad()``."""
    prior = torch.is_grad_enabled()
    torch._C._set_grad_enabled(False)
    try:
        return fn(*args)
    finally:
        torch._C._set_grad_enabled(prior)


def hook_step(func: Callable[..., _R]) -> Callable[..., _R]:
    """``Optimizer.profile_hook_step``: torch's wrapper of ``func``, bypassed on a
    plain call (``torch.optim.Optimizer.__init__`` wraps the class's ``step`` with
    it once per class)."""
    hooked = torch.optim.Optimizer.profile_hook_step(func)

    @functools.wraps(func)
    def step(*args: Any, **kwargs: Any) -> _R:
        if plain_call(args[0]):
            return func(*args, **kwargs)
        return hooked(*args, **kwargs)

    return step
