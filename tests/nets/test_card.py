"""A card is untrusted input: each tampering below (generated from a table) is refused with
a StableReconError naming the card's file (or the weights file) — never a foreign exception,
never a model built from it. The untouched card loads."""

import copy
import json
import shutil

import pytest
import torch

from stablerecon.errors import StableReconError
from stablerecon.nets import registry
from stablerecon.nets.card import NETWORKS, architecture_keys, check_card

BASE = json.loads((registry.WEIGHTS_DIR / "mri-cascade.json").read_text())


def _set(*keys_value):
    *keys, value = keys_value

    def edit(card):
        target = card
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


#: tampering → a word the message must contain (the field or what is wrong)
TAMPERED = {
    "no network": (lambda c: c.pop("network"), "'network'"),
    "no operator": (lambda c: c.pop("operator"), "'operator'"),
    "unknown field": (_set("colour", 3), "colour"),
    "unknown network": (_set("network", "transformer"), "transformer"),
    "architecture not an object": (_set("architecture", [1]), "architecture"),
    "architecture key unknown": (_set("architecture", "heads", 4), "heads"),
    "width negative": (_set("architecture", "width", -3), "width"),
    "width absurd": (_set("architecture", "width", 10**7), "width"),
    "width a string": (_set("architecture", "width", "24"), "width"),
    "width a float": (_set("architecture", "width", 24.5), "width"),
    "cascades a boolean": (_set("architecture", "cascades", True), "cascades"),
    "depth zero": (_set("architecture", "depth", 0), "depth"),
    "weights' shapes disagree": (_set("architecture", "width", 16), "shapes disagree"),
    "weights a number": (_set("weights", 5), "weights"),
    "name a list": (_set("name", []), "name"),
    "epochs_done a string": (_set("epochs_done", "3"), "epochs_done"),
    "stopped_by_time_limit a number": (_set("stopped_by_time_limit", 1), "stopped"),
    "training time a boolean": (_set("training_time_s", True), "training_time_s"),
    "operator shape absurd": (_set("operator", "shape", [10**6, 10**6]), "too large"),
    "operator shape a string": (_set("operator", "shape", "128"), "shape"),
    "operator without modality": (lambda c: c["operator"].pop("modality"), "modality"),
    "sampling rate 3": (_set("operator", "mask", "rate", 3), "rate"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("card")
    shutil.copy(registry.WEIGHTS_DIR / "mri-cascade.pt", d / "mri-cascade.pt")
    return d


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_card_is_refused_naming_the_file_and_field(case, folder):
    edit, word = TAMPERED[case]
    card = copy.deepcopy(BASE)
    edit(card)
    path = folder / "card.json"
    path.write_text(json.dumps(card))
    with pytest.raises(StableReconError) as err:
        registry.load(str(path))
    msg = str(err.value)
    assert word in msg
    assert str(folder) in msg  # the card's (or its weights') file is named


def test_the_untouched_card_loads(folder):
    path = folder / "card.json"
    path.write_text(json.dumps(BASE))
    model = registry.load(str(path))
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_card_that_is_not_an_object_is_refused(tmp_path):
    with pytest.raises(StableReconError, match="not a JSON object"):
        check_card([1, 2], tmp_path / "c.json")


def test_every_shipped_card_passes_the_schema():
    for name in registry.available():
        check_card(json.loads((registry.WEIGHTS_DIR / f"{name}.json").read_text()), name)


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_architecture_keys_are_the_constructor_arguments(network):
    keys = architecture_keys(network)
    assert "A" not in keys and "self" not in keys and keys


def test_a_weights_file_holding_a_non_tensor_is_refused(tmp_path):
    model = registry.load("mri-cascade")
    state = {k: v for k, v in registry.model_state(model).items()}
    state[next(iter(state))] = [1, 2, 3]
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(StableReconError, match="w.pt"):
        registry.load_weights(model, tmp_path / "w.pt")
