"""Training and sampling for character-level language models of any kind.

A language model here is any ``nn.Module`` with a method ``loss(inputs, targets)`` where
``inputs`` and ``targets`` are (B, T) integer tensors and ``targets[:, t] = inputs[:, t + 1]`` of
the same text. Two families in the course have one:

* :class:`seqlearn.torch.transformer.CharTransformer` — its ``loss`` is the mean cross-entropy
  per character, in nats;
* :class:`seqlearn.torch.char_rnn.CharRNN` — its ``loss`` (chapters 3 and 4) is summed over time,
  averaged over the batch, and comes with the last state: ``(loss, h_T)``. This module divides by
  T, so both report nats per character and their curves can share one plot.

:func:`train_language_model` trains on random windows of the text and measures a held-out loss
on the last 10 % of it, which no training window touches; :func:`generate_text` samples from a
trained model.
"""

import math
import time

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..validate import describe, check_finite_loss, check_positive_int
from .char_rnn import CharRNN

#: Fraction of the text (at its end) kept for the held-out loss.
HELD_OUT_FRACTION = 0.1


def _check_model(model):
    if not isinstance(model, nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"model: expected an nn.Module with a loss(inputs, targets) method (CharTransformer, "
            f"CharRNN, ...), got {type(model).__name__}"
        )
    return model


def _check_indices(indices):
    if isinstance(indices, np.ndarray):
        indices = torch.from_numpy(indices)
    if not isinstance(indices, torch.Tensor):
        raise TypeError(f"indices: expected a 1-D int64 tensor of character ids, got {describe(indices)}")
    if indices.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"indices: expected an integer tensor of character ids, got {describe(indices)}")
    if indices.dim() != 1:
        raise ValueError(f"indices: expected a 1-D tensor (the whole text), got {describe(indices)}")
    return indices.long().cpu()


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


def language_model_loss(model, inputs, targets):
    """Mean cross-entropy per character (nats) of ``model`` on (B, T) ``inputs``/``targets``.

    Works for any model with ``loss(inputs, targets)``; a :class:`CharRNN`'s loss, summed over the
    T steps and returned with the last state, is divided by T.
    """
    out = model.loss(inputs, targets)
    if isinstance(out, tuple):
        out = out[0]
    if isinstance(model, CharRNN):
        out = out / inputs.shape[-1]
    return out


def _windows(data, starts, seq_len, device):
    window = data[starts[:, None] + torch.arange(seq_len + 1)]
    return window[:, :-1].to(device), window[:, 1:].to(device)


def held_out_loss(model, indices, seq_len, max_windows=64, batch_size=64):
    """Mean loss per character (nats) on non-overlapping windows of the last 10 % of the text.

    At most ``max_windows`` windows of ``seq_len + 1`` characters are used, spread evenly over
    the held-out part, so the score is the same every time it is computed.
    """
    _check_model(model)
    indices = _check_indices(indices)
    seq_len = check_positive_int("seq_len", seq_len)
    split = len(indices) - max(int(len(indices) * HELD_OUT_FRACTION), seq_len + 1)
    n = (len(indices) - split - 1) // seq_len
    if split < seq_len + 2 or n < 1:
        raise ValueError(
            f"indices: a text of {len(indices)} characters is too short for windows of "
            f"seq_len={seq_len} in training and in its last {HELD_OUT_FRACTION:.0%}"
        )
    chosen = np.unique(np.linspace(0, n - 1, min(n, max_windows)).round().astype(np.int64))
    starts = split + torch.from_numpy(chosen) * seq_len
    device = _model_device(model)
    was_training = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for k in range(0, len(starts), batch_size):
            inputs, targets = _windows(indices, starts[k:k + batch_size], seq_len, device)
            total += float(language_model_loss(model, inputs, targets)) * len(inputs)
    model.train(was_training)
    return total / len(starts)


