"""A character-level language model in the style of Karpathy's min-char-rnn (2015).

One-hot characters x_t (V symbols) drive an Elman RNN (``seqlearn.numpy.rnn``); a linear layer
(``seqlearn.numpy.linear``) reads a score for every symbol from the state, and a softmax turns
the scores into the distribution of the next character (``seqlearn.numpy.softmax``)::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        W_xh (V, H), W_hh (H, H), b_h (H,)
    z_t = h_t W_hy + b_y                             W_hy (H, V), b_y (V,)
    ŷ_t = softmax(z_t),   L = − (1/T) Σ_t log ŷ_{t, y_t}   (nats per character)

:func:`char_rnn_loss_and_gradients` computes the loss of a chunk and its gradients by
backpropagation through time; ``seqlearn.numpy.language_model`` trains the model (truncated
BPTT over chunks, carrying the state, with Adagrad and clipping) and samples from it.
:func:`char_rnn_states`, :func:`text_features`, :func:`unit_correlations` and
:func:`current_character_correlation` look for units that track a feature of the text.
"""

import re

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, describe
from .common import check_param_dict
from .linear import linear_backward, linear_forward
from .rnn import rnn_backward, rnn_forward
from .softmax import softmax_cross_entropy

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_char_rnn_params(vocab_size, hidden_size, rng=None, scale=0.01):
    """Weights ~ N(0, scale²), zero biases (min-char-rnn's initialisation).

    Returns ``W_xh`` (V, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, V), ``b_y`` (V,).
    ``rng``: a ``numpy.random.Generator``, an int seed, or ``None`` for NumPy's global state
    (``seqlearn.seed``).
    """
    V = check_positive_int("vocab_size", vocab_size)
    H = check_positive_int("hidden_size", hidden_size)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale: expected a number ≥ 0, got {describe(scale)}")
    if not (np.isfinite(scale) and scale >= 0):
        raise ValueError(f"scale: expected a finite number ≥ 0, got {scale!r}")
    rng = as_generator(rng)
    return {
        "W_xh": rng.normal(0.0, scale, size=(V, H)),
        "W_hh": rng.normal(0.0, scale, size=(H, H)),
        "b_h": np.zeros(H),
        "W_hy": rng.normal(0.0, scale, size=(H, V)),
        "b_y": np.zeros(V),
    }


def check_char_rnn_params(params):
    """Validate a parameter dict; return ``(V, H)``.

    Raises ``FloatingPointError`` when a parameter is NaN or inf (what diverged training leaves
    behind), ``TypeError``/``ValueError`` naming the parameter for anything else.
    """
    check_param_dict(params, PARAM_NAMES)
    for name in PARAM_NAMES:
        value = params[name]
        if (isinstance(value, np.ndarray) and value.dtype.kind == "f"
                and not np.isfinite(value).all()):
            raise FloatingPointError(
                f"params['{name}']: contains NaN or inf (if these parameters come from training, "
                f"it has diverged: lower the learning rate or clip the gradients)")
    W_xh = as_float_array("params['W_xh']", params["W_xh"], ndim=2)
    V, H = W_xh.shape
    as_float_array("params['W_hh']", params["W_hh"], shape=(H, H))
    as_float_array("params['b_h']", params["b_h"], shape=(H,))
    as_float_array("params['W_hy']", params["W_hy"], shape=(H, V))
    as_float_array("params['b_y']", params["b_y"], shape=(V,))
    return V, H


