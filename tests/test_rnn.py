"""Chapter 3: the NumPy Elman RNN (one layer and stacks, with and without lengths), the torch
ElmanRNN with the shared RecurrentModule scaffolding, and the chapter's checks."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlearn.checks import rnn as rnn_checks
from seqlearn.checks.core import CHECKS, EXERCISES, reference_allowed
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy.rnn import (check_rnn_params, concat_rnn_params, init_rnn_params,
                                init_stacked_rnn_params, rnn_backward, rnn_forward, rnn_step,
                                rnn_step_backward, split_rnn_params, stacked_rnn_backward,
                                stacked_rnn_forward, unrolled_mlp_params)
from seqlearn.torch.rnn import ElmanRNN

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

LENGTHS = np.array([7, 3, 5])       # for batches of B = 3 sequences of T = 7 steps


def _rng(seed=0):
    return np.random.default_rng(seed)


def _padded(array, lengths):
    """``array`` (B, T, ...) with the steps t >= lengths[b] set to zero."""
    T = array.shape[1]
    return array * (np.arange(T)[None, :] < lengths[:, None]).reshape(
        array.shape[:2] + (1,) * (array.ndim - 2))


# -- the concatenated form and the unrolled network ----------------------------------------------

def test_the_concatenated_form_is_the_split_form():
    rng = _rng(11)
    params = init_rnn_params(3, 5, rng=rng)
    concat = concat_rnn_params(params)
    assert concat["W"].shape == (3 + 5, 5)
    np.testing.assert_array_equal(concat["W"][:3], params["W_xh"])     # W_xh on top of W_hh
    x_t, h_prev = rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    one_matrix = np.tanh(np.concatenate([x_t, h_prev], axis=1) @ concat["W"] + concat["b_h"])
    two_matrices, _ = rnn_step(x_t, h_prev, params)
    np.testing.assert_allclose(one_matrix, two_matrices, atol=1e-15)
    back = split_rnn_params(concat, input_size=3)
    assert list(back) == ["W_xh", "W_hh", "b_h"]
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])
    back["W_hh"][0, 0] += 1.0                                          # copies, not views
    assert concat["W"][3, 0] == params["W_hh"][0, 0]


def test_concat_bad_input():
    params = init_rnn_params(3, 5, rng=_rng())
    concat = concat_rnn_params(params)
    with pytest.raises(ValueError, match=r"params\['W'\]: expected shape \(input_size \+ H, H\)"):
        split_rnn_params(concat, input_size=4)
    with pytest.raises(ValueError, match="input_size"):
        split_rnn_params(concat, input_size=0)
    with pytest.raises(ValueError, match="missing 'b_h'"):
        split_rnn_params({"W": concat["W"]}, input_size=3)
    with pytest.raises(ValueError, match="W_hh"):
        concat_rnn_params({**params, "W_hh": np.zeros((5, 4))})


@pytest.mark.parametrize("T", [1, 6])
def test_the_unrolled_rnn_is_an_mlp_with_tied_weights(T):
    from seqlearn.numpy.mlp import mlp_backward, mlp_forward

    rng = _rng(12)
    D, H, V = 3, 4, 2
    params = init_rnn_params(D, H, rng=rng, scale=0.8)
    W_hy, b_y = rng.normal(size=(H, V)), rng.normal(size=V)
    x, h0 = rng.normal(size=(1, T, D)), rng.normal(size=(1, H))
    h, cache = rnn_forward(x, h0, params)
    z_rnn = h[:, -1] @ W_hy + b_y
    layers = unrolled_mlp_params(x[0], params, W_hy, b_y)
    assert len(layers) == 2 * (T + 1)
    assert all(layers[f"W{t}"] is layers["W1"] for t in range(1, T + 1))   # tied weights
    z_mlp, mlp_cache = mlp_forward(h0, layers)
    np.testing.assert_allclose(z_mlp, z_rnn, atol=1e-14)
    # backpropagation through the unrolled network: the T copies' gradients add up to BPTT's
    dz = rng.normal(size=(1, V))
    grads, dh0_mlp = mlp_backward(dz, mlp_cache)
    dh = np.zeros_like(h)
    dh[:, -1] = dz @ W_hy.T
    bptt, _, dh0 = rnn_backward(dh, cache)
    np.testing.assert_allclose(sum(grads[f"W{t}"] for t in range(1, T + 1)), bptt["W_hh"],
                               atol=1e-13)
    np.testing.assert_allclose(sum(np.outer(x[0, t - 1], grads[f"b{t}"]) for t in range(1, T + 1)),
                               bptt["W_xh"], atol=1e-13)
    np.testing.assert_allclose(sum(grads[f"b{t}"] for t in range(1, T + 1)), bptt["b_h"],
                               atol=1e-13)
    np.testing.assert_allclose(dh0_mlp, dh0, atol=1e-13)


def test_unrolled_bad_input():
    params = init_rnn_params(3, 4, rng=_rng())
    with pytest.raises(ValueError, match="x: expected shape"):
        unrolled_mlp_params(np.zeros((5, 2)), params, np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        unrolled_mlp_params(np.zeros((0, 3)), params, np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="W_hy"):
        unrolled_mlp_params(np.zeros((5, 3)), params, np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="b_y"):
        unrolled_mlp_params(np.zeros((5, 3)), params, np.zeros((4, 2)), np.zeros(3))


def test_unrolled_network_figure_ties_the_weights():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqlearn import plotting

    fig, ax = plt.subplots()
    plotting.unrolled_network(ax, steps=3, units=2)
    tied = [line for line in ax.get_lines() if line.get_color() == plotting.COLORS[0]]
    assert len(tied) == 3 * 2 * 2          # every layer to the next, all in the colour of W_hh
    labels = [text.get_text() for text in ax.texts]
    assert labels.count("$W_{hh}$") == 3 and "$x_3$" in labels and "$z_T$" in labels
    with pytest.raises(ValueError, match="steps"):
        plotting.unrolled_network(ax, steps=0)
    plt.close(fig)


# -- NumPy, one layer -----------------------------------------------------------------------------

@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_backward_matches_finite_differences(lengths):
    rng = _rng(10)
    B, T, D, H = 3, 7, 3, 4
    params = init_rnn_params(D, H, rng=rng, scale=0.8)
    x, h0, w = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))

    def loss():
        return np.sum(w * rnn_forward(x, h0, params, lengths)[0])

    _, cache = rnn_forward(x, h0, params, lengths)
    grads, dx, dh0 = rnn_backward(w, cache)
    assert set(grads) == set(params)
    for name in params:
        assert relative_error(grads[name], numerical_gradient(loss, params[name])) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dh0, numerical_gradient(loss, h0)) < 1e-6
    if lengths is not None:
        assert np.all(_padded(dx, lengths) == dx)       # padding gets no gradient


def test_step_backward_matches_finite_differences():
    rng = _rng(11)
    params = check_rnn_params(init_rnn_params(3, 4, rng=rng))
    x_t, h_prev, w = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    h_t, cache = rnn_step(x_t, h_prev, params)
    np.testing.assert_allclose(h_t, np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"]
                                            + params["b_h"]), atol=1e-15)
    dx_t, dh_prev, delta_t = rnn_step_backward(w, cache, params)
    grads = {"W_xh": x_t.T @ delta_t, "W_hh": h_prev.T @ delta_t, "b_h": delta_t.sum(axis=0)}

    def loss():
        return np.sum(w * rnn_step(x_t, h_prev, params)[0])

    for name, analytic, array in [("x_t", dx_t, x_t), ("h_prev", dh_prev, h_prev),
                                  *[(k, grads[k], params[k]) for k in params]]:
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_torch_matches_numpy_float64_forward_and_backward(lengths):
    rng = _rng(4)
    params = init_rnn_params(3, 5, rng=rng)
    x, h0 = rng.normal(size=(3, 7, 3)), rng.normal(size=(3, 5))
    w = rng.normal(size=(3, 7, 5))
    h, cache = rnn_forward(x, h0, params, lengths)
    grads, dx, dh0 = rnn_backward(w, cache)
    model = ElmanRNN.from_numpy(params)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, h_T = model(xt, h0t, lengths=lengths)      # (B, H) is accepted for one layer
    assert np.max(np.abs(out.detach().numpy() - h)) < 1e-10
    last = np.full(3, 6) if lengths is None else lengths - 1
    assert np.max(np.abs(h_T[0].detach().numpy() - h[np.arange(3), last])) < 1e-10
    (out * torch.from_numpy(w)).sum().backward()
    for name in params:
        assert relative_error(grads[name], getattr(model, name).grad.numpy()) < 1e-10
    assert relative_error(dx, xt.grad.numpy()) < 1e-10
    assert relative_error(dh0, h0t.grad.numpy()) < 1e-10


def test_lengths_carry_the_state_and_zero_the_outputs():
    rng = _rng(5)
    params = init_rnn_params(3, 4, rng=rng)
    x, h0 = rng.normal(size=(3, 7, 3)), rng.normal(size=(3, 4))
    h, _ = rnn_forward(x, h0, params, lengths=LENGTHS)
    for b, n in enumerate(LENGTHS):
        alone, _ = rnn_forward(x[b:b + 1, :n], h0[b:b + 1], params)
        np.testing.assert_allclose(h[b, :n], alone[0], atol=1e-14)
        assert np.all(h[b, n:] == 0)
    # what is in the padding does not matter
    noisy = x.copy()
    noisy[1, 3:] = 100.0
    np.testing.assert_array_equal(rnn_forward(noisy, h0, params, LENGTHS)[0], h)
    # lengths = T everywhere is the same as no lengths
    np.testing.assert_array_equal(rnn_forward(x, h0, params, [7, 7, 7])[0],
                                  rnn_forward(x, h0, params)[0])


def test_float32_is_kept():
    rng = _rng(6)
    params = {k: v.astype(np.float32) for k, v in init_rnn_params(3, 4, rng=rng).items()}
    h, cache = rnn_forward(rng.normal(size=(2, 5, 3)).astype(np.float32), None, params)
    grads, dx, dh0 = rnn_backward(np.ones_like(h), cache)
    assert h.dtype == dx.dtype == dh0.dtype == grads["W_hh"].dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda p, x: rnn_forward(x[0], None, p), ValueError, "x"),
    (lambda p, x: rnn_forward(x[..., :2], None, p), ValueError, "x"),
    (lambda p, x: rnn_forward(x, np.zeros((3, 5)), p), ValueError, "h0"),
    (lambda p, x: rnn_forward(x, None, {**p, "W_hh": p["W_hh"][:, :2]}), ValueError, "W_hh"),
    (lambda p, x: rnn_forward(x, None, {"W_xh": p["W_xh"]}), ValueError, "W_hh"),
    (lambda p, x: rnn_forward(x, None, [p]), TypeError, "params"),
    (lambda p, x: rnn_forward(x, None, p, lengths=[7, 7]), ValueError, "lengths"),
    (lambda p, x: rnn_forward(x, None, p, lengths=[8, 7, 7]), ValueError, "lengths"),
    (lambda p, x: rnn_forward(x, None, p, lengths=[0, 7, 7]), ValueError, "lengths"),
    (lambda p, x: rnn_forward(x, None, p, lengths=[7.0, 7, 7]), TypeError, "lengths"),
    (lambda p, x: rnn_backward(np.zeros((3, 7, 5)), rnn_forward(x, None, p)[1]), ValueError,
     "dh"),
    (lambda p, x: rnn_step(x[:, 0, :2], np.zeros((3, 4)), p), ValueError, "x_t"),
    (lambda p, x: rnn_step(x[:, 0], np.zeros((2, 4)), p), ValueError, "h_prev"),
])
def test_numpy_bad_input(call, error, match):
    rng = _rng(7)
    with pytest.raises(error, match=match):
        call(init_rnn_params(3, 4, rng=rng), rng.normal(size=(3, 7, 3)))


# -- NumPy, stacks --------------------------------------------------------------------------------

@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_stacked_forward_matches_torch_float64(num_layers, with_h0, lengths):
    rng = _rng(num_layers)
    B, T, D, H = 3, 7, 4, 5
    params = init_stacked_rnn_params(D, H, num_layers, rng=rng)
    x = rng.normal(size=(B, T, D))
    h0 = rng.normal(size=(num_layers, B, H)) if with_h0 else None
    h, h_last, _ = stacked_rnn_forward(x, h0, params, lengths)
    model = ElmanRNN.from_numpy(params)
    out, h_T = model(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0),
                     lengths=lengths)
    assert h.shape == (B, T, H) and h_last.shape == (num_layers, B, H)
    assert np.max(np.abs(out.detach().numpy() - h)) < 1e-10
    assert np.max(np.abs(h_T.detach().numpy() - h_last)) < 1e-10


def test_one_layer_stack_is_the_single_layer_rnn():
    rng = _rng(1)
    params = init_rnn_params(3, 4, rng=rng)
    x, h0 = rng.normal(size=(3, 7, 3)), rng.normal(size=(3, 4))
    h_single, _ = rnn_forward(x, h0, params, LENGTHS)
    h_stack, h_last, _ = stacked_rnn_forward(x, h0[None], [params], LENGTHS)
    np.testing.assert_array_equal(h_single, h_stack)
    np.testing.assert_array_equal(h_last[0], h_single[np.arange(3), LENGTHS - 1])


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_stacked_backward_matches_finite_differences_and_autograd(lengths):
    rng = _rng(2)
    B, T, D, H, L = 3, 7, 3, 4, 2
    params = init_stacked_rnn_params(D, H, L, rng=rng, scale=0.8)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(L, B, H))
    weights_top = rng.normal(size=(B, T, H))
    weights_last = rng.normal(size=(L, B, H))

    def loss():  # L = Σ w ⊙ h_top + Σ v ⊙ h_last: exercises both gradient inputs
        h, h_last, _ = stacked_rnn_forward(x, h0, params, lengths)
        return np.sum(weights_top * h) + np.sum(weights_last * h_last)

    _, _, cache = stacked_rnn_forward(x, h0, params, lengths)
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
    out, h_T = model(xt, h0t, lengths=lengths)
    (torch.sum(torch.from_numpy(weights_top) * out)
     + torch.sum(torch.from_numpy(weights_last) * h_T)).backward()
    for layer in range(L):
        for name, p in model.layer_parameters(layer).items():
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
    with pytest.raises(ValueError, match="lengths"):
        stacked_rnn_forward(x, None, params, lengths=[5, 6])
    with pytest.raises(ValueError, match="dh_last"):
        stacked_rnn_backward(np.zeros((2, 5, 4)), stacked_rnn_forward(x, None, params)[2],
                             dh_last=np.zeros((1, 2, 4)))
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
        p = model.layer_parameters(layer)
        for ours, theirs in (("W_xh", "weight_ih"), ("W_hh", "weight_hh"), ("b_h", "bias_ih")):
            want = getattr(builtin, f"{theirs}_l{layer}").grad
            assert torch.max(torch.abs(p[ours].grad - (want.T if want.dim() == 2 else want))) < 1e-4


@pytest.mark.parametrize("num_layers", [1, 2])
def test_lengths_match_pack_padded_sequence(num_layers):
    torch.manual_seed(1)
    builtin = nn.RNN(4, 5, num_layers=num_layers, batch_first=True)
    ours = ElmanRNN.from_torch_builtin(builtin)
    x = torch.randn(3, 7, 4)
    lengths = torch.tensor([2, 7, 4])
    x_b, x_o = x.clone().requires_grad_(), x.clone().requires_grad_()
    packed = pack_padded_sequence(x_b, lengths, batch_first=True, enforce_sorted=False)
    out_p, h_b = builtin(packed)
    out_b, _ = pad_packed_sequence(out_p, batch_first=True, total_length=7)
    out_o, h_o = ours(x_o, lengths=lengths)
    assert (out_o - out_b).abs().max() < 1e-5 and (h_o - h_b).abs().max() < 1e-5
    assert out_o[0, 2:].abs().max() == 0          # zero past the length
    w = torch.randn(3, 7, 5)
    ((out_b * w).sum() + h_b.square().sum()).backward()
    ((out_o * w).sum() + h_o.square().sum()).backward()
    assert (x_o.grad - x_b.grad).abs().max() < 1e-5
    assert x_o.grad[0, 2:].abs().max() == 0       # padding gets no gradient
    for layer in range(num_layers):
        W_hh = ours.layer_parameters(layer)["W_hh"]
        assert (W_hh.grad - getattr(builtin, f"weight_hh_l{layer}").grad.T).abs().max() < 1e-5


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


def test_scaffolding_names_shapes_and_checks():
    model = ElmanRNN(3, 4, num_layers=2, dtype=torch.float64)
    assert [n for n, _ in model.named_parameters()] == [
        "W_xh_l0", "W_hh_l0", "b_h_l0", "W_xh_l1", "W_hh_l1", "b_h_l1"]
    assert model.W_xh is model.W_xh_l0 and model.b_h is model.b_h_l0     # layer 0's aliases
    p = model.layer_parameters(1)
    assert list(p) == ["W_xh", "W_hh", "b_h"] and p["W_xh"] is model.W_xh_l1
    assert p["W_xh"].shape == (4, 4) and model.W_xh.shape == (3, 4)
    assert repr(model) == ("ElmanRNN(input_size=3, hidden_size=4, num_layers=2, "
                           "nonlinearity='tanh')")
    bound = 1 / 4 ** 0.5
    assert all(q.abs().max() <= bound for q in model.parameters())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    h0 = model.check_inputs(x)
    assert h0.shape == (2, 2, 4) and torch.all(h0 == 0) and h0.dtype == torch.float64
    given = torch.randn(2, 2, 4, dtype=torch.float64)
    assert model.check_inputs(x, given) is given
    with pytest.raises(AttributeError):
        model.W_nothing
    with pytest.raises(ValueError, match="layer"):
        model.layer_parameters(2)


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
    with pytest.raises(ValueError, match="dropout"):
        ElmanRNN.from_torch_builtin(nn.RNN(3, 4, num_layers=2, dropout=0.5))
    with pytest.raises(TypeError, match="module"):
        ElmanRNN.from_torch_builtin(nn.LSTM(3, 4))


def test_elman_bad_input():
    model = ElmanRNN(3, 4, num_layers=2)
    x = torch.randn(2, 5, 3)
    cases = [
        (lambda: model(torch.randn(2, 3)), ValueError, "x"),              # no time axis
        (lambda: model(torch.randn(2, 5, 4)), ValueError, "x"),           # wrong D
        (lambda: model(torch.randn(2, 0, 3)), ValueError, "x"),           # empty sequence
        (lambda: model(torch.ones(2, 5, 3, dtype=torch.int64)), TypeError, "x"),
        (lambda: model(x.double()), TypeError, "x"),                      # parameters are float32
        (lambda: model(np.zeros((2, 5, 3), dtype=np.float32)), TypeError, "x"),
        (lambda: model(x, torch.randn(1, 2, 4)), ValueError, "h0"),       # one layer's state
        (lambda: model(x, torch.randn(2, 4)), ValueError, "h0"),
        (lambda: model(x, torch.randn(2, 2, 4).double()), ValueError, "h0"),
        (lambda: model(x, lengths=[5, 5, 5]), ValueError, "lengths"),
        (lambda: model(x, lengths=[6, 5]), ValueError, "lengths"),
        (lambda: model(x, lengths=torch.tensor([2.0, 5.0])), TypeError, "lengths"),
        (lambda: ElmanRNN(3, 4, nonlinearity="sigmoid"), ValueError, "nonlinearity"),
        (lambda: ElmanRNN(3, 0), ValueError, "hidden_size"),
        (lambda: ElmanRNN.from_numpy([init_rnn_params(3, 4), init_rnn_params(3, 4)]),
         ValueError, "layer 1"),
        (lambda: ElmanRNN.from_numpy({"W_xh": np.zeros((3, 4)), "W_hh": np.zeros((4, 3)),
                                      "b_h": np.zeros(4)}), ValueError, "W_hh"),
        (lambda: ElmanRNN.from_numpy("W"), TypeError, "params"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_elman_on_cuda_matches_cpu():
    torch.manual_seed(7)
    model = ElmanRNN(5, 8, num_layers=2)
    x, h0 = torch.randn(3, 10, 5), torch.randn(2, 3, 8)
    lengths = torch.tensor([10, 4, 7])
    want, want_T = model(x, h0, lengths=lengths)
    cuda_model = ElmanRNN.from_numpy(model.to_numpy(), dtype=torch.float32, device="cuda")
    got, got_T = cuda_model(x.cuda(), h0.cuda(), lengths=lengths)    # lengths stay on the CPU
    assert got.device.type == "cuda"
    assert torch.max(torch.abs(got.cpu() - want)) < 1e-5
    assert torch.max(torch.abs(got_T.cpu() - want_T)) < 1e-5
    builtin = cuda_model.to_torch_builtin()
    assert builtin.weight_ih_l0.device.type == "cuda"
    assert torch.max(torch.abs(builtin(x.cuda(), h0.cuda())[0].cpu()
                               - model(x, h0)[0])) < 1e-5
    with pytest.raises(ValueError, match="x"):
        cuda_model(x)


# -- the chapter's checks ---------------------------------------------------------------------

def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


#: Every exercise of the chapter -> (check, kind, points).
CHAPTER_CHECKS = {
    "03-rnn-shapes": (rnn_checks.check_rnn_shapes, "concept", 7),
    "03-rnn-step": (rnn_checks.check_rnn_step, "implement", 5),
    "03-rnn-forward": (rnn_checks.check_rnn_forward, "implement", 6),
    "03-rnn-outputs": (rnn_checks.check_rnn_outputs, "implement", 10),
    "03-rnn-jacobian": (rnn_checks.check_rnn_jacobian, "implement", 6),
    "03-forgetting": (rnn_checks.check_forgetting, "experiment", 3),
    "03-ctrnn-fixed-points": (rnn_checks.check_ctrnn_fixed_points, "implement", 14),
    "03-three-attractors": (rnn_checks.check_three_attractors, "experiment", 3),
    "03-oscillator": (rnn_checks.check_oscillator, "experiment", 3),
    "03-rnn-dynamics": (rnn_checks.check_rnn_dynamics, "concept", 6),
}


@pytest.mark.parametrize("exercise_id", sorted(CHAPTER_CHECKS))
def test_checks_are_registered_with_kind_points_and_a_stub_scores_zero(exercise_id, capsys):
    check, kind, points = CHAPTER_CHECKS[exercise_id]
    info = EXERCISES[exercise_id]
    assert CHECKS[exercise_id] is check and info.kind == kind and info.points == points
    assert info.summary
    report = check(_stub)
    assert report.score == 0 and not report.attempted and report.max_score == points
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", [
    (rnn_checks.check_rnn_step, rnn_checks.reference_rnn_step),
    (rnn_checks.check_rnn_forward, rnn_checks.reference_rnn_forward),
    (rnn_checks.check_rnn_outputs, rnn_checks.reference_rnn_outputs),
    (rnn_checks.check_rnn_jacobian, rnn_checks.reference_rnn_jacobian),
    (rnn_checks.check_ctrnn_fixed_points, rnn_checks.reference_fixed_points),
])
def test_the_references_score_full_marks(check, reference):
    report = check(reference)
    assert report.passed and report.score == report.max_score == EXERCISES[
        check.exercise_id].points


def test_the_checks_refuse_the_package_and_whole_job_routines(capsys):
    def fixed_points_by_scipy(W_hh, b_h):
        import scipy.optimize
        return (scipy.optimize.fsolve(lambda a: -a + np.tanh(a) @ W_hh + b_h, np.zeros(2))[None],
                np.ones(1, bool))

    def jacobian_by_autograd(x_t, h_prev, W_xh, W_hh, b_h):
        step = lambda h: torch.tanh(torch.tensor(x_t @ W_xh + b_h) + h @ torch.tensor(W_hh))
        return torch.stack([torch.autograd.functional.jacobian(step, torch.tensor(h))
                            for h in h_prev]).numpy()

    with reference_allowed(False):
        for check, answer, word in [
                (rnn_checks.check_rnn_step, rnn_checks.reference_rnn_step, "course package"),
                (rnn_checks.check_ctrnn_fixed_points, rnn_checks.reference_fixed_points,
                 "course package"),
                (rnn_checks.check_ctrnn_fixed_points, fixed_points_by_scipy, "fsolve"),
                (rnn_checks.check_rnn_jacobian, jacobian_by_autograd, "autograd")]:
            report = check(answer)
            assert report.score == 0 and report.refused, answer
            assert word in capsys.readouterr().out


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

    def no_tanh(x_t, h_prev, W_xh, W_hh, b_h):
        return x_t @ W_xh + h_prev @ W_hh + b_h

    assert rnn_checks.check_rnn_step(no_tanh).score == 0
    out = capsys.readouterr().out
    assert "tanh of equation (3.1) is missing" in out and out.count("hint:") == 1


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

    report = rnn_checks.check_rnn_forward(from_zero)
    assert report.score == 1        # right only in the case whose h0 is zero
    assert "h0 is ignored" in capsys.readouterr().out

    def in_place(x, h0, W_xh, W_hh, b_h):
        h = rnn_checks.reference_rnn_forward(x, h0, W_xh, W_hh, b_h)
        h0[:] = h[:, -1]            # right answer, but it overwrites the caller's h0
        return h

    report = rnn_checks.check_rnn_forward(in_place)
    assert report.score == 0 and "in place" in capsys.readouterr().out


def test_check_rnn_outputs_names_the_axis_and_the_overflow(capsys):
    def over_time(h, W_hy, b_y):
        z = h @ W_hy + b_y
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return z, e / e.sum(axis=1, keepdims=True)

    report = rnn_checks.check_rnn_outputs(over_time)
    assert report.score == 5        # every z, no y_hat (with T = 1 it gives all ones)
    assert "time axis" in capsys.readouterr().out

    def unstable(h, W_hy, b_y):  # right except for huge scores, where exp overflows
        z = h @ W_hy + b_y
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z)
            return z, e / e.sum(axis=-1, keepdims=True)

    report = rnn_checks.check_rnn_outputs(unstable)
    out = capsys.readouterr().out
    assert report.score == report.max_score - 1
    assert "NaN or inf" in out and "overflows" in out


def test_the_jacobian_reference_matches_finite_differences():
    for case in rnn_checks._jacobian_cases(_rng(20)):
        J = rnn_checks.reference_rnn_jacobian(**case)
        assert J.shape == (len(case["h_prev"]),) + case["W_hh"].shape
        assert np.max(np.abs(J - rnn_checks.numerical_rnn_jacobian(**case))) < 1e-8
    # and it is the matrix that carries a small change forward: h_t(h + δ) − h_t(h) ≈ δ Jᵀ
    case = rnn_checks._jacobian_cases(_rng(21))[3]
    delta = 1e-7 * _rng(22).normal(size=case["h_prev"].shape)
    moved = dict(case, h_prev=case["h_prev"] + delta)
    change = rnn_checks.reference_rnn_step(**moved) - rnn_checks.reference_rnn_step(**case)
    J = rnn_checks.reference_rnn_jacobian(**case)
    assert np.allclose(change, np.einsum("bij,bj->bi", J, delta), atol=1e-12)


@pytest.mark.parametrize("answer, words", [
    (lambda x_t, h_prev, W_xh, W_hh, b_h:
     (1 - np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h) ** 2)[:, None, :] * W_hh, "the transpose"),
    (lambda x_t, h_prev, W_xh, W_hh, b_h:
     (1 - h_prev ** 2)[:, :, None] * W_hh.T, "taken at the wrong step"),
    (lambda x_t, h_prev, W_xh, W_hh, b_h:
     (1 - (x_t @ W_xh + h_prev @ W_hh + b_h) ** 2)[:, :, None] * W_hh.T, "not 1 − a²"),
    (lambda x_t, h_prev, W_xh, W_hh, b_h:
     np.broadcast_to(W_hh.T, (len(x_t),) + W_hh.shape), "derivative of the tanh is missing"),
])
def test_check_rnn_jacobian_names_the_mistakes(answer, words, capsys):
    report = rnn_checks.check_rnn_jacobian(answer)
    assert 0 < report.score < report.max_score   # each is right in one of the edge cases
    assert words in capsys.readouterr().out


def _solved_fixed_points(W_hh, b_h):
    """An independent solution: Newton's method from a grid, as a student would write it."""
    bound = np.max(np.abs(W_hh).sum(axis=0) + np.abs(b_h)) + 1.0
    grid = np.linspace(-bound, bound, 21)
    a = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    for _ in range(100):
        F = -a + np.tanh(a) @ W_hh + b_h
        J = -np.eye(2) + W_hh.T * (1 - np.tanh(a) ** 2)[:, None, :]
        step = np.linalg.solve(J, -F[..., None])[..., 0]
        a = a + step / np.maximum(np.linalg.norm(step, axis=1, keepdims=True), 1.0)
    F = -a + np.tanh(a) @ W_hh + b_h
    points = []
    for p in a[np.abs(F).max(axis=1) < 1e-10]:
        if all(np.abs(p - q).max() > 1e-6 for q in points):
            points.append(p)
    points = np.array(points).reshape(-1, 2)
    J = -np.eye(2) + W_hh.T * (1 - np.tanh(points) ** 2)[:, None, :]
    return points, np.all(np.linalg.eigvals(J).real < 0, axis=1)


