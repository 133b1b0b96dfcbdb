"""FIRENET: exponential convergence to the certified minimiser, the Lipschitz bound, errors."""

import math

import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.nets import FIRENET, level_weights


def _rate_per_restart(errors: list[float]) -> float:
    """Least-squares slope of log(error) against the restart index, as a factor."""
    k = np.arange(len(errors))
    return float(np.exp(np.polyfit(k, np.log(errors), 1)[0]))


def _distances(net, y, x_star):
    _, xs = net(y, return_restarts=True)
    return [float((xk - x_star).norm() / x_star.norm()) for xk in xs]


def test_compressed_sensing_converges_exponentially():
    A = sr.operators.dct_rows(256, 100, seed=0)
    x = sr.data.sparse_vector(256, 10, seed=1)
    y = A(x)
    ref = sr.solvers.sr_lasso(A, y, lam=0.1, tol=1e-12, max_iter=100_000)
    assert ref.converged
    d = _distances(FIRENET(A, lam=0.1, restarts=18, inner=20, delta=0.0), y, ref.x)
    # the schedule shrinks the target by e per restart; the distance follows it
    assert _rate_per_restart(d[2:]) < math.exp(-0.8)
    assert d[-1] < 1e-6


def test_mri_with_wavelets_converges_exponentially():
    """64² subsampled Fourier, an image sparse in Haar wavelets, complex data."""
    shape = (64, 64)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.3, seed=0))
    W = sr.operators.Wavelet(shape, "haar", levels=3)
    gen = torch.Generator().manual_seed(0)
    c = torch.zeros(64 * 64, dtype=torch.complex128)
    c[torch.randperm(64 * 64, generator=gen)[:40]] = torch.randn(40, dtype=torch.complex128,
                                                                 generator=gen)
    x = W.H(c.reshape(shape))
    y = A(x)
    ref = sr.solvers.sr_lasso(A, y, lam=0.05, W=W, tol=1e-12, max_iter=100_000)
    d = _distances(FIRENET(A, W, lam=0.05, restarts=14, inner=40, delta=0.0), y, ref.x)
    assert _rate_per_restart(d[1:]) < math.exp(-0.8)
    assert d[-1] < 1e-5


def test_delta_sets_the_floor():
    A = sr.operators.dct_rows(128, 60, seed=2)
    x = sr.data.sparse_vector(128, 5, seed=3)
    y = A(x)
    ref = sr.solvers.sr_lasso(A, y, lam=0.1, tol=1e-12, max_iter=100_000)
    fine = _distances(FIRENET(A, lam=0.1, restarts=16, inner=20, delta=0.0), y, ref.x)[-1]
    coarse = _distances(FIRENET(A, lam=0.1, restarts=16, inner=20, delta=1e-3), y, ref.x)[-1]
    assert coarse > 100 * fine


def test_lipschitz_bound_holds_against_an_attack():
    shape = (32, 32)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    W = sr.operators.Wavelet(shape, "haar", levels=2)
    x = sr.data.shepp_logan(32, dtype=torch.float64).to(torch.complex128)
    y = A(x)
    net = FIRENET(A, W, lam=1e-2, restarts=4, inner=10, eps0=float(y.norm()))
    bound = net.lipschitz_bound()
    base = net(y).detach()
    gen = torch.Generator().manual_seed(0)
    e = (1e-3 * torch.randn(y.shape, dtype=y.dtype, generator=gen)).requires_grad_(True)
    opt = torch.optim.Adam([e], lr=1e-4)
    gains = []
    for _ in range(30):  # gradient ascent on the gain ||Ψ(y+e) − Ψ(y)|| / ||e||
        gain = (net(y + e) - base).norm() / e.norm()
        gains.append(float(gain.detach()))
        opt.zero_grad()
        (-gain).backward()
        opt.step()
    assert max(gains) > 0.1  # the attack measures something
    assert max(gains) <= bound


def test_lipschitz_bound_needs_fixed_eps0():
    A = sr.operators.dct_rows(16, 8)
    with pytest.raises(StableReconError, match="eps0"):
        FIRENET(A, lam=0.1).lipschitz_bound()


