"""Checks for the exercises of chapter 10, *Images as sequences — PixelRNN and PixelCNN*
(notebooks ``10_pixel_models`` and ``10b_pixel_generation``).

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
10-conv-masks               implement    masks A and B (10.6) for kernel sizes 1, 3, 5, 7 and a
                                         fresh random odd size against the reference
10-bits-per-dim             implement    the negative log-likelihood in bits per pixel (10.2)
                                         from logits, on fresh random images, levels and logits
                                         (large logits included); library cross-entropies are
                                         refused
10-depth                    experiment   trains the package's PixelCNN with the chosen number of
                                         masked layers on the binarised digits, for two seeds,
                                         and scores its test bits/dim; prints the receptive
                                         field's share of the context
10-causal-order             concept      the size of a pixel's context, the mask of a first
                                         layer, the taps of a mask, a blind spot, the bits of a
                                         uniform model, what a Row LSTM sees of its own row
10-skew                     implement    (10b) the Diagonal BiLSTM's skew of a feature map on
                                         fresh random maps against the reference
10-greedy-completion        implement    (10b) completing images pixel by pixel in raster order
                                         with a fully visible belief network of linear
                                         conditionals (the most likely level at each step), on
                                         fresh random networks and canvases
10-row-kernel               experiment   (10b) trains the package's Row LSTM with the chosen
                                         kernel size on the binarised digits, for two seeds,
                                         and scores its test bits/dim
10-generation               concept      (10b) forward passes in training and in generation, the
                                         sequential steps of a Row LSTM and of a Diagonal
                                         BiLSTM, whether a PixelCNN can sample in one pass
=========================== ============ ========================================================

The references are the package's own ``seqlearn.numpy.pixel``. When an answer is wrong, the check
compares it with what typical mistakes give (the centre tap in mask A, masks A and B swapped, the
kernel flipped as in a textbook convolution, the mask transposed, nats for bits, a sum over the
pixels for their mean, a skew to the left, every pixel of a completion filled from one forward
pass, columns before rows, ...) and names the mistake it recognises; otherwise its hint points
to the equation by its number, never to the formula.
"""

import math

import numpy as np

from ..numpy.pixel import bits_per_dim as _bits_per_dim
from ..numpy.pixel import conv_mask as _conv_mask
from ..numpy.pixel import independent_pixel_logits as _independent_pixel_logits
from ..numpy.pixel import raster_context as _raster_context
from ..numpy.pixel import receptive_field as _receptive_field
from ..numpy.pixel import skew as _skew
from .core import (check_concept, check_experiment, diagnose_outputs, fresh_rng, register,
                   run_check)

#: Library routines that compute a cross-entropy or a normalised log-probability in one call.
CROSS_ENTROPY = ("cross_entropy", "nll_loss", "log_softmax", "binary_cross_entropy")


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# -- 10-conv-masks ----------------------------------------------------------------------------

def reference_conv_masks(kernel_size):
    """Masks A and B (k, k) of equation (10.6)."""
    return _conv_mask(kernel_size, "A"), _conv_mask(kernel_size, "B")


def _masks_variant(kernel_size, centre_in_a=False, swapped=False, flipped=False,
                   transposed=False, full_row=False, row_only=False):
    a, b = reference_conv_masks(kernel_size)
    k = kernel_size // 2
    if centre_in_a:
        a = b.copy()
    if full_row:
        a, b = a.copy(), b.copy()
        a[k, :], b[k, :] = 1.0, 1.0
        a[k, k] = 0.0
    if row_only:
        a, b = a.copy(), b.copy()
        a[:k], b[:k] = 0.0, 0.0
    if flipped:
        a, b = a[::-1, ::-1].copy(), b[::-1, ::-1].copy()
    if transposed:
        a, b = a.T.copy(), b.T.copy()
    if swapped:
        a, b = b, a
    return a, b


@register("10-conv-masks", kind="implement", points=10,
          summary="masks A and B (10.6) for kernel sizes 1, 3, 5, 7 and a fresh random odd size "
                  "against the reference; the centre in A, A and B swapped, a flipped or "
                  "transposed kernel, a full centre row, a missing upper part are named",
          forbidden=("conv_mask",))
