"""The vocabulary of the bad-input tables in ``tests/bad_input_tables/``.

Every public function and class of ``seqlearn.numpy``, ``seqlearn.torch`` and ``seqlearn.data``
has an entry in one table, keyed by its dotted name without the ``seqlearn.`` prefix
(``"numpy.rnn.init_rnn_params"``, ``"torch.lstm.LSTM"``, ``"data.series.make_windows"``).
An entry is a list of cases:

* :class:`Valid` — a correct call. The test checks that it runs, that it leaves its arguments as
  they were, that its result shares no memory with them (unless ``returns_view`` names the
  docstring sentence that says it does), and, with ``draws_random``, that two calls after
  ``seqlearn.seed(0)`` give the same result.
* :class:`Bad` — a wrong call that must raise ``error`` (``ValueError`` or ``TypeError``, or a
  subclass) with every string of ``names`` in its message: the caller's argument name, so that a
  student reads what is wrong in their own terms.
* :class:`Accepted` — a borderline call that is deliberately accepted (``why`` says why, as the
  docstring does); the test checks that it runs and returns finite values where it returns numbers.
"""

import copy
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass
class Valid:
    fn: Callable
    args: Callable[[], tuple] = tuple
    kwargs: Callable[[], dict] = dict
    draws_random: bool = False
    returns_view: str = ""
    label: str = "valid"

    def call(self, args=None, kwargs=None):
        return self.fn(*(self.args() if args is None else args),
                       **(self.kwargs() if kwargs is None else kwargs))


@dataclass
class Bad:
    label: str
    call: Callable[[], Any]
    error: type = ValueError
    names: tuple = ()

    def __post_init__(self):
        if isinstance(self.names, str):
            self.names = (self.names,)


@dataclass
class Accepted:
    label: str
    call: Callable[[], Any]
    why: str
    finite: bool = True


def arrays_in(obj, depth=0):
    """Every NumPy array and torch tensor inside ``obj`` (tuples, lists, dicts, modules)."""
    import torch

    if depth > 6:
        return
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, torch.nn.Module):
        yield from (p.data for p in obj.state_dict().values())
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from arrays_in(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from arrays_in(v, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not callable(obj):
        yield from arrays_in(vars(obj), depth + 1)


def as_numpy(a):
    import torch

    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a


def same(a, b):
    """Equal values, NaN equal to NaN, through nested containers, arrays and tensors."""
    xs, ys = list(arrays_in(a)), list(arrays_in(b))
    if len(xs) != len(ys):
        return False
    if not xs:
        return a == b if not callable(a) else True
    return all(x.shape == y.shape and np.array_equal(as_numpy(x), as_numpy(y), equal_nan=True)
               for x, y in zip(xs, ys))


def shares_memory(result, args):
    import torch

    def buffer(a):
        return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) and a.device.type == "cpu" \
            else a
    outs = [buffer(a) for a in arrays_in(result)]
    ins = [buffer(a) for a in arrays_in(args)]
    return any(isinstance(o, np.ndarray) and isinstance(i, np.ndarray) and o.size and i.size
               and np.shares_memory(o, i) for o in outs for i in ins)


def snapshot(args):
    return copy.deepcopy(args)


def all_finite(obj):
    return all(np.all(np.isfinite(as_numpy(a))) for a in arrays_in(obj)
               if np.issubdtype(np.asarray(as_numpy(a)).dtype, np.number))


__all__ = ["Accepted", "Bad", "Valid", "all_finite", "same", "shares_memory", "snapshot"]
