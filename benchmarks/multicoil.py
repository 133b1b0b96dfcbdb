"""Multi-coil MRI beside its peers: the SENSE operator, Φ's iteration and the coil maps.
Prints JSON; ratios > 1 mean we are faster (or, for maps, closer to the truth).

* **operator**: forward + adjoint of ``MultiCoilFourier`` (complex64) at 8 coils × 256² and
  16 coils × 320², fastMRI equispaced 4× with 8% centre, against SigPy's ``mri.linop.Sense``
  (the same y_c = M F S_c x) on the same maps and mask;
* **phi**: seconds per iteration of Φ (SR-LASSO, db4, restarted PDHG) at 8 × 256², beside
  SigPy's ``L1WaveletRecon`` (U-LASSO by proximal gradient: a different objective, the same
  operator and wavelet; the per-iteration cost is what is compared);
* **bart_pics**: seconds per iteration of BART's ``pics -l1 -r 0.01 -S`` (l1-wavelet SENSE,
  its default FISTA) on the same k-space and maps, from the difference between 100 and 1
  iterations (so file I/O and start-up cancel), beside Φ's per-iteration time; and Φ's time
  to a certified relative duality gap of 1e-4 (BART's method has no certificate: its time
  for 100 iterations is what stands beside it);
* **espirit**: maps from the calibration region of simulated birdcage data (brain slice,
  random smooth phase), ours against SigPy's ``EspiritCalib`` and BART's ``ecalib``: time,
  and agreement with the true maps, mean over the object of |⟨S_est(p), S_true(p)⟩| (1 =
  equal up to a phase per pixel);
* **bart_phantom**: on ``bart phantom -s 8 -k`` (BART's own 8-coil k-space), the agreement
  of our ESPIRiT maps with BART's ``ecalib`` maps.

SigPy comes with the ``bench`` extra (``make bench``); BART with ``apt-get install bart``.
A peer that is missing is reported as such, never faked.

    python benchmarks/multicoil.py [--repeat 10]   (results/multicoil.json: a 2-core run)
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import stablerecon as sr
from stablerecon.data import coils
from stablerecon.data.scan import from_centred, to_centred
from stablerecon.operators import MultiCoilFourier, sampling
from stablerecon.operators.multicoil import normalise_maps
from timing import median_time


def _sigpy():
    try:
        import sigpy
        import sigpy.mri  # noqa: F401
    except ImportError:
        return None
    return sigpy


def _problem(n: int, n_coils: int):
    shape = (n, n)
    sens = normalise_maps(coils.birdcage(shape, n_coils))[0]
    mask = sampling.equispaced_columns(shape, 4, 0.08, seed=0)
    x = sr.data.brain_slices(n, "test")[0].to(torch.complex64) * coils.smooth_phase(shape, 1)
    return shape, sens, mask, x


def operator_timing(repeat: int) -> dict:
    sp = _sigpy()
    out = {}
    for n, n_coils in ((256, 8), (320, 16)):
        shape, sens, mask, x = _problem(n, n_coils)
        A = MultiCoilFourier(shape, mask, sens)
        row = {"ours_ms": median_time(lambda: A.adjoint(A(x)), repeat)}
        if sp is not None:
            # SigPy's Sense uses the centred FFT; maps and mask are moved to its convention
            S = sp.mri.linop.Sense(sens.numpy(), weights=np.fft.fftshift(mask).astype(
                np.float32))
            xn = x.numpy()
            row["sigpy_ms"] = median_time(lambda: S.H(S(xn)), repeat)
            row["speedup_vs_sigpy"] = row["sigpy_ms"] / row["ours_ms"]
        else:
            row["sigpy"] = "not installed (pip install sigpy, or make bench)"
        out[f"{n_coils}x{n}^2"] = row
    return out


def phi_timing(iterations: int = 60) -> dict:
    sp = _sigpy()
    shape, sens, mask, x = _problem(256, 8)
    A = MultiCoilFourier(shape, mask, sens)
    y = A(x)
    phi = sr.solvers.standard_method(A, "mri", tol=1e-12, max_iter=iterations)
    phi(y)  # warm-up (plans, wavelet filters)
    t = time.perf_counter()
    phi(y)
    ours = (time.perf_counter() - t) / phi.last_result.iterations
    row = {"ours_s_per_iteration": ours, "ours_iterations": phi.last_result.iterations}
    if sp is not None:
        # SigPy's k-space is centred: our samples placed on the grid, moved to its convention
        k = coils.centred_kspace(A, y).numpy()
        k = to_centred(k).astype(np.complex64)
        app = sp.mri.app.L1WaveletRecon(k, sens.numpy(), 1e-3, weights=np.fft.fftshift(
            mask).astype(np.float32), max_iter=iterations, show_pbar=False)
        t = time.perf_counter()
        app.run()
        row["sigpy_l1wavelet_s_per_iteration"] = (time.perf_counter() - t) / iterations
        row["speedup_vs_sigpy"] = row["sigpy_l1wavelet_s_per_iteration"] / ours
    return row


def bart_pics(iterations: int = 100) -> dict:
    """BART's pics against Φ at 8 coils × 256² (see the module's docstring)."""
    shape, sens, mask, x = _problem(256, 8)
    A = MultiCoilFourier(shape, mask, sens)
    y = A(x)
    sr.solvers.standard_method(A, "mri", max_iter=20)(y)  # warm-up (plans, filters)
    phi = sr.solvers.standard_method(A, "mri", tol=1e-4, max_iter=8000)
    t = time.perf_counter()
    est = phi(y)
    seconds = time.perf_counter() - t
    res = phi.last_result
    row = {"phi_to_1e-4": {"seconds": seconds, "iterations": res.iterations,
                           "status": res.summary()["status"],
                           "relative_gap": res.summary()["certificate"]["relative_gap"],
                           "psnr": sr.metrics.psnr(est.abs(), x.abs())},
           "phi_s_per_iteration": seconds / res.iterations}
    if not shutil.which("bart"):
        row["bart"] = "not installed (apt-get install bart)"
        return row
    k = to_centred(coils.centred_kspace(A, y).numpy())  # BART's centred FFT convention
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_cfl(folder / "k", np.transpose(k, (1, 2, 0))[:, :, None, :])
        _write_cfl(folder / "s", np.transpose(sens.numpy(), (1, 2, 0))[:, :, None, :])
        # -S: BART rescales its image back to the data's scale (else its PSNR is off by it)
        times = {n: _bart("pics", "-l1", "-r", "0.01", "-S", "-i", str(n), str(folder / "k"),
                          str(folder / "s"), str(folder / "x")) for n in (1, iterations)}
        image = _read_cfl(folder / "x")[:, :, 0, 0]
    per_iteration = (times[iterations] - times[1]) / (iterations - 1)
    row["bart"] = {"seconds_100_iterations_with_io": times[iterations],
                   "seconds_1_iteration_with_io": times[1],
                   "s_per_iteration": per_iteration,
                   "psnr_after_100": sr.metrics.psnr(torch.as_tensor(np.abs(image)), x.abs())}
    row["speedup_per_iteration_vs_bart"] = per_iteration / row["phi_s_per_iteration"]
    return row


def _agreement(est: np.ndarray, truth: np.ndarray, inside: np.ndarray) -> float:
    return float(np.abs((est.conj() * truth).sum(0))[inside].mean())


def _write_cfl(path: Path, data: np.ndarray) -> None:
    path.with_suffix(".hdr").write_text("# Dimensions\n" + " ".join(map(str, data.shape))
                                        + "\n")
    data.astype(np.complex64).flatten(order="F").tofile(path.with_suffix(".cfl"))  # BART's order


def _read_cfl(path: Path) -> np.ndarray:
    """A BART array as (x, y, z, coils); its other dimensions must be 1 (one map)."""
    dims = [int(d) for d in path.with_suffix(".hdr").read_text().splitlines()[1].split()]
    if int(np.prod(dims[4:])) != 1:
        raise ValueError(f"{path}: BART dims {dims}, expected one map")
    data = np.fromfile(path.with_suffix(".cfl"), dtype=np.complex64)
    return data.reshape(dims[:4], order="F")


def _bart(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run(["bart", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def _bart_maps(k_fastmri: np.ndarray, folder: Path, calib: int) -> tuple[np.ndarray, float]:
    """BART's ecalib maps (coils, H, W) of centred k-space (coils, H, W), and its wall time
    (the command, its file reads and writes included)."""
    _write_cfl(folder / "k", np.transpose(k_fastmri, (1, 2, 0))[:, :, None, :])
    seconds = _bart("ecalib", "-m", "1", "-r", str(calib), str(folder / "k"),
                    str(folder / "s"))
    maps = _read_cfl(folder / "s")[:, :, 0, :]
    return np.transpose(maps, (2, 0, 1)), seconds


def espirit_comparison(n: int = 256) -> dict:
    sp = _sigpy()
    shape, sens, mask, x = _problem(n, 8)
    A = MultiCoilFourier(shape, mask, sens)
    k = coils.centred_kspace(A, A(x))
    calib = coils.calibration_region(mask)[1]
    inside = (x.abs() > 0.1 * x.abs().max()).numpy()
    truth = sens.numpy()
    t = time.perf_counter()
    ours = coils.espirit(k, mask=mask)
    row = {"calibration_columns": calib,
           "ours": {"seconds": time.perf_counter() - t,
                    "agreement": _agreement(ours.numpy(), truth, inside)}}
    t = time.perf_counter()
    low = coils.lowres(k, mask=mask)
    row["ours_lowres"] = {"seconds": time.perf_counter() - t,
                          "agreement": _agreement(low.numpy(), truth, inside)}
    k_fastmri = to_centred(k.numpy())  # the convention SigPy and BART take
    if sp is not None:
        t = time.perf_counter()
        maps = sp.mri.app.EspiritCalib(k_fastmri, calib_width=calib, show_pbar=False).run()
        row["sigpy"] = {"seconds": time.perf_counter() - t,
                        "agreement": _agreement(np.asarray(maps), truth, inside)}
        row["speedup_vs_sigpy"] = row["sigpy"]["seconds"] / row["ours"]["seconds"]
    if shutil.which("bart"):
        with tempfile.TemporaryDirectory() as tmp:
            maps, seconds = _bart_maps(k_fastmri, Path(tmp), calib)
        row["bart"] = {"seconds_with_file_io": seconds,
                       "agreement": _agreement(maps, truth, inside)}
        row["speedup_vs_bart"] = seconds / row["ours"]["seconds"]
    else:
        row["bart"] = "not installed (apt-get install bart)"
    return row


def bart_phantom() -> dict:
    """Our ESPIRiT on BART's own multi-coil phantom k-space, against BART's maps."""
    if not shutil.which("bart"):
        return {"bart": "not installed (apt-get install bart)"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _bart("phantom", "-s", "8", "-k", str(folder / "p"))
        k = np.transpose(_read_cfl(folder / "p")[:, :, 0, :], (2, 0, 1))  # (coils, H, W)
        bart_maps, seconds = _bart_maps(k, folder, 24)
    ours = coils.espirit(torch.as_tensor(from_centred(k)).to(torch.complex64),
                         region=(24, 24)).numpy()
    image = np.abs(np.fft.ifft2(np.fft.ifftshift(from_centred(k), axes=(-2, -1)),
                                norm="ortho")).sum(0)
    both = (np.abs(ours).sum(0) > 0) & (np.abs(bart_maps).sum(0) > 0)
    inside = both & (image > 0.1 * image.max())
    return {"shape": list(k.shape), "bart_seconds_with_file_io": seconds,
            "agreement_ours_vs_bart": _agreement(ours, bart_maps, inside),
            "pixels_compared": int(inside.sum())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(json.dumps({"threads": torch.get_num_threads(), "machine": platform.machine(),
                      "torch": torch.__version__,
                      "operator": operator_timing(args.repeat), "phi": phi_timing(),
                      "bart_pics": bart_pics(),
                      "espirit": espirit_comparison(), "bart_phantom": bart_phantom()},
                     indent=2))


if __name__ == "__main__":
    main()
