"""A full disk (a small tmpfs): every write fails with one line, leaves the previous file intact
and leaves nothing half-written. Mounting needs root: without it these tests skip."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.faults.conftest import assert_one_line, cli, write_suite

from haia.testing.openai_server import ScriptedServer

DISK_BYTES = 1536 * 1024


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk but ``leave`` bytes (roughly: tmpfs counts whole pages)."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("ab") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(0, free - leave))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")
                  or p.name.startswith(".") or p.stat().st_size == 0)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    return lambda *args: cli(capsys, monkeypatch, *args)


@pytest.mark.slow  # loading the NER model takes 5-25 s
def test_deid_on_a_full_disk(disk: Path, tmp_path: Path, run) -> None:
    src = tmp_path / "notes.txt"
    line = "Seen by Dr Alice Martin on 2024-03-02, MRN 483920, phone 617-555-0199.\n"
    src.write_text(line * 300)  # ~22 KB in, more out than the 4 KB left
    out = disk / "notes.deid.txt"
    fill(disk, 4 * 1024)
    result = run("deid", str(src), "--out", str(out))
    assert_one_line(result, 2, contains="No space left on device", progress=True)
    assert not out.exists()
    assert leftovers(disk) == []


def test_report_on_a_full_disk_keeps_the_previous_report(disk: Path, tmp_path: Path,
                                                         run) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 4)
    out = disk / "report"
    with ScriptedServer(lambda body: "B") as srv:
        first = run("audit", "--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                    "--out", str(out))
    assert first.code == 0, first.err
    before = {name: (out / name).read_bytes() for name in
              ("report.json", "report.html", "report.pdf")}
    run_id = json.loads(before["report.json"])["run"]["run_id"]
    fill(disk, 4 * 1024)
    result = run("report", run_id, "--out", str(out), "--include-responses")
    assert_one_line(result, 2, contains="No space left on device")
    after = {name: (out / name).read_bytes() for name in before}
    assert after == before  # nothing replaced, nothing truncated
    assert leftovers(out) == []


def test_keys_and_signatures_on_a_full_disk(disk: Path, tmp_path: Path, run) -> None:
    keys = tmp_path / "keys"
    assert run("keys", "create", "alice", "--directory", str(keys)).code == 0
    report = disk / "report.json"
    report.write_text("{}")
    fill(disk, 0)
    result = run("sign", str(report), "--key", str(keys / "alice.key"))
    assert_one_line(result, 2, contains="No space left on device")
    assert not (disk / "report.json.sig").exists()
    result = run("keys", "create", "bob", "--directory", str(disk / "keys"))
    assert_one_line(result, 2, contains="No space left on device")
    names = sorted(p.name for p in (disk / "keys").iterdir()) if (disk / "keys").exists() else []
    assert names == []  # no 0-byte key left to block the name
    (disk / "filler").unlink()
    assert run("keys", "create", "bob", "--directory", str(disk / "keys")).code == 0
