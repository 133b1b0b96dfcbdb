"""Where the cells of a sweep run: in this process, in a local process pool, or on Ray.

Each executor calls ``run_cell(cell, cells_dir, device)`` for every cell and hands each
record to ``done`` as soon as it arrives. Every worker runs cells with the same number of
torch threads, so the three give the same numbers for the same seeds.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from stablerecon.errors import StableReconError
from stablerecon.memory import keep_freed_memory
from stablerecon.sweep.cells import Cell, run_cell

Done = Callable[[dict[str, Any]], None]


def _set_threads(threads: int, worker: bool = True) -> None:
    """Set torch's threads; in a worker process (ours, started for the sweep) also keep
    freed memory (:func:`stablerecon.memory.keep_freed_memory`), as the command does."""
    import torch

    torch.set_num_threads(threads)
    if worker:
        keep_freed_memory()


def run_serial(cells: Sequence[Cell], cells_dir: str, device: str, threads: int,
               done: Done) -> None:
    """One cell after another in this process."""
    _set_threads(threads, worker=False)
    for cell in cells:
        done(run_cell(cell, cells_dir, device))


def run_pool(cells: Sequence[Cell], cells_dir: str, device: str, threads: int, workers: int,
             done: Done) -> None:
    """A local pool of ``workers`` processes (started fresh with 'spawn': safe beside torch's
    threads and CUDA), no server to start."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_threads,
                             initargs=(threads,)) as pool:
        pending = {pool.submit(run_cell, cell, cells_dir, device) for cell in cells}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done(future.result())


def _ray_cell(cell: Cell, cells_dir: str, device: str, threads: int) -> dict[str, Any]:
    _set_threads(threads)
    return run_cell(cell, cells_dir, device)


def run_ray(cells: Sequence[Cell], cells_dir: str, device: str, threads: int, workers: int,
            done: Done, address: str | None = None, gpus_per_cell: float | None = None) -> None:
    """Ray tasks, one per cell: on a local Ray started here (``workers`` × ``threads`` CPUs)
    or on the cluster at ``address``. A cell on CUDA asks Ray for ``gpus_per_cell`` GPUs
    (default 1). On a cluster, the results folder must be shared by the nodes and the
    models' files and modules importable on each."""
    try:
        import ray
    except ImportError as exc:
        raise StableReconError("Ray is not installed; install it with "
                               "pip install 'stablerecon[ray]', or run without --ray (a "
                               "local process pool).") from exc
    started = not ray.is_initialized()
    if started:
        env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        if address:
            ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
        else:
            ray.init(num_cpus=workers * threads, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": env})
    try:
        on_cuda = device.startswith("cuda") or (device == "auto" and _cuda())
        gpus = (1.0 if gpus_per_cell is None else gpus_per_cell) if on_cuda else 0
        task = ray.remote(num_cpus=threads, num_gpus=gpus, max_retries=0)(_ray_cell)
        pending = [task.remote(cell, cells_dir, device, threads) for cell in cells]
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            for ref in finished:
                done(ray.get(ref))
    finally:
        if started:
            ray.shutdown()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
