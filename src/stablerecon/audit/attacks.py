r"""Independent searches for the worst perturbation on a ball, to check and to strengthen the
instability test's default search.

Each maximises :math:`f(r) = \|g(r) - g(0)\|` over :math:`\|r\| \le \rho`, where
:math:`g(r) = \Psi(y_0 + A r)` (or :math:`\Psi(y_0 + r)` in measurement space), within a
budget of evaluations of g with its gradient, and returns the best r found, f there and the
evaluations spent:

* :func:`normalised_ascent` — the default: projected normalised gradient ascent with the step
  ρ (power-iteration-like; optionally from a given start);
* :func:`projected_gradient` — several random starts, normalised steps decaying as
  ρ/√(k+1), each projected back onto the ball;
* :func:`projected_adam` — Adam on f with restarts, projected onto the ball (robust-nets'
  recipe);
* :func:`penalty_momentum` — the lecture's penalty form
  :math:`Q(r) = \|g(r) - g(0)\|^2 - \lambda\|r\|^2` by gradient ascent with momentum
  (Invfool's), λ adapted so that r settles near the sphere, the iterate rescaled onto it;
* :func:`jacobian_start` — the top right singular vector of the Jacobian of g at 0 by power
  iteration on :math:`J^H J` (jvp then vjp), then :func:`normalised_ascent` from it.

:func:`thorough` runs all of them and keeps the best. ``benchmarks/attack_strength.py``
measures them against each other on the shipped networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from stablerecon.audit.common import norm, scaled
from stablerecon.errors import StableReconError
from stablerecon.noise import gaussian

Map = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Found:
    """What a search found: the perturbation, f there, the evaluations of g it spent and
    the search's name."""

    r: torch.Tensor
    value: float
    evaluations: int
    method: str


class _Objective:
    """f(r) = ||g(r) − g(0)|| with an evaluation count; NaN/Inf outputs count as +inf (an
    undefined reconstruction is the worst change there is)."""

    def __init__(self, g: Map, base: torch.Tensor):
        self.g, self.base, self.evaluations = g, base.detach(), 0

    def value(self, r: torch.Tensor) -> torch.Tensor:
        self.evaluations += 1
        return torch.linalg.vector_norm(self.g(r) - self.base)

    def with_grad(self, r: torch.Tensor) -> tuple[float, torch.Tensor | None]:
        r = r.detach().requires_grad_(True)
        v = self.value(r)
        if not v.requires_grad:
            raise StableReconError("the model gives no gradient; the gradient searches need "
                                   "a differentiable model (use gradient_free=True).")
        if not math.isfinite(v.item()):
            return math.inf, None
        (grad,) = torch.autograd.grad(v, r)
        return v.item(), grad


def _project(r: torch.Tensor, radius: float) -> torch.Tensor:
    """r on the ball ||r|| ≤ radius (scaled in when outside)."""
    n = norm(r)
    return r if n <= radius else r * (radius / n)


def _start(like: torch.Tensor, radius: float, gen: torch.Generator) -> torch.Tensor:
    return scaled(gaussian(tuple(like.shape), like.dtype, gen), radius)


def normalised_ascent(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float,
                      budget: int, gen: torch.Generator,
                      start: torch.Tensor | None = None) -> Found:
    """The default search: r ← ρ (r + ρ ∇f/||∇f||)/||·|| from a random start (or ``start``),
    ``budget`` gradient evaluations; keeps the best iterate."""
    f = _Objective(g, base)
    r = scaled(start, radius) if start is not None else _start(like, radius, gen)
    best = Found(r.detach(), -math.inf, 0, "normalised ascent")
    for _ in range(budget):
        value, grad = f.with_grad(r)
        if value > best.value:
            best = Found(r.detach(), value, 0, best.method)
        if grad is None or norm(grad) == 0:
            break
        r = scaled(r.detach() + radius * grad / norm(grad), radius)
    best.evaluations = f.evaluations
    return best


