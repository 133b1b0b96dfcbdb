import json

from typer.testing import CliRunner

from stablerecon.cli import app

runner = CliRunner()


def test_demo_writes_figure_and_metrics(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--size", "64"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["sampling"]["rate"] == 0.25
    assert 10.0 < metrics["adjoint"]["psnr_db"] < 40.0
    assert metrics["standard_method"]["psnr_db"] > metrics["adjoint"]["psnr_db"] + 3
    assert metrics["standard_method"]["solver"]["certificate"]["kind"] == "duality_gap"
    assert (tmp_path / "demo.png").stat().st_size > 1000


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
    assert json.loads(mri.stdout)["certificate"]["kind"] == "duality_gap"


def test_solve_bad_modality():
    result = runner.invoke(app, ["solve", "phantom", "--modality", "pet"])
    assert result.exit_code == 2 and "unknown modality" in result.output
