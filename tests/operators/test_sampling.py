import numpy as np
import pytest

import stablerecon as sr
from stablerecon.operators import sampling

PATTERNS = sorted(sampling.PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.4])
def test_rate_within_one_percent(pattern, rate):
    mask = sampling.make_mask(pattern, (256, 256), rate, seed=1)
    assert mask.dtype == bool and mask.shape == (256, 256)
    if pattern == "cartesian":  # whole lines only: exact to half a line
        assert abs(mask.mean() - rate) <= 1 / (2 * 256)
    else:
        assert abs(mask.mean() - rate) <= 0.01 * rate


@pytest.mark.parametrize("pattern", PATTERNS)
def test_seeded_and_centre_sampled(pattern):
    a = sampling.make_mask(pattern, (64, 48), 0.3, seed=5)
    b = sampling.make_mask(pattern, (64, 48), 0.3, seed=5)
    np.testing.assert_array_equal(a, b)
    assert a[32, 24], "the zero frequency (centred convention) must be sampled"


def test_variable_density_concentrates_at_low_frequencies():
    mask = sampling.variable_density((128, 128), 0.2, seed=0)
    r = sampling.frequency_radius((128, 128))
    assert mask[r < 0.25].mean() > 3 * mask[r > 0.75].mean()


def test_multilevel_saturates_coarse_levels_first():
    mask = sampling.multilevel((128, 128), 0.2, seed=0, levels=8)
    r = sampling.frequency_radius((128, 128))
    assert mask[r < 0.125].all()
    assert mask[r > 0.875].mean() < 0.2


def test_bad_rate_and_pattern():
    with pytest.raises(sr.StableReconError, match=r"rate must be a finite number in \(0, 1\]"):
        sampling.uniform((8, 8), 1.5)
    with pytest.raises(sr.StableReconError, match="unknown sampling pattern"):
        sampling.make_mask("spiral", (8, 8), 0.2)


@pytest.mark.parametrize("draw", [sampling.equispaced_columns, sampling.random_columns])
@pytest.mark.parametrize("acceleration, fraction", [(4, 0.08), (8, 0.04), (2, 0.16)])
def test_fastmri_column_masks(draw, acceleration, fraction):
    h, w = 40, 368
    mask = draw((h, w), acceleration, fraction, seed=2)
    assert mask.shape == (h, w) and (mask == mask[0]).all()  # whole phase-encode columns
    cols = mask[0]
    n_low = round(w * fraction)
    start = (w - n_low + 1) // 2
    assert cols[start:start + n_low].all() and cols[w // 2]
    # about W / acceleration columns in all (random: within 25%; equispaced: within 10%)
    slack = 0.25 if draw is sampling.random_columns else 0.1
    assert abs(cols.sum() - w / acceleration) <= slack * w / acceleration
    np.testing.assert_array_equal(mask, draw((h, w), acceleration, fraction, seed=2))
    assert any(not np.array_equal(mask, draw((h, w), acceleration, fraction, seed=s))
               for s in range(3, 8))


def test_equispaced_columns_outside_the_centre_are_equispaced():
    cols = sampling.equispaced_columns((8, 320), 4, 0.08, seed=0)[0]
    n_low = round(320 * 0.08)
    start = (320 - n_low + 1) // 2
    left = np.flatnonzero(cols[:start - 1])
    right = np.flatnonzero(cols[start + n_low + 1:])
    gaps = np.concatenate([np.diff(left), np.diff(right)])
    assert gaps.max() - gaps.min() <= 1  # one spacing, up to rounding


def test_make_mask_takes_column_patterns_by_acceleration_or_rate():
    a = sampling.make_mask("equispaced", (32, 64), acceleration=4, seed=1)
    b = sampling.make_mask("equispaced", (32, 64), rate=0.25, seed=1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(sr.StableReconError, match="needs acceleration"):
        sampling.make_mask("random_columns", (32, 64))


@pytest.mark.parametrize("kwargs, message", [
    ({"acceleration": 0.5}, "acceleration"),
    ({"acceleration": float("nan")}, "acceleration"),
    ({"center_fraction": 1.5}, "center_fraction"),
    ({"acceleration": 8, "center_fraction": 0.5}, "more than"),
])
def test_column_mask_bad_settings(kwargs, message):
    with pytest.raises(sr.StableReconError, match=message):
        sampling.equispaced_columns((16, 64), **kwargs)


def test_column_mask_from_a_file_mask():
    cols = np.zeros(10, bool)
    cols[[0, 5]] = True
    m = sampling.column_mask(cols, 3)
    assert m.shape == (3, 10) and m[:, 5].all() and m.sum() == 6
    with pytest.raises(sr.StableReconError, match="1-D column mask"):
        sampling.column_mask(np.zeros((2, 2)), 3)
