"""FIRENET accuracy against depth, and the cost of one layer. Prints JSON.

128² modified Shepp–Logan, the 25% variable-density mask of the registry cards, db4 with 4
levels, λ = 1e-3 (the MRI standard method): after each restart (p = 40 layers each) the
PSNR against the truth and the distance to the certified SR-LASSO minimiser (float64,
relative gap 1e-10); and a sparse 128² image (40 Haar coefficients, 30% uniform mask) where
the sharpness condition holds and the distance falls by e per restart.

    python benchmarks/firenet.py
"""

from __future__ import annotations

import json

import torch

import stablerecon as sr
from timing import median_time


def depth_table(A, W, x, lam, restarts, inner):
    y = A(x)
    ref = sr.solvers.sr_lasso(A, y, lam=lam, W=W, tol=1e-10, max_iter=100_000)
    net = sr.nets.FIRENET(A, W, lam=lam, restarts=restarts, inner=inner, delta=0.0)
    with torch.no_grad():
        _, xs = net(y, return_restarts=True)
    rows = [{"layers": (k + 1) * inner,
             "psnr_db": sr.metrics.psnr(xk, x),
             "distance_to_minimiser_rel": float((xk - ref.x).norm() / ref.x.norm())}
            for k, xk in enumerate(xs)]
    return {"minimiser_psnr_db": sr.metrics.psnr(ref.x, x),
            "minimiser_certified_gap": float(ref.certificate.relative_gap), "rows": rows}


def main() -> None:
    n = 128
    shape = (n, n)
    A = sr.nets.operator_for("mri-firenet")
    W = sr.operators.Wavelet(shape, "db4", levels=4)
    x = sr.data.shepp_logan(n, dtype=torch.float64).to(torch.complex128)
    out = {"threads": torch.get_num_threads(),
           "shepp_logan_db4": depth_table(A, W, x, 1e-3, restarts=12, inner=40)}
    haar = sr.operators.Wavelet(shape, "haar", levels=3)
    gen = torch.Generator().manual_seed(0)
    c = torch.zeros(n * n, dtype=torch.complex128)
    c[torch.randperm(n * n, generator=gen)[:40]] = torch.randn(40, dtype=torch.complex128,
                                                               generator=gen)
    A_u = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.3))
    out["sparse_haar"] = depth_table(A_u, haar, haar.H(c.reshape(shape)), 0.05, restarts=14,
                                     inner=40)
    # one layer against one FFT + IFFT + DWT + IDWT pair (complex64, as the registry model)
    net = sr.nets.load("mri-firenet")
    y = A(x.to(torch.complex64))
    with torch.no_grad():
        t_net = median_time(lambda: net(y), repeat=3)
    xc = x.to(torch.complex64)
    t_pair = median_time(lambda: W.H(W(A.H(A(xc)))), repeat=50)
    out["time"] = {"layer_ms": t_net / net.depth, "fft_dwt_pair_ms": t_pair,
                   "ratio": t_net / net.depth / t_pair, "depth": net.depth}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
