"""Helpers shared by the audits: the default standard method Φ, perturbed evaluation, and
the figures of merit reported for every reconstruction."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stablerecon import metrics, validate
from stablerecon.audit.reconstructor import Reconstructor, as_reconstructor
from stablerecon.devices import module_device
from stablerecon.errors import StableReconError
from stablerecon.modality import modality_of
from stablerecon.noise import gaussian
from stablerecon.operators.base import LinearOperator, real_dtype

#: the parameters the audits share, described once (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
PARAMETERS = {
    "model": """
    model : callable or torch.nn.Module
        Ψ: anything :func:`~stablerecon.audit.as_reconstructor` accepts (a module
        ``y -> x̂``, a registry name, a card path, a TorchScript file).""",
    "A": """
    A : LinearOperator
        The forward map Ψ is audited on.""",
    "x": """
    x : torch.Tensor or Scan
        The true image, shape ``A.in_shape``; or a recorded scan
        (:func:`~stablerecon.data.scan.read_scan`, with ``A = scan.A``): the audit then
        perturbs around the measured y and scores against the scan's reference image.""",
    "phi": """
    phi : "auto", callable or None
        Φ beside Ψ: ``"auto"``, the standard method of A's modality; None: no Φ.""",
    "seed": """
    seed : int
        Seed of every random draw.""",
    "clean": """
    clean : Clean, optional
        Ψ(Ax) and Φ(Ax) already computed (:func:`clean_outputs`), not solved again.""",
}


def default_phi(A: LinearOperator, phi: Any = "auto", x: torch.Tensor | None = None,
                **options: Any) -> Reconstructor | None:
    """Φ to audit beside Ψ: ``"auto"`` picks the lecture's standard method for the operator
    (SR-LASSO with wavelets for Fourier, TV for Radon and the identity; for Fourier and a
    real image ``x``, with the reconstruction constrained real, as a network trained on
    real images effectively is; ``options`` such as ``tol`` and ``max_iter`` go to
    :func:`~stablerecon.solvers.standard_method`), None skips Φ, and any reconstructor is
    used as given."""
    if phi is None:
        return None
    if isinstance(phi, str) and phi == "auto":
        from stablerecon.solvers.api import standard_method

        mod = modality_of(A)
        if mod is None:
            return None
        real = (mod.complex_images and isinstance(x, torch.Tensor)
                and not x.is_complex())
        return as_reconstructor(standard_method(A, mod.name, real=real, **options),
                                name=f"Φ (SR-LASSO{', x real' if real else ''}, {mod.name})")
    return as_reconstructor(phi)


def solver_status(recon: Reconstructor | None) -> dict[str, Any] | None:
    """How the last solve of a standard method Φ ended (converged, status, iterations,
    certified relative gap), so that an audit never reports Φ's numbers without saying
    whether Φ reached its tolerance; None for reconstructors that are not solvers."""
    result = getattr(getattr(recon, "module", None), "last_result", None)
    if result is None:
        return None
    cert = result.certificate.summary()
    return {"converged": bool(result.converged), "status": result.status,
            "iterations": int(result.iterations), "tol": result.tol,
            "relative_gap": cert.get("relative_gap")}


def unconverged_note(statuses: list[dict[str, Any] | None]) -> str | None:
    """A sentence for the result's notes when any of Φ's solves missed its tolerance."""
    missed = [s for s in statuses if s is not None and not s["converged"]]
    if not missed:
        return None
    worst = max((s["relative_gap"] or 0.0) for s in missed)
    return (f"Φ did not reach its tolerance in {len(missed)} of {len(statuses)} solves (worst "
            f"certified relative gap {worst:.1e}, status '{missed[0]['status']}'); its numbers "
            "are those of its last iterate. Raise max_iter (standard_method(..., max_iter=)).")


@dataclass
class Clean:
    """The unperturbed outputs for one image, computed once by :func:`clean_outputs` and
    handed to every audit of the same model, Φ, A and x (Φ(Ax) is a full solve).

    Attributes
    ----------
    y : torch.Tensor
        A x.
    psi : torch.Tensor
        Ψ(y).
    phi : torch.Tensor or None
        Φ(y) (None without Φ).
    phi_solver : dict or None
        How Φ's solve ended (converged, status, iterations, certified gap).
    phi_start : SolverState or None
        Where Φ's solve ended (x, dual, primal weight): the solves of perturbed copies of y
        continue from it (:func:`warm_started`); None when Φ is not a PDHG solver.
    """

    y: torch.Tensor
    psi: torch.Tensor
    phi: torch.Tensor | None
    phi_solver: dict[str, Any] | None
    phi_start: Any = None


