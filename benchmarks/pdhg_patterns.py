"""Restarted PDHG across MRI sampling patterns: iterations and seconds to a certified 1e-4.

SR-LASSO (λ = 1e-3, db4, 2% complex noise, complex128) at 64² (3 levels) and 128² (4
levels), Shepp–Logan and the brain slice, five sampling patterns at 25%. Run it on two
checkouts to compare solver versions on the same problems (``benchmarks/results/
pdhg_patterns.json`` holds the form that dualised W against the z = Wx form). Prints JSON.

    python benchmarks/pdhg_patterns.py [--max-iter 5000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import warnings

import torch

import stablerecon as sr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-iter", type=int, default=5000)
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # unconverged runs are reported as such
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=sr.__path__[0]).stdout.strip()
    rows = []
    for n in (64, 128):
        shape = (n, n)
        W = sr.operators.Wavelet(shape, "db4", levels=3 if n == 64 else 4)
        images = {"shepp_logan": sr.data.shepp_logan(n, dtype=torch.float64),
                  "brain": sr.data.load("brain", size=n, dtype=torch.float64).x}
        for pattern in ("uniform", "variable_density", "multilevel", "radial", "cartesian"):
            A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.make_mask(
                pattern, shape, 0.25))
            for name, x in images.items():
                y = A(x.to(torch.complex128))
                gen = torch.Generator().manual_seed(0)
                noise = torch.randn(y.shape, dtype=torch.complex128, generator=gen)
                y = y + 0.02 * y.norm() * noise / noise.norm()
                start = time.perf_counter()
                res = sr.solvers.sr_lasso(A, y, lam=1e-3, W=W, tol=1e-4, max_iter=args.max_iter)
                rows.append({"size": n, "pattern": pattern, "image": name,
                             "converged": res.converged, "iterations": res.iterations,
                             "time_s": time.perf_counter() - start})
    print(json.dumps({"commit": commit, "threads": torch.get_num_threads(), "rows": rows},
                     indent=1))


if __name__ == "__main__":
    main()
