"""Generated test objects: Shepp–Logan, random ellipses, sparse vectors."""

from __future__ import annotations

import numpy as np
import torch

from stablerecon import validate
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.memory_budget import check_fits

# Modified Shepp–Logan (Toft, 1996): intensity, semi-axes a, b, centre x0, y0, angle (deg),
# on the square [-1, 1]^2 with y pointing up.
_MODIFIED_SHEPP_LOGAN = np.array(
    [
        [1.0, 0.69, 0.92, 0.0, 0.0, 0.0],
        [-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0],
        [-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0],
        [-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0],
        [0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0],
        [0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0],
        [0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0],
        [0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0],
        [0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0],
        [0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0],
    ]
)


def ellipses_image(size: int, params: np.ndarray, supersample: int = 2) -> np.ndarray:
    """Rasterise a sum of ellipses on [-1, 1]^2 to a ``size × size`` image.

    ``params`` rows are (intensity, a, b, x0, y0, angle in degrees), optionally followed by
    (period in pixels, direction in degrees, phase): an ellipse with a period > 0 is filled
    with the stripe texture intensity·(1 + cos(2π⟨u, p⟩/period + phase))/2 instead of a
    constant. Each pixel is the mean over ``supersample²`` sub-pixel points (anti-aliasing).
    """
    validate.number("phantom size", size, low=2, low_closed=True, integer=True)
    n = size * supersample
    coords = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    x = coords[None, :]
    y = -coords[:, None]
    img = np.zeros((n, n))
    params = np.asarray(params, dtype=float)
    if params.ndim != 2 or params.shape[1] not in (6, 9):
        raise StableReconError(f"ellipse parameters must be rows of 6 (or 9, with a texture) "
                               f"numbers, got shape {params.shape}.")
    for row in params:
        value, a, b, x0, y0, angle = row[:6]
        phi = np.deg2rad(angle)
        c, s = np.cos(phi), np.sin(phi)
        xr = (x - x0) * c + (y - y0) * s
        yr = -(x - x0) * s + (y - y0) * c
        fill = value * ((xr / a) ** 2 + (yr / b) ** 2 <= 1.0)
        if len(row) == 9 and row[6] > 0:
            period, direction, phase = row[6] * 2.0 / size, np.deg2rad(row[7]), row[8]
            u = x * np.cos(direction) + y * np.sin(direction)
            fill = fill * 0.5 * (1.0 + np.cos(2.0 * np.pi * u / period + phase))
        img += fill
    return img.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


#: parameters the image makers document alike (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
PLACEMENT_DOCS = {
    "dtype_device": """
    dtype : torch.dtype
        The result's dtype.
    device : str or torch.device
        Where the result lives.""",
}


@fill(PLACEMENT_DOCS)
def shepp_logan(size: int = 256, dtype: torch.dtype = torch.float32,
                device: str | torch.device = "cpu") -> torch.Tensor:
    """Modified Shepp–Logan phantom (Toft 1996), values in [0, 1].

    Parameters
    ----------
    size : int
        Side in pixels.
    {{dtype_device}}

    Returns
    -------
    torch.Tensor
        Shape (size, size).

    Examples
    --------
    >>> x = shepp_logan(64)
    >>> x.shape, float(x.max()) <= 1.0
    (torch.Size([64, 64]), True)
    """
    validate.number("shepp_logan size", size, low=1, low_closed=True, integer=True)
    check_fits(3 * 8 * (2 * size) ** 2, f"shepp_logan({size})", "choose a smaller size")
    img = np.clip(ellipses_image(size, _MODIFIED_SHEPP_LOGAN), 0.0, None)
    return torch.as_tensor(img, dtype=dtype, device=device)


