"""The result every audit returns: numbers, images, and ``save(dir)`` (PNG figures + JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stablerecon.report.figures import image_grid, line_plot
from stablerecon.report.files import write_json


@dataclass
class Figure:
    """A grid of images: ``rows`` of tensors with matching ``titles``; saved as ``name``.png."""

    name: str
    rows: list[list[torch.Tensor]]
    titles: list[list[str]]
    suptitle: str = ""
    vrange: tuple[float, float] | None = (0.0, 1.0)


@dataclass
class Plot:
    """Curves against one x axis: ``series`` name → y values; saved as ``name``.png."""

    name: str
    x: list[float]
    series: dict[str, list[float]]
    xlabel: str
    ylabel: str
    title: str = ""


@dataclass
class AuditResult:
    """What an audit found: ``metrics`` (JSON-ready numbers), ``images`` (named tensors),
    ``figures`` (in the lecture's layout), the ``seed`` used, and notes."""

    audit: str
    metrics: dict[str, Any]
    images: dict[str, torch.Tensor] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``<audit>.json`` and one PNG per figure into ``directory`` (atomically)."""
        directory = Path(directory)
        paths = [write_json(directory / f"{self.audit}.json",
                            {"audit": self.audit, "seed": self.seed, "notes": self.notes,
                             "metrics": self.metrics})]
        for fig in self.figures:
            paths.append(image_grid(directory / f"{self.audit}-{fig.name}.png", fig.rows,
                                    fig.titles, suptitle=fig.suptitle, vrange=fig.vrange))
        for plot in self.plots:
            paths.append(line_plot(directory / f"{self.audit}-{plot.name}.png", plot.x,
                                   plot.series, plot.xlabel, plot.ylabel, plot.title))
        return paths

    def __repr__(self) -> str:
        return f"AuditResult({self.audit!r}, metrics={list(self.metrics)}, seed={self.seed})"
