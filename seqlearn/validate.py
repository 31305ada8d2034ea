"""Argument checks shared by both halves of the package and by the data module.

Every error names the argument, what was expected and what arrived, e.g.
``x: expected shape (any, any, 3), got shape (2, 5, 4) (axis 2 should be 3)``.
"""

import numpy as np


def describe(x):
    """A short description of ``x`` for error messages: its shape and dtype, or its value."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    shape = getattr(x, "shape", None)
    if shape is not None and hasattr(x, "dtype"):  # a torch tensor
        return f"a tensor of shape {tuple(shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:120]


def as_float_array(name, x, ndim=None, shape=None, allow_empty=False, finite=True):
    """Return ``x`` as a float NumPy array after checking it.

    ``ndim`` is the required number of dimensions; ``shape`` a tuple whose entries are ints
    (that size exactly) or ``None`` (any size), naming the dimensions in the message.
    Raises ``TypeError`` for non-numeric input and ``ValueError`` for a wrong shape, an empty
    array, or NaN/inf values. Lists and torch tensors are accepted and converted (a tensor as its
    values, detached and copied to the CPU). ``finite=False`` lets NaN/inf through (for a
    gradient inside a training step, whose loss check reports the divergence).
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name}: expected a numeric array, got {describe(x)}")
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        x = x.detach().cpu().numpy()    # a tensor is accepted as its values (any device, grad)
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):     # ragged nested lists
        raise TypeError(f"{name}: expected a numeric array, got {describe(x)}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected a numeric array, got {describe(x)}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name}: expected a real array, got {describe(x)}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        want = f"shape {shape_text(shape)}" if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name}: expected {want}, got {describe(arr)}")
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and arr.shape[axis] != want:
                raise ValueError(
                    f"{name}: expected shape {shape_text(shape)}, got shape {arr.shape} "
                    f"(axis {axis} should be {want})"
                )
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name}: expected a non-empty array, got {describe(arr)}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf values")
    return arr


def shape_text(shape):
    """``(2, any, 3)`` for the shape spec ``(2, None, 3)``."""
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"


def check_positive_int(name, value):
    """Raise unless ``value`` is an int ≥ 1; return it as an int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_positive_number(name, value):
    """Raise unless ``value`` is a finite real number > 0 (a learning rate, a threshold); return
    it as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a positive number, got {describe(value)}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def check_number(name, value, low=None, high=None, low_open=False):
    """Raise unless ``value`` is a finite real number (NumPy scalars included) in the range
    [low, high] (``low_open``: (low, high]); return it as a float. ``TypeError`` for a non-number,
    ``ValueError`` for NaN, inf or a value out of range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {describe(value)}")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    if not np.isfinite(value) or below or (high is not None and value > high):
        interval = (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
                    f"{'inf)' if high is None else str(high) + ']'}")
        raise ValueError(f"{name}: expected a finite number in {interval}, got {value!r}")
    return value


def check_layer_sizes(name, sizes):
    """Raise unless ``sizes`` is a list of at least two positive ints ``[D, H_1, ..., K]`` (the
    layer sizes of a feed-forward network); return it as a list of ints."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(
            f"{name}: expected a list of at least two layer sizes [D, ..., K], got {sizes!r}")
    return [check_positive_int(f"{name}[{i}]", s) for i, s in enumerate(sizes)]


def check_tensor(name, x, ndim=None, last_dim=None, finite=True):
    """Check a torch tensor's type, rank and last dimension, and (``finite=True``) that it holds
    no NaN or inf — the torch half refuses them at every public boundary, as the NumPy half does,
    with one ``torch.isfinite(x).all()`` per call; return it unchanged."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {describe(x)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name}: expected a floating-point tensor, got {describe(x)}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got {describe(x)}")
    if x.dim() == 0 and last_dim is not None:
        raise ValueError(f"{name}: expected at least 1 dimension (the last of size {last_dim}), "
                         f"got {describe(x)}")
    if x.numel() == 0:
        raise ValueError(f"{name}: expected a non-empty tensor, got {describe(x)}")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise ValueError(
            f"{name}: expected the last dimension to be {last_dim}, got {describe(x)}"
        )
    if finite and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: contains NaN or inf values")
    return x


def check_device(name, device):
    """``device`` (``None``, a string such as ``"cpu"``/``"cuda"``, or a ``torch.device``) as a
    ``torch.device`` (``None`` stays ``None``), refusing a CUDA device on a machine without one
    with a message that says how to run on the CPU instead."""
    import torch

    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (TypeError, RuntimeError, ValueError):
        raise TypeError(f"{name}: expected a device such as \"cpu\" or \"cuda\", a "
                        f"torch.device or None, got {describe(device)}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}: {device!r} asks for a GPU but no GPU is available (CUDA "
                         f"is not available to this torch); run on the CPU with device=\"cpu\" "
                         f"(or seqlearn.device(), which picks the GPU only when there is one)")
    return dev


def as_generator(rng, name="rng"):
    """A ``numpy.random.Generator`` from ``rng``: a Generator (returned as it is), a non-negative
    int seed, or ``None`` — a generator seeded from NumPy's global state, so that
    ``seqlearn.seed(n)`` makes every function of the package that draws random numbers repeat.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(np.random.randint(0, 2**63, dtype=np.int64))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name}: expected a numpy Generator, a non-negative int seed or None, "
                    f"got {describe(rng)}")


def check_finite_loss(loss, step, hint="gradients exploded: lower the learning rate or clip"):
    """Stop a training loop with a clear message when the loss is NaN or inf."""
    value = float(loss)
    if not np.isfinite(value):
        raise FloatingPointError(
            f"training stopped at step {step}: the loss is {value} ({hint})"
        )
    return value


__all__ = ["as_float_array", "as_generator", "check_finite_loss", "check_layer_sizes",
           "check_device", "check_number", "check_positive_int", "check_positive_number",
           "check_tensor", "describe", "shape_text"]
