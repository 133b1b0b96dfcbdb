r"""FIRENET: a stable, exponentially convergent network for (P3) SR-LASSO.

Colbrook, Antun & Hansen, "The difficulty of computing stable and accurate neural networks:
On the barriers of deep learning and Smale's 18th problem", PNAS 119 (2022). The network is
a restarted, unrolled Chambolle–Pock iteration for

.. math:: \min_x \lambda \|Wx\|_{w,1} + \|Ax - y\|_2 ,

written in the coefficients :math:`c = Wx` of a unitary W (so :math:`B = AW^*`,
:math:`\|B\| = \|A\|`). Its weights are fixed by the problem, not trained.

**Inner block** (p layers, data y, start c₀, dual q₀ = 0):

.. math::
    c_j = S_{\tau\lambda w}(c_{j-1} - \tau B^* q_{j-1}), \qquad
    q_j = P_{\|\cdot\|\le 1}\big(q_{j-1} + \sigma (B(2c_j - c_{j-1}) - y)\big),

output :math:`\bar c = \frac1p\sum_{j=1}^p c_j` (the ergodic average). S is soft-thresholding
(:func:`stablerecon.prox.soft_threshold`, written with ReLUs) and P the projection onto the
unit ball.
The steps satisfy :math:`\tau\sigma\|A\|^2 = \theta < 1` (checked; default θ = 1/4).

**Restarts** k = 1..n: :math:`\varepsilon_0 = \|y\|` (or a fixed ``eps0``),
:math:`\varepsilon_k = \nu(\delta + \varepsilon_{k-1})` (ν = e⁻¹), :math:`\alpha_k =
2\|A\|/(\varepsilon_k p)`, and :math:`c_k = \alpha_k^{-1}\,\mathrm{Inner}(\alpha_k y,
\alpha_k c_{k-1})`: the objective is positively homogeneous, so the rescaled problem has the
same minimiser, and the rescaling shrinks the target ε_k geometrically. Under the (weighted)
robust null space property the distance to the minimiser falls like :math:`e^{-k}` down to
the floor set by δ and the noise, in n·p layers.

**Lipschitz bound** (:meth:`FIRENET.lipschitz_bound`; fixed ε₀). One Chambolle–Pock step is
firmly nonexpansive in the metric :math:`\|s\|_M^2 = \|c\|^2/\tau - 2\mathrm{Re}\langle Bc,
q\rangle + \|q\|^2/\sigma`; changing y by Δ moves one step's output by at most
:math:`\sqrt\sigma\,\|\Delta\|` in that metric (the projection is 1-Lipschitz), and
:math:`\|c\| \le \sqrt{\tau/(1-\theta)}\,\|s\|_M`. Following a restart (dual reset to 0,
primal scaled by α, which cancels) gives

.. math:: \|\Delta x_k\| \le \gamma_k\Big(\|\Delta x_{k-1}\| + \tfrac{p+1}{2}\sqrt{\tau_k\sigma_k}
          \,\|\Delta y\|\Big), \qquad \gamma_k = (1 - \tau_k\sigma_k\|A\|^2)^{-1/2},

so :math:`L(\Psi) \le \sum_{k=1}^n \tfrac{p+1}{2}\sqrt{\tau_k\sigma_k}\prod_{i=k}^n \gamma_i`.
"""

from __future__ import annotations

import math
import warnings

import torch

from stablerecon import validate
from stablerecon.devices import module_device
from stablerecon.errors import StableReconError
from stablerecon.nets.base import OperatorNet
from stablerecon.operators.base import LinearOperator, check_input, real_dtype, sample_norm
from stablerecon.operators.wavelet import Wavelet
from stablerecon.prox import project_l2_ball, soft_threshold


