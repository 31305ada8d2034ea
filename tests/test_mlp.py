"""The MLP: hand-written backprop against finite differences and autograd, NumPy ↔ torch parity,
torch ↔ nn.Sequential parity, training and bad input."""

import numpy as np
import pytest
import torch
from torch import nn

import seqlearn
from seqlearn.data.synthetic import make_xor
from seqlearn.gradcheck import check_gradients, numerical_gradient, relative_error
from seqlearn.numpy import linear as npl
from seqlearn.numpy import mlp as npm
from seqlearn.torch import mlp as tm


def _random_params(sizes, seed):
    rng = np.random.default_rng(seed)
    params = npm.init_mlp_params(sizes, rng)
    for key in params:  # non-zero biases, so their gradients are tested too
        params[key] = rng.standard_normal(params[key].shape) * 0.6
    return params


def _targets(loss, y_shape, rng):
    if loss == "mse":
        return rng.standard_normal(y_shape)
    return rng.integers(0, y_shape[-1], size=y_shape[:-1])


CONFIGS = [
    ([3, 4, 2], "tanh", "mse"),
    ([2, 5, 1], "tanh", "mse"),
    ([4, 6, 5, 3], "tanh", "cross_entropy"),
    ([3, 4, 4, 4, 2], "sigmoid", "mse"),
    ([3, 5, 3], "relu", "cross_entropy"),
    ([2, 3, 2], "identity", "mse"),
]


@pytest.mark.parametrize("sizes,activation,loss", CONFIGS)
def test_mlp_backward_matches_finite_differences(sizes, activation, loss):
    rng = np.random.default_rng(0)
    params = _random_params(sizes, 1)
    x = rng.standard_normal((2, 3, sizes[0]))  # any leading shape
    t = _targets(loss, (2, 3, sizes[-1]), rng)

    def loss_fn():
        return npm.mlp_loss_and_gradients(x, t, params, activation, loss)[0]

    _, grads = npm.mlp_loss_and_gradients(x, t, params, activation, loss)
    errors = check_gradients(loss_fn, params, grads)
    assert max(errors.values()) < 1e-6, errors

    # ∂L/∂x, through mlp_backward's second output
    target = rng.standard_normal(x.shape[:-1] + (sizes[-1],))
    y, cache = npm.mlp_forward(x, params, activation)
    _, dx = npm.mlp_backward(npm.mlp_loss(y, target)[1], cache)
    numeric = numerical_gradient(
        lambda: npm.mlp_loss(npm.mlp_forward(x, params, activation)[0], target)[0], x
    )
    assert dx.shape == x.shape and relative_error(numeric, dx) < 1e-6


@pytest.mark.parametrize("sizes,activation,loss", CONFIGS)
def test_mlp_backward_matches_torch_autograd(sizes, activation, loss):
    rng = np.random.default_rng(2)
    params = _random_params(sizes, 3)
    x = rng.standard_normal((7, sizes[0]))
    t = _targets(loss, (7, sizes[-1]), rng)
    y, cache = npm.mlp_forward(x, params, activation)
    value, grads = npm.mlp_loss_and_gradients(x, t, params, activation, loss)
    dy = npm.mlp_loss(y, t)[1] if loss == "mse" else None
    model = tm.MLP.from_numpy(params, activation)
    x_t = torch.tensor(x, requires_grad=True)
    loss_t = tm.mlp_loss(model(x_t), torch.tensor(t), loss)
    loss_t.backward()
    assert abs(loss_t.item() - value) < 1e-12
    for name, p in model.named_parameters():
        assert relative_error(p.grad.numpy(), grads[name]) < 1e-6, name
    if dy is not None:
        _, dx = npm.mlp_backward(dy, cache)
        assert relative_error(x_t.grad.numpy(), dx) < 1e-6


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "identity"])
def test_numpy_and_torch_forward_agree_in_float64(activation):
    params = _random_params([5, 8, 6, 3], 4)
    x = np.random.default_rng(4).standard_normal((4, 9, 5))
    y, _ = npm.mlp_forward(x, params, activation)
    model = tm.MLP.from_numpy(params, activation)
    assert model(torch.tensor(x)).dtype == torch.float64
    assert np.abs(model(torch.tensor(x)).detach().numpy() - y).max() < 1e-10
    back = model.to_numpy()
    assert list(back) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert all(np.array_equal(back[k], params[k]) for k in params)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_torch_mlp_matches_nn_sequential_float32(activation):
    torch.manual_seed(0)
    builtin = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}[activation]
    sequential = nn.Sequential(nn.Linear(4, 16), builtin(), nn.Linear(16, 3))
    model = tm.MLP.from_torch_builtin(sequential)
    assert model.sizes == [4, 16, 3] and model.activation == activation
    assert model.W1.shape == (4, 16) and model.W1.dtype == torch.float32
    x = torch.randn(10, 4)
    assert (model(x) - sequential(x)).abs().max() < 1e-5
    again = model.to_torch_builtin()
    assert [type(m) for m in again] == [type(m) for m in sequential]
    assert (again(x) - sequential(x)).abs().max() < 1e-5


