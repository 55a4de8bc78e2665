"""Canonical JSON and its SHA-256: the one serialisation behind every content hash in haia (the
suite hash a resume checks, the response-cache key, the ledger's event hashes).

Sorted keys, no spaces, non-ASCII kept as UTF-8. The ledger rejects NaN and infinities (they are
not JSON); the suite and cache hashes keep Python's ``NaN`` spelling, as they always have, so no
stored hash changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any, *, allow_nan: bool = False) -> bytes:
    """Deterministic UTF-8 JSON of ``obj``; NaN/inf rejected unless ``allow_nan``."""
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=allow_nan)
    except ValueError as exc:
        raise ValueError(f"cannot canonicalise: {exc}") from exc
    return text.encode("utf-8")


def canonical_hash(obj: Any, *, allow_nan: bool = True) -> str:
    """Hex SHA-256 of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj, allow_nan=allow_nan)).hexdigest()
