"""A model whose output is NaN/Inf under a perturbation (but finite at y₀): every search
keeps that perturbation as the worst, the result flags it and says so in its notes, and
nothing downstream (plain words, the report) carries NaN metrics without a word."""

import math

import pytest
import torch

import stablerecon as sr
from stablerecon.report.describe import describe

A = sr.operators.SubsampledFourier((32, 32), sr.operators.sampling.uniform((32, 32), 0.5))
X = sr.data.shepp_logan(32)
Y0 = A(X.to(torch.complex64))


def breaks_far_from_y0(y):
    """Zero-filling, NaN once the measurements move more than 1e-2 from y₀ anywhere."""
    out = A.H(y).real
    return out * float("nan") if (y - Y0).abs().amax() > 1e-2 else out


SEARCHES = {
    "ball": dict(radii=[0.001, 0.05]),
    "lambda": dict(penalty=[0.1]),
    "gradient-free": dict(radii=[0.001, 0.05], gradient_free=True),
}


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_a_perturbation_that_makes_the_model_nan_is_the_worst_and_is_said(search):
    res = sr.audit.instability(breaks_far_from_y0, A, X, steps=5, phi=None,
                               **SEARCHES[search])
    last = res.metrics["perturbations"][-1]["psi"]
    assert last["nonfinite"] is True
    assert last["change_rel"] == math.inf and last["psnr_drop"] == math.inf
    if search != "lambda":  # the small radius stays finite: only the large one is flagged
        first = res.metrics["perturbations"][0]["psi"]
        assert "nonfinite" not in first and math.isfinite(first["change_rel"])
    assert any("returned NaN or Inf under its worst-case r" in n for n in res.notes)
    assert any("returned NaN or Inf" in sentence for sentence in describe(res))


def test_random_draws_that_make_the_model_nan_are_counted():
    res = sr.audit.noise(breaks_far_from_y0, A, X, r_rel=0.05, K=[1, 5], phi=None)
    assert res.metrics["psi"]["5"]["worst_change_rel"] == math.inf
    assert any("returned NaN or Inf under 5 of 5 random draws" in n for n in res.notes)


def test_a_model_that_stays_finite_gets_no_such_note():
    res = sr.audit.instability(lambda y: A.H(y).real, A, X, radii=[0.05], steps=3, phi=None)
    assert not any("NaN" in n for n in res.notes)
    assert "nonfinite" not in res.metrics["perturbations"][0]["psi"]
