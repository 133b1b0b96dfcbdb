"""Public entry points: ``qcbp``, ``u_lasso``, ``sr_lasso`` and ``standard_method``."""

from __future__ import annotations

import warnings

import torch

from stablerecon import validate
from stablerecon.devices import module_device
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.modality import MODALITIES
from stablerecon.operators.base import LinearOperator, RealInput, real_dtype, sample_norm
from stablerecon.solvers.data_terms import QCBP, SRLasso, ULasso
from stablerecon.solvers.primal_dual import primal_dual
from stablerecon.solvers.problem import Problem
from stablerecon.solvers.proximal_gradient import proximal_gradient
from stablerecon.solvers.result import SolverResult, SolverState

METHODS = ("restarted_pdhg", "pdhg", "fista", "ista")


def solve(problem: Problem, method: str = "restarted_pdhg", **options) -> SolverResult:
    """Solve a :class:`Problem` with one of :data:`METHODS`, to a certified tolerance.

    Parameters
    ----------
    problem : Problem
        The data term, A, y, λ, W and weights.
    method : str
        ``"restarted_pdhg"`` (default), ``"pdhg"``, ``"fista"`` or ``"ista"``.
    **options
        ``tol``, ``max_iter``, ``time_limit``, ``check_every``, ``x0``, ``history`` (all
        methods), ``primal_weight``, ``single_precision_start`` and ``p0`` (PDHG); see
        :func:`qcbp` and :func:`~stablerecon.solvers.primal_dual.primal_dual`.

    Returns
    -------
    SolverResult
        The minimiser, its certificate and the run's status.
    """
    if method not in METHODS:
        raise StableReconError(f"unknown method {method!r}; choose one of {METHODS}.")
    _check_options(options)
    tol = options.get("tol", 1e-6)
    real = real_dtype(problem.y.dtype)
    if tol < 50 * torch.finfo(real).eps:
        warnings.warn(
            f"tol={tol:g} is below what {real} arithmetic can certify "
            f"(~{50 * torch.finfo(real).eps:.0e}); pass float64 data for tighter tolerances.",
            RuntimeWarning,
            stacklevel=3,
        )
    if method in ("fista", "ista"):
        pdhg_only = sorted(set(options) & set(PDHG_OPTIONS))
        if pdhg_only:
            raise StableReconError(f"{pdhg_only} are options of PDHG, not of {method}; drop "
                                   "them or use method='restarted_pdhg'.")
        return proximal_gradient(problem, accelerated=method == "fista", **options)
    return primal_dual(problem, restart=method == "restarted_pdhg", **options)


#: the options every method takes (see :func:`qcbp`), then those of PDHG only
OPTIONS = ("tol", "max_iter", "time_limit", "check_every", "x0", "history", "primal_weight",
           "single_precision_start", "p0")
PDHG_OPTIONS = ("primal_weight", "single_precision_start", "p0")


