"""Where computations run: resolving ``--device``, the device a module lives on, and seeded
random generators on a given device.

Every part of stablerecon follows the device of its inputs (and of ``module.to(device)``):
tensors made inside a computation are made on the input's device, never on the CPU by
default. Seeded draws come from a generator on the computation's device, so a result is
reproducible for a given seed *on a given device* (CPU and CUDA random streams differ).
"""

from __future__ import annotations

import torch

from stablerecon.errors import StableReconError

__all__ = ["generator", "module_device", "resolve_device", "same_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The device to run on, checked to exist.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"auto"`` (or None): CUDA when available, else the CPU; otherwise ``"cpu"``,
        ``"cuda"``, ``"cuda:N"`` or a ``torch.device``.

    Returns
    -------
    torch.device
        The resolved device.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise StableReconError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or "
                               f"'cuda:N' ({exc}).") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise StableReconError(f"device {device!r} asked for, but this PyTorch sees no CUDA "
                               "GPU; use device 'cpu' (or 'auto'), or install a CUDA build of "
                               "torch on a machine with a GPU.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise StableReconError(f"device {device!r}: only {torch.cuda.device_count()} CUDA "
                               "device(s) are visible.")
    return dev


def module_device(module: torch.nn.Module) -> torch.device | None:
    """The device of a module's first parameter or buffer.

    Parameters
    ----------
    module : torch.nn.Module
        Any module.

    Returns
    -------
    torch.device or None
        None when the module has neither (such a module, e.g. the identity or the
        gradient, runs on whatever device its input is on).
    """
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return None


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A random generator on ``device`` seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The seed.
    device : torch.device or str
        Where the generator draws.

    Returns
    -------
    torch.Generator
        The seeded generator.
    """
    return torch.Generator(device=device).manual_seed(int(seed))


def same_device(what: str, tensor: torch.Tensor, module: torch.nn.Module, name: str) -> None:
    """Raise a clear error when ``tensor`` is not on the device ``module`` lives on.

    Parameters
    ----------
    what : str
        What the tensor is for (in the message).
    tensor : torch.Tensor
        The input.
    module : torch.nn.Module
        The module it is fed to.
    name : str
        The module's name (in the message).
    """
    dev = module_device(module)
    if dev is not None and tensor.device != dev:
        raise StableReconError(
            f"{name} {what}: the input is on {tensor.device} but the operator's buffers are "
            f"on {dev}; move one to the other (A.to(x.device), or x.to('{dev}')).")


def optimizer_step(opt: torch.optim.Optimizer) -> None:
    """``opt.step()`` with the optimiser's scalar state made on the CPU.

    torch before 2.13 makes Adam's step counter with no device named, so it follows the
    caller's default device (``torch.set_default_device``); torch means it to live on the
    CPU, and on a ``meta`` default the step fails. Pinning the default here keeps training
    and the audits' ascent independent of the caller's default device.

    Parameters
    ----------
    opt : torch.optim.Optimizer
        The optimiser to step.
    """
    with torch.device("cpu"):
        opt.step()
