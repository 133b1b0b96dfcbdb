"""Stability studies at scale: every audit over models × images × tests × budgets × seeds,
each cell an independent task (local process pool or Ray), resumable, aggregated into one
table and plots. ``run(config)``; ``stablerecon sweep study.toml`` on the command line."""

from stablerecon.sweep.aggregate import aggregate
from stablerecon.sweep.cells import Cell, cells, run_cell
from stablerecon.sweep.config import TESTS, SweepConfig, from_mapping, load_config
from stablerecon.sweep.runner import SweepResult, run

__all__ = ["Cell", "SweepConfig", "SweepResult", "TESTS", "aggregate", "cells", "from_mapping",
           "load_config", "run", "run_cell"]
