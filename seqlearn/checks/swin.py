"""Checks for the exercises of chapter 11, *Swin Transformer v2* (both notebooks).

``11_swin_v2``:

* ``11-window-partition`` (implement): (B, H, W, D) -> (B, nW, M², D), windows row by row;
* ``11-shifted-window-mask`` (implement): the (nW, M², M²) bool mask of the rolled map (11.4);
* ``11-cosine-attention`` (implement): scaled cosine attention (11.7) with the clamp of the
  logit scale, a bias and a mask;
* ``11-post-norm-attention`` (experiment): the student picks dot-product or cosine attention for
  a deep residual-post-norm stack; the check trains it (:func:`deep_stack_experiment`) and
  measures the largest attention logit;
* ``11-swin-concepts`` (concept): the number of scores of global and window attention, how they
  grow with the image, windows, shapes after patch merging, the reach of shifted windows.

``11b_swin_v2_positions``:

* ``11-relative-position-index`` (implement): the (M², M²) index into the table of offsets;
* ``11-log-spaced-coords`` (implement): the log-spaced, normalised offsets (11.10);
* ``11-offset-normalisation`` (experiment): the student picks which window the offsets are
  divided by when a model trained with small windows runs with larger ones; the check trains a
  small Swin v2 (:func:`window_transfer_experiment`) and measures the biases and the accuracy;
* ``11-position-concepts`` (concept): table sizes, the MLP's parameters, the inputs of the
  log-spaced and the linear CPB in a larger window, the range of the bias, τ's bound.

The references are the package's ``seqlearn.numpy.swin``. A wrong answer is compared with what
typical mistakes give, and the mistake recognised is named; otherwise the hint points to the
equation by its number. Every call of the student's function uses keyword arguments.
"""

import math

import numpy as np

from ..numpy.swin import MAX_LOGIT_SCALE as _MAX_LOGIT_SCALE
from ..numpy.swin import relative_coords_table as _relative_coords_table
from ..numpy.swin import relative_position_index as _relative_position_index
from ..numpy.swin import shifted_window_mask as _shifted_window_mask
from ..numpy.swin import window_partition as _window_partition
from .core import (check_concept, check_experiment, diagnose_mistake, fresh_rng, plain,
                   reference_allowed, register, run_check, screen)


def _softmax(scores):
    with np.errstate(invalid="ignore"):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def _require_bool(fn):
    """The student's function, made to fail clearly when its mask is not boolean."""

    def wrapped(**kwargs):
        mask = fn(**kwargs)
        dtype = getattr(mask, "dtype", None)
        if dtype is not None and str(dtype) not in ("bool", "torch.bool"):
            raise TypeError(f"the mask has dtype {dtype}; return a bool array (True = may "
                            f"attend), e.g. with .astype(bool)")
        return mask

    return wrapped


def _graded(exercise_id, title, student_fn, reference_fn, cases, names, mistakes, hint,
            wrap=None):
    """Screen the student's function, then run the cases (through ``wrap`` if given)."""
    refused = screen(exercise_id, title, student_fn, len(cases))
    if refused:
        return refused
    fn = wrap(student_fn) if wrap else student_fn
    message = diagnose_mistake(fn, cases[-1], mistakes, "") or hint
    with reference_allowed():    # screened above; a wrapper lives in this package
        return run_check(exercise_id, title, fn, reference_fn, cases, names, hint=message)


# -- 11-window-partition ------------------------------------------------------------------------

def reference_window_partition(x, window_size):
    """(B, H, W, D) -> (B, nW, M², D): windows row by row, tokens row by row."""
    return _window_partition(x, window_size)


