"""Wall-clock timing for the chapters' speed tables and figures.

A single measurement is disturbed by whatever else the machine does at that moment (another
process, a cache that was cold, a thread that had to wake up). The disturbances only ever add
time, so the fastest of a few runs is the best estimate of what the code itself costs.
"""

import time

from .validate import check_positive_int, describe


def best_time(fn, repeats=3):
    """The shortest wall-clock time, in seconds, of ``repeats`` calls of ``fn()``.

    t = min_k (end_k − start_k) over the calls k = 1 .. repeats (``time.perf_counter``). ``fn``
    takes no arguments; its return value is discarded. Code that runs on a GPU must synchronise
    inside ``fn`` (``torch.cuda.synchronize()``), or only the launch is timed.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a function of no arguments, got {describe(fn)}")
    repeats = check_positive_int("repeats", repeats)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def saved_tensor_bytes(fn, exclude=()):
    """The memory, in bytes, that torch autograd keeps for the backward pass of ``fn()``.

    Every tensor that an operation saves for its backward pass while ``fn()`` runs (seen by
    ``torch.autograd.graph.saved_tensors_hooks``) is counted by the bytes of its storage, each
    storage once (a view and the tensor it views share one). Tensors that share a storage with one
    of ``exclude`` (the parameters, the inputs: memory that exists whether or not anything is
    saved) are not counted. ``fn`` takes no arguments and runs with gradients enabled.

    Returns ``(bytes, result)``, ``result`` being what ``fn()`` returned (keep it alive to call
    ``backward`` on it).
    """
    import torch

    if not callable(fn):
        raise TypeError(f"fn: expected a function of no arguments, got {describe(fn)}")
    try:
        skip = {t.untyped_storage().data_ptr() for t in exclude}
    except (AttributeError, TypeError):
        raise TypeError(f"exclude: expected an iterable of tensors, got {describe(exclude)}") \
            from None
    sizes = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            sizes[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return sum(sizes.values()), result


__all__ = ["best_time", "saved_tensor_bytes"]
