import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.operators.wavelet import pywt_array


@pytest.mark.parametrize("wavelet", ["haar", "db2", "db4", "db6", "db8"])
@pytest.mark.parametrize("shape, levels", [((32, 32), 3), ((64, 32), 4), ((16, 16), 2)])
def test_matches_pywavelets_periodization(wavelet, shape, levels):
    x = np.random.default_rng(0).standard_normal(shape)
    W = sr.operators.Wavelet(shape, wavelet, levels=levels)
    np.testing.assert_allclose(W(torch.tensor(x)).numpy(), pywt_array(x, wavelet, levels),
                               atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128, torch.float32])
def test_orthogonal_and_perfect_reconstruction(dtype):
    W = sr.operators.Wavelet((64, 64), "db4", levels=4)
    x = torch.randn(3, 64, 64, dtype=dtype)
    c = W(x)
    tol = 1e-12 if dtype != torch.float32 else 1e-5
    assert torch.allclose(c.norm(dim=(-2, -1)), x.norm(dim=(-2, -1)), rtol=tol)
    assert torch.allclose(W.H(c), x, atol=tol * 10)
    assert torch.allclose(W(W.H(x)), x, atol=tol * 10)


def test_piecewise_constant_image_is_sparse_in_haar():
    x = torch.zeros(32, 32, dtype=torch.float64)
    x[8:24, 8:24] = 1.0
    c = sr.operators.Wavelet((32, 32), "haar", levels=3)(x)
    assert (c.abs() > 1e-10).sum() < 0.1 * x.numel()


def test_differentiable():
    W = sr.operators.Wavelet((8, 8), "db2", levels=2)
    x = torch.randn(8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: (W(z) ** 3).sum(), (x,))


def test_bad_sizes_and_names():
    with pytest.raises(sr.StableReconError, match="not divisible"):
        sr.operators.Wavelet((30, 32), "db4", levels=2)
    with pytest.raises(sr.StableReconError, match="unknown wavelet"):
        sr.operators.Wavelet((32, 32), "bior2.2")


def test_level_map():
    lm = sr.operators.Wavelet((16, 16), "haar", levels=2).level_map()
    assert lm[0, 0] == 0 and lm[0:8, 0:8].max() == 1 and lm[15, 15] == 2


def test_moves_between_devices_and_dtypes_like_a_module():
    """nn.Module.to() must work (a method named _apply once shadowed torch's)."""
    W = sr.operators.Wavelet((16, 16), "db2", levels=2).to("cpu").double()
    x = torch.randn(16, 16, dtype=torch.float64)
    torch.testing.assert_close(W.H(W(x)), x)


@pytest.mark.parametrize("wavelet, shape, levels", [
    ("haar", (256, 128), 3), ("db4", (256, 128), 4), ("sym8", (128, 256), 2),
    ("db20", (256, 256), 2), ("db4", (256, 32), 2)])
def test_block_products_match_pywavelets_on_long_axes(wavelet, shape, levels):
    """Axes longer than DENSE_MAX take the banded block-product path; it must agree too."""
    x = np.random.default_rng(1).standard_normal(shape)
    W = sr.operators.Wavelet(shape, wavelet, levels=levels)
    assert not W._axes[0][0].dense_on(torch.device("cpu"))
    np.testing.assert_allclose(W(torch.tensor(x)).numpy(), pywt_array(x, wavelet, levels),
                               atol=1e-12)
    np.testing.assert_allclose(W.H(W(torch.tensor(x))).numpy(), x, atol=1e-12)


def test_block_path_gradcheck(monkeypatch):
    """With every level forced onto the banded path, autograd (the custom backward) is exact,
    to second order."""
    monkeypatch.setattr(sr.operators.wavelet, "DENSE_MAX", 0)
    W = sr.operators.Wavelet((32, 32), "db2", levels=1)
    assert not W._axes[0][0].dense_on(torch.device("cpu"))
    x = torch.randn(32, 32, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: (W(z) ** 3).sum(), (x,))
    assert torch.autograd.gradgradcheck(lambda z: (W.H(z) ** 3).sum(), (x,))