def test_learned_steps_keep_the_constraint_and_train():
    A = sr.operators.dct_rows(32, 16, seed=0)
    net = FIRENET(A, lam=0.1, restarts=3, inner=5, theta=0.5, learn_steps=True)
    with torch.no_grad():
        net.step_logits.copy_(torch.tensor([50.0, -3.0, 0.0]))
    assert float((net.steps() * net.norm_A).pow(2).max()) <= 0.5 + 1e-12
    y = A(sr.data.sparse_vector(32, 3, seed=0))
    net(y).pow(2).sum().backward()
    assert net.step_logits.grad is not None and net.step_logits.grad.abs().sum() > 0


def test_batch_equals_single():
    A = sr.operators.dct_rows(64, 30, seed=0)
    ys = torch.stack([A(sr.data.sparse_vector(64, 4, seed=s)) for s in range(3)])
    net = FIRENET(A, lam=0.1, restarts=5, inner=10)
    out = net(ys)
    for i in range(3):
        torch.testing.assert_close(out[i], net(ys[i]))


def test_level_weights_follow_sparsity():
    W = sr.operators.Wavelet((64, 64), "db4", levels=3)
    c = W(sr.data.shepp_logan(64, dtype=torch.float64))
    w = level_weights(W, c, threshold=1e-3)
    levels = W.level_map()
    big = c.abs() > 1e-3 * c.abs().max()
    counts = [int(big[levels == j].sum()) for j in range(4)]
    for j in range(4):
        assert float(w[levels == j].unique()) == pytest.approx(math.sqrt(sum(counts) / counts[j]))
    assert counts[0] < counts[-1] and float(w[levels == 0][0]) > float(w[levels == 3][0])


def test_bad_input():
    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    with pytest.raises(StableReconError, match="unitary"):
        FIRENET(A, sr.operators.Gradient((16, 16)))
    with pytest.raises(StableReconError, match="theta"):
        FIRENET(A, theta=1.0)
    with pytest.raises(StableReconError, match="expected"):
        FIRENET(A)(torch.zeros(5, dtype=torch.complex64))
    y = A(torch.ones(16, 16, dtype=torch.complex64))
    y[0] = float("nan")  # the layers apply A unchecked: forward must look at y itself
    with pytest.raises(StableReconError, match="FIRENET input y: input contains NaN"):
        FIRENET(A, eps0=1.0)(y)


def test_auto_depth_reaches_the_minimiser_where_a_fixed_p_stalls():
    """The example of the issue: FIRENET(A, lam=0.1) on a Gaussian 60×160, 6-sparse problem.
    p = 20 stalls away from the SR-LASSO minimiser; the default (inner="auto") chooses a
    larger p from the problem and gets there."""
    import warnings

    A = sr.operators.gaussian(60, 160, seed=0)
    y = A(sr.data.sparse_vector(160, 6, seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = sr.solvers.sr_lasso(A, y, lam=0.1, tol=1e-13, max_iter=200_000).x
    auto, fixed = FIRENET(A, lam=0.1), FIRENET(A, lam=0.1, inner=20)
    with torch.no_grad():
        out_auto, out_fixed = auto(y), fixed(y)
    dist = lambda out: float((out - ref).norm() / ref.norm())  # noqa: E731
    assert dist(out_fixed) > 1e-2
    assert auto.inner > 20 and not auto.needs_calibration
    assert dist(out_auto) < 1e-6
    with torch.no_grad():  # chosen once: later calls use the same network
        auto(2 * y)
    assert auto.inner == auto.calibrate(y)


def test_calibration_says_when_nothing_converges():
    A = sr.operators.gaussian(60, 160, seed=0)
    y = A(sr.data.sparse_vector(160, 6, seed=0))
    net = FIRENET(A, lam=0.1, restarts=3, eps0=float(y.norm()))
    with pytest.raises(StableReconError, match="not chosen yet"):
        net.lipschitz_bound()
    with pytest.warns(RuntimeWarning, match="may not converge"):
        assert net.calibrate(y, max_inner=40) == 40
    assert net.lipschitz_bound() > 0
