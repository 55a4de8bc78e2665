"""Portal fixtures: a portal world on each registry database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.portal.world import PortalWorld


@pytest.fixture
def pw(db_url: str, tmp_path: Path) -> PortalWorld:
    return PortalWorld(db_url, tmp_path)
