"""Reading fastMRI-layout HDF5 files as measurements (data/scan.py), on files that
``save_fastmri`` writes in fastMRI's exact layout."""

import json

import h5py
import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.data import coils
from stablerecon.data.scan import centre_crop, from_centred, read_scan, save_fastmri, to_centred
from stablerecon.errors import StableReconError
from stablerecon.operators import sampling
from stablerecon.operators.multicoil import normalise_maps

SHAPE = (40, 32)  # non-square like fastMRI's, object padded in rows
CROP = (32, 32)


def _objects(slices=3):
    x = sr.data.brain_slices(32, "test")[:slices].to(torch.complex128)
    x = x * coils.smooth_phase((32, 32), seed=1, dtype=torch.complex128)
    return torch.nn.functional.pad(x, (0, 0, 4, 4))


def _maps(n=4):
    return normalise_maps(coils.birdcage(SHAPE, n, dtype=torch.complex128))[0]


def _columns(seed=0):
    """fastMRI-style sampled columns (W,)."""
    return sampling.equispaced_columns(SHAPE, 4, 0.25, seed=seed)[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastmri")
    x, S = _objects(), _maps()
    full = save_fastmri(root / "full.h5", x, S, crop=CROP, maps=True)
    under = save_fastmri(root / "under.h5", x, S, crop=CROP, mask=_columns(), maps=True)
    return {"x": x, "S": S, "full": full, "under": under, "root": root}


def _fastmri_fft2c(image):
    """fastMRI's definition of centred k-space: fftshift(F ifftshift(x)), F unitary."""
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


@pytest.mark.parametrize("shape", [(8, 8), (7, 10), (9, 5)])
def test_centred_kspace_conversion_matches_fastmris_definition(shape):
    rng = np.random.default_rng(0)
    image = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    ours = np.fft.fftshift(np.fft.fft2(image, norm="ortho"), axes=(-2, -1))
    np.testing.assert_allclose(from_centred(_fastmri_fft2c(image)), ours, atol=1e-12)
    np.testing.assert_allclose(to_centred(ours), _fastmri_fft2c(image), atol=1e-12)


def test_centre_crop_takes_the_middle_and_refuses_larger_crops():
    t = torch.arange(5 * 6.0).reshape(5, 6)
    assert centre_crop(t, (3, 2)).tolist() == [[8.0, 9.0], [14.0, 15.0], [20.0, 21.0]]
    with pytest.raises(StableReconError, match="larger than the image"):
        centre_crop(t, (6, 6))


def test_full_file_reads_back_the_recorded_images_and_reference(files):
    scan = read_scan(files["full"], 1, coils_from="file", dtype=torch.complex128)
    assert scan.shape == SHAPE and scan.crop == CROP and scan.A.coils == 4
    assert scan.A.rate == 1.0 and scan.image is not None
    assert "reconstruction_rss" in scan.reference_kind
    # the operator's RSS of the measured y is the file's reference
    rss = centre_crop(scan.A.rss(scan.y), scan.crop)
    torch.testing.assert_close(rss, scan.reference, atol=1e-6, rtol=0)
    # the full-data coil combination is the object itself (true maps, no noise)
    torch.testing.assert_close(scan.image * scan.scale, files["x"][1], atol=1e-6, rtol=0)
    assert float(scan.reference.max()) == pytest.approx(1.0)
    json.dumps(scan.describe())
    assert scan.to("cpu").y.shape == scan.y.shape


def test_retrospective_mask_and_the_files_own_mask_give_the_same_measurements(files):
    mask = sampling.column_mask(_columns(), SHAPE[0])
    retro = read_scan(files["full"], 2, mask=mask, coils_from="file")
    own = read_scan(files["under"], 2, coils_from="file")
    assert retro.A.rate == pytest.approx(own.A.rate) and own.A.rate < 0.35
    assert torch.equal(retro.A.mask, own.A.mask)
    torch.testing.assert_close(retro.y, own.y)
    assert own.image is None and retro.image is not None
    assert own.describe()["file_fully_sampled"] is False
    # a mask of columns (W,) is the same mask
    cols = read_scan(files["full"], 2, mask=mask[0], coils_from="file")
    assert torch.equal(cols.A.mask, retro.A.mask)


def test_without_a_mask_dataset_the_sampled_columns_are_read_from_the_data(files, tmp_path):
    path = tmp_path / "nomask.h5"
    path.write_bytes(files["under"].read_bytes())
    with h5py.File(path, "a") as f:
        del f["mask"]
    scan = read_scan(path, 0, coils_from="file")
    assert torch.equal(scan.A.mask, read_scan(files["under"], 0, coils_from="file").A.mask)


def test_estimated_maps_combine_to_the_rss_image(files):
    for source in ("espirit", "lowres"):  # ESPIRiT's 6×6 kernel needs ≥ 6 centre columns
        scan = read_scan(files["full"], 1, coils_from=source,
                         mask=sampling.equispaced_columns(SHAPE, 2, 0.375)[0])
        combined = centre_crop(scan.image.abs(), scan.crop)
        err = float((combined - scan.reference).norm() / scan.reference.norm())
        assert err < 0.05, (source, err)
        assert source in scan.coils_from


def test_single_coil_file_is_one_unit_coil(tmp_path):
    x = _objects(2)
    k = to_centred(np.fft.fftshift(np.fft.fft2(x.numpy(), norm="ortho"), axes=(-2, -1)))
    path = tmp_path / "single.h5"
    with h5py.File(path, "w") as f:
        f["kspace"] = k.astype(np.complex64)
        f["reconstruction_esc"] = x.abs().numpy()[:, 4:36].astype(np.float32)
    scan = read_scan(path, 0)
    assert scan.A.coils == 1 and scan.crop == CROP
    assert "reconstruction_esc" in scan.reference_kind
    torch.testing.assert_close(centre_crop(scan.image.abs(), CROP), scan.reference,
                               atol=1e-5, rtol=0)


def _copy(files, tmp_path, edit):
    path = tmp_path / "edited.h5"
    path.write_bytes(files["full"].read_bytes())
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _nan(f):
    k = f["kspace"][()]
    k[0, 0, 0, 0] = np.nan
    f["kspace"][...] = k


def _header(f):
    del f["ismrmrd_header"]
    f["ismrmrd_header"] = b"<ismrmrdHeader><unclosed>"


def _zero(f):
    f["kspace"][...] = 0
    f["reconstruction_rss"][...] = 0


@pytest.mark.parametrize("edit, match", [
    (lambda f: f.__delitem__("kspace"), "no 'kspace' dataset"),
    (_nan, "NaN or Inf"),
    (_header, "not valid XML"),
    (lambda f: f.__delitem__("sens_maps"), "no 'sens_maps'"),
    (_zero, "holds no signal"),
])
def test_damaged_files_are_named_errors(files, tmp_path, edit, match):
    path = _copy(files, tmp_path, edit)
    with pytest.raises(StableReconError, match=match):
        read_scan(path, 0, coils_from="file")


def test_bad_requests_are_named_errors(files, tmp_path):
    with pytest.raises(StableReconError, match="no such file"):
        read_scan(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(StableReconError, match="not an HDF5 file"):
        read_scan(tmp_path / "text.h5")
    with pytest.raises(StableReconError, match="out of range"):
        read_scan(files["full"], 3, coils_from="file")
    with pytest.raises(StableReconError, match="did not measure"):
        read_scan(files["under"], 0, mask=np.ones(SHAPE, bool), coils_from="file")
    with pytest.raises(StableReconError, match="mask has shape"):
        read_scan(files["full"], 0, mask=np.ones((5, 5), bool), coils_from="file")
    with pytest.raises(StableReconError, match="coils_from"):
        read_scan(files["full"], 0, coils_from="magic")


def test_maps_that_miss_the_object_are_refused(files):
    S = _maps()
    S[:, :, :] = 0
    S[:, 18:22, 14:18] = 0.5  # a tiny support in the middle
    with pytest.raises(StableReconError, match="outside their support"):
        read_scan(files["full"], 1, sens=S)


def test_file_is_written_atomically_in_fastmris_layout(files):
    with h5py.File(files["under"], "r") as f:
        assert f["kspace"].shape == (3, 4, *SHAPE) and f["kspace"].dtype == np.complex64
        assert f["reconstruction_rss"].shape == (3, *CROP)
        assert f["mask"].shape == (SHAPE[1],)
        assert f.attrs["acquisition"] == "SIMULATED"
        assert f.attrs["max"] == pytest.approx(float(f["reconstruction_rss"][()].max()))
    assert not list(files["root"].glob("*.tmp*"))
