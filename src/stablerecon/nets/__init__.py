"""Ψ: reconstruction networks, among them FIRENET (stable by construction), and the registry
of ready-to-run models (``available``, ``load``, ``card``, ``operator_for``)."""

from stablerecon.nets.firenet import FIRENET, level_weights, relu_soft_threshold
from stablerecon.nets.registry import available, build, build_operator, card, load, operator_for

__all__ = ["FIRENET", "available", "build", "build_operator", "card", "level_weights", "load",
           "operator_for", "relu_soft_threshold"]
