r"""The data terms h of the three problems :math:`\min_x h(Ax - y) + \lambda\|Wx\|_{w,1}`,
one class each, with what the solvers and the certificate need of h: its value at the
residual norm, its conjugate's prox (the dual step of PDHG), the best scaling of a dual
candidate (the certified lower bound), and the constraint violation (QCBP only).

=========  ===========================  ===========================  ====================
problem    :math:`h(u)`                 :math:`h^*(p)`               ``prox_conjugate``
=========  ===========================  ===========================  ====================
(P1) QCBP  :math:`\iota(\|u\|\le\eta)`   :math:`\eta\|p\|`            shrink by ση
(P2) U-L.  :math:`\|u\|^2`              :math:`\|p\|^2/4`            :math:`u/(1+σ/2)`
(P3) SR-L. :math:`\|u\|`                :math:`\iota(\|p\|\le 1)`    onto the unit ball
=========  ===========================  ===========================  ====================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from stablerecon.errors import StableReconError
from stablerecon.prox import project_l2_ball, shrink_l2


class DataTerm:
    """h and what the solvers need of it; ``name`` is the problem's name in results."""

    name = ""
    #: whether the problem has a constraint (whose violation is reported separately)
    constrained = False

    def value(self, r: torch.Tensor) -> torch.Tensor:
        """h at a residual of norm ``r`` (per batch element)."""
        raise NotImplementedError

    def infeasibility(self, r: torch.Tensor) -> torch.Tensor:
        """How far a residual of norm ``r`` violates the constraint (0 without one)."""
        return torch.zeros_like(r)

    def prox_conjugate(self, u: torch.Tensor, sigma: float, ndim: int) -> torch.Tensor:
        """:math:`\\mathrm{prox}_{\\sigma h^*}(u)` over the last ``ndim`` axes."""
        raise NotImplementedError

    def dual_bound(self, s_max: torch.Tensor, pn: torch.Tensor,
                   py: torch.Tensor) -> torch.Tensor:
        """max over s ∈ [0, s_max] of D(s p) = −s Re⟨p, y⟩ − h*(s p), given ||p|| = ``pn``
        and Re⟨p, y⟩ = ``py``: the certified lower bound on min P."""
        raise NotImplementedError

    def dual_direction(self, r: torch.Tensor) -> torch.Tensor:
        """The dual candidate suggested by a residual r = Ax − y (∇h up to scale)."""
        return r


class SRLasso(DataTerm):
    """(P3) h(u) = ||u||₂."""

    name = "sr_lasso"

    def value(self, r):
        return r

    def prox_conjugate(self, u, sigma, ndim):
        return project_l2_ball(u, ndim)

    def dual_bound(self, s_max, pn, py):
        s_max = torch.minimum(s_max, torch.where(pn > 0, 1.0 / pn, torch.inf))
        slope = -py
        s = torch.nan_to_num(torch.where(slope > 0, s_max, torch.zeros_like(s_max)), posinf=0.0)
        return s * slope


class ULasso(DataTerm):
    """(P2) h(u) = ||u||₂²."""

    name = "u_lasso"

    def value(self, r):
        return r ** 2

    def prox_conjugate(self, u, sigma, ndim):
        return u / (1.0 + sigma / 2.0)

    def dual_bound(self, s_max, pn, py):
        # maximise −s py − s² ||p||²/4 on [0, s_max]
        s_star = torch.where(pn > 0, -2.0 * py / pn.clamp_min(1e-300) ** 2, torch.zeros_like(pn))
        s = torch.clamp(torch.minimum(s_star, s_max), min=0.0)
        return -s * py - s ** 2 * pn ** 2 / 4.0

    def dual_direction(self, r):
        return 2.0 * r


@dataclass
class QCBP(DataTerm):
    """(P1) h(u) = ι(||u||₂ ≤ η): the constraint ||Ax − y|| ≤ η."""

    eta: float
    name = "qcbp"
    constrained = True

    def __post_init__(self) -> None:
        if not (isinstance(self.eta, (int, float)) and self.eta >= 0 and math.isfinite(self.eta)):
            raise StableReconError(f"QCBP needs a finite eta ≥ 0 (the noise level "
                                   f"||Ax − y|| ≤ eta), got {self.eta}.")
        self.eta = float(self.eta)

    def value(self, r):
        return torch.zeros_like(r)  # the constraint is reported by infeasibility()

    def infeasibility(self, r):
        return torch.clamp(r - self.eta, min=0.0)

    def prox_conjugate(self, u, sigma, ndim):
        return shrink_l2(u, sigma * self.eta, ndim)

    def dual_bound(self, s_max, pn, py):
        slope = -(py + self.eta * pn)
        s = torch.where(slope > 0, s_max, torch.zeros_like(s_max))
        if bool(torch.isinf(s).any()):
            # unbounded dual: the constraint set is empty (y outside A's range by > eta)
            return torch.where(torch.isinf(s), torch.inf, s * slope)
        return s * slope
