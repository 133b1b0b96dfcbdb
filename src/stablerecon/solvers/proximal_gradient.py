r"""ISTA and FISTA for (P2) U-LASSO with a unitary (or absent) W: the reference methods.

With z = W x (W unitary, so x = W* z and ||Wx||_1 = ||z||_1), (P2) becomes
:math:`\min_z \lambda\|z\|_{w,1} + \|A W^* z - y\|^2`, whose smooth part has gradient
:math:`2 W A^*(A W^* z - y)` with Lipschitz constant :math:`L = 2\|A\|^2`. ISTA
(Daubechies, Defrise & De Mol, 2004) steps :math:`z^+ = S_{\lambda w/L}(z - \nabla/L)`;
FISTA (Beck & Teboulle, 2009) adds momentum, here with the gradient-based adaptive
restart of O'Donoghue & Candès (2015). Both are certified by the same duality gap as the
primal-dual method, from the dual point :math:`p = 2(Ax - y)`.
"""

from __future__ import annotations

import math
import time

import torch

from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import inner
from stablerecon.prox import soft_threshold
from stablerecon.solvers.data_terms import ULasso
from stablerecon.solvers.primal_dual import (
    certificate_met,
    certify,
    diverged_certificate,
    warn_unconverged,
)
from stablerecon.solvers.problem import RUN_DOCS, Problem
from stablerecon.solvers.result import SolverResult


@fill(RUN_DOCS)
def proximal_gradient(
    problem: Problem,
    tol: float = 1e-6,
    max_iter: int = 10_000,
    time_limit: float | None = None,
    accelerated: bool = True,
    check_every: int = 10,
    x0: torch.Tensor | None = None,
    history: bool = False,
) -> SolverResult:
    r"""FISTA (``accelerated=True``, with adaptive restart) or ISTA for U-LASSO.

    With W unitary, :math:`z = Wx` turns (P2) into :math:`\min_z \lambda\|z\|_{w,1} +
    \|AW^*z - y\|^2`; each step is :math:`z^+ = \mathrm{soft}(z - 2t\,WA^*(AW^*z - y),
    t\lambda w)` with :math:`t = 1/(2\|A\|^2)`.

    {{run}}
    accelerated : bool
        FISTA (True) or ISTA.
    {{start}}

    {{returns}}
    """
    if not isinstance(problem.data, ULasso) or not problem.unitary_w:
        raise StableReconError(
            "FISTA/ISTA solve U-LASSO with a unitary W (wavelets) or none; for "
            f"{problem.name} or a non-unitary W use method='restarted_pdhg'."
        )
    start = time.perf_counter()
    A = problem.A
    step = 1.0 / (2.0 * A.norm() ** 2 * 1.01)
    x = problem.zeros() if x0 is None else x0.to(problem.dtype)
    z = problem.transform(x)
    thresh = problem.lam_weights(z) * step
    v, t = z, 1.0
    restarts, records, status, it = 0, [], "max_iter reached", 0
    cert = None
    dims = len(problem.coef_shape)
    for it in range(1, max_iter + 1):
        xv = problem.transform_adjoint(v, check=False)  # iterates: checked by the NaN test
        residual = A(xv, check=False) - problem.y
        grad = problem.transform(2.0 * A.adjoint(residual, check=False).to(xv.dtype),
                                 check=False)
        z_new = soft_threshold(v - step * grad, thresh)
        if not bool(torch.isfinite(z_new.sum())):  # stop before the operators see NaN
            status = "diverged (NaN or Inf in the iterate)"
            x = problem.transform_adjoint(z)
            cert = diverged_certificate(problem, A(x), z)
            break
        if accelerated:
            if float(inner(v - z_new, z_new - z, dims).sum()) > 0:  # momentum hurts: reset
                t = 1.0
                restarts += 1
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            v = z_new + ((t - 1.0) / t_new) * (z_new - z)
            t = t_new
        else:
            v = z_new
        z = z_new
        out_of_time = time_limit is not None and time.perf_counter() - start > time_limit
        if it % check_every and it != max_iter and not out_of_time:
            continue
        x = problem.transform_adjoint(z)
        ax = A(x)
        p = problem.dual_from_residual(ax)
        cert = certify(problem, ax, z, p, A.H(p).to(x.dtype))
        if history:
            records.append({"iteration": it, "time_s": time.perf_counter() - start,
                            **{k: v for k, v in cert.summary().items() if isinstance(v, float)}})
        if certificate_met(cert, problem, tol):
            status = "converged"
            break
        if out_of_time:
            status = f"time_limit of {time_limit:g} s reached"
            break
    result = SolverResult(
        x=problem.transform_adjoint(z), converged=status == "converged", iterations=it,
        objective=cert.primal, certificate=cert,
        method="fista" if accelerated else "ista", problem=problem.name, tol=tol,
        time_s=time.perf_counter() - start, status=status, restarts=restarts, history=records,
    )
    if not result.converged:
        warn_unconverged(result)
    return result
