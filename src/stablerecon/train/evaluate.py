"""Ψ against the standard method Φ on a model's held-out validation set (the lecture's
"overperformance" that the audits then examine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from stablerecon.nets.registry import build_operator
from stablerecon.solvers.api import LAMBDA_GRID, PRESET_LAMBDA, standard_method
from stablerecon.train.trainer import TrainConfig, evaluate, validation_set


def compare_with_standard(model: torch.nn.Module, card: dict[str, Any],
                          lambdas: Sequence[float] | None = LAMBDA_GRID,
                          max_iter: int = 2000, tol: float = 1e-4,
                          real: bool | None = None) -> dict[str, Any]:
    """Mean PSNR/SSIM of Ψ and of Φ (SR-LASSO for the modality) on the card's validation
    images, same measurements for both.

    Φ gets every λ of ``lambdas`` and is reported at the best (an oracle choice on the
    validation set itself, so the comparison favours Φ).

    Parameters
    ----------
    model : torch.nn.Module
        Ψ.
    card : dict
        Its card (the validation set and operator are rebuilt from it).
    lambdas : sequence of float, optional
        λ grid for Φ (None: the modality's preset only).
    max_iter, tol : int, float
        Φ's iteration cap and certified tolerance.
    real : bool, optional
        Constrain Φ's reconstruction to be real (default: for MRI trained without
        ``phase``, whose images are all real).

    Returns
    -------
    dict
        ``count``, ``psi`` and ``phi`` qualities, ``phi_method`` and PSNR per λ.
    """
    cfg = TrainConfig(**{k: v for k, v in card["config"].items()})
    if real is None:
        real = cfg.modality == "mri" and not cfg.phase
    A = build_operator(card["operator"])
    x, y = validation_set(cfg, A)
    by_lambda = {}
    for lam in lambdas or [PRESET_LAMBDA[cfg.modality]]:
        phi = standard_method(A, cfg.modality, lam=lam, tol=tol, max_iter=max_iter, real=real)
        by_lambda[lam] = (evaluate(phi, x, y), phi.description)
    best = max(by_lambda, key=lambda lam: by_lambda[lam][0]["psnr"])
    return {"count": len(x), "psi": evaluate(model, x, y), "phi": by_lambda[best][0],
            "phi_method": by_lambda[best][1],
            "phi_psnr_by_lambda": {f"{lam:g}": q["psnr"] for lam, (q, _) in by_lambda.items()}}