def _partition_variant(x, window_size, kind):
    B, H, W, D = x.shape
    M = window_size
    y = x.reshape(B, H // M, M, W // M, M, D)
    if kind == "no-transpose":
        return x.reshape(B, -1, M * M, D)
    if kind == "windows-by-column":
        return y.transpose(0, 3, 1, 2, 4, 5).reshape(B, -1, M * M, D)
    if kind == "tokens-by-column":
        return y.transpose(0, 1, 3, 4, 2, 5).reshape(B, -1, M * M, D)
    raise ValueError(kind)


@register("11-window-partition", kind="implement", points=5,
          summary="(B, H, W, D) -> (B, nW, M², D) on 5 fresh maps: square and oblong, one "
                  "window, windows of one token, M = 3",
          forbidden=("window_partition", "unfold", "as_strided", "sliding_window_view"))
def check_window_partition(window_partition):
    """Check ``window_partition(x, window_size) -> (B, nW, M², D)``."""
    rng = fresh_rng()
    cases = [{"x": rng.normal(size=(2, 4, 4, 3)), "window_size": 2},
             {"x": rng.normal(size=(1, 8, 12, 2)), "window_size": 4},
             {"x": rng.normal(size=(3, 4, 4, 5)), "window_size": 4},
             {"x": rng.normal(size=(2, 3, 6, 2)), "window_size": 1},
             {"x": rng.normal(size=(2, 6, 9, 4)), "window_size": 3}]
    mistakes = [
        (lambda **k: _partition_variant(**k, kind="no-transpose"),
         "a reshape alone groups M² consecutive tokens of a row, not an M × M square: reshape "
         "to (B, H/M, M, W/M, M, D) and bring the two window axes together before the token "
         "axes"),
        (lambda **k: _partition_variant(**k, kind="windows-by-column"),
         "the windows are numbered down the columns; number them row by row, w = i·(W/M) + j"),
        (lambda **k: _partition_variant(**k, kind="tokens-by-column"),
         "the tokens inside a window are read down the columns; read them row by row, like "
         "the pixels of an image"),
    ]
    return _graded("11-window-partition", "Window partition", window_partition,
                   reference_window_partition, cases, ["windows"], mistakes,
                   "window (i, j) holds rows iM..iM+M−1 and columns jM..jM+M−1; windows and "
                   "the tokens in a window are both read row by row (equation (11.3))")


# -- 11-shifted-window-mask ---------------------------------------------------------------------

def reference_shifted_window_mask(H, W, window_size, shift):
    """(nW, M², M²) bool, True where two tokens of a window of the rolled map may attend."""
    return _shifted_window_mask(H, W, window_size, shift)


def _mask_variant(H, W, window_size, shift, kind):
    right = _shifted_window_mask(H, W, window_size, shift)
    if kind == "all":
        return np.ones_like(right)
    if kind == "inverted":
        return ~right | np.eye(right.shape[-1], dtype=bool)
    if kind == "first-rows":          # marked the first s rows and columns instead of the last
        region = 2 * (np.arange(H) < shift)[:, None] + (np.arange(W) < shift)[None, :]
        regions = _window_partition(region[None, :, :, None].astype(float),
                                    window_size)[0, :, :, 0]
        return regions[:, :, None] == regions[:, None, :]
    raise ValueError(kind)


@register("11-shifted-window-mask", kind="implement", points=6,
          summary="the (nW, M², M²) bool mask of a map rolled by s on 6 fresh sizes: s = 0, "
                  "s = M/2, s = 1, oblong maps, one window",
          forbidden=("shifted_window_mask",))
def check_shifted_window_mask(shifted_window_mask):
    """Check ``shifted_window_mask(H, W, window_size, shift) -> (nW, M², M²) bool``."""
    rng = fresh_rng()
    M = int(rng.choice([3, 4]))
    cases = [{"H": 2 * M, "W": 2 * M, "window_size": M, "shift": 0},
             {"H": 2 * M, "W": 2 * M, "window_size": M, "shift": M // 2},
             {"H": 4, "W": 8, "window_size": 2, "shift": 1},
             {"H": 3 * M, "W": M, "window_size": M, "shift": 1},
             {"H": M, "W": M, "window_size": M, "shift": M - 1},
             {"H": 8, "W": 8, "window_size": 4, "shift": 2}]
    mistakes = [
        (lambda **k: _mask_variant(**k, kind="all"),
         "nothing is masked: after the roll, the last s rows and columns hold tokens from the "
         "other side of the image, which must not attend to the others of their window"),
        (lambda **k: _mask_variant(**k, kind="inverted"),
         "the mask is inverted: True means 'may attend' (tokens from the same region)"),
        (lambda **k: _mask_variant(**k, kind="first-rows"),
         "the regions are marked at the first s rows and columns; the roll by (−s, −s) moves "
         "the image's first rows to the end of the map: mark the last s"),
    ]
    return _graded("11-shifted-window-mask", "The shifted-window mask", shifted_window_mask,
                   reference_shifted_window_mask, cases, ["mask"], mistakes,
                   "label every token of the rolled map by whether it came round in the rows "
                   "and in the columns (the last s of each), cut the labels into windows, and "
                   "allow the pairs with equal labels (equation (11.4))", wrap=_require_bool)


# -- 11-cosine-attention ------------------------------------------------------------------------

def reference_cosine_attention(q, k, v, logit_scale, bias=None, mask=None):
    """Scaled cosine attention (11.7): returns ``(out, weights)``."""
    return _cosine_variant(q, k, v, logit_scale, bias, mask)


def _cosine_variant(q, k, v, logit_scale, bias=None, mask=None, clamp=True, normalise=True,
                    scale="exp"):
    if normalise:
        q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)
        k = k / np.maximum(np.linalg.norm(k, axis=-1, keepdims=True), 1e-12)
    lam = np.minimum(logit_scale, _MAX_LOGIT_SCALE) if clamp else logit_scale
    factor = {"exp": np.exp(lam), "raw": lam, "divide": 1.0 / np.exp(lam)}[scale]
    scores = q @ np.swapaxes(k, -1, -2) * factor[:, None, None]
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = _softmax(scores)
    return weights @ v, weights


@register("11-cosine-attention", kind="implement", points=10,
          summary="out and weights of scaled cosine attention (11.7) on 5 fresh cases: with and "
                  "without bias and mask, a logit scale above the clamp, queries of any length",
          forbidden=("scaled_dot_product_attention", "MultiheadAttention", "cosine_similarity",
                     "window_attention_forward"))
def check_cosine_attention(cosine_attention):
    """Check ``cosine_attention(q, k, v, logit_scale, bias=None, mask=None) -> (out, weights)``."""
    rng = fresh_rng()
    cases = []
    for B, h, N, d, with_bias, with_mask, big in [(2, 2, 4, 8, False, False, False),
                                                  (1, 3, 9, 4, True, False, False),
                                                  (2, 2, 4, 6, True, True, False),
                                                  (3, 1, 1, 5, False, False, False),
                                                  (2, 2, 9, 8, True, True, True)]:
        lam = rng.uniform(0.5, 3.0, size=h)
        if big:
            lam[0] = _MAX_LOGIT_SCALE + rng.uniform(0.5, 2.0)
        case = {"q": 3 * rng.normal(size=(B, h, N, d)), "k": 3 * rng.normal(size=(B, h, N, d)),
                "v": rng.normal(size=(B, h, N, d)), "logit_scale": lam,
                "bias": rng.uniform(0, 16, size=(h, N, N)) if with_bias else None,
                "mask": None}
        if with_mask:
            M = int(round(math.sqrt(N)))
            case["mask"] = _shifted_window_mask(M, M, M, M // 2)[0]
        cases.append(case)
    mistakes = [
        (lambda **k: _cosine_variant(**k, clamp=False),
         "the logit scale is not clamped: 1/τ = exp(min(λ, log 100)), so that τ ≥ 0.01"),
        (lambda **k: _cosine_variant(**k, normalise=False),
         "the queries and keys are not normalised: cos(q, k) = q·k / (‖q‖ ‖k‖), each row "
         "divided by its own length"),
        (lambda **k: _cosine_variant(**k, scale="raw"),
         "the scores are multiplied by λ itself; λ = log(1/τ) is stored, so the factor is "
         "exp(λ) (clamped)"),
        (lambda **k: _cosine_variant(**k, scale="divide"),
         "the cosine is multiplied by τ; divide by τ, that is multiply by exp(λ)"),
    ]
    return _graded("11-cosine-attention", "Scaled cosine attention", cosine_attention,
                   reference_cosine_attention, cases, ["out", "weights"], mistakes,
                   "normalise each query and key to length 1, multiply their dot products by "
                   "exp(min(λ, log 100)) of the head, add the bias, set masked scores to −∞, "
                   "softmax over the keys (equation (11.7))")


# -- 11-post-norm-attention ---------------------------------------------------------------------

#: The deep stack of :func:`deep_stack_experiment`: one stage of ``depth`` blocks over 4 × 4
#: tokens (2 × 2 patches of the 8 × 8 digits), windows of 2 × 2, trained with Adam at a
#: learning rate high enough to stress it.
DEEP_STACK = {"depth": 8, "d_model": 32, "num_heads": 4, "patch_size": 2, "window_size": 2,
              "cpb_hidden_size": 64, "steps": 80, "batch_size": 16, "lr": 1e-2,
              "n_test": 200, "logit_threshold": 50.0}


def deep_stack_experiment(norm, cosine, seed, steps=None):
    """Train a deep stack of Swin blocks (:data:`DEEP_STACK`) on the digits with ``norm``
    (``"pre"``/``"post"``) and dot-product or cosine attention from ``seed``; returns a dict:
    ``rms`` (per block, the root mean square of its output over 200 test digits), ``branch``
    (per block, that of what the block added to its input), ``logits`` (blocks × heads, the
    largest |score| of each head, bias included), ``accuracy`` (on the 200 digits), ``losses``
    and ``seconds``. A few seconds on one CPU thread; the caller's torch state is restored."""
    import torch

    from ..torch.swin import SwinV2, digit_images, train_classifier

    setup = DEEP_STACK
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(int(seed))
        train_x, train_y, test_x, test_y = digit_images()
        model = SwinV2(10, 8, patch_size=setup["patch_size"], d_model=setup["d_model"],
                       depths=(setup["depth"],), num_heads=(setup["num_heads"],),
                       window_size=setup["window_size"], cosine=cosine, norm=norm,
                       cpb_hidden_size=setup["cpb_hidden_size"])
        record = train_classifier(model, train_x, train_y, steps=steps or setup["steps"],
                                  batch_size=setup["batch_size"], lr=setup["lr"],
                                  generator=int(seed) + 1)
        blocks = model.blocks()
        for block in blocks:
            block.attention.keep_logits = True
        model.eval()
        with torch.no_grad():
            x = test_x[:setup["n_test"]]
            logits, outputs = model(x, return_blocks=True)
            inputs = [model.patch_embedding(x)] + outputs[:-1]
        for block in blocks:
            block.attention.keep_logits = False
        result = {
            "rms": np.array([o.pow(2).mean().sqrt().item() for o in outputs]),
            "branch": np.array([(o - i).pow(2).mean().sqrt().item()
                                for o, i in zip(outputs, inputs)]),
            "logits": np.array([b.attention.last_logits.abs().amax(dim=(0, 1, 3, 4)).numpy()
                                for b in blocks]),
            "accuracy": float((logits.argmax(-1) == test_y[:setup["n_test"]]).float().mean()),
            "losses": np.array(record["losses"]), "seconds": record["seconds"]}
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return result


def _measure_post_norm(choice):
    if not isinstance(choice, str) or choice.strip().lower() not in ("dot", "cosine"):
        raise ValueError("choose 'dot' or 'cosine'")
    cosine = choice.strip().lower() == "cosine"
    seed = int(fresh_rng().integers(0, 2**31 - 1))
    run = deep_stack_experiment("post", cosine, seed)
    largest = run["logits"].max()
    threshold = DEEP_STACK["logit_threshold"]
    lines = [f"post-norm stack of {DEEP_STACK['depth']} blocks with {choice} attention, trained "
             f"{DEEP_STACK['steps']} steps from a fresh seed: largest attention logit "
             f"{largest:.1f} (block by block: "
             f"{', '.join(f'{v:.0f}' for v in run['logits'].max(axis=1))}), test accuracy "
             f"{run['accuracy']:.0%}"]
    score = int(largest < threshold)
    lines.append(f"largest logit {'below' if score else 'not below'} {threshold:.0f}")
    growth = run["logits"].max(axis=1)[-1] / run["logits"].max(axis=1)[0]
    kept = growth < 2.0
    score += int(kept)
    lines.append(f"the last block's largest logit is {growth:.1f} times the first's "
                 f"({'less than' if kept else 'not less than'} 2)")
    if score < 2:
        lines.append("in a post-norm block the attention reads the residual stream itself, "
                     "whose size grows block by block: which score does not depend on the "
                     "length of the queries and keys?")
    return score, lines


@register("11-post-norm-attention", kind="experiment", points=2,
          summary="trains a post-norm stack of 8 Swin blocks with the chosen attention (dot or "
                  "cosine) for 80 steps from a fresh seed; a point for the largest attention "
                  "logit below 50 and one for the last block's below twice the first's")
def check_post_norm_attention(choose_attention):
    """Check ``choose_attention() -> "dot" | "cosine"``."""
    return check_experiment("11-post-norm-attention", "Attention for a post-norm stack",
                            choose_attention, _measure_post_norm, max_score=2)


# -- 11-swin-concepts ---------------------------------------------------------------------------

_SWIN_QUESTIONS = [
    {"key": "global_scores", "answer": 56 ** 4,
     "explain": {56 ** 2: "that is the number of tokens; each of them scores every token",
                 56 ** 3: "every one of the 56² tokens scores all 56² tokens"},
     "hint": "how many tokens does a 56 × 56 map have, and how many does each one score?"},
    {"key": "window_scores", "answer": 56 ** 2 * 49,
     "explain": {49 ** 2: "that is one window; there are (56/7)² of them",
                 56 ** 4: "that is global attention; in a window a token scores only the 49 "
                          "tokens of its window"},
     "hint": "each token scores the M² tokens of its window"},
    {"key": "windows", "answer": 64,
     "explain": {8: "that is along one side; the windows tile both sides",
                 49: "that is the number of tokens in a window"},
     "hint": "how many 7 × 7 windows tile a 56 × 56 map?"},
    {"key": "global_growth", "answer": 16,
     "explain": {4: "the number of tokens grows 4 times, and global attention pairs every token "
                    "with every token",
                 2: "the side doubles; the tokens are four times as many"},
     "hint": "doubling H and W multiplies the tokens by 4; global attention's scores are the "
             "tokens squared"},
    {"key": "window_growth", "answer": 4,
     "explain": {16: "the window stays 7 × 7: each token still scores 49 tokens",
                 1: "there are four times as many tokens, each still scoring 49"},
     "hint": "the window size M is fixed: what grows?"},
    {"key": "merged_shape", "answer": (28, 28, 192),
     "explain": {(28, 28, 384): "the 4D concatenation is reduced to 2D by W, not kept",
                 (28, 28, 96): "patch merging doubles the width: W maps 4D to 2D",
                 (56, 56, 192): "patch merging halves the resolution"},
     "hint": "patch merging halves H and W and maps 4D to 2D"},
    {"key": "reach", "answer": True,
     "explain": {False: "the shifted block's windows straddle the first block's window "
                        "boundaries: after the two blocks, information has crossed them"},
     "hint": "True or False"},
]


@register("11-swin-concepts", kind="concept", points=len(_SWIN_QUESTIONS),
          summary="a 56 × 56 map, 7 × 7 windows: scores of global and window attention, the "
                  "number of windows, their growth when H and W double, the shape after patch "
                  "merging, and whether two blocks (plain, shifted) carry information across a "
                  "window boundary")
def check_swin_concepts(answers):
    """Check ``answers() -> dict`` (see ``_SWIN_QUESTIONS``)."""
    return _concepts("11-swin-concepts", "Windows, costs and shapes", answers, _SWIN_QUESTIONS)


def _concepts(exercise_id, title, answers, questions):
    refused = screen(exercise_id, title, answers, len(questions))
    if refused:
        return refused

    def plain_answers():
        given = answers()
        return {k: plain(v) for k, v in given.items()} if isinstance(given, dict) else given

    with reference_allowed():
        return check_concept(exercise_id, title, plain_answers, questions)


# -- 11-relative-position-index -----------------------------------------------------------------

def reference_relative_position_index(window_size):
    """(M², M²) ints: (r_i − r_j + M − 1)(2M − 1) + (c_i − c_j + M − 1)."""
    return _relative_position_index(window_size)


def _index_variant(window_size, kind):
    M = window_size
    r, c = np.divmod(np.arange(M * M), M)
    dr, dc = r[:, None] - r[None, :], c[:, None] - c[None, :]
    if kind == "transposed":
        dr, dc = -dr, -dc
    if kind == "unshifted":
        return dr * (2 * M - 1) + dc
    if kind == "times-2M":
        return (dr + M - 1) * (2 * M) + dc + M - 1
    if kind == "times-M":
        return (dr + M - 1) * M + dc + M - 1
    return (dr + M - 1) * (2 * M - 1) + dc + M - 1


def _require_int(fn):
    def wrapped(**kwargs):
        out = fn(**kwargs)
        dtype = getattr(out, "dtype", None)
        if dtype is not None and np.issubdtype(np.dtype(str(dtype).replace("torch.", "")),
                                               np.floating):
            raise TypeError(f"the index has dtype {dtype}; return integers (it indexes a table)")
        return out

    return wrapped


@register("11-relative-position-index", kind="implement", points=5,
          summary="the (M², M²) integer index of relative offsets (11.8) for M = 1, 2, 3 and two "
                  "fresh sizes", forbidden=("relative_position_index",))
def check_relative_position_index(relative_position_index):
    """Check ``relative_position_index(window_size) -> (M², M²) int``."""
    rng = fresh_rng()
    cases = [{"window_size": 1}, {"window_size": 2}, {"window_size": 3},
             {"window_size": int(rng.integers(4, 7))}, {"window_size": int(rng.integers(7, 10))}]
    mistakes = [
        (lambda **k: _index_variant(**k, kind="transposed"),
         "the offsets are taken the other way round: Δr = r_i − r_j, from key j to query i"),
        (lambda **k: _index_variant(**k, kind="unshifted"),
         "the offsets are not shifted to start at 0: add M − 1 to Δr and to Δc"),
        (lambda **k: _index_variant(**k, kind="times-2M"),
         "a row of the table holds 2M − 1 offsets Δc, not 2M"),
        (lambda **k: _index_variant(**k, kind="times-M"),
         "Δc takes 2M − 1 values (−(M − 1) .. M − 1): multiply the shifted Δr by 2M − 1"),
    ]
    return _graded("11-relative-position-index", "The relative position index",
                   relative_position_index, reference_relative_position_index, cases, ["index"],
                   mistakes, "token i sits at row r_i = i // M, column c_i = i % M; shift both "
                             "offsets to 0 .. 2M − 2 and number them row by row (equation "
                             "(11.8))", wrap=_require_int)


# -- 11-log-spaced-coords -----------------------------------------------------------------------

def reference_log_spaced_coords(window_size, pretrained_window_size):
    """((2M − 1)², 2): sign(8u) log₂(1 + |8u|)/log₂ 8 of u = Δ/(M₀ − 1)."""
    return _relative_coords_table(window_size, pretrained_window_size, "log")


def _coords_variant(window_size, pretrained_window_size, kind):
    M, M0 = window_size, pretrained_window_size
    delta = np.arange(-(M - 1), M, dtype=float)
    grid = np.stack(np.meshgrid(delta, delta, indexing="ij"), axis=-1).reshape(-1, 2)
    u = grid / ((M if kind == "current" else M0) - 1)
    if kind == "natural":
        return np.sign(u) * np.log(1 + 8 * np.abs(u)) / np.log(8)
    if kind == "no-8":
        return np.sign(u) * np.log2(1 + np.abs(u)) / np.log2(8)
    if kind == "no-divide":
        return np.sign(u) * np.log2(1 + 8 * np.abs(u))
    if kind == "columns-first":
        grid = grid[:, ::-1]
        u = grid / (M0 - 1)
    return np.sign(u) * np.log2(1 + 8 * np.abs(u)) / np.log2(8)


@register("11-log-spaced-coords", kind="implement", points=5,
          summary="the ((2M − 1)², 2) log-spaced offsets (11.10) on 5 cases: M = M₀, M > M₀, "
                  "M₀ = 2, fresh sizes", forbidden=("relative_coords_table",))
def check_log_spaced_coords(log_spaced_coords):
    """Check ``log_spaced_coords(window_size, pretrained_window_size) -> ((2M − 1)², 2)``."""
    rng = fresh_rng()
    M0 = int(rng.integers(3, 6))
    cases = [{"window_size": 2, "pretrained_window_size": 2},
             {"window_size": M0, "pretrained_window_size": M0},
             {"window_size": 2 * M0, "pretrained_window_size": M0},
             {"window_size": int(rng.integers(5, 9)), "pretrained_window_size": 2},
             {"window_size": 3 * M0, "pretrained_window_size": 2 * M0}]
    mistakes = [
        (lambda **k: _coords_variant(**k, kind="current"),
         "the offsets are divided by M − 1 of the current window; divide by M₀ − 1 of the "
         "window the model was trained with, so that an offset keeps its input"),
        (lambda **k: _coords_variant(**k, kind="natural"),
         "the logarithm is natural: the equation uses log₂ (the ratio log(1 + x)/log 8 is the "
         "same in any base, so check where else a logarithm is taken)"),
        (lambda **k: _coords_variant(**k, kind="no-8"),
         "the offsets are not scaled by 8 before the logarithm"),
        (lambda **k: _coords_variant(**k, kind="no-divide"),
         "the result is not divided by log₂ 8"),
        (lambda **k: _coords_variant(**k, kind="columns-first"),
         "the two columns are swapped: (Δr, Δc), the row offset first"),
    ]
    return _graded("11-log-spaced-coords", "Log-spaced coordinates", log_spaced_coords,
                   reference_log_spaced_coords, cases, ["coords"], mistakes,
                   "row k of the table is the offset (Δr, Δc) of :func:`relative_position_index`'s "
                   "order, Δ from −(M − 1) to M − 1; u = Δ/(M₀ − 1), then "
                   "sign(8u) log₂(1 + |8u|)/log₂ 8 (equation (11.10))")


# -- 11-offset-normalisation --------------------------------------------------------------------

#: The Swin v2 of :func:`window_transfer_experiment`: 2 × 2 patches of the 8 × 8 digits, two
#: stages (4 × 4 tokens of D = 32, then 2 × 2 of 64), trained with windows of 2 × 2.
TRANSFER = {"patch_size": 2, "d_model": 32, "depths": (2, 2), "num_heads": (2, 4),
            "window_size": 2, "cpb_hidden_size": 64, "steps": 200, "batch_size": 32,
            "lr": 4e-3, "final_lr": 2e-4, "label_smoothing": 0.1}


def window_transfer_experiment(position_bias, seed, windows=(2, 4), steps=None):
    """Train the small Swin v2 of :data:`TRANSFER` with ``position_bias`` (``"table"``,
    ``"linear-cpb"``, ``"log-cpb"``) and windows of 2 from ``seed`` on the digits, then test it
    with each window of ``windows`` without retraining.

    The continuous bias divides the offsets by the window it was trained with (``"trained"``,
    as the paper does) or, for comparison, by the test window (``"current"``). Returns a dict:
    ``accuracy`` {normalisation: one test accuracy per window}, ``bias_change``
    {normalisation: the largest change of the first block's bias at the offsets it was trained
    on, in the largest window against the training window}, ``model`` and ``seconds``. The
    caller's torch state is restored."""
    import torch

    from ..torch.swin import SwinV2, classifier_accuracy, digit_images, train_classifier

    setup = TRANSFER
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(int(seed))
        train_x, train_y, test_x, test_y = digit_images()
        model = SwinV2(10, 8, patch_size=setup["patch_size"], d_model=setup["d_model"],
                       depths=setup["depths"], num_heads=setup["num_heads"],
                       window_size=setup["window_size"], position_bias=position_bias,
                       cpb_hidden_size=setup["cpb_hidden_size"])
        record = train_classifier(model, train_x, train_y, steps=steps or setup["steps"],
                                  batch_size=setup["batch_size"], lr=setup["lr"],
                                  final_lr=setup["final_lr"],
                                  label_smoothing=setup["label_smoothing"],
                                  generator=int(seed) + 1)
        first = model.blocks()[0]
        trained_windows = [b.pretrained_window_size for b in model.blocks()]
        M0 = first.window_size
        with torch.no_grad():
            before = first.bias(M0)
        accuracy, bias_change = {}, {}
        for normalise_by in ("trained", "current"):
            accuracy[normalise_by] = []
            for M in windows:
                model.window_size = M
                if normalise_by == "current":     # each stage's window: min(M, resolution)
                    resolution = 8 // setup["patch_size"]
                    for stage in model.stages:
                        for block in stage:
                            block.pretrained_window_size = min(M, resolution)
                        resolution //= 2
                accuracy[normalise_by].append(classifier_accuracy(model, test_x, test_y))
                if M == max(windows):
                    with torch.no_grad():
                        after = first.bias(M).reshape(-1, M, M, M, M)[:, :M0, :M0, :M0, :M0]
                    bias_change[normalise_by] = float((after.reshape(before.shape)
                                                       - before).abs().max())
                for block, trained in zip(model.blocks(), trained_windows):
                    block.pretrained_window_size = trained
            accuracy[normalise_by] = np.array(accuracy[normalise_by])
        model.window_size = setup["window_size"]
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return {"accuracy": accuracy, "bias_change": bias_change, "model": model,
            "seconds": record["seconds"]}


def _measure_normalisation(choice, seeds=None):
    if not isinstance(choice, str) or choice.strip().lower() not in ("trained", "current"):
        raise ValueError("choose 'trained' or 'current'")
    choice = choice.strip().lower()
    other = "current" if choice == "trained" else "trained"
    if seeds is None:
        seeds = fresh_rng().integers(0, 2**31 - 1, size=2)
    score, lines = 0, []
    for k, seed in enumerate(seeds, start=1):
        run = window_transfer_experiment("log-cpb", int(seed), steps=120)
        change = run["bias_change"][choice]
        kept = change < 1e-4          # float32 rounding: ~1e-6; other inputs: ~0.1 and more
        score += int(kept)
        lines.append(f"seed {k}: trained with windows of 2 ({run['accuracy'][choice][0]:.0%} "
                     f"right), tested with windows of 4: {run['accuracy'][choice][1]:.0%} with "
                     f"the offsets divided by the {choice} window, "
                     f"{run['accuracy'][other][1]:.0%} by the {other}; the bias of the offsets "
                     f"it was trained on changed by up to {change:.2g}"
                     + ("" if kept else " (their inputs to the MLP changed)"))
    if score < len(seeds):
        lines.append("what does the MLP of the continuous bias see for an offset of one token, "
                     "in training and in the larger window, under each choice?")
    return score, lines


@register("11-offset-normalisation", kind="experiment", points=2,
          summary="trains a small Swin v2 (log-spaced CPB, windows of 2) for 120 steps from 2 "
                  "fresh seeds and tests it with windows of 4, offsets divided by the chosen "
                  "window; a point per seed where the offsets it was trained on keep their bias "
                  "(accuracies with both choices reported)")
def check_offset_normalisation(choose_window):
    """Check ``choose_window() -> "trained" | "current"``."""
    return check_experiment("11-offset-normalisation", "Which window normalises the offsets",
                            choose_window, _measure_normalisation, max_score=2)


# -- 11-position-concepts -----------------------------------------------------------------------

_POSITION_QUESTIONS = [
    {"key": "table_entries", "answer": 225,
     "explain": {64: "that is the number of tokens of an 8 × 8 window; the table holds one "
                     "entry per offset",
                 256: "offsets run from −7 to 7: 15 values per axis, not 16",
                 4096: "that is the number of pairs of tokens; many pairs share an offset"},
     "hint": "how many values does Δr take in a window of 8, and Δc?"},
    {"key": "cpb_parameters", "answer": 2 * 512 + 512 + 512 * 4,
     "explain": {2 * 512 + 512 * 4: "the first layer has a bias (b_1); the second has none",
                 2 * 512 + 512 + 512 * 4 + 4: "the second layer of the MLP has no bias"},
     "hint": "W_1 (2, 512), b_1 (512,), W_2 (512, h)"},
    {"key": "log_input", "answer": math.log2(1 + 8 * 7 / 3) / 3, "tolerance": 1e-3,
     "explain": {math.log2(9) / 3: "that is the largest offset of the training window; the "
                                   "new window's reaches 7 tokens, 7/3 of the trained range",
                 7 / 3: "that is the linear-spaced input"},
     "hint": "u = Δ/(M₀ − 1) with Δ = 7, M₀ = 4; then equation (11.10)"},
    {"key": "linear_input", "answer": 7 / 3, "tolerance": 1e-3,
     "explain": {1.0: "that is the largest input in training; Δ = 7 is 7/3 of the trained "
                      "range"},
     "hint": "u = Δ/(M₀ − 1)"},
    {"key": "largest_bias", "answer": 16,
     "explain": {1: "the sigmoid is multiplied by 16", 8: "8 is the bias where 𝒢 = 0"},
     "hint": "B = 16 σ(𝒢)"},
    {"key": "largest_score", "answer": 116,
     "explain": {100: "the bias is added to the scaled cosine", 16: "the cosine can be 1, "
                      "scaled by 1/τ ≤ 100",
                 10: "that is 1/τ at the start (τ = 0.1); τ is learned down to 0.01"},
     "hint": "the largest cosine, times the largest 1/τ, plus the largest bias"},
]


@register("11-position-concepts", kind="concept", points=len(_POSITION_QUESTIONS),
          summary="an 8 × 8 window trained as a 4 × 4 window: the entries of Swin v1's table, "
                  "the parameters of a CPB MLP (512 hidden units, 4 heads), the largest inputs "
                  "of the log- and linear-spaced CPB, the largest bias and the largest score of "
                  "cosine attention")
def check_position_concepts(answers):
    """Check ``answers() -> dict`` (see ``_POSITION_QUESTIONS``)."""
    return _concepts("11-position-concepts", "Position biases in numbers", answers,
                     _POSITION_QUESTIONS)


def _answers(questions):
    return lambda: {q["key"]: q["answer"] for q in questions}


#: (check, reference answer) of every exercise of the chapter, for the tests.
REFERENCES = [
    (check_window_partition, reference_window_partition),
    (check_shifted_window_mask, reference_shifted_window_mask),
    (check_cosine_attention, reference_cosine_attention),
    (check_post_norm_attention, lambda: "cosine"),
    (check_swin_concepts, _answers(_SWIN_QUESTIONS)),
    (check_relative_position_index, reference_relative_position_index),
    (check_log_spaced_coords, reference_log_spaced_coords),
    (check_offset_normalisation, lambda: "trained"),
    (check_position_concepts, _answers(_POSITION_QUESTIONS)),
]

__all__ = ["DEEP_STACK", "REFERENCES", "TRANSFER", "check_cosine_attention",
           "check_log_spaced_coords", "check_offset_normalisation",
           "check_position_concepts", "check_post_norm_attention",
           "check_relative_position_index", "check_shifted_window_mask", "check_swin_concepts",
           "check_window_partition", "deep_stack_experiment", "reference_cosine_attention",
           "reference_log_spaced_coords", "reference_relative_position_index",
           "reference_shifted_window_mask", "reference_window_partition",
           "window_transfer_experiment"]
