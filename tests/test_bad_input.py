"""The bad-input matrix: each wrong input, through the API or the CLI, gives a
StableReconError (or exit status 2 on the command line) with a message that names it."""

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import stablerecon as sr
import stablerecon.data.specs
import stablerecon.io
import stablerecon.train
from stablerecon.cli import app
from stablerecon.errors import StableReconError

S = (16, 16)


def _mri():
    return sr.operators.SubsampledFourier(S, sr.operators.sampling.variable_density(S, 0.5))


def _img():
    return sr.data.shepp_logan(16, dtype=torch.float64)


def _y():
    return _mri()(_img().to(torch.complex128))


def _recon():
    A = _mri()
    return lambda y: A.H(y).abs()


def _card(tmp, **changes):
    card = {**sr.nets.card("denoise-dncnn"), **changes}
    card.pop("weights", None) if "weights" not in changes else None
    path = tmp / "card.json"
    path.write_text(json.dumps(card))
    return str(path)


API = {
    # operators and sampling
    "zero shape": (lambda t: sr.operators.Identity((0, 0)), "shapes must be positive"),
    "mask of another shape": (lambda t: sr.operators.SubsampledFourier(S, torch.ones(8, 8)),
                              "mask"),
    "rate 0": (lambda t: sr.operators.sampling.variable_density(S, 0.0), "rate"),
    "rate above 1": (lambda t: sr.operators.sampling.variable_density(S, 1.5), "rate"),
    "absurd mask size": (lambda t: sr.operators.sampling.variable_density((10**6, 10**6), 0.2),
                         "too large"),
    "no angles": (lambda t: sr.operators.Radon(S, 0), "at least one angle"),
    "absurd Radon size": (lambda t: sr.operators.Radon((10**6, 10**6), 10), "too large"),
    "odd wavelet side": (lambda t: sr.operators.Wavelet((33, 32), "db4"), "divisible"),
    "unknown wavelet": (lambda t: sr.operators.Wavelet(S, "nosuch"), "wavelet"),
    "negative gaussian rows": (lambda t: sr.operators.gaussian(-1, 10), "m"),
    "empty gradient": (lambda t: sr.operators.Gradient((0, 0)), "shapes must be positive"),
    "image of the wrong shape": (lambda t: _mri()(torch.zeros(8, 8)), "shape"),
    "NaN image": (lambda t: _mri()(torch.full(S, float("nan"))), "NaN"),
    "adjoint of the wrong shape": (lambda t: _mri().H(torch.zeros(3)), "shape"),
    # solvers
    "lam 0": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=0), "lam"),
    "lam text": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam="x"), "lam"),
    "tol 0": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, tol=0), "tol"),
    "tol NaN": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, tol=math.nan), "tol"),
    "max_iter 0": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, max_iter=0),
                   "max_iter"),
    "check_every 0": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, check_every=0),
                      "check_every"),
    "negative time limit": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3,
                                                          time_limit=-1), "time_limit"),
    "unknown solver option": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, speed=2),
                              "unknown solver option"),
    "y of the wrong shape": (lambda t: sr.solvers.sr_lasso(_mri(), torch.zeros(5), lam=1e-3),
                             "shape"),
    "NaN in y": (lambda t: sr.solvers.sr_lasso(_mri(), _y() * math.nan, lam=1e-3), "NaN"),
    "negative eta": (lambda t: sr.solvers.qcbp(_mri(), _y(), eta=-1.0), "eta"),
    "negative weights": (lambda t: sr.solvers.u_lasso(_mri(), _y(), lam=1e-3,
                                                      weights=-torch.ones(S)), "weights"),
    "unknown modality": (lambda t: sr.solvers.standard_method(_mri(), "pet"), "modality"),
    "unknown method": (lambda t: sr.solvers.sr_lasso(_mri(), _y(), lam=1e-3, method="newton"),
                       "method"),
    "NaN solver weights": (lambda t: sr.solvers.sr_lasso(
        _mri(), _y(), lam=1e-3, weights=torch.full(S, math.nan)), "NaN"),
    "NaN FIRENET weights": (lambda t: sr.nets.FIRENET(
        _mri(), lam=1e-3, weights=torch.full(S, math.nan)), "NaN"),
    # audits
    "negative radius": (lambda t: sr.audit.instability(_recon(), _mri(), _img(), radii=[-0.01],
                                                       phi=None), "positive finite number"),
    "no radii": (lambda t: sr.audit.instability(_recon(), _mri(), _img(), radii=[], phi=None),
                 "radii (||r||/||x||) is empty"),
    "zero image": (lambda t: sr.audit.instability(_recon(), _mri(), 0 * _img(), radii=[0.01],
                                                  phi=None), "zero"),
    "audit image of the wrong shape": (lambda t: sr.audit.instability(
        _recon(), _mri(), torch.zeros(8, 8), phi=None), "shape"),
    "NaN audit image": (lambda t: sr.audit.kernel(_recon(), _mri(), _img() * math.nan,
                                                  phi=None), "NaN"),
    "K of 0": (lambda t: sr.audit.noise(_recon(), _mri(), _img(), r_rel=0.01, K=[0], phi=None),
               "K"),
    "noise without a size": (lambda t: sr.audit.noise(_recon(), _mri(), _img(), phi=None),
                             "size"),
    "negative curve level": (lambda t: sr.audit.curve(_recon(), _mri(), _img(), eps=[-0.1],
                                                      phi=None), "finite number ≥ 0"),
    "kernel test without a kernel": (lambda t: sr.audit.kernel(
        lambda y: y, sr.operators.Identity(S), _img(), phi=None), "no usable kernel"),
    "detail of the wrong shape": (lambda t: sr.audit.accuracy(
        _recon(), _mri(), _img(), detail=torch.zeros(4, 4)), "detail has shape"),
    "model returning a number": (lambda t: sr.audit.instability(
        lambda y: 3.0, _mri(), _img(), phi=None), "not a torch.Tensor"),
    "model of the wrong output shape": (lambda t: sr.audit.instability(
        lambda y: torch.zeros(3), _mri(), _img(), phi=None), "shape"),
    "unknown audit test": (lambda t: sr.audit.run(_recon(), _mri(), _img(), ["vibes"]),
                           "unknown test"),
    # models and cards
    "unknown model": (lambda t: sr.audit.as_reconstructor("nosuch-model"), "neither"),
    "not callable": (lambda t: sr.audit.as_reconstructor(42), "callable"),
    "python spec without module": (lambda t: sr.audit.as_reconstructor("python:nomod:fn"),
                                   "python:module:function"),
    "missing card": (lambda t: sr.nets.load(str(t / "none.json")), "does not exist"),
    "card that is not JSON": (lambda t: (t / "c.json").write_text("{") and
                              sr.nets.load(str(t / "c.json")), "JSON"),
    "card without operator": (lambda t: sr.nets.load(_card(t, operator=None)), "operator"),
    "card of an unknown network": (lambda t: sr.nets.load(_card(t, network="transformer")),
                                   "unknown network"),
    "card weights outside its folder": (lambda t: sr.nets.load(_card(t, weights="../x.pt")),
                                        "not a file name"),
    "truncated weights": (lambda t: (t / "w.pt").write_bytes(b"PK\x03\x04trunc") and
                          sr.nets.load(_card(t, weights="w.pt")), "weights"),
    "a folder as card": (lambda t: (t / "d.json").mkdir() or sr.nets.load(str(t / "d.json")),
                         "is a folder"),
    # files
    "missing image file": (lambda t: sr.data.read_image(t / "none.png"), "no such file"),
    "empty npy": (lambda t: np.save(t / "e.npy", np.zeros((0, 0)))
                  or sr.data.read_image(t / "e.npy"), "empty"),
    "npy of strings": (lambda t: np.save(t / "s.npy", np.array([["a", "b"], ["c", "d"]]))
                       or sr.data.read_image(t / "s.npy"), "numbers"),
    "garbage png": (lambda t: (t / "g.png").write_bytes(b"not a png")
                    and sr.data.read_image(t / "g.png"), "could not be read"),
    "empty png": (lambda t: (t / "z.png").write_bytes(b"") or sr.data.read_image(t / "z.png"),
                  "could not be read"),
    "unsupported suffix": (lambda t: (t / "x.xyz").write_text("1")
                           and sr.data.read_image(t / "x.xyz"), "unsupported file type"),
    "garbage DICOM": (lambda t: (t / "g.dcm").write_bytes(b"junk")
                      and sr.data.read_image(t / "g.dcm"), "could not be read"),
    "garbage NIfTI": (lambda t: (t / "g.nii").write_bytes(b"junk")
                      and sr.data.read_image(t / "g.nii"), "could not be read"),
    "garbage HDF5": (lambda t: (t / "g.h5").write_bytes(b"junk")
                     and sr.data.read_image(t / "g.h5"), "could not be read"),
    "a folder as image": (lambda t: (t / "f.png").mkdir() or sr.data.read_image(t / "f.png"),
                          "is a folder"),
    "bundled size 0": (lambda t: sr.data.load("camera", size=0), "size"),
    "unknown bundled image": (lambda t: sr.data.load("nosuch"), "unknown bundled image"),
    "brain slice not held out": (lambda t: sr.data.specs.image("brain:3", S), "held-out"),
    # training, sweeps, devices, noise
    "unknown network": (lambda t: sr.train.TrainConfig(net="nosuch").check(),
                        "net must be one of 'cascade'"),
    "NaN learning rate": (lambda t: sr.train.TrainConfig(net="dncnn", lr=math.nan).check(),
                          "finite"),
    "name with folders": (lambda t: sr.train.TrainConfig(net="dncnn", name="../x").check(),
                          "plain file name"),
    "empty sweep": (lambda t: sr.sweep.from_mapping({"models": [], "images": ["phantom"]}),
                    "empty"),
    "unknown device": (lambda t: sr.devices.resolve_device("gpu0"), "unknown device"),
    "negative noise level": (lambda t: sr.noise.add_noise(torch.ones(3), -1.0), "noise level"),
    "unwritable output": (lambda t: (t / "file").write_text("x")
                          and sr.io.ensure_writable(t / "file" / "sub"), "cannot write"),
}


