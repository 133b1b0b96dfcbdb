"""The model registry: cards, operators rebuilt from cards, clear errors."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError


def test_firenet_loads_from_its_card_and_reconstructs():
    assert "mri-firenet" in sr.nets.available()
    net = sr.nets.load("mri-firenet")
    A = net.operator
    assert A.in_shape == (128, 128) and abs(A.rate - 0.25) < 0.01
    x = sr.data.shepp_logan(128).to(torch.complex64)
    with torch.no_grad():
        xr = net(A(x))
    zero_filled = sr.metrics.psnr(A.H(A(x)).abs(), x.real)
    assert sr.metrics.psnr(xr.abs(), x.real) > zero_filled + 3
    assert net.lipschitz_bound() > 0


def test_operator_for_matches_the_card():
    A = sr.nets.operator_for("mri-firenet")
    mask = sr.operators.sampling.variable_density((128, 128), 0.25, seed=0)
    assert bool((A.mask.numpy() == mask).all())


def test_unknown_names_are_named():
    with pytest.raises(StableReconError, match="available"):
        sr.nets.load("mri-nothing")
    with pytest.raises(StableReconError, match="modality"):
        sr.nets.build_operator({"modality": "pet", "shape": [8, 8]})


def test_a_card_cannot_point_outside_its_folder(tmp_path):
    import json

    card = dict(sr.nets.card("mri-cascade"), weights="../../etc/passwd")
    (tmp_path / "evil.json").write_text(json.dumps(card))
    with pytest.raises(StableReconError, match="its own folder"):
        sr.nets.load(str(tmp_path / "evil.json"))
