"""Helpers of the fault-injection suite: run the CLI in-process as a user would and check that a
failure is exactly one line on stderr with the documented exit code and no traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from haia.testing.openai_server import ScriptedServer


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        *args: str) -> Outcome:
    """``haia ARGS`` through the real entry point (its one error path included)."""
    from haia.cli import main

    monkeypatch.setattr(sys, "argv", ["haia", *args])
    capsys.readouterr()
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return Outcome(code if isinstance(code, int) else (0 if code is None else 1),
                   captured.out, captured.err)


def assert_one_line(result: Outcome, code: int = 2, *, contains: str | None = None,
                    progress: bool = False) -> None:
    """Exit ``code``, no traceback, and the error is one line on stderr (after the final state
    of a progress bar when ``progress``: a failure half-way through a long job)."""
    assert "Traceback" not in result.err + result.out, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    if progress:
        lines = [line for line in lines if "━" not in line]
    assert result.code == code, f"exit {result.code}, stderr: {result.err!r}"
    assert len(lines) == 1, f"expected one line on stderr, got: {result.err!r}"
    assert lines[0].startswith("error: "), lines[0]
    if contains is not None:
        assert contains.lower() in lines[0].lower(), lines[0]


def write_suite(path: Path, n: int = 3, extra: str = "") -> Path:
    """A small multiple-choice suite whose prompts name their item; ``extra`` is added to the
    suite metadata."""
    lines = ["name: faults", 'version: "1"', "description: d", "provenance: test",
             "licence: CC0-1.0", "scorers: [choice]"]
    lines += [line for line in extra.splitlines() if line.strip()]
    lines.append("items:")
    for k in range(n):
        lines += [f"  - id: i{k}", f'    prompt: "Item i{k}: pick B"',
                  "    choices: {A: wrong, B: right}", "    answer: B"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(lambda body: "B") as srv:
        yield srv
