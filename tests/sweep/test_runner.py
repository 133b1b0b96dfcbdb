"""Running sweeps: results per cell, skipping finished cells, failures recorded, the same
numbers from the process pool and from Ray, and a killed sweep that resumes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stablerecon as sr
from stablerecon.cli import app


def _summaries(out: Path) -> dict:
    return {p.parent.name: json.loads(p.read_text())["summary"]
            for p in (out / "cells").glob("*/record.json")}


def test_serial_sweep_writes_cells_and_skips_them_next_time(study, tmp_path):
    cfg = {**study, "out": str(tmp_path / "a"), "tests": ["instability", "noise", "kernel",
                                                          "accuracy"], "images": ["phantom"]}
    first = sr.sweep.run(cfg, workers=1, progress=False)
    assert first.ok and first.total == 6 and first.ran == 6 and first.skipped == 0
    cells = sorted((tmp_path / "a" / "cells").iterdir())
    assert len(cells) == 6 and not any(p.name.startswith(".") for p in cells)
    for cell in cells:
        assert (cell / "record.json").is_file() and any(cell.glob("*.png"))
    numbers = first.aggregate["python:sweep_tiny:model"]
    b = numbers["budgets"]["0.05"]
    # a worst-case r of 5 % costs the blur something, and costs more than random noise
    assert b["psi_psnr_lost"]["median"] > 0
    assert b["psi_worst_case_to_worst_random"]["median"] > 1
    assert b["phi_psnr_lost"] is not None and b["phi_amplification"] is not None
    assert numbers["kernel_images"] == 1 and numbers["accuracy_images"] == 1
    # Ψ is linear and smooths, so it does not recover the kernel detail: no certificate
    assert numbers["certified_unstable_share"] == 0.0
    again = sr.sweep.run(cfg, workers=1, progress=False)
    assert again.ran == 0 and again.skipped == 6 and again.aggregate == first.aggregate
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["aggregate"] == json.loads(json.dumps(first.aggregate))
    text = (tmp_path / "a" / "summary.md").read_text()
    assert "worst-case r costs Ψ" in text and "| python:sweep_tiny:model | 0.01 |" in text
    assert (tmp_path / "a" / "psnr-lost.png").stat().st_size > 1000
    page = (tmp_path / "a" / "report.html").read_text()
    assert "What the sweep shows" in page and page.count("data:image/png;base64,") == 2
    assert "python:sweep_tiny:model" in page


def test_a_failing_cell_is_recorded_and_the_sweep_goes_on(study, write_config, tmp_path):
    settings = {**study, "models": ["python:sweep_tiny:model", "python:sweep_tiny:broken"],
                "images": ["phantom"], "tests": ["kernel"]}
    result = CliRunner().invoke(app, ["sweep", write_config(settings, tmp_path / "b"),
                                      "--workers", "1"])
    assert result.exit_code == 1, result.output
    failed = list((tmp_path / "b" / "failed").glob("*.json"))
    assert len(failed) == 1
    record = json.loads(failed[0].read_text())
    assert record["cell"]["model"] == "python:sweep_tiny:broken"
    assert "broken on purpose" in record["error"]
    assert len(list((tmp_path / "b" / "cells").glob("*/record.json"))) == 1
    assert "1 failed" in result.output


@pytest.mark.parametrize(("key", "bad", "named"), [
    ("images", ["phantom", "no-such-image"], "sweep image 'no-such-image'"),
    ("images", ["brain:3"], "sweep image 'brain:3'"),
    ("models", ["python:sweep_tiny:model", "no-such-model"], "sweep model 'no-such-model'")])
def test_a_bad_study_is_refused_before_any_cell_runs(study, write_config, tmp_path, key, bad,
                                                     named):
    """Issue 27: ``brain:3`` (not a held-out slice) used to run every cell and fail each
    alike; the study is now checked once up front and stops with one line naming it."""
    out = tmp_path / "c"
    result = CliRunner().invoke(app, ["sweep", write_config({**study, key: bad}, out),
                                      "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert not list(out.glob("cells/*/record.json")) and not (out / "failed").exists()


@pytest.mark.parametrize("phi", ["no", 0, 1, "true"])
def test_phi_must_be_a_boolean(study, phi):
    from stablerecon.errors import StableReconError

    with pytest.raises(StableReconError, match="sweep phi must be true or false"):
        sr.sweep.SweepConfig(**{**study, "phi": phi})


def test_pool_and_ray_give_the_same_results(study, tmp_path):
    pool = sr.sweep.run({**study, "out": str(tmp_path / "pool")}, workers=2, threads=1,
                        progress=False)
    assert pool.ok and pool.ran == 10
    pytest.importorskip("ray")
    ray = sr.sweep.run({**study, "out": str(tmp_path / "ray")}, workers=2, threads=1,
                       ray=True, progress=False)
    assert ray.ok and ray.ran == 10
    assert _summaries(tmp_path / "pool") == _summaries(tmp_path / "ray")
    assert pool.aggregate == ray.aggregate


def _sweep(config: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stablerecon", "sweep", config, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def test_a_killed_sweep_resumes_to_the_same_aggregate(study, write_config, tmp_path):
    config = write_config(study, tmp_path / "killed")
    cells = tmp_path / "killed" / "cells"
    proc = _sweep(config, "--workers", "2", "--threads", "1")
    deadline = time.time() + 120
    while time.time() < deadline and not list(cells.glob("*/record.json")):
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    proc.wait()
    done = len(list(cells.glob("*/record.json")))
    assert 0 < done < 10, f"{done} cells finished before the kill"
    resumed = _sweep(config, "--workers", "2", "--threads", "1")
    output = resumed.communicate(timeout=300)[0].decode()
    assert resumed.returncode == 0, output
    assert f"{done} finished before, {10 - done} run now, 0 failed" in output
    assert not list(cells.glob(".*"))  # no half-written cell folder is left behind
    whole = sr.sweep.run({**study, "out": str(tmp_path / "whole")}, workers=2, threads=1,
                         progress=False)
    resumed_summary = json.loads((tmp_path / "killed" / "summary.json").read_text())
    assert resumed_summary["aggregate"] == json.loads(json.dumps(whole.aggregate))


def test_one_sweep_writes_a_folder_at_a_time(study, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "locked"
    out.mkdir()
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(sr.StableReconError, match="another run is writing"):
            sr.sweep.run({**study, "out": str(out)}, workers=1, progress=False)


def test_phi_of_the_clean_data_is_solved_once_per_image_and_changes_nothing(study, tmp_path):
    import importlib

    cells_module = importlib.import_module("stablerecon.sweep.cells")  # not the function

    cfg = sr.sweep.from_mapping({**study, "out": str(tmp_path / "a"), "images": ["phantom"],
                                 "tests": ["instability", "noise"]})
    result = sr.sweep.run(cfg, workers=1, progress=False)
    assert result.ok and result.ran == 4
    assert len(list((tmp_path / "a" / "phi-cache").glob("*.pt"))) == 1  # one image, one A
    for cell in sr.sweep.cells(cfg):
        cached = json.loads((tmp_path / "a" / "cells" / cell.key() / "record.json").read_text())
        fresh = cells_module._run_test(cell, "cpu", phi_cache=None)  # solves Φ(Ax) itself
        assert cached["summary"] == pytest.approx(cells_module.summary(cell.test,
                                                                       fresh.metrics))
