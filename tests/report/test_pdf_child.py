"""The PDF rendered by a forked child equals the one rendered in process, and a child that fails
or is killed costs nothing but time: the parent renders the PDF itself."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from haia.report import pdf_child

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux")


def _render(report: dict[str, Any]) -> bytes:
    return f"%PDF {report['n']} from {os.getpid()}".encode() * 50_000  # over a pipe's buffer


def test_the_child_renders_and_the_parent_gets_every_byte() -> None:
    job = pdf_child.start({"n": 1}, _render)
    assert job is not None and job.pid is not None and job.pid != os.getpid()
    child = job.pid
    data = job.result()
    assert data == f"%PDF 1 from {child}".encode() * 50_000  # made by the child, whole
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # reaped


def test_a_failed_or_killed_child_falls_back_to_rendering_here() -> None:
    def failing(report: dict[str, Any]) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("child fails")
        return _render(report)

    parent = os.getpid()
    job = pdf_child.start({"n": 2}, failing)
    assert job is not None and job.result() == _render({"n": 2})

    def killed(report: dict[str, Any]) -> bytes:
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return _render(report)

    job = pdf_child.start({"n": 3}, killed)
    assert job is not None and job.result() == _render({"n": 3})


def test_cancel_stops_a_running_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def forever(report: dict[str, Any]) -> bytes:
        time.sleep(60)
        return b""

    job = pdf_child.start({"n": 4}, forever)
    assert job is not None
    child = job.pid
    assert child is not None
    job.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)
    monkeypatch.setenv("HAIA_REPORT_FORK", "0")
    assert pdf_child.start({"n": 5}, _render) is None  # rendered with the rest when asked


def test_write_report_pdf_is_the_same_forked_or_not(tmp_path: Any, haia_home: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader
    from tests.report.fixture import run_fixture

    from haia.report.write import write_report

    report = run_fixture(tmp_path / "audit").report
    write_report(report, tmp_path / "forked")
    monkeypatch.setenv("HAIA_REPORT_FORK", "0")
    write_report(report, tmp_path / "here")

    def text(folder: Any) -> list[str]:
        return [p.extract_text() for p in PdfReader(folder / "report.pdf").pages]

    assert text(tmp_path / "forked") == text(tmp_path / "here") and text(tmp_path / "here")
    assert (tmp_path / "forked" / "report.html").read_bytes() == \
        (tmp_path / "here" / "report.html").read_bytes()
