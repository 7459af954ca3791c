"""The global gradient norm when the parameters are spread over several processes.

Keras's ``clipnorm`` scales every gradient by c / n, n the norm of *all* gradients of the
step. Under torch.distributed three layouts occur:

- DistributedDataParallel: every rank holds every (all-reduced) gradient, so the local
  norm is already the global one; nothing is communicated.
- ZeroRedundancyOptimizer: each rank's optimizer holds a disjoint partition of the
  parameters. Built with ``clipnorm_group="world"`` (or a process group), the squared
  norms of the partitions are summed with one all-reduce.
- FSDP2 (``fully_shard``): parameters and gradients are DTensors. Each rank adds the
  squares of its local shards; shards replicated over a mesh dimension are counted only
  by the rank at coordinate 0 of that dimension, so every element counts once; the sums
  are all-reduced over each mesh.

Every rank must take part in the all-reduce even when it holds no gradient, so the step
calls ``total_squared_norm`` whenever clipping by norm is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = [
    "LOCAL",
    "check_group",
    "is_dtensor",
    "local_tensor",
    "sum_over_group",
    "total_squared_norm",
]

# no process group: the norm is computed from local gradients only
LOCAL: Any = object()

try:  # torch built without distributed support has no DTensor
    from torch.distributed.tensor import DTensor as _DTensor
except ImportError:  # pragma: no cover - depends on the torch build
    _DTensor = None


def is_dtensor(t: Any) -> bool:
    """Whether ``t`` is a DTensor (FSDP2 / tensor-parallel parameter or gradient)."""
    return _DTensor is not None and isinstance(t, _DTensor)


def local_tensor(t: torch.Tensor) -> torch.Tensor:
    """The part of ``t`` held by this rank, sharing its memory (``t`` itself if plain)."""
    return t.to_local() if is_dtensor(t) else t


def check_group(group: Any) -> Any:
    """``clipnorm_group`` as given to an optimizer: None (LOCAL), "world" or a group."""
    if group is None:
        return LOCAL
    if group == "world":
        return None  # torch.distributed's spelling of the default group
    import torch.distributed as dist

    if isinstance(group, dist.ProcessGroup):
        return group
    raise ValueError(
        f"clipnorm_group must be None, 'world' or a torch.distributed ProcessGroup, got "
        f"{group!r}"
    )


def total_squared_norm(
    grads: Sequence[torch.Tensor], squares: Sequence[float], group: Any
) -> float:
    """The sum of squares of all gradients across ranks, given each gradient's local sum.

    ``grads`` are the gradients as the optimizer sees them (DTensors or plain tensors) and
    ``squares`` the float64 sums of squares of their local parts, in the same order.
    """
    plain = 0.0
    meshes: list[list[Any]] = []
    for g, square in zip(grads, squares):
        if not is_dtensor(g):
            plain += square
            continue
        mesh, placements = g.device_mesh, g.placements
        if any(p.is_partial() for p in placements):
            raise ValueError(
                f"a gradient has placements {placements}; clipnorm needs gradients that "
                "are reduced (Shard or Replicate), not Partial"
            )
        if any(
            p.is_replicate() and mesh.get_local_rank(dim) != 0
            for dim, p in enumerate(placements)
        ):
            square = 0.0
        for entry in meshes:
            if entry[0] == mesh:
                entry[1] += square
                break
        else:
            meshes.append([mesh, square])
    total = sum_over_group(plain, group)
    for mesh, square in meshes:
        total += _all_reduce(square, _mesh_group(mesh), _mesh_device(mesh))
    return total


def sum_over_group(value: float, group: Any) -> float:
    """``value`` summed over the ranks of ``group`` (``LOCAL``: this rank's alone)."""
    return value if group is LOCAL else _all_reduce(value, group, _group_device(group))


def _all_reduce(value: float, group: Any, device: torch.device) -> float:
    import torch.distributed as dist

    buffer = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(buffer, op=dist.ReduceOp.SUM, group=group)
    return float(buffer.item())


def _group_device(group: Any) -> torch.device:
    import torch.distributed as dist

    if "nccl" in str(dist.get_backend(group)).lower():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _mesh_device(mesh: Any) -> torch.device:
    if mesh.device_type == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device(mesh.device_type)


def _mesh_group(mesh: Any) -> Any:
    import torch.distributed as dist

    if mesh.ndim == 1:
        return mesh.get_group()
    if mesh.size() == dist.get_world_size():
        return None
    raise NotImplementedError(
        f"clipnorm over a {mesh.ndim}-D device mesh that covers {mesh.size()} of "
        f"{dist.get_world_size()} ranks is not supported; use a 1-D mesh or one that "
        "spans all ranks"
    )
