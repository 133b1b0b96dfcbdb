"""Multi-coil (SENSE) Fourier sampling: the forward map of parallel MRI, as scanners record it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, complex_dtype
from stablerecon.operators.fourier import centred_to_flat_index

#: below this fraction of the largest Σ_c |S_c|², a pixel counts as outside the coils' support
SUPPORT_THRESHOLD = 1e-6


def normalise_maps(sens: torch.Tensor, threshold: float = SUPPORT_THRESHOLD
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Coil maps scaled so that :math:`\sum_c |S_c(p)|^2 = 1` at every pixel p of their
    support, and set to zero outside it.

    The support is where :math:`\sum_c |S_c|^2 > \text{threshold} \cdot \max_p \sum_c
    |S_c(p)|^2`. Outside it no coil sees the object, so the measurements carry nothing
    about those pixels: the maps are zero there (A maps them to 0, and Φ's sparsity term
    sets them to zero).

    Parameters
    ----------
    sens : torch.Tensor
        Complex maps, shape ``(coils, H, W)``.
    threshold : float
        Relative support threshold.

    Returns
    -------
    tuple of torch.Tensor
        The normalised maps (same shape and dtype) and the boolean support ``(H, W)``.
    """
    energy = (sens.real ** 2 + sens.imag ** 2).sum(dim=0) if sens.is_complex() else \
        (sens ** 2).sum(dim=0)
    top = float(energy.max())
    if not top > 0:
        raise StableReconError("MultiCoilFourier: the coil maps are zero everywhere; estimate "
                               "them from the data (sr.data.coils.espirit) or simulate them "
                               "(sr.data.coils.birdcage).")
    support = energy > threshold * top
    scale = torch.where(support, energy.clamp_min(threshold * top).rsqrt(),
                        torch.zeros_like(energy))
    return sens * scale, support


