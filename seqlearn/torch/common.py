"""Helpers shared by the modules of ``seqlearn.torch``: the padding convention, attention masks and
the checks of inputs and parameter dicts. Public, so that no module reaches into another's private
names.

**Padding.** As in ``seqlearn.numpy.common``: a padded batch comes with ``lengths`` (B,),
integers in 1..T, and step t of sequence b is real when t < lengths[b].
"""

import numpy as np
import torch

from ..numpy.common import check_param_dict
from ..validate import check_device, check_positive_int, describe


def padding_mask(lengths, T, batch_size=None):
    """(B, T) boolean mask, True at positions t < lengths[b] (the real tokens).

    ``lengths``: (B,) integers in 1..T — a tensor (the mask is made on its device), a list or an
    array; with ``batch_size`` B must equal it.
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
    if batch_size is not None and lens.shape[0] != batch_size:
        raise ValueError(f"lengths: expected shape ({batch_size},), one length per sequence of "
                         f"the batch, got {describe(lens)}")
    low, high = int(lens.min()), int(lens.max())
    if low < 1 or high > T:
        raise ValueError(f"lengths: expected every length in 1..{T}, got values from {low} "
                         f"to {high}")
    return torch.arange(T, device=lens.device)[None, :] < lens[:, None]


def check_mask(mask, shape, name="mask", device=None):
    """Check a boolean attention mask (True = may attend) that must broadcast to ``shape``
    (..., Tq, Tk); return it on ``device`` (``None``: where it is), not broadcast (``None``
    stays ``None``): the same tensor, not a copy, when it is already there.

    Raises ``TypeError`` for a non-boolean mask and ``ValueError`` when it does not broadcast or
    when some query may attend to no key (its softmax would be 0/0).
    """
    device = check_device("device", device)
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name}: expected a boolean torch.Tensor (True = may attend), "
                        f"got {describe(mask)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name}: expected dtype torch.bool (True = may attend), got "
                        f"{describe(mask)}; build it with padding_mask or causal_mask")
    shape = tuple(shape)
    try:
        broadcast = torch.broadcast_shapes(tuple(mask.shape), shape)
    except RuntimeError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(f"{name}: expected a shape that broadcasts to {shape}, got "
                         f"{tuple(mask.shape)}")
    if device is not None:
        mask = mask.to(device)
    # A row of the un-broadcast mask stands for every row it is broadcast to.
    if not bool(mask.any(-1).all()):
        raise ValueError(f"{name}: has a row with no key to attend to (all False); every query "
                         f"needs at least one allowed key")
    return mask


def check_like_parameters(name, x, parameter):
    """Raise unless the tensor ``x`` has the dtype and the device of ``parameter`` (one of the
    model's parameters): ``TypeError`` for another dtype, ``ValueError`` for another device.

    The policy of every module of the torch half: an input of another dtype (float64 into a
    float32 model, an integer tensor) is refused with the ``.to`` call that fixes it, never
    converted silently (a silent float64 → float32 cast would lose the precision the float64
    parity tests need, and the reverse would double the memory)."""
    if x.dtype != parameter.dtype:
        raise TypeError(f"{name}: expected dtype {parameter.dtype} (the parameters' dtype), got "
                        f"{describe(x)}; convert it with .to({parameter.dtype})")
    if x.device != parameter.device:
        raise ValueError(f"{name}: is on {x.device} but the parameters are on "
                         f"{parameter.device}; move one of them with .to(device)")


def check_same_dtype(name, x, other_name, other):
    """Raise unless the tensor ``x`` has the dtype and the device of the tensor ``other`` (the
    argument called ``other_name``): ``TypeError`` for another dtype, ``ValueError`` for another
    device. The torch half converts no dtypes silently: a float64 input to float32 weights is
    refused with the ``.to`` call that fixes it, as :func:`check_like_parameters` does for a
    module's parameters."""
    if x.dtype != other.dtype:
        raise TypeError(f"{name}: expected dtype {other.dtype} (that of {other_name}), got "
                        f"{describe(x)}; convert it with .to({other.dtype})")
    if x.device != other.device:
        raise ValueError(f"{name}: is on {x.device} but {other_name} is on {other.device}; move "
                         f"one of them with .to(device)")


def as_torch_generator(generator, name="generator", device=None):
    """``generator`` as a ``torch.Generator`` or ``None``: a generator is returned as it is, a
    non-negative int is a seed (a new generator on ``device``, the CPU by default), and ``None``
    stays ``None`` — torch's global generator, which ``seqlearn.seed`` seeds. As
    ``seqlearn.validate.as_generator`` for the NumPy half; ``TypeError`` naming ``name``
    otherwise."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool) \
            and generator >= 0:
        return torch.Generator(device=device or "cpu").manual_seed(int(generator))
    raise TypeError(f"{name}: expected None, a non-negative int seed or a torch.Generator, "
                    f"got {describe(generator)}")


def copy_numpy_params(model, params, shapes):
    """Copy the NumPy arrays ``params[name]`` into the parameters ``model.<name>`` (in their dtype
    and on their device), for every ``name: shape`` of ``shapes``; the torch half of
    ``from_numpy``. Raises ``TypeError``/``ValueError`` naming the entry of ``params`` that is
    missing or has another shape. Returns ``model``."""
    check_param_dict(params, tuple(shapes))
    with torch.no_grad():
        for name, shape in shapes.items():
            value = np.asarray(params[name])
            if value.shape != tuple(shape):
                raise ValueError(f"params[{name!r}]: expected shape {tuple(shape)}, got "
                                 f"{describe(value)}")
            if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
                raise ValueError(f"params[{name!r}]: expected finite numbers, got "
                                 f"{describe(value)}")
            target = getattr(model, name)
            target.copy_(torch.as_tensor(value, dtype=target.dtype, device=target.device))
    return model


def check_tokens(name, tokens, vocab_size=None, ndim=(2,), device=None):
    """``tokens`` as an int64 tensor of token ids after checking it: (B, T), or any rank in
    ``ndim`` ((1, 2) also accepts a single sequence (T,)); ids in ``[0, vocab_size)``. Arrays and
    lists are converted; the result is on ``device`` (``None``: where it is), and is ``tokens``
    itself, not a copy, when that is already an int64 tensor there.

    Raises ``TypeError`` for ids that are not integers and ``ValueError`` for another rank, an
    empty tensor or ids outside the vocabulary (which on a GPU would be a cryptic device-side
    assert in ``nn.Embedding``).
    """
    device = check_device("device", device)
    if not isinstance(tokens, torch.Tensor):
        array = None if isinstance(tokens, (str, bytes)) or tokens is None else np.asarray(tokens)
        if array is None or array.dtype == object or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name}: expected integer token ids, got {describe(tokens)}")
        tokens = torch.as_tensor(array)
    if tokens.dtype.is_floating_point or tokens.dtype.is_complex or tokens.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer token ids, got {describe(tokens)}")
    if tokens.dim() not in ndim or tokens.numel() == 0:
        want = " or ".join({1: "(T,)", 2: "(B, T)"}[n] for n in ndim)
        raise ValueError(f"{name}: expected a non-empty tensor of token ids of shape {want}, got "
                         f"{describe(tokens)}")
    tokens = tokens.to(device=device, dtype=torch.long)
    if vocab_size is not None:
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(f"{name}: expected token ids in [0, {vocab_size - 1}] (the "
                             f"vocabulary has {vocab_size} ids), got values from {low} to {high}")
    return tokens


__all__ = ["as_torch_generator", "check_like_parameters", "check_mask", "check_same_dtype", "check_tokens", "copy_numpy_params",
           "padding_mask"]
