"""The tests of the lecture, run on any reconstructor beside the standard method Φ:
``instability``, ``noise``, ``curve``, ``more_samples``, ``accuracy``, ``kernel``."""

from stablerecon.audit.accuracy import accuracy
from stablerecon.audit.curve import curve
from stablerecon.audit.instability import instability
from stablerecon.audit.kernel import hallucination, kernel, kernel_component, scan
from stablerecon.audit.more_samples import more_samples
from stablerecon.audit.noise import noise
from stablerecon.audit.reconstructor import (
                                              Reconstructor,
                                              as_reconstructor,
                                              from_physics,
                                              model_operator,
)
from stablerecon.audit.result import AuditResult, Figure, Plot

__all__ = ["AuditResult", "Figure", "Plot", "Reconstructor", "accuracy", "as_reconstructor",
           "curve", "from_physics", "hallucination", "instability", "kernel",
           "kernel_component", "model_operator", "more_samples", "noise", "scan"]
