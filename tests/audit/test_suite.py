"""The audit suite: tests by name, Ψ(Ax) and Φ(Ax) computed once and handed on."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.report.describe import describe


class Counting(torch.nn.Module):
    """A reconstructor that records every measurement it is called on."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, y):
        self.calls.append(y.detach().clone())
        return self.inner(y)


def _calls_on(recon, y0):
    return sum(c.shape == y0.shape and torch.equal(c, y0) for c in recon.calls)


def test_clean_outputs_are_computed_once(mri32, linear_recon):
    A, x = mri32
    psi, phi = Counting(linear_recon), Counting(linear_recon)
    results = sr.audit.run(psi, A, x, ["kernel", "instability", "noise", "accuracy"],
                           radii=[0.02], steps=3, phi=phi,
                           options={"noise": {"K": (1, 5), "phi_K": 5},
                                    "accuracy": {"iterations": 2, "detail": "blob"}})
    assert list(results) == ["kernel", "instability", "noise", "accuracy"]
    y0 = A(x.to(torch.complex128))
    assert _calls_on(psi, y0) == 1 and _calls_on(phi, y0) == 1
    # noise was compared with the worst case the instability test found
    assert "ratio_worst_case_to_worst_random" in results["noise"].metrics
    assert results["noise"].metrics["r_rel"] == pytest.approx(
        results["instability"].metrics["perturbations"][-1]["r_rel"])


def test_noise_alone_draws_at_the_largest_radius(mri32, linear_recon):
    A, x = mri32
    res = sr.audit.run(linear_recon, A, x, ["noise"], radii=[0.01, 0.03], phi=None,
                       options={"noise": {"K": (1, 3)}})["noise"]
    assert res.metrics["r_rel"] == pytest.approx(0.03)
    assert "ratio_worst_case_to_worst_random" not in res.metrics


@pytest.mark.parametrize("kwargs, words", [
    ({"tests": ["fuzz"]}, "unknown test"), ({"tests": []}, "no test chosen"),
    ({"options": {"fuzz": {}}}, "options for unknown"), ({"radii": [0]}, "positive finite number"),
])
def test_bad_requests_are_named(mri32, linear_recon, kwargs, words):
    A, x = mri32
    with pytest.raises(StableReconError, match=words):
        sr.audit.run(linear_recon, A, x, **{"tests": ["kernel"], **kwargs}, phi=None)


def test_clean_outputs_of_another_image_are_refused(mri32, linear_recon):
    A, x = mri32
    psi = sr.audit.as_reconstructor(linear_recon)
    other = sr.audit.clean_outputs(psi, None, A, (0.5 * x).to(torch.complex128))
    with pytest.raises(StableReconError, match="another image"):
        sr.audit.kernel(psi, A, x, phi=None, clean=other)


def test_keep_going_turns_a_failed_test_into_a_failure_result():
    A = sr.operators.Identity((16, 16))
    x = sr.data.shepp_logan(16)
    with pytest.raises(StableReconError, match="no usable kernel"):
        sr.audit.run(lambda y: y, A, x, ["noise", "kernel"], radii=[0.01], phi=None)
    seen = []
    out = sr.audit.run(lambda y: y, A, x, ["noise", "kernel"], radii=[0.01], phi=None,
                       keep_going=True, on_result=lambda n, r: seen.append((n, r.failed)))
    assert out["kernel"].failed and "no usable kernel" in out["kernel"].metrics["failed"]
    assert not out["noise"].failed and out["noise"].metrics["r_rel"] == pytest.approx(0.01)
    assert seen == [("noise", False), ("kernel", True)]
    assert describe(out["kernel"]) == out["kernel"].notes
