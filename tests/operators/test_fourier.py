import numpy as np
import pytest
import torch

import stablerecon as sr


@pytest.mark.parametrize("shape", [(8, 8), (9, 7)])
def test_centre_of_mask_is_the_zero_frequency(shape):
    mask = np.zeros(shape, dtype=bool)
    mask[shape[0] // 2, shape[1] // 2] = True
    A = sr.operators.SubsampledFourier(shape, mask)
    x = torch.rand(shape, dtype=torch.float64)
    # the DC coefficient of the orthonormal DFT is sum(x) / sqrt(N)
    assert A(x).item() == pytest.approx(x.sum().item() / np.sqrt(x.numel()))


def test_rows_are_orthonormal_and_full_mask_is_unitary():
    shape = (12, 10)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.3))
    y = torch.randn(A.out_shape, dtype=torch.complex128)
    torch.testing.assert_close(A(A.H(y)), y)  # A A* = I
    full = sr.operators.SubsampledFourier(shape, np.ones(shape, dtype=bool))
    x = torch.randn(shape, dtype=torch.complex128)
    torch.testing.assert_close(full.H(full(x)), x)
    assert A.norm() == 1.0


def test_matches_numpy_fftshift_convention():
    shape = (6, 6)
    mask = sr.operators.sampling.uniform(shape, 0.5, seed=3)
    x = np.random.default_rng(0).standard_normal(shape)
    expected = np.fft.fftshift(np.fft.fft2(x, norm="ortho"))[mask]
    got = sr.operators.SubsampledFourier(shape, mask)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_mask_errors():
    with pytest.raises(sr.StableReconError, match="mask has shape"):
        sr.operators.SubsampledFourier((8, 8), np.ones((8, 9), dtype=bool))
    with pytest.raises(sr.StableReconError, match="boolean"):
        sr.operators.SubsampledFourier((8, 8), np.ones((8, 8)))
    with pytest.raises(sr.StableReconError, match="samples nothing"):
        sr.operators.SubsampledFourier((8, 8), np.zeros((8, 8), dtype=bool))


def test_differentiable():
    A = sr.operators.SubsampledFourier((6, 6), sr.operators.sampling.uniform((6, 6), 0.5))
    x = torch.randn(6, 6, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: A(z).abs().sum(), (x,))
