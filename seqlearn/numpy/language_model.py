"""Training and sampling for the NumPy character-level language model (``seqlearn.numpy.char_rnn``),
mirroring ``seqlearn.torch.language_model``: the same functions with the same arguments, the
parameter dict ``params`` in place of the torch ``model``, a ``numpy.random.Generator`` ``rng``
in place of a ``torch.Generator``.

Training follows Karpathy's min-char-rnn: truncated BPTT over chunks read in order, the state
carried from one chunk to the next, Adagrad and clipping by value (``seqlearn.numpy.optim``). As
in the torch half, the last 10 % of the text is held out: training reads only the first 90 %,
and :func:`held_out_loss` measures the loss per character on windows of the rest.
:func:`train_with_sgd` (NumPy only) reads the same chunks with plain SGD, clipping by the global
norm or not, and records every step's gradient norm: chapter 4's exploding-gradient run.
"""

import math
import time

import numpy as np
from tqdm.auto import tqdm

from ..validate import as_generator, check_finite_loss, check_positive_int, check_positive_number
from .char_rnn import (PARAM_NAMES, char_rnn_loss, char_rnn_loss_and_gradients,
                       check_char_indices, check_char_rnn_params)
from .optim import Adagrad, clip_by_norm, clip_by_value, global_norm

#: Fraction of the text (at its end) kept for the held-out loss.
HELD_OUT_FRACTION = 0.1


def training_split(length, seq_len):
    """Where the held-out part of a text of ``length`` characters starts: the last
    ``HELD_OUT_FRACTION`` of it, and at least one window of ``seq_len + 1`` characters.
    Raises ``ValueError`` when too little is left for a training window."""
    length = check_positive_int("length", length)
    seq_len = check_positive_int("seq_len", seq_len)
    split = length - max(int(length * HELD_OUT_FRACTION), seq_len + 1)
    if split < seq_len + 2:
        raise ValueError(
            f"indices: a text of {length} characters is too short for windows of "
            f"seq_len={seq_len} in training and in its last {HELD_OUT_FRACTION:.0%} (it needs "
            f"at least {2 * (seq_len + 2)} characters)")
    return split


def held_out_starts(length, seq_len, max_windows=64):
    """The first positions of at most ``max_windows`` non-overlapping windows of ``seq_len + 1``
    characters in the held-out part of a text of ``length`` characters, spread evenly over it
    (an int64 array)."""
    split = training_split(length, seq_len)
    max_windows = check_positive_int("max_windows", max_windows)
    n = (length - split - 1) // seq_len
    chosen = np.unique(np.linspace(0, n - 1, min(n, max_windows)).round().astype(np.int64))
    return split + chosen * seq_len


def check_temperature(temperature):
    """Raise ``ValueError`` unless ``temperature`` is a finite number ≥ 0 (0: always the most
    likely character; NumPy scalars accepted); return it."""
    if (isinstance(temperature, bool)
            or not isinstance(temperature, (int, float, np.integer, np.floating))
            or not 0 <= temperature < math.inf):
        raise ValueError(f"temperature: expected a number >= 0 (0: the most likely character), "
                         f"got {temperature!r}")
    return temperature


def _check_stop(steps, seconds):
    if steps is None and seconds is None:
        raise ValueError("steps, seconds: give at least one stop condition (a number of steps "
                         "or of seconds)")
    if steps is not None:
        steps = check_positive_int("steps", steps)
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or not math.isfinite(seconds) or not seconds > 0):
        raise ValueError(f"seconds: expected a positive number of seconds, got {seconds!r}")
    return steps, seconds


def _check_text(indices, vocab_size):
    return check_char_indices("indices", indices, vocab_size, ndim=(1,)).astype(np.int64)


def _streams(indices, seq_len, batch_size):
    """The training text (the first 90 %), cut into ``batch_size`` streams read side by side: the
    text, each stream's first position (B, 1) and the streams' length."""
    split = training_split(len(indices), seq_len)
    stream_length = (split - 1) // batch_size
    if stream_length <= seq_len:
        raise ValueError(
            f"indices: the {split} training characters cut into batch_size={batch_size} streams "
            f"leave {stream_length} per stream, fewer than seq_len + 1 = {seq_len + 1}")
    return indices[:split], np.arange(batch_size)[:, None] * stream_length, stream_length


