"""A character-level language model in the style of Karpathy's min-char-rnn (2015).

One-hot characters x_t (V symbols) drive an Elman RNN (``seqlearn.numpy.rnn``); a linear layer
(``seqlearn.numpy.linear``) reads a score for every symbol from the state, and a softmax turns
the scores into the distribution of the next character (``seqlearn.numpy.softmax``)::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        W_xh (V, H), W_hh (H, H), b_h (H,)
    o_t = h_t W_hy + b_y                             W_hy (H, V), b_y (V,)
    ŷ_t = softmax(o_t),   L = − Σ_t log ŷ_{t, y_t}

Training runs truncated BPTT over chunks of ``seq_length`` characters, carrying the state from
one chunk to the next, with Adagrad and gradient clipping (``seqlearn.numpy.optim``).
"""

import time

import numpy as np

from ..validate import as_float_array, check_finite_loss, check_positive_int
from ..data.text import CharVocabulary
from .linear import linear_backward, linear_forward
from .optim import Adagrad, clip_by_value
from .rnn import rnn_backward, rnn_forward
from .softmax import softmax_cross_entropy

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_char_rnn_params(vocab_size, hidden_size, rng=None, scale=0.01):
    """Weights ~ N(0, scale²), zero biases (min-char-rnn's initialisation).

    Returns ``W_xh`` (V, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, V), ``b_y`` (V,).
    """
    V = check_positive_int("vocab_size", vocab_size)
    H = check_positive_int("hidden_size", hidden_size)
    rng = np.random.default_rng() if rng is None else rng
    return {
        "W_xh": rng.normal(0.0, scale, size=(V, H)),
        "W_hh": rng.normal(0.0, scale, size=(H, H)),
        "b_h": np.zeros(H),
        "W_hy": rng.normal(0.0, scale, size=(H, V)),
        "b_y": np.zeros(V),
    }