def level_weights(W: Wavelet, coefficients: torch.Tensor, threshold: float = 1e-3) -> torch.Tensor:
    r"""Weights per wavelet level :math:`w_j = \sqrt{s / s_j}` from the sparsity of example
    coefficients, as in the FIRENET paper's weighted l1 norm.

    :math:`s_j` counts coefficients of level j above ``threshold``·max|c|,
    :math:`s = \sum_j s_j`. A level with few significant coefficients gets a large weight
    (usually the small coarse levels, which a variable-density mask samples fully).

    Parameters
    ----------
    W : Wavelet
        The transform (its :meth:`~stablerecon.operators.Wavelet.level_map`).
    coefficients : torch.Tensor
        Example coefficients W x, shape ``(*batch, H, W)``.
    threshold : float
        What counts as significant, relative to the largest coefficient.

    Returns
    -------
    torch.Tensor
        An (H, W) float64 weight map for :class:`FIRENET`'s ``weights``.
    """
    levels = W.level_map()
    mag = coefficients.abs().reshape(-1, *W.out_shape).amax(0)
    big = mag > threshold * mag.max()
    counts = torch.stack([big[levels == j].sum() for j in range(W.levels + 1)]).double()
    counts = counts.clamp_min(1.0)
    per_level = torch.sqrt(counts.sum() / counts)
    return per_level[levels].to(torch.float64)