@pytest.mark.parametrize("case", sorted(API))
def test_api_bad_input(case, tmp_path):
    call, phrase = API[case]
    with pytest.raises(StableReconError) as err:
        call(tmp_path)
    assert phrase.lower() in str(err.value).lower(), str(err.value)


CLI = {
    "empty image file": (["audit", "denoise-dncnn", "--image", "{t}/e.npy", "--out", "{t}/o"],
                         "empty"),
    "negative radius": (["audit", "mri-cascade", "--radii=-0.01", "--out", "{t}/o"],
                        "positive finite number"),
    "absurd size": (["solve", "phantom", "--size", "100000"], "less than or equal to 4096"),
    "unknown test": (["audit", "mri-cascade", "--tests", "vibes", "--out", "{t}/o"],
                     "unknown test"),
    "missing sweep file": (["sweep", "{t}/none.toml"], "does not exist"),
    "resume without checkpoint": (["train", "dncnn", "--size", "16", "--resume", "--out",
                                   "{t}/o"], "no checkpoint"),
    "lasso δ out of range": (["table", "lasso", "--deltas", "2", "--out", "{t}/o"],
                             "deltas (the lasso's δ) (each) must be a finite number in (0, 1)"),
    "unknown modality": (["solve", "phantom", "--modality", "pet"], "unknown modality"),
    "solve --out is a file": (["solve", "phantom", "--size", "16", "--out", "{t}/e.npy"],
                              "cannot write to"),
    "table --out is a file": (["table", "impossibility", "--quick", "--out", "{t}/e.npy"],
                              "cannot write to"),
    "audit --out is a file": (["audit", "mri-cascade", "--tests", "kernel", "--out",
                               "{t}/e.npy"], "cannot write to"),
    "demo --out is a file": (["demo", "--quick", "--out", "{t}/e.npy"], "cannot write to"),
    "unknown problem": (["solve", "phantom", "--problem", "l0"], "unknown problem"),
    "bad radii text": (["audit", "mri-cascade", "--radii", "a,b", "--out", "{t}/o"],
                       "comma-separated"),
}


