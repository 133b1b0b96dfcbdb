"""The timing helpers of the benchmarks: a median time, and the allocator they run under."""

from __future__ import annotations

import argparse
import time

import numpy as np

from stablerecon.memory import keep_freed_memory


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


def add_allocator_option(parser: argparse.ArgumentParser) -> None:
    """``--default-allocator``: measure under glibc's malloc as it comes, instead of keeping
    freed memory as the ``stablerecon`` command does (:mod:`stablerecon.memory`)."""
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave malloc as it is (default: keep freed memory, as the "
                             "stablerecon command does; peers run under the same allocator)")


def set_allocator(args: argparse.Namespace) -> bool:
    """Keep freed memory unless ``--default-allocator``; whether it is kept (for the JSON)."""
    return False if args.default_allocator else keep_freed_memory()
