"""noise, curve, more_samples, accuracy, kernel and the adapters, on tiny models."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError


def test_worst_case_beats_random_on_a_linear_reconstructor(mri32, linear_recon):
    A, x = mri32
    worst = sr.audit.instability(linear_recon, A, x, radii=[0.05], steps=60, phi=None)
    res = sr.audit.noise(linear_recon, A, x, worst_case=worst, K=(1, 20, 100), phi=None)
    m = res.metrics
    assert abs(m["r_rel"] - 0.05) < 1e-6
    # nested draws: the worst of more draws is never smaller
    assert m["psi"]["1"]["worst_change_rel"] <= m["psi"]["20"]["worst_change_rel"] \
        <= m["psi"]["100"]["worst_change_rel"]
    assert m["ratio_worst_case_to_worst_random"] > 1.0
    # PSNR lost by the worst random draw: never negative for the worst of more draws,
    # and below what the worst case costs
    drops = [m["psi"][k]["worst_psnr_drop"] for k in ("1", "20", "100")]
    assert drops == sorted(drops) and drops[-1] < worst.metrics["perturbations"][0]["psi"][
        "psnr_drop"]


def test_phi_ratio_under_the_same_r(mri32, linear_recon):
    """With Φ = Ψ the two ratios agree up to the smaller set of draws Φ is run on."""
    A, x = mri32
    worst = sr.audit.instability(linear_recon, A, x, radii=[0.05], steps=60, phi=linear_recon)
    m = sr.audit.noise(linear_recon, A, x, worst_case=worst, K=(1, 20), phi=linear_recon,
                       phi_K=20).metrics
    assert m["phi_change_rel_under_worst_case"] == pytest.approx(m["worst_case_change_rel"])
    assert m["phi_ratio_worst_case_to_worst_random"] == pytest.approx(
        m["ratio_worst_case_to_worst_random"])
    assert m["phi"]["20"]["worst_psnr_drop"] == pytest.approx(m["psi"]["20"]["worst_psnr_drop"])


def test_noise_needs_a_size(mri32, linear_recon):
    A, x = mri32
    with pytest.raises(StableReconError, match="size"):
        sr.audit.noise(linear_recon, A, x, phi=None)


def test_curve_worst_case_is_at_least_gaussian(mri32, linear_recon, tmp_path):
    A, x = mri32
    res = sr.audit.curve(linear_recon, A, x, eps=(0.0, 0.02, 0.05), steps=10, restarts=1,
                         phi=None)
    rows = res.metrics["rows"]
    assert rows[0]["psi"]["worst"]["relative_error"] == pytest.approx(
        rows[0]["psi"]["gaussian"]["relative_error"])
    for row in rows[1:]:
        assert row["psi"]["worst"]["relative_error"] >= row["psi"]["gaussian"]["relative_error"]
    assert any(p.name == "curve-relative_error.png" for p in res.save(tmp_path))


def test_more_samples_swaps_nested_operators_and_restores(mri32):
    A, x = mri32
    net = sr.nets.FIRENET(A, sr.operators.Wavelet((32, 32), "haar", levels=2), lam=1e-2,
                          restarts=3, inner=10)
    res = sr.audit.more_samples(net, x, rates=(0.2, 0.5, 0.8), phi=None)
    rows = res.metrics["rows"]
    assert [r["rate"] for r in rows] == sorted(r["rate"] for r in rows)
    assert any(r["trained_rate"] for r in rows)
    assert net.A is A  # restored
    assert rows[-1]["psi"]["relative_error"] < rows[0]["psi"]["relative_error"]


def test_more_samples_needs_a_fourier_model(mri32):
    with pytest.raises(StableReconError, match="SubsampledFourier"):
        sr.audit.more_samples(lambda y: y, mri32[1])


def test_accuracy_finds_an_amplitude_and_checks_psi():
    shape = (48, 48)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.5))
    x = sr.data.shepp_logan(48, dtype=torch.float64)
    zero_filled = lambda y: A.H(y)  # noqa: E731
    res = sr.audit.accuracy(zero_filled, A, x, detail="blob", size=0.2, iterations=5,
                            phi=sr.solvers.standard_method(A, "mri", max_iter=300))
    m = res.metrics
    assert m["phi_smallest_amplitude"] is not None
    assert 0 < m["phi_smallest_amplitude"] <= 1.0
    assert m["phi_correlation"] >= m["threshold"]
    # Ψ's score at Φ's amplitude, recomputed here: the change of |Ψ| where the detail was
    # added, correlated with the detail; it alone decides "recovers"
    from stablerecon.audit.accuracy import _region, correlation
    d = sr.audit.details.detail("blob", shape, (0.62, 0.5), 0.2).double()
    xc, a = x.to(torch.complex128), m["phi_smallest_amplitude"]
    change = A.H(A(xc + a * d)).abs() - A.H(A(xc)).abs()
    expected = correlation(change[_region(d)], d[_region(d)])
    assert abs(m["psi_correlation"] - expected) < 1e-6
    assert m["psi_recovers_at_phi_amplitude"] == (expected >= m["threshold"])


def test_kernel_certificate_on_an_exact_reconstructor_of_two_images(mri32):
    """Ψ that returns x for Ax and x' for Ax' (a lookup) is accurate on both: the theorem's
    lower bound must then be large, and the false positive is the whole of z."""
    A, x = mri32
    z = sr.audit.kernel_component(A, sr.audit.details.detail("blob", (32, 32)).double()
                                  .to(torch.complex128))
    z = 0.5 * z / z.abs().max()
    xc = x.to(torch.complex128)
    y1, y2 = A(xc), A(xc + z)

    def lookup(y):
        return xc if (y - y1).norm() < (y - y2).norm() else xc + z
    assert float((y2 - y1).norm()) < 1e-10 * float(y1.norm())
    res = sr.audit.kernel(lookup, A, x, z=z, eta=0.1 * float(z.norm()), phi=None)
    m = res.metrics
    # the two measurements are identical to rounding: the lookup sees the same data twice
    assert m["measurement_gap_rel"] < 1e-10
    assert m["unavoidable_error"] > 0.4 * float(z.norm())


def test_kernel_test_refuses_an_injective_operator():
    A = sr.operators.Identity((16, 16))
    with pytest.raises(StableReconError, match="no usable kernel"):
        sr.audit.kernel(lambda y: y, A, sr.data.shepp_logan(16), phi=None)


def test_model_operator_is_the_models_own_or_a_named_one(mri32, linear_recon):
    recon = sr.audit.as_reconstructor(linear_recon)
    with pytest.raises(StableReconError, match="carries no operator"):
        sr.audit.model_operator(recon)
    linear_recon.operator = mri32[0]
    assert sr.audit.model_operator(recon) is mri32[0]
    assert sr.audit.model_operator(recon, "denoise-dncnn").in_shape == (128, 128)


def test_hallucination_map_of_subsampled_fourier(mri32):
    A, x = mri32
    img, frac = sr.audit.hallucination(A.H(A(x.to(torch.complex128))), A)
    assert frac < 1e-12  # the zero-filled image lies in the range of A*
    img, frac = sr.audit.hallucination(x, A)
    assert 0 < frac < 1


def test_scan_ranks_pairs():
    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.3))
    imgs = [sr.data.random_ellipses(16, seed=s)[0].double() for s in range(5)]
    pairs = sr.audit.scan(imgs, A, top=3)
    assert len(pairs) == 3 and pairs[0]["ratio"] <= pairs[-1]["ratio"]


class DeepinvStylePhysics:
    """The deepinv convention: A and A_adjoint on (B, C, H, W) tensors."""

    def __init__(self, mask):
        self.mask = mask

    def A(self, x):
        return torch.fft.fft2(x, norm="ortho") * self.mask

    def A_adjoint(self, y):
        return torch.fft.ifft2(y * self.mask, norm="ortho")


def test_deepinv_style_physics_and_model():
    mask = torch.rand(16, 16, generator=torch.Generator().manual_seed(0)) < 0.4
    physics = DeepinvStylePhysics(mask)
    A = sr.audit.from_physics(physics, (1, 16, 16))
    assert A.out_shape == (1, 16, 16)

    class Model(torch.nn.Module):
        def forward(self, y, physics):
            return physics.A_adjoint(y)

    recon = sr.audit.as_reconstructor(Model(), physics=physics)
    x = torch.rand(1, 16, 16, dtype=torch.float64).to(torch.complex128)
    res = sr.audit.instability(recon, A, x, radii=[0.05], steps=20, phi=None)
    img = res.images
    gain = float((img["psi_r1"] - img["psi_clean"]).norm() / img["r1"].norm())
    assert 0.9 < gain <= 1.0 + 1e-6  # A*A is an orthogonal projection: the attack finds ~1


def test_non_adjoint_physics_is_named():
    class Bad:
        def A(self, x):
            return 2 * x

        def A_adjoint(self, y):
            return y

    with pytest.raises(StableReconError, match="adjoint"):
        sr.audit.from_physics(Bad(), (8, 8))


def test_real_deepinv_when_importable():
    deepinv = pytest.importorskip(
        "deepinv", reason="deepinv needs torchvision, which does not import beside the CPU "
                          "torch wheel here")
    physics = deepinv.physics.Denoising()
    A = sr.audit.from_physics(physics, (1, 8, 8))
    assert A.out_shape == (1, 8, 8)


def test_reconstructor_specs(tmp_path):
    with pytest.raises(StableReconError, match="registry"):
        sr.audit.as_reconstructor("no-such-model")
    with pytest.raises(StableReconError, match="python:module:function"):
        sr.audit.as_reconstructor("python:nonexistent_module_xyz:fn")
    fn = sr.audit.as_reconstructor("python:torch:clone")
    assert fn.differentiable
    scripted = torch.jit.script(torch.nn.Identity())
    path = tmp_path / "m.pt"
    torch.jit.save(scripted, str(path))
    assert torch.equal(sr.audit.as_reconstructor(str(path))(torch.ones(2)), torch.ones(2))


@pytest.mark.parametrize("kwargs, phrase", [
    ({"radii": [-0.01]}, "positive finite number"), ({"radii": []}, "is empty"),
    ({"radii": [float("nan")]}, "positive finite number"), ({"penalty": 0.0}, "penalty"),
])
def test_instability_refuses_meaningless_sizes(mri32, linear_recon, kwargs, phrase):
    A, x = mri32
    with pytest.raises(StableReconError, match=phrase):
        sr.audit.instability(linear_recon, A, x, steps=1, phi=None, **kwargs)


def test_instability_refuses_a_zero_image(mri32, linear_recon):
    A, x = mri32
    with pytest.raises(StableReconError, match="image is zero"):
        sr.audit.instability(linear_recon, A, 0 * x, radii=[0.01], steps=1, phi=None)


def test_curve_refuses_negative_noise_levels(mri32, linear_recon):
    A, x = mri32
    with pytest.raises(StableReconError, match="≥ 0"):
        sr.audit.curve(linear_recon, A, x, eps=(0.0, -0.01), phi=None)


def test_phi_convergence_is_recorded_and_noted(mri32, linear_recon):
    """Φ's solves carry their status into the metrics; a Φ stopped early is named in the
    notes, never silent."""
    A, x = mri32
    short = sr.solvers.standard_method(A, "mri", max_iter=5, tol=1e-8)
    res = sr.audit.instability(linear_recon, A, x, radii=[0.02], steps=2, phi=short)
    assert res.metrics["phi_solver"]["converged"] is False
    assert res.metrics["perturbations"][0]["phi"]["solver"]["iterations"] == 5
    assert any("did not reach its tolerance" in n for n in res.notes)
    full = sr.solvers.standard_method(A, "mri", max_iter=3000, tol=1e-3)
    ok = sr.audit.instability(linear_recon, A, x, radii=[0.02], steps=2, phi=full)
    assert ok.metrics["phi_solver"]["converged"] is True
    assert not any("did not reach" in n for n in ok.notes)


def test_a_model_returning_the_wrong_shape_is_named(mri32):
    A, x = mri32
    with pytest.raises(StableReconError, match="returned shape"):
        sr.audit.instability(lambda y: y, A, x, radii=[0.01], steps=1, phi=None)


def test_instability_results_hand_on_their_perturbations_in_order(mri32, linear_recon):
    A, x = mri32
    res = sr.audit.instability(linear_recon, A, x, radii=[0.01, 0.03], steps=2, phi=None)
    rs = res.perturbations()
    assert len(rs) == 2 and len(res.outputs("psi")) == 2 and res.outputs("phi") == []
    sizes = [float(r.norm() / x.norm()) for r in rs]
    assert sizes == pytest.approx([0.01, 0.03], rel=1e-6)
    assert sr.audit.AuditResult("kernel", {}).perturbations() == []


def test_phi_solves_of_perturbed_data_continue_from_the_clean_solve(mri32, linear_recon):
    """Φ(Ax) keeps where its solve ended; inside warm_started Φ's solves start there (and
    reach its tolerance in fewer iterations than from zero), and only there."""
    from stablerecon.audit import common

    A, x = mri32
    x = x.to(torch.complex128)  # Φ for complex images: its solves converge in a few hundred
    phi = common.default_phi(A, "auto", x)
    psi = sr.audit.reconstructor.as_reconstructor(linear_recon)
    ref = common.clean_outputs(psi, phi, A, common.input_image(A, x, psi))
    assert isinstance(ref.phi_start, sr.solvers.SolverState)
    r = torch.randn(ref.y.shape, dtype=ref.y.dtype, generator=torch.Generator().manual_seed(0))
    y = ref.y + 0.01 * ref.y.norm() * r / r.norm()
    phi(y)
    cold = phi.module.last_result
    with common.warm_started(phi, ref):
        assert phi.module.start is ref.phi_start
        phi(y)
    warm = phi.module.last_result
    assert phi.module.start is None
    assert warm.converged and cold.converged and warm.iterations < cold.iterations
