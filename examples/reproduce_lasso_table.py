"""Reproduce (a part of) the lecture's ill-conditioned lasso table.

For min (1/m)||A_δ D_δ x − y||² + λ||x||₁ with small δ, float64 solvers (scikit-learn's
Lasso, ours) return answers far from the exact minimiser (computed with mpmath), while the
certified solver either proves its error bound or says it cannot.

    python examples/reproduce_lasso_table.py [--deltas 0.5,0.0078125] [--time-cap 20]
"""

import argparse

from stablerecon.experiments import lasso_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", default="0.5,0.0078125")
    parser.add_argument("--time-cap", type=float, default=20.0)
    args = parser.parse_args()
    deltas = [float(d) for d in args.deltas.split(",")]
    for row in lasso_table.run(deltas, time_cap=args.time_cap):
        error = "—" if row["error"] is None else f"{row['error']:.1e}"
        print(f"δ = {row['delta']:<10g} {row['solver']:<40} error {error:>8}  "
              f"certified: {row['certified']}")


if __name__ == "__main__":
    main()
