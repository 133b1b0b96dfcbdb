"""Fuzzing: arbitrary bytes in image files, arbitrary arguments to operator constructors.
Each either works or raises StableReconError, never another exception."""

import math

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stablerecon as sr
from stablerecon.errors import StableReconError

SUFFIXES = [".png", ".tif", ".jpg", ".npy", ".dcm", ".nii", ".nii.gz", ".h5"]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_readers_on_arbitrary_bytes(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    try:
        image = sr.data.read_image(path)
    except StableReconError:
        return
    assert image.x.ndim == 2 and torch.isfinite(image.x.abs()).all()


@FUZZ
@given(arr=st.one_of(
    st.builds(np.zeros, st.tuples(st.integers(0, 3), st.integers(0, 3))),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=9).map(np.array),
    st.lists(st.lists(st.floats(-1e300, 1e300), min_size=2, max_size=2), min_size=1,
             max_size=4).map(np.array),
    st.lists(st.text(max_size=3), max_size=4).map(np.array)))
def test_npy_reader_on_arbitrary_arrays(tmp_path, arr):
    np.save(tmp_path / "a.npy", arr)
    try:
        image = sr.data.read_image(tmp_path / "a.npy")
    except StableReconError:
        return
    assert image.x.ndim == 2 and torch.isfinite(image.x.abs()).all()


sides = st.integers(-2, 40) | st.sampled_from([10**6, 0])
rates = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 0.3, 1.0])


@FUZZ
@given(h=sides, w=sides, rate=rates, pattern=st.sampled_from(
    ["uniform", "variable_density", "multilevel", "radial_lines", "cartesian_lines", "x"]))
def test_sampling_and_fourier_construction(h, w, rate, pattern):
    try:
        mask = sr.operators.sampling.make_mask(pattern, (h, w), rate, 0)
        A = sr.operators.SubsampledFourier((h, w), mask)
    except StableReconError:
        return
    assert A.in_shape == (h, w) and 0 < A.rate <= 1


@FUZZ
@given(n=sides, angles=st.integers(-3, 40) | st.lists(
    st.floats(allow_nan=True, allow_infinity=True), max_size=5))
def test_radon_construction(n, angles):
    try:
        A = sr.operators.Radon((n, n), angles if isinstance(angles, int) else np.array(angles))
    except StableReconError:
        return
    assert A.in_shape == (n, n)


@FUZZ
@given(h=sides, w=sides, name=st.sampled_from(["haar", "db2", "db4", "db8", "sym4", "x"]),
       levels=st.integers(-1, 8))
def test_wavelet_construction(h, w, name, levels):
    try:
        W = sr.operators.Wavelet((h, w), name, levels=levels)
    except StableReconError:
        return
    x = torch.ones(h, w, dtype=torch.float64)
    assert math.isclose(float(W.H(W(x)).sub(x).abs().max()), 0.0, abs_tol=1e-10)
