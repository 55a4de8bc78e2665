"""A run store written before the sample record (schema 1) is still read and reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from haia.audit import AuditConfig, build_and_write
from haia.findings.judge import load_thresholds
from haia.runner.store import RunStore
from haia.suites.loader import load_suite

STORES = Path(__file__).resolve().parents[1] / "data" / "stores"


@pytest.fixture
def v1_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A copy of the schema-1 store (4 starter items answered 'B', answers encrypted)."""
    monkeypatch.setenv("HAIA_STORE_KEY", (STORES / "v1-store.key").read_text().strip())
    path = tmp_path / "runs.sqlite"
    shutil.copy(STORES / "v1-runs.sqlite", path)
    return path, (STORES / "v1-run-id.txt").read_text().strip()


def test_v1_store_reads_runs_and_answers(v1_store: tuple[Path, str]) -> None:
    path, run_id = v1_store
    with RunStore(path) as store:
        run = store.get_run(run_id)
        assert (run.suite, run.status, run.config["limit"]) == ("starter", "complete", 4)
        responses = store.responses(run_id)
        assert [(r.item_id, r.status, r.text) for r in responses] == [
            (f"starter-00{k}", "ok", "B") for k in range(1, 5)]


def test_v1_store_is_reported(v1_store: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = v1_store
    with RunStore(path) as store:
        config = AuditConfig(**store.get_run(run_id).config)
        report, _ = build_and_write(store, run_id, load_suite("starter"), config,
                                    load_thresholds(None), tmp_path / "out", formats=("json",))
    assert report["run"]["counts"]["ok"] == 4
    written = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [i["item_id"] for i in written["items"]] == [f"starter-00{k}" for k in range(1, 5)]
    assert all(i["scores"] for i in written["items"])
