"""The LSTM as a ``torch.nn.Module``, mirroring ``seqlearn.numpy.lstm``.

Row-vector, batch-first convention, gates in the order of ``torch.nn.LSTM`` (i, f, g, o)::

    a_t = x_t W_x + h_{t-1} W_h + b = [a_i | a_f | a_g | a_o]     W_x (D, 4H), W_h (H, 4H), b (4H,)
    i_t = σ(a_i),  f_t = σ(a_f),  g_t = tanh(a_g),  o_t = σ(a_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

with optional peepholes p_i, p_f, p_o (H,): i_t = σ(a_i + p_i ⊙ c_{t-1}),
f_t = σ(a_f + p_f ⊙ c_{t-1}), o_t = σ(a_o + p_o ⊙ c_t) (Greff et al. 2017's "vanilla LSTM").
With ``num_layers`` = M > 1 the states of layer l-1 are the inputs of layer l. With
``block_size`` S > 1 the cells form memory blocks of S cells sharing their gates, as in
``seqlearn.numpy.lstm``: W_x (D, 3K + H), W_h (H, 3K + H), b (3K + H,) with K = H/S.

``torch.nn.LSTM`` stores the transposes (``weight_ih_l{l} = W_xᵀ``, ``weight_hh_l{l} = W_hᵀ``) and
two biases whose sum is ``b``; it has no peepholes and no memory blocks.

Two helpers set up the gates of an ``LSTM`` or an ``nn.LSTM`` for the tricks of the trade:
:func:`add_gate_biases` shifts the input and forget gates' biases, and :func:`pin_forget_gate`
removes the forget gate (f_t = 1, the LSTM of 1997).
"""

import math

import torch
from torch import nn

from ..numpy import lstm as np_lstm
from ..validate import check_device, describe
from .recurrent import RecurrentModule

#: The forget gate's pre-activation that :func:`pin_forget_gate` sets: σ(100) rounds to exactly 1
#: in float32 and float64, and so does σ(a) for every a above 37 (float64) or 17 (float32).
PINNED_FORGET_BIAS = 100.0


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
        # δa_t = [δc_t ⊙ P_i, δc_t ⊙ P_f, δc_t ⊙ P_g, δh_t ⊙ P_o] and δc_t += δh_t ⊙ Q.
        P = torch.empty_like(act)
        P_i, P_f, P_g, P_o = P.split(H, 2)
        torch.mul(i, 1.0 - i, out=P_i).mul_(g)                 # g ⊙ σ'(a_i)
        torch.mul(f, 1.0 - f, out=P_f).mul_(c_prev)            # c_{t-1} ⊙ σ'(a_f)
        torch.mul(g, g, out=P_g).neg_().add_(1.0).mul_(i)      # i ⊙ tanh'(a_g)
        torch.mul(o, 1.0 - o, out=P_o).mul_(tanh_c)            # tanh(c_t) ⊙ σ'(a_o)
        Q = (tanh_c * tanh_c).neg_().add_(1.0).mul_(o)         # o ⊙ tanh'(c_t)
        da = torch.empty_like(act)
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
            da_t = da[t]
            da_o = torch.mul(dh_new, P_o[t], out=da_t[:, 3 * H:])
            dc_new = torch.addcmul(dc_new, dh_new, Q[t])
            if peep:
                dc_new.addcmul_(da_o, p_o)
            # δa_i, δa_f, δa_g in one product, δc_t broadcast over the three blocks
            torch.mul(dc_new.unsqueeze(1), P[t, :, :3 * H].view(B, 3, H),
                      out=da_t[:, :3 * H].view(B, 3, H))
            dc = dc_new.mul_(f[t])
            if peep:
                dc.addcmul_(da_t[:, :H], p_i).addcmul_(da_t[:, H:2 * H], p_f)
            dh = torch.mm(da_t, W_h_T)
            if valid is not None:
                dh.add_(dh_skip)
                dc.add_(dc_skip)
        h_prev = torch.cat([h0.unsqueeze(0), h_state[:-1]]).reshape(T * B, H)
        da_2d = da.view(T * B, 4 * H)
        d_W_h = torch.mm(h_prev.T, da_2d) if ctx.needs_input_grad[3] else None
        d_p = [None, None, None]
        if peep:
            d_p[0] = (da[:, :, :H] * c_prev).sum((0, 1))
            d_p[1] = (da[:, :, H:2 * H] * c_prev).sum((0, 1))
            d_p[2] = (da[:, :, 3 * H:] * c_new).sum((0, 1))
        return da, dh, dc, d_W_h, *d_p, None


