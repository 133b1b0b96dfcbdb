"""The tests of the lecture, run on any reconstructor beside the standard method Φ:
``instability``, ``noise``, ``curve``, ``more_samples``, ``accuracy``, ``kernel``; and
``run`` (:mod:`stablerecon.audit.suite`): several of them with Ψ(Ax) and Φ(Ax) computed
once."""

from stablerecon.audit.accuracy import accuracy
from stablerecon.audit.common import Clean, clean_outputs
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
from stablerecon.audit.suite import TESTS, check_tests, run

__all__ = ["TESTS", "AuditResult", "Clean", "Figure", "Plot", "Reconstructor", "accuracy",
           "as_reconstructor", "check_tests", "clean_outputs", "curve", "from_physics",
           "hallucination", "instability", "kernel", "kernel_component", "model_operator",
           "more_samples", "noise", "run", "scan"]
