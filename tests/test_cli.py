import json

import pytest
from typer.testing import CliRunner

import stablerecon as sr
from stablerecon.cli import app

runner = CliRunner()


@pytest.mark.slow  # the whole demo (quick), ~15 s; `make demo` is checked by hand as well
def test_demo_writes_report_and_metrics(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--quick"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    rec = metrics["reconstructions"]
    assert abs(metrics["rate"] - 0.25) < 0.01
    assert rec["Φ: SR-LASSO (certified)"]["psnr_db"] > rec["A* y (zero-filled)"]["psnr_db"] + 3
    assert rec["FIRENET"]["psnr_db"] > rec["A* y (zero-filled)"]["psnr_db"] + 3
    assert metrics["phi_certificate"]["certificate"]["type"] == "duality_gap"
    lip = metrics["firenet_lipschitz"]
    assert 0 < lip["gain_found_by_attack"] <= lip["certified_upper_bound"]
    report = (tmp_path / "report.html").read_text()
    assert "Instability test" in report and "<img" in report
    assert "<img src='data:image/png;base64," in report and "<img src='i" not in report
    assert report.index("What the numbers show") < report.index("Reconstructions from")
    assert (tmp_path / "contrast.png").is_file()
    assert "held-out brain slice" in metrics["image"]
    numbers = metrics["contrast"]["numbers"]
    row = metrics["instability"]["cascade"]["perturbations"][-1]
    assert numbers["psnr_lost_phi"] == row["phi"]["psnr_drop"]
    assert "What the numbers show" in report and f"{numbers['psnr_lost_psi']:.1f} dB" in report
    assert (tmp_path / "reconstructions.png").stat().st_size > 1000
    multi = metrics["multicoil"]
    assert multi["coils"] == 8 and abs(multi["rate"] - 0.25) < 0.02
    mrec = multi["reconstructions"]
    zero_filled = mrec["RSS of A* y (zero-filled)"]["psnr_db"]
    assert mrec["Ψ: E2E-VarNet (shipped)"]["psnr_db"] > zero_filled + 3
    assert mrec["Φ: SR-LASSO (certified)"]["psnr_db"] > zero_filled + 3
    lost = multi["instability"]["perturbations"][-1]
    assert multi["contrast"]["numbers"]["psnr_lost_psi"] == lost["psi"]["psnr_drop"]
    assert "Multi-coil MRI" in report and f"{lost['phi']['psnr_drop']:.1f} dB" in report
    assert (tmp_path / "multicoil" / "reconstructions.png").stat().st_size > 1000


def test_check_and_images():
    result = runner.invoke(app, ["check", "wavelet", "--size", "32"])
    assert result.exit_code == 0 and json.loads(result.stdout)["passed"]
    assert "camera" in runner.invoke(app, ["images"]).stdout


def test_bad_option_is_a_clear_error():
    result = runner.invoke(app, ["check", "pet"])
    assert result.exit_code == 2
    assert "unknown operator" in result.output


def test_solve_prints_a_certificate(tmp_path):
    result = runner.invoke(app, ["solve", "camera", "--size", "32", "--modality", "ct",
                                 "--angles", "20", "--max-iter", "300", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "solve.json").read_text())
    assert summary["problem"] == "sr_lasso" and summary["iterations"] > 0
    mri = runner.invoke(app, ["solve", "phantom", "--size", "32", "--tol", "1e-4"])
    assert json.loads(mri.stdout)["certificate"]["type"] == "duality_gap"


def test_solve_bad_modality():
    result = runner.invoke(app, ["solve", "phantom", "--modality", "pet"])
    assert result.exit_code == 2 and "unknown modality" in result.output


def test_audit_command_writes_json_and_figures(tmp_path):
    result = runner.invoke(app, ["audit", "mri-cascade", "--tests", "kernel", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "kernel.json").read_text())["metrics"]
    assert metrics["measurement_gap_rel"] < 1e-3 and metrics["unavoidable_error"] > 0
    assert (tmp_path / "kernel-hallucination.png").exists()
    report = (tmp_path / "report.html").read_text()
    assert "Kernel certificate" in report and "data:image/png;base64," in report


def test_an_audit_with_a_failed_test_still_reports_the_rest(tmp_path):
    """Denoising's identity has no kernel: the kernel test fails, the instability test's
    report still renders, the failure is in the report and the exit status is 2."""
    args = ["audit", "denoise-dncnn", "--tests", "instability,kernel", "--radii", "0.01",
            "--steps", "2", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "test(s) kernel failed" in result.output
    report = (tmp_path / "report.html").read_text()
    assert "The kernel test failed and has no results" in report
    assert "Instability test" in report and "data:image/png;base64," in report
    assert "no usable kernel" in json.loads((tmp_path / "kernel.json").read_text())[
        "metrics"]["failed"]
    state = json.loads((tmp_path / "audit-state.json").read_text())
    assert state["done"] == ["instability"]  # a resumed run tries the kernel test again
    again = runner.invoke(app, [*args, "--resume"])
    assert again.exit_code == 2 and "test(s) kernel failed" in again.output


def test_an_older_runs_figures_in_the_folder_stay_out_of_the_report(tmp_path):
    """A PNG an older run left (same test's prefix, another figure) is not shown: the
    report names the figures this run's results list, fresh or read back by --resume."""
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "kernel-from-an-older-version.png", [[0.0, 1.0]])
    args = ["audit", "mri-cascade", "--tests", "kernel", "--out", str(tmp_path)]
    for extra in ([], ["--resume"]):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        report = (tmp_path / "report.html").read_text()
        files = json.loads((tmp_path / "kernel.json").read_text())["files"]
        assert len(files) == 2 and report.count("data:image/png;base64,") == len(files)
        assert "older-version" not in report


def test_audit_command_rejects_unknown_tests(tmp_path):
    result = runner.invoke(app, ["audit", "mri-cascade", "--tests", "vibes", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 2 and "unknown test" in result.output


def test_train_command_tiny(tmp_path):
    result = runner.invoke(app, ["train", "dncnn", "--size", "32", "--epochs", "1", "--steps",
                                 "1", "--batch", "2", "--validation", "1", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "denoise-dncnn.json").exists()


def test_a_trained_card_can_be_audited(tmp_path):
    """train --texture writes a card; audit takes that card and an ellipse phantom."""
    result = runner.invoke(app, ["train", "cascade", "--size", "32", "--epochs", "1", "--steps",
                                 "1", "--batch", "1", "--validation", "1", "--texture", "0.5",
                                 "--out", str(tmp_path / "net")])
    assert result.exit_code == 0, result.output
    card_file = tmp_path / "net" / "mri-cascade.json"
    assert json.loads(card_file.read_text())["config"]["texture"] == 0.5
    result = runner.invoke(app, ["audit", str(card_file), "--image", "ellipses:3:0.5",
                                 "--tests", "instability", "--steps", "2", "--radii", "0.02",
                                 "--out", str(tmp_path / "audit")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "audit" / "instability.json").read_text())["metrics"]
    assert metrics["model"] == "mri-cascade" and len(metrics["perturbations"]) == 1
    result = runner.invoke(app, ["audit", str(card_file), "--image", "ellipses:x", "--out",
                                 str(tmp_path / "audit")])
    assert result.exit_code != 0 and "ellipses:SEED" in " ".join(result.output.split())
    result = runner.invoke(app, ["audit", str(tmp_path / "missing.json"), "--out",
                                 str(tmp_path / "audit")])
    assert result.exit_code != 0 and "does not exist" in " ".join(result.output.split())


def test_cli_refuses_bad_sizes_and_prints_errors_verbatim(tmp_path):
    negative = runner.invoke(app, ["audit", "mri-cascade", "--radii=-0.01", "--tests",
                                   "instability", "--out", str(tmp_path)])
    assert negative.exit_code == 2 and "positive finite number" in negative.output
    huge = runner.invoke(app, ["solve", "phantom", "--size", "100000"])
    assert huge.exit_code == 2 and "4096" in huge.output
    smiley = runner.invoke(app, ["audit", "mri-cascade", "--image", "ellipses:abc:smile:",
                                 "--out", str(tmp_path)])
    assert smiley.exit_code == 2 and "ellipses:abc:smile:" in smiley.output


def test_debug_shows_the_traceback_and_errors_have_documented_exit_codes(monkeypatch, capsys):
    from stablerecon import cli

    quiet = runner.invoke(app, ["solve", "phantom", "--modality", "xray"])
    assert quiet.exit_code == cli.EXIT_BAD_INPUT and "Traceback" not in quiet.output
    loud = runner.invoke(app, ["--debug", "solve", "phantom", "--modality", "xray"])
    assert isinstance(loud.exception, sr.StableReconError)  # raised, with its traceback

    def broken(*args, **kwargs):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr("stablerecon.modality.modality", broken)
    with pytest.raises(SystemExit) as stop:
        cli.main(["solve", "phantom"])
    assert stop.value.code == cli.EXIT_INTERNAL
    err = " ".join(capsys.readouterr().err.split())
    assert "RuntimeError: something unforeseen" in err and "--debug" in err