def test_torch_mlp_default_init_and_parameter_names():
    torch.manual_seed(0)
    model = tm.MLP([3, 7, 2])
    assert [n for n, _ in model.named_parameters()] == ["W1", "b1", "W2", "b2"]
    assert model.W1.abs().max() <= 1 / np.sqrt(3) and torch.all(model.b1 == 0)
    params = npm.init_mlp_params([3, 7, 2], rng=0)
    assert params["W2"].shape == (7, 2) and np.abs(params["W1"]).max() <= 1 / np.sqrt(3)


@pytest.mark.parametrize("init", [
    lambda: npm.init_mlp_params([3, 7, 2]),
    lambda: npl.init_linear_params(4, 5),
])
def test_initialisers_repeat_after_seqlearn_seed(init):
    seqlearn.seed(11)
    first = init()
    seqlearn.seed(11)
    again = init()
    seqlearn.seed(12)
    other = init()
    weights = next(iter(first))  # W1 or W
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first[weights], other[weights])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_mlp_on_cuda_matches_cpu():
    params = _random_params([3, 8, 2], 5)
    x = torch.tensor(np.random.default_rng(5).standard_normal((6, 3)))
    cpu = tm.MLP.from_numpy(params)
    gpu = tm.MLP.from_numpy(params, device="cuda")
    assert (gpu(x.cuda()).cpu() - cpu(x)).abs().max() < 1e-10


