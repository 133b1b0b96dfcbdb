"""The shared proximal steps against their closed forms."""

import pytest
import torch

from stablerecon.prox import project_box, project_l2_ball, shrink_l2, soft_threshold


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_soft_threshold_is_the_prox_of_the_l1_norm(dtype):
    z = torch.randn(300, dtype=dtype, generator=torch.Generator().manual_seed(0))
    closed = z / z.abs() * torch.clamp(z.abs() - 0.7, min=0)
    torch.testing.assert_close(soft_threshold(z, 0.7), closed)
    assert soft_threshold(torch.zeros(3, dtype=dtype), 0.1).abs().max() == 0
    # the prox minimises 0.5|u - z|² + t|u|_1: no random point does better
    t, u = 0.7, soft_threshold(z, 0.7)
    def cost(v):
        return 0.5 * (v - z).abs().pow(2).sum() + t * v.abs().sum()
    for k in range(20):
        v = u + 0.01 * torch.randn(300, dtype=dtype, generator=torch.Generator().manual_seed(k))
        assert cost(v) >= cost(u)


def test_projections_and_shrinkage():
    gen = torch.Generator().manual_seed(1)
    u = 3 * torch.randn(4, 10, dtype=torch.complex128, generator=gen)
    ball = project_l2_ball(u, 1)
    assert torch.allclose(ball.norm(dim=1), torch.ones(4, dtype=torch.float64))
    small = 0.01 * u
    assert torch.equal(project_l2_ball(small, 1), small)
    box = project_box(u, 0.5)
    assert float(box.abs().max()) <= 0.5 + 1e-12
    assert torch.allclose(box.angle(), u.angle())
    shrunk = shrink_l2(u, 1.0, 1)
    torch.testing.assert_close(shrunk.norm(dim=1), torch.clamp(u.norm(dim=1) - 1.0, min=0))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_soft_threshold_equals_the_modulus_formula_over_its_range(dtype):
    """For one threshold in its safe range the step takes 1/|z| from |z|², which under- and
    overflows at the ends of the range of z: it must still equal ReLU(|z| - t) z / |z| (with
    torch's modulus) from the smallest to the largest magnitudes; so must the modulus path
    (thresholds per entry, or out of that range)."""
    real = torch.finfo(torch.empty((), dtype=dtype).real.dtype)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 500, dtype=dtype, generator=gen)
    scales = torch.tensor([real.tiny * 1e3, real.tiny ** 0.5 / 10, 1.0, 1e5,
                           real.max ** 0.5 * 10, real.max / 1e3], dtype=z.real.dtype)
    z = z * scales[:, None]
    z[:, :3] = 0
    per_entry = torch.rand(6, 500, generator=gen, dtype=z.real.dtype) * scales[:, None]
    edge = 10 * real.tiny ** 0.5
    for t in (0.0, 0.3, edge, 1e3, real.eps * real.max ** 0.5 / 20, real.tiny, per_entry):
        mag = z.abs()
        want = torch.where(mag > 0, torch.relu(mag - t) / mag.clamp_min(real.tiny), 0) * z
        got = soft_threshold(z, t)
        # errors measured against |z|: near |z| = t both formulas cancel
        assert bool(((got - want).abs() <= 8 * real.eps * mag).all()), t
