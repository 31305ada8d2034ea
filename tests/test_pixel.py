"""Chapter 10, images as sequences: the NumPy masked convolution and PixelCNN (gradient checks
against finite differences and autograd), the torch models (parity with the NumPy reference,
with torch's conv2d holding the masked weights, causality measured by autograd), the receptive
field, sampling in raster order, the baseline and bits/dim, the data, bad input, determinism,
and the chapter's checks (a right, a wrong and an unattempted answer each)."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import seqlearn
from seqlearn.checks import pixel as checks
from seqlearn.checks.core import CHECKS, EXERCISES
from seqlearn.data.pixel_digits import IMAGE_SIZE, load_pixel_digits, quantize
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy import pixel as npx
from seqlearn.torch import pixel as tpx

from conftest import close

pytestmark = pytest.mark.usefixtures("one_thread")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
MODELS = {
    "PixelCNN": lambda V, **k: tpx.PixelCNN(V, 6, 3, 3, **k),
    "RowLSTM": lambda V, **k: tpx.RowLSTM(V, 5, 3, **k),
    "GatedPixelCNN": lambda V, **k: tpx.GatedPixelCNN(V, 4, 3, 3, **k),
}


# -- masks and the masked convolution (NumPy) -----------------------------------------------------

@pytest.mark.parametrize("k", [1, 3, 5, 7])
def test_masks_keep_exactly_the_taps_before_the_centre(k):
    kappa = k // 2
    for mask_type in ("A", "B"):
        mask = npx.conv_mask(k, mask_type)
        for p in range(k):
            for q in range(k):
                before = p < kappa or (p == kappa and q < kappa)
                centre = (p, q) == (kappa, kappa)
                assert mask[p, q] == float(before or (centre and mask_type == "B"))
    assert npx.conv_mask(k, "B").sum() == npx.conv_mask(k, "A").sum() + 1 == (k * k + 1) // 2


@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_masked_conv2d_backward_matches_finite_differences(rng, mask_type, k):
    params = npx.init_masked_conv2d_params(3, 4, k, mask_type, rng)
    params["W"] = rng.normal(size=params["W"].shape)          # the masked taps too
    params["b"] = rng.normal(size=4)
    x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(2, 5, 5, 4))

    def loss():
        return float((npx.masked_conv2d_forward(x, params, mask_type)[0] * w).sum())

    a, cache = npx.masked_conv2d_forward(x, params, mask_type)
    grads, dx = npx.masked_conv2d_backward(w, cache)
    for name in ("W", "b"):
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    # the taps outside the mask neither act nor receive a gradient
    outside = npx.conv_mask(k, mask_type) == 0
    assert np.all(grads["W"][outside] == 0)


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv2d_matches_torch_autograd_and_conv2d(rng, mask_type):
    params = npx.init_masked_conv2d_params(3, 4, 5, mask_type, rng)
    params["b"] = rng.normal(size=4)
    x, w = rng.normal(size=(2, 6, 6, 3)), rng.normal(size=(2, 6, 6, 4))
    a, cache = npx.masked_conv2d_forward(x, params, mask_type)
    grads, dx = npx.masked_conv2d_backward(w, cache)
    layer = tpx.MaskedConv2d.from_numpy(params, mask_type)
    xt = torch.tensor(x, requires_grad=True)
    out = layer(xt)
    assert np.abs(out.detach().numpy() - a).max() < 1e-10
    (out * torch.from_numpy(w)).sum().backward()
    assert relative_error(layer.W.grad.numpy(), grads["W"]) < 1e-10
    assert relative_error(layer.b.grad.numpy(), grads["b"]) < 1e-10
    assert relative_error(xt.grad.numpy(), dx) < 1e-10
    # torch's own conv2d with the mask applied to the weights, in NCHW
    mask = torch.from_numpy(npx.conv_mask(5, mask_type))
    weight = (torch.from_numpy(params["W"]) * mask[:, :, None, None]).permute(3, 2, 0, 1)
    direct = F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), weight,
                      torch.from_numpy(params["b"]), padding=2).permute(0, 2, 3, 1)
    assert np.abs(direct.numpy() - a).max() < 1e-10


def test_masked_conv2d_float32_matches_nn_conv2d_and_round_trips():
    torch.manual_seed(0)
    layer = tpx.MaskedConv2d(3, 5, 3, "A")
    with torch.no_grad():
        layer.b.normal_()
    builtin = layer.to_torch_builtin()
    x = torch.randn(4, 7, 7, 3)
    ours = layer(x)
    theirs = builtin(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    assert close(ours, theirs, 1e-5)
    back = tpx.MaskedConv2d.from_torch_builtin(builtin, "A")
    assert torch.equal(back(x), ours)
    with torch.no_grad():        # a built-in that filled the masked taps: they are dropped
        builtin.weight.normal_()
    assert torch.all(tpx.MaskedConv2d.from_torch_builtin(builtin, "A").W[1, 1:] == 0)


# -- the PixelCNN (NumPy reference and torch) -------------------------------------------------------

@pytest.mark.parametrize("conditional", [False, True])
def test_pixel_cnn_backward_matches_finite_differences_and_autograd(rng, conditional):
    params = npx.init_pixel_cnn_params(3, 4, 3, 3, num_classes=5 if conditional else None,
                                       rng=rng)
    params = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in params.items()}
    x = rng.integers(0, 3, size=(2, 5, 5))
    labels = np.array([4, 1]) if conditional else None
    loss, grads = npx.pixel_cnn_loss(x, params, labels)
    assert set(grads) == set(params)
    for name in params:
        fd = numerical_gradient(lambda: npx.pixel_cnn_loss(x, params, labels)[0], params[name])
        assert relative_error(grads[name], fd) < 1e-6, name
    model = tpx.PixelCNN.from_numpy(params)
    z = model(torch.from_numpy(x), None if labels is None else torch.from_numpy(labels))
    F.cross_entropy(z.reshape(-1, 3), torch.from_numpy(x).reshape(-1)).backward()
    for name, p in model.named_parameters():
        assert relative_error(p.grad.numpy(), grads[name]) < 1e-10, name


def test_pixel_cnn_numpy_torch_parity_and_round_trip(rng):
    params = npx.init_pixel_cnn_params(4, 6, 5, 4, num_classes=3, rng=rng)
    x, labels = rng.integers(0, 4, size=(3, 6, 6)), np.array([0, 2, 1])
    z, _ = npx.pixel_cnn_forward(x, params, labels)
    model = tpx.PixelCNN.from_numpy(params)
    assert model.num_layers == 4 and model.kernel_size == 5 and model.num_classes == 3
    zt = model(torch.from_numpy(x), torch.from_numpy(labels)).detach().numpy()
    assert np.abs(zt - z).max() < 1e-10
    back = model.to_numpy()
    assert set(back) == set(params)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_bits_per_dim_agree_and_match_a_uniform_model(rng):
    logits = rng.normal(size=(3, 5, 5, 4)) * 3
    x = rng.integers(0, 4, size=(3, 5, 5))
    ours = npx.bits_per_dim(logits, x)
    assert abs(float(tpx.bits_per_dim(torch.from_numpy(logits), torch.from_numpy(x))) - ours) < 1e-12
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    manual = -np.mean(np.log2(np.take_along_axis(probs, x[..., None], -1)))
    assert abs(ours - manual) < 1e-12
    assert npx.bits_per_dim(np.zeros((5, 5, 4)), x) == pytest.approx(2.0)   # log2 V
    # the logits of one image serve every image
    assert npx.bits_per_dim(logits[0], x[:1]) == pytest.approx(npx.bits_per_dim(logits[:1], x[:1]))


def test_independent_pixel_baseline_is_the_smoothed_frequency():
    images = np.array([[[0, 1], [1, 1]], [[0, 0], [1, 1]], [[0, 1], [0, 1]]])
    logp = npx.independent_pixel_logits(images, 2, alpha=1.0)
    assert logp.shape == (2, 2, 2)
    assert np.allclose(np.exp(logp).sum(-1), 1.0)
    assert np.exp(logp[0, 0, 0]) == pytest.approx((3 + 1) / (3 + 2))
    assert np.exp(logp[0, 1, 1]) == pytest.approx((2 + 1) / (3 + 2))
    train, _ = load_pixel_digits(2, "train")
    test, _ = load_pixel_digits(2, "test")
    bits = npx.bits_per_dim(npx.independent_pixel_logits(train, 2), test)
    assert 0.3 < bits < 1.0                  # well below a uniform model's 1 bit


# -- causality, receptive field, sampling ------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("levels", [2, 4])
def test_outputs_never_depend_on_their_own_or_later_pixels(name, levels):
    torch.manual_seed(1)
    model = MODELS[name](levels, dtype=torch.float64)
    n = 6
    for r, s in [(0, 0), (2, 3), (5, 5), (3, 0), (4, 5)]:
        seen = tpx.dependency_map(model, n, (r, s), generator=r * n + s)
        context = npx.raster_context(n, (r, s))
        assert not np.any(seen & ~context), (name, r, s)
    # and directly: changing pixel i and everything after it leaves the logits of i unchanged
    x = torch.randint(0, levels, (4, n, n))
    z = model(x)
    for i in (0, 7, 20, 35):
        r, s = divmod(i, n)
        changed = x.clone().reshape(4, -1)
        changed[:, i:] = torch.randint(0, levels, changed[:, i:].shape)
        z2 = model(changed.reshape(4, n, n))
        assert torch.equal(z[:, r, s], z2[:, r, s]), (name, i)


@pytest.mark.parametrize("k, layers", [(3, 1), (3, 4), (5, 2), (3, 6)])
def test_receptive_field_matches_autograd_and_has_a_blind_spot(k, layers):
    torch.manual_seed(0)
    model = tpx.PixelCNN(2, 6, k, layers, dtype=torch.float64)
    for position in [(4, 4), (0, 0), (7, 7), (2, 6), (5, 1)]:
        analytic = npx.receptive_field(8, k, layers, position)
        measured = tpx.dependency_map(model, 8, position, probes=12, generator=1)
        assert np.array_equal(analytic, measured), (k, layers, position)
    context = npx.raster_context(8, (4, 4))
    blind = context & ~npx.receptive_field(8, 3, 4, (4, 4))
    assert blind.sum() == 3 and blind[3, 7] and blind[3, 6] and blind[2, 7]


def test_gated_pixel_cnn_has_no_blind_spot_where_the_pixel_cnn_has_one():
    torch.manual_seed(0)
    gated = tpx.GatedPixelCNN(2, 4, 3, 4, dtype=torch.float64)
    plain = tpx.PixelCNN(2, 4, 3, 4, dtype=torch.float64)
    context = npx.raster_context(8, (4, 4))
    assert np.array_equal(tpx.dependency_map(gated, 8, (4, 4)), context)
    assert (context & ~tpx.dependency_map(plain, 8, (4, 4))).sum() == 3


class _Spy(nn.Module):
    """Wraps a pixel model and records, at each call, how many pixels of the canvas are set."""

    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, []

    def forward(self, x, labels=None):
        self.calls.append(x.clone())
        return self.model(x, labels)


def test_sampling_fills_pixels_in_raster_order_one_pass_each(monkeypatch):
    torch.manual_seed(0)
    model = tpx.PixelCNN(3, 6, 3, 3)
    seen = []
    original = tpx.PixelCNN.forward

    def spying(self, x, labels=None):
        seen.append(x.clone())
        return original(self, x, labels)

    monkeypatch.setattr(tpx.PixelCNN, "forward", spying)
    canvas = torch.randint(0, 3, (5, 4, 4))
    out = tpx.sample_images(model, 5, size=4, canvas=canvas, start=6, generator=0)
    assert len(seen) == 16 - 6                              # one forward pass per drawn pixel
    flat_canvas, flat_out = canvas.reshape(5, -1), out.reshape(5, -1)
    assert torch.equal(flat_out[:, :6], flat_canvas[:, :6])  # the given pixels are kept
    for step, x in enumerate(seen):                          # pass i sees pixels < i drawn
        i = 6 + step
        assert torch.equal(x.reshape(5, -1)[:, :i], flat_out[:, :i])
    assert out.min() >= 0 and out.max() < 3 and out.dtype == torch.long


def test_class_conditional_models_use_the_labels():
    torch.manual_seed(0)
    for name, make in MODELS.items():
        model = make(2, num_classes=10, dtype=torch.float64)
        x = torch.randint(0, 2, (2, 5, 5))
        a = model(x, torch.tensor([0, 0]))
        b = model(x, torch.tensor([3, 0]))
        assert not torch.allclose(a[0], b[0]) and torch.equal(a[1], b[1]), name
        drawn = tpx.sample_images(model, 3, size=5, labels=torch.tensor([1, 2, 3]), generator=0)
        assert drawn.shape == (3, 5, 5)


def test_training_lowers_the_loss_and_beats_the_baseline_quickly():
    train, labels = load_pixel_digits(2, "train")
    test, _ = load_pixel_digits(2, "test")
    torch.manual_seed(0)
    model = tpx.PixelCNN(2, 8, 3, 4)
    record = tpx.train_pixel_model(model, train, steps=120, batch_size=32, lr=1e-2, generator=0)
    assert np.mean(record["losses"][-10:]) < np.mean(record["losses"][:10])
    baseline = npx.bits_per_dim(npx.independent_pixel_logits(train, 2), test)
    assert tpx.model_bits_per_dim(model, test) < baseline


# -- skew -----------------------------------------------------------------------------------------------

def test_skew_lines_up_the_diagonals_and_unskew_inverts_it(rng):
    x = rng.normal(size=(2, 5, 5, 3))
    y = npx.skew(x)
    assert y.shape == (2, 5, 9, 3)
    for r in range(5):
        for s in range(5):
            assert np.array_equal(y[:, r, r + s], x[:, r, s])
    assert np.array_equal(npx.unskew(y), x)
    assert np.count_nonzero(np.abs(y).sum(axis=(0, 3))) == 25
    yt = tpx.skew(torch.from_numpy(x))
    assert torch.equal(yt, torch.from_numpy(y)) and torch.equal(tpx.unskew(yt), torch.from_numpy(x))


# -- data --------------------------------------------------------------------------------------------

def test_pixel_digits_are_quantised_and_split():
    for V in (2, 4):
        train, y_train = load_pixel_digits(V, "train")
        test, y_test = load_pixel_digits(V, "test")
        assert train.shape == (1347, IMAGE_SIZE, IMAGE_SIZE) and test.shape == (450, 8, 8)
        assert train.dtype == np.int64 and set(np.unique(train)) == set(range(V))
        assert y_train.shape == (1347,) and set(np.unique(y_test)) == set(range(10))
    assert np.array_equal(quantize(np.array([0.0, 0.49, 0.5, 1.0]), 2), [0, 0, 1, 1])
    assert np.array_equal(quantize(np.array([0.0, 0.25, 0.74, 0.75, 1.0]), 4), [0, 1, 2, 3, 3])


# -- bad input -----------------------------------------------------------------------------------------

def test_bad_input_is_refused_naming_the_argument(rng):
    params = npx.init_pixel_cnn_params(2, 4, 3, 2, rng=rng)
    with pytest.raises(ValueError, match="x: expected square images"):
        npx.pixel_cnn_forward(np.zeros((2, 4, 5), dtype=int), params)
    with pytest.raises(ValueError, match="x: expected levels 0..1"):
        npx.pixel_cnn_forward(np.full((2, 4, 4), 3), params)
    with pytest.raises(TypeError, match="x: expected integer pixel levels"):
        npx.pixel_cnn_forward(np.zeros((2, 4, 4)), params)
    with pytest.raises(ValueError, match="kernel_size: expected an odd positive integer"):
        npx.conv_mask(4, "A")
    with pytest.raises(ValueError, match="kernel_size"):
        tpx.PixelCNN(2, 4, kernel_size=2)
    with pytest.raises(ValueError, match="mask_type"):
        npx.conv_mask(3, "C")
    with pytest.raises(ValueError, match="levels: expected at least 2"):
        tpx.RowLSTM(1, 4)
    with pytest.raises(ValueError, match="x: expected square feature maps"):
        npx.masked_conv2d_forward(np.zeros((1, 3, 4, 2)), {"W": np.zeros((3, 3, 2, 2)),
                                                           "b": np.zeros(2)}, "A")
    model = tpx.GatedPixelCNN(4, 4, 3, 2)
    with pytest.raises(ValueError, match="x: expected square images"):
        model(torch.zeros(1, 5, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="x: expected levels 0..3"):
        model(torch.full((1, 5, 5), 4))
    with pytest.raises(TypeError, match="x: expected integer pixel levels"):
        model(torch.zeros(1, 5, 5))
    with pytest.raises(ValueError, match="labels: this model is not class-conditional"):
        model(torch.zeros(1, 5, 5, dtype=torch.long), torch.tensor([1]))
    with pytest.raises(ValueError, match="labels: this model is class-conditional"):
        tpx.PixelCNN(2, 4, num_classes=10)(torch.zeros(1, 5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="canvas: expected levels"):
        tpx.sample_images(model, 1, size=5, canvas=torch.full((1, 5, 5), 7))
    with pytest.raises(ValueError, match="levels: expected at least 2"):
        load_pixel_digits(1)
    with pytest.raises(ValueError, match="subset"):
        load_pixel_digits(2, "validation")
    with pytest.raises(ValueError, match="y: expected a skewed map"):
        npx.unskew(np.zeros((1, 3, 4, 1)))
    with pytest.raises(ValueError, match="position"):
        npx.receptive_field(8, 3, 2, (8, 0))


# -- determinism and devices --------------------------------------------------------------------------

def test_seeded_runs_repeat_exactly():
    train, _ = load_pixel_digits(2, "train")
    outcomes = []
    for _ in range(2):
        seqlearn.seed(3)
        model = tpx.RowLSTM(2, 4, 3)
        record = tpx.train_pixel_model(model, train[:200], steps=5, batch_size=16)
        outcomes.append((record["losses"], tpx.sample_images(model, 2, size=8)))
    assert outcomes[0][0] == outcomes[1][0]
    assert torch.equal(outcomes[0][1], outcomes[1][1])
    seqlearn.seed(3)
    first = npx.init_pixel_cnn_params(2, 3)
    seqlearn.seed(3)
    assert all(np.array_equal(first[k], v) for k, v in npx.init_pixel_cnn_params(2, 3).items())


@CUDA
def test_models_run_on_cuda_like_on_the_cpu():
    torch.manual_seed(0)
    for name, make in MODELS.items():
        model = make(2, dtype=torch.float64)
        x = torch.randint(0, 2, (3, 6, 6))
        gpu = model.to("cuda")(x.cuda()).cpu()
        cpu = model.cpu()(x)
        assert torch.allclose(gpu, cpu, atol=1e-10), name
        assert tpx.sample_images(model.cuda(), 2, size=6, generator=0).shape == (2, 6, 6)


# -- the chapter's checks -------------------------------------------------------------------------------

KINDS = {"10-conv-masks": ("implement", 10), "10-bits-per-dim": ("implement", 5),
         "10-depth": ("experiment", 2), "10-causal-order": ("concept", 6),
         "10-skew": ("implement", 5), "10-greedy-completion": ("implement", 4),
         "10-row-kernel": ("experiment", 2), "10-generation": ("concept", 6)}


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_exercises_are_registered_with_kind_points_and_summary():
    for exercise_id, (kind, points) in KINDS.items():
        assert exercise_id in CHECKS
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary


def _masks(kernel_size):
    k = kernel_size // 2
    a = np.zeros((kernel_size, kernel_size))
    a[:k] = 1.0
    a[k, :k] = 1.0
    b = a.copy()
    b[k, k] = 1.0
    return a, b


def _bits(logits, x):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, x[..., None], -1).mean() / math.log(2))


def _skew(x):
    B, n, _, D = x.shape
    out = np.zeros((B, n, 2 * n - 1, D))
    for r in range(n):
        out[:, r, r:r + n] = x[:, r]
    return out


def _skew_left(x):
    B, n, _, D = x.shape
    out = np.zeros((B, n, 2 * n - 1, D))
    for r in range(n):
        out[:, r, n - 1 - r:2 * n - 1 - r] = x[:, r]
    return out


def _logits(x, W, b):
    B, n, _ = x.shape
    V = len(b) // (n * n)
    return (np.eye(V)[x].reshape(B, -1) @ W + b).reshape(B, n, n, V)


def _complete(canvas, start, W, b):
    x = canvas.copy()
    n = x.shape[1]
    for i in range(start, n * n):
        r, s = divmod(i, n)
        x[:, r, s] = _logits(x, W, b)[:, r, s].argmax(axis=-1)
    return x


def _complete_in_one_pass(canvas, start, W, b):
    x = canvas.copy()
    z = _logits(x, W, b)
    flat = x.reshape(len(x), -1)
    flat[:, start:] = z.reshape(len(x), -1, z.shape[-1])[:, start:].argmax(-1)
    return x


def _complete_in_place(canvas, start, W, b):
    n = canvas.shape[1]
    for i in range(start, n * n):
        r, s = divmod(i, n)
        canvas[:, r, s] = _logits(canvas, W, b)[:, r, s].argmax(axis=-1)
    return canvas


IMPLEMENT = [
    (checks.check_conv_masks, _masks, lambda kernel_size: _masks(kernel_size)[::-1],
     "masks A and B are swapped"),
    (checks.check_bits_per_dim, _bits, lambda logits, x: _bits(logits, x) * math.log(2),
     "this is nats per pixel"),
    (checks.check_skew, _skew, _skew_left, "shifted to the left"),
    (checks.check_greedy_completion, _complete, _complete_in_one_pass,
     "filled from one forward pass"),
]


@pytest.mark.parametrize("check, right, wrong, message", IMPLEMENT)
def test_implement_checks_score_right_wrong_and_unattempted(check, right, wrong, message,
                                                            capsys):
    report = check(right)
    assert report.passed and report.score == EXERCISES[report.exercise_id].points
    report = check(wrong)
    assert not report.passed and report.score < report.max_score
    assert message in capsys.readouterr().out
    report = check(_stub)
    assert report.score == 0 and not report.attempted


def test_the_completion_check_refuses_a_changed_canvas():
    report = checks.check_greedy_completion(_complete_in_place)
    # a case whose completion happens to leave the canvas as it was is not a change
    assert report.score < report.max_score and "in place" in str(report)


def test_the_bits_check_refuses_a_library_cross_entropy():
    def library(logits, x):
        return float(F.cross_entropy(torch.from_numpy(logits).reshape(-1, logits.shape[-1]),
                                     torch.from_numpy(x).reshape(-1))) / math.log(2)
    report = checks.check_bits_per_dim(library)
    assert report.refused and report.score == 0


@pytest.mark.usefixtures("allow_reference")
def test_references_score_full_marks():
    for check, reference in [(checks.check_conv_masks, checks.reference_conv_masks),
                             (checks.check_bits_per_dim, checks.reference_bits_per_dim),
                             (checks.check_skew, checks.reference_skew),
                             (checks.check_greedy_completion, checks.reference_complete_greedy)]:
        assert check(reference).passed


def test_concept_checks_score_right_wrong_and_unattempted():
    order = {"context_size": 19, "first_layer_mask": "A", "mask_b_taps": 13, "blind_spot": 3,
             "uniform_bits": 2.0, "row_lstm_left": 1}
    assert checks.check_causal_order(lambda: order).passed
    wrong = checks.check_causal_order(lambda: {**order, "mask_b_taps": 12, "uniform_bits": 4})
    assert wrong.score == 4 and "that is mask A" in str(wrong)
    generation = {"training_passes": 1, "generation_passes": 64, "completion_passes": 32,
                  "row_lstm_steps": 8, "diagonal_steps": 15, "one_pass_sampling": False}
    assert checks.check_generation(lambda: generation).passed
    wrong = checks.check_generation(lambda: {**generation, "training_passes": 64})
    assert wrong.score == 5 and "every pixel is known" in str(wrong)
    for check in (checks.check_causal_order, checks.check_generation):
        report = check(_stub)
        assert report.score == 0 and not report.attempted


@pytest.mark.parametrize("check, right, wrong", [(checks.check_depth, 4, 1),
                                                 (checks.check_row_kernel, 5, 3)])
def test_experiment_checks_separate_a_good_choice_from_a_poor_one(check, right, wrong):
    assert check(lambda: right).score == 2
    assert check(lambda: wrong).score == 0
    report = check(lambda: 2.5)
    assert report.score == 0 and "cannot be run" in str(report)
    assert check(_stub).score == 0
