"""Closed forms, the linear rate of the restarted method, and never failing silently."""

import numpy as np
import pytest
import torch

import stablerecon as sr


def sharp_problem():
    A = sr.operators.dct_rows(128, 48, seed=0)
    x = sr.data.sparse_vector(128, 5, seed=1)
    return A, x, A(x)


def test_orthogonal_a_gives_soft_thresholding():
    W = sr.operators.Wavelet((16, 16), "db2", levels=2)
    y = torch.randn(16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    A = sr.operators.Identity((16, 16))
    res = sr.solvers.u_lasso(A, y, lam=0.4, W=W, tol=1e-12, max_iter=20_000)
    expected = W.H(sr.solvers.soft_threshold(W(y), 0.2))  # prox of (lam/2)||W.||_1
    torch.testing.assert_close(res.x, expected, atol=1e-8, rtol=0)


def iterations_to(history, levels):
    gaps = np.array([h["relative_gap"] for h in history])
    its = np.array([h["iteration"] for h in history])
    return [int(its[np.argmax(gaps <= lvl)]) if (gaps <= lvl).any() else None for lvl in levels]


def test_restarted_method_converges_linearly():
    A, _, y = sharp_problem()
    res = sr.solvers.sr_lasso(A, y, lam=0.05, tol=1e-10, max_iter=20_000, history=True,
                              check_every=5)
    assert res.converged and res.restarts > 0
    marks = iterations_to(res.history, [1e-2, 1e-4, 1e-6, 1e-8, 1e-10])
    assert all(m is not None for m in marks)
    steps = np.diff(marks)
    # linear rate: each two digits cost about the same number of iterations
    assert steps.max() <= 4 * max(steps.min(), 5), marks
    plain = sr.solvers.sr_lasso(A, y, lam=0.05, method="pdhg", tol=1e-10,
                                max_iter=marks[-1], history=True, check_every=5)
    assert not plain.converged  # the plain method is slower on the same budget


def test_unconverged_result_says_so_and_warns():
    A, _, y = sharp_problem()
    with pytest.warns(RuntimeWarning, match="stopped without reaching tol"):
        res = sr.solvers.sr_lasso(A, y, lam=0.05, tol=1e-12, max_iter=20)
    assert not res.converged and res.status == "max_iter reached"
    assert res.certificate.relative_gap.max() > 1e-12


def test_time_limit_is_honoured():
    shape = (128, 128)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.25))
    W = sr.operators.Wavelet(shape, "db4", levels=4)
    y = A(sr.data.shepp_logan(128, dtype=torch.float64))
    with pytest.warns(RuntimeWarning, match="time_limit"):
        res = sr.solvers.sr_lasso(A, y, lam=1e-3, W=W, tol=1e-13, max_iter=10**7,
                                  time_limit=0.3)
    assert res.status.startswith("time_limit") and res.time_s < 2.0


def test_infeasible_qcbp_is_named():
    A = sr.operators.Matrix(torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64))
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)  # not in range(A): distance sqrt(2)
    with pytest.raises(sr.StableReconError, match="QCBP is infeasible.*1.414"):
        sr.solvers.qcbp(A, y, eta=0.1)
    with pytest.raises(sr.StableReconError, match="eta ≥ 0"):
        sr.solvers.qcbp(A, y, eta=-1.0)


def test_bad_inputs_are_named():
    A, _, y = sharp_problem()
    with pytest.raises(sr.StableReconError, match="y has shape"):
        sr.solvers.sr_lasso(A, y[:10], lam=0.1)
    with pytest.raises(sr.StableReconError, match="lam must be a positive"):
        sr.solvers.sr_lasso(A, y, lam=-1.0)
    with pytest.raises(sr.StableReconError, match="NaN"):
        sr.solvers.sr_lasso(A, y * float("nan"), lam=0.1)
    with pytest.raises(sr.StableReconError, match="unitary W"):
        sr.solvers.sr_lasso(A, y, lam=0.1, method="fista")


