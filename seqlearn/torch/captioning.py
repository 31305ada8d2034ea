"""A small image captioner with attention over image regions, for strips of handwritten digits.

A convolutional encoder turns an 8 × 8k strip (``seqlearn.data.digit_captions``) into a grid of
region features; a GRU decoder writes the caption word by word and, before each word, attends
over the regions ("show, attend and tell", Xu et al., 2015)::

    regions:  r_j = CNN(image)_j + P[column(j)]            (B, R, C), R = 2 × 2k here
    decoder:  s_0 = tanh(mean_j(r_j) W_init + b_init),   s_t = GRU(E[y_{t-1}], s_{t-1})
    attention: α_t = softmax_j(tanh(s_t W_q + r_j W_k) · w_a),   c_t = Σ_j α_tj r_j
    output:   p(y_t | y_<t, image) = softmax(tanh([s_t ; c_t] W_c + b_c) W_o + b_o)

As in ``seqlearn.torch.seq2seq``, attention reads the decoder state after the GRU step (Luong
order), so teacher-forced training runs the decoder over the whole caption at once, and greedy
decoding runs the package's one decoding loop, ``seqlearn.torch.decoding.decode``. The CNN keeps
a grid of 4 × 4-pixel regions (two 3 × 3 convolutions, each followed by 2 × 2 max-pooling), so
each digit covers 2 × 2 regions and ``region_boxes()`` says which pixels each region stands for:
the attention of each word can be drawn on the image.

With ``attention=False`` the same model is the captioner *without* attention (in the spirit of
"show and tell", Vinyals et al., 2015), the baseline of chapter 7b: one fixed-length vector g,
all the region features flattened in their places, stands for the image; it sets the initial
state and is read, unchanged, at every step, where attention would read a different c_t::

    g = flatten(r_1 … r_R),   s_0 = tanh(g W_init + b_init),
    p(y_t | y_<t, image) = softmax(tanh([s_t ; g] W_c + b_c) W_o + b_o)

(the regions of a strip narrower than ``max_digits`` are padded with zeros before flattening).

Convolutions are translation-equivariant: a region's features say *what* is there, hardly
*where*. To find "the second digit" the decoder needs the position too, so a learned vector per
region column, ``P`` (``column_embedding``), is added to the features (a learned positional
embedding, as the Transformer's; CoordConv, Liu et al. 2018, appends coordinates instead).
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..validate import describe, check_positive_int, check_tensor
from ..data.digit_captions import CAPTION_WORDS, DIGIT_SIZE
from ..data.transduction import BOS, EOS, PAD
from .attention import AdditiveAttention
from .common import check_tokens
from .decoding import decode
from .seq2seq import compare_tokens
from .train import batch_source, fit

#: Pixels per side of a region: two pooling steps shrink each 8 × 8 digit to 2 × 2 regions.
REGION_SIZE = 4


class DigitCaptioner(nn.Module):
    """CNN encoder + GRU decoder with additive attention over image regions.

    Parameters
    ----------
    channels : C, feature channels of the CNN (and of each region)
    embedding_size : E, word embeddings
    hidden_size : H, the decoder's state
    attention_size : A, the hidden size of additive attention
    vocab_size : the caption vocabulary (default ``len(CAPTION_WORDS)`` = 13)
    max_digits : the widest strip the model reads (its column embedding has 2 × max_digits rows)
    attention : True (the model above) or False: no attention; g, the region features
        flattened (4·max_digits·C numbers), replaces both the mean (``init_state`` is then
        4·max_digits·C → H) and the context c_t (``combine`` is H + 4·max_digits·C → H), and
        ``attention`` is ``None``

    Submodules: ``cnn`` ((conv 3×3 → ReLU → max-pool 2×2) twice), ``column_embedding``
    (``nn.Embedding`` 2·max_digits × C), ``embedding``, ``init_state`` (C → H), ``decoder``
    (``nn.GRU``), ``attention`` (``AdditiveAttention``), ``combine`` (H + C → H) and ``output``
    (H → V, the vocabulary).
    """

    def __init__(self, channels=32, embedding_size=16, hidden_size=48, attention_size=32,
                 vocab_size=len(CAPTION_WORDS), max_digits=8, attention=True):
        super().__init__()
        self.channels = check_positive_int("channels", channels)
        self.embedding_size = check_positive_int("embedding_size", embedding_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.max_digits = check_positive_int("max_digits", max_digits)
        if not isinstance(attention, bool):
            raise TypeError(f"attention: expected True or False, got {describe(attention)}")
        self.use_attention = attention
        C, E, H = self.channels, self.embedding_size, self.hidden_size
        self.cnn = nn.Sequential(
            nn.Conv2d(1, C, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(C, C, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.column_embedding = nn.Embedding(2 * self.max_digits, C)
        self.embedding = nn.Embedding(self.vocab_size, E, padding_idx=PAD)
        A = check_positive_int("attention_size", attention_size)
        n_regions = (DIGIT_SIZE // REGION_SIZE) * 2 * self.max_digits
        self.init_state = nn.Linear(C if attention else n_regions * C, H)
        self.decoder = nn.GRU(E, H, batch_first=True)
        self.attention = AdditiveAttention(H, C, A) if attention else None
        self.combine = nn.Linear(H + (C if attention else n_regions * C), H)
        self.output = nn.Linear(H, self.vocab_size)
        self.last_attention = None
        self._grid = None

    def _check_images(self, images):
        if not isinstance(images, torch.Tensor):
            array = np.asarray(images)
            if array.dtype == object or not np.issubdtype(array.dtype, np.number):
                raise TypeError(f"images: expected a float array (B, 8, 8k), got {describe(images)}")
            images = torch.as_tensor(array)
        p = self.output.weight
        if not images.dtype.is_floating_point:
            images = images.to(p.dtype)
        check_tensor("images", images, ndim=3)
        if images.shape[1] != DIGIT_SIZE or images.shape[2] % DIGIT_SIZE:
            raise ValueError(f"images: expected shape (B, {DIGIT_SIZE}, {DIGIT_SIZE}·k) (strips of "
                             f"8×8 digits), got {describe(images)}")
        if images.shape[2] > DIGIT_SIZE * self.max_digits:
            raise ValueError(f"images: the model reads strips of at most max_digits="
                             f"{self.max_digits} digits ({DIGIT_SIZE * self.max_digits} columns), "
                             f"got {describe(images)}")
        return images.to(device=p.device, dtype=p.dtype)

    def encode(self, images):
        """Region features (B, R, C) of ``images`` (B, 8, 8k), R = 2 × 2k regions of 4 × 4
        pixels, ordered row by row (``region_boxes`` gives their pixel extents)."""
        images = self._check_images(images)
        features = self.cnn(images[:, None])                  # (B, C, 2, 2k)
        self._grid = tuple(features.shape[2:])
        columns = torch.arange(features.shape[3], device=features.device)
        features = features + self.column_embedding(columns).T[None, :, None, :]
        return features.flatten(2).transpose(1, 2)            # (B, R, C)

    def region_boxes(self, n_digits=None):
        """Pixel extents of the regions: an int array (R, 4) of ``(row0, row1, col0, col1)``
        (half-open) in the order of ``encode``'s regions. ``n_digits`` defaults to the strip
        width seen by the last ``encode``."""
        if n_digits is None:
            if self._grid is None:
                raise ValueError("n_digits: no image encoded yet; pass n_digits")
            rows, cols = self._grid
        else:
            n_digits = check_positive_int("n_digits", n_digits)
            rows, cols = DIGIT_SIZE // REGION_SIZE, n_digits * DIGIT_SIZE // REGION_SIZE
        r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        r, c = r.ravel() * REGION_SIZE, c.ravel() * REGION_SIZE
        return np.stack([r, r + REGION_SIZE, c, c + REGION_SIZE], axis=1)

    def attention_maps(self, weights, n_digits):
        """Attention weights (..., R) spread back onto the pixels: (..., 8, 8k) arrays whose
        pixels carry the weight of their region divided by its area (each map sums to 1)."""
        weights = weights.detach().cpu().numpy() if hasattr(weights, "detach") else np.asarray(weights)
        rows, cols = DIGIT_SIZE // REGION_SIZE, check_positive_int("n_digits", n_digits) * 2
        if weights.shape[-1] != rows * cols:
            raise ValueError(f"weights: expected {rows * cols} regions in the last axis, got "
                             f"shape {weights.shape}")
        grid = weights.reshape(*weights.shape[:-1], rows, cols)
        pixels = np.repeat(np.repeat(grid, REGION_SIZE, axis=-2), REGION_SIZE, axis=-1)
        return pixels / REGION_SIZE ** 2

    def extra_repr(self):
        return f"attention={self.use_attention}"

    def _flat(self, regions):
        """g (B, 4·max_digits·C): every region's features in their place, padded to max_digits."""
        B, R, C = regions.shape
        rows = DIGIT_SIZE // REGION_SIZE
        grid = regions.reshape(B, rows, R // rows, C)
        grid = F.pad(grid, (0, 0, 0, 2 * self.max_digits - R // rows))
        return grid.reshape(B, -1)

    def _start(self, regions):
        summary = regions.mean(1) if self.use_attention else self._flat(regions)
        return torch.tanh(self.init_state(summary))[None]      # (1, B, H)

    def _readout(self, states, regions):
        if self.use_attention:
            context, weights = self.attention(states, regions, regions)
        else:     # the same fixed vector g at every step
            context = self._flat(regions)[:, None].expand(-1, states.shape[1], -1)
            weights = None
        combined = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))
        return self.output(combined), weights

    def forward(self, images, tgt_in):
        """Teacher-forced logits (B, T, V) for ``images`` (B, 8, 8k) and ``tgt_in`` (B, T)
        (BOS followed by the caption). ``last_attention`` gets the weights (B, T, R)."""
        regions = self.encode(images)
        tgt_in = check_tokens("tgt_in", tgt_in, self.vocab_size, device=regions.device)
        if tgt_in.shape[0] != regions.shape[0]:
            raise ValueError(f"tgt_in: expected {regions.shape[0]} rows like images, got "
                             f"{describe(tgt_in)}")
        states, _ = self.decoder(self.embedding(tgt_in), self._start(regions))
        logits, weights = self._readout(states, regions)
        self.last_attention = None if weights is None else weights.detach()
        return logits

    @torch.no_grad()
    def greedy_decode(self, images, max_len, return_attention=False):
        """Write captions one word at a time (the most probable word each step, from BOS).

        Returns tokens (B, max_len) (PAD after EOS) and with ``return_attention`` the weights
        (B, max_len, R) of each word over the regions (zeros after EOS; ``None`` without
        attention).
        """
        max_len = check_positive_int("max_len", max_len)
        regions = self.encode(images)

        def step(tokens, state):
            states, state = self.decoder(self.embedding(tokens[:, -1:]), state)
            logits, weights = self._readout(states, regions)
            return logits[:, -1], state, None if weights is None else weights[:, -1]

        start = torch.full((regions.shape[0], 1), BOS, dtype=torch.long, device=regions.device)
        tokens, weights = decode(step, start, max_len, state=self._start(regions), eos=EOS)
        self.last_attention = weights
        return (tokens, weights) if return_attention else tokens


def caption_loss(model, batch):
    """Mean cross-entropy (nats per word, PAD ignored) of the teacher-forced logits
    ``model(images, tgt_in)`` against ``tgt_out``; ``batch`` as made by ``digit_strips``."""
    if not isinstance(batch, dict) or any(k not in batch for k in ("images", "tgt_in", "tgt_out")):
        raise ValueError(f"batch: expected a dict with 'images', 'tgt_in', 'tgt_out' (as made by "
                         f"digit_strips), got {describe(batch)}")
    device = model.output.weight.device
    tgt_out = check_tokens("tgt_out", batch["tgt_out"], model.vocab_size, device=device)
    logits = model(batch["images"], batch["tgt_in"])
    if logits.shape[:2] != tgt_out.shape:
        raise ValueError(f"tgt_out: expected shape {tuple(logits.shape[:2])} like tgt_in, got "
                         f"{describe(tgt_out)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                           ignore_index=PAD)


def train_captioner(model, make_batch, steps, lr=3e-3, clip=1.0, progress=True,
                    desc="captioning"):
    """Train a ``DigitCaptioner`` with Adam and teacher forcing: ``make_batch(step)`` (or a fixed
    dict) gives ``"images"``, ``"tgt_in"``, ``"tgt_out"`` as made by ``digit_strips``. Returns
    the list of losses (cross-entropy per word, nats); stops with ``FloatingPointError`` on a
    NaN/inf loss. The loop is :func:`seqlearn.torch.train.fit`."""
    return fit(model, caption_loss, batch_source("make_batch", make_batch, dict), steps, lr=lr,
               clip=clip, progress=progress, desc=desc)["losses"]


def caption_accuracy(model, data):
    """Greedy captions of ``data["images"]`` against ``data["tgt_out"]``: returns
    ``(exact, word)``, the fraction of captions entirely right (EOS included) and the fraction
    of words (and EOS) right at their position."""
    if not isinstance(data, dict) or any(k not in data for k in ("images", "tgt_out")):
        raise ValueError(f"data: expected a dict with 'images' and 'tgt_out' (as made by "
                         f"digit_strips), got {describe(data)}")
    tgt_out = check_tokens("tgt_out", data["tgt_out"], model.vocab_size,
                           device=model.output.weight.device)
    pred = model.greedy_decode(data["images"], tgt_out.shape[1])
    exact, correct, total = compare_tokens(pred, tgt_out)
    return float(exact.float().mean()), int(correct) / int(total)


def attention_on_digits(weights, n_digits):
    """Attention mass per digit: ``weights`` (B, T, R) over the regions of ``region_boxes``
    → (B, T, k), the total weight of word t on the regions of digit j (columns 8j … 8j+7)."""
    weights = weights.detach().cpu().numpy() if hasattr(weights, "detach") else np.asarray(weights)
    n_digits = check_positive_int("n_digits", n_digits)
    rows, cols = DIGIT_SIZE // REGION_SIZE, 2 * n_digits
    if weights.ndim != 3 or weights.shape[-1] != rows * cols:
        raise ValueError(f"weights: expected shape (B, T, {rows * cols}), got {weights.shape}")
    grid = weights.reshape(*weights.shape[:2], rows, n_digits, cols // n_digits)
    return grid.sum(axis=(2, 4))


def skewed_digit_strips(n, probabilities, n_digits=3, rng=0, subset="all"):
    """Strips like ``seqlearn.data.digit_captions.digit_strips`` whose digits are drawn with
    given frequencies instead of uniformly: a caption *prior* that a model can exploit without
    looking at the image (the dataset bias of chapter 7b).

    ``probabilities`` : (10,) the probability of each digit 0 … 9 at every position, or
    (n_digits, 10) one distribution per position (each row non-negative, summing to 1). The
    digit of position j is drawn from its row, then a random image of that digit from
    ``subset`` (``"train"``, ``"test"`` or ``"all"``, as for ``digit_strips``). Returns the dict
    of ``digit_strips``: ``"images"`` (n, 8, 8k), ``"digits"`` (n, k), ``"tgt_in"``,
    ``"tgt_out"`` (n, k + 1) and ``"indices"`` (n, k).
    """
    from ..data.digit_captions import FIRST_WORD, TRAIN_IMAGES, SUBSETS, load_digit_images
    from ..validate import as_generator

    n = check_positive_int("n", n)
    n_digits = check_positive_int("n_digits", n_digits)
    if subset not in SUBSETS:
        raise ValueError(f"subset: expected one of {SUBSETS}, got {subset!r}")
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape == (10,):
        p = np.broadcast_to(p, (n_digits, 10))
    if p.shape != (n_digits, 10) or not np.all(np.isfinite(p)) or np.any(p < 0) \
            or not np.allclose(p.sum(1), 1.0):
        raise ValueError(f"probabilities: expected shape (10,) or ({n_digits}, 10), "
                         f"non-negative rows summing to 1, got {describe(probabilities)}")
    rng = as_generator(rng)
    images, labels = load_digit_images()
    pool = {"train": np.arange(TRAIN_IMAGES), "test": np.arange(TRAIN_IMAGES, len(images)),
            "all": np.arange(len(images))}[subset]
    by_digit = [pool[labels[pool] == d] for d in range(10)]
    digits = np.stack([rng.choice(10, size=n, p=p[j] / p[j].sum()) for j in range(n_digits)],
                      axis=1)
    indices = np.empty((n, n_digits), dtype=np.int64)
    for d in range(10):
        where = digits == d
        indices[where] = rng.choice(by_digit[d], size=int(where.sum()))
    strips = images[indices].transpose(0, 2, 1, 3).reshape(n, DIGIT_SIZE, DIGIT_SIZE * n_digits)
    words = FIRST_WORD + digits
    tgt_in = np.concatenate([np.full((n, 1), BOS, dtype=np.int64), words], axis=1)
    tgt_out = np.concatenate([words, np.full((n, 1), EOS, dtype=np.int64)], axis=1)
    return {"images": strips, "digits": digits.astype(np.int64), "tgt_in": tgt_in,
            "tgt_out": tgt_out, "indices": indices}


__all__ = ["DigitCaptioner", "skewed_digit_strips", "REGION_SIZE", "caption_loss", "train_captioner", "caption_accuracy",
           "attention_on_digits"]