def check_char_rnn_params(params):
    """Validate a parameter dict; return ``(V, H)``."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of arrays, got {type(params).__name__}")
    missing = [key for key in PARAM_NAMES if key not in params]
    if missing:
        raise ValueError(f"params: missing {missing} (expected keys {', '.join(PARAM_NAMES)})")
    W_xh = as_float_array("params['W_xh']", params["W_xh"], ndim=2)
    V, H = W_xh.shape
    as_float_array("params['W_hh']", params["W_hh"], shape=(H, H))
    as_float_array("params['b_h']", params["b_h"], shape=(H,))
    as_float_array("params['W_hy']", params["W_hy"], shape=(H, V))
    as_float_array("params['b_y']", params["b_y"], shape=(V,))
    return V, H


def _check_indices(name, indices, vocab_size):
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer array of character indices, got dtype {indices.dtype}")
    if indices.ndim not in (1, 2):
        raise ValueError(f"{name}: expected shape (T,) or (B, T), got shape {indices.shape}")
    if indices.size == 0:
        raise ValueError(f"{name}: expected a non-empty sequence, got shape {indices.shape}")
    if indices.min() < 0 or indices.max() >= vocab_size:
        raise ValueError(
            f"{name}: indices must lie in [0, {vocab_size}), got {indices.min()}..{indices.max()}"
        )
    return indices


def char_rnn_loss(params, inputs, targets, h_prev=None):
    """Loss and gradients of one chunk, by backpropagation through time.

    Parameters
    ----------
    params : dict with ``W_xh`` (V, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, V), ``b_y`` (V,)
    inputs, targets : int arrays (T,) or (B, T) of character indices; usually
        ``targets[..., t] = inputs[..., t + 1]``
    h_prev : (H,) or (B, H) state carried over from the previous chunk, or ``None`` for zeros

    Returns
    -------
    loss : float, L = − Σ_t log ŷ_{t, y_t}, summed over the T steps (nats per chunk) and averaged
        over the B sequences; ``loss / T`` is in nats per character
    grads : dict like ``params``, ∂L/∂θ; the output gradient at step t is ∂L/∂o_t = ŷ_t − 1_{y_t}
    h_last : the final state h_T, shaped like ``h_prev`` (to carry into the next chunk)

    Raises ``FloatingPointError`` when the output scores overflow (weights grown far too large;
    the training loop turns it into its "training stopped" message).
    """
    V, H = check_char_rnn_params(params)
    inputs = _check_indices("inputs", inputs, V)
    targets = _check_indices("targets", targets, V)
    if targets.shape != inputs.shape:
        raise ValueError(f"targets: expected shape {inputs.shape} (as inputs), got {targets.shape}")
    single = inputs.ndim == 1
    inputs2, targets2 = np.atleast_2d(inputs), np.atleast_2d(targets)
    B, T = inputs2.shape
    if h_prev is not None:
        h_prev = as_float_array("h_prev", h_prev, shape=(H,) if single else (B, H))
        h_prev = np.atleast_2d(h_prev)
    loss, grads, h_last = _loss_and_grads(params, inputs2, targets2, h_prev)
    return loss, grads, (h_last[0] if single else h_last)


def _loss_and_grads(params, inputs, targets, h_prev):
    """The computation behind :func:`char_rnn_loss`, for validated (B, T) inputs."""
    if not all(np.all(np.isfinite(p)) for p in params.values()):
        raise FloatingPointError("char_rnn_loss: the parameters are no longer finite")
    V = params["W_xh"].shape[0]
    B, T = inputs.shape
    x = np.zeros((B, T, V))
    np.put_along_axis(x, inputs[..., None], 1.0, axis=-1)
    h, rnn_cache = rnn_forward(x, h_prev, params)
    logits, out_cache = linear_forward(h, params["W_hy"], params["b_y"])
    if not np.all(np.isfinite(logits)):
        raise FloatingPointError(
            "char_rnn_loss: the output scores overflowed (the weights have grown too large: "
            "lower the learning rate or clip the gradients)"
        )
    # softmax_cross_entropy averages over the B*T positions; the loss sums over time instead.
    mean_loss, dlogits = softmax_cross_entropy(logits, targets)
    loss, dlogits = mean_loss * T, dlogits * T
    dh, out_grads = linear_backward(dlogits, out_cache)
    grads, _, _ = rnn_backward(dh, rnn_cache)
    grads["W_hy"], grads["b_y"] = out_grads["W"], out_grads["b"]
    return loss, grads, h[:, -1]


def sample(params, h, seed_index, n, rng=None, temperature=1.0):
    """Draw ``n`` characters from the model, one at a time, feeding each back as the next input.

    Parameters
    ----------
    params : the model's parameters
    h : (H,) starting state, or ``None`` for zeros
    seed_index : int, the first input character
    n : number of characters to draw
    rng : ``numpy.random.Generator`` (a fresh one when ``None``)
    temperature : the scores are divided by it before the softmax: < 1 sharpens, > 1 flattens

    Returns an int64 array (n,) of character indices (the seed not included).
    """
    V, H = check_char_rnn_params(params)
    n = check_positive_int("n", n)
    if isinstance(seed_index, bool) or not isinstance(seed_index, (int, np.integer)) or not 0 <= seed_index < V:
        raise ValueError(f"seed_index: expected an int in [0, {V}), got {seed_index!r}")
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    rng = np.random.default_rng() if rng is None else rng
    h = np.zeros(H) if h is None else as_float_array("h", h, shape=(H,)).copy()
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in PARAM_NAMES)
    out = np.empty(n, dtype=np.int64)
    index = int(seed_index)
    for i in range(n):
        h = np.tanh(W_xh[index] + h @ W_hh + b_h)  # x_t W_xh for a one-hot x_t is a row of W_xh
        scores = (h @ W_hy + b_y) / temperature
        p = np.exp(scores - scores.max())
        index = int(rng.choice(V, p=p / p.sum()))
        out[i] = index
    return out


def unigram_entropy(indices, vocab_size=None):
    """Entropy (nats per character) of the character frequencies: the loss of the best model that
    ignores context, a baseline for a language model's nats/char."""
    indices = np.asarray(indices)
    counts = np.bincount(indices.ravel(), minlength=vocab_size or 0)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def train_char_rnn(
    text,
    hidden=100,
    seq_length=25,
    lr=0.1,
    clip=5.0,
    steps=1000,
    rng=None,
    sample_every=None,
    sample_length=200,
    callback=None,
    batch_size=1,
    progress=True,
):
    """Train a character RNN on ``text`` with truncated BPTT, Adagrad and clipping by value.

    The text is cut into ``batch_size`` equal streams read side by side (one stream: exactly
    min-char-rnn). Each step reads the next ``seq_length`` characters of every stream,
    backpropagates through that chunk only, clips every gradient entry to [-clip, clip] and takes
    an Adagrad step. The state h is carried from chunk to chunk and reset to zero when the
    streams wrap around to their start.

    ``sample_every`` (steps) draws ``sample_length`` characters from the model at those steps
    (and after the last one). ``callback(step, loss_per_char, params)`` is called after every
    step.

    Returns a dict: ``params``, ``vocab`` (a :class:`~seqlearn.data.CharVocabulary`),
    ``losses`` (nats/char per step), ``smooth_losses`` (exponential moving average, weight
    0.999 on the past as in min-char-rnn, started at log V), ``samples`` (list of
    ``(step, text)``), ``steps``, ``chars_seen`` and ``seconds``.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text: expected a string of at least 2 characters, got {text!r:.60}")
    hidden = check_positive_int("hidden", hidden)
    seq_length = check_positive_int("seq_length", seq_length)
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if sample_every is not None:
        sample_every = check_positive_int("sample_every", sample_every)
    stream_length = (len(text) - 1) // batch_size
    if stream_length <= seq_length:
        raise ValueError(
            f"text: {len(text)} characters cut into batch_size={batch_size} streams leave "
            f"{stream_length} per stream, fewer than seq_length + 1 = {seq_length + 1}"
        )
    rng = np.random.default_rng() if rng is None else rng
    vocab = CharVocabulary(text)
    data = vocab.encode(text)
    V = len(vocab)
    params = init_char_rnn_params(V, hidden, rng)
    optimiser = Adagrad(lr)

    from tqdm.auto import tqdm

    starts = np.arange(batch_size)[:, None] * stream_length
    offsets = np.arange(seq_length)[None, :]
    position, h = 0, np.zeros((batch_size, hidden))
    losses, smooth_losses, samples = [], [], []
    smooth = np.log(V)
    started = time.perf_counter()
    bar = tqdm(range(steps), desc="char-rnn", disable=not progress, mininterval=1.0)
    for step in bar:
        if position + seq_length + 1 > stream_length:
            position, h = 0, np.zeros((batch_size, hidden))
        index = starts + position + offsets
        inputs, targets = data[index], data[index + 1]
        try:
            loss, grads, h = _loss_and_grads(params, inputs, targets, h)
        except FloatingPointError:
            loss = float("inf")
        per_char = check_finite_loss(loss, step) / seq_length
        grads = clip_by_value(grads, clip)
        optimiser.step(params, grads)
        position += seq_length
        losses.append(per_char)
        smooth = 0.999 * smooth + 0.001 * per_char
        smooth_losses.append(smooth)
        if sample_every is not None and ((step + 1) % sample_every == 0 or step + 1 == steps):
            drawn = sample(params, h[0], int(inputs[0, -1]), sample_length, rng)
            samples.append((step + 1, vocab.decode(drawn)))
        if callback is not None:
            callback(step, per_char, params)
        if step % 200 == 0:
            bar.set_postfix(nats_per_char=f"{smooth:.3f}", refresh=False)
    bar.close()
    return {
        "params": params,
        "vocab": vocab,
        "losses": np.array(losses),
        "smooth_losses": np.array(smooth_losses),
        "samples": samples,
        "steps": steps,
        "chars_seen": steps * seq_length * batch_size,
        "seconds": time.perf_counter() - started,
    }
