"""Tables of results: one list of row dicts → CSV, JSON, Markdown files and a rich table."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from stablerecon.io import write_json, write_text


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
