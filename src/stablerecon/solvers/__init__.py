"""The standard methods Φ: certified solvers for (P1) QCBP, (P2) U-LASSO, (P3) SR-LASSO."""

from stablerecon.prox import soft_threshold
from stablerecon.solvers.api import (
    METHODS,
    PRESET_LAMBDA,
    StandardMethod,
    qcbp,
    solve,
    sr_lasso,
    standard_method,
    u_lasso,
)
from stablerecon.solvers.primal_dual import primal_dual
from stablerecon.solvers.problem import Problem
from stablerecon.solvers.proximal_gradient import proximal_gradient
from stablerecon.solvers.result import Certificate, SolverResult, SolverState

__all__ = [
    "METHODS", "PRESET_LAMBDA", "Certificate", "Problem", "SolverResult", "SolverState",
    "StandardMethod", "primal_dual", "proximal_gradient", "qcbp", "soft_threshold", "solve",
    "sr_lasso", "standard_method", "u_lasso",
]
