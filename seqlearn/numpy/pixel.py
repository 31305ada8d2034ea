"""Images as sequences (chapter 10): masked convolutions, a small PixelCNN, the receptive field of
a stack of masked convolutions, the independent-pixel baseline and bits per dimension.

**Layout.** Images are square, n × n, batch first and features last, as sequences are
``(B, T, D)``: a batch of feature maps with D features per pixel is ``(B, n, n, D)``. A pixel's
value is an integer level ``0 .. V-1`` (V = 2: binarised, V = 4: four grey levels); a model reads
it as its one-hot code, D = V. The raster order reads the rows from top to bottom and each row
from left to right: pixel (r, s) is step i = r n + s of a sequence of T = n² pixels, and a model
of the image is the chain rule over that order,

    p(x) = Π_i p(x_i | x_1, ..., x_{i-1})                                          (10.1)

**Masked convolution.** A k × k convolution (k odd, half-width κ = (k − 1)/2) with weights
``W`` (k, k, D, H), row-vector style (each tap is a D × H matrix), and bias ``b`` (H,)::

    a[:, r, s] = b + Σ_{p,q} m[p, q] · x[:, r + p − κ, s + q − κ] W[p, q]           (10.6)

(zero outside the image). The mask m keeps the taps that come *before* the centre in raster order:
rows above the centre, and the taps left of it in its own row. Mask ``"A"`` excludes the centre
(a first layer must not see the pixel it predicts), mask ``"B"`` includes it (later layers may
look at their own position, which holds only earlier pixels' information); van den Oord et al.
(2016), *Pixel Recurrent Neural Networks*.

Functions: :func:`conv_mask`, :func:`masked_conv2d_forward` / :func:`masked_conv2d_backward`, the
PixelCNN :func:`pixel_cnn_forward` / :func:`pixel_cnn_backward`, :func:`bits_per_dim`, the
baseline :func:`independent_pixel_logits`, the analysis :func:`receptive_field` and
:func:`raster_context`, and the Diagonal BiLSTM's :func:`skew` / :func:`unskew`. The torch
versions are in ``seqlearn.torch.pixel``.
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_positive_int, check_positive_number,
                        describe)
from .common import check_param_dict
from .softmax import log_softmax, softmax_cross_entropy

#: The two masks of a masked convolution: "A" without the centre tap, "B" with it.
MASK_TYPES = ("A", "B")


def check_kernel_size(kernel_size):
    """Raise ``ValueError`` unless ``kernel_size`` is an odd positive int (a kernel needs a centre
    tap to put the predicted pixel at); return it as an int."""
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)):
        raise ValueError(f"kernel_size: expected an odd positive integer, got "
                         f"{describe(kernel_size)}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size: expected an odd positive integer (the kernel needs a "
                         f"centre tap), got {kernel_size}")
    return int(kernel_size)


def _check_mask_type(mask_type):
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask_type: expected 'A' (first layer, centre excluded) or 'B' (later "
                         f"layers, centre included), got {mask_type!r}")
    return mask_type


def conv_mask(kernel_size, mask_type):
    """The mask m (k, k) of a k × k masked convolution, equation (10.6): 1 at the taps that come
    before the centre in raster order (the rows above it, the taps left of it in its row), 0
    elsewhere; the centre tap is 0 for ``mask_type`` ``"A"`` and 1 for ``"B"``. float64."""
    k = check_kernel_size(kernel_size)
    _check_mask_type(mask_type)
    kappa = k // 2
    mask = np.zeros((k, k))
    mask[:kappa, :] = 1.0                       # every row above the centre
    mask[kappa, :kappa] = 1.0                   # left of the centre, in its row
    if mask_type == "B":
        mask[kappa, kappa] = 1.0                # the centre itself
    return mask


def check_images(name, x, levels=None):
    """``x`` as an int64 array of pixel levels (B, n, n) after checking it: integers, square
    images, and with ``levels`` = V every value in ``0 .. V-1``. Raises ``TypeError`` for
    non-integer values and ``ValueError`` for another shape, non-square images or a value out of
    range."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name}: expected an integer array of pixel levels (B, n, n), "
                        f"got {describe(x)}")
    array = np.asarray(x)
    if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name}: expected integer pixel levels (B, n, n), got {describe(x)}; "
                        f"quantise the image first (seqlearn.data.pixel_digits)")
    if array.ndim != 3 or array.size == 0:
        raise ValueError(f"{name}: expected a non-empty batch of images (B, n, n), "
                         f"got {describe(array)}")
    if array.shape[1] != array.shape[2]:
        raise ValueError(f"{name}: expected square images (B, n, n), got shape {array.shape} "
                         f"({array.shape[1]} rows, {array.shape[2]} columns)")
    if levels is not None:
        levels = check_positive_int("levels", levels)
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= levels:
            raise ValueError(f"{name}: expected levels 0..{levels - 1} (V = {levels}), got "
                             f"values from {low} to {high}")
    return array.astype(np.int64)


