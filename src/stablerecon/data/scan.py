r"""A recorded MRI scan as one measurement object: the measured k-space samples y, the
multi-coil operator A they belong to (mask and coil maps), the reference image and its crop.

fastMRI's HDF5 files hold ``kspace`` (slices, coils, H, W) — or (slices, H, W) single-coil —
in **centred** convention: the image is :math:`\mathrm{fftshift}(F^{-1}\,
\mathrm{ifftshift}(k))` (unitary F), cropped to the ISMRMRD header's reconstruction size
(``reconSpace/matrixSize``) for the reference ``reconstruction_rss`` (multi-coil) or
``reconstruction_esc`` (single-coil). This package's operators take the image array as it
is (object in the middle, FFT origin at pixel (0, 0)), so per axis of size N the samples are

.. math:: y[i] = k[i]\, e^{-2\pi i\, (i - N/2)\lfloor N/2\rfloor / N}

(:func:`from_centred`; the inverse shift of the image is a phase ramp in k-space), taken
where the mask samples. Nothing is re-simulated: the audits perturb around this y.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stablerecon import validate
from stablerecon.errors import StableReconError
from stablerecon.io import atomic_write
from stablerecon.operators.multicoil import MultiCoilFourier
from stablerecon.operators.sampling import column_mask

__all__ = ["COIL_SOURCES", "Scan", "centre_crop", "from_centred", "read_scan", "save_fastmri",
           "to_centred"]

#: where a scan's coil maps come from
COIL_SOURCES = ("espirit", "lowres", "file")

_ISMRMRD = "{http://www.ismrm.org/ISMRMRD}"


def _ramp(n: int, sign: float) -> np.ndarray:
    return np.exp(sign * 2j * math.pi * (np.arange(n) - n // 2) * (n // 2) / n)


def from_centred(kspace: np.ndarray) -> np.ndarray:
    """fastMRI's centred k-space in this package's centred convention (the same frequencies,
    each times the phase that moves the image's origin from its centre to pixel (0, 0)).

    Parameters
    ----------
    kspace : complex array (..., H, W)
        k-space as fastMRI stores it.

    Returns
    -------
    numpy.ndarray
        Same shape: ``fftshift`` of the unitary FFT of the image array.
    """
    h, w = kspace.shape[-2:]
    return kspace * _ramp(h, -1.0)[:, None] * _ramp(w, -1.0)[None, :]


def to_centred(kspace: np.ndarray) -> np.ndarray:
    """The inverse of :func:`from_centred`: this package's centred k-space as fastMRI stores
    it.

    Parameters
    ----------
    kspace : complex array (..., H, W)
        ``fftshift`` of the unitary FFT of the image array.

    Returns
    -------
    numpy.ndarray
        fastMRI's k-space.
    """
    h, w = kspace.shape[-2:]
    return kspace * _ramp(h, 1.0)[:, None] * _ramp(w, 1.0)[None, :]


def centre_crop(image: torch.Tensor, crop: Sequence[int]) -> torch.Tensor:
    """The centre ``crop`` (rows, cols) of the last two axes, as fastMRI crops (start at
    ``(H - h) // 2``).

    Parameters
    ----------
    image : torch.Tensor
        ``(..., H, W)``.
    crop : (h, w)
        The size kept (at most the image's).

    Returns
    -------
    torch.Tensor
        ``(..., h, w)``.
    """
    h, w = image.shape[-2:]
    ch, cw = int(crop[0]), int(crop[1])
    if ch > h or cw > w:
        raise StableReconError(f"crop {(ch, cw)} is larger than the image {(h, w)}; the "
                               "header's reconstruction size must fit the k-space matrix.")
    r0, c0 = (h - ch) // 2, (w - cw) // 2
    return image[..., r0:r0 + ch, c0:c0 + cw]


@dataclass
class Scan:
    """One recorded slice: the measured samples and everything needed to audit around them.

    Attributes
    ----------
    A : MultiCoilFourier
        The forward map of the recording (its mask and coil maps).
    y : torch.Tensor
        The measured samples ``(coils, m)``, divided by ``scale``.
    reference : torch.Tensor
        The image reconstructions are scored against, ``crop`` in size, real.
    reference_kind : str
        What the reference is (the file's reconstruction, RSS of fully sampled data, or an
        aliased zero-filled image when the file has neither).
    crop : (h, w)
        The reconstruction size: outputs are centre-cropped to it before scoring.
    image : torch.Tensor or None
        The coil combination of the fully sampled data, :math:`\\sum_c \\bar S_c F^{-1}
        k_c`, on the whole matrix (None when the file is undersampled): the image the tests
        that need a true x (kernel, accuracy) take, said so in their results.
    scale : float
        The file's k-space was divided by this (the reference's maximum becomes 1).
    source, slice_index, coils_from : str, int, str
        Where it came from.
    """

    A: MultiCoilFourier
    y: torch.Tensor
    reference: torch.Tensor
    reference_kind: str
    crop: tuple[int, int]
    image: torch.Tensor | None
    scale: float
    source: str
    slice_index: int
    coils_from: str
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        """The k-space matrix (H, W), the image size A acts on."""
        return tuple(self.A.in_shape)

    def zero_filled(self) -> torch.Tensor:
        """The zero-filled coil combination A^* y.

        Returns
        -------
        torch.Tensor
            Complex, the whole matrix ``shape``.
        """
        return self.A.adjoint(self.y)

    def to(self, device: torch.device | str) -> Scan:
        """A copy on ``device`` (operator, samples and images).

        Parameters
        ----------
        device : torch.device or str
            The target.

        Returns
        -------
        Scan
            The moved scan.
        """
        return Scan(self.A.to(device), self.y.to(device), self.reference.to(device),
                    self.reference_kind, self.crop,
                    None if self.image is None else self.image.to(device), self.scale,
                    self.source, self.slice_index, self.coils_from, list(self.notes))

    def describe(self) -> dict[str, Any]:
        """The JSON-ready record of the scan written into every result.

        Returns
        -------
        dict
            Source, slice, shape, coils, rate, crop, reference, coil maps' origin, scale
            and whether the file was fully sampled.
        """
        return {"source": self.source, "slice": self.slice_index, "shape": list(self.shape),
                "coils": self.A.coils, "rate": self.A.rate, "crop": list(self.crop),
                "reference": self.reference_kind, "coils_from": self.coils_from,
                "scale": self.scale, "file_fully_sampled": self.image is not None}


def _header_crop(f) -> tuple[int, int] | None:
    if "ismrmrd_header" not in f:
        return None
    raw = f["ismrmrd_header"][()]
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise StableReconError(f"the file's ismrmrd_header is not valid XML ({exc}); fix or "
                               "remove it (the crop then comes from the reference).") from exc
    size = root.find(f"{_ISMRMRD}encoding/{_ISMRMRD}reconSpace/{_ISMRMRD}matrixSize")
    if size is None:
        return None
    return int(size.find(f"{_ISMRMRD}x").text), int(size.find(f"{_ISMRMRD}y").text)


def _file_mask(f, k: np.ndarray, path: Path) -> np.ndarray:
    """The measured pattern (H, W): the file's ``mask`` dataset, else where data are non-zero
    (per column when whole columns are sampled, as fastMRI's masks do)."""
    h, w = k.shape[-2:]
    if "mask" in f:
        m = np.asarray(f["mask"]).astype(bool)
        if m.shape == (w,):
            return column_mask(m, h)
        if m.shape == (h, w):
            return m
        raise StableReconError(f"{path}: its mask has shape {m.shape}; fastMRI masks are "
                               f"columns ({w},) or the whole matrix ({h}, {w}).")
    sampled = np.abs(k).sum(axis=0) > 0
    columns = sampled.any(axis=0)
    if (sampled == columns[None, :]).all():
        return column_mask(columns, h)
    return sampled


def read_scan(path: str | Path, slice_index: int | None = None, *,
              mask: np.ndarray | Callable[[tuple[int, int]], np.ndarray] | None = None,
              coils_from: str = "espirit",
              sens: torch.Tensor | np.ndarray | None = None, dtype: torch.dtype =
              torch.complex64, **coil_options: Any) -> Scan:
    """Read one slice of a fastMRI HDF5 file (multi-coil or single-coil) as a :class:`Scan`.

    Parameters
    ----------
    path : str or Path
        The ``.h5`` file.
    slice_index : int, optional
        The slice (default: the middle one).
    mask : bool array (H, W) or (W,), or callable, optional
        Retrospective undersampling of a fully sampled file (e.g.
        ``sampling.equispaced_columns``), or a function of the k-space shape (H, W) that
        draws it; default the file's own pattern.
    coils_from : str
        ``"espirit"`` (default), ``"lowres"`` (both from the calibration region of the
        measured data), or ``"file"`` (a ``sens_maps`` dataset of shape (slices, coils, H,
        W), image convention). Ignored for single-coil files (one unit coil).
    sens : complex tensor (coils, H, W), optional
        Coil maps given directly (then ``coils_from`` is ``"given"``).
    dtype : torch.dtype
        Complex dtype of the samples and maps.
    **coil_options
        Passed to the estimator (``kernel``, ``threshold``, ``crop`` for ESPIRiT).

    Returns
    -------
    Scan
        The measurement object.

    Raises
    ------
    StableReconError
        For a missing file, no ``kspace``, a slice out of range, NaN/Inf in k-space, a mask
        that samples what was not measured, or maps of the wrong shape.
    """
    import h5py

    from stablerecon.data import coils

    path = Path(path)
    if not path.is_file():
        raise StableReconError(f"{path}: no such file; give a fastMRI .h5 file.")
    validate.choice("coils_from", coils_from, COIL_SOURCES)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise StableReconError(f"{path}: not an HDF5 file ({exc}).") from exc
    with f:
        if "kspace" not in f:
            raise StableReconError(f"{path}: no 'kspace' dataset (found {sorted(f.keys())}); "
                                   "a fastMRI file holds kspace (slices, coils, H, W).")
        ds = f["kspace"]
        if ds.ndim not in (3, 4) or not np.issubdtype(ds.dtype, np.complexfloating):
            raise StableReconError(f"{path}: kspace has shape {ds.shape} and dtype {ds.dtype}; "
                                   "expected complex (slices, coils, H, W) or (slices, H, W).")
        slices = ds.shape[0]
        index = slices // 2 if slice_index is None else slice_index
        validate.number("slice_index", index, integer=True)
        if not 0 <= index < slices:
            raise StableReconError(f"{path}: slice {index} is out of range; the file has "
                                   f"{slices} slices (0 to {slices - 1}).")
        k = np.asarray(ds[index], dtype=np.complex128)
        single = ds.ndim == 3
        if single:
            k = k[None]
        if not np.isfinite(k).all():
            raise StableReconError(f"{path}: slice {index} of kspace contains NaN or Inf; the "
                                   "file is damaged, or pick another slice.")
        measured = _file_mask(f, k, path)
        crop = _header_crop(f)
        ref_name = "reconstruction_esc" if single else "reconstruction_rss"
        reference = np.asarray(f[ref_name][index], dtype=np.float64) if ref_name in f else None
        file_sens = np.asarray(f["sens_maps"][index]) if "sens_maps" in f else None
    h, w = k.shape[-2:]
    if crop is None:
        crop = reference.shape[-2:] if reference is not None else (h, w)
    crop = (min(int(crop[0]), h), min(int(crop[1]), w))
    fully_sampled = bool(measured.all())
    if mask is None:
        chosen = measured
    else:
        chosen = np.asarray(mask((h, w)) if callable(mask) else mask, dtype=bool)
        if chosen.shape == (w,):
            chosen = column_mask(chosen, h)
        if chosen.shape != (h, w):
            raise StableReconError(f"mask has shape {chosen.shape}; this file's k-space is "
                                   f"{(h, w)}: draw it for that size (or columns ({w},)).")
        if (chosen & ~measured).any():
            raise StableReconError("the mask samples frequencies the file did not measure; "
                                   "retrospective masks need fully sampled data (or a subset "
                                   "of the file's own mask).")
    ours = torch.as_tensor(from_centred(k))
    full_images = None
    if fully_sampled:  # the scanner's magnitude image, before any crop
        full_images = torch.fft.ifft2(torch.fft.ifftshift(ours, dim=(-2, -1)), norm="ortho")
    if reference is not None:
        reference_kind = f"the file's {ref_name}"
    elif full_images is not None:
        reference = centre_crop(full_images.abs().pow(2).sum(0).sqrt(), crop).numpy()
        reference_kind = "RSS of the file's fully sampled k-space (no reconstruction in it)"
    else:
        zero = torch.fft.ifft2(torch.fft.ifftshift(ours, dim=(-2, -1)), norm="ortho")
        reference = centre_crop(zero.abs().pow(2).sum(0).sqrt(), crop).numpy()
        reference_kind = ("zero-filled RSS of the undersampled k-space: the file has no "
                          "reference and no fully sampled data, so PSNRs are against an "
                          "aliased image")
    if tuple(reference.shape) != crop:
        raise StableReconError(f"{path}: {ref_name} has shape {reference.shape} but the header "
                               f"says the reconstruction is {crop}.")
    scale = float(np.abs(reference).max())
    if not scale > 0:
        raise StableReconError(f"{path}: slice {index} holds no signal (zero reference); pick "
                               "another slice.")
    ours = (ours / scale).to(dtype)
    # coil maps, in the image convention of the operator
    if sens is not None:
        maps, source = torch.as_tensor(sens).to(dtype), "given"
    elif single:
        maps, source = torch.ones(1, h, w, dtype=dtype), "one unit coil (single-coil file)"
    elif coils_from == "file":
        if file_sens is None:
            raise StableReconError(f"{path}: no 'sens_maps' dataset for --coils-from file; "
                                   "estimate the maps instead (espirit or lowres).")
        maps, source = torch.as_tensor(file_sens).to(dtype), "the file's sens_maps"
    else:
        calib = ours * torch.as_tensor(chosen)  # only what the chosen mask measures
        estimator = coils.espirit if coils_from == "espirit" else coils.lowres
        maps = estimator(calib, mask=chosen, **coil_options).to(dtype)
        source = f"{coils_from} from the calibration region"
    A = MultiCoilFourier((h, w), chosen, maps)
    y = ours[:, torch.as_tensor(chosen)]
    image = None
    if fully_sampled:
        full = MultiCoilFourier((h, w), np.ones((h, w), dtype=bool), A.sens, normalise=False)
        image = full.adjoint(ours[:, torch.ones(h, w, dtype=torch.bool)])
    scan = Scan(A, y, torch.as_tensor(reference / scale, dtype=torch.float32 if dtype ==
                                      torch.complex64 else torch.float64),
                reference_kind, crop, image, scale, str(path), int(index), source)
    _check_support(scan)
    return scan


def _check_support(scan: Scan) -> None:
    """Coil maps must cover the object: energy of the reference outside their support is an
    error (Φ and any SENSE network would set those pixels to zero)."""
    support = centre_crop(scan.A.support, scan.crop).to(scan.reference.device)
    energy = float((scan.reference ** 2).sum())
    outside = float((scan.reference[~support] ** 2).sum()) / max(energy, 1e-300)
    if outside > 0.01:
        raise StableReconError(
            f"{scan.source}: the coil maps are zero where the object is ({outside:.1%} of the "
            "reference's energy lies outside their support); lower the estimator's crop/"
            "threshold (e.g. crop=0.8) or use --coils-from lowres.")


def save_fastmri(path: str | Path, images: torch.Tensor, sens: torch.Tensor, *,
                 crop: Sequence[int] | None = None, mask: np.ndarray | None = None,
                 noise: float = 0.0, seed: int = 0, maps: bool = False) -> Path:
    """Write simulated multi-coil data in fastMRI's exact layout (atomically): ``kspace``
    (slices, coils, H, W) complex64 centred, ``reconstruction_rss`` (slices, h, w) of the
    fully sampled data, an ISMRMRD header with the reconstruction size, the attributes
    ``acquisition``, ``max`` and ``norm``, and with ``mask`` (columns) undersampled k-space
    and the ``mask`` dataset, as fastMRI's test files have. For tests, demos and examples:
    no download needed.

    Parameters
    ----------
    path : str or Path
        The file to write.
    images : complex tensor (slices, H, W)
        The images (object in the middle of the array).
    sens : complex tensor (coils, H, W)
        Coil maps, used as given (normalise them first for Σ|S|² = 1).
    crop : (h, w), optional
        The reconstruction size (default the whole matrix).
    mask : bool array (W,), optional
        Sampled columns; unsampled k-space is stored as zeros.
    noise : float
        Complex Gaussian noise in k-space, relative to the k-space's RMS.
    seed : int
        Seed of the noise.
    maps : bool
        Also store ``sens_maps`` (slices, coils, H, W) (not a fastMRI dataset; for
        ``coils_from="file"``).

    Returns
    -------
    Path
        The file written.
    """
    import h5py

    images = torch.as_tensor(images)
    if images.ndim == 2:
        images = images[None]
    sens = torch.as_tensor(sens).to(torch.complex128)
    h, w = images.shape[-2:]
    crop = (h, w) if crop is None else (int(crop[0]), int(crop[1]))
    coil_images = images.to(torch.complex128)[:, None] * sens[None]
    k = torch.fft.fftshift(torch.fft.fft2(coil_images, norm="ortho"), dim=(-2, -1)).numpy()
    if noise > 0:
        rng = np.random.default_rng(seed)
        sigma = noise * np.sqrt(np.mean(np.abs(k) ** 2) / 2)
        k = k + sigma * (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape))
    full_images = torch.fft.ifft2(torch.fft.ifftshift(torch.as_tensor(k), dim=(-2, -1)),
                                  norm="ortho")
    rss = centre_crop(full_images.abs().pow(2).sum(1).sqrt(), crop).numpy()
    k = to_centred(k)
    if mask is not None:
        k = k * np.asarray(mask, dtype=bool)[None, None, None, :]
    header = (f'<?xml version="1.0" encoding="utf-8"?><ismrmrdHeader xmlns='
              f'"http://www.ismrm.org/ISMRMRD"><encoding><encodedSpace><matrixSize><x>{h}</x>'
              f"<y>{w}</y><z>1</z></matrixSize></encodedSpace><reconSpace><matrixSize>"
              f"<x>{crop[0]}</x><y>{crop[1]}</y><z>1</z></matrixSize></reconSpace></encoding>"
              "</ismrmrdHeader>")

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("kspace", data=k.astype(np.complex64))
            f.create_dataset("reconstruction_rss", data=rss.astype(np.float32))
            f.create_dataset("ismrmrd_header", data=header.encode())
            if mask is not None:
                f.create_dataset("mask", data=np.asarray(mask, dtype=np.float32))
            if maps:
                f.create_dataset("sens_maps", data=np.broadcast_to(
                    sens.numpy(), (images.shape[0], *sens.shape)).astype(np.complex64))
            f.attrs["acquisition"] = "SIMULATED"
            f.attrs["max"] = float(rss.max())
            f.attrs["norm"] = float(np.linalg.norm(rss))
    return atomic_write(path, write)
