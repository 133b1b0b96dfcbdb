"""The peers a user would otherwise pick, set up on exactly our MRI problem.

Each runner takes the problem as numpy data (image shape, flat sampled indices in unshifted
FFT order, samples y, λ) and returns a trace: a list of ``(seconds, x)`` every ``every``
iterations, so that the caller evaluates the objective afterwards, outside the timed loop.
The forward map is ``P_Ω F`` with ``F`` the orthonormal unshifted 2-D FFT (as
:class:`stablerecon.operators.SubsampledFourier`) and W the periodized db4 wavelet with 4
levels (PyWavelets, the same transform as ours), so the objectives are identical to ours.

Benchmark-only dependencies (the ``bench`` extra): sigpy, pyproximal, pylops, cvxpy.
"""

from __future__ import annotations

import time

import numpy as np
import pywt

Trace = list[tuple[float, np.ndarray]]


def _run(step, x_of, max_iter: int, time_cap: float, every: int) -> Trace:
    """Drive ``step()`` until ``max_iter`` or ``time_cap``; snapshot ``x_of()`` every ``every``."""
    trace: Trace = []
    start = time.perf_counter()
    elapsed = 0.0
    for it in range(1, max_iter + 1):
        step()
        if it % every == 0:
            elapsed = time.perf_counter() - start
            trace.append((elapsed, np.array(x_of(), copy=True)))
            if elapsed > time_cap:
                break
    return trace


def sigpy_traces(shape, index, y, lam, problem, max_iter, time_cap, every=10) -> dict[str, Trace]:
    """SigPy's accelerated proximal gradient and PDHG (``sigpy.app.LinearLeastSquares``).

    SigPy's least-squares apps minimise ½||Ax − y||² + g(x), so λ_sigpy = λ/2 gives our
    U-LASSO. SigPy has no SR-LASSO data term; for ``problem="sr_lasso"`` this returns {}.
    """
    import sigpy as sp

    if problem == "sr_lasso":
        return {}
    mask = np.zeros(int(np.prod(shape)), dtype=bool)
    mask[index] = True
    mask = mask.reshape(shape)
    y_full = np.zeros(int(np.prod(shape)), dtype=np.complex128)
    y_full[index] = y
    y_full = y_full.reshape(shape)
    A = sp.linop.Multiply(shape, mask.astype(np.complex128)) * sp.linop.FFT(shape, center=False)
    W = PeriodizedWavelet(shape)
    traces = {}
    for solver in ("GradientMethod", "PrimalDualHybridGradient"):
        if solver == "GradientMethod":
            proxg = sp.prox.UnitaryTransform(sp.prox.L1Reg(W.oshape, lam / 2), W)
            app = sp.app.LinearLeastSquares(A, y_full, proxg=proxg, solver=solver,
                                            max_iter=max_iter,
                                            accelerate=True, show_pbar=False)
        else:
            app = sp.app.LinearLeastSquares(A, y_full, proxg=sp.prox.L1Reg(W.oshape, lam / 2), G=W,
                                            solver=solver, max_iter=max_iter, show_pbar=False)
        traces[f"sigpy_{'fista' if solver == 'GradientMethod' else 'pdhg'}"] = _run(
            app.alg.update, lambda: app.x, max_iter, time_cap, every)
    return traces


def sigpy_l1wavelet_trace(shape, index, y, lam, max_iter, time_cap, every=10) -> Trace:
    """``sigpy.mri.app.L1WaveletRecon`` as a user calls it (single coil, default wavelet).

    Its default db4 wavelet is SigPy's zero-padded redundant transform, not the periodized
    orthogonal one, so its minimiser differs from ours: the caller measures it against its
    own long run.
    """
    import sigpy.mri as mr

    mask = np.zeros(int(np.prod(shape)), dtype=bool)
    mask[index] = True
    y_full = np.zeros(int(np.prod(shape)), dtype=np.complex128)
    y_full[index] = y
    y_full = np.fft.fftshift(y_full.reshape(shape))  # SigPy's MRI apps use centred k-space
    app = mr.app.L1WaveletRecon(y_full[None], np.ones((1, *shape), np.complex128), lam / 2,
                                weights=np.fft.fftshift(mask.reshape(shape)).astype(float),
                                max_iter=max_iter, show_pbar=False)
    return _run(app.alg.update, lambda: app.x, max_iter, time_cap, every)