def _check_feature_map(name, x, features=None):
    x = as_float_array(name, x, ndim=4)
    if x.shape[1] != x.shape[2]:
        raise ValueError(f"{name}: expected square feature maps (B, n, n, D), got shape "
                         f"{x.shape} ({x.shape[1]} rows, {x.shape[2]} columns)")
    if features is not None and x.shape[3] != features:
        raise ValueError(f"{name}: expected {features} features per pixel (B, n, n, {features}), "
                         f"got shape {x.shape}")
    return x


def _one_hot(x, levels, dtype=np.float64):
    """(B, n, n) levels -> (B, n, n, V) one-hot codes."""
    return np.eye(levels, dtype=dtype)[x]


# -- the masked convolution ---------------------------------------------------------------------

def init_masked_conv2d_params(in_features, out_features, kernel_size, mask_type="B", rng=None):
    """Parameters of a masked convolution: ``W`` (k, k, D, H) and ``b`` (H,) = 0.

    The taps the mask keeps are drawn from U(−s, s) with s = 1/√(D · taps), ``taps`` the number
    of taps of the mask (the fan-in the layer really has); the masked taps are 0.
    """
    D = check_positive_int("in_features", in_features)
    H = check_positive_int("out_features", out_features)
    mask = conv_mask(kernel_size, mask_type)
    rng = as_generator(rng)
    k = mask.shape[0]
    s = 1.0 / np.sqrt(D * max(mask.sum(), 1.0))
    W = rng.uniform(-s, s, size=(k, k, D, H)) * mask[:, :, None, None]
    return {"W": W, "b": np.zeros(H)}


def check_masked_conv2d_params(params):
    """Check a masked convolution's parameter dict; return a new dict of float arrays ``W``
    (k, k, D, H) with k odd and ``b`` (H,).
    Float arrays are returned as they are, not copies.
    """
    check_param_dict(params, ("W", "b"))
    W = as_float_array("params['W']", params["W"], ndim=4)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"params['W']: expected a square kernel (k, k, D, H), got shape {W.shape}")
    check_kernel_size(W.shape[0])
    b = as_float_array("params['b']", params["b"], shape=(W.shape[3],))
    return {"W": W, "b": b}


