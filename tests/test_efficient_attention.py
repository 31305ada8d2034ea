"""Cheaper attention (seqlearn.numpy.efficient_attention, seqlearn.torch.efficient_attention):
gradients against finite differences and autograd; NumPy vs torch in float64; tiled attention
equal to softmax attention and to F.scaled_dot_product_attention (forward and backward) while
keeping O(T) memory for the backward pass; causal linear attention equal to its recurrence;
random features unbiased for exp(x·y); bad input; determinism under seqlearn.seed."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import seqlearn
from seqlearn.gradcheck import check_gradients
from seqlearn.numpy import efficient_attention as ne
from seqlearn.numpy.attention import causal_mask, scaled_dot_product_attention_forward
from seqlearn.timing import saved_tensor_bytes
from seqlearn.torch import efficient_attention as te

from conftest import close, t64

pytestmark = pytest.mark.usefixtures("one_thread")
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _qkv(rng, lead=(2, 3), Tq=5, Tk=5, d=4, dv=3, size=1.0):
    return (size * rng.normal(size=lead + (Tq, d)), size * rng.normal(size=lead + (Tk, d)),
            rng.normal(size=lead + (Tk, dv)))


def _random_mask(rng, shape):
    mask = rng.random(shape) < 0.5
    mask[..., 0] = True                      # every query has a key
    return mask


# -- linear attention ------------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("random_features", [False, True])
def test_linear_attention_gradients_match_finite_differences(rng, causal, random_features):
    q, k, v = _qkv(rng)
    U = rng.normal(size=(6, 4)) if random_features else None
    dout = rng.normal(size=q.shape[:-1] + (3,))
    out, cache = ne.linear_attention_forward(q, k, v, causal=causal, features=U)
    dq, dk, dv = ne.linear_attention_backward(dout, cache)
    arrays = {"q": q, "k": k, "v": v}

    def loss():
        return float(np.sum(ne.linear_attention_forward(arrays["q"], arrays["k"], arrays["v"],
                                                        causal=causal, features=U)[0] * dout))

    errors = check_gradients(loss, arrays, {"q": dq, "k": dk, "v": dv})
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("random_features", [False, True])
def test_linear_attention_numpy_and_torch_agree_forward_and_backward(rng, causal,
                                                                     random_features):
    q, k, v = _qkv(rng, Tq=6, Tk=6)
    U = rng.normal(size=(5, 4)) if random_features else None
    dout = rng.normal(size=(2, 3, 6, 3))
    out, cache = ne.linear_attention_forward(q, k, v, causal=causal, features=U)
    grads = ne.linear_attention_backward(dout, cache)
    tq, tk, tv = t64(q, True), t64(k, True), t64(v, True)
    ours = te.linear_attention(tq, tk, tv, causal=causal, features=None if U is None else t64(U))
    ours.backward(t64(dout))
    assert np.abs(ours.detach().numpy() - out).max() < 1e-10
    for mine, theirs in zip(grads, (tq.grad, tk.grad, tv.grad)):
        assert np.abs(mine - theirs.numpy()).max() < 1e-10


def test_linear_attention_is_the_formula_written_out(rng):
    q, k, v = _qkv(rng, lead=(1,), Tq=3, Tk=4)
    phi = lambda x: np.where(x > 0, x + 1, np.exp(x))        # noqa: E731
    weights = phi(q) @ np.swapaxes(phi(k), -1, -2)           # (1, Tq, Tk), unnormalised
    expected = weights @ v / weights.sum(-1, keepdims=True)
    out, _ = ne.linear_attention_forward(q, k, v, eps=0.0)
    assert np.abs(out - expected).max() < 1e-12


def test_causal_linear_attention_is_its_recurrence(rng):
    q, k, v = _qkv(rng, Tq=7, Tk=7)
    parallel, _ = ne.linear_attention_forward(q, k, v, causal=True)
    state, steps = None, []
    for t in range(7):
        out_t, state = ne.linear_attention_step(q[..., t, :], k[..., t, :], v[..., t, :], state)
        steps.append(out_t)
    assert np.abs(np.stack(steps, axis=-2) - parallel).max() < 1e-12
    assert state[0].shape == (2, 3, 4, 3) and state[1].shape == (2, 3, 4)
    # the same in torch
    tq, tk, tv = t64(q), t64(k), t64(v)
    state, steps = None, []
    for t in range(7):
        out_t, state = te.linear_attention_step(tq[..., t, :], tk[..., t, :], tv[..., t, :], state)
        steps.append(out_t)
    assert np.abs(torch.stack(steps, dim=-2).numpy() - parallel).max() < 1e-12


def test_causal_linear_attention_does_not_look_ahead(rng):
    q, k, v = _qkv(rng, Tq=6, Tk=6)
    out, _ = ne.linear_attention_forward(q, k, v, causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[..., 4:, :] += 5.0
    v2[..., 4:, :] -= 3.0
    out2, _ = ne.linear_attention_forward(q, k2, v2, causal=True)
    assert np.abs(out2[..., :4, :] - out[..., :4, :]).max() == 0.0
    assert np.abs(out2[..., 4:, :] - out[..., 4:, :]).max() > 1e-3


def test_random_features_estimate_exp_of_the_dot_product():
    rng = np.random.default_rng(0)
    x, y = 0.5 * rng.normal(size=4), 0.5 * rng.normal(size=4)
    U = ne.random_feature_matrix(200000, 4, rng)
    estimate = ne.positive_random_features(x, U) @ ne.positive_random_features(y, U)
    assert abs(estimate / np.exp(x @ y) - 1) < 0.01
    assert np.all(ne.positive_random_features(x, U) > 0)


def test_performer_approaches_softmax_attention_with_more_features():
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, lead=(1,), Tq=16, Tk=16, d=8, dv=4, size=0.5)
    exact, _, _ = scaled_dot_product_attention_forward(q, k, v)
    errors = []
    for r in (8, 4096):
        U = ne.random_feature_matrix(r, 8, np.random.default_rng(2))
        errors.append(np.abs(ne.linear_attention_forward(q, k, v, features=U)[0] - exact).max())
    assert errors[1] < 0.02 < errors[0]


def test_torch_feature_maps_match_numpy(rng):
    x, U = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    assert np.abs(te.elu_feature_map(t64(x)).numpy() - ne.elu_feature_map(x)).max() < 1e-12
    assert np.abs(te.positive_random_features(t64(x), t64(U)).numpy()
                  - ne.positive_random_features(x, U)).max() < 1e-12
    g = torch.Generator().manual_seed(0)
    assert te.random_feature_matrix(5, 4, generator=g, dtype=torch.float64).shape == (5, 4)


# -- tiled attention -------------------------------------------------------------------------
@pytest.mark.parametrize("tile_size", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("mask_kind", [None, "causal", "random"])
def test_tiled_attention_equals_softmax_attention(rng, tile_size, mask_kind):
    q, k, v = _qkv(rng, Tq=6, Tk=7, size=4.0)      # scores of tens: the running max matters
    mask = {None: None, "causal": causal_mask(7)[1:],
            "random": _random_mask(rng, (2, 3, 6, 7))}[mask_kind]
    out, _ = ne.tiled_attention_forward(q, k, v, mask=mask, tile_size=tile_size)
    exact, _, _ = scaled_dot_product_attention_forward(q, k, v, mask=mask)
    assert np.abs(out - exact).max() < 1e-12


@pytest.mark.parametrize("tile_size", [1, 3, 64])
@pytest.mark.parametrize("masked", [False, True])
def test_tiled_attention_gradients_match_finite_differences(rng, tile_size, masked):
    q, k, v = _qkv(rng, Tq=4, Tk=5, size=2.0)
    mask = _random_mask(rng, (2, 1, 4, 5)) if masked else None
    dout = rng.normal(size=(2, 3, 4, 3))
    _, cache = ne.tiled_attention_forward(q, k, v, mask=mask, tile_size=tile_size)
    dq, dk, dv = ne.tiled_attention_backward(dout, cache)
    arrays = {"q": q, "k": k, "v": v}

    def loss():
        return float(np.sum(ne.tiled_attention_forward(arrays["q"], arrays["k"], arrays["v"],
                                                       mask=mask, tile_size=tile_size)[0] * dout))

    errors = check_gradients(loss, arrays, {"q": dq, "k": dk, "v": dv})
    assert max(errors.values()) < 1e-6, errors
    assert "weights" not in cache and cache["lse"].shape == (2, 3, 4)


def test_a_mask_that_blocks_a_whole_tile_for_some_rows(rng):
    q, k, v = _qkv(rng, lead=(1,), Tq=3, Tk=6)
    mask = np.zeros((3, 6), dtype=bool)
    mask[:, 5] = True                                 # keys 0-4 blocked: early tiles are empty
    mask[0, 0] = True
    out, _ = ne.tiled_attention_forward(q, k, v, mask=mask, tile_size=2)
    exact, _, _ = scaled_dot_product_attention_forward(q, k, v, mask=mask)
    assert np.all(np.isfinite(out)) and np.abs(out - exact).max() < 1e-12


def test_tiled_attention_numpy_and_torch_agree_forward_and_backward(rng):
    q, k, v = _qkv(rng, Tq=5, Tk=8)
    mask = _random_mask(rng, (2, 3, 5, 8))
    dout = rng.normal(size=(2, 3, 5, 3))
    out, cache = ne.tiled_attention_forward(q, k, v, mask=mask, tile_size=3)
    grads = ne.tiled_attention_backward(dout, cache)
    tq, tk, tv = t64(q, True), t64(k, True), t64(v, True)
    ours = te.tiled_attention(tq, tk, tv, mask=torch.from_numpy(mask), tile_size=3)
    ours.backward(t64(dout))
    assert np.abs(ours.detach().numpy() - out).max() < 1e-10
    for mine, theirs in zip(grads, (tq.grad, tk.grad, tv.grad)):
        assert np.abs(mine - theirs.numpy()).max() < 1e-10


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("causal", [False, True])
def test_tiled_attention_matches_the_builtin_in_float32(device, causal):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 50, 16, device=device, requires_grad=True) for _ in range(3))
    mask = torch.ones(50, 50, dtype=torch.bool, device=device).tril() if causal else None
    ours = te.tiled_attention(q, k, v, mask=mask, tile_size=16)
    builtin = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert close(ours, builtin)
    dout = torch.randn_like(ours)
    mine = torch.autograd.grad(ours, (q, k, v), dout)
    theirs = torch.autograd.grad(builtin, (q, k, v), dout)
    assert all(close(a, b) for a, b in zip(mine, theirs))


def test_tiled_attention_passes_torch_gradcheck():
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 2, 9, 4, dtype=torch.float64, requires_grad=True)
               for _ in range(3))
    assert torch.autograd.gradcheck(lambda a, b, c: te.tiled_attention(a, b, c, tile_size=4),
                                    (q, k, v))


@pytest.mark.parametrize("T", [64, 256])
def test_tiled_attention_keeps_only_the_output_and_one_number_per_query(T):
    q, k, v = (torch.randn(1, 4, T, 16, requires_grad=True) for _ in range(3))
    kept, out = saved_tensor_bytes(lambda: te.tiled_attention(q, k, v, tile_size=32),
                                   exclude=[q, k, v])
    assert kept == 4 * (4 * T * 16 + 4 * T)                  # out and lse, float32
    explicit, _ = saved_tensor_bytes(
        lambda: torch.softmax(q @ k.transpose(-1, -2) / 4, dim=-1) @ v, exclude=[q, k, v])
    assert explicit >= 4 * 4 * T * T                         # the weights, at least
    out.sum().backward()
    assert q.grad is not None and k.grad is not None and v.grad is not None


# -- bad input and determinism ---------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda q, k, v: ne.linear_attention_forward(q[..., :3], k, v), ValueError, "k"),
    (lambda q, k, v: ne.linear_attention_forward(q, k, v[..., :4, :]), ValueError, "v"),
    (lambda q, k, v: ne.linear_attention_forward(q[..., :4, :], k, v, causal=True),
     ValueError, "k"),
    (lambda q, k, v: ne.linear_attention_forward(q, k, v, features=np.ones((3, 5))),
     ValueError, "features"),
    (lambda q, k, v: ne.linear_attention_forward(q, k, v, eps=-1.0), ValueError, "eps"),
    (lambda q, k, v: ne.linear_attention_step(q[..., 0, :], k[..., 0, :3], v[..., 0, :]),
     ValueError, "k_t"),
    (lambda q, k, v: ne.linear_attention_step(q[..., 0, :], k[..., 0, :], v[..., 0, :], 5),
     TypeError, "state"),
    (lambda q, k, v: ne.tiled_attention_forward(q, k, v, tile_size=0), ValueError, "tile_size"),
    (lambda q, k, v: ne.tiled_attention_forward(q, k, v, scale=-1.0), ValueError, "scale"),
    (lambda q, k, v: ne.tiled_attention_forward(q, k, v, mask=np.ones((5, 5))), TypeError,
     "mask"),
    (lambda q, k, v: ne.tiled_attention_forward(q, k, v, mask=np.zeros((5, 5), dtype=bool)),
     ValueError, "mask"),
    (lambda q, k, v: ne.tiled_attention_forward(q[0, 0, 0], k, v), ValueError, "q"),
    (lambda q, k, v: ne.positive_random_features(q, np.ones((3, 5))), ValueError, "U"),
    (lambda q, k, v: ne.random_feature_matrix(0, 4), ValueError, "num_features"),
])
def test_numpy_bad_input_names_the_argument(rng, call, error, match):
    q, k, v = _qkv(rng)
    with pytest.raises(error, match=match):
        call(q, k, v)


@pytest.mark.parametrize("call, error, match", [
    (lambda q, k, v: te.linear_attention(q[..., :3], k, v), ValueError, "k"),
    (lambda q, k, v: te.linear_attention(q, k.float(), v), TypeError, "k"),
    (lambda q, k, v: te.linear_attention(q[..., :4, :], k, v, causal=True), ValueError, "k"),
    (lambda q, k, v: te.linear_attention(q, k, v, features=torch.ones(3, 5,
                                                                      dtype=torch.float64)),
     ValueError, "features"),
    (lambda q, k, v: te.tiled_attention(q, k, v, tile_size=0), ValueError, "tile_size"),
    (lambda q, k, v: te.tiled_attention(q, k, v, mask=torch.ones(5, 5)), TypeError, "mask"),
    (lambda q, k, v: te.tiled_attention(q, k, v, scale=0.0), ValueError, "scale"),
    (lambda q, k, v: te.linear_attention_step(q[..., 0, :], k[..., 0, :], v[..., 0, :],
                                              (1, 2, 3)), TypeError, "state"),
    (lambda q, k, v: te.positive_random_features(q, torch.ones(3, 4)), TypeError, "U"),
])
def test_torch_bad_input_names_the_argument(rng, call, error, match):
    q, k, v = (t64(a) for a in _qkv(rng))
    with pytest.raises(error, match=match):
        call(q, k, v)


def test_random_features_repeat_under_seqlearn_seed():
    seqlearn.seed(3)
    a, b = ne.random_feature_matrix(4, 3), te.random_feature_matrix(4, 3)
    seqlearn.seed(3)
    assert np.array_equal(a, ne.random_feature_matrix(4, 3))
    assert torch.equal(b, te.random_feature_matrix(4, 3))


def test_scaling_plot_fits_the_exponent_of_a_power_law():
    import matplotlib.pyplot as plt

    from seqlearn.plotting import scaling_plot

    lengths = np.array([64, 128, 256, 512])
    fig, ax = plt.subplots()
    slopes = scaling_plot(ax, lengths, {"square": 3.0 * lengths ** 2.0,
                                        "line, then flat": np.array([1.0, 2.0, 4.0, 4.0])},
                          fit_from=256)
    assert slopes["square"] == pytest.approx(2.0)
    assert slopes["line, then flat"] == pytest.approx(0.0, abs=1e-12)
    assert "square: slope 2.00" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="fit_from"):
        scaling_plot(ax, lengths, {"square": lengths ** 2.0}, fit_from=512)
    plt.close(fig)
