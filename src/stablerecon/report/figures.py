"""Figures in the lecture's layout: rows of images with titles, saved atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from stablerecon.report.files import atomic_write  # noqa: E402


def to_display(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """A 2-D real array to show: the modulus of complex images (as the lecture shows |x|)."""
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    arr = np.squeeze(arr)
    return np.abs(arr) if np.iscomplexobj(arr) else arr


def image_row(
    path: str | Path,
    images: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str],
    vrange: tuple[float, float] | None = (0.0, 1.0),
    suptitle: str | None = None,
    panel_size: float = 3.0,
) -> Path:
    """Save images side by side (grey, shared display range) as a PNG, atomically."""
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size + 0.5), squeeze=False)
    for ax, img, title in zip(axes[0], images, titles):
        arr = to_display(img)
        lo, hi = vrange if vrange is not None else (float(arr.min()), float(arr.max()))
        ax.imshow(arr, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    try:
        return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    finally:
        plt.close(fig)