@pytest.mark.parametrize("case", sorted(CLI))
def test_cli_bad_input(case, tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((0, 0)))
    args, phrase = CLI[case]
    result = CliRunner().invoke(app, [a.replace("{t}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert phrase.lower() in result.output.lower(), result.output
    assert "Traceback" not in result.output


def test_the_matrix_is_large_enough():
    assert len(API) + len(CLI) >= 60


class _Payload:
    """Unpickling this creates a file: what a malicious weights file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path
        return (Path.touch, (Path(self.marker),))


def test_a_malicious_weights_file_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"layer.weight": _Payload(str(marker))}, tmp_path / "evil.pt")
    with pytest.raises(StableReconError, match="cannot be loaded as plain tensors"):
        sr.nets.load(_card(tmp_path, weights="evil.pt"))
    assert not marker.exists()


def test_a_malicious_checkpoint_is_refused_on_resume_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    cfg = sr.train.TrainConfig(net="dncnn", size=16, epochs=1, steps=1, batch=1, validation=1)
    torch.save({"config": _Payload(str(marker))}, tmp_path / f"{cfg.model_name}.ckpt")
    with pytest.raises(StableReconError, match="not a checkpoint"):
        sr.train.train(cfg, tmp_path, resume=True)
    assert not marker.exists()


def test_two_runs_on_one_folder_are_refused(tmp_path):
    """A training run (or audit, demo, sweep) holds its output folder; a second is refused."""
    with sr.io.locked(tmp_path, "sweep"):
        with pytest.raises(StableReconError, match="another run is writing"):
            sr.train.train(sr.train.TrainConfig(net="dncnn", size=16, epochs=1, steps=1,
                                                batch=1, validation=1), tmp_path)
    result = CliRunner().invoke(app, ["audit", "denoise-dncnn", "--tests", "instability",
                                      "--steps", "1", "--radii", "0.01", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output  # released when the holder ended


class _NotAdjoint(sr.operators.LinearOperator):
    """A user operator whose 'adjoint' is not its adjoint."""

    def __init__(self):
        super().__init__(S, S)

    def _forward(self, x):
        return 2 * x

    def _adjoint(self, y):
        return y


def test_a_users_operator_is_checked_before_an_audit_trusts_it():
    with pytest.raises(StableReconError, match="adjoint"):
        sr.audit.instability(lambda y: y, _NotAdjoint(), _img(), radii=[0.01], phi=None)


def test_a_model_returning_nan_is_named():
    with pytest.raises(StableReconError, match="NaN or Inf"):
        sr.audit.kernel(lambda y: _mri().H(y) * math.nan, _mri(), _img(), phi=None)
