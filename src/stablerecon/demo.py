"""The main job behind ``make demo``: one MRI problem, end to end, written to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from stablerecon import metrics, operators
from stablerecon.data import shepp_logan
from stablerecon.report import image_row, write_json


def run_demo(
    out: Path, size: int = 128, rate: float = 0.25, seed: int = 0, console: Console | None = None
) -> dict[str, Any]:
    """Shepp–Logan -> variable-density subsampled Fourier -> zero-filled adjoint image.

    Writes ``demo.png`` (truth, mask, reconstruction, error) and ``metrics.json``.
    """
    console = console or Console(stderr=True)
    out = Path(out)
    x = shepp_logan(size).to(torch.complex64)
    mask = operators.sampling.variable_density((size, size), rate, seed=seed)
    A = operators.SubsampledFourier((size, size), mask)
    console.print(f"MRI: {size}x{size}, variable-density mask, rate {A.rate:.3f}, seed {seed}")
    y = A(x)
    adjoint = A.H(y)
    result = {
        "image": "modified Shepp-Logan",
        "size": size,
        "sampling": {"pattern": "variable_density", "rate": A.rate, "seed": seed},
        "adjoint": {
            "psnr_db": metrics.psnr(adjoint, x),
            "ssim": metrics.ssim(adjoint, x),
            "relative_error": metrics.relative_error(adjoint, x),
        },
    }
    figure = image_row(
        out / "demo.png",
        [x, torch.as_tensor(mask, dtype=torch.float32), adjoint, (adjoint.abs() - x.abs()).abs()],
        ["|x| (truth)", f"mask ({100 * A.rate:.0f}%)", "A* y (zero-filled)", "error"],
    )
    metrics_file = write_json(out / "metrics.json", result)
    return {"metrics": result, "files": [figure, metrics_file]}
