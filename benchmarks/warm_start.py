"""Does warm-starting Φ help the audits' nearby solves? Iterations and time of restarted PDHG
on y + r (r random, ||r|| a fraction of ||y||) from scratch, from the clean solution x*, and
from the clean solver state (x*, its dual p* and primal weight ω*).

The audits solve Φ on many perturbed copies of one measurement (the noise test's draws, the
instability test's worst cases); the issue on speed asked whether starting those solves from
Φ(y) pays. Setting: SR-LASSO, 128², 25% variable-density mask, db4 (4 levels), λ = 1e-3,
complex128, float64 iterations throughout (no float32 start, so the counts compare),
Shepp–Logan and scikit-image's camera. Prints JSON.

    python benchmarks/warm_start.py [--size 128] [--radii 0.01,0.05] [--tols 1e-4,1e-6]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import torch

from problems import mri_setup
from stablerecon.solvers.data_terms import SRLasso
from stablerecon.solvers.problem import Problem

primal_dual = sys.modules["stablerecon.solvers.primal_dual"]  # the module (not the function)


def solve(problem: Problem, tol: float, x0=None, p0=None, omega: float = 1.0):
    """Restarted PDHG in float64 (the result carries its final dual p and ω)."""
    return primal_dual._run(problem, tol, 10_000, None, True, 10, x0, False, omega, p0=p0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--radii", default="0.01,0.05", help="||r|| / ||y||, comma-separated")
    parser.add_argument("--tols", default="1e-4,1e-6", help="certified tolerances")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    n, lam = args.size, 1e-3
    A, W, images = mri_setup(n)
    out = {"size": n, "lambda": lam, "threads": torch.get_num_threads(), "rows": []}
    for name, x in images.items():
        y = A(x.to(torch.complex128))
        for tol in (float(t) for t in args.tols.split(",")):
            clean = solve(Problem(SRLasso(), A, y, lam=lam, W=W), tol)
            gen = torch.Generator().manual_seed(1)
            for radius in (float(r) for r in args.radii.split(",")):
                r = torch.randn(y.shape, dtype=y.dtype, generator=gen)
                problem = Problem(SRLasso(), A, y + radius * y.norm() * r / r.norm(), lam=lam,
                                  W=W)
                starts = {"scratch": {}, "x_star": {"x0": clean.x},
                          "x_p_omega_star": {"x0": clean.x, "p0": clean.dual,
                                             "omega": clean.primal_weight}}
                row = {"image": name, "tol": tol, "radius": radius,
                       "clean_iterations": clean.iterations}
                for label, kw in starts.items():
                    res = solve(problem, tol, **kw)
                    row[label] = {"iterations": res.iterations, "time_s": res.time_s,
                                  "converged": res.converged}
                row["saved_by_full_state"] = 1 - (row["x_p_omega_star"]["iterations"]
                                                 / row["scratch"]["iterations"])
                out["rows"].append(row)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
