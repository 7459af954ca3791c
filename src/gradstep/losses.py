"""Public alias of ``gradstep.models.losses`` (as ``keras.losses``)."""

from .models.losses import *  # noqa: F403
from .models.losses import __all__  # noqa: F401
