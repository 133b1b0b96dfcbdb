"""Image-quality and perturbation figures used across the audits and reports."""

from __future__ import annotations

import math

import numpy as np
import torch
from skimage.metrics import structural_similarity


def relative_error(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """||estimate - reference|| / ||reference|| (l2 over all entries)."""
    ref = float(torch.linalg.vector_norm(reference))
    return float(torch.linalg.vector_norm(estimate - reference)) / (ref or 1.0)


def psnr(estimate: torch.Tensor, reference: torch.Tensor, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB of |estimate| against |reference|.

    ``data_range`` defaults to max |reference| - min |reference|.
    """
    est, ref = estimate.detach().abs().double(), reference.detach().abs().double()
    if data_range is None:
        data_range = float(ref.max() - ref.min()) or 1.0
    mse = float(((est - ref) ** 2).mean())
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def ssim(estimate: torch.Tensor, reference: torch.Tensor, data_range: float | None = None) -> float:
    """Structural similarity (scikit-image) of |estimate| against |reference| (2-D)."""
    est = np.abs(estimate.detach().cpu().numpy()).astype(np.float64)
    ref = np.abs(reference.detach().cpu().numpy()).astype(np.float64)
    if data_range is None:
        data_range = float(ref.max() - ref.min()) or 1.0
    return float(structural_similarity(ref, est, data_range=data_range))
