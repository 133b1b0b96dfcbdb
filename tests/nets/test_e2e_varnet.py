"""The E2E-VarNet (nets/e2e_varnet.py): what it starts as, what it takes from A, its maps."""

import pytest
import torch

import stablerecon as sr
from stablerecon.data import coils
from stablerecon.errors import StableReconError
from stablerecon.nets.e2e_varnet import E2EVarNet
from stablerecon.operators import MultiCoilFourier, sampling

SHAPE = (32, 32)


def _operator(n_coils=4, seed=0):
    mask = sampling.equispaced_columns(SHAPE, 4, 0.25, seed=seed)
    return MultiCoilFourier(SHAPE, mask, coils.birdcage(SHAPE, n_coils))


def _data(A, count=2):
    x = sr.data.brain_slices(32, "test")[:count].to(torch.complex64)
    return x * coils.smooth_phase(SHAPE, seed=4), A(x * coils.smooth_phase(SHAPE, seed=4))


def test_untrained_network_is_the_zero_filled_rss_and_batches():
    torch.manual_seed(0)
    A = _operator()
    net = E2EVarNet(A, cascades=2, width=4, depth=1, sens_width=4, sens_depth=1)
    _, y = _data(A)
    out = net(y)
    assert out.shape == (2, *SHAPE) and not out.is_complex()
    torch.testing.assert_close(out, A.rss(y))  # γ_t = 0: k stays the measured k-space
    torch.testing.assert_close(net(y[0]), out[0])


def test_maps_are_normalised_and_the_operators_maps_are_not_used():
    torch.manual_seed(0)
    A = _operator()
    net = E2EVarNet(A, cascades=2, width=4, depth=1, sens_width=4, sens_depth=1)
    with torch.no_grad():
        net.gamma.fill_(0.5)
    _, y = _data(A)
    S = net.maps(y)
    torch.testing.assert_close((S.abs() ** 2).sum(1), torch.ones(2, *SHAPE), atol=1e-5,
                               rtol=0)
    first = net(y)
    net.A = MultiCoilFourier(SHAPE, A.mask, coils.birdcage(SHAPE, 4, radius=3.0))
    torch.testing.assert_close(net(y), first)  # same mask, other maps: same output


def test_trains_through_every_part():
    torch.manual_seed(0)
    A = _operator()
    net = E2EVarNet(A, cascades=2, width=4, depth=1, sens_width=4, sens_depth=1)
    x, y = _data(A)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    before = net.sens_net.unet.head.weight.detach().clone()
    losses = []
    for _ in range(40):
        loss = (net(y) - x.abs()).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    # the maps are learned too (once γ ≠ 0 they shape the cascades' updates)
    assert not torch.equal(net.sens_net.unet.head.weight, before)


def test_single_coil_operator_is_refused():
    A = sr.operators.SubsampledFourier(SHAPE, sampling.variable_density(SHAPE, 0.3))
    with pytest.raises(StableReconError, match="multi-coil operator"):
        E2EVarNet(A)
