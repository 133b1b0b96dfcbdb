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
