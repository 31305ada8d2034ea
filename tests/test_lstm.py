"""LSTM: NumPy reference (gradient checks with peepholes and lengths, the step functions, the
fast variant) and seqlearn.torch.lstm.LSTM (parity with the reference and with nn.LSTM, variable
lengths, conversions, bad input)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.lstm import (check_lstm_params, fast_lstm_backward, fast_lstm_forward,
                                 init_lstm_params, lstm_backward, lstm_forward, lstm_step,
                                 lstm_step_backward)
from seqlearn.torch.lstm import LSTM, LSTMRecurrence

B, T, D, H = 3, 5, 4, 3
LENGTHS = np.array([5, 2, 4])
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _problem(rng, peepholes=False, with_state=True):
    params = init_lstm_params(D, H, rng, peepholes=peepholes)
    x = rng.normal(size=(B, T, D))
    state0 = (rng.normal(size=(B, H)), rng.normal(size=(B, H))) if with_state else None
    return params, x, state0


def _real(lengths):
    return np.ones((B, T), bool) if lengths is None else np.arange(T)[None] < lengths[:, None]


# -- NumPy reference -------------------------------------------------------------------------
@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
@pytest.mark.parametrize("with_dc_last", [False, True])
@pytest.mark.parametrize("fast", [False, True])
def test_lstm_backward_matches_finite_differences(rng, peepholes, lengths, with_dc_last, fast):
    forward, backward = ((fast_lstm_forward, fast_lstm_backward) if fast
                         else (lstm_forward, lstm_backward))
    params, x, (h0, c0) = _problem(rng, peepholes)
    w_h = rng.normal(size=(B, T, H))
    w_c = rng.normal(size=(B, H)) if with_dc_last else None
    last = T - 1 if lengths is None else lengths - 1

    def loss():   # the final cell is c at each sequence's last step
        h, c, _ = forward(x, (h0, c0), params, lengths)
        return (h * w_h).sum() + (0.0 if w_c is None else (c[np.arange(B), last] * w_c).sum())

    _, _, cache = forward(x, (h0, c0), params, lengths)
    grads, dx, (dh0, dc0) = backward(w_h, cache, dc_last=w_c)
    assert set(grads) == set(params)
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name
    for name, analytic, array in (("x", dx, x), ("h0", dh0, h0), ("c0", dc0, c0)):
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name
    assert np.all(dx[~_real(lengths)] == 0)     # padding gets no gradient


@pytest.mark.parametrize("peepholes", [False, True])
def test_step_backward_matches_finite_differences(rng, peepholes):
    params = check_lstm_params(init_lstm_params(D, H, rng, peepholes=peepholes))
    x_t, h_prev, c_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    w_h, w_c = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():
        h_t, c_t, _ = lstm_step(x_t, h_prev, c_prev, params)
        return (h_t * w_h).sum() + (c_t * w_c).sum()

    _, _, cache = lstm_step(x_t, h_prev, c_prev, params)
    dx_t, dh_prev, dc_prev, grads = lstm_step_backward(w_h, w_c, cache, params)
    for name, analytic, array in [("x_t", dx_t, x_t), ("h_prev", dh_prev, h_prev),
                                  ("c_prev", dc_prev, c_prev),
                                  *[(k, grads[k], params[k]) for k in params]]:
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_lstm_backward_matches_torch_autograd(rng, peepholes, lengths):
    """The reference's gradients against autograd over a plain torch transcription."""
    params, x, (h0, c0) = _problem(rng, peepholes)
    w_h, w_c = rng.normal(size=(B, T, H)), rng.normal(size=(B, H))
    _, _, cache = lstm_forward(x, (h0, c0), params, lengths)
    grads, dx, (dh0, dc0) = lstm_backward(w_h, cache, dc_last=w_c)

    real = torch.tensor(_real(lengths))[:, :, None]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    h, c, outputs = th, tc, []
    for t in range(T):
        z = tx[:, t] @ tp["W_x"] + h @ tp["W_h"] + tp["b"]
        zi, zf, zg, zo = z.split(H, dim=1)
        if peepholes:
            zi, zf = zi + tp["p_i"] * c, zf + tp["p_f"] * c
        c_new = torch.sigmoid(zf) * c + torch.sigmoid(zi) * torch.tanh(zg)
        if peepholes:
            zo = zo + tp["p_o"] * c_new
        h_new = torch.sigmoid(zo) * torch.tanh(c_new)
        h, c = torch.where(real[:, t], h_new, h), torch.where(real[:, t], c_new, c)
        outputs.append(h_new * real[:, t])
    loss = (torch.stack(outputs, 1) * torch.tensor(w_h)).sum() + (c * torch.tensor(w_c)).sum()
    loss.backward()
    for name in params:
        assert relative_error(grads[name], tp[name].grad.numpy()) < 1e-10, name
    assert relative_error(dx, tx.grad.numpy()) < 1e-10
    assert relative_error(dh0, th.grad.numpy()) < 1e-10
    assert relative_error(dc0, tc.grad.numpy()) < 1e-10


