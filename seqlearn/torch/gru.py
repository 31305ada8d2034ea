"""The GRU as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.gru``.

Row-vector, batch-first convention, gates in the order of ``torch.nn.GRU`` (r, u, n)::

    [a_r | a_u | a_n] = x_t W_x + b_x             W_x (D, 3H), b_x (3H,)
    [s_r | s_u | s_n] = h_{t-1} W_h + b_h         W_h (H, 3H), b_h (3H,)
    r_t = σ(a_r + s_r),  u_t = σ(a_u + s_u),  n_t = tanh(a_n + r_t ⊙ s_n)
    h_t = (1 − u_t) ⊙ n_t + u_t ⊙ h_{t-1}

u = 0 and r = 1 give a vanilla RNN; u = 1 copies the state. With ``num_layers = L > 1`` the
states of layer l-1 are the inputs of layer l. ``torch.nn.GRU`` stores the transposes
(``weight_ih_l{l} = W_xᵀ``, ``weight_hh_l{l} = W_hᵀ``) and the same two biases.
"""

import math

import numpy as np
import torch
from torch import nn

from ..validate import describe, check_positive_int
from ..numpy import gru as np_gru
from .lstm import check_builtin, check_input, check_state, lengths_mask

PARAM_NAMES = ("W_x", "W_h", "b_x", "b_h")


