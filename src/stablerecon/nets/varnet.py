"""Variational network (Hammernik et al., MRM 2018) — MRI."""

from __future__ import annotations

import torch
from torch import nn

from stablerecon.errors import StableReconError
from stablerecon.nets.base import OperatorNet
from stablerecon.nets.layers import batched, from_channels, to_channels
from stablerecon.operators.base import LinearOperator


class RBFActivation(nn.Module):
    r"""Learned per-channel activation :math:`\phi(z) = \sum_i w_i \exp(-(z-\mu_i)^2/2\sigma^2)`
    with fixed nodes μ on [-r, r] (the paper's radial basis functions)."""

    def __init__(self, channels: int, nodes: int = 15, radius: float = 1.0):
        super().__init__()
        self.register_buffer("mu", torch.linspace(-radius, radius, nodes))
        self.sigma = 2 * radius / (nodes - 1)
        self.weight = nn.Parameter(0.01 * torch.randn(channels, nodes))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        d = (z.unsqueeze(-1) - self.mu) / self.sigma
        return (torch.exp(-0.5 * d * d) * self.weight[:, None, None, :]).sum(-1)


class VariationalNetwork(OperatorNet):
    r"""Variational network (Hammernik et al., MRM 2018): T unrolled gradient steps on a learned
    energy,

    .. math:: x_{t+1} = x_t - \alpha_t A^*(Ax_t - y) - K_t^T \phi_t(K_t x_t),

    with :math:`K_t` a learned 2→F convolution (real/imag channels), :math:`K_t^T` its
    transpose (the same filters, transposed convolution), :math:`\phi_t` a learned RBF
    activation and :math:`\alpha_t > 0` learned. x₀ = A*y. Complex in and out.

    Parameters
    ----------
    A : LinearOperator
        The subsampled Fourier operator.
    steps : int
        T, the unrolled steps.
    filters : int
        F, the filters of each :math:`K_t`.
    kernel : int
        Their spatial size.
    """

    def __init__(self, A: LinearOperator, steps: int = 8, filters: int = 24, kernel: int = 5):
        super().__init__(A, steps=steps, filters=filters, kernel=kernel)
        if kernel % 2 == 0:
            raise StableReconError(f"VariationalNetwork kernel must be odd (the output keeps "
                                   f"the image size), got {kernel}; use {kernel + 1}.")
        self.kernels = nn.ParameterList(
            nn.Parameter(torch.randn(filters, 2, kernel, kernel) / (2 * kernel * kernel) ** 0.5)
            for _ in range(steps))
        self.activations = nn.ModuleList(RBFActivation(filters) for _ in range(steps))
        self.raw_alpha = nn.Parameter(torch.zeros(steps))


    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = batched(y, len(self.A.out_shape))
        x = self.A.H(y)
        pad = self.kernels[0].shape[-1] // 2
        for k, phi, raw in zip(self.kernels, self.activations, self.raw_alpha):
            h = to_channels(x, True)
            reg = nn.functional.conv_transpose2d(phi(nn.functional.conv2d(h, k, padding=pad)),
                                                 k, padding=pad)
            # inner applications unchecked: y was checked above, x is the network's own
            grad = self.A.adjoint(self.A(x, check=False) - y, check=False)
            x = x - nn.functional.softplus(raw) * grad - from_channels(reg, True)
        return x.reshape(*lead, *x.shape[1:])