def test_lengths_carry_the_state_and_zero_the_outputs(rng):
    params, x, state0 = _problem(rng)
    h, c, _ = lstm_forward(x, state0, params, lengths=LENGTHS)
    for b, n in enumerate(LENGTHS):
        h_b, c_b, _ = lstm_forward(x[b:b + 1, :n], (state0[0][b:b + 1], state0[1][b:b + 1]),
                                   params)
        np.testing.assert_allclose(h[b, :n], h_b[0], atol=1e-14)
        np.testing.assert_allclose(c[b, :n], c_b[0], atol=1e-14)
        assert np.all(h[b, n:] == 0) and np.all(c[b, n:] == 0)
    # a step-by-step loop over lstm_step gives the same states
    h_prev, c_prev = state0
    for t in range(T):
        h_t, c_t, _ = lstm_step(x[:, t], h_prev, c_prev, check_lstm_params(params))
        np.testing.assert_allclose(h[:, t], np.where(LENGTHS[:, None] > t, h_t, 0.0), atol=1e-14)
        h_prev = np.where(LENGTHS[:, None] > t, h_t, h_prev)
        c_prev = np.where(LENGTHS[:, None] > t, c_t, c_prev)


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_fast_variant_equals_the_readable_one(rng, peepholes, lengths):
    params, x, state0 = _problem(rng, peepholes)
    dh, dc = rng.normal(size=(B, T, H)), rng.normal(size=(B, H))
    h, c, cache, gates = lstm_forward(x, state0, params, lengths, return_gates=True)
    h_f, c_f, cache_f, gates_f = fast_lstm_forward(x, state0, params, lengths,
                                                   return_gates=True)
    for got, want in [(h_f, h), (c_f, c), *[(gates_f[k], gates[k]) for k in gates]]:
        np.testing.assert_allclose(got, want, atol=1e-14)
    grads, dx, (dh0, dc0) = lstm_backward(dh, cache, dc)
    grads_f, dx_f, (dh0_f, dc0_f) = fast_lstm_backward(dh, cache_f, dc)
    for name in params:
        np.testing.assert_allclose(grads_f[name], grads[name], atol=1e-13, err_msg=name)
    for got, want in ((dx_f, dx), (dh0_f, dh0), (dc0_f, dc0)):
        np.testing.assert_allclose(got, want, atol=1e-13)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    h32, _, cache32 = fast_lstm_forward(x.astype(np.float32), None, p32, lengths)
    assert h32.dtype == np.float32 and fast_lstm_backward(dh, cache32)[1].dtype == np.float32
    np.testing.assert_allclose(h32, lstm_forward(x, None, params, lengths)[0], atol=1e-5)


def test_lstm_step_and_gates(rng):
    params, x, state0 = _problem(rng, peepholes=True)
    h, c, _, gates = lstm_forward(x, state0, params, return_gates=True)
    h1, c1, _ = lstm_step(x[:, 0], *state0, params)
    np.testing.assert_allclose(h[:, 0], h1, atol=1e-14)
    np.testing.assert_allclose(c[:, 0], c1, atol=1e-14)
    assert set(gates) == {"i", "f", "g", "o"}
    assert all(g.shape == (B, T, H) for g in gates.values())
    # the cell and state equations hold with the returned gates
    i, f, g = gates["i"][:, 1], gates["f"][:, 1], gates["g"][:, 1]
    np.testing.assert_allclose(c[:, 1], f * c[:, 0] + i * g, atol=1e-14)
    np.testing.assert_allclose(h, gates["o"] * np.tanh(c), atol=1e-14)
    for name in "ifo":
        assert np.all((gates[name] > 0) & (gates[name] < 1))


