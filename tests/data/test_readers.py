import shutil

import h5py
import nibabel
import numpy as np
import pytest
import skimage.io
import torch

import stablerecon as sr


@pytest.fixture
def image():
    return np.random.default_rng(0).uniform(0.0, 1.0, (24, 20))


def test_png_roundtrip(tmp_path, image):
    path = tmp_path / "img.png"
    skimage.io.imsave(path, (image * 255).astype(np.uint8), check_contrast=False)
    out = sr.data.read_image(path, normalisation="none")
    np.testing.assert_array_equal(out.x.numpy(), (image * 255).astype(np.uint8).astype(np.float32))
    assert out.normalisation == {"method": "none", "offset": 0.0, "scale": 1.0}


def test_tiff_and_npy_roundtrip(tmp_path, image):
    skimage.io.imsave(tmp_path / "img.tif", image.astype(np.float32), check_contrast=False)
    np.save(tmp_path / "img.npy", 3.0 * image)
    tif = sr.data.read_image(tmp_path / "img.tif")
    npy = sr.data.read_image(tmp_path / "img.npy", normalisation="max", dtype=torch.float64)
    np.testing.assert_allclose(npy.x.numpy(), image / image.max(), rtol=1e-12)
    np.testing.assert_allclose(tif.x.numpy(), image / image.max(), rtol=1e-6)
    assert npy.normalisation["scale"] == pytest.approx(3.0 * image.max())


def test_complex_npy_stays_complex(tmp_path, image):
    np.save(tmp_path / "c.npy", image * np.exp(1j * image))
    out = sr.data.read_image(tmp_path / "c.npy")
    assert out.x.dtype == torch.complex64


def test_nifti_slice(tmp_path):
    vol = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    nibabel.save(nibabel.Nifti1Image(vol, np.eye(4)), tmp_path / "v.nii.gz")
    out = sr.data.read_image(tmp_path / "v.nii.gz", normalisation="none", slice_index=2)
    np.testing.assert_array_equal(out.x.numpy(), vol[..., 2])


def test_dicom_from_pydicom_test_file(tmp_path):
    from pydicom.data import get_testdata_file

    path = tmp_path / "mr.dcm"
    shutil.copy(get_testdata_file("MR_small.dcm"), path)
    out = sr.data.read_image(path)
    assert out.x.shape == (64, 64) and float(out.x.abs().max()) == pytest.approx(1.0)


def test_fastmri_kspace_and_reconstruction(tmp_path, image):
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image), norm="ortho"))
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["kspace"] = np.stack([k, k, k]).astype(np.complex64)
        f["reconstruction_rss"] = np.stack([image] * 3)
    rss = sr.data.read_image(tmp_path / "f.h5", normalisation="none")
    np.testing.assert_allclose(rss.x.numpy(), image, rtol=1e-6)
    ks = sr.data.read_image(tmp_path / "f.h5", key="kspace", normalisation="none")
    np.testing.assert_allclose(np.abs(ks.x.numpy()), image, atol=1e-5)
    with pytest.raises(sr.StableReconError, match="no dataset 'nope'"):
        sr.data.read_image(tmp_path / "f.h5", key="nope")


def test_errors_name_the_file(tmp_path):
    with pytest.raises(sr.StableReconError, match="no such file"):
        sr.data.read_image(tmp_path / "missing.png")
    (tmp_path / "x.xyz").write_text("hi")
    with pytest.raises(sr.StableReconError, match="unsupported file type .xyz"):
        sr.data.read_image(tmp_path / "x.xyz")
    (tmp_path / "bad.png").write_text("not a png")
    with pytest.raises(sr.StableReconError, match="bad.png: could not be read"):
        sr.data.read_image(tmp_path / "bad.png")
    np.save(tmp_path / "nan.npy", np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(sr.StableReconError, match="nan.npy: the image contains NaN"):
        sr.data.read_image(tmp_path / "nan.npy")


def test_bundled_images():
    names = sr.data.available()
    assert {"camera", "mr_small", "ct_small", "phantom", "nifti_anatomical"} <= set(names)
    img = sr.data.load("ct_small", size=64)
    assert img.x.shape == (64, 64) and img.normalisation["resized_to"] == [64, 64]
    brain = sr.data.load("brain", size=128)
    assert "MNI152" in brain.source and float(brain.x.max()) == pytest.approx(1.0)
    assert torch.allclose(brain.x, sr.data.brain_slices(128, "test")[5], atol=0.05)
    with pytest.raises(sr.StableReconError, match="unknown bundled image"):
        sr.data.load("liver")