def clean_outputs(psi: Reconstructor, phi: Reconstructor | None, A: LinearOperator,
                  x: torch.Tensor | Anchor, clean: Clean | None = None) -> Clean:
    """y = A x (or an anchor's y₀), Ψ(y) and Φ(y), computed now, or ``clean`` when given
    (checked to match y).

    Parameters
    ----------
    psi : Reconstructor
        Ψ.
    phi : Reconstructor or None
        Φ.
    A : LinearOperator
        The forward map.
    x : torch.Tensor or Anchor
        The prepared image (:func:`input_image`), or where the audit stands
        (:func:`anchor_of`).
    clean : Clean, optional
        Outputs computed before.

    Returns
    -------
    Clean
        The unperturbed outputs.
    """
    with torch.no_grad():
        y = x.y if isinstance(x, Anchor) else A(x)
        if clean is not None:
            if clean.y.shape != y.shape or not torch.allclose(clean.y, y):
                raise StableReconError("the given clean outputs were computed for another "
                                       "image or operator; compute them with "
                                       "clean_outputs(psi, phi, A, x) for this one.")
            if (phi is None) != (clean.phi is None):
                raise StableReconError("the given clean outputs were computed "
                                       f"{'without' if clean.phi is None else 'with'} Φ; "
                                       "compute them with the same phi as the audit.")
            return clean
        out = psi(y).detach()
        if not isinstance(out, torch.Tensor) or not torch.isfinite(out.abs()).all():
            raise StableReconError(f"{psi.name} returned NaN or Inf for the unperturbed "
                                   "measurements A x; the audits need a finite output (check "
                                   "the model's weights and its input scaling).")
        phi_out = phi(y).detach() if phi is not None else None
    result = getattr(getattr(phi, "module", None), "last_result", None)
    return Clean(y, out, phi_out, solver_status(phi), getattr(result, "state", None))


@contextlib.contextmanager
def warm_started(phi: Reconstructor | None, clean: Clean) -> Iterator[None]:
    """Inside, Φ's solves continue from its solve of the clean y (x, dual variable, primal
    weight) instead of from zero: the audits solve Φ on perturbed copies y + r of the same
    y (``benchmarks/warm_start.py``: 5-28% fewer iterations at ||r|| = 1-5% of ||y||).
    Nothing changes for reconstructors that are not solvers, or without a clean solve."""
    from stablerecon.solvers.api import StandardMethod

    module = getattr(phi, "module", None)
    start = clean.phi_start
    if not isinstance(module, StandardMethod) or start is None:
        yield
        return
    module.start = start
    try:
        yield
    finally:
        module.start = None


def check_user_operator(A: LinearOperator) -> None:
    """An operator defined outside stablerecon is tested once before an audit trusts it: its
    adjoint must be the adjoint (every audit and Φ rely on ⟨Ax, y⟩ = ⟨x, A*y⟩); the measured
    mismatch is in the error. stablerecon's own operators are tested in its test suite."""
    if type(A).__module__.startswith("stablerecon.") or getattr(A, "_adjoint_checked", False):
        return
    A.check_adjoint()  # raises StableReconError with the measured mismatch
    A._adjoint_checked = True


