"""Public alias of ``gradstep.models.regularizers`` (as ``keras.regularizers``)."""

from .models.regularizers import *  # noqa: F403
from .models.regularizers import __all__  # noqa: F401
