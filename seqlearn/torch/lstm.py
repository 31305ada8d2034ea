"""The LSTM as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.lstm``.

Row-vector, batch-first convention, gates in the order of ``torch.nn.LSTM`` (i, f, g, o)::

    z_t = x_t W_x + h_{t-1} W_h + b = [z_i | z_f | z_g | z_o]     W_x (D, 4H), W_h (H, 4H), b (4H,)
    i_t = σ(z_i),  f_t = σ(z_f),  g_t = tanh(z_g),  o_t = σ(z_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

with optional peepholes p_i, p_f, p_o (H,): i_t = σ(z_i + p_i ⊙ c_{t-1}),
f_t = σ(z_f + p_f ⊙ c_{t-1}), o_t = σ(z_o + p_o ⊙ c_t) (Greff et al. 2017's "vanilla LSTM").
With ``num_layers = L > 1`` the states of layer l-1 are the inputs of layer l.

``torch.nn.LSTM`` stores the transposes (``weight_ih_l{l} = W_xᵀ``, ``weight_hh_l{l} = W_hᵀ``) and
two biases whose sum is ``b``; it has no peepholes.
"""

import math

import numpy as np
import torch
from torch import nn

from ..validate import describe, check_positive_int, check_tensor
from ..numpy import lstm as np_lstm


# -- checks shared with seqlearn.torch.gru ------------------------------------------------------
def check_input(x, weight, input_size):
    """Check ``x`` (B, T, D) against the parameters' dtype and device."""
    check_tensor("x", x, ndim=3, last_dim=input_size)
    if x.dtype != weight.dtype:
        raise TypeError(
            f"x: expected dtype {weight.dtype} (the parameters' dtype), got {describe(x)}; "
            f"convert the input with x.to({weight.dtype}) or the model with .to(dtype)")
    if x.device != weight.device:
        raise ValueError(f"x: is on {x.device} but the parameters are on {weight.device}; "
                         f"move one of them with .to(device)")
    return x


def check_state(name, state, x, num_layers, hidden_size):
    """An initial state (L, B, H) (or (B, H) when L = 1); zeros when ``state`` is ``None``."""
    L, B, H = num_layers, x.shape[0], hidden_size
    if state is None:
        return x.new_zeros((L, B, H))
    check_tensor(name, state)
    if state.dim() == 2 and L == 1:
        state = state.unsqueeze(0)
    if tuple(state.shape) != (L, B, H):
        accepted = f"({L}, {B}, {H})" + (f" or ({B}, {H})" if L == 1 else "")
        raise ValueError(f"{name}: expected shape {accepted} (num_layers, batch, hidden), "
                         f"got {describe(state)}")
    if state.dtype != x.dtype or state.device != x.device:
        raise ValueError(f"{name}: expected dtype {x.dtype} on {x.device} like x, "
                         f"got {describe(state)} on {state.device}")
    return state


def lengths_mask(lengths, x):
    """A (T, B, 1) boolean tensor, True where step t < lengths[b] (the valid steps), from
    ``lengths`` (B,) integers in 1..T (a tensor on any device, a list or an array)."""
    B, T = x.shape[0], x.shape[1]
    if isinstance(lengths, torch.Tensor):
        lens = lengths
    else:
        try:
            lens = torch.as_tensor(np.asarray(lengths))
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"lengths: expected B={B} integers, got {describe(lengths)}") from None
    if lens.dtype.is_floating_point or lens.dtype.is_complex or lens.dtype == torch.bool:
        raise TypeError(f"lengths: expected integers, got {describe(lens)}")
    if tuple(lens.shape) != (B,):
        raise ValueError(f"lengths: expected shape ({B},), one length per sequence of the batch, "
                         f"got {describe(lens)}")
    low, high = int(lens.min()), int(lens.max())
    if low < 1 or high > T:
        raise ValueError(f"lengths: expected every length in 1..{T} (the padded length of x), "
                         f"got values from {low} to {high}")
    steps = torch.arange(T, device=x.device)
    return (steps[:, None] < lens.to(x.device)[None, :]).unsqueeze(-1)