def train_language_model(model, indices, seq_len, batch_size, steps=None, seconds=None, lr=3e-3,
                         clip=1.0, eval_every=50, generator=None, progress=True):
    """Train a character-level language model on random windows of a text with Adam.

    Parameters
    ----------
    model : nn.Module with ``loss(inputs (B, T), targets (B, T))`` (see the module docstring)
    indices : (N,) int64 tensor (or NumPy array), the whole text as character ids. The last 10 %
        is held out: training windows come from the first 90 %, the held-out loss from the rest.
    seq_len, batch_size : each step trains on ``batch_size`` windows of ``seq_len`` inputs whose
        targets are the same windows shifted by one character
    steps, seconds : stop after this many steps, or once this much training time has passed
        (whichever comes first; at least one must be given)
    lr, clip : Adam's learning rate; the gradient norm is clipped to ``clip`` (``None``: no clipping)
    eval_every : measure the held-out loss every this many steps (and before the first and after
        the last step)
    generator : an int seed or a ``torch.Generator`` for the window positions (a generator on
        another device seeds one on the CPU)
    progress : show a tqdm progress bar

    Returns
    -------
    history : dict with the lists ``step``, ``seconds`` (training time so far, the held-out
        evaluations excluded, so that models are compared at equal training time),
        ``train_loss`` (mean training loss per character since the previous evaluation, nats) and
        ``held_out_loss`` (nats per character) at each evaluation; ``losses`` (every step's
        training loss); ``steps`` and ``elapsed`` (the totals).

    Raises ``FloatingPointError`` naming the step when a loss is NaN or inf.
    """
    _check_model(model)
    indices = _check_indices(indices)
    seq_len = check_positive_int("seq_len", seq_len)
    batch_size = check_positive_int("batch_size", batch_size)
    eval_every = check_positive_int("eval_every", eval_every)
    if steps is None and seconds is None:
        raise ValueError("steps, seconds: give at least one stop condition (a number of steps or of seconds)")
    if steps is not None:
        steps = check_positive_int("steps", steps)
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"seconds: expected a positive number of seconds, got {seconds!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip: expected a positive gradient-norm bound or None, got {clip!r}")
    split = len(indices) - max(int(len(indices) * HELD_OUT_FRACTION), seq_len + 1)
    if split < seq_len + 2:
        raise ValueError(
            f"indices: a text of {len(indices)} characters is too short for windows of "
            f"seq_len={seq_len} (it needs at least {2 * (seq_len + 2)} characters)"
        )
    gen = _as_generator(generator)
    device = _model_device(model)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"step": [], "seconds": [], "train_loss": [], "held_out_loss": [], "losses": []}

    def evaluate(step, elapsed, recent):
        history["step"].append(step)
        history["seconds"].append(elapsed)
        history["train_loss"].append(float(np.mean(recent)) if recent else float("nan"))
        history["held_out_loss"].append(held_out_loss(model, indices, seq_len))

    def synchronize():
        # CUDA runs asynchronously: wait for the step's kernels before reading the clock.
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    elapsed, step, recent = 0.0, 0, []
    evaluate(0, 0.0, recent)
    bar = tqdm(total=steps, desc="language model", disable=not progress, mininterval=1.0,
               leave=False)
    model.train()
    while (steps is None or step < steps) and (seconds is None or elapsed < seconds):
        synchronize()
        start = time.perf_counter()
        starts = torch.randint(0, split - seq_len, (batch_size,), generator=gen)
        inputs, targets = _windows(indices, starts, seq_len, device)
        loss = language_model_loss(model, inputs, targets)
        value = check_finite_loss(
            loss.item(), step,
            hint="the gradients exploded or the learning rate is too high: lower lr or clip")
        optimiser.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimiser.step()
        synchronize()
        elapsed += time.perf_counter() - start
        step += 1
        history["losses"].append(value)
        recent.append(value)
        bar.update(1)
        if step % eval_every == 0:
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
            evaluate(step, elapsed, recent)
            recent = []
            model.train()
    bar.close()
    if history["step"][-1] != step:
        evaluate(step, elapsed, recent)
    history["steps"], history["elapsed"] = step, elapsed
    return history


def generate_text(model, prompt, n, temperature=1.0, generator=None):
    """Sample ``n`` characters after ``prompt`` ((T0,) int tensor of ids) from a language model.

    Each character is drawn from softmax(logits / temperature); ``temperature=0`` takes the most
    likely one. Uses the model's own ``generate`` when it has one (:class:`CharTransformer`); a
    :class:`CharRNN` is run over the prompt and then one character at a time, carrying its state.
    ``generator``: None, an int seed or a ``torch.Generator`` (on any device).
    Returns the (T0 + n,) int64 tensor of the prompt followed by the sample.
    """
    _check_model(model)
    prompt = _check_indices(prompt)
    if len(prompt) == 0:
        raise ValueError("prompt: expected at least one character id, got an empty tensor")
    n = check_positive_int("n", n)
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
            or not temperature >= 0):
        raise ValueError(f"temperature: expected a number >= 0 (0: the most likely character), "
                         f"got {temperature!r}")
    device = _model_device(model)
    if callable(getattr(model, "generate", None)):
        # the model samples on its own device, so an int seed becomes a generator there
        gen = None if generator is None else _as_generator(generator, device)
        return model.generate(prompt, n, temperature=temperature, generator=gen)
    if not isinstance(model, CharRNN):
        raise TypeError(f"model: {type(model).__name__} has no generate method and is not a CharRNN")
    gen = _as_generator(generator)
    was_training = model.training
    model.eval()
    tokens = prompt.tolist()
    with torch.no_grad():
        logits, h = model(prompt.to(device))
        for _ in range(n):
            if temperature == 0:
                tokens.append(int(logits[-1].argmax()))
            else:
                probs = torch.softmax(logits[-1].double().cpu() / temperature, dim=-1)
                tokens.append(int(torch.multinomial(probs, 1, generator=gen)))
            logits, h = model(torch.tensor(tokens[-1:], device=device), h)
    model.train(was_training)
    return torch.tensor(tokens, dtype=torch.int64)


__all__ = ["train_language_model", "held_out_loss", "language_model_loss", "generate_text",
           "HELD_OUT_FRACTION"]
