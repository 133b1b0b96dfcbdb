"""Subsampled 2-D Fourier transform: the MRI forward map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, complex_dtype


def centred_to_flat_index(mask: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Flat indices, in unshifted FFT order, of the True entries of a centred mask.

    A centred mask has the zero frequency at ``(H // 2, W // 2)`` (``numpy.fft.fftshift``
    convention, for odd and even sizes). Entry ``(i, j)`` of the centred mask is frequency
    ``(i - H // 2, j - W // 2)``, stored by ``torch.fft.fft2`` at
    ``((i - H // 2) % H, (j - W // 2) % W)``. Samples are ordered row-major in the centred
    mask.
    """
    m = torch.as_tensor(np.asarray(mask, dtype=bool), device="cpu")
    h, w = m.shape
    ii, jj = torch.nonzero(m, as_tuple=True)
    return ((ii - h // 2) % h) * w + (jj - w // 2) % w


class SubsampledFourier(LinearOperator):
    r"""Subsampled orthonormal 2-D discrete Fourier transform, ``y = P_Ω F x``.

    ``F`` is the unitary 2-D DFT (``torch.fft.fft2(norm="ortho")``) and ``P_Ω`` keeps the
    ``m`` frequencies where ``mask`` is True. So ``A A* = I_m``, ``||A|| = 1`` and ``A*`` is
    the zero-filled inverse FFT.

    Parameters
    ----------
    shape : (H, W)
        Image size.
    mask : bool array of shape (H, W)
        Sampling pattern in centred convention: the zero frequency sits at
        ``(H // 2, W // 2)``, as drawn by :mod:`stablerecon.operators.sampling`.

    Shapes
    ------
    x : ``(*batch, H, W)`` real or complex; y : ``(*batch, m)`` complex, samples ordered
    row-major in the centred mask.

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> mask = sr.operators.sampling.uniform((8, 8), rate=0.5, seed=0)
    >>> A = sr.operators.SubsampledFourier((8, 8), mask)
    >>> y = A(torch.ones(8, 8))
    >>> y.shape, y.dtype
    (torch.Size([32]), torch.complex64)
    >>> bool(A.check_adjoint().passed)
    True
    """

    complex_output = True

    def __init__(self, shape: Sequence[int], mask: np.ndarray | torch.Tensor):
        shape = tuple(int(s) for s in shape)
        mask_np = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask)
        if len(shape) != 2:
            raise StableReconError(f"SubsampledFourier needs a 2-D shape (H, W), got {shape}.")
        if mask_np.shape != shape:
            raise StableReconError(
                f"SubsampledFourier: mask has shape {mask_np.shape} but the image shape is "
                f"{shape}; draw the mask for this size (sr.operators.sampling.*({shape}, ...))."
            )
        if mask_np.dtype != bool:
            raise StableReconError(
                f"SubsampledFourier: mask must be boolean, got {mask_np.dtype}; pass mask > 0."
            )
        if not mask_np.any():
            raise StableReconError("SubsampledFourier: mask samples nothing (all False).")
        index = centred_to_flat_index(mask_np)
        super().__init__(shape, (int(index.numel()),))
        self.register_buffer("index", index)
        self.register_buffer("mask", torch.as_tensor(mask_np, device="cpu"))

    @property
    def rate(self) -> float:
        """Fraction of sampled frequencies m / (H W)."""
        return self.out_shape[0] / (self.in_shape[0] * self.in_shape[1])

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return complex_dtype(dtype)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        k = torch.fft.fft2(x, norm="ortho")
        return k.reshape(*k.shape[:-2], -1)[..., self.index]

    def kspace(self, y: torch.Tensor) -> torch.Tensor:
        """Zero-filled k-space in unshifted FFT order from samples y.

        Parameters
        ----------
        y : torch.Tensor
            Samples, shape ``(*batch, m)``.

        Returns
        -------
        torch.Tensor
            Shape ``(*batch, H, W)``, zero where not sampled.
        """
        h, w = self.in_shape
        full = torch.zeros(*y.shape[:-1], h * w, dtype=y.dtype, device=y.device)
        full = full.index_copy(-1, self.index, y)
        return full.reshape(*y.shape[:-1], h, w)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        if not y.is_complex():
            y = y.to(complex_dtype(y.dtype))
        return torch.fft.ifft2(self.kspace(y), norm="ortho")

    def norm(self, *args, **kwargs) -> float:
        """Exactly 1: the rows of a subsampled unitary matrix are orthonormal.

        Returns
        -------
        float
            1.0
        """
        return 1.0
