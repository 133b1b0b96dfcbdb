"""A denoiser that learns the noise (Zhang et al., DnCNN, IEEE TIP 2017) — denoising."""

from __future__ import annotations

import torch

from stablerecon.nets.base import OperatorNet
from stablerecon.nets.layers import batched, conv_stack
from stablerecon.operators.base import LinearOperator


class DnCNN(OperatorNet):
    r"""Residual denoiser :math:`\hat x = y - \varphi(y)` (Zhang et al., IEEE TIP 2017): φ
    (``depth`` 3×3 conv layers with ReLU) estimates the noise. y ``(*batch, H, W)`` → x
    ``(*batch, H, W)`` real.

    Parameters
    ----------
    A : LinearOperator
        The identity of the image shape.
    depth : int
        Conv layers.
    width : int
        Channels of the hidden layers.
    """

    def __init__(self, A: LinearOperator, depth: int = 10, width: int = 32):
        super().__init__(A, depth=depth, width=width)
        self.noise = conv_stack(1, 1, width, depth)


    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = batched(y.real if y.is_complex() else y, 2)
        x = y - self.noise(y.unsqueeze(1))[:, 0]
        return x.reshape(*lead, *x.shape[1:])
