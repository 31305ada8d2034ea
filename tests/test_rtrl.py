"""Chapter 4: real-time recurrent learning gives exactly the BPTT gradient."""

import numpy as np
import pytest

from seqlearn.gradcheck import relative_error
from seqlearn.numpy import char_rnn
from seqlearn.numpy.rnn import init_rnn_params, rnn_backward, rnn_forward
from seqlearn.numpy.rtrl import init_sensitivities, rtrl_gradients, rtrl_step, split_sensitivities
from seqlearn.numpy.softmax import softmax


@pytest.mark.parametrize("B,T,D,H", [(1, 1, 1, 1), (3, 7, 4, 5), (2, 12, 3, 6)])
def test_rtrl_equals_bptt_for_given_output_gradients(B, T, D, H):
    rng = np.random.default_rng(B * 100 + T)
    params = init_rnn_params(D, H, rng=rng, scale=0.7)
    x, h0, dh = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))
    h, cache = rnn_forward(x, h0, params)
    bptt, _, _ = rnn_backward(dh, cache)
    rtrl, h_rtrl = rtrl_gradients(x, h0, params, dh)
    np.testing.assert_allclose(h_rtrl, h, rtol=0, atol=1e-14)
    for name in bptt:
        assert rtrl[name].shape == bptt[name].shape
        assert relative_error(rtrl[name], bptt[name]) < 1e-10, name
    assert np.abs(bptt["W_hh"]).max() > 1e-3  # a gradient worth comparing


def test_rtrl_online_char_rnn_gradient_equals_bptt():
    """The online form: the output layer's gradient is computed at each step from h_t alone."""
    rng = np.random.default_rng(7)
    V, H, T = 6, 5, 9
    params = char_rnn.init_char_rnn_params(V, H, rng=rng, scale=0.5)
    inputs, targets = rng.integers(0, V, size=T), rng.integers(0, V, size=T)
    h_prev = rng.normal(0, 0.5, size=H)
    _, bptt, _ = char_rnn.char_rnn_loss_and_gradients(inputs, targets, params, h_prev)

    def output_gradient(t, h_t):  # what L = (1/T) Σ_t ℓ_t sends to h_t: (ŷ_t − 1_{y_t}) W_hyᵀ / T
        d_logits = softmax(h_t @ params["W_hy"] + params["b_y"])
        d_logits[:, targets[t]] -= 1.0
        return d_logits @ params["W_hy"].T / T

    x = np.eye(V)[inputs][None]
    rnn_params = {k: params[k] for k in ("W_xh", "W_hh", "b_h")}
    rtrl, _ = rtrl_gradients(x, h_prev[None], rnn_params, output_gradient)
    for name in rnn_params:
        assert relative_error(rtrl[name], bptt[name]) < 1e-10, name


def test_sensitivities_are_the_jacobian_of_the_state():
    """P_t[b, j, p] = ∂h_{t,b,j}/∂θ_p, checked against finite differences of the forward pass."""
    rng = np.random.default_rng(3)
    B, T, D, H = 2, 4, 2, 3
    params = init_rnn_params(D, H, rng=rng, scale=0.8)
    x = rng.normal(size=(B, T, D))
    P = init_sensitivities(B, D, H)
    h = np.zeros((B, H))
    for t in range(T):
        h, P = rtrl_step(x[:, t], h, P, params)
    blocks = split_sensitivities(P, D, H)
    eps = 1e-6
    for name in ("W_xh", "W_hh", "b_h"):
        for index in np.ndindex(params[name].shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][index] += eps
            minus[name][index] -= eps
            numeric = (rnn_forward(x, None, plus)[0][:, -1] - rnn_forward(x, None, minus)[0][:, -1]) / (2 * eps)
            np.testing.assert_allclose(blocks[name][(slice(None), slice(None)) + index], numeric, atol=1e-8)


def test_split_sensitivities_are_views():
    P = init_sensitivities(2, 3, 4)
    blocks = split_sensitivities(P, 3, 4)
    assert blocks["W_xh"].shape == (2, 4, 3, 4) and blocks["W_hh"].shape == (2, 4, 4, 4)
    assert blocks["b_h"].shape == (2, 4, 4) and P.shape == (2, 4, 12 + 16 + 4)
    blocks["b_h"][1, 2, 3] = 5.0
    assert P[1, 2, -1] == 5.0


def test_bad_input():
    rng = np.random.default_rng(0)
    params = init_rnn_params(3, 4, rng=rng)
    x = rng.normal(size=(2, 5, 3))
    with pytest.raises(ValueError, match="x"):
        rtrl_gradients(rng.normal(size=(2, 5, 2)), None, params, np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="dh"):
        rtrl_gradients(x, None, params, np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="h0"):
        rtrl_gradients(x, np.zeros((3, 4)), params, np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="dh at step 0"):
        rtrl_gradients(x, None, params, lambda t, h: np.zeros((2, 3)))
    with pytest.raises(ValueError, match="W_hh"):
        rtrl_gradients(x, None, {"W_xh": params["W_xh"], "b_h": params["b_h"]}, np.zeros((2, 5, 4)))