def projected_gradient(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float,
                       budget: int, gen: torch.Generator, starts: int = 5) -> Found:
    """Projected gradient ascent from ``starts`` random points inside the ball (radius/2),
    normalised steps ρ/√(k+1), the budget shared among the starts."""
    f = _Objective(g, base)
    best = Found(_start(like, radius, gen), -math.inf, 0, f"projected gradient ({starts} "
                 "starts)")
    per = max(budget // starts, 1)
    for _ in range(starts):
        r = _start(like, radius / 2, gen)
        for k in range(per):
            value, grad = f.with_grad(r)
            if value > best.value:
                best = Found(r.detach(), value, 0, best.method)
            if grad is None or norm(grad) == 0:
                break
            r = _project(r.detach() + radius / math.sqrt(k + 1) * grad / norm(grad), radius)
    best.evaluations = f.evaluations
    return best


def projected_adam(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float,
                   budget: int, gen: torch.Generator, restarts: int = 3,
                   lr: float | None = None) -> Found:
    """Adam ascent on f with ``restarts`` random starts, each step projected onto the ball
    (step ``lr``, default ρ/10 per coordinate's root-mean-square). Measured weaker than the
    others on a linear Ψ (≈ 0.85 of ρσ₁ on a random 20×30 matrix at any step size): its
    coordinate-wise steps stall against the projection."""
    f = _Objective(g, base)
    best = Found(_start(like, radius, gen), -math.inf, 0, f"projected Adam ({restarts} "
                 "restarts)")
    lr = lr if lr is not None else 0.1 * radius / math.sqrt(like.numel())
    per = max(budget // restarts, 1)
    for _ in range(restarts):
        r = _start(like, radius / 2, gen).requires_grad_(True)
        opt = torch.optim.Adam([r], lr=lr, maximize=True)
        for _ in range(per):
            value, grad = f.with_grad(r)
            if value > best.value:
                best = Found(r.detach().clone(), value, 0, best.method)
            if grad is None:
                break
            r.grad = grad
            opt.step()
            with torch.no_grad():
                r.copy_(_project(r, radius))
    best.evaluations = f.evaluations
    return best


def penalty_momentum(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float,
                     budget: int, gen: torch.Generator, momentum: float = 0.9) -> Found:
    r"""Ascent with momentum on :math:`Q(r) = f(r)^2 - \lambda\|r\|^2` (the lecture's form).
    λ starts at f(r₀)²/ρ² (Q ≈ 0 on the sphere) and is halved while r stays well inside the
    ball, doubled while it leaves it; each iterate is scored after rescaling onto the
    sphere (the radius the others search on)."""
    f = _Objective(g, base)
    r = _start(like, radius / 2, gen)
    velocity = torch.zeros_like(r)
    best = Found(scaled(r, radius), -math.inf, 0, "penalty form with momentum")
    lam, step = None, None
    for _ in range(max(budget // 2, 1)):
        value, grad = f.with_grad(r)  # ∇Q = 2 f ∇f − 2 λ r
        if grad is None:
            best = Found(r.detach(), math.inf, 0, best.method)
            break
        if lam is None:
            lam = max(value, 1e-12) ** 2 / radius ** 2
            step = 0.5 * radius / max(norm(2 * value * grad), 1e-300)
        q_grad = 2 * value * grad - 2 * lam * r.detach()
        velocity = momentum * velocity + step * q_grad
        r = r.detach() + velocity
        size = norm(r)
        lam = lam * (0.5 if size < 0.8 * radius else 2.0 if size > 1.2 * radius else 1.0)
        on_sphere = scaled(r, radius)
        with torch.no_grad():
            scored = f.value(on_sphere).item()
        if not math.isfinite(scored):
            scored = math.inf
        if scored > best.value:
            best = Found(on_sphere.detach(), scored, 0, best.method)
    best.evaluations = f.evaluations
    return best


def jacobian_start(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float,
                   budget: int, gen: torch.Generator, iterations: int = 8) -> Found:
    r"""Normalised ascent from the top right singular vector of J = ∂g/∂r at r = 0, found by
    ``iterations`` steps of power iteration :math:`v \leftarrow J^H J v / \|\cdot\|` (each a
    jvp and a vjp, counted as two evaluations), with the rest of the budget for the ascent;
    both signs of v are tried (for a nonlinear Ψ they differ)."""
    zero = torch.zeros_like(like)
    v = _start(like, 1.0, gen)
    spent = 0
    for _ in range(max(1, min(iterations, budget // 3))):  # a third of the budget at most
        _, u = torch.autograd.functional.jvp(g, zero, v)
        _, w = torch.autograd.functional.vjp(g, zero, u)
        spent += 2
        if norm(w) == 0 or not math.isfinite(norm(w)):
            break
        v = scaled(w, 1.0)
    rest = max((budget - spent) // 2, 1)
    found = [normalised_ascent(g, base, like, radius, rest, gen, start=s * v)
             for s in (1.0, -1.0)]
    best = max(found, key=lambda b: b.value)
    return Found(best.r, best.value, spent + sum(b.evaluations for b in found),
                 "Jacobian start + normalised ascent")


#: the searches :func:`thorough` combines, by name
SEARCHES = {"normalised": normalised_ascent, "jacobian": jacobian_start,
            "pgd": projected_gradient, "adam": projected_adam, "penalty": penalty_momentum}


def thorough(g: Map, base: torch.Tensor, like: torch.Tensor, radius: float, budget: int,
             gen: torch.Generator) -> Found:
    """Every search of :data:`SEARCHES` with ``budget`` each; the best r, with the name of
    the search that found it and the evaluations of all."""
    found = [search(g, base, like, radius, budget, gen) for search in SEARCHES.values()]
    best = max(found, key=lambda b: b.value)
    return Found(best.r, best.value, sum(b.evaluations for b in found), best.method)
