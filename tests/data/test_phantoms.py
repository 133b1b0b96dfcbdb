import numpy as np
import pytest
import torch

import stablerecon as sr


def test_shepp_logan_range_and_structure():
    x = sr.data.shepp_logan(128)
    assert x.shape == (128, 128) and x.min() >= 0 and x.max() <= 1.0
    assert x[64, 64] > 0 and x[0, 0] == 0  # inside the head, outside the head
    np.testing.assert_allclose(x.numpy(), x.numpy()[:, ::-1], atol=0.3)  # near-symmetric


def test_random_ellipses_seeded_and_normalised():
    a = sr.data.random_ellipses(64, count=3, seed=4)
    b = sr.data.random_ellipses(64, count=3, seed=4)
    torch.testing.assert_close(a, b)
    assert a.shape == (3, 64, 64)
    assert torch.allclose(a.amax(dim=(-2, -1)), torch.ones(3))
    assert not torch.equal(a[0], a[1])


def test_textured_ellipse_puts_its_energy_at_the_stripe_frequency():
    flat = sr.data.phantoms.ellipses_image(64, [[1.0, 0.6, 0.5, 0.0, 0.0, 0.0]])
    stripes = sr.data.phantoms.ellipses_image(64, [[1.0, 0.6, 0.5, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0]])
    spectrum = np.abs(np.fft.fft2(stripes - flat / 2)) ** 2  # the stripes alone
    # period 4 pixels along x: the peak sits at 64/4 = 16 cycles on the horizontal axis
    assert np.unravel_index(spectrum.argmax(), spectrum.shape) in ((0, 16), (0, 48))
    assert np.isclose(stripes.mean(), flat.mean() / 2, rtol=0.05)
    a = sr.data.random_ellipses(64, count=2, seed=4, texture=1.0)
    torch.testing.assert_close(a, sr.data.random_ellipses(64, count=2, seed=4, texture=1.0))
    assert torch.allclose(a.amax(dim=(-2, -1)), torch.ones(2))
    with pytest.raises(sr.StableReconError, match="texture"):
        sr.data.random_ellipses(64, texture=1.5)
    with pytest.raises(sr.StableReconError, match="rows of 6"):
        sr.data.phantoms.ellipses_image(8, [[1.0, 0.5, 0.5, 0.0, 0.0]])


def test_sparse_vector():
    x = sr.data.sparse_vector(50, 6, seed=2, complex=True)
    assert x.is_complex() and int((x != 0).sum()) == 6
    with pytest.raises(sr.StableReconError, match="sparsity"):
        sr.data.sparse_vector(5, 6)
