r"""Table A of the lecture: an ill-conditioned lasso that standard float64 solvers get wrong.

The problem (m = 3, N = 2, λ = 1/10) is

.. math:: \min_x \tfrac1m \|A_\delta D_\delta x - y\|_2^2 + \lambda \|x\|_1, \qquad
          A_\delta = \begin{pmatrix} 1/\sqrt2 - \delta & 1/\sqrt2 \\ -1/\sqrt2 - \delta &
          -1/\sqrt2 \\ 2\delta & 0 \end{pmatrix}, \quad y = (1/\sqrt2, -1/\sqrt2, 0)^T,

with :math:`D_\delta` the diagonal scaling that gives the columns of :math:`B = A_\delta
D_\delta` norm √m. As δ → 0 the two columns become parallel, the minimiser moves and float64
solvers return wrong answers, often without warning.

* :func:`exact_minimiser`: the minimiser in high-precision arithmetic (mpmath), by enumerating
  the support and signs of a 2-variable lasso and keeping the candidate that meets the KKT
  conditions (f is strictly convex for δ > 0, so exactly one does).
* :func:`certified_lasso`: the minimiser with a **proven** error bound: the candidate's
  subgradient residual and a lower bound on the strong-convexity modulus are evaluated in
  interval arithmetic (mpmath.iv), and :math:`\|x - x^*\| \le \mathrm{dist}(0, \partial
  f(x))/\mu` for μ-strongly convex f. Precision doubles until the bound meets the requested
  digits; past ``max_digits`` it says it cannot certify, never returning an unproven answer.
* :func:`run`: every solver on every δ, as rows (delta, solver, x, error, runtime_s, warned,
  certified) for the terminal table and the CSV/JSON/Markdown files.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp_proc
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np

from stablerecon import validate

M, N, LAM = 3, 2, 0.1
DEFAULT_DELTAS = (2.0**-1, 2.0**-7, 2.0**-15, 2.0**-20, 2.0**-24, 2.0**-26, 2.0**-28, 2.0**-30)


def problem_matrix(delta, ctx=mpmath.mp):
    """B = A_δ D_δ and y in the number context ``ctx`` (mpmath.mp, mpmath.iv, or float via
    :data:`FLOAT`), as nested lists: B[i][j], y[i]."""
    delta = ctx.mpf(delta) if ctx is not FLOAT else float(delta)
    r = 1 / ctx.sqrt(2)
    a = [[r - delta, r], [-r - delta, -r], [2 * delta, 0 * delta]]
    col_norms = [ctx.sqrt(sum(a[i][j] ** 2 for i in range(M))) for j in range(N)]
    scale = ctx.sqrt(M)
    b = [[a[i][j] * scale / col_norms[j] for j in range(N)] for i in range(M)]
    return b, [r, -r, 0 * delta]


class _Float:
    """The float64 "context" for :func:`problem_matrix` (what a float64 user builds)."""

    @staticmethod
    def sqrt(v):
        return math.sqrt(v)


FLOAT = _Float()


def _kkt_candidate(b, y, lam, ctx, support, signs):
    """x on a support with given signs from the stationarity equations; None if singular."""
    g = [[sum(b[k][i] * b[k][j] for k in range(M)) for j in range(N)] for i in range(N)]
    c = [sum(b[k][i] * y[k] for k in range(M)) for i in range(N)]
    x = [ctx.mpf(0)] * N
    if not support:
        return x
    # (2/m)(c_S - G_SS x_S) = λ s_S
    rhs = [c[i] - lam * M / 2 * s for i, s in zip(support, signs)]
    if len(support) == 1:
        i = support[0]
        if g[i][i] == 0:
            return None
        x[i] = rhs[0] / g[i][i]
    else:
        det = g[0][0] * g[1][1] - g[0][1] * g[1][0]
        if det == 0:
            return None
        x[0] = (g[1][1] * rhs[0] - g[0][1] * rhs[1]) / det
        x[1] = (g[0][0] * rhs[1] - g[1][0] * rhs[0]) / det
    return x


def subgradient_residual(b, y, x, lam, ctx=mpmath.mp):
    r"""dist(0, ∂f(x)) for f(x) = (1/m)||Bx − y||² + λ||x||₁ (an interval upper end in iv)."""
    r = [sum(b[i][j] * x[j] for j in range(N)) - y[i] for i in range(M)]
    grad = [2 * sum(b[i][j] * r[i] for i in range(M)) / M for j in range(N)]
    parts = []
    for j in range(N):
        if x[j] != 0:
            sign = 1 if x[j] > 0 else -1
            parts.append(abs(grad[j] + lam * sign))
        else:  # ∂|0| = [-1, 1]: only the excess of |grad| over λ counts
            parts.append(_positive_part(abs(grad[j]) - lam, ctx))
    return ctx.sqrt(sum(p**2 for p in parts))


def _positive_part(v, ctx):
    """max(v, 0); for an interval, [0, max(upper end, 0)] (an enclosure)."""
    if ctx is mpmath.iv:
        return mpmath.iv.mpf([0, max(v.b, 0)])
    return max(v, 0)


def strong_convexity(b, ctx=mpmath.mp):
    """μ = (2/m) λ_min(BᵀB) (for iv: an interval containing it)."""
    g = [[sum(b[k][i] * b[k][j] for k in range(M)) for j in range(N)] for i in range(N)]
    tr, diff = g[0][0] + g[1][1], g[0][0] - g[1][1]
    return 2 / ctx.mpf(M) * (tr - ctx.sqrt(diff**2 + 4 * g[0][1] ** 2)) / 2


def exact_minimiser(delta: float, digits: int = 120, lam: float = LAM) -> list:
    """The minimiser (mpmath numbers with ``digits`` digits), by support/sign enumeration."""
    with mpmath.workdps(digits):
        b, y = problem_matrix(delta)
        lam_mp = mpmath.mpf(lam)
        best = None
        for size in range(N + 1):
            for support in itertools.combinations(range(N), size):
                for signs in itertools.product((1, -1), repeat=size):
                    x = _kkt_candidate(b, y, lam_mp, mpmath.mp, list(support), signs)
                    if x is None or any(x[i] * s <= 0 for i, s in zip(support, signs)):
                        continue
                    res = subgradient_residual(b, y, x, lam_mp)
                    if best is None or res < best[0]:
                        best = (res, x)
        if best is None or best[0] > mpmath.mpf(10) ** (-digits // 2):
            raise RuntimeError(f"no KKT point found for delta={delta} at {digits} digits")
        return [+v for v in best[1]]


@dataclass
class Certified:
    """Result of :func:`certified_lasso`."""

    x: list[float] | None
    certified: bool
    error_bound: float | None
    digits_used: int
    message: str


def certified_lasso(delta: float, target_digits: int = 8, max_digits: int = 1000,
                    lam: float = LAM) -> Certified:
    r"""The minimiser to ``target_digits`` relative digits with a proof, or a refusal.

    At d digits: enumerate the KKT candidates (mpmath, d digits) and take the winner
    :math:`x_d`; the float64 answer x is :math:`x_d` rounded, and
    :math:`\|x - x^*\| \le \|x - x_d\| + \mathrm{dist}(0, \partial f(x_d))/\mu`, evaluated in
    interval arithmetic at d + 10 digits (rigorous for the exact problem: B and y are
    enclosed by intervals). Certified when the bound ≤ 10^-target_digits·||x||; else d
    doubles, from 16
    (float64-like) up to ``max_digits``.
    """
    digits = 16
    bound = None
    while digits <= max_digits:
        try:
            x_mp = exact_minimiser(delta, digits=digits, lam=lam)
        except RuntimeError:
            digits *= 2
            continue
        x = [float(v) for v in x_mp]
        saved, mpmath.iv.dps = mpmath.iv.dps, digits + 10
        try:
            b, y = problem_matrix(delta, mpmath.iv)
            x_iv = [mpmath.iv.mpf(v) for v in x_mp]
            mu = strong_convexity(b, mpmath.iv)
            res = subgradient_residual(b, y, x_iv, mpmath.iv.mpf(lam), mpmath.iv)
            rounding = mpmath.iv.sqrt(sum((mpmath.iv.mpf(a) - v) ** 2 for a, v in zip(x, x_iv)))
            if mu.a > 0:  # ||x - x*|| <= ||x - x_mp|| + dist(0, ∂f(x_mp)) / μ
                bound = float((rounding + res / mu).b)
        finally:
            mpmath.iv.dps = saved
        scale = math.hypot(*x)
        if bound is not None and bound <= 10.0 ** (-target_digits) * max(scale, 1e-300):
            return Certified(x, True, bound, digits,
                             f"||x - x*|| <= {bound:.2e} proven at {digits} digits")
        digits *= 2
    return Certified(None, False, bound, max_digits,
                     f"cannot certify {target_digits} digits within {max_digits} digits of "
                     "working precision")


# -- the float64 solvers of the table ---------------------------------------------------

def _sklearn(tol: float | None, max_iter: int | None):
    def solve(b, y):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import Lasso

        kwargs = {"alpha": LAM / 2, "fit_intercept": False}  # sklearn: (1/2m)||.||² + α||x||₁
        if tol is not None:
            kwargs["tol"] = tol
        if max_iter is not None:
            kwargs["max_iter"] = max_iter
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = Lasso(**kwargs).fit(np.asarray(b), np.asarray(y)).coef_
        warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return list(map(float, x)), warned, None
    return solve


def _ours(method: str):
    def solve(b, y):
        import torch

        from stablerecon.operators.matrix import Matrix
        from stablerecon.solvers.api import u_lasso

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = u_lasso(Matrix(torch.tensor(b, dtype=torch.float64)),
                          torch.tensor(y, dtype=torch.float64), lam=M * LAM, method=method,
                          tol=1e-12, max_iter=200_000)
        warned = any(issubclass(w.category, RuntimeWarning) for w in caught)
        return res.x.tolist(), warned, None
    return solve


CERTIFIED = "stablerecon certified"


def solvers() -> dict[str, Callable]:
    """The float64 solvers: name → solver(b, y) returning (x, warned, certified). The
    certified solver (:data:`CERTIFIED`) is not among them: it takes δ itself, exact data."""
    eps = float(np.finfo(float).eps)
    return {
        "sklearn Lasso (defaults)": _sklearn(None, None),
        "sklearn Lasso (tol=eps)": _sklearn(eps, None),
        "sklearn Lasso (tol=eps, max_iter=1e9)": _sklearn(eps, 10**9),
        "stablerecon FISTA (float64)": _ours("fista"),
        "stablerecon restarted PDHG (float64)": _ours("restarted_pdhg"),
    }


def _child(conn, name, b, y):
    try:
        start = time.perf_counter()
        x, warned, cert = solvers()[name](b, y)
        conn.send((x, warned, cert, time.perf_counter() - start))
    except Exception as err:  # reported in the row, e.g. scikit-learn not installed
        conn.send(f"{type(err).__name__}: {err}")


def _run_capped(name: str, b, y, cap: float):
    """Run a solver in a child process; None when it gives no output within ``cap`` s."""
    ctx = mp_proc.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, name, b, y), daemon=True)
    proc.start()
    ready = parent.poll(cap)
    out = parent.recv() if ready else None
    proc.kill() if not ready else proc.join()
    return out


def run(deltas: Sequence[float] = DEFAULT_DELTAS, time_cap: float = 60.0,
        progress: Callable[[str], None] | None = None,
        done: Mapping[str, list[dict]] | None = None,
        on_cell: Callable[[str, list[dict]], None] | None = None) -> list[dict]:
    """All solvers on all δ: rows with delta, solver, x, error, runtime_s, warned, certified.

    Each δ is one cell, named ``f"delta={δ!r}"``: cells in ``done`` are taken as they are
    (a resumed run), and ``on_cell(name, rows)`` is called as each new cell finishes."""
    validate.numbers_list("deltas (the lasso's δ)", deltas, low=0, high=1, high_closed=False)
    validate.number("time_cap", time_cap, low=0, hint="seconds per solver run")
    try:  # imported once here so that the timed child processes do not pay for it
        import sklearn.linear_model  # noqa: F401
    except ImportError:
        pass
    rows: list[dict] = []
    for delta in deltas:
        cell = f"delta={delta!r}"
        if done and cell in done:
            rows += done[cell]
            continue
        first = len(rows)
        x_star = exact_minimiser(delta)
        b, y = problem_matrix(delta, FLOAT)
        for name in [*solvers(), CERTIFIED]:
            if progress:
                progress(f"δ = {delta:.3g}: {name}")
            if name == CERTIFIED:
                start = time.perf_counter()
                res = certified_lasso(delta)
                out = (res.x, False, res.certified, time.perf_counter() - start)
            else:
                out = _run_capped(name, b, y, time_cap)
            row = {"delta": delta, "solver": name}
            if out is None or isinstance(out, str):
                row.update(x=None, error=None, runtime_s=None, warned=None, certified=None,
                           note=f"no output > {time_cap:g} s" if out is None else out)
            else:
                x, warned, cert, seconds = out
                err = (None if x is None else
                       float(mpmath.sqrt(sum((mpmath.mpf(a) - s) ** 2 for a, s in zip(x, x_star)))))
                row.update(x=x, error=err, runtime_s=seconds, warned=warned, certified=cert)
                if name.startswith("stablerecon") and name != CERTIFIED:
                    row["note"] = ("certifies the objective gap (1e-12 relative), which does "
                                   "not bound ||x - x*|| when the problem is ill-conditioned")
            rows.append(row)
        if on_cell:
            on_cell(cell, rows[first:])
    return rows
