"""stablerecon: can this image reconstruction be trusted?

The working version of Antun & Colbrook, "On the barriers of AI and the trade-off between
stability and accuracy in deep learning": forward operators, certified standard methods,
learned reconstructors, the stability and accuracy audits, and FIRENETs.
"""

from stablerecon import audit, data, devices, metrics, nets, operators, solvers, sweep
from stablerecon.errors import StableReconError

__version__ = "0.1.0"
__all__ = ["StableReconError", "audit", "data", "devices", "metrics", "nets", "operators",
           "solvers", "sweep",
           "__version__"]
