"""The result every audit returns, as plain data: numbers, images, and the figures to draw
(rows of images, curves). Drawing and saving belong to :mod:`stablerecon.report.audit`;
``result.save(dir)`` is a shortcut to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


@dataclass
class Figure:
    """A grid of images, saved as ``name``.png.

    Attributes
    ----------
    name : str
        File stem.
    rows : list of list of torch.Tensor
        The images, row by row.
    titles : list of list of str
        A title per image.
    suptitle : str
        The figure's title.
    vrange : (float, float) or None
        Display range (None: each image its own).
    """

    name: str
    rows: list[list[torch.Tensor]]
    titles: list[list[str]]
    suptitle: str = ""
    vrange: tuple[float, float] | None = (0.0, 1.0)


@dataclass
class Plot:
    """Curves against one x axis, saved as ``name``.png.

    Attributes
    ----------
    name : str
        File stem.
    x : list of float
        The x values.
    series : dict of str to list of float
        Curve name -> y values.
    xlabel, ylabel, title : str
        Labels.
    """

    name: str
    x: list[float]
    series: dict[str, list[float]]
    xlabel: str
    ylabel: str
    title: str = ""


@dataclass
class AuditResult:
    """What an audit found, as plain data (:mod:`stablerecon.report` draws and saves it).

    Attributes
    ----------
    audit : str
        The test's name.
    metrics : dict
        JSON-ready numbers.
    images : dict of str to torch.Tensor
        Named tensors (perturbations, reconstructions).
    figures : list of Figure
        In the lecture's layout.
    plots : list of Plot
        Curves.
    seed : int
        The seed used.
    notes : list of str
        What a reader must know (a weaker search, an unconverged Φ).
    files : list of str
        The figure files saved for it in its folder (set by ``save`` and when read back).
    """

    audit: str
    metrics: dict[str, Any]
    images: dict[str, torch.Tensor] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    seed: int = 0
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @classmethod
    def failure(cls, audit: str, message: str, seed: int = 0) -> AuditResult:
        """The result of a test that could not run: ``metrics["failed"]`` holds the reason,
        and the note says it (a report shows it in the test's place and renders the rest).

        Parameters
        ----------
        audit : str
            The test's name.
        message : str
            Why it failed (the error's message).
        seed : int
            The seed it was given.

        Returns
        -------
        AuditResult
            With no figures.
        """
        return cls(audit, {"failed": message}, seed=seed,
                   notes=[f"The {audit} test failed and has no results: {message}"])

    @property
    def failed(self) -> bool:
        """Whether this is a :meth:`failure`."""
        return "failed" in self.metrics

    def perturbations(self) -> list[torch.Tensor]:
        """The instability test's perturbations r_1, r_2, … in the order of its sizes.

        Returns
        -------
        list of torch.Tensor
            One r per perturbation (empty for other tests).
        """
        return [self.images[f"r{j}"] for j in range(1, len(self.metrics.get(
            "perturbations", [])) + 1) if f"r{j}" in self.images]

    def outputs(self, method: str = "psi") -> list[torch.Tensor]:
        """The instability test's perturbed outputs, one per perturbation.

        Parameters
        ----------
        method : str
            ``"psi"`` (Ψ(A(x + r_j))) or ``"phi"`` (Φ under the same r_j).

        Returns
        -------
        list of torch.Tensor
            One output per perturbation (empty when the method was not run).
        """
        return [self.images[f"{method}_r{j}"] for j in range(1, len(self.metrics.get(
            "perturbations", [])) + 1) if f"{method}_r{j}" in self.images]

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``<audit>.json`` and one PNG per figure into ``directory`` (atomically), by
        :func:`stablerecon.report.audit.save_result`.

        Parameters
        ----------
        directory : str or Path
            The output folder.

        Returns
        -------
        list of Path
            The files written.
        """
        from stablerecon.report.audit import save_result

        return save_result(self, directory)

    def __repr__(self) -> str:
        return f"AuditResult({self.audit!r}, metrics={list(self.metrics)}, seed={self.seed})"
