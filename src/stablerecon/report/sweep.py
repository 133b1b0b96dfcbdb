"""A sweep's aggregate as files: sentences and a table (CSV, JSON, Markdown), the full numbers
as JSON, plots of PSNR lost and amplification against the budget, Ψ beside Φ, and
``report.html`` (the same page builder as the demo's and the audit's, figures embedded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stablerecon.io import write_json, write_text
from stablerecon.report.figures import line_plot
from stablerecon.report.html import Section, write_report
from stablerecon.report.tables import markdown, write_tables

#: the table's columns, in order
COLUMNS = ("model", "budget", "images", "Ψ−Φ dB", "Ψ lost dB", "Ψ lost max", "Φ lost dB",
           "Φ lost max", "Ψ amp", "Ψ amp max", "Φ amp", "Φ amp max", "Ψ wc/rnd", "Φ wc/rnd",
           "Ψ rnd lost dB", "Φ rnd lost dB", "certified", "details")


def _get(entry: dict[str, Any] | None, stat: str = "median") -> float | None:
    return None if entry is None else entry[stat]


def rows(aggregate: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model and budget (medians over images × seeds, and the largest values);
    a model without budgeted cells gets one row for its kernel and accuracy numbers."""
    out = []
    for model, numbers in aggregate.items():
        common = {"model": model, "Ψ−Φ dB": _get(numbers["psi_minus_phi_psnr"]),
                  "certified": numbers["certified_unstable_share"],
                  "details": numbers["detail_recovery_rate"]}
        for budget, e in numbers["budgets"].items() or [(None, None)]:
            row = dict(common, budget=budget)
            if e is not None:
                row.update({
                    "images": e["images"],
                    "Ψ lost dB": _get(e["psi_psnr_lost"]),
                    "Ψ lost max": _get(e["psi_psnr_lost"], "max"),
                    "Φ lost dB": _get(e["phi_psnr_lost"]),
                    "Φ lost max": _get(e["phi_psnr_lost"], "max"),
                    "Ψ amp": _get(e["psi_amplification"]),
                    "Ψ amp max": _get(e["psi_amplification"], "max"),
                    "Φ amp": _get(e["phi_amplification"]),
                    "Φ amp max": _get(e["phi_amplification"], "max"),
                    "Ψ wc/rnd": _get(e["psi_worst_case_to_worst_random"]),
                    "Φ wc/rnd": _get(e["phi_worst_case_to_worst_random"]),
                    "Ψ rnd lost dB": _get(e["psi_worst_random_psnr_lost"]),
                    "Φ rnd lost dB": _get(e["phi_worst_random_psnr_lost"])})
            out.append(row)
    return out


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def sentences(aggregate: dict[str, Any]) -> list[str]:
    """The aggregate in plain words: per model and budget, what the worst-case r costs Ψ and
    Φ, how much each amplifies it, and how special r is against random noise of its size."""
    out = []
    for model, n in aggregate.items():
        gain = n["psi_minus_phi_psnr"]
        head = f"{model}: " + (f"Ψ {_num(_get(gain), '+.1f')} dB against Φ on clean data "
                               "(median). " if gain else "")
        parts = []
        for budget, e in n["budgets"].items():
            psi, phi = e["psi_psnr_lost"], e["phi_psnr_lost"]
            text = f"At ||r|| = {budget}·||x|| ({e['images']} images × seeds)"
            if psi:
                text += (f" the worst-case r costs Ψ {_num(_get(psi))} dB (worst "
                         f"{_num(_get(psi, 'max'))})")
                if phi:
                    text += f" and Φ {_num(_get(phi))} dB under the same r"
                amp, amp_phi = e["psi_amplification"], e["phi_amplification"]
                text += f"; amplification Ψ {_num(_get(amp), '.2g')}"
                if amp_phi:
                    text += f", Φ {_num(_get(amp_phi), '.2g')}"
            ratio = e["psi_worst_case_to_worst_random"]
            ratio_phi = e["phi_worst_case_to_worst_random"]
            if ratio:
                text += (f"; worst-case/worst-random change Ψ {_num(_get(ratio), '.2g')}×"
                         + (f", Φ {_num(_get(ratio_phi), '.2g')}×" if ratio_phi else ""))
            elif e["psi_worst_random_psnr_lost"]:
                text += (f"; the worst random draw costs Ψ "
                         f"{_num(_get(e['psi_worst_random_psnr_lost']))} dB")
            parts.append(text)
        tail = []
        if n["certified_unstable_share"] is not None:
            tail.append(f"certified unstable (kernel test) on {n['certified_unstable_share']:.0%}"
                        f" of {n['kernel_images']} images")
        if n["detail_recovery_rate"] is not None:
            tail.append(f"recovers the detail Φ recovers on {n['detail_recovery_rate']:.0%} of "
                        f"{n['accuracy_images']} images")
        tail_text = "; ".join(tail)
        out.append(head + ". ".join(parts) + (". " if parts else "")
                   + (tail_text[:1].upper() + tail_text[1:] + "." if tail else ""))
    return [s.strip() for s in out]


def save(out: str | Path, aggregate: dict[str, Any], status: dict[str, Any]) -> list[Path]:
    """Write ``summary.json`` (``status`` and the full aggregate), ``summary.md`` (in words
    and as a table), ``table.csv/.json/.md`` (one row per model and budget) and the plots
    ``psnr-lost.png`` and ``amplification.png`` and ``report.html`` into ``out``."""
    out = Path(out)
    files = [write_json(out / "summary.json", {"status": status, "aggregate": aggregate})]
    table = rows(aggregate)
    files += write_tables(table, COLUMNS, out, "table")
    files.append(write_text(out / "summary.md", "# Sweep\n\n" + "\n\n".join(sentences(aggregate))
                            + "\n\nMedians over images × seeds; 'max' the largest value. "
                              "amp: amplification (relative output change ÷ ||r||/||x||); "
                              "wc/rnd: worst-case ÷ worst-random output change; certified: "
                              "share of images with a kernel-test certificate of instability; "
                              "details: detail recovery rate.\n\n" + markdown(table, COLUMNS)))
    plots = []
    for name, key, label in (("psnr-lost", "psnr_lost", "PSNR lost (dB), median"),
                             ("amplification", "amplification", "amplification, median")):
        series: dict[str, tuple[list[float], list[float]]] = {}
        for model, numbers in aggregate.items():
            points = [(float(b), e) for b, e in numbers["budgets"].items()
                      if e[f"psi_{key}"] is not None]
            for who, sign in (("psi", "Ψ"), ("phi", "Φ")):
                values = [_get(e[f"{who}_{key}"]) for _, e in points]
                if points and all(v is not None for v in values):
                    series[f"{model}: {sign}"] = ([b for b, _ in points], values)
        if series:
            plots.append(line_plot(out / f"{name}.png", [], series, "||r|| / ||x||", label,
                                   "Worst-case perturbations: Ψ and Φ under the same r"))
    failed = status.get("failed") or 0
    words = sentences(aggregate) + ([f"{failed} cell(s) failed: see failed/ for each error."]
                                    if failed else [])
    files += plots
    files.append(write_report(out / "report.html", "stablerecon sweep", [
        Section("What the sweep shows", words, [(table, list(COLUMNS))], plots)]))
    return files