def language_model_loss(inputs, targets, params):
    """Mean cross-entropy per character (nats) of the model on (B, T) ``inputs``/``targets``:
    the loss of :func:`~seqlearn.numpy.char_rnn.char_rnn_loss`, read from a zero state."""
    loss, _ = char_rnn_loss(inputs, targets, params)
    return loss


def held_out_loss(params, indices, seq_len, max_windows=64, batch_size=64):
    """Mean loss per character (nats) on non-overlapping windows of the last 10 % of the text.

    At most ``max_windows`` windows of ``seq_len + 1`` characters are used, spread evenly over
    the held-out part, each read from a zero state, so the score is the same every time it is
    computed.
    """
    V, _ = check_char_rnn_params(params)
    indices = _check_text(indices, V)
    seq_len = check_positive_int("seq_len", seq_len)
    starts = held_out_starts(len(indices), seq_len, check_positive_int("max_windows", max_windows))
    batch_size = check_positive_int("batch_size", batch_size)
    total = 0.0
    for k in range(0, len(starts), batch_size):
        window = indices[starts[k:k + batch_size, None] + np.arange(seq_len + 1)]
        total += language_model_loss(window[:, :-1], window[:, 1:], params) * len(window)
    return total / len(starts)


def train_language_model(params, indices, seq_len, batch_size, steps=None, seconds=None, lr=0.1,
                         clip=0.2, eval_every=50, rng=None, progress=True, sample_every=None,
                         sample_length=200):
    """Train the character RNN ``params`` (updated in place) on a text with truncated BPTT,
    Adagrad and clipping by value, as min-char-rnn does.

    The first 90 % of the text is cut into ``batch_size`` equal streams read side by side (one
    stream: min-char-rnn). Each step reads the next ``seq_len`` characters of every stream,
    backpropagates the mean loss of that chunk through the chunk only
    (:func:`char_rnn_loss_and_gradients`), clips every gradient entry to [−clip, clip] and takes
    an Adagrad step θ ← θ − lr g / √(Σ g² + eps), eps = 1e-8 / seq_len². Min-char-rnn sums the
    loss over the chunk and uses eps = 1e-8 and clip = 5; with the mean, these eps and
    clip = 5 / seq_len give the same steps. The state h is carried from chunk to chunk and reset
    to zero when the streams wrap around to their start.

    Parameters
    ----------
    params : the model's parameters (``init_char_rnn_params``), trained in place
    indices : (N,) int array, the whole text as character ids
    seq_len, batch_size : each step trains on ``batch_size`` chunks of ``seq_len`` characters
    steps, seconds, eval_every, progress, sample_every, sample_length : as for
        ``seqlearn.torch.language_model.train_language_model``: the budget (steps and/or seconds
        of training time), the held-out loss every ``eval_every`` steps (and before the first
        and after the last), a tqdm bar, and every ``sample_every`` steps (``None``: never) a
        sample of ``sample_length`` characters drawn by :func:`generate_text` after the text's
        first character
    lr, clip : Adagrad's learning rate; the bound on every gradient entry (``None``: no clipping).
        The default 0.2 is min-char-rnn's bound of 5 on the gradient of the loss summed over 25
        steps, for the mean over them; Adagrad's steps do not change when the loss is rescaled
        (its eps rescaled with it), so ``lr`` keeps min-char-rnn's 0.1.
    rng : ``numpy.random.Generator``, int seed or ``None`` (NumPy's global state), for the samples

    Returns
    -------
    history : the dict of the torch version: ``step``, ``seconds`` (training time, the
        evaluations and samples excluded), ``train_loss`` and ``held_out_loss`` at each
        evaluation, ``losses`` (per step), ``samples`` (``(step, ids)``), ``steps``, ``elapsed``,
        every loss in nats per character; and, as min-char-rnn reports it, ``smooth_losses``,
        the moving average of ``losses`` with weight 0.999 on the past, started at log V.

    Raises ``FloatingPointError`` naming the step when a loss is NaN or inf.
    """
    V, H = check_char_rnn_params(params)
    indices = _check_text(indices, V)
    seq_len = check_positive_int("seq_len", seq_len)
    batch_size = check_positive_int("batch_size", batch_size)
    steps, seconds = _check_stop(steps, seconds)
    eval_every = check_positive_int("eval_every", eval_every)
    if clip is not None:
        clip = check_positive_number("clip", clip)
    if sample_every is not None:
        sample_every = check_positive_int("sample_every", sample_every)
    sample_length = check_positive_int("sample_length", sample_length)
    # min-char-rnn's Adagrad has eps = 1e-8 for a loss summed over the chunk; our loss is the mean,
    # its gradients seq_len times smaller, so eps shrinks by seq_len² and the steps stay the same.
    optimiser = Adagrad(lr, eps=1e-8 / seq_len**2)
    rng = as_generator(rng)
    data, starts, stream_length = _streams(indices, seq_len, batch_size)
    offsets = np.arange(seq_len)[None, :]
    history = {"step": [], "seconds": [], "train_loss": [], "held_out_loss": [], "losses": [],
               "smooth_losses": [], "samples": []}

    def evaluate(step, elapsed):
        recent = history["losses"][history["step"][-1] if history["step"] else 0:]
        history["step"].append(step)
        history["seconds"].append(elapsed)
        history["train_loss"].append(float(np.mean(recent)) if recent else float("nan"))
        history["held_out_loss"].append(held_out_loss(params, indices, seq_len))

    def sample(step):
        drawn = generate_text(params, indices[:1], sample_length, rng=rng)
        history["samples"].append((step, drawn[1:]))

    position, h = 0, np.zeros((batch_size, H))
    smooth, elapsed, step = np.log(V), 0.0, 0
    evaluate(0, 0.0)
    bar = tqdm(total=steps, desc="char-rnn", disable=not progress, mininterval=1.0, leave=False)
    while (steps is None or step < steps) and (seconds is None or elapsed < seconds):
        start = time.perf_counter()
        if position + seq_len + 1 > stream_length:
            position, h = 0, np.zeros((batch_size, H))
        index = starts + position + offsets
        try:
            loss, grads, h = char_rnn_loss_and_gradients(data[index], data[index + 1], params, h)
        except FloatingPointError:
            loss = float("inf")
        per_char = check_finite_loss(
            loss, step, hint="the gradients exploded or the learning rate is too high: lower lr "
                             "or clip")
        optimiser.step(params, grads if clip is None else clip_by_value(grads, clip))
        position += seq_len
        elapsed += time.perf_counter() - start
        step += 1
        smooth = 0.999 * smooth + 0.001 * per_char
        history["losses"].append(per_char)
        history["smooth_losses"].append(smooth)
        bar.update(1)
        if step % eval_every == 0:
            bar.set_postfix(nats_per_char=f"{smooth:.3f}", refresh=False)
            evaluate(step, elapsed)
        if sample_every is not None and step % sample_every == 0:
            sample(step)
    bar.close()
    if history["step"][-1] != step:
        evaluate(step, elapsed)
    if sample_every is not None and (not history["samples"] or history["samples"][-1][0] != step):
        sample(step)
    history["steps"], history["elapsed"] = step, elapsed
    return history