def pyproximal_traces(shape, index, y, lam, problem, max_iter, time_cap,
                      every=10) -> dict[str, Trace]:
    """PyProximal on PyLops operators: PrimalDual (Chambolle–Pock) for SR-LASSO and U-LASSO,
    AcceleratedProximalGradient for U-LASSO. Steps τ = σ = 0.99 / ||A|| (||A|| = 1)."""
    import pylops
    import pyproximal

    n = int(np.prod(shape))
    F = pylops.signalprocessing.FFT2D(dims=shape, norm="ortho", dtype=np.complex128)
    R = pylops.Restriction(n, np.asarray(index), dtype=np.complex128)
    A = R @ F @ pylops.Identity(n, dtype=np.complex128)  # flat input and output
    Wop = pylops.signalprocessing.DWT2D(dims=shape, wavelet="db4", level=4, dtype=np.complex128)
    l1 = pyproximal.Orthogonal(pyproximal.L1(sigma=lam), Wop, partial=False)
    x0 = np.zeros(n, dtype=np.complex128)
    traces: dict[str, Trace] = {}

    def run(solver, *args, **kwargs) -> Trace:
        snaps: Trace = []
        start = time.perf_counter()
        count = [0]

        def callback(x):
            count[0] += 1
            if count[0] % every == 0:
                snaps.append((time.perf_counter() - start, x.ravel().copy()))
                if snaps[-1][0] > time_cap:
                    raise _Stop
        try:
            solver(*args, x0=x0.copy(), niter=max_iter, callback=callback, **kwargs)
        except _Stop:
            pass
        return snaps

    primal_dual = pyproximal.optimization.primaldual.PrimalDual
    if problem == "sr_lasso":
        data = pyproximal.Euclidean(sigma=1.0).precomposition(1.0, -y)
        traces["pyproximal_pd"] = run(primal_dual, l1, data, A, tau=0.99, mu=0.99, theta=1.0)
    else:
        data = pyproximal.L2(b=y, sigma=2.0)
        traces["pyproximal_pd"] = run(primal_dual, l1, data, A, tau=0.99, mu=0.99, theta=1.0)
        traces["pyproximal_apg"] = run(
            pyproximal.optimization.primal.ProximalGradient,
            pyproximal.L2(Op=A, b=y, sigma=2.0), l1, tau=0.5, acceleration="fista")
    return traces


class _Stop(Exception):
    """Raised from a callback to stop a peer at the time cap."""


def cvxpy_solve(A_dense: np.ndarray, W_dense: np.ndarray, y: np.ndarray, lam: float,
                solver: str, time_cap: float) -> tuple[float, np.ndarray | None, str]:
    """SR-LASSO with cvxpy (dense A and W): (wall seconds, x or None, status)."""
    import cvxpy as cp

    x = cp.Variable(A_dense.shape[1], complex=True)
    objective = lam * cp.norm1(W_dense @ x) + cp.norm(A_dense @ x - y, 2)
    prob = cp.Problem(cp.Minimize(objective))
    options = {"time_limit": time_cap} if solver == "CLARABEL" else {"time_limit_secs": time_cap}
    start = time.perf_counter()
    try:
        prob.solve(solver=solver, **options)
    except cp.error.SolverError as err:
        return time.perf_counter() - start, None, f"solver error: {err}"
    return time.perf_counter() - start, x.value, str(prob.status)


def _pywt_forward(x: np.ndarray, shape) -> np.ndarray:
    coeffs = pywt.wavedec2(x, "db4", mode="periodization", level=4)
    return pywt.coeffs_to_array(coeffs)[0]


def _slices(shape):
    coeffs = pywt.wavedec2(np.zeros(shape), "db4", mode="periodization", level=4)
    return pywt.coeffs_to_array(coeffs)[1]


try:
    import sigpy as _sp

    class PeriodizedWavelet(_sp.linop.Linop):
        """Orthogonal periodized db4 wavelet (4 levels) as a SigPy Linop (its own is redundant)."""

        def __init__(self, shape, inverse: bool = False):
            self.shape_ = tuple(shape)
            self.inverse = inverse
            self.slices = _slices(shape)
            super().__init__(self.shape_, self.shape_)

        def _apply(self, x):
            if self.inverse:
                coeffs = pywt.array_to_coeffs(x, self.slices, output_format="wavedec2")
                return pywt.waverec2(coeffs, "db4", mode="periodization")
            return _pywt_forward(x, self.shape_)

        def _adjoint_linop(self):
            return PeriodizedWavelet(self.shape_, inverse=not self.inverse)
except ImportError:  # pragma: no cover - bench extra not installed
    PeriodizedWavelet = None