def test_check_ctrnn_fixed_points_compares_sets_in_any_order(capsys):
    def reversed_order(W_hh, b_h):
        points, stable = _solved_fixed_points(W_hh, b_h)
        return points[::-1].tolist(), stable[::-1].astype(int)   # lists and 0/1 are fine too

    assert rnn_checks.check_ctrnn_fixed_points(_solved_fixed_points).passed
    assert rnn_checks.check_ctrnn_fixed_points(reversed_order).passed
    capsys.readouterr()


def _only_attractors(W_hh, b_h):
    points, stable = _solved_fixed_points(W_hh, b_h)
    return points[stable], stable[stable]


def _duplicated(W_hh, b_h):
    points, stable = _solved_fixed_points(W_hh, b_h)
    return np.concatenate([points, points + 1e-9]), np.concatenate([stable, stable])


def _discrete_map_stability(W_hh, b_h):
    points, _ = _solved_fixed_points(W_hh, b_h)
    M = W_hh.T * (1 - np.tanh(points) ** 2)[:, None, :]
    return points, np.all(np.abs(np.linalg.eigvals(M)) < 1, axis=1)


def _symmetric_eigenvalues(W_hh, b_h):
    points, _ = _solved_fixed_points(W_hh, b_h)
    J = -np.eye(2) + W_hh.T * (1 - np.tanh(points) ** 2)[:, None, :]
    return points, np.all(np.linalg.eigvalsh(J) < 0, axis=1)


