"""Sampling patterns for subsampled Fourier (MRI) measurements.

Every function returns a boolean mask of shape (H, W) in **centred convention**: the zero
frequency sits at ``(H // 2, W // 2)``, as after ``numpy.fft.fftshift``. Every function
takes the target rate (fraction of sampled frequencies) and a seed, and hits the rate
exactly up to rounding to whole samples (for ``cartesian_lines``, to half a line); the
achieved rate is ``mask.mean()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stablerecon import validate
from stablerecon.errors import StableReconError
from stablerecon.operators.base import check_size


def _validate(shape: Sequence[int], rate: float) -> tuple[int, int, int]:
    if len(shape) != 2 or min(shape) < 1:
        raise StableReconError(f"sampling: shape must be (H, W) with H, W >= 1, got {shape}.")
    validate.number("sampling rate", rate, low=0, high=1, hint="the fraction of samples")
    check_size(shape, "sampling")
    h, w = int(shape[0]), int(shape[1])
    return h, w, max(1, int(round(rate * h * w)))


def frequency_radius(shape: Sequence[int]) -> np.ndarray:
    """Normalised radius |k| / (N/2) of each centred frequency: 0 at the centre, ~1 at edges."""
    h, w = int(shape[0]), int(shape[1])
    ky = (np.arange(h) - h // 2) / (h / 2)
    kx = (np.arange(w) - w // 2) / (w / 2)
    return np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)


def _weighted_choice(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct flat indices drawn with probability proportional to weights."""
    flat = weights.ravel().astype(float)
    forced = np.flatnonzero(np.isinf(flat))
    if forced.size >= count:
        return rng.choice(forced, size=count, replace=False)
    rest = np.flatnonzero(np.isfinite(flat) & (flat > 0))
    p = flat[rest] / flat[rest].sum()
    picked = rng.choice(rest, size=count - forced.size, replace=False, p=p)
    return np.concatenate([forced, picked])


def _mask_from(shape: tuple[int, int], flat: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[0] * shape[1], dtype=bool)
    mask[flat] = True
    return mask.reshape(shape)


def uniform(shape: Sequence[int], rate: float, seed: int = 0) -> np.ndarray:
    """Uniformly random frequencies, ``round(rate H W)`` of them, without replacement.

    >>> int(uniform((16, 16), 0.25, seed=1).sum())
    64
    """
    h, w, m = _validate(shape, rate)
    rng = np.random.default_rng(seed)
    return _mask_from((h, w), rng.choice(h * w, size=m, replace=False))


def variable_density(
    shape: Sequence[int],
    rate: float,
    seed: int = 0,
    decay: float = 2.0,
    centre: float = 0.04,
) -> np.ndarray:
    r"""2-D variable-density random sampling.

    Frequencies are drawn without replacement with density
    :math:`p(k) \propto (1 + (|k|/r_0)^2)^{-\text{decay}/2}`, :math:`r_0 = 0.1`, with
    ``|k|`` the normalised radius (:func:`frequency_radius`); the disc ``|k| <= centre``
    is always fully sampled (when it fits in the budget).

    >>> m = variable_density((64, 64), 0.25, seed=0)
    >>> float(m.mean()), bool(m[32, 32])
    (0.25, True)
    """
    h, w, m = _validate(shape, rate)
    r = frequency_radius((h, w))
    weights = (1.0 + (r / 0.1) ** 2) ** (-decay / 2.0)
    weights[r <= centre] = np.inf
    rng = np.random.default_rng(seed)
    return _mask_from((h, w), _weighted_choice(weights, m, rng))


