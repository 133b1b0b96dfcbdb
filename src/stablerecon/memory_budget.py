"""Refusing, before anything is allocated, a request whose arrays would not fit in memory.

Every constructor that allocates in proportion to its arguments (a Radon matrix, a batch
of phantoms or brain slices, coil maps, a dense matrix) estimates its peak bytes from them
and calls :func:`check_fits`. A request that cannot fit ends at once in a one-line error
with the estimate and the fix, instead of a ``MemoryError`` from numpy, an allocator
failure from torch, or minutes of swapping.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from stablerecon.errors import StableReconError

__all__ = ["available_bytes", "check_fits"]


def available_bytes(device: str | torch.device = "cpu") -> int:
    """Memory a new allocation can have: free GPU memory for a CUDA device; on the host,
    ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory.

    Parameters
    ----------
    device : str or torch.device
        Where the allocation would live.

    Returns
    -------
    int
        Bytes.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB"


def check_fits(nbytes: float, what: str, fix: str,
               device: str | torch.device = "cpu") -> None:
    """Refuse a request whose estimated peak memory exceeds what is available.

    Parameters
    ----------
    nbytes : float
        The estimated peak bytes of the request.
    what : str
        The request, as the caller would say it (``"Radon((2048, 2048), angles=2048)"``).
    fix : str
        What to change (``"use fewer angles or a smaller image"``).
    device : str or torch.device
        Where it would be allocated.

    Raises
    ------
    StableReconError
        With the estimate, the memory available and ``fix``.
    """
    free = available_bytes(device)
    if nbytes > free:
        where = "GPU memory" if torch.device(device).type == "cuda" else "memory"
        raise StableReconError(f"{what} would need about {_gib(nbytes)} of {where}, and "
                               f"{_gib(free)} is available; {fix}.")
