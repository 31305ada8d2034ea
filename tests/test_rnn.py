"""Chapter 3: the stacked NumPy RNN, seqlearn.torch.rnn.ElmanRNN and the chapter's checks."""

import numpy as np
import pytest
import torch
from torch import nn

from seqlearn.checks import rnn as rnn_checks
from seqlearn.checks.core import CHECKS
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.rnn import init_rnn_params, rnn_backward, rnn_forward
from seqlearn.numpy.stacked_rnn import (
    init_stacked_rnn_params,
    stacked_rnn_backward,
    stacked_rnn_forward,
)
from seqlearn.torch.rnn import ElmanRNN


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- NumPy stacked RNN ------------------------------------------------------------------------

@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("with_h0", [False, True])
def test_stacked_forward_matches_torch_float64(num_layers, with_h0):
    rng = _rng(num_layers)
    B, T, D, H = 3, 7, 4, 5
    params = init_stacked_rnn_params(D, H, num_layers, rng=rng)
    x = rng.normal(size=(B, T, D))
    h0 = rng.normal(size=(num_layers, B, H)) if with_h0 else None
    h, h_last, _ = stacked_rnn_forward(x, h0, params)
    model = ElmanRNN.from_numpy(params)
    out, h_T = model(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    assert h.shape == (B, T, H) and h_last.shape == (num_layers, B, H)
    assert np.max(np.abs(out.detach().numpy() - h)) < 1e-10
    assert np.max(np.abs(h_T.detach().numpy() - h_last)) < 1e-10


def test_one_layer_stack_is_the_single_layer_rnn():
    rng = _rng(1)
    params = init_rnn_params(3, 4, rng=rng)
    x, h0 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4))
    h_single, _ = rnn_forward(x, h0, params)
    h_stack, h_last, _ = stacked_rnn_forward(x, h0[None], [params])
    np.testing.assert_array_equal(h_single, h_stack)
    np.testing.assert_array_equal(h_last[0], h_single[:, -1])


def test_stacked_backward_matches_finite_differences_and_autograd():
    rng = _rng(2)
    B, T, D, H, L = 2, 4, 3, 4, 2
    params = init_stacked_rnn_params(D, H, L, rng=rng, scale=0.8)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(L, B, H))
    weights_top = rng.normal(size=(B, T, H))
    weights_last = rng.normal(size=(L, B, H))

    def loss():  # L = Σ w ⊙ h_top + Σ v ⊙ h_last: exercises both gradient inputs
        h, h_last, _ = stacked_rnn_forward(x, h0, params)
        return np.sum(weights_top * h) + np.sum(weights_last * h_last)

    _, _, cache = stacked_rnn_forward(x, h0, params)
    grads, dx, dh0 = stacked_rnn_backward(weights_top, cache, dh_last=weights_last)
    for layer in range(L):
        for name in ("W_xh", "W_hh", "b_h"):
            numeric = numerical_gradient(loss, params[layer][name], 1e-6)
            assert relative_error(grads[layer][name], numeric) < 1e-6, (layer, name)
    assert relative_error(dx, numerical_gradient(loss, x, 1e-6)) < 1e-6
    assert relative_error(dh0, numerical_gradient(loss, h0, 1e-6)) < 1e-6

    model = ElmanRNN.from_numpy(params)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    out, h_T = model(xt, h0t)
    (torch.sum(torch.from_numpy(weights_top) * out)
     + torch.sum(torch.from_numpy(weights_last) * h_T)).backward()
    for layer in range(L):
        for name, p in zip(("W_xh", "W_hh", "b_h"), model.layer_parameters(layer)):
            assert relative_error(grads[layer][name], p.grad.numpy()) < 1e-10
    assert relative_error(dx, xt.grad.numpy()) < 1e-10
    assert relative_error(dh0, h0t.grad.numpy()) < 1e-10


def test_stacked_bad_input():
    rng = _rng(3)
    params = init_stacked_rnn_params(3, 4, 2, rng=rng)
    x = rng.normal(size=(2, 5, 3))
    with pytest.raises(TypeError, match="params_list"):
        stacked_rnn_forward(x, None, params[0])
    with pytest.raises(ValueError, match="params_list"):
        stacked_rnn_forward(x, None, [])
    with pytest.raises(ValueError, match=r"params_list\[1\]"):
        stacked_rnn_forward(x, None, [params[0], init_rnn_params(3, 4, rng=rng)])
    with pytest.raises(ValueError, match="h0"):
        stacked_rnn_forward(x, np.zeros((1, 2, 4)), params)
    with pytest.raises(ValueError, match="x"):
        stacked_rnn_forward(x[:, :, :2], None, params)
    with pytest.raises(ValueError, match="x"):
        stacked_rnn_forward(np.zeros((2, 0, 3)), None, params)
    with pytest.raises(ValueError, match="num_layers"):
        init_stacked_rnn_params(3, 4, 0)


# -- ElmanRNN vs nn.RNN -----------------------------------------------------------------------