def check_conv_masks(conv_masks):
    """Check ``conv_masks(kernel_size) -> (mask_A, mask_B)``."""
    sizes = [1, 3, 5, 7, int(fresh_rng().choice([9, 11, 13]))]
    cases = [{"kernel_size": k} for k in sizes]
    mistakes = [
        (lambda **c: _masks_variant(**c, centre_in_a=True),
         "mask A keeps the centre tap: a first layer must not read the pixel it predicts"),
        (lambda **c: _masks_variant(**c, swapped=True),
         "masks A and B are swapped: A is the one without the centre tap"),
        (lambda **c: _masks_variant(**c, flipped=True),
         "the masks are flipped: in equation (10.6) tap (p, q) reads the pixel "
         "(r + p − κ, s + q − κ), so the taps that read earlier pixels are the upper rows and "
         "the left part of the centre row (index 0 is the top-left tap)"),
        (lambda **c: _masks_variant(**c, transposed=True),
         "the masks are transposed: the first axis of the kernel runs over rows and the "
         "raster order reads rows first, so whole rows above the centre are kept"),
        (lambda **c: _masks_variant(**c, full_row=True),
         "the centre row is kept right of the centre too: those pixels come later in raster "
         "order"),
        (lambda **c: _masks_variant(**c, row_only=True),
         "the rows above the centre are missing: every pixel of an earlier row comes before "
         "the centre in raster order"),
    ]
    hint = diagnose_outputs(conv_masks, cases[2], reference_conv_masks, mistakes,
                            ["mask_A", "mask_B"],
                            "in equation (10.6) the tap (p, q) reads the pixel (r + p − κ, "
                            "s + q − κ); keep the taps whose pixel comes before (r, s) in raster "
                            "order, and for mask B the centre as well")
    return run_check("10-conv-masks", "Masks A and B", conv_masks, reference_conv_masks, cases,
                     ["mask_A", "mask_B"], hint=hint)


# -- 10-bits-per-dim --------------------------------------------------------------------------

def reference_bits_per_dim(logits, x):
    """−(1/(B n²)) Σ log₂ softmax(z)[x] for logits (B, n, n, V) and levels x (B, n, n)."""
    return _bits_per_dim(logits, x)


def _bits_variant(logits, x, nats=False, per_image=False, unnormalised=False, total=False):
    log_p = (logits if unnormalised else _log_softmax(logits))
    picked = np.take_along_axis(log_p, x[..., None], axis=-1)[..., 0]
    value = -picked.mean()
    if per_image:
        value = -picked.sum(axis=(1, 2)).mean()
    if total:
        value = -picked.sum()
    return float(value if nats else value / math.log(2.0))


#: (B, n, V, scale of the logits) of the cases: binary digits, four levels, one image, large
#: logits that overflow a naive softmax, many levels.
_BITS_SHAPES = [(4, 8, 2, 2.0), (1, 5, 4, 1.0), (3, 6, 4, 400.0), (6, 4, 3, 0.5), (2, 7, 16, 3.0)]


def _bits_cases(rng):
    cases = []
    for B, n, V, scale in _BITS_SHAPES:
        cases.append({"logits": rng.normal(size=(B, n, n, V)) * scale,
                      "x": rng.integers(0, V, size=(B, n, n))})
    return cases


@register("10-bits-per-dim", kind="implement", points=len(_BITS_SHAPES),
          summary="the negative log-likelihood in bits per pixel (10.2) from logits on 5 fresh "
                  "random batches (one image, 2 to 16 levels, logits large enough to overflow a "
                  "naive softmax); nats, bits per image, a missing normalisation are named; "
                  "library cross-entropies are refused",
          forbidden=CROSS_ENTROPY)
