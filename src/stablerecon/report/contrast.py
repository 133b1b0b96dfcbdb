"""The lecture's contrast as the report's headline plot: what a worst-case r of each size
costs Ψ, what the same r costs Φ, what FIRENET loses under its own worst case, and what
Ψ's worst of K random perturbations of that size costs it."""

from __future__ import annotations

from pathlib import Path

from stablerecon.audit.result import AuditResult
from stablerecon.report.figures import line_plot


def contrast_plot(path: str | Path, instability: AuditResult, noise: AuditResult | None = None,
                  firenet: AuditResult | None = None, psi: str = "Ψ") -> Path:
    """PSNR lost against ||r||/||x||, one curve per method (see the module's docstring).

    Parameters
    ----------
    path : str or Path
        The PNG.
    instability : AuditResult
        Ψ's instability test, with Φ under the same r.
    noise : AuditResult, optional
        Ψ's noise test (its worst of K random draws at its size).
    firenet : AuditResult, optional
        FIRENET's own instability test.
    psi : str
        Ψ's name in the legend.

    Returns
    -------
    Path
        The PNG written.
    """
    rows = instability.metrics["perturbations"]
    sizes = [row["r_rel"] for row in rows]
    series = {f"{psi} under its worst case": [row["psi"]["psnr_drop"] for row in rows]}
    if all("phi" in row for row in rows):
        series[f"Φ under the same r (tuned against {psi})"] = [row["phi"]["psnr_drop"]
                                                                for row in rows]
    if firenet is not None:
        own = firenet.metrics["perturbations"]
        series["FIRENET under its own worst case"] = ([row["r_rel"] for row in own],
                                                      [row["psi"]["psnr_drop"] for row in own])
    if noise is not None:
        draws = max(int(k) for k in noise.metrics["psi"] if k.isdigit())
        worst = noise.metrics["psi"][str(draws)].get("worst_psnr_drop")
        if worst is not None:
            series[f"{psi}, worst of {draws} random r"] = ([noise.metrics["r_rel"]], [worst])
    return line_plot(path, sizes, series, "||r|| / ||x||", "PSNR lost (dB)",
                     title="What a perturbation of each size costs each method")
