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
    assert metrics["standard_method"]["psnr_db"] > metrics["adjoint"]["psnr_db"] + 5
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