def _check_options(options: dict) -> None:
    """Refuse options that would make a run meaningless, naming the option and the fix."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise StableReconError(f"unknown solver option(s) {unknown}; the options are {OPTIONS}.")
    validate.number("tol", options.get("tol", 1e-6), low=0,
                    hint="the certified relative accuracy, e.g. tol=1e-6")
    for key in ("max_iter", "check_every"):
        validate.number(key, options.get(key, 1), low=1, low_closed=True, integer=True)
    if options.get("time_limit") is not None:
        validate.number("time_limit", options["time_limit"], low=0,
                        hint="seconds, or None for no limit")
    if "primal_weight" in options:
        validate.number("primal_weight", options["primal_weight"], low=0)
    if not isinstance(options.get("single_precision_start", True), bool):
        raise StableReconError("single_precision_start must be True or False, got "
                               f"{options['single_precision_start']!r}.")


def least_squares_distance(A: LinearOperator, y: torch.Tensor, iters: int = 200) -> torch.Tensor:
    """min_x ||A x - y|| per batch element, by CGLS (used to detect infeasible QCBP)."""
    x = torch.zeros(*y.shape[: y.ndim - len(A.out_shape)], *A.in_shape,
                    dtype=A.input_dtype(y.real.dtype), device=y.device)
    r = y.clone()
    s = A.H(r).to(x.dtype)
    d = s.clone()
    n_in, n_out = len(A.in_shape), len(A.out_shape)
    gamma = sample_norm(s, n_in) ** 2
    y_norm = sample_norm(y, n_out)
    for _ in range(iters):
        ad = A(d)
        alpha = gamma / (sample_norm(ad, n_out) ** 2).clamp_min(1e-300)
        x = x + _bcast(alpha, n_in) * d
        r = r - _bcast(alpha, n_out) * ad
        s = A.H(r).to(x.dtype)
        gamma_new = sample_norm(s, n_in) ** 2
        if bool((gamma_new.sqrt() <= 1e-12 * y_norm.clamp_min(1e-300)).all()):
            break
        d = s + _bcast(gamma_new / gamma.clamp_min(1e-300), n_in) * d
        gamma = gamma_new
    return sample_norm(r, n_out)


def _bcast(v: torch.Tensor, ndim: int) -> torch.Tensor:
    return v.reshape(*v.shape, *([1] * ndim))


#: what qcbp, u_lasso and sr_lasso document alike (``{{name}}`` lines, see
#: :mod:`stablerecon.docstrings`)
_SOLVE_DOCS = {
    "A_y": """
    Parameters
    ----------
    A : LinearOperator
        The forward map.
    y : torch.Tensor
        Measurements, shape ``(*batch, *A.out_shape)``.""",
    "W_weights": """
    W : LinearOperator, optional
        Sparsifying transform (default: the identity).
    weights : torch.Tensor, optional
        Weights w of the l1 norm, broadcastable to W's output (default: 1).""",
    "result": """
    **options
        As in :func:`qcbp`.

    Returns
    -------
    SolverResult
        ``x``, ``certificate`` (the duality gap), ``converged``, ``status``.""",
}


@fill(_SOLVE_DOCS)
def qcbp(A: LinearOperator, y: torch.Tensor, eta: float, W: LinearOperator | None = None,
         weights: torch.Tensor | None = None, method: str = "restarted_pdhg",
         **options) -> SolverResult:
    r"""(P1) quadratically constrained basis pursuit.

    .. math:: \min_z \|Wz\|_{w,1} \quad \text{subject to} \quad \|Az - y\|_2 \le \eta

    {{A_y}}
    eta : float
        The noise level η ≥ 0 (the constraint's radius).
    {{W_weights}}
    method : str
        ``"restarted_pdhg"`` (default) or ``"pdhg"``.
    **options
        ``tol`` (certified relative duality gap, and constraint violation relative to
        ||y||), ``max_iter``, ``time_limit`` (s), ``check_every``, ``x0``, ``history``;
        for PDHG also ``primal_weight``, ``single_precision_start`` (float64 data to a
        tol below 1e-4 iterate in float32 first, then float64; default True) and ``p0``
        (with ``x0`` and ``primal_weight``: continue from an earlier solve's
        ``result.state`` on nearby data).

    Returns
    -------
    SolverResult
        ``x``, ``certificate`` (duality gap and feasibility), ``converged``, ``status``.

    Raises
    ------
    StableReconError
        When no z meets the constraint (the least-squares residual of y exceeds η); the
        message names the smallest feasible η.

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> A = sr.operators.dct_rows(64, 32, seed=0)
    >>> x = sr.data.sparse_vector(64, 3, seed=0)
    >>> res = sr.solvers.qcbp(A, A(x), eta=1e-6, tol=1e-7)
    >>> res.converged, bool(torch.allclose(res.x, x, atol=1e-4))
    (True, True)
    """
    validate.operator("A", A)
    data = QCBP(eta)  # checks eta
    eta = data.eta
    dist = least_squares_distance(A, y)
    worst = float(dist.max())
    if worst > eta * (1 + 1e-6) + 1e-9 * float(sample_norm(y, len(A.out_shape)).max()):
        raise StableReconError(
            f"QCBP is infeasible: the smallest possible ||Az - y|| is {worst:.3e} > eta = "
            f"{eta:.3e} (y is not in the range of A up to eta). Use eta >= {worst:.3e}, or "
            "sr_lasso/u_lasso, which need no noise level."
        )
    problem = Problem(data, A, y, lam=1.0, W=W, weights=weights)
    return solve(problem, method, **options)


