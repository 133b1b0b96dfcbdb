r"""Table B of the lecture: no network, trained or built, computes the SR-LASSO minimiser to
K digits from inexact input, yet FIRENETs reach the barrier 10^-K (Colbrook, Antun &
Hansen, PNAS 2022).

**The class** (our construction from the paper's description). Unknowns
:math:`N = N_1 + N_2 = 2 + 20`, measurements :math:`m = 1 + N_2 = 21`, λ = 1, δ = 1/6,
:math:`\gamma = \sqrt2 (1-\delta) 10^K / (3\lambda)`, :math:`\rho = 1-\delta`. Row 1 is
:math:`a \in \mathbb R^{N_1}` with :math:`a_i = \gamma\lambda/\rho` except
:math:`a_j = \gamma\lambda/\rho_{\min}`, where :math:`\rho_{\min} = \rho - t` and
:math:`t = e\rho^2/(1 + e\rho)`, :math:`e = 2^{-n-1}/(\gamma\lambda)`; this makes
:math:`a_j - a_i = 2^{-n-1}` exactly. Rows 2..m are :math:`\|a\| I` on the last N₂
coordinates. Finally rows and data are mixed by the orthonormal DCT-II (it changes neither
the norms nor the minimiser).

For data :math:`y = C(1, \|a\| z)` (C the DCT, z a tail with 5 nonzeros) the minimiser of
:math:`\lambda\|x\|_1 + \|Ax - y\|_2` is :math:`x = \rho_{\min}/(\lambda\gamma)\, e_j + (0, z)`:
the residual vanishes and the dual vector :math:`u = C(\rho_{\min}/\gamma, \lambda\,
\mathrm{sign}(z)/\|a\|)` has :math:`\|u\| \le 1` and :math:`A^Tu \in \lambda\partial\|x\|_1`
(:func:`dual_certificate` checks it). Changing j from 2 to 1 moves A by at most 2^-n in
norm (y is the same) but moves the minimiser by :math:`\sqrt2\rho_{\min}/(\lambda\gamma)
\approx 3\cdot10^{-K}`: any method that sees only (A_n, y_n) is at least about 10^-K from
one of the two minimisers.

**The table**: for n ∈ {10, 20, 30} and K ∈ {1, 3, 6}: a LISTA Ψ trained (Adam, float64) on
R samples of the class with j = 2 and a FIRENET Φ built from A_n (j = 2), both evaluated on
the test input y_n, and their distance to the minimiser of the exact problem (A, y) with
j = 1. Differences from the lecture's wording: the lecture states N = 20 and m = 19; the
published code, which we follow, uses N = 2 + 20 unknowns and m = 21 rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
import torch

from stablerecon import validate
from stablerecon.devices import optimizer_step
from stablerecon.nets.firenet import FIRENET
from stablerecon.nets.lista import LISTA
from stablerecon.operators.matrix import Matrix

N1, N2, SPARSITY, DELTA, LAM = 2, 20, 5, 1.0 / 6.0, 1.0


@dataclass
class Instance:
    """One member of the class: A (m×N), y (m×R), the minimisers x (N×R), and constants."""

    A: np.ndarray
    y: np.ndarray
    x: np.ndarray
    gamma: float
    rho_min: float
    row_norm: float


def construct(K: int, n: int, j: int, samples: int = 0, seed: int = 0,
              lam: float = LAM, delta: float = DELTA) -> Instance:
    """The matrix A_n (index j ∈ {1, ..., N1}) and data with known minimisers.

    ``samples`` = 0 gives the single test input y = C e₁ (no tail); otherwise R samples with
    random 5-sparse tails (normal values / ||a||), drawn with ``seed``.
    """
    if not 1 <= j <= N1:
        raise ValueError(f"j must be in 1..{N1}, got {j}")
    gamma = math.sqrt(2) * (1 - delta) * 10.0**K / (3 * lam)
    rho = 1 - delta
    e = 2.0 ** (-n - 1) / (gamma * lam)
    t = e * rho * rho / (1 + e * rho)
    rho_min = rho - t
    a = np.full(N1, gamma * lam / rho)
    a[j - 1] = gamma * lam / rho_min
    na = float(np.linalg.norm(a))
    A = np.zeros((1 + N2, N1 + N2))
    A[0, :N1] = a
    A[1:, N1:] = na * np.eye(N2)
    count = max(samples, 1)
    x = np.zeros((N1 + N2, count))
    x[j - 1] = rho_min / (lam * gamma)
    if samples:
        rng = np.random.default_rng(seed)
        values = rng.standard_normal((SPARSITY, samples)) / na
        for i in range(samples):
            x[N1 + rng.permutation(N2)[:SPARSITY], i] = values[:, i]
    y = np.zeros((1 + N2, count))
    y[0] = 1.0
    y[1:] = na * x[N1:]
    dct = lambda v: scipy.fft.dct(v, axis=0, norm="ortho")  # noqa: E731
    return Instance(dct(A), dct(y), x, gamma, rho_min, na)


def dual_certificate(inst: Instance, column: int = 0, lam: float = LAM) -> tuple[float, float]:
    r"""(||u||, max KKT violation) for the dual vector of the docstring: the claimed x is a
    minimiser when ||u|| ≤ 1 and :math:`A^Tu \in \lambda\partial\|x\|_1` (violation 0)."""
    x = inst.x[:, column]
    u_plain = np.zeros(1 + N2)
    u_plain[0] = inst.rho_min / inst.gamma
    u_plain[1:] = lam * np.sign(x[N1:]) / inst.row_norm
    u = scipy.fft.dct(u_plain, norm="ortho")
    g = inst.A.T @ u
    on = x != 0
    violation = max(np.abs(g[on] - lam * np.sign(x[on])).max(initial=0.0),
                    np.maximum(np.abs(g[~on]) - lam, 0.0).max(initial=0.0))
    return float(np.linalg.norm(u)), float(violation)


def train_lista(inst: Instance, layers: int = 10, epochs: int = 100, batch: int = 200,
                lr: float = 1e-3, seed: int = 0,
                progress: Callable[[int, float], None] | None = None) -> LISTA:
    """LISTA on (y → x) pairs of ``inst`` in float64 with Adam, loss
    mean ||Ψ(y) − x||² / mean ||x||² (the scale of x is 10^-K)."""
    torch.manual_seed(seed)
    A = Matrix(torch.tensor(inst.A))
    net = LISTA(A, layers=layers, lam=LAM)
    ys = torch.tensor(inst.y.T)
    xs = torch.tensor(inst.x.T)
    scale = xs.pow(2).sum(-1).mean()
    # Adam's steps are absolute: give each weight a rate relative to its initial size (W1 =
    # Aᵀ/||A||² is ~10^-K, W2 ~ 1), else K = 6 training diverges from its initialisation
    opt = torch.optim.Adam([
        {"params": [net.W1], "lr": lr * float(net.W1.detach().abs().max())},
        {"params": [net.W2], "lr": lr * float(net.W2.detach().abs().max())},
        {"params": [net.raw_theta], "lr": lr}])
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        order = torch.randperm(len(ys), generator=gen)
        total = 0.0
        for start in range(0, len(ys), batch):
            idx = order[start:start + batch]
            loss = (net(ys[idx]) - xs[idx]).pow(2).sum(-1).mean() / scale
            opt.zero_grad()
            loss.backward()
            optimizer_step(opt)
            total += loss.item() * len(idx)
        if progress:
            progress(epoch, total / len(ys))
    return net.eval()


def firenet_for(inst: Instance, restarts: int = 40, inner: int = 50) -> FIRENET:
    """The FIRENET Φ_{A_n} for SR-LASSO with w = 1, λ = 1, built from A_n alone."""
    return FIRENET(Matrix(torch.tensor(inst.A)), lam=LAM, restarts=restarts, inner=inner,
                   delta=0.0)


def run(ns: Sequence[int] = (10, 20, 30), Ks: Sequence[int] = (1, 3, 6), samples: int = 8000,
        epochs: int = 100, layers: int = 10, seed: int = 0,
        progress: Callable[[str], None] | None = None,
        done: Mapping[str, list[dict]] | None = None,
        on_cell: Callable[[str, list[dict]], None] | None = None) -> list[dict]:
    """All (n, K): rows with the distances of LISTA and FIRENET to the true minimiser.

    Each (n, K) is one cell, named ``f"K={K},n={n}"`` and seeded by ``seed`` alone: cells in
    ``done`` are taken as they are (a resumed run), and ``on_cell(name, rows)`` is called as
    each new cell finishes."""
    for name, value in (("samples", samples), ("epochs", epochs), ("layers", layers)):
        validate.number(name, value, low=1, low_closed=True, integer=True)
    validate.numbers_list("ns", ns, low=1, low_closed=True, integer=True)
    validate.numbers_list("Ks", Ks, low=0, low_closed=True, integer=True)
    rows: list[dict] = []
    for K in Ks:
        for n in ns:
            cell = f"K={K},n={n}"
            if done and cell in done:
                rows += done[cell]
                continue
            train = construct(K, n, j=2, samples=samples, seed=seed)
            test = construct(K, n, j=2)  # (A_n, y_n): what the methods see
            truth = construct(K, n, j=1)  # (A, y): the exact problem
            x_true = truth.x[:, 0]
            start = time.perf_counter()
            net = train_lista(train, layers=layers, epochs=epochs, seed=seed,
                              progress=(lambda e, loss, K=K, n=n: progress(
                                  f"K={K} n={n}: LISTA epoch {e + 1}/{epochs} loss {loss:.2e}"))
                              if progress else None)
            train_s = time.perf_counter() - start
            y_n = torch.tensor(test.y[:, 0])
            with torch.no_grad():
                x_lista = net(y_n).numpy()
                x_fire = firenet_for(test)(y_n).numpy()
            rows.append({
                "n": n, "K": K, "barrier": 10.0**-K,
                "lista_distance": float(np.linalg.norm(x_lista - x_true)),
                "firenet_distance": float(np.linalg.norm(x_fire - x_true)),
                "A_distance": float(np.linalg.norm(test.A - truth.A, 2)),
                "minimiser_gap": float(np.linalg.norm(test.x[:, 0] - x_true)),
                "lista_train_s": train_s,
                "x_true": x_true.tolist(), "x_n": test.x[:, 0].tolist(),
                "x_lista": x_lista.tolist(), "x_firenet": x_fire.tolist(),
            })
            if on_cell:
                on_cell(cell, rows[-1:])
    return rows