def random_ellipses(
    size: int = 128,
    count: int = 1,
    seed: int = 0,
    max_ellipses: int = 12,
    dtype: torch.dtype = torch.float32,
    texture: float = 0.0,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Random ellipse phantoms, the FBPConvNet training recipe (Jin et al., 2017).

    Each image has a random number (3..``max_ellipses``) of ellipses with random centre,
    semi-axes, angle and intensity (positive or negative), inside the inscribed circle; the
    image is clipped below at 0 and scaled to max 1. Drawn with numpy: the same images on
    every device.

    Parameters
    ----------
    size : int
        Side in pixels.
    count : int
        Number of images.
    seed : int
        Seed of the draw.
    max_ellipses : int
        Most ellipses per image.
    dtype : torch.dtype
        The result's dtype.
    texture : float
        Probability that an inner ellipse is filled with fine stripes (period 2.5–6
        pixels, random direction and phase) instead of a constant: detail that lives mostly
        at the high frequencies a variable-density mask samples sparsely.
    device : str or torch.device
        Where the result lives.

    Returns
    -------
    torch.Tensor
        Shape (count, size, size).
    """
    validate.number("texture", texture, low=0, high=1, low_closed=True, hint="a probability")
    validate.number("count", count, low=1, low_closed=True, integer=True)
    validate.number("random_ellipses size", size, low=1, low_closed=True, integer=True)
    # the images (float64) and one supersampled image's grids at a time
    check_fits(8 * (count + 12) * size ** 2, f"random_ellipses({size}, count={count})",
               "draw fewer or smaller images (or draw them in batches)")
    validate.number("max_ellipses", max_ellipses, low=3, low_closed=True, integer=True)
    rng = np.random.default_rng(seed)
    out = np.empty((count, size, size))
    for k in range(count):
        n = int(rng.integers(3, max_ellipses + 1))
        params = np.column_stack(
            [
                rng.uniform(-0.5, 1.0, n),
                rng.uniform(0.05, 0.45, n),
                rng.uniform(0.05, 0.45, n),
                rng.uniform(-0.45, 0.45, n),
                rng.uniform(-0.45, 0.45, n),
                rng.uniform(0.0, 180.0, n),
            ]
        )
        params[0] = [1.0, rng.uniform(0.6, 0.8), rng.uniform(0.6, 0.8), 0.0, 0.0,
                     rng.uniform(0, 180)]  # a body ellipse so the image is never empty
        if texture > 0:
            stripes = np.column_stack([rng.uniform(2.5, 6.0, n), rng.uniform(0.0, 180.0, n),
                                       rng.uniform(0.0, 2 * np.pi, n)])
            stripes[rng.random(n) >= texture, 0] = 0.0
            stripes[0, 0] = 0.0  # the body stays flat
            params = np.hstack([params, stripes])
        img = np.clip(ellipses_image(size, params), 0.0, None)
        out[k] = img / img.max()
    return torch.as_tensor(out, dtype=dtype, device=device)


def sparse_vector(
    n: int,
    sparsity: int,
    seed: int = 0,
    complex: bool = False,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """A random s-sparse vector in R^n (or C^n): support uniform, values standard normal.

    Parameters
    ----------
    n : int
        Length.
    sparsity : int
        s, the number of non-zeros (0..n).
    seed : int
        Seed of the draw.
    complex : bool
        Complex values (real and imaginary parts standard normal).
    dtype : torch.dtype
        The real result's dtype.
    device : str or torch.device
        Where the result lives.

    Returns
    -------
    torch.Tensor
        Shape (n,).

    Examples
    --------
    >>> int((sparse_vector(100, 5, seed=1) != 0).sum())
    5
    """
    if not 0 <= sparsity <= n:
        raise StableReconError(f"sparse_vector: need 0 <= sparsity <= n={n}, got {sparsity}.")
    rng = np.random.default_rng(seed)
    x = np.zeros(n, dtype=np.complex128 if complex else np.float64)
    support = rng.choice(n, size=sparsity, replace=False)
    values = rng.standard_normal(sparsity)
    if complex:
        values = values + 1j * rng.standard_normal(sparsity)
    x[support] = values
    out = torch.as_tensor(x, device=device)
    return out if complex else out.to(dtype)
