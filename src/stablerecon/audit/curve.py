"""Robustness curves (Genzel, Macdonald & März, TPAMI 2022): worst-case and Gaussian
relative error against the noise level ε = ||e||/||y|| in measurement space, for Ψ and Φ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from stablerecon import validate
from stablerecon.audit.common import (
    PARAMETERS,
    Anchor,
    anchor_of,
    default_phi,
    norm,
    scaled,
    sphere_ascent,
)
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Plot
from stablerecon.devices import generator
from stablerecon.docstrings import fill
from stablerecon.noise import gaussian
from stablerecon.operators.base import LinearOperator


def _worst_error(psi, at: Anchor, radius, steps, restarts, gen) -> torch.Tensor:
    """Projected normalised gradient ascent on ||Ψ(y0 + e) − x|| over ||e|| ≤ radius, the
    best of ``restarts`` random starts."""
    y0 = at.y
    best_e, best = torch.zeros_like(y0), -1.0
    for _ in range(restarts):
        e, trace = sphere_ascent(lambda v: at.distance(psi(y0 + v)), psi.name,
                                 tuple(y0.shape), y0.dtype, radius, steps, gen)
        if trace and max(trace) > best:
            best, best_e = max(trace), e
    return best_e


@fill(PARAMETERS)
def curve(model: Any, A: LinearOperator, x: torch.Tensor,
          eps: Sequence[float] = (0.0, 0.01, 0.02, 0.04, 0.08), steps: int = 20,
          restarts: int = 2, gaussian_draws: int = 5, seed: int = 0,
          phi: Any = "auto") -> AuditResult:
    r"""Relative error :math:`\|\Psi(Ax + e) - x\|/\|x\|` against the perturbation size ε.

    Worst case by gradient ascent (``restarts`` random starts, ``steps`` each) and Gaussian
    (mean of ``gaussian_draws``), plus PSNR/SSIM; Φ gets the Gaussian e and Ψ's worst-case
    e (Φ is not differentiable, so its own worst case is not searched: its curve is a lower
    bound of its worst case).

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    eps : sequence of float
        Sizes ε = ||e||/||Ax|| ≥ 0.
    steps, restarts : int
        Ascent steps per start, and starts per ε.
    gaussian_draws : int
        Random draws averaged per ε.
    {{seed}}
    {{phi}}

    Returns
    -------
    AuditResult
        Per ε: worst-case and Gaussian errors, PSNR and SSIM for Ψ and Φ; the curve as a
        plot.
    """
    validate.numbers_list("eps (noise levels ||e||/||Ax||)", eps, low=0, low_closed=True)
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x)
    at = anchor_of(A, x, psi)
    y0 = at.y
    gen = generator(seed, y0.device)
    rows = []
    for level in eps:
        radius = level * norm(y0)
        e_worst = (_worst_error(psi, at, radius, steps, restarts, gen) if level > 0
                   else torch.zeros_like(y0))
        gauss = [scaled(gaussian(tuple(y0.shape), y0.dtype, gen), radius)
                 for _ in range(gaussian_draws)]
        row: dict[str, Any] = {"eps": level}
        for name, recon in (("psi", psi), ("phi", phi_r)):
            if recon is None:
                continue
            with torch.no_grad():
                worst = at.score(recon(y0 + e_worst))
                g = [at.score(recon(y0 + e)) for e in (gauss if level > 0 else gauss[:1])]
            row[name] = {"worst": worst,
                         "gaussian": {k: float(np.mean([q[k] for q in g])) for k in worst}}
        rows.append(row)
    result = AuditResult("curve", {"model": psi.name, "steps": steps, "restarts": restarts,
                                   "rows": rows, **at.record()}, seed=seed)
    for metric, label in (("relative_error", "relative error"), ("psnr", "PSNR (dB)")):
        series = {}
        for name, text in (("psi", psi.name), ("phi", "Φ")):
            if name in rows[0]:
                series[f"{text} worst case"] = [r[name]["worst"][metric] for r in rows]
                series[f"{text} Gaussian"] = [r[name]["gaussian"][metric] for r in rows]
        result.plots.append(Plot(metric, [100 * e for e in eps], series,
                                 "noise level ε = ||e||/||Ax|| (%)", label,
                                 "Robustness to measurement noise"))
    return result
