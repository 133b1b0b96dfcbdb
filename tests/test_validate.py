"""The one validation layer: a number is a finite number in its range, named when it is not."""

import math

import pytest

from stablerecon import validate
from stablerecon.errors import StableReconError


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "0.1", None, [0.1]])
def test_non_numbers_and_non_finite_values_are_refused(value):
    with pytest.raises(StableReconError, match=r"^rate must be a finite number in \(0, 1\], got"):
        validate.number("rate", value, low=0, high=1)


@pytest.mark.parametrize("kwargs, good, bad, expected", [
    ({"low": 0}, 1e-12, 0.0, "a positive finite number"),
    ({"low": 0, "low_closed": True}, 0.0, -1e-12, "a finite number ≥ 0"),
    ({"low": 1, "low_closed": True, "integer": True}, 3, 0, "an integer ≥ 1"),
    ({"low": 0, "high": 1, "high_closed": False}, 0.5, 1.0, "a finite number in (0, 1)"),
    ({"high": 2}, -5.0, 2.5, "a finite number ≤ 2"),
])
def test_ranges_are_enforced_and_stated(kwargs, good, bad, expected):
    assert validate.number("v", good, **kwargs) == good
    with pytest.raises(StableReconError) as err:
        validate.number("v", bad, **kwargs)
    assert str(err.value) == f"v must be {expected}, got {bad!r}."


def test_integers_refuse_floats_and_come_back_as_int():
    assert validate.number("n", 4, integer=True) == 4
    with pytest.raises(StableReconError, match="an integer"):
        validate.number("n", 4.0, integer=True)


def test_lists_choices_and_hints():
    assert validate.numbers_list("radii", (0.1, 0.2), low=0) == [0.1, 0.2]
    for bad, words in (([], "radii is empty"), (0.1, "must be a list"), ("0.1", "must be a list"),
                       ([0.1, -1], r"radii \(each\) must be a positive finite number, got -1")):
        with pytest.raises(StableReconError, match=words):
            validate.numbers_list("radii", bad, low=0)
    assert validate.choice("space", "image", ("image", "measurement")) == "image"
    with pytest.raises(StableReconError, match="space must be one of 'image', 'measurement'"):
        validate.choice("space", "k-space", ("image", "measurement"))
    with pytest.raises(StableReconError, match="; seconds"):
        validate.number("time_limit", -1, low=0, hint="seconds")


def test_tensors_are_checked_for_shape_finiteness_and_sign():
    import torch

    w = validate.tensor("weights", [[1.0, 2.0]], shape=(1, 2), nonnegative=True)
    assert isinstance(w, torch.Tensor) and w.shape == (1, 2)
    for bad, words in (([[1.0, float("nan")]], "NaN or Inf"), ([[1.0, -2.0]], "≥ 0"),
                       ([1.0, 2.0], r"shape \(1, 2\)"), ("abc", "tensor of numbers")):
        with pytest.raises(StableReconError, match=words):
            validate.tensor("weights", bad, shape=(1, 2), nonnegative=True)
