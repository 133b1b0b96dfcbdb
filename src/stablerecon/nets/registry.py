"""Ready-to-run models: ``available()``, ``load(name)``, ``card(name)``, ``operator_for(name)``.

Each model has a card, ``nets/weights/<name>.json``: what it is (``network`` and its
``architecture`` arguments), the operator it reconstructs for (``operator``, enough to rebuild
it exactly), and for trained models the exact train command, seed, data recipe, training time
and validation figures, next to the weights ``<name>.pt``. FIRENETs need no weights file: the
card's arguments define the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from stablerecon.devices import module_device, resolve_device
from stablerecon.errors import StableReconError
from stablerecon.modality import build_operator
from stablerecon.nets.card import check_card, network_class
from stablerecon.operators.base import LinearOperator
from stablerecon.operators.wavelet import Wavelet

WEIGHTS_DIR = Path(__file__).parent / "weights"

def available() -> list[str]:
    """Names of the models that ship with the package.

    Returns
    -------
    list of str
        Sorted names, each usable with :func:`load`.
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.json"))


def _card_path(name: str) -> Path:
    """A shipped model's card, or a card file written by ``stablerecon train``."""
    if name.endswith(".json"):
        path = Path(name)
        if not path.exists():
            raise StableReconError(f"card file {path} does not exist; give the .json that "
                                   "'stablerecon train --out DIR' wrote into DIR.")
        if not path.is_file():
            raise StableReconError(f"card {path} is a folder, not a file; give the .json "
                                   "card inside it.")
        return path
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.exists():
        raise StableReconError(
            f"no model named {name!r}; available: {', '.join(available()) or 'none'} "
            "(or give the path of a card .json written by 'stablerecon train').")
    return path


def card(name: str) -> dict[str, Any]:
    """The card of a shipped model or of a card file.

    Parameters
    ----------
    name : str
        A shipped model's name, or the path of a card .json (``stablerecon train``).

    Returns
    -------
    dict
        The card: network, architecture, operator, weights file, training record.

    Raises
    ------
    StableReconError
        For an unknown name, a missing or damaged card, or a folder.
    """
    path = _card_path(name)
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise StableReconError(f"card {path} is not valid JSON ({exc}); use the card that "
                               "'stablerecon train' wrote, unchanged.") from exc
    return check_card(data, path)


def operator_for(name: str) -> LinearOperator:
    """Rebuild the operator a shipped model was made (or trained) for.

    Parameters
    ----------
    name : str
        A shipped model's name or a card path.

    Returns
    -------
    LinearOperator
        The operator, on the CPU.
    """
    return build_operator(card(name)["operator"])


def build(model_card: dict[str, Any], A: LinearOperator | None = None) -> torch.nn.Module:
    """An untrained network from a card (architecture and operator).

    Parameters
    ----------
    model_card : dict
        A card (:func:`card`).
    A : LinearOperator, optional
        The operator (default: rebuilt from the card).

    Returns
    -------
    torch.nn.Module
        The network, with freshly initialised weights.
    """
    # "kind" is the key of cards written before 0.1.0 named it "network"
    cls = network_class(model_card.get("network", model_card.get("kind")))
    A = build_operator(model_card["operator"]) if A is None else A
    args = dict(model_card.get("architecture", {}))
    if "wavelet" in args:  # FIRENET's sparsifying transform, by name
        wavelet = args.pop("wavelet")
        args["W"] = Wavelet(A.in_shape, wavelet["name"], levels=wavelet["levels"]).to(
            module_device(A) or "cpu")
    return cls(A, **args)


def model_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The learned state of a model on the CPU, without its operator's buffers (``A.*``: the
    operator is rebuilt from the card), floats stored as float32."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.startswith("A.")}
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """Load :func:`model_state` weights; anything missing besides the operator is an error."""
    try:  # weights_only: a weights file is data; nothing in it may run code on load
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise StableReconError(f"weights file {path} cannot be loaded as plain tensors "
                               f"({type(exc).__name__}: {str(exc)[:200]}); it is damaged, or "
                               "holds code or objects a weights file must not hold. Retrain "
                               "with the card's train command.") from exc
    if not isinstance(state, dict):
        raise StableReconError(f"weights file {path} does not hold a dict of tensors; "
                               "retrain with the card's train command.")
    load_state(model, state, path)


def load_state(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load a learned state (weights file or checkpoint) into ``model``: every tensor must
    have the shape the model's architecture gives it, and nothing but the operator's buffers
    may be missing; otherwise a clear error naming ``path``."""
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StableReconError(f"{path}: the model state holds something else than tensors; "
                               "retrain with the card's train command.")
    state = {k: v for k, v in state.items() if not k.startswith("A.")}
    own = model.state_dict()
    differ = [f"{k} {tuple(v.shape)} (card: {tuple(own[k].shape)})" for k, v in state.items()
              if k in own and v.shape != own[k].shape]
    if differ:
        raise StableReconError(f"{path}: weights' shapes disagree with the card's architecture "
                               f"({'; '.join(differ[:3])}); the card was edited, or belongs to "
                               "other weights. Use the card written with these weights.")
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("A.")]
    if missing or unexpected:
        raise StableReconError(f"{path}: weights do not fit the card's architecture (missing "
                               f"{missing[:5]}, unexpected {unexpected[:5]}); retrain with the "
                               "card's train command.")


def load(name: str, device: str | torch.device = "cpu") -> torch.nn.Module:
    """A ready-to-run model ``model(y) -> x̂`` (eval mode), operator attached.

    Loading reads tensors only (``weights_only``): a weights file cannot run code, and a
    card may only name a weights file in its own folder.

    Parameters
    ----------
    name : str
        A shipped model's name, or the path of a card .json written by ``stablerecon
        train`` (its weights file sits beside it).
    device : str or torch.device
        Where to put it (``"auto"``: CUDA when present).

    Returns
    -------
    torch.nn.Module
        The model, with its card as ``model.card``.
    """
    card_path = _card_path(name)
    model_card = card(name)
    try:
        model = build(model_card)
    except StableReconError as exc:  # the constructor's checks, said of the card
        raise StableReconError(f"card {card_path}: {exc}") from exc
    weights = model_card.get("weights")
    if weights:
        if Path(weights).name != weights or weights in (".", ".."):
            raise StableReconError(f"card {card_path}: weights {weights!r} is not a file name "
                                   "beside the card; a card may only name a file in its own "
                                   "folder (no paths).")
        path = card_path.parent / weights
        if not path.exists():
            raise StableReconError(f"weights file {path} of model {name!r} is missing; "
                                   "reinstall the package or retrain with the card's command.")
        load_weights(model, path)
    model.card = model_card
    return model.to(resolve_device(device)).eval()