@pytest.mark.parametrize("forward", [lstm_forward, fast_lstm_forward])
def test_forward_keeps_float32_and_saturates_without_warnings(rng, forward):
    params, x, _ = _problem(rng, with_state=False)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    h, c, _ = forward(x.astype(np.float32), None, p32)
    assert h.dtype == np.float32 and c.dtype == np.float32
    big = {k: v * 1e3 for k, v in params.items()}
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # what NumPy warns about
        h, c, _ = forward(x * 10, None, big)
    assert np.all(np.isfinite(h)) and np.all(np.abs(h) <= 1)


def test_init_forget_bias_and_peepholes():
    params = init_lstm_params(D, H, np.random.default_rng(0), peepholes=True, forget_bias=1.0)
    assert params["W_x"].shape == (D, 4 * H) and params["W_h"].shape == (H, 4 * H)
    assert params["b"][H:2 * H].min() > 1.0 - 1 / np.sqrt(H) - 1e-12
    assert {"p_i", "p_f", "p_o"} <= set(params)
    assert "p_i" not in init_lstm_params(D, H, np.random.default_rng(0))


@pytest.mark.parametrize("forward", [lstm_forward, fast_lstm_forward])
@pytest.mark.parametrize("call, match", [
    (lambda f, p, x: f(x[0], None, p), "x"),
    (lambda f, p, x: f(x[:, :, :2], None, p), "x"),
    (lambda f, p, x: f(x[:, :0], None, p), "x"),
    (lambda f, p, x: f(x.astype(str), None, p), "x"),
    (lambda f, p, x: f(x, (np.zeros((B, H + 1)), None), p), "h0"),
    (lambda f, p, x: f(x, (None, np.zeros((B + 1, H))), p), "c0"),
    (lambda f, p, x: f(x, np.zeros((B, H)), p), "state0"),
    (lambda f, p, x: f(x, None, {**p, "W_h": p["W_h"][:, :-1]}), "W_h"),
    (lambda f, p, x: f(x, None, {**p, "p_i": np.zeros(H)}), "p_f"),
    (lambda f, p, x: f(x, None, {"W_x": p["W_x"]}), "W_h"),
    (lambda f, p, x: f(x, None, p, lengths=np.ones(B + 1, int)), "lengths"),
    (lambda f, p, x: f(x, None, p, lengths=[T + 1] * B), "lengths"),
    (lambda f, p, x: f(x, None, p, lengths=np.full(B, 2.0)), "lengths"),
])
def test_numpy_bad_input(rng, forward, call, match):
    params, x, _ = _problem(rng)
    with pytest.raises((ValueError, TypeError), match=match):
        call(forward, params, x)


@pytest.mark.parametrize("call, match", [
    (lambda p, x: lstm_backward(np.zeros((B, T, H + 1)), lstm_forward(x, None, p)[2]), "dh"),
    (lambda p, x: lstm_backward(np.zeros((B, T, H)), lstm_forward(x, None, p)[2],
                                np.zeros(H)), "dc_last"),
    (lambda p, x: fast_lstm_backward(np.zeros((B, T - 1, H)), fast_lstm_forward(x, None, p)[2]),
     "dh"),
    (lambda p, x: lstm_step(x[:, 0, 1:], np.zeros((B, H)), np.zeros((B, H)), p), "x_t"),
    (lambda p, x: lstm_step(x[:, 0], np.zeros((B, H)), np.zeros((B, H + 1)), p), "c_prev"),
])
def test_numpy_bad_gradient_and_step_input(rng, call, match):
    params, x, _ = _problem(rng)
    with pytest.raises((ValueError, TypeError), match=match):
        call(params, x)


