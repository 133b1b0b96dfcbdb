"""Discrete gradient (forward differences): the sparsifying transform of total variation."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator


class Gradient(LinearOperator):
    r"""Forward differences with Neumann boundary: ``∇x = (D_h x, D_w x)``.

    .. math:: (D_h x)_{i,j} = x_{i+1,j} - x_{i,j} \ (i < H-1), \quad 0 \ (i = H-1),

    and likewise along the width. The adjoint is minus the discrete divergence,
    ``∇* = -div``, and ``||∇|| <= sqrt(8)``. ``||∇x||_1`` (anisotropic) is the TV of x.

    Shapes: x ``(*batch, H, W)`` real or complex -> ``(*batch, 2, H, W)``.

    Parameters
    ----------
    shape : (H, W)
        Image size.

    Examples
    --------
    >>> import torch
    >>> G = Gradient((3, 3))
    >>> G(torch.arange(9.0).reshape(3, 3))[0]
    tensor([[3., 3., 3.],
            [3., 3., 3.],
            [0., 0., 0.]])
    """

    def __init__(self, shape: Sequence[int]):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise StableReconError(f"Gradient needs a 2-D shape (H, W), got {shape}.")
        super().__init__(shape, (2, *shape))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        zero_row = torch.zeros_like(x[..., :1, :])
        zero_col = torch.zeros_like(x[..., :, :1])
        dh = torch.cat([x[..., 1:, :] - x[..., :-1, :], zero_row], dim=-2)
        dw = torch.cat([x[..., :, 1:] - x[..., :, :-1], zero_col], dim=-1)
        return torch.stack([dh, dw], dim=-3)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        dh, dw = y[..., 0, :, :], y[..., 1, :, :]
        # -div: (D_h^T p)_i = p_{i-1} - p_i, with p_{-1} = 0 and p_{H-1} unused (it is 0).
        p = dh[..., :-1, :]
        zero_row = torch.zeros_like(dh[..., :1, :])
        th = torch.cat([zero_row, p], dim=-2) - torch.cat([p, zero_row], dim=-2)
        q = dw[..., :, :-1]
        zero_col = torch.zeros_like(dw[..., :, :1])
        tw = torch.cat([zero_col, q], dim=-1) - torch.cat([q, zero_col], dim=-1)
        return th + tw
