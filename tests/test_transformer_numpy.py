"""NumPy Transformer reference (seqlearn.numpy.layernorm, seqlearn.numpy.transformer): layer
norm, feed-forward and encoder block gradients against finite differences and torch autograd,
forward parity with F.layer_norm, nn.TransformerEncoderLayer and nn.TransformerDecoderLayer,
positional encoding values, permutation equivariance, and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.attention import causal_mask
from seqlearn.numpy.common import padding_mask
from seqlearn.numpy.layernorm import init_layer_norm_params, layer_norm_backward, layer_norm_forward
from seqlearn.numpy.transformer import (decoder_block_forward, encoder_block_backward,
                                        encoder_block_forward, feed_forward_backward,
                                        feed_forward_forward, init_decoder_block_params,
                                        init_encoder_block_params, init_feed_forward_params,
                                        sinusoidal_positional_encoding)

B, T, D, HEADS, D_FF = 2, 4, 6, 2, 8


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _randomise(params, rng):
    """Random (not 0/1) biases and LN gains, so that every gradient is exercised."""
    for key, value in params.items():
        if isinstance(value, dict):
            _randomise(value, rng)
        elif key.startswith("b_") or key == "beta":
            params[key] = rng.normal(scale=0.3, size=value.shape)
        elif key == "gamma":
            params[key] = 1.0 + rng.normal(scale=0.3, size=value.shape)
    return params


def _copy_mha(m, p):
    with torch.no_grad():
        m.in_proj_weight.copy_(_t(np.concatenate([p["W_q"], p["W_k"], p["W_v"]], axis=1).T))
        m.in_proj_bias.copy_(_t(np.concatenate([p["b_q"], p["b_k"], p["b_v"]])))
        m.out_proj.weight.copy_(_t(p["W_o"].T))
        m.out_proj.bias.copy_(_t(p["b_o"]))


def _copy_ln(m, p):
    with torch.no_grad():
        m.weight.copy_(_t(p["gamma"]))
        m.bias.copy_(_t(p["beta"]))


def _copy_ff(layer, p):
    with torch.no_grad():
        layer.linear1.weight.copy_(_t(p["W_1"].T))
        layer.linear1.bias.copy_(_t(p["b_1"]))
        layer.linear2.weight.copy_(_t(p["W_2"].T))
        layer.linear2.bias.copy_(_t(p["b_2"]))


def _builtin_encoder(params):
    layer = nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True,
                                       norm_first=False, dtype=torch.float64)
    _copy_mha(layer.self_attn, params["attention"])
    _copy_ln(layer.norm1, params["norm_1"])
    _copy_ff(layer, params["feed_forward"])
    _copy_ln(layer.norm2, params["norm_2"])
    return layer


def _flatten(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flatten(value, prefix + key + "."))
        else:
            out[prefix + key] = value
    return out


# ------------------------------------------------------------------------------- layer norm
def test_layer_norm_forward_matches_torch(rng):
    x = rng.normal(size=(B, T, D)) * 3 + 1
    p = _randomise(init_layer_norm_params(D), rng)
    y, _ = layer_norm_forward(x, p)
    ref = F.layer_norm(_t(x), (D,), _t(p["gamma"]), _t(p["beta"]), eps=1e-5)
    assert np.abs(y - ref.numpy()).max() < 1e-10
    plain, _ = layer_norm_forward(x, init_layer_norm_params(D), eps=1e-12)
    np.testing.assert_allclose(plain.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(plain.var(-1), 1.0, atol=1e-9)


def test_layer_norm_backward_finite_differences_and_autograd(rng):
    x = rng.normal(size=(B, T, D))
    p = _randomise(init_layer_norm_params(D), rng)
    g = rng.normal(size=(B, T, D))

    def loss():
        return float((layer_norm_forward(x, p)[0] * g).sum())

    _, cache = layer_norm_forward(x, p)
    dx, grads = layer_norm_backward(g, cache)
    assert sorted(grads) == ["beta", "gamma"]
    dgamma, dbeta = grads["gamma"], grads["beta"]
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dgamma, numerical_gradient(loss, p["gamma"])) < 1e-6
    assert relative_error(dbeta, numerical_gradient(loss, p["beta"])) < 1e-6
    tx, tg, tb = _t(x, True), _t(p["gamma"], True), _t(p["beta"], True)
    (F.layer_norm(tx, (D,), tg, tb) * _t(g)).sum().backward()
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    assert relative_error(dgamma, tg.grad.numpy()) < 1e-10
    assert relative_error(dbeta, tb.grad.numpy()) < 1e-10


# ---------------------------------------------------------------------------- feed-forward
def test_feed_forward_forward_backward(rng):
    p = init_feed_forward_params(D, D_FF, rng)
    x = rng.normal(size=(B, T, D))
    g = rng.normal(size=(B, T, D))
    y, cache = feed_forward_forward(x, p)
    np.testing.assert_allclose(y, np.maximum(x @ p["W_1"] + p["b_1"], 0) @ p["W_2"] + p["b_2"],
                               atol=1e-14)

    def loss():
        return float((feed_forward_forward(x, p)[0] * g).sum())

    dx, grads = feed_forward_backward(g, cache)
    assert set(grads) == {"W_1", "b_1", "W_2", "b_2"}
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    for name in p:
        assert relative_error(grads[name], numerical_gradient(loss, p[name])) < 1e-6, name
    tx = _t(x, True)
    tp = {k: _t(v, True) for k, v in p.items()}
    (F.linear(F.relu(F.linear(tx, tp["W_1"].T, tp["b_1"])), tp["W_2"].T, tp["b_2"])
     * _t(g)).sum().backward()
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    for name in p:
        assert relative_error(grads[name], tp[name].grad.numpy()) < 1e-10, name


# ---------------------------------------------------------------------------- encoder block
def _encoder_problem(rng, masked):
    params = _randomise(init_encoder_block_params(D, HEADS, D_FF, rng), rng)
    x = rng.normal(size=(B, T, D))
    keep = padding_mask(np.array([T, 3]), T)
    mask = keep[:, None, None, :] if masked else None
    return params, x, mask, keep


@pytest.mark.parametrize("masked", [False, True])
def test_encoder_block_forward_matches_builtin(rng, masked):
    params, x, mask, keep = _encoder_problem(rng, masked)
    z, cache = encoder_block_forward(x, params, HEADS, mask=mask)
    assert z.shape == (B, T, D) and cache["weights"].shape == (B, HEADS, T, T)
    layer = _builtin_encoder(params).train()        # dropout 0; the train path avoids fast paths
    ref = layer(_t(x), src_key_padding_mask=torch.tensor(~keep) if masked else None)
    assert np.abs(z - ref.detach().numpy()).max() < 1e-10


def test_encoder_block_causal_matches_builtin(rng):
    params, x, _, _ = _encoder_problem(rng, False)
    z, _ = encoder_block_forward(x, params, HEADS, mask=causal_mask(T))
    ref = _builtin_encoder(params).train()(_t(x), src_mask=torch.tensor(~causal_mask(T)))
    assert np.abs(z - ref.detach().numpy()).max() < 1e-10
    x2 = x.copy()
    x2[:, -1] += 1.0                                # the last token cannot affect earlier ones
    z2, _ = encoder_block_forward(x2, params, HEADS, mask=causal_mask(T))
    np.testing.assert_array_equal(z2[:, :-1], z[:, :-1])
    assert np.abs(z2[:, -1] - z[:, -1]).max() > 1e-3


@pytest.mark.parametrize("masked", [False, True])
def test_encoder_block_backward_finite_differences(rng, masked):
    params, x, mask, _ = _encoder_problem(rng, masked)
    g = rng.normal(size=(B, T, D))

    def loss():
        return float((encoder_block_forward(x, params, HEADS, mask=mask)[0] * g).sum())

    _, cache = encoder_block_forward(x, params, HEADS, mask=mask)
    dx, grads = encoder_block_backward(g, cache)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    flat_p, flat_g = _flatten(params), _flatten(grads)
    assert set(flat_p) == set(flat_g)
    for name, value in flat_p.items():
        numeric = numerical_gradient(loss, value)
        if name == "attention.b_k":                 # the softmax ignores it: gradient exactly 0
            assert np.abs(flat_g[name]).max() < 1e-12 and np.abs(numeric).max() < 1e-8
        else:
            assert relative_error(flat_g[name], numeric) < 1e-6, name


def test_encoder_block_backward_matches_builtin_autograd(rng):
    params, x, mask, keep = _encoder_problem(rng, True)
    g = rng.normal(size=(B, T, D))
    _, cache = encoder_block_forward(x, params, HEADS, mask=mask)
    dx, grads = encoder_block_backward(g, cache)
    layer = _builtin_encoder(params).train()
    tx = _t(x, True)
    (layer(tx, src_key_padding_mask=torch.tensor(~keep)) * _t(g)).sum().backward()
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    ga, attn = grads["attention"], layer.self_attn
    w_in = attn.in_proj_weight.grad.numpy()
    b_in = attn.in_proj_bias.grad.numpy()
    for k, s in enumerate("qkv"):
        assert relative_error(ga["W_" + s], w_in[k * D:(k + 1) * D].T) < 1e-10, s
        if s != "k":
            assert relative_error(ga["b_" + s], b_in[k * D:(k + 1) * D]) < 1e-10, s
    assert relative_error(ga["W_o"], attn.out_proj.weight.grad.numpy().T) < 1e-10
    assert relative_error(ga["b_o"], attn.out_proj.bias.grad.numpy()) < 1e-10
    gf = grads["feed_forward"]
    assert relative_error(gf["W_1"], layer.linear1.weight.grad.numpy().T) < 1e-10
    assert relative_error(gf["b_1"], layer.linear1.bias.grad.numpy()) < 1e-10
    assert relative_error(gf["W_2"], layer.linear2.weight.grad.numpy().T) < 1e-10
    assert relative_error(gf["b_2"], layer.linear2.bias.grad.numpy()) < 1e-10
    for name, norm in (("norm_1", layer.norm1), ("norm_2", layer.norm2)):
        assert relative_error(grads[name]["gamma"], norm.weight.grad.numpy()) < 1e-10, name
        assert relative_error(grads[name]["beta"], norm.bias.grad.numpy()) < 1e-10, name


def test_encoder_block_keeps_float32(rng):
    params, x, mask, _ = _encoder_problem(rng, True)
    z, cache = encoder_block_forward(x.astype(np.float32), params, HEADS, mask=mask)
    assert z.dtype == np.float32
    dx, grads = encoder_block_backward(np.ones_like(z), cache)
    assert dx.dtype == np.float32 and grads["norm_2"]["gamma"].dtype == np.float32
    z64, _ = encoder_block_forward(x, params, HEADS, mask=mask)
    assert np.abs(z - z64).max() < 1e-4


# ---------------------------------------------------------------------------- decoder block
@pytest.mark.parametrize("masked", [False, True])
def test_decoder_block_forward_matches_builtin(rng, masked):
    S = T + 1
    params = _randomise(init_decoder_block_params(D, HEADS, D_FF, rng), rng)
    x = rng.normal(size=(B, T, D))
    memory = rng.normal(size=(B, S, D))
    keep = padding_mask(np.array([S, 2]), S)
    z, cache = decoder_block_forward(x, memory, params, HEADS,
                                     self_mask=causal_mask(T) if masked else None,
                                     memory_mask=keep[:, None, None, :] if masked else None)
    assert z.shape == (B, T, D)
    assert cache["self_weights"].shape == (B, HEADS, T, T)
    assert cache["cross_weights"].shape == (B, HEADS, T, S)
    layer = nn.TransformerDecoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True,
                                       norm_first=False, dtype=torch.float64).train()
    _copy_mha(layer.self_attn, params["self_attention"])
    _copy_ln(layer.norm1, params["norm_1"])
    _copy_mha(layer.multihead_attn, params["cross_attention"])
    _copy_ln(layer.norm2, params["norm_2"])
    _copy_ff(layer, params["feed_forward"])
    _copy_ln(layer.norm3, params["norm_3"])
    kwargs = {}
    if masked:
        kwargs = {"tgt_mask": torch.tensor(~causal_mask(T)),
                  "memory_key_padding_mask": torch.tensor(~keep)}
        assert np.all(cache["cross_weights"][1, :, :, 2:] == 0.0)
        assert np.all(cache["self_weights"][..., ~causal_mask(T)] == 0.0)
    ref = layer(_t(x), _t(memory), **kwargs)
    assert np.abs(z - ref.detach().numpy()).max() < 1e-10


# ------------------------------------------------------------------- positional encoding
def test_positional_encoding_values_by_hand():
    pe = sinusoidal_positional_encoding(50, 4)
    assert pe.shape == (50, 4)
    np.testing.assert_allclose(pe[0], [0.0, 1.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(pe[1], [np.sin(1.0), np.cos(1.0), np.sin(0.01), np.cos(0.01)],
                               atol=1e-15)
    np.testing.assert_allclose(pe[2, 3], np.cos(0.02), atol=1e-15)
    np.testing.assert_allclose(pe[7, 0], np.sin(7.0), atol=1e-15)
    pe8 = sinusoidal_positional_encoding(10, 8)
    np.testing.assert_allclose(pe8[3, 4], np.sin(3 / 10000 ** (4 / 8)), atol=1e-15)
    np.testing.assert_allclose(pe8[3, 7], np.cos(3 / 10000 ** (6 / 8)), atol=1e-15)
    np.testing.assert_allclose(pe8[:, 0::2] ** 2 + pe8[:, 1::2] ** 2, 1.0, atol=1e-14)


def test_the_slowest_frequency_is_10000_to_the_minus_d_minus_2_over_d():
    """The last pair, i = D/2 - 1, turns by 10000^(-(D-2)/D) radians per position, which the
    chapter and the docstrings state: not 1/10000, the limit for large D."""
    for D in (4, 16, 64):
        pe = sinusoidal_positional_encoding(300, D)       # angles below π: no wrapping
        slowest = 10000.0 ** (-(D - 2) / D)
        angle = np.arctan2(pe[:, D - 2], pe[:, D - 1])      # (sin, cos) of the last pair
        np.testing.assert_allclose(angle, np.arange(300) * slowest, atol=1e-12)
        assert not np.isclose(slowest, 1e-4, rtol=0.01)


def test_encoder_is_permutation_equivariant_without_positional_encoding(rng):
    params, x, _, _ = _encoder_problem(rng, False)
    perm = np.array([3, 1, 0, 2])
    z, _ = encoder_block_forward(x, params, HEADS)
    z_perm, _ = encoder_block_forward(x[:, perm], params, HEADS)
    np.testing.assert_allclose(z_perm, z[:, perm], atol=1e-12)
    pe = sinusoidal_positional_encoding(T, D)
    zp, _ = encoder_block_forward(x + pe, params, HEADS)
    zp_perm, _ = encoder_block_forward(x[:, perm] + pe, params, HEADS)
    assert np.abs(zp_perm - zp[:, perm]).max() > 1e-3


# ------------------------------------------------------------------------------ bad input
def test_bad_input(rng):
    with pytest.raises(ValueError, match="d_model"):
        sinusoidal_positional_encoding(10, 5)
    with pytest.raises(ValueError, match="T"):
        sinusoidal_positional_encoding(0, 4)
    x = rng.normal(size=(B, T, D))
    with pytest.raises(ValueError, match="gamma"):
        layer_norm_forward(x, {"gamma": np.ones(D + 1), "beta": np.zeros(D)})
    with pytest.raises(ValueError, match="beta"):
        layer_norm_forward(x, {"gamma": np.ones(D), "beta": np.zeros((D, 1))})
    with pytest.raises(ValueError, match="params.*beta"):
        layer_norm_forward(x, {"gamma": np.ones(D)})
    with pytest.raises(TypeError, match="params"):
        layer_norm_forward(x, np.ones(D))
    with pytest.raises(ValueError, match="eps"):
        layer_norm_forward(x, init_layer_norm_params(D), eps=0.0)
    ff = init_feed_forward_params(D, D_FF, rng)
    with pytest.raises(ValueError, match="x"):
        feed_forward_forward(x[..., :4], ff)
    with pytest.raises(ValueError, match="params.*b_2"):
        feed_forward_forward(x, {k: v for k, v in ff.items() if k != "b_2"})
    with pytest.raises(ValueError, match="num_heads"):
        init_encoder_block_params(D, 4, D_FF)
    params = init_encoder_block_params(D, HEADS, D_FF, rng)
    with pytest.raises(ValueError, match="num_heads"):
        encoder_block_forward(x, params, 4)
    with pytest.raises(ValueError, match="x"):
        encoder_block_forward(x[0], params, HEADS)
    with pytest.raises(ValueError, match="params.*norm_2"):
        encoder_block_forward(x, {k: v for k, v in params.items() if k != "norm_2"}, HEADS)
    with pytest.raises(TypeError, match="mask"):
        encoder_block_forward(x, params, HEADS, mask=np.ones((T, T)))
    with pytest.raises(ValueError, match="mask.*row with no key"):
        encoder_block_forward(x, params, HEADS, mask=np.zeros((T, T), bool))
    dec = init_decoder_block_params(D, HEADS, D_FF, rng)
    with pytest.raises(ValueError, match="memory"):
        decoder_block_forward(x, rng.normal(size=(B, 3, D + 2)), dec, HEADS)
    with pytest.raises(ValueError, match="mask"):
        decoder_block_forward(x, rng.normal(size=(B, 3, D)), dec, HEADS,
                              memory_mask=np.ones((T, T), bool))
