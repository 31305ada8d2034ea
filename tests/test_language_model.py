"""train_language_model / generate_text: the loop learns, stops when told, fails clearly."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from seqlearn.torch.char_rnn import CharRNN
from seqlearn.torch.language_model import (generate_text, held_out_loss, language_model_loss,
                                           train_language_model)


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
    assert language_model_loss(model, inputs, targets).item() == pytest.approx(expected.item(), rel=1e-6)


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
    ({"indices": [0, 1, 2]}, TypeError, "indices"),
    ({"indices": _text(15)}, ValueError, "too short"),
    ({"seq_len": 0}, ValueError, "seq_len"),
    ({"batch_size": 2.5}, (TypeError, ValueError), "batch_size"),
    ({"steps": None, "seconds": None}, ValueError, "stop condition"),
    ({"seconds": -1.0}, ValueError, "seconds"),
    ({"lr": 0.0}, ValueError, "lr"),
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
