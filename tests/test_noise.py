"""The one noise model: relative ||e|| = ν||Ax|| per sample, or absolute σ per entry."""

import pytest
import torch

from stablerecon.errors import StableReconError
from stablerecon.noise import add_noise, gaussian


def test_relative_noise_has_the_asked_norm_per_sample():
    y = torch.randn(3, 50, dtype=torch.complex128, generator=torch.Generator().manual_seed(1))
    noisy = add_noise(y, 0.05, gen=torch.Generator().manual_seed(0), sample_dims=1)
    ratio = (noisy - y).norm(dim=1) / y.norm(dim=1)
    assert torch.allclose(ratio, torch.full((3,), 0.05, dtype=torch.float64))
    whole = add_noise(y, 0.05, gen=torch.Generator().manual_seed(0))
    assert abs(float((whole - y).norm() / y.norm()) - 0.05) < 1e-12


def test_absolute_noise_has_the_asked_standard_deviation():
    y = torch.zeros(200_000, dtype=torch.complex128)
    e = add_noise(y, 0.1, relative=False, gen=torch.Generator().manual_seed(0))
    assert abs(float(e.abs().pow(2).mean()) - 0.01) < 2e-4  # E|e_i|² = σ²


def test_zero_level_is_the_identity_and_bad_levels_are_refused():
    y = torch.ones(4)
    assert add_noise(y, 0.0) is y
    for level in (-0.1, float("nan"), float("inf")):
        with pytest.raises(StableReconError, match="noise level"):
            add_noise(y, level)


def test_draws_are_seeded():
    a = gaussian((5,), torch.float32, torch.Generator().manual_seed(3))
    b = gaussian((5,), torch.float32, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
