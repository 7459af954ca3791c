"""Run by test_contract.py in a fresh process: load a saved optimizer (and scheduler)
with ``weights_only=True``, train the remaining steps, save the parameters."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.torch.test_contract import RESUME_SHAPES, build_resumable, train  # noqa: E402


def main(argv: list[str]) -> int:
    root, first, total = Path(argv[0]), int(argv[1]), int(argv[2])
    for name in argv[3:]:
        folder = root / name
        params = torch.load(folder / "params.pt", weights_only=True)
        params = [torch.nn.Parameter(p) for p in params]
        opt, sched = build_resumable(name, params)
        opt.load_state_dict(torch.load(folder / "opt.pt", weights_only=True))
        sched.load_state_dict(torch.load(folder / "sched.pt", weights_only=True))
        train(opt, sched, params, RESUME_SHAPES, range(first, total))
        torch.save([p.detach() for p in params], folder / "resumed.pt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
