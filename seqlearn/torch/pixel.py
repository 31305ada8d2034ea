"""Images as sequences in PyTorch (chapter 10): masked convolutions, the PixelCNN, a Row LSTM and a
gated PixelCNN in miniature, their training, sampling and the pixels each output depends on.

Mirrors ``seqlearn.numpy.pixel`` (same names, parameter names and layouts; autograd does the
backward). Images are square, (B, n, n) integer levels 0 … V−1, and feature maps are batch first
and features last, (B, n, n, D); every model reads the one-hot codes of the levels and returns the
logits (B, n, n, V) of every pixel given the pixels before it in raster order, equation (10.1).
A masked convolution has weights ``W`` (k, k, D, H) and bias ``b`` (H,) as in the NumPy half;
``torch.nn.functional.conv2d`` runs it on (B, D, n, n) maps with the weights
``(W ⊙ m).permute(3, 2, 0, 1)`` (H, D, k, k), and :meth:`MaskedConv2d.to_torch_builtin` returns
that ``nn.Conv2d``.

Models (each ``forward(x, labels=None)`` → logits, and ``forward_onehot`` on one-hot maps):

* :class:`PixelCNN` — masked convolutions, mask A then mask B, ReLU, a per-pixel read-out
  (van den Oord, Kalchbrenner & Kavukcuoglu 2016);
* :class:`RowLSTM` — one layer of the PixelRNN's Row LSTM: an LSTM that runs down the image one
  row at a time, all pixels of a row in parallel; input-to-state is a masked 1-D convolution
  along the row, state-to-state a 1-D convolution of the row above (same paper);
* :class:`GatedPixelCNN` — vertical and horizontal stacks with gated activations, which have no
  blind spot (van den Oord et al. 2016, *Conditional image generation with PixelCNN decoders*).

With ``num_classes`` each model is class-conditional: ``labels`` (B,) add a learned vector per
class to its pre-activations.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy import pixel as np_pixel
from ..numpy.pixel import MASK_TYPES, check_kernel_size
from ..validate import (check_device, check_positive_int, check_positive_number, check_tensor,
                        describe)
from .common import check_like_parameters, copy_numpy_params
from .train import check_module, fit


def conv_mask(kernel_size, mask_type, dtype=None, device=None):
    """The mask m (k, k) of a k × k masked convolution, equation (10.6), as a tensor: 1 at the
    taps before the centre in raster order, the centre 0 for ``"A"`` and 1 for ``"B"``
    (``seqlearn.numpy.pixel.conv_mask``)."""
    device = check_device("device", device)
    return torch.as_tensor(np_pixel.conv_mask(kernel_size, mask_type),
                           dtype=dtype or torch.get_default_dtype(), device=device)


def check_images(name, x, levels=None):
    """``x`` as an int64 tensor of pixel levels (B, n, n) after checking it (integers, square
    images, every value in 0 … V−1 with ``levels`` = V); arrays are converted, an int64 tensor
    is returned as it is (not copied). Raises
    ``TypeError`` or ``ValueError`` naming ``name``, as ``seqlearn.numpy.pixel.check_images``."""
    if isinstance(x, torch.Tensor):
        if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
            raise TypeError(f"{name}: expected integer pixel levels (B, n, n), got {describe(x)}; "
                            f"quantise the image first (seqlearn.data.pixel_digits)")
        if x.dim() != 3 or x.numel() == 0:
            raise ValueError(f"{name}: expected a non-empty batch of images (B, n, n), got "
                             f"{describe(x)}")
        if x.shape[1] != x.shape[2]:
            raise ValueError(f"{name}: expected square images (B, n, n), got shape "
                             f"{tuple(x.shape)} ({x.shape[1]} rows, {x.shape[2]} columns)")
        if levels is not None:
            levels = check_positive_int("levels", levels)
            low, high = int(x.min()), int(x.max())
            if low < 0 or high >= levels:
                raise ValueError(f"{name}: expected levels 0..{levels - 1} (V = {levels}), got "
                                 f"values from {low} to {high}")
        return x.long()
    return torch.from_numpy(np_pixel.check_images(name, x, levels))


def bits_per_dim(logits, x):
    """The negative log-likelihood of the images ``x`` (B, n, n) under ``logits`` (B, n, n, V) in
    bits per pixel, equation (10.2): the mean over the batch's pixels of −log₂ softmax(z)[x].
    A 0-dimensional tensor (differentiable)."""
    check_tensor("logits", logits, ndim=4)
    x = check_images("x", x, levels=logits.shape[-1]).to(logits.device)
    if tuple(logits.shape[:3]) != tuple(x.shape):
        raise ValueError(f"logits: expected shape {tuple(x.shape) + (logits.shape[-1],)} (one row "
                         f"of V logits per pixel of x), got shape {tuple(logits.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1)) / math.log(2.0)


def skew(x):
    """Skew a feature map for the Diagonal BiLSTM: x (B, n, n, D) -> (B, n, 2n−1, D), row r
    shifted right by r places (``seqlearn.numpy.pixel.skew``)."""
    check_tensor("x", x, ndim=4)
    B, n, width, D = x.shape
    if width != n:
        raise ValueError(f"x: expected square feature maps (B, n, n, D), got shape "
                         f"{tuple(x.shape)}")
    out = x.new_zeros(B, n, 2 * n - 1, D)
    for r in range(n):
        out[:, r, r:r + n] = x[:, r]
    return out


def unskew(y):
    """Undo :func:`skew`: y (B, n, 2n−1, D) -> (B, n, n, D)."""
    check_tensor("y", y, ndim=4)
    B, n, width, D = y.shape
    if width != 2 * n - 1:
        raise ValueError(f"y: expected a skewed map (B, n, 2n - 1, D), got shape {tuple(y.shape)} "
                         f"(n = {n} rows need {2 * n - 1} columns)")
    return torch.stack([y[:, r, r:r + n] for r in range(n)], dim=1)


def _conv(h, W, mask, b=None):
    """A masked convolution of h (B, D, n, n) (channels first, inside the models) with W
    (k, k, D, H) ⊙ mask (k, k): (B, H, n, n), zero padding."""
    weight = (W * mask[:, :, None, None]).permute(3, 2, 0, 1)
    return F.conv2d(h, weight, b, padding=W.shape[0] // 2)


def _conv_row(h, W, mask, b=None):
    """A masked 1-D convolution along the rows of h (B, D, n, n) with W (k, D, H) ⊙ mask (k,):
    (B, H, n, n); each row is convolved on its own, zero padding."""
    weight = (W * mask[:, None, None]).permute(2, 1, 0)[:, :, None, :]
    return F.conv2d(h, weight, b, padding=(0, W.shape[0] // 2))


def _pointwise(h, W, b=None):
    """The 1 × 1 convolution h (B, D, n, n) -> (B, H, n, n) with W (D, H): every pixel's h W + b."""
    return F.conv2d(h, W.T[:, :, None, None], b)


