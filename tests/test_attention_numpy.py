"""NumPy attention reference (seqlearn.numpy.attention): gradient checks against finite
differences and torch autograd, forward parity with F.scaled_dot_product_attention and
nn.MultiheadAttention, properties of the weights and masks, and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.attention import (MHA_PARAM_NAMES, additive_attention_backward,
                                      additive_attention_forward, attention_pooling_backward,
                                      attention_pooling_forward, causal_mask,
                                      init_additive_attention_params,
                                      init_attention_pooling_params,
                                      init_multi_head_attention_params,
                                      multi_head_attention_backward, multi_head_attention_forward,
                                      scaled_dot_product_attention_backward,
                                      scaled_dot_product_attention_forward)
from seqlearn.numpy.common import padding_mask

B, T, D, HEADS = 2, 4, 6, 2


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _mha_params(rng, D=D, heads=HEADS):
    params = init_multi_head_attention_params(D, heads, rng)
    for name in ("b_q", "b_k", "b_v", "b_o"):       # non-zero biases, so their gradients count
        params[name] = rng.normal(scale=0.3, size=D)
    return params


def _builtin_mha(params, heads):
    """nn.MultiheadAttention(batch_first=True) carrying the same weights (it stores Wᵀ)."""
    D = params["W_q"].shape[0]
    m = nn.MultiheadAttention(D, heads, batch_first=True, dropout=0.0, dtype=torch.float64)
    with torch.no_grad():
        m.in_proj_weight.copy_(_t(np.concatenate([params["W_q"], params["W_k"], params["W_v"]],
                                                 axis=1).T))
        m.in_proj_bias.copy_(_t(np.concatenate([params["b_q"], params["b_k"], params["b_v"]])))
        m.out_proj.weight.copy_(_t(params["W_o"].T))
        m.out_proj.bias.copy_(_t(params["b_o"]))
    return m


# ------------------------------------------------------------------------------------ masks
def test_causal_and_padding_masks():
    m = causal_mask(4)
    assert m.dtype == bool and m.shape == (4, 4)
    np.testing.assert_array_equal(m, np.array([[1, 0, 0, 0], [1, 1, 0, 0],
                                               [1, 1, 1, 0], [1, 1, 1, 1]], bool))
    p = padding_mask(np.array([3, 1]), 4)
    assert p.dtype == bool
    np.testing.assert_array_equal(p, [[True, True, True, False], [True, False, False, False]])


# -------------------------------------------------------------------------- attention pooling
def _pooling_problem(rng):
    params = init_attention_pooling_params(D, 5, rng)
    X = rng.normal(size=(B, T, D))
    mask = padding_mask(np.array([T, 2]), T)
    return params, X, mask


def test_attention_pooling_forward_properties(rng):
    params, X, mask = _pooling_problem(rng)
    h, w, _ = attention_pooling_forward(X, params, mask=mask)
    assert h.shape == (B, D) and w.shape == (B, T)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-14)
    assert np.all(w[~mask] == 0.0) and np.all(w[mask] > 0)
    e = np.tanh(X @ params["W_a"]) @ params["w_a"]
    e1 = np.exp(e[1, :2] - e[1, :2].max())
    np.testing.assert_allclose(w[1, :2], e1 / e1.sum(), atol=1e-14)
    np.testing.assert_allclose(h, np.einsum("bn,bnd->bd", w, X), atol=1e-14)


@pytest.mark.parametrize("with_mask", [False, True])
def test_attention_pooling_backward_finite_differences(rng, with_mask):
    params, X, mask = _pooling_problem(rng)
    mask = mask if with_mask else None
    g = rng.normal(size=(B, D))

    def loss():
        return float((attention_pooling_forward(X, params, mask=mask)[0] * g).sum())

    _, _, cache = attention_pooling_forward(X, params, mask=mask)
    dX, grads = attention_pooling_backward(g, cache)
    assert set(grads) == {"W_a", "w_a"}
    assert relative_error(dX, numerical_gradient(loss, X)) < 1e-6
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name


def test_attention_pooling_backward_matches_autograd(rng):
    params, X, mask = _pooling_problem(rng)
    g = rng.normal(size=(B, D))
    _, _, cache = attention_pooling_forward(X, params, mask=mask)
    dX, grads = attention_pooling_backward(g, cache)
    tX, tW, tw = _t(X, True), _t(params["W_a"], True), _t(params["w_a"], True)
    e = torch.tanh(tX @ tW) @ tw
    a = torch.softmax(e.masked_fill(~torch.tensor(mask), float("-inf")), dim=1)
    ((a.unsqueeze(2) * tX).sum(1) * _t(g)).sum().backward()
    assert relative_error(dX, tX.grad.numpy()) < 1e-10
    assert relative_error(grads["W_a"], tW.grad.numpy()) < 1e-10
    assert relative_error(grads["w_a"], tw.grad.numpy()) < 1e-10


# ------------------------------------------------------------------------- additive attention
def _additive_problem(rng, mask_kind):
    Tq, N, Dq, Dk, Dv = 3, 5, 4, 6, 2
    params = init_additive_attention_params(Dq, Dk, 7, rng)
    query = rng.normal(size=(B, Tq, Dq))
    keys = rng.normal(size=(B, N, Dk))
    values = rng.normal(size=(B, N, Dv))
    mask = None
    if mask_kind == "padding":
        mask = padding_mask(np.array([N, 3]), N)                # (B, N)
    elif mask_kind == "full":
        mask = rng.random((B, Tq, N)) > 0.4
        mask[..., 0] = True                                     # every query sees a key
    return params, query, keys, values, mask


def _full_mask(mask, B, Tq, N):
    if mask is None:
        return np.ones((B, Tq, N), bool)
    return np.broadcast_to(mask[:, None, :] if mask.ndim == 2 else mask, (B, Tq, N))


@pytest.mark.parametrize("mask_kind", [None, "padding", "full"])
def test_additive_attention_forward_by_hand(rng, mask_kind):
    params, query, keys, values, mask = _additive_problem(rng, mask_kind)
    context, w, _ = additive_attention_forward(query, keys, values, params, mask=mask)
    Tq, N = query.shape[1], keys.shape[1]
    assert context.shape == (B, Tq, values.shape[2]) and w.shape == (B, Tq, N)
    full = _full_mask(mask, B, Tq, N)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-14)
    assert np.all(w[~full] == 0.0)
    for b in range(B):
        for t in range(Tq):
            e = np.array([params["w_a"] @ np.tanh(query[b, t] @ params["W_q"]
                                                + keys[b, j] @ params["W_k"]) for j in range(N)])
            e = np.where(full[b, t], e, -np.inf)
            a = np.exp(e - e.max())
            a /= a.sum()
            np.testing.assert_allclose(w[b, t], a, atol=1e-14)
            np.testing.assert_allclose(context[b, t], a @ values[b], atol=1e-14)


@pytest.mark.parametrize("mask_kind", [None, "padding", "full"])
def test_additive_attention_backward_finite_differences(rng, mask_kind):
    params, query, keys, values, mask = _additive_problem(rng, mask_kind)
    g = rng.normal(size=(B, query.shape[1], values.shape[2]))

    def loss():
        return float((additive_attention_forward(query, keys, values, params, mask=mask)[0]
                      * g).sum())

    _, _, cache = additive_attention_forward(query, keys, values, params, mask=mask)
    dq, dk, dv, grads = additive_attention_backward(g, cache)
    assert set(grads) == {"W_q", "W_k", "w_a"}
    for name, analytic, x in (("query", dq, query), ("keys", dk, keys), ("values", dv, values)):
        assert relative_error(analytic, numerical_gradient(loss, x)) < 1e-6, name
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name


def test_additive_attention_backward_matches_autograd(rng):
    params, query, keys, values, mask = _additive_problem(rng, "full")
    g = rng.normal(size=(B, query.shape[1], values.shape[2]))
    _, _, cache = additive_attention_forward(query, keys, values, params, mask=mask)
    dq, dk, dv, grads = additive_attention_backward(g, cache)
    tq, tk, tv = _t(query, True), _t(keys, True), _t(values, True)
    tp = {k: _t(v, True) for k, v in params.items()}
    e = torch.tanh((tq @ tp["W_q"]).unsqueeze(2) + (tk @ tp["W_k"]).unsqueeze(1)) @ tp["w_a"]
    a = torch.softmax(e.masked_fill(~torch.tensor(mask), float("-inf")), dim=-1)
    ((a @ tv) * _t(g)).sum().backward()
    for analytic, t in ((dq, tq), (dk, tk), (dv, tv)):
        assert relative_error(analytic, t.grad.numpy()) < 1e-10
    for name in params:
        assert relative_error(grads[name], tp[name].grad.numpy()) < 1e-10, name


# ---------------------------------------------------------------- scaled dot-product attention
def _sdpa_problem(rng, mask_kind, Tq=4, Tk=5, d=3, dv=2):
    Q = rng.normal(size=(B, HEADS, Tq, d))
    K = rng.normal(size=(B, HEADS, Tk, d))
    V = rng.normal(size=(B, HEADS, Tk, dv))
    mask = None
    if mask_kind == "causal":
        K, V = K[:, :, :Tq], V[:, :, :Tq]
        mask = causal_mask(Tq)                                   # (Tq, Tq)
    elif mask_kind == "padding":
        mask = padding_mask(np.array([Tk, 2]), Tk)[:, None, None, :]   # (B, 1, 1, Tk)
    elif mask_kind == "full":
        mask = rng.random((B, HEADS, Tq, Tk)) > 0.5
        mask[..., -1] = True
    return Q, K, V, mask


MASK_KINDS = [None, "causal", "padding", "full"]


@pytest.mark.parametrize("mask_kind", MASK_KINDS)
def test_sdpa_forward_matches_torch_builtin(rng, mask_kind):
    Q, K, V, mask = _sdpa_problem(rng, mask_kind)
    out, w, _ = scaled_dot_product_attention_forward(Q, K, V, mask=mask)
    ref = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V),
                                         attn_mask=None if mask is None else torch.tensor(mask))
    assert np.abs(out - ref.numpy()).max() < 1e-10
    full = np.broadcast_to(True if mask is None else mask, w.shape)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-14)
    assert np.all(w[~full] == 0.0) and np.all(w[full] > 0)


def test_sdpa_scale_default_and_dot_product(rng):
    Q, K, V, _ = _sdpa_problem(rng, None, d=4)
    out_default, w_default, _ = scaled_dot_product_attention_forward(Q, K, V)
    out_half, _, _ = scaled_dot_product_attention_forward(Q, K, V, scale=0.5)   # 1/√4
    np.testing.assert_allclose(out_default, out_half, atol=1e-15)
    _, w_dot, _ = scaled_dot_product_attention_forward(Q, K, V, scale=1.0)
    S = Q @ K.swapaxes(-1, -2)
    by_hand = np.exp(S - S.max(-1, keepdims=True))
    by_hand /= by_hand.sum(-1, keepdims=True)
    np.testing.assert_allclose(w_dot, by_hand, atol=1e-14)
    assert np.abs(w_dot - w_default).max() > 1e-3          # the scale matters
    ref = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V), scale=1.0)
    assert np.abs(scaled_dot_product_attention_forward(Q, K, V, scale=1.0)[0]
                  - ref.numpy()).max() < 1e-10


@pytest.mark.parametrize("mask_kind", MASK_KINDS)
def test_sdpa_backward_finite_differences(rng, mask_kind):
    Q, K, V, mask = _sdpa_problem(rng, mask_kind)
    Q, K, V = Q.copy(), K.copy(), V.copy()
    g = rng.normal(size=Q.shape[:-1] + (V.shape[-1],))

    def loss():
        return float((scaled_dot_product_attention_forward(Q, K, V, mask=mask)[0] * g).sum())

    _, _, cache = scaled_dot_product_attention_forward(Q, K, V, mask=mask)
    dQ, dK, dV = scaled_dot_product_attention_backward(g, cache)
    for name, analytic, x in (("Q", dQ, Q), ("K", dK, K), ("V", dV, V)):
        assert relative_error(analytic, numerical_gradient(loss, x)) < 1e-6, name


@pytest.mark.parametrize("mask_kind", MASK_KINDS)
def test_sdpa_backward_matches_torch_autograd(rng, mask_kind):
    Q, K, V, mask = _sdpa_problem(rng, mask_kind)
    g = rng.normal(size=Q.shape[:-1] + (V.shape[-1],))
    _, _, cache = scaled_dot_product_attention_forward(Q, K, V, mask=mask, scale=0.7)
    grads = scaled_dot_product_attention_backward(g, cache)
    tQ, tK, tV = _t(Q, True), _t(K, True), _t(V, True)
    out = F.scaled_dot_product_attention(tQ, tK, tV, scale=0.7,
                                         attn_mask=None if mask is None else torch.tensor(mask))
    (out * _t(g)).sum().backward()
    for analytic, t in zip(grads, (tQ, tK, tV)):
        assert relative_error(analytic, t.grad.numpy()) < 1e-10


def test_sdpa_causal_output_ignores_the_future(rng):
    Q, K, V, mask = _sdpa_problem(rng, "causal")
    out, _, _ = scaled_dot_product_attention_forward(Q, K, V, mask=mask)
    t = 1
    K2, V2 = K.copy(), V.copy()
    K2[:, :, t + 1:] += 5.0
    V2[:, :, t + 1:] -= 3.0
    out2, _, _ = scaled_dot_product_attention_forward(Q, K2, V2, mask=mask)
    np.testing.assert_array_equal(out2[:, :, :t + 1], out[:, :, :t + 1])
    assert np.abs(out2[:, :, t + 1:] - out[:, :, t + 1:]).min() > 1e-6
    unmasked, _, _ = scaled_dot_product_attention_forward(Q, K2, V2)
    assert np.abs(unmasked[:, :, 0] - out[:, :, 0]).max() > 1e-3


def test_sdpa_keeps_float32(rng):
    Q, K, V, mask = _sdpa_problem(rng, "causal")
    Q, K, V = (a.astype(np.float32) for a in (Q, K, V))
    out, w, cache = scaled_dot_product_attention_forward(Q, K, V, mask=mask)
    assert out.dtype == w.dtype == np.float32
    grads = scaled_dot_product_attention_backward(np.ones_like(out), cache)
    assert all(g.dtype == np.float32 for g in grads)
    out64, _, _ = scaled_dot_product_attention_forward(Q.astype(float), K.astype(float),
                                                       V.astype(float), mask=mask)
    assert np.abs(out - out64).max() < 1e-5


# ---------------------------------------------------------------------- multi-head attention
def test_mha_init_shapes(rng):
    params = init_multi_head_attention_params(8, 4, rng)
    assert set(params) == set(MHA_PARAM_NAMES)
    for name in ("W_q", "W_k", "W_v", "W_o"):
        assert params[name].shape == (8, 8)
        assert np.abs(params[name]).max() <= np.sqrt(6 / 16)
    for name in ("b_q", "b_k", "b_v", "b_o"):
        np.testing.assert_array_equal(params[name], np.zeros(8))


@pytest.mark.parametrize("kind", ["self", "self-causal-padding", "cross-padding"])
def test_mha_forward_matches_nn_multihead_attention(rng, kind):
    params = _mha_params(rng)
    x = rng.normal(size=(B, T, D))
    mem = rng.normal(size=(B, T + 2, D)) if kind.startswith("cross") else x
    Tk = mem.shape[1]
    kwargs, mask = {}, None
    if kind == "self-causal-padding":
        keep = padding_mask(np.array([T, 3]), T)
        mask = causal_mask(T) & keep[:, None, None, :]
        kwargs = {"attn_mask": torch.tensor(~causal_mask(T)),          # torch: True = blocked
                  "key_padding_mask": torch.tensor(~keep)}
    elif kind == "cross-padding":
        keep = padding_mask(np.array([Tk, 2]), Tk)
        mask = keep[:, None, None, :]
        kwargs = {"key_padding_mask": torch.tensor(~keep)}
    out, w, _ = multi_head_attention_forward(x, mem, mem, params, HEADS, mask=mask)
    assert out.shape == (B, T, D) and w.shape == (B, HEADS, T, Tk)
    ref, ref_w = _builtin_mha(params, HEADS)(_t(x), _t(mem), _t(mem), need_weights=True,
                                             average_attn_weights=False, **kwargs)
    assert np.abs(out - ref.detach().numpy()).max() < 1e-10
    assert np.abs(w - ref_w.detach().numpy()).max() < 1e-10


def _mha_torch(tx, tkv, tp, heads, mask):
    """Multi-head attention written out in torch ops, for autograd."""
    Bq, Tq, Dm = tx.shape
    dk = Dm // heads

    def split(y):
        return y.reshape(Bq, -1, heads, dk).transpose(1, 2)

    q, k, v = (split(inp @ tp["W_" + s] + tp["b_" + s])
               for inp, s in ((tx, "q"), (tkv, "k"), (tkv, "v")))
    heads_out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=None if mask is None else torch.tensor(mask))
    return heads_out.transpose(1, 2).reshape(Bq, Tq, Dm) @ tp["W_o"] + tp["b_o"]


@pytest.mark.parametrize("kind", ["self", "self-masked", "cross-masked"])
def test_mha_backward_finite_differences_and_autograd(rng, kind):
    params = _mha_params(rng)
    x = rng.normal(size=(B, T, D))
    cross = kind.startswith("cross")
    mem = rng.normal(size=(B, T + 1, D)) if cross else None
    mask = None
    if kind == "self-masked":
        mask = causal_mask(T) & padding_mask(np.array([T, 3]), T)[:, None, None, :]
    elif kind == "cross-masked":
        mask = padding_mask(np.array([T + 1, 2]), T + 1)[:, None, None, :]
    g = rng.normal(size=(B, T, D))

    def forward():
        kv = mem if cross else x
        return multi_head_attention_forward(x, kv, kv, params, HEADS, mask=mask)

    def loss():
        return float((forward()[0] * g).sum())

    _, _, cache = forward()
    dq, dk, dv, grads = multi_head_attention_backward(g, cache)
    assert set(grads) == set(MHA_PARAM_NAMES)
    if cross:
        dx, dmem = dq, dk + dv
        assert relative_error(dmem, numerical_gradient(loss, mem)) < 1e-6
    else:
        dx = dq + dk + dv                       # self-attention: x is query, key and value
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    # b_k adds the same q·b_k to every score of a row, which the softmax ignores: its gradient
    # is exactly zero, so it is compared in absolute terms.
    assert np.abs(grads["b_k"]).max() < 1e-12
    assert np.abs(numerical_gradient(loss, params["b_k"])).max() < 1e-8
    for name in MHA_PARAM_NAMES:
        if name != "b_k":
            assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name

    tx = _t(x, True)
    tmem = _t(mem, True) if cross else tx
    tp = {k: _t(v, True) for k, v in params.items()}
    (_mha_torch(tx, tmem, tp, HEADS, mask) * _t(g)).sum().backward()
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    if cross:
        assert relative_error(dmem, tmem.grad.numpy()) < 1e-10
    for name in MHA_PARAM_NAMES:
        if name != "b_k":
            assert relative_error(grads[name], tp[name].grad.numpy()) < 1e-10, name
    assert np.abs(tp["b_k"].grad.numpy()).max() < 1e-12


def test_mha_keeps_float32(rng):
    params = _mha_params(rng)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    out, w, cache = multi_head_attention_forward(x, x, x, params, HEADS, mask=causal_mask(T))
    assert out.dtype == w.dtype == np.float32
    dq, dk, dv, grads = multi_head_attention_backward(np.ones_like(out), cache)
    assert dq.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


def test_self_attention_is_permutation_equivariant(rng):
    params = _mha_params(rng)
    x = rng.normal(size=(B, T, D))
    perm = np.array([2, 0, 3, 1])
    out, _, _ = multi_head_attention_forward(x, x, x, params, HEADS)
    xp = x[:, perm]
    out_p, _, _ = multi_head_attention_forward(xp, xp, xp, params, HEADS)
    np.testing.assert_allclose(out_p, out[:, perm], atol=1e-13)


# ------------------------------------------------------------------------------- bad input
def test_sdpa_bad_input(rng):
    Q, K, V, _ = _sdpa_problem(rng, None)
    with pytest.raises(ValueError, match="^q: "):
        scaled_dot_product_attention_forward(Q[0, 0, 0], K, V)
    with pytest.raises(ValueError, match="^k: "):
        scaled_dot_product_attention_forward(Q, K[..., :2], V)
    with pytest.raises(ValueError, match="^k: "):
        scaled_dot_product_attention_forward(Q, K[:1], V)
    with pytest.raises(ValueError, match="^v: "):
        scaled_dot_product_attention_forward(Q, K, V[:, :, :3])
    with pytest.raises(TypeError, match="mask.*bool"):
        scaled_dot_product_attention_forward(Q, K, V, mask=np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"mask.*\(2, 2, 4, 5\).*\(4, 4\)"):
        scaled_dot_product_attention_forward(Q, K, V, mask=causal_mask(4))
    bad = np.ones((4, 5), bool)
    bad[2] = False
    with pytest.raises(ValueError, match="mask.*row with no key"):
        scaled_dot_product_attention_forward(Q, K, V, mask=bad)
    with pytest.raises(ValueError, match="scale"):
        scaled_dot_product_attention_forward(Q, K, V, scale=-1.0)
    with pytest.raises(TypeError, match="^q: "):
        scaled_dot_product_attention_forward("Q", K, V)


def test_mha_bad_input(rng):
    params = _mha_params(rng)
    x = rng.normal(size=(B, T, D))
    with pytest.raises(ValueError, match="num_heads"):
        multi_head_attention_forward(x, x, x, params, 4)
    with pytest.raises(ValueError, match="num_heads"):
        init_multi_head_attention_params(6, 4)
    with pytest.raises(ValueError, match="query"):
        multi_head_attention_forward(x[..., :4], x, x, params, HEADS)
    with pytest.raises(ValueError, match="key"):
        multi_head_attention_forward(x, x[:1], x, params, HEADS)
    with pytest.raises(ValueError, match="value"):
        multi_head_attention_forward(x, x, x[:, :2], params, HEADS)
    with pytest.raises(ValueError, match="params.*W_o"):
        multi_head_attention_forward(x, x, x, {k: v for k, v in params.items() if k != "W_o"},
                                     HEADS)
    with pytest.raises(TypeError, match="mask"):
        multi_head_attention_forward(x, x, x, params, HEADS, mask=causal_mask(T).astype(int))
    with pytest.raises(ValueError, match="mask"):
        multi_head_attention_forward(x, x, x, params, HEADS, mask=np.ones((3, T), bool))
    blocked_first_batch = np.ones((B, 1, T, T), bool)
    blocked_first_batch[0, 0, 1] = False           # query 1 of sequence 0 may attend to nothing
    with pytest.raises(ValueError, match="mask.*row with no key"):
        multi_head_attention_forward(x, x, x, params, HEADS, mask=blocked_first_batch)


def test_pooling_additive_and_mask_helpers_bad_input(rng):
    params, X, mask = _pooling_problem(rng)
    with pytest.raises(ValueError, match="X"):
        attention_pooling_forward(X[0], params)
    with pytest.raises(ValueError, match="X"):
        attention_pooling_forward(X[..., :3], params)
    with pytest.raises(ValueError, match="mask"):
        attention_pooling_forward(X, params, mask=mask[:, :2])
    with pytest.raises(ValueError, match="mask.*row with no key"):
        attention_pooling_forward(X, params, mask=np.zeros((B, T), bool))
    with pytest.raises(TypeError, match="mask"):
        attention_pooling_forward(X, params, mask=mask.astype(float))
    with pytest.raises(ValueError, match="params.*w"):
        attention_pooling_forward(X, {"W_a": params["W_a"]})
    ap, query, keys, values, _ = _additive_problem(rng, None)
    with pytest.raises(ValueError, match="values"):
        additive_attention_forward(query, keys, values[:, :2], ap)
    with pytest.raises(ValueError, match="keys"):
        additive_attention_forward(query, keys[..., :2], values, ap)
    with pytest.raises(TypeError, match="mask"):
        additive_attention_forward(query, keys, values, ap, mask=np.ones((B, 5), int))
    with pytest.raises(ValueError, match="mask"):
        additive_attention_forward(query, keys, values, ap, mask=np.ones((B, 4), bool))
    with pytest.raises(ValueError, match="lengths"):
        padding_mask(np.array([5, 2]), 4)
    with pytest.raises(ValueError, match="lengths"):
        padding_mask(np.array([0, 2]), 4)
    with pytest.raises(TypeError, match="lengths"):
        padding_mask(np.array([1.5, 2.0]), 4)
    with pytest.raises(ValueError, match="T"):
        causal_mask(0)
    _, _, cache = scaled_dot_product_attention_forward(*_sdpa_problem(rng, None)[:3])
    with pytest.raises(ValueError, match="dout"):
        scaled_dot_product_attention_backward(np.ones((2, 2)), cache)
