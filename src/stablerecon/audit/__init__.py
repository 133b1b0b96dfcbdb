"""The tests of the lecture, run on any reconstructor beside the standard method Φ:
``instability``, ``noise``, ``curve``, ``more_samples``, ``accuracy``, ``kernel``."""

from stablerecon.audit.instability import instability
from stablerecon.audit.reconstructor import Reconstructor, as_reconstructor, from_physics
from stablerecon.audit.result import AuditResult, Figure

__all__ = ["AuditResult", "Figure", "Reconstructor", "as_reconstructor", "from_physics",
           "instability"]