def test_batched_and_float32_and_weights():
    A, x, y = sharp_problem()
    ys = torch.stack([y, 2 * y])
    res = sr.solvers.sr_lasso(A, ys, lam=0.05, tol=1e-9)
    assert res.x.shape == (2, 128) and res.converged
    # SR-LASSO is positively homogeneous: doubling y doubles the minimiser
    torch.testing.assert_close(res.x[1], 2 * res.x[0], atol=1e-6, rtol=0)
    r32 = sr.solvers.sr_lasso(A, y.float(), lam=0.05, tol=1e-5)
    assert r32.converged and r32.x.dtype == torch.float32
    w = torch.ones(128, dtype=torch.float64)
    w[x != 0] = 0.01  # (almost) free support: weighted l1 removes the shrinkage bias
    # λ = 0.5: large enough that plain SR-LASSO no longer interpolates y (below about 0.25
    # both recover x exactly, and there is no bias to remove)
    rw = sr.solvers.sr_lasso(A, ys[0], lam=0.5, weights=w, tol=1e-9)
    plain = sr.solvers.sr_lasso(A, ys[0], lam=0.5, tol=1e-9)
    assert rw.converged and plain.converged
    assert (rw.x - x).norm() < 0.1 * (plain.x - x).norm()


def test_standard_method_is_a_reconstructor():
    shape = (32, 32)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    phi = sr.solvers.standard_method(A, "mri")
    x = sr.data.shepp_logan(32).to(torch.complex64)
    out = phi(A(x))
    assert out.shape == shape and phi.last_result is not None
    assert sr.metrics.psnr(out, x) > sr.metrics.psnr(A.H(A(x)), x)


def test_standard_method_is_zero_where_no_coil_sees():
    """Maps with a support (as estimated maps have): the solve's x may be non-zero outside
    it at no data cost; Φ returns it zero there, with the same data term."""
    from stablerecon.data import coils

    shape = (32, 32)
    sens = coils.birdcage(shape, 4)
    x = sr.data.shepp_logan(32).to(torch.complex64)
    sens = sens * (x.abs() > 0)  # no coil sees outside the object
    mask = sr.operators.sampling.equispaced_columns(shape, 4, 0.16)
    A = sr.operators.MultiCoilFourier(shape, mask, sens)
    assert not bool(A.support.all())
    phi = sr.solvers.standard_method(A, "mri", max_iter=500)
    y = A(x)
    out = phi(y)
    assert bool((out[~A.support] == 0).all())
    assert float((phi.last_result.x[~A.support]).abs().max()) > 0  # what the mask removed
    torch.testing.assert_close(A(out), A(phi.last_result.x))
    assert sr.metrics.psnr(out, x) > sr.metrics.psnr(phi.last_result.x, x)



class _NaNAdjoint(sr.operators.Matrix):
    """A broken user operator: its adjoint returns NaN for any non-zero input."""

    def _adjoint(self, y):
        out = super()._adjoint(y)
        return out * float("nan") if bool((y != 0).any()) else out


@pytest.mark.parametrize("method", ["restarted_pdhg", "fista"])
def test_divergence_is_named_and_keeps_the_last_finite_iterate(method):
    """FISTA looks for NaN at every iteration; PDHG, which reads nothing back from the device
    between checks, at the first check (then returns the state of the previous check)."""
    A, _, y = sharp_problem()
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = sr.solvers.u_lasso(_NaNAdjoint(A.matrix), y, lam=0.05, method=method,
                                 check_every=5)
    assert not res.converged and res.status.startswith("diverged")
    assert res.certificate.type == "none"
    assert res.iterations < 5 if method == "fista" else res.iterations == 5
    assert bool(torch.isfinite(res.x).all())


def test_real_standard_method_uses_the_mirrored_information():
    """x constrained real: a real image measured by a mask that is not conjugate-symmetric
    is recovered better than by the complex Φ (and the output is real)."""
    import warnings

    mask = sr.operators.sampling.variable_density((32, 32), 0.25, seed=0)
    A = sr.operators.SubsampledFourier((32, 32), mask)
    x = sr.data.shepp_logan(32, dtype=torch.float64)
    y = A(x.to(torch.complex128))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        complex_phi = sr.solvers.standard_method(A, "mri", max_iter=3000)
        real_phi = sr.solvers.standard_method(A, "mri", max_iter=3000, real=True)
        out_c, out_r = complex_phi(y), real_phi(y)
    assert not out_r.is_complex() and "x real" in real_phi.description
    assert sr.metrics.psnr(out_r, x) > sr.metrics.psnr(out_c, x) + 1.0


