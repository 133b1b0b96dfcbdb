"""Images named by a short text, as the command line and sweep configurations write them.

One spec is one image:

* ``phantom`` — the Shepp–Logan phantom;
* ``ellipses:SEED`` or ``ellipses:SEED:TEXTURE`` — a random-ellipse phantom (texture share in
  [0, 1]);
* ``brain`` or ``brain:K`` — held-out slice K (95..104) of the MNI152 template (default 100);
* a bundled image name (:func:`stablerecon.data.available`);
* a file path (PNG/TIFF, NPY, DICOM, NIfTI, fastMRI HDF5).

A list of specs may also hold specs for several images, expanded by :func:`expand`:
``brain:test`` (every held-out slice) and a folder (every readable image file in it, sorted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from stablerecon.errors import StableReconError


def expand(specs: Sequence[str]) -> list[str]:
    """One spec per image: folders become their readable files, ``brain:test`` the held-out
    slices; order is kept and repeats are dropped."""
    from stablerecon.data.brain import split_indices
    from stablerecon.data.readers import SUFFIXES

    out: list[str] = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            raise StableReconError(f"an image spec must be a non-empty text, got {spec!r}.")
        if spec == "brain:test":
            out += [f"brain:{k}" for k in split_indices("test")]
        elif Path(spec).is_dir():
            files = sorted(str(p) for p in Path(spec).iterdir() if p.is_file()
                           and p.name.lower().endswith(SUFFIXES))
            if not files:
                raise StableReconError(f"folder {spec} holds no readable image (suffixes "
                                       f"{', '.join(sorted(SUFFIXES))}).")
            out += files
        else:
            out.append(spec)
    return list(dict.fromkeys(out))


def image(spec: str, shape: Sequence[int]) -> torch.Tensor:
    """The image a spec names, as a float32 (or complex, for complex data) tensor of
    ``shape``: generated at that size, or read and resized (bilinear, on the magnitude)."""
    from stablerecon.data import brain
    from stablerecon.data.bundled import load
    from stablerecon.data.phantoms import random_ellipses, shepp_logan
    from stablerecon.data.readers import read_image

    shape = tuple(int(s) for s in shape)
    if len(shape) != 2:
        raise StableReconError(f"image specs name 2-D images; the operator expects {shape}.")
    if spec == "phantom":
        x = shepp_logan(shape[0])
    elif spec.startswith("ellipses:"):
        parts = spec.split(":")
        try:
            seed, texture = int(parts[1]), float(parts[2]) if len(parts) > 2 else 0.0
        except (ValueError, IndexError):
            raise StableReconError(
                f"image {spec!r}: write ellipses:SEED or ellipses:SEED:TEXTURE (an integer, "
                "a share in [0, 1]).") from None
        x = random_ellipses(shape[0], seed=seed, texture=texture)[0]
    elif spec == "brain" or spec.startswith("brain:"):
        index = spec.split(":", 1)[1] if ":" in spec else "100"
        if not index.isdigit():
            raise StableReconError(f"image {spec!r}: write brain, brain:K with K a held-out "
                                   "slice number, or brain:test for all of them.")
        x = torch.as_tensor(brain.held_out_slice(int(index), shape[0]), dtype=torch.float32)
    elif Path(spec).exists():
        x = read_image(spec).x
    else:
        x = load(spec, size=shape).x
    if tuple(x.shape) != shape:
        x = torch.nn.functional.interpolate(x.abs()[None, None].float(), size=shape,
                                            mode="bilinear", align_corners=False)[0, 0]
    return x
