"""The one training loop of the torch models, and the sequence-to-one trainer built on it.

:func:`fit` minimises a loss over a stream of batches::

    for step = 0, 1, ...:   batch = batches(step),   L = loss_fn(model, batch),
                            g = ∇_θ L (clipped to norm ≤ clip),   θ ← optimiser(θ, g)

with Adam, SGD or L-BFGS, a step or time budget, a progress bar, and a stop with a message that
names the likely cause when a loss is NaN or inf. It checks its arguments once, for every
trainer of the package: :func:`train_sequence_classifier` (here),
``mlp.fit_full_batch``, ``forecast.fit_forecaster``, ``language_model.train_language_model``,
``seq2seq.train_seq2seq`` and ``captioning.train_captioner`` are each a loss and a source of
batches handed to :func:`fit`, and the chapters call it for their own experiments.

:func:`train_sequence_classifier` trains sequence-to-one tasks: a recurrent model reads a
sequence, a head maps its output at the last real step to class scores (or to one number), and
the loss is the cross-entropy (or the mean squared error). It works with any recurrent module
whose ``forward(x)`` returns ``out`` (B, T, H) or a tuple whose first element is ``out``:
``seqlearn.torch`` models and ``torch.nn.RNN/LSTM/GRU(batch_first=True)``.
"""

import inspect
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..validate import (check_finite_loss, check_positive_int, check_positive_number,
                        check_tensor, describe)
from .common import padding_mask

#: The optimisers :func:`fit` knows, by name.
OPTIMIZERS = ("adam", "sgd", "lbfgs")

#: What a NaN or infinite loss most often means, in the message that stops training.
DIVERGENCE_HINT = "the gradients exploded or the learning rate is too high: lower lr or clip"


