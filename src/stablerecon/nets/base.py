"""What every network here is: a reconstructor y ↦ x̂ that carries its forward operator."""

from __future__ import annotations

import torch

from stablerecon import validate
from stablerecon.operators.base import LinearOperator


class OperatorNet(torch.nn.Module):
    """Base of the networks: stores the operator as ``A`` (a submodule, so ``.to()`` moves
    it; its buffers are left out of saved weights) and exposes it as ``operator``."""

    def __init__(self, A: LinearOperator):
        super().__init__()
        self.A = validate.operator(f"{type(self).__name__}'s A", A)

    @property
    def operator(self) -> LinearOperator:
        """The forward map A the network reconstructs for."""
        return self.A
