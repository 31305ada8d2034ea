"""The shipped datasets and their loaders."""

import numpy as np
import pytest

from seqlearn.data import (
    CharVocabulary,
    TEXTS,
    chronological_split,
    load_airline_passengers,
    load_text,
    make_windows,
)


def test_airline_series_is_box_jenkins_series_g():
    months, y = load_airline_passengers()
    assert len(months) == len(y) == 144
    assert months[0] == "1949-01" and months[-1] == "1960-12"
    assert y[:3].tolist() == [112, 118, 132] and y[-1] == 432
    assert y.sum() == 40363  # the well-known total of the series
    assert y.argmax() == months.index("1960-07")


def test_naive_baselines_on_the_two_to_one_split():
    _, y = load_airline_passengers()
    split = chronological_split(len(y))
    assert split == 96
    test = np.arange(split, len(y))
    last_month = np.sqrt(np.mean((y[test] - y[test - 1]) ** 2))
    last_year = np.sqrt(np.mean((y[test] - y[test - 12]) ** 2))
    assert last_month == pytest.approx(48.04, abs=0.01)
    assert last_year == pytest.approx(41.85, abs=0.01)


def test_make_windows_pairs_each_window_with_the_next_value():
    y = np.arange(20.0)
    x, t = make_windows(y, 12)
    assert x.shape == (8, 12, 1) and t.shape == (8,)
    assert np.array_equal(x[3, :, 0], y[3:15]) and t[3] == y[15]


@pytest.mark.parametrize(
    "series, window, match",
    [(np.arange(5.0), 5, "window"), (np.arange(5.0), 0, "window"), (np.ones((3, 3)), 2, "series"),
     ([], 1, "series"), (["a", "b"], 1, "series")],
)
def test_make_windows_rejects_bad_input(series, window, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_windows(series, window)


def test_chronological_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="train_fraction"):
        chronological_split(10, 1.5)


@pytest.mark.parametrize("name", TEXTS)
def test_texts_are_plays_without_gutenberg_boilerplate(name):
    text = load_text(name)
    assert 50_000 < len(text) < 1_000_000
    assert name.upper() in text[:200].upper()
    assert "Project Gutenberg" not in text and "*** START" not in text
    assert text.isascii()


def test_load_text_rejects_unknown_name():
    with pytest.raises(ValueError, match="name"):
        load_text("ulysses")


def test_vocabulary_round_trip_and_one_hot():
    text = load_text("macbeth")[:5000]
    vocab = CharVocabulary(text)
    codes = vocab.encode(text)
    assert codes.dtype == np.int64 and vocab.decode(codes) == text
    onehot = vocab.one_hot(codes[:10])
    assert onehot.shape == (10, len(vocab)) and np.all(onehot.sum(axis=1) == 1)
    assert np.array_equal(onehot.argmax(axis=1), codes[:10])


def test_vocabulary_rejects_unknown_characters_and_empty_text():
    vocab = CharVocabulary("abc")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("abd")
    with pytest.raises(ValueError, match="text"):
        CharVocabulary("")