def masked_conv2d_forward(x, params, mask_type):
    """The masked convolution of equation (10.6), ``mask_type`` ``"A"`` or ``"B"``.

    x (B, n, n, D) feature maps; ``params``: ``W`` (k, k, D, H), ``b`` (H,). Returns
    ``(a, cache)`` with a (B, n, n, H): a[:, r, s] = b + Σ_{p,q} m[p, q] x[:, r+p−κ, s+q−κ] W[p, q],
    zero padding outside the image. The loop runs over the kernel's taps: each tap the mask keeps
    adds one shifted copy of the image times its D × H matrix.
    """
    params = check_masked_conv2d_params(params)
    W, b = params["W"], params["b"]
    k, _, D, H = W.shape
    x = _check_feature_map("x", x, features=D)
    mask = conv_mask(k, mask_type)
    W_masked = W * mask[:, :, None, None]
    kappa, n = k // 2, x.shape[1]
    padded = np.pad(x, ((0, 0), (kappa, kappa), (kappa, kappa), (0, 0)))
    a = np.zeros((x.shape[0] * n * n, H), dtype=np.result_type(x, W)) + b
    for p in range(k):
        for q in range(k):
            if mask[p, q]:                       # the taps before the centre (and it, for B)
                shifted = padded[:, p:p + n, q:q + n].reshape(-1, D)   # x[:, r+p-κ, s+q-κ]
                a += shifted @ W_masked[p, q]
    return a.reshape(x.shape[:3] + (H,)), (padded, W_masked, mask)


def masked_conv2d_backward(da, cache):
    """Gradients of the masked convolution (10.6): given ∂L/∂a (B, n, n, H) return
    ``(grads, dx)``.

    For every tap (p, q) the mask keeps: ∂L/∂W[p, q] = Σ_{b,r,s} x[b, r+p−κ, s+q−κ]ᵀ ∂L/∂a[b, r, s]
    (D, H), and the shifted copy x[:, r+p−κ, s+q−κ] receives ∂L/∂a W[p, q]ᵀ; the masked taps get
    0. ``grads`` = {"W": (k, k, D, H), "b": Σ ∂L/∂a (H,)}; ``dx`` (B, n, n, D) is ∂L/∂x.
    """
    padded, W_masked, mask = cache
    k, _, D, H = W_masked.shape
    kappa, n = k // 2, padded.shape[1] - 2 * (k // 2)
    da = as_float_array("da", da, shape=(padded.shape[0], n, n, H))
    da_rows = da.reshape(-1, H)
    dW = np.zeros_like(W_masked)
    dpadded = np.zeros_like(padded)
    for p in range(k):
        for q in range(k):
            if mask[p, q]:
                shifted = padded[:, p:p + n, q:q + n].reshape(-1, D)
                dW[p, q] = shifted.T @ da_rows
                dpadded[:, p:p + n, q:q + n] += (da_rows @ W_masked[p, q].T).reshape(-1, n, n, D)
    dx = dpadded[:, kappa:kappa + n, kappa:kappa + n]
    return {"W": dW, "b": da_rows.sum(axis=0)}, dx


# -- the PixelCNN ---------------------------------------------------------------------------------

def init_pixel_cnn_params(levels, hidden_size, kernel_size=3, num_layers=4, num_classes=None,
                          rng=None):
    """Parameters of a PixelCNN with M = ``num_layers`` masked convolutions (the first of mask A,
    the others of mask B) of ``hidden_size`` H features each, and a per-pixel read-out to the
    V = ``levels`` logits.

    ``W_l0`` (k, k, V, H), ``b_l0`` (H,); ``W_l{l}`` (k, k, H, H), ``b_l{l}`` (H,) for
    l = 1 .. M−1 (:func:`init_masked_conv2d_params`); ``W_out`` (H, V) ~ U(±1/√H), ``b_out``
    (V,) = 0; with ``num_classes``, also ``W_label`` (num_classes, H) ~ U(±1/√H): the class
    label's row is added to the first layer's pre-activation at every pixel.
    """
    V = check_positive_int("levels", levels)
    if V < 2:
        raise ValueError(f"levels: expected at least 2 levels per pixel, got {V}")
    H = check_positive_int("hidden_size", hidden_size)
    M = check_positive_int("num_layers", num_layers)
    check_kernel_size(kernel_size)
    rng = as_generator(rng)
    params = {}
    for l in range(M):
        layer = init_masked_conv2d_params(V if l == 0 else H, H, kernel_size,
                                          "A" if l == 0 else "B", rng)
        params[f"W_l{l}"], params[f"b_l{l}"] = layer["W"], layer["b"]
    s = 1.0 / np.sqrt(H)
    params["W_out"] = rng.uniform(-s, s, size=(H, V))
    params["b_out"] = np.zeros(V)
    if num_classes is not None:
        params["W_label"] = rng.uniform(-s, s, size=(check_positive_int("num_classes",
                                                                         num_classes), H))
    return params


