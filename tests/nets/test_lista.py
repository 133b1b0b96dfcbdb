"""LISTA: ISTA at initialisation, learns, errors."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError
from stablerecon.nets.lista import LISTA
from stablerecon.prox import soft_threshold


def test_initialisation_is_ista():
    A = sr.operators.gaussian(20, 40, seed=0)
    M = A.matrix
    L = float(torch.linalg.matrix_norm(M, ord=2)) ** 2
    y = A(sr.data.sparse_vector(40, 4, seed=1))
    x = torch.zeros(40, dtype=torch.float64)
    for _ in range(6):  # ISTA for ½||Ax − y||² + 0.1||x||₁
        x = soft_threshold(x - M.T @ (M @ x - y) / L, 0.1 / L)
    torch.testing.assert_close(LISTA(A, layers=6, lam=0.1)(y), x)


def test_training_lowers_the_error():
    A = sr.operators.gaussian(15, 30, seed=0)
    xs = torch.stack([sr.data.sparse_vector(30, 3, seed=s) for s in range(256)])
    ys = A(xs)
    net = LISTA(A, layers=4)
    with torch.no_grad():
        before = float((net(ys) - xs).pow(2).mean())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(100):
        loss = (net(ys) - xs).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * before


def test_bad_input():
    with pytest.raises(StableReconError, match="vectors"):
        LISTA(sr.operators.Identity((4, 4)))
    with pytest.raises(StableReconError, match="expected m"):
        LISTA(sr.operators.gaussian(5, 8))(torch.zeros(6, dtype=torch.float64))
