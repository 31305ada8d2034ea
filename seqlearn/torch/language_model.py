"""Training and sampling for character-level (or word-level) language models of any kind.

A language model here is any ``nn.Module`` with a method ``loss(inputs, targets)`` where
``inputs`` and ``targets`` are (B, T) integer tensors and ``targets[:, t] = inputs[:, t + 1]`` of
the same text. Three families in the course have one:

* :class:`seqlearn.torch.transformer.CharTransformer` — its ``loss`` is the mean cross-entropy
  per character, in nats;
* :class:`LSTMLanguageModel` (here, chapter 6) — the same;
* :class:`seqlearn.torch.char_rnn.CharRNN` (chapters 3 and 4) — the same mean, returned with the
  last state: ``(loss, h_T)``; this module keeps the loss.

All report nats per character, so their curves can share one plot.

:func:`train_language_model` trains on random windows of the text with the package's training
loop (:func:`seqlearn.torch.train.fit`) and measures a held-out loss on the last 10 % of the
text, which no training window touches; :func:`generate_text` samples from a trained model.
``seqlearn.numpy.language_model`` has the same functions for the NumPy character RNN.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..validate import check_device, describe, check_positive_int
from ..numpy.language_model import (HELD_OUT_FRACTION, check_temperature, held_out_starts,
                                   training_split)
from .char_rnn import CharRNN, check_char_indices
from .common import check_tokens
from .decoding import decode
from .lstm import LSTM
from .train import fit


class LSTMLanguageModel(nn.Module):
    """One-hot tokens → stacked :class:`~seqlearn.torch.lstm.LSTM` → scores of the next token::

        x_t = onehot(inputs_t),   h_t = LSTM_M(… LSTM_1(x_t …)),   z_t = h_t W + b   (B, T, V)

    ``lstm`` has ``num_layers`` layers of ``hidden_size`` units, ``out`` is ``nn.Linear(H, V)``.
    With ``builtin=True`` the LSTM runs as ``torch.nn.LSTM``, converted at construction with
    ``to_torch_builtin`` (from the same seed the same initial weights and the same function as
    ``builtin=False``, faster on the CPU).
    """

    def __init__(self, vocab_size, hidden_size=64, num_layers=2, builtin=False, dtype=None,
                 device=None):
        device = check_device("device", device)
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        if not isinstance(builtin, bool):
            raise TypeError(f"builtin: expected True or False, got {builtin!r}")
        lstm = LSTM(self.vocab_size, self.hidden_size, num_layers=num_layers, dtype=dtype,
                    device=device)
        self.num_layers = lstm.num_layers
        self.out = nn.Linear(self.hidden_size, self.vocab_size, dtype=dtype, device=device)
        # converted after the read-out is made: the built-in's constructor draws random numbers
        self.lstm = lstm.to_torch_builtin() if builtin else lstm

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}")

    def forward(self, inputs, state=None):
        """``inputs`` (B, T) or (T,) token ids, ``state`` ``(h, c)`` each (num_layers, B, H) (B = 1
        for a single sequence) or ``None`` for zeros → ``logits`` (B, T, V) or (T, V) and the
        last ``state``, to carry into the next call."""
        weight = self.out.weight
        inputs = check_char_indices("inputs", inputs, self.vocab_size).to(weight.device)
        single = inputs.dim() == 1
        x = F.one_hot(inputs[None] if single else inputs, self.vocab_size).to(weight.dtype)
        h, state = self.lstm(x, state)
        logits = self.out(h)
        return (logits[0] if single else logits), state

    def loss(self, inputs, targets):
        """Mean cross-entropy (nats per token) of predicting ``targets`` (the shape of
        ``inputs``, usually the inputs shifted by one)."""
        targets = check_char_indices("targets", targets, self.vocab_size)
        if targets.shape != inputs.shape:
            raise ValueError(f"targets: expected shape {tuple(inputs.shape)} (as inputs), got "
                             f"{tuple(targets.shape)}")
        logits, _ = self(inputs)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size),
                               targets.reshape(-1).to(logits.device))


# The models that generate_text runs one token at a time, carrying their state:
# model(inputs, state) -> (logits, state).
_RECURRENT = (CharRNN, LSTMLanguageModel)


def _check_model(model):
    if not isinstance(model, nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"model: expected an nn.Module with a loss(inputs, targets) method (CharTransformer, "
            f"LSTMLanguageModel, CharRNN, ...), got {type(model).__name__}"
        )
    return model


def _check_text(name, indices, model=None):
    # ids past the model's vocabulary are refused here, under the caller's name
    return check_tokens(name, indices, getattr(model, "vocab_size", None), ndim=(1,),
                        device="cpu")


def _as_generator(generator, device="cpu"):
    """A ``torch.Generator`` on ``device`` from None (a seed drawn from torch's global
    generator), an int seed or a generator. A generator on another device seeds a new one on
    ``device`` from its own stream, so the same generator can drive the window positions (on the
    CPU) and a model's sampling (on its device), reproducibly."""
    device = torch.device(device)
    if generator is None:
        seed = int(torch.randint(0, 2**31 - 1, ()).item())
        return torch.Generator(device=device).manual_seed(seed)
    if isinstance(generator, torch.Generator):
        if generator.device.type == device.type:
            return generator
        seed = int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))
        return torch.Generator(device=device).manual_seed(seed)
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return torch.Generator(device=device).manual_seed(int(generator))
    raise TypeError(f"generator: expected None, an int seed or a torch.Generator, got {describe(generator)}")


