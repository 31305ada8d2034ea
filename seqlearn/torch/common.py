"""Helpers shared by the modules of ``seqlearn.torch``: the padding convention. Public, so that
no module reaches into another's private names.

**Padding.** As in ``seqlearn.numpy.common``: a padded batch comes with ``lengths`` (B,),
integers in 1..T, and step t of sequence b is real when t < lengths[b].
"""

import numpy as np
import torch

from ..validate import check_positive_int, describe


def padding_mask(lengths, T):
    """(B, T) boolean mask, True at positions t < lengths[b] (the real tokens).

    ``lengths``: (B,) integers in 1..T — a tensor (the mask is made on its device), a list or an
    array.
    """
    T = check_positive_int("T", T)
    if isinstance(lengths, torch.Tensor):
        lens = lengths
    else:
        try:
            lens = torch.as_tensor(np.asarray(lengths))
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"lengths: expected a 1-D sequence of integers, "
                            f"got {describe(lengths)}") from None
    if lens.dtype.is_floating_point or lens.dtype.is_complex or lens.dtype == torch.bool:
        raise TypeError(f"lengths: expected integers, got {describe(lens)}")
    if lens.dim() != 1 or lens.numel() == 0:
        raise ValueError(f"lengths: expected shape (B,) with B >= 1, got {describe(lens)}")
    low, high = int(lens.min()), int(lens.max())
    if low < 1 or high > T:
        raise ValueError(f"lengths: expected every length in 1..{T}, got values from {low} "
                         f"to {high}")
    return torch.arange(T, device=lens.device)[None, :] < lens[:, None]


__all__ = ["padding_mask"]