def check_bits_per_dim(bits_per_dim):
    """Check ``bits_per_dim(logits, x) -> float``."""
    cases = _bits_cases(fresh_rng())
    mistakes = [
        (lambda **c: _bits_variant(**c, nats=True),
         "this is nats per pixel: bits use log₂, a factor 1/ln 2 apart"),
        (lambda **c: _bits_variant(**c, per_image=True),
         "this is bits per image (the sum over an image's pixels): per dimension means the "
         "mean over the pixels, equation (10.2)"),
        (lambda **c: _bits_variant(**c, total=True),
         "this is the sum over all pixels of the batch; equation (10.2) takes the mean"),
        (lambda **c: _bits_variant(**c, unnormalised=True),
         "the logits are used as log-probabilities: normalise them with a softmax first "
         "(subtract the log of the sum of their exponentials)"),
    ]
    hint = diagnose_outputs(bits_per_dim, cases[0], reference_bits_per_dim, mistakes, ["bits"],
                            "take the log-probability of each pixel's own level under the "
                            "softmax of its logits, in base 2, and average over all pixels of "
                            "the batch, equation (10.2)",
                            nonfinite="NaN or inf: exp of a large logit overflows; subtract each "
                                      "pixel's largest logit before exponentiating (the "
                                      "log-sum-exp trick)")
    return run_check("10-bits-per-dim", "Bits per dimension", bits_per_dim,
                     reference_bits_per_dim, cases, ["bits"], hint=hint, atol=1e-7, rtol=1e-6)


# -- 10-depth ---------------------------------------------------------------------------------

#: The depth experiment: the chapter's PixelCNN (``hidden_size`` features, ``kernel_size``)
#: with the chosen number of masked layers, trained on the binarised digits for ``steps`` Adam
#: steps of ``batch_size`` images at learning rate ``lr``; a seed scores when the test bits/dim
#: is below ``target``.
DEPTH = {"levels": 2, "hidden_size": 16, "kernel_size": 3, "steps": 200, "batch_size": 64,
         "lr": 1e-2, "target": 0.455, "seeds": (0, 1), "choices": tuple(range(1, 11))}


def _coverage(n, kernel_size, num_layers):
    """The mean over the pixels (but the first) of the share of the raster context that the
    receptive field of the stack covers."""
    shares = []
    for r in range(n):
        for s in range(n):
            if (r, s) == (0, 0):
                continue
            context = _raster_context(n, (r, s))
            reached = _receptive_field(n, kernel_size, num_layers, (r, s))
            shares.append((reached & context).sum() / context.sum())
    return float(np.mean(shares))


def _train_digits_model(model, seed, setup):
    """Train ``model`` on the binarised training digits as ``setup`` says, from ``seed``; return
    the test bits/dim. Runs on one thread and leaves torch's random state as it was."""
    import torch

    from ..data.pixel_digits import load_pixel_digits
    from ..torch.pixel import model_bits_per_dim, train_pixel_model

    train, _ = load_pixel_digits(setup["levels"], "train")
    test, _ = load_pixel_digits(setup["levels"], "test")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_pixel_model(model, train, steps=setup["steps"], batch_size=setup["batch_size"],
                          lr=setup["lr"], generator=seed)
        return model_bits_per_dim(model, test)
    finally:
        torch.set_num_threads(threads)


def pixel_cnn_with_depth(num_layers, seed=0):
    """Train the depth experiment's PixelCNN (``DEPTH``) with ``num_layers`` masked layers from
    ``seed`` and return its test bits/dim. Takes one to a few seconds; try choices with it."""
    import torch

    from ..torch.pixel import PixelCNN

    num_layers = _as_choice(num_layers, DEPTH["choices"], "number of layers")
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = PixelCNN(DEPTH["levels"], DEPTH["hidden_size"], DEPTH["kernel_size"], num_layers)
        return _train_digits_model(model, seed, DEPTH)
    finally:
        torch.random.set_rng_state(state)


def _as_choice(choice, allowed, what):
    if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)):
        raise TypeError(f"expected an int ({what}), got {choice!r}")
    if int(choice) not in allowed:
        raise ValueError(f"expected a {what} in {', '.join(map(str, allowed))}, got {choice!r}")
    return int(choice)


def _baseline_bits(levels):
    from ..data.pixel_digits import load_pixel_digits

    train, _ = load_pixel_digits(levels, "train")
    test, _ = load_pixel_digits(levels, "test")
    return _bits_per_dim(_independent_pixel_logits(train, levels), test)


