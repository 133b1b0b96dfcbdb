"""Put trained models into the package registry:
``python -m stablerecon.train.ship DIR [NAME[=SHIPPED_NAME] ...]``.

For each ``<name>.json`` + ``<name>.pt`` in DIR (written by ``stablerecon train``) it measures
Ψ and Φ (at its best λ of the grid) on the card's held-out validation set
(:func:`compare_with_standard`), records both in
the card under ``comparison``, and copies card and weights into ``stablerecon/nets/weights``
(under ``SHIPPED_NAME`` when given; the card then keeps the training name in ``trained_as``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stablerecon.io import save_torch, write_json
from stablerecon.nets.registry import WEIGHTS_DIR, build, load_weights, model_state
from stablerecon.train.evaluate import compare_with_standard


def ship(folder: str | Path, names: dict[str, str] | None = None) -> list[str]:
    """Ship the models of ``folder`` (all, or those named in ``names``, a map from the
    training name to the name to ship under); returns the names shipped."""
    folder = Path(folder)
    shipped = []
    for card_path in sorted(folder.glob("*.json")):
        card = json.loads(card_path.read_text())
        if names and card["name"] not in names or "weights" not in card:
            continue
        model = build(card)
        load_weights(model, folder / card["weights"])
        model.eval()
        target = (names or {}).get(card["name"], card["name"])
        if target != card["name"]:
            card.update(trained_as=card["name"], name=target, weights=f"{target}.pt")
        card["comparison"] = compare_with_standard(model, card)
        print(card["name"], json.dumps(card["comparison"]), flush=True)
        save_torch(WEIGHTS_DIR / card["weights"], model_state(model))
        write_json(WEIGHTS_DIR / f"{card['name']}.json", card)
        shipped.append(card["name"])
    return shipped


if __name__ == "__main__":
    pairs = [arg.split("=", 1) for arg in sys.argv[2:]]
    ship(sys.argv[1], {p[0]: p[-1] for p in pairs} or None)
