"""Public-domain text for character-level language models, and a character vocabulary."""

from importlib import resources

import numpy as np

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
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"text: characters {unknown[:10]} are not in the vocabulary")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def decode(self, indices):
        """Sequence of indices -> string."""
        return "".join(self.chars[int(i)] for i in indices)

    def one_hot(self, indices):
        """Indices (...,) -> one-hot float64 array (..., V)."""
        indices = np.asarray(indices)
        out = np.zeros(indices.shape + (len(self),))
        np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
        return out


__all__ = ["TEXTS", "load_text", "CharVocabulary"]
