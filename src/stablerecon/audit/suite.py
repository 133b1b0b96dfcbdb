"""The audits as one suite: choose tests by name, run them on one model, operator and image,
with Ψ(Ax) and Φ(Ax) computed once and handed to every test.

``run(model, A, x, ["instability", "noise", "kernel"])`` returns ``{name: AuditResult}``
in the order asked. When both ``instability`` and ``noise`` are asked, the noise test draws
its random perturbations at the size of the largest worst-case r and reports each method's
worst-case/worst-random ratio; asked alone, it draws them at the largest radius. The command
line (``stablerecon audit``) and the sweep's cells run the audits through this function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from stablerecon import validate
from stablerecon.audit.accuracy import accuracy
from stablerecon.audit.common import (
    PARAMETERS,
    Clean,
    anchor_of,
    clean_outputs,
    default_phi,
)
from stablerecon.audit.curve import curve
from stablerecon.audit.instability import instability
from stablerecon.audit.kernel import kernel
from stablerecon.audit.more_samples import more_samples
from stablerecon.audit.noise import noise
from stablerecon.audit.reconstructor import as_reconstructor
from stablerecon.audit.result import AuditResult
from stablerecon.docstrings import fill
from stablerecon.errors import StableReconError
from stablerecon.operators.base import LinearOperator

#: the tests of the suite, in the order they run
TESTS = ("instability", "noise", "curve", "more_samples", "accuracy", "kernel")


def check_tests(tests: Sequence[str]) -> list[str]:
    """The test names, each once, in the order given.

    Parameters
    ----------
    tests : sequence of str
        Names from :data:`TESTS`.

    Returns
    -------
    list of str
        The names.

    Raises
    ------
    StableReconError
        For an unknown name, or none.
    """
    chosen = list(dict.fromkeys(tests))
    unknown = [t for t in chosen if t not in TESTS]
    if unknown or not chosen:
        raise StableReconError(f"unknown test(s) {unknown}; choose from {', '.join(TESTS)}."
                               if unknown else f"no test chosen; choose from {', '.join(TESTS)}.")
    return chosen


@fill(PARAMETERS)
def run(model: Any, A: LinearOperator, x: torch.Tensor,
        tests: Sequence[str] = ("instability", "noise", "kernel"), *,
        radii: Sequence[float] = (0.01, 0.02, 0.04), steps: int = 30, seed: int = 0,
        phi: Any = "auto", phi_options: dict[str, Any] | None = None,
        options: dict[str, dict[str, Any]] | None = None,
        progress: bool = False, clean: Clean | None = None,
        done: dict[str, AuditResult] | None = None,
        on_result: Callable[[str, AuditResult], None] | None = None,
        keep_going: bool = False) -> dict[str, AuditResult]:
    """Run ``tests`` on Ψ = ``model`` at x beside Φ, with Ψ(Ax) and Φ(Ax) computed once.

    Parameters
    ----------
    {{model}}
    {{A}}
    {{x}}
    tests : sequence of str
        From :data:`TESTS`: ``instability``, ``noise``, ``curve``, ``more_samples``,
        ``accuracy``, ``kernel``.
    radii : sequence of float
        Perturbation sizes ||r||/||x|| of the instability and noise tests.
    steps : int
        Ascent steps of each worst-case search (the robustness curve uses a third).
    {{seed}}
    {{phi}}
    phi_options : dict, optional
        Options of the automatic Φ, such as ``tol`` and ``max_iter``.
    options : dict, optional
        Keyword arguments per test, e.g. ``{"noise": {"K": (1, 20)}}``.
    progress : bool
        Show progress bars.
    {{clean}}
    done : dict, optional
        Results of an earlier run with the same settings, taken as they are (the noise
        test compares with a done instability test).
    on_result : callable, optional
        ``on_result(name, result)`` as each test that runs finishes.
    keep_going : bool
        A test that fails with a :class:`StableReconError` (the model raised, a test that
        does not apply to this operator) becomes :meth:`AuditResult.failure` and the other
        tests still run (the noise test then takes ``max(radii)`` if the instability test
        failed); default: the error stops the run.

    Returns
    -------
    dict of str to AuditResult
        One result per test, in the order given.
    """
    chosen = check_tests(tests)
    radii = validate.numbers_list("radii (||r||/||x||)", radii, low=0)
    options = {k: dict(v) for k, v in (options or {}).items()}
    bad = sorted(set(options) - set(TESTS))
    if bad:
        raise StableReconError(f"options for unknown test(s) {bad}; tests: {', '.join(TESTS)}.")
    results: dict[str, AuditResult] = {k: v for k, v in (done or {}).items() if k in chosen}
    if all(name in results for name in chosen):
        return {name: results[name] for name in chosen}
    psi = as_reconstructor(model)
    phi_r = default_phi(A, phi, x, **(phi_options or {}))
    clean = clean_outputs(psi, phi_r, A, anchor_of(A, x, psi), clean)
    common = {"seed": seed, "phi": phi_r}
    for name in (t for t in TESTS if t in chosen and t not in results):
        try:
            out = _one_test(name, psi, A, x, results, radii, steps, progress, clean, common,
                            phi, seed, options.get(name, {}))
        except StableReconError as exc:
            if not keep_going:
                raise
            out = AuditResult.failure(name, str(exc), seed=seed)
        results[name] = out
        if on_result is not None:
            on_result(name, out)
    return {name: results[name] for name in chosen}


def _one_test(name: str, psi, A: LinearOperator, x, results: dict[str, AuditResult], radii,
              steps: int, progress: bool, clean: Clean, common: dict[str, Any], phi: Any,
              seed: int, extra: dict[str, Any]) -> AuditResult:
    """Test ``name`` of :func:`run`, given the results of the tests before it."""
    from stablerecon.data.scan import Scan

    if isinstance(x, Scan) and name in ("more_samples", "accuracy", "kernel"):
        return _on_scan_image(name, psi, A, x, common, extra)
    if name == "instability":
        return instability(psi, A, x, radii=radii, steps=steps, progress=progress,
                           clean=clean, **common, **extra)
    if name == "noise":
        worst = results.get("instability")
        size = ({"worst_case": worst} if worst is not None and not worst.failed
                else {"r_rel": max(radii)})
        return noise(psi, A, x, clean=clean, **size, **common, **extra)
    if name == "curve":
        return curve(psi, A, x, steps=max(steps // 3, 1), **common, **extra)
    if name == "more_samples":  # other masks, other operators: Φ is built per mask
        return more_samples(psi, x, seed=seed, phi=phi, **extra)
    if name == "accuracy":
        return accuracy(psi, A, x, clean=clean, **common, **extra)
    return kernel(psi, A, x, clean=clean, **common, **extra)


def _on_scan_image(name: str, psi, A: LinearOperator, scan, common: dict[str, Any],
                   extra: dict[str, Any]) -> AuditResult:
    """The accuracy and kernel tests of a recorded scan: they plant details in an image, or
    add kernel components to it, so they need one; they take the coil combination of the
    fully sampled file (its measured y is not used) and say so."""
    if name == "more_samples":
        raise StableReconError("more_samples on a recorded scan is not available: it swaps "
                               "single-coil Fourier operators into the model; run it on an "
                               "image (a simulated operator), or leave it out of --tests.")
    if scan.image is None:
        raise StableReconError(f"the {name} test needs an image of the object, and this scan "
                               "is undersampled in the file (no fully sampled coil "
                               "combination); leave it out of --tests, or audit a fully "
                               "sampled file with a retrospective mask.")
    test = accuracy if name == "accuracy" else kernel
    out = test(psi, A, scan.image, **common, **extra)
    out.notes.append(f"{name} ran on the fully sampled coil combination of the scan "
                     f"({scan.source}), not on the measured y.")
    return out
