"""A user's model's failures are the model's: named, with what it was given."""

import pytest
import torch

import stablerecon as sr
from stablerecon.audit import as_reconstructor
from stablerecon.cli import app
from stablerecon.errors import StableReconError


def _broken(y):
    raise ValueError("my layer expects 3 channels")


def test_a_model_that_raises_is_named_with_its_input():
    recon = as_reconstructor(_broken, name="mynet")
    with pytest.raises(StableReconError, match=r"the model mynet raised ValueError on an input "
                                               r"of shape \(4, 4\).*3 channels.*model's error"):
        recon(torch.zeros(4, 4))


def test_a_model_that_raises_in_an_audit_is_a_clear_error():
    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    with pytest.raises(StableReconError, match="model's error"):
        sr.audit.instability(_broken, A, sr.data.shepp_logan(16), radii=[0.01], steps=1,
                             phi=None)


def test_the_cli_exits_2_for_a_users_broken_model(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    (tmp_path / "usernet.py").write_text("def fn(y):\n    raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(app, ["audit", "python:usernet:fn", "--image", "phantom",
                                      "--tests", "kernel", "--operator", "mri-cascade",
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "raised RuntimeError" in result.output and "bug in stablerecon" not in result.output
