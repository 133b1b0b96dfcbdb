"""How the standard method's λ was chosen, and what it should be under noise. Prints JSON.

Φ = SR-LASSO (db4 wavelets for MRI, TV for CT and denoising) on 128² Shepp–Logan, for each
modality at two noise levels, over a grid of λ: the PSNR of Φ against the truth, and the
best λ. MRI uses the registry's 25% variable-density mask, CT 50 angles; noise is relative
(||e|| = level·||Ax||) for MRI and CT, a standard deviation for denoising.

    python benchmarks/lambda_choice.py
"""

from __future__ import annotations

import json

import torch

import stablerecon as sr
from stablerecon.modality import modality
from stablerecon.noise import add_noise

LAMBDAS = sr.solvers.api.LAMBDA_GRID


def sweep(name, A, x, levels):
    gen = torch.Generator().manual_seed(0)
    rows = []
    for level in levels:
        y = add_noise(A(x), level, relative=modality(name).relative_noise, gen=gen)
        psnr = {}
        for lam in LAMBDAS:
            phi = sr.solvers.standard_method(A, name, lam=lam, tol=1e-4, max_iter=2000)
            with torch.no_grad():
                psnr[lam] = sr.metrics.psnr(phi(y), x)
        best = max(psnr, key=psnr.get)
        rows.append({"noise": level, "psnr_db": {f"{k:g}": v for k, v in psnr.items()},
                     "best_lambda": best, "preset_lambda": sr.solvers.PRESET_LAMBDA[name]})
    return rows


def main() -> None:
    x = sr.data.shepp_logan(128)
    mri = sr.nets.operator_for("mri-cascade")
    out = {"image": "shepp_logan 128", "lambdas": list(LAMBDAS),
           "mri": sweep("mri", mri, x.to(torch.complex64), (0.0, 0.03)),
           "ct": sweep("ct", sr.operators.Radon((128, 128), 50), x, (0.0, 0.03)),
           "denoise": sweep("denoise", sr.operators.Identity((128, 128)), x, (0.05, 0.1))}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
