r"""Coil sensitivity maps: simulated (a birdcage-style model, any number of coils) and
estimated from multi-coil k-space (ESPIRiT, and a cheap low-resolution estimate).

All maps are complex tensors ``(coils, H, W)`` in the image convention of
:class:`~stablerecon.operators.MultiCoilFourier` (pixel ``(0, 0)`` is the FFT's origin, the
object drawn in the middle of the array). The estimators take **centred** multi-coil
k-space ``(coils, H, W)`` (zero frequency at ``(H // 2, W // 2)``, zero where not sampled),
as :func:`centred_kspace` makes from the operator's samples, and a fully sampled
calibration region around the centre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from stablerecon import validate
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.memory_budget import check_fits

__all__ = ["birdcage", "calibration_region", "centred_kspace", "espirit", "lowres",
           "smooth_phase"]

#: the estimators' shared parameters (:func:`stablerecon.docstrings.fill`)
_ESTIMATOR = {
    "kspace": """
    kspace : torch.Tensor
        Centred multi-coil k-space ``(C, H, W)``.""",
    "region": """
    region : (rows, cols), optional
        The calibration region (default: :func:`calibration_region` of ``mask``).""",
    "mask": """
    mask : bool array (H, W), optional
        Sampling pattern, to find the region.""",
}


def _grid(shape: Sequence[int], dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised pixel coordinates in [-1, 1), the centre pixel (H // 2, W // 2) at 0."""
    h, w = int(shape[0]), int(shape[1])
    yy = (torch.arange(h, dtype=dtype) - h // 2) / (h / 2)
    xx = (torch.arange(w, dtype=dtype) - w // 2) / (w / 2)
    return torch.meshgrid(yy, xx, indexing="ij")


def birdcage(shape: Sequence[int], coils: int = 8, radius: float = 1.5,
             dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    r"""Simulated receive coils on a ring around the object (a birdcage-style array).

    Coil c sits at :math:`q_c = \rho(\cos\theta_c, \sin\theta_c)`, :math:`\theta_c = 2\pi
    c / C`, outside the field of view (ρ = ``radius`` in units of the half side); its map
    falls off with distance and turns with the direction from the coil,

    .. math:: S_c(p) = \frac{1}{|p - q_c|}\, e^{i(\theta_c + \arg(p - q_c))},

    then the maps are normalised to :math:`\sum_c |S_c(p)|^2 = 1` at every pixel.

    Parameters
    ----------
    shape : (H, W)
        Image size.
    coils : int
        Number of coils C ≥ 1.
    radius : float
        Distance of the coils from the centre, > 1 (outside the image).
    dtype : torch.dtype
        complex64 or complex128.

    Returns
    -------
    torch.Tensor
        Maps ``(C, H, W)``.

    Examples
    --------
    >>> S = birdcage((32, 32), coils=8)
    >>> S.shape, bool(torch.allclose((S.abs() ** 2).sum(0), torch.ones(32, 32), atol=1e-5))
    (torch.Size([8, 32, 32]), True)
    """
    validate.number("coils", coils, low=1, low_closed=True, integer=True)
    validate.number("radius", radius, low=1, hint="the coils sit outside the image")
    if dtype not in (torch.complex64, torch.complex128):
        raise StableReconError(f"birdcage: dtype must be complex64 or complex128, got {dtype}.")
    # dx, dy (float64) and the complex128 maps, with their temporaries
    check_fits(64 * int(coils) * math.prod(int(s) for s in shape),
               f"birdcage({tuple(shape)}, coils={coils})", "use fewer coils or a smaller image")
    real = torch.float64
    yy, xx = _grid(shape, real)
    theta = 2 * math.pi * torch.arange(int(coils), dtype=real) / int(coils)
    dy = yy[None] - radius * torch.sin(theta)[:, None, None]
    dx = xx[None] - radius * torch.cos(theta)[:, None, None]
    maps = torch.polar(1.0 / torch.sqrt(dx ** 2 + dy ** 2),
                       theta[:, None, None] + torch.atan2(dy, dx))
    maps = maps / (maps.abs() ** 2).sum(0).sqrt()
    return maps.to(dtype)


def smooth_phase(shape: Sequence[int], seed: int = 0, amplitude: float = math.pi,
                 order: int = 2, dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    r"""A random smooth phase field :math:`e^{i\varphi(p)}`: real MR images have one (B0
    inhomogeneity, coil and receiver phase), and a network trained on real images only
    would learn to expect none.

    :math:`\varphi` is a random combination of the 2-D cosines :math:`\cos(\pi(a u + b v) +
    \phi_{ab})`, :math:`0 \le a, b \le` ``order``, with weights decaying like
    :math:`1/(1 + a + b)`, scaled so that :math:`\max|\varphi| =` ``amplitude``.

    Parameters
    ----------
    shape : (H, W)
        Image size.
    seed : int
        Seed of the draw.
    amplitude : float
        Largest phase (radians).
    order : int
        Highest spatial frequency (cycles per field of view / 2).
    dtype : torch.dtype
        complex64 or complex128.

    Returns
    -------
    torch.Tensor
        Unit-modulus field ``(H, W)``.

    Examples
    --------
    >>> p = smooth_phase((16, 16), seed=1)
    >>> bool(torch.allclose(p.abs(), torch.ones(16, 16)))
    True
    """
    validate.number("amplitude", amplitude, low=0, low_closed=True)
    validate.number("order", order, low=0, low_closed=True, integer=True)
    rng = np.random.default_rng(seed)
    yy, xx = _grid(shape, torch.float64)
    phi = torch.zeros_like(yy)
    for a in range(order + 1):
        for b in range(order + 1):
            weight = rng.standard_normal() / (1.0 + a + b)
            phi = phi + weight * torch.cos(math.pi * (a * yy + b * xx) / 2
                                           + rng.uniform(0, 2 * math.pi))
    phi = phi - phi.mean()
    top = float(phi.abs().max())
    phi = phi * (amplitude / top) if top > 0 else phi
    return torch.polar(torch.ones_like(phi), phi).to(dtype)


def centred_kspace(A, y: torch.Tensor) -> torch.Tensor:
    """The multi-coil k-space of samples ``y`` of a :class:`MultiCoilFourier` ``A``, centred
    (zero frequency at ``(H // 2, W // 2)``) and zero where not sampled: what the
    estimators take.

    Parameters
    ----------
    A : MultiCoilFourier
        The operator the samples belong to.
    y : torch.Tensor
        Samples ``(C, m)``.

    Returns
    -------
    torch.Tensor
        ``(C, H, W)``.
    """
    return torch.fft.fftshift(A.kspace(y), dim=(-2, -1))


def calibration_region(mask: np.ndarray | torch.Tensor, limit: int = 24) -> tuple[int, int]:
    """The largest fully sampled rectangle centred on the zero frequency, each side at most
    ``limit``: the autocalibration (ACS) region the estimators learn the coils from.

    Parameters
    ----------
    mask : bool array (H, W)
        Sampling pattern, centred convention.
    limit : int
        Largest side (BART's default calibration size is 24).

    Returns
    -------
    tuple of int
        Rows and columns of the region.

    Examples
    --------
    >>> from stablerecon.operators import sampling
    >>> calibration_region(sampling.equispaced_columns((64, 64), 4, 0.125))
    (24, 8)
    """
    m = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask, dtype=bool)
    h, w = m.shape
    best = (0, 0)
    for rows in range(1, min(h, limit) + 1):
        r0 = h // 2 - rows // 2
        cols = 0
        while cols < min(w, limit):
            c = cols + 1
            c0 = w // 2 - c // 2
            if not m[r0:r0 + rows, c0:c0 + c].all():
                break
            cols = c
        if cols == 0:
            break
        if rows * cols >= best[0] * best[1]:
            best = (rows, cols)
    return best


def _calibration(kspace: torch.Tensor, region: tuple[int, int]) -> torch.Tensor:
    if kspace.ndim != 3 or not kspace.is_complex():
        raise StableReconError(f"coil estimation needs complex centred k-space (coils, H, W), "
                               f"got shape {tuple(kspace.shape)} and {kspace.dtype}.")
    if not bool(torch.isfinite(kspace).all()):
        raise StableReconError("coil estimation: the k-space contains NaN or Inf; clean it.")
    rows, cols = region
    h, w = kspace.shape[-2:]
    if rows < 1 or cols < 1 or rows > h or cols > w:
        raise StableReconError(f"coil estimation: calibration region {region} does not fit "
                               f"k-space of size {(h, w)}; sample the centre fully.")
    r0, c0 = h // 2 - rows // 2, w // 2 - cols // 2
    return kspace[:, r0:r0 + rows, c0:c0 + cols]


def _support_masked(images: torch.Tensor, threshold: float) -> torch.Tensor:
    """Coil images divided by their root-sum-of-squares, zero where that is below
    ``threshold`` times its largest value."""
    rss = (images.abs() ** 2).sum(0).sqrt()
    keep = rss > threshold * rss.max()
    return torch.where(keep, images / rss.clamp_min(torch.finfo(rss.dtype).tiny),
                       torch.zeros_like(images))


@fill(_ESTIMATOR)
def lowres(kspace: torch.Tensor, region: tuple[int, int] | None = None,
           mask: np.ndarray | torch.Tensor | None = None, threshold: float = 0.05
           ) -> torch.Tensor:
    r"""A cheap coil estimate: the coil images of the Hann-windowed calibration region
    (smooth, low resolution), each divided by their root-sum-of-squares,
    :math:`S_c = I_c / \sqrt{\sum_c |I_c|^2}`, and zero where that is below ``threshold``
    of its largest value (no coil sees an object there).

    Parameters
    ----------
    {{kspace}}
    {{region}}
    {{mask}}
    threshold : float
        Relative support threshold.

    Returns
    -------
    torch.Tensor
        Maps ``(C, H, W)``.
    """
    region = _region(region, mask)
    validate.number("threshold", threshold, low=0, high=1, low_closed=True)
    calib = _calibration(kspace, region)
    rows, cols = region
    window = (torch.hann_window(rows + 2, periodic=False, dtype=torch.float64)[1:-1, None]
              * torch.hann_window(cols + 2, periodic=False, dtype=torch.float64)[None, 1:-1])
    h, w = kspace.shape[-2:]
    padded = torch.zeros_like(kspace)
    r0, c0 = h // 2 - rows // 2, w // 2 - cols // 2
    padded[:, r0:r0 + rows, c0:c0 + cols] = calib * window.to(kspace.real.dtype)
    images = torch.fft.ifft2(torch.fft.ifftshift(padded, dim=(-2, -1)), norm="ortho")
    return _support_masked(images, threshold)


def _region(region, mask) -> tuple[int, int]:
    if region is None:
        if mask is None:
            raise StableReconError("coil estimation needs the calibration region: pass "
                                   "region=(rows, cols) or the sampling mask.")
        region = calibration_region(mask)
    region = (int(region[0]), int(region[1]))
    if min(region) < 1:
        raise StableReconError("coil estimation: the mask samples no fully sampled region "
                               "around the centre; sample the centre fully (center_fraction "
                               "> 0) or pass coil maps from a file.")
    return region


@fill(_ESTIMATOR)
def espirit(kspace: torch.Tensor, region: tuple[int, int] | None = None,
            mask: np.ndarray | torch.Tensor | None = None, kernel: int = 6,
            threshold: float = 0.02, crop: float = 0.9, chunk: int = 16) -> torch.Tensor:
    r"""ESPIRiT coil maps (Uecker et al., MRM 2014), written here in torch.

    1. The calibration matrix: every ``kernel × kernel`` patch of the fully sampled
       calibration region, all coils, one row each.
    2. Its right singular vectors with singular value above ``threshold`` times the largest
       span the signal subspace :math:`V_\parallel` (the rest is the null space: k-space
       relations that multi-coil data satisfy).
    3. In the image domain the projection onto that subspace, averaged over the patches that
       cover each frequency, is a C × C matrix per pixel,
       :math:`G(p) = \frac{1}{k^2}\sum_n \hat v_n(p)\,\hat v_n(p)^*`, with
       :math:`\hat v_n(p) = \sum_j \bar v_n[j] e^{2\pi i\, j\cdot p / N}` (the conjugated
       kernel's inverse DFT on the image grid, in the FFT order of the images). Its
       eigenvectors for eigenvalue 1 are the coil maps.
    4. Per pixel, the top eigenvector; its phase is referred to the first coil's, and the map
       is set to zero where the top eigenvalue is below ``crop`` (no consistent coil
       combination: outside the object).

    Maps are unit-norm per pixel (:math:`\sum_c |S_c|^2 = 1`) where kept.

    Parameters
    ----------
    {{kspace}}
    {{region}}
    {{mask}}
    kernel : int
        Side of the k-space kernels (BART's default 6), at most the region's sides.
    threshold : float
        Relative singular-value threshold of the signal subspace.
    crop : float
        Eigenvalue below which a pixel's maps are set to zero.
    chunk : int
        Kernels transformed to the image domain at a time (memory).

    Returns
    -------
    torch.Tensor
        Maps ``(C, H, W)``, in the dtype of ``kspace``.

    Examples
    --------
    >>> import stablerecon as sr
    >>> S = sr.data.coils.birdcage((32, 32), coils=4, dtype=torch.complex128)
    >>> x = sr.data.shepp_logan(32, dtype=torch.float64)
    >>> k = torch.fft.fftshift(torch.fft.fft2(S * x, norm="ortho"), dim=(-2, -1))
    >>> E = espirit(k, region=(16, 16), kernel=5)
    >>> inside = x > 0
    >>> agree = (E.conj() * S).sum(0).abs()[inside]   # |<S_est, S_true>| per pixel
    >>> bool(agree.min() > 0.99)
    True
    """
    region = _region(region, mask)
    validate.number("kernel", kernel, low=1, low_closed=True, integer=True)
    validate.number("threshold", threshold, low=0, high=1)
    validate.number("crop", crop, low=0, high=1, low_closed=True)
    validate.number("chunk", chunk, low=1, low_closed=True, integer=True)
    calib = _calibration(kspace, region)
    if kernel > min(region):
        raise StableReconError(f"espirit: kernel {kernel} is larger than the calibration "
                               f"region {region}; pass a smaller kernel= or sample more of "
                               "the centre.")
    coils = calib.shape[0]
    h, w = kspace.shape[-2:]
    patches = calib.unfold(1, kernel, 1).unfold(2, kernel, 1)  # (C, ny, nx, k, k)
    matrix = patches.permute(1, 2, 0, 3, 4).reshape(-1, coils * kernel * kernel)
    _, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    if not float(s[0]) > 0:
        raise StableReconError("espirit: the calibration region is all zero; the file's "
                               "centre of k-space holds no signal.")
    kept = int((s > threshold * s[0]).sum())
    v = vh[:kept].reshape(kept, coils, kernel, kernel)  # rows of V^*: the conjugated v_n
    gram = torch.zeros(h, w, coils, coils, dtype=kspace.dtype, device=kspace.device)
    for i in range(0, kept, chunk):
        block = torch.zeros(min(chunk, kept - i), coils, h, w, dtype=kspace.dtype,
                            device=kspace.device)
        block[..., :kernel, :kernel] = v[i:i + chunk]
        vhat = torch.fft.ifft2(block, norm="forward").permute(2, 3, 1, 0)  # (H, W, C, n)
        gram += vhat @ vhat.conj().transpose(-1, -2)
    gram /= kernel * kernel
    values, vectors = torch.linalg.eigh(gram)
    top, maps = values[..., -1], vectors[..., -1]  # (H, W), (H, W, C)
    ref = maps[..., :1]
    phase = torch.where(ref.abs() > 0, ref.conj() / ref.abs().clamp_min(1e-30),
                        torch.ones_like(ref))
    maps = (maps * phase).permute(2, 0, 1)
    return torch.where(top[None] >= crop, maps, torch.zeros_like(maps))
