"""The one regex-union compiler: any of many words or phrases as one pattern, longest first
(so "chest pain" wins over "chest"), standing alone between word boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD_EDGE = r"\w"
"""Characters that may not touch a match on either side (a word's letters and digits)."""


def alternation(options: Iterable[str], *, literal: bool = True) -> str:
    """A non-capturing group matching any of ``options``: escaped when ``literal``, longest
    first, duplicates dropped."""
    unique = sorted(set(options), key=lambda o: (-len(o), o))
    return "(?:" + "|".join(re.escape(o) if literal else f"(?:{o})" for o in unique) + ")"


def union(options: Iterable[str], *, literal: bool = True, flags: int = 0,
          edge: str | None = WORD_EDGE) -> re.Pattern[str]:
    """One pattern matching any of ``options`` where no ``edge`` character touches it (None:
    anywhere, as in a text)."""
    body = alternation(options, literal=literal)
    if edge is not None:
        body = f"(?<![{edge}]){body}(?![{edge}])"
    return re.compile(body, flags)
