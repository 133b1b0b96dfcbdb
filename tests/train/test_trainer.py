"""stablerecon train: a tiny model with the shipped recipe, checkpoints, resume, errors."""

import json

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.train import TrainConfig, train


@pytest.mark.parametrize("net", ["cascade", "varnet", "dagan", "fbpconvnet", "dncnn"])
def test_tiny_training_run_writes_a_loadable_model(net, tmp_path):
    cfg = TrainConfig(net=net, size=32, epochs=1, steps=2, batch=2, validation=2)
    card = train(cfg, tmp_path)
    assert (tmp_path / card["weights"]).exists() and (tmp_path / f"{card['name']}.ckpt").exists()
    model = sr.nets.build(card)
    sr.nets.registry.load_weights(model, tmp_path / card["weights"])
    assert not any(k.startswith("A.") for k in torch.load(tmp_path / card["weights"]))
    assert card["validation"]["psnr"] > 0 and len(card["history"]) == 1
    assert json.loads((tmp_path / f"{card['name']}.json").read_text())["name"] == card["name"]


def test_resume_is_deterministic(tmp_path):
    full = train(TrainConfig(net="dncnn", size=32, epochs=2, steps=2, batch=2, validation=2),
                 tmp_path / "a")
    train(TrainConfig(net="dncnn", size=32, epochs=1, steps=2, batch=2, validation=2),
          tmp_path / "b")
    # continue the interrupted run to 2 epochs (only --epochs and --time-limit may change)
    resumed = train(TrainConfig(net="dncnn", size=32, epochs=2, steps=2, batch=2, validation=2),
                    tmp_path / "b", resume=True)
    assert resumed["validation"]["psnr"] == pytest.approx(full["validation"]["psnr"], abs=1e-4)


def test_bad_options_are_named(tmp_path):
    with pytest.raises(StableReconError, match="net must be one of"):
        train(TrainConfig(net="automap"), tmp_path)
    with pytest.raises(StableReconError, match=r"rate must be a finite number in \(0, 1\]"):
        train(TrainConfig(net="cascade", rate=1.5), tmp_path)
    train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1, validation=1), tmp_path / "y")
    with pytest.raises(StableReconError, match="other options"):
        train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1, validation=1, lr=0.5),
              tmp_path / "y", resume=True)
    with pytest.raises(StableReconError, match="no checkpoint"):
        train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1), tmp_path / "x", resume=True)


def test_phi_is_compared_at_its_best_lambda(tmp_path):
    card = train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1, batch=2, validation=2),
                 tmp_path)
    model = sr.nets.load(str(tmp_path / f"{card['name']}.json"))
    grid = sr.train.compare_with_standard(model, card, lambdas=(1e-3, 1e-2, 3e-1))
    by_lambda = grid["phi_psnr_by_lambda"]
    assert set(by_lambda) == {"0.001", "0.01", "0.3"}
    assert grid["phi"]["psnr"] == pytest.approx(max(by_lambda.values()))
    assert f"lam={max(by_lambda, key=by_lambda.get)}" in grid["phi_method"]
    preset = sr.train.compare_with_standard(model, card, lambdas=None)
    assert list(preset["phi_psnr_by_lambda"]) == [f"{sr.solvers.PRESET_LAMBDA['denoise']:g}"]
    assert preset["psi"] == grid["psi"]


@pytest.mark.parametrize("kwargs, phrase", [
    ({"name": "../../x"}, "plain file name"), ({"lr": float("nan")}, "finite"),
    ({"noise": float("nan")}, "finite"),
])
def test_config_refuses_escaping_names_and_nan(kwargs, phrase, tmp_path):
    with pytest.raises(StableReconError, match=phrase):
        train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1, **kwargs), tmp_path)


def test_outputs_respect_the_umask_and_carry_no_temporary_names(tmp_path):
    import os
    import zipfile

    old = os.umask(0o022)
    try:
        card = train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1, batch=1,
                                 validation=1), tmp_path)
    finally:
        os.umask(old)
    weights = tmp_path / card["weights"]
    assert oct(weights.stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / f"{card['name']}.json").stat().st_mode & 0o777) == oct(0o644)
    names = zipfile.ZipFile(weights).namelist()
    assert all(n.startswith("archive/") for n in names), names[:3]
    # no temporary file is left; .lock (the folder's lock, see stablerecon.io.locked) stays
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def test_an_unwritable_out_is_refused_before_the_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StableReconError, match="cannot write to"):
        train(TrainConfig(net="dncnn", size=32, epochs=1, steps=1), blocker / "out")