# -- seqlearn.torch ----------------------------------------------------------------------------
@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_torch_matches_numpy_float64(rng, peepholes, lengths):
    params, x, (h0, c0) = _problem(rng, peepholes)
    w_h, w_c = rng.normal(size=(B, T, H)), rng.normal(size=(B, H))
    h, c, cache = lstm_forward(x, (h0, c0), params, lengths)
    grads, dx, (dh0, dc0) = lstm_backward(w_h, cache, dc_last=w_c)

    model = LSTM.from_numpy(params)
    assert model.peepholes == peepholes and model.W_x.dtype == torch.float64
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out, (h_T, c_T) = model(tx, (th, tc), lengths=lengths)
    last = T - 1 if lengths is None else lengths - 1
    np.testing.assert_allclose(h_T[0].detach().numpy(), h[np.arange(B), last], atol=1e-10)
    np.testing.assert_allclose(c_T[0].detach().numpy(), c[np.arange(B), last], atol=1e-10)
    np.testing.assert_allclose(out.detach().numpy(), h, atol=1e-10)
    ((out * torch.tensor(w_h)).sum() + (c_T[0] * torch.tensor(w_c)).sum()).backward()
    for name in params:
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), grads[name],
                                   atol=1e-10, err_msg=name)
    for got, want in ((tx.grad, dx), (th.grad, dh0), (tc.grad, dc0)):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-10)


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("with_valid", [False, True])
def test_recurrence_backward_passes_torch_gradcheck(peepholes, with_valid):
    g = torch.Generator().manual_seed(0)
    f64 = {"dtype": torch.float64, "generator": g}
    args = [torch.randn(4, 2, 4 * 3, **f64), torch.randn(2, 3, **f64), torch.randn(2, 3, **f64),
            torch.randn(3, 4 * 3, **f64)]
    args += [torch.randn(3, **f64) for _ in range(3)] if peepholes else [None] * 3
    args = [a.requires_grad_() if a is not None else None for a in args]
    valid = torch.tensor([[1, 1], [1, 0], [0, 0], [1, 0]], dtype=torch.bool)[:, :, None]
    args.append(valid if with_valid else None)
    assert torch.autograd.gradcheck(LSTMRecurrence.apply, args)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_torch_matches_nn_lstm_float32(num_layers):
    torch.manual_seed(0)
    builtin = nn.LSTM(D, H, num_layers=num_layers, batch_first=True)
    ours = LSTM.from_torch_builtin(builtin)
    x = torch.randn(B, T, D)
    h0, c0 = torch.randn(num_layers, B, H), torch.randn(num_layers, B, H)
    out_b, (h_b, c_b) = builtin(x, (h0, c0))
    out_o, (h_o, c_o) = ours(x, (h0, c0))
    for got, want in ((out_o, out_b), (h_o, h_b), (c_o, c_b)):
        assert (got - want).abs().max() < 1e-5
    (out_b.square().sum() + c_b.sum()).backward()
    (out_o.square().sum() + c_o.sum()).backward()
    for layer in range(num_layers):
        p = ours.layer_parameters(layer)
        assert (p["W_x"].grad - getattr(builtin, f"weight_ih_l{layer}").grad.T).abs().max() < 1e-5
        assert (p["W_h"].grad - getattr(builtin, f"weight_hh_l{layer}").grad.T).abs().max() < 1e-5
        assert (p["b"].grad - getattr(builtin, f"bias_hh_l{layer}").grad).abs().max() < 1e-5
    back = ours.to_torch_builtin()
    assert (back(x, (h0, c0))[0] - out_b).abs().max() < 1e-5


