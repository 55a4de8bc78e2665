"""The run store keeps a typed sample record per response (schema 2); a store written before
it (schema 1) is migrated, with a message, and still read and reported."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from haia.audit import AuditConfig, build_and_write
from haia.findings.judge import load_thresholds
from haia.runner.store import ENC_PREFIX, SCHEMA_VERSION, RunStore
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
        responses = list(store.records(run_id))
        assert [(r.item_id, r.status, r.output) for r in responses] == [
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


def test_v1_store_is_migrated_with_a_message(v1_store: tuple[Path, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, run_id = v1_store
    with RunStore(path) as store:
        records = store.records(run_id)
        assert isinstance(records, Iterator)
        got = list(records)
    assert "upgraded the run store" in capsys.readouterr().err
    assert [(r.item_id, r.status, r.output, r.scores) for r in got] == [
        (f"starter-00{k}", "ok", "B", {}) for k in range(1, 5)]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with RunStore(path):
        pass
    assert capsys.readouterr().err == ""  # said once, on the upgrade only


def test_scores_are_stored_with_each_record_and_reports_read_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from haia.audit import run_audit
    from haia.testing.openai_server import ScriptedServer

    with ScriptedServer(lambda body: "B") as srv, RunStore() as store:
        result = run_audit(AuditConfig(model=f"openai:scripted@{srv.base_url}", suite="starter",
                                       limit=3, out=str(tmp_path / "a")), store=store)
        records = list(store.records(result.run_id))
        assert [sorted(r.scores) for r in records] == [["choice", "refusal"]] * 3
        assert {v.metric for r in records for v in r.scores["choice"]} >= {"accuracy"}
        raw = sqlite3.connect(store.path).execute("SELECT scores FROM responses").fetchall()
        assert all(row[0].startswith(ENC_PREFIX) for row in raw)  # encrypted like the answer

        def no_scoring(name: str) -> None:
            raise AssertionError(f"scorer {name} run again at report time")

        monkeypatch.setattr("haia.audit.get_scorer", no_scoring)
        report, _ = build_and_write(store, result.run_id, load_suite("starter"),
                                    AuditConfig(**store.get_run(result.run_id).config),
                                    load_thresholds(None), tmp_path / "b", formats=("json",))
    assert report["items"] == result.report["items"]
    assert report["metrics"] == result.report["metrics"]


def test_judge_verdicts_are_annotations_and_a_rerun_grades_only_what_is_left(
        tmp_path: Path) -> None:
    from tests.findings.test_suites_http import example, scripted

    from haia.audit import judge_verdicts, run_audit, run_judge
    from haia.testing.openai_server import ScriptedServer

    suite = load_suite("safety")
    with ScriptedServer(scripted("safety", example("good"))) as model, \
            ScriptedServer(lambda body: "{}") as judge, RunStore() as store:
        config = AuditConfig(model=f"openai:m@{model.base_url}", suite="safety", limit=6,
                             judge=f"openai:j@{judge.base_url}", out=str(tmp_path / "a"))
        result = run_audit(config, store=store)
        judged = [r for r in store.records(result.run_id) if "judge" in r.annotations]
        rubric_items = [i for i in suite.items[:6] if i.rubric]
        assert len(judged) == len(rubric_items) == len(judge.requests) > 0
        assert all(r.annotations["judge"]["item_id"] == r.item_id for r in judged)
        raw = sqlite3.connect(store.path).execute(
            "SELECT annotations FROM responses WHERE annotations IS NOT NULL").fetchall()
        assert raw and all(row[0].startswith(ENC_PREFIX) for row in raw)

        first = judged[0]  # forget one verdict, as a run cut off while judging would
        with sqlite3.connect(store.path) as conn:
            conn.execute("UPDATE responses SET annotations=NULL WHERE run_id=? AND item_id=?",
                         (result.run_id, first.item_id))
        sent = len(judge.requests)
        run_judge(store, result.run_id, suite, AuditConfig(**{**store.get_run(
            result.run_id).config, "judge": f"openai:j@{judge.base_url}"}))
        assert len(judge.requests) == sent + 1
        assert len(judge_verdicts(store, result.run_id)) == len(rubric_items)


def test_report_reads_stored_scores_and_regrade_scores_again(tmp_path: Path,
                                                             haia_home: Path) -> None:
    """A grader changed after the run: the report keeps the scores of the audit as it ran, and
    ``haia report --regrade`` grades the stored answers again."""
    import json

    from tests.conftest import run_haia

    from haia.audit import run_audit
    from haia.testing.openai_server import ScriptedServer

    with ScriptedServer(lambda body: "B") as srv, RunStore() as store:
        result = run_audit(AuditConfig(model=f"openai:m@{srv.base_url}", suite="starter",
                                       limit=4, out=str(tmp_path / "a")), store=store)
        accuracy = {m["value"] for m in result.report["metrics"]
                    if m["metric"] == "accuracy" and m["attribute"] == "overall"}
        records = list(store.records(result.run_id))
        with sqlite3.connect(store.path) as conn:  # what an older grader would have stored
            for r in records:
                flipped = {name: [{**v.to_dict(), "value": 1.0 - v.value if v.value is not None
                                   else None} for v in values]
                           for name, values in r.scores.items()}
                conn.execute("UPDATE responses SET scores=? WHERE run_id=? AND item_id=?",
                             (store.cipher.seal(json.dumps(flipped)), result.run_id, r.item_id))

    def overall_accuracy(*flags: str) -> float:
        done = run_haia("report", result.run_id, "-f", "json", "--out", str(tmp_path / "r"),
                        *flags)
        assert done.returncode == 0, done.stderr
        report = json.loads((tmp_path / "r" / "report.json").read_text())
        return next(m["value"] for m in report["metrics"]
                    if m["metric"] == "accuracy" and m["attribute"] == "overall")

    (original,) = accuracy
    assert overall_accuracy() == pytest.approx(1.0 - original)
    assert overall_accuracy("--regrade") == pytest.approx(original)
