"""GRU: NumPy reference (gradient checks with lengths, the step functions, forced gates) and
seqlearn.torch.gru.GRU (parity with the reference and with nn.GRU, variable lengths,
conversions, bad input)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.gru import (check_gru_params, gru_backward, gru_forward, gru_step,
                                gru_step_backward, gru_step_with_gates, init_gru_params)
from seqlearn.numpy.rnn import rnn_forward
from seqlearn.torch.gru import GRU

B, T, D, H = 3, 5, 4, 3
LENGTHS = np.array([5, 2, 4])
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _problem(rng):
    return init_gru_params(D, H, rng), rng.normal(size=(B, T, D)), rng.normal(size=(B, H))


def _real(lengths):
    return np.ones((B, T), bool) if lengths is None else np.arange(T)[None] < lengths[:, None]


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_gru_backward_matches_finite_differences(rng, lengths):
    params, x, h0 = _problem(rng)
    w = rng.normal(size=(B, T, H))

    def loss():
        return (gru_forward(x, h0, params, lengths)[0] * w).sum()

    _, cache = gru_forward(x, h0, params, lengths)
    grads, dx, dh0 = gru_backward(w, cache)
    assert set(grads) == set(params)
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dh0, numerical_gradient(loss, h0)) < 1e-6
    assert np.all(dx[~_real(lengths)] == 0)     # padding gets no gradient


def test_step_backward_matches_finite_differences(rng):
    params = check_gru_params(init_gru_params(D, H, rng))
    x_t, h_prev, w = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():
        return (gru_step(x_t, h_prev, params)[0] * w).sum()

    _, cache = gru_step(x_t, h_prev, params)
    dx_t, dh_prev, grads = gru_step_backward(w, cache, params)
    for name, analytic, array in [("x_t", dx_t, x_t), ("h_prev", dh_prev, h_prev),
                                  *[(k, grads[k], params[k]) for k in params]]:
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_gru_backward_matches_torch_autograd(rng, lengths):
    params, x, h0 = _problem(rng)
    w = rng.normal(size=(B, T, H))
    _, cache = gru_forward(x, h0, params, lengths)
    grads, dx, dh0 = gru_backward(w, cache)
    real = torch.tensor(_real(lengths))[:, :, None]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    h, outputs = th, []
    for t in range(T):
        ar, au, an = (tx[:, t] @ tp["W_x"] + tp["b_x"]).split(H, dim=1)
        sr, su, sn = (h @ tp["W_h"] + tp["b_h"]).split(H, dim=1)
        r, u = torch.sigmoid(ar + sr), torch.sigmoid(au + su)
        n = torch.tanh(an + r * sn)
        h_new = (1 - u) * n + u * h
        h = torch.where(real[:, t], h_new, h)
        outputs.append(h_new * real[:, t])
    (torch.stack(outputs, 1) * torch.tensor(w)).sum().backward()
    for name in params:
        assert relative_error(grads[name], tp[name].grad.numpy()) < 1e-10, name
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    assert relative_error(dh0, th.grad.numpy()) < 1e-10


def test_lengths_keep_the_state_and_step_matches(rng):
    params, x, h0 = _problem(rng)
    h, _, gates = gru_forward(x, h0, params, lengths=LENGTHS, return_gates=True)
    assert set(gates) == {"r", "u", "n"} and gates["r"].shape == (B, T, H)
    h_prev = h0
    for t in range(T):
        real = LENGTHS[:, None] > t
        h_t, _ = gru_step(x[:, t], h_prev, check_gru_params(params))
        np.testing.assert_allclose(h[:, t], np.where(real, h_t, 0.0), atol=1e-14)
        h_prev = np.where(real, h_t, h_prev)
    for b, n in enumerate(LENGTHS):
        alone, _ = gru_forward(x[b:b + 1, :n], h0[b:b + 1], params)
        np.testing.assert_allclose(h[b, :n], alone[0], atol=1e-14)
    np.testing.assert_allclose(gru_step_with_gates(x[:, 0], h0, params),
                               gru_step(x[:, 0], h0, params)[0], atol=1e-14)


def test_update_gate_zero_and_reset_one_is_a_vanilla_rnn(rng):
    params, x, h0 = _problem(rng)
    W_n = {"W_xh": params["W_x"][:, 2 * H:], "W_hh": params["W_h"][:, 2 * H:],
           "b_h": params["b_x"][2 * H:] + params["b_h"][2 * H:]}
    h_gru = gru_step_with_gates(x[:, 0], h0, params, r=1.0, u=0.0)
    h_rnn, _ = rnn_forward(x[:, :1], h0, W_n)
    np.testing.assert_allclose(h_gru, h_rnn[:, 0], atol=1e-14)
    expected = np.tanh(x[:, 0] @ W_n["W_xh"] + h0 @ W_n["W_hh"] + W_n["b_h"])
    np.testing.assert_allclose(h_gru, expected, atol=1e-14)


def test_update_gate_one_copies_the_state(rng):
    params, x, h0 = _problem(rng)
    np.testing.assert_array_equal(gru_step_with_gates(x[:, 0], h0, params, u=1.0), h0)
    # ... and then the gradient passes through unchanged: ∂h_t/∂h_{t-1} = I
    partly = gru_step_with_gates(x[:, 0], h0, params, u=np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(partly[:, [0, 2]], h0[:, [0, 2]])
    assert np.abs(partly[:, 1] - h0[:, 1]).max() > 1e-3


def test_float32_is_kept(rng):
    params, x, h0 = _problem(rng)
    h, cache = gru_forward(x.astype(np.float32), h0, {k: v.astype(np.float32)
                                                      for k, v in params.items()})
    assert h.dtype == np.float32
    grads, dx, dh0 = gru_backward(np.ones_like(h), cache)
    assert grads["W_h"].dtype == np.float32 and dx.dtype == np.float32


@pytest.mark.parametrize("call, match", [
    (lambda p, x: gru_forward(x[0], None, p), "x"),
    (lambda p, x: gru_forward(x[:, :, 1:], None, p), "x"),
    (lambda p, x: gru_forward(x[:, :0], None, p), "x"),
    (lambda p, x: gru_forward(x, np.zeros((B, H + 1)), p), "h0"),
    (lambda p, x: gru_forward(x, None, {**p, "b_h": p["b_h"][1:]}), "b_h"),
    (lambda p, x: gru_forward(x, None, {**p, "W_h": p["W_h"].T}), "W_h"),
    (lambda p, x: gru_forward(x, None, {k: p[k] for k in ("W_x", "W_h", "b_x")}), "b_h"),
    (lambda p, x: gru_forward(x, None, p, lengths=np.ones((T, B), int)), "lengths"),
    (lambda p, x: gru_forward(x, None, p, lengths=[T, T]), "lengths"),
    (lambda p, x: gru_step(x[:, 0], np.zeros((B + 1, H)), p), "h_prev"),
    (lambda p, x: gru_backward(np.zeros((B, T + 1, H)), gru_forward(x, None, p)[1]), "dh"),
    (lambda p, x: gru_step_with_gates(x[:, 0], np.zeros((B, H)), p, u="open"), "u"),
    (lambda p, x: gru_step_with_gates(x[:, 0], np.zeros((B, H + 1)), p), "h_prev"),
])
def test_numpy_bad_input(rng, call, match):
    params, x, _ = _problem(rng)
    with pytest.raises((ValueError, TypeError), match=match):
        call(params, x)


# -- seqlearn.torch ----------------------------------------------------------------------------
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_torch_matches_numpy_float64(rng, lengths):
    params, x, h0 = _problem(rng)
    w = rng.normal(size=(B, T, H))
    h, cache = gru_forward(x, h0, params, lengths)
    grads, dx, dh0 = gru_backward(w, cache)
    model = GRU.from_numpy(params)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, h_T = model(tx, th, lengths=lengths)
    last = T - 1 if lengths is None else lengths - 1
    np.testing.assert_allclose(h_T[0].detach().numpy(), h[np.arange(B), last], atol=1e-10)
    np.testing.assert_allclose(out.detach().numpy(), h, atol=1e-10)
    (out * torch.tensor(w)).sum().backward()
    for name in params:
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), grads[name], atol=1e-10)
    np.testing.assert_allclose(tx.grad.numpy(), dx, atol=1e-10)
    np.testing.assert_allclose(th.grad.numpy(), dh0, atol=1e-10)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_torch_matches_nn_gru_float32(num_layers):
    torch.manual_seed(0)
    builtin = nn.GRU(D, H, num_layers=num_layers, batch_first=True)
    ours = GRU.from_torch_builtin(builtin)
    x = torch.randn(B, T, D)
    h0 = torch.randn(num_layers, B, H)
    out_b, h_b = builtin(x, h0)
    out_o, h_o = ours(x, h0)
    assert (out_o - out_b).abs().max() < 1e-5 and (h_o - h_b).abs().max() < 1e-5
    (out_b.square().sum() + h_b.sum()).backward()
    (out_o.square().sum() + h_o.sum()).backward()
    for layer in range(num_layers):
        p = ours.layer_parameters(layer)
        for ours_name, theirs, transpose in (("W_x", "weight_ih", True), ("W_h", "weight_hh", True),
                                              ("b_x", "bias_ih", False), ("b_h", "bias_hh", False)):
            want = getattr(builtin, f"{theirs}_l{layer}").grad
            assert (p[ours_name].grad - (want.T if transpose else want)).abs().max() < 1e-5
    assert (ours.to_torch_builtin()(x, h0)[0] - out_b).abs().max() < 1e-5


@pytest.mark.parametrize("num_layers", [1, 2])
def test_lengths_match_pack_padded_sequence(num_layers):
    torch.manual_seed(1)
    builtin = nn.GRU(D, H, num_layers=num_layers, batch_first=True)
    ours = GRU.from_torch_builtin(builtin)
    x = torch.randn(B, T, D)
    lengths = torch.tensor([2, 5, 3])
    x_b, x_o = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_p, h_b = builtin(pack_padded_sequence(x_b, lengths, batch_first=True, enforce_sorted=False))
    out_b, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    out_o, h_o = ours(x_o, lengths=lengths)
    assert (out_o - out_b).abs().max() < 1e-5 and (h_o - h_b).abs().max() < 1e-5
    w = torch.randn(B, T, H)
    ((out_b * w).sum() + h_b.square().sum()).backward()
    ((out_o * w).sum() + h_o.square().sum()).backward()
    assert (x_o.grad - x_b.grad).abs().max() < 1e-5
    assert (ours.W_h.grad - builtin.weight_hh_l0.grad.T).abs().max() < 1e-5


def test_round_trips():
    rng = np.random.default_rng(2)
    layers = [init_gru_params(D, H, rng), init_gru_params(H, H, rng)]
    model = GRU.from_numpy(layers)
    for got, want in zip(model.to_numpy(), layers):
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
    again = GRU.from_torch_builtin(model.to_torch_builtin())
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)
    without_bias = GRU.from_torch_builtin(nn.GRU(D, H, bias=False))
    assert without_bias.b_x.abs().max() == 0 and without_bias.b_h.abs().max() == 0


def test_torch_bad_input():
    model = GRU(D, H)
    x = torch.randn(B, T, D)
    cases = [
        (lambda: model(x[0]), "x"),
        (lambda: model(x.double()), "x"),
        (lambda: model(torch.zeros(B, 0, D)), "x"),
        (lambda: model(x, torch.zeros(B + 1, H)), "h0"),
        (lambda: model(x, lengths=[T, T]), "lengths"),
        (lambda: model(x, lengths=[T + 1, 1, 1]), "lengths"),
        (lambda: model(x, lengths=["a", "b", "c"]), "lengths"),
        (lambda: GRU(D, -1), "hidden_size"),
        (lambda: GRU.from_numpy([]), "params"),
        (lambda: GRU.from_numpy([init_gru_params(D, H), init_gru_params(D + 1, H)]), "layer 1"),
        (lambda: GRU.from_torch_builtin(nn.LSTM(D, H)), "module"),
        (lambda: GRU.from_torch_builtin(nn.GRU(D, H, num_layers=2, dropout=0.5)), "dropout"),
    ]
    for call, match in cases:
        with pytest.raises((ValueError, TypeError), match=match):
            call()


@CUDA
def test_cuda_matches_cpu_and_cudnn():
    torch.manual_seed(0)
    cpu = GRU(D, H, num_layers=2, dtype=torch.float64)
    gpu = GRU.from_numpy(cpu.to_numpy(), device="cuda")
    x = torch.randn(B, T, D, dtype=torch.float64)
    out_c, _ = cpu(x, lengths=[5, 1, 3])
    out_g, _ = gpu(x.cuda(), lengths=torch.tensor([5, 1, 3], device="cuda"))
    assert (out_g.cpu() - out_c).abs().max() < 1e-10
    builtin = nn.GRU(D, H, batch_first=True).cuda()
    ours = GRU.from_torch_builtin(builtin)
    xf = torch.randn(B, T, D, device="cuda")
    assert (ours(xf)[0] - builtin(xf)[0]).abs().max() < 1e-5
