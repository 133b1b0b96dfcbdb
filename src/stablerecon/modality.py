r"""The imaging modalities, one object each: how its operator is described and built, its
sparsifying transform W and preset λ for the standard method Φ, the dtype its images enter
the operator in, and the measurement noise it is trained and solved with.

========  ====================================  ============  ========  ==================
name      operator (from a spec)                W             λ preset  noise level means
========  ====================================  ============  ========  ==================
mri       subsampled unitary 2-D DFT (a mask),  db4 wavelets  1e-3      ||e|| / ||Ax||
          single- or multi-coil (coil maps)
ct        parallel-beam Radon transform         gradient      3e-3      ||e|| / ||Ax||
denoise   identity                              gradient      1e-2      σ per pixel (0.1)
========  ====================================  ============  ========  ==================

A spec is the JSON-ready dict a model card stores, e.g. ``{"modality": "mri", "shape":
[128, 128], "mask": {"pattern": "variable_density", "rate": 0.25, "seed": 0}}``; it is
enough to rebuild the operator exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, RealInput

__all__ = ["MODALITIES", "Modality", "build_operator", "modality", "modality_of"]


@dataclass(frozen=True)
class Modality:
    """One modality (see the module table).

    Attributes
    ----------
    name : str
        ``"mri"``, ``"ct"`` or ``"denoise"``.
    lam : float
        The preset λ of Φ.
    complex_images : bool
        Whether images enter the operator complex.
    relative_noise : bool
        Whether a noise level means ||e||/||Ax|| (else σ per pixel).
    default_noise : float
        The level used when none is given.
    """

    name: str
    lam: float
    complex_images: bool
    relative_noise: bool
    default_noise: float

    def spec(self, shape: Sequence[int], *, pattern: str = "variable_density",
             rate: float = 0.25, mask_seed: int = 0, angles: int = 60,
             detectors: int | None = None, coils: int = 0,
             center_fraction: float = 0.08) -> dict[str, Any]:
        """The operator spec for ``shape``.

        Parameters
        ----------
        shape : sequence of int
            Image size.
        pattern, rate, mask_seed : str, float, int
            MRI: sampling pattern, rate in (0, 1] and the mask's seed.
        coils : int
            MRI: 0 for single-coil, else that many simulated birdcage coils
            (:class:`~stablerecon.operators.MultiCoilFourier`).
        center_fraction : float
            MRI column patterns: the fully sampled centre.
        angles, detectors : int, int or None
            CT: number of angles in [0, π) and of detectors (default: the image's side).

        Returns
        -------
        dict
            The JSON-ready spec (the others' options are ignored).
        """
        shape = [int(s) for s in shape]
        if self.name == "mri":
            from stablerecon.operators.sampling import COLUMN_PATTERNS

            mask = {"pattern": pattern, "rate": rate, "seed": mask_seed}
            if pattern in COLUMN_PATTERNS:
                mask["center_fraction"] = center_fraction
            spec = {"modality": "mri", "shape": shape, "mask": mask}
            if coils:
                spec["coils"] = {"model": "birdcage", "count": int(coils)}
            return spec
        if self.name == "ct":
            return {"modality": "ct", "shape": shape, "angles": angles, "detectors": detectors}
        return {"modality": "denoise", "shape": shape}

    def operator(self, spec: dict[str, Any]) -> LinearOperator:
        """The operator a spec describes (built on the CPU; ``.to(device)`` moves it).

        Parameters
        ----------
        spec : dict
            From :meth:`spec`, or a card's ``operator`` entry.

        Returns
        -------
        LinearOperator
            The forward map.
        """
        from stablerecon.operators.fourier import SubsampledFourier
        from stablerecon.operators.matrix import Identity
        from stablerecon.operators.radon import Radon
        from stablerecon.operators.sampling import make_mask

        shape = tuple(spec["shape"])
        if self.name == "mri":
            m = spec["mask"]
            mask = make_mask(m["pattern"], shape, m["rate"], m.get("seed", 0),
                             center_fraction=m.get("center_fraction", 0.08))
            if "coils" not in spec:
                return SubsampledFourier(shape, mask)
            from stablerecon.data.coils import birdcage
            from stablerecon.operators.multicoil import MultiCoilFourier

            c = spec["coils"]
            if c.get("model") != "birdcage":
                raise StableReconError(f"unknown coil model {c.get('model')!r} in the spec; "
                                       "the simulated coils are 'birdcage'.")
            return MultiCoilFourier(shape, mask, birdcage(shape, int(c["count"])))
        if self.name == "ct":
            return Radon(shape, spec["angles"], spec.get("detectors"))
        return Identity(shape)

    def sparsifier(self, shape: Sequence[int]) -> LinearOperator:
        """Φ's W: orthogonal db4 wavelets with as many levels as the shape allows (≤ 4) for MRI,
        the gradient (TV) otherwise.

        Parameters
        ----------
        shape : sequence of int
            Image size.

        Returns
        -------
        LinearOperator
            W, on the CPU.
        """
        from stablerecon.operators.gradient import Gradient
        from stablerecon.operators.wavelet import Wavelet

        shape = tuple(shape)
        if self.name != "mri":
            return Gradient(shape)
        g = math.gcd(*shape)
        levels = min(4, int(math.log2(g & -g)))
        if levels < 1:
            raise StableReconError(f"image shape {shape} has an odd side; wavelets need even "
                                   "sizes. Pass W= (e.g. sr.operators.Gradient(shape)).")
        return Wavelet(shape, "db4", levels=levels)

    def image_dtype(self, real: torch.dtype = torch.float32) -> torch.dtype:
        """The dtype images enter this modality's operator in (complex for MRI).

        Parameters
        ----------
        real : torch.dtype
            The real precision.

        Returns
        -------
        torch.dtype
            ``real`` or its complex counterpart.
        """
        if not self.complex_images:
            return real
        return torch.complex128 if real == torch.float64 else torch.complex64

    def noise_level(self, level: float | None) -> float:
        """``level``, or this modality's default when None.

        Parameters
        ----------
        level : float or None
            A level given by the user.

        Returns
        -------
        float
            The level to use.
        """
        return self.default_noise if level is None else float(level)


MODALITIES = {
    "mri": Modality("mri", lam=1e-3, complex_images=True, relative_noise=True,
                    default_noise=0.0),
    "ct": Modality("ct", lam=3e-3, complex_images=False, relative_noise=True,
                   default_noise=0.0),
    "denoise": Modality("denoise", lam=1e-2, complex_images=False, relative_noise=False,
                        default_noise=0.1),
}


def modality(name: str) -> Modality:
    """The modality called ``name``.

    Parameters
    ----------
    name : str
        ``"mri"``, ``"ct"`` or ``"denoise"``.

    Returns
    -------
    Modality
        Its object.
    """
    if name not in MODALITIES:
        raise StableReconError(f"unknown modality {name!r}; choose one of "
                               f"{', '.join(MODALITIES)}.")
    return MODALITIES[name]


def build_operator(spec: dict[str, Any]) -> LinearOperator:
    """The operator a spec (a card's ``operator`` entry) describes.

    Parameters
    ----------
    spec : dict
        With ``modality``, ``shape`` and the modality's options.

    Returns
    -------
    LinearOperator
        The forward map, on the CPU.
    """
    if not isinstance(spec, dict) or "shape" not in spec:
        raise StableReconError(f"an operator spec is a dict with 'modality' and 'shape', got "
                               f"{spec!r}.")
    return modality(spec.get("modality")).operator(spec)


def modality_of(A: LinearOperator) -> Modality | None:
    """The modality an operator belongs to (looking through :class:`RealInput`).

    Parameters
    ----------
    A : LinearOperator
        Any operator.

    Returns
    -------
    Modality or None
        None for operators of no modality (matrices, user operators).
    """
    from stablerecon.operators.fourier import SubsampledFourier
    from stablerecon.operators.matrix import Identity
    from stablerecon.operators.multicoil import MultiCoilFourier
    from stablerecon.operators.radon import Radon

    inner = A.op if isinstance(A, RealInput) else A
    for cls, name in ((SubsampledFourier, "mri"), (MultiCoilFourier, "mri"), (Radon, "ct"),
                      (Identity, "denoise")):
        if isinstance(inner, cls):
            return MODALITIES[name]
    return None
