"""The MRI problem the solver benchmarks share (issue 3): 25% variable-density sampling of
the unitary Fourier transform (seed 0), periodized db4 with 4 levels, two float64 images
(Shepp–Logan and scikit-image's camera), and 1% complex Gaussian noise."""

from __future__ import annotations

from collections.abc import Sequence

import torch

import stablerecon as sr

IMAGES = ("shepp_logan", "camera")


def mri_setup(n: int, names: Sequence[str] = IMAGES):
    """(A, W, {name: float64 image}) at n × n, on the CPU."""
    shape = (n, n)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.25))
    W = sr.operators.Wavelet(shape, "db4", levels=4)
    loaders = {"shepp_logan": lambda: sr.data.shepp_logan(n, dtype=torch.float64),
               "camera": lambda: sr.data.load("camera", size=n, dtype=torch.float64).x}
    return A, W, {name: loaders[name]() for name in names}


def noisy(y: torch.Tensor, level: float = 0.01, seed: int = 0) -> torch.Tensor:
    """y plus complex Gaussian noise of norm ``level`` ||y|| (seeded)."""
    noise = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(seed))
    return y + level * y.norm() * noise / noise.norm()
