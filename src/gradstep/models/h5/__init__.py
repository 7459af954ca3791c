"""Keras 2.2 HDF5 files (``.h5``/``.hdf5``), both ways: needs ``h5py`` (``gradstep[h5]``).

``load_model`` reads files written by Keras 2.2 (Theano or TensorFlow backend, float32
or float64) or by gradstep and continues training as Keras 2.2.4 would after its own
``load_model``; ``save_model`` writes files real Keras 2.2.4 loads and continues from;
``save_weights``/``load_weights`` use Keras's weights-only layout. Sequential models.
``read_model_file`` gives the file's contents without building anything; ``describe``
and ``convert`` are what a ``gradstep h5 info``/``convert`` command would call.
"""

from __future__ import annotations

from ._dispatch import HANDLERS, SUFFIXES, is_h5_file, is_h5_path
from ._load import load_model, load_weights
from ._read import KerasFile, read_model_file, read_weights_file
from ._tools import convert, describe
from ._write import keras224_optimizer_weights, save_model, save_weights

__all__ = [
    "SUFFIXES",
    "is_h5_path",
    "is_h5_file",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
    "KerasFile",
    "read_model_file",
    "read_weights_file",
    "keras224_optimizer_weights",
    "describe",
    "convert",
]

HANDLERS.update(
    load_model=load_model,
    load_weights=load_weights,
    save_model=save_model,
    save_weights=save_weights,
)