@pytest.mark.parametrize("num_layers", [1, 2])
def test_lengths_match_pack_padded_sequence(num_layers):
    torch.manual_seed(1)
    builtin = nn.LSTM(D, H, num_layers=num_layers, batch_first=True)
    ours = LSTM.from_torch_builtin(builtin)
    x = torch.randn(B, T, D)
    lengths = torch.tensor([2, 5, 3])
    x_b, x_o = x.clone().requires_grad_(), x.clone().requires_grad_()
    packed = pack_padded_sequence(x_b, lengths, batch_first=True, enforce_sorted=False)
    out_p, (h_b, c_b) = builtin(packed)
    out_b, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    out_o, (h_o, c_o) = ours(x_o, lengths=lengths)
    for got, want in ((out_o, out_b), (h_o, h_b), (c_o, c_b)):
        assert (got - want).abs().max() < 1e-5
    assert out_o[0, 2:].abs().max() == 0          # zero past the length
    w = torch.randn(B, T, H)
    ((out_b * w).sum() + h_b.sum() + c_b.square().sum()).backward()
    ((out_o * w).sum() + h_o.sum() + c_o.square().sum()).backward()
    assert (x_o.grad - x_b.grad).abs().max() < 1e-5
    assert x_o.grad[0, 2:].abs().max() == 0       # padding gets no gradient
    for layer in range(num_layers):
        p = ours.layer_parameters(layer)
        assert (p["W_h"].grad - getattr(builtin, f"weight_hh_l{layer}").grad.T).abs().max() < 1e-5


def test_scaffolding():
    model = LSTM(D, H, num_layers=2, peepholes=True)
    assert list(model.layer_parameters(1)) == ["W_x", "W_h", "b", "p_i", "p_f", "p_o"]
    assert model.layer_parameters(1)["W_x"].shape == (H, 4 * H) and model.W_x.shape == (D, 4 * H)
    assert model.p_o is model.p_o_l0 and model.b is model.b_l0
    assert repr(model) == (f"LSTM(input_size={D}, hidden_size={H}, num_layers=2, peepholes=True, "
                           f"block_size=1)")
    x = torch.randn(B, T, D)
    h0, c0 = model.check_inputs(x)
    assert h0.shape == c0.shape == (2, B, H) and not h0.any() and not c0.any()


