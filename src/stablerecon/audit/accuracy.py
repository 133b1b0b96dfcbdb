r"""The accuracy test: the smallest detail the standard method Φ recovers, and whether Ψ does.

A detail d (text, dots, thin lines, a blob, or a user tensor) is added to x with amplitude a,
:math:`x_a = x + a\,d`. The criterion, in the detail's region R (its support, dilated):
the correlation of the recovered difference :math:`|\mathrm{rec}(Ax_a)| - |\mathrm{rec}(Ax)|`
with d is at least ``threshold``. Bisection on a finds the smallest amplitude at which Φ meets
it; Ψ is checked at that amplitude (and its own smallest amplitude is reported too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from stablerecon.audit.common import (
    PARAMETERS,
    Clean,
    clean_outputs,
    default_phi,
    input_image,
    quality,
)
from stablerecon.audit.details import detail as make_detail
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Figure
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator


def _region(d: torch.Tensor, margin: int = 3) -> tuple[slice, slice]:
    rows, cols = torch.nonzero(d.abs() > 0.05 * d.abs().max(), as_tuple=True)
    h, w = d.shape
    return (slice(max(int(rows.min()) - margin, 0), min(int(rows.max()) + margin + 1, h)),
            slice(max(int(cols.min()) - margin, 0), min(int(cols.max()) + margin + 1, w)))


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of |a| and |b| (0 when either is constant).

    Parameters
    ----------
    a, b : torch.Tensor
        Tensors of the same shape.

    Returns
    -------
    float
        The correlation in [-1, 1].
    """
    a, b = a.flatten().double(), b.flatten().double()
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / max(float(a.norm() * b.norm()), 1e-300))


@fill(PARAMETERS)
def accuracy(model: Any, A: LinearOperator, x: torch.Tensor, detail: Any = "text",
             position: tuple[float, float] = (0.62, 0.5), size: float = 0.12,
             threshold: float = 0.7, amplitude_range: tuple[float, float] = (0.005, 1.0),
             iterations: int = 8, phi: Any = "auto", seed: int = 0,
             clean: Clean | None = None) -> AuditResult:
    """The smallest detail Φ recovers, and whether Ψ recovers it too.

    Bisection in log scale over ``amplitude_range`` for the smallest amplitude of
    ``detail`` (added to x) whose reconstruction by Φ correlates with it at least
    ``threshold`` in the detail's region; then Ψ at that amplitude.

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    detail : str or torch.Tensor
        ``"text"``, ``"dots"``, ``"lines"``, ``"blob"`` or an image of the detail.
    position : (float, float)
        The detail's centre, as fractions of height and width.
    size : float
        Its size, as a fraction of the image.
    threshold : float
        Correlation that counts as recovered.
    amplitude_range : (float, float)
        Where the bisection searches (relative to max |x|).
    iterations : int
        Bisection steps.
    {{phi}}
    {{seed}}
    {{clean}}

    Returns
    -------
    AuditResult
        ``amplitude`` (Φ's smallest recovered detail), both correlations there, and
        the figure.
    """
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x)
    if phi_r is None:
        raise StableReconError("the accuracy test needs the standard method Φ: pass phi= for "
                               "this operator.")
    xin = input_image(A, x, psi)
    shape = tuple(A.in_shape)
    d = detail if isinstance(detail, torch.Tensor) else make_detail(detail, shape, position, size)
    if tuple(d.shape) != shape:
        raise StableReconError(f"detail has shape {tuple(d.shape)}, expected {shape}.")
    d = d.to(device=xin.device, dtype=xin.real.dtype)
    region = _region(d)

    def score(recon, base, a) -> tuple[float, torch.Tensor]:
        with torch.no_grad():
            out = recon(A(xin + a * d))
        return correlation((out.abs() - base.abs())[region], d[region]), out

    ref = clean_outputs(psi, phi_r, A, xin, clean)
    psi_base, phi_base = ref.psi, ref.phi

    def smallest(recon, base) -> tuple[float, float, torch.Tensor] | None:
        """(amplitude, correlation, output) at the smallest passing amplitude found."""
        lo, hi = np.log(amplitude_range[0]), np.log(amplitude_range[1])
        c, out = score(recon, base, float(np.exp(hi)))
        if c < threshold:
            return None
        passing = (float(np.exp(hi)), c, out)
        for _ in range(iterations):
            mid = (lo + hi) / 2
            c, out = score(recon, base, float(np.exp(mid)))
            if c >= threshold:
                hi, passing = mid, (float(np.exp(mid)), c, out)
            else:
                lo = mid
        return passing

    found_phi = smallest(phi_r, phi_base)
    found_psi = smallest(psi, psi_base)
    a_phi = found_phi[0] if found_phi else None
    a_psi = found_psi[0] if found_psi else None
    metrics: dict[str, Any] = {"model": psi.name, "detail": detail if isinstance(detail, str)
                               else "user tensor", "threshold": threshold,
                               "phi_smallest_amplitude": a_phi, "psi_smallest_amplitude": a_psi}
    result = AuditResult("accuracy", metrics, seed=seed)
    if a_phi is None:
        result.notes.append(f"Φ does not recover the detail even at amplitude "
                            f"{amplitude_range[1]}; widen amplitude_range.")
        return result
    _, c_phi, out_phi = found_phi
    c_psi, out_psi = score(psi, psi_base, a_phi)
    metrics.update(phi_correlation=c_phi, psi_correlation=c_psi,
                   psi_recovers_at_phi_amplitude=c_psi >= threshold,
                   psi_quality=quality(out_psi, xin + a_phi * d),
                   phi_quality=quality(out_phi, xin + a_phi * d))
    truth = (xin + a_phi * d).abs()
    crop = _region(d, margin=10)
    result.images = {"x_detail": truth, "psi": out_psi, "phi": out_phi, "detail": d}
    result.figures = [Figure("crops", [[truth[crop], out_psi.abs()[crop], out_phi.abs()[crop]]],
                             [[f"x + {a_phi:.3g}·detail", f"{psi.name} (corr {c_psi:.2f})",
                               f"Φ (corr {c_phi:.2f})"]], vrange=None,
                             suptitle="Can the network see the detail Φ recovers?")]
    return result