def test_vector_jacobian_product_is_the_adjoint():
    W = sr.operators.Wavelet((128, 128), "db4", levels=3)
    x = torch.randn(2, 128, 128, dtype=torch.complex128, requires_grad=True)
    g = torch.randn(2, 128, 128, dtype=torch.complex128)
    (grad,) = torch.autograd.grad(W(x), x, g)
    torch.testing.assert_close(grad, W.H(g))


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_cache_sized_chunks_give_the_same_transform(monkeypatch, dtype):
    """On the CPU a large batch is transformed a few images at a time; forcing one image per
    chunk (several chunks, uneven last one) must change nothing: values, layout, adjoint."""
    monkeypatch.setattr(sr.operators.wavelet, "CHUNK_BYTES", 1)
    W = sr.operators.Wavelet((32, 32), "db4", levels=2)
    x = torch.randn(2, 5, 32, 32, dtype=dtype, generator=torch.Generator().manual_seed(0))
    coef = W(x)
    np.testing.assert_allclose(coef.numpy(), pywt_array(x.numpy(), "db4", 2), atol=1e-12)
    torch.testing.assert_close(W.H(coef), x, atol=1e-12, rtol=0)
    one = x[1, 3]  # a single image (no batch axis) in the smallest chunks too
    np.testing.assert_allclose(W(one).numpy(), pywt_array(one.numpy(), "db4", 2), atol=1e-12)
    torch.testing.assert_close(W.H(W(one)), one, atol=1e-12, rtol=0)
    xg = x.clone().requires_grad_(True)
    g = torch.randn_like(x)
    (grad,) = torch.autograd.grad(W(xg), xg, g)
    torch.testing.assert_close(grad, W.H(g), atol=1e-12, rtol=0)


def test_strided_inputs_and_batches_of_any_rank():
    """The passes read their input through strided views: a transposed, sliced complex
    batch with two leading axes must give PyWavelets' coefficients image by image."""
    gen = torch.Generator().manual_seed(3)
    base = torch.randn(3, 2, 128, 256, dtype=torch.complex128, generator=gen)
    x = base.transpose(0, 1)[..., ::2, :].mT  # (2, 3, 256, 64), nothing contiguous
    W = sr.operators.Wavelet((256, 64), "db4", levels=3)
    assert not W._axes[0][0].dense_on(torch.device("cpu"))
    c = W(x)
    want = pywt_array(x.numpy(), "db4", 3)
    np.testing.assert_allclose(c.numpy(), want, atol=1e-12)
    np.testing.assert_allclose(W.H(c).numpy(), x.numpy(), atol=1e-12)


def test_results_do_not_share_the_reused_scratch_buffers():
    """The passes reuse per-thread scratch buffers: a returned result must stay as it was
    after the next calls."""
    W = sr.operators.Wavelet((128, 128), "db4", levels=3)
    x, y = torch.randn(2, 128, 128, dtype=torch.complex128).unbind()
    cx = W(x)
    kept = cx.clone()
    W(y), W.H(W(y))
    torch.testing.assert_close(cx, kept, rtol=0, atol=0)


def test_threads_sharing_one_operator_get_their_own_results():
    """Scratch buffers are per thread, so concurrent calls on one operator do not mix."""
    from concurrent.futures import ThreadPoolExecutor

    W = sr.operators.Wavelet((128, 128), "db4", levels=3)
    xs = [torch.randn(128, 128, dtype=torch.float64, generator=torch.Generator().manual_seed(k))
          for k in range(8)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda x: [W.H(W(x)) for _ in range(5)][-1], xs))
    for x, back in zip(xs, got):
        torch.testing.assert_close(back, x, atol=1e-12, rtol=0)


def test_fresh_buffers_give_the_same_transform(monkeypatch):
    """GPUs allocate the passes' buffers instead of reusing the CPU's per-thread scratch:
    that path (forced here on the CPU) must give the same coefficients, batch and complex."""
    from stablerecon.operators import wavelet

    monkeypatch.setattr(wavelet, "_scratch", lambda role, shape, like: like.new_empty(shape))
    W = sr.operators.Wavelet((256, 128), "db4", levels=3)
    x = torch.randn(3, 256, 128, dtype=torch.complex128, generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(W(x).numpy(), pywt_array(x.numpy(), "db4", 3), atol=1e-12)
    torch.testing.assert_close(W.H(W(x)), x, atol=1e-12, rtol=0)