class MultiCoilFourier(LinearOperator):
    r"""Multi-coil subsampled Fourier (SENSE) operator, ``y_c = P_Ω F (S_c x)``, c = 1…C.

    ``S_c`` are the coil sensitivity maps, ``F`` the unitary 2-D DFT and ``P_Ω`` keeps the
    ``m`` frequencies where ``mask`` is True (the same for every coil, as a scanner records
    them). The adjoint combines the coils,
    :math:`A^* y = \sum_c \bar S_c\, F^{-1} P_\Omega^* y_c`. The maps are normalised
    (:func:`normalise_maps`): :math:`\sum_c |S_c|^2 = 1` on their support and 0 outside, so
    with every frequency sampled :math:`A^*A` is the projection onto the support and
    ``||A|| = 1``; subsampled, ``||A|| ≤ 1`` (``norm()`` returns that bound). One coil with
    ``S = 1`` is :class:`~stablerecon.operators.SubsampledFourier` (output ``(1, m)``).

    Parameters
    ----------
    shape : (H, W)
        Image size.
    mask : bool array of shape (H, W)
        Sampling pattern in centred convention (zero frequency at ``(H // 2, W // 2)``), as
        drawn by :mod:`stablerecon.operators.sampling` (``equispaced_columns`` and
        ``random_columns`` follow fastMRI).
    sens : complex tensor or array of shape (C, H, W)
        Coil sensitivity maps (:mod:`stablerecon.data.coils`), in the same image convention
        as x. Normalised here unless ``normalise=False``.
    normalise : bool
        Normalise the maps (default). Pass False for maps already normalised, which are
        then taken as given (their largest Σ|S_c|² bounds ``norm()``).

    Shapes
    ------
    x : ``(*batch, H, W)`` complex (real is promoted); y : ``(*batch, C, m)`` complex,
    samples ordered row-major in the centred mask.

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> mask = sr.operators.sampling.equispaced_columns((16, 16), acceleration=4,
    ...                                                 center_fraction=0.25)
    >>> sens = sr.data.coils.birdcage((16, 16), coils=4)
    >>> A = sr.operators.MultiCoilFourier((16, 16), mask, sens)
    >>> A(torch.ones(16, 16)).shape
    torch.Size([4, 80])
    >>> bool(A.check_adjoint(torch.float64).passed)
    True
    """

    complex_output = True

    def __init__(self, shape: Sequence[int], mask: np.ndarray | torch.Tensor,
                 sens: np.ndarray | torch.Tensor, normalise: bool = True):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise StableReconError(f"MultiCoilFourier needs a 2-D shape (H, W), got {shape}.")
        mask_np = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask)
        if mask_np.shape != shape:
            raise StableReconError(
                f"MultiCoilFourier: mask has shape {mask_np.shape} but the image shape is "
                f"{shape}; draw the mask for this size (for a column mask of shape (W,), "
                "sr.operators.sampling.column_mask(columns, H))."
            )
        if mask_np.dtype != bool:
            raise StableReconError(
                f"MultiCoilFourier: mask must be boolean, got {mask_np.dtype}; pass mask > 0.")
        if not mask_np.any():
            raise StableReconError("MultiCoilFourier: mask samples nothing (all False).")
        sens_t = torch.as_tensor(sens)
        if sens_t.ndim == 2:
            raise StableReconError(
                f"MultiCoilFourier: coil maps have shape {tuple(sens_t.shape)}, missing the "
                "coil axis; pass (coils, H, W) (for one coil, sens[None]).")
        if sens_t.ndim != 3 or tuple(sens_t.shape[1:]) != shape:
            raise StableReconError(
                f"MultiCoilFourier: coil maps have shape {tuple(sens_t.shape)} but the image "
                f"shape is {shape}; pass maps of shape (coils, {shape[0]}, {shape[1]}).")
        if not (sens_t.is_complex() or sens_t.is_floating_point()):
            raise StableReconError(f"MultiCoilFourier: coil maps must be complex, got "
                                   f"{sens_t.dtype}; cast with .to(torch.complex64).")
        if not bool(torch.isfinite(sens_t).all()):
            raise StableReconError("MultiCoilFourier: coil maps contain NaN or Inf; estimate "
                                   "them again (sr.data.coils.espirit).")
        sens_t = sens_t.to(complex_dtype(sens_t.dtype))
        if normalise:
            sens_t, support = normalise_maps(sens_t)
        else:
            support = (sens_t.abs() ** 2).sum(0) > 0
            if not bool(support.any()):
                normalise_maps(sens_t)  # raises the all-zero message
        index = centred_to_flat_index(mask_np)
        coils = int(sens_t.shape[0])
        super().__init__(shape, (coils, int(index.numel())))
        self.register_buffer("index", index)
        self.register_buffer("mask", torch.as_tensor(mask_np, device="cpu"))
        self.register_buffer("sens", sens_t.cpu())
        self.register_buffer("support", support.cpu())

    @property
    def coils(self) -> int:
        """The number of receive coils C."""
        return self.out_shape[0]

    @property
    def rate(self) -> float:
        """Fraction of sampled frequencies m / (H W) (per coil)."""
        return self.out_shape[1] / (self.in_shape[0] * self.in_shape[1])

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return complex_dtype(dtype)

    def _maps(self, dtype: torch.dtype) -> torch.Tensor:
        return self.sens.to(complex_dtype(dtype))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        coil_images = x.unsqueeze(-3) * self._maps(x.dtype)
        k = torch.fft.fft2(coil_images, norm="ortho")
        return k.reshape(*k.shape[:-2], -1)[..., self.index]

    def kspace(self, y: torch.Tensor) -> torch.Tensor:
        """Zero-filled multi-coil k-space, in unshifted FFT order, from samples y.

        Parameters
        ----------
        y : torch.Tensor
            Samples, shape ``(*batch, C, m)``.

        Returns
        -------
        torch.Tensor
            Shape ``(*batch, C, H, W)``, zero where not sampled.
        """
        h, w = self.in_shape
        full = torch.zeros(*y.shape[:-1], h * w, dtype=y.dtype, device=y.device)
        full = full.index_copy(-1, self.index, y)
        return full.reshape(*y.shape[:-1], h, w)

    def coil_images(self, y: torch.Tensor) -> torch.Tensor:
        """Zero-filled coil images :math:`F^{-1} P_\\Omega^* y_c`, shape ``(*batch, C, H, W)``.

        Parameters
        ----------
        y : torch.Tensor
            Samples, shape ``(*batch, C, m)``.

        Returns
        -------
        torch.Tensor
            One image per coil.
        """
        if not y.is_complex():
            y = y.to(complex_dtype(y.dtype))
        return torch.fft.ifft2(self.kspace(y), norm="ortho")

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        images = self.coil_images(y)
        return (images * self._maps(images.dtype).conj()).sum(dim=-3)

    def rss(self, y: torch.Tensor) -> torch.Tensor:
        """Root-sum-of-squares of the zero-filled coil images, the scanner's usual magnitude
        image: :math:`\\sqrt{\\sum_c |F^{-1} P_\\Omega^* y_c|^2}`.

        Parameters
        ----------
        y : torch.Tensor
            Samples, shape ``(*batch, C, m)``.

        Returns
        -------
        torch.Tensor
            Real, shape ``(*batch, H, W)``.
        """
        images = self.coil_images(y)
        return (images.real ** 2 + images.imag ** 2).sum(dim=-3).sqrt()

    def norm(self, *args, **kwargs) -> float:
        r"""An upper bound of ||A||: :math:`\max_p \sqrt{\sum_c |S_c(p)|^2}` (1 for normalised
        maps), since :math:`\|P_\Omega F S_c x\| \le \|S_c x\|` and
        :math:`\sum_c \|S_c x\|^2 \le \max_p \sum_c |S_c(p)|^2 \, \|x\|^2`; equal when every
        frequency is sampled. The solvers need an upper bound for their step sizes.

        Returns
        -------
        float
            The bound.
        """
        energy = (self.sens.real ** 2 + self.sens.imag ** 2).sum(dim=0)
        return float(energy.max().sqrt())
