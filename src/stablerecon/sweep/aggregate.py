"""From the records of a sweep's cells to the study's numbers, per model and budget.

For each model and budget δ (over images × seeds): the median and largest PSNR lost and
amplification ||ΔΨ||/||Ψ|| ÷ ||r||/||x|| under the worst-case r, for Ψ and for Φ under the
same r; the same for the worst of the random draws; and each method's ratio worst-case /
worst-random output change (the instability and noise cells of one image, budget and seed
joined). Per model: Ψ's clean PSNR against Φ's, the share of images with a certified
instability (the kernel test's Lipschitz lower bound > 1: Ψ is accurate on x and x' with
A x ≈ A x', so some perturbation of the measurements is amplified), and the detail recovery
rate (images where Ψ recovers the detail at the smallest amplitude Φ recovers).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

#: (name, instability/noise summary key) of the per-budget numbers
_BUDGETED = (
    ("psi_psnr_lost", "psi_psnr_lost"), ("phi_psnr_lost", "phi_psnr_lost"),
    ("psi_amplification", "psi_amplification"), ("phi_amplification", "phi_amplification"),
    ("psi_worst_random_psnr_lost", "psi_worst_random_psnr_lost"),
    ("phi_worst_random_psnr_lost", "phi_worst_random_psnr_lost"),
)


def spread(values: Iterable[float | None]) -> dict[str, float] | None:
    """Median and maximum of the values that are present.

    Parameters
    ----------
    values : iterable of float or None
        Numbers, None where absent.

    Returns
    -------
    dict or None
        ``median``, ``max``, ``count``; None if no value is present.
    """
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {"median": statistics.median(present), "max": max(present), "count": len(present)}


def _share(flags: Iterable[bool | None]) -> float | None:
    present = [bool(f) for f in flags if f is not None]
    return sum(present) / len(present) if present else None


def aggregate(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The study's numbers (see the module docstring) from finished cell records.

    Parameters
    ----------
    records : iterable of dict
        Cell records (:func:`~stablerecon.sweep.run_cell`); failed ones are skipped.

    Returns
    -------
    dict
        Per model: medians and maxima of PSNR lost, amplification and worst-case /
        worst-random ratios for Ψ and Φ, and counts.
    """
    by_model: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec.get("status") == "ok":
            by_model.setdefault(rec["cell"]["model"], []).append(rec)
    out: dict[str, Any] = {}
    for model in sorted(by_model):
        recs = sorted(by_model[model], key=lambda r: r["key"])
        out[model] = _model_numbers(recs)
    return out


def _model_numbers(recs: list[dict[str, Any]]) -> dict[str, Any]:
    def where(test: str) -> list[dict[str, Any]]:
        return [r for r in recs if r["cell"]["test"] == test]

    def place(r: dict[str, Any]) -> tuple:
        c = r["cell"]
        return c["image"], c["budget"], c["seed"]

    instab, noise = where("instability"), where("noise")
    random_by_place = {place(r): r["summary"] for r in noise}
    budgets = sorted({r["cell"]["budget"] for r in instab + noise})
    per_budget: dict[str, Any] = {}
    for b in budgets:
        rows = [r["summary"] for r in instab + noise if r["cell"]["budget"] == b]
        entry: dict[str, Any] = {"images": len({place(r) for r in instab + noise
                                                if r["cell"]["budget"] == b})}
        for name, key in _BUDGETED:
            entry[name] = spread(s.get(key) for s in rows)
        for who in ("psi", "phi"):
            ratios = []
            for r in instab:
                rnd = random_by_place.get(place(r))
                if r["cell"]["budget"] != b or rnd is None:
                    continue
                worst, random = r["summary"].get(f"{who}_change_rel"), \
                    rnd.get(f"{who}_worst_random_change_rel")
                if worst is not None and random:
                    ratios.append(worst / random)
            entry[f"{who}_worst_case_to_worst_random"] = spread(ratios)
        per_budget[f"{b:g}"] = entry
    clean = {(r["cell"]["image"], r["cell"]["seed"]): r["summary"] for r in instab}
    gains = [s["psi_psnr"] - s["phi_psnr"] for s in clean.values() if s.get("phi_psnr") is not None]
    kernel, accuracy = where("kernel"), where("accuracy")
    return {
        "cells": len(recs),
        "psi_psnr": spread(s["psi_psnr"] for s in clean.values()),
        "phi_psnr": spread(s.get("phi_psnr") for s in clean.values()),
        "psi_minus_phi_psnr": spread(gains),
        "budgets": per_budget,
        "certified_unstable_share": _share(r["summary"]["certified_unstable"] for r in kernel),
        "kernel_images": len(kernel),
        "detail_recovery_rate": _share(r["summary"]["psi_recovers"] for r in accuracy),
        "accuracy_images": len(accuracy),
    }
