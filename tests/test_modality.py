"""One object per modality: operator from a spec, W, λ preset, image dtype, noise model."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.modality import MODALITIES, build_operator, modality, modality_of


@pytest.mark.parametrize("name, cls, W", [("mri", sr.operators.SubsampledFourier, "Wavelet"),
                                          ("ct", sr.operators.Radon, "Gradient"),
                                          ("denoise", sr.operators.Identity, "Gradient")])
def test_each_modality_builds_its_operator_and_knows_it_again(name, cls, W):
    mod = modality(name)
    A = build_operator(mod.spec((32, 32), angles=20))
    assert isinstance(A, cls) and A.in_shape == (32, 32)
    assert modality_of(A) is mod and modality_of(sr.operators.RealInput(A)) is mod
    assert type(mod.sparsifier((32, 32))).__name__ == W
    assert sr.solvers.PRESET_LAMBDA[name] == mod.lam
    phi = sr.solvers.standard_method(A, name)
    assert phi.lam == mod.lam and type(phi.W).__name__ == W


def test_cards_and_the_registry_use_the_same_specs():
    card = sr.nets.card("mri-cascade")
    A = build_operator(card["operator"])
    assert torch.equal(A.mask, sr.nets.operator_for("mri-cascade").mask)


def test_image_dtypes_and_noise_defaults():
    assert modality("mri").image_dtype(torch.float64) == torch.complex128
    assert modality("ct").image_dtype(torch.float32) == torch.float32
    assert modality("denoise").noise_level(None) == 0.1 and modality("ct").noise_level(None) == 0
    assert modality("denoise").noise_level(0) == 0  # an explicit 0 is honoured
    assert set(MODALITIES) == {"mri", "ct", "denoise"}


def test_unknown_modality_and_bad_spec_are_named():
    with pytest.raises(StableReconError, match="unknown modality 'pet'"):
        modality("pet")
    with pytest.raises(StableReconError, match="operator spec is a dict"):
        build_operator({"modality": "mri"})
    with pytest.raises(StableReconError, match="odd side"):
        modality("mri").sparsifier((33, 32))
    assert modality_of(sr.operators.Matrix(torch.eye(3))) is None