def _model_device(model):
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def language_model_loss(inputs, targets, model):
    """Mean cross-entropy per character (nats) of ``model`` on (B, T) ``inputs``/``targets``.

    Works for any model with ``loss(inputs, targets)``; a model that returns the loss with its last
    state (:class:`CharRNN`: ``(loss, h_T)``) gives the loss.
    """
    out = _check_model(model).loss(inputs, targets)
    if isinstance(out, tuple):
        out = out[0]
    return out


def _windows(data, starts, seq_len, device):
    window = data[starts[:, None] + torch.arange(seq_len + 1)]
    return window[:, :-1].to(device), window[:, 1:].to(device)


def held_out_loss(model, indices, seq_len, max_windows=64, batch_size=64):
    """Mean loss per character (nats) on non-overlapping windows of the last 10 % of the text.

    At most ``max_windows`` windows of ``seq_len + 1`` characters are used, spread evenly over
    the held-out part (``seqlearn.numpy.language_model.held_out_starts``), so the score is the
    same every time it is computed.
    """
    _check_model(model)
    indices = _check_text("indices", indices, model)
    seq_len = check_positive_int("seq_len", seq_len)
    starts = torch.from_numpy(held_out_starts(len(indices), seq_len,
                                              check_positive_int("max_windows", max_windows)))
    batch_size = check_positive_int("batch_size", batch_size)
    device = _model_device(model)
    was_training = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for k in range(0, len(starts), batch_size):
            inputs, targets = _windows(indices, starts[k:k + batch_size], seq_len, device)
            total += float(language_model_loss(inputs, targets, model)) * len(inputs)
    model.train(was_training)
    return total / len(starts)


