"""A small training loop for sequence-to-one tasks: a recurrent model reads a sequence, a head
maps its output at the last real step to class scores (or to one number), and Adam with gradient
clipping by norm minimises the cross-entropy (or the mean squared error).

Works with any recurrent module whose ``forward(x)`` returns ``out`` (B, T, H) or a tuple whose
first element is ``out``: ``seqlearn.torch`` models and ``torch.nn.RNN/LSTM/GRU(batch_first=True)``.
"""

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..validate import describe, check_finite_loss, check_positive_int, check_tensor


def last_outputs(out, lengths=None):
    """The output at the last real step of each sequence: ``out[b, lengths[b] - 1]`` (B, H).

    ``out`` (B, T, H); ``lengths`` (B,) integers in [1, T], or ``None`` for ``out[:, -1]``. A
    unidirectional recurrent network is causal, so padding after a sequence's end cannot change
    its output at ``lengths - 1``.
    """
    check_tensor("out", out, ndim=3)
    if lengths is None:
        return out[:, -1]
    lengths = torch.as_tensor(lengths, device=out.device).long()
    if lengths.shape != (out.shape[0],):
        raise ValueError(f"lengths: expected shape ({out.shape[0]},), got {describe(lengths)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > out.shape[1]:
        raise ValueError(f"lengths: expected values in [1, {out.shape[1]}], got "
                         f"{int(lengths.min())}..{int(lengths.max())}")
    return out[torch.arange(out.shape[0], device=out.device), lengths - 1]


def _unpack(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(f"data: expected batches (x, y) or (x, y, lengths), got {describe(batch)}")
    x, y = batch[0], batch[1]
    lengths = batch[2] if len(batch) == 3 else None
    check_tensor("x", x, ndim=3)
    if not isinstance(y, torch.Tensor) or y.shape[:1] != x.shape[:1]:
        raise ValueError(f"y: expected a tensor with {x.shape[0]} targets (one per sequence), got {describe(y)}")
    return x, y, lengths


def predict_last(model, head, x, lengths=None):
    """The head's output at the last real step of every sequence of ``x``."""
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    return head(last_outputs(out, lengths))


def evaluate(model, head, x, y, lengths=None):
    """Accuracy (integer targets) or mean squared error (float targets), without gradients."""
    with torch.no_grad():
        scores = predict_last(model, head, x, lengths)
        if y.dtype.is_floating_point:
            return float(torch.mean((scores.reshape(y.shape) - y) ** 2))
        return float((scores.argmax(-1) == y).float().mean())


def train_sequence_classifier(model, head, data, steps, lr=1e-2, clip=1.0, target_accuracy=None,
                              window=10, progress=False, desc="training"):
    """Train ``model`` and ``head`` with Adam on sequence-to-one batches.

    Parameters
    ----------
    model : recurrent ``nn.Module``; ``model(x)`` gives ``out`` (B, T, H) or ``(out, state)``
    head : ``nn.Module`` from (B, H) to class scores (B, C), or (B, 1) / (B,) for regression
    data : a callable ``data(step) -> (x, y[, lengths])`` giving a fresh batch each step, or a
        fixed tuple ``(x, y[, lengths])`` used at every step (full-batch). Integer ``y`` means
        classification (cross-entropy), float ``y`` regression (mean squared error).
    steps : int ≥ 1, the most optimiser steps
    lr : Adam's step size
    clip : the largest gradient norm (all parameters together), or ``None`` for no clipping
    target_accuracy : stop early once the mean training accuracy of the last ``window`` steps
        reaches it (classification only); ``None`` trains all ``steps``
    progress : show a tqdm progress bar

    Returns
    -------
    dict with ``losses`` and ``accuracies`` (one per step; accuracies are ``nan`` for
    regression), ``steps`` (taken), ``solved_at`` (the step at which ``target_accuracy`` was
    reached, or ``None``) and ``seconds``.
    """
    for name, module in (("model", model), ("head", head)):
        if not isinstance(module, nn.Module):
            raise TypeError(f"{name}: expected a torch.nn.Module, got {type(module).__name__}")
    steps = check_positive_int("steps", steps)
    window = check_positive_int("window", window)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip: expected a positive number or None, got {clip!r}")
    next_batch = data if callable(data) else (lambda step: data)
    _unpack(next_batch(0))  # fail early, before any training, on malformed data

    parameters = [p for m in (model, head) for p in m.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=lr)
    losses, accuracies, solved_at = [], [], None
    from tqdm.auto import tqdm

    start = time.perf_counter()
    for step in tqdm(range(steps), desc=desc, disable=not progress, mininterval=1.0):
        x, y, lengths = _unpack(next_batch(step))
        scores = predict_last(model, head, x, lengths)
        if y.dtype.is_floating_point:
            loss = F.mse_loss(scores.reshape(y.shape), y)
            accuracy = float("nan")
        else:
            loss = F.cross_entropy(scores, y)
            accuracy = float((scores.argmax(-1) == y).float().mean())
        losses.append(check_finite_loss(loss.item(), step))
        accuracies.append(accuracy)
        optimiser.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(parameters, clip)
        optimiser.step()
        if (target_accuracy is not None and len(accuracies) >= window
                and np.mean(accuracies[-window:]) >= target_accuracy):
            solved_at = step + 1
            break
    return {"losses": losses, "accuracies": accuracies, "steps": len(losses),
            "solved_at": solved_at, "seconds": time.perf_counter() - start}


__all__ = ["last_outputs", "predict_last", "evaluate", "train_sequence_classifier"]
