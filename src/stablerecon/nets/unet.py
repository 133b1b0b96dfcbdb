"""U-Net reconstructors: FBPConvNet (CT) and the DAGAN-style generator (MRI)."""

from __future__ import annotations

import torch
from torch import nn

from stablerecon.nets.base import OperatorNet
from stablerecon.nets.layers import UNet, batched, from_channels, to_channels
from stablerecon.operators.base import LinearOperator


class _ResidualUNet(OperatorNet):
    """x̂ = x₀ + U(x₀) with x₀ = ``initial(y)``; the shared body of both networks."""

    complex_data = False

    def __init__(self, A: LinearOperator, width: int = 16, depth: int = 3):
        super().__init__(A, width=width, depth=depth)
        ch = 2 if self.complex_data else 1
        self.unet = UNet(ch, ch, width=width, depth=depth)


    def initial(self, y: torch.Tensor) -> torch.Tensor:
        """The network's first estimate x₀ from the measurements (FBPConvNet: FBP(y);
        DAGAN: the zero-filled A*y).

        Parameters
        ----------
        y : torch.Tensor
            Measurements, batched.

        Returns
        -------
        torch.Tensor
            x₀, which the U-Net then corrects.
        """
        raise NotImplementedError

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = batched(y, len(self.A.out_shape))
        x0 = self.initial(y)
        h = to_channels(x0, self.complex_data)
        x = from_channels(h + self.unet(h), self.complex_data)
        return x.reshape(*lead, *x.shape[1:])


class FBPConvNet(_ResidualUNet):
    """FBPConvNet (Jin, McCann, Froustey & Unser, IEEE TIP 2017): a multiscale U-Net with
    residual learning applied to the filtered back-projection, x̂ = FBP(y) + U(FBP(y)).

    Shapes: y ``(*batch, angles, detectors)`` → x ``(*batch, H, W)`` real.

    Parameters
    ----------
    A : LinearOperator
        A :class:`~stablerecon.operators.Radon` (it provides ``fbp``).
    width : int
        Channels of the first U-Net level (doubled per level).
    depth : int
        U-Net levels.
    """

    def initial(self, y: torch.Tensor) -> torch.Tensor:
        return self.A.fbp(y)


class DAGAN(_ResidualUNet):
    """DAGAN-style generator (Yang et al., IEEE TMI 2018): a U-Net with residual learning on
    the zero-filled image A*y, x̂ = A*y + G(A*y), trained with pixel, frequency and
    adversarial losses (see :mod:`stablerecon.train`). Complex in and out (two channels
    inside). Shapes: y ``(*batch, m)`` → x ``(*batch, H, W)`` complex.

    Parameters
    ----------
    A : LinearOperator
        The subsampled Fourier operator.
    width : int
        Channels of the first U-Net level (doubled per level).
    depth : int
        U-Net levels.
    """

    complex_data = True

    def initial(self, y: torch.Tensor) -> torch.Tensor:
        return self.A.H(y)


class Discriminator(nn.Module):
    """A small patch discriminator for DAGAN training: strided convs → one logit per image."""

    def __init__(self, in_ch: int = 2, width: int = 16, depth: int = 4):
        super().__init__()
        layers: list[nn.Module] = []
        ch = in_ch
        for level in range(depth):
            w = width * 2**level
            layers += [nn.Conv2d(ch, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            ch = w
        layers.append(nn.Conv2d(ch, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(to_channels(x, True)).mean(dim=(1, 2, 3))
