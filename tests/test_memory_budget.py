"""Requests that cannot fit in memory are refused before anything is allocated, with the
estimate; requests that fit are not touched by the check."""

import time

import pytest

import stablerecon as sr
from stablerecon import memory_budget
from stablerecon.errors import StableReconError


class _Vector(sr.operators.LinearOperator):
    """A vector operator of any size that allocates nothing until applied."""

    def __init__(self, n, m):
        super().__init__((n,), (m,))

    def _forward(self, x):  # pragma: no cover - never applied
        raise AssertionError("a refused request must not run the operator")

    def _adjoint(self, y):  # pragma: no cover
        raise AssertionError("a refused request must not run the operator")


#: a request far beyond any machine's memory → its call
ABSURD = {
    "Radon angles": lambda: sr.operators.Radon((64, 64), angles=10**6),
    "Radon image and angles": lambda: sr.operators.Radon((2048, 2048), angles=2048),
    "phantom count": lambda: sr.data.random_ellipses(64, count=10**7),
    "phantom size": lambda: sr.data.random_ellipses(10**5),
    "Shepp-Logan size": lambda: sr.data.shepp_logan(10**5),
    "brain slice size": lambda: sr.data.brain_slices(10**5),
    "coil count": lambda: sr.data.coils.birdcage((4096, 4096), 1000),
    "LISTA copies": lambda: sr.nets.LISTA(_Vector(16000, 12000), layers=100),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_an_absurd_request_is_refused_at_once_with_the_estimate(case):
    t0 = time.perf_counter()
    with pytest.raises(StableReconError, match=r"would need about [\d.e+]+ GiB of memory, "
                                               r"and [\d.e+]+ GiB is available; \w+"):
        ABSURD[case]()
    assert time.perf_counter() - t0 < 5.0  # refused up front, not after the work


def test_the_check_follows_what_is_available(monkeypatch):
    monkeypatch.setattr(memory_budget, "available_bytes", lambda device="cpu": 10 * 2**20)
    memory_budget.check_fits(9 * 2**20, "nine MiB", "n/a")
    with pytest.raises(StableReconError, match="eleven MiB would need about 0.0107 GiB"):
        memory_budget.check_fits(11 * 2**20, "eleven MiB", "n/a")
    # the constructors ask the same function: a modest request is refused on a tiny machine
    with pytest.raises(StableReconError, match="Radon"):
        sr.operators.Radon((64, 64), angles=60)


def test_ordinary_requests_pass_and_memory_is_reported():
    assert memory_budget.available_bytes() > 2**20
    assert sr.operators.Radon((32, 32), angles=16).out_shape == (16, 32)
    assert sr.data.random_ellipses(16, count=2).shape == (2, 16, 16)
