"""What every network here is: a reconstructor y ↦ x̂ that carries its forward operator."""

from __future__ import annotations

import torch

from stablerecon import validate
from stablerecon.operators.base import LinearOperator

#: architecture size → the largest value accepted: far above any network here is trained
#: with, low enough that a mistyped card or call is refused before it allocates gigabytes
SIZE_LIMITS = {"width": 1024, "filters": 1024, "sens_width": 1024, "depth": 64,
               "sens_depth": 16, "cascades": 256, "steps": 256, "layers": 1000, "kernel": 31}


class OperatorNet(torch.nn.Module):
    """Base of the networks: stores the operator as ``A`` (a submodule, so ``.to()`` moves
    it; its buffers are left out of saved weights) and exposes it as ``operator``.

    ``sizes`` are the architecture's integer sizes (width, depth, ...): each is checked to
    be an integer in [1, :data:`SIZE_LIMITS`] before any layer is built."""

    def __init__(self, A: LinearOperator, **sizes: int):
        super().__init__()
        self.A = validate.operator(f"{type(self).__name__}'s A", A)
        for key, value in sizes.items():
            validate.number(f"{type(self).__name__} {key}", value, low=1, low_closed=True,
                            high=SIZE_LIMITS[key], integer=True,
                            hint="an architecture size (see the network's docstring)")

    @property
    def operator(self) -> LinearOperator:
        """The forward map A the network reconstructs for."""
        return self.A
