r"""The three sparse-regularisation problems and their duality-gap certificate.

All three have the form :math:`\min_x h(Ax - y) + \lambda \|Wx\|_{w,1}` with

* (P1) QCBP:     :math:`h(u) = \iota(\|u\| \le \eta)`, :math:`\lambda = 1`
* (P2) U-LASSO:  :math:`h(u) = \|u\|_2^2`
* (P3) SR-LASSO: :math:`h(u) = \|u\|_2`

and the weighted l1 norm :math:`\|v\|_{w,1} = \sum_i w_i |v_i|`. Fenchel duality gives,
for any p (measurement space) and q with :math:`A^*p + W^*q = 0` and
:math:`|q_i| \le \lambda w_i`,

.. math:: D(p) = -\mathrm{Re}\langle p, y\rangle - h^*(p) \le \min P,

with :math:`h^* = \iota(\|p\| \le 1)` (P3), :math:`\|p\|^2/4` (P2), :math:`\eta\|p\|` (P1).
When W is unitary (or absent) the constraint is met by :math:`q = -W A^* p`; scaling p
by the best :math:`s \ge 0` that keeps :math:`|q_i| \le \lambda w_i` (and :math:`\|p\|\le 1`
for P3) gives a valid lower bound, so :math:`P(x) - D(p) \ge P(x) - \min P \ge 0`
**certifies** the objective error of x. For a non-unitary W (e.g. the gradient) no such
cheap bound exists and the solvers report a fixed-point residual instead, saying so.
Weights equal to 0 make the bound degenerate (the dual must then be exactly orthogonal to
those coefficients); use small positive weights instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from stablerecon import validate
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, inner, real_dtype, sample_norm
from stablerecon.solvers.data_terms import DataTerm

#: what the solvers' entry points document alike (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
RUN_DOCS = {
    "run": """
    Parameters
    ----------
    problem : Problem
        The instance to solve.
    tol : float
        Certified relative duality gap to reach (with a non-unitary W: the relative
        fixed-point residual, which certifies nothing).
    max_iter : int
        Iteration cap.
    time_limit : float, optional
        Seconds allowed; the run stops with its status saying so.""",
    "start": """
    check_every : int
        Iterations between certificate checks.
    x0 : torch.Tensor, optional
        Starting point (default 0).
    history : bool
        Keep the objective and gap of every check in ``result.history``.""",
    "returns": """
    Returns
    -------
    SolverResult
        The last iterate, its certificate, the status; a warning when it did not converge.""",
}


#: what Problem's per-sample measures document alike (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
_AX_DOCS = {
    "per_sample": """
    Parameters
    ----------
    ax : torch.Tensor
        A x.

    Returns
    -------
    torch.Tensor
        One value per batch element.""",
}


@dataclass
class Problem:
    r"""One instance of (P1), (P2) or (P3) — the ``data`` term says which
    (:mod:`stablerecon.solvers.data_terms`) — batched over the leading axes of y:

    .. math:: \min_x h(Ax - y) + \lambda \|Wx\|_{w,1}.

    Attributes
    ----------
    data : DataTerm
        ``QCBP(eta)``, ``ULasso()`` or ``SRLasso()``: the term h.
    A : LinearOperator
        The forward map.
    y : torch.Tensor
        Measurements, shape ``(*batch, *A.out_shape)``.
    lam : float
        λ > 0 (1 for QCBP).
    W : LinearOperator or None
        Sparsifying transform (None: the identity).
    weights : torch.Tensor or None
        Weights w > 0 of the l1 norm, broadcastable to W's output.
    """

    data: DataTerm
    A: LinearOperator
    y: torch.Tensor
    lam: float = 1.0
    W: LinearOperator | None = None
    weights: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataTerm):
            raise StableReconError(f"data must be a data term (QCBP(eta), ULasso(), "
                                   f"SRLasso()), got {self.data!r}.")
        validate.operator("A", self.A)
        if self.W is not None:
            validate.operator("W", self.W)
        if not isinstance(self.y, torch.Tensor):
            raise StableReconError(f"y must be a torch.Tensor, got {type(self.y).__name__}.")
        n = len(self.A.out_shape)
        if self.y.ndim < n or tuple(self.y.shape[self.y.ndim - n :]) != self.A.out_shape:
            raise StableReconError(
                f"y has shape {tuple(self.y.shape)} but the operator's output is "
                f"(*batch, {', '.join(map(str, self.A.out_shape))}); measure with y = A(x)."
            )
        if not bool(torch.isfinite(self.y).all()):
            raise StableReconError("y contains NaN or Inf; clean the measurements first.")
        self.lam = validate.number("lam", self.lam, low=0)
        if self.W is not None and self.W.in_shape != self.A.in_shape:
            raise StableReconError(
                f"W acts on {self.W.in_shape} but A on {self.A.in_shape}; build W for the "
                "image shape."
            )
        if self.weights is not None:
            self.weights = validate.tensor("weights", self.weights, shape=self.coef_shape,
                                           nonnegative=True).to(self.y.device)

    @property
    def name(self) -> str:
        """The problem's name: "qcbp", "u_lasso" or "sr_lasso"."""
        return self.data.name

    # -- shapes and dtypes ---------------------------------------------------------------
    @property
    def coef_shape(self) -> tuple[int, ...]:
        return self.W.out_shape if self.W is not None else self.A.in_shape

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.y.shape[: self.y.ndim - len(self.A.out_shape)])

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the unknown: complex if A needs it or y is complex."""
        real = real_dtype(self.y.dtype)
        dt = self.A.input_dtype(real)
        if self.y.is_complex() and not dt.is_complex and not getattr(self.A, "real_domain", False):
            dt = torch.complex128 if real == torch.float64 else torch.complex64
        return dt

    @property
    def unitary_w(self) -> bool:
        """Whether the duality-gap certificate applies (W unitary or absent)."""
        return self.W is None or bool(getattr(self.W, "unitary", False))

    def zeros(self) -> torch.Tensor:
        """The zero image of the unknown's shape, dtype and device (the default start).

        Returns
        -------
        torch.Tensor
            Shape ``(*batch, *A.in_shape)``.
        """
        return torch.zeros(*self.batch_shape, *self.A.in_shape, dtype=self.dtype,
                           device=self.y.device)

    def transform(self, x: torch.Tensor, check: bool = True) -> torch.Tensor:
        """W x (x itself without W).

        Parameters
        ----------
        x : torch.Tensor
            An image.
        check : bool
            Check the input (see :meth:`LinearOperator.forward`); False in solver loops.

        Returns
        -------
        torch.Tensor
            The coefficients.
        """
        return self.W(x, check=check) if self.W is not None else x

    def transform_adjoint(self, v: torch.Tensor, check: bool = True) -> torch.Tensor:
        """W* v (v itself without W).

        Parameters
        ----------
        v : torch.Tensor
            Coefficients.
        check : bool
            Check the input (see :meth:`LinearOperator.forward`); False in solver loops.

        Returns
        -------
        torch.Tensor
            The image.
        """
        return self.W.adjoint(v, check=check) if self.W is not None else v

    def lam_weights(self, like: torch.Tensor) -> torch.Tensor | float:
        """λ w, for the l1 term's prox and the dual constraint.

        Parameters
        ----------
        like : torch.Tensor
            Coefficients whose device and precision the weights take.

        Returns
        -------
        torch.Tensor or float
            λ w broadcastable to the coefficients, or the scalar λ without weights.
        """
        if self.weights is None:
            return self.lam
        return self.lam * self.weights.to(device=like.device, dtype=like.real.dtype)

    # -- objective -----------------------------------------------------------------------
    def l1(self, coef: torch.Tensor) -> torch.Tensor:
        r""":math:`\lambda \|c\|_{w,1}` per batch element.

        Parameters
        ----------
        coef : torch.Tensor
            Coefficients W x.

        Returns
        -------
        torch.Tensor
            One value per batch element.
        """
        mag = coef.abs()
        if self.weights is not None:
            mag = mag * self.weights.to(device=mag.device, dtype=mag.dtype)
        return self.lam * mag.sum(dim=tuple(range(-len(self.coef_shape), 0)))

    @fill(_AX_DOCS)
    def residual_norm(self, ax: torch.Tensor) -> torch.Tensor:
        r""":math:`\|Ax - y\|_2` per batch element.

        {{per_sample}}
        """
        return sample_norm(ax - self.y, len(self.A.out_shape))

    def objective(self, ax: torch.Tensor, wx: torch.Tensor) -> torch.Tensor:
        r"""P(x) from A x and W x. For QCBP the constraint is reported separately
        (:meth:`infeasibility`), so this is :math:`\|Wx\|_{w,1}` alone.

        Parameters
        ----------
        ax, wx : torch.Tensor
            A x and W x.

        Returns
        -------
        torch.Tensor
            One value per batch element.
        """
        return self.data.value(self.residual_norm(ax)) + self.l1(wx)

    @fill(_AX_DOCS)
    def infeasibility(self, ax: torch.Tensor) -> torch.Tensor:
        r""":math:`\max(0, \|Ax - y\| - \eta)` for QCBP; zeros otherwise.

        {{per_sample}}
        """
        return self.data.infeasibility(self.residual_norm(ax))

    @cached_property
    def objective_scale(self) -> torch.Tensor:
        """A natural size of the objective, P(0) (QCBP: ||W A* y||_{w,1}), per batch element.

        Relative gaps are taken against max(|P|, |D|, 1e-8 * this), so that a problem whose
        optimum is 0 (exact data, unpenalised support) still gets a meaningful tolerance.
        Computed once per problem: it is used at every certificate check.
        """
        if self.data.constrained:
            return self.l1(self.transform(self.A.H(self.y).to(self.dtype)))
        return self.data.value(sample_norm(self.y, len(self.A.out_shape)))

    # -- dual ----------------------------------------------------------------------------
    def dual_value(self, p: torch.Tensor, atp: torch.Tensor,
                   watp: torch.Tensor | None = None) -> torch.Tensor:
        """Best certified lower bound D(s p) over s ≥ 0, given p and A* p.

        Only valid when :attr:`unitary_w`; see the module docstring.

        Parameters
        ----------
        p : torch.Tensor
            A dual candidate in measurement space.
        atp : torch.Tensor
            A* p.
        watp : torch.Tensor, optional
            W A* p, when the caller has it (saves one transform).

        Returns
        -------
        torch.Tensor
            D(s p) ≤ min P per batch element.
        """
        q = -(self.transform(atp) if watp is None else watp)
        lw = self.lam_weights(q)
        dims_q = tuple(range(-len(self.coef_shape), 0))
        ratio = q.abs() / lw if isinstance(lw, float) else torch.where(
            lw > 0, q.abs() / lw.clamp_min(1e-300), torch.where(q.abs() > 0, torch.inf, 0.0)
        )
        worst = ratio.amax(dim=dims_q)
        s_max = torch.where(worst > 0, 1.0 / worst, torch.full_like(worst, torch.inf))
        n = len(self.A.out_shape)
        pn = sample_norm(p, n)
        py = inner(p, self.y, n)  # Re <p, y>
        return self.data.dual_bound(s_max, pn, py)

    def dual_from_residual(self, ax: torch.Tensor) -> torch.Tensor:
        """The dual direction suggested by x: ∇h at the residual (up to scale).

        Parameters
        ----------
        ax : torch.Tensor
            A x at the current iterate.

        Returns
        -------
        torch.Tensor
            A dual candidate p in measurement space, for :meth:`dual_value`.
        """
        return self.data.dual_direction(ax - self.y)
