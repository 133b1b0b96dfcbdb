r"""Measurement noise, one definition for the whole package: y = A x + e.

* relative level ν (MRI, CT, the CLI's ``--noise``): e Gaussian with
  :math:`\|e\| = \nu\,\|Ax\|`, per sample of a batch;
* absolute level σ (denoising): e with independent N(0, σ²) entries (complex: the real and
  imaginary parts each N(0, σ²/2), so E|e_i|² = σ²).

Drawn on the generator's device (so a seeded draw is the same wherever y lives) and moved to
y's device.
"""

from __future__ import annotations

import torch

from stablerecon import validate

__all__ = ["add_noise", "gaussian"]


def gaussian(shape, dtype: torch.dtype, gen: torch.Generator | None = None,
             device: torch.device | str | None = None) -> torch.Tensor:
    """Standard Gaussian of ``shape``/``dtype`` drawn on the generator's device (or
    ``device``): torch's convention, so complex entries have E|z|² = 1.

    Parameters
    ----------
    shape : sequence of int
        The tensor's shape.
    dtype : torch.dtype
        Real or complex dtype.
    gen : torch.Generator, optional
        Seeded generator (its device is where the draw happens).
    device : torch.device or str, optional
        Where to draw without a generator.

    Returns
    -------
    torch.Tensor
        The draw.
    """
    where = gen.device if gen is not None else device
    return torch.randn(tuple(shape), generator=gen, dtype=dtype, device=where)


def add_noise(y: torch.Tensor, level: float, relative: bool = True,
              gen: torch.Generator | None = None, sample_dims: int | None = None) -> torch.Tensor:
    """y + e for the noise model above.

    Parameters
    ----------
    y : torch.Tensor
        Clean measurements A x.
    level : float
        ν ≥ 0 (relative) or σ ≥ 0 (absolute); 0 returns y unchanged.
    relative : bool
        ||e|| = level·||y|| over the last ``sample_dims`` dimensions (True), or entries of
        standard deviation ``level`` (False).
    gen : torch.Generator, optional
        Seeded generator for a reproducible draw.
    sample_dims : int, optional
        How many trailing dimensions form one sample (default: all: one sample).

    Returns
    -------
    torch.Tensor
        y + e, on y's device.
    """
    level = validate.number("noise level", level, low=0, low_closed=True)
    if level == 0:
        return y
    e = gaussian(tuple(y.shape), y.dtype, gen, y.device).to(y.device)
    if not relative:
        return y + level * e
    k = y.ndim if sample_dims is None else sample_dims
    dims = tuple(range(y.ndim - k, y.ndim))
    scale = level * torch.linalg.vector_norm(y, dim=dims, keepdim=True)
    return y + scale * e / torch.linalg.vector_norm(e, dim=dims, keepdim=True).clamp_min(1e-300)