def _measure_depth(choice):
    M = _as_choice(choice, DEPTH["choices"], "number of layers")
    baseline = _baseline_bits(DEPTH["levels"])
    lines = [f"{M} masked layer(s) of {DEPTH['kernel_size']} × {DEPTH['kernel_size']}: the "
             f"receptive field covers {_coverage(8, DEPTH['kernel_size'], M):.0%} of a pixel's "
             f"context on average (the rest is out of reach or in the blind spot)"]
    score = 0
    for seed in DEPTH["seeds"]:
        bits = pixel_cnn_with_depth(M, seed)
        score += bits < DEPTH["target"]
        lines.append(f"seed {seed}: test {bits:.3f} bits/dim (independent pixels: "
                     f"{baseline:.3f}; target: below {DEPTH['target']})")
    if score < len(DEPTH["seeds"]):
        lines.append("hint: how much of its context must a pixel see to be predicted well? "
                     "Measure a few depths with pixel_cnn_with_depth(num_layers, seed) before "
                     "you choose.")
    return score, lines


@register("10-depth", kind="experiment", points=len(DEPTH["seeds"]),
          summary="trains the chapter's PixelCNN (16 features, 3 × 3 masks) with the chosen "
                  "number of masked layers on the binarised digits for 200 Adam steps, two "
                  "seeds; a point per seed whose test bits/dim is below 0.455")
def check_depth(choose_num_layers):
    """Check ``choose_num_layers() -> int``."""
    return check_experiment("10-depth", "Depth, receptive field and likelihood",
                            choose_num_layers, _measure_depth, max_score=len(DEPTH["seeds"]))


# -- 10-causal-order --------------------------------------------------------------------------

#: The blind spot of the concept question: 4 layers of 3 × 3 masks, pixel (4, 4) of 8 × 8.
_BLIND = int((_raster_context(8, (4, 4)) & ~_receptive_field(8, 3, 4, (4, 4))).sum())

_ORDER_QUESTIONS = [
    {"key": "context_size", "answer": 19,
     "explain": {18: "count again: row 2 has three pixels before column 3 (columns 0, 1, 2)",
                 20: "the pixel itself is not part of its own context",
                 24: "that is the two rows above and the whole of row 2; the pixels right of "
                     "(2, 3) come later",
                 16: "the pixels left of (2, 3) in its own row come before it too"},
     "hint": "count the pixels before (2, 3) in raster order, equation (10.1)"},
    {"key": "first_layer_mask", "answer": "A",
     "explain": {"B": "mask B keeps the centre tap: a first layer with it would read the very "
                      "pixel it predicts"},
     "hint": "answer 'A' or 'B'"},
    {"key": "mask_b_taps", "answer": 13,
     "explain": {12: "that is mask A; mask B keeps the centre as well",
                 25: "that is the whole kernel",
                 10: "that is the two rows above only; the centre row's left part and the "
                     "centre count too",
                 15: "the centre row's right part comes after the centre in raster order"},
     "hint": "count the taps of a 5 × 5 mask B: the rows above the centre, the left part of "
             "its row, the centre"},
    {"key": "blind_spot", "answer": _BLIND,
     "explain": {0: "draw the receptive field layer by layer (or call receptive_field): the "
                    "upper right of the context is not reached",
                 36: "that is the whole context; most of it is reached"},
     "hint": "compare raster_context(8, (4, 4)) with receptive_field(8, 3, 4, (4, 4))"},
    {"key": "uniform_bits", "answer": 2.0, "tolerance": 1e-6,
     "explain": {0.25: "that is the probability of a level; bits/dim is −log₂ of it",
                 1.3862943611198906: "that is nats (ln 4); bits use log₂",
                 4.0: "that is the number of levels; bits/dim is log₂ of it"},
     "hint": "every pixel has probability 1/4 whatever its level: what is −log₂ of it?"},
    {"key": "row_lstm_left", "answer": 1,
     "explain": {0: "the input-to-state kernel's taps left of the centre read the pixels left "
                    "of it (mask A along the row)",
                 3: "the kernel has 3 taps but mask A keeps only those left of the centre",
                 2: "with k = 3, κ = 1: one tap left of the centre",
                 7: "the state moves down the image, row by row, not along the row: a pixel "
                    "of the same row reaches h only through the input-to-state kernel"},
     "hint": "along its own row, the Row LSTM's state at (r, s) reads x only through the "
             "masked input-to-state kernel, equation (10.4)"},
]