@fill(_SOLVE_DOCS)
def u_lasso(A: LinearOperator, y: torch.Tensor, lam: float, W: LinearOperator | None = None,
            weights: torch.Tensor | None = None, method: str = "restarted_pdhg",
            **options) -> SolverResult:
    r"""(P2) unconstrained LASSO.

    .. math:: \min_z \lambda\|Wz\|_{w,1} + \|Az - y\|_2^2

    {{A_y}}
    lam : float
        λ > 0, the weight of the sparsity term.
    {{W_weights}}
    method : str
        ``"restarted_pdhg"`` (default), ``"pdhg"``, ``"fista"`` or ``"ista"`` (the last two need W
        unitary or None).
    {{result}}

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> A = sr.operators.Identity((4,))
    >>> y = torch.tensor([3.0, -0.2, 0.5, 0.0], dtype=torch.float64)
    >>> res = sr.solvers.u_lasso(A, y, lam=1.0, tol=1e-10)  # soft-threshold at lam/2
    >>> [round(v, 6) for v in res.x.tolist()], res.converged
    ([2.5, 0.0, 0.0, 0.0], True)
    """
    return solve(Problem(ULasso(), A, y, lam=lam, W=W, weights=weights), method, **options)


@fill(_SOLVE_DOCS)
def sr_lasso(A: LinearOperator, y: torch.Tensor, lam: float, W: LinearOperator | None = None,
             weights: torch.Tensor | None = None, method: str = "restarted_pdhg",
             **options) -> SolverResult:
    r"""(P3) square-root LASSO.

    .. math:: \min_z \lambda\|Wz\|_{w,1} + \|Az - y\|_2

    The problem FIRENETs unroll; its good λ does not depend on the noise level.

    {{A_y}}
    lam : float
        λ > 0, the weight of the sparsity term.
    {{W_weights}}
    method : str
        ``"restarted_pdhg"`` (default), ``"pdhg"``.
    {{result}}

    Examples
    --------
    >>> import torch, stablerecon as sr
    >>> mask = sr.operators.sampling.variable_density((32, 32), 0.4, seed=0)
    >>> A = sr.operators.SubsampledFourier((32, 32), mask)
    >>> W = sr.operators.Wavelet((32, 32), "haar", levels=3)
    >>> x = sr.data.shepp_logan(32, dtype=torch.float64)
    >>> res = sr.solvers.sr_lasso(A, A(x), lam=1e-3, W=W, tol=1e-6)
    >>> res.converged, res.certificate.summary()["relative_gap"] <= 1e-6
    (True, True)
    """
    return solve(Problem(SRLasso(), A, y, lam=lam, W=W, weights=weights), method, **options)