def input_image(A: LinearOperator, x: torch.Tensor, model: Any = None) -> torch.Tensor:
    """x in the dtype A expects (complex for MRI), on the device of A's buffers (moved there
    for the user). A ``model`` whose parameters sit on another device than A is an error:
    the audit would otherwise fail deep inside the network."""
    validate.operator("A", A)
    if not isinstance(x, torch.Tensor):
        raise StableReconError(f"the image must be a torch.Tensor, got {type(x).__name__}; "
                               "convert with torch.as_tensor(...).")
    target = module_device(A)
    module = getattr(model, "module", model)
    net_device = module_device(module) if isinstance(module, torch.nn.Module) else None
    if target is not None and net_device is not None and net_device != target:
        raise StableReconError(f"the model is on {net_device} but the operator A on {target}; "
                               f"move both to one device (model.to(dev), A.to(dev)).")
    target = target or net_device
    if target is not None and x.device != target:
        x = x.to(target)
    check_user_operator(A)
    if x.shape[x.ndim - len(A.in_shape):] != A.in_shape:
        raise StableReconError(f"image has shape {tuple(x.shape)}, the operator expects "
                               f"{A.in_shape}; resize the image or rebuild the operator.")
    if not torch.isfinite(x.abs()).all():
        raise StableReconError("the image contains NaN or Inf values.")
    real = real_dtype(x.dtype)
    target = A.input_dtype(real)
    if x.is_complex() and not target.is_complex:
        target = x.dtype  # keep the imaginary part; real-linear operators act on both parts
    return x.to(target)


@dataclass
class Anchor:
    """Where an audit stands: the measurements y₀ it perturbs around, the image that sets
    the size and dtype of image-space perturbations, and what outputs are scored against.

    For a true image x: y₀ = A x, sizes relative to ||x||, scores against x. For a recorded
    scan there is no true x: y₀ is the measured data, ||x|| is stood in for by the norm of
    the fully sampled coil combination (or of A*y₀ when the file is undersampled), and the
    outputs, centre-cropped to the reconstruction size, are scored against the scan's
    reference image; ``kind`` says which.

    Attributes
    ----------
    y : torch.Tensor
        y₀.
    x : torch.Tensor
        The image (true, or the scan's stand-in), shape ``A.in_shape``.
    size : float
        ||x|| or its stand-in.
    truth : torch.Tensor
        What outputs are scored against.
    crop : (h, w) or None
        Outputs are centre-cropped to this before scoring.
    kind : str
        What ``truth`` is.
    scan : dict or None
        The scan's record (:meth:`Scan.describe`).
    """

    y: torch.Tensor
    x: torch.Tensor
    size: float
    truth: torch.Tensor
    crop: tuple[int, int] | None = None
    kind: str = "the true image x"
    scan: dict[str, Any] | None = None

    def _view(self, estimate: torch.Tensor) -> torch.Tensor:
        if self.crop is None:
            return estimate
        from stablerecon.data.scan import centre_crop

        return centre_crop(estimate, self.crop)

    def distance(self, estimate: torch.Tensor) -> torch.Tensor:
        """||estimate − x|| for a true image; for a scan, whose reference is a magnitude
        image, || |crop(estimate)| − reference ||. Differentiable (the curve ascends it)."""
        if self.scan is None:
            return torch.linalg.vector_norm(estimate - self.truth)
        return torch.linalg.vector_norm(self._view(estimate).abs() - self.truth.abs())

    def score(self, estimate: torch.Tensor) -> dict[str, float]:
        """PSNR, SSIM and relative error of |estimate| (cropped) against ``truth``."""
        return quality(self._view(estimate), self.truth)

    def psnr(self, estimate: torch.Tensor) -> float:
        """PSNR of |estimate| (cropped) against ``truth``."""
        return metrics.psnr(self._view(estimate).detach(), self.truth.abs())

    def record(self) -> dict[str, Any]:
        """What the result states about where the audit stood."""
        return {"scored_against": self.kind, **({"scan": self.scan} if self.scan else {})}


def anchor_of(A: LinearOperator, x: Any, model: Any = None) -> Anchor:
    """The :class:`Anchor` of an audit of A at ``x`` (a true image or a recorded scan).

    Parameters
    ----------
    A : LinearOperator
        The forward map (for a scan: ``scan.A``).
    x : torch.Tensor or Scan
        The image, or the scan.
    model : optional
        Ψ, to check it sits on A's device.

    Returns
    -------
    Anchor
        y₀, the image, its size and the scoring target.
    """
    from stablerecon.data.scan import Scan

    validate.operator("A", A)  # before a scan's own checks
    if not isinstance(x, Scan):
        xin = input_image(A, x, model)
        with torch.no_grad():
            y = A(xin)
        return Anchor(y, xin, norm(xin), xin)
    if A is not x.A:
        raise StableReconError("a scan is audited with its own operator: pass A = scan.A "
                               "(its mask and coil maps are those of the recording).")
    device = module_device(A)
    scan = x.to(device) if device is not None and x.y.device != device else x
    image = scan.image if scan.image is not None else scan.zero_filled()
    image = input_image(A, image, model)
    kind = scan.reference_kind + ("" if scan.image is not None else
                                  "; ||x|| stood in for by ||A*y|| (undersampled file)")
    return Anchor(scan.y.to(image.dtype), image, norm(image), scan.reference, scan.crop, kind,
                  scan.describe())


