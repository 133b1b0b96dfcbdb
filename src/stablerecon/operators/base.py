"""The linear-operator protocol that every forward map A and every transform W follows.

A :class:`LinearOperator` maps tensors of shape ``(*batch, *in_shape)`` to
``(*batch, *out_shape)``. It knows its adjoint (``A.H``), composes (``A @ B``), scales
(``2.0 * A``), stacks (``stack([A, W])``), estimates its norm by power iteration and checks
its own adjoint numerically. Operators are ``torch.nn.Module`` objects, so ``.to(device)``
moves their buffers, and every map is differentiable with respect to its input.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from stablerecon.devices import module_device, same_device
from stablerecon.errors import StableReconError

Shape = tuple[int, ...]


#: the largest image side the operators accept (a 16384² complex128 image is 4 GiB already)
MAX_SIDE = 16384


def check_size(shape: Sequence[int], what: str) -> None:
    """Refuse an absurd image size at once, before anything is allocated."""
    if any(int(s) > MAX_SIDE for s in shape):
        raise StableReconError(f"{what}: shape {tuple(int(s) for s in shape)} is too large "
                               f"(each side ≤ {MAX_SIDE}); downsample or crop the image.")


def _as_shape(shape: Sequence[int] | int) -> Shape:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """The real dtype of the same precision: complex64 -> float32, complex128 -> float64."""
    return torch.empty((), dtype=dtype).real.dtype if dtype.is_complex else dtype


def complex_dtype(dtype: torch.dtype) -> torch.dtype:
    """The complex dtype of the same precision: float32 -> complex64, float64 -> complex128."""
    if dtype.is_complex:
        return dtype
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def on_real_parts(fn, x: torch.Tensor) -> torch.Tensor:
    """Apply a real-linear map ``fn`` to a complex tensor as fn(Re x) + i fn(Im x), with the
    two parts batched in one call along a new leading axis; real tensors pass straight."""
    if not x.is_complex():
        return fn(x)
    out = fn(torch.view_as_real(x).movedim(-1, 0))
    return torch.view_as_complex(out.movedim(0, -1).contiguous())


def _real_view(x: torch.Tensor, ndim: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """x as real numbers, with the axes that hold its last ``ndim`` axes: complex tensors as
    their (re, im) view (torch's complex reductions measured 2-40x slower at 256²)."""
    if x.is_complex():
        return torch.view_as_real(x.resolve_conj()), tuple(range(-ndim - 1, 0))
    return x, tuple(range(-ndim, 0))


def inner(a: torch.Tensor, b: torch.Tensor, ndim: int) -> torch.Tensor:
    """Real part of <a, b> = sum(conj(a) * b) over the last ``ndim`` axes (batched): for
    complex a and b, the real dot product of their (re, im) views."""
    if a.is_complex() and b.is_complex():
        ra, dims = _real_view(a, ndim)
        return (ra * _real_view(b, ndim)[0]).sum(dim=dims)
    prod = torch.conj(a) * b if a.is_complex() or b.is_complex() else a * b
    dims = tuple(range(-ndim, 0))
    return prod.sum(dim=dims).real if prod.is_complex() else prod.sum(dim=dims)


def sample_norm(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """l2 norm over the last ``ndim`` axes, one value per batch element."""
    real, dims = _real_view(x, ndim)
    return torch.linalg.vector_norm(real, dim=dims)


@dataclass(frozen=True)
class AdjointCheck:
    """Result of :meth:`LinearOperator.check_adjoint`.

    Attributes
    ----------
    error : float
        Max over the batch of |<Ax, y> - <x, A*y>| / (||Ax|| ||y||).
    tol : float
        The check passes when ``error <= tol``.
    dtype : str
        The dtype the check ran in.
    """

    error: float
    tol: float
    dtype: str

    @property
    def passed(self) -> bool:
        """Whether the measured mismatch is within ``tol``."""
        return self.error <= self.tol


class LinearOperator(torch.nn.Module):
    """A linear map A from ``in_shape`` to ``out_shape``, batched over leading axes.

    Subclasses implement :meth:`_forward` and :meth:`_adjoint` on tensors whose trailing
    axes are exactly ``in_shape`` / ``out_shape``; this class validates shapes, dtypes and
    NaNs at the entry point and provides the algebra.

    Parameters
    ----------
    in_shape, out_shape : int or sequence of int
        The trailing axes of an input and of an output.

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> A = sr.operators.Identity((4, 4))
    >>> B = 2.0 * A @ A
    >>> B(torch.ones(4, 4)).sum().item()
    32.0
    >>> B.H(torch.ones(4, 4)).shape
    torch.Size([4, 4])
    """

    #: whether the operator maps real input to complex output (e.g. Fourier sampling)
    complex_output: bool = False
    #: whether A* A = A A* = I (the solvers' duality-gap certificate relies on it for W)
    unitary: bool = False
    #: buffers computed from the others (a Radon's sparse matrix from its angles): left out
    #: of :meth:`fingerprint`, which they cannot change
    derived_buffers: tuple[str, ...] = ()

    def __init__(self, in_shape: Sequence[int] | int, out_shape: Sequence[int] | int):
        super().__init__()
        self.in_shape: Shape = _as_shape(in_shape)
        self.out_shape: Shape = _as_shape(out_shape)
        if min(self.in_shape + self.out_shape, default=0) < 1:
            raise StableReconError(f"{type(self).__name__}: shapes must be positive, got input "
                                   f"{self.in_shape} and output {self.out_shape}.")
        check_size(self.in_shape, type(self).__name__)
        self._norm_cache: dict[str, float] = {}

    # -- to be implemented -------------------------------------------------------------
    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public API ----------------------------------------------------------------------
    def forward(self, x: torch.Tensor, check: bool = True) -> torch.Tensor:
        """Apply A (also ``A(x)``).

        Parameters
        ----------
        x : torch.Tensor
            Shape ``(*batch, *in_shape)``, floating point or complex, finite.
        check : bool
            Check the input (type, shape, device, finiteness) first. Iterative solvers pass
            False inside their loops, where every input came from the operators themselves:
            the finiteness check reads a value back from the device, and on a GPU that
            stalls the queue at every call.

        Returns
        -------
        torch.Tensor
            A x, shape ``(*batch, *out_shape)``.
        """
        if check:
            check_input(self, x, self.in_shape, "forward (A x)")
        return self._forward(x)

    def adjoint(self, y: torch.Tensor, check: bool = True) -> torch.Tensor:
        """Apply the adjoint A* (also ``A.H(y)``).

        Parameters
        ----------
        y : torch.Tensor
            Shape ``(*batch, *out_shape)``.
        check : bool
            Check the input first (see :meth:`forward`).

        Returns
        -------
        torch.Tensor
            A* y, shape ``(*batch, *in_shape)``.
        """
        if check:
            check_input(self, y, self.out_shape, "adjoint (A* y)")
        return self._adjoint(y)

    @property
    def H(self) -> LinearOperator:
        """The adjoint operator A* (made once, then reused: unrolled networks and audits
        ask for it at every step)."""
        adjoint = self.__dict__.get("_adjoint_operator")
        if adjoint is None:
            adjoint = Adjoint(self)
            # kept outside nn.Module's registry: A and A.H owning each other as submodules
            # would make .to(), .modules() and state_dict() recurse
            self.__dict__["_adjoint_operator"] = adjoint
        return adjoint

    def __matmul__(self, other: LinearOperator) -> LinearOperator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return Composed(self, other)

    def __rmul__(self, scalar: float | complex) -> LinearOperator:
        if not isinstance(scalar, (int, float, complex)):
            return NotImplemented
        return Scaled(self, scalar)

    __mul__ = __rmul__

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        """The normal operator applied to x.

        Parameters
        ----------
        x : torch.Tensor
            Shape ``(*batch, *in_shape)``.

        Returns
        -------
        torch.Tensor
            A*A x.
        """
        return self.adjoint(self.forward(x))

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        """The dtype a vector of the input space should have.

        Parameters
        ----------
        dtype : torch.dtype
            The precision wanted.

        Returns
        -------
        torch.dtype
            That precision, complex where the operator needs complex input.
        """
        return dtype

    def output_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        """The dtype of A x for an input of ``dtype``.

        Parameters
        ----------
        dtype : torch.dtype
            The input's dtype.

        Returns
        -------
        torch.dtype
            The output's dtype.
        """
        return complex_dtype(dtype) if self.complex_output else dtype

    def norm(
        self,
        max_iter: int = 200,
        tol: float = 1e-6,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ) -> float:
        """Operator norm ||A|| (largest singular value) by power iteration on A*A.

        The estimate converges from below; solvers multiply it by a small safety factor where
        they need an upper bound. The result is cached per argument set. Operators whose norm
        is known exactly (unitary transforms, subsampled unitary maps) override this method and
        return the exact value.

        Parameters
        ----------
        max_iter : int
            Power iterations.
        tol : float
            Stop when the estimate changes less than this, relatively.
        seed : int
            Seed of the start vector (drawn on the CPU: the same on every device).
        dtype : torch.dtype
            Precision of the iteration.

        Returns
        -------
        float
            ||A||.
        """
        key = f"{max_iter}-{tol}-{seed}-{dtype}"
        if key in self._norm_cache:
            return self._norm_cache[key]
        x = _random(self.in_shape, self.input_dtype(dtype), seed, _device_of(self))
        x = x / torch.linalg.vector_norm(x)
        est = 0.0
        with torch.no_grad():
            for _ in range(max_iter):
                z = self.normal(x)
                new = math.sqrt(float(torch.linalg.vector_norm(z)))
                if new == 0.0:
                    break
                x = z / torch.linalg.vector_norm(z)
                if abs(new - est) <= tol * new:
                    est = new
                    break
                est = new
        self._norm_cache[key] = est
        return est

    def check_adjoint(
        self,
        dtype: torch.dtype = torch.float32,
        batch: int = 2,
        seed: int = 0,
        tol: float | None = None,
        raise_on_fail: bool = True,
    ) -> AdjointCheck:
        r"""Test :math:`|\langle Ax, y\rangle - \langle x, A^*y\rangle| \le
        \mathrm{tol}\,\|Ax\|\,\|y\|` on random x, y.

        Parameters
        ----------
        dtype : torch.dtype
            Precision of the test.
        batch : int
            Random pairs tested.
        seed : int
            Seed of the draws.
        tol : float, optional
            Allowed mismatch (default 1e-5 in single and 1e-12 in double precision).
        raise_on_fail : bool
            Raise :class:`StableReconError` (naming the mismatch) when the check fails.

        Returns
        -------
        AdjointCheck
            The measured mismatch and the verdict.
        """
        if tol is None:
            tol = 1e-12 if real_dtype(dtype) == torch.float64 else 1e-5
        device = _device_of(self)
        x = _random((batch, *self.in_shape), self.input_dtype(dtype), seed, device)
        y = _random((batch, *self.out_shape), self.output_dtype(dtype), seed + 1, device)
        with torch.no_grad():
            ax = self.forward(x)
            aty = self.adjoint(y)
        lhs = inner(ax, y, len(self.out_shape))
        rhs = inner(x, aty, len(self.in_shape))
        scale = sample_norm(ax, len(self.out_shape)) * sample_norm(y, len(self.out_shape))
        err = float(((lhs - rhs).abs() / scale.clamp_min(torch.finfo(scale.dtype).tiny)).max())
        result = AdjointCheck(error=err, tol=tol, dtype=str(dtype))
        if raise_on_fail and not result.passed:
            raise StableReconError(
                f"{type(self).__name__} fails its adjoint test in {dtype}: relative error "
                f"{err:.2e} > {tol:.0e}. The adjoint does not match the forward map; fix "
                "_adjoint (or pass an operator whose adjoint is exact)."
            )
        return result

    def extra_repr(self) -> str:
        return f"in_shape={self.in_shape}, out_shape={self.out_shape}"

    def fingerprint(self) -> str:
        """A digest of everything that decides what this operator computes: the class of
        every operator in its tree (``c * A``, ``A @ B``, ``stack``), their public scalar
        settings (shapes, scalars, wavelet names) and the values of their buffers (masks,
        angles, coil maps, matrices). Two operators with the same fingerprint give the same
        A x; changing a mask entry, an angle or ``c`` changes it. Resumed audits, sweep cells
        and the Φ cache key on it.

        Returns
        -------
        str
            20 hex digits.
        """
        from stablerecon.io import digest

        tree, tensors = [], []
        for name, op in self.named_modules():
            simple = {k: v for k, v in vars(op).items() if not k.startswith("_")
                      and k != "training" and isinstance(v, (bool, int, float, complex, str,
                                                             tuple))}
            tree.append([name, type(op).__name__, simple])
            skip = getattr(op, "derived_buffers", ())
            tensors += [(f"{name}.{key}", value) for key, value in op._buffers.items()
                        if value is not None and key not in skip]
        return digest(tree, tensors)


def _device_of(op: torch.nn.Module) -> torch.device:
    """Where the operator's buffers are (the CPU for operators without any)."""
    return module_device(op) or torch.device("cpu")


def _random(shape: Shape, dtype: torch.dtype, seed: int, device: torch.device) -> torch.Tensor:
    """Seeded Gaussian test vector, drawn on the CPU (the same vector on every device, so
    norm estimates and adjoint checks agree across devices), then moved to ``device``."""
    from stablerecon.noise import gaussian

    return gaussian(tuple(shape), dtype, torch.Generator(device="cpu").manual_seed(seed)).to(device)


def check_input(op: LinearOperator, x: torch.Tensor, shape: Shape, what: str) -> None:
    """Raise a StableReconError naming the fix unless ``x`` can be given to ``op``.

    Checks, in order: a tensor, floating point or complex, shape ``(*batch, *shape)``, not
    empty, on the operator's device, finite. The last check reads one value back from the
    device; inner loops skip all of them (``check=False``) once their input was checked here.

    Parameters
    ----------
    op : LinearOperator
        The operator (named in the message; its buffers give the device).
    x : torch.Tensor
        The input.
    shape : tuple of int
        The trailing shape expected.
    what : str
        What is applied, for the message (e.g. ``"forward (A x)"``).
    """
    name = type(op).__name__
    if not isinstance(x, torch.Tensor):
        raise StableReconError(
            f"{name}.{what.split()[0]} expects a torch.Tensor, got {type(x).__name__}; "
            "convert with torch.as_tensor(...)."
        )
    if not (x.is_floating_point() or x.is_complex()):
        raise StableReconError(
            f"{name} {what}: dtype {x.dtype} is not floating point or complex; "
            "cast with x.float() (or x.to(torch.complex64))."
        )
    if x.dtype in (torch.float16, torch.bfloat16):
        raise StableReconError(
            f"{name} {what}: dtype {x.dtype} is not supported (float32, float64, complex64, "
            "complex128: the FFTs, wavelets and certificates need them); cast with x.float()."
        )
    n = len(shape)
    if x.ndim < n or tuple(x.shape[x.ndim - n :]) != shape:
        raise StableReconError(
            f"{name} {what}: input has shape {tuple(x.shape)}, expected (*batch, "
            f"{', '.join(map(str, shape))}). Reshape the input or build the operator for "
            "this size."
        )
    if x.numel() == 0:
        raise StableReconError(f"{name} {what}: the input is empty (shape {tuple(x.shape)}); "
                               "pass at least one image.")
    same_device(what, x, op, name)
    # One reduction instead of an elementwise mask: a NaN or Inf anywhere makes the sum
    # non-finite (so does overflow of huge values, which is just as unusable).
    if not x.requires_grad and not cmath.isfinite(x.sum().item()):
        raise StableReconError(
            f"{name} {what}: input contains NaN or Inf (or values so large they overflow); "
            "clean the data (torch.nan_to_num) or rescale it before applying the operator."
        )


class Adjoint(LinearOperator):
    """The adjoint A* of an operator A (``A.H``)."""

    def __init__(self, op: LinearOperator):
        super().__init__(op.out_shape, op.in_shape)
        self.op = op
        self.complex_output = False

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op._adjoint(x)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.op._forward(y)

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return self.op.output_dtype(dtype)

    def output_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return self.op.input_dtype(dtype)

    @property
    def H(self) -> LinearOperator:
        return self.op

    def norm(self, *args, **kwargs) -> float:
        return self.op.norm(*args, **kwargs)


class Composed(LinearOperator):
    """A B: apply B, then A."""

    def __init__(self, a: LinearOperator, b: LinearOperator):
        if a.in_shape != b.out_shape:
            raise StableReconError(
                f"cannot compose {type(a).__name__} (input {a.in_shape}) after "
                f"{type(b).__name__} (output {b.out_shape}): shapes differ."
            )
        super().__init__(b.in_shape, a.out_shape)
        self.a, self.b = a, b
        self.complex_output = a.complex_output or b.complex_output

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a._forward(self.b._forward(x))

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.b._adjoint(self.a._adjoint(y))

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return self.b.input_dtype(dtype)


class Scaled(LinearOperator):
    """c A for a scalar c (the adjoint is conj(c) A*)."""

    def __init__(self, op: LinearOperator, scalar: float | complex):
        super().__init__(op.in_shape, op.out_shape)
        self.op, self.scalar = op, scalar
        self.complex_output = op.complex_output or isinstance(scalar, complex)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scalar * self.op._forward(x)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        s = self.scalar.conjugate() if isinstance(self.scalar, complex) else self.scalar
        return s * self.op._adjoint(y)

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return self.op.input_dtype(dtype)

    def norm(self, *args, **kwargs) -> float:
        return abs(self.scalar) * self.op.norm(*args, **kwargs)


class Stacked(LinearOperator):
    """[A_1; A_2; ...]: each output flattened and concatenated into one vector.

    Used for the saddle-point forms of the solvers, e.g. ``stack([A, W])``. Inputs of the
    parts must agree; the output has shape ``(sum_i prod(out_shape_i),)``.
    """

    def __init__(self, ops: Sequence[LinearOperator]):
        ops = list(ops)
        if not ops:
            raise StableReconError("stack() needs at least one operator.")
        shapes = {op.in_shape for op in ops}
        if len(shapes) != 1:
            raise StableReconError(
                f"stack() needs operators with one input shape, got {sorted(shapes)}."
            )
        self.sizes = [math.prod(op.out_shape) for op in ops]
        super().__init__(ops[0].in_shape, (sum(self.sizes),))
        self.ops = torch.nn.ModuleList(ops)
        self.complex_output = any(op.complex_output for op in ops)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[: x.ndim - len(self.in_shape)]
        outs = [op._forward(x).reshape(*batch, -1) for op in self.ops]
        if any(o.is_complex() for o in outs):
            outs = [o.to(complex_dtype(o.dtype)) for o in outs]
        return torch.cat(outs, dim=-1)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        batch = y.shape[:-1]
        parts = torch.split(y, self.sizes, dim=-1)
        total = None
        for op, part in zip(self.ops, parts):
            term = op._adjoint(part.reshape(*batch, *op.out_shape))
            total = term if total is None else total + term
        return total

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        kinds = [op.input_dtype(dtype) for op in self.ops]
        return next((k for k in kinds if k.is_complex), kinds[0])


class RealInput(LinearOperator):
    r"""A restricted to real images: :math:`x \mapsto Ax` for real x, with adjoint
    :math:`y \mapsto \mathrm{Re}(A^*y)` for the real inner product
    :math:`\langle u, v\rangle = \mathrm{Re}\sum \bar u_i v_i` (since
    :math:`\mathrm{Re}\langle Ax, y\rangle = \langle x, \mathrm{Re}(A^*y)\rangle` for real x).

    Solving with it constrains the unknown to be real. Magnitude images are real, so their
    k-space is conjugate-symmetric; a method that knows this uses the mirrored samples too,
    which a network trained on real images also exploits. ``norm()`` returns A's norm, an
    upper bound (restricting the domain cannot increase it; equal for a Fourier mask that
    samples the zero frequency).

    Parameters
    ----------
    op : LinearOperator
        The operator A to restrict.

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> mask = sr.operators.sampling.uniform((8, 8), rate=0.5, seed=0)
    >>> R = sr.operators.RealInput(sr.operators.SubsampledFourier((8, 8), mask))
    >>> R.H(R(torch.ones(8, 8))).dtype, bool(R.check_adjoint().passed)
    (torch.float32, True)
    """

    #: the unknown is real even when the data are complex (the solvers keep x real)
    real_domain = True

    def __init__(self, op: LinearOperator):
        super().__init__(op.in_shape, op.out_shape)
        self.op = op
        self.complex_output = op.complex_output

    def input_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return real_dtype(dtype)

    def output_dtype(self, dtype: torch.dtype = torch.float32) -> torch.dtype:
        return self.op.output_dtype(dtype)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op._forward(x)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        out = self.op._adjoint(y)
        return out.real if out.is_complex() else out

    def norm(self, *args, **kwargs) -> float:
        """A's norm: an upper bound for the restriction (equal for a Fourier mask that samples
        the zero frequency).

        Parameters
        ----------
        *args, **kwargs
            As in :meth:`LinearOperator.norm`.

        Returns
        -------
        float
            ||A||.
        """
        return self.op.norm(*args, **kwargs)


def stack(ops: Sequence[LinearOperator]) -> Stacked:
    """Vertical stacking [A_1; A_2; ...] of operators with one input shape.

    Parameters
    ----------
    ops : sequence of LinearOperator
        The blocks, all with the same ``in_shape``.

    Returns
    -------
    LinearOperator
        x -> (A_1 x, A_2 x, ...) flattened and concatenated; its adjoint sums the blocks'.
    """
    return Stacked(ops)
