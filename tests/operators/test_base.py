import pytest
import torch

import stablerecon as sr
from stablerecon.operators.base import LinearOperator


class _BrokenAdjoint(LinearOperator):
    def __init__(self):
        super().__init__((4,), (4,))

    def _forward(self, x):
        return 2 * x

    def _adjoint(self, y):
        return y  # wrong: should be 2 y


def test_composition_scaling_and_adjoint_algebra():
    M = sr.operators.Matrix(torch.randn(5, 3, dtype=torch.float64))
    N = sr.operators.Matrix(torch.randn(3, 4, dtype=torch.float64))
    x = torch.randn(2, 4, dtype=torch.float64)
    y = torch.randn(2, 5, dtype=torch.float64)
    C = 3.0 * (M @ N)
    torch.testing.assert_close(C(x), 3.0 * x @ (M.matrix @ N.matrix).T)
    torch.testing.assert_close(C.H(y), 3.0 * y @ (M.matrix @ N.matrix))
    assert C.H.H is C
    C.check_adjoint(torch.float64)


def test_stack_adjoint_is_sum_of_adjoints():
    shape = (8, 8)
    F = sr.operators.SubsampledFourier(shape, sr.operators.sampling.uniform(shape, 0.5, seed=2))
    W = sr.operators.Wavelet(shape, "haar", levels=2)
    S = sr.operators.stack([F, W])
    assert S.out_shape == (32 + 64,)
    S.check_adjoint(torch.float64)
    y = torch.randn(96, dtype=torch.complex128)
    torch.testing.assert_close(S.H(y), F.H(y[:32]) + W.H(y[32:].reshape(8, 8)))


def test_norm_by_power_iteration_matches_svd():
    M = torch.randn(20, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    A = sr.operators.Matrix(M) @ sr.operators.Identity((30,))
    assert A.norm(max_iter=2000, tol=1e-12) == pytest.approx(
        float(torch.linalg.matrix_norm(M, ord=2)), rel=1e-6
    )


def test_broken_adjoint_is_caught_with_a_clear_message():
    with pytest.raises(sr.StableReconError, match="fails its adjoint test"):
        _BrokenAdjoint().check_adjoint()
    assert not _BrokenAdjoint().check_adjoint(raise_on_fail=False).passed


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.ones(5), "expected \\(\\*batch, 4\\)"),
        (torch.ones(4, dtype=torch.int64), "not floating point"),
        (torch.tensor([1.0, float("nan"), 0.0, 0.0]), "NaN or Inf"),
        ([1.0, 2.0, 3.0, 4.0], "expects a torch.Tensor"),
    ],
)
def test_bad_input_is_named(bad, match):
    with pytest.raises(sr.StableReconError, match=match):
        sr.operators.Identity((4,))(bad)


def test_unchecked_application_skips_the_checks_only():
    """check=False (the solvers' inner loops) applies the same map without looking at the
    input, so a NaN passes through instead of raising; the default still raises."""
    A = _BrokenAdjoint()
    x = torch.tensor([1.0, float("nan"), 0.0, 0.0])
    with pytest.raises(sr.StableReconError, match="NaN or Inf"):
        A(x)
    with pytest.raises(sr.StableReconError, match="NaN or Inf"):
        A.adjoint(x)
    assert torch.equal(A(x, check=False).nan_to_num(), torch.tensor([2.0, 0, 0, 0]))
    assert torch.equal(A.adjoint(x, check=False).nan_to_num(), x.nan_to_num())


def test_adjoint_operator_is_made_once_and_follows_its_operator():
    import copy

    W = sr.operators.Wavelet((16, 16), "db2", levels=1)
    assert W.H is W.H and W.H.H is W
    assert list(W.state_dict()) == ["bank"] and len(list(W.modules())) == 1
    twin = copy.deepcopy(W)
    assert twin.H is not W.H and twin.H.op is twin
    W.to(torch.float32)
    assert W.H.op.bank.dtype == torch.float32 and twin.bank.dtype == torch.float64


def test_compose_shape_mismatch():
    with pytest.raises(sr.StableReconError, match="cannot compose"):
        sr.operators.Identity((3,)) @ sr.operators.Identity((4,))


def test_real_input_is_the_adjoint_for_real_images():
    import stablerecon as sr

    mask = sr.operators.sampling.variable_density((16, 16), 0.3, seed=1)
    A = sr.operators.SubsampledFourier((16, 16), mask)
    R = sr.operators.RealInput(A)
    assert R.input_dtype(torch.float64) == torch.float64
    assert R.check_adjoint(torch.float64).passed
    x = torch.randn(16, 16, dtype=torch.float64)
    assert torch.allclose(R(x), A(x.to(torch.complex128)))
    assert R.H(R(x)).dtype == torch.float64


def test_empty_and_degenerate_inputs_are_refused():
    import pytest

    import stablerecon as sr

    mask = sr.operators.sampling.uniform((8, 8), 0.5, seed=0)
    A = sr.operators.SubsampledFourier((8, 8), mask)
    with pytest.raises(sr.StableReconError, match="empty"):
        A(torch.zeros(0, 8, 8, dtype=torch.complex64))
    with pytest.raises(sr.StableReconError, match="m, n ≥ 1"):
        sr.operators.gaussian(-3, 10)
    with pytest.raises(sr.StableReconError, match="m, n ≥ 1"):
        sr.operators.gaussian(0, 10)
    with pytest.raises(sr.StableReconError, match="shapes must be positive"):
        sr.operators.Gradient((0, 0))