def test_round_trips():
    rng = np.random.default_rng(3)
    layers = [init_lstm_params(D, H, rng, peepholes=True),
              init_lstm_params(H, H, rng, peepholes=True)]
    model = LSTM.from_numpy(layers)
    assert model.num_layers == 2 and model.peepholes
    for got, want in zip(model.to_numpy(), layers):
        assert set(got) == set(want)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
    with pytest.raises(ValueError, match="peepholes"):
        model.to_torch_builtin()
    plain = LSTM(D, H, num_layers=2, dtype=torch.float64)
    again = LSTM.from_torch_builtin(plain.to_torch_builtin())
    for a, b in zip(plain.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert again.W_x.dtype == torch.float64
    nobias = nn.LSTM(D, H, bias=False, batch_first=True)
    assert LSTM.from_torch_builtin(nobias).b.abs().max() == 0


def test_torch_bad_input():
    model = LSTM(D, H)
    x = torch.randn(B, T, D)
    cases = [
        (lambda: model(x[0]), "x"),
        (lambda: model(torch.randn(B, T, D + 1)), "x"),
        (lambda: model(x.double()), "x"),
        (lambda: model(torch.zeros(B, 0, D)), "x"),
        (lambda: model(x.numpy()), "x"),
        (lambda: model(torch.ones(B, T, D, dtype=torch.int64)), "x"),
        (lambda: model(x, (torch.zeros(B, H + 1), None)), "h0"),
        (lambda: model(x, (None, torch.zeros(2, B, H))), "c0"),
        (lambda: model(x, torch.zeros(B, H)), "state0"),
        (lambda: model(x, lengths=[T] * (B + 1)), "lengths"),
        (lambda: model(x, lengths=torch.tensor([T + 1] + [T] * (B - 1))), "lengths"),
        (lambda: model(x, lengths=torch.tensor([0] + [T] * (B - 1))), "lengths"),
        (lambda: model(x, lengths=torch.full((B,), 2.0)), "lengths"),
        (lambda: LSTM(0, H), "input_size"),
        (lambda: LSTM(D, H, num_layers=0), "num_layers"),
        (lambda: LSTM.from_numpy({"W_x": np.zeros((D, 4 * H))}), "W_h"),
        (lambda: LSTM.from_numpy("W"), "params"),
        (lambda: LSTM.from_torch_builtin(nn.GRU(D, H)), "module"),
        (lambda: LSTM.from_torch_builtin(nn.LSTM(D, H, bidirectional=True)), "bidirectional"),
        (lambda: LSTM.from_torch_builtin(nn.LSTM(D, H, proj_size=2)), "proj_size"),
        (lambda: LSTM(D, H, peepholes=True).to_torch_builtin(), "peepholes"),
    ]
    for call, match in cases:
        with pytest.raises((ValueError, TypeError), match=match):
            call()


def test_lengths_accept_lists_and_arrays():
    model = LSTM(D, H)
    x = torch.randn(B, T, D)
    a, _ = model(x, lengths=[5, 3, 1])
    b, _ = model(x, lengths=np.array([5, 3, 1]))
    assert torch.equal(a, b)


@CUDA
@pytest.mark.parametrize("peepholes", [False, True])
def test_cuda_matches_cpu(peepholes):
    torch.manual_seed(0)
    cpu = LSTM(D, H, num_layers=2, peepholes=peepholes, dtype=torch.float64)
    gpu = LSTM.from_numpy(cpu.to_numpy(), device="cuda")
    x = torch.randn(B, T, D, dtype=torch.float64)
    lengths = torch.tensor([5, 2, 4])
    out_c, (h_c, _) = cpu(x, lengths=lengths)
    out_g, (h_g, _) = gpu(x.cuda(), lengths=lengths.cuda())
    assert out_g.device.type == "cuda"
    assert (out_g.cpu() - out_c).abs().max() < 1e-10
    out_c.sum().backward()
    out_g.sum().backward()
    assert (gpu.W_h.grad.cpu() - cpu.W_h.grad).abs().max() < 1e-10
    with pytest.raises(ValueError, match="x"):
        gpu(x)


@CUDA
def test_cuda_matches_cudnn():
    torch.manual_seed(0)
    builtin = nn.LSTM(D, H, num_layers=2, batch_first=True).cuda()
    ours = LSTM.from_torch_builtin(builtin)
    x = torch.randn(B, T, D, device="cuda")
    assert (ours(x)[0] - builtin(x)[0]).abs().max() < 1e-5


# -- memory blocks (chapter 6b) -----------------------------------------------------------------
def _blocked_reference(x, params, S):
    """A blocked LSTM written out: K gate units per gate, each repeated for its S cells."""
    from seqlearn.numpy.activations import sigmoid
    Bx, Tx, _ = x.shape
    Hx = params["W_h"].shape[0]
    K = Hx // S
    h, c, out = np.zeros((Bx, Hx)), np.zeros((Bx, Hx)), []
    for t in range(Tx):
        a = x[:, t] @ params["W_x"] + h @ params["W_h"] + params["b"]
        i, f = sigmoid(a[:, :K]), sigmoid(a[:, K:2 * K])
        g, o = np.tanh(a[:, 2 * K:2 * K + Hx]), sigmoid(a[:, 2 * K + Hx:])
        c = np.repeat(f, S, axis=1) * c + np.repeat(i, S, axis=1) * g
        h = np.repeat(o, S, axis=1) * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("block_size", [1, 2, 4])
def test_memory_blocks_share_their_gates(rng, block_size):
    params = init_lstm_params(3, 4, rng, block_size=block_size, forget_bias=1.0)
    K = 4 // block_size
    assert params["W_x"].shape == (3, 3 * K + 4) and params["b"].shape == (3 * K + 4,)
    x = rng.normal(size=(2, 6, 3))
    h, _, _, gates = lstm_forward(x, None, params, return_gates=True)
    np.testing.assert_allclose(h, _blocked_reference(x, params, block_size), atol=1e-12)
    for name in ("i", "f", "o"):   # every cell of a block sees the same gate value
        blocks = gates[name].reshape(2, 6, K, block_size)
        assert np.all(blocks == blocks[..., :1])


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_memory_blocks_backward_matches_finite_differences(rng, fast, lengths):
    forward, backward = ((fast_lstm_forward, fast_lstm_backward) if fast
                         else (lstm_forward, lstm_backward))
    params = init_lstm_params(D, 4, rng, block_size=2)
    x, w_h = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, 4))
    h0, c0 = rng.normal(size=(B, 4)), rng.normal(size=(B, 4))

    def loss():
        return (forward(x, (h0, c0), params, lengths)[0] * w_h).sum()

    grads, dx, (dh0, dc0) = backward(w_h, forward(x, (h0, c0), params, lengths)[2])
    assert {name: g.shape for name, g in grads.items()} == \
        {name: p.shape for name, p in params.items()}
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name
    for name, analytic, array in (("x", dx, x), ("h0", dh0, h0), ("c0", dc0, c0)):
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name


