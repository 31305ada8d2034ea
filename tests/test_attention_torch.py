"""seqlearn.torch.attention: parity with the NumPy reference (float64), with torch's built-ins
(F.scaled_dot_product_attention, nn.MultiheadAttention; float32, copied weights), gradients,
the fused and explicit paths, masks and bad input."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from seqlearn.numpy import attention as np_att
from seqlearn.numpy import common as np_common
from seqlearn.torch.attention import (AdditiveAttention, AttentionPooling, MultiHeadAttention,
                                      causal_mask, scaled_dot_product_attention)
from seqlearn.torch.common import check_mask, padding_mask

from conftest import close, t64

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
B, H, Tq, Tk, D = 2, 3, 5, 6, 4


def _random_mask(rng, shape):
    mask = rng.random(shape) > 0.4
    mask[..., 0] = True                 # every row keeps at least one key
    return mask


# -- masks ----------------------------------------------------------------------------------------
def test_masks_match_numpy():
    assert torch.equal(causal_mask(5), torch.from_numpy(np_att.causal_mask(5)))
    assert causal_mask(3).dtype == torch.bool
    lengths = [3, 1, 5]
    assert torch.equal(padding_mask(lengths, 5),
                       torch.from_numpy(np_common.padding_mask(lengths, 5)))
    assert torch.equal(padding_mask(torch.tensor(lengths), 5),
                       padding_mask(np.array(lengths), 5))


def test_check_mask_agrees_with_numpy():
    shape = (2, 3, 4, 5)
    good = np.ones((2, 1, 1, 5), bool)
    assert check_mask(None, shape) is None and np_common.check_mask(None, shape) is None
    assert torch.equal(check_mask(torch.from_numpy(good), shape), torch.from_numpy(good))
    assert np_common.check_mask(good, shape) is good
    empty_row = np.ones((4, 5), bool)
    empty_row[2] = False
    for bad, error, message in [(good.astype(int), TypeError, "bool"),
                                (np.ones((3, 5), bool), ValueError, "broadcast"),
                                (empty_row, ValueError, "no key to attend to")]:
        with pytest.raises(error, match=f"^causal: .*{message}"):
            check_mask(torch.from_numpy(bad), shape, name="causal")
        with pytest.raises(error, match=f"^causal: .*{message}"):
            np_common.check_mask(bad, shape, name="causal")
    with pytest.raises(TypeError, match="mask"):
        check_mask(good, shape)                        # a NumPy array where a tensor belongs
    with pytest.raises(TypeError, match="mask"):
        np_common.check_mask(torch.from_numpy(good), shape)


# -- scaled dot-product attention -----------------------------------------------------------------
@pytest.mark.parametrize("scale", [None, 1.0])
def test_sdpa_matches_numpy_forward_and_backward(rng, scale):
    Q, K, V = rng.normal(size=(B, H, Tq, D)), rng.normal(size=(B, H, Tk, D)), rng.normal(
        size=(B, H, Tk, 3))
    mask = _random_mask(rng, (B, 1, Tq, Tk))
    out, weights, cache = np_att.scaled_dot_product_attention_forward(Q, K, V, mask, scale)
    dout = rng.normal(size=out.shape)
    dQ, dK, dV = np_att.scaled_dot_product_attention_backward(dout, cache)

    q, k, v = t64(Q, True), t64(K, True), t64(V, True)
    o, w = scaled_dot_product_attention(q, k, v, torch.from_numpy(mask), scale)
    (o * t64(dout)).sum().backward()
    np.testing.assert_allclose(o.detach().numpy(), out, atol=1e-10, rtol=0)
    np.testing.assert_allclose(w.detach().numpy(), weights, atol=1e-10, rtol=0)
    for ours, ref in ((q, dQ), (k, dK), (v, dV)):
        np.testing.assert_allclose(ours.grad.numpy(), ref, atol=1e-10, rtol=0)
    assert np.all(w.detach().numpy()[np.broadcast_to(~mask, w.shape)] == 0)


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "both"])
def test_sdpa_matches_torch_builtin_float32(kind):
    torch.manual_seed(0)
    T = 7
    q, k, v = (torch.randn(B, H, T, 8, requires_grad=True) for _ in range(3))
    pad = padding_mask([7, 4], T)[:, None, None, :]
    mask = {"none": None, "causal": causal_mask(T), "padding": pad,
            "both": causal_mask(T) & pad}[kind]
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    g = torch.randn_like(out)
    grads = torch.autograd.grad((out * g).sum(), (q, k, v))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    ref_grads = torch.autograd.grad((ref * g).sum(), (q, k, v))
    assert (out - ref).abs().max() < 1e-5
    for a, b in zip(grads, ref_grads):
        assert (a - b).abs().max() < 1e-5
    if kind == "causal":
        built = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert (out - built).abs().max() < 1e-5


# -- attention pooling and additive attention -----------------------------------------------------
def test_attention_pooling_matches_numpy(rng):
    params = np_att.init_attention_pooling_params(4, 3, rng)
    X = rng.normal(size=(B, 6, 4))
    mask = _random_mask(rng, (B, 6))
    h, weights, cache = np_att.attention_pooling_forward(X, params, mask)
    dh = rng.normal(size=h.shape)
    dX, grads = np_att.attention_pooling_backward(dh, cache)

    model = AttentionPooling.from_numpy(params)
    x = t64(X, True)
    ht, wt = model(x, torch.from_numpy(mask))
    (ht * t64(dh)).sum().backward()
    np.testing.assert_allclose(ht.detach().numpy(), h, atol=1e-10, rtol=0)
    np.testing.assert_allclose(wt.detach().numpy(), weights, atol=1e-10, rtol=0)
    np.testing.assert_allclose(x.grad.numpy(), dX, atol=1e-10, rtol=0)
    for name in ("W_a", "w_a"):
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), grads[name], atol=1e-10,
                                   rtol=0)
    back = model.to_numpy()
    assert all(np.array_equal(back[k], params[k]) for k in params)


@pytest.mark.parametrize("mask_rank", [0, 2, 3])
def test_additive_attention_matches_numpy(rng, mask_rank):
    params = np_att.init_additive_attention_params(5, 4, 6, rng)
    query, keys, values = (rng.normal(size=(B, 3, 5)), rng.normal(size=(B, 7, 4)),
                           rng.normal(size=(B, 7, 2)))
    mask = {0: None, 2: _random_mask(rng, (B, 7)), 3: _random_mask(rng, (B, 3, 7))}[mask_rank]
    ctx, weights, cache = np_att.additive_attention_forward(query, keys, values, params, mask)
    dctx = rng.normal(size=ctx.shape)
    dq, dk, dv, grads = np_att.additive_attention_backward(dctx, cache)

    model = AdditiveAttention.from_numpy(params)
    tq, tk, tv = t64(query, True), t64(keys, True), t64(values, True)
    c, w = model(tq, tk, tv, None if mask is None else torch.from_numpy(mask))
    (c * t64(dctx)).sum().backward()
    np.testing.assert_allclose(c.detach().numpy(), ctx, atol=1e-10, rtol=0)
    np.testing.assert_allclose(w.detach().numpy(), weights, atol=1e-10, rtol=0)
    for ours, ref in ((tq, dq), (tk, dk), (tv, dv)):
        np.testing.assert_allclose(ours.grad.numpy(), ref, atol=1e-10, rtol=0)
    for name in ("W_q", "W_k", "w_a"):
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), grads[name], atol=1e-10,
                                   rtol=0)


def test_additive_attention_single_step(rng):
    model = AdditiveAttention.from_numpy(np_att.init_additive_attention_params(5, 4, 6, rng))
    query, keys, values = t64(rng.normal(size=(B, 5))), t64(rng.normal(size=(B, 7, 4))), t64(
        rng.normal(size=(B, 7, 2)))
    mask = padding_mask([7, 3], 7)
    c1, w1 = model(query, keys, values, mask)
    c3, w3 = model(query[:, None], keys, values, mask)
    assert c1.shape == (B, 2) and w1.shape == (B, 7)
    assert torch.allclose(c1, c3[:, 0]) and torch.allclose(w1, w3[:, 0])
    assert torch.all(w1[1, 3:] == 0)


# -- multi-head attention -------------------------------------------------------------------------
def _mha_problem(rng, d_model=8, heads=2):
    params = np_att.init_multi_head_attention_params(d_model, heads, rng)
    for name in ("b_q", "b_k", "b_v", "b_o"):
        params[name] = rng.normal(size=d_model) * 0.1
    query, key, value = (rng.normal(size=(B, Tq, d_model)), rng.normal(size=(B, Tk, d_model)),
                         rng.normal(size=(B, Tk, d_model)))
    return params, query, key, value


@pytest.mark.parametrize("fused", [False, True])
def test_mha_matches_numpy_with_masks_and_gradients(rng, fused):
    params, query, key, value = _mha_problem(rng)
    pad = np_common.padding_mask([6, 2], Tk)[:, None, None, :]
    mask = pad & _random_mask(rng, (Tq, Tk))
    out, weights, cache = np_att.multi_head_attention_forward(query, key, value, params, 2, mask)
    dout = rng.normal(size=out.shape)
    dq, dk, dv, grads = np_att.multi_head_attention_backward(dout, cache)

    model = MultiHeadAttention.from_numpy(params, num_heads=2, fused=fused)
    tq, tk, tv = t64(query, True), t64(key, True), t64(value, True)
    o = model(tq, tk, tv, torch.from_numpy(mask))
    (o * t64(dout)).sum().backward()
    np.testing.assert_allclose(o.detach().numpy(), out, atol=1e-10, rtol=0)
    for ours, ref in ((tq, dq), (tk, dk), (tv, dv)):
        np.testing.assert_allclose(ours.grad.numpy(), ref, atol=1e-10, rtol=0)
    for name, ref in grads.items():
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), ref, atol=1e-10, rtol=0)
    _, w = model(tq, tk, tv, torch.from_numpy(mask), need_weights=True)
    assert w.shape == (B, 2, Tq, Tk)
    np.testing.assert_allclose(w.detach().numpy(), weights, atol=1e-10, rtol=0)
    back = model.to_numpy()
    assert set(back) == set(params) and all(np.array_equal(back[k], params[k]) for k in params)


def _builtin_masks(T, device=None):
    causal = causal_mask(T, device=device)
    pad = padding_mask(torch.tensor([T, T - 3], device=device), T)
    return causal, pad, causal & pad[:, None, None, :]


def _check_against_builtin(builtin, ours, device=None):
    torch.manual_seed(1)
    T, D = 9, builtin.embed_dim
    x = torch.randn(B, T, D, device=device, requires_grad=True)
    causal, pad, ours_mask = _builtin_masks(T, device)
    ref, ref_w = builtin(x, x, x, attn_mask=~causal, key_padding_mask=~pad,
                         average_attn_weights=False)
    out, w = ours(x, x, x, ours_mask, need_weights=True)
    assert (out - ref).abs().max() < 1e-5
    assert (w - ref_w).abs().max() < 1e-5
    assert (ours(x, x, x, ours_mask) - ref).abs().max() < 1e-5        # the fused path
    g = torch.randn_like(ref)
    gx_ref = torch.autograd.grad((ref * g).sum(), x)[0]
    gx = torch.autograd.grad((ours(x, x, x, ours_mask) * g).sum(), x)[0]
    assert (gx - gx_ref).abs().max() < 1e-5


def test_mha_from_builtin_matches_nn_multihead_attention():
    torch.manual_seed(0)
    builtin = nn.MultiheadAttention(16, 4, batch_first=True)
    with torch.no_grad():
        builtin.in_proj_bias.normal_()
        builtin.out_proj.bias.normal_()
    ours = MultiHeadAttention.from_torch_builtin(builtin)
    D = 16
    assert torch.equal(ours.W_k, builtin.in_proj_weight[D:2 * D].T)
    assert torch.equal(ours.W_o, builtin.out_proj.weight.T)
    _check_against_builtin(builtin, ours)


def test_mha_to_builtin_and_parameter_gradients():
    torch.manual_seed(0)
    ours = MultiHeadAttention(16, 2)
    with torch.no_grad():
        for name in ("b_q", "b_k", "b_v", "b_o"):
            getattr(ours, name).normal_()
    builtin = ours.to_torch_builtin()
    assert builtin.batch_first
    _check_against_builtin(builtin, ours)
    x = torch.randn(B, 5, 16)
    causal = causal_mask(5)
    (ours(x, x, x, causal) ** 2).sum().backward()
    (builtin(x, x, x, attn_mask=~causal, need_weights=False)[0] ** 2).sum().backward()
    assert close(ours.W_v.grad, builtin.in_proj_weight.grad[32:].T)
    assert close(ours.b_q.grad, builtin.in_proj_bias.grad[:16])
    assert close(ours.W_o.grad, builtin.out_proj.weight.grad.T)


def test_mha_without_bias_round_trips():
    builtin = nn.MultiheadAttention(8, 2, bias=False, batch_first=True)
    ours = MultiHeadAttention.from_torch_builtin(builtin)
    assert ours.b_q is None and np.all(ours.to_numpy()["b_o"] == 0)
    x = torch.randn(B, 4, 8)
    assert (ours(x, x, x) - builtin(x, x, x)[0]).abs().max() < 1e-5
    assert (ours.to_torch_builtin()(x, x, x)[0] - ours(x, x, x)).abs().max() < 1e-6


def test_fused_and_explicit_paths_agree():
    torch.manual_seed(0)
    fused = MultiHeadAttention(16, 4, fused=True)
    explicit = MultiHeadAttention(16, 4, fused=False)
    explicit.load_state_dict(fused.state_dict())
    x = torch.randn(B, 6, 16, requires_grad=True)
    mask = causal_mask(6) & padding_mask([6, 2], 6)[:, None, None, :]
    a, b = fused(x, x, x, mask), explicit(x, x, x, mask)
    assert (a - b).abs().max() < 1e-5
    ga = torch.autograd.grad(a.sum(), (x, fused.W_q))
    gb = torch.autograd.grad(b.sum(), (x, explicit.W_q))
    for u, v in zip(ga, gb):
        assert (u - v).abs().max() < 1e-5


def test_module_follows_to_dtype():
    model = MultiHeadAttention(8, 2).to(torch.float64)
    x = torch.randn(1, 3, 8, dtype=torch.float64)
    assert model(x, x, x, causal_mask(3)).dtype == torch.float64


# -- bad input ------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    q = torch.randn(B, H, Tq, D)
    k = torch.randn(B, H, Tk, D)
    with pytest.raises(TypeError, match="mask"):
        scaled_dot_product_attention(q, k, k, mask=torch.ones(Tq, Tk))
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(q, k, k, mask=torch.ones(Tq, Tq, dtype=torch.bool))
    empty_row = torch.ones(Tq, Tk, dtype=torch.bool)
    empty_row[2] = False
    with pytest.raises(ValueError, match="no key to attend to"):
        scaled_dot_product_attention(q, k, k, mask=empty_row)
    with pytest.raises(ValueError, match="k:"):
        scaled_dot_product_attention(q, torch.randn(B, H, Tk, D + 1), k)
    with pytest.raises(ValueError, match="v:"):
        scaled_dot_product_attention(q, k, torch.randn(B, H, Tk + 1, D))
    with pytest.raises(TypeError, match="q"):
        scaled_dot_product_attention(q.long(), k, k)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(B, 4, 8)
    with pytest.raises(ValueError, match="query"):
        mha(torch.randn(B, 4, 6), x, x)
    with pytest.raises(ValueError, match="key"):
        mha(x, torch.randn(4, 8), x)
    with pytest.raises(TypeError, match="query"):
        mha(x.double(), x, x)
    with pytest.raises(ValueError, match="mask"):
        mha(x, x, x, mask=torch.ones(B, 4, dtype=torch.bool))     # (B, Tk) needs [:, None, None]
    with pytest.raises(ValueError, match="no key to attend to"):
        mha(x, x, x, mask=padding_mask([4, 1], 4)[:, None, None, :] & ~causal_mask(4))
    with pytest.raises(ValueError, match="lengths"):
        padding_mask([0, 3], 3)
    with pytest.raises(ValueError, match="T"):
        causal_mask(0)
    with pytest.raises(ValueError, match="values"):
        AdditiveAttention(3, 3, 4)(torch.randn(B, 2, 3), torch.randn(B, 5, 3), torch.randn(B, 4, 2))
    with pytest.raises(ValueError, match="X"):
        AttentionPooling(3, 4)(torch.randn(B, 3))
    with pytest.raises(TypeError, match="module"):
        MultiHeadAttention.from_torch_builtin(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="batch_first"):
        MultiHeadAttention.from_torch_builtin(nn.MultiheadAttention(8, 2))


def test_from_numpy_names_the_entry_that_is_missing_or_misshapen(rng):
    params = np_att.init_multi_head_attention_params(8, 2, rng)
    with pytest.raises(ValueError, match="params: missing 'b_o'"):
        MultiHeadAttention.from_numpy({k: v for k, v in params.items() if k != "b_o"}, 2)
    with pytest.raises(ValueError, match=r"params\['b_v'\]: expected shape \(8,\)"):
        MultiHeadAttention.from_numpy({**params, "b_v": np.zeros(7)}, 2)
    with pytest.raises(TypeError, match="params: expected a dict"):
        AttentionPooling.from_numpy([params["W_q"], params["b_q"]])
    pooling = np_att.init_attention_pooling_params(4, 3, rng)
    with pytest.raises(ValueError, match=r"params\['w_a'\]"):
        AttentionPooling.from_numpy({**pooling, "w_a": np.zeros(4)})
    model = AttentionPooling.from_numpy(pooling, dtype=torch.float32)
    assert model.W_a.dtype == torch.float32
    np.testing.assert_allclose(model.to_numpy()["W_a"], pooling["W_a"], rtol=1e-6)


# -- CUDA -----------------------------------------------------------------------------------------
@CUDA
def test_mha_matches_builtin_on_cuda():
    torch.manual_seed(0)
    builtin = nn.MultiheadAttention(16, 4, batch_first=True, device="cuda")
    ours = MultiHeadAttention.from_torch_builtin(builtin)
    assert ours.W_q.device.type == "cuda"
    _check_against_builtin(builtin, ours, device=torch.device("cuda"))


@CUDA
def test_sdpa_and_masks_on_cuda():
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, 7, 8, device="cuda") for _ in range(3))
    mask = causal_mask(7, device="cuda")
    assert mask.device.type == "cuda"
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert (out - ref).abs().max() < 1e-5
    # a mask made on the CPU is moved to the inputs' device
    out_cpu_mask, _ = scaled_dot_product_attention(q, k, v, causal_mask(7))
    assert torch.equal(out, out_cpu_mask)
