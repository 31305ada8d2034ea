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


# -- beam search --------------------------------------------------------------------------------
from itertools import product  # noqa: E402

import numpy as np  # noqa: E402

from seqlearn.torch.decoding import beam_search  # noqa: E402


def table_step(table):
    """A step whose logits depend on the whole prefix after the start token: ``table`` maps the
    tuple of tokens written so far to a (V,) tensor of logits."""

    def step(tokens, state):
        return torch.stack([table[tuple(row[1:].tolist())] for row in tokens]), state, None

    return step


def random_table(V, max_len, seed):
    g = torch.Generator().manual_seed(seed)
    return {prefix: 2.0 * torch.randn(V, generator=g, dtype=torch.float64)
            for n in range(max_len) for prefix in product(range(V), repeat=n)}


def log_prob(table, sequence, eos):
    """log p of ``sequence`` under ``table``, up to and including its first eos."""
    total, prefix = 0.0, ()
    for token in sequence:
        total += float(torch.log_softmax(table[prefix], -1)[token])
        prefix = prefix + (token,)
        if token == eos:
            break
    return total


def test_beam_width_one_is_greedy_decoding():
    V, T = 4, 4
    for seed in range(5):
        table = random_table(V, T, seed)
        start = torch.full((1, 1), BOS)
        greedy, _ = decode(table_step(table), start, T, eos=EOS)
        beam, score = beam_search(table_step(table), start, T, 1, eos=EOS)
        assert torch.equal(beam, greedy)
        assert score.item() == pytest.approx(log_prob(table, beam[0].tolist(), EOS))


def test_a_wide_beam_finds_the_most_probable_sequence_exactly():
    # Vocabulary {PAD, BOS, EOS, 3, 4}; a sequence ends at EOS or after T tokens.
    V, T = 5, 3
    found_better = False
    for seed in range(20):
        table = random_table(V, T, seed)
        best = max(product(range(V), repeat=T), key=lambda s: log_prob(table, s, EOS))
        best_score = log_prob(table, best, EOS)
        start = torch.full((1, 1), BOS)
        tokens, score = beam_search(table_step(table), start, T, V ** T, eos=EOS)
        assert score.item() == pytest.approx(best_score)
        got = tokens[0].tolist()
        assert log_prob(table, got, EOS) == pytest.approx(best_score)
        if EOS in got:
            assert all(t == PAD for t in got[got.index(EOS) + 1:])
        greedy, _ = decode(table_step(table), start, T, eos=EOS)
        found_better |= log_prob(table, greedy[0].tolist(), EOS) < best_score - 1e-9
    assert found_better, "in some of these tables greedy decoding misses the best sequence"


def test_beam_search_beats_greedy_on_a_hand_made_trap_and_carries_the_state():
    # Greedy takes token 3 first (p = 0.6), after which every continuation is poor; token 4
    # (p = 0.4) is followed by EOS with certainty: 0.4 > 0.6 · 0.55.
    def step(tokens, state):
        B = tokens.shape[0]
        logits = torch.full((B, 6), -30.0)
        for b in range(B):
            last = int(tokens[b, -1])
            if last == BOS:
                logits[b, 3], logits[b, 4] = np.log(0.6), np.log(0.4)
            elif last == 3 and tokens.shape[1] == 2:
                logits[b, 3], logits[b, EOS] = np.log(0.55), np.log(0.45)
            else:
                logits[b, EOS] = 0.0
        return logits, state + 1, None

    start = torch.full((2, 1), BOS)
    greedy, _ = decode(step, start, 3, state=torch.zeros(2), eos=EOS)
    assert greedy[0].tolist() == [3, 3, EOS]
    tokens, scores = beam_search(step, start, 3, 2, state=torch.zeros(2), eos=EOS)
    assert tokens.tolist() == [[4, EOS, PAD], [4, EOS, PAD]]
    assert torch.allclose(scores, torch.full((2,), np.log(0.4), dtype=torch.float64), atol=1e-6)


def test_reorder_state_follows_the_beams():
    # The state (laid out (1, B·K): batch axis 1, as a GRU's) is the sum of the tokens the row
    # had written before its latest one; the step checks it, so a state that did not travel with
    # its beam fails.
    g = torch.Generator().manual_seed(0)
    calls = []

    def step(tokens, state):
        written = tokens[:, 1:]
        before = written[:, :-1].sum(1) if written.shape[1] else torch.zeros(tokens.shape[0])
        assert torch.equal(state[0], before.double())
        calls.append(tokens.shape[1])
        logits = torch.randn(tokens.shape[0], 7, generator=g, dtype=torch.float64)
        latest = written[:, -1] if written.shape[1] else torch.zeros(tokens.shape[0])
        return logits, state + latest.double()[None], None

    start = torch.full((3, 1), BOS)
    tokens, scores = beam_search(step, start, 5, 4, state=torch.zeros(1, 3, dtype=torch.float64),
                                 reorder_state=lambda s, index: s.index_select(1, index))
    assert tokens.shape == (3, 5) and scores.shape == (3,) and calls == [1, 2, 3, 4, 5]
    # the same with the state as a dict, reordered along axis 0 by the default
    def dict_step(tokens, state):
        logits, new, extra = step(tokens, state["sum"].T)
        return logits, {"sum": new.T}, extra

    g.manual_seed(0)
    again, _ = beam_search(dict_step, start, 5, 4, state={"sum": torch.zeros(3, 1, dtype=torch.float64)})
    assert torch.equal(again, tokens)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"beam_width": 0}, ValueError, "beam_width"),
    ({"beam_width": 2.5}, ValueError, "beam_width"),
    ({"beam_width": True}, ValueError, "beam_width"),
    ({"max_len": -1}, ValueError, "max_len"),
    ({"start_tokens": torch.zeros((2, 1))}, TypeError, "start_tokens"),
    ({"reorder_state": 3}, TypeError, "reorder_state"),
])
def test_beam_search_bad_arguments(kwargs, error, match):
    arguments = {"step": counting_step([]), "start_tokens": torch.zeros((2, 1), dtype=torch.long),
                 "max_len": 3, "beam_width": 2, "state": None}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        beam_search(**arguments)