class StandardMethod(torch.nn.Module):
    r"""A standard method Φ as a reconstructor: ``Φ(y) -> x`` solves SR-LASSO (P3),

    .. math:: \Phi(y) \in \arg\min_z \lambda\|Wz\|_1 + \|Az - y\|_2,

    to the certified tolerance ``tol`` (torch in, torch out); with ``real`` the unknown z is
    constrained real (:class:`~stablerecon.operators.RealInput`: the fair Φ for magnitude
    images, whose k-space is conjugate-symmetric). ``operator``, ``W``, ``lam`` and ``real``
    are attributes; A and W are submodules, so ``phi.to(device)`` moves both. The last
    :class:`SolverResult` is kept in ``last_result`` so audits can report its certificate.
    Not differentiable (the audits attack networks, and apply the same perturbation to Φ).
    Solver warnings are silenced here: the result carries the status instead.

    An operator with a coil ``support`` (:class:`~stablerecon.operators.MultiCoilFourier`
    with estimated maps, zero where no coil sees the object) cannot see the pixels outside
    it, so the ℓ¹ minimiser may spread wavelet energy there at no cost in the data term;
    Φ returns the solution set to zero outside the support, the SENSE model's object (on a
    simulated brain slice with ESPIRiT maps: 29.4 dB instead of 23.6 at 128²). The data
    term is unchanged by this (A = A P_support); ``last_result`` certifies the solve.

    Parameters
    ----------
    operator : LinearOperator
        The forward map A.
    W : LinearOperator or None
        Sparsifying transform (None: the identity).
    lam : float
        λ of SR-LASSO.
    tol : float
        Certified relative duality gap of each solve.
    max_iter : int
        Iteration cap of each solve.
    real : bool
        Constrain the reconstruction to be real.
    **options
        Further solver options (see :func:`qcbp`).
    """

    def __init__(self, operator: LinearOperator, W: LinearOperator | None, lam: float,
                 tol: float = 1e-4, max_iter: int = 2000, real: bool = False, **options):
        super().__init__()
        self.operator = operator
        self.W = W
        self.lam = float(lam)
        self.real = bool(real)
        self.tol = tol
        self.max_iter = max_iter
        self.options = options
        self.last_result: SolverResult | None = None
        #: a solve to continue from (:class:`SolverState`): set by the audits around Φ's
        #: solves of perturbed copies of the same y
        self.start: SolverState | None = None

    @property
    def description(self) -> str:
        """What Φ is, in one line (stored in cards and reports)."""
        return (f"SR-LASSO{' (x real)' if self.real else ''}, W={type(self.W).__name__}, "
                f"lam={self.lam:g}, tol={self.tol:g}")

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the result keeps the status
            A = RealInput(self.operator) if self.real else self.operator
            options = dict(self.options)
            if self.start is not None:
                options.update(x0=self.start.x, p0=self.start.dual,
                               primal_weight=self.start.primal_weight)
            self.last_result = sr_lasso(A, y, lam=self.lam, W=self.W, tol=self.tol,
                                        max_iter=self.max_iter, **options)
        support = getattr(self.operator, "support", None)
        if isinstance(support, torch.Tensor) and not bool(support.all()):
            return self.last_result.x * support.to(self.last_result.x.device)
        return self.last_result.x

    def extra_repr(self) -> str:
        return self.description


#: λ for the presets (:mod:`stablerecon.modality` holds them): SR-LASSO on images scaled to
#: max 1, the best of the grid 1e-3…3e-1 in ``benchmarks/lambda_choice.py`` (128²
#: Shepp–Logan). MRI: every λ ≤ 1e-2 gives the same (interpolating) solution, noiseless or
#: with 3% noise. Denoising: 1e-2 is best at σ = 0.05 and 0.1. CT: 3e-3 is best without noise
#: (55 dB) but with 3% noise 3e-2 does better (29.7 against 24.6 dB); pass lam= for noisy CT.
PRESET_LAMBDA = {name: mod.lam for name, mod in MODALITIES.items()}
#: The λ grid the presets were chosen from, and over which Φ is compared with trained networks.
LAMBDA_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)


def standard_method(A: LinearOperator, modality: str = "mri", lam: float | None = None,
                    W: LinearOperator | None = None, tol: float = 1e-4,
                    max_iter: int = 2000, real: bool = False, **options) -> StandardMethod:
    """The lecture's "state-of-the-art standard method" Φ for a ``modality``, as a callable.

    * ``"mri"``: SR-LASSO with orthogonal db4 wavelets (up to 4 levels);
    * ``"ct"``: SR-LASSO with the gradient (TV), a non-unitary W, so plain PDHG;
    * ``"denoise"``: SR-LASSO with the gradient (TV) and A = identity.

    Parameters
    ----------
    A : LinearOperator
        The forward map.
    modality : str
        ``"mri"``, ``"ct"`` or ``"denoise"``: chooses W and the preset λ.
    lam : float, optional
        λ (default: :data:`PRESET_LAMBDA` for images with values in about [0, 1]).
    W : LinearOperator, optional
        Sparsifying transform (default: the modality's).
    tol, max_iter : float, int
        Certified tolerance and iteration cap of each solve.
    real : bool
        Constrain the reconstruction to be real (for MRI of magnitude images; the other
        modalities are real already).
    **options
        Further solver options (see :func:`qcbp`).

    Returns
    -------
    StandardMethod
        Φ, a module: ``phi(y)`` solves SR-LASSO for y.
    """
    from stablerecon.modality import modality as find_modality

    validate.operator("A", A)
    mod = find_modality(modality)
    if W is None:  # beside A: Φ runs where A's buffers are
        W = mod.sparsifier(A.in_shape).to(module_device(A) or "cpu")
    lam = mod.lam if lam is None else lam
    return StandardMethod(A, W, lam, tol=tol, max_iter=max_iter, real=real, **options)
