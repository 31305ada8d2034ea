"""The seeded sequence-to-sequence tasks of chapter 7: reverse, sort, copy."""

import numpy as np
import pytest
import torch

from seqlearn.data.transduction import (BOS, EOS, FIRST_SYMBOL, PAD, decode_tokens,
                                        transduction_task, vocabulary_size)


@pytest.mark.parametrize("task", ["reverse", "sort", "copy"])
def test_shapes_dtypes_and_padding(task):
    d = transduction_task(40, (2, 9), task=task, n_symbols=6, rng=3)
    lengths = d["lengths"]
    S = int(lengths.max())
    assert d["src"].shape == (40, S) and d["tgt_in"].shape == d["tgt_out"].shape == (40, S + 1)
    for key in ("src", "tgt_in", "tgt_out", "lengths"):
        assert d[key].dtype == np.int64
    assert lengths.min() >= 2 and lengths.max() <= 9
    for k, L in enumerate(lengths):
        assert np.all(d["src"][k, :L] >= FIRST_SYMBOL) and np.all(d["src"][k, :L] < FIRST_SYMBOL + 6)
        assert np.all(d["src"][k, L:] == PAD)
        assert d["tgt_in"][k, 0] == BOS and d["tgt_out"][k, L] == EOS
        np.testing.assert_array_equal(d["tgt_in"][k, 1:L + 1], d["tgt_out"][k, :L])
        assert np.all(d["tgt_in"][k, L + 1:] == PAD) and np.all(d["tgt_out"][k, L + 1:] == PAD)


def test_targets_are_reversed_sorted_and_copied_sources():
    for task, how in (("reverse", lambda s: s[::-1]), ("sort", sorted), ("copy", lambda s: s)):
        d = transduction_task(30, (1, 7), task=task, rng=5)
        for k, L in enumerate(d["lengths"]):
            source = list(d["src"][k, :L])
            assert list(d["tgt_out"][k, :L]) == list(how(source))
    d = transduction_task(1, 4, rng=0)
    assert decode_tokens(d["tgt_out"][0]) == decode_tokens(d["src"][0])[::-1]


def test_same_seed_same_data_and_generators_accepted():
    a = transduction_task(20, (3, 8), rng=7)
    b = transduction_task(20, (3, 8), rng=np.random.default_rng(7))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = transduction_task(20, (3, 8), rng=8)
    assert not np.array_equal(a["src"][:, :3], c["src"][:, :3])
    gen = np.random.default_rng(0)     # a shared generator moves on: two different batches
    assert not np.array_equal(transduction_task(5, 6, rng=gen)["src"],
                              transduction_task(5, 6, rng=gen)["src"])


def test_fixed_length_and_vocabulary_size():
    d = transduction_task(10, 5, n_symbols=4, rng=0)
    assert np.all(d["lengths"] == 5) and d["src"].shape == (10, 5)
    assert vocabulary_size(4) == 7 and d["src"].max() < vocabulary_size(4)


def test_decode_tokens_stops_at_eos_and_skips_pad_bos():
    assert decode_tokens([BOS, 3, 4, 5, EOS, 3, 3]) == "abc"
    assert decode_tokens(np.array([[3, PAD, EOS], [5, 4, EOS]])) == ["a", "cb"]
    assert decode_tokens(torch.tensor([4, 4])) == "bb"
    with pytest.raises(TypeError, match="tokens"):
        decode_tokens(np.array([3.0, 4.0]))
    with pytest.raises(ValueError, match="tokens"):
        decode_tokens([3, 400])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0, lengths=3), ValueError, "n"),
    (dict(n=5, lengths=0), ValueError, "lengths"),
    (dict(n=5, lengths=(6, 2)), ValueError, "lengths"),
    (dict(n=5, lengths=(0, 2)), ValueError, "lengths"),
    (dict(n=5, lengths="long"), ValueError, "lengths"),
    (dict(n=5, lengths=3, task="shuffle"), ValueError, "task"),
    (dict(n=5, lengths=3, n_symbols=1), ValueError, "n_symbols"),
    (dict(n=5, lengths=3, n_symbols=27), ValueError, "n_symbols"),
    (dict(n=5, lengths=3, rng="seed"), TypeError, "rng"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        transduction_task(**kwargs)
