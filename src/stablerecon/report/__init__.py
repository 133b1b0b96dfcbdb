"""Figures (matplotlib), JSON metrics and atomic file output."""

from stablerecon.io import atomic_write, write_json, write_text
from stablerecon.report.figures import image_grid, image_row, to_display

__all__ = ["atomic_write", "image_grid", "image_row", "to_display", "write_json", "write_text"]
