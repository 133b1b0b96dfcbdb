"""Ψ against the standard method Φ on a model's held-out validation set (the lecture's
"overperformance" that the audits then examine)."""

from __future__ import annotations

from typing import Any

import torch

from stablerecon.nets.registry import build_operator
from stablerecon.solvers.api import standard_method
from stablerecon.train.trainer import TrainConfig, evaluate, validation_set


def compare_with_standard(model: torch.nn.Module, card: dict[str, Any],
                          max_iter: int = 2000, tol: float = 1e-4) -> dict[str, Any]:
    """Mean PSNR/SSIM of Ψ and of Φ (SR-LASSO preset for the modality) on the card's
    validation phantoms, same measurements for both."""
    cfg = TrainConfig(**{k: v for k, v in card["config"].items()})
    A = build_operator(card["operator"])
    x, y = validation_set(cfg, A)
    phi = standard_method(A, cfg.modality, tol=tol, max_iter=max_iter)
    return {"count": len(x), "psi": evaluate(model, x, y), "phi": evaluate(phi, x, y),
            "phi_method": phi.description}