@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_elman_matches_builtin_float32(num_layers, nonlinearity, with_h0):
    torch.manual_seed(10 * num_layers + with_h0)
    B, T, D, H = 4, 9, 5, 6
    builtin = nn.RNN(D, H, num_layers=num_layers, nonlinearity=nonlinearity, batch_first=True)
    model = ElmanRNN.from_torch_builtin(builtin)
    x = torch.randn(B, T, D)
    h0 = torch.randn(num_layers, B, H) if with_h0 else None
    want, want_T = builtin(x, h0)
    got, got_T = model(x, h0)
    assert got.dtype == torch.float32
    assert torch.max(torch.abs(got - want)) < 1e-5
    assert torch.max(torch.abs(got_T - want_T)) < 1e-5
    # The gradients agree as well (nn.RNN's weights are the transposes of ours).
    (want.sum() + want_T.square().sum()).backward()
    (got.sum() + got_T.square().sum()).backward()
    for layer in range(num_layers):
        W_xh, W_hh, b_h = model.layer_parameters(layer)
        assert torch.max(torch.abs(W_xh.grad - getattr(builtin, f"weight_ih_l{layer}").grad.T)) < 1e-4
        assert torch.max(torch.abs(W_hh.grad - getattr(builtin, f"weight_hh_l{layer}").grad.T)) < 1e-4
        assert torch.max(torch.abs(b_h.grad - getattr(builtin, f"bias_ih_l{layer}").grad)) < 1e-4


def test_single_layer_matches_numpy_float64():
    rng = _rng(4)
    params = init_rnn_params(3, 5, rng=rng)
    x, h0 = rng.normal(size=(2, 8, 3)), rng.normal(size=(2, 5))
    h, cache = rnn_forward(x, h0, params)
    model = ElmanRNN.from_numpy(params)
    assert torch.equal(model.W_xh, model.W_xh_l0) and model.b_h.shape == (5,)
    xt = torch.tensor(x, requires_grad=True)
    out, h_T = model(xt, torch.from_numpy(h0))  # (B, H) is accepted for one layer
    assert np.max(np.abs(out.detach().numpy() - h)) < 1e-10
    dh = rng.normal(size=h.shape)
    (out * torch.from_numpy(dh)).sum().backward()
    grads, dx, _ = rnn_backward(dh, cache)
    for name in ("W_xh", "W_hh", "b_h"):
        assert relative_error(grads[name], getattr(model, name).grad.numpy()) < 1e-10
    assert relative_error(dx, xt.grad.numpy()) < 1e-10


def test_round_trips():
    torch.manual_seed(5)
    model = ElmanRNN(3, 4, num_layers=2, nonlinearity="relu")
    builtin = model.to_torch_builtin()
    assert isinstance(builtin, nn.RNN) and builtin.batch_first and builtin.nonlinearity == "relu"
    torch.testing.assert_close(builtin.weight_ih_l1, model.W_xh_l1.detach().T)
    assert torch.all(builtin.bias_hh_l0 == 0)
    back = ElmanRNN.from_torch_builtin(builtin)
    for a, b in zip(model.parameters(), back.parameters()):
        torch.testing.assert_close(a, b)
    assert back.nonlinearity == "relu" and back.num_layers == 2

    arrays = model.to_numpy()
    assert len(arrays) == 2 and arrays[1]["W_xh"].shape == (4, 4)
    again = ElmanRNN.from_numpy(arrays, dtype=torch.float32, nonlinearity="relu")
    for a, b in zip(model.parameters(), again.parameters()):
        torch.testing.assert_close(a, b)


def test_from_builtin_sums_the_biases_and_handles_its_options():
    torch.manual_seed(6)
    builtin = nn.RNN(3, 4, num_layers=2)  # time-major, two biases per layer
    model = ElmanRNN.from_torch_builtin(builtin)
    torch.testing.assert_close(model.b_h_l1, (builtin.bias_ih_l1 + builtin.bias_hh_l1).detach())
    x = torch.randn(5, 2, 3)  # (T, B, D) for the built-in
    want, _ = builtin(x)
    got, _ = model(x.transpose(0, 1))
    assert torch.max(torch.abs(got - want.transpose(0, 1))) < 1e-5

    no_bias = ElmanRNN.from_torch_builtin(nn.RNN(3, 4, bias=False))
    assert torch.all(no_bias.b_h == 0)
    with pytest.raises(ValueError, match="bidirectional"):
        ElmanRNN.from_torch_builtin(nn.RNN(3, 4, bidirectional=True))
    with pytest.raises(TypeError, match="rnn"):
        ElmanRNN.from_torch_builtin(nn.LSTM(3, 4))


