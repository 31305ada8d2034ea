"""NumPy reference implementations: forward and hand-derived backward passes, float64 by default.

One module per model family, imported here so that ``from seqlearn import numpy as snp`` gives
``snp.lstm.lstm_forward``; ``seqlearn.torch`` mirrors them module for module (the table of
deliberately one-sided modules is in the docstring of ``seqlearn``).
"""

from . import (activations, attention, char_rnn, common, ctrnn, forecast, gradient_flow, gru,
               language_model, layernorm, linear, lstm, mlp, mut, optim, perceptron, rnn, rtrl,
               softmax, transformer, truncated_bptt)

__all__ = [
    "activations", "attention", "char_rnn", "common", "ctrnn", "forecast", "gradient_flow",
    "gru", "language_model", "layernorm", "linear", "lstm", "mlp", "mut", "optim", "perceptron",
    "rnn", "rtrl", "softmax", "transformer", "truncated_bptt"
]

# chapter 9: Hopfield networks, Boltzmann machines, reservoirs
from . import boltzmann, hopfield, reservoir  # noqa: E402

__all__ += ["boltzmann", "hopfield", "reservoir"]

# chapter 8b: subword tokens, cheaper attention
from . import bpe, efficient_attention  # noqa: E402

__all__ += ["bpe", "efficient_attention"]

# chapter 10: images as sequences (PixelRNN, PixelCNN)
from . import pixel  # noqa: E402

__all__ += ["pixel"]

# chapter 11: Swin Transformer v2
from . import swin  # noqa: E402

__all__ += ["swin"]
