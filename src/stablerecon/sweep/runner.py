"""Run a sweep: skip finished cells, run the rest (serially, in a process pool or on Ray),
record failures, aggregate, write the summary.

Layout of the results folder::

    sweep.json              the configuration and every cell's key and label
    cells/<key>/            one finished cell: the audit's JSON and figures, record.json
    failed/<key>.json       the error of a cell that failed (retried on the next run)
    summary.json, summary.md  the aggregate (see stablerecon.sweep.aggregate), in words
    table.csv|.json|.md     one row per model and budget
    psnr-lost.png, amplification.png
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablerecon import validate
from stablerecon.sweep.aggregate import aggregate
from stablerecon.sweep.cells import Cell, cells, check_study
from stablerecon.sweep.config import SweepConfig, from_mapping, load_config


@dataclass
class SweepResult:
    """What a sweep did.

    Attributes
    ----------
    out : Path
        The results folder.
    total, skipped, ran : int
        Cells in the study, finished before, and run now.
    failed : list of dict
        Records of failed cells, with their errors.
    aggregate : dict
        The study's numbers (:func:`~stablerecon.sweep.aggregate`).
    files : list of Path
        Tables and plots written.
    """

    out: Path
    total: int
    skipped: int
    ran: int
    failed: list[dict[str, Any]]
    aggregate: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every cell has a result."""
        return not self.failed


def _config(config: SweepConfig | Mapping[str, Any] | str | Path) -> SweepConfig:
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, Mapping):
        return from_mapping(config)
    return load_config(config)


def _record(cells_dir: Path, cell: Cell) -> dict[str, Any] | None:
    path = cells_dir / cell.key() / "record.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:  # cannot happen with atomic writes; recompute rather than trust it
        return None


def run(config: SweepConfig | Mapping[str, Any] | str | Path, *, workers: int | None = None,
        threads: int | None = None, ray: bool = False, ray_address: str | None = None,
        progress: bool = True, console: Any = None) -> SweepResult:
    """Run every cell of ``config`` that has no result yet in ``config.out``, then aggregate
    all of them.

    A failing cell is recorded under ``failed/`` and the others go on.

    Parameters
    ----------
    config : SweepConfig, mapping, str or Path
        The study, or a TOML path.
    workers : int, optional
        Processes (default: one per core; one on CUDA).
    threads : int, optional
        Torch threads per cell (default: the cores shared among the workers).
    ray : bool
        Run each cell as a Ray task instead, on a local Ray started here or on the
        cluster at ``ray_address``.
    ray_address : str, optional
        Address of a running Ray cluster.
    progress : bool
        Show a progress bar.
    console : rich.console.Console, optional
        Where progress goes.

    Returns
    -------
    SweepResult
        Counts, failures, the aggregate and the files.
    """
    from stablerecon.io import ensure_writable, locked

    cfg = _config(config)
    cores = os.cpu_count() or 1
    if workers is None:
        workers = 1 if cfg.device.startswith("cuda") else cores
    validate.number("workers", workers, low=1, low_closed=True, integer=True)
    threads = threads or max(1, cores // workers)
    out = ensure_writable(cfg.out)
    with locked(out, "sweep"):
        return _run(cfg, out, workers, threads, ray, ray_address, progress, console)


def _run(cfg: SweepConfig, out: Path, workers: int, threads: int, ray: bool,
         ray_address: str | None, progress: bool, console: Any) -> SweepResult:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from stablerecon.io import write_json
    from stablerecon.report import sweep as sweep_report
    from stablerecon.sweep import executors

    cells_dir, failed_dir = out / "cells", out / "failed"
    cells_dir.mkdir(exist_ok=True)
    for stale in cells_dir.glob(".*.tmp"):  # cells a killed run was writing
        shutil.rmtree(stale, ignore_errors=True)
    plan = cells(cfg)
    check_study(cfg.models, list(dict.fromkeys(c.image for c in plan)), cfg.operator)
    write_json(out / "sweep.json", {"config": cfg.to_dict(),
                                    "cells": [{"key": c.key(), "label": c.label()} for c in plan]})
    records = {c.key(): _record(cells_dir, c) for c in plan}
    todo = [c for c in plan if records[c.key()] is None]
    failed: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not progress) as bar:
        task = bar.add_task("sweep", total=len(plan), completed=len(plan) - len(todo))

        def done(record: dict[str, Any]) -> None:
            key = record["key"]
            if record["status"] == "ok":
                records[key] = record
                (failed_dir / f"{key}.json").unlink(missing_ok=True)
            else:
                failed.append(record)
                write_json(failed_dir / f"{key}.json", record)
                bar.console.print(f"cell failed: {Cell(**record['cell']).label()}: "
                                  f"{record['error']}", markup=False, highlight=False)
            finished = sum(r is not None for r in records.values())
            bar.update(task, completed=finished + len(failed),
                       description=f"sweep: {finished} done, {len(failed)} failed, "
                                   f"{len(plan) - finished - len(failed)} to go")

        if todo:
            if ray:
                executors.run_ray(todo, str(cells_dir), cfg.device, threads, workers, done,
                                  address=ray_address)
            elif workers == 1:
                executors.run_serial(todo, str(cells_dir), cfg.device, threads, done)
            else:
                executors.run_pool(todo, str(cells_dir), cfg.device, threads, workers, done)
    numbers = aggregate(r for r in records.values() if r is not None)
    status = {"cells": len(plan), "done": sum(r is not None for r in records.values()),
              "failed": len(failed), "skipped": len(plan) - len(todo), "ran": len(todo)}
    files = sweep_report.save(out, numbers, status)
    return SweepResult(out, len(plan), len(plan) - len(todo), len(todo), failed, numbers, files)
