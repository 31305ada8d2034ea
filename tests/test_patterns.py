"""The generators of chapter 9's data (seqlearn.data.patterns, seqlearn.data.chaotic): what they
promise about their labels and damage holds, they repeat under a seed, and bad arguments are
refused by name."""

import numpy as np
import pytest

from seqlearn.data.chaotic import mackey_glass
from seqlearn.data.patterns import (balance_bags, binarised_digits, corrupt, mask_half,
                                    motif_bags, order_bags, random_patterns)


def test_random_patterns_and_corruption():
    X = random_patterns(50, 40, rng=0)
    assert X.shape == (50, 40) and set(np.unique(X)) == {-1.0, 1.0}
    assert np.array_equal(random_patterns(50, 40, rng=0), X)
    damaged = corrupt(X, 0.25, rng=1)
    assert np.all((damaged != X).sum(axis=1) == 10) and not np.shares_memory(damaged, X)
    with pytest.raises(ValueError, match="fraction"):
        corrupt(X, 1.5)


def test_binarised_digits_and_hidden_halves():
    images, labels = binarised_digits()
    assert images.shape == (1797, 64) and set(np.unique(images)) == {-1.0, 1.0}
    assert set(labels) == set(range(10))
    zero_one, _ = binarised_digits(low=0.0)
    assert np.array_equal(zero_one, (images + 1) / 2)
    hidden = mask_half(images[:3])
    assert np.all(hidden.reshape(3, 8, 8)[:, 4:] == -1)
    assert np.array_equal(hidden.reshape(3, 8, 8)[:, :4], images[:3].reshape(3, 8, 8)[:, :4])
    assert np.all(mask_half(images[:2], half="right", fill=0.0).reshape(2, 8, 8)[:, :, 4:] == 0)
    with pytest.raises(ValueError, match="half"):
        mask_half(images[:2], half="middle")
    with pytest.raises(ValueError, match="low"):
        binarised_digits(low=0.5)


def test_motif_bags_plant_the_motif_in_the_positive_bags_only():
    bags, labels, planted, motif = motif_bags(200, bag_size=30, dim=6, witnesses=2, rng=3)
    assert bags.shape == (200, 30, 6) and abs(np.linalg.norm(motif) - 1) < 1e-12
    assert np.array_equal(planted.sum(axis=1), 2 * labels)
    assert (bags[planted] @ motif).mean() > 2.0 > (bags[~planted] @ motif).mean() + 1.5
    with pytest.raises(ValueError, match="witnesses"):
        motif_bags(5, bag_size=3, witnesses=4)


def test_order_and_balance_labels_follow_their_rules():
    bags, labels = order_bags(300, bag_size=12, dim=5, rng=4)
    first_a, first_b = bags[:, :, 0].argmax(axis=1), bags[:, :, 1].argmax(axis=1)
    assert np.mean(labels == (first_a < first_b)) > 0.95     # the markers stand out (3 vs noise)
    assert 0.3 < labels.mean() < 0.7
    bags, labels = balance_bags(300, length=10, rng=5)
    steps = bags[:, :, 0] - bags[:, :, 1]
    assert np.all(steps.sum(axis=1) == 0) and np.all(np.abs(steps) == 1)
    assert np.array_equal(labels, (np.cumsum(steps, axis=1).min(axis=1) >= 0).astype(int))
    assert 0.3 < labels.mean() < 0.7
    with pytest.raises(ValueError, match="length"):
        balance_bags(3, length=7)


def test_mackey_glass_is_the_chaotic_series_of_tau_17():
    x = mackey_glass(1000)
    assert x.shape == (1000,) and 0.2 < x.min() < 0.6 and 1.2 < x.max() < 1.5
    assert np.array_equal(mackey_glass(1000), x)
    assert not np.allclose(mackey_glass(300, tau=5.0), x[:300])   # the delay matters
    with pytest.raises(ValueError, match="tau"):
        mackey_glass(10, tau=0)
