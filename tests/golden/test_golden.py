"""The reports of the bundled suites on the scripted test models match the recorded ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.golden.golden import CASES, GOLDEN, produce


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden(case: str, tmp_path: Path) -> None:
    expected = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    got = json.loads(json.dumps(produce(case, tmp_path), sort_keys=True))
    assert got["run"]["counts"] == expected["run"]["counts"]
    assert got["metrics"] == expected["metrics"]
    assert got["findings"] == expected["findings"]
    assert got["items"] == expected["items"]
    assert got == expected
