"""An audit's result as files: ``<audit>.json`` (seed, notes, metrics) and one PNG per figure
and plot, each written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stablerecon.io import write_json
from stablerecon.report.figures import image_grid, line_plot

if TYPE_CHECKING:
    from stablerecon.audit.result import AuditResult


def save_result(result: AuditResult, directory: str | Path) -> list[Path]:
    """Write ``result`` into ``directory``; returns the paths written."""
    directory = Path(directory)
    paths = [write_json(directory / f"{result.audit}.json",
                        {"audit": result.audit, "seed": result.seed, "notes": result.notes,
                         "metrics": result.metrics})]
    for fig in result.figures:
        paths.append(image_grid(directory / f"{result.audit}-{fig.name}.png", fig.rows,
                                fig.titles, suptitle=fig.suptitle, vrange=fig.vrange))
    for plot in result.plots:
        paths.append(line_plot(directory / f"{result.audit}-{plot.name}.png", plot.x,
                               plot.series, plot.xlabel, plot.ylabel, plot.title))
    return paths