def _flipped(W_hh, b_h):
    points, stable = _solved_fixed_points(W_hh, b_h)
    return points, ~stable


def _starts_too_close(W_hh, b_h):
    points, stable = _solved_fixed_points(W_hh, b_h)
    near = np.abs(points).max(axis=1) < 1.5      # as if Newton had started only near the origin
    return points[near], stable[near]


@pytest.mark.parametrize("answer, words", [
    (_only_attractors, "only the attractors"),
    (_duplicated, "merge the points"),
    (lambda W_hh, b_h: _solved_fixed_points(W_hh.T, b_h), "−a + tanh(a) W_hhᵀ + b_h"),
    (_discrete_map_stability, "discrete map"),
    (_symmetric_eigenvalues, "eigvalsh"),
    (_flipped, "flipped"),
    (_starts_too_close, "are missing from your answer"),
])
def test_check_ctrnn_fixed_points_names_the_mistakes(answer, words, capsys):
    report = rnn_checks.check_ctrnn_fixed_points(answer)
    out = capsys.readouterr().out
    assert report.score < report.max_score
    assert words in out and out.count("hint:") == 1


def test_forgetting_experiment_passes_a_bracket_and_fails_bad_choices(capsys):
    good = rnn_checks.check_forgetting(lambda: (0.95, 1.05))
    assert good.score == 3
    assert "forgotten" in capsys.readouterr().out
    too_wide = rnn_checks.check_forgetting(lambda: (0.5, 2.0))
    assert too_wide.score == 2 and "apart" in capsys.readouterr().out
    both_above = rnn_checks.check_forgetting(lambda: (1.1, 1.2))
    out = capsys.readouterr().out
    assert both_above.score == 1 and "not forgotten" in out and "linearise" in out
    swapped = rnn_checks.check_forgetting(lambda: (1.05, 0.95))
    assert swapped.score == 0
    wrong_type = rnn_checks.check_forgetting(lambda: 1.0)
    assert wrong_type.score == 0 and "cannot be run" in capsys.readouterr().out