def check_pixel_cnn_params(params):
    """Check a PixelCNN parameter dict (see :func:`init_pixel_cnn_params`); return
    ``(checked, num_layers)``, the float arrays in a new dict and M.
    Float arrays are returned as they are, not copies.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of PixelCNN parameters, got {describe(params)}")
    num_layers = sum(1 for key in params if key.startswith("W_l") and key[3:].isdigit())
    check_param_dict(params, ["W_out", "b_out"] + [f"{w}_l{l}" for l in range(max(num_layers, 1))
                                                   for w in ("W", "b")])
    W_out = as_float_array("params['W_out']", params["W_out"], ndim=2)
    H, V = W_out.shape
    checked = {"W_out": W_out, "b_out": as_float_array("params['b_out']", params["b_out"],
                                                       shape=(V,))}
    k = None
    for l in range(num_layers):
        layer = check_masked_conv2d_params({"W": params[f"W_l{l}"], "b": params[f"b_l{l}"]})
        want = (k or layer["W"].shape[0],) * 2 + (V if l == 0 else H, H)
        if layer["W"].shape != want:
            raise ValueError(f"params['W_l{l}']: expected shape {want}, got shape "
                             f"{layer['W'].shape}")
        k = layer["W"].shape[0]
        checked[f"W_l{l}"], checked[f"b_l{l}"] = layer["W"], layer["b"]
    if "W_label" in params:
        checked["W_label"] = as_float_array("params['W_label']", params["W_label"],
                                            shape=(None, H))
    return checked, num_layers


def _check_labels(labels, batch_size, num_classes):
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels: this model is not class-conditional (it has no W_label); "
                             "pass labels=None")
        return None
    if labels is None:
        raise ValueError(f"labels: this model is class-conditional ({num_classes} classes); "
                         f"pass the labels (B,)")
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (batch_size,):
        raise ValueError(f"labels: expected {batch_size} integer class labels (B,), "
                         f"got {describe(labels)}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels: expected classes 0..{num_classes - 1}, got values from "
                         f"{labels.min()} to {labels.max()}")
    return labels


def pixel_cnn_forward(x, params, labels=None):
    """The PixelCNN's logits for every pixel of a batch of images, equation (10.7).

    x (B, n, n) integer levels 0..V−1, read as one-hot codes h_0 (B, n, n, V); then for
    l = 0 .. M−1, h_{l+1} = relu(maskedconv_l(h_l)) with mask A for l = 0 and mask B after
    (:func:`masked_conv2d_forward`); ``labels`` (B,) add ``W_label[y]`` to the first layer's
    pre-activation of a class-conditional model. Returns ``(z, cache)`` with the logits
    z = h_M W_out + b_out (B, n, n, V): z[:, r, s] scores the level of pixel (r, s) from the
    pixels before it.
    The cache holds the inputs and parameters themselves, not copies.
    """
    params, num_layers = check_pixel_cnn_params(params)
    V = params["W_out"].shape[1]
    x = check_images("x", x, levels=V)
    labels = _check_labels(labels, len(x), params["W_label"].shape[0]
                           if "W_label" in params else None)
    h, layers = _one_hot(x, V, params["W_out"].dtype), []
    for l in range(num_layers):
        a, conv_cache = masked_conv2d_forward(h, {"W": params[f"W_l{l}"], "b": params[f"b_l{l}"]},
                                              "A" if l == 0 else "B")
        if l == 0 and labels is not None:
            a = a + params["W_label"][labels][:, None, None, :]
        h = np.maximum(a, 0.0)
        layers.append((conv_cache, a))
    z = h @ params["W_out"] + params["b_out"]
    return z, (layers, h, params, labels)


def pixel_cnn_backward(dz, cache):
    """Backpropagation through the PixelCNN: given ∂L/∂z (B, n, n, V) return ``grads``, a dict
    shaped like the parameters (the input is discrete, so there is no ∂L/∂x).

    ∂L/∂W_out = Σ h_Mᵀ ∂L/∂z, ∂L/∂h_M = ∂L/∂z W_outᵀ; then through each layer from the last:
    ∂L/∂a_l = ∂L/∂h_{l+1} ⊙ [a_l > 0] and :func:`masked_conv2d_backward`; ``W_label`` collects
    the first layer's ∂L/∂a summed over the pixels, by label.
    """
    layers, h, params, labels = cache
    V = params["W_out"].shape[1]
    dz = as_float_array("dz", dz, shape=h.shape[:3] + (V,))
    H = h.shape[3]
    grads = {"W_out": h.reshape(-1, H).T @ dz.reshape(-1, V), "b_out": dz.sum(axis=(0, 1, 2))}
    dh = dz @ params["W_out"].T
    for l in reversed(range(len(layers))):
        conv_cache, a = layers[l]
        da = dh * (a > 0)
        layer_grads, dh = masked_conv2d_backward(da, conv_cache)
        grads[f"W_l{l}"], grads[f"b_l{l}"] = layer_grads["W"], layer_grads["b"]
        if l == 0 and labels is not None:
            grads["W_label"] = np.zeros_like(params["W_label"])
            np.add.at(grads["W_label"], labels, da.sum(axis=(1, 2)))
    return {key: grads[key] for key in params}


def pixel_cnn_loss(x, params, labels=None):
    """The mean negative log-likelihood L of the images ``x`` (B, n, n) under the PixelCNN, in
    nats per pixel (the mean of the cross-entropies of all B n² pixels), and its gradients:
    returns ``(L, grads)``. L / ln 2 is the model's bits per dimension, equation (10.2)."""
    z, cache = pixel_cnn_forward(x, params, labels)
    loss, dz = softmax_cross_entropy(z, np.asarray(x))
    return loss, pixel_cnn_backward(dz, cache)