def test_measurements_follow_the_modality_noise_model():
    from stablerecon.modality import build_operator
    from stablerecon.train.trainer import measure

    x = torch.zeros(2, 16, 16)
    default = TrainConfig(net="dncnn", size=16)  # denoising: σ = 0.1 unless told otherwise
    A = build_operator(default.operator_spec())
    y = measure(default, A, x, torch.Generator().manual_seed(0))
    assert 0.08 < float(y.std()) < 0.12
    silent = TrainConfig(net="dncnn", size=16, noise=0.0)  # an explicit 0 means no noise
    assert torch.equal(measure(silent, A, x, torch.Generator().manual_seed(0)), x)


def test_a_killed_training_run_resumes_to_the_same_weights(tmp_path):
    """The process is really killed (SIGKILL) after its first checkpoint; --resume then ends
    with the weights of an uninterrupted run of the same seed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["dncnn", "--size", "16", "--epochs", "6", "--steps", "15", "--batch", "2",
            "--validation", "1", "--threads", "1"]

    def command(out, *extra):
        return [sys.executable, "-m", "stablerecon", "train", *args, "--out", str(out), *extra]

    killed = tmp_path / "killed"
    proc = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    ckpt = killed / "denoise-dncnn.ckpt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not (killed / "denoise-dncnn.pt").exists(), \
        "the run must be killed between its first checkpoint and its end"
    epochs_before = len(torch.load(ckpt, weights_only=True)["history"])
    assert 1 <= epochs_before < 6
    subprocess.run(command(killed, "--resume"), check=True, capture_output=True)
    subprocess.run(command(tmp_path / "whole"), check=True, capture_output=True)
    resumed = torch.load(killed / "denoise-dncnn.pt", weights_only=True)
    whole = torch.load(tmp_path / "whole" / "denoise-dncnn.pt", weights_only=True)
    assert resumed.keys() == whole.keys()
    assert all(torch.equal(resumed[k], whole[k]) for k in whole)


def test_multicoil_training_writes_a_card_that_rebuilds_its_coils(tmp_path):
    cfg = TrainConfig(net="e2e-varnet", size=32, epochs=1, steps=2, batch=2, validation=2,
                      coils=4, pattern="equispaced", center_fraction=0.25, phase=True,
                      noise=0.01, architecture={"cascades": 2, "width": 4, "depth": 1,
                                                "sens_width": 4, "sens_depth": 1})
    card = train(cfg, tmp_path)
    assert card["operator"]["coils"] == {"model": "birdcage", "count": 4}
    assert card["operator"]["mask"]["center_fraction"] == 0.25
    assert "4 birdcage coils" in card["description"] and "smooth phase" in card["description"]
    model = sr.nets.load(str(tmp_path / f"{card['name']}.json"))
    A = sr.nets.operator_for(str(tmp_path / f"{card['name']}.json"))
    assert isinstance(A, sr.operators.MultiCoilFourier) and A.coils == 4
    # the training images carry a phase: complex, magnitude as drawn
    x = sr.train.trainer.training_batch(cfg, 0, 0, [])
    assert x.is_complex() and float(x.imag.abs().max()) > 0.01
    plain = sr.train.trainer.training_batch(TrainConfig(**{**cfg.__dict__, "phase": False}),
                                            0, 0, [])
    torch.testing.assert_close(x.abs(), plain)
    assert model(A(x)).shape == (2, 32, 32)


@pytest.mark.parametrize("kwargs, phrase", [
    ({"net": "e2e-varnet"}, "--coils 8"), ({"net": "cascade", "coils": 4}, "single-coil"),
])
def test_coils_and_networks_must_match(kwargs, phrase, tmp_path):
    with pytest.raises(StableReconError, match=phrase):
        train(TrainConfig(**kwargs), tmp_path)


#: a tampering of a real checkpoint → what the message names
CHECKPOINT_TAMPERING = {
    "without its config": (lambda s: s.pop("config"), "'config' is missing"),
    "without its model": (lambda s: s.pop("model"), "'model' is missing"),
    "epoch a string": (lambda s: s.__setitem__("epoch", "0"), "'epoch' is a str"),
    "a weight of another shape": (
        lambda s: s["model"].__setitem__(next(iter(s["model"])), torch.zeros(3)),
        "shapes disagree"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_TAMPERING))
def test_a_tampered_checkpoint_is_refused_naming_the_file(case, tmp_path):
    cfg = TrainConfig(net="dncnn", size=16, epochs=1, steps=1, batch=1, validation=1)
    train(cfg, tmp_path)
    path = tmp_path / "denoise-dncnn.ckpt"
    state = torch.load(path, weights_only=True)
    edit, phrase = CHECKPOINT_TAMPERING[case]
    edit(state)
    torch.save(state, path)
    with pytest.raises(StableReconError, match=phrase) as err:
        train(cfg, tmp_path, resume=True)
    assert "denoise-dncnn.ckpt" in str(err.value)
