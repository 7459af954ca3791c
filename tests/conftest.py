import numpy as np
import pytest
from hypothesis import settings

from gradstep import backend

# Property tests draw the same examples on every run, so CI results are reproducible.
settings.register_profile("gradstep", derandomize=True, database=None, deadline=None)
settings.load_profile("gradstep")


@pytest.fixture(autouse=True)
def _clean_backend():
    """Every test starts with Keras's defaults and strict floating-point errors."""
    epsilon, floatx = backend.epsilon(), backend.floatx()
    old = np.seterr(all="raise", under="ignore")
    yield
    np.seterr(**old)
    backend.set_epsilon(epsilon)
    backend.set_floatx(floatx)
