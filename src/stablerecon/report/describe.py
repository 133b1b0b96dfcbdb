"""Audit results in plain words: the one place that turns an audit's metrics into sentences.

The demo's report, the ``stablerecon audit`` command and anyone holding an
:class:`~stablerecon.audit.AuditResult` get the same reading of the numbers, written once
per test beside the metric names the audits define. Sentences state the numbers whichever
way they fall (Ψ worse or better than Φ).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from stablerecon.audit.result import AuditResult

__all__ = ["COMPARABLE", "compare", "contrast", "describe"]

#: two positive numbers are called comparable when the larger is at most this much (relative)
#: above the smaller: 0.2 means within 20 %
COMPARABLE = 0.2


def compare(a: float, b: float, subject_a: str = "Ψ", subject_b: str = "Φ") -> tuple[str, float]:
    """Which of two positive quantities is larger, in words that follow a stated threshold.

    Returns ``("comparable", ratio)`` when max(a, b) / min(a, b) ≤ 1 + :data:`COMPARABLE`,
    else ``(subject, ratio)`` naming the larger one, with ratio = max / min (∞ when the
    smaller is 0, NaN when either is NaN: then the word is ``"unknown"``).
    """
    if math.isnan(a) or math.isnan(b):
        return "unknown", math.nan
    high, low = max(a, b), min(a, b)
    ratio = high / low if low > 0 else math.inf
    if ratio <= 1 + COMPARABLE:
        return "comparable", ratio
    return (subject_a if a > b else subject_b), ratio


def _more_or_less(a: float, b: float) -> str:
    word, _ = compare(a, b)
    return "about as much as" if word == "comparable" else "more than" if a > b else "less than"


def _losses(lost_psi: float, lost_phi: float) -> str:
    """The end of the worst-case sentence: who loses more PSNR, by the stated threshold."""
    word, ratio = compare(lost_psi, lost_phi)
    if word == "comparable":
        return f": comparable losses (within {100 * COMPARABLE:.0f} %)."
    if word == "unknown":
        return "."
    other = "Φ" if word == "Ψ" else "Ψ"
    times = "" if math.isinf(ratio) else f" {ratio:.1f}×"
    return f", so {'' if word == 'Ψ' else 'here '}{word} loses{times} more than {other}."


def _exploited(ratio_psi: float, ratio_phi: float) -> str:
    """The worst-case/worst-random ratios of Ψ and Φ compared, with the threshold stated."""
    word, ratio = compare(ratio_psi, ratio_phi)
    if word == "comparable":
        return (f"Ψ and Φ are exploited comparably by it (their ratios are within "
                f"{100 * COMPARABLE:.0f} % of each other).")
    if word == "unknown":
        return "Φ's ratio was not measured, so the two cannot be compared."
    return (f"Relative to random noise, the tuned r exploits {word} {ratio:.1f}× more than "
            f"{'Φ' if word == 'Ψ' else 'Ψ'}.")


def _instability(m: dict[str, Any]) -> list[str]:
    row = m["perturbations"][-1]
    text = (f"At the largest r (||r||/||x|| = {row['r_rel']:.3g}) Ψ's output moves "
            f"{row['psi']['amplification']:.1f}× the relative size of r and loses "
            f"{row['psi']['psnr_drop']:.1f} dB")
    if "phi" in row:
        text += (f"; Φ under the same r moves {row['phi']['amplification']:.1f}× and loses "
                 f"{row['phi']['psnr_drop']:.1f} dB")
    return [text + "."]


def _noise(m: dict[str, Any]) -> list[str]:
    counts = sorted(int(k) for k in m["psi"] if k.isdigit())
    worst = ", ".join(f"{m['psi'][str(k)]['worst_change_rel']:.4f} (K={k})" for k in counts)
    out = [f"Gaussian perturbations of relative size {m['r_rel']:.3g}: Ψ's worst output change "
           f"{worst}."]
    if "ratio_worst_case_to_worst_random" in m:
        ratio = m["ratio_worst_case_to_worst_random"]
        text = (f"Under the worst case Ψ changes by {m['worst_case_change_rel']:.4f}: "
                f"worst-case / worst-random = {ratio:.1f}.")
        phi_ratio = m.get("phi_ratio_worst_case_to_worst_random")
        if phi_ratio is not None:
            text += (f" Φ under the same worst case changes by "
                     f"{m['phi_change_rel_under_worst_case']:.4f}, {phi_ratio:.1f}× its worst "
                     f"change under {m['phi'].get('evaluated', 0)} random draws. "
                     + _exploited(ratio, phi_ratio))
        out.append(text)
    return out


def _kernel(m: dict[str, Any]) -> list[str]:
    text = (f"x' = x + z with z in the kernel of A (||z||/||x|| = {m['z_norm_rel']:.3f}): "
            f"||A(x − x')|| = {m['measurement_gap_rel']:.1e}·||Ax||. Any method errs by at "
            f"least {m['unavoidable_error']:.3g} on one of the two; Ψ errs by "
            f"{m['error_x']:.3g} and {m['error_x_prime']:.3g}.")
    if m.get("lipschitz_lower_bound") is not None:
        text += (f" Ψ is accurate on both, so its Lipschitz constant is at least "
                 f"{m['lipschitz_lower_bound']:.3g}: certified unstable.")
    shares = [f"{name} {m[key]:.1%}" for name, key in (
        ("Ψ", "hallucination_fraction_psi"), ("Φ", "hallucination_fraction_phi"),
        ("truth", "hallucination_fraction_truth")) if m.get(key) is not None]
    if shares:
        text += (" Share of each output in the kernel of A (not determined by the data): "
                 + ", ".join(shares) + ".")
    return [text]


def _amplitude(a: float | None) -> str:
    return "none in the range searched" if a is None else f"{a:.3g}"


def _accuracy(m: dict[str, Any]) -> list[str]:
    recovers = m.get("psi_recovers_at_phi_amplitude")
    return [f"Smallest amplitude of the inserted {m.get('detail', 'detail')} that Φ recovers "
            f"(correlation ≥ {m['threshold']} in its region): "
            f"{_amplitude(m['phi_smallest_amplitude'])}. Ψ "
            f"{'recovers' if recovers else 'does not recover'} it at that amplitude "
            f"(correlation {m.get('psi_correlation', math.nan):.2f}); its own smallest "
            f"amplitude: {_amplitude(m['psi_smallest_amplitude'])}."]


_DESCRIBE: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "instability": _instability, "noise": _noise, "kernel": _kernel, "accuracy": _accuracy}


def describe(result: AuditResult) -> list[str]:
    """The result of one audit in plain words.

    Parameters
    ----------
    result : AuditResult
        From any test of :mod:`stablerecon.audit`.

    Returns
    -------
    list of str
        Sentences with the numbers; for a test without a reading here (``curve``,
        ``more_samples``), a pointer to its JSON. The result's notes follow.
    """
    if result.failed:  # the note says it
        return list(result.notes)
    reader = _DESCRIBE.get(result.audit)
    sentences = reader(result.metrics) if reader else [
        f"{result.audit}: see {result.audit}.json for the numbers."]
    return sentences + list(result.notes)


def contrast(instability: AuditResult, noise: AuditResult, psi_db: float,
             phi_db: float) -> dict[str, Any]:
    """The lecture's contrast in plain words, from the measured numbers (whichever way they
    fall): how much more accurate Ψ is than Φ, what the largest worst-case r costs each, how
    much each is moved by it, and how special that r is compared with random noise.

    Parameters
    ----------
    instability : AuditResult
        Ψ's instability test, with Φ under the same r.
    noise : AuditResult
        The noise test run with ``worst_case=instability``.
    psi_db, phi_db : float
        PSNR of Ψ(Ax) and Φ(Ax) against x.

    Returns
    -------
    dict
        ``numbers`` (overperformance, PSNR lost, amplification and worst-case /
        worst-random ratio of both) and ``sentences``.
    """
    row = instability.metrics["perturbations"][-1]
    nm = noise.metrics
    lost_psi, lost_phi = row["psi"]["psnr_drop"], row["phi"]["psnr_drop"]
    amp_psi, amp_phi = row["psi"]["amplification"], row["phi"]["amplification"]
    ratio_psi = nm["ratio_worst_case_to_worst_random"]
    ratio_phi = nm.get("phi_ratio_worst_case_to_worst_random", math.nan)
    draws = max(int(k) for k in nm["psi"] if k.isdigit())
    numbers = {"overperformance_db": psi_db - phi_db, "r_rel": row["r_rel"],
               "psnr_lost_psi": lost_psi, "psnr_lost_phi": lost_phi,
               "amplification_psi": amp_psi, "amplification_phi": amp_phi,
               "worst_over_random_psi": ratio_psi, "worst_over_random_phi": ratio_phi}
    size = f"a perturbation of {100 * row['r_rel']:.1f}% of the image's norm, tuned against Ψ"
    sentences = [
        f"Accuracy: Ψ reconstructs this image at {psi_db:.1f} dB and Φ at {phi_db:.1f} dB, so "
        f"Ψ is {abs(psi_db - phi_db):.1f} dB {'more' if psi_db > phi_db else 'less'} accurate "
        "than the standard method.",
        f"Worst case: {size}, costs Ψ {lost_psi:.1f} dB; the same r costs Φ {lost_phi:.1f} dB"
        + _losses(lost_psi, lost_phi),
        f"Output movement: Ψ's output moves {amp_psi:.1f}× the relative size of r and Φ's "
        f"{amp_phi:.1f}×; Φ moves {_more_or_less(amp_phi, amp_psi)} Ψ in norm"
        + (", but its changes stay within its own larger error, which is why it loses fewer "
           "dB." if amp_phi >= amp_psi and lost_phi < lost_psi else "."),
        f"Is the worst case special? For Ψ it changes the output {ratio_psi:.1f}× more than "
        f"the worst of {draws} random perturbations of the same size; for Φ the same r is "
        f"{ratio_phi:.1f}× its worst random change. " + _exploited(ratio_psi, ratio_phi),
    ]
    return {"numbers": numbers, "sentences": sentences}