def measurements(A: LinearOperator, y0: torch.Tensor, r: torch.Tensor | None,
                 space: str) -> torch.Tensor:
    """y₀ + A r (image space: A(x + r) for y₀ = A x, by linearity) or y₀ + r (measurement
    space); y₀ without r."""
    if r is None:
        return y0
    if space == "image":
        return y0 + A(r)
    validate.choice("space", space, ("image", "measurement"))
    return y0 + r


def quality(estimate: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """PSNR, SSIM and relative error of |estimate| against the true image."""
    est, ref = estimate.detach(), truth.detach().abs()
    h, w = ref.shape[-2:]
    pairs = list(zip(est.reshape(-1, h, w), ref.reshape(-1, h, w)))  # images of a batch
    return {"psnr": sum(metrics.psnr(e, r) for e, r in pairs) / len(pairs),
            "ssim": sum(metrics.ssim(e, r) for e, r in pairs) / len(pairs),
            "relative_error": metrics.relative_error(est.abs(), ref)}


def norm(t: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(t.detach()))


def change(out: torch.Tensor, base: torch.Tensor) -> float:
    """||out − base||, or +inf where ``out`` holds NaN or Inf: a reconstruction that is
    undefined under a perturbation is the worst change there is, so every search keeps it and
    every report says so (:func:`nonfinite_note`) instead of carrying NaN metrics."""
    if not bool(torch.isfinite(out.detach().abs()).all()):
        return math.inf
    return norm(out - base)


def nonfinite_note(name: str, sizes: Sequence[float], what: str) -> str | None:
    """The sentence a result carries when ``name`` returned NaN/Inf under perturbations of
    the relative ``sizes`` (None when it never did)."""
    if not sizes:
        return None
    listed = ", ".join(f"{s:.3g}" for s in sizes)
    return (f"{name} returned NaN or Inf under {what} of relative size {listed}: its output "
            "is undefined there; its change and PSNR lost are reported as infinite.")


def scaled(v: torch.Tensor, radius: float) -> torch.Tensor:
    """v rescaled to norm ``radius``."""
    return v * (radius / max(norm(v), 1e-300))


def sphere_ascent(objective, name: str, shape, dtype: torch.dtype, radius: float, steps: int,
                  gen: torch.Generator, tol: float | None = None) -> tuple[torch.Tensor, list]:
    """Projected normalised gradient ascent of a scalar ``objective(v)`` over ||v|| = radius
    from a random start: v ← radius·(v + radius·g/||g||)/||·||, power-iteration-like (on
    ||Tv||² it converges to T's top singular vector). Stops at ``steps``, at a zero gradient,
    or when 10 steps gained ≤ ``tol`` relative. Returns the best v and the objective trace."""
    v = scaled(gaussian(shape, dtype, gen), radius)
    trace: list[float] = []
    best, best_v = -float("inf"), v
    for _ in range(steps):
        v = v.detach().requires_grad_(True)
        value = objective(v)
        if not math.isfinite(value.item()):  # Ψ is undefined here: nothing can be worse
            trace.append(math.inf)
            return v.detach(), trace
        if not value.requires_grad:
            raise StableReconError(f"{name} gives no gradient; it is not differentiable "
                                   "(use gradient_free=True).")
        value.backward()
        trace.append(value.item())
        if trace[-1] > best:
            best, best_v = trace[-1], v.detach()
        g = v.grad
        if norm(g) == 0:
            break
        v = scaled(v.detach() + radius * g / norm(g), radius)
        if tol is not None and len(trace) > 10 and \
                trace[-1] - trace[-11] <= tol * max(trace[-1], 1e-300):
            break
    return best_v, trace
