import numpy as np
import pytest
import torch
from skimage.transform import radon, resize

import stablerecon as sr
from stablerecon import metrics


@pytest.fixture(scope="module")
def phantom256():
    return sr.data.shepp_logan(256, dtype=torch.float64)


def test_matches_scikit_image(phantom256):
    img = resize(phantom256.numpy(), (128, 128), anti_aliasing=True)
    img[10:20, 60:64] += 0.5  # break the phantom's symmetry
    degrees = np.linspace(0.0, 180.0, 30, endpoint=False)
    ref = radon(img, degrees, circle=True).T
    ours = sr.operators.Radon((128, 128), np.deg2rad(degrees))(torch.tensor(img)).numpy()
    assert np.linalg.norm(ours - ref) / np.linalg.norm(ref) < 0.02


def test_fbp_180_angles_reaches_30db(phantom256):
    R = sr.operators.Radon((256, 256), 180)
    rec = R.fbp(R(phantom256))
    assert metrics.psnr(rec, phantom256, data_range=1.0) >= 30.0
    assert metrics.psnr(R.fbp(R(phantom256), "hann"), phantom256, data_range=1.0) >= 25.0


def test_differentiable_and_batched():
    R = sr.operators.Radon((12, 12), 5)
    x = torch.randn(2, 12, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: (R(z) ** 2).sum(), (x,))
    torch.testing.assert_close(R(x)[1], R(x[1]))


def test_errors():
    with pytest.raises(sr.StableReconError, match="square"):
        sr.operators.Radon((12, 10), 5)
    with pytest.raises(sr.StableReconError, match="degrees"):
        sr.operators.Radon((12, 12), np.arange(0, 180, 10))
    with pytest.raises(sr.StableReconError, match="filter"):
        sr.operators.Radon((12, 12), 4).fbp(torch.zeros(4, 12), "shepp")
