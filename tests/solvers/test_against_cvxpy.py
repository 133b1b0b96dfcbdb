"""The solvers against high-accuracy cvxpy references on small random problems."""

import cvxpy as cp
import numpy as np
import pytest
import torch

import stablerecon as sr


def dense(op, dtype=torch.complex128):
    """The matrix of a linear operator (columns = images of the basis vectors)."""
    n = int(np.prod(op.in_shape))
    basis = torch.eye(n, dtype=dtype).reshape(n, *op.in_shape)
    return op(basis).reshape(n, -1).T.numpy()


def reference(problem, A, y, lam, W, eta):
    z = cp.Variable(A.shape[1], complex=np.iscomplexobj(A) or np.iscomplexobj(y))
    reg = cp.norm1(W @ z) if W is not None else cp.norm1(z)
    if problem == "qcbp":
        prob = cp.Problem(cp.Minimize(reg), [cp.norm(A @ z - y, 2) <= eta])
    elif problem == "u_lasso":
        prob = cp.Problem(cp.Minimize(lam * reg + cp.sum_squares(A @ z - y)))
    else:
        prob = cp.Problem(cp.Minimize(lam * reg + cp.norm(A @ z - y, 2)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return prob.value, z.value


def make_case(problem, complex_, with_w, seed):
    shape = (8, 8)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal(shape) * (rng.uniform(size=shape) < 0.2))
    if complex_:
        A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.5, seed))
        x = x.to(torch.complex128)
    else:
        A = sr.operators.Radon(shape, 6)
    W = sr.operators.Wavelet(shape, "haar", levels=2) if with_w else None
    y = A(x)
    gen = torch.Generator().manual_seed(seed)
    y = y + 0.05 * torch.randn(y.shape, dtype=y.dtype, generator=gen)
    eta = 0.05 * float(torch.linalg.vector_norm(y)) / 4
    return A, W, y, eta


@pytest.mark.parametrize("problem", ["qcbp", "u_lasso", "sr_lasso"])
@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("with_w", [False, True])
def test_matches_cvxpy(problem, complex_, with_w):
    A, W, y, eta = make_case(problem, complex_, with_w, seed=3)
    lam = {"qcbp": 1.0, "u_lasso": 0.05, "sr_lasso": 0.02}[problem]
    dt = torch.complex128 if complex_ else torch.float64
    Ad = dense(A, dt)
    Wd = dense(W, dt) if W is not None else None
    ref_value, ref_z = reference(problem, Ad, y.numpy().ravel(), lam, Wd, eta)
    if problem == "qcbp":
        res = sr.solvers.qcbp(A, y, eta=eta, W=W, tol=1e-9, max_iter=50_000)
    else:
        fn = sr.solvers.u_lasso if problem == "u_lasso" else sr.solvers.sr_lasso
        res = fn(A, y, lam=lam, W=W, tol=1e-9, max_iter=50_000)
    assert res.converged, res.summary()
    assert res.certificate.type == "duality_gap"
    value = float(res.objective)
    assert abs(value - ref_value) <= 1e-6 * abs(ref_value)
    # the certificate is a true bound: our objective minus the reference optimum <= gap
    assert value - ref_value <= float(res.certificate.gap) + 1e-9 * abs(ref_value)
    x = res.x.numpy().ravel()
    assert np.linalg.norm(x - ref_z) <= 1e-3 * np.linalg.norm(ref_z)


@pytest.mark.parametrize("problem", ["u_lasso", "sr_lasso"])
def test_gradient_w_uses_residual_and_still_matches(problem):
    shape = (6, 6)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.6, seed=1))
    x = torch.zeros(shape, dtype=torch.complex128)
    x[1:4, 2:5] = 1.0
    y = A(x)
    G = sr.operators.Gradient(shape)
    lam = 0.05
    fn = sr.solvers.u_lasso if problem == "u_lasso" else sr.solvers.sr_lasso
    res = fn(A, y, lam=lam, W=G, tol=1e-10, max_iter=100_000)
    assert res.certificate.type == "fixed_point_residual"
    ref_value, _ = reference(problem, dense(A), y.numpy(), lam, dense(G), 0.0)
    assert abs(float(res.objective) - ref_value) <= 1e-6 * abs(ref_value)


@pytest.mark.parametrize("method", ["fista", "ista", "pdhg", "restarted_pdhg"])
def test_all_methods_agree_on_u_lasso(method):
    A, W, y, _ = make_case("u_lasso", True, True, seed=5)
    ref = sr.solvers.u_lasso(A, y, lam=0.05, W=W, tol=1e-11, max_iter=50_000)
    res = sr.solvers.u_lasso(A, y, lam=0.05, W=W, method=method, tol=1e-8, max_iter=200_000)
    assert res.converged and res.method.startswith(method)
    assert float(res.objective - ref.objective) <= 1e-8 * float(ref.objective) * 1.01 + 1e-12
