"""train_language_model / generate_text, torch and NumPy: the loops learn, stop when told, fail
clearly, and the two halves agree on the character RNN."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import seqlearn
from seqlearn.data import CharVocabulary, load_text
from seqlearn.numpy import char_rnn as np_char_rnn
from seqlearn.numpy import language_model as np_lm
from seqlearn.torch.char_rnn import CharRNN
from seqlearn.torch.language_model import (LSTMLanguageModel, generate_text, held_out_loss,
                                           language_model_loss, train_language_model)


class Bigram(nn.Module):
    """The smallest language model: a table of next-character scores; mean loss in nats."""

    def __init__(self, vocab_size):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(vocab_size, vocab_size))

    def loss(self, inputs, targets):
        return F.cross_entropy(self.table[inputs].reshape(-1, self.table.shape[1]), targets.reshape(-1))


class Exploding(Bigram):
    def loss(self, inputs, targets):
        return super().loss(inputs, targets) * float("nan")


def _text(n=600, period=5):
    return torch.arange(n, dtype=torch.int64) % period


def test_a_bigram_model_learns_a_periodic_text():
    torch.manual_seed(0)
    model = Bigram(5)
    history = train_language_model(model, _text(), seq_len=8, batch_size=4, steps=60, lr=0.1,
                                   eval_every=20, generator=0, progress=False)
    assert history["step"] == [0, 20, 40, 60]
    assert history["held_out_loss"][0] == pytest.approx(np.log(5), rel=1e-6)
    assert history["held_out_loss"][-1] < 0.2 < history["held_out_loss"][0]
    assert len(history["losses"]) == history["steps"] == 60
    assert np.all(np.diff(history["seconds"]) >= 0)


def test_char_rnn_loss_is_per_character():
    torch.manual_seed(0)
    model = CharRNN(5, 8)
    inputs, targets = _text(24).view(2, 12), (_text(25)[1:]).view(2, 12)
    logits, _ = model(inputs)
    expected = F.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1))
    assert language_model_loss(inputs, targets, model).item() == pytest.approx(expected.item(), rel=1e-6)


def test_char_rnn_trains_and_samples():
    torch.manual_seed(0)
    model = CharRNN(5, 16)
    history = train_language_model(model, _text(), seq_len=10, batch_size=8, steps=80, lr=0.02,
                                   eval_every=40, generator=1, progress=False)
    assert history["held_out_loss"][-1] < 0.6 * history["held_out_loss"][0]
    sample = generate_text(model, torch.tensor([0, 1]), 20, temperature=0.5, generator=3)
    assert sample.shape == (22,) and sample.dtype == torch.int64
    assert sample[:2].tolist() == [0, 1] and 0 <= int(sample.min()) and int(sample.max()) < 5
    again = generate_text(model, torch.tensor([0, 1]), 20, temperature=0.5, generator=3)
    assert torch.equal(sample, again)


def test_stops_after_the_given_steps_or_seconds():
    history = train_language_model(Bigram(5), _text(), seq_len=8, batch_size=2, steps=7,
                                   eval_every=100, progress=False)
    assert history["steps"] == 7 and history["step"] == [0, 7]
    timed = train_language_model(Bigram(5), _text(), seq_len=8, batch_size=2, seconds=0.05,
                                 progress=False)
    assert timed["steps"] >= 1 and timed["elapsed"] >= 0.05
    both = train_language_model(Bigram(5), _text(), seq_len=8, batch_size=2, steps=3,
                                seconds=1e6, progress=False)
    assert both["steps"] == 3


def test_window_positions_follow_the_generator():
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(train_language_model(Bigram(5), _text(), seq_len=8, batch_size=2, steps=5,
                                         generator=42, progress=False)["losses"])
    assert runs[0] == runs[1]


def test_held_out_loss_is_deterministic_and_uses_the_end_of_the_text():
    model = Bigram(6)
    with torch.no_grad():
        model.table[torch.arange(5), (torch.arange(5) + 1) % 5] = 10.0  # knows the period-5 text
    text = _text(1000)
    assert held_out_loss(model, text, 8) == held_out_loss(model, text, 8) < 1e-3
    text[-100:] = 5                                                    # a different ending
    assert held_out_loss(model, text, 8) > 1.0


def test_a_nan_loss_stops_training_with_a_message():
    with pytest.raises(FloatingPointError, match="step 0.*lower lr or clip"):
        train_language_model(Exploding(5), _text(), seq_len=8, batch_size=2, steps=5, progress=False)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"indices": _text().float()}, TypeError, "indices"),
    ({"indices": _text().view(20, 30)}, ValueError, "indices"),
    ({"indices": "abc"}, TypeError, "indices"),
    ({"indices": _text(15)}, ValueError, "too short"),
    ({"seq_len": 0}, ValueError, "seq_len"),
    ({"batch_size": 2.5}, (TypeError, ValueError), "batch_size"),
    ({"steps": None, "seconds": None}, ValueError, "stop condition"),
    ({"seconds": -1.0}, ValueError, "seconds"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"clip": -1.0}, ValueError, "clip"),
    ({"sample_every": 0}, ValueError, "sample_every"),
    ({"generator": "seed"}, TypeError, "generator"),
])
def test_bad_input_is_named(kwargs, error, match):
    args = {"model": Bigram(5), "indices": _text(), "seq_len": 8, "batch_size": 2, "steps": 2,
            "progress": False}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_language_model(**args)


def test_a_model_without_loss_is_rejected():
    with pytest.raises(TypeError, match="model"):
        train_language_model(nn.Linear(2, 2), _text(), seq_len=8, batch_size=2, steps=1, progress=False)
    with pytest.raises(ValueError, match="prompt"):
        generate_text(CharRNN(5, 4), torch.tensor([], dtype=torch.int64), 3)


def test_char_transformer_trains_and_samples():
    from seqlearn.torch.transformer import CharTransformer

    torch.manual_seed(0)
    model = CharTransformer(5, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=8)
    history = train_language_model(model, _text(), seq_len=8, batch_size=8, steps=60, lr=1e-2,
                                   eval_every=30, generator=0, progress=False)
    assert history["held_out_loss"][-1] < 0.5 * history["held_out_loss"][0]
    sample = generate_text(model, torch.tensor([0, 1, 2]), 10, generator=0)
    assert sample.shape == (13,) and sample[:3].tolist() == [0, 1, 2]


def test_temperature_zero_takes_the_most_likely_character():
    from seqlearn.torch.transformer import CharTransformer

    torch.manual_seed(0)
    for model in (CharRNN(5, 8), CharTransformer(5, d_model=8, num_heads=2, d_ff=16, context=6)):
        prompt = torch.tensor([0, 1])
        sample = generate_text(model, prompt, 5, temperature=0, generator=0)
        with torch.no_grad():               # the next character after the prompt, by hand
            logits = model(prompt)[0] if isinstance(model, CharRNN) else model(prompt)
        assert int(sample[2]) == int(logits[-1].argmax())
        assert torch.equal(sample, generate_text(model, prompt, 5, temperature=0, generator=1))
    with pytest.raises(ValueError, match="temperature"):
        generate_text(CharRNN(5, 4), torch.tensor([0]), 3, temperature=-1.0)


def test_samples_are_drawn_along_the_way():
    torch.manual_seed(0)
    history = train_language_model(CharRNN(5, 8), _text(), seq_len=8, batch_size=4, steps=10,
                                   sample_every=4, sample_length=6, generator=0, progress=False)
    assert [step for step, _ in history["samples"]] == [4, 8, 10]
    assert all(ids.shape == (6,) and ids.dtype == torch.int64 for _, ids in history["samples"])


# -- the stacked LSTM language model (chapter 6) ------------------------------------------------
def test_lstm_language_model_shapes_state_and_loss():
    torch.manual_seed(0)
    model = LSTMLanguageModel(7, hidden_size=6, num_layers=2)
    inputs = torch.randint(0, 7, (3, 5))
    logits, (h, c) = model(inputs)
    assert logits.shape == (3, 5, 7) and h.shape == c.shape == (2, 3, 6)
    targets = torch.randint(0, 7, (3, 5))
    expected = F.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1))
    assert model.loss(inputs, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    # carrying the state over two chunks = one pass over the whole sequence
    first, state = model(inputs[:, :2])
    second, _ = model(inputs[:, 2:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), logits)
    single, _ = model(inputs[0])
    torch.testing.assert_close(single, logits[0])


def test_lstm_language_model_builtin_computes_the_same_function():
    torch.manual_seed(0)
    ours = LSTMLanguageModel(7, hidden_size=6, num_layers=2)
    torch.manual_seed(0)
    builtin = LSTMLanguageModel(7, hidden_size=6, num_layers=2, builtin=True)
    assert isinstance(builtin.lstm, nn.LSTM)
    inputs = torch.randint(0, 7, (3, 9))
    assert torch.max(torch.abs(ours(inputs)[0] - builtin(inputs)[0])) < 1e-5


@pytest.mark.parametrize("builtin", [False, True])
def test_lstm_language_model_learns_and_samples(builtin):
    torch.manual_seed(0)
    model = LSTMLanguageModel(5, hidden_size=16, num_layers=1, builtin=builtin)
    history = train_language_model(model, _text(), seq_len=10, batch_size=8, steps=60, lr=0.03,
                                   eval_every=30, generator=0, progress=False)
    assert history["held_out_loss"][-1] < 0.5 * history["held_out_loss"][0]
    prompt = torch.tensor([0, 1])
    greedy = generate_text(model, prompt, 8, temperature=0)
    assert greedy.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]  # the period-5 text continued
    sample = generate_text(model, prompt, 8, temperature=1.0, generator=5)
    assert torch.equal(sample, generate_text(model, prompt, 8, temperature=1.0, generator=5))


def test_lstm_language_model_bad_input():
    model = LSTMLanguageModel(5, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match="inputs"):
        model(torch.full((2, 3), 5))
    with pytest.raises(TypeError, match="inputs"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="targets"):
        model.loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="builtin"):
        LSTMLanguageModel(5, builtin="yes")
    with pytest.raises(ValueError, match="vocab_size"):
        LSTMLanguageModel(0)


# -- the NumPy half --------------------------------------------------------------------------------
def _np_params(seed=0, V=5, H=8, scale=0.5):
    return np_char_rnn.init_char_rnn_params(V, H, rng=np.random.default_rng(seed), scale=scale)


def test_numpy_and_torch_losses_agree_on_the_char_rnn():
    params = _np_params()
    model = CharRNN.from_numpy(params)
    text = (np.arange(400) * 3) % 5
    inputs, targets = text[:24].reshape(2, 12), text[1:25].reshape(2, 12)
    np_loss = np_lm.language_model_loss(inputs, targets, params)
    t_loss = language_model_loss(torch.from_numpy(inputs), torch.from_numpy(targets), model)
    assert abs(np_loss - t_loss.item()) < 1e-10
    assert abs(np_lm.held_out_loss(params, text, 8) - held_out_loss(model, text, 8)) < 1e-10


def test_numpy_and_torch_greedy_generation_agree():
    params = _np_params(seed=1)
    prompt = np.array([0, 3, 1])
    np_text = np_lm.generate_text(params, prompt, 12, temperature=0)
    t_text = generate_text(CharRNN.from_numpy(params), torch.from_numpy(prompt), 12, temperature=0)
    assert np_text.dtype == np.int64 and np_text.shape == (15,)
    np.testing.assert_array_equal(np_text, t_text.numpy())
    np.testing.assert_array_equal(np_text[:3], prompt)


def test_numpy_sampling_is_reproducible_and_follows_seqlearn_seed():
    params = _np_params(seed=2)
    drawn = np_lm.generate_text(params, np.array([2]), 50, rng=np.random.default_rng(0))
    assert drawn.min() >= 0 and drawn.max() < 5
    np.testing.assert_array_equal(drawn, np_lm.generate_text(params, np.array([2]), 50,
                                                             rng=np.random.default_rng(0)))
    seqlearn.seed(4)
    first = np_lm.generate_text(params, np.array([2]), 50)
    seqlearn.seed(4)
    np.testing.assert_array_equal(first, np_lm.generate_text(params, np.array([2]), 50))
    # A tiny temperature makes sampling greedy: different generators, same text.
    cold = [np_lm.generate_text(params, np.array([1]), 20, temperature=1e-4,
                                rng=np.random.default_rng(s)) for s in (1, 2)]
    np.testing.assert_array_equal(cold[0], cold[1])


def test_numpy_training_lowers_the_held_out_loss_of_macbeth():
    text = load_text("macbeth")[:6000]
    ids = CharVocabulary(text).encode(text)
    params = np_char_rnn.init_char_rnn_params(int(ids.max()) + 1, 32, rng=np.random.default_rng(0))
    before = {k: v.copy() for k, v in params.items()}
    history = np_lm.train_language_model(params, ids, 16, 1, steps=120, eval_every=60,
                                         rng=np.random.default_rng(0), sample_every=60,
                                         sample_length=20, progress=False)
    assert not np.array_equal(before["W_xh"], params["W_xh"])  # trained in place
    losses = np.array(history["losses"])
    assert losses.shape == (120,) and history["steps"] == 120 and history["step"] == [0, 60, 120]
    assert losses[0] == pytest.approx(np.log(int(ids.max()) + 1), abs=0.05)  # tiny initial weights
    assert losses[-10:].mean() < losses[:5].mean() - 0.3
    assert history["held_out_loss"][-1] < history["held_out_loss"][0] - 0.3
    assert [step for step, _ in history["samples"]] == [60, 120]
    assert all(ids.shape == (20,) for _, ids in history["samples"])
    V = int(ids.max()) + 1          # min-char-rnn's moving average starts at log V
    assert len(history["smooth_losses"]) == 120
    assert history["smooth_losses"][0] == pytest.approx(0.999 * np.log(V) + 0.001 * losses[0])


def test_numpy_training_takes_min_char_rnns_steps_on_the_summed_loss():
    """The mean loss with clip = c / T and Adagrad's eps = 1e-8 / T² moves the weights exactly as
    min-char-rnn's Adagrad does on the loss summed over the chunk, with clip c and eps 1e-8."""
    text = load_text("macbeth")[:3000]
    ids = CharVocabulary(text).encode(text)
    V, H, T, c = int(ids.max()) + 1, 16, 10, 0.5
    params = np_char_rnn.init_char_rnn_params(V, H, rng=np.random.default_rng(0), scale=0.3)
    manual = {k: v.copy() for k, v in params.items()}
    np_lm.train_language_model(params, ids, T, 1, steps=6, clip=c / T, eval_every=100,
                               progress=False)
    memory = {k: np.zeros_like(v) for k, v in manual.items()}
    h, clipped = np.zeros((1, H)), 0
    for step in range(6):
        window = ids[step * T + np.arange(T + 1)][None]
        _, grads, h = np_char_rnn.char_rnn_loss_and_gradients(window[:, :-1], window[:, 1:], manual, h)
        for k in manual:
            g = grads[k] * T  # the gradient of the summed loss
            clipped += int(np.any(np.abs(g) > c))
            g = np.clip(g, -c, c)
            memory[k] += g * g
            manual[k] -= 0.1 * g / np.sqrt(memory[k] + 1e-8)
    assert clipped > 0  # the clip bound is exercised
    for k in manual:
        np.testing.assert_allclose(params[k], manual[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_numpy_training_with_several_streams_and_a_time_budget():
    text = load_text("macbeth")[:6000]
    ids = CharVocabulary(text).encode(text)
    params = np_char_rnn.init_char_rnn_params(int(ids.max()) + 1, 16, rng=0)
    history = np_lm.train_language_model(params, ids, 10, 4, steps=50, progress=False)
    assert np.mean(history["losses"][-10:]) < np.mean(history["losses"][:5]) - 0.3
    timed = np_lm.train_language_model(params, ids, 10, 4, seconds=0.05, progress=False)
    assert timed["steps"] >= 1 and timed["elapsed"] >= 0.05


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow it provokes
def test_numpy_training_with_a_huge_learning_rate_stops_with_a_clear_message():
    text = load_text("macbeth")[:3000]
    ids = CharVocabulary(text).encode(text)
    params = np_char_rnn.init_char_rnn_params(int(ids.max()) + 1, 8, rng=0)
    with pytest.raises(FloatingPointError, match=r"training stopped at step \d+: the loss is inf.*clip"):
        np_lm.train_language_model(params, ids, 8, 1, steps=50, lr=1e307, progress=False)


def test_numpy_training_stops_on_a_nan_loss(monkeypatch):
    def nan_loss(inputs, targets, params, h0=None):
        return float("nan"), None, h0

    monkeypatch.setattr(np_lm, "char_rnn_loss_and_gradients", nan_loss)
    with pytest.raises(FloatingPointError, match="training stopped at step 0: the loss is nan"):
        np_lm.train_language_model(_np_params(), np.arange(100) % 5, 5, 1, steps=3, progress=False)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"indices": np.arange(600) % 5 + 0.5}, TypeError, "indices"),
    ({"indices": np.arange(600) % 7}, ValueError, "indices"),
    ({"indices": np.arange(15) % 5}, ValueError, "too short"),
    ({"batch_size": 100}, ValueError, "streams"),
    ({"seq_len": 0}, ValueError, "seq_len"),
    ({"steps": None, "seconds": None}, ValueError, "stop condition"),
    ({"seconds": -1.0}, ValueError, "seconds"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"clip": 0}, ValueError, "clip"),
    ({"rng": "seed"}, TypeError, "rng"),
])
def test_numpy_bad_input_is_named(kwargs, error, match):
    args = {"params": _np_params(), "indices": np.arange(600) % 5, "seq_len": 8,
            "batch_size": 2, "steps": 2, "progress": False}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        np_lm.train_language_model(**args)


