"""Anything that reconstructs, as one thing the audits can call: y ↦ x̂ on torch tensors.

Accepted: a registry name (``"mri-cascade"``), the card .json of a model trained with
``stablerecon train``, an ``nn.Module`` or any python callable,
a TorchScript file (``.pt``/``.ts`` saved with ``torch.jit.save``), ``"python:module:fn"``,
and a deepinv-style model called as ``model(y, physics)`` (pass ``physics=``). A deepinv-style
physics (an object with ``A`` and ``A_adjoint``) becomes a :class:`LinearOperator` with
:func:`from_physics`. deepinv itself is never imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator


class Reconstructor(torch.nn.Module):
    """A wrapped reconstructor: ``recon(y) -> x̂``, its output checked to be a tensor.

    Parameters
    ----------
    fn : callable
        The reconstruction ``y -> x̂``.
    name : str
        What reports call it.
    differentiable : bool
        Whether gradient attacks apply.
    """

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], name: str,
                 differentiable: bool):
        super().__init__()
        self.fn = fn
        self.name = name
        self.differentiable = differentiable
        if isinstance(fn, torch.nn.Module):
            self.module = fn

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        try:
            out = self.fn(y)
        except StableReconError:
            raise
        except Exception as exc:  # the user's model failed: say so, not "a bug in stablerecon"
            raise StableReconError(
                f"the model {self.name} raised {type(exc).__name__} on an input of shape "
                f"{tuple(y.shape)} ({y.dtype}, {y.device}): {str(exc).strip()[:300]}. This is "
                "the model's error; run with --debug for its traceback.") from exc
        if not isinstance(out, torch.Tensor):
            raise StableReconError(f"reconstructor {self.name} returned {type(out).__name__}, "
                                   "not a torch.Tensor; wrap it to return tensors.")
        return out


def as_reconstructor(model: Any, physics: Any = None, name: str | None = None) -> Reconstructor:
    """Wrap ``model`` (see the module docstring) as a :class:`Reconstructor`.

    Parameters
    ----------
    model : object
        A registry name, a card .json, an ``nn.Module`` or callable, a TorchScript file,
        ``"python:module:fn"``, or a Reconstructor (returned as it is). A TorchScript file
        or a python:module:fn runs that code: load only models whose source you trust.
    physics : object, optional
        A deepinv-style physics: the model is then called as ``model(y, physics)``.
    name : str, optional
        What reports call it (default: from the model).

    Returns
    -------
    Reconstructor
        The wrapped model.
    """
    if isinstance(model, Reconstructor):
        return model
    if isinstance(model, (str, Path)):
        text = str(model)
        if text.startswith("python:"):
            try:
                _, module, attr = text.split(":")
                fn = getattr(importlib.import_module(module), attr)
            except (ValueError, ImportError, AttributeError) as exc:
                raise StableReconError(f"{text}: expected python:module:function naming an "
                                       f"importable callable ({exc}).") from exc
            return as_reconstructor(fn, physics, name or text)
        path = Path(text)
        if path.suffix in (".pt", ".ts", ".pth") and path.exists():
            try:
                return Reconstructor(torch.jit.load(str(path)).eval(), name or path.name, True)
            except RuntimeError as exc:
                raise StableReconError(f"{path}: not a TorchScript file (save the model with "
                                       f"torch.jit.save(torch.jit.script(model), path)); "
                                       f"{exc}") from exc
        from stablerecon.nets.registry import available, load

        if text in available() or path.suffix == ".json":
            return Reconstructor(load(text), name or path.stem, True)
        raise StableReconError(f"{text!r} is neither a registry model ({', '.join(available())}),"
                               " a card .json, an existing TorchScript file, nor "
                               "python:module:function.")
    if not callable(model):
        raise StableReconError(f"a reconstructor must be callable (y -> x), got "
                               f"{type(model).__name__}.")
    from stablerecon.solvers.api import StandardMethod

    label = name or getattr(model, "name", None) or type(model).__name__
    # python functions of torch ops are assumed differentiable; the attacks check the graph
    differentiable = not isinstance(model, StandardMethod)
    if physics is not None:  # deepinv convention: model(y, physics)
        return Reconstructor(lambda y: model(y, physics), label, differentiable)
    return Reconstructor(model, label, differentiable)


def model_operator(recon: Reconstructor, operator: str | None = None) -> LinearOperator:
    """The operator A to audit ``recon`` on.

    Parameters
    ----------
    recon : Reconstructor
        The wrapped model.
    operator : str, optional
        A registry model whose operator to use (default: the one the model carries,
        ``model.operator``, as every stablerecon network does).

    Returns
    -------
    LinearOperator
        The operator.
    """
    from stablerecon.nets.registry import available, operator_for

    if operator:
        return operator_for(operator)
    A = getattr(getattr(recon, "module", None), "operator", None)
    if not isinstance(A, LinearOperator):
        raise StableReconError(f"{recon.name} carries no operator; name a registry model "
                               f"whose operator to use (one of {', '.join(available())}).")
    return A


class PhysicsOperator(LinearOperator):
    """A deepinv-style physics (methods ``A`` and ``A_adjoint``) as a LinearOperator.

    The shapes are found by applying ``A`` to a zero image of ``in_shape``."""

    def __init__(self, physics: Any, in_shape: tuple[int, ...], dtype=torch.float32):
        if not (hasattr(physics, "A") and hasattr(physics, "A_adjoint")):
            raise StableReconError("a physics object needs methods A(x) and A_adjoint(y) "
                                   "(the deepinv convention).")
        out = physics.A(torch.zeros(1, *in_shape, dtype=dtype))
        super().__init__(in_shape, tuple(out.shape[1:]))
        self.physics = physics
        self.complex_output = out.is_complex()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x, lead = x.reshape(-1, *self.in_shape), x.shape[: x.ndim - len(self.in_shape)]
        return self.physics.A(x).reshape(*lead, *self.out_shape)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        y, lead = y.reshape(-1, *self.out_shape), y.shape[: y.ndim - len(self.out_shape)]
        return self.physics.A_adjoint(y).reshape(*lead, *self.in_shape)


def from_physics(physics: Any, in_shape: tuple[int, ...], check: bool = True) -> PhysicsOperator:
    """Wrap a deepinv-style physics (methods ``A`` and ``A_adjoint``) as a LinearOperator.

    Parameters
    ----------
    physics : object
        The physics.
    in_shape : tuple of int
        The image shape (the output shape is found by applying ``A`` to zeros).
    check : bool
        Test the adjoint (a wrong A_adjoint is named rather than silently breaking every
        audit).

    Returns
    -------
    LinearOperator
        The wrapped operator.
    """
    op = PhysicsOperator(physics, tuple(in_shape))
    if check:
        op.check_adjoint()
    return op
