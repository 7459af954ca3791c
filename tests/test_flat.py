"""The flat layout: views into one buffer, and finding that buffer again."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.kernels import FusedEngine, contiguous_span, flat_arrays, flatten

SHAPES = [(3, 4), (5,), (), (2, 1, 3), (0,)]


def test_flat_arrays_are_views_in_order():
    buffer, views = flat_arrays(SHAPES, "float64")
    assert buffer.shape == (12 + 5 + 1 + 6 + 0,) and buffer.dtype == np.float64
    assert [v.shape for v in views] == SHAPES
    start = 0
    for k, v in enumerate(views):
        assert np.shares_memory(v, buffer) or v.size == 0
        v[...] = k + 1
        np.testing.assert_array_equal(buffer[start : start + v.size], k + 1)
        start += v.size
    assert flat_arrays(SHAPES)[0].dtype == np.float32


def test_flatten_copies_values_and_returns_views():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES]
    buffer, views = flatten(arrays)
    for a, v in zip(arrays, views):
        np.testing.assert_array_equal(a, v)
        assert not np.shares_memory(a, v)
    np.testing.assert_array_equal(buffer, np.concatenate([a.ravel() for a in arrays]))
    assert contiguous_span(views) is not None


def test_flatten_rejects_mixed_dtypes():
    with pytest.raises(ValueError, match="one dtype.*float32.*float64"):
        flatten([np.zeros(2, np.float32), np.zeros(2)])


def test_contiguous_span_finds_the_buffer():
    buffer, views = flat_arrays(SHAPES)
    span = contiguous_span(views)
    assert span is not None and span.shape == buffer.shape
    assert np.shares_memory(span, buffer) and span.ctypes.data == buffer.ctypes.data
    inner = contiguous_span(views[1:3])  # a run in the middle of the buffer
    assert inner is not None and inner.size == 6
    assert inner.ctypes.data == views[1].ctypes.data


@pytest.mark.parametrize(
    "pick",
    [
        lambda v: [v[1], v[0]],  # out of order
        lambda v: [v[0], v[2]],  # a gap
        lambda v: [v[0].T, v[1]],  # not C-contiguous
        lambda v: [np.zeros(3), np.zeros(3)],  # separate arrays
        lambda v: [],
    ],
    ids=["order", "gap", "transposed", "separate", "empty"],
)
def test_contiguous_span_rejects(pick):
    _, views = flat_arrays([(3, 4), (5,), (2,)])
    assert contiguous_span(pick(views)) is None


def test_contiguous_span_rejects_mixed_dtypes_and_read_only_spans():
    raw = np.zeros(8, np.float32)
    mixed = [raw[:4], raw[4:].view(np.int32)]
    assert contiguous_span(mixed) is None
    ro = np.zeros(6)
    writeable_views = [ro[:3], ro[3:]]
    ro.flags.writeable = False
    assert contiguous_span(writeable_views) is None  # the span could not be written
    span = contiguous_span([ro[:3], ro[3:]])
    assert span is not None and not span.flags.writeable


def test_fused_engine_lays_each_slot_end_to_end():
    pytest.importorskip("numba")
    _, params = flat_arrays(SHAPES, "float32")
    slots = FusedEngine().allocate_slots(params, 3)
    assert len(slots) == len(params)
    for k in range(3):
        span = contiguous_span([s[k] for s in slots])
        assert span is not None and span.size == 24 and span.dtype == np.float32
        assert not span.any()
    spans = [contiguous_span([s[k] for s in slots]) for k in range(3)]
    assert not any(np.shares_memory(a, b) for a in spans for b in spans if a is not b)
    mixed = FusedEngine().allocate_slots([np.ones(2, np.float16), np.ones((2, 2))], 2)
    assert [s.dtype for pair in mixed for s in pair] == [np.float16] * 2 + [
        np.float64
    ] * 2


def test_weights_of_a_flat_optimizer_round_trip():
    pytest.importorskip("numba")
    _, params = flatten([np.ones((2, 3)), np.ones(4)])
    opt = optimizers.Adam(engine="fused")
    opt.apply_gradients(zip([np.ones((2, 3)), np.ones(4)], params))
    twin = optimizers.Adam(engine="fused")
    twin.build(params)
    twin.set_weights(opt.get_weights())
    for a, b in zip(opt.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b, strict=True)