def train_with_sgd(params, indices, seq_len, batch_size, steps, lr, max_norm=None):
    """Train the character RNN ``params`` (updated in place) with plain stochastic gradient
    descent, θ ← θ − lr g, on the chunks that :func:`train_language_model` reads (the same
    streams, BPTT(seq_len; seq_len) with the state carried), the gradient g clipped by its global
    norm, g ← g min(1, max_norm / ‖g‖) (``seqlearn.numpy.optim.clip_by_norm``, equation (4.7) of
    chapter 4), when ``max_norm`` is given. No held-out loss, no samples: this is the loop of
    chapter 4's demonstration that an unclipped run can explode where a clipped one trains.

    Parameters
    ----------
    params : the model's parameters (``init_char_rnn_params``), trained in place
    indices : (N,) int array, the whole text as character ids (the first 90 % is read)
    seq_len, batch_size : each step trains on ``batch_size`` chunks of ``seq_len`` characters
    steps : the number of steps; lr : the step size, > 0; max_norm : the clipping threshold c,
        or ``None`` for no clipping

    Returns
    -------
    history : dict with ``losses`` (the mean loss of each step's chunk, nats per character),
        ``grad_norms`` (‖g‖ of each step, before clipping), ``clipped`` (bool per step: was g
        scaled down), ``steps`` (taken) and ``stopped`` (``None``, or the message of the step at
        which the loss or the scores stopped being finite: the run ends there, and its record
        is kept rather than raised, since a run that blows up is what this loop shows).
    """
    V, H = check_char_rnn_params(params)
    indices = _check_text(indices, V)
    seq_len = check_positive_int("seq_len", seq_len)
    batch_size = check_positive_int("batch_size", batch_size)
    steps = check_positive_int("steps", steps)
    lr = check_positive_number("lr", lr)
    if max_norm is not None and (isinstance(max_norm, bool) or not isinstance(max_norm, (int, float))
                                 or not max_norm > 0):
        raise ValueError(f"max_norm: expected a positive threshold or None, got {max_norm!r}")
    data, starts, stream_length = _streams(indices, seq_len, batch_size)
    offsets = np.arange(seq_len)[None, :]
    history = {"losses": [], "grad_norms": [], "clipped": [], "steps": 0, "stopped": None}
    position, h = 0, np.zeros((batch_size, H))
    for step in range(steps):
        if position + seq_len + 1 > stream_length:
            position, h = 0, np.zeros((batch_size, H))
        index = starts + position + offsets
        try:
            loss, grads, h = char_rnn_loss_and_gradients(data[index], data[index + 1], params, h)
            check_finite_loss(loss, step, hint="the gradients exploded: clip them, or lower lr")
        except FloatingPointError as error:
            history["stopped"] = f"step {step}: {error}"
            break
        with np.errstate(over="ignore"):  # an exploding gradient's norm may overflow to inf
            norm = global_norm(grads)
        if max_norm is not None:
            grads, _ = clip_by_norm(grads, max_norm)
        for name in PARAM_NAMES:
            params[name] -= lr * grads[name]
        history["losses"].append(float(loss))
        history["grad_norms"].append(norm)
        history["clipped"].append(max_norm is not None and norm > max_norm)
        history["steps"] = step + 1
        position += seq_len
    return history


