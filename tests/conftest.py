import numpy as np
import pytest

from gradstep import backend


@pytest.fixture(autouse=True)
def _clean_backend():
    """Every test starts with Keras's defaults and strict floating-point errors."""
    epsilon, floatx = backend.epsilon(), backend.floatx()
    old = np.seterr(all="raise", under="ignore")
    yield
    np.seterr(**old)
    backend.set_epsilon(epsilon)
    backend.set_floatx(floatx)
