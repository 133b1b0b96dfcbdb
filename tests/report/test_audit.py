"""Audits saved test by test, and resumed after a kill."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def _audit(out, *extra):
    return [sys.executable, "-m", "stablerecon", "audit", "mri-cascade", "--image", "brain:97",
            "--tests", "instability,noise,kernel,accuracy", "--steps", "2", "--radii",
            "0.01,0.02", "--device", "cpu", "--out", str(out), *extra]


def _metrics(out):
    return {t: json.loads((out / f"{t}.json").read_text())["metrics"]
            for t in ("instability", "noise", "kernel", "accuracy")}


@pytest.mark.slow  # three audits of the shipped cascade (~1 min)
def test_a_killed_audit_resumes_to_the_same_results(tmp_path):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_audit(killed), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    def done():
        try:
            return json.loads((killed / "audit-state.json").read_text())["done"]
        except (OSError, ValueError):
            return []

    deadline = time.time() + 300
    while "noise" not in done() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # after instability and noise, before the end
    proc.wait()
    state = json.loads((killed / "audit-state.json").read_text())
    assert state["done"][:2] == ["instability", "noise"] and len(state["done"]) < 4
    resumed = subprocess.run(_audit(killed, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((killed / "audit-state.json").read_text())["done"] == [
        "instability", "noise", "accuracy", "kernel"]
    subprocess.run(_audit(tmp_path / "whole"), check=True, capture_output=True)
    assert _metrics(killed) == _metrics(tmp_path / "whole")


def test_resume_with_other_settings_starts_again(tmp_path):
    import torch

    import stablerecon as sr
    from stablerecon.report.audit import run_to_folder

    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    x = sr.data.shepp_logan(16, dtype=torch.float64)
    first = run_to_folder(lambda y: A.H(y).abs(), A, x, ["kernel"], tmp_path, phi=None)
    state = json.loads((tmp_path / "audit-state.json").read_text())
    assert state["done"] == ["kernel"] and "kernel" in first
    run_to_folder(lambda y: A.H(y).abs(), A, 0.5 * x, ["kernel"], tmp_path, resume=True,
                  phi=None)
    assert json.loads((tmp_path / "audit-state.json").read_text())["key"] != state["key"]


def _operators():
    """Operators that differ from the first in one thing each: the mask's content, a
    scalar, the composition, the coil maps, the angles."""
    import torch

    import stablerecon as sr
    from stablerecon.operators import sampling

    shape = (16, 16)
    vd = sampling.variable_density(shape, 0.4, seed=0)
    base = sr.operators.SubsampledFourier(shape, vd)
    flipped = vd.copy()
    flipped[0, 5] = not flipped[0, 5]
    sens = sr.data.coils.birdcage(shape, 2)
    return [base, sr.operators.SubsampledFourier(shape, flipped), 2.0 * base, 3.0 * base,
            sr.operators.SubsampledFourier(shape, vd) @ sr.operators.Identity(shape),
            sr.operators.MultiCoilFourier(shape, vd, sens),
            sr.operators.MultiCoilFourier(shape, vd, sens * torch.exp(0.1j * torch.ones(1))),
            sr.operators.Radon(shape, angles=8), sr.operators.Radon(shape, angles=9)]


def test_every_operator_setting_changes_the_resume_key():
    """The bug of issue 30: a kernel result was reused for another operator of the same
    class and shape. Each change of the operator, the image's dtype or a setting gives a new
    key; the same inputs give the same key."""
    import torch

    import stablerecon as sr
    from stablerecon.audit import as_reconstructor
    from stablerecon.report.audit import _settings_key

    psi = as_reconstructor(lambda y: y, name="net")
    x = sr.data.shepp_logan(16, dtype=torch.float64)
    keys = [_settings_key(psi, A, x, ["kernel"], {}) for A in _operators()]
    assert len(set(keys)) == len(keys)
    again = [_settings_key(psi, A, x, ["kernel"], {}) for A in _operators()]
    assert again == keys
    base = _operators()[0]
    others = {_settings_key(psi, base, x.float(), ["kernel"], {}),
              _settings_key(psi, base, x, ["kernel"], {"seed": 1}),
              _settings_key(psi, base, x, ["kernel", "noise"], {})}
    assert len(others) == 3 and keys[0] not in others
    cascade, cartesian = (sr.nets.operator_for(n) for n in ("mri-cascade",
                                                             "mri-cascade-cartesian"))
    assert cascade.fingerprint() != cartesian.fingerprint()  # the case the issue met


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"key": 3, "done": []}',
                                     '{"key": "k", "done": "kernel"}'])
def test_a_corrupt_or_foreign_state_file_is_refused_by_name(tmp_path, content):
    import torch

    import stablerecon as sr
    from stablerecon.errors import StableReconError
    from stablerecon.report.audit import run_to_folder

    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    (tmp_path / "audit-state.json").write_text(content)
    with pytest.raises(StableReconError, match="audit-state.json"):
        run_to_folder(lambda y: A.H(y).abs(), A, sr.data.shepp_logan(16, dtype=torch.float64),
                      ["kernel"], tmp_path, resume=True, phi=None)


def test_a_missing_result_listed_as_done_is_a_clear_error(tmp_path):
    import torch

    import stablerecon as sr
    from stablerecon.errors import StableReconError
    from stablerecon.report.audit import run_to_folder

    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    x = sr.data.shepp_logan(16, dtype=torch.float64)
    run_to_folder(lambda y: A.H(y).abs(), A, x, ["kernel"], tmp_path, phi=None)
    (tmp_path / "kernel.json").unlink()
    with pytest.raises(StableReconError, match="kernel result"):
        run_to_folder(lambda y: A.H(y).abs(), A, x, ["kernel"], tmp_path, resume=True,
                      phi=None)


def test_an_audit_folder_gets_a_report_with_the_contrast_first(tmp_path):
    import torch

    import stablerecon as sr
    from stablerecon.report.audit import run_to_folder, write_audit_report

    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    x = sr.data.shepp_logan(16, dtype=torch.float64)
    results = run_to_folder(lambda y: A.H(y).abs(), A, x, ["instability", "noise"], tmp_path,
                            radii=[0.01, 0.02], steps=2,
                            phi_options={"tol": 1e-3, "max_iter": 100},
                            options={"noise": {"K": (1, 5), "phi_K": 2}})
    page = write_audit_report(tmp_path, "an audit", results).read_text()
    assert page.index("What the numbers show") < page.index("Instability test")
    assert (tmp_path / "contrast.png").is_file()
    assert page.count("<img src='data:image/png;base64,") >= 2
