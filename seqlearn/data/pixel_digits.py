"""Handwritten digits as images of a few grey levels, for the pixel models of chapter 10.

scikit-learn's bundled ``load_digits`` (1797 images of 8 × 8 pixels with values 0 … 16; no
download) quantised to V levels by equal-width bins of the range: level = min(⌊v V / 16⌋, V − 1)
for a raw value v, so V = 2 binarises at 8 and V = 4 cuts at 4, 8 and 12. The split is the one of
``seqlearn.data.digit_captions``: the first 1347 images for training, the last 450 for testing.
"""

import numpy as np

from ..validate import as_float_array, check_positive_int
from .digit_captions import SUBSETS, TRAIN_IMAGES, load_digit_images

#: The side of the images, n (they are n × n).
IMAGE_SIZE = 8


def quantize(images, levels):
    """Images with values in [0, 1] (..., n, n) -> integer levels 0 … V−1 (int64), V = ``levels``,
    by equal-width bins: min(⌊x V⌋, V − 1)."""
    V = check_positive_int("levels", levels)
    if V < 2:
        raise ValueError(f"levels: expected at least 2 grey levels, got {V}")
    images = as_float_array("images", images, allow_empty=True).astype(np.float64, copy=False)
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"images: expected values in [0, 1], got {images.min()}..{images.max()}")
    return np.minimum(np.floor(images * V), V - 1).astype(np.int64)


def load_pixel_digits(levels=2, subset="train"):
    """The digits quantised to ``levels`` grey levels: ``(images, labels)``, images (N, 8, 8)
    int64 in 0 … V−1 and labels (N,) int64 in 0 … 9.

    ``subset``: ``"train"`` (the first 1347 images, N = 1347), ``"test"`` (the last 450) or
    ``"all"`` (N = 1797).
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset: expected one of {', '.join(map(repr, SUBSETS))}, "
                         f"got {subset!r}")
    images, labels = load_digit_images()
    part = {"train": slice(0, TRAIN_IMAGES), "test": slice(TRAIN_IMAGES, None),
            "all": slice(None)}[subset]
    return quantize(images[part], levels), labels[part]


__all__ = ["IMAGE_SIZE", "load_pixel_digits", "quantize"]