def generate_text(params, prompt, n, temperature=1.0, rng=None):
    """Sample ``n`` characters after ``prompt`` ((T0,) int array of ids) from the model.

    The RNN reads the prompt from a zero state; then each character is drawn from
    softmax(z_t / temperature) and fed back as the next input (``temperature=0`` takes the most
    likely one; below 1 sharpens, above 1 flattens). ``rng``: a ``numpy.random.Generator``, an
    int seed or ``None`` (NumPy's global state). Returns the (T0 + n,) int64 array of the prompt
    followed by the sample.
    """
    V, H = check_char_rnn_params(params)
    prompt = check_char_indices("prompt", prompt, V, ndim=(1,))
    n = check_positive_int("n", n)
    temperature = check_temperature(temperature)
    rng = as_generator(rng)
    W_xh, W_hh, b_h, W_hy, b_y = (np.asarray(params[k], dtype=float) for k in PARAM_NAMES)
    tokens = [int(i) for i in prompt]
    h = np.zeros(H)
    for index in tokens:
        h = np.tanh(W_xh[index] + h @ W_hh + b_h)  # x_t W_xh for a one-hot x_t is a row of W_xh
    for i in range(n):
        scores = h @ W_hy + b_y
        if temperature == 0:
            index = int(scores.argmax())
        else:
            scores = scores / temperature
            p = np.exp(scores - scores.max())
            index = int(rng.choice(V, p=p / p.sum()))
        tokens.append(index)
        if i < n - 1:
            h = np.tanh(W_xh[index] + h @ W_hh + b_h)
    return np.array(tokens, dtype=np.int64)


__all__ = ["HELD_OUT_FRACTION", "training_split", "held_out_starts", "check_temperature",
           "language_model_loss", "held_out_loss", "train_language_model", "train_with_sgd",
           "generate_text"]