# -- measuring a density --------------------------------------------------------------------------

def bits_per_dim(logits, x):
    """The negative log-likelihood of the images ``x`` (B, n, n) under the logits (B, n, n, V)
    (or (n, n, V), the same for every image), in bits per pixel, equation (10.2):

        bits/dim = −(1 / (B n²)) Σ_b Σ_i log₂ softmax(z_{b,i})[x_{b,i}]

    the mean over the batch's pixels. A float; a uniform model scores log₂ V.
    """
    logits = as_float_array("logits", logits)
    if logits.ndim not in (3, 4):
        raise ValueError(f"logits: expected shape (B, n, n, V) or (n, n, V), got shape "
                         f"{logits.shape}")
    x = check_images("x", x, levels=logits.shape[-1])
    logits = np.broadcast_to(logits, x.shape + (logits.shape[-1],)) if logits.ndim == 3 else logits
    if logits.shape[:3] != x.shape:
        raise ValueError(f"logits: expected shape {x.shape + (logits.shape[-1],)} (one row of V "
                         f"logits per pixel of x), got shape {logits.shape}")
    log_p = np.take_along_axis(log_softmax(logits), x[..., None], axis=-1)
    return float(-log_p.mean() / np.log(2.0))


def independent_pixel_logits(images, levels, alpha=1.0):
    """The independent-pixel baseline, equation (10.3): one categorical distribution per pixel,
    its level frequencies in ``images`` (N, n, n) smoothed by ``alpha`` (Laplace's rule for 1):

        p_i(v) = (count_i(v) + α) / (N + α V)

    Returns the log-probabilities (n, n, V), to be used as logits (every image the same). The
    model ignores every other pixel: it is the floor that a model of the context must beat.
    """
    V = check_positive_int("levels", levels)
    images = check_images("images", images, levels=V)
    alpha = check_positive_number("alpha", alpha)
    counts = np.stack([(images == v).sum(axis=0) for v in range(V)], axis=-1)
    return np.log((counts + alpha) / (len(images) + alpha * V))