class FIRENET(OperatorNet):
    r"""FIRENET Ψ(y) for min λ||Wx||_{w,1} + ||Ax − y||₂ (see the module docstring).

    Parameters
    ----------
    A : LinearOperator
        Forward map; its norm is computed once (``A.norm()``).
    W : LinearOperator, optional
        A **unitary** sparsifying transform (wavelets); None means the identity.
    lam : float
        λ of the SR-LASSO.
    restarts : int
        n restarts.
    inner : int or "auto"
        p inner layers per restart; depth n·p. The p the theory needs depends on the
        problem's sharpness constant, which is unknown, and a p too small stalls above the
        minimiser (a Gaussian 60×160 problem with λ = 0.1 and 6-sparse data: p = 20 stalls
        at relative distance 2e-2 from the SR-LASSO minimiser, p = 50 reaches 1e-9).
        ``"auto"`` (the default) chooses p from the problem on the first call
        (:meth:`calibrate`), then keeps it: one fixed network from then on.
    delta : float
        δ of the restart schedule: the floor below which the targets ε_k stop shrinking.
    weights : tensor, optional
        w ≥ 0 of the weighted l1 norm, broadcastable to W's output (:func:`level_weights`).
    eps0 : float, optional
        ε₀; None uses ||y|| per input (as in the paper). A fixed value makes every α_k a
        fixed weight, so Ψ is one fixed network and :meth:`lipschitz_bound` applies to it.
    theta : float
        τσ||A||² (< 1), with τ = σ = √θ/||A||.
    nu : float
        Contraction of the targets per restart, ε_k = ν(δ + ε_{k-1}); the paper's e⁻¹ by
        default. A problem with a poor sharpness constant (small λ, MRI) needs either more
        inner layers p or a ν closer to 1, else the iterates stall above the minimiser.
    real : bool
        Constrain x to be real (for magnitude images: B* q is replaced by its real part,
        the adjoint of B restricted to real inputs; see :class:`~stablerecon.operators.RealInput`).
        The Lipschitz bound is unchanged (taking the real part is 1-Lipschitz).
    learn_steps : bool
        Make the step size of each restart a parameter, constrained to τ_kσ_k||A||² ≤ θ
        (τ_k = σ_k = √θ·sigmoid(s_k)/||A||), so the stability bound holds whatever training
        does.

    Shapes: y ``(*batch, *A.out_shape)`` → x ``(*batch, *A.in_shape)``.

    >>> import torch, stablerecon as sr
    >>> A = sr.operators.dct_rows(64, 32, seed=0)
    >>> x = sr.data.sparse_vector(64, 4, seed=1)
    >>> net = FIRENET(A, lam=0.05, restarts=12, inner=20)
    >>> bool((net(A(x)) - x).norm() < 0.05 * x.norm())
    True
    """

    def __init__(self, A: LinearOperator, W: LinearOperator | None = None, lam: float = 1e-3,
                 restarts: int = 20, inner: int | str = "auto", delta: float = 1e-10,
                 weights: torch.Tensor | None = None, eps0: float | None = None,
                 theta: float = 0.25, nu: float = math.exp(-1.0), learn_steps: bool = False,
                 real: bool = False):
        super().__init__(A)
        if W is not None and not getattr(W, "unitary", False):
            raise StableReconError(
                f"FIRENET needs a unitary W (e.g. sr.operators.Wavelet), got "
                f"{type(W).__name__}; for TV (Gradient) use sr.solvers.sr_lasso instead.")
        validate.number("FIRENET nu (the restart contraction)", nu, low=0, high=1,
                        high_closed=False)
        validate.number("FIRENET theta = τσ||A||²", theta, low=0, high=1, high_closed=False)
        #: whether p is still to be chosen by :meth:`calibrate` on the first call
        self.needs_calibration = inner == "auto"
        inner = 20 if self.needs_calibration else inner
        validate.number("FIRENET restarts", restarts, low=1, low_closed=True, integer=True)
        validate.number("FIRENET inner", inner, low=1, low_closed=True, integer=True,
                        hint="or 'auto'")
        validate.number("FIRENET lam", lam, low=0)
        validate.number("FIRENET delta", delta, low=0, low_closed=True)
        if weights is not None:
            weights = validate.tensor("FIRENET weights", weights, nonnegative=True).to(
                module_device(A) or "cpu")
        self.W = W
        self.lam, self.restarts, self.inner, self.delta = float(lam), restarts, inner, delta
        self.eps0, self.theta, self.nu, self.real = eps0, float(theta), float(nu), bool(real)
        self.norm_A = float(A.norm())
        self.register_buffer("weights", weights)
        self.step_logits = torch.nn.Parameter(torch.full((restarts,), 6.0),
                                              requires_grad=learn_steps)


    @property
    def depth(self) -> int:
        """Number of layers n·p."""
        return self.restarts * self.inner

    def steps(self) -> torch.Tensor:
        """The step sizes τ_k = σ_k of each restart (τ_kσ_k||A||² ≤ θ by construction).

        Returns
        -------
        torch.Tensor
            One step size per restart.
        """
        logits = self.step_logits.double()
        scale = torch.sigmoid(logits) if logits.requires_grad else torch.ones_like(logits)
        return math.sqrt(self.theta) * scale / self.norm_A

    # the layers' own iterates, unchecked (the input y is checked once, in forward)
    def _B(self, c: torch.Tensor) -> torch.Tensor:
        return self.A(c if self.W is None else self.W.adjoint(c, check=False), check=False)

    def _B_adjoint(self, q: torch.Tensor) -> torch.Tensor:
        z = self.A.adjoint(q, check=False)
        if self.real and z.is_complex():
            z = z.real
        return z if self.W is None else self.W(z, check=False)

    def _threshold(self, tau: torch.Tensor) -> torch.Tensor | float:
        t = tau * self.lam
        return t if self.weights is None else t * self.weights

    def inner_block(self, y: torch.Tensor, c0: torch.Tensor, tau: torch.Tensor,
                    inner: int) -> torch.Tensor:
        """``inner`` Chambolle–Pock layers from (c0, q = 0).

        Parameters
        ----------
        y : torch.Tensor
            Measurements, batched.
        c0 : torch.Tensor
            The starting coefficients.
        tau : torch.Tensor
            This restart's step size.
        inner : int
            Layers in the block.

        Returns
        -------
        torch.Tensor
            The mean of the primal iterates (the ergodic average the restart scheme needs).
        """
        n_out = len(self.A.out_shape)
        thresh = self._threshold(tau)
        c, q = c0, torch.zeros_like(y)
        total = torch.zeros_like(c0)
        for _ in range(inner):
            c_new = soft_threshold(c - tau * self._B_adjoint(q).to(c.dtype), thresh)
            q = project_l2_ball(q + tau * (self._B(2 * c_new - c) - y), n_out)
            c = c_new
            total = total + c
        return total / inner

    def calibrate(self, y: torch.Tensor, tol: float | None = None, max_inner: int = 640) -> int:
        """Choose the inner depth p for this problem.

        The smallest p = inner·2^j (inner = 20 for "auto") whose output on ``y`` agrees with
        that of 2p to ``tol``. A stalled p disagrees with a larger one, since the stall point
        depends on p. Keeps p; warns (and keeps the largest p tried) when no two depths agree.

        Parameters
        ----------
        y : torch.Tensor
            Representative measurements.
        tol : float, optional
            Relative agreement (default 1e-6, or 100 machine epsilons of y's precision if
            larger).
        max_inner : int
            The largest p tried.

        Returns
        -------
        int
            The chosen p.
        """
        real = real_dtype(y.dtype)
        tol = max(1e-6, 100 * torch.finfo(real).eps) if tol is None else tol
        p = self.inner
        with torch.no_grad():
            out = self._run(y, None, p)[0]
            while 2 * p <= max_inner:
                out2 = self._run(y, None, 2 * p)[0]
                gap = float((out2 - out).norm()) / max(float(out2.norm()), 1e-300)
                p, out = 2 * p, out2
                if gap <= tol:
                    p //= 2  # p and 2p agree: the smaller one has converged
                    break
            else:
                warnings.warn(f"FIRENET.calibrate: no p ≤ {max_inner} layers per restart gave "
                              f"the same output as twice as many (relative tolerance {tol:g}):"
                              " the network may not converge on this problem; raise restarts "
                              "or max_inner.", RuntimeWarning, stacklevel=2)
        self.inner, self.needs_calibration = p, False
        return p

    def forward(self, y: torch.Tensor, x0: torch.Tensor | None = None,
                return_restarts: bool = False):
        """Reconstruct x from y. With ``return_restarts`` also the list of x_k, k = 1..n.
        With ``inner="auto"`` the first call chooses p (:meth:`calibrate`)."""
        # checked once here (type, shape, device, NaN): the layers apply A unchecked
        check_input(self.A, y, self.A.out_shape, "FIRENET input y")
        if self.needs_calibration:
            self.calibrate(y.detach())
        x, outputs = self._run(y, x0, self.inner, return_restarts)
        return (x, outputs) if return_restarts else x

    def _run(self, y: torch.Tensor, x0: torch.Tensor | None, inner: int,
             return_restarts: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """n restarts of ``inner`` layers; the output and (when asked) each x_k."""
        n_out = len(self.A.out_shape)
        batch = y.shape[: y.ndim - n_out]
        real = real_dtype(y.dtype)
        in_dtype = real if self.real else self.A.input_dtype(real)
        if x0 is None:
            c = torch.zeros(*batch, *(self.A.in_shape if self.W is None else self.W.out_shape),
                            dtype=in_dtype, device=y.device)
        else:
            c = x0.to(in_dtype) if self.W is None else self.W(x0.to(in_dtype))
        bshape = (*batch, *([1] * n_out))
        eps = (sample_norm(y, n_out).reshape(bshape) if self.eps0 is None
               else torch.full(bshape, float(self.eps0), dtype=real, device=y.device))
        cshape = (*batch, *([1] * (c.ndim - len(batch))))
        taus = self.steps().to(real)
        outputs = []
        for k in range(self.restarts):
            eps = self.nu * (self.delta + eps)
            alpha = 2.0 * self.norm_A / (eps * inner)
            alpha_c = alpha.reshape(cshape)
            c = self.inner_block(alpha * y, alpha_c * c, taus[k], inner) / alpha_c
            if return_restarts:
                outputs.append(self._image(c))
        return self._image(c), outputs

    def _image(self, c: torch.Tensor) -> torch.Tensor:
        return c if self.W is None else self.W.H(c)

    def lipschitz_bound(self) -> float:
        r"""Certified upper bound on :math:`\|\Psi(y) - \Psi(y')\| / \|y - y'\|` for fixed ε₀
        (see the module docstring for the argument).

        Returns
        -------
        float
            The bound.
        """
        if self.eps0 is None:
            raise StableReconError(
                "FIRENET.lipschitz_bound needs a fixed eps0 (with eps0=None the weights α_k "
                "depend on ||y||); build the network with eps0=<a typical ||y||>.")
        if self.needs_calibration:
            raise StableReconError("FIRENET.lipschitz_bound: p is not chosen yet (inner="
                                   "'auto'); call the network once, or calibrate(y), first.")
        ts = (self.steps() * self.norm_A) ** 2  # τ_kσ_k||A||²
        gammas = (1.0 - ts).rsqrt()
        bound = 0.0
        for k in range(self.restarts):
            gain = (self.inner + 1) / 2 * float(self.steps()[k])
            bound = (bound + gain) * float(gammas[k])
        return bound

    def extra_repr(self) -> str:
        return (f"lam={self.lam:g}, restarts={self.restarts}, inner={self.inner}, "
                f"delta={self.delta:g}, theta={self.theta:g}, eps0={self.eps0}, real={self.real}")