@register("10-causal-order", kind="concept", points=len(_ORDER_QUESTIONS),
          summary="the size of a pixel's raster context, the mask of a first layer, the taps of a "
                  "5 × 5 mask B, the blind spot of 4 masked 3 × 3 layers at the centre of an "
                  "8 × 8 image, the bits/dim of a uniform 4-level model, the pixels of its own row "
                  "a Row LSTM sees")
def check_causal_order(answers):
    """Check ``answers() -> dict`` of the six answers (see ``_ORDER_QUESTIONS``)."""
    return check_concept("10-causal-order", "The causal order", answers, _ORDER_QUESTIONS)


# -- 10-skew ----------------------------------------------------------------------------------

def reference_skew(x):
    """x (B, n, n, D) -> (B, n, 2n−1, D), row r shifted right by r."""
    return _skew(x)


def _skew_variant(x, left=False, wide=False, shift_one_more=False):
    B, n, _, D = x.shape
    out = np.zeros((B, n, 2 * n + (1 if wide or shift_one_more else 0) - 1, D))
    for r in range(n):
        start = (n - 1 - r) if left else (r + (1 if shift_one_more else 0))
        out[:, r, start:start + n] = x[:, r]
    return out


_SKEW_SHAPES = [(2, 4, 3), (1, 1, 2), (3, 5, 1), (2, 8, 4), (1, 3, 6)]


@register("10-skew", kind="implement", points=len(_SKEW_SHAPES),
          summary="the Diagonal BiLSTM's skew of 5 fresh random feature maps (n = 1 included) "
                  "against the reference; a skew to the left, a map 2n wide, a shift by r + 1 "
                  "are named")
def check_skew(skew):
    """Check ``skew(x) -> (B, n, 2n−1, D)``."""
    rng = fresh_rng()
    cases = [{"x": rng.normal(size=(B, n, n, D))} for B, n, D in _SKEW_SHAPES]
    mistakes = [
        (lambda **c: _skew_variant(**c, left=True),
         "the rows are shifted to the left (row r starts at column n − 1 − r): shift row r "
         "right by r, so that pixel (r, s) lands in column r + s"),
        (lambda **c: _skew_variant(**c, wide=True),
         "the map is 2n wide; row n − 1 shifted by n − 1 ends in column 2n − 2, so 2n − 1 "
         "columns suffice"),
        (lambda **c: _skew_variant(**c, shift_one_more=True),
         "row r is shifted by r + 1; row 0 stays where it is"),
    ]
    hint = diagnose_outputs(skew, cases, reference_skew, mistakes, ["skewed"],
                            "pixel (r, s) of x goes to column r + s of row r; the other entries "
                            "are 0")
    return run_check("10-skew", "The skew of the Diagonal BiLSTM", skew, reference_skew, cases,
                     ["skewed"], hint=hint)


# -- 10-greedy-completion ---------------------------------------------------------------------

def _causal_logits(x, W, b):
    """The logits (B, n, n, V) of a fully visible belief network with linear conditionals: the
    one-hot codes of the pixels in raster order, flattened to (B, n² V), times W (n² V, n² V)
    plus b (n² V,)."""
    B, n, _ = x.shape
    V = b.shape[0] // (n * n)
    e = np.eye(V)[x].reshape(B, n * n * V)
    return (e @ W + b).reshape(B, n, n, V)


def reference_complete_greedy(canvas, start, W, b):
    """Fill the pixels i = start … n² − 1 of ``canvas`` (B, n, n) in raster order, each with the
    level of largest logit under the linear model (W, b) applied to the canvas as it stands."""
    x = np.array(canvas, copy=True)
    n = x.shape[1]
    for i in range(start, n * n):
        r, s = divmod(i, n)
        x[:, r, s] = _causal_logits(x, W, b)[:, r, s].argmax(axis=-1)
    return x


def _complete_variant(canvas, start, W, b, one_pass=False, columns=False):
    x = np.array(canvas, copy=True)
    n = x.shape[1]
    z = _causal_logits(x, W, b)
    for i in range(start, n * n):
        s, r = divmod(i, n) if columns else divmod(i, n)[::-1]
        if not one_pass:
            z = _causal_logits(x, W, b)
        x[:, r, s] = z[:, r, s].argmax(axis=-1)
    return x


