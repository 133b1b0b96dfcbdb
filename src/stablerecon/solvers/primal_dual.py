r"""Restarted primal-dual hybrid gradient (Chambolle–Pock) for (P1)–(P3), in two forms.

**W unitary or absent** (wavelets, the identity: every problem with a certificate). The
unknown is :math:`z = Wx`, so :math:`\|Wx\|_{w,1} = \|z\|_{w,1}` has an exact prox
(soft-thresholding) and only the data term is dualised, with :math:`K = AW^*`:

.. math::
   z^+ &= \mathrm{soft}\big(z - \tau\, W A^* p,\ \tau\lambda w\big) \\
   p^+ &= \mathrm{prox}_{\sigma h^*}\big(p + \sigma (A W^*(2z^+ - z) - y)\big)

with :math:`\tau\sigma\|A\|^2 < 1` (:math:`\|K\| = \|A\|`). Against dualising W as well
(the general form below) this keeps one dual variable instead of two, halves the vector
work, and takes steps :math:`\sqrt 2` larger; measured on 64²–256² MRI (five sampling
patterns, Shepp–Logan and brain, SR-/U-LASSO, QCBP) it needs 1.7–2.1× fewer iterations
(``benchmarks/pdhg_patterns.py``, ``benchmarks/solvers.py``).

**W not unitary** (the gradient, for TV). Saddle-point form with :math:`K = [A; W]`:

.. math:: \min_x \max_{p, q}\ \mathrm{Re}\langle p, Ax\rangle + \mathrm{Re}\langle q, Wx\rangle
          - h^*(p) - \mathrm{Re}\langle p, y\rangle - \iota(|q_i| \le \lambda w_i).

One iteration (all batched, four operator applications: A, W, A*, W*):

.. math::
   x^+ &= x - \tau (A^* p + W^* q) \\
   p^+ &= \mathrm{prox}_{\sigma h^*}\big(p + \sigma (A(2x^+ - x) - y)\big), \quad
   q^+ = \Pi_{|q_i| \le \lambda w_i}\big(q + \sigma W(2x^+ - x)\big)

with :math:`\tau\sigma\|K\|^2 < 1`, :math:`\|K\|^2 \le \|A\|^2 + \|W\|^2`.

**Restarts** (the linear rate under sharpness). Every ``check_every`` iterations the
certified duality gap (see :mod:`stablerecon.solvers.problem`) of the current iterate and
of the running (ergodic) average are computed. The method restarts from the better of the
two when its gap has fallen by a factor 5 since the last restart, or by a factor 1.25
while no longer improving, or when the inner run is over 36% of all iterations (the
adaptive rules of Applegate et al., "Faster first-order primal-dual methods for linear
programming using restarts and sharpness", 2023, applied to the true gap). No sharpness
constant is needed. At each restart the primal weight :math:`\omega` (:math:`\tau =
0.99/(\omega\|K\|)`, :math:`\sigma = 0.99\,\omega/\|K\|`) is moved halfway (in log scale)
towards the observed ratio of dual to primal movement. This is the restart-and-rescale
idea of WARPd (Colbrook, 2022) with the schedule found adaptively instead of from the
constants of the robust null space property.

**Single precision first** (float64 data, restarted, certified, ``tol`` < 1e-4, images
of at least 64² unknowns). The iterations run in float32 (complex64) until their
certified gap reaches :data:`SINGLE_PRECISION_TOL`, then go on in float64 from that state
(x, the dual p and the primal weight ω) to ``tol``, certified in float64. The warm start
carries the progress over: the total iteration count stays that of a float64 run (within
5%), and on the CPU a single-precision iteration costs about half; measured 1.25–1.4×
less time to a certified 1e-6 at 256² (SR-/U-LASSO, two images), 1.06–1.28× at 64² and
128² (QCBP too). Float32 certifies down to about 1e-5 (switching at 1e-5 stalled the
float32 phase on one of the four 256² cases, 7.5× slower), so the switch is made a
decade above.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import torch

from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import real_dtype, sample_norm
from stablerecon.prox import project_box, soft_threshold
from stablerecon.solvers.problem import RUN_DOCS, Problem
from stablerecon.solvers.result import Certificate, SolverResult

#: the certified gap at which a float64 solve leaves its float32 iterations (see above)
SINGLE_PRECISION_TOL = 1e-4
#: unknowns per sample from which the float32 start is used: measured 1.06-1.4x faster from
#: 64² up; on a 128-unknown matrix problem it cost 15% more iterations and saved nothing
SINGLE_PRECISION_MIN_SIZE = 64 * 64


def prox_data_conjugate(problem: Problem, p: torch.Tensor, k_bar: torch.Tensor,
                        sigma: float) -> torch.Tensor:
    """prox of σ(h*(·) + Re<·, y>) at p + σ K x̄: the dual update for the data term."""
    u = torch.add(p, k_bar, alpha=sigma).sub_(problem.y, alpha=sigma)
    return problem.data.prox_conjugate(u, sigma, len(problem.A.out_shape))


def relative_scale(problem: Problem, primal: torch.Tensor, dual: torch.Tensor) -> torch.Tensor:
    """max(|P|, |D|, 1e-8 P(0)): what a relative gap is relative to."""
    floor = 1e-8 * problem.objective_scale.to(primal.dtype)
    return torch.maximum(torch.maximum(primal.abs(), dual.abs()), floor).clamp_min(1e-300)


def certify(problem: Problem, ax, wx, p, atp, watp=None) -> Certificate:
    """Duality-gap certificate from A x, W x and a dual candidate p with A* p (and W A* p,
    when the caller has it)."""
    primal = problem.objective(ax, wx)
    dual = problem.dual_value(p, atp, watp)
    gap = primal - dual
    scale = relative_scale(problem, primal, dual)
    infeas = problem.infeasibility(ax)
    return Certificate(
        type="duality_gap",
        primal=primal,
        dual=dual,
        gap=gap,
        relative_gap=gap / scale,
        infeasibility=infeas,
        bounds="P(x) - min P <= gap" + (" (once infeasibility is 0)" if problem.data.constrained
                                        else ""),
    )


def certificate_met(cert: Certificate, problem: Problem, tol: float) -> bool:
    ok = bool((cert.relative_gap <= tol).all()) if cert.relative_gap is not None else bool(
        (cert.residual <= tol).all()
    )
    if problem.data.constrained and cert.infeasibility is not None:
        ynorm = sample_norm(problem.y, len(problem.A.out_shape))
        ok = ok and bool((cert.infeasibility <= tol * ynorm.clamp_min(1e-30)).all())
    return ok


def _merit(cert: Certificate, p: torch.Tensor, problem: Problem) -> float:
    """One number to compare candidates and decide restarts (smaller is better)."""
    if cert.type != "duality_gap":
        return float(cert.residual.max())
    value = cert.gap.clamp_min(0.0)
    if problem.data.constrained:
        value = value + cert.infeasibility * sample_norm(p, len(problem.A.out_shape)).clamp_min(1)
    return float(value.sum())


def diverged_certificate(problem: Problem, ax: torch.Tensor, wx: torch.Tensor) -> Certificate:
    """What is left to say when the iteration diverged: the last finite objective."""
    return Certificate(type="none", primal=problem.objective(ax, wx),
                       bounds="nothing: the iteration diverged; x is the last finite iterate")


def warn_unconverged(result: SolverResult) -> None:
    cert = result.certificate.summary()
    if cert["relative_gap"] is not None:
        what = f"relative gap {cert['relative_gap']:.2e}"
    elif cert["residual"] is not None:
        what = f"residual {cert['residual']:.2e}"
    else:
        what = "no certificate"
    warnings.warn(
        f"{result.problem} ({result.method}) stopped without reaching tol={result.tol:g}: "
        f"{result.status} after {result.iterations} iterations, {what}"
        + (f", infeasibility {cert['infeasibility']:.2e}" if cert["infeasibility"] else "")
        + ". Raise max_iter or time_limit, or loosen tol.",
        RuntimeWarning,
        stacklevel=3,
    )


@fill(RUN_DOCS)
def primal_dual(
    problem: Problem,
    tol: float = 1e-6,
    max_iter: int = 10_000,
    time_limit: float | None = None,
    restart: bool = True,
    check_every: int = 10,
    x0: torch.Tensor | None = None,
    history: bool = False,
    primal_weight: float = 1.0,
    single_precision_start: bool = True,
    p0: torch.Tensor | None = None,
) -> SolverResult:
    """Solve ``problem`` by (restarted) PDHG; see the module docstring for the method.

    {{run}}
    restart : bool
        Restart on the certified gap (only with a unitary W or none).
    {{start}}
    primal_weight : float
        Initial ω (τ = 0.99/(ω||K||), σ = 0.99 ω/||K||); restarts adapt it.
    single_precision_start : bool
        With float64 data, a restarted certified run and ``tol`` below
        :data:`SINGLE_PRECISION_TOL`: iterate in float32 first (module docstring). The
        result is float64 and certified in float64 either way; a warm start (``p0``)
        iterates in the data's precision from the start.
    p0 : torch.Tensor, optional
        Starting dual variable (measurement space), with ``x0`` and ``primal_weight`` the
        state of an earlier solve (``result.dual``, ``result.primal_weight``) to continue
        from; ``x0`` and ``p0`` of batch 1 serve every sample of a batch.

    {{returns}}
    """
    x0, p0 = _batch_start(problem, x0, p0)
    real = real_dtype(problem.y.dtype)
    if not (single_precision_start and restart and problem.unitary_w and p0 is None
            and real == torch.float64 and tol < SINGLE_PRECISION_TOL
            and math.prod(problem.A.in_shape) >= SINGLE_PRECISION_MIN_SIZE):
        result = _run(problem, tol, max_iter, time_limit, restart, check_every, x0, history,
                      primal_weight, p0)
    else:
        result = _single_then_double(problem, tol, max_iter, time_limit, check_every, x0,
                                     history, primal_weight)
    if not result.converged:
        warn_unconverged(result)
    return result


def _single_then_double(problem: Problem, tol: float, max_iter: int,
                        time_limit: float | None, check_every: int,
                        x0: torch.Tensor | None, history: bool,
                        primal_weight: float) -> SolverResult:
    """Restarted PDHG in float32 to SINGLE_PRECISION_TOL (at most a quarter of max_iter),
    then in float64 from its x, p and ω to ``tol``; one result for both phases."""
    low = dataclasses.replace(
        problem, y=problem.y.to(torch.complex64 if problem.y.is_complex() else torch.float32),
        weights=None if problem.weights is None else problem.weights.float())
    first = _run(low, SINGLE_PRECISION_TOL, max(1, max_iter // 4), time_limit, True,
                 check_every, None if x0 is None else x0.to(low.dtype), history, primal_weight)
    if first.status.startswith("diverged"):  # float32 overflowed: start over in float64
        first = None
    done_its = first.iterations if first else 0
    done_s = first.time_s if first else 0.0
    if time_limit is not None and done_s >= time_limit:
        time_limit = 0.0  # the second phase checks once and reports the time limit
    elif time_limit is not None:
        time_limit -= done_s
    x_start = first.x.to(problem.dtype) if first else x0
    second = _run(problem, tol, max(1, max_iter - done_its), time_limit, True, check_every,
                  x_start, history, first.primal_weight if first else primal_weight,
                  p0=first.dual.to(problem.y.dtype) if first else None)
    if first is None:
        return second
    for record in second.history:
        record["iteration"] += done_its
        record["time_s"] += done_s
    return dataclasses.replace(
        second, iterations=done_its + second.iterations, time_s=done_s + second.time_s,
        restarts=first.restarts + second.restarts, history=first.history + second.history,
        method=f"{second.method} (float32 to {SINGLE_PRECISION_TOL:g}, then float64)")


def _batch_start(problem: Problem, x0: torch.Tensor | None, p0: torch.Tensor | None
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """x0 and p0 checked against the problem and broadcast to y's batch (a batch-1 start
    serves every sample)."""
    batch = problem.batch_shape
    out = []
    for name, value, shape in (("x0", x0, problem.A.in_shape), ("p0", p0, problem.A.out_shape)):
        if value is None:
            out.append(None)
            continue
        if not isinstance(value, torch.Tensor) or tuple(value.shape[value.ndim - len(shape):]
                                                        ) != tuple(shape):
            raise StableReconError(
                f"{name} must be a tensor of shape (*batch, {', '.join(map(str, shape))}), "
                f"got {tuple(value.shape) if isinstance(value, torch.Tensor) else value!r}; "
                f"pass the {'x' if name == 'x0' else 'dual'} of an earlier solve of the same "
                "operator.")
        try:
            out.append(value.to(problem.y.device).expand(*batch, *shape))
        except RuntimeError as exc:
            raise StableReconError(
                f"{name} has batch shape {tuple(value.shape[:value.ndim - len(shape)])}, "
                f"which does not broadcast to y's {tuple(batch)}; give one start per sample "
                "or one for all.") from exc
    return out[0], out[1]


def _run(problem: Problem, tol: float, max_iter: int, time_limit: float | None,
         restart: bool, check_every: int, x0: torch.Tensor | None, history: bool,
         primal_weight: float, p0: torch.Tensor | None = None) -> SolverResult:
    """One PDHG run in the problem's precision (no warning); the result carries the dual
    variable p of the state returned and the final primal weight ω (to continue from)."""
    start = time.perf_counter()
    A, W = problem.A, problem.W
    certified = problem.unitary_w
    use_restarts = restart and certified
    method = "restarted_pdhg" if use_restarts else "pdhg"
    if restart and not certified:
        method = "pdhg (no restarts: W is not unitary, so no gap to restart on)"
    # with W unitary the primal variable is z = W x and the l1 prox is exact (K = A W*);
    # otherwise x, with the l1 term dualised (K = [A; W])
    coef = certified
    norm_k = (A.norm() if coef else
              math.sqrt(A.norm() ** 2 + (W.norm() if W is not None else 1.0) ** 2)) * 1.01
    omega = float(primal_weight)

    def steps(w: float) -> tuple[float, float]:
        return 0.99 / (norm_k * w), 0.99 * w / norm_k

    def image(v: torch.Tensor) -> torch.Tensor:
        return problem.transform_adjoint(v, check=False) if coef else v

    def coefficients(state: dict) -> torch.Tensor:
        return state["x"] if coef else state["wx"]

    tau, sigma = steps(omega)
    x = problem.zeros() if x0 is None else x0.to(problem.dtype).clone()
    if coef:
        x = problem.transform(x)  # checked: x0 comes from the caller
    ax = A(image(x))
    p = torch.zeros_like(ax) if p0 is None else p0.to(ax.dtype).clone()
    atp = A.H(p).to(x.dtype)
    lw = problem.lam_weights(x if coef else problem.transform(x))
    current = {"x": x, "ax": ax, "p": p, "atp": atp}
    if coef:  # K* p = W A* p
        current["ktp"] = problem.transform(atp)
    else:
        current.update(wx=problem.transform(x), q=torch.zeros_like(lw * problem.transform(x)))
        current["wtq"] = problem.transform_adjoint(current["q"]).to(x.dtype)
    names = tuple(current)

    sums = {k: None for k in names}
    count = 0
    anchor = {k: current[k] for k in ("x", "p", "q") if k in current}
    anchor_merit = math.inf
    prev_merit = math.inf
    restarts = 0
    inner_start = 0
    records: list[dict[str, float]] = []
    status = "max_iter reached"
    best = None
    it = 0
    # Inside the loop nothing reads a value back from the device (a GPU runs ahead of
    # Python) until a check: the operators skip their input checks, and a NaN or Inf is
    # looked for once per check; the state of the previous check is then returned.
    checked = current
    for it in range(1, max_iter + 1):
        x = current["x"]
        # one pass per update where torch has one (add with alpha, in-place on new tensors)
        if coef:
            x_new = soft_threshold(torch.add(x, current["ktp"], alpha=-tau), tau * lw)
        else:
            x_new = torch.add(x, current["atp"] + current["wtq"], alpha=-tau)
        x_bar = x_new.mul(2.0).sub_(x)
        ax_bar = A(image(x_bar), check=False)
        p = prox_data_conjugate(problem, current["p"], ax_bar, sigma)
        atp = A.adjoint(p, check=False).to(x.dtype)
        new = {"x": x_new, "ax": torch.add(ax_bar, current["ax"]).mul_(0.5), "p": p,
               "atp": atp}
        if coef:
            new["ktp"] = problem.transform(atp, check=False)
        else:
            wx_bar = problem.transform(x_bar, check=False)
            q = project_box(current["q"] + sigma * wx_bar, lw)
            new.update(wx=torch.add(wx_bar, current["wx"]).mul_(0.5), q=q,
                       wtq=problem.transform_adjoint(q, check=False).to(x.dtype))
        x_prev, current = x, new
        for k in names:
            sums[k] = current[k].clone() if sums[k] is None else sums[k].add_(current[k])
        count += 1

        out_of_time = time_limit is not None and time.perf_counter() - start > time_limit
        if it % check_every and it != max_iter and not out_of_time:
            continue
        if not bool(torch.isfinite(x_new.sum() + current["atp"].sum())):  # x, and A* p
            status = "diverged (NaN or Inf in the iterate)"
            best = (diverged_certificate(problem, checked["ax"], coefficients(checked)), checked)
            break
        checked = current
        if certified:
            average = {k: v / count for k, v in sums.items()}
            candidates = []
            for state in (current, average):
                cert = certify(problem, state["ax"], coefficients(state), state["p"],
                               state["atp"], state.get("ktp"))
                candidates.append((_merit(cert, state["p"], problem), cert, state))
            merit, cert, state = min(candidates, key=lambda c: c[0])
        else:
            n = len(A.in_shape)
            x = current["x"]
            dx = sample_norm(x - x_prev, n) / sample_norm(x, n).clamp_min(1e-30)
            cert = Certificate(
                type="fixed_point_residual",
                primal=problem.objective(current["ax"], current["wx"]),
                residual=dx,
                infeasibility=problem.infeasibility(current["ax"]),
                bounds="nothing: relative change of x per iteration (W is not unitary)",
            )
            merit, state = _merit(cert, current["p"], problem), current
        best = (cert, state)
        if history:
            records.append({"iteration": it, "time_s": time.perf_counter() - start,
                            "merit": merit, **{k: v for k, v in cert.summary().items()
                                               if isinstance(v, float)}})
        if not math.isfinite(merit):
            status = "diverged (non-finite objective or gap)"
            break
        if certificate_met(cert, problem, tol):
            status = "converged"
            break
        if out_of_time:
            status = f"time_limit of {time_limit:g} s reached"
            break
        if use_restarts:
            inner = it - inner_start
            do_restart = (
                merit <= 0.2 * anchor_merit
                or (merit <= 0.8 * anchor_merit and merit > prev_merit)
                or inner >= 0.36 * it
            )
            prev_merit = merit
            if do_restart:
                dx = float(sample_norm(state["x"] - anchor["x"], state["x"].ndim))
                dd = math.hypot(*(float(sample_norm(state[k] - anchor[k], state[k].ndim))
                                  for k in anchor if k != "x"))
                if dx > 0 and dd > 0:
                    omega = math.exp(0.5 * math.log(dd / dx) + 0.5 * math.log(omega))
                    tau, sigma = steps(omega)
                current = dict(state)
                anchor = {k: state[k] for k in anchor}
                anchor_merit, prev_merit = merit, math.inf
                sums = {k: None for k in names}
                count, inner_start = 0, it
                restarts += 1
    cert, state = best
    x_out = image(state["x"])
    if cert.type == "duality_gap":
        # a second dual candidate from the residual of x often certifies much more
        p_r = problem.dual_from_residual(state["ax"])
        cert_r = certify(problem, state["ax"], coefficients(state), p_r,
                         A.H(p_r).to(x_out.dtype))
        cert.dual = torch.maximum(cert.dual, cert_r.dual)
        cert.gap = cert.primal - cert.dual
        cert.relative_gap = cert.gap / relative_scale(problem, cert.primal, cert.dual)
        if status != "converged" and certificate_met(cert, problem, tol):
            status = "converged"
    result = SolverResult(
        x=x_out,
        converged=status == "converged",
        iterations=it,
        objective=cert.primal,
        certificate=cert,
        method=method,
        problem=problem.name,
        tol=tol,
        time_s=time.perf_counter() - start,
        status=status,
        restarts=restarts,
        history=records,
        dual=state["p"],
        primal_weight=omega,
    )
    return result
