"""A small stability study as a sweep: the shipped brain cascade on three held-out slices,
worst-case and random perturbations at two budgets, Φ beside it, aggregated.

The same study from the command line: write the dict below as TOML and run
``stablerecon sweep study.toml``. Re-running skips the finished cells.

    python examples/sweep_study.py [--out out/examples/sweep] [--steps 10]
"""

import argparse

import stablerecon as sr
from stablerecon.report.sweep import sentences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="out/examples/sweep")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--images", type=int, default=3)
    args = parser.parse_args()
    result = sr.sweep.run({
        "models": ["mri-cascade"],
        "images": [f"brain:{95 + k}" for k in range(args.images)],
        "tests": ["instability", "noise"], "budgets": [0.01, 0.02],
        "steps": args.steps, "draws": 10, "phi_tol": 1e-3, "phi_max_iter": 300,
        "out": args.out})
    print("\n".join(sentences(result.aggregate)))
    print(f"{result.total} cells ({result.skipped} finished before); see {result.out}/summary.md")


if __name__ == "__main__":
    main()
