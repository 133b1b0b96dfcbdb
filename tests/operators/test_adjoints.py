"""Every operator passes its adjoint test: real and complex, odd and even sizes, batched."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import stablerecon as sr

SETTINGS = settings(max_examples=15, deadline=None)
sizes = st.integers(min_value=3, max_value=24)
dtypes = st.sampled_from([torch.float32, torch.float64, torch.complex64, torch.complex128])
batches = st.integers(min_value=1, max_value=3)


def _tol(dtype):
    return 1e-12 if dtype in (torch.float64, torch.complex128) else 1e-5


@SETTINGS
@given(h=sizes, w=sizes, dtype=dtypes, batch=batches, seed=st.integers(0, 100))
def test_subsampled_fourier(h, w, dtype, batch, seed):
    mask = sr.operators.sampling.uniform((h, w), 0.4, seed=seed)
    A = sr.operators.SubsampledFourier((h, w), mask)
    assert A.check_adjoint(dtype, batch=batch, seed=seed).error <= _tol(dtype)


@SETTINGS
@given(n=sizes, dtype=dtypes, batch=batches, angles=st.integers(1, 12))
def test_radon(n, dtype, batch, angles):
    A = sr.operators.Radon((n, n), angles)
    assert A.check_adjoint(dtype, batch=batch).error <= _tol(dtype)


@SETTINGS
@given(h=sizes, w=sizes, dtype=dtypes, batch=batches)
def test_gradient(h, w, dtype, batch):
    assert sr.operators.Gradient((h, w)).check_adjoint(dtype, batch=batch).error <= _tol(dtype)


@SETTINGS
@given(m=st.integers(1, 12), n=st.integers(1, 12), dtype=dtypes, batch=batches,
       cplx=st.booleans())
def test_matrix(m, n, dtype, batch, cplx):
    M = torch.randn(m, n, dtype=torch.complex128 if cplx else torch.float64)
    assert sr.operators.Matrix(M).check_adjoint(dtype, batch=batch).error <= _tol(dtype)


@SETTINGS
@given(k=st.integers(2, 5), j=st.integers(2, 5), levels=st.integers(1, 2), dtype=dtypes,
       batch=batches, wavelet=st.sampled_from(["haar", "db2", "db4", "db8"]))
def test_wavelet(k, j, levels, dtype, batch, wavelet):
    shape = (k * 2**levels, j * 2**levels)
    W = sr.operators.Wavelet(shape, wavelet, levels=levels)
    assert W.check_adjoint(dtype, batch=batch).error <= _tol(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex128])
def test_identity_and_dct(dtype):
    sr.operators.Identity((5, 7)).check_adjoint(dtype)
    sr.operators.dct_rows(16, 5).check_adjoint(dtype)
