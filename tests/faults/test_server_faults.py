"""A server answering every malformed shape: that item fails, the others are scored, the audit
exits 3 with the cause on screen and in report.json; unreachable, 401 and 5xx are visible."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from tests.faults.conftest import cli, write_suite

from haia.testing.openai_server import MALFORMED, Reply, ScriptedServer


def _audit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, base_url: str,
           tmp: Path, *extra: str):
    suite = write_suite(tmp / "suite.yaml", 3)
    return cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{base_url}", "--suite",
               str(suite), "--out", str(tmp / "out"), "--retries", "1", "--no-cache",
               "--timeout", "5", *extra)


TOLERATED = {"content_number", "header_not_latin1"}
EXPECTED_KIND = {"html_error_page": "server_error", "truncated_chunk": "unreachable",
                 "short_body": "unreachable", "not_http": "unreachable",
                 "garbage_bytes": "unreachable"}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_malformed_answer_fails_that_item_only(shape: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def responder(body: dict) -> str | Reply:
        return Reply(raw=MALFORMED[shape]) if "Item i1:" in json.dumps(body) else "B"

    with ScriptedServer(responder) as srv:
        result = _audit(capsys, monkeypatch, srv.base_url, tmp_path)
    assert "Traceback" not in result.err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    status = {i["item_id"]: i["status"] for i in report["items"]}
    assert status["i0"] == status["i2"] == "ok"
    if shape in TOLERATED:  # odd but usable: then nothing failed
        assert status["i1"] == "ok" and result.code == 0, result.err
        return
    assert result.code == 3, result.err
    failures = report["run"]["failures"]
    assert failures["failed"] == 1 and failures["requests"] == 3
    (kind,) = failures["by_kind"]
    # A cut-off answer is a dropped connection; an HTML 503 page is a server error.
    assert kind == EXPECTED_KIND.get(shape, "malformed"), failures
    assert "1 of 3 requests failed" in result.err
    assert "audit is incomplete" in result.err
    assert any(f["metric"] == "failed_requests" for f in report["findings"])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_exits_non_zero_with_the_cause(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    result = _audit(capsys, monkeypatch, f"http://127.0.0.1:{_closed_port()}/v1", tmp_path)
    assert result.code == 3, result.err
    assert "3 of 3 requests failed" in result.err
    assert "endpoint unreachable" in result.err
    assert "findings: 1 critical" in result.out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(report["run"]["failures"]["by_kind"]) == ["unreachable"]
    (finding,) = [f for f in report["findings"] if f["metric"] == "failed_requests"]
    assert finding["severity"] == "critical" and finding["value"] == 1.0


@pytest.mark.parametrize(("status", "kind", "words"), [
    (401, "auth", "401/403"), (403, "auth", "401/403"), (500, "server_error", "5xx"),
    (503, "server_error", "5xx"), (404, "rejected", "rejected"),
    (429, "rate_limited", "rate limited")])
def test_http_failures_are_visible_by_kind(status: int, kind: str, words: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(lambda body: Reply(status=status, headers={"Retry-After": "0"})) as srv:
        result = _audit(capsys, monkeypatch, srv.base_url, tmp_path)
    assert result.code == 3, result.err
    assert words in result.err and "Traceback" not in result.err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(report["run"]["failures"]["by_kind"]) == [kind]


def test_fail_on_counts_failed_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def responder(body: dict) -> str | Reply:
        return Reply(status=401) if "Item i0:" in json.dumps(body) else "B"

    with ScriptedServer(responder) as srv:
        result = _audit(capsys, monkeypatch, srv.base_url, tmp_path, "--fail-on", "medium")
    assert result.code == 1, result.err
    assert "--fail-on" in result.err


def test_max_failed_tolerates_a_declared_share(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def responder(body: dict) -> str | Reply:
        return Reply(status=500) if "Item i0:" in json.dumps(body) else "B"

    with ScriptedServer(responder) as srv:
        result = _audit(capsys, monkeypatch, srv.base_url, tmp_path, "--max-failed", "0.5")
    assert result.code == 0, result.err
    assert "1 of 3 requests failed" in result.err  # still on screen, still a finding
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any(f["metric"] == "failed_requests" for f in report["findings"])


def test_a_clean_run_has_no_failure_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(lambda body: "B") as srv:
        result = _audit(capsys, monkeypatch, srv.base_url, tmp_path)
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["run"]["failures"]["failed"] == 0
    assert not [f for f in report["findings"] if f["metric"] == "failed_requests"]
