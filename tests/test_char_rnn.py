"""Chapter 4: the min-char-rnn style language model, NumPy and torch."""

import numpy as np
import pytest
import torch
from torch import nn

from seqlearn.data import load_text
from seqlearn.gradcheck import check_gradients, relative_error
from seqlearn.numpy import char_rnn
from seqlearn.numpy.char_rnn import (
    char_rnn_loss,
    init_char_rnn_params,
    sample,
    train_char_rnn,
    unigram_entropy,
)
from seqlearn.torch.char_rnn import CharRNN
from seqlearn.torch.char_rnn import char_rnn_loss as torch_char_rnn_loss

V, H = 7, 5


def _problem(seed=0, batch=None, T=6, scale=0.5):
    rng = np.random.default_rng(seed)
    params = init_char_rnn_params(V, H, rng=rng, scale=scale)
    params["b_h"] = rng.normal(0, 0.3, size=H)
    params["b_y"] = rng.normal(0, 0.3, size=V)
    shape = (T,) if batch is None else (batch, T)
    inputs, targets = rng.integers(0, V, size=shape), rng.integers(0, V, size=shape)
    h_prev = rng.normal(0, 0.5, size=(H,) if batch is None else (batch, H))
    return params, inputs, targets, h_prev


@pytest.mark.parametrize("batch", [None, 3])
def test_gradients_match_finite_differences(batch):
    params, inputs, targets, h_prev = _problem(batch=batch)
    loss, grads, _ = char_rnn_loss(params, inputs, targets, h_prev)
    errors = check_gradients(lambda: char_rnn_loss(params, inputs, targets, h_prev)[0], params, grads)
    assert max(errors.values()) < 1e-6, errors
    assert set(grads) == set(params)


@pytest.mark.parametrize("batch", [None, 3])
def test_gradients_and_loss_match_torch_autograd(batch):
    params, inputs, targets, h_prev = _problem(seed=1, batch=batch)
    loss, grads, h_last = char_rnn_loss(params, inputs, targets, h_prev)
    model = CharRNN.from_numpy(params)
    t_loss, t_h = model.loss(torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(h_prev))
    t_loss.backward()
    assert abs(t_loss.item() - loss) < 1e-10
    assert np.max(np.abs(t_h.detach().numpy() - h_last)) < 1e-10
    tensors = {"W_xh": model.rnn.W_xh, "W_hh": model.rnn.W_hh, "b_h": model.rnn.b_h,
               "W_hy": model.W_hy, "b_y": model.b_y}
    for name, tensor in tensors.items():
        assert relative_error(tensor.grad.numpy(), grads[name]) < 1e-6, name
        assert np.max(np.abs(tensor.grad.numpy() - grads[name])) < 1e-10, name


def test_numpy_torch_round_trip_and_logits_parity():
    params, inputs, _, h_prev = _problem(seed=2, batch=2)
    model = CharRNN.from_numpy(params)
    back = model.to_numpy()
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])
    logits, h_T = model(torch.from_numpy(inputs), torch.from_numpy(h_prev))
    x = np.eye(V)[inputs]
    h = h_prev
    for t in range(inputs.shape[1]):
        h = np.tanh(x[:, t] @ params["W_xh"] + h @ params["W_hh"] + params["b_h"])
        o = h @ params["W_hy"] + params["b_y"]
        assert np.max(np.abs(logits[:, t].detach().numpy() - o)) < 1e-10
    assert np.max(np.abs(h_T.detach().numpy() - h)) < 1e-10


def test_torch_char_rnn_matches_builtin_layers_in_float32():
    torch.manual_seed(0)
    model = CharRNN(V, H)
    rnn = model.rnn.to_torch_builtin()
    readout = nn.Linear(H, V)
    with torch.no_grad():
        readout.weight.copy_(model.W_hy.T)
        readout.bias.copy_(model.b_y)
    inputs = torch.randint(0, V, (3, 8))
    logits, h_T = model(inputs)
    out, h_builtin = rnn(nn.functional.one_hot(inputs, V).float())
    assert torch.max(torch.abs(logits - readout(out))) < 1e-5
    assert torch.max(torch.abs(h_T - h_builtin[0])) < 1e-5


def test_functional_torch_loss_detaches_the_state():
    params, inputs, targets, h_prev = _problem(seed=3, batch=2)
    model = CharRNN.from_numpy(params)
    loss, h = torch_char_rnn_loss(model, torch.from_numpy(inputs), torch.from_numpy(targets))
    assert loss.requires_grad and not h.requires_grad


def test_carried_state_chains_chunks():
    """Two chunks with the state carried over = one forward pass over the whole sequence."""
    params, inputs, targets, h_prev = _problem(seed=4, T=10)
    whole, _, h_whole = char_rnn_loss(params, inputs, targets, h_prev)
    first, _, h_mid = char_rnn_loss(params, inputs[:4], targets[:4], h_prev)
    second, _, h_end = char_rnn_loss(params, inputs[4:], targets[4:], h_mid)
    assert abs(first + second - whole) < 1e-12
    np.testing.assert_allclose(h_end, h_whole, atol=1e-14)


