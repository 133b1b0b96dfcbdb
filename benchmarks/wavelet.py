"""The wavelet candidates side by side: time of forward + adjoint, db4, 4 levels, 256².

Candidates, each measured in the same run: every round times each candidate in turn (the
median of ``--repeat`` back-to-back calls); times are medians over rounds, ratios the
median of the per-round ratios (paired, so a slow spell of a shared machine mostly cancels
out; not when it takes the second core, which our two threads use and PyWavelets' one does
not: compare with ``--threads 1``):
- ``pywt``: PyWavelets ``wavedec2`` + ``waverec2``, mode="periodization" (the peer);
- ``conv``: the polyphase conv2d form this project shipped first (loaded from git history
  at commit ``CONV_COMMIT``; skipped when git is not available);
- ``banded_v1``: the banded form shipped before the two-pass layout (block 16, windows
  copied, a transposing copy per axis; loaded from git at ``BANDED_V1_COMMIT``);
- ``dense``: every level as two dense matrix products (DENSE_MAX raised above the size);
- ``block4`` / ``block8`` / ``block16`` / ``block32``: banded block products with that block
  size, dense matrices for levels ≤ 64 (the shipped form uses block8), batches in
  cache-sized chunks (``CHUNK_BYTES``);
- ``block8_unchunked``: the shipped form applied to the whole batch in one pass;
- on CUDA (when present): ``shipped_cuda`` (dense products for levels up to
  ``DENSE_MAX_GPU``, banded above), ``dense_cuda``, ``block8_cuda`` (banded above 64, as on
  the CPU), ``banded_v1_cuda`` and ``conv_cuda``, each on the GPU with the queue drained
  after every call.

Ratios are pywt time / candidate time: > 1 means faster than PyWavelets. Every candidate,
PyWavelets included, runs with freed memory kept in the process (as under the
``stablerecon`` command; ``--default-allocator`` measures glibc's malloc as it comes, where
each complex128 output is faulted in anew: :mod:`stablerecon.memory`).

    python benchmarks/wavelet.py [--repeat 30] [--rounds 3] [--threads 1] [--size 256]
                                 [--gpu-only] [--default-allocator] [--only block8]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import platform
import subprocess
import types

import numpy as np
import pywt
import torch

import stablerecon.operators.wavelet as wavelet_module
from timing import add_allocator_option, median_time, set_allocator

CONV_COMMIT = "d2b5975"
BANDED_V1_COMMIT = "15b04ca"


def wavelet_class_at(commit: str):
    """The Wavelet class of this project at ``commit``, or None without git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:src/stablerecon/operators/wavelet.py"],
            capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType(f"wavelet_{commit}")
    exec(compile(source, f"wavelet_{commit}.py", "exec"), module.__dict__)  # our own old code
    return module.Wavelet


@contextlib.contextmanager
def module_constants(**values):
    """Set constants of the wavelet module (BLOCK, DENSE_MAX(_GPU), CHUNK_BYTES) for a block."""
    saved = {name: getattr(wavelet_module, name) for name in values}
    for name, value in values.items():
        setattr(wavelet_module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(wavelet_module, name, value)


def build(block: int, dense_max: int, shape: tuple[int, int], dense_max_gpu: int | None = None):
    """A shipped Wavelet built with the given block size and dense thresholds (CPU, and GPU:
    the same as the CPU's unless given)."""
    gpu = dense_max if dense_max_gpu is None else dense_max_gpu
    with module_constants(BLOCK=block, DENSE_MAX=dense_max, DENSE_MAX_GPU=gpu):
        return wavelet_module.Wavelet(shape, "db4", levels=4)


def unchunked(op, x: torch.Tensor) -> torch.Tensor:
    """op* op x with the batch transformed in one pass (chunking switched off)."""
    with module_constants(CHUNK_BYTES=1 << 62):
        return op.H(op(x))


def on_gpu(op, x: torch.Tensor) -> None:
    """op* op x on the GPU, the queue drained (so the time is the work's, not the launch's)."""
    op.H(op(x))
    torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's; PyWavelets uses one)")
    parser.add_argument("--gpu-only", action="store_true",
                        help="with CUDA, time only PyWavelets and the GPU candidates")
    parser.add_argument("--only", default=None,
                        help="comma-separated candidates to time beside PyWavelets (e.g. "
                             "block8: the shipped form), for short runs")
    add_allocator_option(parser)
    args = parser.parse_args()
    kept = set_allocator(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    n = args.size
    shape = (n, n)
    ops = {"dense": build(8, 1 << 30, shape),
           **{f"block{b}": build(b, 64, shape) for b in (4, 8, 16, 32)}}
    for name, commit in (("banded_v1", BANDED_V1_COMMIT), ("conv", CONV_COMMIT)):
        old = wavelet_class_at(commit)
        if old is not None:
            ops[name] = old(shape, "db4", levels=4)
    results: dict = {"case": f"db4, 4 levels, {n}x{n}, forward + adjoint",
                     "threads": torch.get_num_threads(), "machine": platform.machine(),
                     "processor": platform.processor(), "torch": torch.__version__,
                     "pywt": pywt.__version__, "freed_memory_kept": kept, "ms": {},
                     "ratio_vs_pywt": {}}
    cuda = torch.cuda.is_available()
    gpu_ops = {}
    if cuda:
        results["cuda_device"] = torch.cuda.get_device_name()
        gpu_ops = {"shipped": wavelet_module.Wavelet(shape, "db4", levels=4),
                   **{k: v for k, v in ops.items() if k in ("dense", "banded_v1", "conv")},
                   "block8": build(8, 64, shape)}  # banded on the GPU too
        gpu_ops = {k: copy.deepcopy(v).to("cuda") for k, v in gpu_ops.items()}
        if args.gpu_only:
            ops = {}
    for dtype in (torch.complex64, torch.complex128):
        for batch in (1, 8):
            case = f"{str(dtype).split('.')[-1]}_b{batch}"
            x = torch.randn(batch, n, n, dtype=dtype, generator=torch.Generator().manual_seed(0))
            xn = x.numpy()
            timers = {"pywt": lambda: pywt.waverec2(
                pywt.wavedec2(xn, "db4", mode="periodization", level=4, axes=(-2, -1)),
                "db4", mode="periodization", axes=(-2, -1))}
            for name, op in ops.items():
                timers[name] = lambda op=op: op.H(op(x))
            if "block8" in ops:
                timers["block8_unchunked"] = lambda: unchunked(ops["block8"], x)
            if args.only:
                keep = {"pywt", *args.only.split(",")}
                timers = {k: v for k, v in timers.items() if k in keep}
            if cuda:
                xg = x.to("cuda")
                for name, op in gpu_ops.items():
                    timers[f"{name}_cuda"] = lambda op=op: on_gpu(op, xg)
            rounds = {name: [] for name in timers}
            for _ in range(args.rounds):
                for name, fn in timers.items():
                    rounds[name].append(median_time(fn, args.repeat))
            ms = {name: float(np.median(v)) for name, v in rounds.items()}
            results["ms"][case] = ms
            # the median of per-round ratios: within a round the candidates run seconds apart
            results["ratio_vs_pywt"][case] = {
                name: float(np.median(np.asarray(rounds["pywt"]) / np.asarray(v)))
                for name, v in rounds.items() if name != "pywt"}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
