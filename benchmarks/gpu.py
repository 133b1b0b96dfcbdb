"""The same work on the CPU and, when present, on CUDA, timed in one run; prints JSON.

Timed on each device: forward + adjoint of the operators at 256² (batch 1 and 8), one
restarted-PDHG iteration (SR-LASSO, db4, 256², 25% variable density, complex64), one
training step of the shipped cascade's architecture at batch 16 (128²), and the instability
audit of the shipped cascade (three radii, Φ beside it). ``ratios`` are CPU time / CUDA time
(> 1: the GPU is faster). Without CUDA the CPU numbers are printed and ``cuda`` says why
it is missing.

    python benchmarks/gpu.py [--repeat 10] [--audit-steps 30]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings

import torch

import stablerecon as sr
from stablerecon.train import TrainConfig
from stablerecon.train.trainer import measure, training_batch
from timing import median_time


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, repeat: int) -> float:
    """Median milliseconds of ``fn()``, the device's queue drained after each call."""
    def run() -> None:
        fn()
        _sync(device)
    return median_time(run, repeat)


def measure_device(device: torch.device, repeat: int, audit_steps: int) -> dict[str, float]:
    ms: dict[str, float] = {}
    n = 256
    shape = (n, n)
    mask = sr.operators.sampling.variable_density(shape, 0.25, seed=0)
    F = sr.operators.SubsampledFourier(shape, mask).to(device)
    W = sr.operators.Wavelet(shape, "db4", levels=4).to(device)
    ops = {"fourier": (F, torch.complex64), "wavelet_db4_L4": (W, torch.complex64),
           "gradient": (sr.operators.Gradient(shape), torch.float32),
           "radon_60": (sr.operators.Radon(shape, 60).to(device), torch.float32)}
    for batch in (1, 8):
        for name, (op, dtype) in ops.items():
            x = torch.randn(batch, n, n, dtype=dtype, device=device)
            ms[f"{name}_fwd_adj_b{batch}"] = timed(lambda: op.H(op(x)), device, repeat)
    # one restarted-PDHG iteration: the cost of a run divided by its iterations
    x = sr.data.shepp_logan(n, device=device).to(torch.complex64)
    y = F(x)

    def pdhg_run() -> sr.solvers.SolverResult:
        with warnings.catch_warnings():  # tol is out of reach on purpose: 100 iterations run
            warnings.simplefilter("ignore", RuntimeWarning)
            return sr.solvers.sr_lasso(F, y, lam=1e-3, W=W, max_iter=100, tol=1e-12)

    pdhg_run()  # warm-up
    _sync(device)
    t = time.perf_counter()
    res = pdhg_run()
    _sync(device)
    ms["restarted_pdhg_iteration_256"] = 1e3 * (time.perf_counter() - t) / res.iterations
    # one cascade training step at batch 16 (the shipped architecture, 128²)
    card = sr.nets.card("mri-cascade")
    with torch.device("cpu"):
        net = sr.nets.build(card)
    net = net.to(device).train()
    A = net.operator
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    cfg = TrainConfig(net="cascade", size=A.in_shape[0], batch=16)
    xb = training_batch(cfg, 0, 0, []).to(device)
    yb = measure(cfg, A, xb, sr.devices.generator(0, device))

    def step() -> None:
        loss = (net(yb) - xb).abs().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    ms["cascade_train_step_b16_128"] = timed(step, device, max(3, repeat // 2))
    # the instability audit of the shipped cascade, Φ beside it
    cascade = sr.nets.load("mri-cascade", device=device)
    x128 = sr.data.shepp_logan(cascade.operator.in_shape[0])
    _sync(device)
    t = time.perf_counter()
    sr.audit.instability(cascade, cascade.operator, x128, radii=(0.01, 0.02, 0.04),
                         steps=audit_steps, seed=0)
    _sync(device)
    ms[f"instability_audit_cascade_{audit_steps}steps"] = 1e3 * (time.perf_counter() - t)
    return ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--audit-steps", type=int, default=30)
    args = parser.parse_args()
    results: dict = {"machine": platform.machine(), "torch": torch.__version__,
                     "cpu_threads": torch.get_num_threads(),
                     "cpu": measure_device(torch.device("cpu"), args.repeat, args.audit_steps)}
    if torch.cuda.is_available():
        dev = torch.device("cuda")
        results["cuda_device"] = torch.cuda.get_device_name(dev)
        results["cuda"] = measure_device(dev, args.repeat, args.audit_steps)
        results["ratios_cpu_over_cuda"] = {k: results["cpu"][k] / results["cuda"][k]
                                           for k in results["cuda"]}
    else:
        results["cuda"] = None
        results["cuda_missing"] = "torch.cuda.is_available() is False on this machine"
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
