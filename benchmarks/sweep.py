"""How fast a sweep runs its cells; prints JSON.

One study (the shipped cascade on held-out brain slices, the instability test at one budget,
Φ beside it) run three ways on this machine's cores, each from an empty results folder and
timed from the call to the aggregate (start-up of workers or of Ray included):

* serial: 1 worker using every core's threads (in this process);
* pool: one worker process per core, one thread each;
* ray: a local Ray started by the call, one task per cell, one thread each.

Reported: cells per minute for each, the pool's speed-up over serial, Ray's overhead against
the pool (time ratio), and whether the three aggregates are identical.

    python benchmarks/sweep.py [--images 6] [--steps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import stablerecon as sr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mri-cascade")
    parser.add_argument("--images", type=int, default=6, help="held-out slices (≤ 10)")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    study = {"models": [args.model], "images": [f"brain:{95 + k}" for k in range(args.images)],
             "tests": ["instability"], "budgets": [0.01], "steps": args.steps,
             "phi_tol": 1e-3, "phi_max_iter": 300}
    modes = {"serial": dict(workers=1, threads=cores),
             "pool": dict(workers=cores, threads=1),
             "ray": dict(workers=cores, threads=1, ray=True)}
    try:
        import ray  # noqa: F401
    except ImportError:
        modes.pop("ray")
    timings, aggregates = {}, {}
    for name, options in modes.items():
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            result = sr.sweep.run({**study, "out": out}, progress=False, **options)
            timings[name] = time.perf_counter() - start
            aggregates[name] = result.aggregate
            assert result.ok, result.failed
    cells = args.images
    report = {
        "cores": cores, "cells": cells, "model": args.model, "steps": args.steps,
        "seconds": timings,
        "cells_per_minute": {k: 60 * cells / t for k, t in timings.items()},
        "pool_speedup_over_serial": timings["serial"] / timings["pool"],
        "identical_aggregates": all(a == aggregates["serial"] for a in aggregates.values()),
    }
    if "ray" in timings:
        report["ray_time_over_pool"] = timings["ray"] / timings["pool"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
