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


__all__ = ["best_time"]