def check_module(name, module):
    """Raise ``TypeError`` naming ``name`` unless ``module`` is a ``torch.nn.Module``; return
    ``module`` itself."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"{name}: expected a torch.nn.Module, got {describe(module)}")
    return module


def batch_source(name, batches, batch_type=None):
    """``batches`` as a function ``step -> batch``.

    A callable is returned as it is (it makes a fresh batch for each step); anything else is one
    batch used at every step (full-batch training). ``batch_type`` (a type or a tuple of types)
    is what such a fixed batch must be; ``TypeError`` naming ``name`` otherwise.
    """
    if callable(batches):
        return batches
    if batch_type is not None and not isinstance(batches, batch_type):
        kinds = batch_type if isinstance(batch_type, tuple) else (batch_type,)
        raise TypeError(f"{name}: expected a function step -> batch or one batch "
                        f"({' or '.join(k.__name__ for k in kinds)}), got {describe(batches)}")
    if batches is None:
        raise TypeError(f"{name}: expected a function step -> batch or one batch, got None")
    return lambda step: batches


def _make_optimizer(name, parameters, lr, options):
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {', '.join(map(repr, OPTIMIZERS))}, "
                         f"got {name!r}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"optimizer_options: expected a dict of keyword arguments or None, "
                        f"got {describe(options)}")
    options = dict(options or {})
    if name == "lbfgs":
        options.setdefault("line_search_fn", "strong_wolfe")
    kind = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "lbfgs": torch.optim.LBFGS}[name]
    try:
        return kind(parameters, lr=lr, **options)
    except TypeError as error:
        raise TypeError(f"optimizer_options: {error}") from None


def fit(model, loss_fn, batches, steps=None, optimizer="adam", lr=1e-3, clip=None, seconds=None,
        progress=False, desc="training", callback=None, optimizer_options=None):
    """Train ``model`` by minimising ``loss_fn(model, batch)`` with a torch optimiser.

    Each step takes ``batch = batches(step)``, evaluates L = ``loss_fn(model, batch)``,
    backpropagates, clips the gradient of all parameters together to norm ≤ ``clip`` and updates
    the parameters: θ ← θ − lr · Adam(g) (``"adam"``), θ ← θ − lr · g (``"sgd"``), or one L-BFGS
    step (``"lbfgs"``: up to ``max_iter`` = 20 inner iterations with a strong-Wolfe line search on
    the same batch, each of which evaluates the loss again).

    Parameters
    ----------
    model : ``nn.Module`` whose parameters are trained (put several modules trained together in
        an ``nn.ModuleList``); it is in training mode during the loop and back in the mode it was
        in afterwards
    loss_fn : ``loss_fn(model, batch) -> L``, a scalar tensor
    batches : a function ``step -> batch`` (a fresh batch per step) or one batch used at every
        step (full-batch training)
    steps, seconds : stop after ``steps`` optimiser steps, or once ``seconds`` of training time
        have passed, whichever comes first; at least one must be given
    optimizer : ``"adam"``, ``"sgd"`` or ``"lbfgs"``; ``optimizer_options`` (a dict) is passed to
        its ``torch.optim`` constructor (e.g. ``{"momentum": 0.9}``, ``{"max_iter": 50}``)
    lr : the step size, > 0
    clip : the largest gradient norm, or ``None`` for no clipping
    progress, desc : show a tqdm progress bar labelled ``desc``
    callback : ``callback(record)``, called before the first step and after every step with the
        record below as it stands; returning ``True`` stops training. Its own time (evaluations,
        plots) is not counted in ``seconds``.

    Returns
    -------
    record : dict with ``losses`` (the loss before each step, one float per step),
        ``evaluations`` (every evaluation of the loss: for L-BFGS also those of its line search;
        for Adam and SGD the same as ``losses``), ``steps`` (taken) and ``seconds`` (training
        time, waiting for the GPU to finish each step).

    Raises ``FloatingPointError`` naming the step as soon as a loss is NaN or inf.
    """
    check_module("model", model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a function (model, batch) -> loss, "
                        f"got {describe(loss_fn)}")
    next_batch = batch_source("batches", batches)
    if steps is None and seconds is None:
        raise ValueError("steps, seconds: give at least one stop condition (a number of steps "
                         "or of seconds)")
    if steps is not None:
        steps = check_positive_int("steps", steps)
    seconds = None if seconds is None else check_positive_number("seconds", seconds)
    lr = check_positive_number("lr", lr)
    clip = None if clip is None else check_positive_number("clip", clip)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a function record -> bool or None, "
                        f"got {describe(callback)}")
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError(f"model: {type(model).__name__} has no parameters to train")
    optimiser = _make_optimizer(optimizer, parameters, lr, optimizer_options)
    device = parameters[0].device

    def synchronize():
        # CUDA runs asynchronously: wait for the step's kernels before reading the clock.
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    record = {"losses": [], "evaluations": [], "steps": 0, "seconds": 0.0}
    was_training = model.training
    model.train()
    bar = tqdm(total=steps, desc=desc, disable=not progress, mininterval=1.0, leave=False)
    try:
        stop = callback is not None and callback(record)
        while (not stop and (steps is None or record["steps"] < steps)
               and (seconds is None or record["seconds"] < seconds)):
            step = record["steps"]
            synchronize()
            start = time.perf_counter()
            batch = next_batch(step)
            first = len(record["evaluations"])

            def closure():
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(model, batch)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise TypeError(f"loss_fn: expected a scalar tensor, got {describe(loss)}")
                record["evaluations"].append(check_finite_loss(loss.item(), step, DIVERGENCE_HINT))
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(parameters, clip)
                return loss

            optimiser.step(closure)
            synchronize()
            record["seconds"] += time.perf_counter() - start
            record["losses"].append(record["evaluations"][first])
            record["steps"] = step + 1
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{record['losses'][-1]:.4g}", refresh=False)
            stop = callback is not None and callback(record)
    finally:
        bar.close()
        model.train(was_training)
    return record


# -- sequence-to-one tasks ------------------------------------------------------------------------
def last_outputs(out, lengths=None):
    """The output at the last real step of each sequence: ``out[b, lengths[b] - 1]`` (B, H).

    ``out`` (B, T, H); ``lengths`` (B,) integers in [1, T], or ``None`` for ``out[:, -1]``. A
    unidirectional recurrent network is causal, so padding after a sequence's end cannot change
    its output at ``lengths - 1``.
    """
    check_tensor("out", out, ndim=3)
    if lengths is None:
        return out[:, -1].clone()
    # integers only (a float length is refused, not truncated), shape (B,), values in 1..T
    valid = padding_mask(lengths, out.shape[1], batch_size=out.shape[0])
    lengths = valid.sum(1).to(out.device)
    return out[torch.arange(out.shape[0], device=out.device), lengths - 1]


def _unpack(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(f"data: expected batches (x, y) or (x, y, lengths), got {describe(batch)}")
    x, y = batch[0], batch[1]
    lengths = batch[2] if len(batch) == 3 else None
    check_tensor("x", x, ndim=3)
    _check_y(y, x)
    return x, y, lengths


def _check_y(y, x):
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y: expected a tensor of {x.shape[0]} targets (one per sequence), got "
                        f"{describe(y)}")
    if y.shape[:1] != x.shape[:1]:
        raise ValueError(f"y: expected a tensor with {x.shape[0]} targets (one per sequence), "
                         f"got {describe(y)}")
    if y.dtype.is_floating_point:
        check_tensor("y", y)
    elif y.dtype.is_complex or y.dtype == torch.bool:
        raise TypeError(f"y: expected integer classes or float regression targets, got "
                        f"{describe(y)}")


def _takes_lengths(model):
    try:
        return "lengths" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def predict_last(model, head, x, lengths=None):
    """The head's output at the last real step of every sequence of ``x`` (B, T, D).

    ``lengths`` (B,) is handed to the model when its ``forward`` takes it (the ``seqlearn.torch``
    recurrent modules), and picks each sequence's output at step ``lengths[b] - 1``.
    """
    if lengths is not None and _takes_lengths(model):
        out = model(x, lengths=lengths)
    else:
        out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    return head(last_outputs(out, lengths))


def evaluate(model, head, x, y, lengths=None):
    """Accuracy (integer targets) or mean squared error (float targets), without gradients."""
    check_tensor("x", x, ndim=3)
    _check_y(y, x)
    with torch.no_grad():
        scores = predict_last(model, head, x, lengths)
        if y.dtype.is_floating_point:
            return float(torch.mean((scores.reshape(y.shape) - y) ** 2))
        return float((scores.argmax(-1) == y).float().mean())


def train_sequence_classifier(model, head, data, steps, lr=1e-2, clip=1.0, target_accuracy=None,
                              window=10, progress=False, desc="training"):
    """Train ``model`` and ``head`` with Adam (:func:`fit`) on sequence-to-one batches.

    Parameters
    ----------
    model : recurrent ``nn.Module``; ``model(x)`` gives ``out`` (B, T, H) or ``(out, state)``
    head : ``nn.Module`` from (B, H) to class scores (B, C), or (B, 1) / (B,) for regression
    data : a callable ``data(step) -> (x, y[, lengths])`` giving a fresh batch each step, or a
        fixed tuple ``(x, y[, lengths])`` used at every step (full-batch). Integer ``y`` means
        classification (cross-entropy), float ``y`` regression (mean squared error).
        ``lengths`` (B,) marks padded sequences: the loss reads each one's output at its last
        real step, and a model whose ``forward`` takes ``lengths`` gets them.
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
    check_module("model", model)
    check_module("head", head)
    window = check_positive_int("window", window)
    if target_accuracy is not None and not (isinstance(target_accuracy, (int, float))
                                            and 0 < target_accuracy <= 1):
        raise ValueError(f"target_accuracy: expected a number in (0, 1] or None, got {target_accuracy!r}")
    accuracies = []

    def loss_fn(_, batch):
        x, y, lengths = _unpack(batch)
        scores = predict_last(model, head, x, lengths)
        if y.dtype.is_floating_point:
            if scores.numel() != y.numel():
                raise ValueError(
                    f"y: float targets mean regression (one number per sequence), but the head "
                    f"gives {describe(scores)}, {scores.shape[-1]} scores per sequence; for "
                    f"classification pass integer class labels (y.long())")
            accuracies.append(float("nan"))
            return F.mse_loss(scores.reshape(y.shape), y)
        if int(y.min()) < 0 or int(y.max()) >= scores.shape[-1]:
            raise ValueError(f"y: expected class labels in 0..{scores.shape[-1] - 1} (the head "
                             f"gives {scores.shape[-1]} scores), got values from {int(y.min())} "
                             f"to {int(y.max())}")
        accuracies.append(float((scores.argmax(-1) == y).float().mean()))
        return F.cross_entropy(scores, y)

    def solved(record):
        return (target_accuracy is not None and len(accuracies) >= window
                and np.mean(accuracies[-window:]) >= target_accuracy)

    record = fit(nn.ModuleList([model, head]), loss_fn, batch_source("data", data), steps,
                 lr=lr, clip=clip, progress=progress, desc=desc, callback=solved)
    return {"losses": record["losses"], "accuracies": accuracies, "steps": record["steps"],
            "solved_at": record["steps"] if solved(record) else None,
            "seconds": record["seconds"]}


__all__ = ["OPTIMIZERS", "DIVERGENCE_HINT", "fit", "check_module", "batch_source", "last_outputs",
           "predict_last", "evaluate", "train_sequence_classifier"]
