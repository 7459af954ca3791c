"""Public alias of ``gradstep.models.metrics`` (as ``keras.metrics``)."""

from .models.metrics import *  # noqa: F403
from .models.metrics import __all__  # noqa: F401
