"""gradstep.backend: Keras 2.2's get_value/set_value/batch_get_value/variable/eval on an
optimizer's hyperparameters (which stay plain Python floats) and on variables, plus
epsilon/floatx/image_data_format."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from gradstep import backend as K
from gradstep import optimizers


def test_set_value_on_an_optimizer_hyperparameter():
    opt = optimizers.Adam(lr=0.001)
    K.set_value(opt.lr, 0.01)
    assert opt.lr == 0.01 and type(opt.lr) is float
    assert K.get_value(opt.lr) == 0.01
    K.set_value(opt.beta_1, np.float32(0.5))
    assert opt.beta_1 == 0.5 and type(opt.beta_1) is float
    K.set_value(opt.decay, np.array(0.1))
    assert opt.decay == pytest.approx(0.1)
    assert json.loads(json.dumps(opt.get_config()))["lr"] == 0.01


def test_keras_callback_pattern_reduces_the_right_optimizer():
    """ReduceLROnPlateau in Keras: old = float(K.get_value(opt.lr));
    K.set_value(opt.lr, old * factor). Two optimizers sharing one float object."""
    lr = 0.25
    first, second = optimizers.SGD(lr=lr), optimizers.SGD(lr=lr)
    old = float(K.get_value(second.lr))
    K.set_value(second.lr, old * 0.5)
    assert second.lr == 0.125 and first.lr == 0.25
    K.set_value(first.lr, 0.5)
    assert first.lr == 0.5 and second.lr == 0.125


def test_set_value_on_a_copied_optimizer_sets_the_copy():
    opt = optimizers.RMSprop(lr=0.1)
    twin = copy.deepcopy(opt)
    K.set_value(twin.lr, 0.2)
    assert twin.lr == 0.2 and opt.lr == 0.1


def test_set_value_validates_like_assignment():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        K.set_value(opt.lr, -1.0)
    with pytest.raises(ValueError, match="beta_1 must be in"):
        K.set_value(opt.beta_1, 1.5)
    with pytest.raises(ValueError, match="lr takes one number"):
        K.set_value(opt.lr, np.ones(2))
    assert opt.lr == 0.001


def test_set_value_refuses_numbers_that_belong_to_nothing():
    with pytest.raises(TypeError, match="set_value: x must be a backend.variable"):
        K.set_value(0.5, 1.0)
    with pytest.raises(TypeError, match="set_value"):
        K.set_value(np.float64(0.5), 1.0)


def test_the_optimizer_still_steps_with_the_new_value():
    p = np.array([1.0])
    opt = optimizers.SGD(lr=0.1)
    K.set_value(opt.lr, 0.5)
    opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == 0.5


def test_variable_get_set_eval():
    v = K.variable([[1, 2], [3, 4]], name="w")
    assert v.dtype == "float32" and v.shape == (2, 2) and v.name == "w"
    np.testing.assert_array_equal(K.get_value(v), [[1, 2], [3, 4]])
    K.set_value(v, np.zeros((2, 2)))
    np.testing.assert_array_equal(K.eval(v), 0)
    K.set_value(v, 7)
    np.testing.assert_array_equal(np.asarray(v), 7)
    with pytest.raises(ValueError, match="shapes must match"):
        K.set_value(v, np.ones(3))
    got = K.get_value(v)
    got[...] = 1  # a copy
    np.testing.assert_array_equal(K.get_value(v), 7)
    assert K.int_shape(v) == (2, 2) and K.count_params(v) == 4
    assert float(K.variable(2.5, dtype="float64")) == 2.5
    with pytest.raises(ValueError, match="constraint"):
        K.variable(1.0, constraint=lambda w: w)


def test_batch_get_and_set_value():
    opt = optimizers.SGD(lr=0.1, momentum=0.5)
    v = K.variable(1.0)
    assert K.batch_get_value([opt.lr, opt.momentum, opt.iterations]) == [0.1, 0.5, 0]
    K.batch_set_value([(opt.lr, 0.3), (v, 2.0)])
    assert opt.lr == 0.3 and float(v) == 2.0
    with pytest.raises(TypeError, match="get_value: expected a Variable"):
        K.get_value("lr")


def test_configuration_functions():
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    assert K.image_data_format() == "channels_last"
    K.set_image_data_format("channels_first")
    try:
        assert K.image_data_format() == "channels_first"
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="Unknown data_format"):
        K.set_image_data_format("nhwc")
    K.set_floatx("float64")
    assert K.cast_to_floatx([1]).dtype == np.float64
    assert K.variable(1).dtype == "float64"
    assert K.backend() == "numpy"
    K.clear_session()
