"""What sharing Φ(Ax) between a sweep's cells saves; prints JSON.

A study whose cells share images (the shipped cascade, 2 held-out slices × instability and
noise at 2 budgets + kernel = 10 cells) run serially twice from empty folders: with the
cells' shared Φ(Ax) (``phi-cache/``, solved once per image) and with every cell solving it
itself. Reported: seconds each, the speed-up, and whether the aggregates are identical.

    python benchmarks/sweep_phi_cache.py
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time

import stablerecon as sr

STUDY = {"models": ["mri-cascade"], "images": ["brain:97", "brain:98"],
         "tests": ["instability", "noise", "kernel"], "budgets": [0.01, 0.02], "steps": 3,
         "draws": 3, "phi_tol": 1e-3, "phi_max_iter": 300}


def main() -> None:
    cells = importlib.import_module("stablerecon.sweep.cells")
    shared = cells._run_test
    runs = {}
    for mode in ("each cell solves", "shared"):
        cells._run_test = (shared if mode == "shared" else
                           lambda cell, device, phi_cache=None: shared(cell, device, None))
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            result = sr.sweep.run({**STUDY, "out": out}, workers=1, progress=False)
            runs[mode] = (time.perf_counter() - start, result)
    cells._run_test = shared
    (t_each, r_each), (t_shared, r_shared) = runs["each cell solves"], runs["shared"]
    print(json.dumps({"cells": r_shared.total, "seconds_each_cell_solves": t_each,
                      "seconds_shared": t_shared, "speedup": t_each / t_shared,
                      "identical_aggregates": r_each.aggregate == r_shared.aggregate},
                     indent=2))


if __name__ == "__main__":
    main()
