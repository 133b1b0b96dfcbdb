"""One cell of a sweep: one test of one model on one image at one budget and seed.

A cell is plain data (it travels to worker processes and Ray tasks); its key is a hash of
everything that decides its result — the cell's fields, the bytes of the model and image
files it names, and the package version — so a finished cell is recognised on the next
run and a changed input is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from stablerecon.errors import StableReconError
from stablerecon.io import digest
from stablerecon.sweep.config import TESTS, SweepConfig


@dataclass(frozen=True)
class Cell:
    """One independent task of a sweep.

    Attributes
    ----------
    model, image, test : str
        What is audited, on which image, by which test.
    budget : float or None
        ||r||/||x|| (None for tests that take none).
    seed, steps, draws : int
        As in :class:`~stablerecon.sweep.SweepConfig`.
    operator : str or None
        The registry model whose operator to use.
    phi : bool
        Whether Φ is audited too.
    phi_tol, phi_max_iter : float, int
        Φ's tolerance and iteration cap.
    """

    model: str
    image: str
    test: str
    budget: float | None
    seed: int
    steps: int
    draws: int
    operator: str | None
    phi: bool
    phi_tol: float
    phi_max_iter: int

    def key(self) -> str:
        """A short hash of the inputs that decide the result: the cell's fields, the package
        version, and the bytes of the model, image and operator files it names.

        Returns
        -------
        str
            20 hex digits (the cell's folder name).
        """
        from stablerecon import __version__

        data = {**asdict(self), "version": __version__,
                "files": [_digest(s) for s in (self.model, self.image, self.operator or "")]}
        return digest(data)

    def label(self) -> str:
        """The cell in words, for progress and errors.

        Returns
        -------
        str
            E.g. ``"instability mri-cascade on brain:97 δ=0.01 seed 0"``.
        """
        budget = "" if self.budget is None else f" δ={self.budget:g}"
        return f"{self.test} {self.model} on {self.image}{budget} seed {self.seed}"


def cells(config: SweepConfig) -> list[Cell]:
    """The product models × images × tests × budgets × seeds, in that order (a test without a
    budget appears once per model, image and seed).

    Parameters
    ----------
    config : SweepConfig
        The study.

    Returns
    -------
    list of Cell
        Every cell.
    """
    from stablerecon.data.specs import expand

    images = expand(config.images)
    out = []
    for model in config.models:
        for image in images:
            for test in config.tests:
                for budget in (config.budgets if TESTS[test] else (None,)):
                    for seed in config.seeds:
                        out.append(Cell(model, image, test, budget, seed, config.steps,
                                        config.draws, config.operator, config.phi,
                                        config.phi_tol, config.phi_max_iter))
    return out


def _digest(spec: str) -> str | None:
    """sha256 of the file a spec names (a card: with its weights), None for non-files."""
    path = Path(spec)
    if not spec or not path.is_file():
        return None
    h = hashlib.sha256(path.read_bytes())
    if path.suffix == ".json":
        try:
            weights = json.loads(path.read_text()).get("weights")
        except (ValueError, AttributeError):
            weights = None
        if isinstance(weights, str) and (path.parent / weights).is_file():
            h.update((path.parent / weights).read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=8)
def _model(spec: str, operator: str | None, device: str):
    """The reconstructor and its operator, loaded once per worker process."""
    from stablerecon.audit import as_reconstructor, model_operator
    from stablerecon.devices import resolve_device

    dev = resolve_device(device)
    recon = as_reconstructor(spec).to(dev)
    return recon, model_operator(recon, operator).to(dev)


def check_study(models: Sequence[str], images: Sequence[str], operator: str | None) -> None:
    """Refuse a study before any cell runs: every model spec loads (with ``operator``) and
    every image spec resolves at the size of every model's operator; the first that does
    not stops the sweep with one line naming it (instead of every cell failing alike).

    Parameters
    ----------
    models, images : sequence of str
        The study's model and (expanded) image specs.
    operator : str or None
        The study's operator override.
    """
    from stablerecon.data.specs import image

    shapes = set()
    for spec in models:
        try:
            shapes.add(tuple(_model(spec, operator, "cpu")[1].in_shape))
        except StableReconError as exc:
            raise StableReconError(f"sweep model {spec!r} cannot be used: {exc}") from None
    for spec in dict.fromkeys(images):
        for shape in sorted(shapes):
            try:
                image(spec, shape)
            except StableReconError as exc:
                raise StableReconError(f"sweep image {spec!r} cannot be used at "
                                       f"{shape[0]}x{shape[1]}: {exc}") from None


def _run_test(cell: Cell, device: str, phi_cache: Path | None = None):
    """The audit the cell names, as an :class:`~stablerecon.audit.AuditResult`."""
    from stablerecon import audit
    from stablerecon.data.specs import image

    recon, A = _model(cell.model, cell.operator, device)
    x = image(cell.image, A.in_shape)
    psi = audit.as_reconstructor(recon)
    phi = audit.common.default_phi(A, "auto", x, tol=cell.phi_tol,
                                   max_iter=cell.phi_max_iter) if cell.phi else None
    clean = _clean(psi, phi, A, audit.common.input_image(A, x, psi), phi_cache)
    options = {"noise": {"K": (cell.draws,), "phi_K": cell.draws}}
    results = audit.run(psi, A, x, [cell.test], radii=[cell.budget or 0.01],
                        steps=cell.steps, seed=cell.seed, phi=phi, clean=clean,
                        options={k: v for k, v in options.items() if k == cell.test})
    return results[cell.test]


def _clean(psi: Any, phi: Any, A: Any, x: Any, phi_cache: Path | None) -> Any:
    """Ψ(Ax) and Φ(Ax) for a cell, Φ(Ax) shared through ``phi_cache``: it depends on the
    image, the operator, Φ's settings and the device but not on the model, test, budget or
    seed, so a study solves it once per image instead of once per cell. Entries are written
    atomically and read as plain tensors; cells running at once may both solve it (the same
    result)."""
    import dataclasses

    import torch

    from stablerecon.audit.common import clean_outputs, solver_status
    from stablerecon.io import save_torch
    from stablerecon.solvers import SolverState

    if phi is None or phi_cache is None:
        return clean_outputs(psi, phi, A, x)
    method = phi.module  # the StandardMethod: what decides its solution
    key = digest([A.fingerprint(), repr(method), method.lam, method.tol, method.max_iter,
                  method.real, repr(method.options), str(x.device), str(x.dtype)], [("", x)],
                 length=24)
    path = phi_cache / f"{key}.pt"
    clean = clean_outputs(psi, None, A, x)
    try:
        entry = torch.load(path, map_location=x.device, weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError):
        entry = None
    if entry is None:
        with torch.no_grad():
            entry = {"phi": phi(clean.y).detach(), "solver": solver_status(phi)}
        state = method.last_result.state  # where the solve ended: perturbed solves go on
        if state is not None:            # from it (audit.common.warm_started)
            entry.update(dual=state.dual, primal_weight=state.primal_weight)
        save_torch(path, {k: v.cpu() if isinstance(v, torch.Tensor) else v
                          for k, v in entry.items()})
    start = None
    if entry.get("dual") is not None:
        start = SolverState(entry["phi"].to(x.device), entry["dual"].to(x.device),
                            float(entry["primal_weight"]))
    return dataclasses.replace(clean, phi=entry["phi"].to(x.device),
                               phi_solver=entry["solver"], phi_start=start)


def summary(test: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers of an audit's metrics that the sweep aggregates (None where absent)."""
    if test == "instability":
        row = metrics["perturbations"][0]
        phi = row.get("phi", {})
        out = {"r_rel": row["r_rel"], "psi_psnr": metrics["psi_clean"]["psnr"],
               "phi_psnr": (metrics["phi_clean"] or {}).get("psnr"),
               "phi_converged": (phi.get("solver") or {}).get("converged")}
        for who, values in (("psi", row["psi"]), ("phi", phi)):
            out[f"{who}_psnr_lost"] = values.get("psnr_drop")
            out[f"{who}_amplification"] = values.get("amplification")
            out[f"{who}_change_rel"] = values.get("change_rel")
        return out
    if test == "noise":
        k = str(metrics["K"][-1])
        psi, phi = metrics["psi"][k], metrics["phi"].get(k, {})
        return {"psi_worst_random_change_rel": psi["worst_change_rel"],
                "psi_worst_random_psnr_lost": psi["worst_psnr_drop"],
                "phi_worst_random_change_rel": phi.get("worst_change_rel"),
                "phi_worst_random_psnr_lost": phi.get("worst_psnr_drop")}
    if test == "kernel":
        bound = metrics["lipschitz_lower_bound"]
        return {"accurate_on_both": metrics["accurate_on_both"],
                "lipschitz_lower_bound": bound,
                "certified_unstable": bound is not None and bound > 1.0,
                "false_positive_detail_rel": metrics["false_positive_detail_rel"]}
    return {"phi_smallest_amplitude": metrics["phi_smallest_amplitude"],
            "psi_smallest_amplitude": metrics["psi_smallest_amplitude"],
            "psi_recovers": metrics.get("psi_recovers_at_phi_amplitude")}


def run_cell(cell: Cell, cells_dir: str, device: str = "cpu") -> dict[str, Any]:
    """Run one cell and write its folder ``cells_dir/<key>/`` (the audit's JSON, figures and
    ``record.json``) whole or not at all.

    Everything is written into a temporary folder that is renamed into place last. A
    failure returns a record with the error instead of raising, so that the sweep goes on.

    Parameters
    ----------
    cell : Cell
        The task.
    cells_dir : str
        Where cell folders go.
    device : str
        Where to run.

    Returns
    -------
    dict
        The record: the cell, ``status`` (``"ok"`` or ``"failed"``), the metrics' summary
        or the error, and timings.
    """
    import torch

    from stablerecon.devices import resolve_device
    from stablerecon.io import write_json

    key = cell.key()
    record: dict[str, Any] = {"key": key, "cell": asdict(cell), "status": "ok"}
    start = time.perf_counter()
    final = Path(cells_dir) / key
    tmp = Path(cells_dir) / f".{key}.{os.getpid()}.tmp"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        result = _run_test(cell, device, Path(cells_dir).parent / "phi-cache")
        result.save(tmp)
        record.update(summary=summary(cell.test, result.metrics), notes=result.notes)
    except Exception as exc:  # noqa: BLE001 - a failed cell is recorded, the sweep goes on
        shutil.rmtree(tmp, ignore_errors=True)
        return {**record, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(), "seconds": time.perf_counter() - start}
    record["seconds"] = time.perf_counter() - start
    record["device"] = str(resolve_device(device))
    record["torch_threads"] = torch.get_num_threads()
    write_json(tmp / "record.json", record)
    shutil.rmtree(final, ignore_errors=True)  # an older, unrecorded attempt
    os.replace(tmp, final)
    return record
