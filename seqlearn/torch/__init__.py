"""PyTorch versions of the course's models, mirroring ``seqlearn.numpy`` module for module.

Imported here so that ``from seqlearn import torch as st`` gives ``st.lstm.LSTM``. Same parameter
names and layouts as the NumPy reference; every module runs on a GPU when ``seqlearn.device()``
finds one. The table of deliberately one-sided modules is in the docstring of ``seqlearn``.
"""

from . import (attention, captioning, char_rnn, common, ctrnn, decoding, forecast, gradient_flow,
               gru, language_model, layernorm, lstm, mlp, mut, perceptron, recurrent, rnn, seq2seq,
               train, transformer)

__all__ = [
    "attention", "captioning", "char_rnn", "common", "ctrnn", "decoding", "forecast",
    "gradient_flow", "gru", "language_model", "layernorm", "lstm", "mlp", "mut", "perceptron",
    "recurrent", "rnn", "seq2seq", "train", "transformer"
]

# chapter 9: Hopfield networks, Boltzmann machines, reservoirs
from . import boltzmann, hopfield, reservoir  # noqa: E402

__all__ += ["boltzmann", "hopfield", "reservoir"]

# chapter 8b: subword tokens, cheaper attention
from . import efficient_attention  # noqa: E402

__all__ += ["efficient_attention"]

# chapter 10: images as sequences (PixelRNN, PixelCNN)
from . import pixel  # noqa: E402

__all__ += ["pixel"]

# chapter 11: Swin Transformer v2
from . import swin  # noqa: E402

__all__ += ["swin"]
