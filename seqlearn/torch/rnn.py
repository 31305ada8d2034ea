"""The Elman RNN as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.rnn``.

Row-vector, batch-first convention, one bias per layer::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          x_t (B, D), h_t (B, H)
    h_t = f(a_t),  f = tanh (or relu)            W_xh (D, H), W_hh (H, H), b_h (H,)

With ``num_layers = L > 1`` the layers are stacked: the states h_t^(l-1) of layer l-1 are the
inputs x_t of layer l, so layer 0 has W_xh (D, H) and every later layer W_xh (H, H).

``torch.nn.RNN`` stores the transposes (``weight_ih_l{l} = W_xhᵀ``, ``weight_hh_l{l} = W_hhᵀ``) and
two biases whose sum is ``b_h``; :meth:`ElmanRNN.to_torch_builtin` and
:meth:`ElmanRNN.from_torch_builtin` convert between the two layouts.
"""

import math

import numpy as np
import torch
from torch import nn

from ..validate import describe, check_positive_int, check_tensor
from ..numpy import rnn as np_rnn

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"nonlinearity: expected one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}"
        )
    return nonlinearity


class ElmanRNN(nn.Module):
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), batch-first; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_xh_l{l}`` (D_l, H) with D_0 = D and D_l = H for l > 0,
    ``W_hh_l{l}`` (H, H) and ``b_h_l{l}`` (H,). For the single-layer case ``.W_xh``, ``.W_hh`` and
    ``.b_h`` name the parameters of layer 0, as in the NumPy reference.

    Initialisation: every entry from U(-1/√H, 1/√H), as ``nn.RNN`` does.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh",
                 dtype=None, device=None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.nonlinearity = _check_nonlinearity(nonlinearity)
        H = self.hidden_size
        bound = 1.0 / math.sqrt(H)
        factory = {"dtype": dtype, "device": device}
        for layer in range(self.num_layers):
            D = self.input_size if layer == 0 else H
            for name, shape in (("W_xh", (D, H)), ("W_hh", (H, H)), ("b_h", (H,))):
                weight = torch.empty(shape, **factory).uniform_(-bound, bound)
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(weight))

    # -- layer 0 under the NumPy reference's names --------------------------------------------
    @property
    def W_xh(self):
        return self.W_xh_l0

    @property
    def W_hh(self):
        return self.W_hh_l0

    @property
    def b_h(self):
        return self.b_h_l0

    def layer_parameters(self, layer):
        """``(W_xh, W_hh, b_h)`` of layer ``layer`` (0 is the one that reads the inputs)."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer: expected 0 <= layer < {self.num_layers}, got {layer!r}")
        return (getattr(self, f"W_xh_l{layer}"), getattr(self, f"W_hh_l{layer}"),
                getattr(self, f"b_h_l{layer}"))

    def extra_repr(self):
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, nonlinearity={self.nonlinearity!r}")

    # -- forward ------------------------------------------------------------------------------
    def _check_inputs(self, x, h0):
        check_tensor("x", x, ndim=3, last_dim=self.input_size)
        weight = self.W_xh_l0
        if x.dtype != weight.dtype:
            raise TypeError(
                f"x: expected dtype {weight.dtype} (the parameters' dtype), got {describe(x)}; "
                f"convert the input with x.to({weight.dtype}) or the model with .to(dtype)"
            )
        if x.device != weight.device:
            raise ValueError(
                f"x: is on {x.device} but the parameters are on {weight.device}; "
                f"move one of them with .to(device)"
            )
        B = x.shape[0]
        L, H = self.num_layers, self.hidden_size
        if h0 is None:
            return x.new_zeros((L, B, H))
        check_tensor("h0", h0)
        if h0.dim() == 2 and L == 1:
            h0 = h0.unsqueeze(0)
        if tuple(h0.shape) != (L, B, H):
            accepted = f"({L}, {B}, {H})" + (f" or ({B}, {H})" if L == 1 else "")
            raise ValueError(
                f"h0: expected shape {accepted} (num_layers, batch, hidden), got {describe(h0)}"
            )
        if h0.dtype != x.dtype or h0.device != x.device:
            raise ValueError(
                f"h0: expected dtype {x.dtype} on {x.device} like x, got {describe(h0)} "
                f"on {h0.device}"
            )
        return h0

    def forward(self, x, h0=None):
        """Run all layers over the sequences.

        Parameters
        ----------
        x : (B, T, D) float tensor, on the parameters' device and of their dtype
        h0 : (num_layers, B, H) initial states (also (B, H) when num_layers = 1), or ``None``
            for zeros

        Returns
        -------
        out : (B, T, H), the states h_1 .. h_T of the top layer
        h_T : (num_layers, B, H), the last state of every layer
        """
        h0 = self._check_inputs(x, h0)
        f = NONLINEARITIES[self.nonlinearity]
        B, T, _ = x.shape
        # Time-major inside: each layer's states are stacked as (T, B, H), the next layer's input.
        seq = x.transpose(0, 1)
        initial = h0.unbind(0)
        finals = []
        for layer in range(self.num_layers):
            W_xh, W_hh, b_h = self.layer_parameters(layer)
            # The input projections of all steps do not depend on the recurrence: one product.
            xw = torch.addmm(b_h, seq.reshape(T * B, -1), W_xh).view(T, B, -1)
            # unbind, not xw[t]: the gradient of T slices is then one stack, where indexing
            # would make every step's backward write into a full-size (T, B, H) zero tensor.
            xw_steps = xw.unbind(0)
            h = initial[layer]
            states = []
            for t in range(T):
                h = f(torch.addmm(xw_steps[t], h, W_hh))
                states.append(h)
            seq = torch.stack(states)
            finals.append(h)
        return seq.transpose(0, 1), torch.stack(finals)

    # -- conversions --------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, nonlinearity="tanh", device=None):
        """Build the module from NumPy parameters: one dict ``{"W_xh", "W_hh", "b_h"}`` (a single
        layer, as made by ``seqlearn.numpy.rnn.init_rnn_params``) or a list of them (a stack)."""
        layers = [params] if isinstance(params, dict) else list(params)
        if not layers or not all(isinstance(p, dict) for p in layers):
            raise TypeError(
                f"params: expected a dict of W_xh, W_hh, b_h or a non-empty list of such dicts, "
                f"got {describe(params)}"
            )
        checked = []
        for layer, p in enumerate(layers):
            try:
                W_xh, W_hh, b_h = np_rnn._check_params(p)
            except (TypeError, ValueError) as err:
                raise type(err)(f"params (layer {layer}): {err}") from None
            checked.append((W_xh, W_hh, b_h))
        D, H = checked[0][0].shape
        for layer, (W_xh, W_hh, _) in enumerate(checked[1:], start=1):
            if W_xh.shape != (H, H) or W_hh.shape != (H, H):
                raise ValueError(
                    f"params (layer {layer}): a stacked layer reads the {H} states below it, so "
                    f"W_xh and W_hh must be ({H}, {H}); got {W_xh.shape} and {W_hh.shape}"
                )
        model = cls(D, H, num_layers=len(checked), nonlinearity=nonlinearity, dtype=dtype,
                    device=device)
        with torch.no_grad():
            for layer, arrays in enumerate(checked):
                for param, value in zip(model.layer_parameters(layer), arrays):
                    param.copy_(torch.as_tensor(np.asarray(value), dtype=dtype))
        return model

    def to_numpy(self):
        """A list of dicts ``{"W_xh", "W_hh", "b_h"}``, one per layer (the NumPy layout)."""
        return [
            {name: p.detach().cpu().numpy().copy()
             for name, p in zip(("W_xh", "W_hh", "b_h"), self.layer_parameters(layer))}
            for layer in range(self.num_layers)
        ]

    def to_torch_builtin(self):
        """An ``nn.RNN(batch_first=True)`` computing the same function: ``weight_ih = W_xhᵀ``,
        ``weight_hh = W_hhᵀ``, ``bias_ih = b_h``, ``bias_hh = 0``."""
        weight = self.W_xh_l0
        rnn = nn.RNN(self.input_size, self.hidden_size, num_layers=self.num_layers,
                     nonlinearity=self.nonlinearity, batch_first=True,
                     dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(self.num_layers):
                W_xh, W_hh, b_h = self.layer_parameters(layer)
                getattr(rnn, f"weight_ih_l{layer}").copy_(W_xh.T)
                getattr(rnn, f"weight_hh_l{layer}").copy_(W_hh.T)
                getattr(rnn, f"bias_ih_l{layer}").copy_(b_h)
                getattr(rnn, f"bias_hh_l{layer}").zero_()
        return rnn

    @classmethod
    def from_torch_builtin(cls, rnn):
        """Copy an ``nn.RNN`` (any ``batch_first``): ``W_xh = weight_ihᵀ``, ``W_hh = weight_hhᵀ``,
        ``b_h = bias_ih + bias_hh`` (zeros when ``bias=False``)."""
        if not isinstance(rnn, nn.RNN):
            raise TypeError(f"rnn: expected a torch.nn.RNN, got {type(rnn).__name__}")
        if rnn.bidirectional:
            raise ValueError("rnn: bidirectional nn.RNN has no ElmanRNN equivalent")
        if rnn.dropout:
            raise ValueError(
                f"rnn: dropout={rnn.dropout} between layers has no ElmanRNN equivalent; "
                f"set rnn.dropout = 0 first"
            )
        nonlinearity = "tanh" if rnn.mode == "RNN_TANH" else "relu"
        weight = rnn.weight_ih_l0
        model = cls(rnn.input_size, rnn.hidden_size, num_layers=rnn.num_layers,
                    nonlinearity=nonlinearity, dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(rnn.num_layers):
                W_xh, W_hh, b_h = model.layer_parameters(layer)
                W_xh.copy_(getattr(rnn, f"weight_ih_l{layer}").T)
                W_hh.copy_(getattr(rnn, f"weight_hh_l{layer}").T)
                if rnn.bias:
                    b_h.copy_(getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}"))
                else:
                    b_h.zero_()
        return model


__all__ = ["ElmanRNN", "NONLINEARITIES"]