@pytest.mark.parametrize("options, phrase", [
    ({"tol": 0.0}, "tol must be a positive"), ({"tol": float("nan")}, "tol must be a positive"),
    ({"tol": -1e-3}, "tol must be a positive"), ({"max_iter": 0}, "max_iter must be"),
    ({"check_every": 0}, "check_every must be"), ({"time_limit": -1.0}, "time_limit"),
    ({"maxiter": 10}, "unknown solver option"),
])
def test_meaningless_solver_options_are_refused(options, phrase):
    A = sr.operators.dct_rows(16, 8, seed=0)
    y = A(sr.data.sparse_vector(16, 2, seed=0))
    with pytest.raises(sr.StableReconError, match=phrase):
        sr.solvers.sr_lasso(A, y, lam=1e-2, **options)
    with pytest.raises(sr.StableReconError, match="lam must be"):
        sr.solvers.sr_lasso(A, y, lam="x")


def test_unitary_w_form_matches_the_dualised_form():
    """With W unitary PDHG runs on z = Wx with the exact l1 prox; the same problem with W
    hidden behind a non-unitary wrapper (1.0 * W) runs the form that dualises W. Both must
    reach the same minimiser, and the z form must get there in fewer iterations."""
    shape = (32, 32)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    W = sr.operators.Wavelet(shape, "db2", levels=2)
    x = sr.data.shepp_logan(32, dtype=torch.float64).to(torch.complex128)
    y = A(x)
    z_form = sr.solvers.sr_lasso(A, y, lam=1e-2, W=W, tol=1e-10, max_iter=20_000)
    with pytest.warns(RuntimeWarning):  # no certificate without a unitary W: runs to the cap
        dual_form = sr.solvers.sr_lasso(A, y, lam=1e-2, W=1.0 * W, tol=1e-14, max_iter=4000)
    assert z_form.converged and z_form.method == "restarted_pdhg"
    assert dual_form.method.startswith("pdhg")
    p_z, p_d = float(z_form.objective), float(dual_form.objective)
    assert p_z <= p_d * (1 + 1e-8)  # certified optimal: nothing does better
    assert abs(p_z - p_d) <= 1e-6 * p_z
    assert float((z_form.x - dual_form.x).norm() / x.norm()) < 1e-3
    assert z_form.iterations < dual_form.iterations


def _mri64():
    mask = sr.operators.sampling.variable_density((64, 64), 0.3, seed=0)
    A = sr.operators.SubsampledFourier((64, 64), mask)
    W = sr.operators.Wavelet((64, 64), "db4", levels=3)
    y = A(sr.data.shepp_logan(64, dtype=torch.float64).to(torch.complex128))
    return A, W, y + 0.01 * y.norm() * torch.randn(y.shape, dtype=y.dtype, generator=torch
                                                   .Generator().manual_seed(0)) / y.norm()


def test_single_precision_start_is_certified_in_double_precision():
    """float64 data to tol < 1e-4: float32 iterations, then float64 from their state. The
    answer is float64, certified in float64 to tol, the same minimiser as a float64-only
    run, in about as many iterations (the warm start carries the progress over)."""
    A, W, y = _mri64()
    mixed = sr.solvers.sr_lasso(A, y, lam=1e-3, W=W, tol=1e-9, history=True)
    double = sr.solvers.sr_lasso(A, y, lam=1e-3, W=W, tol=1e-9, single_precision_start=False)
    assert "float32" in mixed.method and "float32" not in double.method
    assert mixed.converged and mixed.x.dtype == torch.complex128
    assert mixed.certificate.relative_gap.dtype == torch.float64
    assert float(mixed.certificate.relative_gap.max()) <= 1e-9
    its = [h["iteration"] for h in mixed.history]
    assert its == sorted(set(its)) and its[-1] == mixed.iterations
    assert mixed.iterations <= 1.2 * double.iterations
    rel = abs(float(mixed.objective) - float(double.objective)) / float(double.objective)
    assert rel <= 2e-9
    # the float32 phase ends at its first check below 1e-4; float64 checks follow
    switch = min(i for i, h in enumerate(mixed.history) if h["relative_gap"] <= 1e-4)
    assert 0 < switch < len(mixed.history) - 1


