"""Argument validation: errors name the argument, the expectation and what arrived."""

import numpy as np
import pytest
import torch

from seqlearn.validate import as_float_array, check_finite_loss, check_positive_int, check_tensor


def test_as_float_array_accepts_ints_and_returns_floats():
    out = as_float_array("x", [[1, 2], [3, 4]], shape=(2, None))
    assert out.dtype == np.float64


@pytest.mark.parametrize(
    "value, kwargs, error, match",
    [
        (np.zeros((2, 3)), {"shape": (2, 4)}, ValueError, r"x: expected shape \(2, 4\), got shape \(2, 3\)"),
        (np.zeros(3), {"ndim": 2}, ValueError, "x: expected 2 dimensions, got an array of shape"),
        (np.zeros((0, 3)), {}, ValueError, "x: expected a non-empty array"),
        ("abc", {}, TypeError, "x: expected a numeric array, got str"),
        (np.array([1 + 2j]), {}, TypeError, "x: expected a real array"),
        (np.array([1.0, np.nan]), {}, ValueError, "x: contains NaN"),
    ],
)
def test_as_float_array_errors_name_the_argument(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_float_array("x", value, **kwargs)


def test_check_tensor():
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        check_tensor("x", np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        check_tensor("x", torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="last dimension to be 4"):
        check_tensor("x", torch.zeros(2, 3), last_dim=4)
    with pytest.raises(ValueError, match="non-empty"):
        check_tensor("x", torch.zeros(2, 0, 3))


def test_check_positive_int_and_finite_loss():
    assert check_positive_int("n", 3) == 3
    with pytest.raises(ValueError, match="n: expected a positive integer, got 0"):
        check_positive_int("n", 0)
    assert check_finite_loss(1.5, step=0) == 1.5
    with pytest.raises(FloatingPointError, match="step 12: the loss is nan.*clip"):
        check_finite_loss(float("nan"), step=12)


def test_as_generator_follows_seqlearn_seed():
    import seqlearn
    from seqlearn.validate import as_generator

    seqlearn.seed(3)
    first = as_generator(None).random(3)
    seqlearn.seed(3)
    assert np.array_equal(as_generator(None).random(3), first)
    assert not np.array_equal(as_generator(None).random(3), first)  # the global state moved on
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng
    assert np.array_equal(as_generator(5).random(2), np.random.default_rng(5).random(2))
    with pytest.raises(TypeError, match="rng: expected a numpy Generator"):
        as_generator(1.5)
