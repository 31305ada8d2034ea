"""Swin Transformer v2 (chapter 11): windows and their reverse, the shifted-window mask, the
relative position index and the log-spaced coordinates against the reference implementation's
construction (microsoft/Swin-Transformer, models/swin_transformer_v2.py), gradient checks of the
NumPy reference, NumPy vs torch parity in float64, our block and patch merging against Hugging
Face's ``Swinv2Layer`` and ``Swinv2PatchMerging`` with copied weights in float32, bad input,
determinism, a model that learns, and the exercise checks' own behaviour."""

import math

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.checks import swin as checks
from seqlearn.checks.core import reference_allowed
from seqlearn.gradcheck import check_gradients, relative_error
from seqlearn.numpy import swin as S
from seqlearn.torch import swin as T

pytestmark = pytest.mark.usefixtures("one_thread")


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


# -- windows -------------------------------------------------------------------------------------
@pytest.mark.parametrize("H, W, M", [(4, 4, 2), (8, 12, 4), (6, 6, 3), (5, 5, 5)])
def test_partition_and_reverse_round_trip(rng, H, W, M):
    x = rng.normal(size=(2, H, W, 3))
    windows = S.window_partition(x, M)
    assert windows.shape == (2, (H // M) * (W // M), M * M, 3)
    assert np.array_equal(S.window_reverse(windows, M, H, W), x)
    # window w = (i, j) holds rows iM.., columns jM.., read row by row
    i, j = divmod(1 if W // M > 1 else 0, W // M)
    assert np.array_equal(windows[:, i * (W // M) + j].reshape(2, M, M, 3),
                          x[:, i * M:(i + 1) * M, j * M:(j + 1) * M])
    xt = torch.from_numpy(x)
    assert torch.equal(T.window_partition(xt, M), torch.from_numpy(windows))
    assert torch.equal(T.window_reverse(T.window_partition(xt, M), M, H, W), xt)


def test_cyclic_shift_rolls_and_unrolls(rng):
    x = rng.normal(size=(1, 6, 6, 2))
    y = S.cyclic_shift(x, 2)
    assert np.array_equal(y[0, 0, 0], x[0, 2, 2]) and np.array_equal(y[0, -1, -1], x[0, 1, 1])
    assert np.array_equal(S.cyclic_shift(y, -2), x)
    assert torch.equal(T.cyclic_shift(torch.from_numpy(x), 2), torch.from_numpy(y))


def test_patch_partition_is_a_strided_convolution(rng):
    images = rng.normal(size=(2, 8, 6, 3))
    params = S.init_patch_embedding_params(2, 3, 5, rng=rng)
    tokens, _ = S.patch_embedding_forward(images, params, 2)
    # W[(py, px, c), d] is the kernel weight[d, c, py, px] of a stride-p convolution
    weight = torch.from_numpy(params["W"].reshape(2, 2, 3, 5).transpose(3, 2, 0, 1).copy())
    conv = torch.nn.functional.conv2d(t64(images).permute(0, 3, 1, 2), weight,
                                      torch.from_numpy(params["b"]), stride=2)
    assert np.abs(conv.permute(0, 2, 3, 1).numpy() - tokens).max() < 1e-12


# -- the shifted-window mask ---------------------------------------------------------------------
def reference_mask(H, W, M, s):
    """The reference implementation's construction, written from its description: label the
    rolled map by the slices (0, −M), (−M, −s), (−s, end) of each axis (9 regions), cut the labels
    into windows, and block every pair of tokens with different labels."""
    labels = np.zeros((H, W))
    count = 0
    for rows in (slice(0, -M), slice(-M, -s), slice(-s, None)):
        for cols in (slice(0, -M), slice(-M, -s), slice(-s, None)):
            labels[rows, cols] = count
            count += 1
    windows = S.window_partition(labels[None, :, :, None], M)[0, :, :, 0]
    return windows[:, :, None] == windows[:, None, :]


@pytest.mark.parametrize("H, W, M, s", [(8, 8, 4, 2), (8, 12, 4, 1), (6, 6, 3, 1), (4, 4, 2, 1),
                                        (16, 8, 8, 4)])
def test_mask_matches_the_reference_construction(H, W, M, s):
    mask = S.shifted_window_mask(H, W, M, s)
    assert mask.dtype == bool and mask.shape == ((H // M) * (W // M), M * M, M * M)
    assert np.array_equal(mask, reference_mask(H, W, M, s))
    assert torch.equal(T.shifted_window_mask(H, W, M, s), torch.from_numpy(mask))


@pytest.mark.parametrize("H, W, M, s", [(8, 8, 4, 2), (6, 9, 3, 2)])
def test_mask_blocks_exactly_the_pairs_that_were_not_neighbours(H, W, M, s):
    """A pair may attend iff, before the roll, the two tokens were in the same region of the
    image: no wrap-around between them in either axis (|Δ| < M where they came from)."""
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    origin = np.stack([(rows + s) % H, (cols + s) % W], axis=-1).astype(float)   # after the roll
    where = S.window_partition(origin[None], M)[0]                              # (nW, N, 2)
    mask = S.shifted_window_mask(H, W, M, s)
    distance = np.abs(where[:, :, None, :] - where[:, None, :, :])
    neighbours = (distance < M).all(axis=-1)
    assert np.array_equal(mask, neighbours)
    assert not mask.all() and mask.any(axis=-1).all()
    assert S.shifted_window_mask(H, W, M, 0).all()


# -- position biases -----------------------------------------------------------------------------
@pytest.mark.parametrize("M", [1, 2, 4, 7])
def test_relative_position_index_is_the_references(M):
    coords = np.stack(np.meshgrid(np.arange(M), np.arange(M), indexing="ij")).reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0) + (M - 1)
    want = rel[:, :, 0] * (2 * M - 1) + rel[:, :, 1]
    assert np.array_equal(S.relative_position_index(M), want)
    assert np.array_equal(T.relative_position_index(M).numpy(), want)


@pytest.mark.parametrize("M, M0", [(4, None), (8, 4), (6, 6), (12, 8)])
def test_log_spaced_coordinates_are_the_references(M, M0):
    """sign(x) log2(1 + |x|) / log2(8) of x = 8 Δ / (M0 − 1), Δ from −(M − 1) to M − 1."""
    delta = np.arange(-(M - 1), M, dtype=float)
    table = np.stack(np.meshgrid(delta, delta, indexing="ij"), axis=-1)
    table = table / ((M0 or M) - 1) * 8
    want = (np.sign(table) * np.log2(np.abs(table) + 1.0) / np.log2(8)).reshape(-1, 2)
    got = S.relative_coords_table(M, M0)
    assert np.abs(got - want).max() < 1e-15
    assert np.abs(T.relative_coords_table(M, M0, dtype=torch.float64).numpy() - want).max() < 1e-15
    if M0 is None:     # within the training window: up to log2(9)/3
        assert math.isclose(got.max(), math.log2(9) / 3)
    linear = S.relative_coords_table(M, M0, spacing="linear")
    assert np.allclose(linear, table.reshape(-1, 2) / 8)


def test_constants_of_the_reference():
    assert S.MAX_LOGIT_SCALE == T.MAX_LOGIT_SCALE == pytest.approx(math.log(1 / 0.01))
    params = S.init_continuous_position_bias_params(3)
    assert params["W_1"].shape == (2, 512) and params["W_2"].shape == (512, 3)
    assert set(params) == {"W_1", "b_1", "W_2"}                    # no bias on the last layer
    attention = S.init_window_attention_params(8, 2)
    assert np.allclose(attention["logit_scale"], math.log(10))     # τ = 0.1 at the start
    module = T.ContinuousPositionBias(3)
    assert module.W_1.shape == (2, 512) and module.W_2.shape == (512, 3)


def test_continuous_bias_lies_in_0_16_and_transfers(rng):
    params = S.init_continuous_position_bias_params(2, 16, rng=rng)
    params["W_2"] *= 200
    for M in (2, 4, 8):
        bias, _ = S.continuous_position_bias_forward(S.relative_coords_table(M, 2), params, M)
        assert bias.shape == (2, M * M, M * M) and (bias > 0).all() and (bias < 16).all()
    small, _ = S.continuous_position_bias_forward(S.relative_coords_table(2, 2), params, 2)
    large, _ = S.continuous_position_bias_forward(S.relative_coords_table(4, 2), params, 4)
    # offsets within the trained window keep their bias in the larger window
    index = S.relative_position_index(4).reshape(-1)
    lookup = dict(zip(index, large.reshape(2, -1).T))
    for i, k in enumerate(S.relative_position_index(2).reshape(-1)):
        dr, dc = divmod(int(k), 3)
        assert np.allclose(lookup[(dr + 2) * 7 + dc + 2], small.reshape(2, -1)[:, i])


def test_table_bias_extends_by_its_edge(rng):
    params = S.init_relative_position_bias_params(2, 3, rng=rng)
    bias, _ = S.relative_position_bias_forward(params, 4)
    assert bias.shape == (3, 16, 16)
    # token 0 (row 0, column 0) and token 15 (row 3, column 3): offset (−3, −3) -> table's (−1, −1)
    assert np.array_equal(bias[:, 0, 15], params["table"][0])
    torch_bias = T.RelativePositionBias.from_numpy(params, 2)(4)
    assert np.abs(torch_bias.detach().numpy() - bias).max() == 0


# -- gradient checks -----------------------------------------------------------------------------
def _flat(params, grads, prefix=""):
    flat, analytic = {}, {}
    for key, value in params.items():
        if isinstance(value, dict):
            f, a = _flat(value, grads[key], f"{prefix}{key}.")
            flat.update(f)
            analytic.update(a)
        else:
            flat[prefix + key], analytic[prefix + key] = value, grads[key]
    return flat, analytic


def _perturb(params, rng):
    """Non-trivial layer norms and biases, so that no gradient is checked at a special point."""
    for key, value in params.items():
        if isinstance(value, dict):
            _perturb(value, rng)
        elif key in ("gamma",):
            params[key] = rng.uniform(0.5, 1.5, size=value.shape)
        elif key.startswith("b") or key == "beta":
            params[key] = rng.normal(0, 0.2, size=value.shape)
    return params


def _check(loss, params, grads, skip=()):
    flat, analytic = _flat(params, grads)
    errors = check_gradients(loss, {k: v for k, v in flat.items() if k not in skip},
                             {k: v for k, v in analytic.items() if k not in skip})
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cosine", [True, False])
@pytest.mark.parametrize("with_bias, with_mask", [(True, True), (False, False)])
def test_window_attention_gradients(rng, cosine, with_bias, with_mask):
    params = _perturb(S.init_window_attention_params(6, 2, cosine, rng=rng), rng)
    if cosine:
        params["logit_scale"] = np.array([1.0, 2.5])
    x = rng.normal(size=(2, 4, 4, 6))
    bias = rng.normal(size=(2, 4, 4)) if with_bias else None
    mask = S.shifted_window_mask(4, 4, 2, 1) if with_mask else None
    out, _, cache = S.window_attention_forward(x, params, 2, bias, mask, cosine)
    G = rng.normal(size=out.shape)
    dx, grads, dbias = S.window_attention_backward(G, cache)
    inputs = {"x": x, **({"bias": bias} if with_bias else {})}

    def loss():
        return float((S.window_attention_forward(x, params, 2, bias, mask, cosine)[0] * G).sum())

    # With dot-product scores a key bias adds the same number to a query's row: its gradient
    # is 0 (to rounding), which a relative error cannot judge.
    _check(loss, {**params, **inputs}, {**grads, "x": dx, "bias": dbias},
           skip=() if cosine else ("b_k",))
    if not cosine:
        assert np.abs(grads["b_k"]).max() < 1e-12


def test_clamped_logit_scale_gets_no_gradient(rng):
    params = S.init_window_attention_params(4, 2, rng=rng)
    params["logit_scale"] = np.array([S.MAX_LOGIT_SCALE + 0.5, 0.0])
    out, _, cache = S.window_attention_forward(rng.normal(size=(1, 1, 4, 4)), params, 2)
    _, grads, _ = S.window_attention_backward(np.ones_like(out), cache)
    assert grads["logit_scale"][0] == 0 and grads["logit_scale"][1] != 0 


@pytest.mark.parametrize("position_bias", S.POSITION_BIASES)
@pytest.mark.parametrize("cosine, norm", [(True, "post"), (False, "pre")])
@pytest.mark.parametrize("shift", [0, 1])
def test_block_gradients(rng, position_bias, cosine, norm, shift):
    params = _perturb(S.init_swin_block_params(6, 2, 10, 2, position_bias, cosine, 8, rng=rng),
                      rng)
    for key in params["position_bias"]:
        params["position_bias"][key] = rng.normal(0, 1.0, size=params["position_bias"][key].shape)
    x = rng.normal(size=(2, 4, 4, 6))
    kw = dict(position_bias=position_bias, cosine=cosine, norm=norm)
    z, cache = S.swin_block_forward(x, params, 2, 2, shift, **kw)
    G = rng.normal(size=z.shape)
    dx, grads = S.swin_block_backward(G, cache)

    def loss():
        return float((S.swin_block_forward(x, params, 2, 2, shift, **kw)[0] * G).sum())

    _check(loss, {**params, "x": x}, {**grads, "x": dx},
           skip=() if cosine else ("attention.b_k",))


def test_patch_merging_and_embedding_gradients(rng):
    params = _perturb(S.init_patch_merging_params(3, rng=rng), rng)
    x = rng.normal(size=(2, 4, 6, 3))
    out, cache = S.patch_merging_forward(x, params)
    assert out.shape == (2, 2, 3, 6)
    G = rng.normal(size=out.shape)
    dx, grads = S.patch_merging_backward(G, cache)
    _check(lambda: float((S.patch_merging_forward(x, params)[0] * G).sum()),
           {**params, "x": x}, {**grads, "x": dx})

    params = _perturb(S.init_patch_embedding_params(2, 3, 4, rng=rng), rng)
    images = rng.normal(size=(2, 4, 6, 3))
    tokens, cache = S.patch_embedding_forward(images, params, 2)
    G = rng.normal(size=tokens.shape)
    dimages, grads = S.patch_embedding_backward(G, cache)
    _check(lambda: float((S.patch_embedding_forward(images, params, 2)[0] * G).sum()),
           {**params, "images": images}, {**grads, "images": dimages})


def test_numpy_backward_agrees_with_torch_autograd(rng):
    params = _perturb(S.init_swin_block_params(8, 2, 12, 2, "log-cpb", True, 16, rng=rng), rng)
    x = rng.normal(size=(2, 4, 4, 8))
    z, cache = S.swin_block_forward(x, params, 2, 2, 1)
    G = rng.normal(size=z.shape)
    dx, grads = S.swin_block_backward(G, cache)
    block = T.SwinBlock.from_numpy(params, 2, 2, 1)
    xt = t64(x).requires_grad_()
    (block(xt) * t64(G)).sum().backward()
    assert relative_error(xt.grad.numpy(), dx) < 1e-10
    assert relative_error(block.position_bias.W_1.grad.numpy(), grads["position_bias"]["W_1"]) \
        < 1e-10
    assert relative_error(block.attention.logit_scale.grad.numpy(),
                          grads["attention"]["logit_scale"]) < 1e-10
    assert relative_error(block.attention.mha.W_q.grad.numpy(), grads["attention"]["W_q"]) < 1e-10


# -- parity NumPy <-> torch ----------------------------------------------------------------------
@pytest.mark.parametrize("position_bias", S.POSITION_BIASES)
@pytest.mark.parametrize("cosine", [True, False])
@pytest.mark.parametrize("norm", S.NORMS)
def test_block_parity_float64(rng, position_bias, cosine, norm):
    params = _perturb(S.init_swin_block_params(8, 2, 16, 4, position_bias, cosine, 32, rng=rng),
                      rng)
    x = rng.normal(size=(2, 8, 8, 8))
    kw = dict(position_bias=position_bias, cosine=cosine, norm=norm)
    for shift in (0, 2):
        z, _ = S.swin_block_forward(x, params, 2, 4, shift, **kw)
        block = T.SwinBlock.from_numpy(params, 2, 4, shift, **kw)
        assert np.abs(block(t64(x)).detach().numpy() - z).max() < 1e-10
    # a larger window than the one it was made for (the transfer of section "window sizes")
    z, _ = S.swin_block_forward(x, params, 2, 8, 0, pretrained_window_size=4, **kw)
    assert np.abs(block(t64(x), 8, 0).detach().numpy() - z).max() < 1e-10
    assert _same(block.to_numpy(), params)


def _same(a, b):
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


def test_attention_merging_embedding_parity_float64(rng):
    params = S.init_window_attention_params(8, 4, rng=rng)
    x, bias = rng.normal(size=(2, 4, 9, 8)), rng.normal(size=(4, 9, 9))
    mask = S.shifted_window_mask(6, 6, 3, 1)
    out, weights, _ = S.window_attention_forward(x, params, 4, bias, mask)
    module = T.WindowAttention.from_numpy(params, 4)
    out_t, weights_t = module(t64(x), t64(bias), torch.from_numpy(mask), need_weights=True)
    assert np.abs(out_t.detach().numpy() - out).max() < 1e-10
    assert np.abs(weights_t.detach().numpy() - weights).max() < 1e-10
    assert np.all(weights.transpose(0, 2, 1, 3, 4)[:, :, ~mask] == 0)

    params = S.init_patch_merging_params(4, rng=rng)
    x = rng.normal(size=(2, 6, 4, 4))
    merged = T.PatchMerging.from_numpy(params)(t64(x)).detach().numpy()
    assert np.abs(merged - S.patch_merging_forward(x, params)[0]).max() < 1e-10

    params = S.init_patch_embedding_params(2, 1, 6, rng=rng)
    images = rng.normal(size=(3, 8, 8, 1))
    embedded = T.PatchEmbedding.from_numpy(params, 2)(t64(images)).detach().numpy()
    assert np.abs(embedded - S.patch_embedding_forward(images, params, 2)[0]).max() < 1e-10

    params = S.init_continuous_position_bias_params(3, 20, rng=rng)
    coords = S.relative_coords_table(5, 3)
    bias, _ = S.continuous_position_bias_forward(coords, params, 5)
    bias_t = T.ContinuousPositionBias.from_numpy(params)(t64(coords), 5)
    assert np.abs(bias_t.detach().numpy() - bias).max() < 1e-10


# -- against Hugging Face transformers' Swin v2 --------------------------------------------------
import transformers.models.swinv2.modeling_swinv2 as transformers_swinv2  # noqa: E402 (pinned)


def _hf_layer(block, resolution, shift):
    """A ``Swinv2Layer`` holding the weights of our ``SwinBlock`` (ReLU feed-forward, no key
    bias: Swin v2 has none, so ours is zero)."""
    from transformers import Swinv2Config

    attention, ff = block.attention, block.feed_forward
    D, h = attention.d_model, attention.num_heads
    config = Swinv2Config(window_size=block.window_size, hidden_act="relu",
                          mlp_ratio=ff.d_ff / D, qkv_bias=True, layer_norm_eps=block.norm_1.eps,
                          attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0,
                          drop_path_rate=0.0)
    layer = transformers_swinv2.Swinv2Layer(config, D, resolution, h, shift_size=shift).eval()
    m = attention.mha
    with torch.no_grad():
        m.b_k.zero_()
        own = layer.attention.self
        own.query.weight.copy_(m.W_q.T)
        own.query.bias.copy_(m.b_q)
        own.key.weight.copy_(m.W_k.T)
        own.value.weight.copy_(m.W_v.T)
        own.value.bias.copy_(m.b_v)
        own.logit_scale.copy_(attention.logit_scale.view(h, 1, 1))
        mlp = own.continuous_position_bias_mlp
        mlp[0].weight.copy_(block.position_bias.W_1.T)
        mlp[0].bias.copy_(block.position_bias.b_1)
        mlp[2].weight.copy_(block.position_bias.W_2.T)
        layer.attention.output.dense.weight.copy_(m.W_o.T)
        layer.attention.output.dense.bias.copy_(m.b_o)
        layer.layernorm_before.weight.copy_(block.norm_1.gamma)
        layer.layernorm_before.bias.copy_(block.norm_1.beta)
        layer.intermediate.dense.weight.copy_(ff.W_1.T)
        layer.intermediate.dense.bias.copy_(ff.b_1)
        layer.output.dense.weight.copy_(ff.W_2.T)
        layer.output.dense.bias.copy_(ff.b_2)
        layer.layernorm_after.weight.copy_(block.norm_2.gamma)
        layer.layernorm_after.bias.copy_(block.norm_2.beta)
    return layer


@pytest.mark.parametrize("resolution, M, shift", [((8, 8), 4, 0), ((8, 8), 4, 2),
                                                  ((12, 6), 3, 1)])
def test_block_matches_transformers_swinv2_layer(resolution, M, shift):
    torch.manual_seed(0)
    block = T.SwinBlock(16, 4, 32, M, shift, cpb_hidden_size=512)
    with torch.no_grad():                  # weights away from their initial symmetries
        for p in block.parameters():
            p.add_(0.1 * torch.randn_like(p))
        block.position_bias.W_2.mul_(5)
    layer = _hf_layer(block, resolution, shift)
    H, W = resolution
    x = torch.randn(3, H, W, 16)
    with torch.no_grad():
        ours = block(x)
        theirs = layer(x.reshape(3, H * W, 16), (H, W))[0].reshape(3, H, W, 16)
    assert (ours - theirs).abs().max() < 1e-5


def test_patch_merging_matches_transformers():
    torch.manual_seed(1)
    ours = T.PatchMerging(8)
    with torch.no_grad():
        ours.norm.gamma.uniform_(0.5, 1.5)
        ours.norm.beta.normal_()
    theirs = transformers_swinv2.Swinv2PatchMerging((6, 4), 8).eval()
    with torch.no_grad():
        theirs.reduction.weight.copy_(ours.W.T)
        theirs.norm.weight.copy_(ours.norm.gamma)
        theirs.norm.bias.copy_(ours.norm.beta)
        x = torch.randn(2, 6, 4, 8)
        got = ours(x)
        want = theirs(x.reshape(2, 24, 8), (6, 4)).reshape(2, 3, 2, 16)
    assert (got - want).abs().max() < 1e-5


# -- bad input -----------------------------------------------------------------------------------
def test_bad_input_is_refused_clearly(rng):
    with pytest.raises(ValueError, match="x: height 6 and width 8 must be divisible by "
                                         "window_size=4"):
        S.window_partition(rng.normal(size=(1, 6, 8, 2)), 4)
    with pytest.raises(ValueError, match="x: height 6 and width 8 must be divisible"):
        T.window_partition(torch.zeros(1, 6, 8, 2), 4)
    with pytest.raises(ValueError, match="shift: expected an integer in 0..3"):
        S.shifted_window_mask(8, 8, 4, 4)
    with pytest.raises(ValueError, match="images: expected 1 channel"):
        T.PatchEmbedding(2, 1, 8)(torch.zeros(1, 8, 8, 3))
    with pytest.raises(ValueError, match="images: expected 1 channel"):
        T.SwinV2(10, 8)(torch.zeros(2, 8, 8, 3))
    with pytest.raises(ValueError, match="images: expected 2 channel"):
        S.patch_embedding_forward(np.zeros((1, 8, 8, 3)), S.init_patch_embedding_params(2, 2, 4),
                                  2)
    block = T.SwinBlock(8, 2, 16, 4)
    with pytest.raises(ValueError, match="x: height 6 and width 6 must be divisible by "
                                         "window_size=4"):
        block(torch.zeros(1, 6, 6, 8))
    with pytest.raises(ValueError, match="x: expected the last dimension to be 8"):
        block(torch.zeros(1, 8, 8, 4))
    with pytest.raises(TypeError, match="x: expected dtype torch.float32"):
        block(torch.zeros(1, 8, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="position_bias: expected one of"):
        T.SwinBlock(8, 2, 16, 4, position_bias="absolute")
    with pytest.raises(ValueError, match="num_heads: d_model=6 must be divisible"):
        S.window_attention_forward(np.zeros((1, 1, 4, 6)), S.init_window_attention_params(6, 2),
                                   4)
    with pytest.raises(ValueError, match="x: height 3 and width 4 must be divisible by 2"):
        S.patch_merging_forward(np.zeros((1, 3, 4, 2)), S.init_patch_merging_params(2))
    with pytest.raises(ValueError, match="labels: expected labels in 0..9"):
        T.classifier_accuracy(T.SwinV2(10, 8), torch.zeros(2, 8, 8, 1), [0, 12])
    with pytest.raises(ValueError, match="image_size: 10 must be divisible"):
        T.SwinV2(10, 10, depths=(2, 2, 2), num_heads=(1, 2, 4))


# -- determinism and learning --------------------------------------------------------------------
def test_seeded_models_repeat():
    outputs = []
    for _ in range(2):
        seqlearn.seed(3)
        model = T.SwinV2(10, 8, d_model=8, depths=(1, 1), num_heads=(2, 2), cpb_hidden_size=8)
        outputs.append(model(torch.rand(2, 8, 8, 1, generator=torch.Generator().manual_seed(0))))
    assert torch.equal(*outputs)
    a = S.init_swin_block_params(8, 2, 8, 2, rng=5)
    b = S.init_swin_block_params(8, 2, 8, 2, rng=5)
    assert _same(a, b)


@pytest.mark.parametrize("model", ["swin", "vit"])
def test_the_model_learns_a_tiny_batch(model):
    torch.manual_seed(0)
    images = torch.rand(16, 8, 8, 1)
    labels = torch.arange(16) % 4
    net = (T.SwinV2(4, 8, patch_size=2, d_model=16, depths=(1, 1), num_heads=(2, 2),
                    window_size=2, cpb_hidden_size=16) if model == "swin"
           else T.VisionTransformer(4, 8, patch_size=2, d_model=16, num_layers=1))
    record = T.train_classifier(net, images, labels, steps=120, batch_size=16, lr=3e-3,
                                final_lr=1e-3, generator=0)
    assert record["steps"] == 120 and len(record["losses"]) == 120
    assert np.mean(record["losses"][-5:]) < 0.5 * np.mean(record["losses"][:5])
    assert T.classifier_accuracy(net, images, labels) > 0.8


def test_larger_windows_at_evaluation():
    torch.manual_seed(0)
    model = T.SwinV2(10, 8, patch_size=2, d_model=8, depths=(1, 1), num_heads=(2, 2),
                     window_size=2, cpb_hidden_size=8)
    x = torch.rand(2, 8, 8, 1)
    before = model(x)
    model.window_size = 4
    after = model(x)
    assert after.shape == before.shape and not torch.allclose(before, after)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_model_runs_on_cuda():
    model = T.SwinV2(10, 8, d_model=8, depths=(1, 1), num_heads=(2, 2)).cuda()
    assert model(torch.rand(2, 8, 8, 1, device="cuda")).device.type == "cuda"


# -- the exercise checks -------------------------------------------------------------------------
def _scores(check, fn):
    report = check(fn)
    return report.score, report.max_score, report.attempted


def test_checks_give_full_marks_to_the_references():
    with reference_allowed():
        for check, reference in checks.REFERENCES:
            score, top, attempted = _scores(check, reference)
            assert attempted and score == top, check.__name__


def test_checks_recognise_wrong_answers():
    def partition_columns_first(x, window_size):       # windows numbered down the columns
        B, H, W, D = x.shape
        M = window_size
        x = x.reshape(B, H // M, M, W // M, M, D).transpose(0, 3, 1, 2, 4, 5)
        return x.reshape(B, -1, M * M, D)

    score, top, _ = _scores(checks.check_window_partition, partition_columns_first)
    assert score < top

    def mask_without_shift(H, W, window_size, shift):
        n = (H // window_size) * (W // window_size)
        return np.ones((n, window_size ** 2, window_size ** 2), dtype=bool)

    score, top, _ = _scores(checks.check_shifted_window_mask, mask_without_shift)
    assert score < top

    def dot_attention(q, k, v, logit_scale, bias=None, mask=None):
        scores = q @ np.swapaxes(k, -1, -2) * np.exp(logit_scale)[:, None, None]
        if bias is not None:
            scores = scores + bias
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        w = np.exp(scores - scores.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        return w @ v, w

    score, top, _ = _scores(checks.check_cosine_attention, dot_attention)
    assert score < top

    score, top, _ = _scores(checks.check_swin_concepts, lambda: {"window_scores": 1})
    assert score < top


def test_checks_say_not_attempted():
    def stub(*args, **kwargs):
        raise NotImplementedError

    for check, _ in checks.REFERENCES:
        report = check(stub)
        assert report.score == 0 and not report.attempted, check.__name__


def test_checks_refuse_the_package():
    report = checks.check_window_partition(S.window_partition)
    assert report.refused and report.score == 0
