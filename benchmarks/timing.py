"""The one timing helper of the benchmarks."""

from __future__ import annotations

import time

import numpy as np


def median_time(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in milliseconds after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))