def test_forgetting_is_robust_over_seeds():
    # the measurement, per seed, stays far from the thresholds at the good choices
    for seed in range(5):
        assert rnn_checks.forgetting_ratio(0.95, seed) < rnn_checks.FORGETTING["forgets_below"] / 10
        assert rnn_checks.forgetting_ratio(1.05, seed) > rnn_checks.FORGETTING["remembers_above"]
        assert rnn_checks.forgetting_ratio(1.0, seed) > rnn_checks.FORGETTING["forgets_below"]


THREE = (np.array([[5.0, -1.0], [-1.0, 5.0]]), np.array([3.0, 3.0]))


def test_three_attractors_experiment_passes_a_design_and_fails_bad_ones(capsys):
    assert rnn_checks.check_three_attractors(lambda: THREE).score == 3
    capsys.readouterr()
    symmetric = rnn_checks.check_three_attractors(lambda: (THREE[0], np.zeros(2)))
    out = capsys.readouterr().out
    assert symmetric.score == 0 and "4 of them stable" in out and "symmetric" in out
    decoupled = rnn_checks.check_three_attractors(lambda: (np.diag([3.0, 3.0]), [2.0, 0.0]))
    assert decoupled.score == 0
    assert rnn_checks.check_three_attractors(lambda: (20 * np.eye(2), 0)).score == 0
    assert "within ±10" in capsys.readouterr().out
    # Three attractors, but just past the bifurcation (near c = 2.105) where the fourth is lost:
    # the simulation converges too slowly to count, and the perturbed copies fall on both sides.
    edge = (THREE[0], np.array([2.11, 2.11]))
    for seed in range(3):
        score, lines = rnn_checks._measure_attractors(edge, _rng(seed))
        assert score == 1 and "right" in lines[0] and "not robust" in lines[2]


