"""Image-quality and perturbation figures used across the audits and reports."""

from __future__ import annotations

import math

import numpy as np
import torch
from skimage.metrics import structural_similarity

from stablerecon.docstrings import fill

__all__ = ["psnr", "relative_error", "ssim"]


#: what the image comparisons take (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
_COMPARE_DOCS = {
    "compare": """
    Parameters
    ----------
    estimate, reference : torch.Tensor
        Images of the same shape (real or complex: magnitudes are compared).
    data_range : float, optional
        The peak value range (default: max |reference| - min |reference|).""",
}


def relative_error(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    r""":math:`\|\hat x - x\|_2 / \|x\|_2` over all entries.

    Parameters
    ----------
    estimate, reference : torch.Tensor
        Tensors of the same shape.

    Returns
    -------
    float
        The relative l2 error (the absolute error where the reference is 0).
    """
    ref = float(torch.linalg.vector_norm(reference))
    return float(torch.linalg.vector_norm(estimate - reference)) / (ref or 1.0)


@fill(_COMPARE_DOCS)
def psnr(estimate: torch.Tensor, reference: torch.Tensor, data_range: float | None = None) -> float:
    r"""Peak signal-to-noise ratio of |estimate| against |reference|:
    :math:`10 \log_{10}(R^2 / \mathrm{MSE})` dB, R the data range.

    {{compare}}

    Returns
    -------
    float
        PSNR in dB (inf for identical images).
    """
    est, ref = estimate.detach().abs().double(), reference.detach().abs().double()
    if data_range is None:
        data_range = float(ref.max() - ref.min()) or 1.0
    mse = float(((est - ref) ** 2).mean())
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


@fill(_COMPARE_DOCS)
def ssim(estimate: torch.Tensor, reference: torch.Tensor, data_range: float | None = None) -> float:
    """Structural similarity (scikit-image) of |estimate| against |reference| (2-D).

    {{compare}}

    Returns
    -------
    float
        SSIM in [-1, 1].
    """
    est = np.abs(estimate.detach().cpu().numpy()).astype(np.float64)
    ref = np.abs(reference.detach().cpu().numpy()).astype(np.float64)
    if data_range is None:
        data_range = float(ref.max() - ref.min()) or 1.0
    return float(structural_similarity(ref, est, data_range=data_range))
