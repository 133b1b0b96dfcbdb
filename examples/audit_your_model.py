"""Audit your own reconstruction network beside the standard method Φ.

Any torch module (or function) y -> x̂ can be audited; here a small stand-in network is
defined in place of yours. The worst-case perturbation r found for it is applied to Φ too,
and the random-noise test says how special r is.

    python examples/audit_your_model.py [--size 64] [--out out/examples/audit]
"""

import argparse

import torch

import stablerecon as sr


class MyNet(torch.nn.Module):
    """Zero-filled reconstruction followed by a small residual CNN (untrained here)."""

    def __init__(self, A):
        super().__init__()
        self.operator = A
        self.body = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                        torch.nn.Conv2d(8, 1, 3, padding=1))

    def forward(self, y):
        z = self.operator.H(y).abs()
        lead = z.shape[:-2]
        z = z.reshape(-1, 1, *z.shape[-2:])
        return (z + 0.1 * self.body(z)).reshape(*lead, *z.shape[-2:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--out", default="out/examples/audit")
    args = parser.parse_args()
    shape = (args.size, args.size)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    torch.manual_seed(0)
    net = MyNet(A)
    x = sr.data.shepp_logan(args.size)
    worst = sr.audit.instability(net, A, x, radii=[0.02], steps=10)
    rnd = sr.audit.noise(net, A, x, worst_case=worst, K=(1, 20), phi_K=5)
    row = worst.metrics["perturbations"][0]
    print(f"||r|| = {row['r_rel']:.3f}·||x||: Ψ loses {row['psi']['psnr_drop']:.2f} dB "
          f"(amplification {row['psi']['amplification']:.2f}), Φ loses "
          f"{row['phi']['psnr_drop']:.2f} dB (amplification {row['phi']['amplification']:.2f}); "
          f"worst-case/worst-random for Ψ: {rnd.metrics['ratio_worst_case_to_worst_random']:.1f}×")
    for result in (worst, rnd):
        result.save(args.out)
    print(f"figures and JSON in {args.out}")


if __name__ == "__main__":
    main()
