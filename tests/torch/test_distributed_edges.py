"""Edge cases of gradstep.torch found by probing against torch.optim: the Keras .h5
bridge leaves the given parameters alone when it fails; parameters that are views of
one another (overlapping memory) are updated as torch.optim updates them, whatever the
engine and flatten_params; clipnorm with a meta-device gradient is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "h5" / "fixtures"


def _file_shapes(path):
    return [tuple(p.shape) for p in gtorch.from_keras_h5(path).params]


def _step_both(opt, reference, ours, theirs, steps=3):
    """``steps`` steps of both optimizers on the same random gradients."""
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        for a, b in zip(ours, theirs):
            g = torch.randn(a.shape, generator=gen, dtype=torch.float64)
            a.grad, b.grad = g.clone(), g.clone()
        opt.step()
        reference.step()


@pytest.mark.parametrize("bad", [torch.int64, torch.complex128])
def test_from_keras_h5_error_leaves_the_params_unchanged(bad):
    path = FIXTURES / "adam_float64.h5"
    params = [torch.zeros(s, dtype=torch.float64) for s in _file_shapes(path)]
    params[1] = torch.zeros(params[1].shape, dtype=bad)
    with pytest.raises(TypeError, match="parameter 1 has dtype"):
        gtorch.from_keras_h5(path, params)
    for p in params:
        assert not p.abs().any()  # the file's weights were not copied in


def test_from_keras_h5_still_copies_the_weights():
    path = FIXTURES / "adam_float64.h5"
    params = [torch.zeros(s, dtype=torch.float64) for s in _file_shapes(path)]
    run = gtorch.from_keras_h5(path, params)
    for p, w in zip(params, run.weights):
        assert torch.equal(p, w)


def _overlapping():
    base = torch.arange(8, dtype=torch.float64) / 7
    return base, [
        torch.nn.Parameter(base[:5]),
        torch.nn.Parameter(torch.ones(3, dtype=torch.float64)),
        torch.nn.Parameter(base[3:]),
    ]


PAIRS = [
    ("Adam", "Adam"),
    ("SGD", "SGD"),
    ("RMSprop", "RMSprop"),
    ("Adagrad", "Adagrad"),
    ("Adadelta", "Adadelta"),
    ("Adamax", "Adamax"),
    ("Nadam", "NAdam"),
]


@pytest.fixture
def float64_default():
    """torch.optim keeps its scalars (step, NAdam's mu_product) in the default dtype:
    float64 here, so that torch's run is a float64 one throughout."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.usefixtures("float64_default")
@pytest.mark.parametrize("flatten_params", [False, True])
@pytest.mark.parametrize("engine", [None, "reference", "fused", "torch"])
@pytest.mark.parametrize("name,torch_name", PAIRS)
def test_views_of_one_another_are_updated_as_torch_does(
    name, torch_name, engine, flatten_params
):
    """Two parameters sharing memory: torch.optim updates one, then the other (reading
    the first's update); the step must too, and flatten_params must not part them."""
    base, ours = _overlapping()
    torch_base, theirs = _overlapping()
    opt = getattr(gtorch, name)(
        ours, lr=0.1, flavour="torch", engine=engine, flatten_params=flatten_params
    )
    reference = getattr(torch.optim, torch_name)(theirs, lr=0.1, foreach=False)
    _step_both(opt, reference, ours, theirs)
    assert ours[0].data_ptr() + 3 * 8 == ours[2].data_ptr()  # still views of the base
    torch.testing.assert_close(base, torch_base, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("float64_default")
def test_views_of_one_another_in_two_groups_stay_views_with_flatten_params():
    base, ours = _overlapping()
    torch_base, theirs = _overlapping()
    opt = gtorch.Adam(
        [{"params": ours[:1]}, {"params": ours[1:]}],
        lr=0.1,
        flavour="torch",
        flatten_params=True,
    )
    reference = torch.optim.Adam(
        [{"params": theirs[:1]}, {"params": theirs[1:]}], lr=0.1, foreach=False
    )
    _step_both(opt, reference, ours, theirs)
    assert ours[0].data_ptr() + 3 * 8 == ours[2].data_ptr()
    torch.testing.assert_close(base, torch_base, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=1e-12)


def test_clipnorm_with_a_meta_gradient_is_a_clear_error():
    meta = torch.nn.Parameter(torch.zeros(3, device="meta"))
    real = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = gtorch.Adam([meta, real], flavour="torch", clipnorm=1.0)
    meta.grad = torch.zeros(3, device="meta")
    real.grad = torch.ones(3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="'meta' device"):
        opt.step()
    assert not real.detach().any()
    assert opt.param_groups[0]["iterations"] == 0
