"""Keras 2.2's ``keras.utils.data_utils.Sequence``: batches by index, for
``fit_generator`` and friends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Sequence"]


class Sequence:
    """Base class of a dataset read by batch index: define ``__getitem__(index)`` (the
    batch ``index``, e.g. ``(x, y)``) and ``__len__()`` (the number of batches per
    epoch); ``on_epoch_end()`` is called after each epoch. Iterating over a Sequence
    yields its batches in order, once."""

    use_sequence_api = True

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(index): the batch at index"
        )

    def __len__(self) -> int:
        raise NotImplementedError(
            f"{type(self).__name__} must define __len__(): the number of batches"
        )

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (e.g. to shuffle); does nothing here."""

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]
