"""Orthogonal, periodized 2-D Daubechies wavelet transform, written in torch.

Written here (not PyWavelets) because the solvers and networks need a transform that is
differentiable, batched, runs on GPU, and is exactly orthogonal: PyWavelets is not
differentiable, and ptwt has no orthogonal periodized mode.

Speed: one level along one axis is a banded periodic matrix. It is applied as block matrix
products (GEMMs) that read overlapping windows of the periodically extended signal in place
(strided views, no window copies); coarse levels use their dense matrix. Each level runs as
two passes: the first transforms the last axis and writes its result transposed, so the
second pass also reads rows; no pass copies data with a transpose (torch's transposing copy
measured 7x slower than a plain one). ``benchmarks/wavelet.py`` measures this against
PyWavelets and against the forms it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pywt
import torch

from stablerecon import validate
from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator, real_dtype

SUPPORTED = ("haar",) + tuple(f"db{k}" for k in range(1, 21)) + tuple(
    f"sym{k}" for k in range(2, 21)
)

#: outputs per block of the banded products (8 measured fastest of 4/8/16/32 at 256², CPU:
#: fewer multiplications by zero than 16, and BLAS still runs these products near peak)
BLOCK = 8
#: levels whose side is at most this use their dense matrix (fewer, larger GEMMs win there)
DENSE_MAX = 64
#: the same threshold on GPUs, where a kernel launch costs more than the extra arithmetic of
#: a dense product (each banded product needs copies around it; the dense one needs none)
DENSE_MAX_GPU = 512
#: on the CPU a batch is transformed in chunks of about this many bytes, so that each
#: chunk's passes stay in cache (2 MiB measured fastest of 0.5-4 MiB at 256², float32 and
#: float64; batch-8 complex128 1.4x faster than one pass over the whole batch)
CHUNK_BYTES = 2**21


def _extend(src: torch.Tensor, start: int, rows: int, tail: int) -> torch.Tensor:
    """The periodic extension of ``src`` (..., n) along its last axis, in a new flat buffer:
    viewed as (..., rows), it holds ``src[..., (start + r) mod n]`` at row ``r``, and
    ``tail`` zeros follow, so that windows may run past the last item (their products are
    dropped). Written piece by piece with slices (a gather along the last axis measured
    5x slower)."""
    n = src.shape[-1]
    count = src[..., 0].numel() * rows
    flat = src.new_empty(count + tail)
    dst = flat[:count].view(*src.shape[:-1], rows)
    i, j = 0, start % n
    while i < rows:
        take = min(n - j, rows - i)
        dst[..., i:i + take] = src[..., j:j + take]
        i, j = i + take, 0
    if tail:
        flat[count:].zero_()
    return flat


def _products(mats: tuple[torch.Tensor, ...], flat: torch.Tensor, shape: tuple[int, ...],
              strides: tuple[int, ...], plane: int) -> torch.Tensor:
    """``sum_p mats[p] @ window_p.T`` over the planes ``p`` of ``flat`` (``plane`` elements
    apart), each plane's windows an overlapping strided view of ``shape`` and ``strides``:
    batched products that read the windows in place."""
    out = None
    for p, mat in enumerate(mats):
        windows = flat.as_strided(shape, strides, p * plane).mT
        out = mat @ windows if out is None else out.baddbmm_(
            mat.expand(shape[0], *mat.shape), windows)
    return out


class _Level:
    """One level of the 1-D transform along one axis of length ``n`` (periodic).

    Analysis: ``lo[k] = sum_j h[j] x[(2k + j + s) mod n]``, ``hi[k]`` likewise with ``g``,
    ``s = 1 - L/2``; synthesis is the transpose. For long axes, output block ``b`` (``m/2``
    low and ``m/2`` high coefficients) is ``K @ x[b m + s : b m + s + m + L - 2]`` and input
    block ``b`` is ``S_lo @ lo[window] + S_hi @ hi[window]``; short axes use the dense matrix.
    """

    def __init__(self, n: int, lo: np.ndarray, hi: np.ndarray):
        length = len(lo)
        self.n, self.m, self.shift = n, BLOCK, 1 - length // 2
        self.lo, self.hi = lo, hi
        self.dense_max = (DENSE_MAX, DENSE_MAX_GPU)  # (CPU, other devices), read once here
        m, half = BLOCK, n // 2
        self.win = m + length - 2
        # low-pass window of the synthesis: coefficients k_rel in [kmin, kmax] touch block 0
        self.kmin = -(length // 4)
        kmax = (m - 1 - self.shift) // 2
        self.swin = kmax - self.kmin + 1
        self.banded = not (n % m or n < self.win or half < self.swin)
        if not self.banded:
            return
        k = np.zeros((m, self.win))
        rows = np.arange(m // 2)[:, None]
        cols = 2 * rows + np.arange(length)
        k[rows, cols], k[m // 2 + rows, cols] = lo, hi
        # synthesis: x[i'] += lo[k_rel] h[j] with i' = 2 k_rel + j + s
        s_lo, s_hi = np.zeros((m, self.swin)), np.zeros((m, self.swin))
        for i in range(m):
            j = i - 2 * np.arange(self.kmin, kmax + 1) - self.shift
            ok = (j >= 0) & (j < length)
            s_lo[i, ok], s_hi[i, ok] = lo[j[ok]], hi[j[ok]]
        self.block_mats = (k, s_lo, s_hi)

    def dense_on(self, device: torch.device) -> bool:
        """Whether this level runs as one dense product on ``device`` (else banded blocks)."""
        return not self.banded or self.n <= self.dense_max[device.type != "cpu"]

    def tensors(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
        """The level's matrices for ``device``: ``(dense,)`` or ``(analysis, synthesis)``
        blocks."""
        if self.dense_on(device):
            n, half = self.n, self.n // 2
            cols = (2 * np.arange(half)[:, None] + np.arange(len(self.lo)) + self.shift) % n
            a = np.zeros((n, n))
            np.add.at(a, (np.arange(half)[:, None], cols), self.lo)
            np.add.at(a, (half + np.arange(half)[:, None], cols), self.hi)
            mats = (a,)
        else:
            mats = self.block_mats
        return tuple(torch.tensor(a, dtype=dtype, device=device) for a in mats)

    def layout(self, mats: tuple[torch.Tensor, ...]) -> tuple[int, int]:
        """(blocks, block length) of the analysis' output order along this axis: banded
        products give each block's low then high halves, ``[lo_b | hi_b]`` per block; the
        dense product is one block, ``[lo | hi]``."""
        return (1, self.n) if len(mats) == 1 else (self.n // self.m, self.m)

    def _band(self, mats: tuple[torch.Tensor, ...], inverse: bool
              ) -> tuple[tuple[torch.Tensor, ...], int, int, int, int]:
        """(matrices, start, rows, window, step) of the banded products. The analysis reads
        one plane, the signal; the synthesis two, the low and high halves, each with its
        own matrix. Each plane is extended periodically from ``start`` to ``rows`` rows;
        block ``b`` reads ``window`` rows from row ``b * step``."""
        if inverse:
            step = self.m // 2
            return mats[1:], self.kmin, self.n // 2 - step + self.swin, self.swin, step
        return mats[:1], self.shift, self.n + len(self.lo) - 2, self.win, self.m

    def first(self, x: torch.Tensor, mats: tuple[torch.Tensor, ...], inverse: bool
              ) -> torch.Tensor:
        """The analysis (or, with ``inverse``, synthesis) along the last axis of ``x``
        (..., n), returned transposed as a contiguous (n, rows of x) matrix.

        Each block's product ``M @ window.T`` reads its windows of the extension in place
        (overlapping strided views) and writes one contiguous (block length, rows) slab:
        the shape BLAS runs fastest here, and the layout :meth:`second` reads without a
        transposing copy.
        """
        if len(mats) == 1:
            a = mats[0].mT if inverse else mats[0]
            return a @ x.reshape(-1, self.n).mT
        mats, start, rows, width, step = self._band(mats, inverse)
        planes = len(mats)
        flat = _extend(x.unflatten(-1, (planes, -1)), start, rows, 0)
        count = flat.numel() // (rows * planes)
        y = _products(mats, flat, (self.n // self.m, count, width),
                      (step, rows * planes, 1), rows)
        return y.view(self.n, count)

    def second(self, t: torch.Tensor, lead: torch.Size, mats: tuple[torch.Tensor, ...],
               inverse: bool) -> torch.Tensor:
        """The transform along the other axis, given :meth:`first`'s (w, prod(lead) * n)
        output ``t`` of an image (*lead, n, w): returns (*lead, n, w), a view.

        The items' extensions lie end to end in one buffer, padded to whole blocks, so one
        stride steps through every block of every item: one batched product (the windows
        that straddle two items are computed and dropped).
        """
        w, items = t.shape[0], t.shape[1] // self.n
        if len(mats) == 1:
            a = mats[0].mT if inverse else mats[0]
            return (a @ t.view(w, items, self.n).permute(1, 2, 0)).view(*lead, self.n, w)
        mats, start, rows, width, step = self._band(mats, inverse)
        planes = len(mats)
        per = -(-rows // step) * step  # whole blocks: the rows past ``rows`` are junk
        # (w, planes, items, n / planes): each plane's items end to end
        src = t.view(w, items, planes, -1).transpose(1, 2)
        flat = _extend(src, start, per, max(width - step, 0))
        plane = items * per
        y = _products(mats, flat, (plane // step, w, width), (step, planes * plane, 1), plane)
        y = y.view(items, per // step, self.m, w)[:, : self.n // self.m]
        return y.reshape(*lead, self.n, w)


def _deinterleave(dst: torch.Tensor, z: torch.Tensor, rows: tuple[int, int],
                  cols: tuple[int, int]) -> None:
    """Write ``z`` (..., h, w), whose axes are in block order ``[lo_b | hi_b]`` with
    (blocks, block length) ``rows`` and ``cols``, into ``dst`` in ``[lo | hi]`` order."""
    (bh, mh), (bw, mw) = rows, cols
    src = z.unflatten(-1, (bw, 2, mw // 2)).unflatten(-4, (bh, 2, mh // 2))
    dst.unflatten(-1, (2, bw, mw // 2)).unflatten(-4, (2, bh, mh // 2)).copy_(
        src.transpose(-6, -5).transpose(-3, -2))


class _Transform(torch.autograd.Function):
    """The multilevel transform (or its inverse) with the exact adjoint as its backward.

    W is a real orthogonal matrix, so the vector-Jacobian product of ``x -> W x`` is
    ``W^T g = W^{-1} g``: one more transform, instead of autograd tracing every window.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, op: Wavelet, inverse: bool) -> torch.Tensor:
        ctx.op, ctx.inverse = op, inverse
        apply = op._inverse if inverse else op._decompose
        if x.ndim < 3 or x.device.type != "cpu":  # GPUs want the whole batch at once
            return apply(x)
        per_item = x[..., 0, :, :].numel() * x.element_size()  # one step along axis -3
        chunk = max(1, CHUNK_BYTES // per_item)
        if x.shape[-3] <= chunk:
            return apply(x)
        out = torch.empty_like(x)
        for start in range(0, x.shape[-3], chunk):
            out[..., start:start + chunk, :, :] = apply(x[..., start:start + chunk, :, :])
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _Transform.apply(grad, ctx.op, not ctx.inverse), None, None


class Wavelet(LinearOperator):
    r"""Multilevel orthogonal 2-D discrete wavelet transform with periodic boundaries.

    One level filters both axes with the orthonormal scaling filter ``h`` and the wavelet
    filter ``g`` (periodic correlation, then keep every other sample):

    .. math:: a[k] = \sum_j h[j]\, x[(2k + j + 1 - L/2) \bmod N], \quad
              d[k] = \sum_j g[j]\, x[(2k + j + 1 - L/2) \bmod N],

    with ``L`` the filter length. This matches ``pywt.wavedec2(..., mode="periodization")``
    coefficient by coefficient. Because ``{h, g}`` is an orthonormal filter bank, the map
    is unitary: ``W* W = W W* = I`` and ``||W x|| = ||x||``.

    The coefficients are returned as one array of the image's shape, coarsest
    approximation in the top-left corner (the ``pywt.coeffs_to_array`` layout): at each
    level with current approximation size (h, w), the detail that is high-pass along the
    width sits in ``[:h/2, w/2:w]``, high-pass along the height in ``[h/2:h, :w/2]`` and
    both in ``[h/2:h, w/2:w]``.

    Parameters
    ----------
    shape : (H, W)
        Image size; H and W must be divisible by ``2**levels`` (periodization halves
        each axis per level; odd sizes cannot be orthogonal).
    wavelet : str
        ``"haar"``, ``"dbK"`` (K = 1..20) or ``"symK"`` (filters taken from PyWavelets).
    levels : int
        Number of decomposition levels.

    Examples
    --------
    >>> import torch
    >>> W = Wavelet((16, 16), "db2", levels=2)
    >>> x = torch.randn(3, 16, 16, dtype=torch.float64)
    >>> bool(torch.allclose(W.H(W(x)), x)), bool(torch.isclose(W(x).norm(), x.norm()))
    (True, True)
    """

    unitary = True

    def __init__(self, shape: Sequence[int], wavelet: str = "db4", levels: int = 4):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise StableReconError(f"Wavelet needs a 2-D shape (H, W), got {shape}.")
        if wavelet not in SUPPORTED:
            raise StableReconError(
                f"Wavelet: unknown wavelet {wavelet!r}; use 'haar', 'db1'..'db20' or "
                "'sym2'..'sym20'."
            )
        validate.number("Wavelet levels", levels, low=1, low_closed=True, integer=True)
        step = 2**levels
        if shape[0] % step or shape[1] % step:
            raise StableReconError(
                f"Wavelet: image shape {shape} is not divisible by 2**levels = {step}; "
                "crop or pad the image, or use fewer levels."
            )
        super().__init__(shape, shape)
        self.wavelet, self.levels = wavelet, levels
        w = pywt.Wavelet(wavelet)
        lo, hi = np.asarray(w.rec_lo, dtype=np.float64), np.asarray(w.rec_hi, dtype=np.float64)
        # the filters as a buffer: .to(device) moves it, and it tells the device to build on
        self.register_buffer("bank", torch.tensor(np.stack([lo, hi]), dtype=torch.float64))
        self._axes = [tuple(_Level(n >> k, lo, hi) for n in shape) for k in range(levels)]
        self._mats: dict[tuple[torch.dtype, torch.device], list] = {}

    def norm(self, *args, **kwargs) -> float:
        """Exactly 1: the transform is unitary.

        Returns
        -------
        float
            1.0
        """
        return 1.0

    def _matrices(self, dtype: torch.dtype) -> list:
        """Per level, the (H-axis, W-axis) block matrices in ``dtype`` on the module's device,
        built from the float64 filters once per (dtype, device)."""
        key = (dtype, self.bank.device)
        if key not in self._mats:
            self._mats[key] = [tuple(a.tensors(dtype, self.bank.device) for a in level)
                               for level in self._axes]
        return self._mats[key]

    def _decompose(self, x: torch.Tensor) -> torch.Tensor:
        """(*batch, H, W) real -> coefficients in the ``coeffs_to_array`` layout."""
        out = torch.empty_like(x)
        approx = x
        mats = self._matrices(x.dtype)
        for (ah, aw), (mh, mw) in zip(self._axes, mats):
            h, w = approx.shape[-2:]
            if len(mh) == len(mw) == 1:  # both dense: A_h X A_w^T, already in [lo | hi] order
                out[..., :h, :w] = mh[0] @ approx @ mw[0].mT
            else:
                z = ah.second(aw.first(approx, mw, False), approx.shape[:-2], mh, False)
                _deinterleave(out[..., :h, :w], z, ah.layout(mh), aw.layout(mw))
            approx = out[..., : h // 2, : w // 2]
        return out

    def _inverse(self, c: torch.Tensor) -> torch.Tensor:
        """Coefficients (*batch, H, W) real -> image: the transpose of :meth:`_decompose`.

        Works in place on one copy of ``c``: each level's image replaces that level's
        coefficients, and is the approximation of the next finer level."""
        mats = self._matrices(c.dtype)
        work = c.clone()
        for k in reversed(range(self.levels)):
            h, w = self.in_shape[0] >> k, self.in_shape[1] >> k
            (ah, aw), (mh, mw) = self._axes[k], mats[k]
            level = work[..., :h, :w]
            if len(mh) == len(mw) == 1:
                level.copy_(mh[0].mT @ level @ mw[0])
            else:
                level.copy_(ah.second(aw.first(level, mw, True), level.shape[:-2], mh, True))
        return work

    def _transform(self, x: torch.Tensor, inverse: bool) -> torch.Tensor:
        if not x.is_complex() and x.dtype not in (torch.float32, torch.float64):
            x = x.to(real_dtype(torch.get_default_dtype()))

        if not x.is_complex():
            return _Transform.apply(x, self, inverse)
        # real and imaginary parts as two contiguous planes: the passes then read and write
        # whole rows (in the interleaved complex layout every access is strided, and
        # measured 2-4x slower than these two copies)
        out = _Transform.apply(torch.view_as_real(x).movedim(-1, 0).contiguous(), self,
                               inverse)
        return torch.complex(out[0], out[1])

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._transform(x, inverse=False)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self._transform(y, inverse=True)

    # -- helpers for level-wise weights ---------------------------------------------------
    def level_map(self) -> torch.Tensor:
        """The level of each coefficient, for weighted l1 norms.

        Returns
        -------
        torch.Tensor
            Integer (H, W) map on the transform's device: 0 for the coarse approximation,
            j = 1..levels for the details of level j counted from coarse (1) to fine (levels).
        """
        h, w = self.in_shape
        out = torch.full((h, w), self.levels, dtype=torch.long, device=self.bank.device)
        for j in range(self.levels - 1, 0, -1):
            out[: h >> (self.levels - j), : w >> (self.levels - j)] = j
        out[: h >> self.levels, : w >> self.levels] = 0
        return out

    def extra_repr(self) -> str:
        return f"shape={self.in_shape}, wavelet={self.wavelet!r}, levels={self.levels}"


def pywt_array(x: np.ndarray, wavelet: str, levels: int) -> np.ndarray:
    """Reference coefficients from PyWavelets in the same layout (for tests/benchmarks)."""
    coeffs = pywt.wavedec2(x, wavelet, mode="periodization", level=levels, axes=(-2, -1))
    arr, _ = pywt.coeffs_to_array(coeffs, axes=(-2, -1))
    return arr