#: (B, n, V, start) of the cases: from the first pixel, the lower half, the last pixels.
_COMPLETION_SHAPES = [(3, 4, 2, 0), (2, 5, 4, 12), (1, 6, 3, 18), (4, 4, 2, 13)]


def _completion_cases(rng):
    cases = []
    for B, n, V, start in _COMPLETION_SHAPES:
        T = n * n
        pixel = np.repeat(np.arange(T), V)                     # the pixel of each row/column
        causal = pixel[:, None] < pixel[None, :]               # input pixel j before output i
        canvas = rng.integers(0, V, size=(B, n, n))
        canvas.reshape(B, -1)[:, start:] = 0                   # the pixels to fill start at 0
        cases.append({"canvas": canvas, "start": start,
                      "W": rng.normal(scale=2.0, size=(T * V, T * V)) * causal,
                      "b": rng.normal(size=T * V)})
    return cases


@register("10-greedy-completion", kind="implement", points=len(_COMPLETION_SHAPES),
          summary="completes 4 fresh random canvases pixel by pixel in raster order with a fresh "
                  "random fully visible belief network of linear conditionals (the most likely "
                  "level at each step), from the first pixel, the lower half, the last pixels; "
                  "filling every pixel from one forward pass and a column order are named")
def check_greedy_completion(complete_greedy):
    """Check ``complete_greedy(canvas, start, W, b) -> (B, n, n)``."""
    cases = _completion_cases(fresh_rng())
    mistakes = [
        (lambda **c: _complete_variant(**c, one_pass=True),
         "every pixel is filled from one forward pass of the canvas before the first pixel was "
         "filled: the logits of pixel i depend on the pixels filled before it, so each pixel "
         "needs a pass of the canvas as it stands after the previous one (equation 10.1)"),
        (lambda **c: _complete_variant(**c, columns=True),
         "the pixels are filled column by column; the raster order fills row by row, pixel "
         "i = r n + s"),
    ]
    hint = diagnose_outputs(complete_greedy, cases, reference_complete_greedy, mistakes,
                            ["completed"],
                            "for i = start, …, n² − 1 in raster order: compute the logits of the "
                            "canvas as it stands (the one-hot codes in raster order, flattened, "
                            "times W, plus b) and set pixel i to the level of largest logit; keep "
                            "the pixels before start")
    return run_check("10-greedy-completion", "Greedy completion", complete_greedy,
                     reference_complete_greedy, cases, ["completed"], hint=hint)


# -- 10-row-kernel ----------------------------------------------------------------------------

#: The kernel experiment: the chapter's Row LSTM (``hidden_size`` units) with the chosen kernel
#: size, trained on the binarised digits as ``DEPTH`` says; a seed scores below ``target``.
ROW_KERNEL = {"levels": 2, "hidden_size": 16, "steps": 200, "batch_size": 64, "lr": 1e-2,
              "target": 0.46, "seeds": (0, 1), "choices": (1, 3, 5, 7, 9)}


def row_lstm_with_kernel(kernel_size, seed=0):
    """Train the kernel experiment's Row LSTM (``ROW_KERNEL``) with ``kernel_size`` from
    ``seed`` and return its test bits/dim. Takes a few seconds; try choices with it."""
    import torch

    from ..torch.pixel import RowLSTM

    k = _as_choice(kernel_size, ROW_KERNEL["choices"], "kernel size")
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = RowLSTM(ROW_KERNEL["levels"], ROW_KERNEL["hidden_size"], k)
        return _train_digits_model(model, seed, ROW_KERNEL)
    finally:
        torch.random.set_rng_state(state)


def _measure_row_kernel(choice):
    k = _as_choice(choice, ROW_KERNEL["choices"], "kernel size")
    baseline = _baseline_bits(ROW_KERNEL["levels"])
    lines = [f"kernel size {k}: the state of pixel (r, s) reads x at {k // 2} pixel(s) to its "
             f"left and the states of {k} pixels of the row above"]
    score = 0
    for seed in ROW_KERNEL["seeds"]:
        bits = row_lstm_with_kernel(k, seed)
        score += bits < ROW_KERNEL["target"]
        lines.append(f"seed {seed}: test {bits:.3f} bits/dim (independent pixels: "
                     f"{baseline:.3f}; target: below {ROW_KERNEL['target']})")
    if score < len(ROW_KERNEL["seeds"]):
        lines.append("hint: which pixels of a digit predict the next one best, and which of them "
                     "does the Row LSTM reach? Try choices with row_lstm_with_kernel(k, seed).")
    return score, lines


