"""The Elman RNN as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.rnn``.

Row-vector, batch-first convention, one bias per layer::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          x_t (B, D), h_t (B, H)
    h_t = f(a_t),  f = tanh (or relu)            W_xh (D, H), W_hh (H, H), b_h (H,)

With ``num_layers = M > 1`` the layers are stacked: the states h_t^(l-1) of layer l-1 are the
inputs x_t of layer l, so layer 0 has W_xh (D, H) and every later layer W_xh (H, H) (the NumPy
``stacked_rnn_forward``).

``torch.nn.RNN`` stores the transposes (``weight_ih_l{l} = W_xhᵀ``, ``weight_hh_l{l} = W_hhᵀ``) and
two biases whose sum is ``b_h``; :meth:`ElmanRNN.to_torch_builtin` and
:meth:`ElmanRNN.from_torch_builtin` convert between the two layouts.
"""

import torch
from torch import nn

from ..validate import check_device
from ..numpy import rnn as np_rnn
from .recurrent import RecurrentModule

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


class ElmanRNN(RecurrentModule):
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), batch-first; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_xh_l{l}`` (D_l, H) with D_0 = D and D_l = H for l > 0,
    ``W_hh_l{l}`` (H, H) and ``b_h_l{l}`` (H,); ``.W_xh``, ``.W_hh`` and ``.b_h`` name layer 0's,
    as in the NumPy reference. ``forward(x, h0=None, lengths=None)`` returns the top layer's
    outputs (B, T, H) and the final states (num_layers, B, H).

    Initialisation: every entry from U(-1/√H, 1/√H), as ``nn.RNN`` does.
    """

    builtin = nn.RNN
    builtin_names = {"W_xh": ("weight_ih",), "W_hh": ("weight_hh",),
                     "b_h": ("bias_ih", "bias_hh")}
    builtin_options = ("nonlinearity",)
    numpy_check = staticmethod(np_rnn.check_rnn_params)
    size_names = ("W_xh", "W_hh")

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh",
                 dtype=None, device=None):
        device = check_device("device", device)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {sorted(NONLINEARITIES)}, "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, dtype=dtype, device=device,
                         nonlinearity=nonlinearity)

    def parameter_shapes(self, input_size):
        H = self.hidden_size
        return [("W_xh", (input_size, H)), ("W_hh", (H, H)), ("b_h", (H,))]

    def layer_forward(self, xs, state, params, valid):
        """One layer over time-major inputs ``xs`` (T, B, D_l) from ``state = (h0,)``: the
        outputs (T, B, H) and ``(h_T,)``."""
        (h,) = state
        f = NONLINEARITIES[self.nonlinearity]
        T, B, _ = xs.shape
        # The input projections of all steps do not depend on the recurrence: one product.
        xw = torch.addmm(params["b_h"], xs.reshape(T * B, -1), params["W_xh"]).view(T, B, -1)
        # unbind, not xw[t]: the gradient of T slices is then one stack, where indexing would
        # make every step's backward write into a full-size (T, B, H) zero tensor.
        xw_steps = xw.unbind(0)
        outputs = []
        for t in range(T):
            h_new = f(torch.addmm(xw_steps[t], h, params["W_hh"]))
            h, out = self.padded_step(h_new, h, valid, t)
            outputs.append(out)
        return torch.stack(outputs), (h,)


__all__ = ["ElmanRNN", "NONLINEARITIES"]
