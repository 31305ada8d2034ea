"""Byte-pair encoding (seqlearn.numpy.bpe): one merge, left to right without overlaps; the
learner's merges on texts whose answer is known by hand; the boundary rule; encode/decode round
trips on the shipped play; the vocabulary's bookkeeping; bad input."""

import numpy as np
import pytest

from seqlearn.data import load_text
from seqlearn.numpy.bpe import BytePairEncoding, learn_bpe, may_merge_before, merge_pair


def _merge_by_hand(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


@pytest.mark.parametrize("ids, pair, expected", [
    ([0, 0, 0], (0, 0), [9, 0]),
    ([0, 0, 0, 0], (0, 0), [9, 9]),
    ([0, 0, 0, 0, 0], (0, 0), [9, 9, 0]),
    ([1, 0, 0, 0, 1, 0, 0], (0, 0), [1, 9, 0, 1, 9]),
    ([0, 1, 0, 1, 2], (0, 1), [9, 9, 2]),
    ([2, 1, 0], (0, 1), [2, 1, 0]),
    ([3], (3, 3), [3]),
])
def test_merge_pair_goes_left_to_right_without_overlaps(ids, pair, expected):
    got = merge_pair(np.array(ids), pair, 9)
    assert got.tolist() == expected
    assert got.dtype == np.int64


def test_merge_pair_agrees_with_a_loop_on_random_sequences(rng):
    for _ in range(200):
        ids = rng.integers(0, 3, size=int(rng.integers(1, 40)))
        pair = tuple(int(p) for p in rng.integers(0, 3, size=2))
        assert merge_pair(ids, pair, 7).tolist() == _merge_by_hand(ids.tolist(), pair, 7)


def test_merge_pair_leaves_its_input_unchanged():
    ids = np.array([0, 1, 0, 1])
    merge_pair(ids, (0, 1), 5)
    assert ids.tolist() == [0, 1, 0, 1]


def test_the_learner_merges_the_most_frequent_pair_first():
    bpe = learn_bpe("abcxabcxab", 2)     # (a, b) three times; then (ab, c), (c, x), (x, ab) twice
    assert bpe.tokens[len(bpe.chars)] == "ab"
    assert bpe.counts == [3, 2]
    assert bpe.tokens[-1] == "cx"        # the tie goes to the smallest ids: c = 2, x = 3
    assert len(bpe) == len(set("abcxabcxab")) + 2


def test_ties_go_to_the_smallest_pair():
    bpe = learn_bpe("bacd", 1)           # every pair occurs once: nothing to merge
    assert bpe.merges == []
    bpe = learn_bpe("abbaabba", 1)       # (a, b), (b, b), (b, a) twice each: (a, b) is smallest
    assert bpe.tokens[-1] == "ab"


def test_no_merge_crosses_a_boundary_before_a_non_letter():
    text = load_text("macbeth")[:20000]
    bpe = learn_bpe(text, 150)
    for token in bpe.tokens[len(bpe.chars):]:
        assert all(ch.isalpha() for ch in token[1:]), repr(token)
    assert may_merge_before(["a", " ", "\n", ".", "Z", "1"]).tolist() == \
        [True, False, False, False, True, False]


def test_the_learner_stops_when_no_pair_occurs_twice():
    bpe = learn_bpe("abab", 10)          # after "ab", the pair (ab, ab) occurs once
    assert [bpe.tokens[i] for i in range(len(bpe.chars), len(bpe))] == ["ab"]
    assert bpe.counts == [2]


def test_encode_reproduces_the_learner_and_decode_inverts_it():
    text = load_text("macbeth")
    train = text[:30000]
    bpe = learn_bpe(train, 120)
    ids = bpe.encode(train)
    assert bpe.decode(ids) == train
    # the learner's own count: every merge shortened the text by its non-overlapping occurrences
    assert len(ids) < len(train) - sum(bpe.counts) * 0.9
    held_out = text[30000:36000]
    assert bpe.decode(bpe.encode(held_out)) == held_out
    assert bpe.lengths[bpe.encode(held_out)].sum() == len(held_out)


def test_truncated_is_the_vocabulary_of_the_first_merges():
    bpe = learn_bpe(load_text("macbeth")[:10000], 40)
    small = bpe.truncated(10)
    assert small.tokens == bpe.tokens[:len(bpe.chars) + 10]
    assert small.counts == bpe.counts[:10]
    assert learn_bpe(load_text("macbeth")[:10000], 10).merges == small.merges
    assert bpe.truncated(0).encode("the").tolist() == [bpe.chars.index(c) for c in "the"]


def test_a_vocabulary_made_by_hand():
    bpe = BytePairEncoding(["a", "b"], [(0, 1), (2, 2)])
    assert bpe.tokens == ["a", "b", "ab", "abab"]
    assert bpe.encode("ababa").tolist() == [3, 0]
    assert bpe.lengths.tolist() == [1, 1, 2, 4]
    assert "2 characters, 2 merges" in repr(bpe)


@pytest.mark.parametrize("call, match", [
    (lambda: learn_bpe("a", 3), "text"),
    (lambda: learn_bpe(123, 3), "text"),
    (lambda: learn_bpe("abc", -1), "num_merges"),
    (lambda: learn_bpe("abc", 2.5), "num_merges"),
    (lambda: BytePairEncoding(["a", "bb"], []), "chars"),
    (lambda: BytePairEncoding(["a", "a"], []), "chars"),
    (lambda: BytePairEncoding(["a"], [(0, 1)]), "merges"),
    (lambda: BytePairEncoding(["a", "b"], [(0, 1)], counts=[1, 2]), "counts"),
    (lambda: BytePairEncoding(["a", "b"], []).encode("abc"), "text"),
    (lambda: BytePairEncoding(["a", "b"], []).decode([0, 2]), "ids"),
    (lambda: BytePairEncoding(["a", "b"], []).truncated(1), "num_merges"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: merge_pair("abc", (0, 1), 2), "ids"),
    (lambda: merge_pair(np.array([0.5, 1.0]), (0, 1), 2), "ids"),
    (lambda: merge_pair(np.array([[0, 1]]), (0, 1), 2), "ids"),
    (lambda: merge_pair(np.array([0, 1]), 3, 2), "pair"),
    (lambda: merge_pair(np.array([0, 1]), (0, 1), 2.0), "new_id"),
    (lambda: BytePairEncoding(["a"], [("x", 0)]), "merges"),
    (lambda: BytePairEncoding(["a", "b"], []).encode(b"ab"), "text"),
])
def test_bad_types_raise_type_error_naming_the_argument(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_the_figures_of_a_vocabulary():
    import matplotlib.pyplot as plt

    from seqlearn.plotting import bpe_merges, tokenised_text, visible_token

    bpe = learn_bpe("the cat and the hat and the bat\n" * 3, 6)
    fig, (left, right) = plt.subplots(1, 2)
    bpe_merges(left, bpe, first=4)
    labels = [t.get_text() for t in left.get_yticklabels()]
    assert labels[0] == f"1. {visible_token(bpe.tokens[len(bpe.chars)])}" and len(labels) == 4
    assert [round(p.get_width()) for p in left.patches] == bpe.counts[:4]
    text = "the cat\nand"
    ids = tokenised_text(right, bpe, text, width=5)
    assert bpe.decode(ids) == text
    assert len(right.patches) == len(text)                 # one box per character
    assert visible_token(" \n") == "␣↵"
    plt.close(fig)
    with pytest.raises(ValueError, match="no merges"):
        bpe_merges(left, bpe.truncated(0))
