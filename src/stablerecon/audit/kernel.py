r"""The kernel certificate: the Universal Instability Theorem as a computable check, false
positives and negatives, the hallucination map, and a dataset scan.

**Theorem** (Antun et al. 2020; the lecture). If :math:`\|A(x - x')\| \le \eta` and a method
Ψ is accurate on both, :math:`\|\Psi(Ax) - x\| < \eta` and :math:`\|\Psi(Ax') - x'\| < \eta`,
then its local Lipschitz constant at Ax at scale ε ≥ η is at least
:math:`L^\varepsilon(\Psi, Ax) \ge (\|x - x'\| - 2\eta)/\varepsilon`: it cannot be both accurate
and stable. Moreover e = A(x' − x) is a perturbation of size ≤ η with Ψ(Ax + e) = Ψ(Ax') ≈ x'
(a **false positive**: a detail that is not in x) and −e gives Ψ(Ax' − e) = Ψ(Ax) ≈ x (a
**false negative**: the detail of x' is missed).

x' = x + z with z in (or near) the kernel of A: for a subsampled unitary Fourier operator the
unsampled frequencies of a structured v (a lesion-like blob); in general
:math:`z = (I - A^+A)v` by conjugate gradients on :math:`AA^*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from stablerecon.audit.common import (
    PARAMETERS,
    Clean,
    clean_outputs,
    default_phi,
    input_image,
    norm,
)
from stablerecon.audit.details import detail as make_detail
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Figure
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, real_dtype
from stablerecon.operators.fourier import SubsampledFourier


def _pinv_part(A: LinearOperator, v: torch.Tensor, iters: int = 200,
               tol: float = 1e-10) -> torch.Tensor:
    """A⁺A v = A*(AA*)⁻¹A v (CG on AA*; exact in one step when AA* = I)."""
    b = A(v)
    if isinstance(A, SubsampledFourier):
        return A.H(b).to(v.dtype)  # AA* = I
    w = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = float(torch.vdot(r.flatten(), r.flatten()).real)
    for _ in range(iters):
        ap = A(A.H(p))
        alpha = rs / max(float(torch.vdot(p.flatten(), ap.flatten()).real), 1e-300)
        w = w + alpha * p
        r = r - alpha * ap
        rs_new = float(torch.vdot(r.flatten(), r.flatten()).real)
        if rs_new ** 0.5 <= tol * norm(b):
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    return A.H(w).to(v.dtype)


def kernel_component(A: LinearOperator, v: torch.Tensor) -> torch.Tensor:
    r""":math:`(I - A^+A)\,v`: the part of v the measurements A v cannot see.

    Parameters
    ----------
    A : LinearOperator
        The forward map.
    v : torch.Tensor
        An image.

    Returns
    -------
    torch.Tensor
        The projection of v on the kernel of A.
    """
    return v - _pinv_part(A, v)


@fill(PARAMETERS)
def kernel(model: Any, A: LinearOperator, x: torch.Tensor, z: torch.Tensor | None = None,
           detail: str = "blob", amplitude: float = 0.3, eta: float | None = None,
           seed: int = 0, phi: Any = "auto", clean: Clean | None = None) -> AuditResult:
    """The Universal Instability Theorem's certificate for x and x' = x + z, z in ker A.

    Ψ cannot be accurate on both x and x' (A x = A x') and stable: the result states the
    computable lower bound, and the false positive/negative Ψ produces.

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    z : torch.Tensor, optional
        The kernel direction (default: ``detail`` projected on ker A, scaled to max |z| =
        ``amplitude``).
    detail : str
        ``"blob"``, ``"text"``, ``"dots"`` or ``"lines"``.
    amplitude : float
        Max |z|.
    eta : float, optional
        The theorem's accuracy tolerance (default 0.25·||z||, so the bound is informative
        when Ψ is that accurate).
    {{seed}}
    {{phi}}
    {{clean}}

    Returns
    -------
    AuditResult
        The theorem's quantities (||z||/||x||, ||A(x - x')||, Ψ's errors on x and x', the
        lower bound on its Lipschitz constant when it is accurate on both, the error one
        of the two must have, the false-positive detail) and the figure.
    """
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x)
    x = input_image(A, x, psi)
    if z is None:
        v = make_detail(detail, tuple(A.in_shape)).to(device=x.device, dtype=x.dtype)
        z = kernel_component(A, v)
        if float(z.abs().max()) <= 1e-6 * float(v.abs().max()):
            raise StableReconError(
                f"{type(A).__name__} has no usable kernel: the {detail!r} detail is seen "
                "whole by the measurements (A is injective on it), so no x' = x + z with "
                "A x' = A x exists and the kernel test does not apply; run it on an "
                "undersampled operator (MRI, sparse-angle CT) or pass z=.")
        z = z * (amplitude / float(z.abs().max()))
    else:
        z = input_image(A, z)
    x2 = x + z
    ref = clean_outputs(psi, phi_r, A, x, clean)
    with torch.no_grad():
        y, y2 = ref.y, A(x2)
        out, out2 = ref.psi, psi(y2)
    meas_gap = norm(y2 - y)
    z_norm = norm(z)
    eta = 0.25 * z_norm if eta is None else eta
    if eta < meas_gap:
        raise StableReconError(f"eta = {eta:.3g} is below ||A(x - x')|| = {meas_gap:.3g}; the "
                               "theorem needs η ≥ ||A(x − x')||.")
    err, err2 = norm(out - x), norm(out2 - x2)
    accurate = err < eta and err2 < eta
    eps = max(meas_gap, 1e-12 * norm(y))
    metrics: dict[str, Any] = {
        "model": psi.name, "z_norm_rel": z_norm / norm(x), "measurement_gap": meas_gap,
        "measurement_gap_rel": meas_gap / norm(y), "eta": eta,
        "error_x": err, "error_x_prime": err2, "accurate_on_both": accurate,
        "lipschitz_lower_bound": (z_norm - 2 * eta) / eps if accurate else None,
        "epsilon": eps,
        # what the theorem says regardless: one of the two errors is at least this
        "unavoidable_error": max((z_norm - meas_gap) / 2, 0.0),
        "false_positive_detail_rel": norm(out2 - out) / z_norm,
    }
    result = AuditResult("kernel", metrics, seed=seed)
    maps = {"psi": hallucination(out, A)}
    if phi_r is not None:
        with torch.no_grad():
            phi_out, phi_out2 = ref.phi, phi_r(y2)
        maps["phi"] = hallucination(phi_out, A)
        metrics["phi_error_x"] = norm(phi_out - x)
        metrics["phi_error_x_prime"] = norm(phi_out2 - x2)
    maps["truth"] = hallucination(x, A)
    for key, (img, frac) in maps.items():
        metrics[f"hallucination_fraction_{key}"] = frac
        result.images[f"hallucination_{key}"] = img
    result.images.update(x=x, x_prime=x2, z=z, psi_x=out, psi_x_prime=out2)
    result.figures = [
        Figure("false-positive-negative", [[x, x2, out, out2]],
               [["x", "x' = x + z (z in ker A)", "Ψ(Ax): misses z? (false neg.)",
                 f"Ψ(Ax + e), ||e|| = {metrics['measurement_gap_rel']:.1e}·||Ax|| (false pos.)"]],
               suptitle="Same measurements, different images"),
        Figure("hallucination", [[maps[k][0] for k in maps]],
               [[f"{k}: kernel part {maps[k][1]:.1%}" for k in maps]], vrange=None,
               suptitle="|component in ker A| (what the data cannot have told)"),
    ]
    return result


def hallucination(image: torch.Tensor, A: LinearOperator) -> tuple[torch.Tensor, float]:
    r"""How much of an image lies in the kernel of A (what no measurement can confirm).

    Parameters
    ----------
    image : torch.Tensor
        An image (e.g. a reconstruction).
    A : LinearOperator
        The forward map.

    Returns
    -------
    tuple of (torch.Tensor, float)
        :math:`|(I - A^+A)\,\text{image}|` per pixel, and its norm as a fraction of
        ||image||.
    """
    xin = image.to(A.input_dtype(real_dtype(image.dtype)))
    k = kernel_component(A, xin)
    return k.abs(), norm(k) / max(norm(xin), 1e-300)


def scan(images: Sequence[torch.Tensor], A: LinearOperator, top: int = 5) -> list[dict]:
    r"""Pairs of images ranked by how hard the measurements tell them apart.

    Parameters
    ----------
    images : sequence of torch.Tensor
        Images of A's input shape.
    A : LinearOperator
        The forward map.
    top : int
        How many pairs to return.

    Returns
    -------
    list of dict
        Pairs (i, j) by :math:`\|A(x_i - x_j)\| / \|x_i - x_j\|`, smallest first: the
        smaller, the stronger the certificate.
    """
    if len(images) < 2:
        raise StableReconError("scan needs at least two images.")
    xs = torch.stack([input_image(A, im) for im in images])
    with torch.no_grad():
        ys = A(xs)
    pairs = []
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            dx = norm(xs[i] - xs[j])
            if dx > 0:
                pairs.append({"i": i, "j": j, "ratio": norm(ys[i] - ys[j]) / dx,
                              "image_distance": dx})
    return sorted(pairs, key=lambda p: p["ratio"])[:top]