def test_lstm_block_columns_and_size():
    from seqlearn.numpy.lstm import lstm_block_columns, lstm_block_size
    np.testing.assert_array_equal(lstm_block_columns(4, 1), np.arange(16))
    # K = 2 blocks of 2 cells: [i i | f f | g g g g | o o] -> each gate repeated twice
    np.testing.assert_array_equal(lstm_block_columns(4, 2),
                                  [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 8, 9, 9])
    for S in (1, 2, 3, 6):
        assert lstm_block_size(init_lstm_params(2, 6, block_size=S)) == S
    with pytest.raises(ValueError, match="W_h"):
        lstm_block_size({"W_h": np.zeros((4, 15))})


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_torch_memory_blocks_match_numpy_float64(rng, lengths):
    params = init_lstm_params(D, 6, rng, block_size=3)
    x, w_h = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, 6))
    h, _, cache = lstm_forward(x, None, params, lengths)
    grads = lstm_backward(w_h, cache)[0]
    model = LSTM.from_numpy(params)
    assert model.block_size == 3 and model.W_h.shape == (6, 12)
    out, _ = model(torch.tensor(x), lengths=lengths)
    np.testing.assert_allclose(out.detach().numpy(), h, atol=1e-10)
    (out * torch.tensor(w_h)).sum().backward()
    for name in params:
        np.testing.assert_allclose(getattr(model, name).grad.numpy(), grads[name], atol=1e-10)
    back = model.to_numpy()[0]
    assert all(np.array_equal(back[name], params[name]) for name in params)
    two = LSTM(D, 6, num_layers=2, block_size=2, dtype=torch.float64)
    assert LSTM.from_numpy(two.to_numpy()).block_size == 2


def test_torch_memory_blocks_bad_input_and_no_builtin():
    with pytest.raises(ValueError, match="block_size"):
        LSTM(3, 4, block_size=3)
    with pytest.raises(ValueError, match="block_size"):
        LSTM(3, 4, block_size=0)
    with pytest.raises(ValueError, match="block_size"):
        LSTM(3, 4, peepholes=True, block_size=2)
    with pytest.raises(ValueError, match="block_size"):
        LSTM(3, 4, block_size=2).to_torch_builtin()
    with pytest.raises(ValueError, match="block_size"):
        init_lstm_params(3, 4, block_size=3)
    with pytest.raises(ValueError, match="block_size"):
        init_lstm_params(3, 4, peepholes=True, block_size=2)
    params = init_lstm_params(3, 4, block_size=2)
    with pytest.raises(ValueError, match="peepholes"):
        check_lstm_params({**params, "p_i": np.zeros(4), "p_f": np.zeros(4), "p_o": np.zeros(4)})
    with pytest.raises(ValueError, match="W_x"):
        check_lstm_params({**params, "W_x": np.zeros((3, 16))})


def test_memory_blocks_are_seeded():
    import seqlearn
    seqlearn.seed(3)
    first = LSTM(3, 4, block_size=2)
    seqlearn.seed(3)
    second = LSTM(3, 4, block_size=2)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))


# -- gate helpers: biases and the pinned forget gate (chapter 6b) -------------------------------
def test_add_gate_biases_shifts_the_input_and_forget_blocks():
    from seqlearn.torch.lstm import add_gate_biases
    torch.manual_seed(0)
    for model, K, bias_of in [(LSTM(3, 4), 4, lambda m: m.b),
                              (LSTM(3, 4, block_size=2), 2, lambda m: m.b),
                              (nn.LSTM(3, 4), 4, lambda m: m.bias_ih_l0)]:
        before = bias_of(model).detach().clone()
        assert add_gate_biases(model, input_bias=-2.0, forget_bias=5.0) is model
        change = bias_of(model).detach() - before
        np.testing.assert_allclose(change[:K], -2.0)
        np.testing.assert_allclose(change[K:2 * K], 5.0)
        assert torch.all(change[2 * K:] == 0)
    with pytest.raises(TypeError, match="model"):
        add_gate_biases(nn.GRU(3, 4), forget_bias=1.0)
    with pytest.raises(TypeError, match="forget_bias"):
        add_gate_biases(LSTM(3, 4), forget_bias=float("nan"))