def multilevel(
    shape: Sequence[int],
    rate: float,
    seed: int = 0,
    levels: int = 8,
    decay: float = 1.5,
) -> np.ndarray:
    r"""Multilevel random sampling (Adcock, Hansen, Poon & Roman, 2017).

    k-space is split into ``levels`` annuli of equal radial width in normalised radius
    (the last one takes the corners); level ``l`` is sampled uniformly at random at
    fraction :math:`f_l = \min(1, c\,(l+1)^{-\text{decay}})`, with ``c`` found by bisection
    so that the total count is ``round(rate H W)``. Coarse levels are therefore saturated
    (fully sampled) first, as in the asymptotic-sparsity theory.

    >>> m = multilevel((64, 64), 0.2, seed=0)
    >>> round(float(m.mean()), 4), bool(m[32, 32])
    (0.2, True)
    """
    h, w, m = _validate(shape, rate)
    validate.number("multilevel levels", levels, low=1, low_closed=True, integer=True)
    r = frequency_radius((h, w))
    edges = np.linspace(0.0, 1.0, levels + 1)
    level = np.clip(np.searchsorted(edges, r, side="right") - 1, 0, levels - 1)
    sizes = np.bincount(level.ravel(), minlength=levels)
    base = (np.arange(levels) + 1.0) ** (-decay)

    def counts(c: float) -> np.ndarray:
        return np.floor(np.minimum(1.0, c * base) * sizes).astype(int)

    lo, hi = 0.0, 1.0
    while counts(hi).sum() < m and hi < 1e12:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if counts(mid).sum() < m else (lo, mid)
    per_level = counts(lo)
    # Distribute the last few samples (lost to flooring) to unsaturated levels, coarse first.
    for lvl in range(levels):
        if per_level.sum() >= m:
            break
        per_level[lvl] += min(sizes[lvl] - per_level[lvl], m - per_level.sum())
    rng = np.random.default_rng(seed)
    flat_level = level.ravel()
    chosen = [
        rng.choice(np.flatnonzero(flat_level == lvl), size=per_level[lvl], replace=False)
        for lvl in range(levels)
    ]
    return _mask_from((h, w), np.concatenate(chosen))