@register("10-row-kernel", kind="experiment", points=len(ROW_KERNEL["seeds"]),
          summary="trains the chapter's Row LSTM (16 units) with the chosen kernel size on the "
                  "binarised digits for 200 Adam steps, two seeds; a point per seed whose test "
                  "bits/dim is below 0.46")
def check_row_kernel(choose_kernel_size):
    """Check ``choose_kernel_size() -> int``."""
    return check_experiment("10-row-kernel", "The Row LSTM's kernel", choose_kernel_size,
                            _measure_row_kernel, max_score=len(ROW_KERNEL["seeds"]))


# -- 10-generation ----------------------------------------------------------------------------

_GENERATION_QUESTIONS = [
    {"key": "training_passes", "answer": 1,
     "explain": {64: "in training every pixel is known: one pass computes all 64 conditionals "
                     "at once, the masks keep each from seeing its own or later pixels",
                 8: "that is the Row LSTM's sequential steps; a PixelCNN has none"},
     "hint": "how many forward passes of a PixelCNN give every factor of equation (10.1) "
             "for an image whose pixels are all known?"},
    {"key": "generation_passes", "answer": 64,
     "explain": {1: "pixel i can only be drawn once pixels 0 … i−1 are drawn, and it needs "
                    "their values in the input",
                 8: "a row is not drawn at once: the pixels of a row depend on each other"},
     "hint": "how many pixels must be drawn one after the other?"},
    {"key": "completion_passes", "answer": 32,
     "explain": {64: "the upper half is given: only the pixels from 32 on are drawn",
                 1: "each drawn pixel needs the values of those drawn before it"},
     "hint": "the lower half of an 8 × 8 image starts at pixel 32"},
    {"key": "row_lstm_steps", "answer": 8,
     "explain": {64: "the Row LSTM computes a whole row at once: its recurrence runs over rows",
                 1: "the state of row r needs the state of row r − 1"},
     "hint": "over what does the Row LSTM's recurrence run, equation (10.4)?"},
    {"key": "diagonal_steps", "answer": 15,
     "explain": {8: "after the skew the map has 2n − 1 columns, and the recurrence runs over "
                    "columns",
                 16: "row n − 1 is shifted by n − 1: the last column is 2n − 2, so 2n − 1 "
                     "columns"},
     "hint": "how wide is the skewed map of an 8 × 8 image, and along which axis does the "
             "Diagonal BiLSTM's recurrence run?"},
    {"key": "one_pass_sampling", "answer": False,
     "explain": {True: "a correct mask hides the later pixels, but sampling needs the earlier "
                       "pixels' values, which do not exist before they are drawn"},
     "hint": "answer True or False"},
]


@register("10-generation", kind="concept", points=len(_GENERATION_QUESTIONS),
          summary="forward passes of a PixelCNN to score an 8 × 8 image, to sample one, to "
                  "complete its lower half; the sequential steps of a Row LSTM and of a "
                  "Diagonal BiLSTM over an 8 × 8 image; whether a PixelCNN can sample in one pass")
def check_generation(answers):
    """Check ``answers() -> dict`` of the six answers (see ``_GENERATION_QUESTIONS``)."""
    return check_concept("10-generation", "Parallel training, sequential generation", answers,
                         _GENERATION_QUESTIONS)


__all__ = ["CROSS_ENTROPY", "DEPTH", "ROW_KERNEL", "check_bits_per_dim", "check_causal_order",
           "check_conv_masks", "check_depth", "check_generation", "check_greedy_completion",
           "check_row_kernel", "check_skew", "pixel_cnn_with_depth", "reference_bits_per_dim",
           "reference_complete_greedy", "reference_conv_masks", "reference_skew",
           "row_lstm_with_kernel"]
