r"""LISTA (Gregor & LeCun, "Learning fast approximations of sparse coding", ICML 2010).

K layers of learned ISTA for vectors,

.. math:: x_{k+1} = S_{\theta_k}\big(W^{(1)}_k y + W^{(2)}_k x_k\big), \qquad x_0 = 0,

with S the soft-thresholding (:func:`~stablerecon.prox.soft_threshold`) and,
per layer, learned :math:`W^{(1)}_k` (N×m), :math:`W^{(2)}_k` (N×N) and threshold
:math:`\theta_k > 0`. Initialised as ISTA for :math:`\min \tfrac12\|Ax-y\|^2 + \lambda\|x\|_1`:
:math:`W^{(1)} = A^T/L`, :math:`W^{(2)} = I - A^TA/L`, :math:`\theta = \lambda/L`,
:math:`L = \|A\|^2`.
"""

from __future__ import annotations

import torch

from stablerecon import validate
from stablerecon.errors import StableReconError
from stablerecon.memory_budget import check_fits
from stablerecon.nets.base import OperatorNet
from stablerecon.operators.base import LinearOperator
from stablerecon.prox import soft_threshold


def dense_matrix(A: LinearOperator) -> torch.Tensor:
    """The m×N matrix of a vector operator (its stored matrix, or A applied to I)."""
    if len(A.in_shape) != 1 or len(A.out_shape) != 1:
        raise StableReconError(f"LISTA works on vectors: A must map (N,) to (m,), got "
                               f"{A.in_shape} → {A.out_shape}.")
    if hasattr(A, "matrix"):
        return A.matrix
    eye = torch.eye(A.in_shape[0], dtype=torch.float64)
    return A(eye).T


class LISTA(OperatorNet):
    """Learned ISTA: ``model(y) -> x`` for y ``(*batch, m)``, x ``(*batch, N)``.

    Parameters
    ----------
    A : LinearOperator
        The vector forward map (e.g. :class:`~stablerecon.operators.Matrix`); used for the
        initialisation and attached as ``model.operator``.
    layers : int
        Number of layers K.
    lam : float
        λ of the LASSO whose ISTA gives the initial weights.
    tied : bool
        One (W1, W2) shared by all layers (thresholds stay per layer).

    >>> import torch, stablerecon as sr
    >>> A = sr.operators.gaussian(20, 40, seed=0)
    >>> net = LISTA(A, layers=5)
    >>> net(torch.zeros(3, 20, dtype=torch.float64)).shape
    torch.Size([3, 40])
    """

    def __init__(self, A: LinearOperator, layers: int = 10, lam: float = 0.1,
                 tied: bool = False):
        super().__init__(A, layers=layers)
        validate.number("LISTA lam", lam, low=0)
        if not isinstance(tied, bool):
            raise StableReconError(f"LISTA tied must be True or False, got {tied!r}.")
        if len(A.in_shape) == 1 and len(A.out_shape) == 1:
            m, n = A.out_shape[0], A.in_shape[0]
            copies = 1 if tied else layers
            # W1 (N×m) and W2 (N×N) per layer, float64, and the dense A with its identity
            check_fits(8 * (copies + 1) * (n * m + n * n),
                       f"LISTA with {copies} weight copies for a {m}×{n} A",
                       "use tied=True, fewer layers or a smaller A")
        M = dense_matrix(A)
        if M.is_complex():
            raise StableReconError("LISTA here is for real vectors; A is complex.")
        L = float(torch.linalg.matrix_norm(M, ord=2)) ** 2
        n = M.shape[1]
        copies = 1 if tied else layers
        w1 = (M.T / L).expand(copies, -1, -1).clone()
        w2 = (torch.eye(n, dtype=M.dtype) - M.T @ M / L).expand(copies, -1, -1).clone()
        self.tied = tied
        self.W1 = torch.nn.Parameter(w1)
        self.W2 = torch.nn.Parameter(w2)
        # threshold θ_k = softplus(t_k) keeps it positive
        theta = torch.full((layers,), lam / L, dtype=M.dtype)
        self.raw_theta = torch.nn.Parameter(torch.log(torch.expm1(theta.clamp_min(1e-300))))


    @property
    def layers(self) -> int:
        return self.raw_theta.numel()

    def thresholds(self) -> torch.Tensor:
        """The learned soft-threshold of each layer (kept positive).

        Returns
        -------
        torch.Tensor
            One threshold per layer.
        """
        return torch.nn.functional.softplus(self.raw_theta)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.shape[-1] != self.W1.shape[-1]:
            raise StableReconError(f"LISTA: y has {y.shape[-1]} entries in its last axis, "
                                   f"expected m = {self.W1.shape[-1]}.")
        y = y.to(self.W1.dtype)
        theta = self.thresholds()
        x = torch.zeros(*y.shape[:-1], self.W1.shape[1], dtype=y.dtype, device=y.device)
        for k in range(self.layers):
            i = 0 if self.tied else k
            x = soft_threshold(y @ self.W1[i].T + x @ self.W2[i].T, theta[k])
        return x
