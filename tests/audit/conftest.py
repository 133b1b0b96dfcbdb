"""Tiny models and problems for fast audit tests."""

import pytest
import torch

import stablerecon as sr


class LinearRecon(torch.nn.Module):
    """Ψ(y) = M y with M = (A* followed by a fixed random 3×3 convolution)."""

    def __init__(self, A, seed=0):
        super().__init__()
        self.A = A
        gen = torch.Generator().manual_seed(seed)
        self.kernel = torch.randn(1, 1, 3, 3, generator=gen, dtype=torch.float64)

    def forward(self, y):
        z = self.A.H(y)
        conv = lambda t: torch.nn.functional.conv2d(t.reshape(-1, 1, *t.shape[-2:]), self.kernel,  # noqa: E731
                                                    padding=1).reshape(t.shape)
        return torch.complex(conv(z.real), conv(z.imag))


@pytest.fixture
def mri32():
    shape = (32, 32)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    x = sr.data.shepp_logan(32, dtype=torch.float64)
    return A, x


@pytest.fixture
def linear_recon(mri32):
    return LinearRecon(mri32[0])
