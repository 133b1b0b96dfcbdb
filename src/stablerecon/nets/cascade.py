"""Deep cascade of CNNs with data consistency (Schlemper et al., IEEE TMI 2018) — MRI."""

from __future__ import annotations

import torch
from torch import nn

from stablerecon.nets.base import OperatorNet
from stablerecon.nets.layers import batched, conv_stack, from_channels, to_channels
from stablerecon.operators.base import LinearOperator


class DeepCascade(OperatorNet):
    r"""Deep cascade of CNNs with data consistency (Schlemper et al., IEEE TMI 2018).

    x₀ = A*y; for each cascade c: :math:`z = x + \mathrm{CNN}_c(x)` (residual, ``depth``
    conv layers), then data consistency :math:`x = z + s_c A^*(y - Az)`. With
    :math:`AA^* = I` (subsampled unitary Fourier) and :math:`s_c = 1` the data-consistency
    layer replaces the sampled k-space values of z by y exactly — Schlemper's noiseless DC;
    :math:`s_c = \mathrm{sigmoid}(\cdot) \in (0, 1)` is learned (his noisy-data variant).
    Complex in and out (two channels inside). y ``(*batch, m)`` → x ``(*batch, H, W)``.

    Parameters
    ----------
    A : LinearOperator
        The subsampled Fourier operator.
    cascades : int
        CNN + data-consistency blocks.
    depth : int
        Conv layers per CNN.
    width : int
        Channels of the hidden layers.
    """

    def __init__(self, A: LinearOperator, cascades: int = 5, depth: int = 5, width: int = 32):
        super().__init__(A, cascades=cascades, depth=depth, width=width)
        self.cnns = nn.ModuleList(conv_stack(2, 2, width, depth) for _ in range(cascades))
        self.dc_logit = nn.Parameter(torch.full((cascades,), 4.0))


    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = batched(y, len(self.A.out_shape))
        x = self.A.H(y)
        for cnn, logit in zip(self.cnns, self.dc_logit):
            h = to_channels(x, True)
            z = from_channels(h + cnn(h), True)
            # inner applications unchecked: y was checked above, z is the network's own
            dc = self.A.adjoint(y - self.A(z, check=False), check=False)
            x = z + torch.sigmoid(logit) * dc
        return x.reshape(*lead, *x.shape[1:])
