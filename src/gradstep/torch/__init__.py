"""The Keras 2.2 optimizers as torch.optim optimizers (``pip install gradstep[torch]``).

``gradstep.torch.Adam(model.parameters(), lr=1e-3)`` is a ``torch.optim.Optimizer`` that
computes exactly what ``gradstep.optimizers.Adam`` (and Keras 2.2) computes: same names,
defaults and equations, the same per-element rule function. Param groups, lr schedulers,
``state_dict``/``load_state_dict``, closures, DDP, ``ZeroRedundancyOptimizer`` and FSDP2
work as with torch's own optimizers; ``clipnorm`` clips by the global norm of every
gradient of the optimizer (across ranks too). ``flavour=`` ("keras22" by default,
"tf_keras", "keras3", "torch", "optax") computes what that framework computes instead,
with its defaults, knobs and clipping: ``gradstep.torch.SGD(params, flavour="torch",
momentum=0.9, dampening=0.1)`` is torch.optim.SGD's arithmetic. Importing ``gradstep``
alone never imports torch.

Float32/float64 CPU tensors are updated in place by gradstep's NumPy engines through
zero-copy views (the fused numba kernels when numba is installed: one multi-tensor
kernel call per param group, and about a microsecond per tensor once the same
parameters come back step after step); ``flatten_params=True`` puts each group's
parameters in one buffer, and its gradients too (with ``zero_grad(set_to_none=False)``
the backward accumulates there and steps skip the per-gradient checks).
CUDA tensors and float16/bfloat16 run the same rule with torch operations (float32 math
and state for 16-bit parameters). Under ZeroRedundancyOptimizer pass
``clipnorm_group="world"`` so clipnorm sums the squared norms of all ranks' partitions;
DDP and FSDP2 (DTensor) need nothing.

Example:
    >>> import torch
    >>> import gradstep.torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
    >>> opt = gradstep.torch.Adam([w], lr=0.1)
    >>> w.grad = torch.tensor([0.5, -2.0], dtype=torch.float64)
    >>> opt.step()
    >>> w.detach().numpy().round(6)
    array([ 0.9, -0.9])
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401 - absolute import: PyTorch, not this package
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gradstep.torch needs PyTorch; install it (from a clone) with "
        '`pip install -e ".[torch]" -c constraints.txt`'
    ) from error

from ..optimizers import _registry
from ._keras_h5 import KerasRun, from_keras_h5
from ._optimizer import KerasTorchOptimizer, torch_optimizer
from ._torch_optim_state import torch_optim_state_dict

# One class per registered optimizer (``gradstep.torch.Adam``...), built from the
# registry, the single source of truth, on first access; ``torch_optimizer`` keeps one
# class per optimizer, so every access gives the same class.
__all__ = [
    "KerasTorchOptimizer",
    "torch_optimizer",
    "torch_optim_state_dict",
    "from_keras_h5",
    "KerasRun",
    *sorted(cls.__name__ for cls in _registry.builtin_classes().values()),
]


def __getattr__(name: str) -> type[KerasTorchOptimizer]:
    for cls in _registry.registered_classes().values():
        if cls.__name__ == name:
            return torch_optimizer(cls)
    raise AttributeError(f"module 'gradstep.torch' has no attribute {name!r}")


def __dir__() -> list[str]:
    names = {cls.__name__ for cls in _registry.registered_classes().values()}
    return sorted(set(globals()) | names)