class LSTM(RecurrentModule):
    """LSTM over batch-first sequences; stacked when ``num_layers > 1``.

    Parameters of layer ``l``: ``W_x_l{l}`` (D_l, 4H) with D_0 = D and D_l = H for l > 0,
    ``W_h_l{l}`` (H, 4H), ``b_l{l}`` (4H,), and with ``peepholes`` ``p_i_l{l}``, ``p_f_l{l}``,
    ``p_o_l{l}`` (H,). ``.W_x``, ``.W_h``, ``.b`` name layer 0's, as in the NumPy reference.
    With ``block_size`` S > 1 (a divisor of H; no peepholes) the cells form memory blocks of S
    cells sharing their gates, and the widths 4H become 3K + H with K = H/S (blocks
    [i (K) | f (K) | g (H) | o (K)]). Initialisation: every entry from U(-1/√H, 1/√H), as
    ``nn.LSTM`` does.
    """

    builtin = nn.LSTM
    builtin_names = {"W_x": ("weight_ih",), "W_h": ("weight_hh",), "b": ("bias_ih", "bias_hh")}
    numpy_check = staticmethod(np_lstm.check_lstm_params)

    def __init__(self, input_size, hidden_size, num_layers=1, peepholes=False, block_size=1,
                 dtype=None, device=None):
        device = check_device("device", device)
        if not isinstance(peepholes, bool):
            raise TypeError(f"peepholes: expected True or False, got {peepholes!r}")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1 \
                or (isinstance(hidden_size, int) and hidden_size % block_size):
            raise ValueError(f"block_size: expected a positive divisor of hidden_size "
                             f"{hidden_size!r}, got {block_size!r}")
        if peepholes and block_size > 1:
            raise ValueError(f"block_size: peepholes are per cell, so they cannot be combined "
                             f"with memory blocks; got block_size {block_size} with peepholes")
        super().__init__(input_size, hidden_size, num_layers, dtype=dtype, device=device,
                         peepholes=peepholes, block_size=block_size)
        if self.block_size > 1:
            self.register_buffer("block_columns", torch.as_tensor(
                np_lstm.lstm_block_columns(self.hidden_size, self.block_size), device=device),
                persistent=False)

    def parameter_shapes(self, input_size):
        H = self.hidden_size
        width = 3 * (H // self.block_size) + H
        shapes = [("W_x", (input_size, width)), ("W_h", (H, width)), ("b", (width,))]
        return shapes + [(name, (H,)) for name in np_lstm.PEEPHOLES if self.peepholes]

    @staticmethod
    def numpy_options(arrays):
        return {"peepholes": "p_i" in arrays, "block_size": np_lstm.lstm_block_size(arrays)}

    def check_inputs(self, x, state0=None):
        """Check ``x`` (B, T, D) and ``state0 = (h0, c0)``; return ``(h0, c0)``, each
        (num_layers, B, H) (zeros for ``None``)."""
        self.check_input(x)
        if state0 is None:
            state0 = (None, None)
        if not isinstance(state0, (tuple, list)) or len(state0) != 2:
            raise TypeError(f"state0: expected a pair (h0, c0) or None, got {describe(state0)}")
        return (self.check_state("state0[0] (h0)", state0[0], x),
                self.check_state("state0[1] (c0)", state0[1], x))

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
        return self.run_layers(x, self.check_inputs(x, state0), lengths)

    def layer_forward(self, xs, state, params, valid):
        """One layer over time-major inputs ``xs`` (T, B, D_l) from ``state = (h0, c0)``: the
        outputs (T, B, H) and ``(h_T, c_T)``."""
        h0, c0 = state
        T, B, _ = xs.shape
        W_x, W_h, b = params["W_x"], params["W_h"], params["b"]
        if self.block_size > 1:
            # memory blocks: each shared gate's column repeated for the cells of its block;
            # autograd sums the repeated columns' gradients back into the shared one
            W_x, W_h, b = (w[..., self.block_columns] for w in (W_x, W_h, b))
        # The input projections of all steps in one product (autograd differentiates it); the
        # recurrence is one autograd node with the hand-derived backward pass of LSTMRecurrence.
        xw = torch.addmm(b, xs.reshape(T * B, -1), W_x).view(T, B, -1)
        peep = [params.get(name) for name in np_lstm.PEEPHOLES]
        out, h_T, c_T = LSTMRecurrence.apply(xw, h0, c0, W_h, *peep, valid)
        return out, (h_T, c_T)

    def to_torch_builtin(self):
        """An ``nn.LSTM(batch_first=True)`` computing the same function: ``weight_ih = W_xᵀ``,
        ``weight_hh = W_hᵀ``, ``bias_ih = b``, ``bias_hh = 0``. Raises ``ValueError`` with
        peepholes or memory blocks, which ``nn.LSTM`` does not have."""
        if self.peepholes:
            raise ValueError("peepholes: nn.LSTM has no peephole connections, so an LSTM with "
                             "peepholes=True has no built-in equivalent")
        if self.block_size > 1:
            raise ValueError(f"block_size: nn.LSTM has no memory blocks, so an LSTM with "
                             f"block_size={self.block_size} has no built-in equivalent")
        return super().to_torch_builtin()


def _gate_biases(model, name):
    """The bias tensors of every layer of an ``LSTM`` or ``nn.LSTM`` with the slices of the input
    and forget gates: ``[(bias, i_slice, f_slice), ...]``."""
    if isinstance(model, LSTM):
        K = model.hidden_size // model.block_size
        return [(model.layer_parameters(layer)["b"], slice(0, K), slice(K, 2 * K))
                for layer in range(model.num_layers)]
    if isinstance(model, nn.LSTM):
        if not model.bias:
            raise ValueError(f"{name}: an nn.LSTM built with bias=False has no biases to set")
        H = model.hidden_size
        return [(getattr(model, f"bias_ih_l{layer}{suffix}"), slice(0, H), slice(H, 2 * H))
                for layer in range(model.num_layers)
                for suffix in ([""] + (["_reverse"] if model.bidirectional else []))]
    raise TypeError(f"{name}: expected a seqlearn.torch.lstm.LSTM or an nn.LSTM, got "
                    f"{describe(model)}")


def add_gate_biases(model, input_bias=0.0, forget_bias=0.0):
    """Add ``input_bias`` to the input gate's block and ``forget_bias`` to the forget gate's block
    of the bias of every layer of ``model`` (an :class:`LSTM`, memory blocks included, or an
    ``nn.LSTM``, whose ``bias_ih`` gets them), in place, without recording gradients. At the start
    of training i ≈ σ(input_bias) and f ≈ σ(forget_bias): a negative input bias keeps the cell
    closed to distractors (Hochreiter & Schmidhuber 1997), a positive forget bias keeps the
    carousel open (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1). Returns ``model``."""
    for name, value in (("input_bias", input_bias), ("forget_bias", forget_bias)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise TypeError(f"{name}: expected a finite number, got {describe(value)}")
    with torch.no_grad():
        for bias, i, f in _gate_biases(model, "model"):
            bias[i] += input_bias
            bias[f] += forget_bias
    return model


def pin_forget_gate(model):
    """Remove the forget gate of every layer of ``model`` (an :class:`LSTM` or an ``nn.LSTM``), in
    place: its weights (and peephole) become 0 and its bias :data:`PINNED_FORGET_BIAS`, so that
    f_t = σ(100) = 1 exactly and c_t = c_{t-1} + i_t ⊙ g_t, the LSTM of Hochreiter & Schmidhuber
    (1997), which has no forget gate. The pin holds during training: σ'(100) = σ(1 − σ) is exactly
    0, so these parameters get exactly zero gradients, and optimisers without weight decay (SGD,
    Adam) leave them where they are. Returns ``model``."""
    with torch.no_grad():
        if isinstance(model, LSTM):
            K = model.hidden_size // model.block_size
            for layer in range(model.num_layers):
                params = model.layer_parameters(layer)
                for name in ("W_x", "W_h", "b"):
                    params[name][..., K:2 * K] = 0.0
                params["b"][K:2 * K] = PINNED_FORGET_BIAS
                if model.peepholes:
                    params["p_f"].zero_()
            return model
        biases = _gate_biases(model, "model")   # checks the type
        H = model.hidden_size
        for layer in range(model.num_layers):
            for suffix in [""] + (["_reverse"] if model.bidirectional else []):
                for weight in ("weight_ih", "weight_hh", "bias_hh"):
                    getattr(model, f"{weight}_l{layer}{suffix}")[H:2 * H] = 0.0
        for bias, _, f in biases:
            bias[f] = PINNED_FORGET_BIAS
    return model


__all__ = ["LSTM", "LSTMRecurrence", "PINNED_FORGET_BIAS", "add_gate_biases", "pin_forget_gate"]
