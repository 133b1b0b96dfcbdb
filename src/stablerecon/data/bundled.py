"""Images that ship inside installed packages (no download needed).

scikit-image's bundled test images (those that need no download), pydicom's test files
(MR_small.dcm 64², CT_small.dcm 128²), nibabel's test NIfTI volumes, a held-out slice of the
MNI152 brain template inside nilearn (``"brain"``), plus the generated Shepp–Logan phantom.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from skimage.transform import resize

from stablerecon.data.brain import held_out_slice
from stablerecon.data.phantoms import shepp_logan
from stablerecon.data.readers import Image, normalise, read_image
from stablerecon.errors import StableReconError
from stablerecon.operators.base import check_size

_SKIMAGE = ("shepp_logan_phantom", "camera", "moon", "brick", "coins", "text", "page",
            "checkerboard", "horse", "clock", "grass", "gravel", "astronaut", "coffee")


def _pydicom_file(name: str) -> Path:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        raise StableReconError(f"pydicom does not ship {name} in this installation.")
    return Path(path)


def _nibabel_file(name: str) -> Path:
    from nibabel.testing import data_path

    return Path(data_path) / name


def _sources() -> dict[str, Callable[[], tuple[np.ndarray, str] | Path]]:
    import skimage.data

    out: dict[str, Callable] = {"phantom": lambda: (shepp_logan(256).numpy(), "stablerecon")}
    for name in _SKIMAGE:
        out[name] = (lambda n=name: (np.asarray(getattr(skimage.data, n)()), f"skimage.data.{n}"))
    out["mr_small"] = lambda: _pydicom_file("MR_small.dcm")
    out["ct_small"] = lambda: _pydicom_file("CT_small.dcm")
    out["nifti_anatomical"] = lambda: _nibabel_file("anatomical.nii")
    out["nifti_example4d"] = lambda: _nibabel_file("example4d.nii.gz")
    out["brain"] = lambda: (held_out_slice(), "MNI152 2009a T1 template (nilearn), axial "
                                              "slice 100 (test split of brain_slices)")
    return out


def available() -> list[str]:
    """Names of the images :func:`load` can return on this installation.

    Returns
    -------
    list of str
        Sorted names (scikit-image, pydicom and nibabel test images that are installed).

    Examples
    --------
    >>> "camera" in available() and "mr_small" in available()
    True
    """
    return sorted(_sources())


def load(
    name: str,
    size: int | tuple[int, int] | None = None,
    normalisation: str = "max",
    dtype: torch.dtype = torch.float32,
) -> Image:
    """Load a bundled image by name, grey, optionally resized.

    Parameters
    ----------
    name : str
        One of :func:`available`.
    size : int or (int, int), optional
        Resize to size × size (or (H, W)), anti-aliased.
    normalisation : str
        As in :func:`~stablerecon.data.normalise`.
    dtype : torch.dtype
        Real dtype of the result.

    Returns
    -------
    Image
        The image and its record.

    Examples
    --------
    >>> load("camera", size=64).x.shape
    torch.Size([64, 64])
    """
    sources = _sources()
    if name not in sources:
        raise StableReconError(f"unknown bundled image {name!r}; choose one of {available()}.")
    got = sources[name]()
    if isinstance(got, Path):
        image = read_image(got, normalisation="none", dtype=torch.float64)
        raw, source = image.x.numpy(), image.source
    else:
        raw, source = got
        if raw.ndim == 3:
            raw = raw[..., :3].astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])
    raw = np.asarray(raw, dtype=np.float64)
    if size is not None:
        shape = (size, size) if isinstance(size, int) else tuple(size)
        if len(shape) != 2 or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise StableReconError(f"size must be a positive integer or (H, W), got {size!r}.")
        check_size(shape, f"bundled image {name!r}")
        raw = resize(raw, shape, anti_aliasing=True, preserve_range=True)
    arr, record = normalise(raw, normalisation)
    record["resized_to"] = None if size is None else list(arr.shape)
    return Image(x=torch.as_tensor(arr).to(dtype), source=source, normalisation=record)
