"""Ψ: reconstruction networks, among them FIRENET (stable by construction)."""

from stablerecon.nets.firenet import FIRENET, level_weights, relu_soft_threshold

__all__ = ["FIRENET", "level_weights", "relu_soft_threshold"]
