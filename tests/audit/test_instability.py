"""The instability test finds worst cases; on a linear Ψ it finds σ_max(MA)."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError


def _sigma_max(linear_recon, A, shape, iters=300):
    """σ_max of r ↦ M A r by power iteration (independent of the audit)."""
    gen = torch.Generator().manual_seed(1)
    v = torch.randn(*shape, dtype=torch.complex128, generator=gen)
    T = lambda r: linear_recon(A(r))  # noqa: E731
    for _ in range(iters):
        v = v.detach().requires_grad_(True)
        loss = T(v).abs().pow(2).sum() / 2
        (g,) = torch.autograd.grad(loss, v)
        v = g / g.norm()
    return float(T(v).norm() / v.norm())


def test_finds_the_top_singular_value_of_a_linear_reconstructor(mri32, linear_recon):
    A, x = mri32
    sigma = _sigma_max(linear_recon, A, x.shape)
    res = sr.audit.instability(linear_recon, A, x, radii=[0.05], steps=100, phi=None)
    row = res.metrics["perturbations"][0]
    r = res.images["r1"]
    gain = float(linear_recon(A(r)).norm() / r.norm())
    assert gain >= 0.99 * sigma
    assert row["steps_run"] <= 100


def test_lambda_mode_gives_a_growing_sequence_and_reports_phi(mri32, tmp_path):
    A, x = mri32
    net = sr.nets.FIRENET(A, sr.operators.Wavelet((32, 32), "haar", levels=2), lam=1e-2,
                          restarts=2, inner=5)
    res = sr.audit.instability(net, A, x, penalty=[0.5, 0.1], steps=15,
                               phi=sr.solvers.standard_method(A, "mri", max_iter=200))
    rows = res.metrics["perturbations"]
    assert rows[0]["r_rel"] < rows[1]["r_rel"]  # smaller λ allows a larger r
    for row in rows:
        assert {"change_rel", "amplification", "psnr", "ssim"} <= set(row["psi"])
        assert {"change_rel", "amplification", "psnr", "ssim"} <= set(row["phi"])
        for key in ("psi", "phi"):  # PSNR lost = clean PSNR − perturbed PSNR
            assert row[key]["psnr_drop"] == pytest.approx(
                res.metrics[f"{key}_clean"]["psnr"] - row[key]["psnr"])
    names = {p.name for p in res.save(tmp_path)}
    assert {"instability-perturbations.png", "instability-changes.png"} <= names


def test_gradient_free_fallback_is_labelled(mri32, linear_recon):
    A, x = mri32
    black_box = lambda y: linear_recon(y).detach()  # noqa: E731
    res = sr.audit.instability(black_box, A, x, radii=[0.05], steps=30, phi=None,
                               gradient_free=True)
    assert "weaker" in res.metrics["method"] and res.notes
    assert res.metrics["perturbations"][0]["psi"]["amplification"] > 0


def test_measurement_space_and_save(mri32, linear_recon, tmp_path):
    A, x = mri32
    res = sr.audit.instability(linear_recon, A, x, radii=[0.02], steps=10, phi=None,
                               space="measurement")
    assert res.images["r1"].shape == A(x.to(torch.complex128)).shape
    files = res.save(tmp_path)
    assert (tmp_path / "instability.json").exists() and any(f.suffix == ".png" for f in files)


def test_bad_input(mri32, linear_recon):
    A, x = mri32
    with pytest.raises(StableReconError, match="shape"):
        sr.audit.instability(linear_recon, A, torch.zeros(8, 8), phi=None)
    with pytest.raises(StableReconError, match="not both"):
        sr.audit.instability(linear_recon, A, x, penalty=1.0, radii=[0.1], phi=None)
    with pytest.raises(StableReconError, match="not differentiable"):
        sr.audit.instability(lambda y: linear_recon(y).detach(), A, x, radii=[0.1],
                             steps=3, phi=None, gradient_free=False)
