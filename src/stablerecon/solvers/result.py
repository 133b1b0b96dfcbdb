"""What every solver returns: the iterate, whether it met the tolerance, and the proof."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Certificate:
    """Evidence of how far ``x`` is from optimal, per batch element.

    type ``"duality_gap"``: ``gap = primal - dual >= P(x) - min P`` (a proven bound on
    the objective error; for QCBP it holds once ``infeasibility`` is 0).
    type ``"fixed_point_residual"``: the primal-dual fixed-point residual, which tends to 0
    at a solution but bounds nothing (used where W is not unitary).
    type ``"none"``: the iteration diverged; only the objective of the last iterate is kept.

    Attributes
    ----------
    type : str
        ``"duality_gap"``, ``"fixed_point_residual"`` or ``"none"``.
    primal : torch.Tensor
        P(x) per batch element.
    dual : torch.Tensor or None
        The dual bound D(p) ≤ min P.
    gap, relative_gap : torch.Tensor or None
        P(x) - D(p), and that over max(|P(x)|, tiny).
    infeasibility : torch.Tensor or None
        QCBP: max(||Ax - y|| - η, 0) relative to ||y||.
    residual : torch.Tensor or None
        The fixed-point residual (type ``"fixed_point_residual"``).
    bounds : str
        What the certificate proves, in words.
    """

    type: str
    primal: torch.Tensor
    dual: torch.Tensor | None = None
    gap: torch.Tensor | None = None
    relative_gap: torch.Tensor | None = None
    infeasibility: torch.Tensor | None = None
    residual: torch.Tensor | None = None
    bounds: str = ""

    def summary(self) -> dict[str, Any]:
        """Plain numbers for JSON and printing (max over the batch; the dual: min).

        Returns
        -------
        dict
            type, primal, dual, gap, relative_gap, infeasibility, residual, bounds.
        """

        def worst(t: torch.Tensor | None) -> float | None:
            return None if t is None else float(t.detach().max())

        return {
            "type": self.type,
            "primal": worst(self.primal),
            "dual": None if self.dual is None else float(self.dual.detach().min()),
            "gap": worst(self.gap),
            "relative_gap": worst(self.relative_gap),
            "infeasibility": worst(self.infeasibility),
            "residual": worst(self.residual),
            "bounds": self.bounds,
        }


@dataclass
class SolverState:
    """Where a PDHG solve ended: enough to continue from it on nearby data (the same A, y
    plus a small change) with ``x0=state.x, p0=state.dual,
    primal_weight=state.primal_weight``.

    Attributes
    ----------
    x : torch.Tensor
        The iterate.
    dual : torch.Tensor
        The dual variable p (measurement space).
    primal_weight : float
        The primal weight ω reached by the restarts.
    """

    x: torch.Tensor
    dual: torch.Tensor
    primal_weight: float


@dataclass
class SolverResult:
    """A solver's output. ``converged`` is True only when the certificate meets ``tol``.

    Attributes
    ----------
    x : torch.Tensor
        The last iterate (the solution when ``converged``).
    converged : bool
        Whether the certificate met ``tol`` for every batch element.
    iterations, restarts : int
        Iterations run, and restarts taken (restarted PDHG).
    objective : torch.Tensor
        P(x) per batch element.
    certificate : Certificate
        The evidence of optimality.
    method, problem : str
        The algorithm and the problem's name.
    tol, time_s : float
        The tolerance asked for, and the wall time.
    status : str
        What ended the run, in words: ``"converged"``, ``"max_iter reached"``, a time
        limit, or ``"diverged (...)"``.
    history : list of dict
        Per check: iteration, time, primal, dual, gap (with ``history=True``).
    dual, primal_weight : torch.Tensor or None, float or None
        PDHG's final dual variable p (measurement space) and primal weight ω. A nearby
        solve (the same A, y plus a small change) starts from this one's state with
        ``x0=res.x, p0=res.dual, primal_weight=res.primal_weight``
        (``benchmarks/warm_start.py``: 5-28% fewer iterations; x0 alone saves nothing).
    """

    x: torch.Tensor
    converged: bool
    iterations: int
    objective: torch.Tensor
    certificate: Certificate
    method: str
    problem: str
    tol: float
    time_s: float
    status: str
    restarts: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    dual: torch.Tensor | None = None
    primal_weight: float | None = None

    @property
    def state(self) -> SolverState | None:
        """The :class:`SolverState` to continue from (None for methods without one)."""
        if self.dual is None or self.primal_weight is None:
            return None
        return SolverState(self.x, self.dual, self.primal_weight)

    def summary(self) -> dict[str, Any]:
        """Plain numbers for JSON and printing (max over the batch).

        Returns
        -------
        dict
            problem, method, converged, status, iterations, restarts, time, tol, objective
            and the certificate's summary.
        """
        return {
            "problem": self.problem,
            "method": self.method,
            "converged": self.converged,
            "status": self.status,
            "iterations": self.iterations,
            "restarts": self.restarts,
            "time_s": self.time_s,
            "tol": self.tol,
            "objective": float(self.objective.detach().max()),
            "certificate": self.certificate.summary(),
        }
