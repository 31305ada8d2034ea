"""The GRU as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.gru``.

Row-vector, batch-first convention, blocks in the order of ``torch.nn.GRU`` (r, u, n)::

    [a_r | a_u | a_n] = x_t W_x + b_x             W_x (D, 3H), b_x (3H,)
    [s_r | s_u | s_n] = h_{t-1} W_h + b_h         W_h (H, 3H), b_h (3H,)
    r_t = σ(a_r + s_r),  u_t = σ(a_u + s_u),  h̃_t = tanh(a_n + r_t ⊙ s_n)
    h_t = u_t ⊙ h_{t-1} + (1 − u_t) ⊙ h̃_t

(the candidate h̃_t is ``n`` in the code, as in torch). u = 0 and r = 1 give a vanilla RNN;
u = 1 copies the state. With ``num_layers`` = M > 1 the states of layer l-1 are the inputs of
layer l. ``torch.nn.GRU`` stores the transposes (``weight_ih_l{l} = W_xᵀ``,
``weight_hh_l{l} = W_hᵀ``) and the same two biases.
"""

import torch
from torch import nn

from ..numpy import gru as np_gru
from ..validate import check_device
from .recurrent import RecurrentModule


class GRU(RecurrentModule):
    """GRU over batch-first sequences; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_x_l{l}`` (D_l, 3H) with D_0 = D and D_l = H for l > 0,
    ``W_h_l{l}`` (H, 3H), ``b_x_l{l}`` and ``b_h_l{l}`` (3H,). ``.W_x``, ``.W_h``, ``.b_x``,
    ``.b_h`` name layer 0's, as in the NumPy reference. ``forward(x, h0=None, lengths=None)``
    returns the top layer's outputs (B, T, H) and the final states (num_layers, B, H).
    Initialisation: every entry from U(-1/√H, 1/√H), as ``nn.GRU`` does.
    """

    builtin = nn.GRU
    builtin_names = {"W_x": ("weight_ih",), "W_h": ("weight_hh",), "b_x": ("bias_ih",),
                     "b_h": ("bias_hh",)}
    numpy_check = staticmethod(np_gru.check_gru_params)

    def __init__(self, input_size, hidden_size, num_layers=1, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__(input_size, hidden_size, num_layers, dtype=dtype, device=device)

    def parameter_shapes(self, input_size):
        H = self.hidden_size
        return [("W_x", (input_size, 3 * H)), ("W_h", (H, 3 * H)), ("b_x", (3 * H,)),
                ("b_h", (3 * H,))]

    def layer_forward(self, xs, state, params, valid):
        """The GRU recurrence of one layer (see ``RecurrentModule.layer_forward``)."""
        (h,) = state
        T, B, _ = xs.shape
        H = self.hidden_size
        # The input projections of all steps in one product, split into [a_r | a_u] and a_n.
        xw = torch.addmm(params["b_x"], xs.reshape(T * B, -1), params["W_x"]).view(T, B, 3 * H)
        a_ru, a_n = xw[:, :, :2 * H].unbind(0), xw[:, :, 2 * H:].unbind(0)
        outputs = []
        for t in range(T):
            s_ru, s_n = torch.addmm(params["b_h"], h, params["W_h"]).split((2 * H, H), 1)
            r, u = torch.sigmoid(a_ru[t] + s_ru).chunk(2, 1)
            n = torch.tanh(torch.addcmul(a_n[t], r, s_n))
            h, out = self.padded_step(torch.lerp(n, h, u), h, valid, t)    # u ⊙ h + (1 − u) ⊙ n
            outputs.append(out)
        return torch.stack(outputs), (h,)


__all__ = ["GRU"]
