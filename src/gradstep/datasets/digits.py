"""The 8x8 handwritten digits bundled with scikit-learn, with a fixed train/test split."""

from __future__ import annotations

import numpy as np

from ._arrays import Split
from ._errors import DatasetError

__all__ = ["load_data", "TEST_EVERY"]

TEST_EVERY = 5


def load_data() -> Split:
    """``((x_train, y_train), (x_test, y_test))``: 1797 images of 8x8 pixels with values
    0..16 (float64, shape (n, 8, 8)) and int64 labels 0..9.

    The split is fixed and needs no random numbers: every fifth sample (index 0, 5, 10, ...)
    is a test sample, giving 1437 training and 360 test images. Needs scikit-learn, whose
    copy of the data ships inside the package (no download)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetError(
            "the digits data set needs scikit-learn: "
            'pip install -e ".[lab]" (from a clone of gradstep)'
        ) from None
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    test = np.arange(len(labels)) % TEST_EVERY == 0
    return (images[~test], labels[~test]), (images[test], labels[test])