def _uniform(shape, fan_in, mask=None, dtype=None, device=None):
    s = 1.0 / math.sqrt(fan_in)
    W = torch.empty(shape, dtype=dtype, device=device).uniform_(-s, s)
    return W if mask is None else W * mask.reshape(mask.shape + (1,) * (len(shape) - mask.dim()))


class MaskedConv2d(nn.Module):
    """A masked k × k convolution of feature maps (B, n, n, D) -> (B, n, n, H), equation (10.6)
    (mirrors ``seqlearn.numpy.pixel.masked_conv2d_forward``).

    Parameters ``W`` (k, k, D, H), drawn as in ``init_masked_conv2d_params`` (U(±1/√(D·taps)) at
    the taps the mask keeps, 0 elsewhere), and ``b`` (H,) = 0; the mask is the buffer ``mask``.
    The forward multiplies ``W`` by the mask every time, so the taps outside it neither act nor
    receive a gradient.
    """

    def __init__(self, in_features, out_features, kernel_size, mask_type="B", dtype=None,
                 device=None):
        device = check_device("device", device)
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.kernel_size = check_kernel_size(kernel_size)
        self.mask_type = mask_type
        self.register_buffer("mask", conv_mask(kernel_size, mask_type, dtype, device))
        taps = float(self.mask.sum())
        self.W = nn.Parameter(_uniform((self.kernel_size, self.kernel_size, self.in_features,
                                        self.out_features), self.in_features * taps, self.mask,
                                       dtype, device))
        self.b = nn.Parameter(torch.zeros(self.out_features, dtype=dtype, device=device))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"kernel_size={self.kernel_size}, mask_type={self.mask_type!r}")

    def forward(self, x):
        """x (B, n, n, D) -> a (B, n, n, H):
        a[:, r, s] = b + Σ_{p,q} m[p,q] x[:, r+p−κ, s+q−κ] W[p,q]."""
        check_tensor("x", x, ndim=4, last_dim=self.in_features)
        check_like_parameters("x", x, self.W)
        if x.shape[1] != x.shape[2]:
            raise ValueError(f"x: expected square feature maps (B, n, n, D), got shape "
                             f"{tuple(x.shape)}")
        return _conv(x.permute(0, 3, 1, 2), self.W, self.mask, self.b).permute(0, 2, 3, 1)

    @classmethod
    def from_numpy(cls, params, mask_type, dtype=torch.float64, device=None):
        """The layer holding the NumPy parameters ``W`` (k, k, D, H) and ``b`` (H,) (copied)."""
        device = check_device("device", device)
        params = np_pixel.check_masked_conv2d_params(params)
        k, _, D, H = params["W"].shape
        model = cls(D, H, k, mask_type, dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"W": (k, k, D, H), "b": (H,)})

    def to_numpy(self):
        """The parameters as a dict of float64 NumPy arrays ``W``, ``b``."""
        return {"W": self.W.detach().cpu().double().numpy(),
                "b": self.b.detach().cpu().double().numpy()}

    def to_torch_builtin(self):
        """The same function as an ``nn.Conv2d(D, H, k, padding=κ)`` on (B, D, n, n) maps,
        holding the masked weights ``(W ⊙ m)`` as ``weight`` (H, D, k, k) (copied). The built-in
        knows no mask: training it would fill the masked taps."""
        k = self.kernel_size
        conv = nn.Conv2d(self.in_features, self.out_features, k, padding=k // 2,
                         dtype=self.W.dtype, device=self.W.device)
        with torch.no_grad():
            conv.weight.copy_((self.W * self.mask[:, :, None, None]).permute(3, 2, 0, 1))
            conv.bias.copy_(self.b)
        return conv

    @classmethod
    def from_torch_builtin(cls, conv, mask_type):
        """The masked layer of an ``nn.Conv2d`` with a square odd kernel, ``padding`` = κ and a
        bias; the taps outside the mask are dropped."""
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"conv: expected an nn.Conv2d, got {describe(conv)}")
        H, D, k, k2 = conv.weight.shape
        if k != k2 or conv.padding != (k // 2, k // 2) or conv.stride != (1, 1) \
                or conv.dilation != (1, 1) or conv.groups != 1 or conv.bias is None:
            raise ValueError(f"conv: expected a square odd kernel with padding k // 2, stride 1, "
                             f"no dilation or groups and a bias, got {conv}")
        weight = conv.weight
        model = cls(D, H, k, mask_type, dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            model.W.copy_(weight.permute(2, 3, 1, 0) * model.mask[:, :, None, None])
            model.b.copy_(conv.bias)
        return model


class _PixelModel(nn.Module):
    """What the three pixel models share: levels, classes, one-hot input, checks, counting."""

    def _setup(self, levels, hidden_size, kernel_size, num_classes):
        self.levels = check_positive_int("levels", levels)
        if self.levels < 2:
            raise ValueError(f"levels: expected at least 2 levels per pixel, got {self.levels}")
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.kernel_size = check_kernel_size(kernel_size)
        self.num_classes = None if num_classes is None else check_positive_int("num_classes",
                                                                                num_classes)
        self.masked = {}        # parameter name -> name of the buffer of its mask

    def _parameter(self, name, shape, fan_in, mask_name=None, dtype=None, device=None):
        mask = None if mask_name is None else getattr(self, mask_name)
        if mask_name is not None:
            self.masked[name] = mask_name
        self.register_parameter(name, nn.Parameter(_uniform(shape, fan_in, mask, dtype, device)))

    def _labels(self, labels, batch_size, device):
        if self.num_classes is None:
            if labels is not None:
                raise ValueError("labels: this model is not class-conditional (num_classes is "
                                 "None); pass labels=None")
            return None
        if labels is None:
            raise ValueError(f"labels: this model is class-conditional ({self.num_classes} "
                             f"classes); pass the labels (B,)")
        labels = torch.as_tensor(labels, device=device)
        if labels.dtype.is_floating_point or labels.dtype == torch.bool \
                or tuple(labels.shape) != (batch_size,):
            raise ValueError(f"labels: expected {batch_size} integer class labels (B,), got "
                             f"{describe(labels)}")
        if int(labels.min()) < 0 or int(labels.max()) >= self.num_classes:
            raise ValueError(f"labels: expected classes 0..{self.num_classes - 1}, got values "
                             f"from {int(labels.min())} to {int(labels.max())}")
        return labels.long()

    def forward(self, x, labels=None):
        """x (B, n, n) integer levels 0 … V−1 (and ``labels`` (B,) for a class-conditional model)
        -> logits z (B, n, n, V): z[:, r, s] scores pixel (r, s) from the pixels before it."""
        weight = next(self.parameters())
        x = check_images("x", x, levels=self.levels).to(weight.device)
        return self.forward_onehot(F.one_hot(x, self.levels).to(weight.dtype), labels)

    def forward_onehot(self, e, labels=None):
        """The logits (B, n, n, V) of the one-hot (or any real-valued) maps e (B, n, n, V): the
        function that :meth:`forward` applies to one-hot codes, differentiable in e (for
        :func:`dependency_map`)."""
        check_tensor("e", e, ndim=4, last_dim=self.levels)
        if e.shape[1] != e.shape[2]:
            raise ValueError(f"e: expected square maps (B, n, n, V), got shape {tuple(e.shape)}")
        return self._logits(e, self._labels(labels, e.shape[0], e.device))

    def num_parameters(self):
        """The number of weights the model uses: every parameter's entries, except the taps
        that a mask keeps at zero."""
        total = 0
        for name, p in self.named_parameters():
            if name in self.masked:
                mask = getattr(self, self.masked[name])
                total += int(mask.sum().item()) * p.numel() // mask.numel()
            else:
                total += p.numel()
        return total


class PixelCNN(_PixelModel):
    """A PixelCNN (mirrors ``seqlearn.numpy.pixel.pixel_cnn_forward``), equation (10.7)::

        h_0 = onehot(x),   h_{l+1} = relu(maskedconv_l(h_l))   (mask A for l = 0, B after),
        z = h_M W_out + b_out                                   (B, n, n, V)

    Parameters ``W_l0`` (k, k, V, H), ``W_l{l}`` (k, k, H, H), ``b_l{l}`` (H,), ``W_out`` (H, V),
    ``b_out`` (V,) and, with ``num_classes``, ``W_label`` (num_classes, H), added to the first
    layer's pre-activation; drawn as in ``init_pixel_cnn_params``.
    """

    def __init__(self, levels, hidden_size=32, kernel_size=3, num_layers=4, num_classes=None,
                 dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self._setup(levels, hidden_size, kernel_size, num_classes)
        self.num_layers = check_positive_int("num_layers", num_layers)
        V, H, k = self.levels, self.hidden_size, self.kernel_size
        self.register_buffer("mask_A", conv_mask(k, "A", dtype, device))
        self.register_buffer("mask_B", conv_mask(k, "B", dtype, device))
        for l in range(self.num_layers):
            D, mask = (V, "mask_A") if l == 0 else (H, "mask_B")
            self._parameter(f"W_l{l}", (k, k, D, H), D * float(getattr(self, mask).sum()), mask,
                            dtype, device)
            self.register_parameter(f"b_l{l}", nn.Parameter(torch.zeros(H, dtype=dtype,
                                                                        device=device)))
        self._parameter("W_out", (H, V), H, dtype=dtype, device=device)
        self.b_out = nn.Parameter(torch.zeros(V, dtype=dtype, device=device))
        if self.num_classes is not None:
            self._parameter("W_label", (self.num_classes, H), H, dtype=dtype, device=device)

    def extra_repr(self):
        return (f"levels={self.levels}, hidden_size={self.hidden_size}, "
                f"kernel_size={self.kernel_size}, num_layers={self.num_layers}, "
                f"num_classes={self.num_classes}")

    def _logits(self, e, labels):
        h = e.permute(0, 3, 1, 2)
        for l in range(self.num_layers):
            a = _conv(h, getattr(self, f"W_l{l}"), self.mask_A if l == 0 else self.mask_B,
                      getattr(self, f"b_l{l}"))
            if l == 0 and labels is not None:
                a = a + self.W_label[labels][:, :, None, None]
            h = torch.relu(a)
        return h.permute(0, 2, 3, 1) @ self.W_out + self.b_out

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """The PixelCNN holding the NumPy parameters of ``init_pixel_cnn_params`` (copied)."""
        device = check_device("device", device)
        params, num_layers = np_pixel.check_pixel_cnn_params(params)
        H, V = params["W_out"].shape
        k = params["W_l0"].shape[0]
        num_classes = params["W_label"].shape[0] if "W_label" in params else None
        model = cls(V, H, k, num_layers, num_classes, dtype=dtype, device=device)
        shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
        return copy_numpy_params(model, params, shapes)

    def to_numpy(self):
        """The parameters as a dict of float64 NumPy arrays, keyed as in the NumPy half."""
        return {name: p.detach().cpu().double().numpy() for name, p in self.named_parameters()}


class RowLSTM(_PixelModel):
    """One layer of the PixelRNN's Row LSTM in miniature, equations (10.4)–(10.5).

    The LSTM runs down the image, one row per step, all n pixels of a row at once; its states
    h_r, c_r are (B, n, H), one per pixel of row r. With gates in the order i, f, g, o of
    chapter 6::

        a_r = K_x ⊛ x_r  +  K_h ⊛ h_{r−1}  + b          (B, n, 4H), 1-D convolutions along the row
        c_r = σ(a_f) ⊙ c_{r−1} + σ(a_i) ⊙ tanh(a_g),   h_r = σ(a_o) ⊙ tanh(c_r)
        z_r = h_r W_out + b_out

    ``W_x`` (k, V, 4H) is the input-to-state kernel K_x, masked (mask A along the row: only the
    pixels left of the centre), so that the state of pixel (r, s) never sees x_{r,s} or what
    follows it; ``W_h`` (k, H, 4H) is the state-to-state kernel K_h over the row above, unmasked.
    The input-to-state part is computed for the whole image at once; only the state-to-state part
    is sequential, n steps. With ``num_classes``, ``W_label`` (num_classes, 4H) is added to a_r.
    Weights ~ U(±1/√H), biases 0.
    """

    def __init__(self, levels, hidden_size=32, kernel_size=3, num_classes=None, dtype=None,
                 device=None):
        device = check_device("device", device)
        super().__init__()
        self._setup(levels, hidden_size, kernel_size, num_classes)
        V, H, k = self.levels, self.hidden_size, self.kernel_size
        row_mask = torch.zeros(k, dtype=dtype, device=device)
        row_mask[:k // 2] = 1.0     # mask A along the row: the pixels left of the centre
        self.register_buffer("mask_row", row_mask)
        self._parameter("W_x", (k, V, 4 * H), H, "mask_row", dtype, device)
        self._parameter("W_h", (k, H, 4 * H), H, dtype=dtype, device=device)
        self.b = nn.Parameter(torch.zeros(4 * H, dtype=dtype, device=device))
        self._parameter("W_out", (H, V), H, dtype=dtype, device=device)
        self.b_out = nn.Parameter(torch.zeros(V, dtype=dtype, device=device))
        if self.num_classes is not None:
            self._parameter("W_label", (self.num_classes, 4 * H), H, dtype=dtype, device=device)

    def extra_repr(self):
        return (f"levels={self.levels}, hidden_size={self.hidden_size}, "
                f"kernel_size={self.kernel_size}, num_classes={self.num_classes}")

    def _logits(self, e, labels):
        B, n, _, V = e.shape
        H, k = self.hidden_size, self.kernel_size
        # input-to-state for every row at once: rows become a batch of 1-D signals (B n, V, n)
        rows = e.reshape(B * n, n, V).transpose(1, 2)
        K_x = (self.W_x * self.mask_row[:, None, None]).permute(2, 1, 0)       # (4H, V, k)
        a_x = F.conv1d(rows, K_x, self.b, padding=k // 2).reshape(B, n, 4 * H, n)
        if labels is not None:
            a_x = a_x + self.W_label[labels][:, None, :, None]
        K_h = self.W_h.permute(2, 1, 0)                                          # (4H, H, k)
        h = c = e.new_zeros(B, H, n)
        states = []
        for r in range(n):                      # the recurrence: one row per step
            a = a_x[:, r] + F.conv1d(h, K_h, padding=k // 2)
            i, f, g, o = a.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            states.append(h)
        h = torch.stack(states, dim=1).transpose(2, 3)                           # (B, n, n, H)
        return h @ self.W_out + self.b_out


class GatedPixelCNN(_PixelModel):
    """The gated PixelCNN's two stacks in miniature, equations (10.8)–(10.9) (van den Oord et
    al. 2016, *Conditional image generation with PixelCNN decoders*).

    Layer l has a *vertical* stack v, which sees the rows above: its k × k kernel ``W_v_l{l}``
    (k, k, D, 2H) keeps the rows above the centre in the first layer (buffer ``mask_v0``) and the
    centre row too after (``mask_v``), so v never sees a pixel of its own row. The *horizontal*
    stack h sees the pixel's own row: its 1-D kernel ``W_h_l{l}`` (k, D, 2H) along the row keeps
    the taps left of the centre in the first layer (``mask_h0``, mask A) and the centre too after
    (``mask_h``, mask B), and it receives the vertical stack's pre-activation through a 1 × 1
    connection ``W_vh_l{l}`` (2H, 2H); nothing flows from h to v. Both use the gated activation
    tanh(a_f) ⊙ σ(a_g) on 2H pre-activations::

        a^v = K^v_l ⊛ v_l + b^v_l,                 v_{l+1} = tanh(a^v_f) ⊙ σ(a^v_g)
        a^h = K^h_l ⊛ h_l + a^v W^vh_l + b^h_l
        h_{l+1} = h_l + (tanh(a^h_f) ⊙ σ(a^h_g)) W^res_l + b^res_l

    (no residual term in the first layer, whose input is the one-hot image, v_0 = h_0); the
    logits are z = h_M W_out + b_out. With ``num_classes``, ``W_label_l{l}`` (num_classes, 2H) is
    added to both stacks' pre-activations of layer l. Weights ~ U(±1/√fan-in), biases 0.
    """

    def __init__(self, levels, hidden_size=32, kernel_size=3, num_layers=4, num_classes=None,
                 dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self._setup(levels, hidden_size, kernel_size, num_classes)
        self.num_layers = check_positive_int("num_layers", num_layers)
        V, H, k = self.levels, self.hidden_size, self.kernel_size
        kappa = k // 2
        masks = {"mask_v0": torch.zeros(k, k, dtype=dtype, device=device),
                 "mask_v": torch.zeros(k, k, dtype=dtype, device=device),
                 "mask_h0": torch.zeros(k, dtype=dtype, device=device),
                 "mask_h": torch.zeros(k, dtype=dtype, device=device)}
        masks["mask_v0"][:kappa] = 1.0            # the rows above the centre
        masks["mask_v"][:kappa + 1] = 1.0         # ... and the centre row
        masks["mask_h0"][:kappa] = 1.0            # left of the centre in its row (mask A)
        masks["mask_h"][:kappa + 1] = 1.0         # ... and the centre (mask B)
        for name, mask in masks.items():
            self.register_buffer(name, mask)
        for l in range(self.num_layers):
            D = V if l == 0 else H
            v, hz = ("mask_v0", "mask_h0") if l == 0 else ("mask_v", "mask_h")
            self._parameter(f"W_v_l{l}", (k, k, D, 2 * H), D * float(getattr(self, v).sum()), v,
                            dtype, device)
            self._parameter(f"W_h_l{l}", (k, D, 2 * H), D * float(getattr(self, hz).sum()), hz,
                            dtype, device)
            self._parameter(f"W_vh_l{l}", (2 * H, 2 * H), 2 * H, dtype=dtype, device=device)
            self._parameter(f"W_res_l{l}", (H, H), H, dtype=dtype, device=device)
            for name, size in ((f"b_v_l{l}", 2 * H), (f"b_h_l{l}", 2 * H), (f"b_res_l{l}", H)):
                self.register_parameter(name, nn.Parameter(torch.zeros(size, dtype=dtype,
                                                                       device=device)))
            if self.num_classes is not None:
                self._parameter(f"W_label_l{l}", (self.num_classes, 2 * H), H, dtype=dtype,
                                device=device)
        self._parameter("W_out", (H, V), H, dtype=dtype, device=device)
        self.b_out = nn.Parameter(torch.zeros(V, dtype=dtype, device=device))

    def extra_repr(self):
        return (f"levels={self.levels}, hidden_size={self.hidden_size}, "
                f"kernel_size={self.kernel_size}, num_layers={self.num_layers}, "
                f"num_classes={self.num_classes}")

    @staticmethod
    def _gate(a):
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    def _logits(self, e, labels):
        v = h = e.permute(0, 3, 1, 2)
        for l in range(self.num_layers):
            first = l == 0
            a_v = _conv(v, getattr(self, f"W_v_l{l}"), self.mask_v0 if first else self.mask_v,
                        getattr(self, f"b_v_l{l}"))
            a_h = _conv_row(h, getattr(self, f"W_h_l{l}"), self.mask_h0 if first else self.mask_h,
                            getattr(self, f"b_h_l{l}"))
            a_h = a_h + _pointwise(a_v, getattr(self, f"W_vh_l{l}"))
            if labels is not None:
                extra = getattr(self, f"W_label_l{l}")[labels][:, :, None, None]
                a_v, a_h = a_v + extra, a_h + extra
            v = self._gate(a_v)
            out = _pointwise(self._gate(a_h), getattr(self, f"W_res_l{l}"),
                             getattr(self, f"b_res_l{l}"))
            h = out if first else h + out
        return h.permute(0, 2, 3, 1) @ self.W_out + self.b_out


_MODELS = (PixelCNN, RowLSTM, GatedPixelCNN)


def _check_pixel_model(model):
    check_module("model", model)
    if not isinstance(model, _MODELS):
        raise TypeError(f"model: expected one of {', '.join(m.__name__ for m in _MODELS)}, got "
                        f"{type(model).__name__}")
    return model


def _generator(generator, device="cpu"):
    if generator is None:
        return torch.Generator(device=device).manual_seed(
            int(torch.randint(0, 2**31 - 1, ()).item()))
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool) \
            and generator >= 0:
        return torch.Generator(device=device).manual_seed(int(generator))
    raise TypeError(f"generator: expected None, a non-negative int seed or a torch.Generator, "
                    f"got {describe(generator)}")


def _labels_tensor(model, labels, n, device):
    if labels is None:
        return None
    return model._labels(labels, n, device)


def train_pixel_model(model, images, labels=None, steps=500, batch_size=64, lr=3e-3, clip=1.0,
                      seconds=None, generator=None, progress=False):
    """Train a pixel model by minimising the mean negative log-likelihood of ``images``
    (N, n, n) (nats per pixel, the chain rule (10.1) with every factor computed in one forward
    pass) over random minibatches of ``batch_size`` images, with Adam
    (``seqlearn.torch.train.fit``).

    ``labels`` (N,) are the class labels of a class-conditional model; ``generator`` (None, an
    int seed or a ``torch.Generator``) draws the minibatches. Returns ``fit``'s record (``losses``
    in nats per pixel, ``steps``, ``seconds``).
    """
    _check_pixel_model(model)
    weight = next(model.parameters())
    images = check_images("images", images, levels=model.levels).to(weight.device)
    N = len(images)
    labels = None if labels is None else model._labels(labels, N, weight.device)
    if labels is None and model.num_classes is not None:
        model._labels(None, N, weight.device)       # raises: the model needs labels
    batch_size = check_positive_int("batch_size", batch_size)
    gen = _generator(generator)

    def batches(step):
        index = torch.randint(0, N, (batch_size,), generator=gen).to(weight.device)
        return images[index], (None if labels is None else labels[index])

    def loss_fn(model, batch):
        x, y = batch
        z = model(x, y)
        return F.cross_entropy(z.reshape(-1, model.levels), x.reshape(-1))

    return fit(model, loss_fn, batches, steps=steps, lr=lr, clip=clip, seconds=seconds,
               progress=progress, desc=type(model).__name__)


@torch.no_grad()
def model_bits_per_dim(model, images, labels=None, batch_size=512):
    """The model's negative log-likelihood of ``images`` (N, n, n) in bits per pixel, equation
    (10.2), the mean over all N n² pixels (computed in batches of ``batch_size``). A float."""
    _check_pixel_model(model)
    weight = next(model.parameters())
    images = check_images("images", images, levels=model.levels).to(weight.device)
    batch_size = check_positive_int("batch_size", batch_size)
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size]
        y = None if labels is None else torch.as_tensor(labels)[start:start + batch_size]
        total += float(bits_per_dim(model(x, y), x)) * x.numel()
    model.train(was_training)
    return total / images.numel()


@torch.no_grad()
def sample_images(model, n, size=8, labels=None, canvas=None, start=0, temperature=1.0,
                  generator=None):
    """Draw ``n`` images of ``size`` × ``size`` pixels from a pixel model, one pixel at a time in
    raster order: for i = ``start`` … size² − 1, one forward pass of the whole canvas, then
    x_i ~ softmax(z_i / temperature). Generation takes size² − start sequential passes, however
    parallel the model is in training.

    ``canvas`` (n, size, size) holds given pixels (those before ``start`` are kept: a completion);
    ``labels`` (n,) for a class-conditional model; ``generator``: None, an int seed or a
    ``torch.Generator`` on the model's device. Returns (n, size, size) int64 on the CPU.
    """
    _check_pixel_model(model)
    weight = next(model.parameters())
    n, size = check_positive_int("n", n), check_positive_int("size", size)
    temperature = check_positive_number("temperature", temperature)
    if canvas is None:
        x = torch.zeros(n, size, size, dtype=torch.long, device=weight.device)
    else:
        x = check_images("canvas", canvas, levels=model.levels).clone().to(weight.device)
        if tuple(x.shape) != (n, size, size):
            raise ValueError(f"canvas: expected shape ({n}, {size}, {size}), got "
                             f"{tuple(x.shape)}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) \
            or not 0 <= start < size * size:
        raise ValueError(f"start: expected a pixel index in 0..{size * size - 1}, got {start!r}")
    labels = _labels_tensor(model, labels, n, weight.device)
    gen = _generator(generator, weight.device)
    was_training = model.training
    model.eval()
    for i in range(int(start), size * size):
        r, s = divmod(i, size)
        probs = torch.softmax(model(x, labels)[:, r, s] / temperature, dim=-1)
        x[:, r, s] = torch.multinomial(probs, 1, generator=gen)[:, 0]
    model.train(was_training)
    return x.cpu()


def dependency_map(model, size, position, labels=None, probes=8, generator=None):
    """The input pixels that the logits at ``position`` = (r, s) depend on, measured by autograd:
    a bool map (size, size), True where the gradient of a random projection of z[:, r, s] with
    respect to the one-hot inputs of ``probes`` random images is not zero. For a correct model
    it is inside the raster context of (r, s) (``seqlearn.numpy.pixel.raster_context``).
    """
    _check_pixel_model(model)
    weight = next(model.parameters())
    size = check_positive_int("size", size)
    probes = check_positive_int("probes", probes)
    try:
        r, s = (int(v) for v in position)
    except (TypeError, ValueError):
        raise ValueError(f"position: expected a pixel (row, column), got {position!r}") from None
    if not (0 <= r < size and 0 <= s < size):
        raise ValueError(f"position: expected row and column in 0..{size - 1}, got {position!r}")
    gen = _generator(generator)
    x = torch.randint(0, model.levels, (probes, size, size), generator=gen)
    e = F.one_hot(x, model.levels).to(dtype=weight.dtype, device=weight.device).requires_grad_()
    if model.num_classes is not None and labels is None:
        labels = torch.randint(0, model.num_classes, (probes,), generator=gen)
    labels = _labels_tensor(model, labels, probes, weight.device)
    projection = torch.randn(probes, model.levels, generator=gen).to(weight)
    z = model.forward_onehot(e, labels)
    (grad,) = torch.autograd.grad((z[:, r, s] * projection).sum(), e)
    return (grad.abs().sum(dim=(0, 3)) > 0).cpu().numpy()


__all__ = [
    "MASK_TYPES", "GatedPixelCNN", "MaskedConv2d", "PixelCNN", "RowLSTM", "bits_per_dim",
    "check_images", "check_kernel_size", "conv_mask", "dependency_map", "model_bits_per_dim",
    "sample_images", "skew", "train_pixel_model", "unskew",
]