def test_concept_check_explains_the_expected_wrong_answers(capsys):
    B, T, D, H = (rnn_checks.SIZES[k] for k in "BTDH")
    one = D * H + H * H + H
    right = {"W_xh_shape": (D, H), "b_h_shape": (H,), "h_shape": (B, T, H), "n_params": one,
             "n_params_builtin": one + H, "W_concat_shape": (D + H, H),
             "n_params_stacked": one + 2 * H * H + H}
    assert rnn_checks.check_rnn_shapes(lambda: right).score == 7
    assert rnn_checks.check_rnn_shapes(lambda: dict(right, W_xh_shape=[D, H])).score == 7
    capsys.readouterr()
    wrong = {"W_xh_shape": (H, D), "b_h_shape": (B, H), "h_shape": (T, B, H),
             "n_params": T * one, "n_params_builtin": one, "W_concat_shape": (H, D + H),
             "n_params_stacked": 2 * one}
    report = rnn_checks.check_rnn_shapes(lambda: wrong)
    out = capsys.readouterr().out
    assert report.score == 0
    for words in ("nn.RNN's layout", "shared across the batch", "time-major",
                  "shared across the T steps", "two bias vectors", "from the left",
                  "not the data's D"):
        assert words in out
    partial = rnn_checks.check_rnn_shapes(lambda: {"n_params": 7})
    out = capsys.readouterr().out
    assert partial.score == 0 and "not answered" in out and "add up the entries" in out


