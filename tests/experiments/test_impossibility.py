"""Table B: the construction's stated properties, and a quick run of the command."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import stablerecon as sr
from stablerecon.cli import app
from stablerecon.experiments import impossibility as im


@pytest.mark.parametrize("K", [1, 3, 6])
@pytest.mark.parametrize("n", [10, 20, 30])
def test_A_n_is_within_2_to_the_minus_n_and_y_is_shared(K, n):
    a2, a1 = im.construct(K, n, j=2), im.construct(K, n, j=1)
    assert np.linalg.norm(a2.A - a1.A, 2) <= 2.0**-n
    np.testing.assert_array_equal(a2.y, a1.y)
    # ... while the minimisers are about 3·10^-K apart
    gap = np.linalg.norm(a2.x - a1.x)
    assert 2 * 10.0**-K < gap < 4 * 10.0**-K


@pytest.mark.parametrize("K", [1, 3, 6])
def test_claimed_minimisers_have_a_dual_certificate(K):
    inst = im.construct(K, 20, j=2, samples=50, seed=1)
    assert (inst.x[:, 0] != 0).sum() == 1 + im.SPARSITY  # 6-sparse
    for column in range(50):
        norm_u, violation = im.dual_certificate(inst, column)
        assert norm_u <= 1.0 and violation < 1e-12


def test_claimed_minimiser_matches_the_certified_solver():
    inst = im.construct(1, 10, j=2, samples=1, seed=3)
    A = sr.operators.Matrix(torch.tensor(inst.A))
    res = sr.solvers.sr_lasso(A, torch.tensor(inst.y[:, 0]), lam=1.0, tol=1e-12,
                              max_iter=200_000)
    assert res.converged
    np.testing.assert_allclose(res.x.numpy(), inst.x[:, 0], atol=1e-6)


def test_firenet_cannot_beat_the_barrier_but_reaches_it():
    K, n = 3, 20
    test, truth = im.construct(K, n, j=2), im.construct(K, n, j=1)
    x = im.firenet_for(test)(torch.tensor(test.y[:, 0])).detach().numpy()
    d_true = np.linalg.norm(x - truth.x[:, 0])
    assert 10.0**-K < d_true < 4 * 10.0**-K


def test_quick_command(tmp_path):
    result = CliRunner().invoke(app, ["table", "impossibility", "--quick", "--ns", "10",
                                      "--ks", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "table-impossibility.json").read_text())
    assert len(rows) == 1
    row = rows[0]
    assert row["lista_distance"] > 0.1 * row["barrier"]
    assert row["firenet_distance"] > row["barrier"]
    assert len(row["x_true"]) == im.N1 + im.N2


@pytest.mark.parametrize("kwargs", [{"ns": [0]}, {"Ks": [-1]}, {"samples": 0}, {"ns": []}])
def test_the_library_checks_its_inputs(kwargs):
    with pytest.raises(sr.StableReconError, match="must be|is empty"):
        im.run(**kwargs)