def test_numpy_generate_text_bad_input():
    params = _np_params()
    with pytest.raises(ValueError, match="temperature"):
        np_lm.generate_text(params, np.array([0]), 5, temperature=-1)
    with pytest.raises(ValueError, match="prompt"):
        np_lm.generate_text(params, np.array([5]), 5)
    with pytest.raises(ValueError, match="prompt"):
        np_lm.generate_text(params, np.array([], dtype=int), 5)
    with pytest.raises(ValueError, match="n"):
        np_lm.generate_text(params, np.array([0]), 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_one_cuda_generator_drives_training_and_sampling_on_the_gpu():
    from seqlearn.torch.transformer import CharTransformer

    torch.manual_seed(0)
    model = CharTransformer(5, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=8).cuda()
    gen = torch.Generator(device="cuda").manual_seed(0)
    history = train_language_model(model, _text(), seq_len=8, batch_size=4, steps=5,
                                   generator=gen, progress=False)
    assert history["steps"] == 5
    assert generate_text(model, torch.tensor([0]), 4, generator=gen).shape == (5,)
    with pytest.raises(ValueError, match="generator"):
        model.generate(torch.tensor([0]), 4, generator=torch.Generator().manual_seed(0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_the_gpu():
    torch.manual_seed(0)
    model = CharRNN(5, 8).cuda()
    history = train_language_model(model, _text(), seq_len=8, batch_size=4, steps=5, progress=False)
    assert history["steps"] == 5 and np.isfinite(history["held_out_loss"][-1])
    assert generate_text(model, torch.tensor([0]), 4, generator=0).shape == (5,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_char_transformer_samples_on_the_gpu_from_an_int_seed():
    from seqlearn.torch.transformer import CharTransformer

    model = CharTransformer(5, d_model=16, num_heads=2, d_ff=32, num_layers=1, context=8).cuda()
    sample = generate_text(model, torch.tensor([0, 1]), 6, generator=3)
    assert torch.equal(sample, generate_text(model, torch.tensor([0, 1]), 6, generator=3))


# -- plain SGD with and without clipping (chapter 4's exploding run) ----------------------------

def _macbeth():
    text = load_text("macbeth")
    vocab = CharVocabulary(text)
    return vocab, vocab.encode(text)


def test_sgd_takes_plain_steps_on_the_chunks_of_train_language_model():
    vocab, ids = _macbeth()
    params = np_char_rnn.init_char_rnn_params(len(vocab), 8, rng=np.random.default_rng(0))
    start = {k: v.copy() for k, v in params.items()}
    history = np_lm.train_with_sgd(params, ids, seq_len=5, batch_size=3, steps=1, lr=0.5)
    stream = (np_lm.training_split(len(ids), 5) - 1) // 3
    index = np.arange(3)[:, None] * stream + np.arange(5)
    loss, grads, _ = np_char_rnn.char_rnn_loss_and_gradients(ids[index], ids[index + 1], start)
    assert history["losses"] == [pytest.approx(loss)] and history["steps"] == 1
    assert history["grad_norms"][0] == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    for name in params:
        np.testing.assert_allclose(params[name], start[name] - 0.5 * grads[name], atol=1e-15)


def test_sgd_clipping_bounds_every_step_and_is_recorded():
    vocab, ids = _macbeth()
    params = np_char_rnn.init_char_rnn_params(len(vocab), 8, rng=np.random.default_rng(1))
    before = {k: v.copy() for k, v in params.items()}
    history = np_lm.train_with_sgd(params, ids, seq_len=5, batch_size=2, steps=3, lr=2.0,
                                   max_norm=1e-3)
    assert history["clipped"] == [True, True, True] and history["stopped"] is None
    moved = np.sqrt(sum(np.sum((params[k] - before[k]) ** 2) for k in params))
    assert moved <= 3 * 2.0 * 1e-3 + 1e-12
    again = np_char_rnn.init_char_rnn_params(len(vocab), 8, rng=np.random.default_rng(1))
    assert np_lm.train_with_sgd(again, ids, 5, 2, 3, 2.0, 1e-3) == history   # repeatable


def test_sgd_records_a_blow_up_instead_of_raising():
    vocab, ids = _macbeth()
    params = np_char_rnn.init_char_rnn_params(len(vocab), 16, rng=np.random.default_rng(0))
    with np.errstate(over="ignore", invalid="ignore"):   # weights of 1e307 overflow on purpose
        history = np_lm.train_with_sgd(params, ids, seq_len=10, batch_size=4, steps=50, lr=1e307)
    assert history["stopped"].startswith("step ") and "clip them" in history["stopped"]
    assert history["steps"] == len(history["losses"]) == len(history["grad_norms"]) < 50


@pytest.mark.parametrize("kwargs,match", [({"lr": 0}, "lr"), ({"max_norm": -1.0}, "max_norm"),
                                          ({"steps": 0}, "steps")])
def test_sgd_bad_input_is_named(kwargs, match):
    vocab, ids = _macbeth()
    params = np_char_rnn.init_char_rnn_params(len(vocab), 4, rng=np.random.default_rng(0))
    arguments = dict(seq_len=5, batch_size=2, steps=2, lr=0.1) | kwargs
    with pytest.raises(ValueError, match=match):
        np_lm.train_with_sgd(params, ids, **arguments)
