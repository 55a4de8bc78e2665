"""A fixed audit run once per test session; the report tests read what it wrote."""

from __future__ import annotations

import json

import pytest
from tests.report.fixture import haia_home, run_fixture


@pytest.fixture(scope="session")
def fixed_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"run_id", "dir", "report", "home"}`` of the fixture audit, in its own HAIA_HOME."""
    home = tmp_path_factory.mktemp("report-home")
    folder = tmp_path_factory.mktemp("report-run")
    with haia_home(home):
        result = run_fixture(folder)
    report = json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))
    return {"run_id": result.run_id, "dir": result.out_dir, "report": report, "home": home,
            "folder": folder}
