"""Parameter descriptions shared by several docstrings, written once.

A docstring line that holds only ``{{name}}`` is replaced, at import, by the shared
description of ``name`` (its numpydoc ``name : type`` line and its indented text), at the
placeholder's indentation — the docstring-substitution idiom of scipy.ndimage and MNE, so
that functions taking the same arguments document them the same way without copies.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["fill"]

F = TypeVar("F", bound=Callable)
_PLACEHOLDER = re.compile(r"^(\s*)\{\{(\w+)\}\}\s*$")


def fill(shared: Mapping[str, str]) -> Callable[[F], F]:
    """A decorator that fills ``{{name}}`` lines of a docstring from ``shared``.

    Parameters
    ----------
    shared : mapping of str to str
        Name -> description: a ``name : type`` line, then the text indented by 4 spaces.

    Returns
    -------
    callable
        The decorator; it raises ``KeyError`` at import for a placeholder without a
        description (a typo cannot reach the rendered docs).
    """

    def decorate(obj: F) -> F:
        lines = []
        for line in (obj.__doc__ or "").split("\n"):
            match = _PLACEHOLDER.match(line)
            if match is None:
                lines.append(line)
                continue
            indent, name = match.groups()
            text = textwrap.dedent(shared[name]).strip("\n")
            lines += [indent + part if part else "" for part in text.split("\n")]
        obj.__doc__ = "\n".join(lines)
        return obj

    return decorate