def check_builtin(module, kind):
    if not isinstance(module, kind):
        raise TypeError(f"module: expected a torch.nn.{kind.__name__}, got {type(module).__name__}")
    if module.bidirectional:
        raise ValueError(f"module: a bidirectional nn.{kind.__name__} has no equivalent here")
    if module.dropout:
        raise ValueError(f"module: dropout={module.dropout} between layers has no equivalent "
                         f"here; set module.dropout = 0 first")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"module: proj_size={module.proj_size} has no equivalent here")


class LSTMRecurrence(torch.autograd.Function):
    """The recurrence of one LSTM layer, given the input projections, with the backward pass of
    ``seqlearn.numpy.lstm.lstm_backward`` written in torch.

    ``apply(xw (T, B, 4H), h0 (B, H), c0 (B, H), W_h (H, 4H), p_i, p_f, p_o, valid)`` with
    ``xw[t] = x_t W_x + b``, the peepholes (H,) or ``None``, and ``valid`` a (T, B, 1) boolean
    tensor (False: padding, the state is kept and the output is zero) or ``None``. Returns
    ``out`` (T, B, H), ``h_T`` and ``c_T`` (B, H).

    Autograd over the same loop records about ten nodes per step; one node for the whole
    recurrence, writing into preallocated buffers, is about 15% faster on the CPU and saves only
    the gate activations and the cells. Its backward is not itself differentiable (no
    second-order gradients through the recurrence).
    """

    @staticmethod
    def forward(ctx, xw, h0, c0, W_h, p_i, p_f, p_o, valid):
        T, B, H4 = xw.shape
        H = H4 // 4
        peep = p_i is not None
        act = xw.clone()                     # overwritten with the activations [i | f | g | o]
        c_new = xw.new_empty((T, B, H))      # the cell each step computes (before masking)
        tanh_c = xw.new_empty((T, B, H))
        out = xw.new_empty((T, B, H))
        h_state = out if valid is None else xw.new_empty((T, B, H))  # the carried states
        c_state = c_new if valid is None else xw.new_empty((T, B, H))
        h, c = h0, c0
        for t in range(T):
            a = act[t]
            a.addmm_(h, W_h)
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            if peep:
                i.addcmul_(p_i, c)
                f.addcmul_(p_f, c)
            else:
                o.sigmoid_()
            a[:, :2 * H].sigmoid_()          # i and f
            g.tanh_()
            cn = torch.mul(f, c, out=c_new[t])
            cn.addcmul_(i, g)
            if peep:
                o.addcmul_(p_o, cn)
                o.sigmoid_()
            torch.tanh(cn, out=tanh_c[t])
            hn = torch.mul(o, tanh_c[t], out=out[t])
            if valid is not None:
                m = valid[t]
                h = torch.where(m, hn, h, out=h_state[t])
                c = torch.where(m, cn, c, out=c_state[t])
                hn.mul_(m)
            else:
                h, c = hn, cn
        ctx.save_for_backward(act, c_new, tanh_c, h_state, c_state, h0, c0, W_h, p_i, p_f, p_o,
                              valid)
        return out, h.clone(), c.clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_hT, d_cT):
        act, c_new, tanh_c, h_state, c_state, h0, c0, W_h, p_i, p_f, p_o, valid = \
            ctx.saved_tensors
        T, B, H = tanh_c.shape
        peep = p_i is not None
        c_prev = torch.cat([c0.unsqueeze(0), c_state[:-1]])
        i, f, g, o = act.split(H, 2)
        # The local derivatives of all steps at once, so that the loop only multiplies:
        # δz_t = [δc_t ⊙ P_i, δc_t ⊙ P_f, δc_t ⊙ P_g, δh_t ⊙ P_o] and δc_t += δh_t ⊙ Q.
        P = torch.empty_like(act)
        P_i, P_f, P_g, P_o = P.split(H, 2)
        torch.mul(i, 1.0 - i, out=P_i).mul_(g)                 # g ⊙ σ'(z_i)
        torch.mul(f, 1.0 - f, out=P_f).mul_(c_prev)            # c_{t-1} ⊙ σ'(z_f)
        torch.mul(g, g, out=P_g).neg_().add_(1.0).mul_(i)      # i ⊙ tanh'(z_g)
        torch.mul(o, 1.0 - o, out=P_o).mul_(tanh_c)            # tanh(c_t) ⊙ σ'(z_o)
        Q = (tanh_c * tanh_c).neg_().add_(1.0).mul_(o)         # o ⊙ tanh'(c_t)
        dz = torch.empty_like(act)
        W_h_T = W_h.T.contiguous()
        dh = d_hT.clone()     # ∂L/∂h_t and ∂L/∂c_t of the carried state, from later steps
        dc = d_cT.clone()
        for t in reversed(range(T)):
            if valid is None:
                dh_new = dh.add_(d_out[t])
                dc_new = dc
            else:
                m = valid[t]
                dh_new = torch.where(m, dh + d_out[t], 0.0)
                dc_new = torch.where(m, dc, 0.0)
                dh_skip = dh.masked_fill_(m, 0.0)   # padding: gradients go straight through
                dc_skip = dc.masked_fill_(m, 0.0)
            dz_t = dz[t]
            dz_o = torch.mul(dh_new, P_o[t], out=dz_t[:, 3 * H:])
            dc_new = torch.addcmul(dc_new, dh_new, Q[t])
            if peep:
                dc_new.addcmul_(dz_o, p_o)
            # δz_i, δz_f, δz_g in one product, δc_t broadcast over the three blocks
            torch.mul(dc_new.unsqueeze(1), P[t, :, :3 * H].view(B, 3, H),
                      out=dz_t[:, :3 * H].view(B, 3, H))
            dc = dc_new.mul_(f[t])
            if peep:
                dc.addcmul_(dz_t[:, :H], p_i).addcmul_(dz_t[:, H:2 * H], p_f)
            dh = torch.mm(dz_t, W_h_T)
            if valid is not None:
                dh.add_(dh_skip)
                dc.add_(dc_skip)
        h_prev = torch.cat([h0.unsqueeze(0), h_state[:-1]]).reshape(T * B, H)
        dz_2d = dz.view(T * B, 4 * H)
        d_W_h = torch.mm(h_prev.T, dz_2d) if ctx.needs_input_grad[3] else None
        d_p = [None, None, None]
        if peep:
            d_p[0] = (dz[:, :, :H] * c_prev).sum((0, 1))
            d_p[1] = (dz[:, :, H:2 * H] * c_prev).sum((0, 1))
            d_p[2] = (dz[:, :, 3 * H:] * c_new).sum((0, 1))
        return dz, dh, dc, d_W_h, *d_p, None