# -- what a stack of masked convolutions sees ----------------------------------------------------

def _check_position(n, position):
    if (isinstance(position, (str, bytes)) or not hasattr(position, "__len__")
            or len(position) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in position)):
        raise ValueError(f"position: expected a pixel (row, column) of two ints, got "
                         f"{position!r}")
    r, s = (int(v) for v in position)
    if not (0 <= r < n and 0 <= s < n):
        raise ValueError(f"position: expected row and column in 0..{n - 1}, got {position!r}")
    return r, s


def raster_context(n, position):
    """The pixels that come before ``position`` = (r, s) in raster order in an n × n image, the
    context of the chain rule (10.1): a bool map (n, n), True at the rows above r and at the
    pixels left of s in row r."""
    n = check_positive_int("n", n)
    r, s = _check_position(n, position)
    context = np.zeros((n, n), dtype=bool)
    context[:r] = True
    context[r, :s] = True
    return context


def receptive_field(n, kernel_size, num_layers, position):
    """The input pixels that the output at ``position`` = (r, s) of a stack of ``num_layers``
    k × k masked convolutions (mask A first, then mask B) can depend on: a bool map (n, n).

    Propagated backwards from the output, one layer at a time: the output (r, s) of a layer reads
    its input at (r + p − κ, s + q − κ) for every tap (p, q) its mask keeps. Compare it with
    :func:`raster_context`: the context pixels it misses are the stack's *blind spot*.
    """
    n = check_positive_int("n", n)
    k = check_kernel_size(kernel_size)
    num_layers = check_positive_int("num_layers", num_layers)
    r, s = _check_position(n, position)
    kappa = k // 2
    reached = np.zeros((n, n), dtype=bool)
    reached[r, s] = True
    for l in reversed(range(num_layers)):
        mask = conv_mask(k, "A" if l == 0 else "B")
        below = np.zeros((n + 2 * kappa, n + 2 * kappa), dtype=bool)   # the padded input
        for p, q in zip(*np.nonzero(mask)):
            below[p:p + n, q:q + n] |= reached                           # output (r, s) reads
        reached = below[kappa:kappa + n, kappa:kappa + n]               # input (r+p−κ, s+q−κ)
    return reached


# -- the Diagonal BiLSTM's skew ------------------------------------------------------------------

def skew(x):
    """Skew a feature map for the Diagonal BiLSTM: x (B, n, n, D) -> (B, n, 2n−1, D), row r
    shifted right by r places (zeros elsewhere), so that the pixels of a diagonal r + s = const
    of x line up in one column of the skewed map."""
    x = _check_feature_map("x", x)
    B, n, _, D = x.shape
    out = np.zeros((B, n, 2 * n - 1, D), dtype=x.dtype)
    for r in range(n):
        out[:, r, r:r + n] = x[:, r]
    return out


def unskew(y):
    """Undo :func:`skew`: y (B, n, 2n−1, D) -> (B, n, n, D), row r read from column r on."""
    y = as_float_array("y", y, ndim=4)
    B, n, width, D = y.shape
    if width != 2 * n - 1:
        raise ValueError(f"y: expected a skewed map (B, n, 2n - 1, D), got shape {y.shape} "
                         f"(n = {n} rows need {2 * n - 1} columns)")
    return np.stack([y[:, r, r:r + n] for r in range(n)], axis=1)


__all__ = [
    "MASK_TYPES", "bits_per_dim", "check_images", "check_kernel_size",
    "check_masked_conv2d_params", "check_pixel_cnn_params", "conv_mask",
    "independent_pixel_logits", "init_masked_conv2d_params", "init_pixel_cnn_params",
    "masked_conv2d_backward", "masked_conv2d_forward", "pixel_cnn_backward", "pixel_cnn_forward",
    "pixel_cnn_loss", "raster_context", "receptive_field", "skew", "unskew",
]
