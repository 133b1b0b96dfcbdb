"""Real anatomy without a download: slices of the MNI152 2009 T1 brain template.

The template ships inside the ``nilearn`` wheel on PyPI
(``nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz``: the ICBM 2009a
non-linear symmetric T1 average, 1 mm isotropic, 197 × 233 × 189, RAS). It is read here with
nibabel from the installed package; nilearn itself is never imported.

**Split** (deterministic, documented in :data:`SPLITS`): along the slicing axis, the test
slices are a block in the middle of the brain and every slice within :data:`GUARD` of it is
left out of training, so no training slice neighbours a test slice. Only slices of the chosen
orientation are used: a coronal or sagittal training slice would cross the axial test slices.

**Augmentation** (:func:`augment`, training only): a random left–right flip, a rotation of
up to ±10°, a zoom of 0.9–1.1, a shift of up to ±4 % and an intensity scale of 0.8–1.0, in
one bilinear resampling per image; and (:func:`brain_batch`) slices drawn between two
neighbouring training slices by linear interpolation (new, plausible anatomy).

Licence of the template (kept as its authors require):

    Copyright (C) 1993–2009 Louis Collins, McConnell Brain Imaging Centre, Montreal
    Neurological Institute, McGill University. Permission to use, copy, modify, and
    distribute this software and its documentation for any purpose and without fee is
    hereby granted, provided that the above copyright notice appear in all copies. The
    authors and McGill University make no representations about the suitability of this
    software for any purpose. It is provided "as is" without express or implied warranty.
    The authors are not responsible for any data loss, equipment damage, property loss, or
    injury to subjects or patients resulting from the use or misuse of this software
    package.

References: Fonov et al., NeuroImage 47 (2009) S102 and 54 (2011) 313; Collins et al. (1999).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch

from stablerecon import validate
from stablerecon.data.phantoms import PLACEMENT_DOCS
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.memory_budget import check_fits

TEMPLATE = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
#: slicing axis of the (x, y, z) = (R, A, S) volume for each orientation
AXES = {"sagittal": 0, "coronal": 1, "axial": 2}
#: per orientation: the range of slices with brain in them, and the held-out test block
SPLITS = {"axial": {"range": (20, 150), "test": (95, 105)},
          "coronal": {"range": (30, 200), "test": (110, 120)},
          "sagittal": {"range": (30, 167), "test": (70, 80)}}
#: slices on each side of the test block used for neither training nor testing
GUARD = 5


def template_path() -> Path:
    """Where the installed nilearn package keeps the MNI152 T1 template."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise StableReconError("the brain slices come from the MNI152 template inside the "
                               "'nilearn' package, which is not installed: pip install nilearn.")
    path = Path(list(spec.submodule_search_locations)[0]) / TEMPLATE
    if not path.exists():
        raise StableReconError(f"nilearn is installed but {path} is missing; reinstall "
                               "nilearn (the template ships in its wheel).")
    return path


@functools.lru_cache(maxsize=1)
def _volume() -> np.ndarray:
    import nibabel as nib

    return np.asarray(nib.load(str(template_path())).dataobj, dtype=np.float64)


def split_indices(split: str, orientation: str = "axial") -> list[int]:
    """Slice numbers of ``split`` ("train" or "test") along the orientation's axis."""
    if orientation not in SPLITS:
        raise StableReconError(f"unknown orientation {orientation!r}; choose one of "
                               f"{sorted(SPLITS)}.")
    (lo, hi), (t0, t1) = SPLITS[orientation]["range"], SPLITS[orientation]["test"]
    if split == "test":
        return list(range(t0, t1))
    if split == "train":
        return [k for k in range(lo, hi) if k < t0 - GUARD or k >= t1 + GUARD]
    raise StableReconError(f"unknown split {split!r}; choose 'train' or 'test'.")


def _slice(volume: np.ndarray, axis: int, index: float) -> np.ndarray:
    """One slice (fractional index: linear interpolation), shown as a radiologist would:
    anterior (axial) or superior (coronal, sagittal) at the top."""
    k0 = int(math.floor(index))
    w = index - k0
    sl = np.take(volume, k0, axis=axis)
    if w > 0:
        sl = (1 - w) * sl + w * np.take(volume, k0 + 1, axis=axis)
    return np.rot90(sl)


