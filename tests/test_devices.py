"""Everything follows the device of its inputs.

Each test runs on every device present (the CPU always; CUDA where a GPU is visible, skipped
with its reason elsewhere) under :func:`strict`: the default device is ``meta``, so any tensor
a computation makes without naming a device lands on ``meta`` and fails as soon as it meets a
real tensor. That is the check the issue asks for on CPU-only machines: a tensor made "on the
CPU by default" inside an operator, solver, network, audit or the trainer breaks the test.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.devices import generator, module_device, resolve_device
from stablerecon.errors import StableReconError
from stablerecon.operators.radon import _device_matrix, joseph_matrix
from stablerecon.operators.wavelet import pywt_array

CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="no CUDA GPU visible (CI has none); runs where one is present")
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=CUDA)]


@contextlib.contextmanager
def strict():
    """Tensors made without an explicit device go to 'meta' (no data): mixing one with a
    real tensor, or reading its value, raises."""
    with torch.device("meta"):
        yield


def _operators(n: int = 32) -> dict[str, sr.operators.LinearOperator]:
    shape = (n, n)
    mask = sr.operators.sampling.variable_density(shape, 0.3, seed=0)
    return {"fourier": sr.operators.SubsampledFourier(shape, mask),
            "radon": sr.operators.Radon(shape, 12),
            "wavelet": sr.operators.Wavelet(shape, "db4", levels=2),
            "gradient": sr.operators.Gradient(shape),
            "matrix": sr.operators.gaussian(10, 20, seed=0),
            "identity": sr.operators.Identity(shape),
            "composed": sr.operators.Wavelet(shape, "haar", levels=1)
            @ sr.operators.Gradient(shape).H,
            "multicoil": sr.operators.MultiCoilFourier(
                shape, sr.operators.sampling.equispaced_columns(shape, 4, 0.25),
                sr.data.coils.birdcage(shape, 4))}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(_operators()))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_operators_follow_device_and_dtype(device, name, dtype):
    A = _operators()[name].to(device)
    x = torch.randn(2, *A.in_shape, dtype=torch.float64).to(device=device,
                                                            dtype=A.input_dtype(dtype))
    with strict():
        y = A(x)
        back = A.H(y)
        A._norm_cache.clear()
        norm = A.norm(max_iter=20)
        check = A.check_adjoint(dtype)
    assert y.device.type == back.device.type == device
    assert back.real.dtype == dtype and back.shape == x.shape
    assert norm > 0 and check.passed


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", ["dense", "banded"])
def test_wavelet_forms_equal_pywavelets_on_the_device(device, form, monkeypatch):
    """Each device picks its own form per level (banded block products on the CPU, dense
    products up to DENSE_MAX_GPU on GPUs); both forms, on every device, must give PyWavelets'
    periodization to 1e-12 in float64, invert exactly and back-propagate the adjoint."""
    limit = 1 << 30 if form == "dense" else 0
    monkeypatch.setattr(sr.operators.wavelet, "DENSE_MAX", limit)
    monkeypatch.setattr(sr.operators.wavelet, "DENSE_MAX_GPU", limit)
    W = sr.operators.Wavelet((256, 128), "db4", levels=4).to(device)
    assert W._axes[0][0].dense_on(torch.device(device)) == (form == "dense")
    x = torch.randn(2, 256, 128, dtype=torch.complex128, generator=torch.Generator()
                    .manual_seed(0))
    expected = pywt_array(x.real.numpy(), "db4", 4) + 1j * pywt_array(x.imag.numpy(), "db4", 4)
    xd = x.to(device).requires_grad_()
    with strict():
        coef = W(xd)
        back = W.H(coef)
        (grad,) = torch.autograd.grad(coef, xd, coef)
    np.testing.assert_allclose(coef.detach().cpu().numpy(), expected, atol=1e-12)
    torch.testing.assert_close(back.detach(), xd.detach(), atol=1e-12, rtol=0)
    torch.testing.assert_close(grad, back.detach(), atol=1e-12, rtol=0)


def test_radon_gather_fallback_equals_the_sparse_matrix():
    """Devices without sparse CSR products use gather + index_add: the same numbers,
    the same gradients."""
    rows, cols, vals = joseph_matrix(16, torch.linspace(0, 3, 7).double().numpy(), 16)
    import scipy.sparse

    mat = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(7 * 16, 256))
    x = torch.randn(3, 256, dtype=torch.float64)
    csr = _device_matrix(mat, torch.float64, torch.device("cpu"))
    gather = _device_matrix(mat, torch.float64, torch.device("cpu"), csr=False)
    assert isinstance(csr, torch.Tensor) and not isinstance(gather, torch.Tensor)
    torch.testing.assert_close(gather(x), torch.sparse.mm(csr, x.T).T)


def test_an_input_on_another_device_is_named():
    A = _operators()["fourier"]
    with pytest.raises(StableReconError, match="is on meta but the operator's buffers are on cpu"):
        A(torch.zeros(32, 32, dtype=torch.complex64, device="meta"))


def _mri(device, n=32):
    A = _operators(n)["fourier"].to(device)
    W = sr.operators.Wavelet((n, n), "db4", levels=2).to(device)
    x = sr.data.shepp_logan(n, dtype=torch.float64, device=device).to(torch.complex128)
    return A, W, x


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.filterwarnings("ignore:.*stopped without reaching tol")
@pytest.mark.parametrize("problem,method", [("sr_lasso", "restarted_pdhg"), ("sr_lasso", "pdhg"),
                                            ("u_lasso", "fista"), ("u_lasso", "ista"),
                                            ("qcbp", "restarted_pdhg")])
def test_solvers_follow_device_and_certify(device, problem, method):
    A, W, x = _mri(device)
    y = A(x)
    weights = torch.ones(32, 32, dtype=torch.float64, device=device)
    with strict():
        args = {"eta": 1e-3} if problem == "qcbp" else {"lam": 1e-3}
        res = getattr(sr.solvers, problem)(A, y, W=W, weights=weights, method=method,
                                           tol=1e-5, max_iter=3000 if "restart" in method
                                           else 100, **args)
    assert res.x.device.type == device and res.x.dtype == torch.complex128
    gap = res.certificate.relative_gap
    assert gap.device.type == device and bool(torch.isfinite(gap).all())
    if method == "restarted_pdhg":  # the others are slow references: device only
        assert res.converged and float(gap.max()) <= 1e-5, res.status


@pytest.mark.parametrize("device", DEVICES)
def test_standard_method_moves_with_to(device):
    A = _operators()["radon"]
    phi = sr.solvers.standard_method(A, "ct", max_iter=50)
    assert any(m is phi.W for m in phi.modules()) and phi.lam == sr.solvers.PRESET_LAMBDA["ct"]
    phi = phi.to(device)
    x = sr.data.shepp_logan(32, device=device)
    with strict():
        out = phi(A.to(device)(x))
    assert out.device.type == device and phi.last_result is not None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sr.nets.available())
def test_registry_networks_run_on_the_device(device, name):
    net = sr.nets.load(name, device=device)
    A = net.operator
    assert module_device(net).type == device
    assert module_device(A) is None or module_device(A).type == device
    x = sr.data.shepp_logan(A.in_shape[0], device=device).to(A.input_dtype(torch.float32))
    with strict(), torch.no_grad():
        out = net(A(x))
    assert out.device.type == device and out.shape[-2:] == tuple(A.in_shape)


@pytest.mark.parametrize("device", DEVICES)
def test_firenet_and_lista_follow_device(device):
    A, W, x = _mri("cpu")
    fire = sr.nets.FIRENET(A, W, lam=1e-3, restarts=2, inner=5, weights=torch.ones(32, 32))
    assert fire.weights.device.type == "cpu"  # built beside A (on the CPU) ...
    fire = fire.to(device)                    # ... and moved with the network, A and W too
    x = x.to(device)
    M = sr.operators.gaussian(10, 20, seed=0)
    lista = sr.nets.LISTA(M, layers=3).to(device)
    with strict(), torch.no_grad():
        out = fire(A(x))
        z = lista(torch.ones(4, 10, dtype=torch.float64, device=device))
    assert out.device.type == device and z.device.type == device


@pytest.fixture(scope="module")
def cascade_cpu():
    return sr.nets.load("mri-cascade")


@pytest.mark.parametrize("device", DEVICES)
def test_audits_run_on_the_device_with_phi(device, cascade_cpu):
    net = cascade_cpu.to(device)
    A = net.operator
    x = sr.data.shepp_logan(128)  # on the CPU: the audits move it beside A
    phi = sr.solvers.standard_method(A, "mri", max_iter=20)
    with strict():
        inst = sr.audit.instability(net, A, x, radii=[0.01], steps=2, phi=phi)
        noise = sr.audit.noise(net, A, x, worst_case=inst, K=(1, 3), phi=phi, phi_K=1)
        curve = sr.audit.curve(net, A, x, eps=(0.0, 0.01), steps=2, restarts=1,
                               gaussian_draws=1, phi=phi)
        kern = sr.audit.kernel(net, A, x, phi=phi)
        acc = sr.audit.accuracy(net, A, x, phi=phi, iterations=1)
        more = sr.audit.more_samples(net, x, rates=(0.3,), phi=None)
    assert inst.images["r1"].device.type == device
    assert noise.images["worst_random"].device.type == device
    assert kern.images["z"].device.type == device
    assert {"psi", "phi"} <= set(curve.metrics["rows"][1])
    assert acc.metrics["phi_smallest_amplitude"] is None or acc.images["psi"].device.type == device
    assert len(more.metrics["rows"]) == 2
    net.to("cpu")


def test_audit_names_a_model_on_another_device_than_its_operator(cascade_cpu):
    mask = cascade_cpu.operator.mask.cpu().numpy()
    A = sr.operators.SubsampledFourier((128, 128), mask)
    net = sr.nets.FIRENET(sr.operators.SubsampledFourier((128, 128), mask), lam=1e-3,
                          restarts=1, inner=1, eps0=1.0).to("meta")
    with pytest.raises(StableReconError, match="model is on meta but the operator A on cpu"):
        sr.audit.instability(net, A, sr.data.shepp_logan(128), radii=[0.01], steps=1, phi=None)


@pytest.mark.parametrize("device", DEVICES)
def test_seeded_draws_repeat_on_a_device(device):
    A, _, x = _mri(device)
    psi = lambda y: A.H(y)  # noqa: E731
    runs = [sr.audit.noise(psi, A, x, r_rel=0.05, K=(1, 5), seed=3, phi=None)
            for _ in range(2)]
    torch.testing.assert_close(runs[0].images["worst_random"], runs[1].images["worst_random"])
    assert generator(3, device).device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_training_runs_on_the_device_and_records_it(device, tmp_path):
    from stablerecon.train import TrainConfig, train

    cfg = TrainConfig(net="cascade", size=32, epochs=1, steps=1, batch=1, validation=1,
                      architecture={"cascades": 1, "depth": 2, "width": 4})
    with strict():
        card = train(cfg, tmp_path, device=device)
    assert card["device"].startswith(device)
    saved = torch.load(tmp_path / card["weights"], weights_only=True)
    assert all(v.device.type == "cpu" for v in saved.values())
    # resuming, here on the CPU, continues whatever device the run began on
    cfg.epochs = 2
    card2 = train(cfg, tmp_path, resume=True, device="cpu")
    assert card2["epochs_done"] == 2
    assert json.loads((tmp_path / f"{card['name']}.json").read_text())["device"].startswith("cpu")


def test_resolve_device(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(StableReconError, match="unknown device"):
        resolve_device("gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(StableReconError, match="sees no CUDA GPU; use device 'cpu'"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")


def test_cli_device_option_refuses_a_missing_gpu(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from stablerecon.cli import app

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = CliRunner().invoke(app, ["audit", "mri-cascade", "--device", "cuda",
                                      "--tests", "kernel", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no CUDA GPU" in result.output


@pytest.mark.parametrize("device", DEVICES)
def test_multicoil_maps_network_and_scan_audits_follow_device(device, tmp_path):
    from stablerecon.data.scan import read_scan, save_fastmri
    from stablerecon.nets.e2e_varnet import E2EVarNet

    A = _operators()["multicoil"]
    x = sr.data.brain_slices(32, "test")[:1].to(torch.complex64)
    path = save_fastmri(tmp_path / "scan.h5", x, A.sens, maps=True)
    scan = read_scan(path, 0, coils_from="file", mask=A.mask.numpy()).to(device)
    net = E2EVarNet(A, cascades=1, width=4, depth=1, sens_width=4, sens_depth=1).to(device)
    with torch.no_grad():
        net.gamma.fill_(0.5)
    k = sr.data.coils.centred_kspace(scan.A, scan.y)
    with strict():
        maps = sr.data.coils.espirit(k, mask=A.mask, kernel=4)
        out = net(scan.y)
        psi = sr.audit.as_reconstructor(lambda y: scan.A.adjoint(y), name="zero-filled")
        inst = sr.audit.instability(psi, scan.A, scan, radii=[0.02], steps=2, phi=None)
        noise = sr.audit.noise(psi, scan.A, scan, worst_case=inst, K=(1, 3), phi=None)
    assert maps.device.type == device and out.device.type == device
    assert inst.images["r1"].device.type == device
    assert noise.images["worst_random"].device.type == device
