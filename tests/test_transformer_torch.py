"""seqlearn.torch.layernorm and seqlearn.torch.transformer: parity with the NumPy reference
(float64) and with nn.LayerNorm / nn.TransformerEncoderLayer / nn.TransformerDecoderLayer
(float32, copied weights), gradients, the Transformer's seq2seq interface (causality, padding,
greedy decoding, a copy task it learns), the character Transformer, and bad input."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from seqlearn.data.transduction import EOS, PAD, transduction_task, vocabulary_size
from seqlearn.numpy import attention as np_att
from seqlearn.numpy import common as np_common
from seqlearn.numpy import layernorm as np_ln
from seqlearn.numpy import transformer as np_tf
from seqlearn.timing import saved_tensor_bytes
from seqlearn.torch.attention import MultiHeadAttention, causal_mask
from seqlearn.torch.common import padding_mask
from seqlearn.torch.layernorm import LayerNorm
from seqlearn.torch.transformer import (CharTransformer, DecoderBlock, EncoderBlock, FeedForward,
                                        PositionalEncoding, Transformer,
                                        sinusoidal_positional_encoding)

from conftest import close, t64

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
B, T, D, HEADS, FF = 2, 6, 8, 2, 12


def _perturb_norms(params, rng):
    """LayerNorm parameters other than (1, 0), so that a swapped γ/β would show."""
    for part in params.values():
        if set(part) == {"gamma", "beta"}:
            part["gamma"] = 1 + 0.1 * rng.normal(size=part["gamma"].shape)
            part["beta"] = 0.1 * rng.normal(size=part["beta"].shape)
    return params


# -- layer norm, feed-forward, positional encoding ------------------------------------------------
def test_layer_norm_matches_numpy_and_builtin(rng):
    x = rng.normal(size=(B, T, D)) * 3 + 1
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    y, cache = np_ln.layer_norm_forward(x, {"gamma": gamma, "beta": beta})
    dy = rng.normal(size=y.shape)
    dx, grads = np_ln.layer_norm_backward(dy, cache)
    dgamma, dbeta = grads["gamma"], grads["beta"]
    model = LayerNorm.from_numpy({"gamma": gamma, "beta": beta})
    tx = t64(x, True)
    out = model(tx)
    (out * t64(dy)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), y, atol=1e-10, rtol=0)
    np.testing.assert_allclose(tx.grad.numpy(), dx, atol=1e-10, rtol=0)
    np.testing.assert_allclose(model.gamma.grad.numpy(), dgamma, atol=1e-10, rtol=0)
    np.testing.assert_allclose(model.beta.grad.numpy(), dbeta, atol=1e-10, rtol=0)

    builtin = nn.LayerNorm(D)
    with torch.no_grad():
        builtin.weight.normal_()
        builtin.bias.normal_()
    ours = LayerNorm.from_torch_builtin(builtin)
    x32 = torch.randn(B, T, D, requires_grad=True)
    g = torch.randn(B, T, D)
    a, b = ours(x32), builtin(x32)
    assert close(a, b)
    (ga,) = torch.autograd.grad((a * g).sum(), x32)
    (gb,) = torch.autograd.grad((b * g).sum(), x32)
    assert close(ga, gb)
    assert close(ours.to_torch_builtin()(x32), b)


def test_feed_forward_matches_numpy(rng):
    params = np_tf.init_feed_forward_params(D, FF, rng)
    x = rng.normal(size=(B, T, D))
    y, cache = np_tf.feed_forward_forward(x, params)
    dy = rng.normal(size=y.shape)
    dx, grads = np_tf.feed_forward_backward(dy, cache)
    model = FeedForward.from_numpy(params)
    tx = t64(x, True)
    out = model(tx)
    (out * t64(dy)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), y, atol=1e-10, rtol=0)
    np.testing.assert_allclose(tx.grad.numpy(), dx, atol=1e-10, rtol=0)
    for name, ref in grads.items():
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), ref, atol=1e-10, rtol=0)
    with pytest.raises(TypeError, match="x: expected dtype torch.float64"):
        model(tx.detach().float())


def test_positional_encoding_matches_numpy():
    pe = sinusoidal_positional_encoding(50, 16, dtype=torch.float64)
    np.testing.assert_allclose(pe.numpy(), np_tf.sinusoidal_positional_encoding(50, 16),
                               atol=1e-10, rtol=0)
    assert sinusoidal_positional_encoding(3, 4).dtype == torch.get_default_dtype()
    x = torch.zeros(2, 5, 16, dtype=torch.float64)
    assert torch.equal(PositionalEncoding(16, 10)(x)[1], pe[:5])
    with pytest.raises(ValueError, match="d_model"):
        sinusoidal_positional_encoding(5, 7)
    with pytest.raises(ValueError, match="max_len"):
        PositionalEncoding(16, 4)(x)


# -- blocks against the NumPy reference -----------------------------------------------------------
def test_encoder_block_matches_numpy_forward_and_backward(rng):
    params = _perturb_norms(np_tf.init_encoder_block_params(D, HEADS, FF, rng), rng)
    x = rng.normal(size=(B, T, D))
    mask = np_att.causal_mask(T) & np_common.padding_mask([T, 3], T)[:, None, None, :]
    z, cache = np_tf.encoder_block_forward(x, params, HEADS, mask)
    dz = rng.normal(size=z.shape)
    dx, grads = np_tf.encoder_block_backward(dz, cache)

    block = EncoderBlock.from_numpy(params, HEADS)
    tx = t64(x, True)
    out = block(tx, torch.from_numpy(mask))
    (out * t64(dz)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), z, atol=1e-10, rtol=0)
    np.testing.assert_allclose(tx.grad.numpy(), dx, atol=1e-10, rtol=0)
    for part, part_grads in grads.items():
        for name, ref in part_grads.items():
            ours = getattr(getattr(block, part), name).grad.numpy()
            np.testing.assert_allclose(ours, ref, atol=1e-10, rtol=0, err_msg=f"{part}.{name}")
    back = block.to_numpy()
    assert np.array_equal(back["norm_2"]["beta"], params["norm_2"]["beta"])
    assert np.array_equal(back["attention"]["W_v"], params["attention"]["W_v"])


def test_decoder_block_matches_numpy(rng):
    params = _perturb_norms(np_tf.init_decoder_block_params(D, HEADS, FF, rng), rng)
    S = 4
    x, memory = rng.normal(size=(B, T, D)), rng.normal(size=(B, S, D))
    self_mask = np_att.causal_mask(T)
    memory_mask = np_common.padding_mask([S, 2], S)[:, None, None, :]
    z, cache = np_tf.decoder_block_forward(x, memory, params, HEADS, self_mask, memory_mask)
    block = DecoderBlock.from_numpy(params, HEADS)
    out, cross = block(t64(x), t64(memory), torch.from_numpy(self_mask),
                       torch.from_numpy(memory_mask), need_weights=True)
    np.testing.assert_allclose(out.detach().numpy(), z, atol=1e-10, rtol=0)
    np.testing.assert_allclose(cross.detach().numpy(), cache["cross_weights"], atol=1e-10, rtol=0)
    back = block.to_numpy()
    assert set(back) == set(params)
    assert np.array_equal(back["norm_3"]["gamma"], params["norm_3"]["gamma"])


# -- blocks against torch's built-in layers -------------------------------------------------------
def _randomise_norms(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_builtin_layer(norm_first):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True,
                                       norm_first=norm_first)
    _randomise_norms(layer)
    block = EncoderBlock.from_torch_builtin(layer)
    assert block.norm_first == norm_first
    x = torch.randn(B, 7, 16, requires_grad=True)
    causal, pad = causal_mask(7), padding_mask([7, 4], 7)
    ours = block(x, causal & pad[:, None, None, :])
    ref = layer(x, src_mask=~causal, src_key_padding_mask=~pad)
    assert close(ours, ref)
    g = torch.randn_like(ref)
    (gx,) = torch.autograd.grad((ours * g).sum(), x, retain_graph=True)
    (gx_ref,) = torch.autograd.grad((ref * g).sum(), x, retain_graph=True)
    assert close(gx, gx_ref)
    (ours * g).sum().backward()
    (ref * g).sum().backward()
    assert close(block.feed_forward.W_1.grad, layer.linear1.weight.grad.T)
    assert close(block.norm_1.gamma.grad, layer.norm1.weight.grad)
    back = block.to_torch_builtin()
    assert close(back(x, src_mask=~causal), layer(x, src_mask=~causal))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_matches_builtin_layer(norm_first):
    torch.manual_seed(0)
    layer = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True,
                                       norm_first=norm_first)
    _randomise_norms(layer)
    block = DecoderBlock.from_torch_builtin(layer)
    x = torch.randn(B, 7, 16, requires_grad=True)
    memory = torch.randn(B, 5, 16, requires_grad=True)
    causal, pad = causal_mask(7), padding_mask([5, 2], 5)
    ours = block(x, memory, causal, pad[:, None, None, :])
    ref = layer(x, memory, tgt_mask=~causal, memory_key_padding_mask=~pad)
    assert close(ours, ref)
    g = torch.randn_like(ref)
    grads = torch.autograd.grad((ours * g).sum(), (x, memory))
    ref_grads = torch.autograd.grad((ref * g).sum(), (x, memory))
    for a, b in zip(grads, ref_grads):
        assert close(a, b)
    assert close(block.to_torch_builtin()(x, memory, tgt_mask=~causal),
                 layer(x, memory, tgt_mask=~causal))


def test_builtin_layers_that_cannot_convert():
    with pytest.raises(ValueError, match="dropout"):
        EncoderBlock.from_torch_builtin(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True))
    with pytest.raises(ValueError, match="activation"):
        EncoderBlock.from_torch_builtin(nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, activation="gelu", batch_first=True))
    with pytest.raises(ValueError, match="batch_first"):
        DecoderBlock.from_torch_builtin(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0))
    with pytest.raises(ValueError, match="activation"):
        DecoderBlock.from_torch_builtin(nn.TransformerDecoderLayer(
            8, 2, 16, dropout=0.0, activation="gelu", batch_first=True))
    with pytest.raises(TypeError, match="module"):
        DecoderBlock.from_torch_builtin(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                                   batch_first=True))


# -- the encoder–decoder Transformer --------------------------------------------------------------
def _tiny_transformer(**kw):
    torch.manual_seed(0)
    return Transformer(9, 11, d_model=16, num_heads=2, d_ff=32, num_layers=2, max_len=20, **kw)


def test_transformer_decoder_is_causal():
    model = _tiny_transformer()
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    tgt = torch.randint(1, 11, (2, 8))
    changed = tgt.clone()
    changed[:, 5:] = torch.randint(1, 11, (2, 3))
    a, b = model(src, tgt), model(src, changed)
    assert a.shape == (2, 8, 11)
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not torch.allclose(a[:, 5:], b[:, 5:], atol=1e-3)


def test_source_padding_does_not_change_outputs():
    model = _tiny_transformer()
    src = torch.tensor([[3, 4, 5, 0], [7, 8, 0, 0]])
    longer = torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    tgt = torch.randint(1, 11, (2, 5))
    assert torch.allclose(model(src, tgt), model(longer, tgt), atol=1e-5)
    # while a change of a real source token does change them
    other = src.clone()
    other[0, 1] = 6
    assert not torch.allclose(model(src, tgt)[0], model(other, tgt)[0], atol=1e-3)


def test_positional_encoding_is_what_tells_positions_apart():
    src = torch.tensor([[3, 4, 5, 6]])
    swapped = torch.tensor([[4, 3, 5, 6]])
    tgt = torch.tensor([[1, 3, 4]])
    with_pe, without = _tiny_transformer(), _tiny_transformer(positional_encoding=False)
    assert not torch.allclose(with_pe(src, tgt), with_pe(swapped, tgt), atol=1e-4)
    # without positions the encoder sees a bag of tokens: swapping two of them changes nothing
    assert torch.allclose(without(src, tgt), without(swapped, tgt), atol=1e-5)


def test_greedy_decode_shapes_and_consistency():
    model = _tiny_transformer()
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [3, 0, 0, 0]])
    tokens, attention = model.greedy_decode(src, 7, return_attention=True)
    assert tokens.shape == (3, 7) and tokens.dtype == torch.int64
    assert attention.shape == (3, 7, 4) and model.last_attention is attention
    assert torch.all(attention[1, :, 2:] == 0)           # padding gets no attention
    # each token is the argmax of the teacher-forced logits given the tokens before it
    for b in range(3):
        row = tokens[b]
        eos = (row == EOS).nonzero()
        n = int(eos[0]) + 1 if len(eos) else 7
        assert torch.all(row[n:] == PAD)
        assert torch.allclose(attention[b, :n].sum(-1), torch.ones(n), atol=1e-5)
        tgt_in = torch.cat([torch.tensor([1]), row[:n - 1]])[None]
        logits = model(src[b:b + 1], tgt_in)
        assert torch.equal(logits[0].argmax(-1), row[:n])
    assert torch.equal(model.greedy_decode(src, 7), tokens)
    assert model.last_attention is None                   # only kept when asked for
    assert torch.equal(model.greedy_decode(src.numpy(), 7), tokens)   # arrays of ids work too


def test_transformer_learns_a_copy_task():
    torch.manual_seed(0)
    n_symbols = 5
    V = vocabulary_size(n_symbols)
    model = Transformer(V, V, d_model=32, num_heads=2, d_ff=64, num_layers=1, max_len=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        for step in range(120):
            data = transduction_task(64, (2, 5), task="copy", n_symbols=n_symbols, rng=step)
            src, tgt_in, tgt_out = (torch.from_numpy(data[k]) for k in ("src", "tgt_in",
                                                                         "tgt_out"))
            logits = model(src, tgt_in)
            loss = F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1), ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            opt.step()
    test = transduction_task(200, (2, 5), task="copy", n_symbols=n_symbols, rng=10 ** 6)
    pred = model.greedy_decode(torch.from_numpy(test["src"]), test["tgt_out"].shape[1])
    exact = (pred.numpy() == test["tgt_out"]).all(1).mean()
    assert exact > 0.8, exact


def test_transformer_bad_inputs():
    model = _tiny_transformer()
    src = torch.tensor([[3, 4, 5]])
    with pytest.raises(ValueError, match="src"):
        model(torch.tensor([[3, 9]]), torch.tensor([[1]]))          # id 9 ≥ src vocabulary 9
    with pytest.raises(ValueError, match="tgt_in"):
        model(src, torch.tensor([[1, 11]]))
    with pytest.raises(TypeError, match="src"):
        model(src.float(), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="src"):
        model(torch.tensor([[3, 4], [0, 0]]), torch.tensor([[1], [1]]))    # all padding
    with pytest.raises(ValueError, match="max_len"):
        model(torch.full((1, 21), 3), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, 21)
    with pytest.raises(TypeError, match="memory"):
        model.decode(torch.tensor([[1]]), src.numpy(), None)
    with pytest.raises(ValueError, match="memory"):
        model.decode(torch.tensor([[1]]), torch.zeros(1, 3, 5), None)     # width 5, not 16
    with pytest.raises(ValueError, match="num_heads"):
        Transformer(5, 5, d_model=10, num_heads=3)
    with pytest.raises(ValueError, match="d_model"):
        Transformer(5, 5, d_model=9, num_heads=3)


# -- the character Transformer --------------------------------------------------------------------
def test_char_transformer_is_causal_and_starts_near_uniform():
    torch.manual_seed(0)
    V = 30
    model = CharTransformer(V, d_model=32, num_heads=4, d_ff=64, context=16)
    x = torch.randint(0, V, (4, 16))
    changed = x.clone()
    changed[:, 10:] = torch.randint(0, V, (4, 6))
    a, b = model(x), model(changed)
    assert a.shape == (4, 16, V) and model(x[0]).shape == (16, V)
    assert torch.allclose(a[:, :10], b[:, :10], atol=1e-6)
    assert not torch.allclose(a[:, 10:], b[:, 10:], atol=1e-3)
    loss = model.loss(x, torch.randint(0, V, (4, 16)))
    assert abs(loss.item() - math.log(V)) < 0.1


@pytest.mark.parametrize("norm_first", [True, False])
def test_char_transformer_trains_on_a_repeating_text(norm_first):
    torch.manual_seed(0)
    text = torch.tensor([0, 1, 2, 3, 4, 5] * 6)
    model = CharTransformer(6, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=12,
                            norm_first=norm_first)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs = torch.stack([text[i:i + 12] for i in range(0, 20, 2)])
    targets = torch.stack([text[i + 1:i + 13] for i in range(0, 20, 2)])
    first = model.loss(inputs, targets).item()
    for _ in range(60):
        loss = model.loss(inputs, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first


def test_char_transformer_generate():
    torch.manual_seed(0)
    V = 12
    model = CharTransformer(V, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=8)
    prompt = torch.tensor([1, 2, 3])
    out = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    assert out.shape == (23,) and out.dtype == torch.int64
    assert torch.equal(out[:3], prompt) and int(out.min()) >= 0 and int(out.max()) < V
    again = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    assert torch.equal(out, again)
    greedy = model.generate(prompt, 5, temperature=0)
    assert torch.equal(greedy, model.generate(prompt, 5, temperature=0))
    assert model.generate(prompt, 0).shape == (3,)


def test_char_transformer_bad_inputs():
    model = CharTransformer(10, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=8)
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="indices"):
        model(torch.tensor([[3, 10]]))
    with pytest.raises(TypeError, match="indices"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="targets"):
        model.loss(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="inputs"):
        model.loss(torch.zeros(2, 4), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="n: "):
        model.generate(torch.tensor([1]), -1)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(torch.tensor([1]), 3, temperature=-1.0)
    with pytest.raises(ValueError, match="prompt"):
        model.generate(torch.zeros(2, 2, dtype=torch.long), 3)


# -- the memory that training keeps (seqlearn.timing.saved_tensor_bytes, chapter 8's measurement) -
def test_saved_tensor_bytes_counts_each_saved_storage_once():
    x = torch.randn(5, 7, requires_grad=True)
    nbytes, y = saved_tensor_bytes(lambda: x.exp(), exclude=[x])     # exp saves its output
    assert nbytes == 5 * 7 * 4 and y.shape == (5, 7)
    # sin saves its input, a view of exp's output: one storage, counted once
    nbytes, _ = saved_tensor_bytes(lambda: x.exp().view(-1).sin(), exclude=[x])
    assert nbytes == 5 * 7 * 4
    w = torch.randn(7, requires_grad=True)
    assert saved_tensor_bytes(lambda: x * w, exclude=[x, w])[0] == 0   # the inputs themselves
    assert saved_tensor_bytes(lambda: x * w)[0] == (5 * 7 + 7) * 4
    with torch.no_grad():
        assert saved_tensor_bytes(lambda: x.exp())[0] == 0


@pytest.mark.parametrize("T", [64, 256])
def test_attention_keeps_its_weights_for_backward_unless_fused(T):
    """The chapter's measurement: the explicit attention keeps the h T² weights (4 bytes each in
    float32) and a few (T, D) arrays; the fused kernel recomputes the weights, keeping O(T D)."""
    torch.manual_seed(0)
    D, heads = 16, 4
    x = torch.randn(1, T, D, requires_grad=True)
    explicit = MultiHeadAttention(D, heads, fused=False, dtype=torch.float32)
    fused = MultiHeadAttention(D, heads, dtype=torch.float32)
    fused.load_state_dict(explicit.state_dict())
    kept = {}
    for name, layer in (("explicit", explicit), ("fused", fused)):
        kept[name], out = saved_tensor_bytes(lambda: layer(x, x, x),
                                             exclude=[x, *layer.parameters()])
        out.sum().backward()                 # what was counted is what backward needs
    weights = 4 * heads * T * T
    assert weights <= kept["explicit"] <= weights + 8 * 4 * T * D
    assert kept["fused"] <= 8 * 4 * T * D + 4 * heads * T


def test_saved_tensor_bytes_bad_input():
    with pytest.raises(TypeError, match="fn"):
        saved_tensor_bytes(3)
    with pytest.raises(TypeError, match="exclude"):
        saved_tensor_bytes(lambda: None, exclude=[1, 2])


# -- CUDA -----------------------------------------------------------------------------------------
@CUDA
def test_encoder_block_and_transformer_on_cuda():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, device="cuda")
    block = EncoderBlock.from_torch_builtin(layer)
    x = torch.randn(B, 7, 16, device="cuda")
    causal = causal_mask(7, device="cuda")
    assert close(block(x, causal), layer(x, src_mask=~causal))
    model = _tiny_transformer().to("cuda")
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]], device="cuda")
    tokens = model.greedy_decode(src, 5)
    assert tokens.device.type == "cuda" and tokens.shape == (2, 5)
    char = CharTransformer(10, d_model=16, num_heads=2, d_ff=32, context=8).to("cuda")
    out = char.generate(torch.tensor([1, 2]), 4,
                        generator=torch.Generator(device="cuda").manual_seed(0))
    assert out.shape == (6,) and out.device.type == "cpu"