def _square(sl: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad to a centred square, resize to size × size (anti-aliased), scale to max 1."""
    from skimage.transform import resize

    h, w = sl.shape
    n = max(h, w)
    out = np.zeros((n, n))
    out[(n - h) // 2:(n - h) // 2 + h, (n - w) // 2:(n - w) // 2 + w] = sl
    out = resize(out, (size, size), anti_aliasing=True, preserve_range=True)
    out = np.clip(out, 0.0, None)
    return out / max(float(out.max()), 1e-12)


@fill(PLACEMENT_DOCS)
def brain_slices(size: int = 128, split: str = "test", orientation: str = "axial",
                 dtype: torch.dtype = torch.float32,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """Slices of the MNI152 T1 template, each scaled to max 1.

    Deterministic: no randomness. ``split="test"`` gives the held-out block (10 slices;
    axial 95–104), ``"train"`` every slice of the brain that is at least :data:`GUARD` + 1
    slices away from it (see the module docstring).

    Parameters
    ----------
    size : int
        Side in pixels (≥ 8); each slice is zero-padded to a square and resized.
    split : str
        ``"test"`` or ``"train"``.
    orientation : str
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    {{dtype_device}}

    Returns
    -------
    torch.Tensor
        Shape (count, size, size).

    Examples
    --------
    >>> x = brain_slices(64, "test")
    >>> tuple(x.shape), float(x.max())
    ((10, 64, 64), 1.0)
    """
    validate.number("brain_slices size", size, low=8, low_closed=True, integer=True)
    idx = split_indices(split, orientation)
    # each slice resized (float64), the list and its stack, then the tensor
    check_fits(8 * 3 * len(idx) * size ** 2, f"brain_slices({size}, {split!r})",
               "choose a smaller size")
    vol = _volume()
    out = np.stack([_square(_slice(vol, AXES[orientation], k), size) for k in idx])
    return torch.as_tensor(out, dtype=dtype, device=device)


def held_out_slice(index: int = 100, size: int | None = None,
                   orientation: str = "axial") -> np.ndarray:
    """One test slice, zero-padded to a square and scaled to max 1, at ``size`` × ``size``
    (None: the template's resolution); equal to its row of :func:`brain_slices`."""
    test = split_indices("test", orientation)
    if index not in test:
        raise StableReconError(f"slice {index!r} is not a held-out {orientation} slice; "
                               f"choose one of {test[0]}..{test[-1]}.")
    sl = _slice(_volume(), AXES[orientation], index)
    return _square(sl, size or max(sl.shape))


def augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random flip, rotation (±10°), zoom (0.9–1.1), shift (±4 %) and intensity scale
    (0.8–1.0) of each image of a batch ``(B, H, W)``, one bilinear resampling each."""
    b = x.shape[0]
    angle = np.deg2rad(rng.uniform(-10, 10, b))
    zoom = rng.uniform(0.9, 1.1, b)
    flip = np.where(rng.random(b) < 0.5, -1.0, 1.0)
    shift = rng.uniform(-0.04, 0.04, (b, 2))
    theta = np.zeros((b, 2, 3))
    theta[:, 0, 0] = np.cos(angle) / zoom * flip
    theta[:, 0, 1] = -np.sin(angle) / zoom
    theta[:, 1, 0] = np.sin(angle) / zoom * flip
    theta[:, 1, 1] = np.cos(angle) / zoom
    theta[:, :, 2] = shift
    grid = torch.nn.functional.affine_grid(
        torch.as_tensor(theta, dtype=x.dtype, device=x.device), [b, 1, *x.shape[-2:]],
        align_corners=False)
    out = torch.nn.functional.grid_sample(x[:, None], grid, mode="bilinear",
                                          padding_mode="zeros", align_corners=False)[:, 0]
    scale = torch.as_tensor(rng.uniform(0.8, 1.0, b), dtype=x.dtype, device=x.device)
    return out.clamp_min(0) / out.amax(dim=(-2, -1)).clamp_min(1e-12)[:, None, None] \
        * scale[:, None, None]


@functools.lru_cache(maxsize=4)
def _training_stack(size: int, orientation: str) -> tuple[torch.Tensor, tuple[int, ...]]:
    idx = split_indices("train", orientation)
    return brain_slices(size, "train", orientation, torch.float64), tuple(idx)


def brain_batch(size: int, count: int, seed: int, orientation: str = "axial") -> torch.Tensor:
    """``count`` augmented training slices, a function of ``seed``: each is a training slice
    or (half of the time) a slice interpolated between two neighbouring training slices,
    then :func:`augment`-ed. Float32, on the CPU."""
    stack, idx = _training_stack(size, orientation)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(idx), count)
    images = []
    for p in picks:
        img = stack[p]
        nxt = p + 1
        if rng.random() < 0.5 and nxt < len(idx) and idx[nxt] == idx[p] + 1:
            w = float(rng.random())
            img = (1 - w) * img + w * stack[nxt]
        images.append(img)
    return augment(torch.stack(images), rng).float()
