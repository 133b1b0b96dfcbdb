"""The audits around a recorded scan's measured k-space (no ground truth): they perturb
around the measured y, size r against the scan's stand-in image and score against its
reference image, and say so."""

import json

import pytest
import torch
from typer.testing import CliRunner

import stablerecon as sr
from stablerecon import metrics
from stablerecon.cli import app
from stablerecon.data import coils
from stablerecon.data.scan import centre_crop, read_scan, save_fastmri
from stablerecon.errors import StableReconError
from stablerecon.operators import sampling
from stablerecon.operators.multicoil import normalise_maps

SHAPE = (40, 32)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("scans")
    x = sr.data.brain_slices(32, "test")[:2].to(torch.complex128)
    x = torch.nn.functional.pad(x * coils.smooth_phase((32, 32), seed=2,
                                                       dtype=torch.complex128), (0, 0, 4, 4))
    S = normalise_maps(coils.birdcage(SHAPE, 4, dtype=torch.complex128))[0]
    columns = sampling.equispaced_columns(SHAPE, 4, 0.25)[0]
    return {"full": save_fastmri(root / "full.h5", x, S, crop=(32, 32), maps=True, noise=0.01),
            "under": save_fastmri(root / "under.h5", x, S, crop=(32, 32), mask=columns,
                                  maps=True, noise=0.01)}


def _zero_filled(scan):
    return sr.audit.as_reconstructor(lambda y: scan.A.adjoint(y), name="zero-filled")


def test_instability_on_measured_kspace_scores_against_the_reference(files):
    scan = read_scan(files["under"], 0, coils_from="file")
    psi = _zero_filled(scan)
    res = sr.audit.instability(psi, scan.A, scan, radii=(0.02,), steps=40, phi=None)
    m = res.metrics
    assert "reconstruction_rss" in m["scored_against"] and "stood in" in m["scored_against"]
    assert m["scan"]["rate"] == scan.A.rate and m["scan"]["file_fully_sampled"] is False
    # the clean score is Ψ(measured y) cropped, against the file's reference
    expected = metrics.psnr(centre_crop(scan.zero_filled(), scan.crop), scan.reference)
    assert m["psi_clean"]["psnr"] == pytest.approx(expected)
    # Ψ = A* with ||A|| = 1: the worst image-space r changes A*(y0 + A r) by ||A*A r|| ≤ ||r||,
    # and ||x|| is stood in for by ||A* y0|| = ||Ψ(y0)||, so the amplification is at most 1
    # and the ascent finds (nearly) the top singular vector of A*A
    row = m["perturbations"][0]
    assert row["r_rel"] == pytest.approx(0.02, rel=1e-6)
    assert 0.95 < row["psi"]["amplification"] <= 1 + 1e-4
    assert row["psi"]["psnr_drop"] > 0


def test_measurement_space_and_noise_compare_with_the_worst_case(files):
    scan = read_scan(files["under"], 1, coils_from="file")
    psi = _zero_filled(scan)
    worst = sr.audit.instability(psi, scan.A, scan, radii=(0.05,), steps=30, phi=None,
                                 space="measurement")
    assert tuple(worst.perturbations()[-1].shape) == tuple(scan.y.shape)
    res = sr.audit.noise(psi, scan.A, scan, worst_case=worst, K=(1, 20), phi=None)
    # Ψ = A* has norm 1 and A A* is a projection (the coil-consistent data): the worst r
    # lies in its range and changes the output by its whole size, a random r mostly not
    r = worst.perturbations()[-1]
    change = torch.linalg.vector_norm(worst.images["psi_r1"] - worst.images["psi_clean"])
    assert 0.95 < float(change / torch.linalg.vector_norm(r)) <= 1 + 1e-4
    assert res.metrics["ratio_worst_case_to_worst_random"] > 1.2
    assert "reconstruction_rss" in res.metrics["scored_against"]


