import numpy as np
import pytest
import scipy.fft
import torch

import stablerecon as sr


def test_dct_rows_are_orthonormal_dct_rows():
    A = sr.operators.dct_rows(32, [0, 3, 7])
    x = np.random.default_rng(0).standard_normal(32)
    np.testing.assert_allclose(A(torch.tensor(x)).numpy(),
                               scipy.fft.dct(x, norm="ortho")[[0, 3, 7]], atol=1e-12)
    torch.testing.assert_close(A.matrix @ A.matrix.T, torch.eye(3, dtype=torch.float64))


def test_gaussian_is_seeded_and_scaled():
    a, b = sr.operators.gaussian(50, 80, seed=3), sr.operators.gaussian(50, 80, seed=3)
    torch.testing.assert_close(a.matrix, b.matrix)
    assert a.matrix.pow(2).sum(0).mean().item() == pytest.approx(1.0, rel=0.1)


def test_complex_matrix_promotes_real_input():
    M = torch.randn(3, 4, dtype=torch.complex128)
    out = sr.operators.Matrix(M)(torch.ones(4))
    assert out.dtype == torch.complex64
    torch.testing.assert_close(out, M.sum(1).to(torch.complex64))


def test_gradient_is_tv_and_norm_bounded():
    G = sr.operators.Gradient((16, 16))
    x = torch.zeros(16, 16, dtype=torch.float64)
    x[4:12, 4:12] = 1.0
    assert G(x).abs().sum().item() == pytest.approx(32.0)  # perimeter of the square
    assert G.norm(max_iter=500) <= np.sqrt(8.0) + 1e-9
