"""Public alias of ``gradstep.models.initializers`` (as ``keras.initializers``)."""

from .models.initializers import *  # noqa: F403
from .models.initializers import __all__  # noqa: F401
