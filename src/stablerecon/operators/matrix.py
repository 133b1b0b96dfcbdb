"""Dense matrices and the identity: compressed sensing of vectors, and denoising."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft
import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, complex_dtype


class Matrix(LinearOperator):
    """A dense matrix M ∈ C^{m×N} acting on vectors: ``y = M x``, ``A* y = M^H y``.

    Shapes: x ``(*batch, N)``, y ``(*batch, m)``. Real or complex; the input is promoted
    to the matrix dtype's precision (and to complex when M is complex).

    Parameters
    ----------
    matrix : torch.Tensor or numpy.ndarray
        The m×N matrix M.

    Examples
    --------
    >>> import torch
    >>> A = Matrix(torch.eye(3)[:2])
    >>> A(torch.tensor([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0]
    """

    def __init__(self, matrix: torch.Tensor | np.ndarray):
        m = torch.as_tensor(matrix)
        if m.ndim != 2:
            raise StableReconError(f"Matrix needs a 2-D array, got shape {tuple(m.shape)}.")
        if not (m.is_floating_point() or m.is_complex()):
            m = m.to(torch.float64)
        if not torch.isfinite(m).all():
            raise StableReconError("Matrix contains NaN or Inf entries.")
        super().__init__((m.shape[1],), (m.shape[0],))
        self.register_buffer("matrix", m)
        self.complex_output = m.is_complex()

    def _cast(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Work in the caller's precision, complex when either side is complex."""
        dtype = self.input_dtype(x.dtype)
        return x.to(dtype), self.matrix.to(dtype)

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return complex_dtype(dtype) if self.matrix.is_complex() else dtype

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x, m = self._cast(x)
        return x @ m.T

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        y, m = self._cast(y)
        return y @ m.conj()

    def norm(self, *args, **kwargs) -> float:
        """Exact spectral norm from the SVD (matrices here are small).

        Returns
        -------
        float
            ||M||₂.
        """
        return float(torch.linalg.matrix_norm(self.matrix.to(torch.complex128), ord=2))


def gaussian(m: int, n: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> Matrix:
    """Gaussian matrix with i.i.d. N(0, 1/m) entries (columns of unit norm on average).

    Parameters
    ----------
    m, n : int
        Rows (measurements) and columns (unknowns).
    seed : int
        Seed of the draw (on the CPU, so the same matrix everywhere).
    dtype : torch.dtype
        The matrix's dtype.

    Returns
    -------
    Matrix
        The operator.
    """
    if not (isinstance(m, int) and isinstance(n, int) and m >= 1 and n >= 1):
        raise StableReconError(f"gaussian(m, n) needs integers m, n ≥ 1, got m={m!r}, n={n!r}.")
    if m * n > 10**9:
        raise StableReconError(f"gaussian({m}, {n}) would hold {m * n:.1e} entries; use an "
                               "implicit operator (Fourier, Radon) at this size.")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return Matrix(torch.randn(m, n, generator=gen, dtype=dtype, device="cpu") / np.sqrt(m))


def dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix C (``C @ x == scipy.fft.dct(x, norm="ortho")``)."""
    return scipy.fft.dct(np.eye(n), norm="ortho", axis=0)


def dct_rows(n: int, rows: Sequence[int] | int, seed: int = 0) -> Matrix:
    """Rows of the orthonormal N×N DCT-II matrix (subsampled cosine measurements).

    Parameters
    ----------
    n : int
        N, the signal length.
    rows : int or sequence of int
        Row indices, or a count (then that many distinct rows are drawn uniformly at
        random with ``seed``).
    seed : int
        Seed of the row draw.

    Returns
    -------
    Matrix
        The float64 operator.
    """
    if isinstance(rows, int):
        if not 1 <= rows <= n:
            raise StableReconError(f"dct_rows: need 1 <= rows <= N={n}, got {rows}.")
        rows = np.sort(np.random.default_rng(seed).choice(n, size=rows, replace=False))
    return Matrix(torch.as_tensor(dct_matrix(n)[np.asarray(rows)], device="cpu"))


class Identity(LinearOperator):
    """The identity on images of a given shape: y = x + e is denoising.

    Parameters
    ----------
    shape : sequence of int
        The image's shape.

    Examples
    --------
    >>> import torch
    >>> Identity((2, 2))(torch.ones(2, 2)).sum().item()
    4.0
    """

    unitary = True

    def __init__(self, shape: Sequence[int]):
        super().__init__(shape, shape)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def norm(self, *args, **kwargs) -> float:
        """Exactly 1: the identity.

        Returns
        -------
        float
            1.0
        """
        return 1.0
