"""Chapter 4: the min-char-rnn style language model, NumPy and torch (its training and sampling:
tests/test_language_model.py)."""

import numpy as np
import pytest
import torch
from torch import nn

import seqlearn
from seqlearn.gradcheck import check_gradients, relative_error
from seqlearn.numpy.char_rnn import (
    PARAM_NAMES,
    char_rnn_forward,
    char_rnn_loss,
    char_rnn_loss_and_gradients,
    init_char_rnn_params,
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
    loss, grads, _ = char_rnn_loss_and_gradients(inputs, targets, params, h_prev)
    errors = check_gradients(lambda: char_rnn_loss(inputs, targets, params, h_prev)[0], params, grads)
    assert max(errors.values()) < 1e-6, errors
    assert set(grads) == set(params)


@pytest.mark.parametrize("batch", [None, 3])
def test_gradients_and_loss_match_torch_autograd(batch):
    params, inputs, targets, h_prev = _problem(seed=1, batch=batch)
    loss, grads, h_last = char_rnn_loss_and_gradients(inputs, targets, params, h_prev)
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


def test_functional_losses_agree_and_the_torch_one_detaches_the_state():
    params, inputs, targets, h_prev = _problem(seed=3, batch=2)
    model = CharRNN.from_numpy(params)
    loss, h = torch_char_rnn_loss(torch.from_numpy(inputs), torch.from_numpy(targets), model,
                                  torch.from_numpy(h_prev))
    assert loss.requires_grad and not h.requires_grad
    np_loss, np_h = char_rnn_loss(inputs, targets, params, h_prev)
    assert abs(loss.item() - np_loss) < 1e-10
    assert np.max(np.abs(h.numpy() - np_h)) < 1e-10
    assert np_loss == pytest.approx(char_rnn_loss_and_gradients(inputs, targets, params, h_prev)[0],
                                    rel=1e-13)


@pytest.mark.parametrize("batch", [None, 2])
def test_numpy_forward_matches_the_torch_module(batch):
    params, inputs, _, h_prev = _problem(seed=7, batch=batch)
    logits, h_T = char_rnn_forward(inputs, h_prev, params)
    t_logits, t_h = CharRNN.from_numpy(params)(torch.from_numpy(inputs), torch.from_numpy(h_prev))
    assert logits.shape == tuple(t_logits.shape) and h_T.shape == tuple(t_h.shape)
    assert np.max(np.abs(t_logits.detach().numpy() - logits)) < 1e-10
    assert np.max(np.abs(t_h.detach().numpy() - h_T)) < 1e-10
    assert PARAM_NAMES == tuple(CharRNN.from_numpy(params).to_numpy())


def test_carried_state_chains_chunks():
    """Two chunks with the state carried over = one forward pass over the whole sequence."""
    params, inputs, targets, h_prev = _problem(seed=4, T=10)
    whole, h_whole = char_rnn_loss(inputs, targets, params, h_prev)
    first, h_mid = char_rnn_loss(inputs[:4], targets[:4], params, h_prev)
    second, h_end = char_rnn_loss(inputs[4:], targets[4:], params, h_mid)
    assert abs((4 * first + 6 * second) / 10 - whole) < 1e-12  # means over 4, 6 and 10 steps
    np.testing.assert_allclose(h_end, h_whole, atol=1e-14)


def test_loss_is_the_mean_over_steps_and_batch_in_nats_per_character():
    params = init_char_rnn_params(V, H, rng=np.random.default_rng(0), scale=0.0)
    inputs = np.arange(5) % V
    loss, h_last = char_rnn_loss(inputs, (inputs + 1) % V, params)
    assert loss == pytest.approx(np.log(V), rel=1e-12)  # zero weights: uniform predictions
    assert h_last.shape == (H,)
    params, inputs, targets, h_prev = _problem(seed=9, batch=3, T=7)
    logits, _ = char_rnn_forward(inputs, h_prev, params)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    per_step = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]  # (B, T)
    assert char_rnn_loss(inputs, targets, params, h_prev)[0] == pytest.approx(per_step.mean(),
                                                                                rel=1e-12)
    loss, grads, _ = char_rnn_loss_and_gradients(inputs, targets, params, h_prev)
    assert loss == pytest.approx(per_step.mean(), rel=1e-12)
    # ∂L/∂b_y = Σ_{b,t} (ŷ_{b,t} − 1_{y_{b,t}}) / (BT)
    dz = np.exp(logp)
    np.put_along_axis(dz, targets[..., None],
                      np.take_along_axis(dz, targets[..., None], axis=-1) - 1.0, axis=-1)
    np.testing.assert_allclose(grads["b_y"], dz.sum(axis=(0, 1)) / per_step.size, atol=1e-14)
    model = CharRNN.from_numpy(params)
    t_loss, _ = model.loss(torch.from_numpy(inputs), torch.from_numpy(targets),
                           torch.from_numpy(h_prev))
    assert t_loss.item() == pytest.approx(per_step.mean(), rel=1e-12)


