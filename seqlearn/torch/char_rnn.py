"""The character-level language model as a ``torch.nn.Module``, mirroring
``seqlearn.numpy.char_rnn``: an :class:`~seqlearn.torch.rnn.ElmanRNN` over one-hot characters and
a linear read-out of the next character's scores::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),   z_t = h_t W_hy + b_y,   ŷ_t = softmax(z_t)

Parameters under the NumPy names: ``rnn.W_xh_l0`` (V, H), ``rnn.W_hh_l0`` (H, H),
``rnn.b_h_l0`` (H,), ``W_hy`` (H, V), ``b_y`` (V,).
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..validate import check_device, check_positive_int
from ..numpy import char_rnn as np_char_rnn
from .rnn import ElmanRNN
from .common import check_tokens

#: The parameters under the NumPy reference's names (the keys of :meth:`CharRNN.to_numpy`).
PARAM_NAMES = np_char_rnn.PARAM_NAMES


class CharRNN(nn.Module):
    """Elman RNN + linear read-out over a vocabulary of V characters."""

    def __init__(self, vocab_size, hidden_size, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        V, H = self.vocab_size, self.hidden_size
        self.rnn = ElmanRNN(V, H, dtype=dtype, device=device)
        bound = 1.0 / math.sqrt(H)
        factory = {"dtype": dtype, "device": device}
        self.W_hy = nn.Parameter(torch.empty((H, V), **factory).uniform_(-bound, bound))
        self.b_y = nn.Parameter(torch.zeros(V, **factory))

    def extra_repr(self):
        return f"vocab_size={self.vocab_size}, hidden_size={self.hidden_size}"

    def forward(self, inputs, h0=None):
        """Scores of the next character at every step.

        Parameters
        ----------
        inputs : (B, T) or (T,) integer tensor of character indices
        h0 : (B, H) or (H,) initial state (matching ``inputs``), or ``None`` for zeros

        Returns ``logits`` (B, T, V) or (T, V), and ``h_T`` (B, H) or (H,).
        """
        inputs = check_char_indices("inputs", inputs, self.vocab_size)
        single = inputs.dim() == 1
        if single:
            inputs = inputs.unsqueeze(0)
            h0 = None if h0 is None else h0.unsqueeze(0)
        x = F.one_hot(inputs.long(), self.vocab_size).to(self.W_hy.dtype)
        out, h_T = self.rnn(x, h0)
        logits = out @ self.W_hy + self.b_y
        h_T = h_T[0]
        return (logits[0], h_T[0]) if single else (logits, h_T)

    def loss(self, inputs, targets, h0=None):
        """L = −(1/(BT)) Σ_b Σ_t log ŷ_{b, t, y_{b,t}}, the mean over the T steps and the B
        sequences in nats per character (as :func:`seqlearn.numpy.char_rnn.char_rnn_loss`);
        returns ``(loss, h_T)``."""
        targets = check_char_indices("targets", targets, self.vocab_size)
        if targets.shape != inputs.shape:
            raise ValueError(f"targets: expected shape {tuple(inputs.shape)} (as inputs), got {tuple(targets.shape)}")
        logits, h_T = self(inputs, h0)
        loss = F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1).long())
        return loss, h_T

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """Build the module from a NumPy parameter dict (``W_xh``, ``W_hh``, ``b_h``, ``W_hy``,
        ``b_y``), as made by :func:`seqlearn.numpy.char_rnn.init_char_rnn_params`."""
        device = check_device("device", device)
        V, H = np_char_rnn.check_char_rnn_params(params)
        model = cls(V, H, dtype=dtype, device=device)
        with torch.no_grad():
            for name, param in zip(PARAM_NAMES,
                                   (model.rnn.W_xh, model.rnn.W_hh, model.rnn.b_h, model.W_hy, model.b_y)):
                param.copy_(torch.as_tensor(np.asarray(params[name]), dtype=dtype))
        return model

    def to_numpy(self):
        """The parameters as a NumPy dict with the reference's names."""
        tensors = (self.rnn.W_xh, self.rnn.W_hh, self.rnn.b_h, self.W_hy, self.b_y)
        return {name: t.detach().cpu().numpy().copy() for name, t in zip(PARAM_NAMES, tensors)}


def check_char_indices(name, indices, vocab_size, ndim=(1, 2)):
    """Check integer character indices in [0, vocab_size) with ``ndim`` dimensions ((T,) or
    (B, T)), as ``seqlearn.numpy.char_rnn.check_char_indices``; return them as an int64 tensor
    (arrays and lists are converted; an int64 tensor is returned as it is, not copied)."""
    return check_tokens(name, indices, vocab_size, ndim)


def char_rnn_loss(inputs, targets, model, h0=None):
    """Functional form of :meth:`CharRNN.loss`, as ``seqlearn.numpy.char_rnn.char_rnn_loss``:
    ``(loss, h_T)``, L = − (1/(BT)) Σ_b Σ_t log ŷ_{b, t, y_{b,t}}, the mean over the steps and the
    batch (nats per character), with the state h_T detached, ready to carry into the next chunk (truncated BPTT).

    ``inputs``, ``targets`` (T,) or (B, T) integer tensors; ``h0`` (H,) or (B, H), or ``None``."""
    if not isinstance(model, CharRNN):
        raise TypeError(f"model: expected a CharRNN, got {type(model).__name__}")
    loss, h_T = model.loss(inputs, targets, h0)
    return loss, h_T.detach()


def char_rnn_states(inputs, h0, model):
    """The hidden states h_1 .. h_T of ``model`` reading ``inputs``, as
    ``seqlearn.numpy.char_rnn.char_rnn_states``: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),
    x_t = onehot(inputs_t), the state after reading character t.

    ``inputs`` (T,) or (B, T) integer tensor; ``h0`` (H,) or (B, H), or ``None`` for zeros.
    Returns (T, H) or (B, T, H), without gradients.
    """
    if not isinstance(model, CharRNN):
        raise TypeError(f"model: expected a CharRNN, got {type(model).__name__}")
    inputs = check_char_indices("inputs", inputs, model.vocab_size).to(model.W_hy.device)
    single = inputs.dim() == 1
    if single:
        inputs = inputs.unsqueeze(0)
        h0 = None if h0 is None else h0.unsqueeze(0)
    with torch.no_grad():
        x = F.one_hot(inputs, model.vocab_size).to(model.W_hy.dtype)
        out, _ = model.rnn(x, h0)
    return out[0] if single else out


__all__ = ["PARAM_NAMES", "CharRNN", "check_char_indices", "char_rnn_loss", "char_rnn_states"]
