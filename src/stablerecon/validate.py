"""The one place where settings are checked: numbers, lists of numbers and choices.

Every public entry point (solvers, operators, audits, training, sweeps, experiments, the
CLI through them) checks its settings with these functions, so that a wrong value gets the
same kind of message everywhere: which argument, what was received, what is expected —
and NaN, infinities, booleans and strings are refused wherever a number is meant (a
``lr <= 0`` test lets NaN through; these do not).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from stablerecon.errors import StableReconError

__all__ = ["choice", "number", "numbers_list", "operator", "tensor"]


def _expected(low: float | None, high: float | None, low_closed: bool, high_closed: bool,
              integer: bool) -> str:
    kind = "an integer" if integer else "a finite number"
    if low is not None and high is not None:
        return (f"{kind} in {'[' if low_closed else '('}{low:g}, "
                f"{high:g}{']' if high_closed else ')'}")
    if low is not None:
        if low == 0 and not low_closed and not integer:
            return "a positive finite number"
        return f"{kind} {'≥' if low_closed else '>'} {low:g}"
    if high is not None:
        return f"{kind} {'≤' if high_closed else '<'} {high:g}"
    return kind


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_closed: bool = False, high_closed: bool = True, integer: bool = False,
           hint: str = "") -> Any:
    """Check that ``value`` is a finite number (an integer with ``integer``) in the range.

    Parameters
    ----------
    name : str
        The argument's name, as the caller wrote it (in the message).
    value : object
        What was received.
    low, high : float, optional
        Bounds of the allowed range (None: unbounded).
    low_closed, high_closed : bool
        Whether each bound is allowed (default: ``(low, high]``).
    integer : bool
        Require an integer.
    hint : str
        Appended to the message (what the value means, an example).

    Returns
    -------
    int or float
        The value (an ``int`` with ``integer``, else a ``float``).

    Raises
    ------
    StableReconError
        Naming the argument, the value received and what is expected.

    Examples
    --------
    >>> number("rate", 0.25, low=0, high=1)
    0.25
    >>> number("steps", 0, low=1, low_closed=True, integer=True)
    Traceback (most recent call last):
    ...
    stablerecon.errors.StableReconError: steps must be an integer ≥ 1, got 0.
    """
    kind_ok = (isinstance(value, numbers.Integral) if integer else
               isinstance(value, numbers.Real)) and not isinstance(value, bool)
    ok = kind_ok and math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_closed else value > low
    if ok and high is not None:
        ok = value <= high if high_closed else value < high
    if not ok:
        expected = _expected(low, high, low_closed, high_closed, integer)
        raise StableReconError(f"{name} must be {expected}, got {value!r}"
                               + (f"; {hint}" if hint else "") + ".")
    return int(value) if integer else float(value)


def numbers_list(name: str, values: Any, **bounds: Any) -> list:
    """Check a non-empty list of numbers, each as :func:`number` with ``bounds``.

    Parameters
    ----------
    name : str
        The argument's name (in the message).
    values : iterable
        What was received (a single number is refused: pass a list).
    **bounds
        ``low``, ``high``, ``low_closed``, ``high_closed``, ``integer``, ``hint``.

    Returns
    -------
    list
        The values.

    Raises
    ------
    StableReconError
        For an empty list, a non-list, or any value out of range.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise StableReconError(f"{name} must be a list of numbers, got {values!r}.")
    values = list(values)
    if not values:
        raise StableReconError(f"{name} is empty; give at least one value.")
    return [number(f"{name} (each)", v, **bounds) for v in values]


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """Check that ``value`` is one of ``options``.

    Parameters
    ----------
    name : str
        The argument's name (in the message).
    value : object
        What was received.
    options : iterable of str
        The allowed values.

    Returns
    -------
    str
        The value.

    Raises
    ------
    StableReconError
        Listing the allowed values.
    """
    options = list(options)
    if value not in options:
        raise StableReconError(f"{name} must be one of {', '.join(map(repr, options))}, "
                               f"got {value!r}.")
    return value


def tensor(name: str, value: Any, *, shape: Sequence[int] | None = None,
           nonnegative: bool = False) -> torch.Tensor:
    """Check a tensor argument: finite entries, and optionally its shape and sign.

    Parameters
    ----------
    name : str
        The argument's name (in the message).
    value : object
        A tensor (or anything ``torch.as_tensor`` takes).
    shape : sequence of int, optional
        The shape it must have.
    nonnegative : bool
        Require every entry ≥ 0.

    Returns
    -------
    torch.Tensor
        The value as a tensor.

    Raises
    ------
    StableReconError
        For a wrong shape, NaN/Inf entries or negative entries.
    """
    try:  # a tensor stays where it is; other data is made on the CPU
        t = value if isinstance(value, torch.Tensor) else torch.as_tensor(value, device="cpu")
    except (TypeError, ValueError, RuntimeError) as exc:
        raise StableReconError(f"{name} must be a tensor of numbers, got "
                               f"{type(value).__name__} ({exc}).") from exc
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise StableReconError(f"{name} must have shape {tuple(shape)}, got {tuple(t.shape)}.")
    if (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all()):
        raise StableReconError(f"{name} contains NaN or Inf; give finite values.")
    if nonnegative and bool((t < 0).any()):
        raise StableReconError(f"{name} must be ≥ 0 everywhere, got a minimum of "
                               f"{float(t.min()):.3g}.")
    return t


def operator(name: str, value: Any) -> Any:
    """Check that ``value`` is a :class:`~stablerecon.operators.LinearOperator` (a tensor or
    array passed where an operator is expected is refused by name, with the wrapper to use).

    Parameters
    ----------
    name : str
        The argument's name (in the message).
    value : object
        The operator.

    Returns
    -------
    LinearOperator
        ``value``.

    Raises
    ------
    StableReconError
        For anything that is not an operator.
    """
    from stablerecon.operators.base import LinearOperator

    if isinstance(value, LinearOperator):
        return value
    hint = ("wrap a matrix as sr.operators.Matrix(M)" if getattr(value, "ndim", None) == 2
            else "build one from stablerecon.operators (SubsampledFourier, Radon, Matrix, ...)")
    raise StableReconError(f"{name} must be a stablerecon LinearOperator, got "
                           f"{type(value).__name__}; {hint}.")