def check_char_indices(name, indices, vocab_size, ndim=(1, 2)):
    """Check an integer array of character indices in [0, vocab_size) with ``ndim``
    dimensions ((T,) or (B, T)); return it as an array (``indices`` itself when it is one).
    ``name`` is the argument's name in the messages."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected the argument's name (a str), got {describe(name)}")
    vocab_size = check_positive_int("vocab_size", vocab_size)
    ndim = (ndim,) if isinstance(ndim, (int, np.integer)) else tuple(ndim)
    if not ndim or any(n not in (1, 2) for n in ndim):
        raise ValueError(f"ndim: expected 1, 2 or (1, 2), got {ndim!r}")
    if isinstance(indices, (str, bytes)):
        raise TypeError(f"{name}: expected an integer array of character indices, got "
                        f"{describe(indices)}")
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer array of character indices, got dtype "
                        f"{indices.dtype}")
    if indices.ndim not in ndim:
        want = " or ".join({1: "(T,)", 2: "(B, T)"}[n] for n in ndim)
        raise ValueError(f"{name}: expected shape {want}, got shape {indices.shape}")
    if indices.size == 0:
        raise ValueError(f"{name}: expected a non-empty sequence, got shape {indices.shape}")
    if indices.min() < 0 or indices.max() >= vocab_size:
        raise ValueError(
            f"{name}: indices must lie in [0, {vocab_size}), got {indices.min()}..{indices.max()}"
        )
    return indices


def _check_chunk(inputs, targets, params, h0):
    """``inputs`` and ``targets`` (None, or the shape of ``inputs``) as (B, T), ``h0`` as (B, H)
    or None, after checking them; and whether the chunk was a single sequence (T,)."""
    V, H = check_char_rnn_params(params)
    inputs = check_char_indices("inputs", inputs, V)
    if targets is not None:
        targets = np.atleast_2d(check_char_indices("targets", targets, V))
        if targets.shape != np.atleast_2d(inputs).shape:
            raise ValueError(f"targets: expected shape {inputs.shape} (as inputs), got "
                             f"{targets.shape if inputs.ndim == 2 else targets.shape[1:]}")
    single = inputs.ndim == 1
    inputs = np.atleast_2d(inputs)
    if h0 is not None:
        h0 = np.atleast_2d(as_float_array("h0", h0, shape=(H,) if single else (inputs.shape[0], H)))
    return inputs, targets, h0, single


def _one_hot(inputs, V):
    x = np.zeros(inputs.shape + (V,))
    np.put_along_axis(x, inputs[..., None], 1.0, axis=-1)
    return x


def char_rnn_forward(inputs, h0, params):
    """Scores of the next character at every step, as ``seqlearn.torch.char_rnn.CharRNN``:
    z_t = h_t W_hy + b_y with h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), x_t = onehot(inputs_t).

    ``inputs`` (T,) or (B, T) character indices; ``h0`` (H,) or (B, H) (matching ``inputs``), or
    ``None`` for zeros. Returns ``logits`` (T, V) or (B, T, V), and ``h_T`` (H,) or (B, H).
    """
    inputs, _, h0, single = _check_chunk(inputs, None, params, h0)
    h, _ = rnn_forward(_one_hot(inputs, params["W_xh"].shape[0]), h0, params)
    logits, _ = linear_forward(h, params["W_hy"], params["b_y"])
    return (logits[0], h[0, -1]) if single else (logits, h[:, -1])


def char_rnn_loss_and_gradients(inputs, targets, params, h0=None):
    """Loss of one chunk and its gradients, by backpropagation through time.

    Parameters
    ----------
    inputs, targets : int arrays (T,) or (B, T) of character indices; usually
        ``targets[..., t] = inputs[..., t + 1]``
    params : dict with ``W_xh`` (V, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, V), ``b_y`` (V,)
    h0 : (H,) or (B, H) state carried over from the previous chunk, or ``None`` for zeros

    Returns
    -------
    loss : float, L = − (1/(BT)) Σ_b Σ_t log ŷ_{b, t, y_{b,t}}, the mean over the T steps and the
        B sequences (nats per character)
    grads : dict like ``params``, ∂L/∂θ; the output gradient at step t is
        ∂L/∂z_t = (ŷ_t − 1_{y_t}) / (BT)
    h_T : the final state, shaped like ``h0`` (to carry into the next chunk)

    Raises ``FloatingPointError`` when the parameters or the output scores are not finite
    (weights grown far too large; a training loop turns it into its "training stopped" message).
    """
    inputs, targets, h0, single = _check_chunk(inputs, targets, params, h0)
    h, rnn_cache = rnn_forward(_one_hot(inputs, params["W_xh"].shape[0]), h0, params)
    logits, out_cache = linear_forward(h, params["W_hy"], params["b_y"])
    if not np.all(np.isfinite(logits)):
        raise FloatingPointError(
            "char_rnn_loss: the output scores overflowed (the weights have grown too large: "
            "lower the learning rate or clip the gradients)"
        )
    # softmax_cross_entropy averages over the B*T positions, as L does: dlogits is ∂L/∂z_t.
    loss, dlogits = softmax_cross_entropy(logits, targets)
    dh, out_grads = linear_backward(dlogits, out_cache)
    grads, _, _ = rnn_backward(dh, rnn_cache)
    grads["W_hy"], grads["b_y"] = out_grads["W"], out_grads["b"]
    return loss, grads, (h[0, -1] if single else h[:, -1])


def char_rnn_loss(inputs, targets, params, h0=None):
    """The loss of one chunk and the final state, as ``seqlearn.torch.char_rnn.char_rnn_loss``:
    L = − (1/(BT)) Σ_b Σ_t log softmax(z_{b,t})_{y_{b,t}} of :func:`char_rnn_forward`'s scores,
    the mean over the T steps and the B sequences (nats per character).

    Arguments as :func:`char_rnn_loss_and_gradients` (which also gives the gradients). Returns
    ``(loss, h_T)``, h_T shaped like ``h0``.
    """
    _, targets, _, _ = _check_chunk(inputs, targets, params, None)
    logits, h_T = char_rnn_forward(inputs, h0, params)
    loss, _ = softmax_cross_entropy(logits.reshape(targets.shape + logits.shape[-1:]), targets)
    return loss, h_T


def char_rnn_states(inputs, h0, params):
    """The hidden states h_1 .. h_T of the model reading ``inputs``, as
    ``seqlearn.torch.char_rnn.char_rnn_states``: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),
    x_t = onehot(inputs_t), the state after reading character t.

    ``inputs`` (T,) or (B, T) character indices; ``h0`` (H,) or (B, H), or ``None`` for zeros.
    Returns (T, H) or (B, T, H).
    """
    inputs, _, h0, single = _check_chunk(inputs, None, params, h0)
    h, _ = rnn_forward(_one_hot(inputs, params["W_xh"].shape[0]), h0, params)
    return h[0] if single else h


#: The features of :func:`text_features`, in order.
TEXT_FEATURES = ("position in line", "inside brackets", "speaker's name")

_NAME_LINE = re.compile(r"[A-Z][A-Z' ]*\.")


def text_features(text):
    """Features of a play's text that a unit of a character model may track (Karpathy, Johnson &
    Fei-Fei, 2015), each known once the character it belongs to has been read.

    Returns a dict of float arrays (len(text),), keyed by :data:`TEXT_FEATURES`; entry t
    describes the text up to and including character t:

    * ``"position in line"``: how many characters of the current line have been read (0 after a
      line break);
    * ``"inside brackets"``: 1 after a ``[`` has been read and its ``]`` not yet (a stage
      direction), else 0;
    * ``"speaker's name"``: 1 on the characters of a line that names the next speaker (capitals
      and a full stop, as ``MACBETH.``; the ``ACT`` and ``SCENE`` headings excluded), else 0.
    """
    if not isinstance(text, str) or not text:
        raise TypeError(f"text: expected a non-empty str, got {text!r}"[:120])
    position, inside, name = (np.zeros(len(text)) for _ in range(3))
    depth, start = 0, 0
    for line in text.split("\n"):
        is_name = bool(_NAME_LINE.fullmatch(line)) and not line.startswith(("ACT", "SCENE"))
        for k, ch in enumerate(line):
            depth = 1 if ch == "[" else (0 if ch == "]" else depth)
            position[start + k] = k + 1
            inside[start + k] = depth
            name[start + k] = is_name
        start += len(line)
        if start < len(text):                 # the line break: position 0, brackets carried on
            inside[start] = depth
            start += 1
    return dict(zip(TEXT_FEATURES, (position, inside, name)))


def unit_correlations(states, features):
    """Pearson correlation of every unit with every feature over the N steps of a text.

    ``states`` (N, H): the activations (e.g. :func:`char_rnn_states`); ``features`` (N, F) or
    (N,). Returns (H, F) or (H,): r_jf = Σ_n (s_nj − s̄_j)(f_nf − f̄_f) /
    sqrt(Σ_n (s_nj − s̄_j)² Σ_n (f_nf − f̄_f)²), and 0 where a unit or a feature is constant.
    """
    states = as_float_array("states", states, ndim=2)
    features = as_float_array("features", features)
    single = features.ndim == 1
    features = features[:, None] if single else features
    if features.ndim != 2 or len(features) != len(states):
        raise ValueError(f"features: expected shape ({len(states)},) or ({len(states)}, F) (one "
                         f"row per row of states), got {features.shape}")
    s = states - states.mean(axis=0)
    f = features - features.mean(axis=0)
    scale = np.sqrt(np.outer((s * s).sum(axis=0), (f * f).sum(axis=0)))
    r = np.divide(s.T @ f, scale, out=np.zeros(scale.shape), where=scale > 0)
    return r[:, 0] if single else r


def current_character_correlation(fit_ids, fit_feature, eval_ids, eval_feature):
    """How well the current character alone predicts a feature: the control for a unit's
    correlation with it.

    The prediction is the feature's mean over the steps of the fitting text with the same
    character (the best guess from the character alone in the least-squares sense; a character
    the fitting text lacks gets the overall mean). Returns its Pearson correlation with
    ``eval_feature`` on the evaluation text (a float). ``fit_ids``, ``eval_ids``: (N,), (M,)
    character indices; ``fit_feature``, ``eval_feature``: (N,), (M,).
    """
    fit_ids, eval_ids = np.asarray(fit_ids), np.asarray(eval_ids)
    for name, ids in (("fit_ids", fit_ids), ("eval_ids", eval_ids)):
        if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 1 or ids.size == 0 \
                or ids.min() < 0:
            raise ValueError(f"{name}: expected a 1-D array of character indices, got "
                             f"{ids.dtype} of shape {ids.shape}")
    fit_feature = as_float_array("fit_feature", fit_feature, shape=fit_ids.shape)
    eval_feature = as_float_array("eval_feature", eval_feature, shape=eval_ids.shape)
    size = max(fit_ids.max(), eval_ids.max()) + 1
    counts = np.bincount(fit_ids, minlength=size)
    sums = np.bincount(fit_ids, weights=fit_feature, minlength=size)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), fit_feature.mean())
    return float(unit_correlations(means[eval_ids][:, None], eval_feature)[0])


def unigram_entropy(indices, vocab_size=None):
    """Entropy H = − Σ_c p_c log p_c (nats per character) of the character frequencies p_c: the
    loss of the best model that ignores context, a baseline for a language model's nats/char."""
    if vocab_size is not None:
        vocab_size = check_positive_int("vocab_size", vocab_size)
    if isinstance(indices, (str, bytes)):
        raise TypeError(f"indices: expected an integer array of character indices, got "
                        f"{describe(indices)}")
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices: expected an integer array of character indices, got "
                        f"{describe(indices)}")
    if indices.size == 0:
        raise ValueError("indices: expected at least one character index, got an empty array")
    if indices.min() < 0 or (vocab_size is not None and indices.max() >= vocab_size):
        raise ValueError(f"indices: expected values in [0, {vocab_size or 'V'}), got "
                         f"{indices.min()}..{indices.max()}"
                         + (" (or raise vocab_size)" if vocab_size is not None else ""))
    counts = np.bincount(indices.ravel(), minlength=vocab_size or 0)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


__all__ = ["PARAM_NAMES", "init_char_rnn_params", "check_char_rnn_params", "check_char_indices",
           "char_rnn_forward", "char_rnn_loss_and_gradients", "char_rnn_loss",
           "char_rnn_states", "TEXT_FEATURES", "text_features", "unit_correlations",
           "current_character_correlation", "unigram_entropy"]
