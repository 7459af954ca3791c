"""Fixtures of the gradstep.torch tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture
def float64_default() -> Iterator[None]:
    """torch's default dtype float64 for the test (torch keeps NAdam's mu_product and
    the step counts in it), restored after."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(before)
