import numpy as np
import pytest
import torch

import stablerecon as sr
from stablerecon.data import coils
from stablerecon.errors import StableReconError
from stablerecon.operators import MultiCoilFourier, sampling


def _scan(shape=(64, 64), n_coils=8, seed=0, mask=None):
    S = coils.birdcage(shape, n_coils, dtype=torch.complex128)
    x = sr.data.shepp_logan(shape[0], dtype=torch.float64) * \
        coils.smooth_phase(shape, seed=seed, dtype=torch.complex128)
    mask = sampling.equispaced_columns(shape, 4, 0.16, seed=seed) if mask is None else mask
    A = MultiCoilFourier(shape, mask, S)
    return S, x, mask, coils.centred_kspace(A, A(x))


def _agreement(est, truth, inside):
    """|<S_est(p), S_true(p)>| per pixel: 1 when the maps agree up to a phase."""
    return (est.conj() * truth).sum(0).abs()[inside]


def test_birdcage_any_number_of_coils_normalised_and_distinct():
    for c in (1, 3, 16):
        S = coils.birdcage((20, 24), c, dtype=torch.complex128)
        torch.testing.assert_close((S.abs() ** 2).sum(0), torch.ones(20, 24, dtype=torch.float64))
    S = coils.birdcage((32, 32), 4)
    # each coil is brightest on its own side of the image
    assert int(S[0].abs().argmax() % 32) > 16 and int(S[2].abs().argmax() % 32) < 16


def test_espirit_recovers_simulated_maps_up_to_a_phase_from_column_data():
    S, x, mask, k = _scan()
    assert coils.calibration_region(mask) == (24, 10)
    E = coils.espirit(k, mask=mask)
    inside = x.abs() > 0.05
    agree = _agreement(E, S, inside)
    assert float(agree.mean()) > 0.995 and float(agree.min()) > 0.95


def test_espirit_crops_outside_the_object():
    S, x, mask, k = _scan()
    E = coils.espirit(k, mask=mask, crop=0.9)
    far = torch.zeros(64, 64, dtype=torch.bool)
    far[:3], far[-3:] = True, True  # the phantom does not reach the top and bottom rows
    assert float((E.abs() ** 2).sum(0)[far].mean()) < 0.5


def test_lowres_estimate_is_close_but_worse_than_espirit():
    S, x, mask, k = _scan()
    inside = x.abs() > 0.05
    low = _agreement(coils.lowres(k, mask=mask), S, inside)
    esp = _agreement(coils.espirit(k, mask=mask), S, inside)
    assert float(low.mean()) > 0.9
    assert float(esp.mean()) >= float(low.mean())


def test_estimated_maps_give_a_working_operator():
    S, x, mask, k = _scan()
    A = MultiCoilFourier((64, 64), mask, coils.espirit(k, mask=mask))
    assert A.check_adjoint(torch.float64).passed


@pytest.mark.parametrize("call, message", [
    (lambda k, m: coils.espirit(k.real, mask=m), "complex centred k-space"),
    (lambda k, m: coils.espirit(k * float("nan"), mask=m), "NaN"),
    (lambda k, m: coils.espirit(k, mask=m, kernel=12), "larger than the calibration"),
    (lambda k, m: coils.espirit(k, region=(0, 4)), "no fully sampled region"),
    (lambda k, m: coils.espirit(k), "calibration region"),
    (lambda k, m: coils.espirit(k * 0, mask=m), "all zero"),
    (lambda k, m: coils.lowres(k, region=(100, 4)), "does not fit"),
])
def test_bad_input(call, message):
    _, _, mask, k = _scan((64, 64), 4)
    with pytest.raises(StableReconError, match=message):
        call(k, mask)


def test_calibration_region_of_a_2d_pattern():
    mask = np.zeros((64, 64), bool)
    mask[32 - 6:32 + 6, 32 - 5:32 + 5] = True
    assert coils.calibration_region(mask) == (12, 10)