class LSTM(nn.Module):
    """LSTM over batch-first sequences; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_x_l{l}`` (D_l, 4H) with D_0 = D and D_l = H for l > 0,
    ``W_h_l{l}`` (H, 4H), ``b_l{l}`` (4H,), and with ``peepholes`` ``p_i_l{l}``, ``p_f_l{l}``,
    ``p_o_l{l}`` (H,). ``.W_x``, ``.W_h``, ``.b`` name layer 0's, as in the NumPy reference.
    Initialisation: every entry from U(-1/√H, 1/√H), as ``nn.LSTM`` does.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, peepholes=False, dtype=None,
                 device=None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if not isinstance(peepholes, bool):
            raise TypeError(f"peepholes: expected True or False, got {peepholes!r}")
        self.peepholes = peepholes
        H = self.hidden_size
        bound = 1.0 / math.sqrt(H)
        factory = {"dtype": dtype, "device": device}
        for layer in range(self.num_layers):
            D = self.input_size if layer == 0 else H
            shapes = [("W_x", (D, 4 * H)), ("W_h", (H, 4 * H)), ("b", (4 * H,))]
            if peepholes:
                shapes += [(name, (H,)) for name in np_lstm.PEEPHOLES]
            for name, shape in shapes:
                weight = torch.empty(shape, **factory).uniform_(-bound, bound)
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(weight))

    @property
    def W_x(self):
        return self.W_x_l0

    @property
    def W_h(self):
        return self.W_h_l0

    @property
    def b(self):
        return self.b_l0

    def param_names(self):
        """The names of one layer's parameters, in the NumPy reference's spelling."""
        return ("W_x", "W_h", "b") + (np_lstm.PEEPHOLES if self.peepholes else ())

    def layer_parameters(self, layer):
        """Layer ``layer``'s parameters as a dict ``{"W_x", "W_h", "b"[, "p_i", ...]}``."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer: expected 0 <= layer < {self.num_layers}, got {layer!r}")
        return {name: getattr(self, f"{name}_l{layer}") for name in self.param_names()}

    def extra_repr(self):
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, peepholes={self.peepholes}")

    def forward(self, x, state0=None, lengths=None):
        """Run all layers over the sequences.

        Parameters
        ----------
        x : (B, T, D) float tensor, on the parameters' device and of their dtype
        state0 : ``(h0, c0)``, each (num_layers, B, H) (also (B, H) when num_layers = 1) or
            ``None``; or ``None`` for zeros
        lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences:
            a sequence's state stops changing after its last step, its outputs past it are zero
            and the returned final state is the one at its last step (what ``nn.LSTM`` computes
            on a ``pack_padded_sequence``, unpacked with ``pad_packed_sequence``)

        Returns
        -------
        out : (B, T, H), the states h_t of the top layer
        (h_T, c_T) : each (num_layers, B, H), the last state and cell of every layer
        """
        check_input(x, self.W_x_l0, self.input_size)
        if state0 is None:
            state0 = (None, None)
        if not isinstance(state0, (tuple, list)) or len(state0) != 2:
            raise TypeError(f"state0: expected a pair (h0, c0) or None, got {describe(state0)}")
        L, H = self.num_layers, self.hidden_size
        h0 = check_state("state0[0] (h0)", state0[0], x, L, H)
        c0 = check_state("state0[1] (c0)", state0[1], x, L, H)
        valid = None if lengths is None else lengths_mask(lengths, x)
        B, T, _ = x.shape
        seq = x.transpose(0, 1)   # time-major inside; each layer's outputs feed the next
        h_finals, c_finals = [], []
        for layer in range(L):
            p = self.layer_parameters(layer)
            # The input projections of all steps in one product (autograd differentiates it);
            # the recurrence is one autograd node with the hand-derived backward pass below.
            xw = torch.addmm(p["b"], seq.reshape(T * B, -1), p["W_x"]).view(T, B, 4 * H)
            peep = (p["p_i"], p["p_f"], p["p_o"]) if self.peepholes else (None, None, None)
            seq, h_T, c_T = LSTMRecurrence.apply(xw, h0[layer], c0[layer], p["W_h"], *peep,
                                                 valid)
            h_finals.append(h_T)
            c_finals.append(c_T)
        return seq.transpose(0, 1), (torch.stack(h_finals), torch.stack(c_finals))

    # -- conversions --------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """Build the module from NumPy parameters: one dict as made by
        ``seqlearn.numpy.lstm.init_lstm_params`` (a single layer) or a list of them (a stack).
        Peepholes are used when the dicts have ``p_i``, ``p_f``, ``p_o``."""
        layers = [params] if isinstance(params, dict) else (
            list(params) if isinstance(params, (list, tuple)) else None)
        if not layers or not all(isinstance(p, dict) for p in layers):
            raise TypeError(f"params: expected a dict of W_x, W_h, b or a non-empty list of "
                            f"such dicts, got {describe(params)}")
        checked = []
        for layer, p in enumerate(layers):
            try:
                checked.append(np_lstm._check_params(p))
            except (TypeError, ValueError) as err:
                raise type(err)(f"params (layer {layer}): {err}") from None
        D, H = checked[0][0].shape[0], checked[0][1].shape[0]
        peepholes = checked[0][3] is not None
        for layer, (W_x, W_h, _, peep) in enumerate(checked[1:], start=1):
            if W_x.shape != (H, 4 * H) or W_h.shape != (H, 4 * H):
                raise ValueError(
                    f"params (layer {layer}): a stacked layer reads the {H} states below it, so "
                    f"W_x and W_h must be ({H}, {4 * H}); got {W_x.shape} and {W_h.shape}")
            if (peep is not None) != peepholes:
                raise ValueError(f"params (layer {layer}): every layer must have peepholes or "
                                 f"none must")
        model = cls(D, H, num_layers=len(checked), peepholes=peepholes, dtype=dtype,
                    device=device)
        with torch.no_grad():
            for layer, (W_x, W_h, b, peep) in enumerate(checked):
                values = (W_x, W_h, b) + (peep if peepholes else ())
                for param, value in zip(model.layer_parameters(layer).values(), values):
                    param.copy_(torch.as_tensor(np.asarray(value), dtype=dtype))
        return model

    def to_numpy(self):
        """A list of dicts ``{"W_x", "W_h", "b"[, "p_i", "p_f", "p_o"]}``, one per layer."""
        return [{name: p.detach().cpu().numpy().copy()
                 for name, p in self.layer_parameters(layer).items()}
                for layer in range(self.num_layers)]

    def to_torch_builtin(self):
        """An ``nn.LSTM(batch_first=True)`` computing the same function: ``weight_ih = W_xᵀ``,
        ``weight_hh = W_hᵀ``, ``bias_ih = b``, ``bias_hh = 0``. Raises ``ValueError`` with
        peepholes, which ``nn.LSTM`` does not have."""
        if self.peepholes:
            raise ValueError("peepholes: nn.LSTM has no peephole connections, so an LSTM with "
                             "peepholes=True has no built-in equivalent")
        weight = self.W_x_l0
        lstm = nn.LSTM(self.input_size, self.hidden_size, num_layers=self.num_layers,
                       batch_first=True, dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(self.num_layers):
                p = self.layer_parameters(layer)
                getattr(lstm, f"weight_ih_l{layer}").copy_(p["W_x"].T)
                getattr(lstm, f"weight_hh_l{layer}").copy_(p["W_h"].T)
                getattr(lstm, f"bias_ih_l{layer}").copy_(p["b"])
                getattr(lstm, f"bias_hh_l{layer}").zero_()
        return lstm

    @classmethod
    def from_torch_builtin(cls, module):
        """Copy an ``nn.LSTM`` (any ``batch_first``): ``W_x = weight_ihᵀ``, ``W_h = weight_hhᵀ``,
        ``b = bias_ih + bias_hh`` (zeros when ``bias=False``)."""
        check_builtin(module, nn.LSTM)
        weight = module.weight_ih_l0
        model = cls(module.input_size, module.hidden_size, num_layers=module.num_layers,
                    dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            for layer in range(module.num_layers):
                p = model.layer_parameters(layer)
                p["W_x"].copy_(getattr(module, f"weight_ih_l{layer}").T)
                p["W_h"].copy_(getattr(module, f"weight_hh_l{layer}").T)
                if module.bias:
                    p["b"].copy_(getattr(module, f"bias_ih_l{layer}")
                                 + getattr(module, f"bias_hh_l{layer}"))
                else:
                    p["b"].zero_()
        return model


__all__ = ["LSTM"]
