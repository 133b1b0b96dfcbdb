"""The data terms: each conjugate prox is the prox of σh*, checked against its definition."""

import pytest
import torch

from stablerecon.errors import StableReconError
from stablerecon.solvers.data_terms import QCBP, SRLasso, ULasso

CONJUGATES = {  # h*(p) for one sample (p a vector)
    "sr_lasso": lambda p: 0.0 if p.norm() <= 1 + 1e-12 else float("inf"),
    "u_lasso": lambda p: float(p.norm() ** 2 / 4),
    "qcbp": lambda p: float(0.3 * p.norm()),
}


@pytest.mark.parametrize("term", [SRLasso(), ULasso(), QCBP(0.3)], ids=lambda t: t.name)
def test_prox_conjugate_minimises_its_objective(term):
    sigma = 0.7
    u = 2 * torch.randn(12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    p = term.prox_conjugate(u[None], sigma, 1)[0]

    def objective(v):  # σ h*(v) + ||v − u||²/2
        return sigma * CONJUGATES[term.name](v) + float((v - u).norm() ** 2) / 2

    best = objective(p)
    for k in range(50):
        v = p + 0.05 * torch.randn(12, dtype=torch.float64,
                                   generator=torch.Generator().manual_seed(k + 1))
        if term.name == "sr_lasso" and v.norm() > 1:
            v = v / v.norm()
        assert objective(v) >= best - 1e-12


def test_values_and_infeasibility():
    r = torch.tensor([0.5, 2.0])
    assert torch.equal(SRLasso().value(r), r) and torch.equal(ULasso().value(r), r ** 2)
    assert torch.equal(QCBP(1.0).infeasibility(r), torch.tensor([0.0, 1.0]))
    assert torch.equal(SRLasso().infeasibility(r), torch.zeros(2))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(StableReconError, match="eta ≥ 0"):
            QCBP(bad)