def test_phi_runs_on_the_scans_operator_and_the_suite_says_what_needs_an_image(files):
    full = read_scan(files["full"], 0, coils_from="file",
                     mask=sampling.equispaced_columns(SHAPE, 4, 0.25))
    psi = _zero_filled(full)
    out = sr.audit.run(psi, full.A, full, ["instability", "kernel"], radii=(0.02,), steps=5,
                       phi_options={"max_iter": 300})
    m = out["instability"].metrics
    # Φ is the SR-LASSO of the scan's own multi-coil operator, run on the same measured y + A r
    assert "mri" in m["phi"] and m["phi_solver"]["iterations"] == 300
    assert m["perturbations"][0]["phi"]["change_rel"] > 0
    torch.testing.assert_close(out["instability"].images["phi_clean"],
                               sr.solvers.standard_method(full.A, "mri", max_iter=300)(
                                   full.y.to(torch.complex64)))
    assert any("fully sampled coil combination" in n for n in out["kernel"].notes)
    under = read_scan(files["under"], 0, coils_from="file")
    with pytest.raises(StableReconError, match="undersampled in the file"):
        sr.audit.run(psi, under.A, under, ["kernel"], phi=None)
    with pytest.raises(StableReconError, match="more_samples on a recorded scan"):
        sr.audit.run(psi, under.A, under, ["more_samples"], phi=None)


def test_a_scan_is_audited_with_its_own_operator(files):
    scan = read_scan(files["under"], 0, coils_from="file")
    other = read_scan(files["under"], 0, coils_from="lowres")
    with pytest.raises(StableReconError, match="A = scan.A"):
        sr.audit.instability(_zero_filled(scan), other.A, scan, phi=None)


@pytest.mark.slow  # Φ solves on every perturbation, ~15 s
def test_cli_audits_a_kspace_file(files, tmp_path, monkeypatch):
    (tmp_path / "mc_models.py").write_text("def zero_filled(y, A):\n    return A.adjoint(y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "audit", "python:mc_models:zero_filled", "--kspace", str(files["full"]), "--slice", "1",
        "--coils-from", "file", "--acceleration", "4", "--center-fraction", "0.25",
        "--tests", "instability", "--radii", "0.02", "--steps", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "instability.json").read_text())
    text = json.dumps(saved)
    assert "reconstruction_rss" in text and '"slice": 1' in text
    bad = CliRunner().invoke(app, ["audit", "mri-cascade", "--kspace", str(files["full"]),
                                   "--out", str(tmp_path / "o2")])
    assert bad.exit_code != 0 and "is single-coil" in bad.output


@pytest.mark.slow  # a training run, then instability and noise with Φ, ~35 s
def test_cli_audits_a_trained_multicoil_network_on_a_file(files, tmp_path):
    from stablerecon.train import TrainConfig, train

    cfg = TrainConfig(net="e2e-varnet", size=32, epochs=1, steps=1, batch=2, validation=2,
                      coils=4, pattern="equispaced", center_fraction=0.25, phase=True,
                      architecture={"cascades": 1, "width": 4, "depth": 1, "sens_width": 4,
                                    "sens_depth": 1})
    card = train(cfg, tmp_path / "net")
    card_path = str(tmp_path / "net" / f"{card['name']}.json")
    x = sr.data.brain_slices(32, "test")[:1].to(torch.complex64)
    S = normalise_maps(coils.birdcage((32, 32), 4))[0]
    path = save_fastmri(tmp_path / "square.h5", x, S, maps=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "audit", card_path, "--kspace", str(path), "--coils-from", "file", "--acceleration", "4",
        "--center-fraction", "0.25", "--tests", "instability,noise", "--radii", "0.02",
        "--steps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "noise.json").read_text())
    assert "ratio_worst_case_to_worst_random" in json.dumps(saved)
    wrong = CliRunner().invoke(app, ["audit", card_path, "--kspace", str(files["full"]),
                                     "--coils-from", "file", "--out", str(tmp_path / "o")])
    assert wrong.exit_code != 0 and "audit a scan of its size" in wrong.output
