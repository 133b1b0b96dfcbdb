"""Audit results in plain words: the numbers appear as measured, and the contrast's sentences
follow the direction the numbers fall."""

import pytest
import torch

import stablerecon as sr
from stablerecon.audit import AuditResult
from stablerecon.report.describe import COMPARABLE, compare, contrast, describe


@pytest.fixture(scope="module")
def results():
    shape = (32, 32)
    A = sr.operators.SubsampledFourier(shape, sr.operators.sampling.variable_density(shape, 0.3))
    x = sr.data.shepp_logan(32, dtype=torch.float64)
    return sr.audit.run(lambda y: A.H(y), A, x, ["instability", "noise", "kernel", "accuracy"],
                        radii=[0.05], steps=3, phi_options={"tol": 1e-3, "max_iter": 200},
                        options={"noise": {"K": (1, 5), "phi_K": 2},
                                 "accuracy": {"iterations": 2}})


def test_each_test_reads_its_own_numbers(results):
    inst = results["instability"].metrics["perturbations"][-1]
    text = " ".join(describe(results["instability"]))
    assert f"{inst['psi']['amplification']:.1f}×" in text
    assert f"{inst['phi']['psnr_drop']:.1f} dB" in text
    noise = " ".join(describe(results["noise"]))
    assert "(K=1)" in noise and "(K=5)" in noise and "worst-case / worst-random" in noise
    kernel = " ".join(describe(results["kernel"]))
    assert f"{results['kernel'].metrics['unavoidable_error']:.3g}" in kernel
    accuracy = " ".join(describe(results["accuracy"]))
    assert f"{results['accuracy'].metrics['phi_smallest_amplitude']:.3g}" in accuracy
    assert describe(AuditResult("curve", {}, notes=["a note"])) == [
        "curve: see curve.json for the numbers.", "a note"]


def _pair(lost_psi, lost_phi, amp_psi, amp_phi, ratio_psi, ratio_phi):
    inst = AuditResult("instability", {"perturbations": [{
        "r_rel": 0.01, "psi": {"psnr_drop": lost_psi, "amplification": amp_psi},
        "phi": {"psnr_drop": lost_phi, "amplification": amp_phi}}]})
    noise = AuditResult("noise", {"psi": {"1": {}, "100": {}},
                                  "ratio_worst_case_to_worst_random": ratio_psi,
                                  "phi_ratio_worst_case_to_worst_random": ratio_phi})
    return inst, noise


def test_the_contrast_says_which_way_the_numbers_fall():
    unstable = contrast(*_pair(8.0, 0.5, 20.0, 2.0, 10.0, 1.2), psi_db=35.0, phi_db=30.0)
    text = " ".join(unstable["sentences"])
    assert "5.0 dB more accurate" in text and "16.0× more than Φ" in text
    assert "worst of 100 random" in text and "exploits Ψ 8.3× more than Φ" in text
    assert unstable["numbers"]["overperformance_db"] == 5.0
    stable = contrast(*_pair(0.5, 2.0, 1.0, 3.0, 1.1, 1.0), psi_db=28.0, phi_db=30.0)
    text = " ".join(stable["sentences"])
    assert "2.0 dB less accurate" in text and "here Φ loses 4.0× more than Ψ" in text
    assert "exploited comparably" in text
    assert "Φ moves more than Ψ" in text


@pytest.mark.parametrize(("psi", "phi", "word"), [
    (3.9, 2.0, "Ψ"), (2.0, 3.9, "Φ"), (1.0, 1.0 + COMPARABLE, "comparable"),
    (1.0 + COMPARABLE, 1.0, "comparable"), (1.0, 1.0 + 1.01 * COMPARABLE, "Φ"),
    (1.3, 1.0, "Ψ"), (1.0, 0.0, "Ψ"), (float("nan"), 1.0, "unknown")])
def test_compare_follows_the_stated_threshold(psi, phi, word):
    assert compare(psi, phi)[0] == word


def test_never_comparably_when_one_ratio_is_twice_the_other():
    """The demo once said "exploited comparably" for ratios 3.9 and 2.0: the wording now
    follows the 20 % threshold both ways."""
    twice = " ".join(contrast(*_pair(3.0, 1.0, 5.0, 2.0, 3.9, 2.0), 30.0, 29.0)["sentences"])
    assert "comparably" not in twice and "exploits Ψ 1.9× more than Φ" in twice
    reverse = " ".join(contrast(*_pair(3.0, 1.0, 5.0, 2.0, 2.0, 3.9), 30.0, 29.0)["sentences"])
    assert "comparably" not in reverse and "exploits Φ 1.9× more than Ψ" in reverse
    close = " ".join(contrast(*_pair(1.1, 1.0, 2.1, 2.0, 2.1, 2.0), 30.0, 29.0)["sentences"])
    assert "exploited comparably" in close and "comparable losses" in close
    assert "Φ moves about as much as Ψ" in close
