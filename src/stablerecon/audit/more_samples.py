"""The more-samples test: does Ψ get better when it is given more measurements?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from stablerecon.audit.common import PARAMETERS, default_phi, quality
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult, Plot
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.fourier import SubsampledFourier
from stablerecon.operators.sampling import nested_masks


@fill(PARAMETERS)
def more_samples(model: Any, x: torch.Tensor,
                 rates: Sequence[float] = (0.15, 0.25, 0.35, 0.5), seed: int = 0,
                 phi: Any = "auto") -> AuditResult:
    """Ψ's error at nested masks of increasing rate, beside Φ's.

    The masks are :func:`~stablerecon.operators.sampling.nested_masks` around the model's
    own mask (so its trained rate is among them), and the operator is swapped in for each
    rate. A network trained at one rate can get worse with more samples; the result says
    whether this one does (``worse_with_more_samples``).

    Parameters
    ----------
    model : torch.nn.Module
        Ψ carrying its Fourier operator as ``model.A`` (the registry MRI models do).
    {{x}}
    rates : sequence of float
        Sampling rates in (0, 1].
    {{seed}}
    {{phi}}

    Returns
    -------
    AuditResult
        Per rate: PSNR, SSIM and relative error of Ψ and Φ; ``worse_with_more_samples``.
    """
    module = model.module if hasattr(model, "module") else model
    A0 = getattr(module, "A", None)
    if not isinstance(A0, SubsampledFourier):
        raise StableReconError("more_samples needs a model with a SubsampledFourier operator in "
                               "model.A (e.g. sr.nets.load('mri-cascade')).")
    psi = as_reconstructor(model)
    rates = sorted(set([*rates, round(A0.rate, 4)]))
    masks = nested_masks(A0.mask.cpu().numpy(), rates, seed=seed)
    rows = []
    try:
        for rate, mask in zip(rates, masks):
            A = SubsampledFourier(A0.in_shape, mask).to(A0.index.device)
            module.A = A
            xin = x.to(device=A0.index.device,
                       dtype=torch.complex64 if not x.is_complex() else x.dtype)
            with torch.no_grad():
                y = A(xin)
                row = {"rate": rate, "trained_rate": abs(rate - A0.rate) < 1e-3,
                       "psi": quality(psi(y), xin)}
                phi_r = default_phi(A, phi, x)
                if phi_r is not None:
                    row["phi"] = quality(phi_r(y), xin)
            rows.append(row)
    finally:
        module.A = A0
    errors = [r["psi"]["relative_error"] for r in rows]
    worse = any(b > a * 1.01 for a, b in zip(errors, errors[1:]))
    result = AuditResult("more_samples", {"model": psi.name, "rows": rows,
                                          "worse_with_more_samples": worse}, seed=seed)
    series = {psi.name: errors}
    if "phi" in rows[0]:
        series["Φ"] = [r["phi"]["relative_error"] for r in rows]
    result.plots.append(Plot("error", [100 * r for r in rates], series, "sampling rate (%)",
                             "relative error", "More samples"))
    return result
