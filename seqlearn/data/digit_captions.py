"""Captioned strips of handwritten digits, a toy image-captioning task.

A strip puts ``k`` random 8×8 digits of scikit-learn's bundled ``load_digits`` set (no
download) side by side, left to right, into one 8 × 8k image; its caption names them in order,
e.g. "three one four". A captioning model must find the digits one after the other, which is
what attention over image regions does (Xu et al. 2015).

Caption tokens use their own small vocabulary ``CAPTION_WORDS``: PAD = 0, BOS = 1, EOS = 2 (the
same ids as ``seqlearn.data.transduction``) and the words "zero" … "nine" as 3 … 12, so the
word of digit d is ``FIRST_WORD + d``.
"""

from functools import lru_cache

import numpy as np

from ..validate import as_generator, check_positive_int
from .transduction import BOS, EOS, read_tokens

#: The words of the captions, indexed by token id.
CAPTION_WORDS = ("<pad>", "<bos>", "<eos>", "zero", "one", "two", "three", "four", "five", "six",
                 "seven", "eight", "nine")
FIRST_WORD = 3
DIGIT_SIZE = 8
#: The first ``TRAIN_IMAGES`` images of ``load_digits`` make training strips, the rest test strips.
TRAIN_IMAGES = 1347
SUBSETS = ("train", "test", "all")


@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float64)   # pixel values 0..16 -> [0, 1]
    images.setflags(write=False)
    labels = data.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_digit_images():
    """scikit-learn's 1797 handwritten digits: images (1797, 8, 8) in [0, 1] and labels (1797,)."""
    images, labels = _digits()
    return images.copy(), labels.copy()


def digit_strips(n, n_digits=3, rng=0, subset="all"):
    """``n`` strips of ``n_digits`` random handwritten digits and their captions.

    Parameters
    ----------
    n : int ≥ 1, number of strips
    n_digits : int ≥ 1, digits per strip (k); the image is 8 × 8k
    rng : ``numpy.random.Generator`` or int seed (the same seed gives the same data)
    subset : ``"train"`` (images 0 … 1346 of ``load_digits``), ``"test"`` (images 1347 … 1796,
        for strips made of digits a model trained on ``"train"`` has never seen) or ``"all"``

    Returns
    -------
    dict with

    * ``"images"`` (n, 8, 8k) float64 in [0, 1]: columns 8j … 8j+7 hold the j-th digit;
    * ``"digits"`` (n, k) int64, the digit values left to right;
    * ``"tgt_in"`` (n, k + 1) int64: BOS followed by the caption's words (teacher forcing);
    * ``"tgt_out"`` (n, k + 1) int64: the caption's words followed by EOS;
    * ``"indices"`` (n, k) int64, which ``load_digits`` image each digit is.
    """
    n = check_positive_int("n", n)
    n_digits = check_positive_int("n_digits", n_digits)
    if subset not in SUBSETS:
        raise ValueError(f"subset: expected one of {SUBSETS}, got {subset!r}")
    rng = as_generator(rng)
    images, labels = _digits()
    pool = {"train": np.arange(TRAIN_IMAGES), "test": np.arange(TRAIN_IMAGES, len(images)),
            "all": np.arange(len(images))}[subset]
    indices = pool[rng.integers(0, len(pool), size=(n, n_digits))]
    strips = images[indices]                                   # (n, k, 8, 8)
    strips = strips.transpose(0, 2, 1, 3).reshape(n, DIGIT_SIZE, DIGIT_SIZE * n_digits)
    digits = labels[indices]
    words = FIRST_WORD + digits
    tgt_in = np.concatenate([np.full((n, 1), BOS, dtype=np.int64), words], axis=1)
    tgt_out = np.concatenate([words, np.full((n, 1), EOS, dtype=np.int64)], axis=1)
    return {"images": strips, "digits": digits, "tgt_in": tgt_in, "tgt_out": tgt_out,
            "indices": indices.astype(np.int64)}


def caption_text(tokens):
    """Caption token ids as words, e.g. ``[6, 4, 7, 2]`` → ``"three one four"``.

    Reads up to the first EOS and skips PAD and BOS. A 1-D sequence gives a ``str``, a 2-D
    array (B, T) a list of B strings; NumPy arrays, lists and torch tensors are accepted.
    """
    words = {token: word for token, word in enumerate(CAPTION_WORDS) if token > EOS}
    return read_tokens(tokens, words, separator=" ")


__all__ = ["CAPTION_WORDS", "FIRST_WORD", "DIGIT_SIZE", "TRAIN_IMAGES", "load_digit_images",
           "digit_strips", "caption_text"]
