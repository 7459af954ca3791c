"""Run by test_distributed.py: 2 ranks (gloo, 127.0.0.1) train the same small model under
DDP, ZeroRedundancyOptimizer and FSDP2 with gradstep.torch.Adam and clipnorm; rank 0
saves the final parameters of each. ``python _dist_worker.py OUT_DIR``."""

from __future__ import annotations

import datetime
import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

STEPS = 3
CONFIG = {"lr": 0.05, "clipnorm": 0.05, "amsgrad": True}


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    )


def batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        (torch.randn(4, 5, generator=gen), torch.randn(4, 3, generator=gen))
        for _ in range(STEPS)
    ]


def train(model, opt, rank: int | None) -> None:
    """Mean squared error over the global batch of 4; rank r sees rows 2r, 2r + 1."""
    for x, y in batches():
        if rank is not None:
            x, y = x[2 * rank : 2 * rank + 2], y[2 * rank : 2 * rank + 2]
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


def run(rank: int, port: int, out: str) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.optim import ZeroRedundancyOptimizer
    from torch.nn.parallel import DistributedDataParallel

    import gradstep.torch as gtorch

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(
        "gloo", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=30)
    )
    results = {}

    ddp = DistributedDataParallel(make_model())
    train(ddp, gtorch.Adam(ddp.parameters(), **CONFIG), rank)
    results["ddp"] = [p.detach().clone() for p in ddp.module.parameters()]

    ddp = DistributedDataParallel(make_model())
    zero = ZeroRedundancyOptimizer(
        ddp.parameters(), optimizer_class=gtorch.Adam, clipnorm_group="world", **CONFIG
    )
    train(ddp, zero, rank)
    results["zero"] = [p.detach().clone() for p in ddp.module.parameters()]
    # steps after the first took the steady path (norm summed over the ranks)
    results["zero_steady"] = zero.optim._stepper.steady is not None
    zero.consolidate_state_dict(to=0)
    if rank == 0:
        state = zero.state_dict()
        results["zero_iterations"] = [g["iterations"] for g in state["param_groups"]]

    model = make_model()
    mesh = init_device_mesh("cpu", (2,))
    for layer in (model[0], model[2]):
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    train(model, gtorch.Adam(model.parameters(), **CONFIG), rank)
    results["fsdp2"] = [p.full_tensor().detach().clone() for p in model.parameters()]

    if rank == 0:
        torch.save(results, Path(out) / "results.pt")
    dist.barrier()
    dist.destroy_process_group()


def main(argv: list[str]) -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(run, args=(port, argv[0]), nprocs=2, join=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
