"""Keras 2.2's ``keras.utils``: the same names, in the same modules.

``to_categorical`` and ``normalize`` live in ``np_utils``; ``Sequence`` in ``data_utils``;
``Progbar``, ``CustomObjectScope``, ``custom_object_scope``, ``get_custom_objects``,
``serialize_keras_object`` and ``deserialize_keras_object`` in ``generic_utils``;
``get_test_data`` and ``keras_test`` in ``test_utils``. Each is also importable from
``gradstep.utils``.
"""

from __future__ import annotations

from . import data_utils, generic_utils, np_utils, test_utils
from .data_utils import Sequence
from .generic_utils import (
    CustomObjectScope,
    Progbar,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    serialize_keras_object,
)
from .np_utils import normalize, to_categorical

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "Sequence",
    "custom_object_scope",
    "data_utils",
    "deserialize_keras_object",
    "generic_utils",
    "get_custom_objects",
    "normalize",
    "np_utils",
    "serialize_keras_object",
    "test_utils",
    "to_categorical",
]