def radial_lines(shape: Sequence[int], rate: float, seed: int = 0) -> np.ndarray:
    """Radial lines through the k-space centre at golden-angle increments.

    Lines are rasterised (nearest frequency, one sample per unit radius) starting at a
    random angle drawn from ``seed``; whole lines are added until the next would pass the
    budget, then the last line is filled from the centre outwards so that exactly
    ``round(rate H W)`` frequencies are sampled.

    >>> m = radial_lines((64, 64), 0.25, seed=0)
    >>> round(float(m.mean()), 4)
    0.25
    """
    h, w, m = _validate(shape, rate)
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, np.pi)
    golden = np.pi * (3.0 - np.sqrt(5.0)) / 2.0 * 2.0  # golden angle modulo pi
    radius = np.arange(-max(h, w), max(h, w) + 1, 0.5)
    order = np.argsort(np.abs(radius), kind="stable")
    radius = radius[order]
    mask = np.zeros((h, w), dtype=bool)
    count = 0
    for line in range(100 * max(h, w)):
        theta = start + line * golden
        iy = np.round(h // 2 + radius * np.sin(theta)).astype(int)
        ix = np.round(w // 2 + radius * np.cos(theta)).astype(int)
        keep = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        flat = iy[keep] * w + ix[keep]
        _, first = np.unique(flat, return_index=True)
        flat = flat[np.sort(first)]  # centre-outwards order, duplicates removed
        new = flat[~mask.ravel()[flat]]
        take = new[: m - count]
        mask.ravel()[take] = True
        count += take.size
        if count >= m:
            return mask
    raise StableReconError(f"radial_lines could not reach rate {rate} on shape {shape}.")


def cartesian_lines(
    shape: Sequence[int],
    rate: float,
    seed: int = 0,
    centre_fraction: float = 0.08,
) -> np.ndarray:
    """Cartesian phase-encode lines (fastMRI style): whole rows of k-space.

    The central ``round(centre_fraction H)`` rows are always sampled (when they fit in the
    budget); the remaining rows are chosen uniformly at random, ``round(rate H)`` rows in
    all. Only whole lines are physical here, so the rate is exact up to half a line,
    ``|mask.mean() - rate| <= 1 / (2H)`` (0.2 percentage points at H = 256).

    >>> m = cartesian_lines((64, 64), 0.25, seed=0)
    >>> float(m.mean()), bool(m[32].all())
    (0.25, True)
    """
    h, w, _ = _validate(shape, rate)
    rows = max(1, int(round(rate * h)))
    n_centre = min(rows, int(round(centre_fraction * h)))
    centre = np.arange(h // 2 - n_centre // 2, h // 2 - n_centre // 2 + n_centre)
    others = np.setdiff1d(np.arange(h), centre)
    rng = np.random.default_rng(seed)
    picked = rng.choice(others, size=rows - n_centre, replace=False)
    mask = np.zeros((h, w), dtype=bool)
    mask[np.concatenate([centre, picked])] = True
    return mask


def _centre_columns(w: int, center_fraction: float) -> np.ndarray:
    """fastMRI's fully sampled centre: ``round(W · center_fraction)`` columns starting at
    ``(W − n + 1) // 2`` (so the zero frequency ``W // 2`` is among them)."""
    n = int(round(w * center_fraction))
    start = (w - n + 1) // 2
    return np.arange(start, start + n)


def _check_columns(shape: Sequence[int], acceleration: float, center_fraction: float
                   ) -> tuple[int, int]:
    h, w, _ = _validate(shape, 1.0)
    validate.number("acceleration", acceleration, low=1, low_closed=True,
                    hint="the undersampling factor, e.g. 4 (a quarter of the columns)")
    validate.number("center_fraction", center_fraction, low=0, high=1, low_closed=True,
                    hint="the fully sampled centre's share of the columns, e.g. 0.08")
    if round(w * center_fraction) > w / acceleration:
        raise StableReconError(
            f"center_fraction={center_fraction:g} keeps {round(w * center_fraction)} centre "
            f"columns, more than the {w / acceleration:.0f} that acceleration={acceleration:g} "
            "allows in all; lower center_fraction or the acceleration.")
    return h, w


def column_mask(columns: np.ndarray, rows: int) -> np.ndarray:
    """A 2-D mask ``(rows, W)`` from a column (phase-encode) mask of shape ``(W,)``: every
    row of k-space is sampled at the same columns, as a Cartesian scanner reads them.

    >>> column_mask(np.array([True, False, True]), 2).astype(int).tolist()
    [[1, 0, 1], [1, 0, 1]]
    """
    columns = np.asarray(columns)
    if columns.ndim != 1:
        raise StableReconError(f"column_mask: expected a 1-D column mask (W,), got shape "
                               f"{columns.shape}; squeeze the file's mask first.")
    validate.number("rows", rows, low=1, low_closed=True, integer=True)
    return np.broadcast_to(columns.astype(bool), (int(rows), columns.size)).copy()


def random_columns(shape: Sequence[int], acceleration: float = 4.0,
                   center_fraction: float = 0.08, seed: int = 0) -> np.ndarray:
    """fastMRI's random column mask: the centre ``round(W · center_fraction)`` columns, and
    each other column independently with probability
    ``(W / acceleration − n_centre) / (W − n_centre)``, so that about ``W / acceleration``
    columns are sampled in all (the count itself is random, as in fastMRI's subsampling).

    >>> m = random_columns((64, 64), acceleration=4, center_fraction=0.08, seed=0)
    >>> bool(m[:, 32].all()), bool((m == m[0]).all())
    (True, True)
    """
    h, w = _check_columns(shape, acceleration, center_fraction)
    centre = _centre_columns(w, center_fraction)
    p = (w / acceleration - centre.size) / max(w - centre.size, 1)
    cols = np.random.default_rng(seed).uniform(size=w) < p
    cols[centre] = True
    return column_mask(cols, h)


def equispaced_columns(shape: Sequence[int], acceleration: float = 4.0,
                       center_fraction: float = 0.08, seed: int = 0) -> np.ndarray:
    r"""fastMRI's equispaced column mask: the centre ``n = round(W · center_fraction)``
    columns, and outside them columns at a constant spacing from a random offset (``seed``).

    The spacing :math:`a' = a (n - W) / (n a - W)` makes the total about ``W / a`` columns
    for acceleration a (the centre's columns count towards it), as fastMRI's equispaced
    subsampling defines it.

    >>> m = equispaced_columns((64, 64), acceleration=4, center_fraction=0.08, seed=0)
    >>> bool(m[:, 32].all()), int(m[0].sum())
    (True, 15)
    """
    h, w = _check_columns(shape, acceleration, center_fraction)
    centre = _centre_columns(w, center_fraction)
    n = centre.size
    spacing = acceleration * (n - w) / (n * acceleration - w) if n * acceleration != w \
        else float(w)
    offset = int(np.random.default_rng(seed).integers(0, max(int(round(spacing)), 1)))
    cols = np.zeros(w, dtype=bool)
    cols[np.round(np.arange(offset, w - 1, spacing)).astype(int)] = True
    cols[centre] = True
    return column_mask(cols, h)


PATTERNS = {
    "uniform": uniform,
    "variable_density": variable_density,
    "multilevel": multilevel,
    "radial": radial_lines,
    "cartesian": cartesian_lines,
}

#: fastMRI's column masks, drawn by acceleration and centre fraction rather than a rate
COLUMN_PATTERNS = {
    "equispaced": equispaced_columns,
    "random_columns": random_columns,
}


def make_mask(pattern: str, shape: Sequence[int], rate: float | None = None, seed: int = 0,
              acceleration: float | None = None, center_fraction: float = 0.08) -> np.ndarray:
    """Draw a mask by pattern name: one of :data:`PATTERNS` (at ``rate``) or of
    :data:`COLUMN_PATTERNS` (at ``acceleration``, default ``1 / rate``, with
    ``center_fraction``).

    >>> make_mask("equispaced", (32, 32), acceleration=4).shape
    (32, 32)
    """
    if pattern in COLUMN_PATTERNS:
        if acceleration is None:
            if rate is None:
                raise StableReconError(f"pattern {pattern!r} needs acceleration= (or rate=).")
            validate.number("sampling rate", rate, low=0, high=1)
            acceleration = 1.0 / rate
        return COLUMN_PATTERNS[pattern](shape, acceleration, center_fraction, seed=seed)
    if pattern not in PATTERNS:
        raise StableReconError(
            f"unknown sampling pattern {pattern!r}; choose one of "
            f"{sorted(PATTERNS) + sorted(COLUMN_PATTERNS)}."
        )
    if rate is None:
        raise StableReconError(f"pattern {pattern!r} needs rate= (the fraction of samples).")
    return PATTERNS[pattern](shape, rate, seed=seed)


def nested_masks(base: np.ndarray, rates: Sequence[float], seed: int = 0,
                 decay: float = 2.0) -> list[np.ndarray]:
    r"""Masks at several rates, nested (each contains every smaller one) and containing
    ``base`` at its own rate: the more-samples test's family.

    All frequencies are ranked once: the samples of ``base`` first, then the rest, each group
    in a random order weighted by the variable-density law of :func:`variable_density`
    (Efraimidis–Spirakis keys :math:`u^{1/w}`); the mask at rate ρ takes the first
    round(ρ·H·W) frequencies of the ranking.

    >>> base = variable_density((32, 32), 0.25)
    >>> lo, mid, hi = nested_masks(base, [0.1, 0.25, 0.5])
    >>> bool((lo <= mid).all() and (mid <= hi).all() and (mid == base).all())
    True
    """
    base = np.asarray(base, dtype=bool)
    h, w = base.shape
    r = frequency_radius((h, w))
    weights = ((1.0 + (r / 0.1) ** 2) ** (-decay / 2.0)).ravel()
    rng = np.random.default_rng(seed)
    keys = rng.random(h * w) ** (1.0 / weights)
    keys += base.ravel() * 2.0  # base samples first (keys in [0, 1] otherwise)
    order = np.argsort(-keys, kind="stable")
    masks = []
    for rate in validate.numbers_list("nested_masks rates", rates, low=0, high=1):
        flat = np.zeros(h * w, dtype=bool)
        flat[order[: int(round(rate * h * w))]] = True
        masks.append(flat.reshape(h, w))
    return masks
