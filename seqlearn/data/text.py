"""Public-domain text for character-level language models, and a character vocabulary."""

from importlib import resources

import numpy as np

from ..validate import describe

#: The texts shipped with the package (see ``seqlearn.data``'s docstring for their source).
TEXTS = ("macbeth", "hamlet")


def load_text(name="macbeth"):
    """Return the full text of a shipped play (``"macbeth"`` ≈ 100 kB, ``"hamlet"`` ≈ 170 kB)."""
    if name not in TEXTS:
        raise ValueError(f"name: expected one of {TEXTS}, got {name!r}")
    return resources.files(__package__).joinpath(f"files/{name}.txt").read_text(encoding="ascii")


class CharVocabulary:
    """A bijection between the characters of a text and the integers 0..V-1 (sorted order)."""

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text: expected a non-empty string, got {text!r:.60}")
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """String -> int64 array of indices. Unknown characters raise ``ValueError``."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a string, got {describe(text)}")
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"text: characters {unknown[:10]} are not in the vocabulary")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def check_indices(self, indices, ndim=None):
        """``indices`` as an int64 array after checking that they are integers in [0, V) (a
        negative index is refused, not read from the end); ``ndim``: the required rank."""
        if hasattr(indices, "detach"):
            indices = indices.detach().cpu().numpy()
        if isinstance(indices, (str, bytes)):
            raise TypeError(f"indices: expected integer character indices, got {describe(indices)}")
        array = np.asarray(indices)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.integer)
                                         or (array.size == 0 and array.dtype == np.float64)):
            raise TypeError(f"indices: expected integer character indices, got {describe(indices)}")
        if ndim is not None and array.ndim != ndim:
            raise ValueError(f"indices: expected {ndim} dimension(s), got {describe(array)}")
        if array.size and (array.min() < 0 or array.max() >= len(self)):
            raise ValueError(f"indices: expected integers in [0, {len(self)}) (the vocabulary "
                             f"has {len(self)} characters), got {array.min()}..{array.max()}")
        return array.astype(np.int64)

    def decode(self, indices):
        """Sequence of indices (T,) -> string."""
        return "".join(self.chars[i] for i in self.check_indices(indices, ndim=1).tolist())

    def one_hot(self, indices):
        """Indices (...,) -> one-hot float64 array (..., V)."""
        indices = self.check_indices(indices)
        out = np.zeros(indices.shape + (len(self),))
        np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
        return out


__all__ = ["TEXTS", "load_text", "CharVocabulary"]
