"""The MUT1, MUT2, MUT3 cells of Jozefowicz, Zaremba & Sutskever (2015) as an ``nn.Module``,
mirroring ``seqlearn.numpy.mut`` (same parameter names and shapes; gradients by autograd).

Row-vector notation (x_t (B, D), h_t (B, H)), the paper's gate z_t = 1 − u_t (z = 0 copies the
state), candidate h̃_t::

    MUT1:  1 − u_t = σ(x_t W_xz + b_z)
           r_t = σ(x_t W_xr + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + tanh(x_t) + b_h)
    MUT2:  1 − u_t = σ(x_t W_xz + h_{t-1} W_hz + b_z)
           r_t = σ(x_t + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + x_t W_xh + b_h)
    MUT3:  1 − u_t = σ(x_t W_xz + tanh(h_{t-1}) W_hz + b_z)
           r_t = σ(x_t W_xr + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + x_t W_xh + b_h)
    all:   h_t = u_t ⊙ h_{t-1} + (1 − u_t) ⊙ h̃_t

MUT1 and MUT2 need D = H (for the first layer; every later layer reads H states).
"""

import torch

from ..numpy import mut as np_mut
from ..validate import check_device
from .recurrent import RecurrentModule


class MUT(RecurrentModule):
    """A MUT cell (``kind`` MUT1, MUT2 or MUT3) run over batch-first sequences; stacked when
    ``num_layers > 1``. ``forward(x, h0=None, lengths=None)`` returns the top layer's outputs
    (B, T, H) and the final states (num_layers, B, H).

    Parameters of layer ``l`` are named as in ``seqlearn.numpy.mut.PARAM_SHAPES[kind]`` with
    ``_l{l}`` appended (``.W_xz`` etc. name layer 0's) and drawn from U(-1/√H, 1/√H). There is
    no ``torch.nn`` built-in to convert to.
    """

    numpy_check = staticmethod(np_mut.check_mut_params)
    size_names = ("W_xz", "W_hh")

    def __init__(self, kind, input_size, hidden_size, num_layers=1, dtype=None, device=None):
        device = check_device("device", device)
        np_mut.check_kind(kind, input_size, hidden_size)
        super().__init__(input_size, hidden_size, num_layers, dtype=dtype, device=device,
                         kind=kind)

    def parameter_shapes(self, input_size):
        sizes = {"D": input_size, "H": self.hidden_size}
        return [(name, tuple(sizes[d] for d in dims))
                for name, dims in np_mut.PARAM_SHAPES[self.kind].items()]

    @staticmethod
    def numpy_options(arrays):
        return {"kind": np_mut.mut_kind(arrays)}

    def step(self, x_t, h_prev, params):
        """One step, h_t (B, H) from ``x_t`` (B, D_l) and ``h_prev`` = h_{t-1} (B, H), with the
        parameters ``params`` of a layer (``self.layer_parameters(l)``): the NumPy ``mut_step``."""
        p, h = params, h_prev
        if self.kind == "MUT1":
            z = torch.sigmoid(torch.addmm(p["b_z"], x_t, p["W_xz"]))
            r = torch.sigmoid(torch.addmm(p["b_r"], x_t, p["W_xr"]) + h @ p["W_hr"])
            cand = torch.tanh(torch.addmm(p["b_h"], r * h, p["W_hh"]) + torch.tanh(x_t))
        elif self.kind == "MUT2":
            z = torch.sigmoid(torch.addmm(p["b_z"], x_t, p["W_xz"]) + h @ p["W_hz"])
            r = torch.sigmoid(torch.addmm(p["b_r"] + x_t, h, p["W_hr"]))
            cand = torch.tanh(torch.addmm(p["b_h"], r * h, p["W_hh"]) + x_t @ p["W_xh"])
        else:
            z = torch.sigmoid(torch.addmm(p["b_z"], x_t, p["W_xz"]) + torch.tanh(h) @ p["W_hz"])
            r = torch.sigmoid(torch.addmm(p["b_r"], x_t, p["W_xr"]) + h @ p["W_hr"])
            cand = torch.tanh(torch.addmm(p["b_h"], r * h, p["W_hh"]) + x_t @ p["W_xh"])
        return torch.lerp(h, cand, z)    # cand ⊙ z + h ⊙ (1 − z), z = 1 − u

    def layer_forward(self, xs, state, params, valid):
        """One :meth:`step` per time step (see ``RecurrentModule.layer_forward``)."""
        (h,) = state
        outputs = []
        for t, x_t in enumerate(xs.unbind(0)):
            h, out = self.padded_step(self.step(x_t, h, params), h, valid, t)
            outputs.append(out)
        return torch.stack(outputs), (h,)


__all__ = ["MUT"]