@pytest.mark.parametrize("make", [lambda: LSTM(3, 4, dtype=torch.float64),
                                  lambda: LSTM(3, 4, peepholes=True),
                                  lambda: nn.LSTM(3, 4, batch_first=True)])
def test_pinned_forget_gate_is_the_1997_lstm_and_stays_pinned(make):
    from seqlearn.torch.lstm import pin_forget_gate
    torch.manual_seed(0)
    model = pin_forget_gate(make())
    ours = model if isinstance(model, LSTM) else LSTM.from_torch_builtin(model)
    dtype = next(model.parameters()).dtype
    x = torch.randn(2, 7, 3, dtype=dtype)
    params = {k: v.detach().double().numpy() for k, v in ours.layer_parameters(0).items()}
    h, c, _, gates = lstm_forward(x.double().numpy(), None, params, return_gates=True)
    assert np.all(gates["f"] == 1.0)
    # c_t = c_{t-1} + i_t g_t: the cell is the sum of what the input gate let in
    np.testing.assert_allclose(c, np.cumsum(gates["i"] * gates["g"], axis=1), atol=1e-12)
    frozen = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        model(x)[0].pow(2).sum().backward()
        optimizer.step()
    for name, p in model.named_parameters():
        rows = slice(4, 8)
        if isinstance(model, LSTM):   # columns K:2K (K = H = 4) of W_x, W_h, b; all of p_f
            pinned = p[..., rows] if name[:3] in ("W_x", "W_h", "b_l") else \
                (p if name.startswith("p_f") else None)
            old = frozen[name][..., rows] if name[:3] in ("W_x", "W_h", "b_l") else frozen[name]
        else:                          # rows H:2H of weight_ih, weight_hh, bias_ih, bias_hh
            pinned, old = p[rows], frozen[name][rows]
        if pinned is not None:
            assert torch.equal(pinned, old), name
    assert not torch.equal(frozen[next(iter(frozen))], next(model.parameters()))  # others train


# -- the cell diagrams of chapter 6 --------------------------------------------------------------
def test_cell_diagrams_name_every_arrow_as_in_the_equations():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from seqlearn.plotting import gru_cell_diagram, lstm_cell_diagram

    fig, (left, middle, right) = plt.subplots(1, 3)
    names = lambda ax: {t.get_text() for t in ax.texts}
    lstm = names(lstm_cell_diagram(left, peepholes=True))
    for label in ("$c_{t-1}$", "$c_t$", "$h_t$", "$x_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$",
                  "$a_i$", "$a_f$", "$a_g$", "$a_o$", r"$f_t \odot c_{t-1}$", r"$i_t \odot g_t$",
                  r"$\tanh(c_t)$", r"$p_i \odot c_{t-1}$", r"$p_f \odot c_{t-1}$",
                  r"$p_o \odot c_t$"):
        assert label in lstm, label
    assert not any("p_" in text for text in names(lstm_cell_diagram(middle, peepholes=False)))
    gru = names(gru_cell_diagram(right))
    for label in ("$h_{t-1}$", "$h_t$", "$x_t$", "$u_t$", "$r_t$", "$1 - u_t$", r"$\tilde h_t$",
                  r"$u_t \odot h_{t-1}$", r"$(1 - u_t) \odot \tilde h_t$", r"$r_t \odot s_n$"):
        assert label in gru, label
    plt.close(fig)


@CUDA
def test_cuda_memory_blocks_match_cpu():
    torch.manual_seed(0)
    cpu = LSTM(D, 4, num_layers=2, block_size=2, dtype=torch.float64)
    gpu = LSTM.from_numpy(cpu.to_numpy(), device="cuda")
    assert gpu.block_columns.device.type == "cuda"
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert (gpu(x.cuda())[0].cpu() - cpu(x)[0]).abs().max() < 1e-10
