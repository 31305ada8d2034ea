"""The MUT1, MUT2, MUT3 cells of Jozefowicz, Zaremba & Sutskever (2015) as ``nn.Module``\\ s,
mirroring ``seqlearn.numpy.mut`` (same parameter names and shapes; gradients by autograd).

Row-vector notation (x_t (B, D), h_t (B, H))::

    MUT1:  z = σ(x_t W_xz + b_z)
           r = σ(x_t W_xr + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + tanh(x_t) + b_h) ⊙ z + h_t ⊙ (1 − z)
    MUT2:  z = σ(x_t W_xz + h_t W_hz + b_z)
           r = σ(x_t + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + x_t W_xh + b_h) ⊙ z + h_t ⊙ (1 − z)
    MUT3:  z = σ(x_t W_xz + tanh(h_t) W_hz + b_z)
           r = σ(x_t W_xr + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + x_t W_xh + b_h) ⊙ z + h_t ⊙ (1 − z)

MUT1 and MUT2 need D = H.
"""

import math

import numpy as np
import torch
from torch import nn

from ..validate import describe, check_positive_int, check_tensor
from ..numpy import mut as np_mut
from .lstm import check_input, check_state


class MUTCell(nn.Module):
    """One MUT cell: ``cell(x_t (B, D), h (B, H)) -> h_next (B, H)``.

    Parameters are named as in ``seqlearn.numpy.mut.PARAM_SHAPES[kind]`` and drawn from
    U(-1/√H, 1/√H).
    """

    def __init__(self, kind, input_size, hidden_size, dtype=None, device=None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.kind = np_mut.check_kind(kind, self.input_size, self.hidden_size)
        sizes = {"D": self.input_size, "H": self.hidden_size}
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, dims in np_mut.PARAM_SHAPES[kind].items():
            weight = torch.empty(tuple(sizes[d] for d in dims), dtype=dtype, device=device)
            self.register_parameter(name, nn.Parameter(weight.uniform_(-bound, bound)))

    def extra_repr(self):
        return f"{self.kind!r}, input_size={self.input_size}, hidden_size={self.hidden_size}"

    def forward(self, x_t, h):
        """h_{t+1} (B, H) from ``x_t`` (B, D) and ``h`` = h_t (B, H)."""
        check_tensor("x_t", x_t, ndim=2, last_dim=self.input_size)
        check_tensor("h", h, ndim=2, last_dim=self.hidden_size)
        return self._step(x_t, h)

    def _step(self, x_t, h):
        if self.kind == "MUT1":
            z = torch.sigmoid(torch.addmm(self.b_z, x_t, self.W_xz))
            r = torch.sigmoid(torch.addmm(self.b_r, x_t, self.W_xr) + h @ self.W_hr)
            cand = torch.tanh(torch.addmm(self.b_h, r * h, self.W_hh) + torch.tanh(x_t))
        elif self.kind == "MUT2":
            z = torch.sigmoid(torch.addmm(self.b_z, x_t, self.W_xz) + h @ self.W_hz)
            r = torch.sigmoid(torch.addmm(self.b_r + x_t, h, self.W_hr))
            cand = torch.tanh(torch.addmm(self.b_h, r * h, self.W_hh) + x_t @ self.W_xh)
        else:
            z = torch.sigmoid(torch.addmm(self.b_z, x_t, self.W_xz) + torch.tanh(h) @ self.W_hz)
            r = torch.sigmoid(torch.addmm(self.b_r, x_t, self.W_xr) + h @ self.W_hr)
            cand = torch.tanh(torch.addmm(self.b_h, r * h, self.W_hh) + x_t @ self.W_xh)
        return torch.lerp(h, cand, z)    # cand ⊙ z + h ⊙ (1 − z)


class MUT(nn.Module):
    """A MUT cell run over batch-first sequences: ``forward(x (B, T, D), h0=None)`` returns
    ``(out (B, T, H), h_T (B, H))``. The parameters are those of ``self.cell``."""

    def __init__(self, kind, input_size, hidden_size, dtype=None, device=None):
        super().__init__()
        self.cell = MUTCell(kind, input_size, hidden_size, dtype=dtype, device=device)

    @property
    def kind(self):
        return self.cell.kind

    def forward(self, x, h0=None):
        cell = self.cell
        check_input(x, cell.W_xz, cell.input_size)
        h = check_state("h0", h0, x, 1, cell.hidden_size)[0]
        states = []
        for x_t in x.unbind(1):
            h = cell._step(x_t, h)
            states.append(h)
        return torch.stack(states, dim=1), h

    @classmethod
    def from_numpy(cls, kind, params, dtype=torch.float64, device=None):
        """Build the module from a dict made by ``seqlearn.numpy.mut.init_mut_params(kind, ...)``."""
        np_mut.check_kind(kind)
        if not isinstance(params, dict):
            raise TypeError(f"params: expected a dict, got {describe(params)}")
        checked, D, H = np_mut._check_params(kind, params)
        model = cls(kind, D, H, dtype=dtype, device=device)
        with torch.no_grad():
            for name, value in checked.items():
                getattr(model.cell, name).copy_(torch.as_tensor(np.asarray(value), dtype=dtype))
        return model

    def to_numpy(self):
        """The parameters as a dict of NumPy arrays (the layout of ``seqlearn.numpy.mut``)."""
        return {name: p.detach().cpu().numpy().copy() for name, p in self.cell.named_parameters()}


__all__ = ["MUT", "MUTCell"]
