"""Figures in the lecture's layout: rows of images with titles, saved atomically.

Figures are built as ``matplotlib.figure.Figure`` objects, not through pyplot: nothing here
selects or changes the user's matplotlib backend, and no global figure state is kept. The
layout is matplotlib's constrained layout (titles never run into the images of the row
above, whatever the grid), titles are wrapped to their panel, figures are at most
:data:`PAGE_PX` wide so that the report shows them at full size, and every text is at least
:data:`MIN_FONT_PT` there. Each PNG carries its alt text (``Description``), which the report
uses."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from stablerecon.docstrings import fill
from stablerecon.io import atomic_write

#: pixels per inch of the saved PNGs
DPI = 100
#: the widest figure, in pixels: the report's column (figures are never scaled down there)
PAGE_PX = 1100
#: the smallest font on a figure, in points at the size the report shows it
MIN_FONT_PT = 9.0

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


def _wrap(title: str, inches: float, points: float) -> str:
    """``title`` wrapped to a panel ``inches`` wide (a character is about 0.6 em)."""
    width = max(8, int(inches * 72 / (0.6 * points)))
    return "\n".join(textwrap.fill(line, width) for line in title.split("\n"))


def _save(fig: Figure, path: str | Path, alt: str) -> Path:
    return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=DPI,
                                                    metadata={"Description": alt}))


def alt_text(titles: Sequence[Sequence[str]], suptitle: str | None = None) -> str:
    """What a figure of images shows, in words (its alt text): the title, then each row's
    panel titles.

    Parameters
    ----------
    titles : sequence of sequence of str
        The panels' titles, row by row.
    suptitle : str, optional
        The figure's title.

    Returns
    -------
    str
        E.g. ``"Images: row 1: truth; Φ 30.1 dB. row 2: ..."``.
    """
    rows = [f"row {i + 1}: " + "; ".join(t.replace("\n", " ") for t in row)
            for i, row in enumerate(titles)]
    return (f"{suptitle}. " if suptitle else "") + "Images, " + ". ".join(rows) + "."


def grid_figure(rows: Sequence[Sequence[torch.Tensor | np.ndarray]],
                titles: Sequence[Sequence[str]], vrange: tuple[float, float] | None = (0.0, 1.0),
                suptitle: str | None = None, panel_size: float = 2.6) -> Figure:
    """The figure :func:`image_grid` saves (for drawing elsewhere, and for the layout
    tests): panels at most :data:`PAGE_PX` wide in all, titles wrapped, constrained layout.

    Parameters
    ----------
    rows, titles, vrange, suptitle, panel_size
        As :func:`image_grid`.

    Returns
    -------
    matplotlib.figure.Figure
        Not yet drawn.
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    panel = min(panel_size, PAGE_PX / DPI / n_cols)
    titles = [[_wrap(t, panel, MIN_FONT_PT) for t in row] for row in titles]
    heading = _wrap(suptitle, panel * n_cols, MIN_FONT_PT + 2) if suptitle else None
    lines = max((t.count("\n") + 1 for row in titles for t in row), default=1)
    extra = 0.25 * (heading.count("\n") + 1) if heading else 0.0
    fig = Figure(figsize=(panel * n_cols, (panel + 0.18 * lines + 0.1) * n_rows + extra + 0.2),
                 layout="constrained")
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
            ax.set_title(row_titles[j], fontsize=MIN_FONT_PT)
    if heading:
        fig.suptitle(heading, fontsize=MIN_FONT_PT + 2)
    return fig


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
    one column per perturbation (:func:`grid_figure`), its alt text in the PNG.

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
    fig = grid_figure(rows, titles, vrange, suptitle, panel_size)
    return _save(fig, path, alt_text(titles, suptitle))


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


Series = Sequence[float] | tuple[Sequence[float], Sequence[float]]


def plot_figure(x: Sequence[float], series: dict[str, Series], xlabel: str, ylabel: str,
                title: str = "") -> Figure:
    """The figure :func:`line_plot` saves.

    Parameters
    ----------
    x, series, xlabel, ylabel, title
        As :func:`line_plot`.

    Returns
    -------
    matplotlib.figure.Figure
        Not yet drawn.
    """
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for label, values in series.items():
        xs, ys = values if isinstance(values, tuple) else (x, values)
        ax.plot(xs, ys, marker="o", linestyle="-" if len(ys) > 1 else "none", label=label)
    ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT + 1)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT_PT + 1)
    ax.tick_params(labelsize=MIN_FONT_PT)
    if title:
        ax.set_title(_wrap(title, 6.0, MIN_FONT_PT + 1), fontsize=MIN_FONT_PT + 1)
    ax.grid(alpha=0.3)
    # below the axes, never over the data
    fig.legend(loc="outside lower center", ncol=2, fontsize=MIN_FONT_PT, frameon=False)
    return fig


def line_plot(path: str | Path, x: Sequence[float], series: dict[str, Series],
              xlabel: str, ylabel: str, title: str = "") -> Path:
    """Curves (one per series, markers at the data points) as a PNG, atomically, with its
    alt text.

    Parameters
    ----------
    path : str or Path
        The PNG.
    x : sequence of float
        The x values.
    series : dict of str to sequence of float, or to (xs, ys)
        Curve name -> y values at ``x``, or a series with its own x values (one point is
        drawn as a marker).
    xlabel, ylabel, title : str
        Labels.

    Returns
    -------
    Path
        The PNG written.
    """
    fig = plot_figure(x, series, xlabel, ylabel, title)
    alt = (f"{title + '. ' if title else ''}Plot of {ylabel} against {xlabel} for "
           + ", ".join(series) + ".")
    return _save(fig, path, alt)