class GRU(nn.Module):
    """GRU over batch-first sequences; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_x_l{l}`` (D_l, 3H) with D_0 = D and D_l = H for l > 0,
    ``W_h_l{l}`` (H, 3H), ``b_x_l{l}`` and ``b_h_l{l}`` (3H,). ``.W_x``, ``.W_h``, ``.b_x``,
    ``.b_h`` name layer 0's, as in the NumPy reference.
    Initialisation: every entry from U(-1/√H, 1/√H), as ``nn.GRU`` does.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, dtype=None, device=None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        H = self.hidden_size
        bound = 1.0 / math.sqrt(H)
        factory = {"dtype": dtype, "device": device}
        for layer in range(self.num_layers):
            D = self.input_size if layer == 0 else H
            for name, shape in (("W_x", (D, 3 * H)), ("W_h", (H, 3 * H)), ("b_x", (3 * H,)),
                                ("b_h", (3 * H,))):
                weight = torch.empty(shape, **factory).uniform_(-bound, bound)
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(weight))

    @property
    def W_x(self):
        return self.W_x_l0

    @property
    def W_h(self):
        return self.W_h_l0

    @property
    def b_x(self):
        return self.b_x_l0

    @property
    def b_h(self):
        return self.b_h_l0

    def layer_parameters(self, layer):
        """Layer ``layer``'s parameters as a dict ``{"W_x", "W_h", "b_x", "b_h"}``."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer: expected 0 <= layer < {self.num_layers}, got {layer!r}")
        return {name: getattr(self, f"{name}_l{layer}") for name in PARAM_NAMES}

    def extra_repr(self):
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}")

    def forward(self, x, h0=None, lengths=None):
        """Run all layers over the sequences.

        Parameters
        ----------
        x : (B, T, D) float tensor, on the parameters' device and of their dtype
        h0 : (num_layers, B, H) initial states (also (B, H) when num_layers = 1), or ``None``
        lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences
            (the semantics of ``nn.GRU`` on a ``pack_padded_sequence``: states frozen and
            outputs zero past each length, the final state taken at each sequence's last step)

        Returns
        -------
        out : (B, T, H), the states h_t of the top layer
        h_T : (num_layers, B, H), the last state of every layer
        """
        check_input(x, self.W_x_l0, self.input_size)
        L, H = self.num_layers, self.hidden_size
        h0 = check_state("h0", h0, x, L, H)
        valid = None if lengths is None else lengths_mask(lengths, x).unbind(0)
        B, T, _ = x.shape
        seq = x.transpose(0, 1)
        finals = []
        for layer in range(L):
            p = self.layer_parameters(layer)
            xw = torch.addmm(p["b_x"], seq.reshape(T * B, -1), p["W_x"]).view(T, B, 3 * H)
            a_ru_steps = xw[:, :, :2 * H].unbind(0)
            a_n_steps = xw[:, :, 2 * H:].unbind(0)
            W_h, b_h = p["W_h"], p["b_h"]
            h = h0[layer]
            states = []
            for t in range(T):
                s = torch.addmm(b_h, h, W_h)
                s_ru, s_n = s.split((2 * H, H), 1)
                r, u = torch.sigmoid(a_ru_steps[t] + s_ru).chunk(2, 1)
                n = torch.tanh(torch.addcmul(a_n_steps[t], r, s_n))
                h_new = torch.lerp(n, h, u)      # n + u ⊙ (h − n)
                if valid is None:
                    h = h_new
                    states.append(h_new)
                else:
                    m = valid[t]
                    h = torch.where(m, h_new, h)
                    states.append(h_new * m)
            seq = torch.stack(states)
            finals.append(h)
        return seq.transpose(0, 1), torch.stack(finals)

    # -- conversions --------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """Build the module from NumPy parameters: one dict as made by
        ``seqlearn.numpy.gru.init_gru_params`` (a single layer) or a list of them (a stack)."""
        layers = [params] if isinstance(params, dict) else (
            list(params) if isinstance(params, (list, tuple)) else None)
        if not layers or not all(isinstance(p, dict) for p in layers):
            raise TypeError(f"params: expected a dict of W_x, W_h, b_x, b_h or a non-empty list "
                            f"of such dicts, got {describe(params)}")
        checked = []
        for layer, p in enumerate(layers):
            try:
                checked.append(np_gru._check_params(p))
            except (TypeError, ValueError) as err:
                raise type(err)(f"params (layer {layer}): {err}") from None
        D, H = checked[0][0].shape[0], checked[0][1].shape[0]
        for layer, (W_x, W_h, _, _) in enumerate(checked[1:], start=1):
            if W_x.shape != (H, 3 * H) or W_h.shape != (H, 3 * H):
                raise ValueError(
                    f"params (layer {layer}): a stacked layer reads the {H} states below it, so "
                    f"W_x and W_h must be ({H}, {3 * H}); got {W_x.shape} and {W_h.shape}")
        model = cls(D, H, num_layers=len(checked), dtype=dtype, device=device)
        with torch.no_grad():
            for layer, values in enumerate(checked):
                for param, value in zip(model.layer_parameters(layer).values(), values):
                    param.copy_(torch.as_tensor(np.asarray(value), dtype=dtype))
        return model

    def to_numpy(self):
        """A list of dicts ``{"W_x", "W_h", "b_x", "b_h"}``, one per layer (the NumPy layout)."""
        return [{name: p.detach().cpu().numpy().copy()
                 for name, p in self.layer_parameters(layer).items()}
                for layer in range(self.num_layers)]

    def to_torch_builtin(self):
        """An ``nn.GRU(batch_first=True)`` computing the same function: ``weight_ih = W_xᵀ``,
        ``weight_hh = W_hᵀ``, ``bias_ih = b_x``, ``bias_hh = b_h``."""
        weight = self.W_x_l0
        gru = nn.GRU(self.input_size, self.hidden_size, num_layers=self.num_layers,
                     batch_first=True, dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(self.num_layers):
                p = self.layer_parameters(layer)
                getattr(gru, f"weight_ih_l{layer}").copy_(p["W_x"].T)
                getattr(gru, f"weight_hh_l{layer}").copy_(p["W_h"].T)
                getattr(gru, f"bias_ih_l{layer}").copy_(p["b_x"])
                getattr(gru, f"bias_hh_l{layer}").copy_(p["b_h"])
        return gru

    @classmethod
    def from_torch_builtin(cls, module):
        """Copy an ``nn.GRU`` (any ``batch_first``): ``W_x = weight_ihᵀ``, ``W_h = weight_hhᵀ``,
        ``b_x = bias_ih``, ``b_h = bias_hh`` (zeros when ``bias=False``)."""
        check_builtin(module, nn.GRU)
        weight = module.weight_ih_l0
        model = cls(module.input_size, module.hidden_size, num_layers=module.num_layers,
                    dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(module.num_layers):
                p = model.layer_parameters(layer)
                p["W_x"].copy_(getattr(module, f"weight_ih_l{layer}").T)
                p["W_h"].copy_(getattr(module, f"weight_hh_l{layer}").T)
                if module.bias:
                    p["b_x"].copy_(getattr(module, f"bias_ih_l{layer}"))
                    p["b_h"].copy_(getattr(module, f"bias_hh_l{layer}"))
                else:
                    p["b_x"].zero_()
                    p["b_h"].zero_()
        return model


__all__ = ["GRU", "PARAM_NAMES"]