def test_loss_is_summed_over_time_in_nats():
    params = init_char_rnn_params(V, H, rng=np.random.default_rng(0), scale=0.0)
    inputs = np.arange(5) % V
    loss, _, h_last = char_rnn_loss(params, inputs, (inputs + 1) % V)
    assert loss == pytest.approx(5 * np.log(V), rel=1e-12)  # zero weights: uniform predictions
    assert h_last.shape == (H,)


def test_sampling():
    params, *_ = _problem(seed=5)
    drawn = sample(params, None, 2, 50, np.random.default_rng(0))
    assert drawn.shape == (50,) and drawn.dtype == np.int64
    assert drawn.min() >= 0 and drawn.max() < V
    again = sample(params, None, 2, 50, np.random.default_rng(0))
    np.testing.assert_array_equal(drawn, again)
    # A tiny temperature makes sampling greedy: different generators, same text.
    cold = [sample(params, np.zeros(H), 1, 20, np.random.default_rng(s), temperature=1e-4) for s in (1, 2)]
    np.testing.assert_array_equal(cold[0], cold[1])


def test_unigram_entropy():
    assert unigram_entropy(np.array([0, 1, 2, 3] * 5)) == pytest.approx(np.log(4))
    assert unigram_entropy(np.zeros(10, dtype=int)) == 0


def test_training_lowers_the_loss():
    text = load_text("macbeth")[:6000]
    seen = []
    run = train_char_rnn(text, hidden=32, seq_length=16, steps=60, rng=np.random.default_rng(0),
                         sample_every=30, sample_length=20, progress=False,
                         callback=lambda step, loss, params: seen.append(step))
    losses = run["losses"]
    assert losses.shape == (60,) and seen == list(range(60))
    assert losses[-10:].mean() < losses[:5].mean() - 0.3
    assert losses[0] == pytest.approx(np.log(len(run["vocab"])), abs=0.05)  # tiny initial weights
    assert [step for step, _ in run["samples"]] == [30, 60]
    assert all(len(s) == 20 for _, s in run["samples"])
    assert run["chars_seen"] == 60 * 16


def test_training_with_several_streams_lowers_the_loss():
    text = load_text("macbeth")[:6000]
    run = train_char_rnn(text, hidden=16, seq_length=10, steps=50, rng=np.random.default_rng(1),
                         batch_size=4, progress=False)
    assert run["losses"][-10:].mean() < run["losses"][:5].mean() - 0.3
    assert run["chars_seen"] == 50 * 10 * 4


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow it provokes
def test_a_huge_learning_rate_stops_with_a_clear_message():
    text = load_text("macbeth")[:3000]
    with pytest.raises(FloatingPointError, match=r"training stopped at step \d+: the loss is inf.*clip"):
        train_char_rnn(text, hidden=8, seq_length=8, lr=1e307, steps=50,
                       rng=np.random.default_rng(0), progress=False)


def test_a_nan_loss_stops_training(monkeypatch):
    def nan_loss(params, inputs, targets, h_prev):
        return float("nan"), None, h_prev

    monkeypatch.setattr(char_rnn, "_loss_and_grads", nan_loss)
    with pytest.raises(FloatingPointError, match="training stopped at step 0: the loss is nan"):
        train_char_rnn("abcdefghij" * 10, hidden=4, seq_length=5, steps=3, progress=False)


def test_bad_input():
    params, inputs, targets, h_prev = _problem()
    with pytest.raises(TypeError, match="inputs"):
        char_rnn_loss(params, inputs.astype(float), targets, h_prev)
    with pytest.raises(ValueError, match="inputs"):
        char_rnn_loss(params, inputs + V, targets, h_prev)
    with pytest.raises(ValueError, match="inputs"):
        char_rnn_loss(params, inputs[:0], targets[:0], h_prev)
    with pytest.raises(ValueError, match="targets"):
        char_rnn_loss(params, inputs, targets[:-1], h_prev)
    with pytest.raises(ValueError, match="h_prev"):
        char_rnn_loss(params, inputs, targets, np.zeros(H + 1))
    with pytest.raises(ValueError, match="W_hy"):
        char_rnn_loss({k: v for k, v in params.items() if k != "W_hy"}, inputs, targets)
    with pytest.raises(ValueError, match="W_hy"):
        char_rnn_loss({**params, "W_hy": params["W_hy"].T}, inputs, targets)
    with pytest.raises(ValueError, match="temperature"):
        sample(params, None, 0, 5, temperature=0)
    with pytest.raises(ValueError, match="seed_index"):
        sample(params, None, V, 5)
    with pytest.raises(ValueError, match="text"):
        train_char_rnn("a", steps=1, progress=False)
    with pytest.raises(ValueError, match="text"):
        train_char_rnn("abcdef", seq_length=25, steps=1, progress=False)
    model = CharRNN(V, H)
    with pytest.raises(TypeError, match="inputs"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="inputs"):
        model(torch.full((2, 3), V))
    with pytest.raises(ValueError, match="targets"):
        model.loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    params, inputs, targets, h_prev = _problem(seed=6, batch=2)
    cpu = CharRNN.from_numpy(params)
    gpu = CharRNN.from_numpy(params, device="cuda")
    loss_cpu, _ = cpu.loss(torch.from_numpy(inputs), torch.from_numpy(targets))
    loss_gpu, _ = gpu.loss(torch.from_numpy(inputs).cuda(), torch.from_numpy(targets).cuda())
    assert abs(loss_cpu.item() - loss_gpu.item()) < 1e-10
