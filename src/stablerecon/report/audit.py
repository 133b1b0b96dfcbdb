"""An audit's result as files: ``<audit>.json`` (seed, notes, metrics) and one PNG per figure
and plot, each written atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from stablerecon.io import digest, save_torch, write_json
from stablerecon.report.figures import image_grid, line_plot

if TYPE_CHECKING:
    from stablerecon.audit.result import AuditResult


def figure_files(result: AuditResult) -> list[str]:
    """The PNG names :func:`save_result` writes for ``result``'s figures and plots."""
    return [f"{result.audit}-{item.name}.png" for item in [*result.figures, *result.plots]]


def save_result(result: AuditResult, directory: str | Path) -> list[Path]:
    """Write ``result`` into ``directory``; returns the paths written. The JSON lists the
    figure files (``files``), so that a report names this run's figures and never a stale
    PNG an older run left in the folder."""
    directory = Path(directory)
    paths = [write_json(directory / f"{result.audit}.json",
                        {"audit": result.audit, "seed": result.seed, "notes": result.notes,
                         "metrics": result.metrics, "files": figure_files(result)})]
    for fig in result.figures:
        paths.append(image_grid(directory / f"{result.audit}-{fig.name}.png", fig.rows,
                                fig.titles, suptitle=fig.suptitle, vrange=fig.vrange))
    for plot in result.plots:
        paths.append(line_plot(directory / f"{result.audit}-{plot.name}.png", plot.x,
                               plot.series, plot.xlabel, plot.ylabel, plot.title))
    result.files = figure_files(result)
    return paths


#: the report's section title per test
TITLES = {"instability": "Instability test: worst-case perturbations",
          "noise": "Random-noise test: the worst of K random perturbations",
          "curve": "Robustness curve: worst case against Gaussian noise",
          "more_samples": "More samples: does Ψ improve with more data?",
          "kernel": "Kernel certificate (Universal Instability Theorem)",
          "accuracy": "Accuracy test: can Ψ see a small detail?"}


def write_audit_report(directory: str | Path, title: str,
                       results: dict[str, AuditResult]) -> Path:
    """``report.html`` in ``directory`` for audits saved there (:func:`save_result`): the
    contrast first when the instability and noise tests ran beside Φ (sentences and the
    headline plot), then each test in plain words with its figures, embedded.

    Parameters
    ----------
    directory : str or Path
        Where the results were saved.
    title : str
        The page's heading.
    results : dict of str to AuditResult
        Test name -> result.

    Returns
    -------
    Path
        The report.
    """
    from stablerecon.report.contrast import contrast_plot
    from stablerecon.report.describe import contrast, describe
    from stablerecon.report.html import Section, write_report

    directory = Path(directory)
    sections = []
    inst, noise = results.get("instability"), results.get("noise")
    if (inst is not None and noise is not None and "phi_clean" in inst.metrics
            and "phi_ratio_worst_case_to_worst_random" in noise.metrics):
        said = contrast(inst, noise, inst.metrics["psi_clean"]["psnr"],
                        inst.metrics["phi_clean"]["psnr"])
        sections.append(Section("What the numbers show", said["sentences"], figures=[
            contrast_plot(directory / "contrast.png", inst, noise)]))
    for name, result in results.items():
        figures = [directory / f for f in result.files if (directory / f).is_file()]
        sections.append(Section(TITLES.get(name, name), describe(result), figures=figures))
    return write_report(directory / "report.html", title, sections)


def run_to_folder(model: Any, A: Any, x: torch.Tensor, tests: Sequence[str],
                  directory: str | Path, resume: bool = False,
                  **settings: Any) -> dict[str, AuditResult]:
    """:func:`stablerecon.audit.run` test by test, each result saved into ``directory`` as
    soon as it is done, so that a killed run loses at most the test it was in. With
    ``resume``, tests that an earlier run with the same model, image and settings finished
    are read back (their JSON, and the instability test's perturbations, which the noise
    test needs) instead of run again; the results equal an uninterrupted run's.
    ``settings`` are :func:`stablerecon.audit.run`'s keyword arguments (``keep_going``: a
    failed test is saved as its failure, listed as not done, and the others run)."""
    from stablerecon.audit import as_reconstructor, check_tests, run

    directory = Path(directory)
    chosen = check_tests(tests)
    psi = as_reconstructor(model)
    key = _settings_key(psi, A, x, chosen, settings)
    state_file = directory / "audit-state.json"
    state = _read_state(state_file) if resume and state_file.is_file() else {}
    names = list(state["done"]) if state.get("key") == key else []
    done = {name: _load(directory, name) for name in names}

    def save(name: str, result: AuditResult) -> None:
        save_result(result, directory)
        if result.failed:  # saved for the report; a resumed run tries it again
            return
        if name == "instability":  # what the noise test of a resumed run compares with
            save_torch(directory / "instability-perturbations.pt",
                       {k: v.detach().cpu() for k, v in result.images.items()
                        if k.startswith("r")})
        names.append(name)
        write_json(state_file, {"key": key, "done": names})

    return run(psi, A, x, chosen, done=done, on_result=save, **settings)


def _settings_key(psi: Any, A: Any, x: Any, tests: list[str],
                  settings: dict[str, Any]) -> str:
    """A hash of everything that decides the results: the model's name and weights, the
    operator's :meth:`~stablerecon.operators.LinearOperator.fingerprint` (class, shapes,
    mask / angles / coil maps), the image (or the scan's measured y), its device and dtype,
    the tests, every setting and the package version."""
    from stablerecon import __version__
    from stablerecon.data.scan import Scan

    module = getattr(psi, "module", None)
    weights = module.state_dict().items() if isinstance(module, torch.nn.Module) else []
    scan = x.describe() if isinstance(x, Scan) else None  # a scan is its measured y and maps
    image = x.y if isinstance(x, Scan) else x
    return digest({"model": psi.name, "operator": A.fingerprint(), "tests": sorted(tests),
                   "settings": repr(sorted(settings.items())), "scan": scan,
                   "image": [str(image.dtype), str(image.device)], "version": __version__},
                  [("x", image), *weights])


def _read_state(path: Path) -> dict[str, Any]:
    """``audit-state.json`` of an earlier run, checked: a file that is not one is refused by
    name instead of being trusted or crashing the resume."""
    from stablerecon.errors import StableReconError

    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StableReconError(f"{path} is not a readable audit state ({exc}); delete it, or "
                               "run without --resume to start afresh.") from None
    if (not isinstance(state, dict) or not isinstance(state.get("key"), str)
            or not isinstance(state.get("done"), list)
            or not all(isinstance(n, str) for n in state["done"])):
        raise StableReconError(f"{path} is not an audit state written by stablerecon (expected "
                               "{'key': str, 'done': [test names]}); delete it, or run without "
                               "--resume.")
    return state


def _load(directory: Path, name: str) -> AuditResult:
    """An audit result saved by :func:`save_result`, read back as data (figures are on disk
    already); the instability test's perturbations come back as tensors."""
    from stablerecon.audit.result import AuditResult
    from stablerecon.errors import StableReconError

    try:
        data = json.loads((directory / f"{name}.json").read_text())
        result = AuditResult(name, data["metrics"], seed=data["seed"], notes=data["notes"],
                             files=[str(f) for f in data.get("files", [])])
        if name == "instability":
            result.images = torch.load(directory / "instability-perturbations.pt",
                                       weights_only=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
        raise StableReconError(
            f"{directory}: the {name} result that audit-state.json lists as done cannot be "
            f"read back ({type(exc).__name__}: {exc}); run without --resume to redo it."
        ) from None
    return result
