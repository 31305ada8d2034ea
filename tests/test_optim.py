"""Chapter 4: gradient clipping (by value, by norm) and the SGD / Adagrad optimisers."""

import numpy as np
import pytest

from seqlearn.numpy.optim import SGD, Adagrad, clip_by_norm, clip_by_value, global_norm


def _grads(rng, scale=1.0):
    return {"W": rng.normal(0, scale, size=(4, 3)), "b": rng.normal(0, scale, size=3)}


def test_global_norm_is_the_norm_of_all_entries_together(rng):
    grads = _grads(rng)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    assert global_norm(grads) == pytest.approx(np.linalg.norm(flat), rel=1e-14)


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 3.0])
def test_clip_by_norm_bounds_the_norm_and_keeps_the_direction(rng, max_norm):
    grads = _grads(rng, scale=5.0)
    clipped, norm = clip_by_norm(grads, max_norm)
    assert norm == pytest.approx(global_norm(grads))
    assert norm > max_norm  # the case actually clips
    assert global_norm(clipped) <= max_norm * (1 + 1e-12)
    assert global_norm(clipped) == pytest.approx(max_norm, rel=1e-12)
    for key in grads:  # the same direction: a positive multiple of the original
        ratio = clipped[key] / grads[key]
        np.testing.assert_allclose(ratio, max_norm / norm, rtol=1e-12)


def test_clip_by_norm_leaves_small_gradients_alone_and_does_not_modify_its_input(rng):
    grads = _grads(rng, scale=0.01)
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_by_norm(grads, 10.0)
    for key in grads:
        np.testing.assert_array_equal(clipped[key], before[key])
        np.testing.assert_array_equal(grads[key], before[key])
    zero, norm0 = clip_by_norm({"W": np.zeros(3)}, 1.0)
    assert norm0 == 0 and np.all(zero["W"] == 0)


def test_clip_by_value_bounds_every_entry_and_keeps_the_small_ones(rng):
    grads = _grads(rng, scale=10.0)
    clipped = clip_by_value(grads, 5.0)
    for key, g in grads.items():
        assert np.all(np.abs(clipped[key]) <= 5.0)
        inside = np.abs(g) <= 5.0
        np.testing.assert_array_equal(clipped[key][inside], g[inside])
        np.testing.assert_array_equal(clipped[key][~inside], 5.0 * np.sign(g[~inside]))
    assert (np.abs(grads["W"]) > 5).any()  # the case has entries to clip


def test_adagrad_step_matches_a_hand_computation():
    params = {"w": np.array([1.0, -2.0]), "b": np.array([0.5])}
    opt = Adagrad(lr=0.1, eps=1e-8)
    opt.step(params, {"w": np.array([2.0, -1.0]), "b": np.array([0.0])})
    # m = g² = [4, 1]; step = 0.1 * g / sqrt(m + eps) = [0.1, -0.1] (up to eps); b: 0 / sqrt(eps) = 0
    np.testing.assert_allclose(params["w"], [0.9, -1.9], atol=1e-9)
    np.testing.assert_allclose(params["b"], [0.5])
    opt.step(params, {"w": np.array([1.0, 1.0]), "b": np.array([3.0])})
    # m = [5, 2], [9]; steps 0.1/sqrt(5), 0.1/sqrt(2), 0.1*3/3
    np.testing.assert_allclose(params["w"], [0.9 - 0.1 / np.sqrt(5), -1.9 - 0.1 / np.sqrt(2)], atol=1e-9)
    np.testing.assert_allclose(params["b"], [0.5 - 0.1], atol=1e-9)
    np.testing.assert_allclose(opt.memory["w"], [5.0, 2.0])


def test_sgd_step():
    params = {"w": np.array([1.0, 2.0])}
    SGD(lr=0.5).step(params, {"w": np.array([2.0, -4.0])})
    np.testing.assert_allclose(params["w"], [0.0, 4.0])


def test_bad_input():
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_norm({"W": np.ones(2)}, -1.0)
    with pytest.raises(ValueError, match="threshold"):
        clip_by_value({"W": np.ones(2)}, 0)
    with pytest.raises(TypeError, match="threshold"):
        clip_by_value({"W": np.ones(2)}, "5")
    with pytest.raises(TypeError, match="grads"):
        clip_by_norm([np.ones(2)], 1.0)
    with pytest.raises(TypeError, match=r"grads\['W'\]"):
        clip_by_value({"W": np.array(["a"])}, 1.0)
    with pytest.raises(ValueError, match="lr"):
        Adagrad(lr=0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_norm({"W": np.ones(2)}, float("nan"))
    with pytest.raises(TypeError, match="lr"):
        SGD(lr=True)
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="grads"):
        Adagrad().step(params, {"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\]"):
        SGD().step(params, {"w": np.ones(3)})
