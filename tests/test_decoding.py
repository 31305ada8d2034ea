"""The one decoding loop of the torch sequence models, ``seqlearn.torch.decoding.decode``, on
hand-made steps whose right answers are known."""

import pytest
import torch

from seqlearn.data.transduction import BOS, EOS, PAD
from seqlearn.torch.decoding import decode

V = 8


def counting_step(calls):
    """The next token is the last one + 1 (mod V), certain; the state counts the steps; the extra
    is the prefix length. ``calls`` records the prefixes the step saw."""

    def step(tokens, state):
        calls.append(tokens.clone())
        logits = torch.full((tokens.shape[0], V), -10.0)
        logits[torch.arange(tokens.shape[0]), (tokens[:, -1] + 1) % V] = 10.0
        extra = torch.full((tokens.shape[0], 2), float(tokens.shape[1]))
        return logits, state + 1, extra

    return step


def test_greedy_decoding_feeds_back_its_tokens_and_stops_after_eos():
    calls = []
    assert EOS == BOS + 1
    start = torch.tensor([[BOS], [BOS], [5]])
    tokens, extras = decode(counting_step(calls), start, 7, state=0, eos=EOS)
    assert tokens.shape == (3, 7) and tokens.dtype == torch.int64
    # row 2 counts 6, 7, 0, 1, 2 = EOS and then pads; rows 0 and 1 produce EOS at once
    assert tokens[2].tolist() == [6, 7, 0, 1, EOS, PAD, PAD]
    assert tokens[0].tolist() == tokens[1].tolist() == [EOS] + [PAD] * 6
    # decoding stopped when the last row ended: five steps, each seeing the tokens so far
    assert len(calls) == 5
    for t, prefix in enumerate(calls):
        assert prefix.shape == (3, t + 1) and torch.equal(prefix[:, 1:], tokens[:, :t])
    assert torch.equal(extras[2, :5, 0], torch.arange(1.0, 6.0))
    assert torch.all(extras[:2, 1:] == 0) and torch.all(extras[2, 5:] == 0)
    assert torch.all(extras[:2, 0] == 1)


def test_without_eos_it_runs_max_len_steps_and_carries_the_state():
    states = []

    def step(tokens, state):
        states.append(state)
        logits = torch.zeros(tokens.shape[0], V)
        logits[:, EOS] = 1.0
        return logits, state + [len(states)], None

    tokens, extras = decode(step, torch.full((2, 3), BOS), 4, state=[])
    assert extras is None and torch.all(tokens == EOS)
    assert states == [[], [1], [1, 2], [1, 2, 3]]
    empty, _ = decode(step, torch.full((2, 1), BOS), 0)
    assert empty.shape == (2, 0)


def test_sampling_follows_the_temperature_and_the_generator():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])

    def step(tokens, state):
        return probs.log().expand(tokens.shape[0], 4), None, None

    start = torch.zeros((4000, 1), dtype=torch.long)
    tokens, _ = decode(step, start, 1, temperature=1.0, generator=torch.Generator().manual_seed(0))
    frequencies = torch.bincount(tokens[:, 0], minlength=4) / 4000
    assert torch.allclose(frequencies, probs, atol=0.03)
    again, _ = decode(step, start, 1, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tokens, again)
    # a low temperature sharpens the distribution towards the argmax, 0 is the argmax
    cold, _ = decode(step, start, 1, temperature=0.1, generator=torch.Generator().manual_seed(0))
    assert (cold == 3).float().mean() > 0.9
    greedy, _ = decode(step, start[:5], 3)
    assert torch.all(greedy == 3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"start_tokens": torch.zeros((2, 1))}, TypeError, "start_tokens"),
    ({"start_tokens": torch.zeros(2, dtype=torch.long)}, TypeError, "start_tokens"),
    ({"max_len": -1}, ValueError, "max_len"),
    ({"max_len": 2.0}, ValueError, "max_len"),
    ({"temperature": -0.5}, ValueError, "temperature"),
    ({"temperature": 1.0, "generator": 3}, TypeError, "generator"),
])
def test_bad_arguments(kwargs, error, match):
    arguments = {"step": counting_step([]), "start_tokens": torch.zeros((2, 1), dtype=torch.long),
                 "max_len": 3, "state": 0}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        decode(**arguments)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_generator_on_another_device_is_refused():
    start = torch.zeros((2, 1), dtype=torch.long, device="cuda")
    with pytest.raises(ValueError, match="generator"):
        decode(counting_step([]), start, 3, state=0, temperature=1.0,
               generator=torch.Generator())
