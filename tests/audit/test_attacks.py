"""The independent searches of audit.attacks on models with a known answer: a linear
Ψ = M (the worst r on the ball is ρ·v₁, f = ρσ₁) and a small nonlinear one; the thorough
setting is never weaker than the default."""

import math

import pytest
import torch

import stablerecon as sr
from stablerecon.audit import attacks
from stablerecon.devices import generator

torch.manual_seed(0)
M = torch.randn(20, 30, dtype=torch.float64)
SIGMA = float(torch.linalg.matrix_norm(M, ord=2))
LIKE = torch.zeros(30, dtype=torch.float64)
BASE = torch.zeros(20, dtype=torch.float64)


def linear(r):
    return M @ r


#: searches that must reach the known maximum ρσ₁ within 2 % at this budget; projected
#: Adam does not (its coordinate-wise steps stall against the projection at ~0.85 ρσ₁ here,
#: whatever its step), which is why it is not the default
EXACT = ["jacobian", "normalised", "penalty", "pgd"]


@pytest.mark.parametrize("name", sorted(attacks.SEARCHES))
def test_each_search_finds_the_top_singular_direction_of_a_linear_model(name):
    found = attacks.SEARCHES[name](linear, BASE, LIKE, 0.5, 60, generator(0, "cpu"))
    assert found.value <= 0.5 * SIGMA * (1 + 1e-9)  # nothing beats the true maximum
    if name in EXACT:
        assert found.value == pytest.approx(0.5 * SIGMA, rel=0.02)
    else:
        assert found.value >= 0.5 * 0.5 * SIGMA  # a real search, better than half
    assert float(torch.linalg.vector_norm(found.r)) <= 0.5 * (1 + 1e-9)
    assert 0 < found.evaluations <= 70


W1 = torch.randn(40, 30, dtype=torch.float64) / 5


def nonlinear(r):
    """A ReLU layer after a fixed input: the worst r on a small ball is where the Jacobian
    D(W₁(x₀ + r) > 0) W₁ is largest — not the random start."""
    return torch.relu(W1 @ (torch.ones(30, dtype=torch.float64) + r)) ** 2


def test_thorough_is_never_weaker_than_the_default_on_a_nonlinear_model():
    base = nonlinear(LIKE).detach()
    for seed in range(3):
        default = attacks.normalised_ascent(nonlinear, base, LIKE, 0.3, 40,
                                            generator(seed, "cpu"))
        best = attacks.thorough(nonlinear, base, LIKE, 0.3, 40, generator(seed, "cpu"))
        assert best.value >= default.value * (1 - 1e-12)
        assert best.method in {f.method for f in [best]} and best.evaluations > 40


def test_instability_thorough_names_the_winning_search_and_is_at_least_as_strong():
    A = sr.operators.SubsampledFourier((16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
    x = sr.data.shepp_logan(16)

    def psi(y):  # zero-filling then a pixelwise nonlinearity: a small nonlinear Ψ
        return torch.tanh(3 * A.H(y).real)

    plain = sr.audit.instability(psi, A, x, radii=[0.05], steps=20, phi=None)
    strong = sr.audit.instability(psi, A, x, radii=[0.05], steps=20, phi=None, thorough=True)
    row = strong.metrics["perturbations"][0]
    assert row["search"] and "thorough" in strong.metrics["method"]
    assert row["psi"]["change_rel"] >= plain.metrics["perturbations"][0]["psi"][
        "change_rel"] * (1 - 1e-6)
    assert row["steps_run"] > 20  # the evaluations of all five searches
    with pytest.raises(sr.StableReconError, match="thorough=True combines"):
        sr.audit.instability(psi, A, x, penalty=[0.1], phi=None, thorough=True)


def test_an_undefined_output_is_the_worst_for_every_search():
    def breaks(r):
        return linear(r) * (math.nan if float(torch.linalg.vector_norm(r.detach())) > 0.2 else 1.0)

    for name, search in attacks.SEARCHES.items():
        found = search(breaks, BASE, LIKE, 0.5, 20, generator(0, "cpu"))
        assert found.value == math.inf, name
