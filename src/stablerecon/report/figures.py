"""Figures in the lecture's layout: rows of images with titles, saved atomically.

Figures are built as ``matplotlib.figure.Figure`` objects, not through pyplot: nothing here
selects or changes the user's matplotlib backend, and no global figure state is kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from stablerecon.docstrings import fill
from stablerecon.io import atomic_write

#: how image figures are shown and saved (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
_DISPLAY_DOCS = {
    "display": """
    vrange : (float, float) or None
        Shared display range (None: each panel scaled to its own range).
    suptitle : str, optional
        The figure's title.
    panel_size : float
        Inches per panel.

    Returns
    -------
    Path
        The PNG written.""",
}


def to_display(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """A 2-D real array to show: the modulus of complex images (as the lecture shows |x|).

    Parameters
    ----------
    image : torch.Tensor or numpy.ndarray
        An image (singleton axes are squeezed).

    Returns
    -------
    numpy.ndarray
        The real array.
    """
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    arr = np.squeeze(arr)
    return np.abs(arr) if np.iscomplexobj(arr) else arr


@fill(_DISPLAY_DOCS)
def image_grid(
    path: str | Path,
    rows: Sequence[Sequence[torch.Tensor | np.ndarray]],
    titles: Sequence[Sequence[str]],
    vrange: tuple[float, float] | None = (0.0, 1.0),
    suptitle: str | None = None,
    panel_size: float = 2.6,
) -> Path:
    """Save rows of images as a PNG, atomically: the lecture's layout, one row per method and
    one column per perturbation.

    Parameters
    ----------
    path : str or Path
        The PNG.
    rows : sequence of sequence of images
        Tensors or arrays, row by row (complex ones shown as modulus).
    titles : sequence of sequence of str
        A title per image.
    {{display}}
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig = Figure(figsize=(panel_size * n_cols, panel_size * n_rows + 0.4))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, (row, row_titles) in enumerate(zip(rows, titles)):
        for j in range(n_cols):
            ax = axes[i][j]
            ax.axis("off")
            if j >= len(row):
                continue
            arr = to_display(row[j])
            lo, hi = vrange if vrange is not None else (float(arr.min()), float(arr.max()))
            ax.imshow(arr, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_title(row_titles[j], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))


@fill(_DISPLAY_DOCS)
def image_row(
    path: str | Path,
    images: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str],
    vrange: tuple[float, float] | None = (0.0, 1.0),
    suptitle: str | None = None,
    panel_size: float = 3.0,
) -> Path:
    """Save images side by side (grey) as a PNG, atomically.

    Parameters
    ----------
    path : str or Path
        The PNG.
    images : sequence of images
        Tensors or arrays.
    titles : sequence of str
        A title per image.
    {{display}}
    """
    return image_grid(path, [images], [titles], vrange=vrange, suptitle=suptitle,
                      panel_size=panel_size)


def line_plot(path: str | Path, x: Sequence[float], series: dict[str, Sequence[float]],
              xlabel: str, ylabel: str, title: str = "") -> Path:
    """Curves (one per series, markers at the data points) as a PNG, atomically.

    Parameters
    ----------
    path : str or Path
        The PNG.
    x : sequence of float
        The x values.
    series : dict of str to sequence of float
        Curve name -> y values.
    xlabel, ylabel, title : str
        Labels.

    Returns
    -------
    Path
        The PNG written.
    """
    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.subplots()
    for label, values in series.items():
        ax.plot(x, values, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
