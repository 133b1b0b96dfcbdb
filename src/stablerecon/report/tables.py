"""Tables of results: one list of row dicts → CSV, JSON, Markdown files and a rich table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from stablerecon.io import digest, write_json, write_text


def cell(value: Any) -> str:
    """How a value reads in a table: floats in 3 significant digits, None as '—'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cell(v) for v in value) + "]"
    return str(value)


def markdown(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def rich_table(rows: Sequence[dict], columns: Sequence[str], title: str) -> Table:
    """The same table for the terminal."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(cell(r.get(c)) for c in columns))
    return table


def write_tables(rows: Sequence[dict], columns: Sequence[str], out: str | Path,
                 stem: str) -> list[Path]:
    """Write ``stem``.csv (the columns), .json (full rows) and .md atomically into ``out``."""
    out = Path(out)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: "" if r.get(c) is None else r.get(c) for c in columns})
    return [write_text(out / f"{stem}.csv", buf.getvalue()),
            write_json(out / f"{stem}.json", list(rows)),
            write_text(out / f"{stem}.md", markdown(rows, columns))]


class TableProgress:
    """Rows of a table saved cell by cell into ``out``, so that an interrupted run resumes.

    A table is a sequence of independent cells (one δ of Table A, one (n, K) of Table B),
    each giving some rows. :meth:`save` writes ``stem-state.json`` atomically after every
    cell with the settings' key; with ``resume``, the cells an earlier run with the same
    settings finished are handed back by :attr:`done` and not recomputed, so the table
    equals an uninterrupted run's (each cell is seeded by the settings alone).
    """

    def __init__(self, out: str | Path, stem: str, settings: dict[str, Any], resume: bool):
        self.path = Path(out) / f"{stem}-state.json"
        self.key = digest(settings)
        state = json.loads(self.path.read_text()) if resume and self.path.is_file() else {}
        self.done: dict[str, list[dict]] = (state.get("cells", {})
                                            if state.get("key") == self.key else {})

    def save(self, cell: str, rows: list[dict]) -> None:
        """Record one finished cell (atomically, with every cell before it)."""
        self.done[cell] = rows
        write_json(self.path, {"key": self.key, "cells": self.done})
