"""Public alias of ``gradstep.models.activations`` (as ``keras.activations``)."""

from .models.activations import *  # noqa: F403
from .models.activations import __all__  # noqa: F401
