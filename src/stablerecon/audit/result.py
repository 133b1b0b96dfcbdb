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
        """Write ``<audit>.json`` and one PNG per figure into ``directory`` (atomically), by
        :func:`stablerecon.report.audit.save_result`."""
        from stablerecon.report.audit import save_result

        return save_result(self, directory)

    def __repr__(self) -> str:
        return f"AuditResult({self.audit!r}, metrics={list(self.metrics)}, seed={self.seed})"
