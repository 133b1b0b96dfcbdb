"""The model card's schema, checked before anything is built: a card is untrusted input (a
file a user edited, received or downloaded), so a missing or unknown field, a field of the
wrong type, or an architecture key the network does not take is refused naming the file and
the field, never left to fail inside a constructor.

The architecture's values are checked by the network's own constructor (the same checks
for a card as for a call in Python); :func:`stablerecon.nets.registry.load` prefixes those
errors with the card's path.
"""

from __future__ import annotations

import inspect
import numbers
from importlib import import_module
from pathlib import Path
from typing import Any

from stablerecon.errors import StableReconError

#: card "network" → "module:class" of the network it builds
NETWORKS = {
    "firenet": "stablerecon.nets.firenet:FIRENET",
    "cascade": "stablerecon.nets.cascade:DeepCascade",
    "varnet": "stablerecon.nets.varnet:VariationalNetwork",
    "dagan": "stablerecon.nets.unet:DAGAN",
    "fbpconvnet": "stablerecon.nets.unet:FBPConvNet",
    "dncnn": "stablerecon.nets.dncnn:DnCNN",
    "lista": "stablerecon.nets.lista:LISTA",
    "e2e-varnet": "stablerecon.nets.e2e_varnet:E2EVarNet",
}

#: every field a card may hold → the type(s) its value must have (None: may be null)
FIELDS: dict[str, tuple] = {
    "name": (str,), "network": (str,), "operator": (dict,), "architecture": (dict,),
    "weights": (str, type(None)), "description": (str,), "notes": (str,),
    "train_command": (str,), "config": (dict,), "data_recipe": (str,), "data_split": (dict,),
    "validation": (dict,), "validation_set": (str,), "history": (list,), "device": (str,),
    "torch": (str,), "training_time_s": (numbers.Real,), "stopped_by_time_limit": (bool,),
    "epochs_done": (numbers.Integral,), "comparison": (dict,), "trained_as": (str,),
    "training_runs": (list,),
    "kind": (str,),  # what cards written before 0.1.0 called "network"
}

#: what a card must hold to build a model
REQUIRED = ("network", "operator")

#: constructor arguments a card never gives (the operator is rebuilt from the card; FIRENET's
#: W comes from the card's "wavelet" entry; its weights are learned)
_NOT_IN_CARDS = {"self", "A", "W", "weights"}


def network_class(network: Any) -> type:
    """The class a card's ``network`` names.

    Parameters
    ----------
    network : str
        A key of :data:`NETWORKS`.

    Returns
    -------
    type
        The network's class.
    """
    if network not in NETWORKS:
        raise StableReconError(f"unknown network {network!r}; known: {sorted(NETWORKS)}.")
    module, cls = NETWORKS[network].split(":")
    return getattr(import_module(module), cls)


def architecture_keys(network: str) -> set[str]:
    """The architecture keys a card may give for ``network``: its constructor's arguments
    (FIRENET also takes ``wavelet``: ``{"name": ..., "levels": ...}``)."""
    params = set(inspect.signature(network_class(network).__init__).parameters) - _NOT_IN_CARDS
    return params | ({"wavelet"} if network == "firenet" else set())


def _type_names(types: tuple) -> str:
    names = {str: "a string", dict: "an object", list: "a list", bool: "true or false",
             type(None): "null", numbers.Real: "a number", numbers.Integral: "an integer"}
    return " or ".join(names[t] for t in types)


def check_card(data: Any, path: str | Path) -> dict[str, Any]:
    """Check a card's fields before anything is built from it.

    Parameters
    ----------
    data : object
        The parsed JSON.
    path : str or Path
        The card's file (named in every message).

    Returns
    -------
    dict
        ``data``.

    Raises
    ------
    StableReconError
        For a card that is not an object, a missing required field, an unknown field, a
        field of the wrong type, an unknown network or an architecture key it does not take.
    """
    fix = "use the card that 'stablerecon train' wrote, unchanged"
    if not isinstance(data, dict):
        raise StableReconError(f"card {path} is not a JSON object; {fix}.")
    if "network" not in data and "kind" in data:
        data = {**{k: v for k, v in data.items() if k != "kind"}, "network": data["kind"]}
    for key in REQUIRED:
        if key not in data:
            raise StableReconError(f"card {path} has no {key!r} field; {fix}.")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise StableReconError(f"card {path}: unknown field(s) {unknown}; a card holds only "
                               f"{sorted(FIELDS)} ({fix}).")
    for key, value in data.items():
        types = FIELDS[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            raise StableReconError(f"card {path}: field {key!r} must be {_type_names(types)}, "
                                   f"got {value!r:.80}; {fix}.")
    if data["network"] not in NETWORKS:
        raise StableReconError(f"card {path}: unknown network {data['network']!r}; known: "
                               f"{sorted(NETWORKS)}.")
    allowed = architecture_keys(data["network"])
    extra = sorted(set(data.get("architecture", {})) - allowed)
    if extra:
        raise StableReconError(f"card {path}: architecture key(s) {extra} are not arguments of "
                               f"{data['network']} (it takes {sorted(allowed)}); {fix}.")
    wavelet = data.get("architecture", {}).get("wavelet")
    if wavelet is not None and not (isinstance(wavelet, dict) and set(wavelet) ==
                                    {"name", "levels"}):
        raise StableReconError(f"card {path}: architecture 'wavelet' must be "
                               f'{{"name": "db4", "levels": 4}}, got {wavelet!r:.80}.')
    return data
