"""Time forward + adjoint of each operator at 256² (batch 1 and 8) and print JSON.

References measured in the same run: torch.fft.fft2 + ifft2 (the MRI transform's floor),
PyWavelets wavedec2 + waverec2 with mode="periodization" (the wavelet peer) and
skimage.transform.radon (the CT peer, forward only). Ratios > 1 mean we are faster.

    python benchmarks/operators.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import platform

import numpy as np
import pywt
import torch
from skimage.transform import radon

import stablerecon as sr
from timing import median_time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    n, rep = args.size, args.repeat
    shape = (n, n)
    mask = sr.operators.sampling.variable_density(shape, 0.25, seed=0)
    ops = {
        "fourier": (sr.operators.SubsampledFourier(shape, mask), torch.complex64),
        "wavelet_db4_L4": (sr.operators.Wavelet(shape, "db4", levels=4), torch.complex64),
        "wavelet_db4_L4_c128": (sr.operators.Wavelet(shape, "db4", levels=4), torch.complex128),
        "gradient": (sr.operators.Gradient(shape), torch.float32),
        "radon_60": (sr.operators.Radon(shape, 60), torch.float32),
    }
    results: dict = {"size": n, "threads": torch.get_num_threads(),
                     "machine": platform.machine(), "torch": torch.__version__, "ms": {}}
    for batch in (1, 8):
        x_c = torch.randn(batch, n, n, dtype=torch.complex64)
        results["ms"][f"torch_fft2_ifft2_b{batch}"] = median_time(
            lambda: torch.fft.ifft2(torch.fft.fft2(x_c, norm="ortho"), norm="ortho"), rep)
        xn = x_c.numpy().astype(np.complex128)
        results["ms"][f"pywt_periodization_db4_L4_b{batch}"] = median_time(
            lambda: pywt.waverec2(pywt.wavedec2(xn, "db4", mode="periodization", level=4,
                                                axes=(-2, -1)),
                                  "db4", mode="periodization", axes=(-2, -1)), rep)
        for name, (op, dtype) in ops.items():
            x = torch.randn(batch, n, n, dtype=dtype)
            results["ms"][f"{name}_b{batch}"] = median_time(lambda: op.H(op(x)), rep)
    img = sr.data.shepp_logan(n, dtype=torch.float64).numpy()
    degrees = np.linspace(0, 180, 60, endpoint=False)
    results["ms"]["skimage_radon_60_b1"] = median_time(lambda: radon(img, degrees),
                                                       max(3, rep // 5))
    ms = results["ms"]
    results["ratios"] = {
        "wavelet_c128_vs_pywt_b1": (ms["pywt_periodization_db4_L4_b1"]
                                    / ms["wavelet_db4_L4_c128_b1"]),
        "wavelet_c64_vs_pywt_b1": ms["pywt_periodization_db4_L4_b1"] / ms["wavelet_db4_L4_b1"],
        "wavelet_c64_vs_pywt_b8": ms["pywt_periodization_db4_L4_b8"] / ms["wavelet_db4_L4_b8"],
        "radon_fwd_adj_vs_skimage_radon_fwd": ms["skimage_radon_60_b1"] / ms["radon_60_b1"],
        "fourier_vs_bare_fft_b1": ms["torch_fft2_ifft2_b1"] / ms["fourier_b1"],
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
