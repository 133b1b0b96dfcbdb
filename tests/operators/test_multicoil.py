import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.operators import MultiCoilFourier, SubsampledFourier, sampling


def _operator(shape=(24, 20), coils=6, dtype=torch.complex128, seed=0):
    mask = sampling.equispaced_columns(shape, acceleration=3, center_fraction=0.2, seed=seed)
    sens = sr.data.coils.birdcage(shape, coils=coils, dtype=dtype) * \
        sr.data.coils.smooth_phase(shape, seed=seed, dtype=dtype)
    return MultiCoilFourier(shape, mask, sens)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjoint_exact_in_float64_for_complex_batches(seed):
    A = _operator(seed=seed)
    check = A.check_adjoint(torch.float64, batch=3, seed=seed)
    assert check.error <= 1e-12


def test_adjoint_float32():
    assert _operator(dtype=torch.complex64).check_adjoint(torch.float32).passed


def test_one_unit_coil_is_subsampled_fourier():
    shape = (16, 12)
    mask = sampling.variable_density(shape, 0.3, seed=3)
    x = torch.randn(2, *shape, dtype=torch.complex128)
    A1 = MultiCoilFourier(shape, mask, torch.ones(1, *shape, dtype=torch.complex128))
    A0 = SubsampledFourier(shape, mask)
    torch.testing.assert_close(A1(x)[:, 0], A0(x), rtol=0, atol=1e-14)
    y = torch.randn(2, 1, A0.out_shape[0], dtype=torch.complex128)
    torch.testing.assert_close(A1.H(y), A0.H(y[:, 0]), rtol=0, atol=1e-14)


def test_maps_normalised_on_support_zero_outside():
    shape = (16, 16)
    sens = sr.data.coils.birdcage(shape, coils=4, dtype=torch.complex128) * 3.0
    sens[:, :4] = 0  # no coil sees the top rows
    A = MultiCoilFourier(shape, np.ones(shape, bool), sens)
    energy = (A.sens.abs() ** 2).sum(0)
    torch.testing.assert_close(energy[4:], torch.ones(12, 16, dtype=torch.float64))
    assert bool((energy[:4] == 0).all()) and not bool(A.support[:4].any())
    # fully sampled: A*A is the projection onto the support, and the norm bound is attained
    x = torch.randn(*shape, dtype=torch.complex128)
    torch.testing.assert_close(A.normal(x), x * A.support)
    assert A.norm() == pytest.approx(1.0)


def test_norm_bounds_power_iteration():
    A = _operator()
    est = sr.operators.LinearOperator.norm(A)
    assert est <= A.norm() + 1e-9 and est > 0.5


def test_real_input_and_device_follow():
    A = _operator(dtype=torch.complex64)
    R = sr.operators.RealInput(A)
    assert R.check_adjoint(torch.float64).passed
    A = A.to("meta")
    assert A.sens.device.type == "meta" and A.index.device.type == "meta"


def test_rss_of_fully_sampled_data_is_the_magnitude():
    shape = (16, 16)
    A = MultiCoilFourier(shape, np.ones(shape, bool),
                         sr.data.coils.birdcage(shape, 8, dtype=torch.complex128))
    x = sr.data.shepp_logan(16, dtype=torch.float64) * \
        sr.data.coils.smooth_phase(shape, seed=4, dtype=torch.complex128)
    torch.testing.assert_close(A.rss(A(x)), x.abs())


@pytest.mark.parametrize("build, message", [
    (lambda m, s: MultiCoilFourier((16, 16), m, s[:, :8]), "coil maps have shape"),
    (lambda m, s: MultiCoilFourier((16, 16), m[:8], s), "mask has shape"),
    (lambda m, s: MultiCoilFourier((16, 16), m, s[0]), "missing the coil axis"),
    (lambda m, s: MultiCoilFourier((16, 16), m, s * 0), "zero everywhere"),
    (lambda m, s: MultiCoilFourier((16, 16), m, s * float("nan")), "NaN"),
    (lambda m, s: MultiCoilFourier((16, 16), m.astype(int), s), "boolean"),
    (lambda m, s: MultiCoilFourier((16, 16), m & False, s), "samples nothing"),
    (lambda m, s: MultiCoilFourier((16, 16), m, torch.ones(2, 16, 16, dtype=torch.int64)),
     "must be complex"),
])
def test_bad_input_is_named(build, message):
    mask = sampling.random_columns((16, 16), 4, 0.25, seed=0)
    sens = sr.data.coils.birdcage((16, 16), 4)
    with pytest.raises(StableReconError, match=message):
        build(mask, sens)


def test_input_checks_of_the_protocol():
    A = _operator()
    with pytest.raises(StableReconError, match="shape"):
        A(torch.zeros(3, 3, dtype=torch.complex128))
    with pytest.raises(StableReconError, match="NaN"):
        A.H(torch.full(A.out_shape, float("nan"), dtype=torch.complex128))
