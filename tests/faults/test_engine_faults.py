"""An adapter that fails unexpectedly on one answer fails that item only; a user error stops the
run with its own message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.runner.test_engine import FAST, ScriptedAdapter, make_suite

from haia.errors import HaiaError
from haia.findings.failures import classify, summarise_failures
from haia.runner.engine import GenerationParams, Runner, plan
from haia.runner.store import RunRecord, RunStore, now_iso


def _run(tmp_path: Path, script: dict[str, list[object]]) -> RunStore:
    store = RunStore(tmp_path / "runs.sqlite")
    store.create_run(RunRecord("r", now_iso(), "running", "double", "t", "1", "h", {}, None))
    adapter = ScriptedAdapter(script)
    units = plan(make_suite(4), adapter, GenerationParams())
    asyncio.run(Runner(adapter, store, "r", concurrency=2, retry=FAST).run(units))
    store.flush()
    return store


@pytest.mark.parametrize("exc", [ValueError("invalid literal for int(): 'abc'"),
                                 KeyError("choices"), ZeroDivisionError("bad"),
                                 UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid")])
def test_unexpected_exception_fails_one_item(tmp_path: Path, exc: Exception) -> None:
    store = _run(tmp_path, {"q1": [exc]})
    status = {r.item_id: r.status for r in list(store.records("r"))}
    assert status == {"i0": "ok", "i1": "error", "i2": "ok", "i3": "ok"}
    (failed,) = [r for r in list(store.records("r")) if r.status == "error"]
    assert classify(failed.error) == "malformed"
    assert summarise_failures(list(store.records("r")))["by_kind"]["malformed"]["items"] == ["i1"]


def test_user_error_stops_the_run(tmp_path: Path) -> None:
    with pytest.raises(HaiaError, match="configure"):
        _run(tmp_path, {"q1": [HaiaError("configure the model first")]})


@pytest.mark.parametrize(("message", "kind"), [
    ("cannot connect to 127.0.0.1:9: Connection refused", "unreachable"),
    ("connecting to example.org timed out", "unreachable"),
    ("HTTP 401: invalid api key", "auth"), ("HTTP 403: forbidden", "auth"),
    ("HTTP 500: boom", "server_error"), ("HTTP 502: <html>", "server_error"),
    ("HTTP 429: slow down", "rate_limited"), ("HTTP 404: no route", "rejected"),
    ("malformed chat-completions response: b'<html>'", "malformed"),
    ("timed out after 5 s", "timeout"), ("something else", "other"), (None, "other")])
def test_classify(message: str | None, kind: str) -> None:
    assert classify(message) == kind
