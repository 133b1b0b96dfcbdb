"""Small details to insert into an image for the accuracy test: text, dots, lines, a blob."""

from __future__ import annotations

import numpy as np
import torch

from stablerecon.errors import StableReconError

KINDS = ("text", "dots", "lines", "blob")


def render_text(text: str, height: int, width: int) -> np.ndarray:
    """Rasterise ``text`` (matplotlib's Agg) into a (height, width) array in [0, 1]."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=height * 0.7 * 72 / 100,  # px → pt
             family="DejaVu Sans", weight="bold")
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    return 1.0 - rgba.mean(-1) / 255.0


def detail(kind: str, shape: tuple[int, int], position: tuple[float, float] = (0.62, 0.5),
           size: float = 0.12, text: str = "CAN U SEE IT") -> torch.Tensor:
    """A detail image (values in [0, 1]) of the given ``kind``, centred at ``position``
    (fractions of height and width), ``size`` a fraction of the height. On the CPU; move it
    with ``.to(device)``."""
    if kind not in KINDS:
        raise StableReconError(f"unknown detail {kind!r}; choose one of {KINDS} or pass a tensor.")
    h, w = shape
    cy, cx = int(position[0] * h), int(position[1] * w)
    s = max(int(size * h), 4)
    out = np.zeros(shape)
    yy, xx = np.mgrid[:h, :w]
    if kind == "text":
        tw = min(w - 2, int(s * 0.45 * len(text)))
        patch = render_text(text, s, tw)
        y0, x0 = max(cy - s // 2, 0), max(cx - tw // 2, 0)
        ph, pw = patch[: h - y0, : w - x0].shape
        out[y0:y0 + ph, x0:x0 + pw] = patch[:ph, :pw]
    elif kind == "dots":
        for k in range(4):
            dy, dx = cy, cx + (k - 1.5) * s / 2
            out[(yy - dy) ** 2 + (xx - dx) ** 2 <= (s / 12) ** 2 + 0.5] = 1.0
    elif kind == "lines":
        for k in range(3):
            col = int(cx + (k - 1) * s / 3)
            out[cy - s // 2: cy + s // 2, col] = 1.0
    else:
        out = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (s / 6) ** 2))
    return torch.as_tensor(out, device="cpu")
