"""A self-contained HTML report: sections of text, tables and figures.

The figures are embedded in the page (PNG as base64 data), so ``report.html`` opens offline
and alone — sent by mail or attached to a review — while the PNG files stay beside it for
reuse. Each image's alt text is the description its PNG carries
(:mod:`stablerecon.report.figures`)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablerecon.io import write_text
from stablerecon.report.tables import cell


@dataclass
class Section:
    """One part of the report: a title, paragraphs, tables (rows of dicts) and figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[dict[str, Any]], list[str]]] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


_STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;
font-size:90%;text-align:right}th{background:#eee}img{max-width:100%;margin:.5em 0;
display:block}h2{border-bottom:1px solid #ccc}"""


def _alt(path: Path) -> str:
    """The PNG's own description (its alt text), or what its file name says."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            text = im.info.get("Description")
    except OSError:
        text = None
    return text or path.stem.replace("-", " ").replace("_", " ")


def embedded_image(path: str | Path) -> str:
    """An ``<img>`` element carrying the PNG itself (base64 data) and its alt text.

    Parameters
    ----------
    path : str or Path
        A PNG.

    Returns
    -------
    str
        HTML.
    """
    path = Path(path)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<img src='data:image/png;base64,{data}' alt='{html.escape(_alt(path))}' "
            f"title='{html.escape(path.name)}'>")


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(r.get(c)))}</td>" for c in columns)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(path: str | Path, title: str, sections: Sequence[Section]) -> Path:
    """Write the report atomically, its figures embedded (:func:`embedded_image`).

    Parameters
    ----------
    path : str or Path
        The HTML file.
    title : str
        The page's heading.
    sections : sequence of Section
        In order.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        parts += [_table(rows, cols) for rows, cols in s.tables]
        parts += [embedded_image(fig) for fig in s.figures]
    parts.append("</body></html>")
    return write_text(path, "\n".join(parts))
