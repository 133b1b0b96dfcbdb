"""Put trained models into the package registry: ``python -m stablerecon.train.ship DIR``.

For each ``<name>.json`` + ``<name>.pt`` in DIR (written by ``stablerecon train``) it measures
Ψ and Φ on the card's held-out validation set (:func:`compare_with_standard`), records both in
the card under ``comparison``, and copies card and weights into ``stablerecon/nets/weights``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch

from stablerecon.nets.registry import WEIGHTS_DIR, build
from stablerecon.report.files import write_json
from stablerecon.train.evaluate import compare_with_standard


def ship(folder: str | Path, names: list[str] | None = None) -> list[str]:
    """Ship the models of ``folder`` (all, or ``names``); returns the names shipped."""
    folder = Path(folder)
    shipped = []
    for card_path in sorted(folder.glob("*.json")):
        card = json.loads(card_path.read_text())
        if names and card["name"] not in names or "weights" not in card:
            continue
        model = build(card)
        model.load_state_dict(torch.load(folder / card["weights"], weights_only=True))
        model.eval()
        card["comparison"] = compare_with_standard(model, card)
        print(card["name"], json.dumps(card["comparison"]), flush=True)
        shutil.copyfile(folder / card["weights"], WEIGHTS_DIR / card["weights"])
        write_json(WEIGHTS_DIR / f"{card['name']}.json", card)
        shipped.append(card["name"])
    return shipped


if __name__ == "__main__":
    ship(sys.argv[1], sys.argv[2:] or None)