# --- losses and training -----------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_mlp_loss_numpy_matches_torch(loss):
    rng = np.random.default_rng(6)
    y = rng.standard_normal((5, 4, 3))
    t = _targets(loss, y.shape, rng)
    value, dy = npm.mlp_loss(y, t, loss)
    y_t = torch.tensor(y, requires_grad=True)
    loss_t = tm.mlp_loss(y_t, torch.tensor(t), loss)
    loss_t.backward()
    assert abs(loss_t.item() - value) < 1e-12 and np.abs(y_t.grad.numpy() - dy).max() < 1e-12
    if loss == "mse":
        assert abs(value - nn.functional.mse_loss(y_t, torch.tensor(t)).item()) < 1e-12


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_both_losses_are_means(loss):
    """Equation (2.5) and the cross-entropy of chapter 2 average: the batch written twice has the
    same loss and half the gradient per entry; the MSE is the sum over all N K entries / (N K)."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal((6, 3))
    t = _targets(loss, z.shape, rng)
    value, dz = npm.mlp_loss(z, t, loss)
    value2, dz2 = npm.mlp_loss(np.concatenate([z, z]), np.concatenate([t, t]), loss)
    assert abs(value2 - value) < 1e-12
    np.testing.assert_allclose(dz2[:6], dz / 2, atol=1e-15)
    if loss == "mse":
        assert abs(value - np.sum((z - t) ** 2) / z.size) < 1e-12
        np.testing.assert_allclose(dz, 2 * (z - t) / z.size, atol=1e-15)
    else:
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        assert abs(value - np.mean(-np.log(p[np.arange(6), t]))) < 1e-12
        np.testing.assert_allclose(dz, (p - np.eye(3)[t]) / 6, atol=1e-15)
    z_t = torch.tensor(z)
    assert abs(tm.mlp_loss(z_t, torch.tensor(t), loss).item() - value) < 1e-12


def test_numpy_gradient_descent_solves_xor():
    x, t = make_xor()
    params = npm.init_mlp_params([2, 4, 1], rng=0, scale=1.0)
    trained, losses = npm.fit_full_batch(params, x, t[:, None].astype(float), lr=0.2, steps=2000)
    y, _ = npm.mlp_forward(x, trained)
    assert losses[-1] < 0.05 < losses[0]
    assert np.all(np.sign(y[:, 0]) == t)
    assert not np.array_equal(params["W1"], trained["W1"])  # the argument is left alone


@pytest.mark.parametrize("optimizer,lr,factor", [("adam", 0.05, 0.5), ("sgd", 0.3, 0.8), ("lbfgs", 1.0, 0.1)])
def test_torch_fit_full_batch_lowers_the_loss(optimizer, lr, factor):
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 50, dtype=torch.float64)[:, None]
    y = torch.sin(2 * x)
    model = tm.MLP([1, 8, 1], dtype=torch.float64)
    trained, losses = tm.fit_full_batch(model, x, y, optimizer=optimizer, lr=lr, steps=30)
    assert trained is model and losses.shape == (30,) and losses[-1] < factor * losses[0]


def test_full_batch_gradient_descent_is_the_same_on_both_sides():
    """Same arguments, same defaults, same steps: NumPy and torch SGD agree in float64."""
    x, t = make_xor()
    x, t = x.astype(float), t[:, None].astype(float)
    params = npm.init_mlp_params([2, 3, 1], rng=0, scale=1.0)
    trained, losses = npm.fit_full_batch(params, x, t, steps=50)
    model, t_losses = tm.fit_full_batch(tm.MLP.from_numpy(params), torch.from_numpy(x),
                                        torch.from_numpy(t), steps=50)
    assert np.max(np.abs(losses - t_losses)) < 1e-10
    for name, value in model.to_numpy().items():
        assert np.max(np.abs(value - trained[name])) < 1e-10, name


def test_training_stops_with_a_message_when_the_loss_explodes():
    x = np.linspace(-1, 1, 20)[:, None]
    params = npm.init_mlp_params([1, 4, 1], rng=0)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="learning rate"):
        npm.fit_full_batch(params, x, 100 * x, activation="identity", lr=50.0, steps=500)
    torch.manual_seed(0)
    model = tm.MLP([1, 4, 1], activation="identity", dtype=torch.float64)
    x_t = torch.tensor(x)
    with pytest.raises(FloatingPointError, match="learning rate"):
        tm.fit_full_batch(model, x_t, 100 * x_t, optimizer="sgd", lr=50.0, steps=500)


# --- bad input ---------------------------------------------------------------------------------


def test_numpy_mlp_bad_input():
    params = npm.init_mlp_params([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match="x"):
        npm.mlp_forward(np.ones((5, 4)), params)
    with pytest.raises(ValueError, match="x"):
        npm.mlp_forward(np.ones((0, 3)), params)
    with pytest.raises(TypeError, match="x"):
        npm.mlp_forward(np.array(["a", "b", "c"]), params)
    with pytest.raises(ValueError, match="params"):
        npm.mlp_forward(np.ones((5, 3)), {"W1": params["W1"], "b1": params["b1"], "W2": params["W2"]})
    with pytest.raises(ValueError, match="W2"):
        npm.mlp_forward(np.ones((5, 3)), {**params, "W2": np.ones((5, 2))})
    with pytest.raises(ValueError, match="b1"):
        npm.mlp_forward(np.ones((5, 3)), {**params, "b1": np.ones(3)})
    with pytest.raises(ValueError, match="activation"):
        npm.mlp_forward(np.ones((5, 3)), params, activation="step")
    with pytest.raises(ValueError, match="loss"):
        npm.mlp_loss_and_gradients(np.ones((5, 3)), np.ones((5, 2)), params, loss="hinge")
    with pytest.raises(ValueError, match="t"):
        npm.mlp_loss(np.ones((5, 2)), np.ones((5, 1)))
    with pytest.raises(ValueError, match="loss"):
        npm.mlp_loss(np.ones((5, 2)), np.ones((5, 2)), loss="hinge")
    with pytest.raises(TypeError, match="params"):
        npm.check_mlp_params([params["W1"], params["b1"]])
    with pytest.raises(ValueError, match="dz"):
        npm.mlp_backward(np.ones((5, 3)), npm.mlp_forward(np.ones((5, 3)), params)[1])
    with pytest.raises(ValueError, match="sizes"):
        npm.init_mlp_params([3])
    with pytest.raises(ValueError, match="sizes"):
        npm.init_mlp_params([3, 0, 2])
    with pytest.raises(ValueError, match="lr"):
        npm.fit_full_batch(params, np.ones((5, 3)), np.ones((5, 2)), lr=0)
    with pytest.raises(ValueError, match="optimizer"):
        npm.fit_full_batch(params, np.ones((5, 3)), np.ones((5, 2)), optimizer="adam")


def test_torch_mlp_bad_input():
    model = tm.MLP([3, 4, 2])
    with pytest.raises(ValueError, match="x"):
        model(torch.ones(5, 4))
    with pytest.raises(TypeError, match="x"):
        model(torch.ones(5, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="x"):
        model(np.ones((5, 3)))
    with pytest.raises(ValueError, match="sizes"):
        tm.MLP([3])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        tm.MLP([3, 2.5, 1])
    with pytest.raises(ValueError, match="activation"):
        tm.MLP([3, 4, 2], activation="step")
    with pytest.raises(ValueError, match="sequential"):
        tm.MLP.from_torch_builtin(nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)))
    with pytest.raises(ValueError, match="sequential"):
        tm.MLP.from_torch_builtin(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Tanh(), nn.Linear(4, 2)))
    with pytest.raises(TypeError, match="sequential"):
        tm.MLP.from_torch_builtin(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="loss"):
        tm.mlp_loss(torch.ones(5, 2), torch.ones(5, 2), loss="hinge")
    with pytest.raises(TypeError, match="t"):   # class indices must be integers
        tm.mlp_loss(torch.ones(5, 2), torch.ones(5, 2), loss="cross_entropy")
    with pytest.raises(ValueError, match="optimizer"):
        tm.fit_full_batch(model, torch.ones(5, 3), torch.ones(5, 2), optimizer="rmsprop")
    with pytest.raises(ValueError, match="loss"):
        tm.fit_full_batch(model, torch.ones(5, 3), torch.ones(5, 2), loss="hinge")