def test_unigram_entropy():
    assert unigram_entropy(np.array([0, 1, 2, 3] * 5)) == pytest.approx(np.log(4))
    assert unigram_entropy(np.zeros(10, dtype=int)) == 0


def test_init_follows_seqlearn_seed():
    seqlearn.seed(3)
    first = init_char_rnn_params(V, H)
    seqlearn.seed(3)
    again = init_char_rnn_params(V, H)
    assert all(np.array_equal(first[k], again[k]) for k in PARAM_NAMES)
    assert not np.array_equal(first["W_xh"], init_char_rnn_params(V, H)["W_xh"])


def test_diverged_parameters_raise_floating_point_error():
    params, inputs, targets, h_prev = _problem(seed=8)
    with pytest.raises(FloatingPointError, match="W_hh.*diverged"):
        char_rnn_loss_and_gradients(inputs, targets, {**params, "W_hh": params["W_hh"] * np.inf},
                                    h_prev)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="overflowed"):
        # h_t ≈ 1 (b_h = 10) and W_hy = 1e308: the scores sum H numbers near 1e308
        char_rnn_loss_and_gradients(
            inputs, targets, {**params, "b_h": np.full(H, 10.0), "W_hy": np.full((H, V), 1e308)},
            h_prev)


def test_bad_input():
    params, inputs, targets, h_prev = _problem()
    with pytest.raises(TypeError, match="inputs"):
        char_rnn_loss(inputs.astype(float), targets, params, h_prev)
    with pytest.raises(ValueError, match="inputs"):
        char_rnn_loss(inputs + V, targets, params, h_prev)
    with pytest.raises(ValueError, match="inputs"):
        char_rnn_loss(inputs[:0], targets[:0], params, h_prev)
    with pytest.raises(ValueError, match="targets"):
        char_rnn_loss_and_gradients(inputs, targets[:-1], params, h_prev)
    with pytest.raises(ValueError, match="h0"):
        char_rnn_loss(inputs, targets, params, np.zeros(H + 1))
    with pytest.raises(ValueError, match="W_hy"):
        char_rnn_loss(inputs, targets, {k: v for k, v in params.items() if k != "W_hy"})
    with pytest.raises(ValueError, match="W_hy"):
        char_rnn_loss_and_gradients(inputs, targets, {**params, "W_hy": params["W_hy"].T})
    with pytest.raises(ValueError, match="h0"):
        char_rnn_forward(inputs, np.zeros((2, H)), params)
    model = CharRNN(V, H)
    with pytest.raises(TypeError, match="inputs"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="inputs"):
        model(torch.full((2, 3), V))
    with pytest.raises(ValueError, match="targets"):
        model.loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="model"):
        torch_char_rnn_loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long),
                            nn.Linear(2, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    params, inputs, targets, h_prev = _problem(seed=6, batch=2)
    cpu = CharRNN.from_numpy(params)
    gpu = CharRNN.from_numpy(params, device="cuda")
    loss_cpu, _ = cpu.loss(torch.from_numpy(inputs), torch.from_numpy(targets))
    loss_gpu, _ = gpu.loss(torch.from_numpy(inputs).cuda(), torch.from_numpy(targets).cuda())
    assert abs(loss_cpu.item() - loss_gpu.item()) < 1e-10


# -- looking inside: states, features, correlations (chapter 4b) --------------------------------

def test_states_match_the_logits_and_torch():
    from seqlearn.numpy.char_rnn import char_rnn_states
    from seqlearn.torch.char_rnn import char_rnn_states as torch_states

    for batch in (None, 3):
        params, inputs, _, h_prev = _problem(batch=batch)
        states = char_rnn_states(inputs, h_prev, params)
        logits, h_T = char_rnn_forward(inputs, h_prev, params)
        assert states.shape == inputs.shape + (H,)
        np.testing.assert_allclose(states @ params["W_hy"] + params["b_y"], logits, rtol=0,
                                   atol=1e-14)
        np.testing.assert_array_equal(states[..., -1, :], h_T)
        model = CharRNN.from_numpy(params)
        got = torch_states(torch.from_numpy(inputs), torch.from_numpy(h_prev), model)
        assert not got.requires_grad
        assert relative_error(got.numpy(), states) < 1e-10


def test_states_bad_input_is_named():
    from seqlearn.numpy.char_rnn import char_rnn_states
    from seqlearn.torch.char_rnn import char_rnn_states as torch_states

    params, inputs, _, _ = _problem()
    with pytest.raises(ValueError, match="inputs: indices must lie in"):
        char_rnn_states(inputs + V, None, params)
    with pytest.raises(ValueError, match="h0"):
        char_rnn_states(inputs, np.zeros(H + 1), params)
    with pytest.raises(TypeError, match="model: expected a CharRNN"):
        torch_states(torch.from_numpy(inputs), None, nn.Linear(2, 2))


def test_text_features_follow_lines_brackets_and_speakers():
    from seqlearn.numpy.char_rnn import TEXT_FEATURES, text_features

    text = "ROSS.\nAy [Exit\nall.] so\nACT V.\n"
    f = text_features(text)
    assert tuple(f) == TEXT_FEATURES and all(v.shape == (len(text),) for v in f.values())
    line = [int(p) for p in f["position in line"]]
    assert line[:7] == [1, 2, 3, 4, 5, 0, 1]                 # 0 after the line break
    inside = "".join(str(int(v)) for v in f["inside brackets"])
    assert inside == "000000000" + "11111" + "1" + "1111" + "0" + "000" + "00000000"
    name = "".join(str(int(v)) for v in f["speaker's name"])
    assert name == "11111" + "0" * (len(text) - 5)          # not the ACT heading
    with pytest.raises(TypeError, match="text"):
        text_features("")


def test_unit_correlations_are_pearsons_and_zero_for_a_constant_unit():
    from seqlearn.numpy.char_rnn import unit_correlations

    rng = np.random.default_rng(3)
    states, features = rng.normal(size=(50, 4)), rng.normal(size=(50, 2))
    states[:, 1] = 2.0
    r = unit_correlations(states, features)
    with np.errstate(invalid="ignore", divide="ignore"):      # the constant unit's NaN
        full = np.corrcoef(states.T, features.T)[:4, 4:]
    np.testing.assert_allclose(np.delete(r, 1, axis=0), np.delete(full, 1, axis=0), atol=1e-12)
    assert np.all(r[1] == 0)
    np.testing.assert_allclose(unit_correlations(states, features[:, 0]), r[:, 0])
    with pytest.raises(ValueError, match="features: expected shape"):
        unit_correlations(states, features[:10])


def test_current_character_correlation_is_one_for_a_function_of_the_character():
    from seqlearn.numpy.char_rnn import current_character_correlation

    rng = np.random.default_rng(4)
    fit, evaluate = rng.integers(0, 5, size=400), rng.integers(0, 5, size=300)
    table = np.array([0.0, 2.0, -1.0, 5.0, 1.0])
    assert current_character_correlation(fit, table[fit], evaluate, table[evaluate]) == \
        pytest.approx(1.0)
    noise = current_character_correlation(fit, rng.normal(size=400), evaluate,
                                          rng.normal(size=300))
    assert abs(noise) < 0.3
    with pytest.raises(ValueError, match="fit_feature"):
        current_character_correlation(fit, table[fit][:10], evaluate, table[evaluate])