OSCILLATOR = (np.array([[1.5, 1.0], [-1.0, 1.5]]), np.zeros(2))   # origin: 0.5 ± i, a source


def test_oscillator_experiment_passes_a_design_and_names_what_fails(capsys):
    assert rnn_checks.check_oscillator(lambda: OSCILLATOR).score == 3
    capsys.readouterr()
    # a stable focus (eigenvalues −0.1 ± i): every start spirals in and settles
    focus = rnn_checks.check_oscillator(lambda: (np.array([[0.9, 1.0], [-1.0, 0.9]]), [0, 0]))
    out = capsys.readouterr().out
    assert focus.score == 0 and "12 settle" in out and "needs to be within" in out
    # four attractors, no oscillation
    assert rnn_checks.check_oscillator(lambda: (np.array([[5.0, -1.0], [-1.0, 5.0]]), 0)).score == 0
    # just past the Hopf bifurcation (0.02 ± i): a small cycle, reached too slowly from far
    # starts, and some perturbed copies fall back to a stable focus
    edge = (np.array([[1.02, 1.0], [-1.0, 1.02]]), np.zeros(2))
    score, lines = rnn_checks._measure_oscillator(edge, _rng(0))
    assert score < 3 and "still shrinks" in lines[1] and "not robust" in lines[3]
    assert rnn_checks.check_oscillator(lambda: (20 * np.eye(2), 0)).score == 0
    assert "within ±10" in capsys.readouterr().out
    last, earlier = rnn_checks.oscillation(OSCILLATOR[0][None], OSCILLATOR[1][None],
                                          np.array([[1.0, 0.0], [-2.0, 2.0]]))
    assert last.shape == earlier.shape == (1, 2, 2)
    np.testing.assert_allclose(last, earlier, rtol=0.01)        # a limit cycle: steady swings


def test_dynamics_concept_check_explains_the_expected_wrong_answers(capsys):
    right = {"min_units_cycle": 2, "min_units_chaos": 3, "exponent_signs": (-1, 0, 1),
             "error_growth_time": np.log(1e6) / 0.5, "uat_gives_width": False,
             "turing_weights": "rational"}
    assert rnn_checks.check_rnn_dynamics(lambda: right).score == 6
    assert rnn_checks.check_rnn_dynamics(lambda: dict(right, error_growth_time=27.6)).score == 6
    capsys.readouterr()
    wrong = {"min_units_cycle": 1, "min_units_chaos": 2, "exponent_signs": (-1, -1, 1),
             "error_growth_time": 6 / 0.5, "uat_gives_width": True, "turing_weights": "float64"}
    report = rnn_checks.check_rnn_dynamics(lambda: wrong)
    out = capsys.readouterr().out
    assert report.score == 0
    for words in ("never turn back", "Poincaré–Bendixson", "not below", "log base 10",
                  "how large H must be", "finite-state machine"):
        assert words in out