def train_language_model(model, indices, seq_len, batch_size, steps=None, seconds=None, lr=3e-3,
                         clip=1.0, eval_every=50, generator=None, progress=True,
                         sample_every=None, sample_length=200):
    """Train a language model on random windows of a text with Adam
    (:func:`~seqlearn.torch.train.fit`).

    Parameters
    ----------
    model : nn.Module with ``loss(inputs (B, T), targets (B, T))`` (see the module docstring)
    indices : (N,) int64 tensor (or NumPy array), the whole text as character ids. The last 10 %
        is held out: training windows come from the first 90 %, the held-out loss from the rest.
    seq_len, batch_size : each step trains on ``batch_size`` windows of ``seq_len`` inputs whose
        targets are the same windows shifted by one character
    steps, seconds : stop after this many steps, or once this much training time has passed
        (whichever comes first; at least one must be given)
    lr, clip : Adam's learning rate; the gradient norm is clipped to ``clip`` (``None``: no
        clipping)
    eval_every : measure the held-out loss every this many steps (and before the first and after
        the last step)
    generator : an int seed or a ``torch.Generator`` for the window positions (a generator on
        another device seeds one on the CPU) and the samples
    progress : show a tqdm progress bar
    sample_every, sample_length : every ``sample_every`` steps (and after the last one) draw
        ``sample_length`` characters with :func:`generate_text`, from the first character of the
        text; ``None``: no samples

    Returns
    -------
    history : dict with the lists ``step``, ``seconds`` (training time so far, the held-out
        evaluations excluded, so that models are compared at equal training time),
        ``train_loss`` (mean training loss per character since the previous evaluation, nats) and
        ``held_out_loss`` (nats per character) at each evaluation; ``losses`` (every step's
        training loss); ``samples`` (``(step, ids)`` pairs, the ids without the first
        character); ``steps`` and ``elapsed`` (the totals).

    Raises ``FloatingPointError`` naming the step when a loss is NaN or inf.
    """
    _check_model(model)
    indices = _check_text("indices", indices, model)
    seq_len = check_positive_int("seq_len", seq_len)
    batch_size = check_positive_int("batch_size", batch_size)
    eval_every = check_positive_int("eval_every", eval_every)
    if sample_every is not None:
        sample_every = check_positive_int("sample_every", sample_every)
    sample_length = check_positive_int("sample_length", sample_length)
    split = training_split(len(indices), seq_len)
    gen = _as_generator(generator)
    device = _model_device(model)
    history = {"step": [], "seconds": [], "train_loss": [], "held_out_loss": [], "samples": []}

    def evaluate(record):
        recent = record["losses"][history["step"][-1] if history["step"] else 0:]
        history["step"].append(record["steps"])
        history["seconds"].append(record["seconds"])
        history["train_loss"].append(float(np.mean(recent)) if recent else float("nan"))
        history["held_out_loss"].append(held_out_loss(model, indices, seq_len))

    def sample(step):
        drawn = generate_text(model, indices[:1], sample_length, generator=gen)
        history["samples"].append((step, drawn[1:]))

    def next_windows(step):
        starts = torch.randint(0, split - seq_len, (batch_size,), generator=gen)
        return _windows(indices, starts, seq_len, device)

    def after_step(record):
        step = record["steps"]
        if step % eval_every == 0:
            evaluate(record)
        if sample_every is not None and step > 0 and step % sample_every == 0:
            sample(step)

    record = fit(model, lambda m, batch: language_model_loss(*batch, m), next_windows, steps,
                 lr=lr, clip=clip, seconds=seconds, progress=progress, desc="language model",
                 callback=after_step)
    if history["step"][-1] != record["steps"]:
        evaluate(record)
    if sample_every is not None and (not history["samples"]
                                     or history["samples"][-1][0] != record["steps"]):
        sample(record["steps"])
    history.update(losses=record["losses"], steps=record["steps"], elapsed=record["seconds"])
    return history


def generate_text(model, prompt, n, temperature=1.0, generator=None):
    """Sample ``n`` characters after ``prompt`` ((T0,) int tensor of ids) from a language model.

    Each character is drawn from softmax(logits / temperature); ``temperature=0`` takes the most
    likely one. Uses the model's own ``generate`` when it has one (:class:`CharTransformer`); a
    recurrent model (:class:`CharRNN`, :class:`LSTMLanguageModel`) reads the prompt and then one
    character at a time, carrying its state (``seqlearn.torch.decoding.decode``).
    ``generator``: None (torch's global generator), an int seed or a ``torch.Generator`` (on any
    device). Returns the (T0 + n,) int64 tensor of the prompt followed by the sample.
    """
    _check_model(model)
    prompt = _check_text("prompt", prompt, model)
    n = check_positive_int("n", n)
    temperature = check_temperature(temperature)
    device = _model_device(model)
    # the model samples on its own device, so an int seed becomes a generator there
    gen = None if generator is None else _as_generator(generator, device)
    if callable(getattr(model, "generate", None)):
        return model.generate(prompt, n, temperature=temperature, generator=gen)
    if not isinstance(model, _RECURRENT):
        raise TypeError(f"model: {type(model).__name__} has no generate method and is not one of "
                        f"{', '.join(m.__name__ for m in _RECURRENT)}")

    def step(tokens, state):
        logits, state = model(tokens if state is None else tokens[:, -1:], state)
        return logits[:, -1], state, None

    was_training = model.training
    model.eval()
    drawn, _ = decode(step, prompt[None].to(device), n, temperature=temperature, generator=gen)
    model.train(was_training)
    return torch.cat([prompt, drawn[0].cpu()])


__all__ = ["HELD_OUT_FRACTION", "LSTMLanguageModel", "check_temperature", "generate_text",
           "held_out_loss", "held_out_starts", "language_model_loss", "train_language_model",
           "training_split"]
