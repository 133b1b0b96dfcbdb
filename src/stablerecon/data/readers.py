"""Readers for user images: PNG/TIFF/JPEG, NPY, DICOM, NIfTI, fastMRI-style HDF5.

Every reader returns an :class:`Image` whose ``x`` is a torch tensor (H, W), real or
complex, with the normalisation applied and recorded, so results can say exactly what the
pixel values meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stablerecon.errors import StableReconError

NORMALISATIONS = ("max", "minmax", "none")


@dataclass
class Image:
    """An image with where it came from and how its values were scaled:
    ``x = (raw - offset) / scale``.

    Attributes
    ----------
    x : torch.Tensor
        The 2-D image.
    source : str
        Where it came from (file, package).
    normalisation : dict
        Method, offset and scale.
    """

    x: torch.Tensor
    source: str
    normalisation: dict[str, Any] = field(default_factory=dict)


def normalise(raw: np.ndarray, method: str = "max") -> tuple[np.ndarray, dict[str, Any]]:
    """Scale an array explicitly, and say how.

    Parameters
    ----------
    raw : numpy.ndarray
        The values (finite).
    method : str
        ``"max"`` divides by max |raw|, ``"minmax"`` maps to [0, 1] (real images),
        ``"none"`` leaves values as they are.

    Returns
    -------
    tuple of (numpy.ndarray, dict)
        The scaled array, and the record (method, offset, scale).
    """
    if method not in NORMALISATIONS:
        raise StableReconError(
            f"unknown normalisation {method!r}; choose one of {', '.join(NORMALISATIONS)}."
        )
    raw = np.asarray(raw)
    if not np.isfinite(raw).all():
        raise StableReconError("image contains NaN or Inf values; clean it before use.")
    offset, scale = 0.0, 1.0
    if method == "max":
        scale = float(np.abs(raw).max()) or 1.0
    elif method == "minmax":
        if np.iscomplexobj(raw):
            raise StableReconError("minmax normalisation needs a real image; use 'max'.")
        offset = float(raw.min())
        scale = float(raw.max() - raw.min()) or 1.0
    out = (raw - offset) / scale
    return out, {"method": method, "offset": offset, "scale": scale}


def _to_2d(arr: np.ndarray, path: Path, slice_index: int | None) -> np.ndarray:
    arr = np.squeeze(arr)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and not np.iscomplexobj(arr):
        arr = arr[..., :3].astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])  # RGB->gray
    while arr.ndim > 2:
        index = arr.shape[0] // 2 if slice_index is None else slice_index
        if not 0 <= index < arr.shape[0]:
            raise StableReconError(
                f"{path}: slice {index} is out of range for a volume of shape {arr.shape}."
            )
        arr = arr[index]
    if arr.ndim != 2:
        raise StableReconError(f"{path}: expected a 2-D image, got array of shape {arr.shape}.")
    return arr


def _read_raster(path: Path, key: str | None) -> np.ndarray:
    import skimage.io

    return skimage.io.imread(path)


def _read_npy(path: Path, key: str | None) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def _read_dicom(path: Path, key: str | None) -> np.ndarray:
    import pydicom

    ds = pydicom.dcmread(path)
    arr = ds.pixel_array.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1.0))
    intercept = float(getattr(ds, "RescaleIntercept", 0.0))
    return arr * slope + intercept


def _read_nifti(path: Path, key: str | None) -> np.ndarray:
    import nibabel

    vol = np.asarray(nibabel.load(str(path)).dataobj)
    # NIfTI stores x, y, z(, t): put the slice axis first.
    return np.moveaxis(vol, -1, 0) if vol.ndim >= 3 else vol


def _read_hdf5(path: Path, key: str | None) -> np.ndarray:
    """fastMRI layout: ``kspace`` (slices, [coils,] H, W) complex, or a reconstruction.

    With ``key="kspace"`` (or when it is the only image dataset) the image is the
    root-sum-of-squares of the centred inverse FFT over coils (a complex single-coil image
    is returned as complex).
    """
    import h5py

    with h5py.File(path, "r") as f:
        names = [k for k in f.keys() if isinstance(f[k], h5py.Dataset)]
        if key is None:
            preferred = ("reconstruction_rss", "reconstruction_esc", "kspace")
            key = next((k for k in preferred if k in names), None)
        if key is None or key not in names:
            raise StableReconError(
                f"{path}: no dataset {key!r}; found {names}. Pass key= one of them "
                "(fastMRI files hold 'kspace' and 'reconstruction_rss')."
            )
        data = np.asarray(f[key])
    if key == "kspace":
        if data.ndim < 3:
            data = data[None]
        sl = data[data.shape[0] // 2]
        image = np.fft.fftshift(
            np.fft.ifft2(np.fft.ifftshift(sl, axes=(-2, -1)), norm="ortho"), axes=(-2, -1)
        )
        return np.sqrt((np.abs(image) ** 2).sum(axis=0)) if image.ndim == 3 else image
    return data


_READERS = {
    ".png": _read_raster,
    ".tif": _read_raster,
    ".tiff": _read_raster,
    ".jpg": _read_raster,
    ".jpeg": _read_raster,
    ".npy": _read_npy,
    ".dcm": _read_dicom,
    ".nii": _read_nifti,
    ".nii.gz": _read_nifti,
    ".h5": _read_hdf5,
    ".hdf5": _read_hdf5,
}

#: file name endings :func:`read_image` reads
SUFFIXES = tuple(_READERS)


def read_image(
    path: str | Path,
    normalisation: str = "max",
    slice_index: int | None = None,
    key: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Image:
    """Read one 2-D image from a file, by its suffix.

    Parameters
    ----------
    path : str or Path
        A .png .tif .tiff .jpg .npy .dcm .nii .nii.gz .h5 or .hdf5 file.
    normalisation : str
        ``"max"`` (default), ``"minmax"`` or ``"none"`` (see :func:`normalise`).
    slice_index : int, optional
        For volumes, the slice along the first axis (NIfTI: the last axis); default the
        middle one.
    key : str, optional
        HDF5 dataset name (default: reconstruction_rss, reconstruction_esc, kspace).
    dtype : torch.dtype
        Real dtype of the result (complex data gets the matching complex dtype).

    Returns
    -------
    Image
        The image and its record.

    Raises
    ------
    StableReconError
        For a missing, unreadable, empty, non-numeric or non-finite file, naming the fix.
    """
    path = Path(path)
    if not path.exists():
        raise StableReconError(f"{path}: no such file; check the path.")
    if not path.is_file():
        raise StableReconError(f"{path} is a folder, not a file; give one image file.")
    name = path.name.lower()
    suffix = ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()
    if suffix not in _READERS:
        raise StableReconError(
            f"{path}: unsupported file type {suffix or '(none)'}; supported: "
            f"{', '.join(sorted(_READERS))}."
        )
    try:
        raw = _READERS[suffix](path, key)
    except StableReconError:
        raise
    except Exception as exc:  # the library's own message says what was wrong
        raise StableReconError(
            f"{path}: could not be read as {suffix} ({type(exc).__name__}: {exc})."
        ) from exc
    raw = np.asarray(raw)
    if raw.size == 0:
        raise StableReconError(f"{path}: the array is empty (shape {raw.shape}); give an image.")
    if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        raise StableReconError(f"{path}: holds {raw.dtype} values, not numbers; give an image.")
    arr2d = _to_2d(raw, path, slice_index)
    if not np.isfinite(arr2d).all():
        raise StableReconError(f"{path}: the image contains NaN or Inf values; clean it first.")
    arr, record = normalise(arr2d, normalisation)
    if np.iscomplexobj(arr):
        complex_dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        tensor = torch.as_tensor(arr).to(complex_dtype)
    else:
        tensor = torch.as_tensor(arr.astype(np.float64)).to(dtype)
    return Image(x=tensor, source=str(path), normalisation=record)
