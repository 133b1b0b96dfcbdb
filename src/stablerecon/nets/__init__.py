"""Ψ: reconstruction networks (the lecture's learned methods, and FIRENET, stable by
construction) and the registry of ready-to-run models (``available``, ``load``, ``card``,
``operator_for``)."""

from stablerecon.nets.cascade import DeepCascade
from stablerecon.nets.dncnn import DnCNN
from stablerecon.nets.e2e_varnet import E2EVarNet
from stablerecon.nets.firenet import FIRENET, level_weights
from stablerecon.nets.lista import LISTA
from stablerecon.nets.registry import available, build, build_operator, card, load, operator_for
from stablerecon.nets.unet import DAGAN, FBPConvNet
from stablerecon.nets.varnet import VariationalNetwork

__all__ = ["DAGAN", "DeepCascade", "DnCNN", "E2EVarNet", "FBPConvNet", "FIRENET", "LISTA",
           "VariationalNetwork", "available", "build", "build_operator", "card",
           "level_weights", "load", "operator_for"]