def test_single_precision_start_keeps_the_budget_and_skips_where_it_cannot_help():
    A, W, y = _mri64()
    with pytest.warns(RuntimeWarning, match="stopped without reaching tol"):
        short = sr.solvers.u_lasso(A, y, lam=1e-3, W=W, tol=1e-9, max_iter=40)
    assert short.iterations <= 40 and short.status == "max_iter reached"
    assert short.x.dtype == torch.complex128
    single = sr.solvers.u_lasso(A, y.to(torch.complex64), lam=1e-3, W=W, tol=1e-4)
    loose = sr.solvers.u_lasso(A, y, lam=1e-3, W=W, tol=1e-3)
    assert single.method == loose.method == "restarted_pdhg"
    with pytest.raises(sr.StableReconError, match="options of PDHG, not of fista"):
        sr.solvers.u_lasso(A, y, lam=1e-3, W=W, method="fista", single_precision_start=False)
    with pytest.raises(sr.StableReconError, match="True or False"):
        sr.solvers.u_lasso(A, y, lam=1e-3, W=W, single_precision_start="yes")


class _Float32Overflow(sr.operators.SubsampledFourier):
    """An operator whose single-precision adjoint overflows (NaN), as float32 can."""

    def _adjoint(self, y):
        out = super()._adjoint(y)
        overflow = y.dtype == torch.complex64 and bool((y != 0).any())
        return out * float("nan") if overflow else out


def test_single_precision_start_that_diverges_starts_over_in_double():
    A, W, y = _mri64()
    A = _Float32Overflow((64, 64), A.mask.numpy())
    res = sr.solvers.u_lasso(A, y, lam=1e-3, W=W, tol=1e-8)
    assert res.converged and "float32" not in res.method
    assert float(res.certificate.relative_gap.max()) <= 1e-8


def test_a_nearby_solve_continues_from_an_earlier_state():
    """PDHG returns where it ended (x, dual, primal weight); a solve of y + r started there
    (one start for a whole batch) is certified to tol like one from zero, with fewer
    iterations on this seeded case (benchmarks/warm_start.py measures 5-28%)."""
    A, W, y = _mri64()
    clean = sr.solvers.sr_lasso(A, y, lam=1e-3, W=W, tol=1e-6, single_precision_start=False)
    state = clean.state
    assert isinstance(state, sr.solvers.SolverState) and state.dual.shape == y.shape
    gen = torch.Generator().manual_seed(1)
    r = torch.randn(3, *y.shape[-1:], dtype=y.dtype, generator=gen)
    near = y + 0.01 * y.norm() * r / r.norm(dim=-1, keepdim=True)
    scratch = sr.solvers.sr_lasso(A, near, lam=1e-3, W=W, tol=1e-6)
    warm = sr.solvers.sr_lasso(A, near, lam=1e-3, W=W, tol=1e-6, x0=state.x, p0=state.dual,
                               primal_weight=state.primal_weight)
    assert warm.converged and float(warm.certificate.relative_gap.max()) <= 1e-6
    assert warm.iterations < scratch.iterations
    assert float((warm.objective - scratch.objective).abs().max()) <= 2e-6 * float(
        scratch.objective.max())
    with pytest.raises(sr.StableReconError, match="p0 must be a tensor of shape"):
        sr.solvers.sr_lasso(A, near, lam=1e-3, W=W, p0=state.dual[..., :5])
    with pytest.raises(sr.StableReconError, match="does not broadcast"):
        sr.solvers.sr_lasso(A, near, lam=1e-3, W=W, p0=state.dual.expand(2, -1))
    with pytest.raises(sr.StableReconError, match="options of PDHG"):
        sr.solvers.u_lasso(A, near, lam=1e-3, W=W, method="fista", p0=state.dual)
