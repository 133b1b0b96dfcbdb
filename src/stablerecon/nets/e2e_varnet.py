r"""End-to-end variational network (Sriram et al., MICCAI 2020) — multi-coil MRI.

The network fastMRI's leaderboard was led by, written here from the paper: it needs no coil
maps from outside. A small U-Net turns the zero-filled coil images of the fully sampled
centre (the calibration region) into maps Ŝ, normalised so that :math:`\sum_c |Ŝ_c|^2 = 1`;
then T cascades refine the whole multi-coil k-space,

.. math:: k^{t+1} = k^t - \eta_t\, M(k^t - k^0) + \gamma_t\, F\,\mathcal{E}\big(U_t(
          \mathcal{R}(F^{-1} k^t))\big),

with :math:`k^0` the measured k-space (zero where not sampled), M the sampling mask,
:math:`\mathcal{R}(c) = \sum_c \bar Ŝ_c c_c` (reduce the coils to one image),
:math:`\mathcal{E}(x) = (Ŝ_c x)_c` (expand), :math:`U_t` a U-Net on (real, imag) with
per-image normalisation, and :math:`\eta_t, \gamma_t` learned; :math:`\gamma_t` starts at
zero, so the untrained network is the zero-filled RSS and training starts from there (the
paper has no :math:`\gamma_t`; without it an untrained U-Net's output swamps k). The output is the
root-sum-of-squares :math:`\sqrt{\sum_c |F^{-1} k^T_c|^2}`, a magnitude image, as the
paper's.

Only the sampling pattern is taken from the operator A (``A.mask``); its coil maps are not
used, so the same network reconstructs scans with any coils of the same count.
"""

from __future__ import annotations

import torch
from torch import nn

from stablerecon.data.coils import calibration_region
from stablerecon.errors import StableReconError
from stablerecon.nets.base import OperatorNet
from stablerecon.nets.layers import UNet, batched, from_channels, to_channels
from stablerecon.operators.base import LinearOperator


class NormUNet(nn.Module):
    """A U-Net on a complex image (two channels), its input scaled to zero mean and unit
    standard deviation per image and channel and its output scaled back: the network then
    sees the same numbers at any signal level."""

    def __init__(self, width: int, depth: int):
        super().__init__()
        self.unet = UNet(2, 2, width=width, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = to_channels(x, True)
        mean = h.mean(dim=(-2, -1), keepdim=True)
        std = h.std(dim=(-2, -1), keepdim=True).clamp_min(1e-8)
        return from_channels(self.unet((h - mean) / std) * std + mean, True)


class E2EVarNet(OperatorNet):
    """E2E-VarNet (see the module docstring). y ``(*batch, C, m)`` → |x̂| ``(*batch, H, W)``.

    Parameters
    ----------
    A : MultiCoilFourier
        The multi-coil operator: its mask places y on the k-space grid.
    cascades : int
        T, the unrolled k-space refinements.
    width, depth : int
        Channels of the first level and levels of each cascade's U-Net.
    sens_width, sens_depth : int
        The same for the map estimator's U-Net.
    """

    def __init__(self, A: LinearOperator, cascades: int = 6, width: int = 12, depth: int = 2,
                 sens_width: int = 8, sens_depth: int = 2):
        if not hasattr(A, "coil_images"):
            raise StableReconError(f"E2EVarNet needs a multi-coil operator (MultiCoilFourier), "
                                   f"got {type(A).__name__}.")
        super().__init__(A, cascades=cascades, width=width, depth=depth,
                         sens_width=sens_width, sens_depth=sens_depth)
        self.sens_net = NormUNet(sens_width, sens_depth)
        self.cascades = nn.ModuleList(NormUNet(width, depth) for _ in range(cascades))
        self.eta = nn.Parameter(torch.ones(cascades))
        self.gamma = nn.Parameter(torch.zeros(cascades))

    def _centre(self) -> torch.Tensor:
        """The calibration region of A's mask, (H, W) in unshifted FFT order."""
        mask = self.A.mask
        rows, cols = calibration_region(mask)
        h, w = mask.shape
        keep = torch.zeros(h, w, dtype=torch.bool, device=mask.device)
        keep[h // 2 - rows // 2:h // 2 - rows // 2 + rows,
             w // 2 - cols // 2:w // 2 - cols // 2 + cols] = True
        return torch.fft.ifftshift(keep, dim=(-2, -1))

    def maps(self, y: torch.Tensor) -> torch.Tensor:
        r"""The network's coil maps, from the calibration region of the samples.

        Parameters
        ----------
        y : torch.Tensor
            Samples ``(B, C, m)``.

        Returns
        -------
        torch.Tensor
            Ŝ ``(B, C, H, W)``, :math:`\sum_c |Ŝ_c|^2 = 1`.
        """
        k = self.A.kspace(y) * self._centre()
        images = torch.fft.ifft2(k, norm="ortho")
        b, c, h, w = images.shape
        refined = self.sens_net(images.reshape(b * c, h, w)).reshape(b, c, h, w)
        rss = (refined.abs() ** 2).sum(1, keepdim=True).sqrt()
        return refined / rss.clamp_min(1e-8)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = batched(y, len(self.A.out_shape))
        if not y.is_complex():
            y = y.to(torch.complex64 if y.dtype != torch.float64 else torch.complex128)
        k0 = self.A.kspace(y)
        sampled = torch.fft.ifftshift(self.A.mask, dim=(-2, -1)).to(y.device)
        sens = self.maps(y)
        k = k0
        for unet, eta, gamma in zip(self.cascades, self.eta, self.gamma):
            image = (torch.fft.ifft2(k, norm="ortho") * sens.conj()).sum(1)
            refined = torch.fft.fft2(unet(image)[:, None] * sens, norm="ortho")
            k = k - eta * torch.where(sampled, k - k0, torch.zeros_like(k)) + gamma * refined
        out = (torch.fft.ifft2(k, norm="ortho").abs() ** 2).sum(1).sqrt()
        return out.reshape(*lead, *out.shape[1:])
