"""The random-noise test: the worst of K Gaussian perturbations of the same size as a
worst-case one (K = 1, 20, 100 as in the lecture), for Ψ and Φ."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from stablerecon import validate
from stablerecon.audit import common
from stablerecon.audit.common import (
    PARAMETERS,
    Anchor,
    Clean,
    anchor_of,
    change,
    clean_outputs,
    default_phi,
    measurements,
    nonfinite_note,
    norm,
)
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Figure
from stablerecon.devices import generator
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.noise import gaussian
from stablerecon.operators.base import LinearOperator


def _changes(recon, A, at: Anchor, rs, space, base,
             chunk=10) -> tuple[list[float], list[float]]:
    """Output change ||recon(y₀ + A r) − base|| and PSNR against the anchor's truth, per r
    (+inf and −inf for an output with NaN/Inf: :func:`~stablerecon.audit.common.change`)."""
    changes, psnrs = [], []
    with torch.no_grad():
        for i in range(0, len(rs), chunk):
            batch = torch.stack(rs[i:i + chunk])
            out = recon(measurements(A, at.y, batch, space))
            changes += [change(v, base) for v in out]
            psnrs += [at.psnr(v) if changes[j] < math.inf else -math.inf
                      for j, v in enumerate(out, len(psnrs))]
    return changes, psnrs


@fill(PARAMETERS)
def noise(model: Any, A: LinearOperator, x: torch.Tensor, r: torch.Tensor | None = None,
          r_rel: float | None = None, K: Sequence[int] = (1, 20, 100), space: str = "image",
          seed: int = 0, phi: Any = "auto", phi_K: int = 20,
          worst_case: AuditResult | None = None, clean: Clean | None = None) -> AuditResult:
    r"""Worst of K random perturbations against the worst case, for Ψ and Φ.

    Draws Gaussian e with ||e|| = ||r|| (or ``r_rel``·||x||; measurement space: ·||Ax||)
    and reports, for each K, the largest output change
    :math:`\max_{k \le K} \|\Psi(A(x+e_k)) - \Psi(Ax)\| / \|\Psi(Ax)\|` among the
    first K of max(K) draws.

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    r : torch.Tensor, optional
        A perturbation whose norm the random draws take.
    r_rel : float, optional
        The draws' relative size instead of ``r``.
    K : sequence of int
        Draw counts to report (the worst of the first K).
    space : str
        ``"image"`` or ``"measurement"``.
    {{seed}}
    {{phi}}
    phi_K : int
        How many of the draws Φ is evaluated on (a solve each).
    worst_case : AuditResult, optional
        An instability result: r is its largest perturbation, and the result states the
        ratio worst-case / worst-random for Ψ and (over Φ's draws) for Φ under the same r.
    {{clean}}

    Returns
    -------
    AuditResult
        ``worst_random`` per K for Ψ and Φ, their PSNR lost, and with ``worst_case`` the
        ratios worst-case / worst-random.
    """
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x)
    at = anchor_of(A, x, psi)
    x = at.x
    if worst_case is not None:
        r = worst_case.perturbations()[-1]
        space = worst_case.metrics["space"]
    ref = clean_outputs(psi, phi_r, A, at, clean)
    y0, base, phi_base = ref.y, ref.psi, ref.phi
    scale = at.size if space == "image" else norm(y0)
    if r is not None:
        radius = norm(r)
    elif r_rel is not None:
        radius = r_rel * scale
    else:
        raise StableReconError("give the size of the perturbations: r=, r_rel= or worst_case=.")
    K = validate.numbers_list("K (random draws)", K, low=1, low_closed=True, integer=True)
    shape = tuple(y0.shape) if space == "measurement" else tuple(x.shape)
    dtype = y0.dtype if space == "measurement" else x.dtype
    gen = generator(seed, x.device)
    draws = [common.scaled(gaussian(shape, dtype, gen), radius) for _ in range(max(K))]
    psi_changes, psi_psnrs = _changes(psi, A, at, draws, space, base)
    psi_clean = at.psnr(base)
    metrics: dict[str, Any] = {"model": psi.name, "space": space, "r_rel": radius / scale,
                               "K": list(K), "psi": {}, "phi": {}, **at.record()}
    base_norm = max(norm(base), 1e-300)
    for k in K:
        worst = max(range(k), key=lambda i: psi_changes[i])
        metrics["psi"][str(k)] = {"worst_change_rel": psi_changes[worst] / base_norm,
                                  "index": worst,
                                  "worst_psnr_drop": psi_clean - min(psi_psnrs[:k])}
    worst_all = max(range(max(K)), key=lambda i: psi_changes[i])
    result = AuditResult("noise", metrics, seed=seed)
    with torch.no_grad():
        out = psi(measurements(A, y0, draws[worst_all], space))
    metrics["psi"]["worst_quality"] = at.score(out)
    rows, titles = [[x, out]], [["x", f"{psi.name}, worst of {max(K)} random: "
                                      f"{metrics['psi']['worst_quality']['psnr']:.1f} dB"]]
    if phi_r is not None:
        n_phi = min(phi_K, max(K))
        with common.warm_started(phi_r, ref):
            phi_changes, phi_psnrs = _changes(phi_r, A, at, draws[:n_phi], space, phi_base,
                                              chunk=n_phi)
        phi_norm = max(norm(phi_base), 1e-300)
        phi_clean = at.psnr(phi_base)
        for k in K:
            if k <= n_phi:
                metrics["phi"][str(k)] = {"worst_change_rel": max(phi_changes[:k]) / phi_norm,
                                          "worst_psnr_drop": phi_clean - min(phi_psnrs[:k])}
        metrics["phi"]["evaluated"] = n_phi
        metrics["phi"]["solver"] = common.solver_status(phi_r)  # the batched solve of the draws
        worst_phi_random = max(phi_changes) / phi_norm
    if worst_case is not None:
        row = worst_case.metrics["perturbations"][-1]
        metrics["worst_case_change_rel"] = row["psi"]["change_rel"]
        metrics["ratio_worst_case_to_worst_random"] = (
            row["psi"]["change_rel"] / max(metrics["psi"][str(max(K))]["worst_change_rel"], 1e-300))
        if "phi" in row and metrics["phi"]:
            metrics["phi_change_rel_under_worst_case"] = row["phi"]["change_rel"]
            # Φ's own ratio: is the r that was tuned against Ψ special for Φ, or just noise?
            metrics["phi_ratio_worst_case_to_worst_random"] = (
                row["phi"]["change_rel"] / max(worst_phi_random, 1e-300))
    result.images = {"worst_random": draws[worst_all], "psi_worst_random": out}
    notes = [common.unconverged_note([metrics["phi"].get("solver")]),
             nonfinite_note(psi.name, [radius / scale] if math.inf in psi_changes else [],
                            f"{psi_changes.count(math.inf)} of {max(K)} random draws")]
    if phi_r is not None:
        notes.append(nonfinite_note("Φ", [radius / scale] if math.inf in phi_changes else [],
                                    f"{phi_changes.count(math.inf)} of {n_phi} random draws"))
    result.notes += [note for note in notes if note]
    result.figures = [Figure("worst-random", rows, titles, suptitle="Random-noise test")]
    return result
