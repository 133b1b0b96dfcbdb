r"""The instability test (worst-case perturbations) of the lecture (Antun et al., PNAS 2020).

For a reconstructor Ψ, an operator A and an image x it searches a perturbation r that
maximises the change of the output,

* **λ mode** (the lecture's): :math:`Q(r) = \|\Psi(A(x+r)) - \Psi(Ax)\|^2 - \lambda\|r\|^2`,
  by Adam ascent; several λ give a growing sequence r₁, r₂, r₃;
* **ball mode**: :math:`\max \|\Psi(A(x+r)) - \Psi(Ax)\|` s.t. :math:`\|r\| \le \delta\|x\|`,
  by projected normalised gradient ascent (power-iteration-like; on a linear Ψ = M it finds
  the top singular vector of MA);

with r in image space (complex for MRI) or measurement space (Ψ(Ax + e)), random restarts
and early stopping. The same r is applied to the standard method Φ. Non-differentiable Ψ get
a gradient-free search (random directions + (1+1) evolution), labelled as weaker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from stablerecon import validate
from stablerecon.audit import attacks
from stablerecon.audit.common import (
    PARAMETERS,
    Anchor,
    Clean,
    anchor_of,
    change,
    clean_outputs,
    default_phi,
    measurements,
    nonfinite_note,
    norm,
    scaled,
    solver_status,
    sphere_ascent,
    unconverged_note,
    warm_started,
)
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Figure
from stablerecon.devices import generator, optimizer_step
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.noise import gaussian
from stablerecon.operators.base import LinearOperator


def _perturbation_like(at: Anchor, space: str) -> torch.Tensor:
    """A tensor with the shape and dtype of r: x's (image space) or y₀'s (measurements)."""
    return at.x if space == "image" else at.y


def _ascent_ball(psi, A, at, base, radius, steps, space, gen, tol) -> tuple[torch.Tensor, list]:
    """Projected normalised gradient ascent on ||Ψ(y₀ + A r) − Ψ(y₀)|| over ||r|| ≤ radius."""
    like = _perturbation_like(at, space)
    return sphere_ascent(
        lambda r: torch.linalg.vector_norm(psi(measurements(A, at.y, r, space)) - base),
        psi.name, tuple(like.shape), like.dtype, radius, steps, gen, tol)


def _ascent_lambda(psi, A, at, base, penalty, steps, lr, space, gen,
                   tol) -> tuple[torch.Tensor, list]:
    """Adam ascent on Q(r) = ||Ψ(y₀ + A r) − Ψ(y₀)||² − λ||r||²."""
    like = _perturbation_like(at, space)
    r = scaled(gaussian(tuple(like.shape), like.dtype, gen), 1e-3 * at.size)
    r.requires_grad_(True)
    opt = torch.optim.Adam([r], lr=lr, maximize=True)
    trace, best, best_r = [], -float("inf"), r.detach().clone()
    for _ in range(steps):
        q = (torch.linalg.vector_norm(psi(measurements(A, at.y, r, space)) - base) ** 2
             - penalty * torch.linalg.vector_norm(r) ** 2)
        if not math.isfinite(q.item()):  # Ψ is undefined at this r: nothing can be worse
            trace.append(math.inf)
            return r.detach().clone(), trace
        if not q.requires_grad:
            raise StableReconError(f"{psi.name} gives no gradient; it is not differentiable "
                                   "(use gradient_free=True).")
        opt.zero_grad()
        q.backward()
        optimizer_step(opt)
        trace.append(q.item())
        if trace[-1] > best:
            best, best_r = trace[-1], r.detach().clone()
        if len(trace) > 20 and abs(trace[-1] - trace[-21]) <= tol * max(abs(trace[-1]), 1e-300):
            break
    return best_r, trace


def _gradient_free(psi, A, at, base, radius, steps, space, gen) -> tuple[torch.Tensor, list]:
    """Random search then a (1+1) evolution strategy on the sphere ||r|| = radius."""
    like = _perturbation_like(at, space)
    shape, dtype = tuple(like.shape), like.dtype

    def change_at(r):
        with torch.no_grad():
            return change(psi(measurements(A, at.y, r, space)), base)

    best_r = scaled(gaussian(shape, dtype, gen), radius)
    best = change_at(best_r)
    trace, sigma = [best], 0.5
    for _ in range(steps - 1):
        if best == math.inf:  # Ψ is undefined here: nothing can be worse
            break
        cand = scaled(best_r + sigma * radius * scaled(gaussian(shape, dtype, gen), 1.0),
                       radius)
        value = change_at(cand)
        if value > best:
            best, best_r, sigma = value, cand, sigma * 1.5
        else:
            sigma *= 0.9
        trace.append(best)
    return best_r, trace


@fill(PARAMETERS)
def instability(model: Any, A: LinearOperator, x: torch.Tensor,
                penalty: float | Sequence[float] | None = None,
                radii: Sequence[float] | None = None, steps: int = 100,
                lr: float | None = None, space: str = "image", restarts: int = 1,
                seed: int = 0, phi: Any = "auto", gradient_free: bool | None = None,
                tol: float = 1e-4, progress: bool = False,
                clean: Clean | None = None, thorough: bool = False) -> AuditResult:
    r"""Worst-case perturbations of Ψ = ``model`` at x, and what they do to Φ.

    Searches r maximising :math:`\|\Psi(A(x+r)) - \Psi(Ax)\|` (ball mode, with
    :math:`\|r\| \le \delta\|x\|`) or :math:`Q(r) = \|\Psi(A(x+r)) - \Psi(Ax)\|^2 -
    \lambda\|r\|^2` (λ mode), and applies the same r to Φ.

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    penalty : float or sequence of float, optional
        The attack's λ (λ mode), one per perturbation.
    radii : sequence of float, optional
        Relative sizes δ = ||r||/||x|| > 0 (ball mode); with neither ``penalty`` nor
        ``radii``, ``(0.01, 0.02, 0.04)``.
    steps : int
        Ascent steps per perturbation.
    lr : float, optional
        Adam's step in λ mode (default: 1% of ||x|| per root pixel).
    space : str
        ``"image"`` (r added to x) or ``"measurement"`` (Ψ(Ax + r); sizes relative to
        ||Ax||).
    restarts : int
        Random starts per perturbation; the best is kept.
    {{seed}}
    {{phi}}
    gradient_free : bool, optional
        Random directions and (1+1) evolution instead of gradients (default: when Ψ is
        not differentiable; a weaker search, labelled so).
    tol : float
        Early stop when 10 steps gain less than this, relatively.
    progress : bool
        Show a progress bar.
    {{clean}}
    thorough : bool
        Ball mode: run every search of :mod:`stablerecon.audit.attacks` (normalised ascent,
        a Jacobian start, multi-start projected gradient, projected Adam, the penalty form
        with momentum), ``steps`` evaluations each, and keep the best; each row names the
        search that found it. About five times the cost of the default.

    Returns
    -------
    AuditResult
        Per perturbation: ``r_rel`` (||r||/||x||, or /||Ax|| in measurement space), and
        for ``psi`` and ``phi``: output change relative to the unperturbed output,
        amplification (that over ``r_rel``), PSNR/SSIM against x, PSNR lost against the
        unperturbed output; ``psi_clean``/``phi_clean``; the perturbations and perturbed
        outputs (:meth:`AuditResult.perturbations`, :meth:`AuditResult.outputs`) and the
        lecture's figure.
    """
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x)
    at = anchor_of(A, x, psi)
    x = at.x
    validate.choice("space", space, ("image", "measurement"))
    validate.number("steps", steps, low=1, low_closed=True, integer=True)
    validate.number("restarts", restarts, low=1, low_closed=True, integer=True)
    if penalty is not None and radii is not None:
        raise StableReconError("give penalty (λ mode) or radii (ball mode), not both.")
    if penalty is None and radii is None:
        radii = (0.01, 0.02, 0.04)
    if radii is not None:
        values = list(radii)
    else:
        values = list(penalty) if isinstance(penalty, Sequence) else [penalty]
    mode = "ball" if radii is not None else "lambda"
    validate.numbers_list("radii (||r||/||x||)" if mode == "ball"
                          else "penalty (the attack's penalty λ)", values, low=0)
    gradient_free = (not psi.differentiable) if gradient_free is None else gradient_free
    if gradient_free and mode == "lambda":
        raise StableReconError("the gradient-free search works in ball mode; pass radii=.")
    if thorough and (mode == "lambda" or gradient_free):
        raise StableReconError("thorough=True combines gradient searches on a ball: pass "
                               "radii= and a differentiable model.")
    gen = generator(seed, x.device)
    ref = clean_outputs(psi, phi_r, A, at, clean)
    y0, base, phi_base, phi_solve = ref.y, ref.psi, ref.phi, ref.phi_solver
    n = len(A.in_shape)
    if base.ndim < n or tuple(base.shape[base.ndim - n:]) != tuple(A.in_shape):
        raise StableReconError(f"{psi.name} returned shape {tuple(base.shape)} for one image of "
                               f"shape {tuple(x.shape)}; a reconstructor must return an image "
                               f"(*batch, {', '.join(map(str, A.in_shape))}).")
    clean = {"psi": at.score(base)}
    if phi_r is not None:
        clean["phi"] = at.score(phi_base)
    scale = at.size if space == "image" else norm(y0)
    if scale == 0:
        raise StableReconError("the image is zero (so is A x): relative perturbation sizes "
                               "||r||/||x|| are undefined; audit a non-zero image.")
    lr = lr if lr is not None else 0.01 * scale / x.numel() ** 0.5

    from rich.progress import Progress

    rows: list[dict[str, Any]] = []
    perturbations = []
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(f"instability of {psi.name}", total=len(values) * restarts)
        for value in values:
            best_r, best_change, best_steps, best_winner = None, -1.0, 0, None
            for _ in range(restarts):
                if thorough:
                    found = attacks.thorough(
                        lambda v: psi(measurements(A, at.y, v, space)), base,
                        _perturbation_like(at, space), value * scale, steps, gen)
                    r, winner = found.r, found.method
                    steps_run = found.evaluations  # of all five searches
                elif gradient_free:
                    r, trace = _gradient_free(psi, A, at, base, value * scale, steps, space,
                                              gen)
                elif mode == "ball":
                    r, trace = _ascent_ball(psi, A, at, base, value * scale, steps, space, gen,
                                            tol)
                else:
                    r, trace = _ascent_lambda(psi, A, at, base, value, steps, lr, space, gen, tol)
                if not thorough:
                    steps_run = len(trace)
                with torch.no_grad():
                    change_now = change(psi(measurements(A, y0, r, space)), base)
                if change_now > best_change:
                    best_r, best_change, best_steps = r, change_now, steps_run
                    best_winner = winner if thorough else None
                bar.advance(task)
            perturbations.append(best_r)
            with warm_started(phi_r, ref):
                rows.append(_report(psi, phi_r, A, at, best_r, space, base, phi_base, clean,
                                    scale, value, best_steps))
            if thorough:
                rows[-1]["search"] = best_winner
    result = AuditResult("instability", {
        "model": psi.name, "mode": mode, "space": space,
        "psi_clean": clean["psi"], "phi_clean": clean.get("phi"), "phi_solver": phi_solve,
        "method": "gradient-free search (weaker than gradient ascent)" if gradient_free
                  else "thorough: the best of five searches (stablerecon.audit.attacks)"
                  if thorough else ("projected normalised gradient ascent" if mode == "ball"
                                    else "Adam ascent on Q(r)"),
        "steps": steps, "restarts": restarts, "perturbations": rows,
        "phi": phi_r.name if phi_r is not None else None, **at.record()}, seed=seed)
    result.images = {"x": x.detach(), "psi_clean": base}
    if phi_r is not None:
        result.images["phi_clean"] = phi_base
    for j, (r, row) in enumerate(zip(perturbations, rows), 1):
        result.images[f"r{j}"] = r
        result.images[f"psi_r{j}"] = row.pop("_psi_out")
        if phi_r is not None:
            result.images[f"phi_r{j}"] = row.pop("_phi_out")
    result.figures = [_figure(result, rows, space, phi_r is not None, psi.name),
                      _change_figure(result, rows, space, phi_r is not None, psi.name)]
    notes = [unconverged_note([phi_solve] + [row.get("phi", {}).get("solver") for row in rows])]
    notes += [nonfinite_note(name, [row["r_rel"] for row in rows if row[key].get("nonfinite")],
                             "its worst-case r")
              for key, name in (("psi", psi.name), ("phi", "Φ")) if key in rows[0]]
    result.notes += [note for note in notes if note]
    if gradient_free:
        result.notes.append("Ψ is not differentiable: gradient-free search, a weaker attack "
                            "(the true worst case may be larger).")
    return result


def _report(psi, phi, A, at, r, space, base, phi_base, clean, scale, value, steps_run) -> dict:
    with torch.no_grad():
        y = measurements(A, at.y, r, space)
        out = psi(y)
        row: dict[str, Any] = {"parameter": value, "steps_run": steps_run,
                               "r_rel": norm(r) / scale}
        row["psi"] = _scores(at, out, base)
        row["psi"]["amplification"] = row["psi"]["change_rel"] / max(row["r_rel"], 1e-300)
        row["psi"]["psnr_drop"] = clean["psi"]["psnr"] - row["psi"]["psnr"]
        row["_psi_out"] = out
        if phi is not None:
            phi_out = phi(y)
            solve = solver_status(phi)
            row["phi"] = _scores(at, phi_out, phi_base)
            row["phi"]["amplification"] = row["phi"]["change_rel"] / max(row["r_rel"], 1e-300)
            row["phi"]["psnr_drop"] = clean["phi"]["psnr"] - row["phi"]["psnr"]
            if solve is not None:
                row["phi"]["solver"] = solve
            row["_phi_out"] = phi_out
    return row


def _scores(at: Anchor, out: torch.Tensor, base: torch.Tensor) -> dict[str, Any]:
    """Relative change from the unperturbed output and quality against the truth; an output
    with NaN/Inf is flagged ``nonfinite`` (change +inf, PSNR −inf), never scored silently."""
    rel = change(out, base) / max(norm(base), 1e-300)
    if rel == math.inf:
        return {"change_rel": math.inf, "psnr": -math.inf, "ssim": math.nan,
                "relative_error": math.inf, "nonfinite": True}
    return {"change_rel": rel, **at.score(out)}


def _figure(result: AuditResult, rows, space, with_phi, name) -> Figure:
    img = result.images
    n = len(rows)
    top = [img["x"] + img[f"r{j}"] if space == "image" else img["x"] for j in range(1, n + 1)]
    grid = [[img["x"], *top], [img["psi_clean"], *[img[f"psi_r{j}"] for j in range(1, n + 1)]]]
    titles = [["x", *[f"x + r{j} (|r|/|x| = {r['r_rel']:.3f})" for j, r in enumerate(rows, 1)]],
              [f"{name}(Ax)", *[f"{name}: {r['psi']['psnr']:.1f} dB, "
                                f"gain {r['psi']['amplification']:.1f}"
                                for r in rows]]]
    if with_phi:
        grid.append([img["phi_clean"], *[img[f"phi_r{j}"] for j in range(1, n + 1)]])
        titles.append(["Φ(Ax)", *[f"Φ: {r['phi']['psnr']:.1f} dB, "
                                  f"gain {r['phi']['amplification']:.1f}"
                              for r in rows]])
    return Figure("perturbations", grid, titles,
                  suptitle=f"Worst-case perturbations ({space} space)")


def _change_figure(result: AuditResult, rows, space, with_phi, name) -> Figure:
    """|r| and what it changes, |Ψ(A(x+r)) − Ψ(Ax)| (and Φ's), all on one grey scale, so the
    amplification can be seen: a panel brighter than |r| is an amplified change."""
    img = result.images
    n = len(rows)
    grid = [[img[f"r{j}"].abs() for j in range(1, n + 1)],
            [(img[f"psi_r{j}"] - img["psi_clean"]).abs() for j in range(1, n + 1)]]
    titles = [[f"|r{j}|" + (" (measurement space)" if space == "measurement" else "")
               for j in range(1, n + 1)],
              [f"|Δ {name}|, ×{r['psi']['amplification']:.1f}" for r in rows]]
    if space == "measurement":  # r lives in k-space/sinogram: show its size only via titles
        grid, titles = grid[1:], titles[1:]
    if with_phi:
        grid.append([(img[f"phi_r{j}"] - img["phi_clean"]).abs() for j in range(1, n + 1)])
        titles.append([f"|Δ Φ|, ×{r['phi']['amplification']:.1f}" for r in rows])
    top = max(float(t.abs().max()) for row in grid for t in row)
    return Figure("changes", grid, titles, vrange=(0.0, max(top, 1e-12)),
                  suptitle="Perturbations and the changes they cause (one grey scale)")