def test_elman_bad_input():
    model = ElmanRNN(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="x"):
        model(torch.randn(2, 3))  # no time axis
    with pytest.raises(ValueError, match="x"):
        model(torch.randn(2, 5, 4))  # wrong D
    with pytest.raises(ValueError, match="x"):
        model(torch.randn(2, 0, 3))  # empty sequence
    with pytest.raises(TypeError, match="x"):
        model(torch.ones(2, 5, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match="x"):
        model(torch.randn(2, 5, 3, dtype=torch.float64))  # parameters are float32
    with pytest.raises(TypeError, match="x"):
        model(np.zeros((2, 5, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="h0"):
        model(torch.randn(2, 5, 3), torch.randn(1, 2, 4))  # one layer's state for two layers
    with pytest.raises(ValueError, match="h0"):
        model(torch.randn(2, 5, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        ElmanRNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        ElmanRNN(3, 0)
    with pytest.raises(ValueError, match="layer 1"):
        ElmanRNN.from_numpy([init_rnn_params(3, 4), init_rnn_params(3, 4)])
    with pytest.raises(ValueError, match="W_hh"):
        ElmanRNN.from_numpy({"W_xh": np.zeros((3, 4)), "W_hh": np.zeros((4, 3)), "b_h": np.zeros(4)})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_elman_on_cuda_matches_cpu():
    torch.manual_seed(7)
    model = ElmanRNN(5, 8, num_layers=2)
    x, h0 = torch.randn(3, 10, 5), torch.randn(2, 3, 8)
    want, want_T = model(x, h0)
    cuda_model = ElmanRNN.from_numpy(model.to_numpy(), dtype=torch.float32, device="cuda")
    got, got_T = cuda_model(x.cuda(), h0.cuda())
    assert got.device.type == "cuda"
    assert torch.max(torch.abs(got.cpu() - want)) < 1e-5
    assert torch.max(torch.abs(got_T.cpu() - want_T)) < 1e-5
    builtin = cuda_model.to_torch_builtin()
    assert builtin.weight_ih_l0.device.type == "cuda"
    assert torch.max(torch.abs(builtin(x.cuda(), h0.cuda())[0].cpu() - want)) < 1e-5


# -- the chapter's checks ---------------------------------------------------------------------

def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def test_checks_are_registered():
    for exercise_id in ("03-rnn-step", "03-rnn-forward", "03-rnn-outputs"):
        assert exercise_id in CHECKS


@pytest.mark.parametrize("check, reference", [
    (rnn_checks.check_rnn_step, rnn_checks.reference_rnn_step),
    (rnn_checks.check_rnn_forward, rnn_checks.reference_rnn_forward),
    (rnn_checks.check_rnn_outputs, rnn_checks.reference_rnn_outputs),
])
def test_checks_reference_full_marks_and_stub_zero(check, reference, capsys):
    report = check(reference)
    assert report.passed and report.score == report.max_score >= 3
    stub = check(_stub)
    assert stub.score == 0 and not stub.attempted
    assert "not attempted" in capsys.readouterr().out


def test_check_rnn_step_names_the_transposed_recurrent_matrix(capsys):
    def transposed(x_t, h_prev, W_xh, W_hh, b_h):
        return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)

    report = rnn_checks.check_rnn_step(transposed)
    assert report.score < report.max_score
    assert "W_hh transposed" in capsys.readouterr().out

    def no_bias(x_t, h_prev, W_xh, W_hh, b_h):
        return np.tanh(x_t @ W_xh + h_prev @ W_hh)

    assert rnn_checks.check_rnn_step(no_bias).score == 0
    assert "bias b_h is missing" in capsys.readouterr().out


def test_check_rnn_forward_names_the_off_by_one(capsys):
    def off_by_one(x, h0, W_xh, W_hh, b_h):
        B, T, _ = x.shape
        h, out = h0, np.empty((B, T, h0.shape[1]))
        for t in range(T):
            out[:, t] = h  # stores the state *before* the step
            h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        return out

    report = rnn_checks.check_rnn_forward(off_by_one)
    assert report.score < report.max_score
    assert "off by one" in capsys.readouterr().out

    def from_zero(x, h0, W_xh, W_hh, b_h):
        return rnn_checks.reference_rnn_forward(x, np.zeros_like(h0), W_xh, W_hh, b_h)

    assert rnn_checks.check_rnn_forward(from_zero).score == 0
    assert "h0 is ignored" in capsys.readouterr().out


def test_check_rnn_outputs_names_the_axis_and_the_overflow(capsys):
    def over_time(h, W_hy, b_y):
        o = h @ W_hy + b_y
        e = np.exp(o - o.max(axis=1, keepdims=True))
        return o, e / e.sum(axis=1, keepdims=True)

    report = rnn_checks.check_rnn_outputs(over_time)
    assert report.score == 0
    assert "time axis" in capsys.readouterr().out

    def unstable(h, W_hy, b_y):  # right except for huge scores, where exp overflows
        o = h @ W_hy + b_y
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(o)
            return o, e / e.sum(axis=-1, keepdims=True)

    report = rnn_checks.check_rnn_outputs(unstable)
    out = capsys.readouterr().out
    assert report.score == report.max_score - 1
    assert "NaN or inf" in out and "subtract" in out
