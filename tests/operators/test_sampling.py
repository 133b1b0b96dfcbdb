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
