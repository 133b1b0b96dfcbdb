"""Keeping freed memory in the process, so that the buffers a solver allocates at every
iteration are not handed back to the system and faulted in again.

Why: on Linux, glibc's ``malloc`` serves large requests with fresh pages and returns them
to the system when they are freed (the heap's top is trimmed once more than twice the
largest recent request is free). A solver or a transform that allocates its outputs anew
at every call then pays one page fault per 4 KiB written: measured on a 2-core VM, 70-180
faults per restarted-PDHG iteration at 256² (batch 1) and about 2000 at batch 8, 3-14% of
the iteration's time, and 220-510 faults (up to a third of the time) per complex128 wavelet
forward + adjoint. With the thresholds raised the same loops fault about 0 times.

This changes the whole process's allocator, so the library never does it on import: the
``stablerecon`` command, the sweep's worker processes and the timing benchmarks
(``benchmarks/wavelet.py``, ``benchmarks/solvers.py``; ``--default-allocator`` measures
without it) call :func:`keep_freed_memory` at start. A script that runs many solves can call
it too, or start Python with
``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912``.
"""

from __future__ import annotations

import ctypes
import sys

from stablerecon import validate

__all__ = ["keep_freed_memory"]

#: glibc's ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: glibc caps the mmap threshold at 32 MiB on 64-bit systems (HEAP_MAX / 2)
_MMAP_THRESHOLD_MAX = 32 * 2**20
#: mallopt takes a C int
_C_INT_MAX = 2**31 - 1


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (has ``mallopt``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, libc's among them
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (musl's mallopt does nothing)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory(mmap_threshold: int = _MMAP_THRESHOLD_MAX,
                      trim_threshold: int = 2**29) -> bool:
    """Keep freed buffers in the process (glibc only): requests below ``mmap_threshold``
    bytes come from the heap, and up to ``trim_threshold`` free bytes at its top are kept.

    The cost is memory the process keeps after it frees it (at most ``trim_threshold`` at
    the heap's top); the gain is that repeated allocations of the same sizes reuse pages
    already mapped instead of faulting them in (see the module's docstring for numbers).

    Parameters
    ----------
    mmap_threshold : int
        Requests of at least this many bytes are mapped (and unmapped when freed); at most
        32 MiB, glibc's own cap.
    trim_threshold : int
        The heap is given back to the system only when more than this many bytes are free
        at its top.

    Returns
    -------
    bool
        True when the allocator was changed; False where the C library is not glibc
        (macOS, Windows, musl), which then stays as it was.

    Examples
    --------
    >>> keep_freed_memory() in (True, False)
    True
    """
    mmap_threshold = validate.number(
        "keep_freed_memory mmap_threshold", mmap_threshold, low=0, low_closed=True,
        high=_MMAP_THRESHOLD_MAX, integer=True, hint="bytes, at most glibc's cap of 32 MiB")
    trim_threshold = validate.number(
        "keep_freed_memory trim_threshold", trim_threshold, low=0, low_closed=True,
        high=_C_INT_MAX, integer=True, hint="bytes, a C int (mallopt's argument)")
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
                and libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))
