"""The one exception type of stablerecon.

Every error raised on bad input is a :class:`StableReconError` whose message says what was
received, what was expected, and what to do about it.
"""

from __future__ import annotations


class StableReconError(ValueError):
    """Bad input or a failed computation, with a message that names the fix."""
